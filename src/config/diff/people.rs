//! What `tollgate diff` shows of people: each user's settings (not her
//! password's hash, which the core keeps to itself), and a client's
//! settings for the authorization code grant, so that a review sees a new
//! redirect URI or a disabled user as plainly as a scope.

use std::collections::BTreeMap;

use tollgate_core::{Client, User};

use super::super::duration::show;

/// A user's fields as `diff` compares them.
pub(super) fn user(u: &User) -> BTreeMap<&'static str, String> {
    BTreeMap::from([
        ("name", u.name.clone().unwrap_or_default()),
        ("email", u.email.clone().unwrap_or_default()),
        ("email_verified", u.email_verified.to_string()),
        ("groups", u.groups.join(" ")),
        (
            "claims",
            serde_json::Value::Object(u.claims.clone()).to_string(),
        ),
        ("enabled", u.enabled.to_string()),
        (
            "tokens_valid_after",
            u.tokens_valid_after
                .map(crate::keys::rfc3339)
                .unwrap_or_default(),
        ),
    ])
}

/// A client's people settings, added to its other fields.
pub(super) fn client(c: &Client, fields: &mut BTreeMap<&'static str, String>) {
    fields.extend([
        ("public", c.public.to_string()),
        ("redirect_uris", c.redirect_uris.join(" ")),
        (
            "post_logout_redirect_uris",
            c.post_logout_redirect_uris.join(" "),
        ),
        (
            "backchannel_logout_uri",
            c.backchannel_logout_uri
                .as_ref()
                .map(url::Url::to_string)
                .unwrap_or_default(),
        ),
        ("display_name", c.display_name.clone().unwrap_or_default()),
        ("require_consent", c.require_consent.to_string()),
        ("refresh_token_lifetime", show(c.refresh_token_lifetime)),
        ("allowed_groups", c.allowed_groups.join(" ")),
    ]);
}
