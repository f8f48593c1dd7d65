//! tollgate as an OpenID relying party of the providers of
//! `[[login.providers]]`: the authorization request sent to a provider
//! (code flow, PKCE S256, `state` and `nonce`; all three kept in a sealed,
//! short-lived cookie of the browser's, so no replica keeps anything), and
//! its answer taken: the RFC 9207 `iss` parameter when sent, the code
//! redeemed at the provider's token endpoint with our client secret (read
//! at each use from its source), and the id token verified (`id_token`).
//!
//! The protocol is the `openidconnect` crate's (`client`): the request,
//! the code's redemption and the id token's verification. The provider's
//! discovery document and JWK Set come from the one JWKS cache (the
//! trusted issuers' too): fetched, kept for their `max-age`, fetched again
//! when no key verifies the id token (a provider's key rotation) at most
//! once per interval.
//!
//! Failures to reach a provider are remembered per provider (`status`):
//! `/healthz` names them and a metric counts them.

mod client;
pub(crate) mod status;

use std::sync::Arc;

use openidconnect::ClientSecret;
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use tollgate_core::upstream::Provider;
use tollgate_jose::jose::JwksLocation;
use tollgate_resource::jwks::{JwksCache, KeySet};

use crate::config::SecretSource;

/// Where a provider sends the browser back: the one redirect URI to
/// register at every provider, under our issuer.
pub(crate) const CALLBACK_PATH: &str = "/connect/authorize/upstream/callback";
/// Where the sign-in page's "Sign in with …" links lead, the provider's
/// name after it.
pub(crate) const START_PATH: &str = "/connect/authorize/upstream";
/// How long a sign-in at a provider may take, in seconds.
pub(crate) const FLIGHT_LIFETIME: i64 = 600;

/// The link the sign-in page shows for provider `name`: the sealed
/// pending request rides along.
pub(crate) fn link(name: &str, pending: &str) -> String {
    let pending: String = form_urlencoded::byte_serialize(pending.as_bytes()).collect();
    format!("{START_PATH}/{name}?pending={pending}")
}

/// A sign-in at a provider under way: what the browser's return must
/// match. Sealed into the `tollgate_upstream` cookie.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Flight {
    pub(crate) provider: String,
    /// The authorization request waiting, sealed (as the sign-in page had
    /// it), and the CSRF value it is bound to.
    pub(crate) pending: String,
    pub(crate) csrf: String,
    pub(crate) state: String,
    pub(crate) nonce: String,
    /// RFC 7636 `code_verifier`.
    pub(crate) verifier: String,
    /// Unix seconds after which the return is refused.
    pub(crate) exp: i64,
}

/// What went wrong with a provider, by kind (the metric's `reason`) and
/// in words (the log and `/healthz`; never a secret).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Failure {
    pub(crate) kind: Kind,
    pub(crate) detail: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// Its discovery document or its keys could not be had.
    Discovery,
    /// Its token endpoint failed or refused the code.
    TokenEndpoint,
    /// Our client secret could not be read.
    Secret,
    /// Its answer was not one we take: the id token, `iss`, `state`.
    Invalid,
}

impl Kind {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Discovery => "discovery",
            Self::TokenEndpoint => "token_endpoint",
            Self::Secret => "client_secret",
            Self::Invalid => "invalid_answer",
        }
    }

    /// Whether the provider (or our side of it) is unavailable, rather
    /// than this one answer being wrong: a retry may help.
    pub(crate) fn unavailable(self) -> bool {
        !matches!(self, Self::Invalid)
    }
}

fn fail(kind: Kind, detail: impl Into<String>) -> Failure {
    Failure {
        kind,
        detail: detail.into(),
    }
}

/// The provider's discovery document and keys, from the one cache.
async fn discovered(
    cache: &JwksCache,
    provider: &Provider,
    refresh: bool,
) -> Result<Arc<KeySet>, Failure> {
    let url = provider
        .issuer
        .parse::<url::Url>()
        .map_err(|e| fail(Kind::Discovery, e.to_string()))?;
    let location = JwksLocation {
        url,
        discovery: true,
    };
    let set = cache
        .get(&location, refresh)
        .await
        .map_err(|e| fail(Kind::Discovery, e.0))?;
    // OpenID Connect Discovery §4.3: the document is the issuer's.
    if set.issuer.as_deref() != Some(provider.issuer.as_str()) {
        return Err(fail(
            Kind::Discovery,
            "the discovery document's issuer is not the provider's issuer",
        ));
    }
    Ok(set)
}

/// An endpoint the discovery document names.
fn endpoint(set: &KeySet, name: &str) -> Result<url::Url, Failure> {
    set.document
        .as_ref()
        .and_then(|d| d.get(name))
        .and_then(Value::as_str)
        .and_then(|u| u.parse::<url::Url>().ok())
        .filter(tollgate_resource::jwks::https_or_loopback)
        .ok_or_else(|| fail(Kind::Discovery, format!("no usable {name} in discovery")))
}

/// The provider's authorization URL for a new sign-in, and the flight
/// the browser's cookie keeps.
pub(crate) async fn depart(
    cache: &JwksCache,
    provider: &Provider,
    redirect_uri: &str,
    pending: &str,
    csrf: &str,
    now: i64,
) -> Result<(String, Flight), Failure> {
    let set = discovered(cache, provider, false).await?;
    let rp = client::client(
        &provider.issuer,
        &provider.client_id,
        &set,
        redirect_uri,
        None,
    )?;
    let departure = client::departure(&rp, &provider.scopes);
    let flight = Flight {
        provider: provider.name.to_string(),
        pending: pending.to_owned(),
        csrf: csrf.to_owned(),
        state: departure.state,
        nonce: departure.nonce,
        verifier: departure.verifier,
        exp: now + FLIGHT_LIFETIME,
    };
    Ok((departure.url.to_string(), flight))
}

/// The provider's answer at the callback: `code`, and `iss` if it sent
/// one (RFC 9207), for the flight whose `state` the caller matched.
pub(crate) struct Answer<'a> {
    pub(crate) code: &'a str,
    pub(crate) iss: Option<&'a str>,
}

/// The verified id token's claims for `answer`.
pub(crate) async fn land(
    cache: &JwksCache,
    provider: &Provider,
    secret: &SecretSource,
    flight: &Flight,
    answer: &Answer<'_>,
    redirect_uri: &str,
    now: i64,
) -> Result<Map<String, Value>, Failure> {
    let set = discovered(cache, provider, false).await?;
    let announced = set
        .document
        .as_ref()
        .and_then(|d| d.get("authorization_response_iss_parameter_supported"))
        == Some(&Value::Bool(true));
    match answer.iss {
        Some(iss) if iss != provider.issuer => {
            return Err(fail(Kind::Invalid, "the iss parameter is another issuer's"));
        }
        None if announced => {
            return Err(fail(
                Kind::Invalid,
                "no iss parameter, though the provider announces it",
            ));
        }
        _ => {}
    }
    let secret = secret.read().map_err(|e| fail(Kind::Secret, e))?;
    let secret = Some(ClientSecret::new(secret.expose_secret().to_owned()));
    let rp = client::client(
        &provider.issuer,
        &provider.client_id,
        &set,
        redirect_uri,
        secret.clone(),
    )?;
    let token = client::redeem(&rp, cache.http(), answer.code, &flight.verifier).await?;
    match client::verify(&rp, &token, &flight.nonce, now) {
        Ok(claims) => Ok(claims),
        // No key in hand verifies it: the provider rotated; fetch again.
        Err(client::Invalid::UnknownKey) => {
            let set = discovered(cache, provider, true).await?;
            let rp = client::client(
                &provider.issuer,
                &provider.client_id,
                &set,
                redirect_uri,
                secret,
            )?;
            client::verify(&rp, &token, &flight.nonce, now).map_err(|e| match e {
                client::Invalid::UnknownKey => fail(
                    Kind::Discovery,
                    "the id token's key is not in the provider's keys",
                ),
                client::Invalid::Claims(why) => fail(Kind::Invalid, format!("id token: {why}")),
            })
        }
        Err(client::Invalid::Claims(why)) => Err(fail(Kind::Invalid, format!("id token: {why}"))),
    }
}
