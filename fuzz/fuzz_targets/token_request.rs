//! The token request parser (form body + Authorization header) must never
//! panic, and whatever it accepts must be well formed.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tollgate::oauth::{ErrorCode, parse_token_request};

fuzz_target!(|data: &[u8]| {
    // First byte: how much of the rest is the Authorization header.
    let Some((&split, rest)) = data.split_first() else {
        return;
    };
    let split = (split as usize).min(rest.len());
    let (header, body) = rest.split_at(split);
    let authorization = (!header.is_empty()).then_some(header);
    match parse_token_request(body, authorization) {
        Ok(request) => {
            assert!(!request.grant_type.is_empty());
            assert!(!request.credentials.client_id.is_empty());
            assert!(!request.credentials.secret.expose().is_empty());
            if let Some(scope) = &request.scope {
                assert!(!scope.is_empty());
            }
        }
        Err(e) => assert!(matches!(
            e.code,
            ErrorCode::InvalidRequest | ErrorCode::InvalidClient
        )),
    }
});
