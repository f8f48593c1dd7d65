//! Why a request was refused, as RFC 6750 §3 and RFC 9449 §7.1 say it:
//! the status, the `WWW-Authenticate` challenge and the error code.

use tollgate_jose::jose::{ALGORITHMS, algorithm_name};

/// Why a request was refused (RFC 6750 §3).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Rejection {
    /// No `Authorization: Bearer` header.
    #[error("no bearer token")]
    MissingToken,
    /// The token is malformed, forged, expired, or not for this API.
    #[error("invalid token: {0}")]
    InvalidToken(String),
    /// The token is valid but lacks a scope the request needs. It holds
    /// every scope the request needs, those the token has included,
    /// space-separated (RFC 6750 §3's `scope`): a client that asks for
    /// them all gets a token that passes.
    #[error("the request needs scope {0}")]
    InsufficientScope(String),
    /// The authority (discovery or JWKS) could not be reached.
    #[error("the authority is unavailable: {0}")]
    AuthorityUnavailable(String),
    /// `Authorization: DPoP` with a token that is not valid or not bound.
    #[error("invalid token: {0}")]
    InvalidDpopToken(String),
    /// The DPoP proof is missing, malformed, for another request or key,
    /// or used before.
    #[error("invalid DPoP proof: {0}")]
    InvalidDpopProof(String),
    /// A valid DPoP-bound token and proof without a needed scope (every
    /// one listed, as for [`Self::InsufficientScope`]): the challenge
    /// names the scheme the request used (RFC 9449 §7.1).
    #[error("the request needs scope {0}")]
    DpopInsufficientScope(String),
}

impl Rejection {
    /// 401, 403, or 503 when the authority is down.
    pub fn status(&self) -> u16 {
        match self {
            Self::MissingToken
            | Self::InvalidToken(_)
            | Self::InvalidDpopToken(_)
            | Self::InvalidDpopProof(_) => 401,
            Self::InsufficientScope(_) | Self::DpopInsufficientScope(_) => 403,
            Self::AuthorityUnavailable(_) => 503,
        }
    }

    /// The `WWW-Authenticate` value, per RFC 6750 §3: no error code when
    /// the request had no token at all.
    pub fn www_authenticate(&self) -> Option<String> {
        match self {
            Self::MissingToken => Some(r#"Bearer realm="api""#.into()),
            Self::InvalidToken(why) => Some(format!(
                r#"Bearer realm="api", error="invalid_token", error_description="{}""#,
                quote(why)
            )),
            Self::InsufficientScope(scope) => Some(format!(
                r#"Bearer realm="api", error="insufficient_scope", scope="{}""#,
                quote(scope)
            )),
            Self::DpopInsufficientScope(scope) => Some(format!(
                r#"DPoP error="insufficient_scope", scope="{}", algs="{}""#,
                quote(scope),
                dpop_algs()
            )),
            Self::InvalidDpopToken(why) => Some(format!(
                r#"DPoP error="invalid_token", error_description="{}", algs="{}""#,
                quote(why),
                dpop_algs()
            )),
            Self::InvalidDpopProof(why) => Some(format!(
                r#"DPoP error="invalid_dpop_proof", error_description="{}", algs="{}""#,
                quote(why),
                dpop_algs()
            )),
            Self::AuthorityUnavailable(_) => None,
        }
    }

    /// The response body: the error code (if any) and a description, as
    /// JSON.
    pub fn body(&self) -> String {
        let description = self.to_string();
        match self.error_code() {
            Some(code) => {
                serde_json::json!({ "error": code, "error_description": description })
            }
            None => serde_json::json!({ "error_description": description }),
        }
        .to_string()
    }

    /// The RFC 6750 error code, if any.
    pub fn error_code(&self) -> Option<&'static str> {
        match self {
            Self::MissingToken => None,
            Self::InvalidToken(_) | Self::InvalidDpopToken(_) => Some("invalid_token"),
            Self::InvalidDpopProof(_) => Some("invalid_dpop_proof"),
            Self::InsufficientScope(_) | Self::DpopInsufficientScope(_) => {
                Some("insufficient_scope")
            }
            Self::AuthorityUnavailable(_) => Some("temporarily_unavailable"),
        }
    }
}

/// `text` as the inside of a quoted challenge parameter: RFC 6750 §3
/// allows visible ASCII and spaces but `"` and `\`, so those become `'`
/// and anything else outside that range `?`. A description or scope can
/// then neither end the parameter early nor break the header (a control
/// character would make it invalid, and the adapters would send no
/// challenge at all).
fn quote(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '"' | '\\' => '\'',
            ' '..='~' => c,
            _ => '?',
        })
        .collect()
}

/// The algorithms of DPoP proofs, for challenges.
fn dpop_algs() -> String {
    let names: Vec<&str> = ALGORITHMS.iter().map(|a| algorithm_name(*a)).collect();
    names.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejections_follow_rfc_6750() {
        assert_eq!(Rejection::MissingToken.status(), 401);
        assert_eq!(
            Rejection::MissingToken.www_authenticate().unwrap(),
            r#"Bearer realm="api""#
        );
        let scope = Rejection::InsufficientScope("api2".into());
        assert_eq!(scope.status(), 403);
        assert!(
            scope
                .www_authenticate()
                .unwrap()
                .contains(r#"error="insufficient_scope""#)
        );
        let dpop = Rejection::DpopInsufficientScope("api2".into());
        assert_eq!(dpop.status(), 403);
        assert!(dpop.www_authenticate().unwrap().starts_with("DPoP "));
    }

    #[test]
    fn a_scope_challenge_lists_every_scope_the_request_needs() {
        let needs = Rejection::InsufficientScope("mcp:tools mcp:admin".into());
        assert_eq!(
            needs.www_authenticate().unwrap(),
            r#"Bearer realm="api", error="insufficient_scope", scope="mcp:tools mcp:admin""#
        );
        let body: serde_json::Value = serde_json::from_str(&needs.body()).unwrap();
        assert_eq!(body["error"], "insufficient_scope");
        assert_eq!(
            body["error_description"],
            "the request needs scope mcp:tools mcp:admin"
        );
        let dpop = Rejection::DpopInsufficientScope("mcp:tools mcp:admin".into());
        assert!(dpop.www_authenticate().unwrap().starts_with(
            r#"DPoP error="insufficient_scope", scope="mcp:tools mcp:admin", algs=""#
        ));
    }

    #[test]
    fn challenge_parameters_stay_quoted_and_valid_whatever_they_hold() {
        // A quote or backslash cannot end the parameter; a control
        // character or non-ASCII cannot make the header invalid.
        let needs = Rejection::InsufficientScope(r#"a" b\ c"#.into());
        assert_eq!(
            needs.www_authenticate().unwrap(),
            r#"Bearer realm="api", error="insufficient_scope", scope="a' b' c""#
        );
        let invalid = Rejection::InvalidToken("bad\r\nSet-Cookie: x=1 é".into());
        let challenge = invalid.www_authenticate().unwrap();
        assert_eq!(
            challenge,
            r#"Bearer realm="api", error="invalid_token", error_description="bad??Set-Cookie: x=1 ?""#
        );
        assert!(challenge.bytes().all(|b| (b' '..=b'~').contains(&b)));
    }
}
