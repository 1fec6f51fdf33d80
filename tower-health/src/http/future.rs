//! The [`ResponseFuture`]: the inner service's response, or a health answer.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};
use std::time::Instant;

use futures_util::future::BoxFuture;
use http::header::{self, HeaderValue};
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
        // Set while shutting down on HTTP/1: the answer asks the client to close the connection.
        close: bool,
    }
}

pin_project! {
    #[project = KindProj]
    enum Kind<S, R>
    where
        S: Service<R>,
    {
        Inner { #[pin] future: S::Future },
        // Boxed: the rare case, and a request would make every future as large as itself.
        WaitReady { waiting: Box<(S, Option<R>)> },
        // A health answer ready when `call` returned, already counted and logged.
        Answered { response: Option<Response<Payload>> },
        // A health answer still being made.
        Answering {
            future: BoxFuture<'static, Response<Payload>>,
            handler: Arc<dyn Handler>,
            log: LogContext,
        },
    }
}

impl<S: Service<R>, R> ResponseFuture<S, R> {
    pub(crate) fn inner(future: S::Future, close: bool) -> Self {
        ResponseFuture {
            kind: Kind::Inner { future },
            close,
        }
    }

    /// Waits for `service` to be ready, then calls it with `request`.
    pub(crate) fn wait_ready(service: S, request: R, close: bool) -> Self {
        ResponseFuture {
            kind: Kind::WaitReady {
                waiting: Box::new((service, Some(request))),
            },
            close,
        }
    }

    pub(crate) fn health(
        answering: Answering,
        handler: &Arc<dyn Handler>,
        log: LogContext,
        close: bool,
    ) -> Self {
        let kind = match answering {
            Answering::Ready(response) => {
                answered(&**handler, &log, response.status());
                Kind::Answered {
                    response: Some(response),
                }
            }
            Answering::Pending(future) => Kind::Answering {
                future,
                handler: handler.clone(),
                log,
            },
        };
        ResponseFuture { kind, close }
    }
}

/// Adds `Connection: close` when `close`: hyper (and every HTTP/1.1 server) then closes the
/// connection after the answer, and the client opens its next one elsewhere.
fn with_close<B>(mut response: Response<B>, close: bool) -> Response<B> {
    if close {
        response
            .headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    response
}

impl<S, R, ResBody> Future for ResponseFuture<S, R>
where
    S: Service<R, Response = Response<ResBody>>,
{
    type Output = Result<Response<HealthBody<ResBody>>, S::Error>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        loop {
            let close = self.close;
            let next = match self.as_mut().project().kind.project() {
                KindProj::Inner { future } => {
                    let response = ready!(future.poll(cx))?;
                    return Poll::Ready(Ok(with_close(response.map(HealthBody::inner), close)));
                }
                KindProj::Answered { response } => {
                    let response = response
                        .take()
                        .expect("ResponseFuture polled after completion");
                    return Poll::Ready(Ok(with_close(response.map(HealthBody::health), close)));
                }
                KindProj::Answering {
                    future,
                    handler,
                    log,
                } => {
                    let response = ready!(future.as_mut().poll(cx));
                    answered(&**handler, log, response.status());
                    return Poll::Ready(Ok(with_close(response.map(HealthBody::health), close)));
                }
                KindProj::WaitReady { waiting } => {
                    let (service, request) = &mut **waiting;
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

/// Counts and logs one health answer.
fn answered(handler: &dyn Handler, log: &LogContext, status: StatusCode) {
    if let Some(counts) = handler.requests() {
        counts.count(status);
    }
    if let Some((path, started)) = log.as_deref() {
        if !(handler.no_log() && status == StatusCode::OK) {
            tracing::debug!(target: REQUEST_TARGET, path = &**path, status = status.as_u16(), elapsed = ?started.elapsed(), "health request");
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
