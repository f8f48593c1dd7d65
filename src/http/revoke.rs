//! `POST /connect/revoke` (RFC 7009): HTTP in, the core's revocation,
//! HTTP out. The client authenticates as at the token endpoint (a failure
//! is the same `invalid_client`, after the same time); any token, known
//! or not, is answered 200 with an empty body (§2.2).

use std::sync::Arc;

use poem::http::StatusCode;
use poem::http::header::AUTHORIZATION;
use poem::{Request, Response};

use super::AppState;
use super::wire;
use crate::runtime::failure_time::measured;
use tollgate_core::revocation;
use tollgate_core::token_request;

pub(super) fn endpoint(state: Arc<AppState>) -> impl poem::Endpoint {
    poem::post(RevokeEndpoint { state })
}

struct RevokeEndpoint {
    state: Arc<AppState>,
}

impl poem::Endpoint for RevokeEndpoint {
    type Output = Response;

    async fn call(&self, mut req: Request) -> poem::Result<Response> {
        let state = &self.state;
        let address = req.remote_addr().as_socket_addr().map(|a| a.ip());
        let form = match super::token::client_form(state, &mut req, address).await {
            Ok(form) => form,
            Err(answer) => return Ok(answer),
        };
        let scope = super::scope::Scope::load(state);
        let cx = scope.context(state, address);
        let certificate = super::client_cert::of(&req, &scope.config().certificates, address);
        let request = token_request::Request {
            body: &form,
            authorization: req.headers().get(AUTHORIZATION).map(|v| v.as_bytes()),
            dpop: &[],
            certificate: certificate.as_ref(),
        };
        let started = tokio::time::Instant::now();
        let (outcome, work) = measured(revocation::revoke(&cx, &**state, request)).await;
        match outcome {
            Ok((client, revoked)) => {
                crate::observe::audit::revoked(&client, revoked, address);
                Ok(wire::no_store_json(StatusCode::OK, Vec::new()))
            }
            Err(refused) => {
                Ok(super::token::answer_refused(state, refused, (started, work), address).await)
            }
        }
    }
}
