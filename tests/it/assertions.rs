//! Clients without shared secrets: `private_key_jwt` (RFC 7523 §2.2) with
//! inline, file and URL keys, and workload identity federation with
//! Kubernetes- and GitHub-Actions-shaped tokens. Time is pinned where
//! expiry is tested.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use base64::Engine;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};
use tollgate_jose::clock::ManualClock;

use crate::support::{
    Signer, TestServer, assertion_form, basic, clock_now, eventually, key_server, managed, metric,
    scrape, start, unique,
};

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::URL_SAFE_NO_PAD;

fn config(signer: &Signer) -> String {
    format!(
        r#"
[throttle]
client_failures = 0
address_failures = 0
[[api_scopes]]
name = "api1"
[[clients]]
client_id = "reports"
allowed_scopes = ["api1"]
jwks = {{ keys = [ {jwk} ] }}
[[clients]]
client_id = "off"
enabled = false
allowed_scopes = ["api1"]
jwks = {{ keys = [ {jwk} ] }}
[[clients]]
client_id = "keyless"
allowed_scopes = ["api1"]
[[clients.secrets]]
hash = "{hash}"
"#,
        jwk = signer.toml(),
        hash = crate::support::hash("secret"),
    )
}

#[tokio::test]
async fn each_rule_of_private_key_jwt_is_a_row_of_the_table() {
    let key = Signer::new(tollgate::Algorithm::ES256);
    let other = Signer::new(tollgate::Algorithm::ES256);
    let clock = ManualClock::new(start());
    let server = TestServer::spawn_with_clock(&managed(&config(&key)), clock.clone()).await;
    let issuer = server.issuer();
    let now = clock_now(&clock);
    let claims = |overrides: Value| {
        let mut c = json!({
            "iss": "reports", "sub": "reports", "aud": issuer.clone(),
            "iat": now, "exp": now + 60, "jti": format!("j{}", unique())
        });
        for (k, v) in overrides.as_object().unwrap() {
            if v.is_null() {
                c.as_object_mut().unwrap().remove(k);
            } else {
                c[k] = v.clone();
            }
        }
        c
    };
    let hs256 = {
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some(key.kid());
        jsonwebtoken::encode(
            &header,
            &claims(json!({})),
            &EncodingKey::from_secret(key.jwk["x"].as_str().unwrap().as_bytes()),
        )
        .unwrap()
    };
    let none = format!(
        "{}.{}.",
        B64.encode(json!({"alg": "none", "kid": key.kid()}).to_string()),
        B64.encode(claims(json!({})).to_string())
    );
    let crit = {
        let mut header = Header::new(Algorithm::ES256);
        header.kid = Some(key.kid());
        // jsonwebtoken has no crit field: sign the header by hand.
        let h =
            B64.encode(json!({"alg":"ES256","kid":key.kid(),"crit":["exp"],"exp":1}).to_string());
        let p = B64.encode(claims(json!({})).to_string());
        format!(
            "{h}.{p}.{}",
            key.sign(None, &json!({})).rsplit('.').next().unwrap()
        )
    };
    let token_endpoint = format!("{issuer}/connect/token");
    let replayed = key.sign(None, &claims(json!({"jti": "once"})));
    let rows: Vec<(&str, String, u16, &str)> = vec![
        ("good", key.sign(None, &claims(json!({}))), 200, ""),
        (
            "aud is the token endpoint",
            key.sign(None, &claims(json!({"aud": token_endpoint}))),
            200,
            "",
        ),
        (
            "aud in an array of one",
            key.sign(None, &claims(json!({"aud": [issuer.clone()]}))),
            200,
            "",
        ),
        (
            "aud names another server beside us (audience injection)",
            key.sign(None, &claims(json!({"aud": ["x", issuer.clone()]}))),
            401,
            "wrong_audience",
        ),
        (
            "no kid: every key of the algorithm is tried",
            key.sign_without_kid(&claims(json!({}))),
            200,
            "",
        ),
        (
            "iss differs from sub",
            key.sign(None, &claims(json!({"sub": "other"}))),
            401,
            "wrong_issuer",
        ),
        (
            "unknown client",
            key.sign(None, &claims(json!({"iss": "nobody", "sub": "nobody"}))),
            401,
            "unknown_client",
        ),
        (
            "disabled client",
            key.sign(None, &claims(json!({"iss": "off", "sub": "off"}))),
            401,
            "disabled_client",
        ),
        (
            "client without keys",
            key.sign(None, &claims(json!({"iss": "keyless", "sub": "keyless"}))),
            401,
            "no_client_keys",
        ),
        (
            "wrong audience",
            key.sign(None, &claims(json!({"aud": "https://elsewhere"}))),
            401,
            "wrong_audience",
        ),
        (
            "no exp",
            key.sign(None, &claims(json!({"exp": null}))),
            401,
            "missing_claim",
        ),
        (
            "expired",
            key.sign(None, &claims(json!({"iat": now - 120, "exp": now - 31}))),
            401,
            "expired",
        ),
        (
            "longer than an hour",
            key.sign(None, &claims(json!({"exp": now + 3601}))),
            401,
            "lifetime_too_long",
        ),
        (
            "issued in the future",
            key.sign(None, &claims(json!({"iat": now + 31}))),
            401,
            "not_yet_valid",
        ),
        (
            "not before the future",
            key.sign(None, &claims(json!({"nbf": now + 31}))),
            401,
            "not_yet_valid",
        ),
        (
            "no jti",
            key.sign(None, &claims(json!({"jti": null}))),
            401,
            "missing_claim",
        ),
        (
            "signed by another key",
            other.sign(Some(&key.kid()), &claims(json!({}))),
            401,
            "bad_signature",
        ),
        (
            "an unknown kid",
            other.sign(None, &claims(json!({}))),
            401,
            "unknown_key",
        ),
        (
            "HS256 with the public key as secret",
            hs256,
            401,
            "algorithm_not_allowed",
        ),
        ("alg none", none, 401, "malformed_assertion"),
        ("crit header", crit, 401, "malformed_assertion"),
        ("first use", replayed.clone(), 200, ""),
        ("replayed", replayed, 401, "replayed"),
        ("not a JWT", "abc".into(), 401, "malformed_assertion"),
    ];
    let unauthorized =
        r#"{"error":"invalid_client","error_description":"client authentication failed"}"#;
    for (what, assertion, status, reason) in rows {
        let before = scrape(&server.http, server.management.unwrap()).await;
        let r = server.token_raw(&assertion_form(&assertion), None).await;
        assert_eq!(r.status(), status, "{what}");
        let body = r.text().await.unwrap();
        if status == 401 {
            assert_eq!(
                body, unauthorized,
                "{what}: the same body for every failure"
            );
            let after = scrape(&server.http, server.management.unwrap()).await;
            let series = format!(r#"tollgate_client_auth_failures_total{{reason="{reason}"}}"#);
            assert!(
                metric(&after, &series) == metric(&before, &series) + 1.0,
                "{what}: {series} did not move:\n{after}"
            );
        } else {
            let token: Value = serde_json::from_str(&body).unwrap();
            let (_, payload) = crate::support::jwt_parts(token["access_token"].as_str().unwrap());
            assert_eq!(payload["client_id"], "reports", "{what}");
        }
    }
}

#[tokio::test]
async fn an_assertion_with_other_authentication_or_a_wrong_type_is_a_bad_request() {
    let key = Signer::new(tollgate::Algorithm::EdDSA);
    let server = TestServer::spawn(&config(&key)).await;
    let issuer = server.issuer();
    let now = crate::support::now().unix_timestamp();
    let assertion = key.sign(
        None,
        &json!({"iss":"reports","sub":"reports","aud":issuer,"exp":now+60,"jti":"x"}),
    );
    let form = assertion_form(&assertion);
    let cases = [
        (
            form.clone(),
            Some(basic("reports", "s")),
            400,
            "invalid_request",
        ),
        (
            format!("{form}&client_secret=s&client_id=reports"),
            None,
            400,
            "invalid_request",
        ),
        (
            format!("grant_type=client_credentials&client_assertion={assertion}"),
            None,
            400,
            "invalid_request",
        ),
        (
            format!(
                "grant_type=client_credentials&client_assertion_type=urn:x&client_assertion={assertion}"
            ),
            None,
            400,
            "invalid_request",
        ),
        (
            format!("{form}&client_id=someone-else"),
            None,
            401,
            "invalid_client",
        ),
        (format!("{form}&client_id=reports"), None, 200, ""),
    ];
    for (body, authorization, status, error) in cases {
        let r = server.token_raw(&body, authorization.as_deref()).await;
        assert_eq!(r.status(), status, "{body}");
        let json: Value = r.json().await.unwrap();
        if status != 200 {
            assert_eq!(json["error"], error, "{body}");
        }
    }
}

/// A server on a pinned clock with client `reports`, whose keys are at
/// `keys`' `jwks_uri` (holding `signer`'s key), and the clock.
async fn jwks_uri_client(
    keys: &crate::support::KeyServer,
    signer: &Signer,
) -> (TestServer, Arc<ManualClock>) {
    *keys.keys.lock().unwrap() = vec![signer.jwk.clone()];
    let url = keys.url.lock().unwrap().clone();
    let toml = format!(
        "[[api_scopes]]\nname = \"api1\"\n[[clients]]\nclient_id = \"reports\"\nallowed_scopes = [\"api1\"]\njwks_uri = \"{url}/jwks\"\n"
    );
    let clock = ManualClock::new(start());
    (
        TestServer::spawn_with_clock(&toml, clock.clone()).await,
        clock,
    )
}

/// A fresh assertion of `reports` signed by `signer`, at `clock`'s time.
fn reports_assertion(signer: &Signer, issuer: &str, clock: &ManualClock) -> String {
    let now = clock_now(clock);
    assertion_form(&signer.sign(
        None,
        &json!({"iss":"reports","sub":"reports","aud":issuer,"exp":now+60,"jti":format!("j{}", unique())}),
    ))
}

#[tokio::test]
async fn a_slow_refetch_for_an_unknown_kid_does_not_delay_the_clients_other_keys() {
    let keys = key_server().await;
    let known = Signer::new(tollgate::Algorithm::ES256);
    let (server, clock) = jwks_uri_client(&keys, &known).await;
    let issuer = server.issuer();
    let assertion = |s: &Signer| reports_assertion(s, &issuer, &clock);
    let fetches = || keys.jwks_fetches.load(Ordering::SeqCst);
    assert_eq!(
        server.token_raw(&assertion(&known), None).await.status(),
        200
    );
    assert_eq!(fetches(), 1, "the prefetch at start");
    // A forged (or freshly rotated) kid, past the refetch interval, while
    // the client's JWKS answers slowly: a refetch starts and hangs.
    clock.advance(time::Duration::seconds(11));
    keys.delay_ms.store(4_000, Ordering::SeqCst);
    let stranger = Signer::new(tollgate::Algorithm::ES256);
    let forged = assertion(&stranger);
    let slow = server.token_raw(&forged, None);
    let known_meanwhile = async {
        eventually(
            Duration::from_secs(5),
            "the slow refetch to start",
            || async { (fetches() == 2).then_some(()) },
        )
        .await;
        let started = Instant::now();
        let status = server.token_raw(&assertion(&known), None).await.status();
        (status, started.elapsed())
    };
    let (slow, (status, waited)) = tokio::join!(slow, known_meanwhile);
    assert_eq!(status, 200);
    assert!(
        waited < Duration::from_secs(2),
        "a known key waited {waited:?} for another kid's refetch"
    );
    assert_eq!(slow.status(), 401);
}

#[tokio::test]
async fn with_more_than_four_keys_a_kid_less_assertion_is_refused_unchecked() {
    let keys = key_server().await;
    let signers: Vec<Signer> = (0..5)
        .map(|_| Signer::new(tollgate::Algorithm::ES256))
        .collect();
    *keys.keys.lock().unwrap() = signers.iter().map(|s| s.jwk.clone()).collect();
    let url = keys.url.lock().unwrap().clone();
    let toml = format!(
        "[throttle]\nclient_failures = 0\naddress_failures = 0\n[[api_scopes]]\nname = \"api1\"\n[[clients]]\nclient_id = \"reports\"\nallowed_scopes = [\"api1\"]\njwks_uri = \"{url}/jwks\"\n"
    );
    let clock = ManualClock::new(start());
    let server = TestServer::spawn_with_clock(&managed(&toml), clock.clone()).await;
    let issuer = server.issuer();
    let claims = || {
        let now = clock_now(&clock);
        json!({"iss":"reports","sub":"reports","aud":issuer,"exp":now+60,"jti":format!("j{}", unique())})
    };
    let series = r#"tollgate_client_auth_failures_total{reason="too_many_keys"}"#;
    let before = scrape(&server.http, server.management.unwrap()).await;
    // Signed by one of the five, but naming none: not tried at all.
    let kid_less = assertion_form(&signers[4].sign_without_kid(&claims()));
    let r = server.token_raw(&kid_less, None).await;
    assert_eq!(r.status(), 401);
    assert_eq!(
        r.text().await.unwrap(),
        r#"{"error":"invalid_client","error_description":"client authentication failed"}"#
    );
    let after = scrape(&server.http, server.management.unwrap()).await;
    assert_eq!(metric(&after, series), metric(&before, series) + 1.0);
    // With its kid, the same key is found at once.
    let named = assertion_form(&signers[4].sign(None, &claims()));
    assert_eq!(server.token_raw(&named, None).await.status(), 200);
}

#[tokio::test]
async fn a_jwks_uri_is_cached_for_its_max_age_and_refetched_for_a_new_kid_at_most_every_10_s() {
    let keys = key_server().await;
    let first = Signer::new(tollgate::Algorithm::ES256);
    let (server, clock) = jwks_uri_client(&keys, &first).await;
    let issuer = server.issuer();
    let assertion = |s: &Signer| reports_assertion(s, &issuer, &clock);
    let fetches = || keys.jwks_fetches.load(Ordering::SeqCst);
    // The prefetch at start, then cached.
    for _ in 0..3 {
        assert_eq!(
            server.token_raw(&assertion(&first), None).await.status(),
            200
        );
    }
    assert_eq!(fetches(), 1, "fetched once");
    // The client rotates (later than 10 s after the fetch at start): a new
    // kid is fetched for.
    clock.advance(time::Duration::seconds(11));
    let second = Signer::new(tollgate::Algorithm::ES256);
    *keys.keys.lock().unwrap() = vec![first.jwk.clone(), second.jwk.clone()];
    assert_eq!(
        server.token_raw(&assertion(&second), None).await.status(),
        200
    );
    assert_eq!(fetches(), 2, "refetched for the new kid");
    // An unknown kid within 10 s: no fetch.
    let stranger = Signer::new(tollgate::Algorithm::ES256);
    assert_eq!(
        server.token_raw(&assertion(&stranger), None).await.status(),
        401
    );
    assert_eq!(fetches(), 2, "no refetch within 10 s");
    clock.advance(time::Duration::seconds(11));
    assert_eq!(
        server.token_raw(&assertion(&stranger), None).await.status(),
        401
    );
    assert_eq!(fetches(), 3, "one more after 10 s");
    // max-age (60 s) passes: the next request fetches, and a key that left
    // the JWKS no longer authenticates.
    *keys.keys.lock().unwrap() = vec![second.jwk.clone()];
    clock.advance(time::Duration::seconds(61));
    assert_eq!(
        server.token_raw(&assertion(&first), None).await.status(),
        401
    );
    assert_eq!(
        server.token_raw(&assertion(&second), None).await.status(),
        200
    );
    assert_eq!(fetches(), 4);
}

#[tokio::test]
async fn an_unreachable_jwks_uri_is_invalid_client_and_a_log_line_never_a_crash() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let toml = format!(
        "[[api_scopes]]\nname = \"api1\"\n[[clients]]\nclient_id = \"reports\"\nallowed_scopes = [\"api1\"]\njwks_uri = \"http://{closed}/jwks\"\n"
    );
    let server = TestServer::spawn(&managed(&toml)).await;
    let key = Signer::new(tollgate::Algorithm::ES256);
    let now = crate::support::now().unix_timestamp();
    let a = key.sign(
        None,
        &json!({"iss":"reports","sub":"reports","aud":server.issuer(),"exp":now+60,"jti":"x"}),
    );
    assert_eq!(
        server.token_raw(&assertion_form(&a), None).await.status(),
        401
    );
    let m = scrape(&server.http, server.management.unwrap()).await;
    assert!(m.contains(r#"reason="keys_unreachable""#), "{m}");
    assert_eq!(
        server.basic_status("nobody", "x").await,
        401,
        "still serving"
    );
}

/// A Kubernetes-shaped platform token.
fn kubernetes_token(
    platform: &Signer,
    aud: &str,
    namespace: &str,
    account: &str,
    now: i64,
    lifetime: i64,
) -> String {
    platform.sign(
        None,
        &json!({
            "aud": [aud],
            "exp": now + lifetime,
            "iat": now,
            "nbf": now,
            "iss": "https://kubernetes.default.svc.cluster.local",
            "sub": format!("system:serviceaccount:{namespace}:{account}"),
            "kubernetes.io": {
                "namespace": namespace,
                "pod": { "name": "worker-7d9", "uid": "7a1c" },
                "serviceaccount": { "name": account, "uid": "5b2d" }
            }
        }),
    )
}

fn federation_config(platform_jwks_file: &str, extra: &str) -> String {
    format!(
        r#"
[throttle]
client_failures = 0
address_failures = 0
[[api_scopes]]
name = "api1"
[[trusted_issuers]]
name = "cluster"
issuer = "https://kubernetes.default.svc.cluster.local"
jwks_file = "{platform_jwks_file}"
audience = "https://tollgate.example.com"
max_token_lifetime = "1h"
[[clients]]
client_id = "billing"
allowed_scopes = ["api1"]
[[clients.federated]]
issuer = "cluster"
subject = "system:serviceaccount:billing:worker"
claims = {{ "/kubernetes.io/namespace" = "billing" }}
[[clients]]
client_id = "batch"
allowed_scopes = ["api1"]
[[clients.federated]]
issuer = "cluster"
subject = "system:serviceaccount:batch-*:runner"
{extra}"#
    )
}

#[tokio::test]
async fn kubernetes_service_account_tokens_select_exactly_one_client() {
    let platform = Signer::new(tollgate::Algorithm::RS256);
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("cluster-jwks.json"),
        json!({"keys": [platform.jwk]}).to_string(),
    )
    .unwrap();
    // A third client whose rule overlaps batch's: ambiguous for batch-x.
    let ambiguous = "[[clients]]\nclient_id = \"overlap\"\nallowed_scopes = [\"api1\"]\n[[clients.federated]]\nissuer = \"cluster\"\nsubject = \"system:serviceaccount:batch-x:*\"\n";
    std::fs::write(
        dir.path().join("identity.toml"),
        managed(&federation_config("cluster-jwks.json", ambiguous)),
    )
    .unwrap();
    let server = TestServer::spawn_in(dir).await;
    let aud = "https://tollgate.example.com";
    let now = crate::support::now().unix_timestamp();
    let stranger = Signer::new(tollgate::Algorithm::RS256);
    let rows: Vec<(&str, String, u16, &str)> = vec![
        (
            "the billing worker",
            kubernetes_token(&platform, aud, "billing", "worker", now, 3600),
            200,
            "billing",
        ),
        (
            "a pattern subject",
            kubernetes_token(&platform, aud, "batch-nightly", "runner", now, 600),
            200,
            "batch",
        ),
        (
            "two rules match",
            kubernetes_token(&platform, aud, "batch-x", "runner", now, 600),
            401,
            "ambiguous_client",
        ),
        (
            "no rule matches",
            kubernetes_token(&platform, aud, "billing", "intruder", now, 600),
            401,
            "no_matching_client",
        ),
        (
            "another audience",
            kubernetes_token(&platform, "https://other", "billing", "worker", now, 600),
            401,
            "wrong_audience",
        ),
        (
            "longer than the issuer allows",
            kubernetes_token(&platform, aud, "billing", "worker", now, 7200),
            401,
            "lifetime_too_long",
        ),
        (
            "expired",
            kubernetes_token(&platform, aud, "billing", "worker", now - 7200, 3600),
            401,
            "expired",
        ),
        (
            "signed by someone else",
            kubernetes_token(&stranger, aud, "billing", "worker", now, 600),
            401,
            "unknown_key",
        ),
    ];
    for (what, token, status, expect) in rows {
        let before = scrape(&server.http, server.management.unwrap()).await;
        let r = server.token_raw(&assertion_form(&token), None).await;
        assert_eq!(r.status(), status, "{what}");
        let json: Value = r.json().await.unwrap();
        if status == 200 {
            let (_, payload) = crate::support::jwt_parts(json["access_token"].as_str().unwrap());
            assert_eq!(payload["client_id"], expect, "{what}");
        } else {
            let after = scrape(&server.http, server.management.unwrap()).await;
            let series = format!(r#"tollgate_client_auth_failures_total{{reason="{expect}"}}"#);
            assert_eq!(
                metric(&after, &series),
                metric(&before, &series) + 1.0,
                "{what}"
            );
        }
    }
    // The same token again (platforms reuse them until they expire).
    let reused = kubernetes_token(&platform, aud, "billing", "worker", now, 3600);
    for _ in 0..3 {
        assert_eq!(
            server
                .token_raw(&assertion_form(&reused), None)
                .await
                .status(),
            200
        );
    }
    // The claim condition is checked too: a billing-named account elsewhere.
    let elsewhere = kubernetes_token(&platform, aud, "payments", "worker", now, 600);
    assert_eq!(
        server
            .token_raw(&assertion_form(&elsewhere), None)
            .await
            .status(),
        401
    );
}

#[tokio::test]
async fn github_actions_tokens_are_trusted_through_the_issuers_discovery() {
    let keys = key_server().await;
    let platform = Signer::new(tollgate::Algorithm::RS256);
    *keys.keys.lock().unwrap() = vec![platform.jwk.clone()];
    let issuer = keys.url.lock().unwrap().clone();
    let toml = format!(
        r#"
[[api_scopes]]
name = "api1"
[[trusted_issuers]]
name = "github"
issuer = "{issuer}"
audience = "https://github.com/acme"
max_token_lifetime = "10m"
[[clients]]
client_id = "deployer"
allowed_scopes = ["api1"]
[[clients.federated]]
issuer = "github"
subject = "repo:acme/app:ref:refs/heads/*"
claims = {{ repository = "acme/app", repository_owner = "acme" }}
"#
    );
    let server = TestServer::spawn(&toml).await;
    let now = crate::support::now().unix_timestamp();
    let token = |sub: &str, repository: &str| {
        platform.sign(
            None,
            &json!({
                "iss": issuer, "aud": "https://github.com/acme", "sub": sub,
                "repository": repository, "repository_owner": "acme",
                "ref": "refs/heads/main", "iat": now, "nbf": now, "exp": now + 300,
                "jti": "abc", "workflow": "deploy"
            }),
        )
    };
    let main = token("repo:acme/app:ref:refs/heads/main", "acme/app");
    assert_eq!(
        server
            .token_raw(&assertion_form(&main), None)
            .await
            .status(),
        200
    );
    assert_eq!(
        server
            .token_raw(&assertion_form(&main), None)
            .await
            .status(),
        200,
        "presented again"
    );
    let fork = token("repo:acme/app:ref:refs/heads/main", "evil/app");
    assert_eq!(
        server
            .token_raw(&assertion_form(&fork), None)
            .await
            .status(),
        401
    );
    let tag = token("repo:acme/app:ref:refs/tags/v1", "acme/app");
    assert_eq!(
        server.token_raw(&assertion_form(&tag), None).await.status(),
        401
    );
}

#[tokio::test]
async fn a_federated_client_added_by_a_reload_gets_tokens_at_once() {
    let platform = Signer::new(tollgate::Algorithm::ES256);
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("cluster-jwks.json"),
        json!({"keys": [platform.jwk]}).to_string(),
    )
    .unwrap();
    let without = crate::support::quickstart_toml();
    std::fs::write(dir.path().join("identity.toml"), &without).unwrap();
    let server = TestServer::spawn_in(dir).await;
    let aud = "https://tollgate.example.com";
    let now = crate::support::now().unix_timestamp();
    let token = kubernetes_token(&platform, aud, "billing", "worker", now, 600);
    assert_eq!(
        server
            .token_raw(&assertion_form(&token), None)
            .await
            .status(),
        401
    );
    let with = format!(
        "{without}\n{}",
        federation_config("cluster-jwks.json", "")
            .replace("[[api_scopes]]\nname = \"api1\"\n", "")
            .replace(
                "[throttle]\nclient_failures = 0\naddress_failures = 0\n",
                ""
            )
    );
    std::fs::write(server.dir.path().join("identity.toml"), with).unwrap();
    let (http, url) = (server.http.clone(), server.url("/connect/token"));
    eventually(Duration::from_secs(10), "the federated client", || {
        let (http, url, form) = (http.clone(), url.clone(), assertion_form(&token));
        async move {
            let r = http
                .post(url)
                .header("Content-Type", "application/x-www-form-urlencoded")
                .body(form)
                .send()
                .await
                .ok()?;
            (r.status() == 200).then_some(())
        }
    })
    .await;
}

#[test]
fn check_reports_every_mistake_of_keys_and_federation_at_its_line() {
    let key = Signer::new(tollgate::Algorithm::ES256);
    let mut private = key.jwk.clone();
    private["d"] = json!("AAAA");
    let private_toml = Signer {
        jwk: private,
        ..Signer::new(tollgate::Algorithm::ES256)
    }
    .toml();
    let head = "[[api_scopes]]\nname = \"api1\"\n[[trusted_issuers]]\nname = \"cluster\"\nissuer = \"https://k8s.example\"\njwks_uri = \"https://k8s.example/jwks\"\n";
    let client = |body: &str| {
        format!("{head}[[clients]]\nclient_id = \"c\"\nallowed_scopes = [\"api1\"]\n{body}")
    };
    let rows: Vec<(String, &str, &str)> = vec![
        (client(&format!("jwks = {{ keys = [ {private_toml} ] }}\n")), "clients[0].jwks.keys[0]", "private member `d`"),
        (client(&format!("jwks = {{ keys = [ {} ] }}\njwks_uri = \"https://c.example/jwks\"\n", key.toml())), "clients[0].jwks_uri", "both set"),
        (client(&format!("jwks = {{ keys = [ {{ kty = \"RSA\", e = \"AQAB\", n = \"{}\" }} ] }}\n", B64.encode([0xc5u8; 1024]))), "clients[0].jwks.keys[0]", "at most 4096 bits (this one: 8192)"),
        (client("jwks_uri = \"http://c.example/jwks\"\n"), "clients[0].jwks_uri", "https"),
        (client("jwks_file = \"missing.json\"\n"), "clients[0].jwks_file", "cannot read"),
        (client("[[clients.federated]]\nissuer = \"nowhere\"\nsubject = \"x\"\n"), "clients[0].federated[0].issuer", "trusted_issuers"),
        (client("[[clients.federated]]\nissuer = \"cluster\"\nsubject = \"system:serviceaccount:billing:default\"\n"), "clients[0].federated[0].subject", "default"),
        (client("[[clients.federated]]\nissuer = \"cluster\"\nsubject = \"*\"\n"), "clients[0].federated[0].subject", "`*` alone"),
        (
            "[[trusted_issuers]]\nname = \"gh\"\nissuer = \"http://token.example\"\n".into(),
            "trusted_issuers[0].issuer",
            "https",
        ),
        (
            "[[trusted_issuers]]\nname = \"gh\"\nissuer = \"https://a.example\"\njwks_uri = \"https://a.example/k\"\njwks_file = \"k.json\"\n".into(),
            "trusted_issuers[0].jwks_file",
            "both set",
        ),
    ];
    for (toml, path, words) in rows {
        let problem = crate::support::refused_at(&toml, path);
        assert!(
            problem.message.contains(words),
            "{path}: {}",
            problem.message
        );
    }
}

#[tokio::test]
async fn an_assertion_signed_with_the_fully_specified_name_ed25519_is_accepted() {
    use rustls_pki_types::pem::PemObject;
    let key = Signer::new(tollgate::Algorithm::EdDSA);
    let server = TestServer::spawn(&config(&key)).await;
    let der = rustls_pki_types::PrivatePkcs8KeyDer::from_pem_slice(key.pem.as_bytes()).unwrap();
    let pair =
        aws_lc_rs::signature::Ed25519KeyPair::from_pkcs8_maybe_unchecked(der.secret_pkcs8_der())
            .unwrap();
    let now = crate::support::now().unix_timestamp();
    // RFC 9864: "Ed25519" names EdDSA on an Ed25519 key (openid-client uses it).
    let header = B64.encode(json!({"alg": "Ed25519", "kid": key.kid()}).to_string());
    let payload = B64.encode(
        json!({"iss":"reports","sub":"reports","aud":server.issuer(),"exp":now+60,"jti":"ed"})
            .to_string(),
    );
    let signed = format!("{header}.{payload}");
    let token = format!(
        "{signed}.{}",
        B64.encode(pair.sign(signed.as_bytes()).as_ref())
    );
    assert_eq!(
        server
            .token_raw(&assertion_form(&token), None)
            .await
            .status(),
        200
    );
    let discovery: Value = server.get_json("/.well-known/openid-configuration").await;
    assert!(
        discovery["token_endpoint_auth_signing_alg_values_supported"]
            .as_array()
            .unwrap()
            .contains(&json!("Ed25519"))
    );
}
