//! The quickstart's web app: a person signs in at tollgate with the
//! authorization code flow (PKCE, `state`, `nonce`), sees the claims of
//! her id token, calls the sample API with her access token, and signs
//! out (RP-Initiated Logout). The relying party is the `openidconnect`
//! crate, unmodified: it reads discovery, sends the code with the PKCE
//! verifier, and verifies the id token (signature by the JWKS, `iss`,
//! `aud`, `exp`, `nonce`, `at_hash`).
//!
//! `cargo run --example webapp -- [--authority URL] [--listen ADDR]
//!  [--client-id ID] [--client-secret SECRET] [--api URL]`
//!
//! Visit it at `http://localhost:5002` (the host of its redirect URI, so
//! the browser's cookie for this app comes back to the callback). The
//! app's own session (what it learned at sign-in) is kept in memory,
//! under a random cookie: a sample, not a pattern for replicas.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use clap::Parser;
use openidconnect::core::{CoreClient, CoreIdToken, CoreResponseType};
use openidconnect::{
    AccessTokenHash, AuthenticationFlow, AuthorizationCode, ClientId, ClientSecret, CsrfToken,
    EndSessionUrl, IssuerUrl, LogoutRequest, Nonce, OAuth2TokenResponse, PkceCodeChallenge,
    PkceCodeVerifier, PostLogoutRedirectUrl, ProviderMetadataWithLogout, RedirectUrl, Scope,
    TokenResponse,
};
use poem::http::StatusCode;
use poem::web::cookie::{Cookie, CookieJar, SameSite};
use poem::web::{Data, Html, Query, Redirect};
use poem::{EndpointExt, IntoResponse, Response, Route, get, handler};
use serde::Deserialize;

#[derive(Parser)]
#[command(about = "Sample web app: signs a person in at tollgate and calls the API for her")]
struct Args {
    /// The identity server.
    #[arg(long, default_value = "http://localhost:5001")]
    authority: String,
    /// Where this app listens; it is visited at http://localhost:PORT.
    #[arg(long, default_value = "127.0.0.1:5002")]
    listen: String,
    #[arg(long, default_value = "web")]
    client_id: String,
    #[arg(long, default_value = "secret")]
    client_secret: String,
    /// The sample API, called with the person's access token.
    #[arg(long, default_value = "http://localhost:6001/identity")]
    api: String,
}

/// What discovery says, with RP-Initiated Logout's `end_session_endpoint`.
type Metadata = ProviderMetadataWithLogout;

/// One browser's sign-in: in progress, or done.
#[derive(Default)]
struct Visit {
    /// Between `/secure` and the callback.
    pending: Option<Pending>,
    signed_in: Option<SignedIn>,
}

struct Pending {
    state: String,
    nonce: Nonce,
    verifier: PkceCodeVerifier,
}

struct SignedIn {
    /// The id token's claims, as JSON, for the page.
    claims: serde_json::Map<String, serde_json::Value>,
    id_token: String,
    access_token: String,
    refresh_token: Option<String>,
}

struct App {
    metadata: Metadata,
    client_id: ClientId,
    client_secret: ClientSecret,
    /// `http://localhost:PORT`: what the browser sees.
    base: String,
    api: String,
    http: reqwest::Client,
    visits: Mutex<HashMap<String, Visit>>,
}

const COOKIE: &str = "webapp_visit";

impl App {
    fn client(
        &self,
    ) -> openidconnect::core::CoreClient<
        openidconnect::EndpointSet,
        openidconnect::EndpointNotSet,
        openidconnect::EndpointNotSet,
        openidconnect::EndpointNotSet,
        openidconnect::EndpointMaybeSet,
        openidconnect::EndpointMaybeSet,
    > {
        CoreClient::from_provider_metadata(
            self.metadata.clone(),
            self.client_id.clone(),
            Some(self.client_secret.clone()),
        )
        .set_redirect_uri(RedirectUrl::new(format!("{}/signin-oidc", self.base)).expect("a URL"))
    }

    /// The browser's visit id, made (and set as a cookie) if it has none.
    fn visit_id(&self, jar: &CookieJar) -> String {
        if let Some(c) = jar.get(COOKIE) {
            return c.value_str().to_owned();
        }
        let id = CsrfToken::new_random().secret().clone();
        let mut cookie = Cookie::new_with_str(COOKIE, &id);
        cookie.set_http_only(true);
        cookie.set_same_site(SameSite::Lax);
        cookie.set_path("/");
        jar.add(cookie);
        id
    }
}

/// The requests this app sends, through reqwest (never following
/// redirects, as the OAuth libraries expect).
async fn send(
    http: &reqwest::Client,
    request: openidconnect::HttpRequest,
) -> Result<openidconnect::HttpResponse, reqwest::Error> {
    let (parts, body) = request.into_parts();
    let response = http
        .request(parts.method, parts.uri.to_string())
        .headers(parts.headers)
        .body(body)
        .send()
        .await?;
    let mut out = openidconnect::http::Response::builder().status(response.status());
    for (name, value) in response.headers() {
        out = out.header(name, value);
    }
    let body = response.bytes().await?.to_vec();
    Ok(out.body(body).expect("a response"))
}

fn page(title: &str, body: &str) -> Html<String> {
    Html(format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title} · tollgate web sample</title>\
         <style>body{{font:16px/1.5 system-ui,sans-serif;max-width:48rem;margin:2rem auto;padding:0 1rem;color:#1b1b1b}}\
         nav a{{margin-right:1rem}}table{{border-collapse:collapse}}td,th{{border:1px solid #ccc;padding:.25rem .5rem;text-align:left;vertical-align:top}}\
         pre{{background:#f4f4f4;padding:1rem;overflow:auto}}</style></head><body>\
         <nav><a href=\"/\">Home</a><a href=\"/secure\">Secure</a><a href=\"/call-api\">Call API</a><a href=\"/signout\">Sign out</a></nav>\
         <main><h1>{title}</h1>{body}</main></body></html>",
        title = escape(title),
    ))
}

/// HTML text: the claims come from the identity server, not from us.
fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

#[handler]
fn home(app: Data<&Arc<App>>, jar: &CookieJar) -> Html<String> {
    let id = app.visit_id(jar);
    let visits = app.visits.lock().expect("not poisoned");
    let who = visits
        .get(&id)
        .and_then(|v| v.signed_in.as_ref())
        .and_then(|s| s.claims.get("sub"))
        .and_then(|s| s.as_str())
        .map(|s| format!("<p>Signed in as <strong>{}</strong>.</p>", escape(s)))
        .unwrap_or_else(|| "<p>Not signed in. <a href=\"/secure\">Sign in</a>.</p>".into());
    page("Home", &who)
}

#[handler]
fn secure(app: Data<&Arc<App>>, jar: &CookieJar) -> Response {
    let id = app.visit_id(jar);
    let mut visits = app.visits.lock().expect("not poisoned");
    let visit = visits.entry(id).or_default();
    if let Some(signed_in) = &visit.signed_in {
        let rows: String = signed_in
            .claims
            .iter()
            .map(|(k, v)| {
                let v = match v {
                    serde_json::Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                format!("<tr><th>{}</th><td>{}</td></tr>", escape(k), escape(&v))
            })
            .collect();
        let refresh = if signed_in.refresh_token.is_some() {
            "<p>A refresh token was issued (offline_access).</p>"
        } else {
            ""
        };
        return page(
            "Secure",
            &format!(
                "<p>The claims of your id token:</p><table><tbody>{rows}</tbody></table>{refresh}"
            ),
        )
        .into_response();
    }
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (url, state, nonce) = app
        .client()
        .authorize_url(
            AuthenticationFlow::<CoreResponseType>::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .add_scope(Scope::new("profile".into()))
        .add_scope(Scope::new("email".into()))
        .add_scope(Scope::new("api1".into()))
        .add_scope(Scope::new("offline_access".into()))
        .set_pkce_challenge(challenge)
        .url();
    visit.pending = Some(Pending {
        state: state.secret().clone(),
        nonce,
        verifier,
    });
    Redirect::see_other(url.as_str()).into_response()
}

#[derive(Deserialize)]
struct Callback {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
    iss: Option<String>,
}

fn failure(status: StatusCode, why: &str) -> Response {
    let mut response = page("Sign-in failed", &format!("<p>{}</p>", escape(why))).into_response();
    response.set_status(status);
    response
}

#[handler]
async fn callback(app: Data<&Arc<App>>, jar: &CookieJar, query: Query<Callback>) -> Response {
    let id = app.visit_id(jar);
    let pending = {
        let mut visits = app.visits.lock().expect("not poisoned");
        visits.get_mut(&id).and_then(|v| v.pending.take())
    };
    let Some(pending) = pending else {
        return failure(StatusCode::BAD_REQUEST, "no sign-in was in progress");
    };
    if query.state.as_deref() != Some(pending.state.as_str()) {
        return failure(StatusCode::BAD_REQUEST, "the state does not match");
    }
    // RFC 9207: the answer names the server it came from.
    if query.iss.as_deref() != Some(app.metadata.issuer().as_str()) {
        return failure(StatusCode::BAD_REQUEST, "the response names another issuer");
    }
    if let Some(error) = &query.error {
        let why = query.error_description.as_deref().unwrap_or("");
        return failure(StatusCode::FORBIDDEN, &format!("{error}: {why}"));
    }
    let Some(code) = &query.code else {
        return failure(StatusCode::BAD_REQUEST, "no code in the response");
    };
    let client = app.client();
    let owned = app.http.clone();
    let http = move |r| {
        let owned = owned.clone();
        async move { send(&owned, r).await }
    };
    let exchange = match client.exchange_code(AuthorizationCode::new(code.clone())) {
        Ok(e) => e,
        Err(e) => return failure(StatusCode::BAD_GATEWAY, &e.to_string()),
    };
    let tokens = match exchange
        .set_pkce_verifier(pending.verifier)
        .request_async(&http)
        .await
    {
        Ok(t) => t,
        Err(e) => {
            return failure(
                StatusCode::BAD_GATEWAY,
                &format!("the token request failed: {e}"),
            );
        }
    };
    let Some(id_token) = tokens.id_token() else {
        return failure(StatusCode::BAD_GATEWAY, "no id token in the answer");
    };
    let verifier = client.id_token_verifier();
    let claims = match id_token.claims(&verifier, &pending.nonce) {
        Ok(c) => c,
        Err(e) => {
            return failure(
                StatusCode::BAD_GATEWAY,
                &format!("the id token is not valid: {e}"),
            );
        }
    };
    // OpenID Connect Core §3.1.3.8: at_hash binds the access token.
    if let Some(expected) = claims.access_token_hash() {
        let signing = (id_token.signing_alg(), id_token.signing_key(&verifier));
        let (Ok(alg), Ok(key)) = signing else {
            return failure(StatusCode::BAD_GATEWAY, "the id token's key is unknown");
        };
        match AccessTokenHash::from_token(tokens.access_token(), alg, key) {
            Ok(actual) if actual == *expected => {}
            _ => return failure(StatusCode::BAD_GATEWAY, "at_hash does not match"),
        }
    }
    let claims = match serde_json::to_value(claims) {
        Ok(serde_json::Value::Object(map)) => map,
        _ => return failure(StatusCode::BAD_GATEWAY, "the id token's claims"),
    };
    let signed_in = SignedIn {
        claims,
        id_token: id_token.to_string(),
        access_token: tokens.access_token().secret().clone(),
        refresh_token: tokens.refresh_token().map(|t| t.secret().clone()),
    };
    app.visits
        .lock()
        .expect("not poisoned")
        .entry(id)
        .or_default()
        .signed_in = Some(signed_in);
    Redirect::see_other("/secure").into_response()
}

#[handler]
async fn call_api(app: Data<&Arc<App>>, jar: &CookieJar) -> Response {
    let id = app.visit_id(jar);
    let token = {
        let visits = app.visits.lock().expect("not poisoned");
        visits
            .get(&id)
            .and_then(|v| v.signed_in.as_ref())
            .map(|s| s.access_token.clone())
    };
    let Some(token) = token else {
        return Redirect::see_other("/secure").into_response();
    };
    let answer = app.http.get(&app.api).bearer_auth(token).send().await;
    let (status, body) = match answer {
        Ok(r) => (r.status(), r.text().await.unwrap_or_default()),
        Err(e) => {
            return failure(
                StatusCode::BAD_GATEWAY,
                &format!("the API at {} did not answer: {e}", app.api),
            );
        }
    };
    let shown = serde_json::from_str::<serde_json::Value>(&body)
        .and_then(|v| serde_json::to_string_pretty(&v))
        .unwrap_or(body);
    page(
        "API response",
        &format!(
            "<p>{} answered {}:</p><pre>{}</pre>",
            escape(&app.api),
            status.as_u16(),
            escape(&shown)
        ),
    )
    .into_response()
}

#[handler]
fn signout(app: Data<&Arc<App>>, jar: &CookieJar) -> Response {
    let id = app.visit_id(jar);
    let signed_in = app
        .visits
        .lock()
        .expect("not poisoned")
        .remove(&id)
        .and_then(|v| v.signed_in);
    let Some(end_session) = app
        .metadata
        .additional_metadata()
        .end_session_endpoint
        .clone()
    else {
        return Redirect::see_other("/").into_response();
    };
    let mut logout = LogoutRequest::from(EndSessionUrl::from_url(end_session.url().clone()))
        .set_client_id(app.client_id.clone())
        .set_post_logout_redirect_uri(
            PostLogoutRedirectUrl::new(format!("{}/", app.base)).expect("a URL"),
        );
    if let Some(signed_in) = signed_in
        && let Ok(hint) = signed_in.id_token.parse::<CoreIdToken>()
    {
        logout = logout.set_id_token_hint(&hint);
    }
    Redirect::see_other(logout.http_get_url().as_str()).into_response()
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let args = Args::parse();
    let http = match reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
    {
        Ok(h) => h,
        Err(e) => {
            eprintln!("error: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let issuer = match IssuerUrl::new(args.authority.trim_end_matches('/').to_owned()) {
        Ok(i) => i,
        Err(e) => {
            eprintln!("error: --authority {}: {e}", args.authority);
            return std::process::ExitCode::FAILURE;
        }
    };
    let metadata = match Metadata::discover_async(issuer, &|r| send(&http, r)).await {
        Ok(m) => m,
        Err(e) => {
            eprintln!(
                "error: cannot read the discovery document of {}: {e}",
                args.authority
            );
            return std::process::ExitCode::FAILURE;
        }
    };
    let listener = match tokio::net::TcpListener::bind(&args.listen).await {
        Ok(l) => l,
        Err(e) => {
            eprintln!("error: cannot listen on {}: {e}", args.listen);
            return std::process::ExitCode::FAILURE;
        }
    };
    let port = listener.local_addr().map(|a| a.port()).unwrap_or(5002);
    let base = format!("http://localhost:{port}");
    let app = Arc::new(App {
        metadata,
        client_id: ClientId::new(args.client_id),
        client_secret: ClientSecret::new(args.client_secret),
        base: base.clone(),
        api: args.api,
        http,
        visits: Mutex::new(HashMap::new()),
    });
    let routes = Route::new()
        .at("/", get(home))
        .at("/secure", get(secure))
        .at("/signin-oidc", get(callback))
        .at("/call-api", get(call_api))
        .at("/signout", get(signout))
        .data(app)
        .with(poem::middleware::CookieJarManager::new());
    eprintln!("web app listening on {base} (sign in at {base}/secure)");
    let acceptor = match poem::listener::TcpAcceptor::from_tokio(listener) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("error: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match poem::Server::new_with_acceptor(acceptor).run(routes).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
