//! `POST /connect/introspect` (RFC 7662): HTTP in, the protocol core's
//! introspection, HTTP out; audited, counted, and failed authentications
//! answered after the same time as at the token endpoint.

use std::sync::Arc;

use poem::http::StatusCode;
use poem::http::header::AUTHORIZATION;
use poem::{Request, Response};

use super::AppState;
use super::wire;
use tollgate_core::introspection::{self, Introspection};

pub(super) fn endpoint(state: Arc<AppState>) -> impl poem::Endpoint {
    poem::post(IntrospectEndpoint { state })
}

struct IntrospectEndpoint {
    state: Arc<AppState>,
}

impl poem::Endpoint for IntrospectEndpoint {
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
        let started = tokio::time::Instant::now();
        let authorization = req.headers().get(AUTHORIZATION).map(|v| v.as_bytes());
        let (outcome, work) = crate::runtime::failure_time::measured(introspection::introspect(
            &cx,
            &**state,
            &form,
            authorization,
        ))
        .await;
        match outcome {
            Ok((resource, answer)) => {
                let active = matches!(answer, Introspection::Active(_));
                crate::observe::audit::introspected(&resource.name, active, address);
                let body = match answer {
                    Introspection::Active(map) => serde_json::Value::Object(map),
                    Introspection::Inactive => serde_json::json!({ "active": false }),
                };
                Ok(wire::no_store_json(
                    StatusCode::OK,
                    serde_json::to_vec(&body).unwrap_or_default(),
                ))
            }
            Err(refused) => {
                Ok(super::token::answer_refused(state, refused, (started, work), address).await)
            }
        }
    }
}
