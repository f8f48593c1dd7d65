//! Reading and judging a client assertion or platform token must never
//! panic, whatever its header, claims or keys; and what passes the rules
//! must satisfy them.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tollgate_core::auth::assertion::{check_header, check_sole_audience, check_times};
use tollgate_jose::jose;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    // A JWK, as the file or a remote JWKS might hold it.
    if let Ok(value) = serde_json::from_str::<serde_json::Value>(text) {
        let _ = jose::parse_jwk(&value);
        let _ = jose::parse_jwk_set(&value);
        let _ = jose::usable_keys(&value);
    }
    // A compact JWS, as a request might carry it.
    let Some(jwt) = jose::peek(text) else {
        return;
    };
    let _ = check_header(&jwt);
    let now = 1_800_000_000;
    if let Ok(exp) = check_times(&jwt.claims, now, 3600) {
        assert!(exp + 30 > now);
    }
    let _ = check_sole_audience(&jwt.claims, &["https://issuer", "https://issuer/connect/token"]);
});
