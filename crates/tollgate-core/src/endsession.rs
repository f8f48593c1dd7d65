//! RP-Initiated Logout (OpenID Connect RP-Initiated Logout 1.0): where
//! the browser goes once her session is cleared. Only to a
//! `post_logout_redirect_uri` the client registered, exactly; the client
//! is the one `client_id` names or the `aud` of the `id_token_hint` (our
//! own id token, its signature checked by the caller against the keys we
//! publish; it may have expired). Anything else — no client, a hint not
//! ours, a URI not registered, a hint and `client_id` that disagree —
//! shows the "signed out" page instead of redirecting.

use serde_json::{Map, Value};
use url::Url;

use super::authorize::redirect_matches;
use super::params::Params;
use super::ports::Context;
use super::refusal::Refusal;

/// The parameters an end-session request may carry.
const PARAMETERS: [&str; 5] = [
    "id_token_hint",
    "client_id",
    "post_logout_redirect_uri",
    "state",
    "ui_locales",
];

/// The end-session request, read.
#[derive(Debug)]
pub struct EndSession {
    params: Params,
}

impl EndSession {
    /// Reads the query; a repeated parameter is refused.
    pub fn parse(query: &[u8]) -> Result<Self, Refusal> {
        Ok(Self {
            params: Params::parse(query, &PARAMETERS, &[])?,
        })
    }

    /// The `id_token_hint`, for the caller to verify.
    pub fn hint(&self) -> Option<&str> {
        self.params.get("id_token_hint")
    }

    /// Where to send the browser, if anywhere: `hint` is the verified
    /// claims of the hint (`None` if none was sent or it is not ours).
    pub fn redirect(&self, cx: &Context<'_>, hint: Option<&Map<String, Value>>) -> Option<String> {
        let uri = self.params.get("post_logout_redirect_uri")?;
        if self.hint().is_some() && hint.is_none() {
            return None;
        }
        let from_hint = match hint {
            Some(claims) => {
                if claims.get("iss").and_then(Value::as_str) != Some(cx.issuer) {
                    return None;
                }
                Some(audience(claims)?)
            }
            None => None,
        };
        let client_id = match (self.params.get("client_id"), from_hint) {
            (Some(sent), Some(aud)) if sent != aud => return None,
            (Some(sent), _) => sent.to_owned(),
            (None, Some(aud)) => aud,
            (None, None) => return None,
        };
        let client = cx.registry.client(&client_id)?;
        // The redirect URIs' rule: equal, or loopback on any port.
        if !client
            .post_logout_redirect_uris
            .iter()
            .any(|r| redirect_matches(r, uri))
        {
            return None;
        }
        let mut url = Url::parse(uri).ok()?;
        if let Some(state) = self.params.get("state") {
            url.query_pairs_mut().append_pair("state", state);
        }
        Some(url.to_string())
    }
}

/// The client an id token was issued to: its `aud`, a string or a list
/// of one.
fn audience(claims: &Map<String, Value>) -> Option<String> {
    match claims.get("aud")? {
        Value::String(aud) => Some(aud.clone()),
        Value::Array(list) if list.len() == 1 => list[0].as_str().map(str::to_owned),
        _ => None,
    }
}
