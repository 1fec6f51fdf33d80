//! The one call that asks: [`Probe::run`], by the probe's protocol.

use crate::outcome::ProbeOutcome;
use crate::probe::Probe;
use crate::target::Target;
use crate::{grpc, http};

impl Probe {
    /// Runs the probe once. Needs a Tokio runtime (any flavour) with IO and time enabled.
    pub async fn run(&self) -> ProbeOutcome {
        match &self.target {
            Target::Http(url) => http::probe(self, url).await,
            Target::Grpc { addr, service } => grpc::probe(self, addr, service).await,
        }
    }
}
