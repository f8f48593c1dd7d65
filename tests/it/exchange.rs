//! Token exchange (RFC 8693) against the real server: tollgate's own
//! tokens and a trusted issuer's as subjects, `act` nested along a chain,
//! `exp` never extended, the policy of `[[clients.token_exchange]]`, the
//! errors the contract names, introspection of an exchanged token, and
//! the audit line. Time is pinned where expiry is tested.

use serde_json::{Value, json};
use tollgate_jose::clock::ManualClock;

use crate::support::{
    Dpop, Signer, TestServer, basic, clock_now, eventually, form, hash, jwt_parts, start,
    start_logged,
};

const EXCHANGE: &str = "urn:ietf:params:oauth:grant-type:token-exchange";
const ACCESS_TOKEN: &str = "urn:ietf:params:oauth:token-type:access_token";
const JWT: &str = "urn:ietf:params:oauth:token-type:jwt";
const ORDERS: &str = "https://orders.example.com";
const INVENTORY: &str = "https://inventory.example.com";
const STOCK: &str = "https://stock.example.com";
const IDP: &str = "https://idp.example.com";

/// A frontend calls orders; orders calls inventory for the frontend's
/// caller; inventory calls stock in turn. `frontend_extra` goes into the
/// frontend client's table.
fn config(frontend_extra: &str) -> String {
    let secret = hash("secret");
    format!(
        r#"
[throttle]
client_failures = 0
address_failures = 0
[[api_scopes]]
name = "orders.read"
[[api_scopes]]
name = "inventory.read"
[[api_scopes]]
name = "inventory.write"
[[api_scopes]]
name = "stock.read"
[[api_resources]]
name = "{ORDERS}"
scopes = ["orders.read"]
[[api_resources]]
name = "{INVENTORY}"
scopes = ["inventory.read", "inventory.write"]
secrets = [{{ hash = "{secret}" }}]
[[api_resources]]
name = "{STOCK}"
scopes = ["stock.read"]
[[trusted_issuers]]
name = "idp"
issuer = "{IDP}"
jwks_file = "idp.jwks.json"
[[clients]]
client_id = "frontend"
allowed_scopes = ["orders.read"]
access_token_lifetime = "10m"
secrets = [{{ hash = "{secret}" }}]
{frontend_extra}
[[clients]]
client_id = "orders"
allowed_grant_types = ["client_credentials", "{EXCHANGE}"]
allowed_scopes = ["inventory.read", "inventory.write"]
secrets = [{{ hash = "{secret}" }}]
[[clients.token_exchange]]
subject_issuer = "self"
subject_audience = "{ORDERS}"
resources = ["{INVENTORY}"]
[[clients.token_exchange]]
subject_issuer = "idp"
subject_audience = "{ORDERS}"
resources = ["{INVENTORY}"]
[[clients]]
client_id = "inventory"
allowed_grant_types = ["{EXCHANGE}"]
allowed_scopes = ["stock.read"]
access_token_lifetime = "2h"
secrets = [{{ hash = "{secret}" }}]
[[clients.token_exchange]]
subject_issuer = "self"
subject_audience = "{INVENTORY}"
resources = ["{STOCK}"]
[[clients]]
client_id = "plain"
allowed_scopes = ["inventory.read"]
secrets = [{{ hash = "{secret}" }}]
"#
    )
}

/// A server on `config("")` with the trusted issuer's keys beside it.
async fn server(clock: std::sync::Arc<ManualClock>, idp: &Signer) -> TestServer {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("idp.jwks.json"),
        json!({"keys": [idp.jwk]}).to_string(),
    )
    .unwrap();
    std::fs::write(dir.path().join("identity.toml"), config("")).unwrap();
    TestServer::spawn_in_with_clock(dir, clock).await
}

/// An exchange by `client`, with extra form parameters.
async fn exchange(server: &TestServer, client: &str, extra: &str) -> (u16, Value) {
    let r = server
        .token_raw(
            &format!("grant_type={}&{extra}", form(EXCHANGE)),
            Some(&basic(client, "secret")),
        )
        .await;
    let status = r.status().as_u16();
    (status, r.json().await.unwrap())
}

fn subject(token: &str, kind: &str) -> String {
    format!("subject_token={token}&subject_token_type={}", form(kind))
}

fn access_token(body: &Value) -> String {
    body["access_token"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn an_exchanged_token_keeps_the_subject_names_the_actor_and_nests_the_chain() {
    let clock = ManualClock::new(start());
    let idp = Signer::new(tollgate::Algorithm::ES256);
    let server = server(clock.clone(), &idp).await;
    let now = clock_now(&clock);
    let frontend = server.token("frontend", "secret", None).await;
    let (_, first) = jwt_parts(&access_token(&frontend));
    assert_eq!(first["aud"], ORDERS);

    // orders exchanges the frontend's token for one to inventory.
    let (status, body) = exchange(
        &server,
        "orders",
        &format!(
            "{}&resource={}",
            subject(&access_token(&frontend), ACCESS_TOKEN),
            form(INVENTORY)
        ),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["issued_token_type"], ACCESS_TOKEN);
    assert_eq!(body["token_type"], "Bearer");
    assert!(body.get("refresh_token").is_none(), "{body}");
    assert_eq!(body["scope"], "inventory.read inventory.write");
    let (header, claims) = jwt_parts(&access_token(&body));
    assert_eq!(header["typ"], "at+jwt");
    assert_eq!(claims["sub"], "frontend", "the subject stays");
    assert_eq!(claims["client_id"], "orders");
    assert_eq!(claims["aud"], INVENTORY);
    assert_eq!(claims["act"], json!({"sub": "orders"}));
    // orders' tokens live an hour, the frontend's ten minutes: the
    // exchanged token ends with the frontend's.
    assert_eq!(claims["exp"], first["exp"]);
    assert_eq!(claims["exp"].as_i64().unwrap(), now + 600);
    assert_eq!(body["expires_in"], 600);

    // inventory exchanges that token in turn: the chain stays visible.
    let (status, second) = exchange(
        &server,
        "inventory",
        &format!(
            "{}&audience={}",
            subject(&access_token(&body), ACCESS_TOKEN),
            form(STOCK)
        ),
    )
    .await;
    assert_eq!(status, 200, "{second}");
    let (_, chained) = jwt_parts(&access_token(&second));
    assert_eq!(chained["sub"], "frontend");
    assert_eq!(chained["client_id"], "inventory");
    assert_eq!(chained["aud"], STOCK);
    assert_eq!(chained["scope"], "stock.read");
    assert_eq!(
        chained["act"],
        json!({"sub": "inventory", "act": {"sub": "orders"}})
    );
    assert!(chained["exp"].as_i64().unwrap() <= claims["exp"].as_i64().unwrap());

    // With a DPoP proof the exchanged token is bound to its key.
    let dpop = Dpop::new();
    let proof = dpop.proof("POST", &server.url("/connect/token"), now, None);
    let r = server
        .http
        .post(server.url("/connect/token"))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .header("Authorization", basic("orders", "secret"))
        .header("DPoP", proof)
        .body(format!(
            "grant_type={}&{}",
            form(EXCHANGE),
            subject(&access_token(&frontend), ACCESS_TOKEN)
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let bound: Value = r.json().await.unwrap();
    assert_eq!(bound["token_type"], "DPoP");
    let (_, bound_claims) = jwt_parts(&access_token(&bound));
    assert_eq!(bound_claims["cnf"], json!({"jkt": dpop.jkt()}));
    assert_eq!(bound_claims["act"], json!({"sub": "orders"}));

    // Without resource or audience: the rule's resources; with a scope:
    // narrowed to it.
    let (status, narrowed) = exchange(
        &server,
        "orders",
        &format!(
            "{}&scope=inventory.read&requested_token_type={}",
            subject(&access_token(&frontend), ACCESS_TOKEN),
            form(ACCESS_TOKEN)
        ),
    )
    .await;
    assert_eq!(status, 200, "{narrowed}");
    assert_eq!(narrowed["scope"], "inventory.read");
    assert_eq!(jwt_parts(&access_token(&narrowed)).1["aud"], INVENTORY);

    // Introspection of the exchanged token returns the actor.
    let r: Value = server
        .http
        .post(server.url("/connect/introspect"))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .header("Authorization", basic(INVENTORY, "secret"))
        .body(format!("token={}", access_token(&body)))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(r["active"], true, "{r}");
    assert_eq!(r["act"], json!({"sub": "orders"}));
    assert_eq!(r["sub"], "frontend");
    assert_eq!(r["client_id"], "orders");
}

#[tokio::test]
async fn a_trusted_issuers_token_is_a_subject_when_a_rule_names_that_issuer() {
    let clock = ManualClock::new(start());
    let idp = Signer::new(tollgate::Algorithm::ES256);
    let server = server(clock.clone(), &idp).await;
    let now = clock_now(&clock);
    let user_token = |aud: &str, act: Option<Value>| {
        let mut claims = json!({"iss": IDP, "sub": "alice@example.com", "aud": [aud, "other"],
            "iat": now, "exp": now + 300});
        if let Some(act) = act {
            claims["act"] = act;
        }
        idp.sign(None, &claims)
    };
    let (status, body) = exchange(
        &server,
        "orders",
        &subject(&user_token(ORDERS, Some(json!({"sub": "gateway"}))), JWT),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let (_, claims) = jwt_parts(&access_token(&body));
    assert_eq!(claims["sub"], "alice@example.com");
    assert_eq!(claims["iss"], server.issuer());
    assert_eq!(claims["aud"], INVENTORY);
    assert_eq!(
        claims["act"],
        json!({"sub": "orders", "act": {"sub": "gateway", "iss": IDP}})
    );
    assert_eq!(claims["exp"].as_i64().unwrap(), now + 300);

    // A subject token whose may_act names another actor (RFC 8693 §4.4).
    let restricted = idp.sign(
        None,
        &json!({"iss": IDP, "sub": "alice", "aud": ORDERS, "iat": now, "exp": now + 300,
                "may_act": {"sub": "someone-else"}}),
    );
    let (status, body) = exchange(&server, "orders", &subject(&restricted, JWT)).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    let admitted = idp.sign(
        None,
        &json!({"iss": IDP, "sub": "alice", "aud": ORDERS, "iat": now, "exp": now + 300,
                "may_act": {"sub": "orders"}}),
    );
    assert_eq!(
        exchange(&server, "orders", &subject(&admitted, JWT))
            .await
            .0,
        200
    );

    // For another audience than the rule's: no rule takes it.
    let (status, body) = exchange(&server, "orders", &subject(&user_token(STOCK, None), JWT)).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    // Signed by a key the issuer does not publish.
    let stranger = Signer::new(tollgate::Algorithm::ES256);
    let forged = stranger.sign(
        None,
        &json!({"iss": IDP, "sub": "alice", "aud": ORDERS, "iat": now, "exp": now + 300}),
    );
    let (status, body) = exchange(&server, "orders", &subject(&forged, JWT)).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    // inventory's rules take only tollgate's own tokens.
    let for_inventory = user_token(INVENTORY, None);
    let (status, body) = exchange(&server, "inventory", &subject(&for_inventory, JWT)).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant"))
    );
}

#[tokio::test]
async fn every_error_the_contract_names() {
    let clock = ManualClock::new(start());
    let idp = Signer::new(tollgate::Algorithm::ES256);
    let server = server(clock.clone(), &idp).await;
    let frontend = access_token(&server.token("frontend", "secret", None).await);
    let for_inventory = access_token(
        &server
            .token_raw(
                &format!("grant_type=client_credentials&resource={}", form(INVENTORY)),
                Some(&basic("plain", "secret")),
            )
            .await
            .json()
            .await
            .unwrap(),
    );
    let good = subject(&frontend, ACCESS_TOKEN);
    let rows: Vec<(&str, &str, String, u16, &str)> = vec![
        (
            "no subject_token",
            "orders",
            format!("subject_token_type={}", form(ACCESS_TOKEN)),
            400,
            "invalid_request",
        ),
        (
            "no subject_token_type",
            "orders",
            format!("subject_token={frontend}"),
            400,
            "invalid_request",
        ),
        (
            "an unknown subject_token_type",
            "orders",
            format!(
                "subject_token={frontend}&subject_token_type=urn%3Aietf%3Aparams%3Aoauth%3Atoken-type%3Arefresh_token"
            ),
            400,
            "invalid_request",
        ),
        (
            "another requested_token_type",
            "orders",
            format!(
                "{good}&requested_token_type={}",
                form("urn:ietf:params:oauth:token-type:id_token")
            ),
            400,
            "invalid_request",
        ),
        (
            "an actor_token",
            "orders",
            format!(
                "{good}&actor_token={frontend}&actor_token_type={}",
                form(ACCESS_TOKEN)
            ),
            400,
            "invalid_request",
        ),
        (
            "not a token",
            "orders",
            subject("garbage", ACCESS_TOKEN),
            400,
            "invalid_grant",
        ),
        (
            "a tampered token",
            "orders",
            subject(&format!("{frontend}x"), ACCESS_TOKEN),
            400,
            "invalid_grant",
        ),
        (
            "a token no rule takes (its audience)",
            "orders",
            subject(&for_inventory, ACCESS_TOKEN),
            400,
            "invalid_grant",
        ),
        (
            "a resource outside the rule",
            "orders",
            format!("{good}&resource={}", form(STOCK)),
            400,
            "invalid_target",
        ),
        (
            "an audience outside the rule",
            "orders",
            format!("{good}&audience={}", form(ORDERS)),
            400,
            "invalid_target",
        ),
        (
            "one resource in and one out",
            "orders",
            format!(
                "{good}&resource={}&resource={}",
                form(INVENTORY),
                form(STOCK)
            ),
            400,
            "invalid_target",
        ),
        (
            "a scope the client may not have",
            "orders",
            format!("{good}&scope=stock.read"),
            400,
            "invalid_scope",
        ),
        (
            "a client without the grant type",
            "plain",
            good.clone(),
            400,
            "unauthorized_client",
        ),
    ];
    for (what, client, extra, status, error) in rows {
        let (got, body) = exchange(&server, client, &extra).await;
        assert_eq!(
            (got, body["error"].as_str()),
            (status, Some(error)),
            "{what}: {body}"
        );
    }
    // A wrong secret is still the one invalid_client.
    let r = server
        .token_raw(
            &format!("grant_type={}&{good}", form(EXCHANGE)),
            Some(&basic("orders", "wrong")),
        )
        .await;
    assert_eq!(r.status(), 401);

    // Expired: by the pinned clock, past the frontend token's ten minutes.
    clock.advance(time::Duration::minutes(11));
    let (status, body) = exchange(&server, "orders", &good).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant")),
        "expired"
    );
}

#[tokio::test]
async fn a_subject_tokens_client_disabled_removed_or_revoked_by_an_edit_is_refused() {
    let clock = ManualClock::new(start());
    let idp = Signer::new(tollgate::Algorithm::ES256);
    let server = server(clock.clone(), &idp).await;
    let frontend = access_token(&server.token("frontend", "secret", None).await);
    let good = subject(&frontend, ACCESS_TOKEN);
    assert_eq!(exchange(&server, "orders", &good).await.0, 200);
    let later = (start() + time::Duration::minutes(1))
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    let edits = [
        ("disabled", "enabled = false".to_owned()),
        ("revoked", format!("tokens_valid_after = {later}")),
    ];
    for (what, edit) in edits {
        std::fs::write(server.dir.path().join("identity.toml"), config(&edit)).unwrap();
        eventually(std::time::Duration::from_secs(5), what, || async {
            let (status, body) = exchange(&server, "orders", &good).await;
            (status == 400).then_some(body)
        })
        .await;
        let (_, body) = exchange(&server, "orders", &good).await;
        assert_eq!(body["error"], "invalid_grant", "{what}");
        // Back as it was: the same token exchanges again.
        std::fs::write(server.dir.path().join("identity.toml"), config("")).unwrap();
        eventually(std::time::Duration::from_secs(5), "restored", || async {
            (exchange(&server, "orders", &good).await.0 == 200).then_some(())
        })
        .await;
    }
    // Removed: the frontend's entry renamed away.
    let removed = config("").replace("client_id = \"frontend\"", "client_id = \"frontend2\"");
    std::fs::write(server.dir.path().join("identity.toml"), removed).unwrap();
    let body = eventually(std::time::Duration::from_secs(5), "removed", || async {
        let (status, body) = exchange(&server, "orders", &good).await;
        (status == 400).then_some(body)
    })
    .await;
    assert_eq!(body["error"], "invalid_grant");
}

#[tokio::test]
async fn the_audit_line_names_the_subject_the_actors_and_the_resources() {
    let dir = tempfile::tempdir().unwrap();
    let idp = Signer::new(tollgate::Algorithm::ES256);
    std::fs::write(
        dir.path().join("idp.jwks.json"),
        json!({"keys": [idp.jwk]}).to_string(),
    )
    .unwrap();
    let file = dir.path().join("identity.toml");
    std::fs::write(&file, config("")).unwrap();
    let mut server = start_logged(&file, "info", &[]).await;
    let http = reqwest::Client::new();
    let url = format!("http://{}/connect/token", server.addr);
    let post = |body: String, client: &str| {
        http.post(&url)
            .header("Content-Type", "application/x-www-form-urlencoded")
            .header("Authorization", basic(client, "secret"))
            .body(body)
            .send()
    };
    let first: Value = post("grant_type=client_credentials".into(), "frontend")
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let body = format!(
        "grant_type={}&{}",
        form(EXCHANGE),
        subject(&access_token(&first), ACCESS_TOKEN)
    );
    let second: Value = post(body, "orders").await.unwrap().json().await.unwrap();
    let body = format!(
        "grant_type={}&{}",
        form(EXCHANGE),
        subject(&access_token(&second), ACCESS_TOKEN)
    );
    let r = post(body, "inventory").await.unwrap();
    assert_eq!(r.status(), 200);
    let log = eventually(std::time::Duration::from_secs(5), "audit line", || async {
        let log = server.log.lock().unwrap().clone();
        log.contains("outcome=\"exchanged\" client_id=inventory")
            .then_some(log)
    })
    .await;
    server.stop();
    let line = log
        .lines()
        .find(|l| l.contains("outcome=\"exchanged\" client_id=inventory"))
        .unwrap();
    assert!(line.contains("subject=frontend"), "{line}");
    assert!(line.contains(r#"actors="inventory < orders""#), "{line}");
    assert!(line.contains(&format!(r#"resources="{STOCK}""#)), "{line}");
}

/// Whether `token` introspects active for the API resource `api` (whose
/// secret is "secret").
async fn active(server: &TestServer, api: &str, token: &str) -> bool {
    let r: Value = server
        .http
        .post(server.url("/connect/introspect"))
        .header("Authorization", basic(api, "secret"))
        .form(&[("token", token)])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    r["active"] == true
}

/// Round four: `caller` got A, `orders` exchanged it for B, `inventory`
/// B for C. Disabling the caller left B active and exchangeable, and C
/// active; so did disabling `orders`, an actor in C's chain. Now the
/// subject and every actor stand as the token's own client does.
#[tokio::test]
async fn revoking_a_caller_or_an_actor_revokes_what_was_made_from_its_tokens() {
    let clock = ManualClock::new(start());
    let idp = Signer::new(tollgate::Algorithm::ES256);
    let server = server(clock.clone(), &idp).await;
    // STOCK answers introspection too, for C.
    let secret = hash("secret");
    let with_stock = move |text: String| {
        text.replace(
            &format!("name = \"{STOCK}\"\nscopes = [\"stock.read\"]\n"),
            &format!(
                "name = \"{STOCK}\"\nscopes = [\"stock.read\"]\nsecrets = [{{ hash = \"{secret}\" }}]\n"
            ),
        )
    };
    let write = |text: String| {
        std::fs::write(server.dir.path().join("identity.toml"), with_stock(text)).unwrap()
    };
    write(config(""));
    let a = access_token(&server.token("frontend", "secret", None).await);
    let (status, b) = exchange(&server, "orders", &subject(&a, ACCESS_TOKEN)).await;
    assert_eq!(status, 200, "{b}");
    let b = access_token(&b);
    let c = eventually(
        std::time::Duration::from_secs(5),
        "STOCK's secret",
        || async {
            let (status, c) = exchange(&server, "inventory", &subject(&b, ACCESS_TOKEN)).await;
            assert_eq!(status, 200, "{c}");
            let c = access_token(&c);
            active(&server, STOCK, &c).await.then_some(c)
        },
    )
    .await;
    assert!(active(&server, INVENTORY, &b).await);

    let later = (start() + time::Duration::minutes(1))
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    let orders_off = config("").replace(
        "client_id = \"orders\"\n",
        "client_id = \"orders\"\nenabled = false\n",
    );
    let edits = [
        ("the caller disabled", config("enabled = false")),
        (
            "the caller revoked",
            config(&format!("tokens_valid_after = {later}")),
        ),
        (
            "the caller removed",
            config("").replace("client_id = \"frontend\"", "client_id = \"frontend2\""),
        ),
    ];
    for (what, text) in edits {
        write(text);
        eventually(std::time::Duration::from_secs(5), what, || async {
            (!active(&server, INVENTORY, &b).await).then_some(())
        })
        .await;
        assert!(!active(&server, STOCK, &c).await, "{what}: C");
        let (status, body) = exchange(&server, "inventory", &subject(&b, ACCESS_TOKEN)).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (400, Some("invalid_grant")),
            "{what}"
        );
        write(config(""));
        eventually(std::time::Duration::from_secs(5), "restored", || async {
            active(&server, STOCK, &c).await.then_some(())
        })
        .await;
    }
    // An actor of C's chain disabled: C falls, and so does B (its client).
    write(orders_off);
    eventually(
        std::time::Duration::from_secs(5),
        "orders disabled",
        || async { (!active(&server, STOCK, &c).await).then_some(()) },
    )
    .await;
}

/// Round four: a rule that lets a client exchange its own tokens nested
/// one actor a hop until the token was refused by everyone. At most 8
/// actors; the ninth hop is `invalid_grant`, and `check` warns of the loop.
#[tokio::test]
async fn act_nests_at_most_eight_actors_and_check_warns_of_a_loop() {
    const LOOP: &str = "https://loop.example.com";
    let secret = hash("secret");
    let toml = format!(
        r#"
[throttle]
client_failures = 0
address_failures = 0
[[api_scopes]]
name = "loop.read"
[[api_resources]]
name = "{LOOP}"
scopes = ["loop.read"]
secrets = [{{ hash = "{secret}" }}]
[[clients]]
client_id = "looper"
allowed_grant_types = ["client_credentials", "{EXCHANGE}"]
allowed_scopes = ["loop.read"]
secrets = [{{ hash = "{secret}" }}]
[[clients.token_exchange]]
subject_issuer = "self"
subject_audience = "{LOOP}"
resources = ["{LOOP}"]
"#
    );
    let server = TestServer::spawn(&toml).await;
    let mut token = access_token(&server.token("looper", "secret", None).await);
    for hop in 1..=8 {
        let (status, body) = exchange(&server, "looper", &subject(&token, ACCESS_TOKEN)).await;
        assert_eq!(status, 200, "hop {hop}: {body}");
        token = access_token(&body);
        assert!(active(&server, LOOP, &token).await, "hop {hop}");
    }
    let (_, claims) = jwt_parts(&token);
    let mut depth = 0;
    let mut act = &claims["act"];
    while act.is_object() {
        depth += 1;
        act = &act["act"];
    }
    assert_eq!(depth, 8);
    let (status, body) = exchange(&server, "looper", &subject(&token, ACCESS_TOKEN)).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant")),
        "{body}"
    );

    let (code, out) = crate::support::run_printed(
        std::process::Command::new(crate::support::tollgate_bin()).args([
            "check",
            "--config",
            server.dir.path().join("identity.toml").to_str().unwrap(),
        ]),
    );
    assert_eq!(code, Some(0), "a warning, not an error: {out}");
    assert!(
        out.contains("clients[0].token_exchange[0]") && out.contains("exchanged again"),
        "{out}"
    );
}

/// Round four: a valid token this client may not exchange and a forged
/// one were told apart by their descriptions. One body for both.
#[tokio::test]
async fn an_invalid_subject_token_and_one_no_rule_takes_get_the_same_body() {
    let clock = ManualClock::new(start());
    let idp = Signer::new(tollgate::Algorithm::ES256);
    let server = server(clock.clone(), &idp).await;
    let now = clock_now(&clock);
    let claims = json!({"iss": IDP, "sub": "alice", "aud": STOCK, "iat": now, "exp": now + 300});
    let other_audience = idp.sign(None, &claims);
    let forged = Signer::new(tollgate::Algorithm::ES256).sign(None, &claims);
    let (s1, b1) = exchange(&server, "orders", &subject(&other_audience, JWT)).await;
    let (s2, b2) = exchange(&server, "orders", &subject(&forged, JWT)).await;
    assert_eq!((s1, &b1), (s2, &b2));
    assert_eq!(b1["error"], "invalid_grant");
    // Ours: the plain client's token (for INVENTORY) against a garbled one.
    let plain = access_token(&server.token("plain", "secret", None).await);
    let (s3, b3) = exchange(&server, "orders", &subject(&plain, ACCESS_TOKEN)).await;
    let garbled = format!("{}x", &plain[..plain.len() - 2]);
    let (s4, b4) = exchange(&server, "orders", &subject(&garbled, ACCESS_TOKEN)).await;
    assert_eq!((s3, &b3), (s4, &b4));
    assert_eq!((s3, &b3), (s1, &b1));
}

/// Round four: a trusted issuer's `act: "admin"` was nested as given, and
/// 9 KB of it made a 12.5 KB token. `act` must be an object whose `sub` is
/// a string, of bounded size; the new token marks where the trusted
/// issuer's chain begins, and names the subject's issuer in `sub_id`.
#[tokio::test]
async fn a_trusted_issuer_s_act_is_an_object_with_a_string_sub_and_bounded() {
    let clock = ManualClock::new(start());
    let idp = Signer::new(tollgate::Algorithm::ES256);
    let server = server(clock.clone(), &idp).await;
    let now = clock_now(&clock);
    let with_act = |act: Value| {
        idp.sign(
            None,
            &json!({"iss": IDP, "sub": "alice", "aud": ORDERS, "iat": now, "exp": now + 300, "act": act}),
        )
    };
    for act in [
        json!("admin"),
        json!({"sub": 7}),
        json!({"sub": "gateway", "act": "admin"}),
        json!({"sub": "gateway", "junk": "x".repeat(9 * 1024)}),
    ] {
        let (status, body) =
            exchange(&server, "orders", &subject(&with_act(act.clone()), JWT)).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (400, Some("invalid_grant")),
            "{act}"
        );
    }
    let (status, body) = exchange(
        &server,
        "orders",
        &subject(&with_act(json!({"sub": "gateway"})), JWT),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let (_, claims) = jwt_parts(&access_token(&body));
    assert_eq!(
        claims["act"],
        json!({"sub": "orders", "act": {"sub": "gateway", "iss": IDP}})
    );
    assert_eq!(
        claims["sub_id"],
        json!({"format": "iss_sub", "iss": IDP, "sub": "alice"})
    );
    // The trusted issuer's actors are not ours: `gateway` is no client,
    // and the token stands.
    assert!(active(&server, INVENTORY, &access_token(&body)).await);
}
