//! `GET /metrics`: OpenMetrics when the scraper asks for it (Prometheus
//! does, in `Accept`), else the classic text format 0.0.4 (older scrapers,
//! agents, a person with curl).

use std::sync::Arc;

use poem::http::StatusCode;
use poem::http::header::ACCEPT;
use poem::{IntoResponse, Request, Response};

use crate::observe::metrics::{View, to_text_format};
use crate::state::AppState;

const OPENMETRICS: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";
const TEXT: &str = "text/plain; version=0.0.4; charset=utf-8";

pub(super) fn endpoint(state: Arc<AppState>, view: View) -> impl poem::Endpoint {
    poem::get(MetricsEndpoint { state, view })
}

struct MetricsEndpoint {
    state: Arc<AppState>,
    view: View,
}

impl poem::Endpoint for MetricsEndpoint {
    type Output = Response;

    async fn call(&self, req: Request) -> poem::Result<Response> {
        let state = &self.state;
        let openmetrics = match state.metrics.render(self.view, state.metrics_snapshot()) {
            Ok(text) => text,
            Err(e) => {
                tracing::error!(error = %e, "metrics encoding failed");
                return Ok(StatusCode::INTERNAL_SERVER_ERROR.into_response());
            }
        };
        let wants_openmetrics = req
            .headers()
            .get_all(ACCEPT)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .any(|v| v.contains("application/openmetrics-text"));
        Ok(if wants_openmetrics {
            Response::builder()
                .content_type(OPENMETRICS)
                .body(openmetrics)
        } else {
            Response::builder()
                .content_type(TEXT)
                .body(to_text_format(&openmetrics))
        })
    }
}
