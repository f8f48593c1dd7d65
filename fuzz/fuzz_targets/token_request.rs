//! Reading a token request (form body + Authorization header) must never
//! panic, and whatever it accepts must be well formed.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tollgate_core::ErrorCode;
use tollgate_core::auth::Credential;
use tollgate_core::token_request::{Request, parse};

fuzz_target!(|data: &[u8]| {
    // First byte: how much of the rest is the Authorization header.
    let Some((&split, rest)) = data.split_first() else {
        return;
    };
    let split = (split as usize).min(rest.len());
    let (header, body) = rest.split_at(split);
    let authorization = (!header.is_empty()).then_some(header);
    match parse(Request {
        body,
        authorization,
        dpop: &[],
        certificate: None,
    }) {
        Ok(parsed) => {
            assert!(!parsed.grant_type.is_empty());
            match &parsed.credential {
                Credential::Secret(s) => assert!(!s.id.is_empty()),
                Credential::Assertion(a) => assert!(!a.token.is_empty()),
                // No certificate is given here, so none can be the credential.
                Credential::Certificate(_) => panic!("a certificate credential without a certificate"),
            }
            if let Some(scope) = parsed.params.get("scope") {
                assert!(!scope.is_empty());
            }
        }
        Err(e) => assert!(matches!(
            e.error.code,
            ErrorCode::InvalidRequest | ErrorCode::InvalidClient
        )),
    }
});
