//! Federation as a grant (RFC 7523 §2.1): a platform's token presented as
//! `assertion` with `grant_type=…:jwt-bearer` selects its one client as a
//! `client_assertion` would, and fails with the grant's `invalid_grant`;
//! `copy_claims` carries platform claims into the access token; `check`
//! refuses what the contract names.

use serde_json::{Value, json};

use crate::support::{
    Signer, TestServer, basic, form, hash, jwt_parts, metric, refused_at, scrape,
};

const JWT_BEARER_GRANT: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";
const CLUSTER: &str = "https://kubernetes.default.svc.cluster.local";
const AUD: &str = "https://tollgate.example.com";

fn config() -> String {
    format!(
        r#"
[server]
management_listen = "127.0.0.1:0"
[throttle]
client_failures = 0
address_failures = 0
[[api_scopes]]
name = "api1"
[[trusted_issuers]]
name = "cluster"
issuer = "{CLUSTER}"
jwks_file = "cluster.jwks.json"
audience = "{AUD}"
[[clients]]
client_id = "billing"
allowed_scopes = ["api1"]
claims = {{ tenant = "acme" }}
[[clients.federated]]
issuer = "cluster"
subject = "system:serviceaccount:billing:worker"
copy_claims = {{ ns = "/kubernetes.io/namespace", pod = "/kubernetes.io/pod/name", team = "team", absent = "/nowhere" }}
[[clients]]
client_id = "exchanger"
allowed_grant_types = ["urn:ietf:params:oauth:grant-type:token-exchange"]
allowed_scopes = ["api1"]
[[clients.federated]]
issuer = "cluster"
subject = "system:serviceaccount:exchange:worker"
[[clients]]
client_id = "secretive"
allowed_scopes = ["api1"]
secrets = [{{ hash = "{}" }}]
"#,
        hash("secret")
    )
}

fn platform_token(platform: &Signer, account: &str, lifetime: i64) -> String {
    let (namespace, name) = account.split_once(':').unwrap();
    let now = crate::support::now().unix_timestamp();
    platform.sign(
        None,
        &json!({
            "iss": CLUSTER, "aud": [AUD], "iat": now, "exp": now + lifetime,
            "sub": format!("system:serviceaccount:{namespace}:{name}"),
            "team": {"name": "payments"},
            "kubernetes.io": {"namespace": namespace, "pod": {"name": "worker-7d9"}}
        }),
    )
}

fn grant(assertion: &str) -> String {
    format!(
        "grant_type={}&assertion={assertion}",
        form(JWT_BEARER_GRANT)
    )
}

#[tokio::test]
async fn a_platform_token_as_the_grant_selects_its_client_and_copies_claims() {
    let platform = Signer::new(tollgate::Algorithm::RS256);
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("cluster.jwks.json"),
        json!({"keys": [platform.jwk]}).to_string(),
    )
    .unwrap();
    std::fs::write(dir.path().join("identity.toml"), config()).unwrap();
    let server = TestServer::spawn_in(dir).await;

    let token = platform_token(&platform, "billing:worker", 600);
    let r = server.token_raw(&grant(&token), None).await;
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    let (_, claims) = jwt_parts(body["access_token"].as_str().unwrap());
    assert_eq!(claims["client_id"], "billing");
    assert_eq!(claims["sub"], "billing");
    assert_eq!(claims["tenant"], "acme");
    assert_eq!(claims["ns"], "billing");
    assert_eq!(claims["pod"], "worker-7d9");
    assert_eq!(claims["team"], json!({"name": "payments"}));
    assert!(
        claims.get("absent").is_none(),
        "a claim the token lacks is left out"
    );
    assert!(
        claims.get("kubernetes.io").is_none(),
        "only what is named is copied"
    );
    // The same token as a client_assertion: the same client, the same copies.
    let r = server
        .token_raw(&crate::support::assertion_form(&token), None)
        .await;
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    assert_eq!(
        jwt_parts(body["access_token"].as_str().unwrap()).1["ns"],
        "billing"
    );

    // Failures are the grant's: 400 invalid_grant, counted as failed
    // authentications by their reason.
    let stranger = Signer::new(tollgate::Algorithm::RS256);
    let rows = [
        (
            "no rule matches",
            platform_token(&platform, "billing:intruder", 600),
            "no_matching_client",
        ),
        (
            "expired",
            platform_token(&platform, "billing:worker", -120),
            "expired",
        ),
        (
            "signed by another key",
            platform_token(&stranger, "billing:worker", 600),
            "unknown_key",
        ),
        ("not a JWT", "garbage".to_owned(), "malformed_assertion"),
    ];
    let management = server.management.unwrap();
    for (what, token, reason) in rows {
        let before = scrape(&server.http, management).await;
        let r = server.token_raw(&grant(&token), None).await;
        assert_eq!(r.status(), 400, "{what}");
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["error"], "invalid_grant", "{what}");
        let after = scrape(&server.http, management).await;
        let series = format!(r#"tollgate_client_auth_failures_total{{reason="{reason}"}}"#);
        assert_eq!(
            metric(&after, &series),
            metric(&before, &series) + 1.0,
            "{what}"
        );
    }
    // A client whose grant types leave out client_credentials.
    let r = server
        .token_raw(
            &grant(&platform_token(&platform, "exchange:worker", 600)),
            None,
        )
        .await;
    assert_eq!(r.status(), 400);
    assert_eq!(
        r.json::<Value>().await.unwrap()["error"],
        "unauthorized_client"
    );
    // The assertion is the credential: no second one beside it, and it
    // must be there.
    let r = server
        .token_raw(&grant(&token), Some(&basic("secretive", "secret")))
        .await;
    assert_eq!(r.status(), 400);
    assert_eq!(r.json::<Value>().await.unwrap()["error"], "invalid_request");
    let r = server
        .token_raw(&format!("grant_type={}", form(JWT_BEARER_GRANT)), None)
        .await;
    assert_eq!(r.status(), 400);
    assert_eq!(r.json::<Value>().await.unwrap()["error"], "invalid_request");

    // Discovery lists the grant types.
    let d: Value = server.get_json("/.well-known/openid-configuration").await;
    let grants: Vec<&str> = d["grant_types_supported"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g.as_str().unwrap())
        .collect();
    assert_eq!(
        grants,
        [
            "client_credentials",
            "urn:ietf:params:oauth:grant-type:token-exchange",
            "authorization_code",
            "refresh_token",
            JWT_BEARER_GRANT
        ]
    );
}

#[test]
fn check_refuses_copied_registered_claims_and_exchange_rules_naming_nothing() {
    let head = format!(
        "[[api_scopes]]\nname = \"api1\"\n[[api_resources]]\nname = \"https://api.example.com\"\nscopes = [\"api1\"]\n[[trusted_issuers]]\nname = \"cluster\"\nissuer = \"{CLUSTER}\"\njwks_uri = \"https://k8s.example/jwks\"\n"
    );
    let client = |body: &str| {
        format!("{head}[[clients]]\nclient_id = \"c\"\nallowed_scopes = [\"api1\"]\n{body}")
    };
    let exchanging = |rule: &str| {
        client(&format!(
            "allowed_grant_types = [\"urn:ietf:params:oauth:grant-type:token-exchange\"]\n[[clients.token_exchange]]\n{rule}"
        ))
    };
    let federated =
        "[[clients.federated]]\nissuer = \"cluster\"\nsubject = \"system:serviceaccount:a:b\"\n";
    let rows: Vec<(String, &str, &str)> = vec![
        (
            client(&format!(
                "{federated}copy_claims = {{ sub = \"repository\" }}\n"
            )),
            "clients[0].federated[0].copy_claims.sub",
            "set by tollgate",
        ),
        (
            client(&format!("{federated}copy_claims = {{ act = \"x\" }}\n")),
            "clients[0].federated[0].copy_claims.act",
            "set by tollgate",
        ),
        (
            client(&format!(
                "claims = {{ repo = \"x\" }}\n{federated}copy_claims = {{ repo = \"repository\" }}\n"
            )),
            "clients[0].federated[0].copy_claims.repo",
            "also one of the client's claims",
        ),
        (
            client(&format!("{federated}copy_claims = {{ ns = \"/a/~2\" }}\n")),
            "clients[0].federated[0].copy_claims.ns",
            "RFC 6901",
        ),
        (
            exchanging(
                "subject_issuer = \"nobody\"\nsubject_audience = \"https://a\"\nresources = [\"https://api.example.com\"]\n",
            ),
            "clients[0].token_exchange[0].subject_issuer",
            "trusted_issuers",
        ),
        (
            exchanging(
                "subject_issuer = \"self\"\nsubject_audience = \"https://a\"\nresources = [\"https://elsewhere.example.com\"]\n",
            ),
            "clients[0].token_exchange[0].resources[0]",
            "api_resources",
        ),
        (
            exchanging(
                "subject_issuer = \"self\"\nsubject_audience = \"https://a\"\nresources = []\n",
            ),
            "clients[0].token_exchange[0].resources",
            "at least one",
        ),
        (
            client(
                "[[clients.token_exchange]]\nsubject_issuer = \"self\"\nsubject_audience = \"https://a\"\nresources = [\"https://api.example.com\"]\n",
            ),
            "clients[0].token_exchange",
            "allowed_grant_types",
        ),
        (
            client("claims = { act = { sub = \"x\" } }\n"),
            "clients[0].claims.act",
            "set by tollgate",
        ),
    ];
    for (toml, path, words) in rows {
        let problem = refused_at(&toml, path);
        assert!(
            problem.message.contains(words)
                || problem.hint.as_deref().is_some_and(|h| h.contains(words)),
            "{path}: {problem:?}"
        );
    }
    // The same rules, well formed, pass.
    let ok = exchanging(
        "subject_issuer = \"cluster\"\nsubject_audience = \"https://a\"\nresources = [\"https://api.example.com\"]\n",
    );
    let report = tollgate::check(
        &ok,
        std::path::Path::new("identity.toml"),
        tollgate::Overrides::None,
        crate::support::now(),
    );
    assert!(report.errors.is_empty(), "{:?}", report.errors);
}
