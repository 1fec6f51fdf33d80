//! A small gRPC service of the examples' own, `example.Greeter/SayHello`, written by hand with
//! tonic's server codec and prost messages, so that no `.proto` file and no `protoc` are needed.
//!
//! Its messages on the wire: `HelloRequest { string name = 1; }`, `HelloReply { string message = 1; }`.
#![allow(dead_code)]

use std::convert::Infallible;
use std::task::{Context, Poll};

use futures_util::future::BoxFuture;
use tonic::codegen::{Body, StdError};

/// The request of `SayHello`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct HelloRequest {
    #[prost(string, tag = "1")]
    pub name: String,
}

/// The reply of `SayHello`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct HelloReply {
    #[prost(string, tag = "1")]
    pub message: String,
}

/// The full path of the one method.
pub const SAY_HELLO: &str = "/example.Greeter/SayHello";

/// The service, ready for `Server::add_service`.
#[derive(Clone, Debug, Default)]
pub struct Greeter;

impl tonic::server::NamedService for Greeter {
    const NAME: &'static str = "example.Greeter";
}

impl<B> tower_service::Service<http::Request<B>> for Greeter
where
    B: Body + Send + 'static,
    B::Error: Into<StdError> + Send + 'static,
{
    type Response = http::Response<tonic::body::Body>;
    type Error = Infallible;
    type Future = BoxFuture<'static, Result<Self::Response, Infallible>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        Box::pin(async move {
            if request.uri().path() != SAY_HELLO {
                return Ok(tonic::Status::unimplemented("no such method").into_http());
            }
            let mut grpc = tonic::server::Grpc::new(tonic_prost::ProstCodec::default());
            Ok(grpc.unary(SayHello, request).await)
        })
    }
}

struct SayHello;

impl tonic::server::UnaryService<HelloRequest> for SayHello {
    type Response = HelloReply;
    type Future = BoxFuture<'static, Result<tonic::Response<HelloReply>, tonic::Status>>;

    fn call(&mut self, request: tonic::Request<HelloRequest>) -> Self::Future {
        let name = request.into_inner().name;
        Box::pin(async move {
            let name = if name.is_empty() { "world" } else { &name };
            Ok(tonic::Response::new(HelloReply {
                message: format!("hello, {name}"),
            }))
        })
    }
}

/// Calls `SayHello` over `channel` (what a generated client would do).
pub async fn say_hello(
    channel: tonic::transport::Channel,
    name: &str,
) -> Result<String, tonic::Status> {
    let mut grpc = tonic::client::Grpc::new(channel);
    grpc.ready()
        .await
        .map_err(|e| tonic::Status::unavailable(e.to_string()))?;
    let path = http::uri::PathAndQuery::from_static(SAY_HELLO);
    let request = tonic::Request::new(HelloRequest { name: name.into() });
    let reply: tonic::Response<HelloReply> = grpc
        .unary(request, path, tonic_prost::ProstCodec::default())
        .await?;
    Ok(reply.into_inner().message)
}
