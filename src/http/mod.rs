//! HTTP: the only modules that import poem. Each endpoint
//! adapts the protocol core; [`routes`] puts the public ones together with
//! the OpenAPI document and the docs UI, [`management_routes`] the
//! operator's (full metrics and health).

mod authorize;
mod authorize_doc;
mod browser;
mod client_cert;
pub(crate) mod connections;
mod consent;
mod cookies;
mod discovery;
mod endsession;
mod form;
mod health;
mod home;
mod introspect;
mod introspect_doc;
mod jwks;
mod metrics;
mod page;
mod payload;
mod people_doc;
mod request_id;
mod revoke;
mod scope;
mod signin;
pub(crate) mod tls;
pub(crate) mod tls_accept;
mod token;
mod token_doc;
mod upstream;
mod userinfo;
mod wire;

use std::sync::Arc;

use poem::middleware::SetHeader;
use poem::{Endpoint, EndpointExt, IntoResponse, Route};
use poem_openapi::{OpenApiService, Tags};

use crate::state::AppState;

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

type Apis = (
    discovery::DiscoveryApi,
    jwks::JwksApi,
    token_doc::TokenApi,
    introspect_doc::IntrospectApi,
    authorize_doc::AuthorizeApi,
    people_doc::PeopleApi,
    health::HealthApi,
);

fn service(state: &Arc<AppState>, detail: health::Detail) -> OpenApiService<Apis, ()> {
    OpenApiService::new(
        (
            discovery::DiscoveryApi {
                state: state.clone(),
            },
            jwks::JwksApi {
                state: state.clone(),
            },
            token_doc::TokenApi,
            introspect_doc::IntrospectApi,
            authorize_doc::AuthorizeApi,
            people_doc::PeopleApi,
            health::HealthApi {
                state: state.clone(),
                detail,
            },
        ),
        "tollgate",
        env!("CARGO_PKG_VERSION"),
    )
    .description(
        "OAuth 2.0 authorization server for the client credentials grant. \
         Issues RFC 9068 JWT access tokens; APIs validate them with the keys from the \
         discovery document's jwks_uri.",
    )
}

/// Which metrics the public port serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PublicMetrics {
    /// `/metrics` without per-client or per-reason series (no management
    /// listener is configured).
    Redacted,
    /// None: they are on the management listener.
    Off,
}

/// The public routes, with the headers every response carries.
pub(crate) fn routes(state: Arc<AppState>, metrics: PublicMetrics) -> impl Endpoint {
    let api = service(&state, health::Detail::Public);
    let spec = api.spec_endpoint();
    let docs = api.swagger_ui();
    let mut route = Route::new()
        .at(scope::TOKEN_PATH, token::endpoint(state.clone()))
        .at(scope::INTROSPECT_PATH, introspect::endpoint(state.clone()))
        .at(
            authorize::AUTHORIZE_PATH,
            authorize::endpoint(state.clone()),
        )
        .at(browser::SIGNIN_PATH, signin::endpoint(state.clone()))
        .at(browser::CONSENT_PATH, consent::endpoint(state.clone()))
        .at(
            endsession::ENDSESSION_PATH,
            endsession::endpoint(state.clone()),
        )
        .at(upstream::CALLBACK_ROUTE, upstream::callback(state.clone()))
        .at(upstream::START_ROUTE, upstream::start(state.clone()))
        .at(scope::USERINFO_PATH, userinfo::endpoint(state.clone()))
        .at(scope::REVOKE_PATH, revoke::endpoint(state.clone()));
    if metrics == PublicMetrics::Redacted {
        route = route.at(
            "/metrics",
            metrics::endpoint(state.clone(), crate::observe::metrics::View::Public),
        );
    }
    route
        .nest_no_strip(
            "/",
            home::before(state.clone(), poem::IntoEndpoint::into_endpoint(api)),
        )
        .at("/openapi.json", spec)
        .nest("/docs", docs)
        .around_envelope(state)
}

/// The management listener's routes: full metrics and health.
pub(crate) fn management_routes(state: Arc<AppState>) -> impl Endpoint {
    let health = OpenApiService::new(
        health::HealthApi {
            state: state.clone(),
            detail: health::Detail::Full,
        },
        "tollgate management",
        env!("CARGO_PKG_VERSION"),
    );
    Route::new()
        .at(
            "/metrics",
            metrics::endpoint(state.clone(), crate::observe::metrics::View::Full),
        )
        .nest_no_strip("/", health)
        .around_envelope(state)
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
        let endpoint = crate::observe::metrics::Endpoint::of(req.uri().path());
        let started = std::time::Instant::now();
        let _in_flight = self.state.metrics.in_flight();
        let id = request_id::of(req.headers().get(request_id::HEADER));
        // The forms' endpoints take POST only, the authorization endpoint
        // both (two comparisons of short strings, only to name them on 405).
        let forms = matches!(
            req.uri().path(),
            browser::SIGNIN_PATH | browser::CONSENT_PATH
        );
        let authorize = req.uri().path() == authorize::AUTHORIZE_PATH;
        let userinfo = req.uri().path() == scope::USERINFO_PATH;
        let revoke = req.uri().path() == scope::REVOKE_PATH;
        let span = tracing::info_span!(
            "request",
            id = id.to_str().unwrap_or_default(),
            method = %req.method(),
            path = %crate::observe::audit::untrusted(req.uri().path()),
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
                crate::observe::metrics::Endpoint::token
                | crate::observe::metrics::Endpoint::introspect => "POST",
                _ if forms || revoke => "POST",
                _ if authorize || userinfo => "GET, POST",
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
