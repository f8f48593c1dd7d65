//! `GET|POST /connect/userinfo` (OpenID Connect Core §5.3): HTTP in, the
//! core's userinfo, HTTP out. The access token comes in `Authorization`
//! only (Bearer, or DPoP with its proof); a refusal is RFC 6750's
//! challenge in `WWW-Authenticate` (RFC 9449 §7.1 for DPoP).

use std::sync::Arc;

use poem::http::header::{AUTHORIZATION, WWW_AUTHENTICATE};
use poem::http::{HeaderValue, StatusCode};
use poem::{Request, Response};

use super::AppState;
use super::wire;
use tollgate_core::userinfo::{self, Refused};

pub(super) fn endpoint(state: Arc<AppState>) -> impl poem::Endpoint {
    let endpoint = Arc::new(UserinfoEndpoint { state });
    poem::get(endpoint.clone()).post(endpoint)
}

struct UserinfoEndpoint {
    state: Arc<AppState>,
}

impl poem::Endpoint for UserinfoEndpoint {
    type Output = Response;

    async fn call(&self, req: Request) -> poem::Result<Response> {
        let state = &self.state;
        let address = req.remote_addr().as_socket_addr().map(|a| a.ip());
        let scope = super::scope::Scope::load(state);
        let cx = scope.context(state, address);
        let url = format!("{}{}", scope.issuer(), super::scope::USERINFO_PATH);
        let dpop: Vec<&[u8]> = req
            .headers()
            .get_all("dpop")
            .iter()
            .map(|v| v.as_bytes())
            .collect();
        let authorization = req
            .headers()
            .get(AUTHORIZATION)
            .and_then(|v| v.to_str().ok());
        let request = userinfo::Request {
            authorization,
            dpop: &dpop,
            method: req.method().as_str(),
            url: &url,
        };
        let dpop_scheme =
            authorization.is_some_and(|a| a.len() > 5 && a[..5].eq_ignore_ascii_case("dpop "));
        Ok(match userinfo::userinfo(&cx, &**state, request).await {
            Ok(claims) => wire::no_store_json(
                StatusCode::OK,
                serde_json::to_vec(&claims).unwrap_or_default(),
            ),
            Err(refused) => challenge(&refused, dpop_scheme),
        })
    }
}

/// RFC 6750 §3: the status and the challenge of a refusal.
fn challenge(refused: &Refused, dpop: bool) -> Response {
    let scheme = if dpop { "DPoP" } else { "Bearer" };
    let (status, error, description, extra) = match refused {
        Refused::InvalidToken(why) => (StatusCode::UNAUTHORIZED, "invalid_token", *why, ""),
        Refused::InsufficientScope => (
            StatusCode::FORBIDDEN,
            "insufficient_scope",
            "userinfo needs a person's token with the openid scope",
            r#", scope="openid""#,
        ),
        Refused::Unavailable => {
            return wire::error_response(&tollgate_core::OAuthError::unavailable(
                std::time::Duration::from_secs(1),
            ));
        }
    };
    // RFC 9449 §7.1: the algorithms a proof may use.
    let algs = match dpop {
        true => format!(
            r#", algs="{}""#,
            tollgate_jose::jose::advertised_names().join(" ")
        ),
        false => String::new(),
    };
    let header = format!(
        r#"{scheme} realm="tollgate", error="{error}", error_description="{description}"{extra}{algs}"#
    );
    let body = serde_json::json!({"error": error, "error_description": description});
    let mut response = wire::no_store_json(status, serde_json::to_vec(&body).unwrap_or_default());
    if let Ok(value) = HeaderValue::from_str(&header) {
        response.headers_mut().insert(WWW_AUTHENTICATE, value);
    }
    response
}
