//! Signing keys in a PKCS#11 token, with SoftHSM2: keys made by another
//! tool and by `tollgate keys generate --pkcs11` publish and sign; the
//! private key stays sensitive and non-extractable; a file key hands over
//! to a token key at its `activate_at`; a token that goes away gets 503
//! with `Retry-After` (never another key's token) and comes back by
//! itself; a key pair replaced under the same label is never used (503,
//! `/healthz` says why) until the published key is back; `check` names a
//! module or label that is not there, and a label whose private key is not
//! its public key's pair.
//!
//! Every server here is a child process (see `support::softhsm`).

use std::time::Duration;

use crate::support::{
    Logged, SoftHsm, USER_PIN, eventually, jwt_parts, kid_of, managed, pin_file, quickstart_toml,
    start_logged_with_env, tollgate_bin, verify_at, write_key,
};

/// A token response: status, `Retry-After`, body.
async fn token(http: &reqwest::Client, addr: &str) -> (u16, Option<String>, serde_json::Value) {
    let response = http
        .post(format!("http://{addr}/connect/token"))
        .basic_auth("client", Some("secret"))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let retry = response
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().to_owned());
    (status, retry, response.json().await.unwrap())
}

/// A token that must be issued, verified against the server's JWKS.
async fn issued(http: &reqwest::Client, addr: &str) -> String {
    let (status, _, body) = token(http, addr).await;
    assert_eq!(status, 200, "{body}");
    let jwt = body["access_token"].as_str().unwrap().to_owned();
    verify_at(http, &format!("http://{addr}"), &jwt)
        .await
        .unwrap_or_else(|e| panic!("the token does not verify: {e}"));
    jwt
}

/// `keys` (`[[keys.signing]]` entries) and the quickstart, as
/// `identity.toml` in `hsm`'s folder, served by a child process.
async fn serve(hsm: &SoftHsm, keys: &str, env: &[(&str, &str)]) -> Logged {
    let file = hsm.dir.path().join("identity.toml");
    std::fs::write(&file, managed(&format!("{keys}{}", quickstart_toml()))).unwrap();
    let mut all: Vec<(&str, &str)> = env.to_vec();
    let store = hsm.env();
    all.extend(store.iter().map(|(k, v)| (*k, v.as_str())));
    start_logged_with_env(&file, "info", &[], &all).await
}

async fn jwks(http: &reqwest::Client, addr: &str) -> Vec<serde_json::Value> {
    let doc: serde_json::Value = http
        .get(format!("http://{addr}/.well-known/jwks.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    doc["keys"].as_array().unwrap().clone()
}

#[tokio::test]
async fn a_key_made_by_pkcs11_tool_is_published_and_signs_tokens_that_verify_and_the_pin_is_never_logged()
 {
    let Some(hsm) = SoftHsm::new() else { return };
    hsm.init_token("issuer");
    hsm.keypairgen("issuer", "EC:prime256v1", "made-elsewhere", "0a01");
    // No trailing newline in this PIN file (the generate test has one).
    pin_file(hsm.dir.path(), "pin", false);
    let entry = hsm.entry("issuer", "made-elsewhere", "pin_file = \"pin\"");
    let mut server = serve(
        &hsm,
        &format!("[[keys.signing]]\n{entry}\nactivate_at = 2026-01-01T00:00:00Z\n"),
        &[],
    )
    .await;
    let http = reqwest::Client::new();
    let keys = jwks(&http, &server.addr).await;
    assert_eq!(keys.len(), 1);
    assert_eq!(keys[0]["alg"], "ES256");
    assert_eq!(keys[0]["crv"], "P-256");
    for _ in 0..5 {
        let jwt = issued(&http, &server.addr).await;
        assert_eq!(kid_of(&jwt), keys[0]["kid"].as_str().unwrap());
        assert_eq!(jwt_parts(&jwt).0["alg"], "ES256");
    }
    // Concurrent requests share the session pool.
    let many = (0..16).map(|_| issued(&http, &server.addr));
    assert_eq!(futures_util::future::join_all(many).await.len(), 16);
    let log = server.stop();
    assert!(!log.contains(USER_PIN), "the PIN is in the log:\n{log}");
}

/// `pkcs11-tool --list-objects` of `kind` (`privkey`, `pubkey`), logged
/// in or not.
fn objects(hsm: &SoftHsm, token: &str, kind: &str, login: bool) -> String {
    let mut command = hsm.command("pkcs11-tool");
    command.arg("--module").arg(&hsm.module).args([
        "--token-label",
        token,
        "--list-objects",
        "--type",
        kind,
    ]);
    if login {
        command.args(["--login", "--pin", USER_PIN]);
    }
    let out = crate::support::ok(&mut command);
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[tokio::test]
async fn keys_generate_pkcs11_makes_a_sensitive_non_extractable_pair_writes_no_file_and_its_entry_serves_es256_and_rs256()
 {
    let Some(hsm) = SoftHsm::new() else { return };
    hsm.init_token("made-here");
    pin_file(hsm.dir.path(), "pin", true);
    let work = tempfile::tempdir().unwrap();
    let mut entries = String::new();
    let mut kids = Vec::new();
    let pin_path = hsm.dir.path().join("pin").display().to_string();
    for (label, alg, pin) in [
        ("es", "ES256", ["--pin-env", "TEST_HSM_PIN"]),
        ("rs", "RS256", ["--pin-file", pin_path.as_str()]),
    ] {
        let out = crate::support::ok(
            hsm.command(tollgate_bin())
                .current_dir(work.path())
                .env("TEST_HSM_PIN", USER_PIN)
                .args(["keys", "generate", "--pkcs11"])
                .arg(&hsm.module)
                .args(["--token", "made-here", "--label", label, "--algorithm", alg])
                .args(["--activate-at", "2026-01-01T00:00:00Z"])
                .args(pin),
        );
        let stdout = String::from_utf8(out.stdout).unwrap();
        assert!(
            !stdout.contains(USER_PIN) && !String::from_utf8_lossy(&out.stderr).contains(USER_PIN)
        );
        // The entry is last: `[[keys.signing]]`, pkcs11 = ..., activate_at.
        let lines: Vec<&str> = stdout.lines().collect();
        let entry = lines[lines.len() - 3..].join("\n");
        assert!(
            entry.starts_with("[[keys.signing]]\npkcs11 = {"),
            "{stdout}"
        );
        assert!(entry.contains(&format!("label = \"{label}\"")), "{entry}");
        assert!(
            entry.ends_with("activate_at = 2026-01-01T00:00:00Z"),
            "{entry}"
        );
        kids.push(
            stdout
                .split("# kid ")
                .nth(1)
                .unwrap()
                .split(' ')
                .next()
                .unwrap()
                .to_owned(),
        );
        entries.push_str(&entry);
        entries.push('\n');
    }
    let written: Vec<_> = std::fs::read_dir(work.path()).unwrap().collect();
    assert!(
        written.is_empty(),
        "keys generate --pkcs11 wrote {written:?}"
    );
    // Read back from the token: the private keys sensitive and never
    // extractable, the public keys visible without logging in.
    let private = objects(&hsm, "made-here", "privkey", true);
    assert_eq!(
        private.matches("Private Key Object").count(),
        2,
        "{private}"
    );
    for block in private.split("Private Key Object").skip(1) {
        // pkcs11-tool lists CKA_SENSITIVE as "sensitive", CKA_EXTRACTABLE
        // as "extractable", CKA_NEVER_EXTRACTABLE as "never extractable".
        let access: Vec<&str> = block
            .lines()
            .find_map(|l| l.trim().strip_prefix("Access:"))
            .unwrap()
            .split(',')
            .map(str::trim)
            .collect();
        assert!(
            access.contains(&"sensitive") && access.contains(&"never extractable"),
            "{block}"
        );
        assert!(!access.contains(&"extractable"), "{block}");
    }
    let public = objects(&hsm, "made-here", "pubkey", false);
    assert_eq!(public.matches("Public Key Object").count(), 2, "{public}");
    // The printed entries serve: the later-listed RS256 key... both keys
    // published, and the one activated last signs; each verifies.
    let server = serve(
        &hsm,
        &entries.replacen(
            "activate_at = 2026-01-01T00:00:00Z",
            "activate_at = 2025-12-01T00:00:00Z",
            1,
        ),
        &[("TEST_HSM_PIN", USER_PIN)],
    )
    .await;
    let http = reqwest::Client::new();
    let published: Vec<String> = jwks(&http, &server.addr)
        .await
        .iter()
        .map(|k| k["kid"].as_str().unwrap().to_owned())
        .collect();
    assert!(kids.iter().all(|k| published.contains(k)), "{published:?}");
    let jwt = issued(&http, &server.addr).await;
    assert_eq!(kid_of(&jwt), kids[1]);
    assert_eq!(jwt_parts(&jwt).0["alg"], "RS256");
    // A label the token has already is refused, and nothing is made.
    let again = hsm
        .command(tollgate_bin())
        .env("TEST_HSM_PIN", USER_PIN)
        .args(["keys", "generate", "--pkcs11"])
        .arg(&hsm.module)
        .args([
            "--token",
            "made-here",
            "--label",
            "es",
            "--pin-env",
            "TEST_HSM_PIN",
        ])
        .output()
        .unwrap();
    assert_eq!(again.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&again.stderr).contains("already has an object labelled \"es\"")
    );
}

#[tokio::test]
async fn a_file_key_hands_over_to_a_key_in_the_token_at_its_activate_at() {
    let Some(hsm) = SoftHsm::new() else { return };
    hsm.init_token("rotation");
    hsm.keypairgen("rotation", "EC:prime256v1", "next", "0b02");
    pin_file(hsm.dir.path(), "pin", true);
    write_key(hsm.dir.path(), "old.pem", tollgate::Algorithm::ES256);
    // The server is a child process (the module's configuration is
    // process-wide), so its clock is the wall clock: the hand-over is
    // checked against each token's own `iat`, the instant the server
    // chose the key at, which no scheduling delay can blur.
    let switch = crate::support::now().unix_timestamp() + 10;
    let at = time::OffsetDateTime::from_unix_timestamp(switch)
        .unwrap()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    let keys = format!(
        "[[keys.signing]]\nfile = \"old.pem\"\nactivate_at = 2026-01-01T00:00:00Z\n\
         [[keys.signing]]\n{}\nactivate_at = {at}\n",
        hsm.entry("rotation", "next", "pin_file = \"pin\"")
    );
    let server = serve(&hsm, &keys, &[]).await;
    let http = reqwest::Client::new();
    let published = jwks(&http, &server.addr).await;
    assert_eq!(published.len(), 2, "both published before the switch");
    // Newest activation first: the token key.
    let (hsm_kid, file_kid) = (
        published[0]["kid"].as_str().unwrap().to_owned(),
        published[1]["kid"].as_str().unwrap().to_owned(),
    );
    let before = std::sync::atomic::AtomicUsize::new(0);
    let after = eventually(
        Duration::from_secs(30),
        "a token signed in the token",
        || {
            let http = http.clone();
            let addr = server.addr.clone();
            let (hsm_kid, file_kid) = (hsm_kid.clone(), file_kid.clone());
            let before = &before;
            async move {
                let jwt = issued(&http, &addr).await;
                let iat = jwt_parts(&jwt).1["iat"].as_i64().unwrap();
                let kid = kid_of(&jwt);
                if iat < switch {
                    assert_eq!(kid, file_kid, "before activate_at the file key signs");
                    before.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    None
                } else {
                    assert_eq!(kid, hsm_kid, "from activate_at on the token key signs");
                    Some(jwt)
                }
            }
        },
    )
    .await;
    assert!(
        before.into_inner() > 0,
        "no token was issued before the switch"
    );
    assert_eq!(jwt_parts(&after).0["alg"], "ES256");
}

#[tokio::test]
async fn a_token_that_goes_away_gets_503_with_retry_after_never_another_keys_token_and_comes_back_by_itself()
 {
    let Some(hsm) = SoftHsm::new() else { return };
    hsm.init_token("flaky");
    hsm.keypairgen("flaky", "EC:prime256v1", "signer", "0c03");
    pin_file(hsm.dir.path(), "pin", true);
    // A file key published beside it, to activate next year: a server
    // that fell back to software would sign with it.
    write_key(hsm.dir.path(), "spare.pem", tollgate::Algorithm::ES256);
    let keys = format!(
        "[[keys.signing]]\n{}\nactivate_at = 2026-01-01T00:00:00Z\n\
         [[keys.signing]]\nfile = \"spare.pem\"\nactivate_at = 2099-01-01T00:00:00Z\n",
        hsm.entry("flaky", "signer", "pin_file = \"pin\"")
    );
    let server = serve(&hsm, &keys, &[]).await;
    let management = server.management.clone().unwrap();
    let http = reqwest::Client::new();
    let signer = kid_of(&issued(&http, &server.addr).await);
    let health = |path: &'static str| {
        let http = http.clone();
        let at = management.clone();
        async move {
            let response = http.get(format!("http://{at}{path}")).send().await.unwrap();
            (
                response.status().as_u16(),
                response.json::<serde_json::Value>().await.unwrap(),
            )
        }
    };
    assert_eq!(health("/healthz").await.1["status"], "ok");

    let away = hsm.dir.path().join("tokens.away");
    std::fs::rename(hsm.tokens(), &away).unwrap();
    let (retry, body) = eventually(Duration::from_secs(30), "a 503", || {
        let http = http.clone();
        let addr = server.addr.clone();
        let signer = signer.clone();
        async move {
            match token(&http, &addr).await {
                (200, _, body) => {
                    let jwt = body["access_token"].as_str().unwrap();
                    assert_eq!(kid_of(jwt), signer, "only the token's key signs");
                    None
                }
                (status, retry, body) => {
                    assert_eq!(status, 503, "{body}");
                    Some((retry, body))
                }
            }
        }
    })
    .await;
    assert_eq!(body["error"], "temporarily_unavailable");
    let retry: u64 = retry
        .expect("a Retry-After header")
        .parse()
        .expect("Retry-After in whole seconds");
    assert!((1..=60).contains(&retry), "{retry}");
    // While it is away: every answer is a 503, the JWKS still answers
    // with the key, health says why, and the metric counts it.
    for _ in 0..5 {
        let (status, _, body) = token(&http, &server.addr).await;
        assert_eq!(status, 503, "never another key's token: {body}");
    }
    let published = jwks(&http, &server.addr).await;
    assert!(published.iter().any(|k| k["kid"] == signer.as_str()));
    let (status, healthz) = health("/healthz").await;
    assert_eq!(status, 503, "{healthz}");
    assert_eq!(healthz["status"], "unavailable");
    let why = healthz["keys"]["unavailable"][0].as_str().unwrap();
    assert!(
        why.starts_with(&signer) && why.contains("\"signer\"") && why.contains("\"flaky\""),
        "{why}"
    );
    assert_eq!(health("/readyz").await.0, 503);
    let metrics = crate::support::scrape(&http, &management).await;
    assert_eq!(
        crate::support::metric(&metrics, "tollgate_signing_keys_unavailable"),
        1.0,
        "{metrics}"
    );

    // Back: tokens flow again, by themselves, well within a minute.
    std::fs::rename(&away, hsm.tokens()).unwrap();
    let jwt = eventually(Duration::from_secs(60), "tokens again", || {
        let http = http.clone();
        let addr = server.addr.clone();
        async move {
            match token(&http, &addr).await {
                (200, _, body) => Some(body["access_token"].as_str().unwrap().to_owned()),
                (503, ..) => None,
                (status, _, body) => panic!("{status} {body}"),
            }
        }
    })
    .await;
    assert_eq!(kid_of(&jwt), signer);
    verify_at(&http, &format!("http://{}", server.addr), &jwt)
        .await
        .unwrap();
    eventually(Duration::from_secs(10), "healthz ok", || {
        let h = health("/healthz");
        async move { (h.await.1["status"] == "ok").then_some(()) }
    })
    .await;
}

/// Copies the token store `from` (a folder of token folders) to `to`.
fn copy_tokens(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        if entry.file_type().unwrap().is_dir() {
            copy_tokens(&entry.path(), &to.join(entry.file_name()));
        } else {
            std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
        }
    }
}

#[tokio::test]
async fn a_key_pair_replaced_under_the_same_label_is_never_used_a_503_with_retry_after_and_healthz_says_why_until_the_published_key_is_back()
 {
    let Some(hsm) = SoftHsm::new() else { return };
    hsm.init_token("replaced");
    hsm.keypairgen("replaced", "EC:prime256v1", "signer", "0f06");
    pin_file(hsm.dir.path(), "pin", true);
    let keys = format!(
        "[[keys.signing]]\n{}\nactivate_at = 2026-01-01T00:00:00Z\n",
        hsm.entry("replaced", "signer", "pin_file = \"pin\"")
    );
    let server = serve(&hsm, &keys, &[]).await;
    let management = server.management.clone().unwrap();
    let http = reqwest::Client::new();
    let signer = kid_of(&issued(&http, &server.addr).await);
    let why = |http: reqwest::Client, at: String| async move {
        let response = http
            .get(format!("http://{at}/healthz"))
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        let health: serde_json::Value = response.json().await.unwrap();
        let why = health["keys"]["unavailable"][0].as_str().map(str::to_owned);
        (status, health["status"].clone(), why)
    };
    // Every token issued from here on must verify with the published key:
    // one signed by the new pair under the old kid fails here.
    let request = |http: reqwest::Client, addr: String, signer: String| async move {
        let (status, retry, body) = token(&http, &addr).await;
        if status == 200 {
            let jwt = body["access_token"].as_str().unwrap();
            assert_eq!(kid_of(jwt), signer);
            verify_at(&http, &format!("http://{addr}"), jwt)
                .await
                .unwrap_or_else(|e| panic!("a token not signed by the published key: {e}"));
        } else {
            assert_eq!(status, 503, "{body}");
        }
        (status, retry, body)
    };
    // The published key's objects, kept to be put back at the end.
    let original = hsm.dir.path().join("tokens.original");
    copy_tokens(&hsm.tokens(), &original);

    // The pair deleted and a new one made under the same label (and id).
    for kind in ["privkey", "pubkey"] {
        hsm.pkcs11_tool(
            "replaced",
            &["--delete-object", "--type", kind, "--label", "signer"],
        );
    }
    hsm.keypairgen("replaced", "EC:prime256v1", "signer", "0f06");
    // A reconnection: the token away until the server notices, and back.
    let away = hsm.dir.path().join("tokens.away");
    std::fs::rename(hsm.tokens(), &away).unwrap();
    eventually(Duration::from_secs(30), "the token away", || {
        let (http, addr, signer) = (http.clone(), server.addr.clone(), signer.clone());
        let health = why(http.clone(), management.clone());
        async move {
            (request(http, addr, signer).await.0 == 503 && health.await.2.is_some()).then_some(())
        }
    })
    .await;
    std::fs::rename(&away, hsm.tokens()).unwrap();
    let replaced = "is not the one published under this kid";
    eventually(Duration::from_secs(60), "the replaced key refused", || {
        let (http, addr, signer) = (http.clone(), server.addr.clone(), signer.clone());
        let health = why(http.clone(), management.clone());
        async move {
            request(http, addr, signer).await;
            health.await.2.filter(|w| w.contains(replaced))
        }
    })
    .await;
    // Refused as for a missing token: 503 with Retry-After, health says
    // why, the JWKS still publishes the old key alone.
    for _ in 0..5 {
        let (status, retry, body) =
            request(http.clone(), server.addr.clone(), signer.clone()).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (503, Some("temporarily_unavailable")),
            "never the replaced key's token: {body}"
        );
        let retry: u64 = retry.expect("a Retry-After header").parse().unwrap();
        assert!((1..=60).contains(&retry), "{retry}");
    }
    let (status, state, reason) = why(http.clone(), management.clone()).await;
    assert_eq!((status, state.as_str()), (503, Some("unavailable")));
    let reason = reason.unwrap();
    assert!(
        reason.starts_with(&signer)
            && reason.contains("\"signer\"")
            && reason.contains("\"replaced\"")
            && reason.contains(replaced),
        "{reason}"
    );
    let published = jwks(&http, &server.addr).await;
    assert_eq!(published.len(), 1);
    assert_eq!(published[0]["kid"], signer.as_str());

    // The published key put back: tokens flow again, by themselves.
    std::fs::rename(hsm.tokens(), &away).unwrap();
    std::fs::rename(&original, hsm.tokens()).unwrap();
    eventually(Duration::from_secs(60), "tokens again", || {
        let (http, addr, signer) = (http.clone(), server.addr.clone(), signer.clone());
        async move { (request(http, addr, signer).await.0 == 200).then_some(()) }
    })
    .await;
    eventually(Duration::from_secs(10), "healthz ok", || {
        let health = why(http.clone(), management.clone());
        async move { (health.await.1 == "ok").then_some(()) }
    })
    .await;
}

/// `tollgate check` of `keys` + the quickstart: exit code and stderr.
fn check(hsm: &SoftHsm, keys: &str) -> (i32, String) {
    let file = hsm.dir.path().join("check.toml");
    std::fs::write(&file, format!("{keys}{}", quickstart_toml())).unwrap();
    let (code, text) = crate::support::run_printed(
        hsm.command(tollgate_bin())
            .args(["check", "--config"])
            .arg(&file),
    );
    (code.unwrap(), text)
}

#[test]
fn check_names_a_module_that_cannot_be_loaded_a_label_the_token_lacks_and_a_refused_pin() {
    let Some(hsm) = SoftHsm::new() else { return };
    hsm.init_token("checked");
    hsm.keypairgen("checked", "EC:prime256v1", "present", "0d04");
    pin_file(hsm.dir.path(), "pin", true);
    std::fs::write(hsm.dir.path().join("wrong.pin"), "0000\n").unwrap();
    let key =
        |entry: &str| format!("[[keys.signing]]\n{entry}\nactivate_at = 2026-01-01T00:00:00Z\n");
    let (code, text) = check(
        &hsm,
        &key(&hsm.entry("checked", "present", "pin_file = \"pin\"")),
    );
    assert_eq!(code, 0, "{text}");

    let missing_module = key(&format!(
        "pkcs11 = {{ module = \"{}/no-such-module.so\", token = \"checked\", label = \"present\", pin_file = \"pin\" }}",
        hsm.dir.path().display()
    ));
    let (code, text) = check(&hsm, &missing_module);
    assert_eq!(code, 1, "{text}");
    assert!(
        text.contains("cannot load the PKCS#11 module") && text.contains("no-such-module.so"),
        "{text}"
    );

    let (code, text) = check(
        &hsm,
        &key(&hsm.entry("checked", "absent", "pin_file = \"pin\"")),
    );
    assert_eq!(code, 1, "{text}");
    assert!(
        text.contains("no private key labelled \"absent\""),
        "{text}"
    );

    let (code, text) = check(
        &hsm,
        &key(&hsm.entry("no-such-token", "present", "pin_file = \"pin\"")),
    );
    assert_eq!(code, 1, "{text}");
    assert!(
        text.contains("no token labelled \"no-such-token\""),
        "{text}"
    );

    let (code, text) = check(
        &hsm,
        &key(&hsm.entry("checked", "present", "pin_file = \"wrong.pin\"")),
    );
    assert_eq!(code, 1, "{text}");
    assert!(
        text.contains("refused the PIN") && !text.contains("0000"),
        "{text}"
    );

    let (code, text) = check(
        &hsm,
        &key(&format!(
            "pkcs11 = {{ module = \"{}\", token = \"checked\", label = \"present\" }}",
            hsm.module.display()
        )),
    );
    assert_eq!(code, 1, "{text}");
    assert!(
        text.contains("exactly one of pin_file and pin_env"),
        "{text}"
    );
}

#[test]
fn check_refuses_a_label_whose_private_key_is_not_its_public_keys_pair() {
    let Some(hsm) = SoftHsm::new() else { return };
    hsm.init_token("mixed");
    hsm.keypairgen("mixed", "EC:prime256v1", "signer", "01");
    hsm.keypairgen("mixed", "EC:prime256v1", "signer", "02");
    // One pair's private key and the other pair's public key remain, both
    // labelled "signer".
    hsm.pkcs11_tool(
        "mixed",
        &["--delete-object", "--type", "privkey", "--id", "02"],
    );
    hsm.pkcs11_tool(
        "mixed",
        &["--delete-object", "--type", "pubkey", "--id", "01"],
    );
    pin_file(hsm.dir.path(), "pin", true);
    let (code, text) = check(
        &hsm,
        &format!(
            "[[keys.signing]]\n{}\nactivate_at = 2026-01-01T00:00:00Z\n",
            hsm.entry("mixed", "signer", "pin_file = \"pin\"")
        ),
    );
    assert_eq!(code, 1, "{text}");
    assert!(
        text.contains("is not the pair of the public key of that label"),
        "{text}"
    );
}

#[test]
fn the_handbooks_softhsm_walkthrough_runs() {
    let Some(hsm) = SoftHsm::new() else { return };
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/hardware/softhsm.sh");
    let out = crate::support::ok(
        std::process::Command::new("bash")
            .arg(script)
            .arg(tollgate_bin())
            .current_dir(hsm.dir.path())
            .env("SOFTHSM2_MODULE", &hsm.module)
            .env("SERVE", "0"),
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("identity.toml: ok"), "{stdout}");
    assert!(stdout.contains("never extractable"), "{stdout}");
    assert!(
        stdout.contains("Usage:      sign\n"),
        "a signing-only key: {stdout}"
    );
}

#[tokio::test]
async fn a_pin_the_token_refuses_is_a_503_that_says_so_is_not_tried_again_and_a_corrected_pin_file_recovers()
 {
    let Some(hsm) = SoftHsm::new() else { return };
    hsm.init_token("rekeyed");
    hsm.keypairgen("rekeyed", "EC:prime256v1", "signer", "0e05");
    let pin = pin_file(hsm.dir.path(), "pin", true);
    let keys = format!(
        "[[keys.signing]]\n{}\nactivate_at = 2026-01-01T00:00:00Z\n",
        hsm.entry("rekeyed", "signer", "pin_file = \"pin\"")
    );
    let mut server = serve(&hsm, &keys, &[]).await;
    let management = server.management.clone().unwrap();
    let http = reqwest::Client::new();
    issued(&http, &server.addr).await;
    // The PIN changes on the token; the server's sessions are dropped by
    // taking the token away and back, so it must log in again.
    hsm.pkcs11_tool("rekeyed", &["--change-pin", "--new-pin", "2222-new"]);
    let away = hsm.dir.path().join("tokens.away");
    std::fs::rename(hsm.tokens(), &away).unwrap();
    let why = |http: reqwest::Client, at: String| async move {
        let health: serde_json::Value = http
            .get(format!("http://{at}/healthz"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        health["keys"]["unavailable"][0].as_str().map(str::to_owned)
    };
    eventually(Duration::from_secs(30), "the token away", || {
        why(http.clone(), management.clone())
    })
    .await;
    std::fs::rename(&away, hsm.tokens()).unwrap();
    eventually(Duration::from_secs(60), "the PIN refused", || {
        let w = why(http.clone(), management.clone());
        async move { w.await.filter(|w| w.contains("refused the PIN")) }
    })
    .await;
    let (status, retry, body) = token(&http, &server.addr).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (503, Some("temporarily_unavailable"))
    );
    assert!(retry.is_some());
    // The next attempts do not offer the token the same PIN again.
    eventually(Duration::from_secs(60), "not tried again", || {
        let w = why(http.clone(), management.clone());
        async move { w.await.filter(|w| w.contains("not tried again")) }
    })
    .await;
    // The corrected PIN file: tokens flow again, by themselves.
    std::fs::write(&pin, "2222-new\n").unwrap();
    eventually(Duration::from_secs(60), "tokens with the new PIN", || {
        let (http, addr) = (http.clone(), server.addr.clone());
        async move { (token(&http, &addr).await.0 == 200).then_some(()) }
    })
    .await;
    let log = server.stop();
    assert!(
        !log.contains("2222-new") && !log.contains(USER_PIN),
        "{log}"
    );
}
