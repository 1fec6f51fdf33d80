//! The response body: the inner service's body, or a health answer.

use std::convert::Infallible;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use http_body_util::combinators::UnsyncBoxBody;
use pin_project_lite::pin_project;

pin_project! {
    /// The body of every response that passes through [`HealthService`](crate::HealthService):
    /// the inner service's own body, untouched, or the body of a health answer.
    pub struct HealthBody<B> {
        #[pin]
        kind: Kind<B>,
    }
}

pin_project! {
    #[project = KindProj]
    enum Kind<B> {
        Inner { #[pin] body: B },
        Health { #[pin] payload: Payload },
    }
}

impl<B> HealthBody<B> {
    pub(crate) fn inner(body: B) -> Self {
        HealthBody {
            kind: Kind::Inner { body },
        }
    }

    pub(crate) fn health(payload: Payload) -> Self {
        HealthBody {
            kind: Kind::Health { payload },
        }
    }
}

impl<B> Body for HealthBody<B>
where
    B: Body<Data = Bytes>,
{
    type Data = Bytes;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, B::Error>>> {
        match self.project().kind.project() {
            KindProj::Inner { body } => body.poll_frame(cx),
            KindProj::Health { payload } => payload
                .poll_frame(cx)
                .map(|frame| frame.map(|frame| frame.map_err(|never| match never {}))),
        }
    }

    fn is_end_stream(&self) -> bool {
        match &self.kind {
            Kind::Inner { body } => body.is_end_stream(),
            Kind::Health { payload } => payload.is_end_stream(),
        }
    }

    fn size_hint(&self) -> SizeHint {
        match &self.kind {
            Kind::Inner { body } => body.size_hint(),
            Kind::Health { payload } => payload.size_hint(),
        }
    }
}

impl<B> std::fmt::Debug for HealthBody<B> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kind = match self.kind {
            Kind::Inner { .. } => "inner",
            Kind::Health { .. } => "health",
        };
        f.debug_struct("HealthBody").field("kind", &kind).finish()
    }
}

pin_project! {
    /// The body of a health answer: one buffer, or a stream of frames (gRPC Watch).
    #[project = PayloadProj]
    pub(crate) enum Payload {
        Full { data: Option<Bytes> },
        // Not `Sync`: neither are the bodies it streams (tonic's), nor any server's bound.
        Stream { #[pin] body: UnsyncBoxBody<Bytes, Infallible> },
    }
}

impl Payload {
    pub(crate) fn full(data: Bytes) -> Self {
        Payload::Full {
            data: (!data.is_empty()).then_some(data),
        }
    }

    pub(crate) fn empty() -> Self {
        Payload::Full { data: None }
    }

    #[cfg_attr(not(feature = "grpc"), allow(dead_code))] // used by streaming protocols
    pub(crate) fn stream(body: UnsyncBoxBody<Bytes, Infallible>) -> Self {
        Payload::Stream { body }
    }
}

impl Body for Payload {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        match self.project() {
            PayloadProj::Full { data } => {
                Poll::Ready(data.take().map(|data| Ok(Frame::data(data))))
            }
            PayloadProj::Stream { body } => body.poll_frame(cx),
        }
    }

    fn is_end_stream(&self) -> bool {
        match self {
            Payload::Full { data } => data.is_none(),
            Payload::Stream { body } => body.is_end_stream(),
        }
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            Payload::Full { data } => {
                SizeHint::with_exact(data.as_ref().map_or(0, |d| d.len() as u64))
            }
            Payload::Stream { body } => body.size_hint(),
        }
    }
}
