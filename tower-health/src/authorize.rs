//! Ready-made predicates for [`Details::when`](crate::Details::when): which requests see more.
//!
//! Each says what it trusts; none is stronger than that. They combine as closures do:
//!
//! ```
//! use tower_health::{Details, Exposure, HealthLayer, authorize};
//!
//! // Names for the cluster's own network; messages only to a proxy's verified clients.
//! let internal = authorize::peer_in(["10.0.0.0/8", "127.0.0.1/32", "::1/128"]);
//! let proxy = authorize::peer_in(["10.0.5.10/32"]);
//! let verified = authorize::header("x-client-verified", "SUCCESS");
//! let layer = HealthLayer::new().details(
//!     Details::new(Exposure::StatusOnly)
//!         .when(Exposure::Names, internal)
//!         .when(Exposure::Messages, move |request| proxy(request) && verified(request)),
//! );
//! ```

use std::net::{IpAddr, SocketAddr};

use http::header::{AUTHORIZATION, HeaderName};
use http::request::Parts;
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
///
/// # Panics
///
/// When `name` is not a valid header name (a configuration mistake).
pub fn header(
    name: &str,
    value: impl Into<String>,
) -> impl Fn(&Parts) -> bool + Clone + Send + Sync + 'static {
    let name = HeaderName::try_from(name)
        .unwrap_or_else(|_| panic!("{name:?} is not a valid header name"));
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
/// (`10.0.0.0/8`, `fd00::/8`, a bare address for itself alone; an IPv4 peer seen as an
/// IPv4-mapped IPv6 address counts as IPv4).
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
///
/// # Panics
///
/// When a network is not an IP address, optionally followed by `/` and a prefix length no
/// longer than the address (a configuration mistake).
pub fn peer_in<N: AsRef<str>>(
    networks: impl IntoIterator<Item = N>,
) -> impl Fn(&Parts) -> bool + Clone + Send + Sync + 'static {
    let networks: Vec<Network> = networks
        .into_iter()
        .map(|network| {
            let network = network.as_ref();
            Network::parse(network)
                .unwrap_or_else(|| panic!("{network:?} is not a network (10.0.0.0/8, fd00::/8)"))
        })
        .collect();
    move |request: &Parts| {
        peer(request).is_some_and(|peer| networks.iter().any(|network| network.contains(peer)))
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

/// An address and how many of its leading bits a member shares.
#[derive(Clone, Copy, Debug)]
struct Network {
    addr: IpAddr,
    prefix: u32,
}

impl Network {
    fn parse(text: &str) -> Option<Self> {
        let (addr, prefix) = match text.split_once('/') {
            Some((addr, prefix)) => (addr, Some(prefix)),
            None => (text, None),
        };
        let addr = addr.parse::<IpAddr>().ok()?.to_canonical();
        let bits = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            Some(prefix) if prefix.bytes().all(|b| b.is_ascii_digit()) => prefix.parse().ok()?,
            Some(_) => return None,
            None => bits,
        };
        (prefix <= bits).then_some(Network { addr, prefix })
    }

    fn contains(&self, peer: IpAddr) -> bool {
        // The leading `prefix` bits of a `bits`-bit address, as the top of a u128.
        let top = |addr: IpAddr, prefix: u32| -> u128 {
            let (value, bits) = match addr {
                IpAddr::V4(v4) => (u128::from(u32::from(v4)), 32),
                IpAddr::V6(v6) => (u128::from(v6), 128),
            };
            // A shift by all 128 bits (prefix 0 of IPv6) leaves nothing.
            value.checked_shr(bits - prefix).unwrap_or(0)
        };
        let peer = peer.to_canonical();
        peer.is_ipv4() == self.addr.is_ipv4()
            && top(peer, self.prefix) == top(self.addr, self.prefix)
    }
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
        let accepts = header("x-client-verified", "SUCCESS");
        assert!(accepts(&with(Some(("x-client-verified", "SUCCESS")), None)));
        assert!(!accepts(&with(
            Some(("x-client-verified", "success")),
            None
        )));
        assert!(!accepts(&with(Some(("x-other", "SUCCESS")), None)));
        assert!(!accepts(&with(None, None)));
    }

    #[test]
    fn peers_in_the_networks_are_accepted() {
        let accepts = peer_in(["10.0.0.0/8", "192.168.1.7", "fd00::/8", "0.0.0.0/0"]);
        let at = |peer| accepts(&with(None, Some(peer)));
        assert!(at("10.200.3.4:1234"));
        assert!(at("192.168.1.7:80"));
        assert!(at("[fd12::1]:80"));
        assert!(at("8.8.8.8:53"), "0.0.0.0/0 takes every IPv4 peer");
        assert!(!at("[2001:db8::1]:80"), "but no IPv6 one");
        assert!(!accepts(&with(None, None)), "no peer known");

        let internal = peer_in(["10.0.0.0/8", "127.0.0.1"]);
        let at = |peer| internal(&with(None, Some(peer)));
        assert!(at("[::ffff:10.1.2.3]:80"), "an IPv4-mapped peer is IPv4");
        assert!(!at("11.0.0.1:80"));
        assert!(!at("127.0.0.2:80"));
        assert!(at("127.0.0.1:80"));
    }

    #[test]
    fn networks_that_are_no_networks_are_refused() {
        for bad in [
            "10.0.0.0/33",
            "::/129",
            "10.0.0/8",
            "10.0.0.0/",
            "10.0.0.0/+8",
            "x",
        ] {
            assert!(Network::parse(bad).is_none(), "{bad:?}");
        }
        assert_eq!(Network::parse("::/0").unwrap().prefix, 0);
    }
}
