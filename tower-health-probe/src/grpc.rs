//! The gRPC probe: `grpc.health.v1.Health/Check` through tonic-health's generated client, over one
//! plain HTTP/2 connection of hyper's (no tonic transport, no channel, no TLS).

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use http::{Request, Response, Uri};
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::sync::oneshot;
use tokio::time::timeout;
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;

use crate::background::Background;
use crate::outcome::{ProbeOutcome, Verdict, error_chain};
use crate::probe::Probe;
use crate::target::grpc_authority;

/// Calls `grpc.health.v1.Health/Check` for `service` at `addr`; only `SERVING` is healthy.
pub(crate) async fn probe(probe: &Probe, addr: &str, service: &str) -> ProbeOutcome {
    let authority = match grpc_authority(addr) {
        Ok(authority) => authority,
        Err(why) => return ProbeOutcome::new(Verdict::BadArguments, why),
    };
    let (sender, _connection) = match timeout(probe.connect_timeout, connect_h2(&authority)).await {
        Ok(Ok(connected)) => connected,
        Ok(Err(why)) => {
            return ProbeOutcome::new(
                Verdict::ConnectionFailed,
                format!("error: failed to connect service at {authority:?}: {why}"),
            );
        }
        Err(_) => {
            return ProbeOutcome::new(
                Verdict::ConnectionFailed,
                format!(
                    "timeout: failed to connect service {authority:?} within {:?}",
                    probe.connect_timeout
                ),
            );
        }
    };
    let origin = Uri::builder()
        .scheme("http")
        .authority(authority.as_str())
        .path_and_query("/")
        .build();
    let Ok(origin) = origin else {
        return ProbeOutcome::new(
            Verdict::BadArguments,
            format!("error: invalid address {addr:?}"),
        );
    };
    let mut client = HealthClient::with_origin(Http2(sender), origin);
    let mut request = tonic::Request::new(HealthCheckRequest {
        service: service.to_owned(),
    });
    request.set_timeout(probe.timeout);
    match probe.user_agent.parse() {
        Ok(value) => {
            request.metadata_mut().insert("user-agent", value);
        }
        Err(_) => {
            return ProbeOutcome::new(
                Verdict::BadArguments,
                "error: the user agent is not a valid header value",
            );
        }
    }
    match timeout(probe.timeout, client.check(request)).await {
        Ok(Ok(response)) => {
            let status = response.into_inner().status();
            if status == ServingStatus::Serving {
                ProbeOutcome::new(Verdict::Healthy, "status: SERVING")
            } else {
                ProbeOutcome::new(
                    Verdict::Unhealthy,
                    format!(
                        "service unhealthy (responded with {:?})",
                        status.as_str_name()
                    ),
                )
            }
        }
        Ok(Err(status)) if status.code() == tonic::Code::Unimplemented => ProbeOutcome::new(
            Verdict::RequestFailed,
            format!(
                "error: this server does not implement the grpc health protocol \
                 (grpc.health.v1.Health): {}",
                status.message()
            ),
        ),
        Ok(Err(status)) => ProbeOutcome::new(
            Verdict::RequestFailed,
            format!(
                "error: health rpc failed: code {:?}: {}",
                status.code(),
                status.message()
            ),
        ),
        Err(_) => ProbeOutcome::new(
            Verdict::RequestFailed,
            format!(
                "timeout: health rpc did not complete within {:?}",
                probe.timeout
            ),
        ),
    }
}

/// Connects over TCP and HTTP/2, and waits for the server's first bytes (its SETTINGS frame),
/// as grpc-go's clients do before they call it connected.
async fn connect_h2(
    authority: &str,
) -> Result<
    (
        hyper::client::conn::http2::SendRequest<tonic::body::Body>,
        Background,
    ),
    String,
> {
    let host = authority
        .rsplit_once(':')
        .map_or(authority, |(host, _)| host)
        .trim_start_matches('[')
        .trim_end_matches(']');
    let port = authority
        .rsplit_once(':')
        .and_then(|(_, port)| port.parse::<u16>().ok())
        .unwrap_or(80);
    let stream = TcpStream::connect((host, port))
        .await
        .map_err(|e| e.to_string())?;
    let _ = stream.set_nodelay(true);
    let (heard, first_bytes) = oneshot::channel();
    let io = TokioIo::new(Heard {
        stream,
        heard: Some(heard),
    });
    let (sender, connection) = hyper::client::conn::http2::handshake(TokioExecutor::new(), io)
        .await
        .map_err(|e| error_chain(&e))?;
    let connection = Background::spawn(connection);
    first_bytes
        .await
        .map_err(|_| "the server closed the connection without answering".to_owned())?;
    Ok((sender, connection))
}

/// A TCP stream that says when the first bytes arrive.
struct Heard {
    stream: TcpStream,
    heard: Option<oneshot::Sender<()>>,
}

impl AsyncRead for Heard {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.stream).poll_read(cx, buf);
        if matches!(polled, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            if let Some(heard) = self.heard.take() {
                let _ = heard.send(());
            }
        }
        polled
    }
}

impl AsyncWrite for Heard {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }
}

/// hyper's HTTP/2 sender as the tower service tonic's generated client calls.
struct Http2(hyper::client::conn::http2::SendRequest<tonic::body::Body>);

type ResponseFuture =
    Pin<Box<dyn Future<Output = Result<Response<Incoming>, hyper::Error>> + Send>>;

impl tower_service::Service<Request<tonic::body::Body>> for Http2 {
    type Response = Response<Incoming>;
    type Error = hyper::Error;
    type Future = ResponseFuture;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), hyper::Error>> {
        self.0.poll_ready(cx)
    }

    fn call(&mut self, request: Request<tonic::body::Body>) -> Self::Future {
        Box::pin(self.0.send_request(request))
    }
}
