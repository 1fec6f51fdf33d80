//! The gRPC health protocol answered in the layer: `/grpc.health.v1.Health/{method}` routed to
//! the [`GrpcHealth`] service of the layer's handle.

use std::convert::Infallible;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, ready};
use std::time::Duration;

use bytes::Bytes;
use http::Method;
use http_body::{Body, Frame, SizeHint};
use http_body_util::BodyExt;
use pin_project_lite::pin_project;
use tower_service::Service as _;

use super::body::Payload;
use super::request::HealthRequest;
use super::routes::{Answering, Handler};
use crate::endpoint::{Methods, PathPattern};
use crate::grpc::{GrpcHealth, SERVICE_PATH};
use crate::health::Health;

/// The route of the protocol, its `Watch` streams re-evaluating every `interval`.
pub(crate) fn route(interval: Duration) -> (PathPattern, Arc<dyn Handler>) {
    let handler = GrpcHandler {
        methods: Methods::only([Method::POST]),
        interval,
        service: Mutex::new(None),
    };
    (
        PathPattern::PerCheck(SERVICE_PATH.into()),
        Arc::new(handler),
    )
}

/// Answers `/grpc.health.v1.Health/{method}` in the layer with the generated server.
struct GrpcHandler {
    methods: Methods,
    interval: Duration,
    /// The service of the handle last served, so that its streams share their rounds.
    service: Mutex<Option<GrpcHealth>>,
}

impl GrpcHandler {
    fn service_for(&self, health: &Health) -> GrpcHealth {
        let mut current = self.service.lock().unwrap_or_else(|e| e.into_inner());
        match &*current {
            Some(service) if service.handle().same_handle(health) => service.clone(),
            _ => {
                let service = GrpcHealth::new(health.clone()).watch_interval(self.interval);
                *current = Some(service.clone());
                service
            }
        }
    }
}

impl Handler for GrpcHandler {
    fn methods(&self) -> &Methods {
        &self.methods
    }

    fn handle(self: Arc<Self>, health: &Health, request: HealthRequest) -> Answering {
        let HealthRequest { parts, body, .. } = request;
        let body = body.unwrap_or_else(|| {
            http_body_util::Empty::new()
                .map_err(|never| match never {})
                .boxed_unsync()
        });
        let call = self
            .service_for(health)
            .call(http::Request::from_parts(parts, body));
        Answering::Pending(Box::pin(async move {
            let response = match call.await {
                Ok(response) => response,
                Err(never) => match never {},
            };
            response.map(|body| Payload::stream(GrpcBody { body, ended: false }.boxed_unsync()))
        }))
    }
}

pin_project! {
    /// tonic's response body with its errors turned into trailers: a gRPC error belongs in
    /// `grpc-status`, and the layer's body cannot carry an error of tonic's type.
    struct GrpcBody {
        #[pin]
        body: tonic::body::Body,
        ended: bool,
    }
}

impl Body for GrpcBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        let this = self.project();
        if *this.ended {
            return Poll::Ready(None);
        }
        match ready!(this.body.poll_frame(cx)) {
            Some(Ok(frame)) => Poll::Ready(Some(Ok(frame))),
            Some(Err(status)) => {
                *this.ended = true;
                Poll::Ready(Some(Ok(Frame::trailers(trailers(&status)))))
            }
            None => {
                *this.ended = true;
                Poll::Ready(None)
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.ended || self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        if self.ended {
            SizeHint::with_exact(0)
        } else {
            self.body.size_hint()
        }
    }
}

fn trailers(status: &tonic::Status) -> http::HeaderMap {
    let mut trailers = http::HeaderMap::new();
    if status.add_header(&mut trailers).is_err() {
        // Only the message or details can be unencodable; the code always is.
        trailers.clear();
        let _ = tonic::Status::new(status.code(), "").add_header(&mut trailers);
    }
    trailers
}

#[cfg(test)]
mod tests {
    use futures_util::stream;

    use super::*;

    #[tokio::test]
    async fn an_error_in_the_body_ends_in_trailers() {
        let failing = http_body_util::StreamBody::new(stream::iter([Err::<Frame<Bytes>, _>(
            tonic::Status::unavailable("gone"),
        )]));
        let body = GrpcBody {
            body: tonic::body::Body::new(failing),
            ended: false,
        };
        let collected = body.collect().await.unwrap();
        let trailers = collected.trailers().expect("trailers").clone();
        assert_eq!(trailers["grpc-status"], "14");
        assert_eq!(trailers["grpc-message"], "gone");
    }
}
