//! A payload type poem-openapi lacks: JSON bytes serialized once (the
//! JWKS), documented with the schema of `D`.

use poem::http::HeaderValue;
use poem::http::header::CONTENT_TYPE;
use poem::{IntoResponse, Response};
use poem_openapi::payload::Payload;
use poem_openapi::registry::{MetaSchemaRef, Registry};
use poem_openapi::types::Type;

use super::wire::JSON;

/// [`JSON`] as a header value, made once (`content_type(&str)` parses and
/// copies it on every response).
const JSON_VALUE: HeaderValue = HeaderValue::from_static(JSON);

/// JSON bytes serialized once, documented with the schema of `D`.
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
