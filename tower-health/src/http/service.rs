//! The [`HealthService`]: answers health paths, passes everything else on.

use std::fmt;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

use http::{Request, Response, StatusCode, Version};
use tower_service::Service;

use super::body::HealthBody;
use super::future::{REQUEST_TARGET, ResponseFuture};
use super::request::{BoxError, HealthRequest, decode};
use super::response::method_response;
use super::routes::{Answering, Routes};
use crate::endpoint::MethodDecision;
use crate::health::Health;

/// The service [`HealthLayer`](crate::HealthLayer) makes: answers health paths, passes everything else on.
pub struct HealthService<S> {
    inner: S,
    inner_ready: bool,
    // One `Arc`, so the clone that servers make per request costs one reference count.
    shared: Arc<Shared>,
}

struct Shared {
    health: Health,
    routes: Arc<Routes>,
}

impl<S> HealthService<S> {
    pub(crate) fn new(inner: S, health: Health, routes: Arc<Routes>) -> Self {
        HealthService {
            inner,
            inner_ready: false,
            shared: Arc::new(Shared { health, routes }),
        }
    }

    /// The inner service.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    /// The inner service, mutably.
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.inner
    }

    /// Consumes `self`, returning the inner service.
    pub fn into_inner(self) -> S {
        self.inner
    }
}

impl<S: Clone> Clone for HealthService<S> {
    fn clone(&self) -> Self {
        HealthService {
            inner: self.inner.clone(),
            // Readiness is not cloned with the service: the clone must ask for its own.
            inner_ready: false,
            shared: self.shared.clone(),
        }
    }
}

impl<S: fmt::Debug> fmt::Debug for HealthService<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HealthService")
            .field("inner", &self.inner)
            .field("health", &self.shared.health)
            .finish_non_exhaustive()
    }
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for HealthService<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>> + Clone,
    ReqBody: http_body::Body + Send + 'static,
    ReqBody::Data: Send,
    ReqBody::Error: Into<BoxError>,
{
    type Response = Response<HealthBody<ResBody>>;
    type Error = S::Error;
    type Future = ResponseFuture<S, Request<ReqBody>>;

    /// Always ready: a health request must not wait on the application's backpressure. Pass-through
    /// requests wait for the inner service in their future when it was not ready here.
    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        if !self.inner_ready {
            match self.inner.poll_ready(cx) {
                Poll::Ready(Ok(())) => self.inner_ready = true,
                Poll::Ready(Err(error)) => return Poll::Ready(Err(error)),
                Poll::Pending => {}
            }
        }
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<ReqBody>) -> Self::Future {
        // While draining, HTTP/1 clients are told to close their keep-alive connections, so that
        // they have moved by the time the server stops; HTTP/2 has GOAWAY for that, which the
        // server sends (hyper-util's graceful shutdown).
        let close =
            request.version() < Version::HTTP_2 && self.shared.health.registry().is_shutting_down();
        self.route(request, close)
    }
}

impl<S> HealthService<S> {
    /// A health answer for a health path, else the inner service's.
    fn route<ReqBody>(
        &mut self,
        request: Request<ReqBody>,
        close: bool,
    ) -> ResponseFuture<S, Request<ReqBody>>
    where
        S: Service<Request<ReqBody>> + Clone,
        ReqBody: http_body::Body + Send + 'static,
        ReqBody::Data: Send,
        ReqBody::Error: Into<BoxError>,
    {
        let shared = &self.shared;
        if let Some(found) = shared.routes.find(request.uri().path(), &shared.health) {
            let handler = &found.route.handler;
            // Decoded before the request moves: one allocation for a check's name, none else.
            let (group, check) = (found.group, found.check.map(decode));
            // The path and start time are kept only when the answer may be logged.
            let log = tracing::enabled!(target: REQUEST_TARGET, tracing::Level::DEBUG)
                .then(|| Box::new((Box::<str>::from(request.uri().path()), Instant::now())));
            let answering = match handler.methods().decide(request.method()) {
                MethodDecision::Answer => {
                    let request = HealthRequest::new(request, group, check, |parts| {
                        handler.reads_body(parts)
                    });
                    handler.clone().handle(&shared.health, request)
                }
                MethodDecision::Options => {
                    Answering::Ready(method_response(StatusCode::OK, handler.methods()))
                }
                MethodDecision::NotAllowed => Answering::Ready(method_response(
                    StatusCode::METHOD_NOT_ALLOWED,
                    handler.methods(),
                )),
            };
            return ResponseFuture::health(answering, handler, log, close);
        }
        if std::mem::take(&mut self.inner_ready) {
            ResponseFuture::inner(self.inner.call(request), close)
        } else {
            // Not ready at poll_ready time: a clone waits for readiness in the future.
            ResponseFuture::wait_ready(self.inner.clone(), request, close)
        }
    }
}
