//! The quickstart's and the delegation page's log lines and the sample
//! client's messages come from runs of the real binary: each test here
//! serves a page's file, runs what the page runs, and compares the lines
//! the page shows with its file under docs/src/generated/ (see
//! handbook.rs); the README's excerpts are checked against those files.
//! Times, request ids, key ids and `jti` are `…`; ports are the page's.

use crate::support::{example, start_logged_at, start_process};
use crate::support::{generated, root};

/// `name=value` in a log line with the value `…` (quoted or not).
/// Its first occurrence only.
pub(crate) fn field_shortened(line: &str, name: &str) -> String {
    // A field follows a space, or opens a span's fields (`request{id=`).
    let Some(at) = [' ', '{']
        .iter()
        .find_map(|before| line.find(&format!("{before}{name}=")))
    else {
        return line.to_owned();
    };
    let from = at + name.len() + 2;
    let rest = &line[from..];
    let (value_len, shown) = if let Some(quoted) = rest.strip_prefix('"') {
        (quoted.find('"').unwrap() + 2, "\"…\"")
    } else {
        (rest.find([' ', '}']).unwrap_or(rest.len()), "…")
    };
    format!("{}{shown}{}", &line[..from], &rest[value_len..])
}

/// A log line as a page shows it: its time and the `names` values `…`.
pub(crate) fn log_line(line: &str, names: &[&str]) -> String {
    let (_time, rest) = line.split_once(' ').unwrap();
    let mut line = format!("…{rest}");
    for name in names {
        line = field_shortened(&line, name);
    }
    line
}

/// A key file's name (its creation time) as `…`: `keys/….es256.pem`.
fn key_file_shortened(line: &str) -> String {
    let Some(at) = line.find("/keys/") else {
        return line.to_owned();
    };
    let from = at + "/keys/".len();
    let to = from + line[from..].find('.').unwrap();
    format!("{}…{}", &line[..from], &line[to..])
}

/// A free port on 127.0.0.1, for a file whose issuer must name the port
/// the server listens on (as the quickstart's does).
pub(crate) fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

/// The quickstart's steps 1, 4 and 5 run with the shipped file (its
/// issuer on a free port, shown as 5001): the server's start-up lines,
/// the audit line of the client's token, and what the client says for
/// each experiment of "Break it".
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_quickstart_page_shows_the_server_s_log_and_the_client_s_errors() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let shipped = std::fs::read_to_string(root().join("identity.toml")).unwrap();
    assert!(shipped.contains("issuer = \"http://localhost:5001\""));
    assert!(shipped.contains("listen = \"127.0.0.1:5001\""));
    let file = dir.path().join("identity.toml");
    std::fs::write(&file, shipped.replace(":5001", &format!(":{port}"))).unwrap();
    let listen = format!("127.0.0.1:{port}");
    let mut server = start_logged_at(&file, "info", &listen, &[], &[]).await;
    let authority = format!("http://localhost:{port}");
    let (_api, api) = start_process(
        &example("api"),
        &["--authority", &authority, "--listen", "127.0.0.1:0"],
        "API listening on ",
    )
    .await;
    let identity = format!("{api}/identity");
    let client = |extra: &[&str]| {
        let mut args = vec!["--authority", &authority, "--api", &identity];
        args.extend_from_slice(extra);
        std::process::Command::new(example("client"))
            .args(&args)
            .output()
            .unwrap()
    };
    let ok = client(&[]);
    assert_eq!(ok.status.code(), Some(0), "{ok:?}");
    // Its audit line may be written after the response: wait for it.
    server.logged("token issued").await;
    // One line on stderr, exit code 1.
    let says = |out: std::process::Output| {
        let err = String::from_utf8_lossy(&out.stderr).into_owned();
        assert_eq!(out.status.code(), Some(1), "{err}");
        assert_eq!(err.lines().count(), 1, "{err}");
        format!("`{}`", err.trim_end())
    };
    let wrong_secret = says(client(&["--client-secret", "wrong"]));
    let unknown_client = says(client(&["--client-id", "nobody"]));
    assert_eq!(wrong_secret, unknown_client);
    let bad_scope = says(client(&["--scope", "api2"]));
    let closed = format!("http://127.0.0.1:{}", free_port());
    let server_down = says(
        std::process::Command::new(example("client"))
            .args(["--authority", &closed, "--api", &identity])
            .output()
            .unwrap(),
    );
    let api_down = says(
        std::process::Command::new(example("client"))
            .args(["--authority", &authority, "--api"])
            .arg(format!("{closed}/identity"))
            .output()
            .unwrap(),
    );
    // The docs page's "Try it out" with a wrong secret: what any client
    // gets.
    let refused = reqwest::Client::new()
        .post(format!("http://{listen}/connect/token"))
        .header("Authorization", crate::support::basic("client", "wrong"))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body("grant_type=client_credentials")
        .send()
        .await
        .unwrap();
    let refused = crate::support::as_curl_shows(refused, &["www-authenticate"]).await;
    generated("quickstart-wrong-secret.txt", &refused);
    let no_token = reqwest::get(&identity).await.unwrap();
    assert_eq!(no_token.status(), 401);
    let challenge = no_token.headers()["www-authenticate"].to_str().unwrap();
    let (_api2, api2) = start_process(
        &example("api"),
        &[
            "--authority",
            &authority,
            "--listen",
            "127.0.0.1:0",
            "--scope",
            "api2",
        ],
        "API listening on ",
    )
    .await;
    let wrong_scope = says(
        std::process::Command::new(example("client"))
            .args(["--authority", &authority, "--api"])
            .arg(format!("{api2}/identity"))
            .output()
            .unwrap(),
    );
    let log = server.stop();

    // The samples' addresses first: the server's port may be the start
    // of one of theirs.
    let at_5001 = |text: &str| {
        text.replace(&api2, "http://localhost:6001")
            .replace(&api, "http://localhost:6001")
            .replace(
                &format!("{closed}/identity"),
                "http://localhost:6001/identity",
            )
            .replace(&closed, "http://localhost:5001")
            .replace(&format!(":{port}"), ":5001")
    };
    let started: Vec<String> = log
        .lines()
        .filter(|l| {
            l.contains("signing key created")
                || l.contains("signing key loaded")
                || l.contains(": listening on ")
        })
        .map(|l| log_line(l, &["kid", "activate_at"]))
        .map(|l| l.replace(&format!("{}/", dir.path().display()), "./"))
        .map(|l| key_file_shortened(&l))
        .collect();
    assert_eq!(started.len(), 3, "{log}");
    generated(
        "quickstart-start.txt",
        &at_5001(&(started.join("\n") + "\n")),
    );

    let issued: Vec<String> = log
        .lines()
        .filter(|l| l.contains("tollgate::audit: token issued"))
        .map(|l| log_line(l, &["id", "jti"]))
        .collect();
    // The first is step 4's (the API down and the wrong scope get tokens
    // too, whose lines may not be written yet when the server stops).
    assert!(!issued.is_empty(), "{log}");
    generated("quickstart-audit.txt", &format!("{}\n", issued[0]));

    let rows = [
        ("server down", "stop tollgate, run the client".to_owned(), server_down),
        ("wrong secret", "`--client-secret wrong`".to_owned(), wrong_secret),
        (
            "unknown client",
            "`--client-id nobody`".to_owned(),
            "the same line: unknown client and wrong secret are indistinguishable, in body and timing".to_owned(),
        ),
        ("bad scope", "`--scope api2`".to_owned(), bad_scope),
        ("API down", "stop the API".to_owned(), api_down),
        (
            "no token",
            "`curl -i localhost:6001/identity`".to_owned(),
            format!("401 with `WWW-Authenticate: {challenge}` (RFC 6750 §3.1: no error code when no token was sent)"),
        ),
        ("wrong scope", "run the API with `--scope api2`".to_owned(), wrong_scope),
    ];
    let mut table = "| experiment | command | the client says |\n|---|---|---|\n".to_owned();
    for (experiment, command, said) in rows {
        table.push_str(&format!("| {experiment} | {command} | {said} |\n"));
    }
    generated("quickstart-break-it.md", &at_5001(&table));
}

/// The delegation page's "Seeing it": the audit line of the exchange its
/// script makes, from the real binary serving the page's file.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_delegation_page_shows_the_audit_line_of_its_exchange() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let shipped = std::fs::read_to_string(root().join("tests/delegation/identity.toml")).unwrap();
    assert!(shipped.contains("issuer = \"http://localhost:5002\""));
    let file = dir.path().join("identity.toml");
    std::fs::write(&file, shipped.replace(":5002", &format!(":{port}"))).unwrap();
    let mut server = start_logged_at(&file, "info", &format!("127.0.0.1:{port}"), &[], &[]).await;
    let out = crate::support::exchange_script(format!("http://localhost:{port}")).await;
    // An audit line may be written after its response is sent: wait for
    // it rather than stop the server at once.
    server.logged("token exchanged").await;
    let log = server.stop();
    assert!(out.status.success(), "{out:?}\n{log}");
    let exchanged: Vec<String> = log
        .lines()
        .filter(|l| l.contains("tollgate::audit: token exchanged"))
        // `expires_in` is what is left of the subject token's time: 3600
        // or 3599, as a second passes between the two requests or not.
        .map(|l| log_line(l, &["id", "jti", "expires_in"]))
        .collect();
    assert_eq!(exchanged.len(), 1, "{log}");
    generated("delegation-audit.txt", &format!("{}\n", exchanged[0]));
}

/// The shipped file on a free port (its issuer naming it), with `extra`
/// under `[server]`: the file and the address to listen on.
pub(crate) fn quickstart_file(dir: &std::path::Path, extra: &str) -> (std::path::PathBuf, u16) {
    let port = free_port();
    let shipped = std::fs::read_to_string(root().join("identity.toml")).unwrap();
    let text = shipped
        .replace(":5001", &format!(":{port}"))
        .replace("[server]\n", &format!("[server]\n{extra}"));
    let file = dir.join("identity.toml");
    std::fs::write(&file, text).unwrap();
    (file, port)
}

/// The README's code block that follows `after`, its lines.
fn readme_block(readme: &str, after: &str) -> Vec<String> {
    let from = readme.find(after).unwrap_or_else(|| panic!("{after:?}"));
    let open = from + readme[from..].find("```").unwrap();
    let body = open + readme[open..].find('\n').unwrap() + 1;
    let close = body + readme[body..].find("```").unwrap();
    readme[body..close].lines().map(str::to_owned).collect()
}

/// The README's excerpts of the quickstart are lines of the outputs the
/// quickstart page shows from runs (docs/src/generated/), cut short with
/// `…`: the README cannot include them, and must not drift from them.
#[test]
fn the_readme_s_excerpts_are_cut_from_the_quickstart_s_runs() {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let shown =
        |name: &str| std::fs::read_to_string(root().join("docs/src/generated").join(name)).unwrap();
    let started = shown("quickstart-start.txt");
    let lines = readme_block(&readme, "**1. The server.**");
    assert_eq!(lines.len(), 2, "{lines:?}");
    for line in lines {
        let cut = line.trim_end_matches(" …");
        assert!(
            started.lines().any(|l| l.contains(cut)),
            "README: {line:?} is not in quickstart-start.txt:\n{started}"
        );
    }
    let client = shown("quickstart-client.txt");
    let claims = readme_block(&readme, "**4. The client.**");
    for line in claims.iter().filter(|l| l.starts_with("  {")) {
        let line = line.trim_end_matches(',');
        assert!(
            client.lines().any(|l| l.trim_end_matches(',') == line),
            "README: {line:?} is not in quickstart-client.txt:\n{client}"
        );
    }
    assert!(claims.len() > 3, "{claims:?}");
    // The wrong secret's line, which the README wraps in its prose.
    let words = |text: &str| text.split_whitespace().collect::<Vec<_>>().join(" ");
    let table = shown("quickstart-break-it.md");
    let wrong = table
        .lines()
        .find(|l| l.starts_with("| wrong secret |"))
        .unwrap();
    let said = wrong.split('`').nth(3).unwrap();
    assert!(
        words(&readme).contains(&format!("gets `{said}`")),
        "README: the wrong secret's line is not {said:?}"
    );
}
