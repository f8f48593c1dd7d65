//! The generated OpenAPI document and the docs UI.

use serde_json::Value;

use crate::support::{TestServer, quickstart_toml};

#[tokio::test]
async fn the_openapi_document_describes_the_token_endpoint_precisely() {
    let server = TestServer::spawn(&quickstart_toml()).await;
    let doc: Value = server.get_json("/openapi.json").await;
    let token = &doc["paths"]["/connect/token"]["post"];
    let body = &token["requestBody"]["content"]["application/x-www-form-urlencoded"]["schema"];
    assert_eq!(body["$ref"], "#/components/schemas/TokenRequest");
    let schemas = &doc["components"]["schemas"];
    let grant_type = &schemas["TokenRequest"]["properties"]["grant_type"];
    let grant_ref = grant_type["allOf"][0]["$ref"].as_str().unwrap();
    assert_eq!(grant_ref, "#/components/schemas/GrantType");
    let grant_enum = &schemas["GrantType"]["enum"];
    assert_eq!(
        grant_enum,
        &serde_json::json!([
            "client_credentials",
            "urn:ietf:params:oauth:grant-type:token-exchange",
            "urn:ietf:params:oauth:grant-type:jwt-bearer",
            "authorization_code",
            "refresh_token"
        ])
    );
    for status in ["200", "400", "401", "500"] {
        assert!(
            token["responses"][status].is_object(),
            "response {status} documented"
        );
    }
    assert_eq!(
        token["responses"]["401"]["content"]["application/json; charset=utf-8"]["schema"]["$ref"],
        "#/components/schemas/OAuthError"
    );
    assert_eq!(
        doc["components"]["securitySchemes"]["client_secret_basic"]["scheme"],
        "basic"
    );
    assert_eq!(
        token["security"],
        serde_json::json!([{ "client_secret_basic": [] }, {}])
    );
    for path in [
        "/.well-known/openid-configuration",
        "/.well-known/oauth-authorization-server",
        "/.well-known/jwks.json",
        "/healthz",
        "/connect/authorize",
    ] {
        assert!(doc["paths"][path]["get"].is_object(), "{path} documented");
    }
    // The browser flow: pages, redirects to the client, the error page.
    let authorize = &doc["paths"]["/connect/authorize"]["get"]["responses"];
    assert_eq!(
        authorize.as_object().unwrap().keys().collect::<Vec<_>>(),
        ["200", "303", "400", "403"]
    );
    for (path, method) in [
        ("/connect/authorize", "post"),
        ("/connect/authorize/signin", "post"),
        ("/connect/authorize/consent", "post"),
        ("/connect/endsession", "get"),
    ] {
        assert!(doc["paths"][path][method].is_object(), "{path} documented");
    }
}

#[tokio::test]
async fn the_docs_page_is_served() {
    let server = TestServer::spawn(&quickstart_toml()).await;
    let r = server.http.get(server.url("/docs")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.text().await.unwrap().contains("swagger"));
}

/// A validator for the document's schema `name`, `$ref`s resolved in the
/// document itself.
fn schema(doc: &Value, name: &str) -> jsonschema::Validator {
    let mut root = doc.clone();
    root["$ref"] = Value::String(format!("#/components/schemas/{name}"));
    jsonschema::validator_for(&root).unwrap()
}

/// The schema name a documented response of the token endpoint refers to.
fn documented(doc: &Value, status: u16) -> (String, Vec<String>) {
    let response = &doc["paths"]["/connect/token"]["post"]["responses"][status.to_string()];
    assert!(response.is_object(), "status {status} is not documented");
    let reference = response["content"]["application/json; charset=utf-8"]["schema"]["$ref"]
        .as_str()
        .unwrap_or_else(|| panic!("status {status} has no JSON schema"));
    let headers = response["headers"]
        .as_object()
        .map(|h| h.keys().map(|k| k.to_ascii_lowercase()).collect())
        .unwrap_or_default();
    (
        reference
            .trim_start_matches("#/components/schemas/")
            .to_owned(),
        headers,
    )
}

#[tokio::test]
async fn the_document_describes_exactly_what_the_token_endpoint_sends() {
    use crate::support::basic;
    let toml = format!("[throttle]\nclient_failures = 2\n{}", quickstart_toml());
    let server = TestServer::spawn(&toml).await;
    let doc: Value = server.get_json("/openapi.json").await;
    let codes = doc["components"]["schemas"]["ErrorCode"]["enum"].clone();
    let good = basic("client", "secret");
    let huge = format!("grant_type=client_credentials&pad={}", "x".repeat(20_000));
    let cases: Vec<(&str, String, Option<String>, u16)> = vec![
        (
            "issued",
            "grant_type=client_credentials".into(),
            Some(good.clone()),
            200,
        ),
        // Empty parameters count as omitted (RFC 6749 §3.2), as documented.
        (
            "empty secret with Basic",
            "grant_type=client_credentials&client_id=&client_secret=".into(),
            Some(good.clone()),
            200,
        ),
        (
            "no grant type",
            "scope=api1".into(),
            Some(good.clone()),
            400,
        ),
        (
            "bad scope",
            "grant_type=client_credentials&scope=nope".into(),
            Some(good.clone()),
            400,
        ),
        (
            "other grant",
            "grant_type=password".into(),
            Some(good.clone()),
            400,
        ),
        (
            "wrong secret",
            "grant_type=client_credentials".into(),
            Some(basic("client", "x")),
            401,
        ),
        (
            "no credentials",
            "grant_type=client_credentials".into(),
            None,
            401,
        ),
        ("too large", huge, Some(good.clone()), 413),
        (
            "throttled",
            "grant_type=client_credentials".into(),
            Some(basic("client", "y")),
            429,
        ),
    ];
    for (what, body, authorization, status) in cases {
        let r = server.token_raw(&body, authorization.as_deref()).await;
        assert_eq!(r.status(), status, "{what}");
        let (name, headers) = documented(&doc, status);
        for sent in ["cache-control", "pragma", "www-authenticate", "retry-after"] {
            if r.headers().contains_key(sent) {
                assert!(
                    headers.contains(&sent.to_owned()),
                    "{what}: {sent} is not documented"
                );
            }
        }
        let json: Value = r.json().await.unwrap();
        let validator = schema(&doc, &name);
        let errors: Vec<String> = validator
            .iter_errors(&json)
            .map(|e| e.to_string())
            .collect();
        assert!(
            errors.is_empty(),
            "{what}: {json} does not match {name}: {errors:?}"
        );
        if status != 200 {
            assert!(
                codes.as_array().unwrap().contains(&json["error"]),
                "{what}: {} is not in the documented codes",
                json["error"]
            );
        }
    }
}

#[tokio::test]
async fn every_documented_jwk_member_is_what_the_jwks_sends_for_each_algorithm() {
    use tollgate::Algorithm;
    let dir = tempfile::tempdir().unwrap();
    let mut toml = String::new();
    for (i, alg) in Algorithm::ALL.iter().enumerate() {
        crate::support::write_key(dir.path(), &format!("k{i}.pem"), *alg);
        toml += &format!(
            "[[keys.signing]]\nfile = \"k{i}.pem\"\nactivate_at = {}\n",
            crate::support::at(-100 + i as i64)
        );
    }
    std::fs::write(dir.path().join("identity.toml"), toml + &quickstart_toml()).unwrap();
    let server = TestServer::spawn_in(dir).await;
    let doc: Value = server.get_json("/openapi.json").await;
    let jwks: Value = server.get_json("/.well-known/jwks.json").await;
    assert_eq!(jwks["keys"].as_array().unwrap().len(), 3);
    let validator = schema(&doc, "Jwks");
    assert!(validator.is_valid(&jwks), "{jwks}");
    let documented = doc["components"]["schemas"]["Jwk"]["properties"]
        .as_object()
        .unwrap()
        .clone();
    for key in jwks["keys"].as_array().unwrap() {
        for member in key.as_object().unwrap().keys() {
            assert!(
                documented.contains_key(member),
                "{member} is not documented"
            );
        }
    }
}

#[tokio::test]
async fn the_document_names_userinfo_and_revocation() {
    let server = TestServer::spawn(&quickstart_toml()).await;
    let doc: Value = server.get_json("/openapi.json").await;
    let paths = &doc["paths"];
    for (path, method) in [
        ("/connect/userinfo", "get"),
        ("/connect/userinfo", "post"),
        ("/connect/revoke", "post"),
    ] {
        assert!(paths[path][method].is_object(), "{method} {path}");
    }
    let revoke = &paths["/connect/revoke"]["post"]["requestBody"]["content"];
    assert_eq!(
        revoke["application/x-www-form-urlencoded"]["schema"]["$ref"],
        "#/components/schemas/RevocationRequest"
    );
}
