//! The HTTP probe: one HTTP/1.1 `GET` on a connection of its own, judged as the kubelet judges
//! `httpGet`.

use bytes::Bytes;
use http::{Request, StatusCode, header};
use http_body_util::{BodyExt, Empty};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;
use tokio::time::{Instant, timeout_at};

use crate::background::Background;
use crate::outcome::{ProbeOutcome, Verdict, error_chain};
use crate::probe::Probe;
use crate::target::HttpTarget;

/// GETs `url` and judges the answer as the kubelet's `httpGet` does.
pub(crate) async fn probe(probe: &Probe, url: &str) -> ProbeOutcome {
    let target = match HttpTarget::parse(url) {
        Ok(target) => target,
        Err(why) => return ProbeOutcome::new(Verdict::BadArguments, why),
    };
    let deadline = Instant::now() + probe.timeout;
    let connect_by = deadline.min(Instant::now() + probe.connect_timeout);
    let stream = match timeout_at(connect_by, TcpStream::connect(target.socket())).await {
        Ok(Ok(stream)) => stream,
        Ok(Err(e)) => {
            return ProbeOutcome::new(
                Verdict::ConnectionFailed,
                format!("error: connecting to {}: {e}", target.authority),
            );
        }
        Err(_) => {
            return ProbeOutcome::new(
                Verdict::ConnectionFailed,
                format!(
                    "timeout: no connection to {} within {:?}",
                    target.authority,
                    probe.timeout.min(probe.connect_timeout)
                ),
            );
        }
    };
    match timeout_at(deadline, get(&target, stream, &probe.user_agent)).await {
        Ok(Ok(answer)) => answer.judge(url),
        Ok(Err(e)) => ProbeOutcome::new(
            Verdict::RequestFailed,
            format!("error: GET {url} got no HTTP answer: {}", error_chain(&e)),
        ),
        Err(_) => ProbeOutcome::new(
            Verdict::ConnectionFailed,
            format!(
                "timeout: GET {url} got no complete answer within {:?}",
                probe.timeout
            ),
        ),
    }
}

/// One HTTP/1.1 GET on `stream`, reading at most [`Probe::BODY_LIMIT`] bytes of the body.
async fn get(
    target: &HttpTarget,
    stream: TcpStream,
    user_agent: &str,
) -> Result<Answer, hyper::Error> {
    let (mut sender, connection) =
        hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
    let _connection = Background::spawn(connection);
    let request = Request::get(target.path.as_str())
        .header(header::HOST, target.authority.as_str())
        .header(header::USER_AGENT, user_agent)
        .header(header::ACCEPT, "*/*")
        .header(header::CONNECTION, "close")
        .body(Empty::<Bytes>::new());
    let request = match request {
        Ok(request) => request,
        // Only a User-Agent that is no header value gets here.
        Err(_) => return Ok(Answer::Unsendable),
    };
    let response = sender.send_request(request).await?;
    let status = response.status();
    let mut body = response.into_body();
    let mut read = Vec::new();
    while read.len() < Probe::BODY_LIMIT {
        let Some(frame) = body.frame().await else {
            break;
        };
        if let Ok(data) = frame?.into_data() {
            let room = Probe::BODY_LIMIT - read.len();
            read.extend_from_slice(&data[..data.len().min(room)]);
        }
    }
    let cut = read.len() == Probe::BODY_LIMIT && !hyper::body::Body::is_end_stream(&body);
    Ok(Answer::Status {
        status,
        body: read,
        cut,
    })
}

/// What an HTTP server answered.
enum Answer {
    Status {
        status: StatusCode,
        body: Vec<u8>,
        cut: bool,
    },
    /// The request could not be built (a User-Agent that is no header value).
    Unsendable,
}

impl Answer {
    fn judge(self, url: &str) -> ProbeOutcome {
        let (status, body, cut) = match self {
            Answer::Status { status, body, cut } => (status, body, cut),
            Answer::Unsendable => {
                return ProbeOutcome::new(
                    Verdict::BadArguments,
                    "error: the user agent is not a valid header value",
                );
            }
        };
        let verdict = if (200..400).contains(&status.as_u16()) {
            Verdict::Healthy
        } else {
            Verdict::Unhealthy
        };
        let mut message = format!("GET {url}: {status}");
        let text = String::from_utf8_lossy(&body);
        let text = text.trim();
        if !text.is_empty() {
            message.push_str(": ");
            message.push_str(text);
            if cut {
                message.push_str(" (body cut at 10 KiB)");
            }
        }
        ProbeOutcome::new(verdict, message)
    }
}
