//! HTTP: the only module that imports poem. Each endpoint adapts the
//! protocol core; `routes` puts them together with the OpenAPI document
//! and the docs UI.

mod discovery;
mod health;
mod jwks;
mod payload;
mod token;

use std::sync::Arc;

use poem::middleware::SetHeader;
use poem::{Endpoint, EndpointExt, IntoResponse, Route};
use poem_openapi::{OpenApiService, Tags};

pub use crate::state::AppState;

#[derive(Tags)]
enum ApiTags {
    /// Token issuance.
    #[oai(rename = "OAuth 2.0")]
    OAuth,
    /// Metadata an API or client reads to find and trust the server.
    Discovery,
    /// Running the server.
    Operations,
}

fn service(
    state: &Arc<AppState>,
) -> OpenApiService<
    (
        discovery::DiscoveryApi,
        jwks::JwksApi,
        token::TokenApi,
        health::HealthApi,
    ),
    (),
> {
    OpenApiService::new(
        (
            discovery::DiscoveryApi {
                state: state.clone(),
            },
            jwks::JwksApi {
                state: state.clone(),
            },
            token::TokenApi,
            health::HealthApi {
                state: state.clone(),
            },
        ),
        "tollgate",
        env!("CARGO_PKG_VERSION"),
    )
    .description(
        "OAuth 2.0 authorization server for the client credentials grant. \
         Issues RFC 9068 JWT access tokens signed with ES256; APIs validate them \
         with the keys from the discovery document's jwks_uri.",
    )
}

/// The OpenAPI document, as `/openapi.json` serves it.
pub fn openapi_json(state: &Arc<AppState>) -> String {
    service(state).spec()
}

/// Every route of the server, with the headers every response carries.
pub fn routes(state: Arc<AppState>) -> impl Endpoint {
    let api = service(&state);
    let spec = api.spec_endpoint();
    let docs = api.swagger_ui();
    Route::new()
        .at("/connect/token", token::endpoint(state.clone()))
        .at("/metrics", poem::get(metrics).data(state.clone()))
        .nest_no_strip("/", api)
        .at("/openapi.json", spec)
        .nest("/docs", docs)
        // Errors (404, 405, ...) become responses first, so that they get
        // the headers too.
        .catch_all_error(|err| async move { err.into_response() })
        .around(allow_on_405)
        .around(move |ep, req| observe(ep, req, state.clone()))
        .with(
            SetHeader::new()
                .overriding("x-content-type-options", "nosniff")
                .overriding("x-frame-options", "DENY")
                .overriding("referrer-policy", "no-referrer"),
        )
}

/// Times every request for `tollgate_request_duration_seconds`.
async fn observe<E: Endpoint>(
    ep: Arc<E>,
    req: poem::Request,
    state: Arc<AppState>,
) -> poem::Result<poem::Response> {
    let endpoint = crate::metrics::Endpoint::of(req.uri().path());
    let started = std::time::Instant::now();
    let resp = ep.call(req).await?.into_response();
    state.metrics.observe(endpoint, started.elapsed());
    Ok(resp)
}

/// `GET /metrics`: Prometheus text exposition format.
#[poem::handler]
fn metrics(state: poem::web::Data<&Arc<AppState>>) -> poem::Response {
    match state.metrics.render(state.metrics_snapshot()) {
        Ok(text) => poem::Response::builder()
            .content_type("application/openmetrics-text; version=1.0.0; charset=utf-8")
            .body(text),
        Err(e) => {
            tracing::error!(error = %e, "metrics encoding failed");
            poem::http::StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

/// RFC 9110 §15.5.6: a 405 must say which methods the resource has.
async fn allow_on_405<E: Endpoint>(ep: Arc<E>, req: poem::Request) -> poem::Result<poem::Response> {
    let allow = if req.uri().path() == "/connect/token" {
        "POST"
    } else {
        "GET, HEAD"
    };
    let mut resp = ep.call(req).await?.into_response();
    if resp.status() == poem::http::StatusCode::METHOD_NOT_ALLOWED {
        resp.headers_mut().insert(
            poem::http::header::ALLOW,
            poem::http::HeaderValue::from_static(allow),
        );
    }
    Ok(resp)
}

/// Discovery and the JWKS are public metadata that browser-based clients
/// and APIs fetch from any origin (RFC 8414 §3 expects it); they never
/// answer with credentials. The token endpoint is not for browsers and has
/// no CORS headers.
fn public_metadata(ep: impl Endpoint) -> impl Endpoint {
    ep.with(SetHeader::new().overriding("access-control-allow-origin", "*"))
}
