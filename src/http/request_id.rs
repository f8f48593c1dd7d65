//! Request ids: the one a proxy or ingress sent in `X-Request-Id`, if it is
//! a sane token, else a new one. Logged on the request's span and returned
//! on the response, so a client's report can be found in the logs.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};

use poem::http::HeaderValue;

pub(super) const HEADER: poem::http::HeaderName =
    poem::http::HeaderName::from_static("x-request-id");

/// The id of a request that came with `incoming`, ready for the response
/// header (an incoming value is shared, not copied).
pub(super) fn of(incoming: Option<&HeaderValue>) -> HeaderValue {
    match incoming {
        Some(v) if v.to_str().is_ok_and(is_sane) => v.clone(),
        _ => HeaderValue::from_bytes(&next()).expect("hex digits are a valid header value"),
    }
}

/// 1 to 64 characters of `A-Z a-z 0-9 . _ -`: nothing that could forge a
/// log line or a header.
fn is_sane(id: &str) -> bool {
    (1..=64).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

/// A counter from a random start, as 16 hex digits: unique within the
/// process, and unlikely to repeat across replicas. Cheaper than drawing
/// random bytes (or running `format!`) per request.
fn next() -> [u8; 16] {
    static NEXT: OnceLock<AtomicU64> = OnceLock::new();
    let counter = NEXT.get_or_init(|| {
        let mut seed = [0u8; 8];
        aws_lc_rs::rand::fill(&mut seed).expect("system random source");
        AtomicU64::new(u64::from_le_bytes(seed))
    });
    let n = counter.fetch_add(1, Ordering::Relaxed);
    let mut hex = [0u8; 16];
    for (i, digit) in hex.iter_mut().enumerate() {
        *digit = b"0123456789abcdef"[((n >> (60 - 4 * i)) & 0xf) as usize];
    }
    hex
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sane_incoming_id_is_kept_and_anything_else_replaced() {
        let keep = HeaderValue::from_static("abc-123_x.y");
        assert_eq!(of(Some(&keep)), "abc-123_x.y");
        for bad in ["", "has space", "quote\"", &"x".repeat(65)] {
            let v = HeaderValue::from_str(bad).unwrap();
            let id = of(Some(&v));
            assert_ne!(id, bad);
            assert_eq!(id.len(), 16);
            assert!(id.to_str().unwrap().bytes().all(|b| b.is_ascii_hexdigit()));
        }
        assert_ne!(of(None), of(None));
        let a = u64::from_str_radix(of(None).to_str().unwrap(), 16).unwrap();
        let b = u64::from_str_radix(of(None).to_str().unwrap(), 16).unwrap();
        assert_eq!(b, a.wrapping_add(1), "consecutive");
    }
}
