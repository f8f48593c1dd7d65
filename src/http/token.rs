//! `POST /connect/token`: HTTP in, the protocol core's token request, HTTP
//! out; and its audit event, metrics, and the equal time of every failed
//! authentication.

use std::net::IpAddr;
use std::sync::Arc;

use poem::http::header::AUTHORIZATION;
use poem::{IntoResponse, Request, Response};

use super::AppState;
use super::wire::{self, TokenBody};
use crate::observe::audit;
use crate::runtime::failure_time::measured;
use tollgate_core::RefusedRequest;
use tollgate_core::token_request::{self, Issued};
use tollgate_core::{Reason, Refusal};

/// The token endpoint, ready to route at `/connect/token`.
pub(super) fn endpoint(state: Arc<AppState>) -> impl poem::Endpoint {
    poem::post(TokenEndpoint { state })
}

/// Holds the state itself: poem's `.data()` would put it in every
/// request's extensions (a map allocated per request) to be looked up again.
struct TokenEndpoint {
    state: Arc<AppState>,
}

impl poem::Endpoint for TokenEndpoint {
    type Output = Response;

    async fn call(&self, mut req: Request) -> poem::Result<Response> {
        let body = req.take_body();
        let address = req.remote_addr().as_socket_addr().map(|a| a.ip());
        let outcome = match super::form::read(&req, body, self.state.body_timeout).await {
            Ok(form) => {
                let started = tokio::time::Instant::now();
                let (outcome, work) = measured(run(&self.state, &req, &form, address)).await;
                if let Err(refused) = &outcome {
                    equal_time(&self.state, &refused.refusal, started, work).await;
                }
                outcome
            }
            Err(refusal) => Err(refusal.into()),
        };
        Ok(respond(&self.state, outcome, address))
    }
}

async fn run(
    state: &Arc<AppState>,
    req: &Request,
    form: &[u8],
    address: Option<IpAddr>,
) -> Result<Issued, RefusedRequest> {
    let scope = super::scope::Scope::load(state);
    // A client named by a URL is admitted first, so the core finds it
    // (a code's redemption, a refresh); a refused one is unknown to it.
    (state.documents)
        .admit_named_in(&scope.config().registry, form, &state.metrics, address)
        .await;
    let cx = scope.context(state, address);
    let dpop: Vec<&[u8]> = req
        .headers()
        .get_all("dpop")
        .iter()
        .map(|v| v.as_bytes())
        .collect();
    let certificate = super::client_cert::of(req, &scope.config().certificates, address);
    let request = token_request::Request {
        body: form,
        authorization: req.headers().get(AUTHORIZATION).map(|v| v.as_bytes()),
        dpop: &dpop,
        certificate: certificate.as_ref(),
    };
    token_request::token(&cx, &**state, request).await
}

/// The response, counted and audited.
fn respond(
    state: &AppState,
    outcome: Result<Issued, RefusedRequest>,
    address: Option<IpAddr>,
) -> Response {
    match outcome {
        Ok(issued) => {
            state.metrics.token_issued(issued.client.id.as_str());
            audit::issued(&issued, address);
            TokenBody {
                access_token: issued.access_token,
                token_type: super::wire::WireTokenType(issued.token_type),
                expires_in: issued.expires_in,
                scope: issued.scope,
                issued_token_type: issued
                    .delegation
                    .as_ref()
                    .map(|_| tollgate_core::exchange::ACCESS_TOKEN_TYPE.to_owned()),
                id_token: issued.id_token,
                refresh_token: issued.refresh_token,
            }
            .into_response()
        }
        Err(RefusedRequest {
            refusal,
            claimed_id,
        }) => {
            refused(state, &refusal, claimed_id.as_deref(), address);
            wire::error_response(&refusal.error)
        }
    }
}

/// A failed client authentication is answered no sooner than any other
/// (see `runtime::failure_time`): its time says nothing about the client.
/// `work` is what the request did (measured), not how long it took; when
/// too many failures wait already, this one is answered at once.
pub(super) async fn equal_time(
    state: &AppState,
    refusal: &Refusal,
    started: tokio::time::Instant,
    work: std::time::Duration,
) {
    if refusal.takes_equal_time() {
        let floor = &state.failure_floor;
        floor.saw(work);
        let Some(_parked) = floor.park() else {
            static WARNED: crate::observe::log_limit::LogLimit =
                crate::observe::log_limit::LogLimit::new(std::time::Duration::from_secs(10));
            if let Some(held_back) = WARNED.allow() {
                tracing::warn!(
                    waiting = crate::runtime::failure_time::PARKED,
                    similar_since_last = held_back,
                    "failed authentications answered at once: too many wait already"
                );
            }
            return;
        };
        tokio::time::sleep_until(started + floor.floor()).await;
    }
}

/// The form of a request to an endpoint where clients authenticate
/// (introspection, revocation), or the answer to one whose body cannot be
/// read, counted and audited as at the token endpoint.
pub(super) async fn client_form(
    state: &AppState,
    req: &mut Request,
    address: Option<IpAddr>,
) -> Result<bytes::Bytes, Response> {
    let body = req.take_body();
    super::form::read(req, body, state.body_timeout)
        .await
        .map_err(|refusal| {
            refused(state, &refusal, None, address);
            wire::error_response(&refusal.error)
        })
}

/// A request refused there: answered after the failure floor (when its
/// failure takes it), counted and audited, in RFC 6749's body.
pub(super) async fn answer_refused(
    state: &AppState,
    refused_request: RefusedRequest,
    (started, work): (tokio::time::Instant, std::time::Duration),
    address: Option<IpAddr>,
) -> Response {
    let RefusedRequest {
        refusal,
        claimed_id,
    } = refused_request;
    equal_time(state, &refusal, started, work).await;
    refused(state, &refusal, claimed_id.as_deref(), address);
    wire::error_response(&refusal.error)
}

/// Counts, audits and (for throttling) warns about a refusal.
pub(super) fn refused(
    state: &AppState,
    refusal: &Refusal,
    claimed_id: Option<&str>,
    address: Option<IpAddr>,
) {
    state.metrics.refused(refusal);
    audit::refused(refusal, claimed_id, address);
    if refusal.reason == Reason::Throttled {
        static WARNED: crate::observe::log_limit::LogLimit =
            crate::observe::log_limit::LogLimit::new(std::time::Duration::from_secs(10));
        if let Some(held_back) = WARNED.allow() {
            tracing::warn!(
                client_id = claimed_id.map(|c| tracing::field::display(audit::untrusted(c))),
                address = address.map(tracing::field::display),
                similar_since_last = held_back,
                "client authentication throttled"
            );
        }
    }
}
