//! Request matching and query parsing: any method, request target, form header and body either
//! reaches the inner service untouched or gets a well-formed health answer.
#![no_main]

#[path = "../../tests/common/invariants.rs"]
mod invariants;

use std::sync::OnceLock;

use bytes::Bytes;
use http::header::{CONTENT_TYPE, HeaderValue};
use http::{HeaderMap, Method, Uri};
use libfuzzer_sys::fuzz_target;

const METHODS: [&str; 6] = ["GET", "HEAD", "POST", "OPTIONS", "DELETE", "get"];

fn runtime() -> &'static tokio::runtime::Runtime {
    static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
    })
}

// Input: one control byte (method, form header), the request target up to a newline, the body.
fuzz_target!(|data: &[u8]| {
    let Some((&control, rest)) = data.split_first() else {
        return;
    };
    let (target, body) = match rest.iter().position(|&b| b == b'\n') {
        Some(end) => (&rest[..end], &rest[end + 1..]),
        None => (rest, &[][..]),
    };
    let Ok(uri) = Uri::try_from(target) else {
        return;
    };
    let method = Method::from_bytes(METHODS[usize::from(control) % METHODS.len()].as_bytes())
        .unwrap();
    let mut headers = HeaderMap::new();
    if control & 0x80 != 0 {
        headers.insert(
            CONTENT_TYPE,
            HeaderValue::from_static("application/x-www-form-urlencoded"),
        );
    }
    runtime().block_on(invariants::assert_invariant(
        method,
        uri,
        headers,
        Bytes::copy_from_slice(body),
    ));
});
