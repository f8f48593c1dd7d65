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
    assert_eq!(grant_enum, &serde_json::json!(["client_credentials"]));
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
    ] {
        assert!(doc["paths"][path]["get"].is_object(), "{path} documented");
    }
}

#[tokio::test]
async fn the_docs_page_is_served() {
    let server = TestServer::spawn(&quickstart_toml()).await;
    let r = server.http.get(server.url("/docs")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.text().await.unwrap().contains("swagger"));
}
