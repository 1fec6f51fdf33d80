//! What a probe asks, and the URL or address it connects to, checked before connecting.

use http::Uri;

/// What a probe asks.
#[derive(Clone, Debug)]
pub(crate) enum Target {
    Http(String),
    Grpc { addr: String, service: String },
}

/// Where an HTTP probe connects and what it asks for.
pub(crate) struct HttpTarget {
    /// `host[:port]`, for the `Host` header and messages.
    pub(crate) authority: String,
    pub(crate) host: String,
    pub(crate) port: u16,
    pub(crate) path: String,
}

impl HttpTarget {
    pub(crate) fn parse(url: &str) -> Result<Self, String> {
        let uri: Uri = url
            .parse()
            .map_err(|e| format!("error: invalid URL {url:?}: {e}"))?;
        match uri.scheme_str() {
            Some("http") => {}
            Some("https") => {
                return Err(format!(
                    "error: {url:?}: https is not supported, only plain http:// URLs"
                ));
            }
            _ => return Err(format!("error: {url:?} is not an http:// URL")),
        }
        let authority = uri
            .authority()
            .ok_or_else(|| format!("error: {url:?} has no host"))?;
        if authority.as_str().contains('@') {
            return Err("error: credentials in the URL are not supported".to_owned());
        }
        let host = authority.host();
        if host.is_empty() {
            return Err(format!("error: {url:?} has no host"));
        }
        Ok(HttpTarget {
            authority: authority.as_str().to_owned(),
            host: host
                .trim_start_matches('[')
                .trim_end_matches(']')
                .to_owned(),
            port: authority.port_u16().unwrap_or(80),
            path: uri
                .path_and_query()
                .map_or("/", |path| path.as_str())
                .to_owned(),
        })
    }

    pub(crate) fn socket(&self) -> (&str, u16) {
        (&self.host, self.port)
    }
}

/// `HOST:PORT` for gRPC, `:PORT` meaning 127.0.0.1.
pub(crate) fn grpc_authority(addr: &str) -> Result<String, String> {
    let authority = if addr.starts_with(':') {
        format!("127.0.0.1{addr}")
    } else {
        addr.to_owned()
    };
    match authority.parse::<http::uri::Authority>() {
        Ok(parsed) if parsed.port_u16().is_some() && !parsed.host().is_empty() => {
            if authority.contains('@') {
                Err(format!("error: invalid address {addr:?}: want HOST:PORT"))
            } else {
                Ok(authority)
            }
        }
        _ => Err(format!("error: invalid address {addr:?}: want HOST:PORT")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_and_urls() {
        assert_eq!(grpc_authority(":50051").unwrap(), "127.0.0.1:50051");
        assert_eq!(grpc_authority("[::1]:7").unwrap(), "[::1]:7");
        assert!(grpc_authority("localhost").is_err());
        assert!(grpc_authority("a b:1").is_err());
        let target = HttpTarget::parse("http://[::1]:8080/health?x=1").unwrap();
        assert_eq!((target.host.as_str(), target.port), ("::1", 8080));
        assert_eq!(target.path, "/health?x=1");
        assert_eq!(HttpTarget::parse("http://h").unwrap().path, "/");
        assert!(HttpTarget::parse("https://h/").is_err());
        assert!(HttpTarget::parse("http://u:p@h/").is_err());
        assert!(HttpTarget::parse("nonsense").is_err());
    }
}
