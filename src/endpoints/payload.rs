//! Payload types poem-openapi lacks: a JSON body serialized straight with
//! serde (poem-openapi's `Json` goes through `serde_json::Value` first), a
//! pre-serialized JSON body, and the raw token form.

use poem::{FromRequest, IntoResponse, Request, RequestBody, Response, Result};
use poem_openapi::impl_apirequest_for_payload;
use poem_openapi::payload::{ParsePayload, Payload};
use poem_openapi::registry::{MetaSchemaRef, Registry};
use poem_openapi::types::Type;

const JSON: &str = "application/json; charset=utf-8";

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
            Ok(body) => Response::builder().content_type(JSON).body(body),
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
        Response::builder().content_type(JSON).body(self.0)
    }
}

/// The token request body, kept raw: the protocol core parses it, because
/// only it knows the RFC's rules (repeated parameters are errors, unknown
/// ones are ignored, empty ones are absent). Documented with the schema of
/// [`super::token::TokenRequestForm`].
pub struct TokenForm(pub Vec<u8>);

impl Payload for TokenForm {
    const CONTENT_TYPE: &'static str = "application/x-www-form-urlencoded";

    /// `application/x-www-form-urlencoded`, any case, parameters (such as
    /// `; charset=UTF-8`) allowed. Compared in place: this runs on every
    /// token request, and parsing a `Mime` allocates.
    fn check_content_type(content_type: &str) -> bool {
        let essence = content_type.split(';').next().unwrap_or("").trim();
        essence.eq_ignore_ascii_case(Self::CONTENT_TYPE)
    }

    fn schema_ref() -> MetaSchemaRef {
        super::token::TokenRequestForm::schema_ref()
    }

    fn register(registry: &mut Registry) {
        super::token::TokenRequestForm::register(registry);
    }
}

impl ParsePayload for TokenForm {
    const IS_REQUIRED: bool = true;

    async fn from_request(req: &Request, body: &mut RequestBody) -> Result<Self> {
        Ok(Self(Vec::<u8>::from_request(req, body).await?))
    }
}

impl_apirequest_for_payload!(TokenForm);
