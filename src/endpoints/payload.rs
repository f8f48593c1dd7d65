//! Payload types poem-openapi lacks: a JSON body serialized straight with
//! serde (poem-openapi's `Json` goes through `serde_json::Value` first), a
//! pre-serialized JSON body.

use poem::http::HeaderValue;
use poem::http::header::CONTENT_TYPE;
use poem::{IntoResponse, Response};
use poem_openapi::payload::Payload;
use poem_openapi::registry::{MetaSchemaRef, Registry};
use poem_openapi::types::Type;

pub const JSON: &str = "application/json; charset=utf-8";
/// [`JSON`] as a header value, made once (`content_type(&str)` parses and
/// copies it on every response).
const JSON_VALUE: HeaderValue = HeaderValue::from_static(JSON);

/// A JSON response documented with the schema of `D` and serialized from
/// `T` with serde.
pub struct SerdeJson<T, D>(pub T, pub std::marker::PhantomData<D>);

impl<T, D> SerdeJson<T, D> {
    pub fn new(value: T) -> Self {
        Self(value, std::marker::PhantomData)
    }
}

impl<T: serde::Serialize + Send, D: Type> Payload for SerdeJson<T, D> {
    const CONTENT_TYPE: &'static str = JSON;

    fn schema_ref() -> MetaSchemaRef {
        D::schema_ref()
    }

    fn register(registry: &mut Registry) {
        D::register(registry);
    }
}

impl<T: serde::Serialize + Send, D: Type> IntoResponse for SerdeJson<T, D> {
    fn into_response(self) -> Response {
        match serde_json::to_vec(&self.0) {
            Ok(body) => Response::builder()
                .header(CONTENT_TYPE, JSON_VALUE)
                .body(body),
            Err(e) => {
                tracing::error!(error = %e, "response serialization failed");
                poem::http::StatusCode::INTERNAL_SERVER_ERROR.into_response()
            }
        }
    }
}

/// JSON bytes serialized once (the JWKS), documented with the schema of `D`.
pub struct RawJson<D>(pub bytes::Bytes, pub std::marker::PhantomData<D>);

impl<D> RawJson<D> {
    pub fn new(body: bytes::Bytes) -> Self {
        Self(body, std::marker::PhantomData)
    }
}

impl<D: Type> Payload for RawJson<D> {
    const CONTENT_TYPE: &'static str = JSON;

    fn schema_ref() -> MetaSchemaRef {
        D::schema_ref()
    }

    fn register(registry: &mut Registry) {
        D::register(registry);
    }
}

impl<D: Type> IntoResponse for RawJson<D> {
    fn into_response(self) -> Response {
        Response::builder()
            .header(CONTENT_TYPE, JSON_VALUE)
            .body(self.0)
    }
}
