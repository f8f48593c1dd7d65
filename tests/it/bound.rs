//! Bound tokens: resource indicators (RFC 8707), DPoP (RFC 9449) at the
//! token endpoint and at an API, introspection (RFC 7662), and single use
//! across replicas through a real Redis.

use std::time::Duration;

use base64::Engine;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};
use tollgate_jose::clock::{Clock, ManualClock};
use tollgate_resource::{Rejection, TokenValidator};

use crate::support::{
    Dpop, Redis, Signer, TestServer, assertion_form, basic, eventually, hash, jwt_parts, start,
    unique,
};

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::URL_SAFE_NO_PAD;

fn config() -> String {
    format!(
        r#"
[throttle]
client_failures = 0
address_failures = 0
[[api_scopes]]
name = "orders.read"
[[api_scopes]]
name = "orders.write"
[[api_scopes]]
name = "billing.read"
[[api_scopes]]
name = "other"
[[api_resources]]
name = "https://orders.example.com"
scopes = ["orders.read", "orders.write"]
[[api_resources.secrets]]
hash = "{h}"
[[api_resources]]
name = "urn:billing"
scopes = ["billing.read"]
[[api_resources.secrets]]
hash = "{h}"
[[api_resources]]
name = "urn:elsewhere"
scopes = ["other"]
[[clients]]
client_id = "app"
allowed_scopes = ["orders.read", "orders.write", "billing.read"]
[[clients.secrets]]
hash = "{h}"
[[clients]]
client_id = "strict"
allowed_scopes = ["orders.read"]
require_dpop = true
[[clients.secrets]]
hash = "{h}"
"#,
        h = hash("secret")
    )
}

fn form(s: &str) -> String {
    crate::support::form(s)
}

#[tokio::test]
async fn resource_indicators_narrow_the_audience_and_the_scopes() {
    let server = TestServer::spawn(&config()).await;
    let auth = basic("app", "secret");
    let ask = |resources: &[&str], scope: Option<&str>| {
        let mut body = "grant_type=client_credentials".to_owned();
        for r in resources {
            body += &format!("&resource={}", form(r));
        }
        if let Some(s) = scope {
            body += &format!("&scope={}", form(s));
        }
        body
    };
    let orders = "https://orders.example.com";
    // (resources, scope) -> (status, error, aud, scope)
    type Row<'a> = (Vec<&'a str>, Option<&'a str>, u16, &'a str, Value, &'a str);
    let rows: Vec<Row> = vec![
        (
            vec![],
            None,
            200,
            "",
            json!([orders, "urn:billing"]),
            "orders.read orders.write billing.read",
        ),
        (
            vec![orders],
            None,
            200,
            "",
            json!(orders),
            "orders.read orders.write",
        ),
        (
            vec![orders],
            Some("orders.read billing.read"),
            200,
            "",
            json!(orders),
            "orders.read",
        ),
        (
            vec![orders, "urn:billing"],
            None,
            200,
            "",
            json!([orders, "urn:billing"]),
            "orders.read orders.write billing.read",
        ),
        (
            vec!["urn:billing"],
            Some("orders.read"),
            400,
            "invalid_target",
            json!(null),
            "",
        ),
        // Each resource needs one of the requested scopes: B beside A with
        // only A's scopes would be an audience of a token it has no scope in.
        (
            vec![orders, "urn:billing"],
            Some("orders.read"),
            400,
            "invalid_target",
            json!(null),
            "",
        ),
        (
            vec!["https://unknown.example.com"],
            None,
            400,
            "invalid_target",
            json!(null),
            "",
        ),
        (
            vec!["not absolute"],
            None,
            400,
            "invalid_target",
            json!(null),
            "",
        ),
        (
            vec!["https://orders.example.com#frag"],
            None,
            400,
            "invalid_target",
            json!(null),
            "",
        ),
        (
            vec!["urn:elsewhere"],
            None,
            400,
            "invalid_target",
            json!(null),
            "",
        ),
        (
            vec![orders, "urn:elsewhere"],
            None,
            400,
            "invalid_target",
            json!(null),
            "",
        ),
    ];
    for (resources, scope, status, error, aud, granted) in rows {
        let r = server.token_raw(&ask(&resources, scope), Some(&auth)).await;
        assert_eq!(r.status(), status, "{resources:?} {scope:?}");
        let body: Value = r.json().await.unwrap();
        if status == 200 {
            let (_, claims) = jwt_parts(body["access_token"].as_str().unwrap());
            assert_eq!(claims["aud"], aud, "{resources:?}");
            assert_eq!(body["scope"], granted, "{resources:?}");
            assert_eq!(claims["scope"], granted);
        } else {
            assert_eq!(body["error"], error, "{resources:?}");
        }
    }
}

#[tokio::test]
async fn a_dpop_proof_binds_the_token_and_every_way_to_be_wrong_is_invalid_dpop_proof() {
    let clock = ManualClock::new(start());
    let server = TestServer::spawn_with_clock(&config(), clock.clone()).await;
    let url = format!("{}/connect/token", server.issuer());
    let now = clock.now().unix_timestamp();
    let key = Dpop::new();
    let post = |proofs: Vec<String>, client: &str| {
        let mut req = server
            .http
            .post(server.url("/connect/token"))
            .header("Content-Type", "application/x-www-form-urlencoded")
            .header("Authorization", basic(client, "secret"))
            .body("grant_type=client_credentials");
        for p in proofs {
            req = req.header("DPoP", p);
        }
        req.send()
    };
    let good = key.proof("POST", &url, now, None);
    let r = post(vec![good.clone()], "app").await.unwrap();
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["token_type"], "DPoP");
    let (_, claims) = jwt_parts(body["access_token"].as_str().unwrap());
    assert_eq!(
        claims["cnf"]["jkt"],
        key.jkt(),
        "bound to the proof's key (RFC 7638)"
    );
    // Without a proof: a plain bearer token.
    let r = post(vec![], "app").await.unwrap();
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["token_type"], "Bearer");
    assert!(
        jwt_parts(body["access_token"].as_str().unwrap())
            .1
            .get("cnf")
            .is_none()
    );

    let jti = || json!(format!("j{}", unique()));
    let private = {
        let mut jwk = key.signer.jwk.clone();
        jwk["d"] = json!("AAAA");
        jwk
    };
    let bad: Vec<(&str, Vec<String>)> = vec![
        ("replayed", vec![good]),
        ("typ JWT", vec![key.proof_with(|h| h.typ = Some("JWT".into()), &json!({"htm":"POST","htu":url,"iat":now,"jti":jti()}))]),
        ("no jwk", vec![key.proof_with(|h| h.jwk = None, &json!({"htm":"POST","htu":url,"iat":now,"jti":jti()}))]),
        ("another key's jwk", vec![Dpop::new().proof_with(|h| h.jwk = key.proof_with(|_| {}, &json!({})).split('.').next().map(|p| serde_json::from_slice::<Value>(&B64.decode(p).unwrap()).unwrap()["jwk"].clone()).map(|j| serde_json::from_value(j).unwrap()), &json!({"htm":"POST","htu":url,"iat":now,"jti":jti()}))]),
        ("wrong htm", vec![key.proof_with(|_| {}, &json!({"htm":"GET","htu":url,"iat":now,"jti":jti()}))]),
        ("wrong htu", vec![key.proof_with(|_| {}, &json!({"htm":"POST","htu":"https://elsewhere/connect/token","iat":now,"jti":jti()}))]),
        ("iat too old", vec![key.proof_with(|_| {}, &json!({"htm":"POST","htu":url,"iat":now - 61,"jti":jti()}))]),
        ("iat in the future", vec![key.proof_with(|_| {}, &json!({"htm":"POST","htu":url,"iat":now + 61,"jti":jti()}))]),
        ("no jti", vec![key.proof_with(|_| {}, &json!({"htm":"POST","htu":url,"iat":now}))]),
        ("two proofs", vec![key.proof("POST", &url, now, None), key.proof("POST", &url, now, None)]),
        ("not a JWT", vec!["garbage".into()]),
        ("HS256", vec![{
            let mut h = Header::new(Algorithm::HS256);
            h.typ = Some("dpop+jwt".into());
            jsonwebtoken::encode(&h, &json!({"htm":"POST","htu":url,"iat":now,"jti":jti()}), &EncodingKey::from_secret(b"k")).unwrap()
        }]),
        ("private jwk", vec![{
            let h = B64.encode(json!({"typ":"dpop+jwt","alg":"ES256","jwk":private}).to_string());
            let p = B64.encode(json!({"htm":"POST","htu":url,"iat":now,"jti":jti()}).to_string());
            format!("{h}.{p}.AAAA")
        }]),
    ];
    for (what, proofs) in bad {
        let r = post(proofs, "app").await.unwrap();
        assert_eq!(r.status(), 400, "{what}");
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["error"], "invalid_dpop_proof", "{what}: {body}");
    }
    // A client that must use DPoP and sends no proof.
    let r = post(vec![], "strict").await.unwrap();
    assert_eq!(r.status(), 400);
    assert_eq!(r.json::<Value>().await.unwrap()["error"], "invalid_request");
    let r = post(vec![key.proof("POST", &url, now, None)], "strict")
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
}

#[tokio::test]
async fn the_validator_takes_dpop_bound_tokens_only_with_a_proof_of_the_request() {
    let server = TestServer::spawn(&config()).await;
    let token_url = format!("{}/connect/token", server.issuer());
    let key = Dpop::new();
    let now = || crate::support::now().unix_timestamp();
    let r = server
        .http
        .post(&token_url)
        .header("Content-Type", "application/x-www-form-urlencoded")
        .header("Authorization", basic("app", "secret"))
        .header("DPoP", key.proof("POST", &token_url, now(), None))
        .body("grant_type=client_credentials")
        .send()
        .await
        .unwrap();
    let token = r.json::<Value>().await.unwrap()["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let v = TokenValidator::new(&server.issuer(), Some("orders.read"));
    let api = "https://api.example.com/identity";
    let dpop_auth = format!("DPoP {token}");
    let ok = key.proof("GET", api, now(), Some(&token));
    assert!(
        v.validate_request(Some(&dpop_auth), Some(&ok), "GET", api)
            .await
            .is_ok()
    );
    let refusal = |r: Result<_, Rejection>| r.unwrap_err();
    let proof_error = |r: Rejection| matches!(r, Rejection::InvalidDpopProof(_));
    assert!(
        proof_error(refusal(
            v.validate_request(Some(&dpop_auth), Some(&ok), "GET", api)
                .await
        )),
        "replayed"
    );
    assert!(
        proof_error(refusal(
            v.validate_request(Some(&dpop_auth), None, "GET", api).await
        )),
        "no proof"
    );
    let no_ath = key.proof("GET", api, now(), None);
    assert!(proof_error(refusal(
        v.validate_request(Some(&dpop_auth), Some(&no_ath), "GET", api)
            .await
    )));
    let other_token = key.proof("GET", api, now(), Some("another token"));
    assert!(proof_error(refusal(
        v.validate_request(Some(&dpop_auth), Some(&other_token), "GET", api)
            .await
    )));
    let wrong_method = key.proof("POST", api, now(), Some(&token));
    assert!(proof_error(refusal(
        v.validate_request(Some(&dpop_auth), Some(&wrong_method), "GET", api)
            .await
    )));
    let other_key = Dpop::new().proof("GET", api, now(), Some(&token));
    assert!(proof_error(refusal(
        v.validate_request(Some(&dpop_auth), Some(&other_key), "GET", api)
            .await
    )));
    // An API whose scope the token lacks: 403, and the proof takes no
    // room (it was remembered before the scope was judged, so a token
    // without the scope could fill the store).
    let elsewhere = TokenValidator::new(&server.issuer(), Some("payments.write"));
    let fresh = key.proof("GET", api, now(), Some(&token));
    for _ in 0..2 {
        let r = refusal(
            elsewhere
                .validate_request(Some(&dpop_auth), Some(&fresh), "GET", api)
                .await,
        );
        assert!(matches!(r, Rejection::DpopInsufficientScope(_)), "{r:?}");
    }
    // The bound token as a bearer one: refused (RFC 9449 §7.2).
    let bearer = refusal(v.validate(Some(&format!("Bearer {token}"))).await);
    assert!(matches!(bearer, Rejection::InvalidToken(_)), "{bearer:?}");
    let challenge = Rejection::InvalidDpopProof("x".into())
        .www_authenticate()
        .unwrap();
    assert!(
        challenge.starts_with("DPoP error=\"invalid_dpop_proof\""),
        "{challenge}"
    );
    assert!(challenge.contains("algs=\"ES256"), "{challenge}");
}

#[tokio::test]
async fn introspection_answers_from_the_file_in_force() {
    let clock = ManualClock::new(start());
    let server = TestServer::spawn_with_clock(&config(), clock.clone()).await;
    let get = |scope: &str| {
        let server = &server;
        let scope = scope.to_owned();
        async move {
            server.token("app", "secret", Some(&scope)).await["access_token"]
                .as_str()
                .unwrap()
                .to_owned()
        }
    };
    let orders_token = get("orders.read").await;
    let billing_token = get("billing.read").await;
    let introspect = |caller: &str, token: &str| {
        server
            .http
            .post(server.url("/connect/introspect"))
            .header("Content-Type", "application/x-www-form-urlencoded")
            .header("Authorization", basic(caller, "secret"))
            .body(format!("token={token}"))
            .send()
    };
    let active = |r: Value| r["active"].as_bool().unwrap();
    let orders = "https://orders.example.com";
    let r = introspect(orders, &orders_token).await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["cache-control"], "no-store");
    let body: Value = r.json().await.unwrap();
    assert!(active(body.clone()), "{body}");
    for field in [
        "scope",
        "client_id",
        "sub",
        "aud",
        "iss",
        "exp",
        "iat",
        "nbf",
        "jti",
    ] {
        assert!(body.get(field).is_some(), "{field}: {body}");
    }
    assert_eq!(body["token_type"], "Bearer");
    // Another API's token: not for this caller.
    let r: Value = introspect(orders, &billing_token)
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(r, json!({"active": false}));
    assert!(!active(
        introspect(orders, "garbage")
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    ));
    // A wrong secret: the one invalid_client.
    let r = server
        .http
        .post(server.url("/connect/introspect"))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .header("Authorization", basic(orders, "wrong"))
        .body(format!("token={orders_token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let r = introspect(orders, "").await.unwrap();
    assert_eq!(r.status(), 400, "no token");
    // Expiry, by the pinned clock.
    clock.advance(time::Duration::hours(2));
    assert!(!active(
        introspect(orders, &orders_token)
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    ));
    clock.advance(time::Duration::hours(-2));
    assert!(active(
        introspect(orders, &orders_token)
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    ));
    // One edit revokes every earlier token: tokens_valid_after, disabled,
    // removed.
    let file = server.dir.path().join("identity.toml");
    let edits = [
        config().replace(
            "client_id = \"app\"\n",
            &format!(
                "client_id = \"app\"\ntokens_valid_after = {}\n",
                crate::support::at(3600)
            ),
        ),
        config().replace(
            "client_id = \"app\"\n",
            "client_id = \"app\"\nenabled = false\n",
        ),
        config().replace("client_id = \"app\"", "client_id = \"renamed\""),
    ];
    for (generation, edit) in edits.iter().enumerate() {
        std::fs::write(&file, edit).unwrap();
        wait_generation(&server, generation as u64 + 2).await;
        assert!(
            !active(
                introspect(orders, &orders_token)
                    .await
                    .unwrap()
                    .json()
                    .await
                    .unwrap()
            ),
            "after edit {generation}"
        );
    }
    std::fs::write(&file, config()).unwrap();
    wait_generation(&server, 5).await;
    assert!(
        active(
            introspect(orders, &orders_token)
                .await
                .unwrap()
                .json()
                .await
                .unwrap()
        ),
        "put back"
    );
}

async fn wait_generation(server: &TestServer, generation: u64) {
    let (http, url) = (server.http.clone(), server.url("/healthz"));
    crate::support::eventually(Duration::from_secs(10), "the reload", || {
        let (http, url) = (http.clone(), url.clone());
        async move {
            let h: Value = http.get(url).send().await.ok()?.json().await.ok()?;
            (h["config"]["generation"] == generation).then_some(())
        }
    })
    .await;
}

#[tokio::test]
async fn two_replicas_sharing_redis_refuse_a_replayed_assertion_and_proof_and_survive_redis_stopping()
 {
    let Some(mut redis) = Redis::start(&[]).await else {
        return;
    };
    let client_key = Signer::new(tollgate::Algorithm::ES256);
    let dir = tempfile::tempdir().unwrap();
    let keys = tempfile::tempdir().unwrap();
    crate::support::write_key(keys.path(), "k.pem", tollgate::Algorithm::ES256);
    let toml = format!(
        "issuer = \"https://id.example.com\"\n[replay]\nstore = \"redis://127.0.0.1:{}\"\n[[keys.signing]]\nfile = \"{}\"\nactivate_at = {}\n{}\n[[clients]]\nclient_id = \"reports\"\nallowed_scopes = [\"orders.read\"]\njwks = {{ keys = [ {} ] }}\n",
        redis.port,
        keys.path().join("k.pem").display(),
        crate::support::at(-60),
        config(),
        client_key.toml()
    );
    std::fs::write(dir.path().join("identity.toml"), &toml).unwrap();
    let a = TestServer::spawn(&toml).await;
    let b = TestServer::spawn(&toml).await;
    drop(dir);
    let now = crate::support::now().unix_timestamp();
    let assertion = client_key.sign(
        None,
        &json!({"iss":"reports","sub":"reports","aud":"https://id.example.com","exp":now+60,"jti":"once-across-replicas"}),
    );
    assert_eq!(
        a.token_raw(&assertion_form(&assertion), None)
            .await
            .status(),
        200
    );
    assert_eq!(
        b.token_raw(&assertion_form(&assertion), None)
            .await
            .status(),
        401,
        "replayed at the other replica"
    );
    // A DPoP proof, too.
    let key = Dpop::new();
    let proof = key.proof("POST", "https://id.example.com/connect/token", now, None);
    let with_proof = |server: &TestServer| {
        server
            .http
            .post(server.url("/connect/token"))
            .header("Content-Type", "application/x-www-form-urlencoded")
            .header("Authorization", basic("app", "secret"))
            .header("DPoP", proof.clone())
            .body("grant_type=client_credentials")
            .send()
    };
    assert_eq!(with_proof(&a).await.unwrap().status(), 200);
    let replayed = with_proof(&b).await.unwrap();
    assert_eq!(replayed.status(), 400);
    assert_eq!(
        replayed.json::<Value>().await.unwrap()["error"],
        "invalid_dpop_proof"
    );
    // Redis goes away: what needs it is 503 with Retry-After; secrets work.
    let _ = redis.child.kill();
    let _ = redis.child.wait();
    let fresh = client_key.sign(
        None,
        &json!({"iss":"reports","sub":"reports","aud":"https://id.example.com","exp":now+60,"jti":"after-redis"}),
    );
    let r = a.token_raw(&assertion_form(&fresh), None).await;
    assert_eq!(r.status(), 503);
    assert!(r.headers().contains_key("retry-after"));
    assert_eq!(
        r.json::<Value>().await.unwrap()["error"],
        "temporarily_unavailable"
    );
    assert_eq!(
        a.basic_status("app", "secret").await,
        200,
        "secrets keep working"
    );
    let health: Value = a.get_json("/healthz").await;
    assert_eq!(health["replay"]["store"], "redis");
    assert_eq!(health["replay"]["reachable"], false);
    assert_eq!(health["status"], "degraded");
}

#[tokio::test]
async fn with_redis_a_client_over_its_quota_is_refused_alone_and_an_evicting_policy_is_reported() {
    let Some(redis) = Redis::start(&["--maxmemory-policy", "allkeys-lru"]).await else {
        return;
    };
    let client_key = Signer::new(tollgate::Algorithm::ES256);
    let toml = format!(
        "issuer = \"https://id.example.com\"\n[replay]\nstore = \"redis://127.0.0.1:{}\"\nmax_per_client = 2\n{}\n[[clients]]\nclient_id = \"reports\"\nallowed_scopes = [\"orders.read\"]\njwks = {{ keys = [ {} ] }}\n",
        redis.port,
        config(),
        client_key.toml()
    );
    let server = TestServer::spawn(&toml).await;
    let now = crate::support::now().unix_timestamp();
    let assertion = |jti: &str| {
        assertion_form(&client_key.sign(
            None,
            &json!({"iss":"reports","sub":"reports","aud":"https://id.example.com","exp":now+60,"jti":jti}),
        ))
    };
    for jti in ["a", "b"] {
        assert_eq!(server.token_raw(&assertion(jti), None).await.status(), 200);
    }
    let over = server.token_raw(&assertion("c"), None).await;
    assert_eq!(over.status(), 503);
    assert!(over.headers().contains_key("retry-after"));
    assert_eq!(
        server.token_raw(&assertion("a"), None).await.status(),
        401,
        "a replay"
    );
    // Another client's DPoP proofs still have room.
    let key = Dpop::new();
    let proof = key.proof("POST", "https://id.example.com/connect/token", now, None);
    let r = server
        .http
        .post(server.url("/connect/token"))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .header("Authorization", basic("app", "secret"))
        .header("DPoP", proof)
        .body("grant_type=client_credentials")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    // The policy lets Redis evict used ids: said in /healthz.
    eventually(Duration::from_secs(5), "the eviction warning", || async {
        let health: Value = server.get_json("/healthz").await;
        health["replay"]["warning"]
            .as_str()
            .is_some_and(|w| w.contains("allkeys-lru"))
            .then_some(())
    })
    .await;
}
