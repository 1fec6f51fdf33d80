//! Maintenance wins over everything: it is answered before an endpoint waits on a form body.

use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};

use bytes::Bytes;
use http::Request;
use http_body::{Body, Frame};
use tower::{Layer, ServiceExt};
use tower_health::{Health, HealthLayer, preset};

/// A request body that never ends and notes whether anyone polled it.
struct Endless(Arc<AtomicBool>);

impl Body for Endless {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, std::io::Error>>> {
        self.0.store(true, Ordering::SeqCst);
        Poll::Pending
    }
}

#[tokio::test]
async fn maintenance_answers_without_reading_the_form_body() {
    let health = Health::new();
    health.set_maintenance(true);
    let service = HealthLayer::new()
        .health(health)
        .without_default_endpoints()
        .endpoints(preset::PyramidHealth::new())
        .layer(tower::service_fn(|_: Request<Endless>| async {
            Ok::<_, std::convert::Infallible>(http::Response::new(
                http_body_util::Empty::<Bytes>::new(),
            ))
        }));
    let polled = Arc::new(AtomicBool::new(false));
    let request = Request::post("/health")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(Endless(polled.clone()))
        .unwrap();
    let response = service.oneshot(request).await.unwrap();
    assert_eq!(response.status().as_u16(), 299);
    assert!(
        !polled.load(Ordering::SeqCst),
        "the body was read before maintenance answered"
    );
}
