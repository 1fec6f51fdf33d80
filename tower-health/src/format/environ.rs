//! oarepo-heartbeat's environ body: what the service is built from.

use std::fmt;
use std::sync::Arc;

use serde_json::{Map, Value, json};

use super::content_type::JSON;
use super::{Answer, Format, Rendered};

/// The version of tower-health the service is built with.
pub(crate) const TOWER_HEALTH_VERSION: &str = env!("CARGO_PKG_VERSION");

type Contributor = Arc<dyn Fn() -> (bool, Map<String, Value>) + Send + Sync>;

/// What the service is built from, as oarepo-heartbeat's environ answers, Rust's way:
///
/// ```json
/// {"status": true,
///  "libraries": {"orders": {"version": "1.4.0", "conflicts": null},
///                "tower-health": {"version": "0.1.0", "conflicts": null}},
///  "rust": {"arch": "x86_64", "os": "linux"}}
/// ```
///
/// plus the application's own sections. The `rust` section names the architecture and operating
/// system the service was built for (from the standard library, so no build script runs); an
/// application that wants the compiler's version there too sets the section itself from what its
/// own build captures: `.section("rust", json!({"rustc": env!("MY_RUSTC_VERSION"), ...}))`. Contributors run on every request; `status` is the AND
/// of theirs. The answer is 200 whatever the status: this is information, not a probe. It
/// exposes internals, so nothing serves it unless the application adds it.
///
/// ```
/// use serde_json::{Map, json};
/// use tower_health::format::Environ;
///
/// let environ = Environ::new(env!("CARGO_PKG_NAME"), env!("CARGO_PKG_VERSION"))
///     .library("postgres", "16.2")
///     .section("region", json!("eu-west-1"))
///     .contributor(|| (true, Map::from_iter([("pool".to_owned(), json!({"size": 10}))])));
/// ```
#[derive(Clone)]
pub struct Environ {
    libraries: Map<String, Value>,
    sections: Map<String, Value>,
    contributors: Vec<Contributor>,
}

impl Environ {
    /// The environ of the application named `name` at `version`: pass the application's own
    /// `env!("CARGO_PKG_NAME")` and `env!("CARGO_PKG_VERSION")`, which expand in its crate.
    pub fn new(name: impl Into<String>, version: impl Into<String>) -> Self {
        Environ {
            libraries: Map::new(),
            sections: Map::new(),
            contributors: Vec::new(),
        }
        .library(name, version)
        .library("tower-health", TOWER_HEALTH_VERSION)
    }

    /// Adds a library and its version under `libraries`.
    #[must_use]
    pub fn library(mut self, name: impl Into<String>, version: impl Into<String>) -> Self {
        self.libraries.insert(
            name.into(),
            json!({"version": version.into(), "conflicts": null}),
        );
        self
    }

    /// Adds a top-level section.
    #[must_use]
    pub fn section(mut self, key: impl Into<String>, value: Value) -> Self {
        self.sections.insert(key.into(), value);
        self
    }

    /// Adds a function called on every request whose sections are merged in; when it returns
    /// `false` the top-level `status` is `false` (the answer is still 200).
    #[must_use]
    pub fn contributor(
        mut self,
        contributor: impl Fn() -> (bool, Map<String, Value>) + Send + Sync + 'static,
    ) -> Self {
        self.contributors.push(Arc::new(contributor));
        self
    }

    /// The body as a JSON value.
    pub fn to_value(&self) -> Value {
        let mut body = Map::new();
        body.insert("libraries".into(), Value::Object(self.libraries.clone()));
        body.insert(
            "rust".into(),
            json!({"arch": std::env::consts::ARCH, "os": std::env::consts::OS}),
        );
        body.extend(self.sections.clone());
        let mut ok = true;
        for contributor in &self.contributors {
            let (contributed_ok, sections) = contributor();
            ok &= contributed_ok;
            body.extend(sections);
        }
        body.insert("status".into(), Value::Bool(ok));
        Value::Object(body)
    }
}

impl Format for Environ {
    fn render(&self, answer: &Answer<'_>) -> Rendered {
        Rendered::json(answer.status_code, JSON, &self.to_value())
    }

    /// The contributors are asked on every request.
    fn reusable(&self) -> bool {
        self.contributors.is_empty()
    }
}

impl fmt::Debug for Environ {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Environ")
            .field("libraries", &self.libraries)
            .field("sections", &self.sections)
            .field("contributors", &self.contributors.len())
            .finish()
    }
}
