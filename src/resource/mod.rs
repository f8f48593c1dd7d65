//! For API authors: validates tollgate access tokens the way any RFC 9068
//! resource server should — discovery, JWKS cached and refetched when an
//! unknown `kid` appears, signature, `alg`, `typ`, `iss`, `exp`, `nbf`,
//! optionally `aud`, and a required scope. Errors map to RFC 6750.
//!
//! ```no_run
//! # async fn f() {
//! let validator = tollgate::resource::TokenValidator::new("http://localhost:5001", Some("api1"));
//! let claims = validator.validate(Some("Bearer eyJ...")).await;
//! # }
//! ```

use std::collections::HashMap;
use std::time::{Duration, Instant};

use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;
use tokio::sync::RwLock;

/// Unknown `kid`s trigger at most one JWKS fetch per this interval, so a
/// flood of forged tokens cannot turn the API into a JWKS hammer.
const REFETCH_INTERVAL: Duration = Duration::from_secs(1);

/// The claims of a valid token.
pub type Claims = serde_json::Map<String, serde_json::Value>;

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
}

impl Rejection {
    /// 401, 403, or 503 when the authority is down.
    pub fn status(&self) -> u16 {
        match self {
            Self::MissingToken | Self::InvalidToken(_) => 401,
            Self::InsufficientScope(_) => 403,
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
            Self::AuthorityUnavailable(_) => None,
        }
    }

    /// The RFC 6750 error code, if any.
    pub fn error_code(&self) -> Option<&'static str> {
        match self {
            Self::MissingToken => None,
            Self::InvalidToken(_) => Some("invalid_token"),
            Self::InsufficientScope(_) => Some("insufficient_scope"),
            Self::AuthorityUnavailable(_) => Some("temporarily_unavailable"),
        }
    }
}

#[derive(Deserialize)]
struct Discovery {
    issuer: String,
    jwks_uri: String,
}

#[derive(Deserialize)]
struct Jwks {
    keys: Vec<jsonwebtoken::jwk::Jwk>,
}

#[derive(Default)]
struct Cache {
    discovery: Option<Discovery>,
    keys: HashMap<String, (DecodingKey, Algorithm)>,
    fetched_at: Option<Instant>,
}

/// Validates bearer tokens issued by one authority.
pub struct TokenValidator {
    authority: String,
    required_scope: Option<String>,
    audience: Option<String>,
    http: reqwest::Client,
    cache: RwLock<Cache>,
}

impl TokenValidator {
    /// `authority` is the issuer's base URL; `required_scope`, if set, must
    /// be among the token's scopes.
    pub fn new(authority: &str, required_scope: Option<&str>) -> Self {
        Self {
            authority: authority.trim_end_matches('/').to_owned(),
            required_scope: required_scope.map(str::to_owned),
            audience: None,
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(10))
                .build()
                .expect("an HTTP client without TLS configuration builds"),
            cache: RwLock::new(Cache::default()),
        }
    }

    /// Also require `aud` to contain `audience`.
    pub fn with_audience(mut self, audience: &str) -> Self {
        self.audience = Some(audience.to_owned());
        self
    }

    /// Validates the value of an `Authorization` header.
    pub async fn validate(&self, authorization: Option<&str>) -> Result<Claims, Rejection> {
        let token = bearer_token(authorization).ok_or(Rejection::MissingToken)?;
        let header = jsonwebtoken::decode_header(token)
            .map_err(|e| Rejection::InvalidToken(format!("malformed token ({e})")))?;
        // The algorithms tollgate signs with; never `none` or HMAC, whose
        // "key" an attacker could choose.
        if !matches!(
            header.alg,
            Algorithm::ES256 | Algorithm::EdDSA | Algorithm::RS256
        ) {
            return Err(Rejection::InvalidToken("unexpected alg".into()));
        }
        // RFC 9068 §4: reject anything not typed as an access token, so an
        // ID token or other JWT from the same issuer cannot pass as one.
        let typ_ok = header.typ.as_deref().is_some_and(|t| {
            t.eq_ignore_ascii_case("at+jwt") || t.eq_ignore_ascii_case("application/at+jwt")
        });
        if !typ_ok {
            return Err(Rejection::InvalidToken(
                "not an access token (typ must be at+jwt)".into(),
            ));
        }
        let kid = header
            .kid
            .ok_or_else(|| Rejection::InvalidToken("no kid".into()))?;
        let (issuer, key, key_alg) = self.key(&kid).await?;
        if key_alg != header.alg {
            return Err(Rejection::InvalidToken(
                "alg does not match the key's algorithm".into(),
            ));
        }

        // The key's own algorithm, not the header's: a token cannot pick how
        // it is verified.
        let mut validation = Validation::new(key_alg);
        validation.set_issuer(&[issuer]);
        validation.set_required_spec_claims(&["exp", "iss", "sub"]);
        validation.validate_nbf = true;
        validation.leeway = 30;
        match &self.audience {
            Some(aud) => validation.set_audience(&[aud]),
            None => validation.validate_aud = false,
        }
        let data = jsonwebtoken::decode::<Claims>(token, &key, &validation)
            .map_err(|e| Rejection::InvalidToken(e.to_string()))?;
        let claims = data.claims;
        if let Some(required) = &self.required_scope {
            let granted = claims.get("scope").and_then(|s| s.as_str()).unwrap_or("");
            if !granted.split(' ').any(|s| s == required) {
                return Err(Rejection::InsufficientScope(required.clone()));
            }
        }
        Ok(claims)
    }

    /// The issuer and the key for `kid`, fetching discovery and the JWKS as
    /// needed.
    async fn key(&self, kid: &str) -> Result<(String, DecodingKey, Algorithm), Rejection> {
        {
            let cache = self.cache.read().await;
            if let (Some(d), Some((k, alg))) = (&cache.discovery, cache.keys.get(kid)) {
                return Ok((d.issuer.clone(), k.clone(), *alg));
            }
        }
        let mut cache = self.cache.write().await;
        // Another request may have refreshed while this one waited.
        let fresh = cache
            .fetched_at
            .is_some_and(|t| t.elapsed() < REFETCH_INTERVAL);
        if !fresh || cache.discovery.is_none() {
            self.refresh(&mut cache).await?;
        }
        let issuer = cache
            .discovery
            .as_ref()
            .map(|d| d.issuer.clone())
            .unwrap_or_default();
        match cache.keys.get(kid) {
            Some((k, alg)) => Ok((issuer, k.clone(), *alg)),
            None => Err(Rejection::InvalidToken("signed with an unknown key".into())),
        }
    }

    async fn refresh(&self, cache: &mut Cache) -> Result<(), Rejection> {
        let unavailable = |what: &str, e: reqwest::Error| {
            Rejection::AuthorityUnavailable(format!("{what}: {}", without_url(&e)))
        };
        let url = format!("{}/.well-known/openid-configuration", self.authority);
        let discovery: Discovery = self
            .get_json(&url)
            .await
            .map_err(|e| unavailable("discovery", e))?;
        let jwks: Jwks = self
            .get_json(&discovery.jwks_uri)
            .await
            .map_err(|e| unavailable("JWKS", e))?;
        cache.keys = jwks
            .keys
            .iter()
            .filter_map(|jwk| {
                let kid = jwk.common.key_id.clone()?;
                Some((kid, (DecodingKey::from_jwk(jwk).ok()?, key_algorithm(jwk)?)))
            })
            .collect();
        cache.discovery = Some(discovery);
        cache.fetched_at = Some(Instant::now());
        Ok(())
    }

    async fn get_json<T: serde::de::DeserializeOwned>(
        &self,
        url: &str,
    ) -> Result<T, reqwest::Error> {
        self.http
            .get(url)
            .send()
            .await?
            .error_for_status()?
            .json()
            .await
    }
}

/// The one algorithm a published key verifies, from its type: P-256 keys
/// ES256, Ed25519 keys EdDSA, RSA keys RS256. Other keys are ignored.
fn key_algorithm(jwk: &jsonwebtoken::jwk::Jwk) -> Option<Algorithm> {
    use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve};
    match &jwk.algorithm {
        AlgorithmParameters::EllipticCurve(p) if p.curve == EllipticCurve::P256 => {
            Some(Algorithm::ES256)
        }
        AlgorithmParameters::OctetKeyPair(p) if p.curve == EllipticCurve::Ed25519 => {
            Some(Algorithm::EdDSA)
        }
        AlgorithmParameters::RSA(_) => Some(Algorithm::RS256),
        _ => None,
    }
}

/// The token of `Authorization: Bearer <token>` (scheme case-insensitive).
fn bearer_token(header: Option<&str>) -> Option<&str> {
    let (scheme, token) = header?.trim().split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

/// reqwest errors print the URL; the message reads better without it.
fn without_url(e: &reqwest::Error) -> String {
    let mut s = e.to_string();
    if let Some(url) = e.url() {
        s = s
            .replace(&format!(" ({url})"), "")
            .replace(&format!(" for url ({url})"), "");
    }
    let mut source = std::error::Error::source(e);
    while let Some(inner) = source {
        s = format!("{s}: {inner}");
        source = inner.source();
    }
    s
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
    }
}
