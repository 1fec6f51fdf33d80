//! For any generated request, the layer passes it on untouched or answers a well-formed health
//! response (see `common/invariants.rs`, which the fuzz target shares).

use crate::invariants;

use std::sync::OnceLock;

use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue, Method, Uri};
use proptest::prelude::*;

fn runtime() -> &'static tokio::runtime::Runtime {
    static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
    })
}

fn method() -> impl Strategy<Value = Method> {
    prop_oneof![
        Just(Method::GET),
        Just(Method::HEAD),
        Just(Method::POST),
        Just(Method::OPTIONS),
        Just(Method::DELETE),
        Just(Method::TRACE),
        "[A-Za-z]{1,10}".prop_map(|m| Method::from_bytes(m.as_bytes()).unwrap()),
    ]
}

/// Paths made mostly of the words health paths are made of, so that both sides get cases.
fn path() -> impl Strategy<Value = String> {
    let segment = prop_oneof![
        4 => Just("health".to_owned()),
        3 => prop_oneof![Just("live"), Just("ready"), Just("startup")].prop_map(str::to_owned),
        1 => Just("db".to_owned()),
        1 => prop_oneof![
            Just(""), Just("."), Just(".."), Just("HEALTH"), Just("%zz"), Just("%2F"),
            Just("%ff"), Just("healthz"), Just(";x"),
        ].prop_map(str::to_owned),
        1 => "[A-Za-z0-9._~%!$&'()*+,;=:@-]{0,12}",
    ];
    (any::<bool>(), prop::collection::vec(segment, 0..5)).prop_map(|(double, segments)| {
        let slash = if double { "//" } else { "/" };
        format!("{slash}{}", segments.join("/"))
    })
}

fn query() -> impl Strategy<Value = Option<String>> {
    let key = prop_oneof![
        Just("verbose".to_owned()),
        Just("exclude".to_owned()),
        Just("checks".to_owned()),
        "[a-z%=+]{0,6}",
    ];
    let pair = (key, "[A-Za-z0-9%+=/?.-]{0,8}").prop_map(|(k, v)| format!("{k}={v}"));
    prop::option::of(prop::collection::vec(pair, 0..8).prop_map(|pairs| pairs.join("&")))
}

fn headers() -> impl Strategy<Value = HeaderMap> {
    let header = prop_oneof![
        Just((
            "content-type".to_owned(),
            "application/x-www-form-urlencoded".to_owned()
        )),
        Just(("accept".to_owned(), "*/*".to_owned())),
        ("x-[a-z]{1,8}", "[ -~]{0,16}"),
    ];
    prop::collection::vec(header, 0..5).prop_map(|pairs| {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(
                HeaderName::from_bytes(name.as_bytes()).unwrap(),
                HeaderValue::from_str(value.trim()).unwrap(),
            );
        }
        map
    })
}

fn body() -> impl Strategy<Value = Bytes> {
    prop_oneof![
        Just(Bytes::from_static(b"checks=all")),
        prop::collection::vec(any::<u8>(), 0..64).prop_map(Bytes::from),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn requests_pass_through_untouched_or_get_a_well_formed_health_answer(
        method in method(),
        path in path(),
        query in query(),
        headers in headers(),
        body in body(),
    ) {
        let target = match query {
            Some(query) => format!("{path}?{query}"),
            None => path,
        };
        let uri: Uri = match target.parse() {
            Ok(uri) => uri,
            Err(_) => return Err(TestCaseError::reject("not a URI")),
        };
        runtime().block_on(invariants::assert_invariant(method, uri, headers, body));
    }
}

#[test]
fn the_oracle_knows_the_default_layout() {
    for path in [
        "/health",
        "/health/ready",
        "/health/live/db",
        "/health/startup/%zz",
    ] {
        assert!(invariants::is_health_path(path), "{path}");
    }
    for path in [
        "//health",
        "/health/",
        "/HEALTH",
        "/health/ready/",
        "/health/x",
        "/health/ready/a/b",
    ] {
        assert!(!invariants::is_health_path(path), "{path}");
    }
}
