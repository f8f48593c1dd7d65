//! tollgate's client at a provider, as the `openidconnect` crate makes
//! it: the authorization URL (code flow, `state`, `nonce`, PKCE S256), the
//! code redeemed at the token endpoint (`client_secret_basic`) through
//! tollgate's HTTP client with a bounded answer, and the id token verified
//! as OpenID Connect Core §3.1.3.7 asks — a signature by a key of the
//! provider's JWK Set in an asymmetric algorithm, `iss`, `aud` and `azp`,
//! `exp`, `iat`, `nonce` — by the library many relying parties share
//! rather than by code of ours. The discovery document and the JWK Set it
//! is given come from the one JWKS cache.

use openidconnect::core::{
    CoreAuthenticationFlow, CoreClient, CoreIdToken, CoreJsonWebKeySet, CoreJwsSigningAlgorithm,
};
use openidconnect::{
    AuthUrl, AuthorizationCode, ClaimsVerificationError, ClientId, ClientSecret, CsrfToken,
    EndpointNotSet, EndpointSet, IssuerUrl, Nonce, PkceCodeChallenge, PkceCodeVerifier,
    RedirectUrl, RequestTokenError, Scope, SignatureVerificationError, TokenResponse, TokenUrl,
};
use serde_json::{Map, Value};
use tollgate_resource::jwks::{KeySet, describe};

use super::{Failure, Kind, endpoint, fail};

/// The client, with its authorization and token endpoints set.
pub(super) type Rp = CoreClient<
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointSet,
    EndpointNotSet,
>;

/// A provider's id tokens are signed with a key pair: no HMAC with our
/// client secret, and never `none`.
const ALGORITHMS: [CoreJwsSigningAlgorithm; 10] = [
    CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
    CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha384,
    CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha512,
    CoreJwsSigningAlgorithm::RsaSsaPssSha256,
    CoreJwsSigningAlgorithm::RsaSsaPssSha384,
    CoreJwsSigningAlgorithm::RsaSsaPssSha512,
    CoreJwsSigningAlgorithm::EcdsaP256Sha256,
    CoreJwsSigningAlgorithm::EcdsaP384Sha384,
    CoreJwsSigningAlgorithm::EcdsaP521Sha512,
    CoreJwsSigningAlgorithm::EdDsa,
];

/// A token response is a few KiB; a larger one is refused unread.
const MAX_TOKEN_RESPONSE: usize = 64 * 1024;

/// Our client at the provider `set` describes: `client_id` there, our
/// one redirect URI, and the secret when a code is to be redeemed.
pub(super) fn client(
    issuer: &str,
    client_id: &str,
    set: &KeySet,
    redirect_uri: &str,
    secret: Option<ClientSecret>,
) -> Result<Rp, Failure> {
    let endpoints = (
        endpoint(set, "authorization_endpoint")?,
        endpoint(set, "token_endpoint")?,
    );
    let rp = made(issuer, client_id, &set.jwks, endpoints, redirect_uri)
        .map_err(|e| fail(Kind::Discovery, e))?;
    Ok(match secret {
        Some(secret) => rp.set_client_secret(secret),
        None => rp,
    })
}

/// The client of [`client`], from its parts.
fn made(
    issuer: &str,
    client_id: &str,
    jwks: &Value,
    (authorization, token): (url::Url, url::Url),
    redirect_uri: &str,
) -> Result<Rp, String> {
    let issuer = IssuerUrl::new(issuer.to_owned()).map_err(|e| e.to_string())?;
    let jwks: CoreJsonWebKeySet =
        serde_json::from_value(jwks.clone()).map_err(|e| format!("JWK Set: {e}"))?;
    let redirect = RedirectUrl::new(redirect_uri.to_owned()).map_err(|e| e.to_string())?;
    Ok(
        CoreClient::new(ClientId::new(client_id.to_owned()), issuer, jwks)
            .set_auth_uri(AuthUrl::from_url(authorization))
            .set_token_uri(TokenUrl::from_url(token))
            .set_redirect_uri(redirect),
    )
}

/// What a new sign-in sends the browser to, and what its return must
/// match: `state`, `nonce` and the PKCE verifier.
pub(super) struct Departure {
    pub(super) url: url::Url,
    pub(super) state: String,
    pub(super) nonce: String,
    pub(super) verifier: String,
}

/// The authorization request for `scopes` (OpenID Connect Core §3.1.2.1).
pub(super) fn departure(rp: &Rp, scopes: &[String]) -> Departure {
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let mut request = rp
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .set_pkce_challenge(challenge);
    // `openid` is added by the library; the file's list may name it too.
    for scope in scopes.iter().filter(|s| s.as_str() != "openid") {
        request = request.add_scope(Scope::new(scope.clone()));
    }
    let (url, state, nonce) = request.url();
    Departure {
        url,
        state: state.secret().clone(),
        nonce: nonce.secret().clone(),
        verifier: verifier.secret().clone(),
    }
}

/// Redeems `code` with its PKCE `verifier`: the id token of the answer.
pub(super) async fn redeem(
    rp: &Rp,
    http: &reqwest::Client,
    code: &str,
    verifier: &str,
) -> Result<String, Failure> {
    // The library's client is a function of the request whose future
    // owns what it needs.
    let http = http.clone();
    let send = move |request| {
        let http = http.clone();
        async move { send(&http, request).await }
    };
    let answer = rp
        .exchange_code(AuthorizationCode::new(code.to_owned()))
        .set_pkce_verifier(PkceCodeVerifier::new(verifier.to_owned()))
        .request_async(&send)
        .await
        .map_err(|e| {
            let why = match e {
                RequestTokenError::ServerResponse(refused) => {
                    let error = refused.error().to_string();
                    format!("refused: {}", crate::observe::audit::untrusted(&error))
                }
                RequestTokenError::Request(e) => e.to_string(),
                RequestTokenError::Parse(e, _) => format!("not a token response ({e})"),
                RequestTokenError::Other(why) => why,
            };
            fail(Kind::TokenEndpoint, why)
        })?;
    answer
        .id_token()
        .map(|t| t.to_string())
        .ok_or_else(|| fail(Kind::Invalid, "the token response has no id_token"))
}

/// Why an id token is not taken.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Invalid {
    /// No key in hand matches it: fetch the keys again (a rotation).
    UnknownKey,
    /// Anything else; the text is for the log.
    Claims(String),
}

/// The claims of `token`, the provider's id token for the sign-in that
/// sent `nonce`, verified at `now` (Unix seconds).
pub(super) fn verify(
    rp: &Rp,
    token: &str,
    nonce: &str,
    now: i64,
) -> Result<Map<String, Value>, Invalid> {
    let bad = |why: String| Invalid::Claims(why);
    let parsed: CoreIdToken = token
        .parse()
        .map_err(|e| bad(format!("not an id token ({e})")))?;
    let at = chrono::DateTime::from_timestamp(now, 0).unwrap_or_default();
    let verifier = rp
        .id_token_verifier()
        .set_allowed_algs(ALGORITHMS)
        .set_time_fn(move || at);
    match parsed.claims(&verifier, &Nonce::new(nonce.to_owned())) {
        Ok(_) => {}
        Err(ClaimsVerificationError::SignatureVerification(
            SignatureVerificationError::NoMatchingKey,
        )) => return Err(Invalid::UnknownKey),
        Err(e) => return Err(bad(e.to_string())),
    }
    // Verified: every claim as sent (the library's types keep only the
    // registered ones), for the admission rules and the copied claims.
    tollgate_jose::jose::peek(token)
        .map(|jwt| jwt.claims)
        .ok_or_else(|| bad("not a signed JWT".into()))
}

/// Sends a request of the library's through `http` (which follows no
/// redirect); the answer's body bounded.
async fn send(
    http: &reqwest::Client,
    request: openidconnect::HttpRequest,
) -> Result<openidconnect::HttpResponse, Unreached> {
    let (parts, body) = request.into_parts();
    let mut response = http
        .request(parts.method, parts.uri.to_string())
        .headers(parts.headers)
        .body(body)
        .send()
        .await
        .map_err(|e| Unreached(describe(&e)))?;
    let mut out = openidconnect::http::Response::builder().status(response.status());
    for (name, value) in response.headers() {
        out = out.header(name, value);
    }
    let mut body = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| Unreached(describe(&e)))?
    {
        if body.len() + chunk.len() > MAX_TOKEN_RESPONSE {
            return Err(Unreached(format!(
                "an answer larger than {MAX_TOKEN_RESPONSE} bytes"
            )));
        }
        body.extend_from_slice(&chunk);
    }
    out.body(body)
        .map_err(|e| Unreached(format!("an unreadable answer ({e})")))
}

/// The provider could not be reached, or its answer not read.
#[derive(Debug)]
pub(super) struct Unreached(String);

impl std::fmt::Display for Unreached {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Unreached {}

#[cfg(test)]
mod tests {
    use base64::Engine;
    use jsonwebtoken::{EncodingKey, Header};
    use serde_json::json;

    use super::*;

    /// An ES256 key pair: its signing key and its JWK Set (`kid` "k1").
    fn key() -> (EncodingKey, Value) {
        let pair = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
        let signing = EncodingKey::from_ec_pem(pair.serialize_pem().as_bytes()).unwrap();
        let public = pair.public_key_raw();
        let b64 = |b: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b);
        let jwk = json!({"kty": "EC", "crv": "P-256", "kid": "k1", "alg": "ES256", "use": "sig",
            "x": b64(&public[1..33]), "y": b64(&public[33..65])});
        (signing, json!({ "keys": [jwk] }))
    }

    fn token(signing: &EncodingKey, kid: &str, claims: Value) -> String {
        let mut header = Header::new(jsonwebtoken::Algorithm::ES256);
        header.kid = Some(kid.into());
        jsonwebtoken::encode(&header, &claims, signing).unwrap()
    }

    fn claims() -> Value {
        json!({"iss": "https://login.corp.example", "aud": "tollgate", "sub": "00u1",
               "exp": 2000, "iat": 1000, "nonce": "n-1", "groups": ["staff"]})
    }

    fn check(token: &str, jwks: &Value) -> Result<Map<String, Value>, Invalid> {
        let at = |path: &str| {
            format!("https://login.corp.example/{path}")
                .parse()
                .unwrap()
        };
        let rp = made(
            "https://login.corp.example",
            "tollgate",
            jwks,
            (at("authorize"), at("token")),
            "https://id.example/connect/authorize/upstream/callback",
        )
        .unwrap()
        .set_client_secret(ClientSecret::new("s3cret".into()));
        verify(&rp, token, "n-1", 1500)
    }

    #[test]
    fn the_providers_token_for_this_sign_in_is_taken_with_every_claim() {
        let (signing, jwks) = key();
        let claims = check(&token(&signing, "k1", claims()), &jwks).unwrap();
        assert_eq!(claims["sub"], "00u1");
        assert_eq!(
            claims["groups"],
            json!(["staff"]),
            "claims beyond the registered ones"
        );
    }

    #[test]
    fn every_claim_the_spec_checks_is_checked() {
        let (signing, jwks) = key();
        let cases = [
            ("iss", json!("https://evil.example")),
            ("aud", json!("someone-else")),
            // Core §3.1.3.7: an audience we do not trust, even with azp ours.
            ("aud", json!(["tollgate", "other"])),
            ("exp", json!(1400)),
            ("exp", json!(null)),
            ("iat", json!(null)),
            ("nonce", json!("n-2")),
            ("nonce", json!(null)),
        ];
        for (name, value) in cases {
            let mut c = claims();
            c["azp"] = json!("tollgate");
            if value.is_null() {
                c.as_object_mut().unwrap().remove(name);
            } else {
                c[name] = value.clone();
            }
            let refused = check(&token(&signing, "k1", c), &jwks);
            assert!(
                matches!(refused, Err(Invalid::Claims(_))),
                "{name} = {value}: {refused:?}"
            );
        }
    }

    #[test]
    fn another_keys_signature_an_hmac_or_none_is_not_taken_and_an_unknown_kid_refetches() {
        let (_, jwks) = key();
        let (other, _) = key();
        let forged = check(&token(&other, "k1", claims()), &jwks);
        assert!(matches!(forged, Err(Invalid::Claims(_))), "{forged:?}");
        // A kid not in hand: the keys may have rotated, fetch them again.
        assert_eq!(
            check(&token(&other, "k2", claims()), &jwks),
            Err(Invalid::UnknownKey)
        );
        // HS256 with our client secret as the key: never a provider's.
        let hmac = jsonwebtoken::encode(
            &Header::new(jsonwebtoken::Algorithm::HS256),
            &claims(),
            &EncodingKey::from_secret(b"s3cret"),
        )
        .unwrap();
        assert!(matches!(check(&hmac, &jwks), Err(Invalid::Claims(_))));
        let none = format!("{}.{}.", "eyJhbGciOiJub25lIn0", "eyJzdWIiOiIwMHUxIn0");
        assert!(check(&none, &jwks).is_err());
        assert!(check("garbage", &jwks).is_err());
    }
}
