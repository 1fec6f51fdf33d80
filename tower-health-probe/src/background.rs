//! The task that drives a client connection, tied to the probe's lifetime.

use std::future::Future;

use tokio::task::JoinHandle;

/// A connection's task, aborted when dropped so that nothing outlives the probe.
pub(crate) struct Background(JoinHandle<()>);

impl Background {
    pub(crate) fn spawn<F, E>(connection: F) -> Self
    where
        F: Future<Output = Result<(), E>> + Send + 'static,
    {
        Background(tokio::spawn(async move {
            let _ = connection.await;
        }))
    }
}

impl Drop for Background {
    fn drop(&mut self) {
        self.0.abort();
    }
}
