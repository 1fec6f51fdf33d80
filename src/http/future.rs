//! The [`ResponseFuture`]: the inner service's response, or a health answer.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};
use std::time::Instant;

use http::{Response, StatusCode};
use pin_project_lite::pin_project;
use tower_service::Service;

use super::body::{HealthBody, Payload};
use super::routes::{Answering, Handler};

/// The target of the per-request event: stable, whatever the module layout, for log filters.
pub(crate) const REQUEST_TARGET: &str = "tower_health::request";

/// Where debug logging is on: the path of a health request and when it came.
pub(crate) type LogContext = Option<Box<(Box<str>, Instant)>>;

pin_project! {
    /// The response future of [`HealthService`](crate::HealthService).
    pub struct ResponseFuture<S, R>
    where
        S: Service<R>,
    {
        #[pin]
        kind: Kind<S, R>,
    }
}

pin_project! {
    #[project = KindProj]
    enum Kind<S, R>
    where
        S: Service<R>,
    {
        Inner { #[pin] future: S::Future },
        WaitReady { service: S, request: Option<R> },
        Health {
            answering: Answering,
            handler: Arc<dyn Handler>,
            log: LogContext,
        },
    }
}

impl<S: Service<R>, R> ResponseFuture<S, R> {
    pub(crate) fn inner(future: S::Future) -> Self {
        ResponseFuture {
            kind: Kind::Inner { future },
        }
    }

    /// Waits for `service` to be ready, then calls it with `request`.
    pub(crate) fn wait_ready(service: S, request: R) -> Self {
        ResponseFuture {
            kind: Kind::WaitReady {
                service,
                request: Some(request),
            },
        }
    }

    pub(crate) fn health(answering: Answering, handler: Arc<dyn Handler>, log: LogContext) -> Self {
        ResponseFuture {
            kind: Kind::Health {
                answering,
                handler,
                log,
            },
        }
    }
}

impl<S, R, ResBody> Future for ResponseFuture<S, R>
where
    S: Service<R, Response = Response<ResBody>>,
{
    type Output = Result<Response<HealthBody<ResBody>>, S::Error>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        loop {
            let next = match self.as_mut().project().kind.project() {
                KindProj::Inner { future } => {
                    let response = ready!(future.poll(cx))?;
                    return Poll::Ready(Ok(response.map(HealthBody::inner)));
                }
                KindProj::Health {
                    answering,
                    handler,
                    log,
                } => {
                    let response = match answering {
                        Answering::Ready(response) => {
                            // Taken once: the future is not polled after it completes.
                            std::mem::replace(response, Response::new(Payload::empty()))
                        }
                        Answering::Pending(future) => ready!(future.as_mut().poll(cx)),
                    };
                    let status = response.status();
                    if let Some(counts) = handler.requests() {
                        counts.count(status);
                    }
                    if let Some((path, started)) = log.as_deref() {
                        if !(handler.no_log() && status == StatusCode::OK) {
                            tracing::debug!(target: REQUEST_TARGET, path = &**path, status = status.as_u16(), elapsed = ?started.elapsed(), "health request");
                        }
                    }
                    return Poll::Ready(Ok(response.map(HealthBody::health)));
                }
                KindProj::WaitReady { service, request } => {
                    ready!(service.poll_ready(cx))?;
                    let request = request
                        .take()
                        .expect("ResponseFuture polled after completion");
                    service.call(request)
                }
            };
            self.as_mut()
                .project()
                .kind
                .set(Kind::Inner { future: next });
        }
    }
}

impl<S, R> fmt::Debug for ResponseFuture<S, R>
where
    S: Service<R>,
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ResponseFuture").finish_non_exhaustive()
    }
}
