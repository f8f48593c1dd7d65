//! A load generator for people's grants, which wrk cannot make (each
//! request needs what the one before it returned): `bench/run.sh` runs it
//! for the authorization code and refresh-token rows. Each of
//! `--connections` workers signs the person in once through tollgate's
//! sign-in form (a browser's session cookie), then for `--duration`:
//!
//! - `--mode code`: asks `/connect/authorize` for a code with the session
//!   (a redirect with the code), and redeems it at `/connect/token` with
//!   its PKCE verifier. One "request" is that pair: a token for a person,
//!   the way a web app gets one.
//! - `--mode refresh`: redeems one code, then rotates the refresh token
//!   again and again (`grant_type=refresh_token`, a new one each time).
//!
//! Prints the WRKJSON line wrk's scripts print, so `bench/summarize.py`
//! reads both alike. Not a sample.
//!
//! ```sh
//! cargo run --release --example people_load -- http://127.0.0.1:5001 --mode code
//! ```

use std::collections::HashMap;
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use clap::Parser;

#[derive(Parser)]
struct Args {
    /// The issuer.
    url: String,
    #[arg(long, default_value = "code")]
    mode: String,
    #[arg(long, default_value = "web")]
    client_id: String,
    #[arg(long, default_value = "secret")]
    client_secret: String,
    #[arg(long, default_value = "alice")]
    username: String,
    #[arg(long, default_value = "alice")]
    password: String,
    #[arg(long, default_value = "http://localhost:5002/signin-oidc")]
    redirect_uri: String,
    #[arg(long, default_value = "openid profile email api1 offline_access")]
    scope: String,
    #[arg(long, default_value_t = 16)]
    connections: usize,
    /// Seconds.
    #[arg(long, default_value_t = 10)]
    duration: u64,
}

/// A browser's cookies, by name.
#[derive(Default)]
struct Jar(HashMap<String, String>);

impl Jar {
    fn take(&mut self, response: &reqwest::Response) {
        for value in response.headers().get_all("set-cookie") {
            let Ok(line) = value.to_str() else { continue };
            let pair = line.split(';').next().unwrap_or("");
            if let Some((name, value)) = pair.split_once('=') {
                self.0.insert(name.trim().to_owned(), value.to_owned());
            }
        }
    }

    fn header(&self) -> String {
        self.0
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }
}

/// The value of `name="…"` in one tag.
fn attribute<'a>(tag: &'a str, name: &str) -> Option<&'a str> {
    let at = tag.find(&format!(" {name}=\""))? + name.len() + 3;
    let end = tag[at..].find('"')?;
    Some(&tag[at..at + end])
}

/// The first form of a page: its action and its fields.
fn form(html: &str) -> Option<(String, Vec<(String, String)>)> {
    let start = html.find("<form")?;
    let end = html[start..].find("</form>")? + start;
    let form = &html[start..end];
    let action = attribute(&form[..form.find('>')?], "action")?.replace("&amp;", "&");
    let mut fields = Vec::new();
    for piece in form.split("<input").skip(1) {
        let tag = &piece[..piece.find('>').unwrap_or(piece.len())];
        if let Some(name) = attribute(tag, "name") {
            let value = attribute(tag, "value").unwrap_or("").replace("&amp;", "&");
            fields.push((name.to_owned(), value));
        }
    }
    Some((action, fields))
}

struct Flow {
    http: reqwest::Client,
    base: String,
    args: Args,
}

impl Flow {
    /// A fresh PKCE verifier and the authorization URL that goes with it.
    fn authorize_url(&self) -> (String, String) {
        let mut bytes = [0u8; 32];
        aws_lc_rs::rand::fill(&mut bytes).expect("system random source");
        let verifier = B64.encode(bytes);
        let challenge = B64.encode(tollgate_jose::digest::sha256(verifier.as_bytes()));
        let query = form_urlencoded::Serializer::new(String::new())
            .append_pair("response_type", "code")
            .append_pair("client_id", &self.args.client_id)
            .append_pair("redirect_uri", &self.args.redirect_uri)
            .append_pair("scope", &self.args.scope)
            .append_pair("state", "bench")
            .append_pair("code_challenge", &challenge)
            .append_pair("code_challenge_method", "S256")
            .finish();
        (format!("{}/connect/authorize?{query}", self.base), verifier)
    }

    /// Signs in through the form once: the session cookie is in `jar`.
    async fn sign_in(&self, jar: &mut Jar) -> Result<(), String> {
        let (url, _) = self.authorize_url();
        let page = self
            .http
            .get(&url)
            .send()
            .await
            .map_err(|e| e.to_string())?;
        jar.take(&page);
        let html = page.text().await.map_err(|e| e.to_string())?;
        let (action, mut fields) = form(&html).ok_or("no sign-in form")?;
        for (name, value) in &mut fields {
            match name.as_str() {
                "username" => value.clone_from(&self.args.username),
                "password" => value.clone_from(&self.args.password),
                _ => {}
            }
        }
        let action = if action.starts_with("http") {
            action
        } else {
            format!("{}{action}", self.base)
        };
        let posted = self
            .http
            .post(action)
            .header("cookie", jar.header())
            .form(&fields)
            .send()
            .await
            .map_err(|e| e.to_string())?;
        jar.take(&posted);
        if !posted.status().is_redirection() {
            return Err(format!("sign-in answered {}", posted.status()));
        }
        Ok(())
    }

    /// A code for the signed-in person, and its verifier.
    async fn code(&self, jar: &Jar) -> Result<(String, String), String> {
        let (url, verifier) = self.authorize_url();
        let answer = self
            .http
            .get(&url)
            .header("cookie", jar.header())
            .send()
            .await
            .map_err(|e| e.to_string())?;
        let location = answer
            .headers()
            .get("location")
            .and_then(|l| l.to_str().ok())
            .ok_or_else(|| format!("authorize answered {} without a redirect", answer.status()))?;
        let query = location.split_once('?').map_or("", |(_, q)| q);
        let code = form_urlencoded::parse(query.as_bytes())
            .find(|(k, _)| k == "code")
            .map(|(_, v)| v.into_owned())
            .ok_or_else(|| format!("no code in {location}"))?;
        Ok((code, verifier))
    }

    async fn token(&self, form: &[(&str, &str)]) -> Result<serde_json::Value, String> {
        let answer = self
            .http
            .post(format!("{}/connect/token", self.base))
            .basic_auth(&self.args.client_id, Some(&self.args.client_secret))
            .form(form)
            .send()
            .await
            .map_err(|e| e.to_string())?;
        if !answer.status().is_success() {
            return Err(format!(
                "token endpoint answered {}: {}",
                answer.status(),
                answer.text().await.unwrap_or_default()
            ));
        }
        answer.json().await.map_err(|e| e.to_string())
    }

    async fn redeem(&self, jar: &Jar) -> Result<serde_json::Value, String> {
        let (code, verifier) = self.code(jar).await?;
        self.token(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", &self.args.redirect_uri),
            ("code_verifier", &verifier),
        ])
        .await
    }
}

#[tokio::main]
async fn main() {
    let args = Args::parse();
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("an HTTP client");
    let base = args.url.trim_end_matches('/').to_owned();
    let refresh = match args.mode.as_str() {
        "code" => false,
        "refresh" => true,
        other => panic!("--mode code or refresh, not {other}"),
    };
    let connections = args.connections;
    let duration = Duration::from_secs(args.duration);
    let flow = std::sync::Arc::new(Flow { http, base, args });
    let mut sessions = Vec::new();
    for _ in 0..connections {
        let mut jar = Jar::default();
        flow.sign_in(&mut jar)
            .await
            .unwrap_or_else(|e| panic!("sign-in: {e}"));
        sessions.push(jar);
    }
    let until = Instant::now() + duration;
    let started = Instant::now();
    let workers: Vec<_> = sessions
        .into_iter()
        .map(|jar| {
            let flow = flow.clone();
            tokio::spawn(async move {
                let (mut latencies, mut non2xx, mut errors) = (Vec::new(), 0u64, 0u64);
                let mut refresh_token = None::<String>;
                while Instant::now() < until {
                    let sent = Instant::now();
                    let result = match (&refresh_token, refresh) {
                        (Some(token), true) => {
                            flow.token(&[("grant_type", "refresh_token"), ("refresh_token", token)])
                                .await
                        }
                        _ => flow.redeem(&jar).await,
                    };
                    match result {
                        Ok(answer) => {
                            refresh_token = answer["refresh_token"].as_str().map(str::to_owned);
                            latencies.push(sent.elapsed().as_micros() as u64);
                        }
                        Err(e) => {
                            if errors + non2xx == 0 {
                                eprintln!("error: {e}");
                            }
                            if e.contains("answered") {
                                non2xx += 1;
                            } else {
                                errors += 1;
                            }
                        }
                    }
                }
                (latencies, non2xx, errors)
            })
        })
        .collect();
    let (mut latencies, mut non2xx, mut errors) = (Vec::new(), 0, 0);
    for worker in workers {
        let (l, n, e) = worker.await.expect("a worker");
        latencies.extend(l);
        non2xx += n;
        errors += e;
    }
    let seconds = started.elapsed().as_secs_f64();
    latencies.sort_unstable();
    let at = |q: f64| {
        latencies
            .get(((latencies.len() as f64 * q) as usize).min(latencies.len().saturating_sub(1)))
            .copied()
            .unwrap_or(0)
    };
    let requests = latencies.len() as u64 + non2xx;
    println!(
        "WRKJSON {{\"requests\":{requests},\"rps\":{:.1},\"non2xx\":{non2xx},\"socket_errors\":{errors},\"lat_p50_us\":{},\"lat_p99_us\":{}}}",
        latencies.len() as f64 / seconds,
        at(0.50),
        at(0.99)
    );
}
