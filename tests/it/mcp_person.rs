//! rmcp's own authorization code client for a person
//! (examples/mcp_person.rs, a process), against the sample MCP server and
//! tollgate: the client prints the sign-in address and waits on a
//! loopback port it picked; her browser (a cookie-keeping HTTP client
//! here) signs in and follows tollgate's redirect to that port. `whoami`
//! answers her `sub`; the admin tool's 403 names the scope it needs; the
//! client sends her back for it, and her session at tollgate answers at
//! once: no second sign-in.

use std::process::Stdio;
use std::sync::{Arc, Mutex, mpsc};
use std::time::Duration;

use crate::mcp::setup;
use crate::support::{Proc, example};

const DEADLINE: Duration = Duration::from_secs(60);

/// The client's stderr, a line at a time, read on a thread of its own.
struct Printed {
    lines: Arc<Mutex<mpsc::Receiver<String>>>,
}

impl Printed {
    fn of(stderr: std::process::ChildStderr) -> Self {
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let lines = std::io::BufRead::lines(std::io::BufReader::new(stderr));
            for line in lines.map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        Self {
            lines: Arc::new(Mutex::new(rx)),
        }
    }

    /// The next address the client shows her.
    async fn address_shown(&self) -> String {
        let lines = self.lines.clone();
        tokio::task::spawn_blocking(move || {
            let marker = "Open this address in your browser to sign in: ";
            let lines = lines.lock().unwrap();
            let deadline = std::time::Instant::now() + DEADLINE;
            let mut seen = Vec::new();
            loop {
                let left = deadline.saturating_duration_since(std::time::Instant::now());
                match lines.recv_timeout(left) {
                    Ok(line) => match line.strip_prefix(marker) {
                        Some(url) => return url.to_owned(),
                        None => seen.push(line),
                    },
                    Err(_) => panic!("no sign-in address shown; the client printed: {seen:#?}"),
                }
            }
        })
        .await
        .unwrap()
    }
}

/// The value of the hidden field `name` of a page's form.
fn field(html: &str, name: &str) -> String {
    let marker = format!(r#"name="{name}" value=""#);
    let at = html.find(&marker).expect("the field") + marker.len();
    html[at..].split('"').next().unwrap().replace("&amp;", "&")
}

/// Where a redirect answer sends the browser.
fn location(r: &reqwest::Response) -> String {
    assert!(r.status().is_redirection(), "not a redirect: {r:?}");
    r.headers()["location"].to_str().unwrap().to_owned()
}

#[tokio::test]
async fn rmcps_code_flow_client_signs_a_person_in_and_steps_up_for_the_admin_tool() {
    let s = setup().await;
    let mut child = std::process::Command::new(example("mcp_person"))
        .args(["--server", &s.resource, "--client-id", "ide", "--admin"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let printed = Printed::of(child.stderr.take().unwrap());
    // Killed if the test fails first: it would wait for a browser forever.
    let mut child = Proc(child);
    let browser = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();

    // The first time: the sign-in page, her password, back to the client.
    let url = printed.address_shown().await;
    let query: Vec<(String, String)> = url::Url::parse(&url)
        .unwrap()
        .query_pairs()
        .into_owned()
        .collect();
    let param = |name: &str| {
        query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    };
    assert_eq!(param("client_id").as_deref(), Some("ide"));
    assert_eq!(param("code_challenge_method").as_deref(), Some("S256"));
    assert_eq!(param("resource"), Some(s.resource.clone()), "RFC 8707");
    let page = browser.get(&url).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let pending = field(&page.text().await.unwrap(), "pending");
    let signed_in = browser
        .post(s.server.url("/connect/authorize/signin"))
        .form(&[
            ("pending", pending.as_str()),
            ("username", "alice"),
            ("password", "alice"),
        ])
        .send()
        .await
        .unwrap();
    let back = location(&signed_in);
    assert!(
        back.starts_with("http://127.0.0.1:") && back.contains("/callback?"),
        "to the client's loopback port: {back}"
    );
    let iss = url::Url::parse(&back)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "iss")
        .map(|(_, v)| v.into_owned());
    assert_eq!(iss, Some(s.server.issuer()), "RFC 9207");
    let closed = browser.get(&back).send().await.unwrap();
    assert_eq!(closed.status(), 200);

    // Step-up: the challenge's scope added; her session answers at once.
    let url = printed.address_shown().await;
    let scope = url::Url::parse(&url)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "scope")
        .map(|(_, v)| v.into_owned())
        .unwrap();
    assert!(
        scope.split(' ').any(|s| s == "mcp:admin") && scope.split(' ').any(|s| s == "mcp:tools"),
        "{scope}"
    );
    let again = browser.get(&url).send().await.unwrap();
    let back = location(&again);
    assert!(
        back.contains("/callback?code="),
        "no page, the code: {back}"
    );
    browser.get(&back).send().await.unwrap();

    let finished = crate::support::eventually(DEADLINE, "the client finishes", || {
        std::future::ready(child.0.try_wait().unwrap().map(|_| ()))
    });
    finished.await;
    let mut stdout = String::new();
    std::io::Read::read_to_string(child.0.stdout.as_mut().unwrap(), &mut stdout).unwrap();
    let status = child.0.wait().unwrap();
    println!("{stdout}");
    assert!(status.success(), "{stdout}");
    assert!(stdout.contains("whoami: alice\n"), "{stdout}");
    assert!(stdout.contains("admin_stats: {"), "{stdout}");
    let granted = stdout
        .lines()
        .find_map(|l| l.strip_prefix("scopes: "))
        .unwrap();
    assert!(granted.split(' ').any(|s| s == "mcp:admin"), "{stdout}");
}
