//! [`TokenValidator`]: a request's access token judged the way any RFC
//! 9068 resource server should — the authority's keys from discovery and
//! JWKS ([`crate::jwks`]), the signature under the key's own algorithm,
//! `typ`, no `crit`, `iss`, `sub`, `exp`, `nbf`, optionally `aud`, and the
//! scopes the request needs (the validator's, and a request's own); DPoP-bound tokens (RFC 9449) with a proof of the
//! request (`htm`, `htu`, `ath`, the token's key, used once);
//! certificate-bound tokens (RFC 8705) on the connection of that
//! certificate ([`crate::certificate`]).

use std::sync::Arc;

use jsonwebtoken::Algorithm;
use tollgate_jose::clock::SharedClock;
use tollgate_jose::digest::sha256_parts;
use tollgate_jose::dpop;
use tollgate_jose::jose::{self, JwksLocation};
use tollgate_jose::replay::{MemoryReplay, ReplayError, ReplayStore};

use crate::certificate::{self, ClientCertificate};
use crate::jwks::{JwksCache, KeySet, Transport, Unavailable};
use crate::rejection::Rejection;

/// The claims of a valid token.
pub type Claims = serde_json::Map<String, serde_json::Value>;

/// Leeway for `exp` and `nbf`: clocks of the authority and the API differ.
const LEEWAY: i64 = 30;

/// Validates access tokens issued by one authority.
pub struct TokenValidator {
    required_scope: Option<String>,
    audience: Option<String>,
    clock: SharedClock,
    /// The authority, whose discovery document names its JWKS.
    authority: JwksLocation,
    keys: JwksCache,
    /// Used DPoP proof `jti`s.
    proofs: tollgate_jose::replay::MemoryReplay,
}

/// Used DPoP proofs a validator remembers at most.
const PROOFS: usize = 100_000;
/// Used DPoP proofs of one key it remembers at most: a proof lives two
/// minutes, so that is 80 requests a second from one holder.
const PROOFS_PER_KEY: usize = 10_000;

impl TokenValidator {
    /// `authority` is the issuer's base URL; `required_scope`, if set, must
    /// be among the token's scopes.
    ///
    /// # Panics
    ///
    /// If `authority` is not an absolute URL: it is the API's own setting.
    pub fn new(authority: &str, required_scope: Option<&str>) -> Self {
        let clock = tollgate_jose::clock::system();
        let url = authority
            .trim_end_matches('/')
            .parse()
            .unwrap_or_else(|e| panic!("the authority {authority:?} is not a URL: {e}"));
        Self {
            required_scope: required_scope.map(str::to_owned),
            audience: None,
            authority: JwksLocation {
                url,
                discovery: true,
            },
            keys: JwksCache::new(clock.clone(), Transport::Any),
            clock,
            proofs: MemoryReplay::new(PROOFS, PROOFS_PER_KEY),
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
            keys: JwksCache::new(clock.clone(), Transport::Any),
            clock,
            ..self
        }
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
        self.validate_request_with_certificate(authorization, dpop, method, url, None)
            .await
    }

    /// As [`Self::validate_request`], on a connection that presented
    /// `certificate` (or none): a token bound to a certificate (RFC 8705
    /// §3, `cnf.x5t#S256`) is valid only with that certificate.
    pub async fn validate_request_with_certificate(
        &self,
        authorization: Option<&str>,
        dpop: Option<&str>,
        method: &str,
        url: &str,
        certificate: Option<&ClientCertificate>,
    ) -> Result<Claims, Rejection> {
        self.validate_request_with_scopes(authorization, dpop, method, url, certificate, &[])
            .await
    }

    /// As [`Self::validate_request_with_certificate`], for a request that
    /// also needs each of `scopes` (an admin operation, say): the token
    /// must carry them and the validator's own scope. A refusal names
    /// every scope the request needs, the validator's first (RFC 6750 §3.1),
    /// so a client asks once for a token that passes (step-up).
    pub async fn validate_request_with_scopes(
        &self,
        authorization: Option<&str>,
        dpop: Option<&str>,
        method: &str,
        url: &str,
        certificate: Option<&ClientCertificate>,
        scopes: &[&str],
    ) -> Result<Claims, Rejection> {
        let (scheme, token) = credentials(authorization).ok_or(Rejection::MissingToken)?;
        match scheme {
            Scheme::Bearer => {
                let claims = self.validate_token(token).await?;
                // A certificate-bound token stays a bearer token in form.
                let certificate_only = claims.get("cnf").is_none_or(|c| {
                    c.as_object()
                        .is_some_and(|o| o.len() == 1 && o.contains_key(certificate::X5T_S256))
                });
                certificate::binding_holds(&claims, certificate)?;
                if !certificate_only {
                    // RFC 9449 §7.2: a bound token presented as a bearer one
                    // is refused, or a thief could use it without the key.
                    return Err(Rejection::InvalidToken(
                        "a DPoP-bound token must be sent with the DPoP scheme and a proof".into(),
                    ));
                }
                self.check_scopes(claims, scopes)
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
                certificate::binding_holds(&claims, certificate).map_err(|r| match r {
                    Rejection::InvalidToken(why) => Rejection::InvalidDpopToken(why),
                    other => other,
                })?;
                let proof =
                    dpop.ok_or_else(|| Rejection::InvalidDpopProof("no DPoP proof".into()))?;
                let checked = self.check_proof(proof, method, url, token, jkt)?;
                let claims = self.check_scopes(claims, scopes).map_err(|r| match r {
                    Rejection::InsufficientScope(s) => Rejection::DpopInsufficientScope(s),
                    other => other,
                })?;
                // Remembered only now that everything else holds: a proof
                // refused for any reason takes no room in the store.
                self.use_proof(&checked).await?;
                Ok(claims)
            }
        }
    }

    /// The proof, checked for this request, token and key; not yet used.
    fn check_proof(
        &self,
        proof: &str,
        method: &str,
        url: &str,
        token: &str,
        jkt: &str,
    ) -> Result<dpop::Proof, Rejection> {
        let invalid = |why: &str| Rejection::InvalidDpopProof(why.to_owned());
        let now = self.clock.now();
        let checked = dpop::verify(proof, method, url, now.unix_timestamp()).map_err(invalid)?;
        if checked.ath.as_deref() != Some(dpop::ath(token).as_str()) {
            return Err(invalid("the proof's ath is not the hash of this token"));
        }
        if checked.jkt != jkt {
            return Err(invalid(
                "the proof is signed by another key than the token is bound to",
            ));
        }
        Ok(checked)
    }

    /// Records the proof's `jti` as used, once per key: each key may hold
    /// [`PROOFS_PER_KEY`] live ones, so one holder cannot fill the store.
    async fn use_proof(&self, checked: &dpop::Proof) -> Result<(), Rejection> {
        let now = self.clock.now();
        let key = sha256_parts([checked.jkt.as_bytes(), checked.jti.as_bytes()]);
        let until = now + time::Duration::seconds(2 * dpop::WINDOW);
        match self.proofs.first_use(key, &checked.jkt, until, now).await {
            Ok(true) => Ok(()),
            Ok(false) => Err(Rejection::InvalidDpopProof(
                "the proof was used before".into(),
            )),
            Err(ReplayError::OverQuota) => Err(Rejection::InvalidDpopProof(
                "too many recent proofs from this key".into(),
            )),
            Err(ReplayError::Unavailable) => Err(Rejection::AuthorityUnavailable(
                "too many DPoP proofs to remember".into(),
            )),
        }
    }

    async fn validate_token(&self, token: &str) -> Result<Claims, Rejection> {
        let invalid = |why: &str| Rejection::InvalidToken(why.to_owned());
        let jwt = jose::peek(token).ok_or_else(|| invalid("malformed token"))?;
        let alg = jwt.header.alg;
        // The algorithms tollgate signs with; never `none` or HMAC, whose
        // "key" an attacker could choose.
        if !matches!(alg, Algorithm::ES256 | Algorithm::EdDSA | Algorithm::RS256) {
            return Err(invalid("unexpected alg"));
        }
        // RFC 9068 §4: reject anything not typed as an access token, so an
        // ID token or other JWT from the same issuer cannot pass as one.
        let typ_ok = jwt.header.typ.as_deref().is_some_and(|t| {
            t.eq_ignore_ascii_case("at+jwt") || t.eq_ignore_ascii_case("application/at+jwt")
        });
        if !typ_ok {
            return Err(invalid("not an access token (typ must be at+jwt)"));
        }
        // RFC 7515 §4.1.11: a header extension the token says must be
        // understood, and this validator understands none.
        if jwt.raw_header.contains_key("crit") {
            return Err(invalid("the token has crit header parameters"));
        }
        let kid = jwt.header.kid.as_deref().ok_or_else(|| invalid("no kid"))?;
        let set = self.key_set(kid).await?;
        // The key's own algorithms, not the header's: a token cannot pick
        // how it is verified.
        let key = set
            .keys
            .0
            .iter()
            .find(|k| k.kid.as_deref() == Some(kid))
            .ok_or_else(|| invalid("signed with an unknown key"))?;
        if !key.algorithms.contains(&alg) {
            return Err(invalid("alg does not match the key's algorithm"));
        }
        if !jose::verifies(token, &jwt, key) {
            return Err(invalid("the signature does not verify"));
        }
        let claims = jwt.claims;
        let text = |name: &str| claims.get(name).and_then(|v| v.as_str());
        if text("iss").is_none() || text("iss") != set.issuer.as_deref() {
            return Err(Rejection::InvalidToken(format!(
                "the token's iss is not {}, the authority's issuer",
                set.issuer.as_deref().unwrap_or("(discovery named none)")
            )));
        }
        if text("sub").is_none() {
            return Err(invalid("the token has no sub"));
        }
        if let Some(audience) = &self.audience {
            let holds = match claims.get("aud") {
                Some(serde_json::Value::String(a)) => a == audience,
                Some(serde_json::Value::Array(all)) => {
                    all.iter().any(|a| a.as_str() == Some(audience))
                }
                _ => false,
            };
            if !holds {
                // What to do, not only what is wrong: the caller asked
                // for a token to another API (or to none).
                return Err(Rejection::InvalidToken(format!(
                    "the token is not for this API: its aud does not hold {audience}; \
                     ask for a token with resource={audience}"
                )));
            }
        }
        // Time is judged by our clock, with leeway for the authority's.
        let now = self.clock.now().unix_timestamp();
        let number = |name: &str| claims.get(name).and_then(|v| v.as_i64());
        match number("exp") {
            Some(exp) if exp.saturating_add(LEEWAY) > now => {}
            Some(_) => return Err(invalid("the token has expired")),
            None => return Err(invalid("exp is missing")),
        }
        if number("nbf").is_some_and(|nbf| nbf.saturating_sub(LEEWAY) > now) {
            return Err(invalid("the token is not valid yet (nbf)"));
        }
        Ok(claims)
    }

    /// The authority's keys, with one that has `kid` if a refetch can
    /// find it.
    async fn key_set(&self, kid: &str) -> Result<Arc<KeySet>, Rejection> {
        let unavailable = |e: Unavailable| Rejection::AuthorityUnavailable(e.0);
        let set = self
            .keys
            .get(&self.authority, false)
            .await
            .map_err(unavailable)?;
        if set.keys.has_kid(kid) {
            return Ok(set);
        }
        self.keys
            .get(&self.authority, true)
            .await
            .map_err(unavailable)
    }

    /// The scope rule, judged last: a caller who is not the key holder of
    /// a bound token learns nothing about its scopes. The request needs
    /// the validator's scope and `scopes`; missing one, the refusal lists
    /// them all (once each, in that order), not only those missing: a
    /// client replaces its token with one for the scopes it is told.
    fn check_scopes(&self, claims: Claims, scopes: &[&str]) -> Result<Claims, Rejection> {
        let mut needed: Vec<&str> = Vec::with_capacity(scopes.len() + 1);
        for scope in self
            .required_scope
            .as_deref()
            .into_iter()
            .chain(scopes.iter().copied())
        {
            if !needed.contains(&scope) {
                needed.push(scope);
            }
        }
        let granted = claims.get("scope").and_then(|s| s.as_str()).unwrap_or("");
        let holds = |scope: &&str| granted.split(' ').any(|s| s == *scope);
        if !needed.iter().all(holds) {
            return Err(Rejection::InsufficientScope(needed.join(" ")));
        }
        Ok(claims)
    }
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

    fn with_scope(scope: &str) -> Claims {
        serde_json::json!({ "scope": scope })
            .as_object()
            .unwrap()
            .clone()
    }

    #[test]
    fn a_request_needing_more_scopes_is_refused_with_all_it_needs() {
        let validator = TokenValidator::new("http://as.test", Some("mcp:tools"));
        // The token has the validator's scope, not the request's extra one:
        // the refusal names both, each once, the validator's first.
        let refused = validator
            .check_scopes(
                with_scope("mcp:tools"),
                &["mcp:admin", "mcp:tools", "mcp:admin"],
            )
            .unwrap_err();
        assert_eq!(
            refused,
            Rejection::InsufficientScope("mcp:tools mcp:admin".into())
        );
        // Lacking both, the same list.
        let refused = validator
            .check_scopes(with_scope("other"), &["mcp:admin"])
            .unwrap_err();
        assert_eq!(
            refused,
            Rejection::InsufficientScope("mcp:tools mcp:admin".into())
        );
        // Holding both (in any order), the claims pass.
        let both = with_scope("mcp:admin mcp:tools");
        assert_eq!(
            validator.check_scopes(both.clone(), &["mcp:admin"]),
            Ok(both)
        );
        // No scope of its own: only the request's.
        let open = TokenValidator::new("http://as.test", None);
        assert_eq!(
            open.check_scopes(with_scope("x"), &["a", "b"]),
            Err(Rejection::InsufficientScope("a b".into()))
        );
        assert!(open.check_scopes(with_scope(""), &[]).is_ok());
    }
}
