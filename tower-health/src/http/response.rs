//! How an answer becomes an HTTP response: `Content-Type`, `Content-Length`, `Cache-Control:
//! no-store`, and no body for `HEAD`.

use bytes::Bytes;
use http::header::{self, HeaderMap, HeaderValue};
use http::{Response, StatusCode};

use super::body::Payload;
use crate::endpoint::Methods;
use crate::format::Rendered;

/// Builds the HTTP response for `rendered`; `HEAD` keeps the headers and drops the body.
pub(crate) fn response(rendered: Rendered, head: bool) -> Response<Payload> {
    Written::new(rendered).into_response(head)
}

/// A response with every header in place, to be served once or, kept, many times: serving it
/// again clones the header map and shares the body's bytes.
#[derive(Clone, Debug)]
pub(crate) struct Written {
    status: StatusCode,
    headers: HeaderMap,
    body: Bytes,
}

impl Written {
    pub(crate) fn new(rendered: Rendered) -> Self {
        let Rendered {
            status,
            content_type,
            headers: extra,
            body,
        } = rendered;
        let mut headers = HeaderMap::with_capacity(extra.len() + 3);
        headers.extend(extra);
        headers.insert(header::CONTENT_TYPE, content_type);
        headers.insert(header::CONTENT_LENGTH, content_length(body.len()));
        headers.insert(header::CACHE_CONTROL, NO_STORE.clone());
        Written {
            status,
            headers,
            body,
        }
    }

    /// The response again, the same headers (`Content-Length` of the whole body also for `HEAD`).
    pub(crate) fn to_response(&self, head: bool) -> Response<Payload> {
        self.clone().into_response(head)
    }

    pub(crate) fn into_response(self, head: bool) -> Response<Payload> {
        let mut response = Response::new(if head {
            Payload::empty()
        } else {
            Payload::full(self.body)
        });
        *response.status_mut() = self.status;
        *response.headers_mut() = self.headers;
        response
    }
}

static NO_STORE: HeaderValue = HeaderValue::from_static("no-store");

/// Bodies shorter than this (every health answer of a sane size) get a `Content-Length` value
/// from a static table instead of one allocated per answer.
const STATIC_LENGTHS: usize = 10_000;

/// The decimal digits of each length below [`STATIC_LENGTHS`], left-aligned.
static LENGTH_DIGITS: [[u8; 4]; STATIC_LENGTHS] = length_digits();

const fn length_digits() -> [[u8; 4]; STATIC_LENGTHS] {
    let mut table = [[0; 4]; STATIC_LENGTHS];
    let mut length = 0;
    while length < STATIC_LENGTHS {
        let mut width = 1;
        while width < 4 && length >= 10usize.pow(width as u32) {
            width += 1;
        }
        let mut rest = length;
        while width > 0 {
            width -= 1;
            table[length][width] = b'0' + (rest % 10) as u8;
            rest /= 10;
        }
        length += 1;
    }
    table
}

fn content_length(length: usize) -> HeaderValue {
    let Some(digits) = LENGTH_DIGITS.get(length) else {
        return HeaderValue::from(length);
    };
    let width = digits.iter().take_while(|digit| **digit != 0).count();
    HeaderValue::from_maybe_shared(Bytes::from_static(&digits[..width]))
        .unwrap_or_else(|_| HeaderValue::from(length))
}

/// 405 for a method the endpoint does not take, or 200 for `OPTIONS` where it answers them.
pub(crate) fn method_response(status: StatusCode, methods: &Methods) -> Response<Payload> {
    let mut response = Response::new(Payload::empty());
    *response.status_mut() = status;
    let map = response.headers_mut();
    map.insert(header::ALLOW, methods.allow().clone());
    map.insert(header::CONTENT_LENGTH, HeaderValue::from_static("0"));
    map.insert(header::CACHE_CONTROL, NO_STORE.clone());
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_lengths_are_the_decimal_lengths() {
        for length in [0, 1, 9, 10, 99, 100, 999, 1000, 9999, 10_000, 123_456] {
            assert_eq!(content_length(length), length.to_string(), "{length}");
        }
        for length in 0..STATIC_LENGTHS {
            assert_eq!(content_length(length), HeaderValue::from(length));
        }
    }
}
