//! Ready-made predicates for [`ExposurePolicy::when`](crate::ExposurePolicy::when): which requests see more.
//!
//! Each says what it trusts; none is stronger than that. They combine as closures do:
//!
//! ```
//! use std::net::{IpAddr, Ipv4Addr};
//! use http::HeaderName;
//! use tower_health::authorize::{self, IpNet};
//! use tower_health::{ExposurePolicy, Exposure, HealthLayer};
//!
//! fn layer() -> Result<HealthLayer, Box<dyn std::error::Error>> {
//!     // Names for the cluster's own network; messages only to a proxy's verified clients.
//!     let internal = authorize::peer_in([
//!         "10.0.0.0/8".parse::<IpNet>()?,
//!         IpNet::from(IpAddr::from(Ipv4Addr::LOCALHOST)),
//!     ]);
//!     let proxy = authorize::peer_in(["10.0.5.10/32".parse::<IpNet>()?]);
//!     let verified = authorize::header(HeaderName::from_static("x-client-verified"), "SUCCESS");
//!     Ok(HealthLayer::new().exposure(
//!         ExposurePolicy::new(Exposure::StatusOnly)
//!             .when(Exposure::Names, internal)
//!             .when(Exposure::Messages, move |request| proxy(request) && verified(request)),
//!     ))
//! }
//! # layer().unwrap();
//! ```

use std::net::{IpAddr, SocketAddr};

use http::header::{AUTHORIZATION, HeaderName};
use http::request::Parts;
/// An IP network (`10.0.0.0/8`, `fd00::/8`; parsed with `str::parse`, or made from an address
/// for itself alone), as [`peer_in`] takes it; the `ipnet` crate's type.
pub use ipnet::IpNet;
use subtle::ConstantTimeEq;

/// Requests with `Authorization: Bearer TOKEN` (the scheme in any case), the token compared in
/// constant time so that response times do not reveal how much of a guess was right (its
/// length is not hidden). An empty token accepts no request, so an unset variable does not open
/// the endpoint.
///
/// Trusts: whoever holds the token. Over plain HTTP anyone on the path can read it; serve the
/// endpoint over TLS or on a network of its own, and keep the token out of logs and URLs.
pub fn bearer(token: impl Into<String>) -> impl Fn(&Parts) -> bool + Clone + Send + Sync + 'static {
    let token = token.into().into_bytes();
    move |request: &Parts| {
        !token.is_empty()
            && request.headers.get_all(AUTHORIZATION).iter().any(|value| {
                let value = value.as_bytes();
                let (scheme, credentials) = value.split_at(value.len().min(7));
                scheme.eq_ignore_ascii_case(b"bearer ")
                    && bool::from(credentials.trim_ascii().ct_eq(&token))
            })
    }
}

/// Requests with the header `name` set to exactly `value` (compared in constant time, as the
/// value may be a secret shared with the proxy), as a proxy sets it for the clients it
/// authenticated (`X-Client-Verified: SUCCESS`, an identity header of an access proxy).
///
/// Trusts: that every request reaches the service through that proxy, and that the proxy
/// removes the header from what clients send. A client that can reach the service directly
/// sets the header itself; combine it with [`peer_in`] naming the proxy's addresses.
pub fn header(
    name: HeaderName,
    value: impl Into<String>,
) -> impl Fn(&Parts) -> bool + Clone + Send + Sync + 'static {
    let value = value.into().into_bytes();
    move |request: &Parts| {
        request
            .headers
            .get_all(&name)
            .iter()
            .any(|sent| bool::from(sent.as_bytes().ct_eq(&value)))
    }
}

/// Requests whose peer (the address the TCP connection comes from) is in one of `networks`
/// (an IPv4 peer seen as an IPv4-mapped IPv6 address counts as IPv4).
///
/// The peer is read from the request's extensions, where the server put it:
/// - axum: `axum::extract::ConnectInfo<SocketAddr>`, put there by serving
///   `router.into_make_service_with_connect_info::<SocketAddr>()` (feature `axum`);
/// - a [`SocketAddr`] itself, which a hyper or hyper-util accept loop inserts (neither does on
///   its own): `request.extensions_mut().insert(peer)` in the service it serves the
///   connection with.
///
/// A request without either is not accepted.
///
/// Trusts: the network. Behind a proxy or load balancer the peer is the proxy, so every client
/// passing through it is accepted; `X-Forwarded-For` is not read, since any client can set it.
pub fn peer_in(
    networks: impl IntoIterator<Item = IpNet>,
) -> impl Fn(&Parts) -> bool + Clone + Send + Sync + 'static {
    let networks: Vec<IpNet> = networks
        .into_iter()
        .map(|network| network.trunc())
        .collect();
    move |request: &Parts| {
        peer(request).is_some_and(|peer| {
            let peer = peer.to_canonical();
            networks.iter().any(|network| network.contains(&peer))
        })
    }
}

/// The peer address the server put in `request`'s extensions.
fn peer(request: &Parts) -> Option<IpAddr> {
    #[cfg(feature = "axum")]
    if let Some(axum::extract::ConnectInfo(addr)) = request
        .extensions
        .get::<axum::extract::ConnectInfo<SocketAddr>>()
    {
        return Some(addr.ip());
    }
    request.extensions.get::<SocketAddr>().map(SocketAddr::ip)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(header: Option<(&str, &str)>, peer: Option<&str>) -> Parts {
        let mut builder = http::Request::get("/health");
        if let Some((name, value)) = header {
            builder = builder.header(name, value);
        }
        let (mut parts, ()) = builder.body(()).unwrap().into_parts();
        if let Some(peer) = peer {
            parts.extensions.insert(peer.parse::<SocketAddr>().unwrap());
        }
        parts
    }

    #[test]
    fn bearer_takes_exactly_the_token() {
        let accepts = bearer("s3cret");
        let auth = |value| with(Some(("authorization", value)), None);
        assert!(accepts(&auth("Bearer s3cret")));
        assert!(accepts(&auth("bearer s3cret")));
        for refused in [
            "Bearer s3cre",
            "Bearer s3cret2",
            "Basic s3cret",
            "s3cret",
            "Bearer ",
            "",
        ] {
            assert!(!accepts(&auth(refused)), "{refused:?}");
        }
        assert!(!accepts(&with(None, None)));
        let empty = bearer("");
        assert!(!empty(&auth("Bearer ")));
        assert!(!empty(&auth("Bearer")));
    }

    #[test]
    fn header_takes_exactly_the_value() {
        let accepts = header(HeaderName::from_static("x-client-verified"), "SUCCESS");
        assert!(accepts(&with(Some(("x-client-verified", "SUCCESS")), None)));
        assert!(!accepts(&with(
            Some(("x-client-verified", "success")),
            None
        )));
        assert!(!accepts(&with(Some(("x-other", "SUCCESS")), None)));
        assert!(!accepts(&with(None, None)));
    }

    /// Networks written as text, a bare address standing for itself alone.
    fn nets<'a>(texts: &'a [&str]) -> impl Iterator<Item = IpNet> + 'a {
        texts.iter().map(|text| {
            text.parse::<IpNet>()
                .or_else(|_| text.parse::<IpAddr>().map(IpNet::from))
                .unwrap()
        })
    }

    #[test]
    fn peers_in_the_networks_are_accepted() {
        let accepts = peer_in(nets(&[
            "10.0.0.0/8",
            "192.168.1.7",
            "fd00::/8",
            "0.0.0.0/0",
        ]));
        let at = |peer| accepts(&with(None, Some(peer)));
        assert!(at("10.200.3.4:1234"));
        assert!(at("192.168.1.7:80"));
        assert!(at("[fd12::1]:80"));
        assert!(at("8.8.8.8:53"), "0.0.0.0/0 takes every IPv4 peer");
        assert!(!at("[2001:db8::1]:80"), "but no IPv6 one");
        assert!(!accepts(&with(None, None)), "no peer known");

        // Host bits in a network are ignored, as in a routing table.
        let internal = peer_in(nets(&["10.1.2.3/8", "127.0.0.1"]));
        let at = |peer| internal(&with(None, Some(peer)));
        assert!(at("[::ffff:10.1.2.3]:80"), "an IPv4-mapped peer is IPv4");
        assert!(!at("11.0.0.1:80"));
        assert!(!at("127.0.0.2:80"));
        assert!(at("127.0.0.1:80"));
    }
}
