//! The poem middleware and the tower layer against an authority the test
//! serves itself: a valid token passes with its claims; a missing, forged
//! or under-scoped one gets the RFC 6750 status, challenge and body.

use std::sync::Arc;

use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair};
use base64::Engine;
use serde_json::{Value, json};
use tollgate_resource::{Claims, TokenValidator};

struct Authority {
    issuer: String,
    key: jsonwebtoken::EncodingKey,
}

/// A P-256 key, and the JWK of its public half under `kid`.
fn key(kid: &str) -> (jsonwebtoken::EncodingKey, Value) {
    let b64 = |b: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b);
    let rng = aws_lc_rs::rand::SystemRandom::new();
    let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).unwrap();
    let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref()).unwrap();
    let point = pair.public_key().as_ref();
    let jwk = json!({"kty": "EC", "crv": "P-256", "kid": kid,
                     "x": b64(&point[1..33]), "y": b64(&point[33..65])});
    (jsonwebtoken::EncodingKey::from_ec_der(pkcs8.as_ref()), jwk)
}

/// Serves discovery and a JWKS with one key on a loopback port.
async fn authority() -> Authority {
    use poem::{Route, get, handler, web::Data, web::Json};
    #[handler]
    fn discovery(doc: Data<&Arc<(Value, Value)>>) -> Json<Value> {
        Json(doc.0.0.clone())
    }
    #[handler]
    fn jwks(doc: Data<&Arc<(Value, Value)>>) -> Json<Value> {
        Json(doc.0.1.clone())
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let issuer = format!("http://{}", listener.local_addr().unwrap());
    let (key, jwk) = key("k1");
    let docs = Arc::new((
        json!({"issuer": issuer, "jwks_uri": format!("{issuer}/jwks")}),
        json!({"keys": [jwk]}),
    ));
    let app = Route::new()
        .at("/.well-known/openid-configuration", get(discovery))
        .at("/jwks", get(jwks))
        .data(docs);
    use poem::EndpointExt;
    let acceptor = poem::listener::TcpAcceptor::from_tokio(listener).unwrap();
    tokio::spawn(poem::Server::new_with_acceptor(acceptor).run(app));
    Authority { issuer, key }
}

fn token(key: &jsonwebtoken::EncodingKey, kid: &str, issuer: &str, scope: &str) -> String {
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::ES256);
    header.kid = Some(kid.into());
    header.typ = Some("at+jwt".into());
    let now = tollgate_jose::clock::system().now().unix_timestamp();
    let claims = json!({"iss": issuer, "sub": "c", "client_id": "c", "scope": scope,
                        "iat": now, "exp": now + 300});
    jsonwebtoken::encode(&header, &claims, key).unwrap()
}

/// (authorization header, expected status, expected error code).
fn cases(a: &Authority) -> Vec<(Option<String>, u16, Option<&'static str>)> {
    let (stranger, _) = key("k1");
    vec![
        (
            Some(format!("Bearer {}", token(&a.key, "k1", &a.issuer, "api1"))),
            200,
            None,
        ),
        (None, 401, None),
        (
            Some(format!(
                "Bearer {}",
                token(&stranger, "k1", &a.issuer, "api1")
            )),
            401,
            Some("invalid_token"),
        ),
        (
            Some(format!("Bearer {}", token(&a.key, "k1", &a.issuer, "api2"))),
            403,
            Some("insufficient_scope"),
        ),
    ]
}

#[tokio::test]
async fn the_poem_middleware_admits_valid_tokens_and_refuses_the_rest() {
    use poem::{EndpointExt, Route, get, handler, test::TestClient, web::Data};
    #[handler]
    fn hello(claims: Data<&Claims>) -> String {
        format!("hello, {}", claims["client_id"].as_str().unwrap())
    }
    let a = authority().await;
    let validator = Arc::new(TokenValidator::new(&a.issuer, Some("api1")));
    let app =
        Route::new()
            .at("/hello", get(hello))
            .with(tollgate_resource::poem::RequireToken::new(
                validator,
                "http://api.test",
            ));
    let client = TestClient::new(app);
    for (authorization, status, error) in cases(&a) {
        let mut request = client.get("/hello");
        if let Some(value) = &authorization {
            request = request.header("Authorization", value);
        }
        let response = request.send().await;
        response.assert_status(poem::http::StatusCode::from_u16(status).unwrap());
        let challenge = response.0.headers().get("WWW-Authenticate").cloned();
        let body = response.0.into_body().into_string().await.unwrap();
        match status {
            200 => assert_eq!(body, "hello, c"),
            _ => {
                let challenge = challenge.expect("a challenge");
                let json: Value = serde_json::from_str(&body).unwrap();
                assert_eq!(json["error"].as_str(), error, "{body}");
                assert!(challenge.to_str().unwrap().starts_with("Bearer"));
            }
        }
    }
}

#[tokio::test]
async fn the_tower_layer_admits_valid_tokens_and_refuses_the_rest() {
    use axum::routing::get;
    use axum::{Extension, Router};
    use tower::ServiceExt;
    async fn hello(Extension(claims): Extension<Claims>) -> String {
        format!("hello, {}", claims["client_id"].as_str().unwrap())
    }
    let a = authority().await;
    let validator = Arc::new(TokenValidator::new(&a.issuer, Some("api1")));
    let app = Router::new().route("/hello", get(hello)).layer(
        tollgate_resource::tower::RequireTokenLayer::new(validator, "http://api.test"),
    );
    for (authorization, status, error) in cases(&a) {
        let mut request = http::Request::get("/hello");
        if let Some(value) = &authorization {
            request = request.header("Authorization", value);
        }
        let response = app
            .clone()
            .oneshot(request.body(axum::body::Body::empty()).unwrap())
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), status);
        let challenge = response.headers().get("WWW-Authenticate").cloned();
        let body = axum::body::to_bytes(response.into_body(), 1 << 16)
            .await
            .unwrap();
        let body = String::from_utf8(body.to_vec()).unwrap();
        match status {
            200 => assert_eq!(body, "hello, c"),
            _ => {
                let challenge = challenge.expect("a challenge");
                let json: Value = serde_json::from_str(&body).unwrap();
                assert_eq!(json["error"].as_str(), error, "{body}");
                assert!(challenge.to_str().unwrap().starts_with("Bearer"));
            }
        }
    }
}

/// The RFC 9728 document of the resource `http://api.test/hello`.
fn metadata(a: &Authority) -> tollgate_resource::ResourceMetadata {
    tollgate_resource::ResourceMetadata::new("http://api.test/hello", &a.issuer)
        .unwrap()
        .with_scopes(["api1"])
}

const METADATA_URL: &str = "http://api.test/.well-known/oauth-protected-resource/hello";

/// What both adapters must answer once given the metadata: the document to
/// anyone, and challenges that name it.
fn assert_metadata_served(a: &Authority, status: u16, body: &str) {
    assert_eq!(status, 200, "{body}");
    let doc: Value = serde_json::from_str(body).unwrap();
    assert_eq!(
        doc,
        json!({
            "resource": "http://api.test/hello",
            "authorization_servers": [a.issuer],
            "scopes_supported": ["api1"],
            "bearer_methods_supported": ["header"],
        })
    );
}

fn assert_challenge_names_metadata(status: u16, challenge: Option<&str>) {
    assert_eq!(status, 401);
    let challenge = challenge.expect("a challenge");
    assert!(challenge.starts_with("Bearer"), "{challenge}");
    assert!(
        challenge.contains(&format!(r#"resource_metadata="{METADATA_URL}""#)),
        "{challenge}"
    );
}

#[tokio::test]
async fn the_poem_middleware_serves_the_resource_metadata_and_names_it_in_challenges() {
    use poem::{EndpointExt, Route, get, handler, test::TestClient};
    #[handler]
    fn hello() -> &'static str {
        "hello"
    }
    let a = authority().await;
    let validator = Arc::new(TokenValidator::new(&a.issuer, Some("api1")));
    let app = Route::new().at("/hello", get(hello)).with(
        tollgate_resource::poem::RequireToken::new(validator, "http://api.test")
            .with_metadata(metadata(&a)),
    );
    let client = TestClient::new(app);
    let response = client
        .get("/.well-known/oauth-protected-resource/hello")
        .send()
        .await;
    let status = response.0.status().as_u16();
    let body = response.0.into_body().into_string().await.unwrap();
    assert_metadata_served(&a, status, &body);

    for authorization in [None, Some("Bearer not-a-token")] {
        let mut request = client.get("/hello");
        if let Some(value) = authorization {
            request = request.header("Authorization", value);
        }
        let response = request.send().await;
        let challenge = response.0.headers().get("WWW-Authenticate").cloned();
        assert_challenge_names_metadata(
            response.0.status().as_u16(),
            challenge.as_ref().and_then(|c| c.to_str().ok()),
        );
    }
}

#[tokio::test]
async fn the_tower_layer_serves_the_resource_metadata_and_names_it_in_challenges() {
    use axum::Router;
    use axum::routing::get;
    use tower::ServiceExt;
    let a = authority().await;
    let validator = Arc::new(TokenValidator::new(&a.issuer, Some("api1")));
    // The fallback makes every path a route, so the layer sees the
    // metadata's path too.
    let app = Router::new()
        .route("/hello", get(|| async { "hello" }))
        .fallback(|| async { (http::StatusCode::NOT_FOUND, "no such page") })
        .layer(
            tollgate_resource::tower::RequireTokenLayer::new(validator, "http://api.test")
                .with_metadata(metadata(&a)),
        );
    let send = |path: &str, authorization: Option<&str>| {
        let mut request = http::Request::get(path);
        if let Some(value) = authorization {
            request = request.header("Authorization", value);
        }
        app.clone()
            .oneshot(request.body(axum::body::Body::empty()).unwrap())
    };
    let response = send("/.well-known/oauth-protected-resource/hello", None)
        .await
        .unwrap();
    let status = response.status().as_u16();
    let body = axum::body::to_bytes(response.into_body(), 1 << 16)
        .await
        .unwrap();
    assert_metadata_served(&a, status, std::str::from_utf8(&body).unwrap());

    for authorization in [None, Some("Bearer not-a-token")] {
        let response = send("/hello", authorization).await.unwrap();
        let challenge = response.headers().get("WWW-Authenticate").cloned();
        assert_challenge_names_metadata(
            response.status().as_u16(),
            challenge.as_ref().and_then(|c| c.to_str().ok()),
        );
    }
}

/// A token bound to the certificate whose DER is `der` (RFC 8705 §3).
fn bound_token(a: &Authority, der: &[u8]) -> String {
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::ES256);
    header.kid = Some("k1".into());
    header.typ = Some("at+jwt".into());
    let now = tollgate_jose::clock::system().now().unix_timestamp();
    let x5t = tollgate_resource::ClientCertificate(der.to_vec()).thumbprint();
    let claims = json!({"iss": a.issuer, "sub": "c", "client_id": "c", "scope": "api1",
                        "iat": now, "exp": now + 300, "cnf": {"x5t#S256": x5t}});
    jsonwebtoken::encode(&header, &claims, &a.key).unwrap()
}

#[tokio::test]
async fn a_certificate_bound_token_passes_only_with_its_certificate_in_both_adapters() {
    use tollgate_resource::ClientCertificate;
    let a = authority().await;
    let (ours, theirs) = (b"our certificate".to_vec(), b"another one".to_vec());
    let authorization = format!("Bearer {}", bound_token(&a, &ours));
    let validator = Arc::new(TokenValidator::new(&a.issuer, Some("api1")));
    // (the connection's certificate, expected status)
    let cases = [(Some(&ours), 200), (None, 401), (Some(&theirs), 401)];

    use poem::{EndpointExt, Route, handler, test::TestClient};
    #[handler]
    fn hello() -> &'static str {
        "hello"
    }
    let app = Route::new().at("/hello", poem::get(hello)).with(
        tollgate_resource::poem::RequireToken::new(validator.clone(), "http://api.test"),
    );
    let client = TestClient::new(app);
    for (certificate, status) in &cases {
        let mut request = client.get("/hello").header("Authorization", &authorization);
        if let Some(der) = certificate {
            request = request.data(ClientCertificate((*der).clone()));
        }
        let response = request.send().await;
        response.assert_status(poem::http::StatusCode::from_u16(*status).unwrap());
    }

    use tower::ServiceExt;
    let app = axum::Router::new()
        .route("/hello", axum::routing::get(|| async { "hello" }))
        .layer(tollgate_resource::tower::RequireTokenLayer::new(
            validator.clone(),
            "http://api.test",
        ));
    for (certificate, status) in &cases {
        let mut request = http::Request::get("/hello").header("Authorization", &authorization);
        if let Some(der) = certificate {
            request = request.extension(ClientCertificate((*der).clone()));
        }
        let response = app
            .clone()
            .oneshot(request.body(axum::body::Body::empty()).unwrap())
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), *status);
    }
    // Without the adapters: the plain call knows no certificate.
    let refused = validator.validate(Some(&authorization)).await.unwrap_err();
    assert_eq!(refused.status(), 401);
}

/// What both adapters answer at `/admin`, which needs `admin` besides the
/// validator's `api1` (a middleware before the adapter says so with
/// [`RequiredScopes`]), for a token with `scope`: (status, challenge).
fn assert_step_up(path: &str, scope: &str, status: u16, challenge: Option<&str>) {
    match (path, scope) {
        ("/admin", "api1") => {
            assert_eq!(status, 403, "{path} with {scope}");
            let challenge = challenge.expect("a challenge");
            assert_eq!(
                challenge,
                format!(
                    r#"Bearer realm="api", error="insufficient_scope", scope="api1 admin", resource_metadata="{METADATA_URL}""#
                )
            );
        }
        _ => assert_eq!(status, 200, "{path} with {scope}: {challenge:?}"),
    }
}

/// (path, the token's scope) of the step-up cases.
const STEP_UP: [(&str, &str); 4] = [
    ("/hello", "api1"),
    ("/admin", "api1"),
    ("/admin", "api1 admin"),
    ("/admin", "admin api1"),
];

#[tokio::test]
async fn both_adapters_require_a_request_s_own_scopes_and_challenge_with_all_it_needs() {
    use tollgate_resource::RequiredScopes;
    let a = authority().await;
    let validator = Arc::new(TokenValidator::new(&a.issuer, Some("api1")));
    let bearer = |scope: &str| format!("Bearer {}", token(&a.key, "k1", &a.issuer, scope));

    use poem::{EndpointExt, Route, handler, test::TestClient};
    #[handler]
    fn hello() -> &'static str {
        "hello"
    }
    let app = Route::new()
        .at("/hello", poem::get(hello))
        .at("/admin", poem::get(hello))
        .with(
            tollgate_resource::poem::RequireToken::new(validator.clone(), "http://api.test")
                .with_metadata(metadata(&a)),
        )
        // Runs before the middleware: what the request needs.
        .before(|mut req: poem::Request| async move {
            if req.uri().path() == "/admin" {
                req.extensions_mut().insert(RequiredScopes::new(["admin"]));
            }
            Ok(req)
        });
    let client = TestClient::new(app);
    for (path, scope) in STEP_UP {
        let response = client
            .get(path)
            .header("Authorization", bearer(scope))
            .send()
            .await;
        let challenge = response.0.headers().get("WWW-Authenticate").cloned();
        assert_step_up(
            path,
            scope,
            response.0.status().as_u16(),
            challenge.as_ref().and_then(|c| c.to_str().ok()),
        );
    }

    use tower::ServiceExt;
    let needs = tower::ServiceBuilder::new()
        .map_request(|mut req: http::Request<axum::body::Body>| {
            if req.uri().path() == "/admin" {
                req.extensions_mut().insert(RequiredScopes::new(["admin"]));
            }
            req
        })
        .layer(
            tollgate_resource::tower::RequireTokenLayer::new(validator, "http://api.test")
                .with_metadata(metadata(&a)),
        );
    let app = axum::Router::new()
        .route("/hello", axum::routing::get(|| async { "hello" }))
        .route("/admin", axum::routing::get(|| async { "hello" }))
        .layer(needs);
    for (path, scope) in STEP_UP {
        let request = http::Request::get(path).header("Authorization", bearer(scope));
        let response = app
            .clone()
            .oneshot(request.body(axum::body::Body::empty()).unwrap())
            .await
            .unwrap();
        let challenge = response.headers().get("WWW-Authenticate").cloned();
        assert_step_up(
            path,
            scope,
            response.status().as_u16(),
            challenge.as_ref().and_then(|c| c.to_str().ok()),
        );
    }
}
