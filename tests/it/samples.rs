//! The quickstart as a user runs it: tollgate, the sample API and the sample
//! client as separate processes, through every experiment of the README.

use std::path::Path;
use std::process::{Command, Output, Stdio};

use crate::support::{example, hash, start_process, start_process_with, tollgate_bin};

fn client(args: &[&str]) -> Output {
    Command::new(example("client")).args(args).output().unwrap()
}

fn closed_port_url() -> String {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    format!("http://{}", l.local_addr().unwrap())
}

/// Exit code 1 and exactly one line on stderr that contains `words`.
fn fails_with(out: &Output, words: &str) {
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "exit code; stderr: {err}");
    assert_eq!(err.lines().count(), 1, "one line: {err}");
    assert!(
        err.starts_with("error: ") && err.contains(words),
        "{words:?} in {err}"
    );
}

#[tokio::test]
async fn the_quickstart_and_every_experiment_work_as_processes() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("identity.toml");
    std::fs::write(
        &config,
        format!(
            "[[api_scopes]]\nname = \"api1\"\n[[api_scopes]]\nname = \"api2\"\n\
             [[clients]]\nclient_id = \"client\"\nallowed_scopes = [\"api1\", \"api2\"]\n\
             [[clients.secrets]]\nhash = \"{}\"\n",
            hash("secret")
        ),
    )
    .unwrap();
    let (_server, authority) = start_process(
        tollgate_bin(),
        &[
            "serve",
            "--config",
            config.to_str().unwrap(),
            "--listen",
            "127.0.0.1:0",
        ],
        "listening on ",
    )
    .await;
    let (_api, api_base) = start_process(
        &example("api"),
        &["--authority", &authority, "--listen", "127.0.0.1:0"],
        "API listening on ",
    )
    .await;
    let api = format!("{api_base}/identity");
    let base = ["--authority", &authority, "--api", &api];
    let with = |extra: &[&str]| {
        let mut args: Vec<&str> = base.to_vec();
        args.extend_from_slice(extra);
        client(&args)
    };

    // Its output cut short (`client | head -c 1`): a quiet end, no panic.
    {
        use std::io::Read;
        let mut args: Vec<&str> = base.to_vec();
        args.push("--client-secret");
        args.push("secret");
        let mut child = Command::new(example("client"))
            .args(&args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut first = [0u8; 1];
        child.stdout.take().unwrap().read_exact(&mut first).unwrap();
        let out = child.wait_with_output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!err.contains("panicked"), "{err}");
    }

    // The happy path: token printed, then the claims from the API.
    let ok = with(&[]);
    let out = String::from_utf8_lossy(&ok.stdout);
    assert_eq!(
        ok.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    assert!(out.contains("\"access_token\""), "{out}");
    assert!(out.contains("\"type\": \"scope\""), "{out}");
    assert!(out.contains("\"value\": \"client\""), "{out}");

    // Every experiment: one clear line, exit 1.
    fails_with(&with(&["--client-secret", "wrong"]), "invalid_client");
    fails_with(&with(&["--client-id", "nobody"]), "invalid_client");
    fails_with(&with(&["--scope", "api3"]), "invalid_scope");
    let down = closed_port_url();
    fails_with(
        &client(&["--authority", &down, "--api", &api]),
        "cannot reach the identity server",
    );
    let api_down = format!("{}/identity", closed_port_url());
    fails_with(
        &client(&["--authority", &authority, "--api", &api_down]),
        "cannot reach the API",
    );

    // No token: 401 with a Bearer challenge (RFC 6750 §3).
    let r = reqwest::get(&api).await.unwrap();
    assert_eq!(r.status(), 401);
    assert!(
        r.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .starts_with("Bearer")
    );
    // A garbage token: 401 invalid_token.
    let r = reqwest::Client::new()
        .get(&api)
        .bearer_auth("abc.def.ghi")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert!(
        r.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .contains("invalid_token")
    );

    // An API that requires api2, and a token with only api1: 403.
    let (_api2, api2_base) = start_process(
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
    let api2 = format!("{api2_base}/identity");
    let forbidden = client(&["--authority", &authority, "--api", &api2, "--scope", "api1"]);
    fails_with(&forbidden, "403");
    assert!(String::from_utf8_lossy(&forbidden.stderr).contains("insufficient_scope"));
    // ... and with api2 in the token it passes.
    let allowed = client(&[
        "--authority",
        &authority,
        "--api",
        &api2,
        "--scope",
        "api1 api2",
    ]);
    assert_eq!(
        allowed.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&allowed.stderr)
    );
}

#[test]
fn the_server_refuses_to_start_on_a_broken_file_with_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("identity.toml");
    std::fs::write(
        &config,
        "[[clients]]\nclient_id = \"c\"\nallowed_scopes = [\"nope\"]\n",
    )
    .unwrap();
    let out = Command::new(tollgate_bin())
        .args([
            "serve",
            "--config",
            config.to_str().unwrap(),
            "--listen",
            "127.0.0.1:0",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("identity.toml:3:19: clients[0].allowed_scopes[0]"),
        "{err}"
    );
}

#[tokio::test]
async fn the_client_gets_tokens_with_its_own_key_and_with_a_platform_token() {
    use crate::support::Signer;
    let dir = tempfile::tempdir().unwrap();
    // The client's key pair, as an operator makes it.
    let made = Command::new(tollgate_bin())
        .args(["keys", "client", "--out"])
        .arg(dir.path().join("reports.pem"))
        .output()
        .unwrap();
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    let printed = String::from_utf8(made.stdout).unwrap();
    let jwks_line = printed.lines().find(|l| l.starts_with("jwks = ")).unwrap();
    // A platform (say, the cluster) and a token it issued to a workload.
    let platform = Signer::new(tollgate::Algorithm::ES256);
    std::fs::write(
        dir.path().join("cluster-jwks.json"),
        serde_json::json!({"keys": [platform.jwk]}).to_string(),
    )
    .unwrap();
    let now = crate::support::now().unix_timestamp();
    let token = platform.sign(
        None,
        &serde_json::json!({
            "iss": "https://kubernetes.default.svc.cluster.local",
            "aud": ["https://tollgate.example.com"],
            "sub": "system:serviceaccount:billing:worker",
            "iat": now, "exp": now + 600,
            "kubernetes.io": {"namespace": "billing"}
        }),
    );
    std::fs::write(dir.path().join("token"), format!("{token}\n")).unwrap();
    let config = dir.path().join("identity.toml");
    std::fs::write(
        &config,
        format!(
            r#"
[[api_scopes]]
name = "api1"
[[trusted_issuers]]
name = "cluster"
issuer = "https://kubernetes.default.svc.cluster.local"
jwks_file = "cluster-jwks.json"
audience = "https://tollgate.example.com"
[[clients]]
client_id = "reports"
allowed_scopes = ["api1"]
{jwks_line}
[[clients]]
client_id = "billing"
allowed_scopes = ["api1"]
[[clients.federated]]
issuer = "cluster"
subject = "system:serviceaccount:billing:worker"
claims = {{ "/kubernetes.io/namespace" = "billing" }}
"#
        ),
    )
    .unwrap();
    let (_server, authority) = start_process(
        tollgate_bin(),
        &[
            "serve",
            "--config",
            config.to_str().unwrap(),
            "--listen",
            "127.0.0.1:0",
        ],
        "listening on ",
    )
    .await;
    let (_api, api_base) = start_process(
        &example("api"),
        &["--authority", &authority, "--listen", "127.0.0.1:0"],
        "API listening on ",
    )
    .await;
    let api = format!("{api_base}/identity");
    let key = dir.path().join("reports.pem");
    let file = dir.path().join("token");
    for (args, client_id) in [
        (
            vec![
                "--client-id",
                "reports",
                "--private-key",
                key.to_str().unwrap(),
            ],
            "reports",
        ),
        (vec!["--assertion-file", file.to_str().unwrap()], "billing"),
    ] {
        let mut all = vec!["--authority", authority.as_str(), "--api", api.as_str()];
        all.extend(args);
        let out = client(&all);
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{stdout}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            stdout.contains(&format!(r#""value": "{client_id}""#)),
            "{stdout}"
        );
    }
}

#[tokio::test]
async fn the_client_and_the_api_speak_dpop() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("identity.toml");
    std::fs::write(&config, crate::support::quickstart_toml()).unwrap();
    let (_server, authority) = start_process(
        tollgate_bin(),
        &[
            "serve",
            "--config",
            config.to_str().unwrap(),
            "--listen",
            "127.0.0.1:0",
        ],
        "listening on ",
    )
    .await;
    let (_api, api_base) = start_process(
        &example("api"),
        &["--authority", &authority, "--listen", "127.0.0.1:0"],
        "API listening on ",
    )
    .await;
    let api = format!("{api_base}/identity");
    let out = client(&["--authority", &authority, "--api", &api, "--dpop"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains(r#""token_type": "DPoP""#), "{stdout}");
    assert!(
        stdout.contains(r#""type": "cnf""#),
        "the API saw the binding: {stdout}"
    );
}

#[tokio::test]
async fn the_client_and_the_api_speak_mutual_tls_and_the_api_wants_the_certificate() {
    use crate::support::{TestCa, https_client, server_pair};
    let dir = tempfile::tempdir().unwrap();
    let file = |name: &str, text: &str| {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        path.to_str().unwrap().to_owned()
    };
    let (server_cert, server_key) = server_pair();
    let ca = TestCa::new("Acme Clients CA");
    let reports = ca.client(&[], &["reports.acme.test"]);
    let (cert, key) = (
        file("server.pem", &server_cert),
        file("server.key", &server_key),
    );
    let client_ca = file("ca.pem", &ca.pem());
    let (client_cert, client_key) = (
        file("reports.pem", &reports.pem),
        file("reports.key", &reports.key.serialize_pem()),
    );
    let config = file(
        "identity.toml",
        "[server.tls]\ncert = \"server.pem\"\nkey = \"server.key\"\nclient_ca = \"ca.pem\"\n\
         [[api_scopes]]\nname = \"api1\"\n\
         [[clients]]\nclient_id = \"reports\"\nallowed_scopes = [\"api1\"]\ntls_client_auth_san_dns = \"reports.acme.test\"\n",
    );
    let (_server, authority) = start_process(
        tollgate_bin(),
        &["serve", "--config", &config, "--listen", "127.0.0.1:0"],
        "listening on ",
    )
    .await;
    assert!(authority.starts_with("https://"), "{authority}");
    // The API fetches tollgate's keys over HTTPS: it trusts the test's
    // server certificate through the platform store's SSL_CERT_FILE.
    let (_api, api_base) = start_process_with(
        &example("api"),
        &[
            "--authority",
            &authority,
            "--listen",
            "127.0.0.1:0",
            "--tls-cert",
            &cert,
            "--tls-key",
            &key,
            "--client-ca",
            &client_ca,
        ],
        &[("SSL_CERT_FILE", Path::new(&cert))],
        "API listening on ",
    )
    .await;
    let api = format!("{api_base}/identity");
    let out = client(&[
        "--authority",
        &authority,
        "--api",
        &api,
        "--client-id",
        "reports",
        "--cert",
        &client_cert,
        "--key",
        &client_key,
        "--ca",
        &cert,
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains(r#""token_type": "Bearer""#), "{stdout}");
    assert!(
        stdout.contains(&reports.thumbprint()),
        "the API saw the binding: {stdout}"
    );
    // The same token on a connection without the certificate is refused.
    let token: serde_json::Value = serde_json::Deserializer::from_str(&stdout)
        .into_iter()
        .next()
        .unwrap()
        .unwrap();
    let r = https_client(&server_cert)
        .get(&api)
        .bearer_auth(token["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let challenge = r.headers()["www-authenticate"].to_str().unwrap().to_owned();
    assert!(challenge.contains("invalid_token"), "{challenge}");
}

#[tokio::test]
async fn the_sample_api_refuses_a_chain_over_the_limits_at_the_handshake() {
    use crate::support::{TestCa, crafted_intermediates, server_pair};
    let dir = tempfile::tempdir().unwrap();
    let file = |name: &str, text: &str| {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        path.to_str().unwrap().to_owned()
    };
    let (server_cert, server_key) = server_pair();
    let ca = TestCa::new("Acme Clients CA");
    let (cert, key, client_ca) = (
        file("server.pem", &server_cert),
        file("server.key", &server_key),
        file("ca.pem", &ca.pem()),
    );
    // The API is asked nothing that needs its authority.
    let (_api, api_base) = start_process(
        &example("api"),
        &[
            "--authority",
            &closed_port_url(),
            "--listen",
            "127.0.0.1:0",
            "--tls-cert",
            &cert,
            "--tls-key",
            &key,
            "--client-ca",
            &client_ca,
        ],
        "API listening on ",
    )
    .await;
    let api = format!("{api_base}/identity");
    let four = ca.descendants(4);
    let within = four[3].client(&[], &["a.test"]).chained_to(&four);
    let r = within.https(&server_cert).get(&api).send().await.unwrap();
    assert_eq!(r.status(), 401, "past the handshake: no token");
    let five = ca.descendants(5);
    let over = [
        (
            "five CAs",
            five[4].client(&[], &["a.test"]).chained_to(&five),
        ),
        (
            "ten crafted CAs",
            ca.client(&[], &["a.test"])
                .chained(&crafted_intermediates()),
        ),
    ];
    for (what, cert) in over {
        let sent = cert.https(&server_cert).get(&api).send().await;
        assert!(sent.is_err(), "{what}: {sent:?}");
    }
}
