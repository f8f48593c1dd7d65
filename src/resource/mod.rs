//! For API authors: validates tollgate access tokens the way any RFC 9068
//! resource server should — discovery, JWKS cached as it says ([`keys`]),
//! signature, `alg` (the key's own), `typ`, no unknown `crit`, `iss`,
//! `exp`, `nbf`, optionally `aud`, and a required scope; and DPoP-bound
//! tokens (RFC 9449) sent as `Authorization: DPoP` with a proof of the
//! request (`htm`, `htu`, `ath`, the token's key, used once). Errors map to
//! RFC 6750 and RFC 9449 §7.1.
//!
//! ```no_run
//! # async fn f() {
//! let validator = tollgate::resource::TokenValidator::new("http://localhost:5001", Some("api1"));
//! let claims = validator.validate(Some("Bearer eyJ...")).await;
//! # }
//! ```

mod keys;

/// A reqwest error as one readable line (its causes, not its URL).
pub(crate) fn describe(e: &reqwest::Error) -> String {
    keys::without_url(e)
}

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use jsonwebtoken::{Algorithm, Validation};

use crate::clock::SharedClock;
use keys::{Missing, RemoteKeys};

/// The claims of a valid token.
pub type Claims = serde_json::Map<String, serde_json::Value>;

/// Leeway for `exp` and `nbf`: clocks of the authority and the API differ.
const LEEWAY: i64 = 30;

/// Why a request was refused (RFC 6750 §3).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Rejection {
    /// No `Authorization: Bearer` header.
    #[error("no bearer token")]
    MissingToken,
    /// The token is malformed, forged, expired, or not for this API.
    #[error("invalid token: {0}")]
    InvalidToken(String),
    /// The token is valid but lacks the scope this API requires.
    #[error("the token lacks scope {0}")]
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
    /// A valid DPoP-bound token and proof without the required scope: the
    /// challenge names the scheme the request used (RFC 9449 §7.1).
    #[error("the token lacks scope {0}")]
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
        let quote = |s: &str| s.replace(['"', '\\'], "'");
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

/// The algorithms of DPoP proofs, for challenges.
fn dpop_algs() -> String {
    let names: Vec<&str> = crate::oauth::jose::ALGORITHMS
        .iter()
        .map(|a| crate::oauth::jose::algorithm_name(*a))
        .collect();
    names.join(" ")
}

/// Validates access tokens issued by one authority.
pub struct TokenValidator {
    required_scope: Option<String>,
    audience: Option<String>,
    clock: SharedClock,
    keys: RemoteKeys,
    /// Used DPoP proof `jti`s.
    proofs: crate::oauth::replay::MemoryReplay,
}

/// Used DPoP proofs a validator remembers at most.
const PROOFS: usize = 100_000;

fn http() -> reqwest::Client {
    crate::http_client::build(|b| b.timeout(Duration::from_secs(10)))
        .expect("an HTTP client with the bundled roots builds")
}

impl TokenValidator {
    /// `authority` is the issuer's base URL; `required_scope`, if set, must
    /// be among the token's scopes.
    pub fn new(authority: &str, required_scope: Option<&str>) -> Self {
        let clock = crate::clock::system();
        Self {
            required_scope: required_scope.map(str::to_owned),
            audience: None,
            keys: RemoteKeys::new(
                authority.trim_end_matches('/').to_owned(),
                http(),
                clock.clone(),
            ),
            clock,
            proofs: crate::oauth::replay::MemoryReplay::new(PROOFS),
        }
    }

    /// Also require `aud` to contain `audience`.
    pub fn with_audience(mut self, audience: &str) -> Self {
        self.audience = Some(audience.to_owned());
        self
    }

    /// Judge expiry and cache ages by this clock (tests pin it).
    pub fn with_clock(self, clock: SharedClock) -> Self {
        Self {
            keys: RemoteKeys::new(self.keys_authority(), http(), clock.clone()),
            clock,
            required_scope: self.required_scope,
            audience: self.audience,
            proofs: self.proofs,
        }
    }

    fn keys_authority(&self) -> String {
        self.keys.authority().to_owned()
    }

    /// Validates the value of an `Authorization: Bearer` header. A
    /// DPoP-bound token is refused: it needs [`Self::validate_request`].
    pub async fn validate(&self, authorization: Option<&str>) -> Result<Claims, Rejection> {
        self.validate_request(authorization, None, "GET", "").await
    }

    /// Validates a request: its `Authorization` header (`Bearer` or
    /// `DPoP`), its `DPoP` proof header if any, and the method and URL it
    /// was made with (the proof must be for them).
    pub async fn validate_request(
        &self,
        authorization: Option<&str>,
        dpop: Option<&str>,
        method: &str,
        url: &str,
    ) -> Result<Claims, Rejection> {
        let (scheme, token) = credentials(authorization).ok_or(Rejection::MissingToken)?;
        match scheme {
            Scheme::Bearer => {
                let claims = self.validate_token(token).await?;
                if claims.get("cnf").is_some() {
                    // RFC 9449 §7.2: a bound token presented as a bearer one
                    // is refused, or a thief could use it without the key.
                    return Err(Rejection::InvalidToken(
                        "a DPoP-bound token must be sent with the DPoP scheme and a proof".into(),
                    ));
                }
                self.check_scope(claims)
            }
            Scheme::DPoP => {
                let claims = self.validate_token(token).await.map_err(|r| match r {
                    Rejection::InvalidToken(why) => Rejection::InvalidDpopToken(why),
                    other => other,
                })?;
                let jkt = claims
                    .get("cnf")
                    .and_then(|c| c.get("jkt"))
                    .and_then(|j| j.as_str())
                    .ok_or_else(|| {
                        Rejection::InvalidDpopToken("the token is not DPoP-bound".into())
                    })?;
                let proof =
                    dpop.ok_or_else(|| Rejection::InvalidDpopProof("no DPoP proof".into()))?;
                self.check_proof(proof, method, url, token, jkt).await?;
                self.check_scope(claims).map_err(|r| match r {
                    Rejection::InsufficientScope(s) => Rejection::DpopInsufficientScope(s),
                    other => other,
                })
            }
        }
    }

    async fn check_proof(
        &self,
        proof: &str,
        method: &str,
        url: &str,
        token: &str,
        jkt: &str,
    ) -> Result<(), Rejection> {
        use crate::oauth::dpop;
        use crate::oauth::replay::ReplayStore;
        let invalid = |why: &str| Rejection::InvalidDpopProof(why.to_owned());
        let now = self.clock.now();
        let checked = dpop::check(proof, method, url, now.unix_timestamp()).map_err(invalid)?;
        if checked.ath.as_deref() != Some(dpop::ath(token).as_str()) {
            return Err(invalid("the proof's ath is not the hash of this token"));
        }
        if checked.jkt != jkt {
            return Err(invalid(
                "the proof is signed by another key than the token is bound to",
            ));
        }
        let key = crate::digest::sha256_parts([checked.jkt.as_bytes(), checked.jti.as_bytes()]);
        let until = now + time::Duration::seconds(2 * dpop::WINDOW);
        match self.proofs.first_use(key, until, now).await {
            Ok(true) => Ok(()),
            Ok(false) => Err(invalid("the proof was used before")),
            Err(_) => Err(Rejection::AuthorityUnavailable(
                "too many DPoP proofs to remember".into(),
            )),
        }
    }

    async fn validate_token(&self, token: &str) -> Result<Claims, Rejection> {
        let invalid = |why: &str| Rejection::InvalidToken(why.to_owned());
        let header = jsonwebtoken::decode_header(token)
            .map_err(|e| Rejection::InvalidToken(format!("malformed token ({e})")))?;
        // The algorithms tollgate signs with; never `none` or HMAC, whose
        // "key" an attacker could choose.
        if !matches!(
            header.alg,
            Algorithm::ES256 | Algorithm::EdDSA | Algorithm::RS256
        ) {
            return Err(invalid("unexpected alg"));
        }
        // RFC 9068 §4: reject anything not typed as an access token, so an
        // ID token or other JWT from the same issuer cannot pass as one.
        let typ_ok = header.typ.as_deref().is_some_and(|t| {
            t.eq_ignore_ascii_case("at+jwt") || t.eq_ignore_ascii_case("application/at+jwt")
        });
        if !typ_ok {
            return Err(invalid("not an access token (typ must be at+jwt)"));
        }
        // RFC 7515 §4.1.11: a header extension the token says must be
        // understood, and this validator understands none.
        if has_crit(token) {
            return Err(invalid("the token has crit header parameters"));
        }
        let kid = header.kid.ok_or_else(|| invalid("no kid"))?;
        let (set, key) = self.keys.key(&kid).await.map_err(|m| match m {
            Missing::UnknownKey => invalid("signed with an unknown key"),
            Missing::Unavailable(why) => Rejection::AuthorityUnavailable(why),
        })?;
        if key.algorithm != header.alg {
            return Err(invalid("alg does not match the key's algorithm"));
        }
        // The key's own algorithm, not the header's: a token cannot pick how
        // it is verified. Time is judged below, by our clock.
        let mut validation = Validation::new(key.algorithm);
        validation.set_issuer(&[&set.issuer]);
        validation.set_required_spec_claims(&["exp", "iss", "sub"]);
        validation.validate_exp = false;
        validation.validate_nbf = false;
        match &self.audience {
            Some(aud) => validation.set_audience(&[aud]),
            None => validation.validate_aud = false,
        }
        let claims = jsonwebtoken::decode::<Claims>(token, &key.key, &validation)
            .map_err(|e| Rejection::InvalidToken(e.to_string()))?
            .claims;
        let now = self.clock.now().unix_timestamp();
        let number = |name: &str| claims.get(name).and_then(|v| v.as_i64());
        match number("exp") {
            Some(exp) if exp + LEEWAY > now => {}
            Some(_) => return Err(invalid("ExpiredSignature")),
            None => return Err(invalid("exp is missing")),
        }
        if number("nbf").is_some_and(|nbf| nbf - LEEWAY > now) {
            return Err(invalid("ImmatureSignature"));
        }
        Ok(claims)
    }

    /// The scope rule, judged last: a caller who is not the key holder of
    /// a bound token learns nothing about its scopes.
    fn check_scope(&self, claims: Claims) -> Result<Claims, Rejection> {
        if let Some(required) = &self.required_scope {
            let granted = claims.get("scope").and_then(|s| s.as_str()).unwrap_or("");
            if !granted.split(' ').any(|s| s == required) {
                return Err(Rejection::InsufficientScope(required.clone()));
            }
        }
        Ok(claims)
    }
}

/// Whether the JWS header has a `crit` member.
fn has_crit(token: &str) -> bool {
    let Some(header) = token.split('.').next() else {
        return false;
    };
    B64.decode(header)
        .ok()
        .and_then(|h| serde_json::from_slice::<serde_json::Value>(&h).ok())
        .is_some_and(|h| h.get("crit").is_some())
}

enum Scheme {
    Bearer,
    DPoP,
}

/// The scheme and token of `Authorization: Bearer|DPoP <token>` (scheme
/// case-insensitive).
fn credentials(header: Option<&str>) -> Option<(Scheme, &str)> {
    let (scheme, token) = header?.trim().split_once(' ')?;
    let token = token.trim();
    if token.is_empty() {
        return None;
    }
    if scheme.eq_ignore_ascii_case("bearer") {
        Some((Scheme::Bearer, token))
    } else if scheme.eq_ignore_ascii_case("dpop") {
        Some((Scheme::DPoP, token))
    } else {
        None
    }
}

/// The token of `Authorization: Bearer <token>`.
#[cfg(test)]
fn bearer_token(header: Option<&str>) -> Option<&str> {
    match credentials(header)? {
        (Scheme::Bearer, t) => Some(t),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_tokens_are_taken_from_the_header_only_with_the_bearer_scheme() {
        assert_eq!(bearer_token(Some("Bearer abc")), Some("abc"));
        assert_eq!(bearer_token(Some("bearer  abc ")), Some("abc"));
        assert_eq!(bearer_token(Some("Basic abc")), None);
        assert_eq!(bearer_token(Some("Bearer")), None);
        assert_eq!(bearer_token(None), None);
    }

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
    fn crit_headers_are_seen() {
        let h = |json: &str| format!("{}.e30.sig", B64.encode(json));
        assert!(has_crit(&h(r#"{"alg":"ES256","crit":["exp"],"exp":1}"#)));
        assert!(!has_crit(&h(r#"{"alg":"ES256"}"#)));
    }
}
