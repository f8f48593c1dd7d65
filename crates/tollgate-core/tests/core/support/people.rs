//! People and the clients they sign in to, for the code and refresh
//! token cases: `alice` (an admin), the confidential `web` client and the
//! public `spa`, codes sealed as the authorization endpoint seals them,
//! and the token requests that redeem them.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tollgate_core::code::{CODE_LIFETIME, CodeGrant};
use tollgate_core::sealed::Purpose;
use tollgate_core::{Client, GrantType, User};

use super::world::{NOW, Req, SECRET, World, client, scopes};

/// A PKCE verifier and its S256 challenge.
pub(crate) const VERIFIER: &str = "dBjftJeZ4CVP-mJ92K9xGtbkgsegutpXQlyTO0Czk5M";
pub(crate) const CHALLENGE: &str = "nMwaK9ksfpJeF6qBTnt6E6K7E9hriC-s2Y3yUO5mJSg";
/// The redirect URI of `web` and `spa`.
pub(crate) const REDIRECT: &str = "http://localhost:5002/signin-oidc";
/// When alice signed in: a minute before the world's time.
pub(crate) const SIGNED_IN: i64 = NOW.unix_timestamp() - 60;

/// alice, an enabled user of the file in the `admins` group.
pub(crate) fn alice() -> User {
    User {
        username: "alice".parse().unwrap(),
        name: Some("Alice Smith".into()),
        email: Some("alice@example.com".into()),
        email_verified: true,
        groups: vec!["admins".into()],
        enabled: true,
        ..User::default()
    }
}

/// A client of the code and refresh grants, with [`SECRET`].
pub(crate) fn web() -> Client {
    Client {
        grant_types: vec![GrantType::AuthorizationCode, GrantType::RefreshToken],
        allowed_scopes: scopes(&[
            "openid",
            "profile",
            "email",
            "api1",
            "orders.read",
            "offline_access",
        ]),
        redirect_uris: vec![REDIRECT.into()],
        refresh_token_lifetime: Duration::from_secs(30 * 24 * 3600),
        ..client("web")
    }
}

/// A public client (no secret), otherwise `web`.
pub(crate) fn spa() -> Client {
    Client {
        id: "spa".parse().unwrap(),
        public: true,
        secrets: Default::default(),
        ..web()
    }
}

/// The world of `web`, `spa`, a client_credentials `svc`, and alice.
pub(crate) fn world() -> World {
    World::with_people(vec![web(), spa(), client("svc")], vec![alice()])
}

/// Each code's id, distinct in the run.
static NEXT: AtomicUsize = AtomicUsize::new(0);

/// A code for alice at `client`, of `scope`, issued now, as `edit` changes it.
pub(crate) fn code(
    world: &World,
    client: &str,
    scope: &str,
    edit: impl FnOnce(&mut CodeGrant),
) -> String {
    let mut grant = CodeGrant {
        id: format!("code-{}", NEXT.fetch_add(1, Ordering::Relaxed)),
        client_id: client.into(),
        redirect_uri: REDIRECT.into(),
        code_challenge: CHALLENGE.into(),
        sub: "alice".into(),
        auth_time: SIGNED_IN,
        scope: scope.into(),
        resources: Vec::new(),
        nonce: Some("n-0S6_WzA2Mj".into()),
        exp: NOW.unix_timestamp() + CODE_LIFETIME,
        claims: None,
        sid: None,
    };
    edit(&mut grant);
    world.sealing.seal(Purpose::Code, &grant)
}

/// The token request that redeems `code` as `web` (with its secret).
pub(crate) fn redeem(code: &str) -> Req {
    Req::form(&[
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", REDIRECT),
        ("code_verifier", VERIFIER),
    ])
    .basic("web", SECRET)
}

/// The token request that redeems `code` as the public `spa`.
pub(crate) fn redeem_public(code: &str) -> Req {
    Req::form(&[
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", REDIRECT),
        ("code_verifier", VERIFIER),
        ("client_id", "spa"),
    ])
}

/// A refresh request as `web`, optionally for a narrower `scope`.
pub(crate) fn refresh(token: &str, scope: Option<&str>) -> Req {
    let mut params = vec![("grant_type", "refresh_token"), ("refresh_token", token)];
    if let Some(scope) = scope {
        params.push(("scope", scope));
    }
    Req::form(&params).basic("web", SECRET)
}
