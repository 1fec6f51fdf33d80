//! Streaming bodies and clients for them, and a blocking inner service for backpressure tests.
#![allow(dead_code)]

use std::convert::Infallible;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll};

use bytes::Bytes;
use http::{Request, Response};
use http_body::{Body, Frame};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use tokio::sync::{Semaphore, mpsc};

/// A request body whose frames the test sends one at a time.
pub struct ChannelBody(pub mpsc::Receiver<Bytes>);

impl ChannelBody {
    pub fn new() -> (mpsc::Sender<Bytes>, ChannelBody) {
        let (tx, rx) = mpsc::channel(4);
        (tx, ChannelBody(rx))
    }
}

impl Body for ChannelBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        self.0
            .poll_recv(cx)
            .map(|chunk| chunk.map(|chunk| Ok(Frame::data(chunk))))
    }
}

/// A hyper client sending [`ChannelBody`] requests, over HTTP/2 (prior knowledge) or HTTP/1.1.
pub fn streaming_client(http2: bool) -> Client<HttpConnector, ChannelBody> {
    Client::builder(TokioExecutor::new())
        .http2_only(http2)
        .build_http()
}

/// An inner service that answers with the request's own body, frame by frame, as it arrives.
pub fn stream_echo() -> impl tower::Service<
    Request<hyper::body::Incoming>,
    Response = Response<hyper::body::Incoming>,
    Error = Infallible,
    Future = impl Send,
> + Clone {
    tower::service_fn(|request: Request<hyper::body::Incoming>| async move {
        Ok::<_, Infallible>(
            Response::builder()
                .header("x-inner", "stream")
                .body(request.into_body())
                .unwrap(),
        )
    })
}

/// An inner service whose every call waits at a gate until the test opens it.
///
/// It counts the calls that entered, and answers with the request's path and body.
#[derive(Clone)]
pub struct Gated {
    pub gate: Arc<Semaphore>,
    pub entered: Arc<AtomicUsize>,
    pub entered_tx: mpsc::UnboundedSender<String>,
}

impl Gated {
    pub fn new() -> (Gated, mpsc::UnboundedReceiver<String>) {
        let (entered_tx, entered_rx) = mpsc::unbounded_channel();
        (
            Gated {
                gate: Arc::new(Semaphore::new(0)),
                entered: Arc::new(AtomicUsize::new(0)),
                entered_tx,
            },
            entered_rx,
        )
    }

    /// Lets every waiting and future call through.
    pub fn open(&self) {
        self.gate.add_permits(Semaphore::MAX_PERMITS / 2);
    }

    pub fn entered(&self) -> usize {
        self.entered.load(Ordering::SeqCst)
    }
}

impl<B> tower::Service<Request<B>> for Gated
where
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: std::fmt::Debug,
{
    type Response = Response<Full<Bytes>>;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        let this = self.clone();
        Box::pin(async move {
            let path = request.uri().path().to_owned();
            this.entered.fetch_add(1, Ordering::SeqCst);
            let _ = this.entered_tx.send(path.clone());
            this.gate.acquire().await.unwrap().forget();
            let body = request.into_body().collect().await.unwrap().to_bytes();
            Ok(Response::new(Full::new(Bytes::from(format!(
                "{path} {}",
                String::from_utf8_lossy(&body)
            )))))
        })
    }
}
