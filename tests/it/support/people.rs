//! A server with people: `[login]`, alice (an admin) and bob in the file,
//! the confidential client `web` and the public `spa` of the code grant,
//! an API that introspects, and a sealing key file of the test's own, so
//! the test seals codes exactly as the authorization endpoint does and
//! redeems them at the real token endpoint.

use serde_json::Value;
use tollgate_core::code::{CODE_LIFETIME, CodeGrant};
use tollgate_core::sealed::{Purpose, SealingKey};

use super::{TestServer, basic, form, hash, now, unique};

/// The sealing key file's bytes (any 32 or more will do).
const SEALING_FILE: &[u8] = b"a test's sealing key: 32+ bytes, not secret";
/// A PKCE verifier and its S256 challenge.
pub(crate) const VERIFIER: &str = "dBjftJeZ4CVP-mJ92K9xGtbkgsegutpXQlyTO0Czk5M";
const CHALLENGE: &str = "nMwaK9ksfpJeF6qBTnt6E6K7E9hriC-s2Y3yUO5mJSg";
/// The redirect URI of `web` and `spa`.
pub(crate) const REDIRECT: &str = "http://localhost:5002/signin-oidc";
/// The API of `api1`, which introspects with `secret`.
pub(crate) const API: &str = "https://api.example.com";

/// The file: alice and bob (`alice_extra` appended to alice), `web` and
/// `spa`, and `extra` at the end.
pub(crate) fn people_toml(alice_extra: &str, extra: &str) -> String {
    let grants = r#"allowed_grant_types = ["authorization_code", "refresh_token"]
redirect_uris = ["http://localhost:5002/signin-oidc"]
allowed_scopes = ["openid", "profile", "email", "groups", "api1", "offline_access"]"#;
    format!(
        r#"[[api_scopes]]
name = "api1"
[[api_resources]]
name = "{API}"
scopes = ["api1"]
[[api_resources.secrets]]
hash = "{secret}"

[keys]
sealing_key_file = "sealing.key"

[login]

[[users]]
username = "alice"
password_hash = "{alice}"
name = "Alice Smith"
email = "alice@example.com"
email_verified = true
groups = ["admins"]
{alice_extra}

[[users]]
username = "bob"
password_hash = "{bob}"

[[clients]]
client_id = "web"
{grants}
[[clients.secrets]]
hash = "{secret}"

[[clients]]
client_id = "spa"
public = true
{grants}
{extra}
"#,
        secret = hash("secret"),
        alice = hash("alice"),
        bob = hash("bob"),
    )
}

/// A folder holding `toml` and the sealing key file.
pub(crate) fn people_dir(toml: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("identity.toml"), toml).unwrap();
    std::fs::write(dir.path().join("sealing.key"), SEALING_FILE).unwrap();
    dir
}

/// A server of [`people_toml`] with nothing extra.
pub(crate) async fn people_server() -> TestServer {
    TestServer::spawn_in(people_dir(&people_toml("", ""))).await
}

/// A code for `sub` at `client` of `scope`, signed in now, sealed as the
/// server seals them.
pub(crate) fn code_for(client: &str, sub: &str, scope: &str) -> String {
    let key = SealingKey::new(&tollgate_jose::digest::sha256(SEALING_FILE));
    let now = now().unix_timestamp();
    let grant = CodeGrant {
        id: format!("it-code-{}-{}", now, unique()),
        client_id: client.into(),
        redirect_uri: REDIRECT.into(),
        code_challenge: CHALLENGE.into(),
        sub: sub.into(),
        auth_time: now - 5,
        scope: scope.into(),
        resources: Vec::new(),
        nonce: Some("n-42".into()),
        exp: now + CODE_LIFETIME,
        claims: None,
        sid: None,
    };
    key.seal(Purpose::Code, &grant)
}

/// The form that redeems `code` (`client_id` added for a public client).
pub(crate) fn redeem_form(code: &str, public: Option<&str>) -> String {
    let mut body = format!(
        "grant_type=authorization_code&code={}&redirect_uri={}&code_verifier={VERIFIER}",
        form(code),
        form(REDIRECT)
    );
    if let Some(id) = public {
        body.push_str(&format!("&client_id={}", form(id)));
    }
    body
}

impl TestServer {
    /// POSTs a form to `path` with `authorization`; the status and the
    /// JSON body (`Null` when it is empty).
    pub(crate) async fn post_form(
        &self,
        path: &str,
        body: &str,
        authorization: Option<&str>,
    ) -> (u16, Value) {
        let mut req = self
            .http
            .post(self.url(path))
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(body.to_owned());
        if let Some(a) = authorization {
            req = req.header("Authorization", a);
        }
        let r = req.send().await.unwrap();
        let status = r.status().as_u16();
        let text = r.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    /// `web`'s token request with its secret.
    pub(crate) async fn as_web(&self, body: &str) -> (u16, Value) {
        self.post_form("/connect/token", body, Some(&basic("web", "secret")))
            .await
    }

    /// Whether `token` is active for the API.
    pub(crate) async fn active(&self, token: &str) -> bool {
        let (status, body) = self
            .post_form(
                "/connect/introspect",
                &format!("token={}", form(token)),
                Some(&basic(API, "secret")),
            )
            .await;
        assert_eq!(status, 200, "{body}");
        body["active"] == true
    }
}
