//! Sign-in through an upstream provider against a real OpenID provider
//! nobody here wrote: node-oidc-provider on loopback (tests/upstream,
//! run with node), its development sign-in and consent pages driven by
//! HTTP with a cookie-keeping client. Admitted (the consent page names
//! `corp|alice`, then a code with `state` and `iss`), refused by the
//! email domain and by a claim condition (tollgate's page naming the
//! rule, no code), the provider down (a page with a retry link, the
//! reason in `/healthz`), and its keys rotated (a sign-in after a restart
//! with a new key still works: the unknown `kid` refetches the keys).

use std::path::PathBuf;
use std::process::Command;
use std::sync::Arc;

use tollgate_jose::clock::ManualClock;

use crate::support::{Proc, TestServer, start, start_process};

const CB: &str = "http://localhost:5002/signin-oidc";
/// The client's PKCE verifier (RFC 7636), and its S256 challenge.
const VERIFIER: &str = "dBjftJeZ4CVP-mJ92K9xGtbkgsegutpXQlyTO0Czk5M";
const CHALLENGE: &str = "nMwaK9ksfpJeF6qBTnt6E6K7E9hriC-s2Y3yUO5mJSg";

/// The provider's folder (tests/upstream), or `None` (and a note) where
/// node or oidc-provider (`npm ci` there) is missing, unless
/// `REQUIRE_UPSTREAM_FOR_TESTS` says they must be there (CI installs
/// them).
fn provider_dir() -> Option<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/upstream");
    let node = Command::new("node").arg("--version").output();
    let installed = dir.join("node_modules/oidc-provider/package.json");
    let missing = match node {
        Err(e) => Some(format!("node is not installed ({e})")),
        Ok(_) if !installed.exists() => Some("run `npm ci` in tests/upstream".to_owned()),
        Ok(_) => None,
    };
    match missing {
        None => Some(dir),
        Some(why) => {
            assert!(
                std::env::var_os("REQUIRE_UPSTREAM_FOR_TESTS").is_none(),
                "node-oidc-provider is required here: {why}"
            );
            eprintln!("note: the upstream provider test is skipped: {why}");
            None
        }
    }
}

/// A loopback port nothing listens on now.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The provider on `port`, sending back to `callback`, signing with a
/// new key named `kid`.
async fn provider(dir: &std::path::Path, port: u16, callback: &str, kid: &str) -> Proc {
    let script = dir.join("provider.mjs");
    let port = port.to_string();
    let args = [script.to_str().unwrap(), &port, callback, kid];
    let (proc, _) = start_process(
        std::path::Path::new("node"),
        &args,
        "provider listening on ",
    )
    .await;
    proc
}

/// Two providers on the one issuer: `corp` admits verified corp.example
/// emails, `staff` those whose first group is `staff`; and `web`, a
/// client that asks for consent (the page names the person).
fn toml(port: u16) -> String {
    let provider = |name: &str, rule: &str| {
        format!(
            "[[login.providers]]\nname = \"{name}\"\ndisplay_name = \"Corp {name}\"\nissuer = \"http://127.0.0.1:{port}\"\nclient_id = \"tollgate\"\nclient_secret_file = \"corp.secret\"\nscopes = [\"openid\", \"email\", \"profile\", \"groups\"]\ngroups_claim = \"groups\"\n{rule}\n"
        )
    };
    format!(
        "[server]\nmanagement_listen = \"127.0.0.1:0\"\n[login]\ntitle = \"Acme sign-in\"\n{}{}\n[[clients]]\nclient_id = \"web\"\npublic = true\nallowed_grant_types = [\"authorization_code\"]\nredirect_uris = [\"{CB}\"]\nallowed_scopes = [\"openid\", \"profile\", \"email\"]\nrequire_consent = true\n",
        provider("corp", "allowed_email_domains = [\"corp.example\"]"),
        provider("staff", "claims = { \"/groups/0\" = \"staff\" }"),
    )
}

struct Setup {
    server: TestServer,
    clock: Arc<ManualClock>,
    dir: PathBuf,
    port: u16,
    /// The provider, while it runs.
    provider: Option<Proc>,
}

impl Setup {
    /// tollgate, and the provider when `running`.
    async fn start(running: bool) -> Option<Setup> {
        let dir = provider_dir()?;
        let port = free_port();
        let folder = tempfile::tempdir().unwrap();
        std::fs::write(folder.path().join("identity.toml"), toml(port)).unwrap();
        std::fs::write(folder.path().join("corp.secret"), "upstream-secret\n").unwrap();
        let clock = ManualClock::new(start());
        let server = TestServer::spawn_in_with_clock(folder, clock.clone()).await;
        let mut setup = Setup {
            server,
            clock,
            dir,
            port,
            provider: None,
        };
        if running {
            setup.restart("k1").await;
        }
        Some(setup)
    }

    fn callback(&self) -> String {
        self.server.url("/connect/authorize/upstream/callback")
    }

    /// The provider (re)started with a new key named `kid`.
    async fn restart(&mut self, kid: &str) {
        self.provider = None;
        let callback = self.callback();
        self.provider = Some(provider(&self.dir, self.port, &callback, kid).await);
    }
}

/// A browser: keeps cookies, shows redirects instead of following them.
fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

fn authorize_url(server: &TestServer) -> String {
    authorize_at(&server.url(""))
}

/// The authorization request of `web` at the tollgate whose root is
/// `base`.
fn authorize_at(base: &str) -> String {
    let query = form_urlencoded::Serializer::new(String::new())
        .extend_pairs([
            ("response_type", "code"),
            ("client_id", "web"),
            ("redirect_uri", CB),
            ("scope", "openid profile email"),
            ("state", "xyz"),
            ("code_challenge", CHALLENGE),
            ("code_challenge_method", "S256"),
        ])
        .finish();
    format!("{base}/connect/authorize?{query}")
}

fn location(r: &reqwest::Response, base: &str) -> String {
    let at = r.headers()["location"].to_str().unwrap();
    url::Url::parse(base).unwrap().join(at).unwrap().to_string()
}

/// The link of the sign-in page to provider `name`.
fn link(page: &str, name: &str) -> String {
    let needle = format!("href=\"/connect/authorize/upstream/{name}?");
    let at = page
        .find(&needle)
        .unwrap_or_else(|| panic!("no {name} link in {page}"))
        + 6;
    page[at..].split('"').next().unwrap().replace("&amp;", "&")
}

/// `login` signs in at the provider through `name`'s link: tollgate's
/// answer at the callback (or at the departure, when that fails).
async fn sign_in(
    setup: &Setup,
    browser: &reqwest::Client,
    name: &str,
    login: &str,
) -> reqwest::Response {
    sign_in_returning(setup, browser, name, login).await.0
}

/// [`sign_in`] at the tollgate whose root is `base`.
async fn sign_in_at(
    base: &str,
    browser: &reqwest::Client,
    name: &str,
    login: &str,
) -> (reqwest::Response, String) {
    let page = browser.get(authorize_at(base)).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let page = page.text().await.unwrap();
    let departure = format!("{base}{}", link(&page, name));
    let r = browser.get(&departure).send().await.unwrap();
    if !r.status().is_redirection() {
        return (r, String::new());
    }
    let mut url = location(&r, &departure);
    let callback = format!("{base}/connect/authorize/upstream/callback");
    for _ in 0..12 {
        if url.starts_with(&callback) {
            return (browser.get(&url).send().await.unwrap(), url);
        }
        let r = browser.get(&url).send().await.unwrap();
        if r.status().is_redirection() {
            url = location(&r, &url);
            continue;
        }
        // One of the provider's development pages: sign in, or consent.
        let html = r.text().await.unwrap();
        let at = html.find("action=\"").expect("a form at the provider") + 8;
        let action = html[at..].split('"').next().unwrap().to_owned();
        let action = url::Url::parse(&url)
            .unwrap()
            .join(&action)
            .unwrap()
            .to_string();
        let form: Vec<(&str, &str)> = if html.contains("value=\"login\"") {
            vec![("prompt", "login"), ("login", login), ("password", "any")]
        } else {
            vec![("prompt", "consent")]
        };
        let r = browser.post(&action).form(&form).send().await.unwrap();
        assert!(
            r.status().is_redirection(),
            "{}: {}",
            r.status(),
            r.text().await.unwrap()
        );
        url = location(&r, &action);
    }
    panic!("the provider never sent the browser back");
}

/// [`sign_in`], and the callback URL the provider sent the browser to.
async fn sign_in_returning(
    setup: &Setup,
    browser: &reqwest::Client,
    name: &str,
    login: &str,
) -> (reqwest::Response, String) {
    sign_in_at(&setup.server.url(""), browser, name, login).await
}

fn query_of(location: &str) -> std::collections::HashMap<String, String> {
    url::Url::parse(location)
        .unwrap()
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

/// Alice of corp.example, admitted: the consent page names `corp|alice`,
/// Allow sends a code to the client with its state and our iss.
async fn admitted(setup: &Setup, browser: &reqwest::Client) {
    let r = sign_in(setup, browser, "corp", "alice").await;
    assert_eq!(r.status(), 200);
    let page = r.text().await.unwrap();
    assert!(page.contains("corp|alice"), "{page}");
    let at = page.find("name=\"pending\" value=\"").unwrap() + 22;
    let pending = page[at..].split('"').next().unwrap().to_owned();
    let r = browser
        .post(setup.server.url("/connect/authorize/consent"))
        .form(&[("pending", pending.as_str()), ("decision", "allow")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let to = location(&r, &setup.server.url("/"));
    assert!(to.starts_with(CB), "{to}");
    let q = query_of(&to);
    assert!(q.contains_key("code"), "{to}");
    assert_eq!(q["state"], "xyz");
    assert_eq!(q["iss"], setup.server.issuer());
    // The code redeemed: her id token and userinfo say who the provider
    // said she is, as copied at sign-in.
    let tokens: serde_json::Value = setup
        .server
        .http
        .post(setup.server.url("/connect/token"))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", q["code"].as_str()),
            ("redirect_uri", CB),
            ("client_id", "web"),
            ("code_verifier", VERIFIER),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id_token = tokens["id_token"]
        .as_str()
        .unwrap_or_else(|| panic!("{tokens}"));
    let payload = id_token.split('.').nth(1).unwrap();
    use base64::Engine;
    let claims: serde_json::Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .unwrap(),
    )
    .unwrap();
    assert_eq!(claims["sub"], "corp|alice");
    assert_eq!(claims["email"], "alice@corp.example");
    assert_eq!(claims["email_verified"], true);
    assert_eq!(claims["name"], "Alice Smith");
    let userinfo: serde_json::Value = setup
        .server
        .http
        .get(setup.server.url("/connect/userinfo"))
        .bearer_auth(tokens["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(userinfo["sub"], "corp|alice");
    assert_eq!(userinfo["email"], "alice@corp.example");
}

#[tokio::test]
async fn a_person_of_the_allowed_domain_signs_in_as_provider_bar_sub() {
    let Some(setup) = Setup::start(true).await else {
        return;
    };
    let browser = browser();
    admitted(&setup, &browser).await;
    // Her session at tollgate: the next request needs no provider.
    let r = browser
        .get(authorize_url(&setup.server))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303, "signed in already");
    assert!(location(&r, &setup.server.url("/")).starts_with(CB));
}

#[tokio::test]
async fn a_person_of_another_domain_or_unverified_is_refused_with_a_page_naming_the_rule() {
    let Some(setup) = Setup::start(true).await else {
        return;
    };
    for login in ["bob", "dave"] {
        let r = sign_in(&setup, &browser(), "corp", login).await;
        assert_eq!(r.status(), 403, "{login}");
        assert!(r.headers().get("location").is_none());
        let page = r.text().await.unwrap();
        assert!(page.contains("allowed_email_domains"), "{page}");
        assert!(
            !page.contains("other.example"),
            "her claims are not shown: {page}"
        );
    }
}

#[tokio::test]
async fn a_person_a_claim_condition_does_not_hold_for_is_refused_and_one_it_holds_for_is_not() {
    let Some(setup) = Setup::start(true).await else {
        return;
    };
    let r = sign_in(&setup, &browser(), "staff", "carol").await;
    assert_eq!(r.status(), 403);
    let page = r.text().await.unwrap();
    assert!(page.contains("/groups/0"), "{page}");
    assert!(!page.contains("contractors"), "{page}");
    // Bob's first group is staff: the staff provider has no domain rule.
    let r = sign_in(&setup, &browser(), "staff", "bob").await;
    assert_eq!(r.status(), 200, "the consent page");
    assert!(r.text().await.unwrap().contains("staff|bob"));
}

#[tokio::test]
async fn a_provider_that_is_down_gets_a_page_with_a_retry_link_and_healthz_says_why() {
    let Some(setup) = Setup::start(false).await else {
        return;
    };
    let r = sign_in(&setup, &browser(), "corp", "alice").await;
    assert_eq!(r.status(), 503);
    let page = r.text().await.unwrap();
    assert!(
        page.contains("href=\"/connect/authorize/upstream/corp?pending="),
        "{page}"
    );
    let health: serde_json::Value = setup.server.get_json("/healthz").await;
    let corp = &health["providers"][0];
    assert_eq!(corp["name"], "corp");
    assert_eq!(corp["reachable"], false);
    // The public port says what failed; the provider's address and the
    // network's words are for the management listener.
    assert_eq!(corp["error"], "discovery", "{health}");
    // The other provider was not tried; people of the file are not hurt.
    assert_eq!(health["providers"][1]["reachable"], true);
    assert_eq!(health["status"], "ok");
    let management = setup.server.management.unwrap();
    let full: serde_json::Value = reqwest::get(format!("http://{management}/healthz"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let why = full["providers"][0]["error"].as_str().unwrap();
    assert!(why.starts_with("discovery: ") && why.len() > 12, "{full}");
    let metrics = reqwest::get(format!("http://{management}/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains(
            "tollgate_login_provider_failures_total{provider=\"corp\",reason=\"discovery\"} 1"
        ),
        "{metrics}"
    );
}

#[tokio::test]
async fn a_sign_in_after_the_provider_rotated_its_key_still_works() {
    let Some(mut setup) = Setup::start(true).await else {
        return;
    };
    admitted(&setup, &browser()).await;
    // A new key, and the old one gone: the id token's kid is unknown to
    // the keys in hand, which are fetched again (once the refetch
    // interval allows).
    setup.restart("k2").await;
    setup.clock.advance(time::Duration::seconds(11));
    admitted(&setup, &browser()).await;
}

#[tokio::test]
async fn a_return_from_the_provider_is_used_once_and_only_by_the_browser_that_left() {
    let Some(setup) = Setup::start(true).await else {
        return;
    };
    let browser = browser();
    let (r, callback) = sign_in_returning(&setup, &browser, "corp", "alice").await;
    assert_eq!(r.status(), 200, "the consent page");
    // The same answer again, in the same browser (its cookie is cleared)
    // or in another one (it has none): a page, nothing signed in.
    for other in [&browser, &self::browser()] {
        let again = other.get(&callback).send().await.unwrap();
        assert_eq!(again.status(), 400);
        assert!(again.text().await.unwrap().contains("no longer valid"));
    }
    // A state that is not the one sent, in a browser that left.
    let fresh = self::browser();
    let page = fresh
        .get(authorize_url(&setup.server))
        .send()
        .await
        .unwrap();
    let departure = setup.server.url(&link(&page.text().await.unwrap(), "corp"));
    let left = fresh.get(&departure).send().await.unwrap();
    assert_eq!(left.status(), 303);
    let forged = format!("{}?code=x&state=not-the-one", setup.callback());
    let r = fresh.get(&forged).send().await.unwrap();
    assert_eq!(r.status(), 400);
}

/// The server as a process, its log read: the reason a person was refused
/// is in the audit line (her email's domain), never on her page, and the
/// client secret (here from `client_secret_env`) in neither.
#[tokio::test]
async fn a_refused_person_s_reason_goes_to_the_audit_log_and_the_secret_nowhere() {
    let Some(dir) = provider_dir() else {
        return;
    };
    let port = free_port();
    let folder = tempfile::tempdir().unwrap();
    let config = folder.path().join("identity.toml");
    let file = toml(port).replace(
        "client_secret_file = \"corp.secret\"",
        "client_secret_env = \"CORP_SECRET\"",
    );
    std::fs::write(&config, file).unwrap();
    let mut server = crate::support::start_logged_with_env(
        &config,
        "info",
        &[],
        &[("CORP_SECRET", "upstream-secret")],
    )
    .await;
    let base = format!("http://{}", server.addr);
    let callback = format!("{base}/connect/authorize/upstream/callback");
    let _provider = provider(&dir, port, &callback, "k1").await;
    let (r, _) = sign_in_at(&base, &browser(), "corp", "bob").await;
    assert_eq!(r.status(), 403);
    let page = r.text().await.unwrap();
    assert!(!page.contains("other.example"), "{page}");
    server
        .logged("the email domain other.example is not allowed")
        .await;
    let (r, _) = sign_in_at(&base, &browser(), "corp", "alice").await;
    assert_eq!(r.status(), 200, "alice's consent page");
    server.logged("outcome=\"admitted\"").await;
    let log = server.stop();
    let refused = log
        .lines()
        .find(|l| l.contains("upstream sign-in") && l.contains("refused"))
        .unwrap_or_else(|| panic!("{log}"));
    assert!(refused.contains("corp|bob"), "{refused}");
    assert!(!log.contains("upstream-secret"), "{log}");
}
