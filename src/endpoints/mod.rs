//! HTTP: the only module that imports poem. Each endpoint adapts the
//! protocol core; `routes` puts them together with the OpenAPI document
//! and the docs UI.

mod discovery;
mod health;
mod jwks;
mod payload;
mod request_id;
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
        .around_envelope(state)
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

/// What every response gets, in one layer (each layer costs on the hot
/// path): a request id (`X-Request-Id`, kept from a proxy or made here) on
/// a tracing span around the request and on the response, errors (404,
/// 405, ...) turned into responses, `Allow` on 405 (RFC 9110 §15.5.6), the
/// security headers, and the latency histogram.
struct Envelope<E> {
    inner: E,
    state: Arc<AppState>,
}

impl<E: Endpoint> Endpoint for Envelope<E> {
    type Output = poem::Response;

    async fn call(&self, req: poem::Request) -> poem::Result<poem::Response> {
        use poem::http::{HeaderValue, StatusCode, header};
        use tracing::Instrument;
        let endpoint = crate::metrics::Endpoint::of(req.uri().path());
        let started = std::time::Instant::now();
        let _in_flight = self.state.metrics.in_flight();
        let id = request_id::of(req.headers().get(request_id::HEADER));
        let span = tracing::info_span!(
            "request",
            id = id.to_str().unwrap_or_default(),
            method = %req.method(),
            path = %req.uri().path(),
        );
        let respond = async {
            match self.inner.call(req).await {
                Ok(r) => r.into_response(),
                Err(e) => e.into_response(),
            }
        };
        // Entering even a disabled span on every poll measured 12 % of a
        // static response's cost; instrument only when the span records.
        let mut resp = if span.is_disabled() {
            respond.await
        } else {
            respond.instrument(span).await
        };
        let headers = resp.headers_mut();
        headers.insert(request_id::HEADER, id);
        headers.insert(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        );
        headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
        headers.insert(
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        );
        if resp.status() == StatusCode::METHOD_NOT_ALLOWED {
            let allow = match endpoint {
                crate::metrics::Endpoint::token => "POST",
                _ => "GET, HEAD",
            };
            resp.headers_mut()
                .insert(header::ALLOW, HeaderValue::from_static(allow));
        }
        self.state.metrics.observe(endpoint, started.elapsed());
        Ok(resp)
    }
}

trait EnvelopeExt: Endpoint + Sized {
    fn around_envelope(self, state: Arc<AppState>) -> Envelope<Self> {
        Envelope { inner: self, state }
    }
}

impl<E: Endpoint> EnvelopeExt for E {}

/// Discovery and the JWKS are public metadata that browser-based clients
/// and APIs fetch from any origin (RFC 8414 §3 expects it); they never
/// answer with credentials. The token endpoint is not for browsers and has
/// no CORS headers.
fn public_metadata(ep: impl Endpoint) -> impl Endpoint {
    ep.with(SetHeader::new().overriding("access-control-allow-origin", "*"))
}
