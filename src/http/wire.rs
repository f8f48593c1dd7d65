//! The wire shapes of the protocol endpoints: one type each, serialized
//! with serde on the hot path and described in the OpenAPI document by the
//! same type. The core's own enums (error codes) are described here from
//! their list of values, so the document and the server cannot disagree
//! (`tests/it/openapi.rs` checks it against what the server sends).

use std::borrow::Cow;

use poem::http::header::{CACHE_CONTROL, CONTENT_TYPE, PRAGMA, RETRY_AFTER, WWW_AUTHENTICATE};
use poem::http::{HeaderValue, StatusCode};
use poem::{IntoResponse, Response};
use poem_openapi::Object;
use poem_openapi::registry::{MetaSchema, MetaSchemaRef, Registry};
use poem_openapi::types::{ParseError, ParseFromJSON, ParseResult, ToJSON, Type};
use serde::Serialize;
use serde_json::Value;

use tollgate_core::TokenType;
use tollgate_core::{Challenge, ErrorCode, OAuthError};

/// Describes a core enum that serializes as one of a fixed set of strings.
macro_rules! string_enum {
    ($wire:ident, $ty:ty, $name:literal, $description:literal) => {
        /// The core's value as the document describes it (the core knows
        /// nothing of poem, and poem's traits can only be implemented on a
        /// type of this crate).
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub(crate) struct $wire(pub(crate) $ty);

        impl Serialize for $wire {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.0.as_str())
            }
        }

        impl Type for $wire {
            const IS_REQUIRED: bool = true;
            type RawValueType = Self;
            type RawElementValueType = Self;

            fn name() -> Cow<'static, str> {
                $name.into()
            }

            fn schema_ref() -> MetaSchemaRef {
                MetaSchemaRef::Reference($name.into())
            }

            fn register(registry: &mut Registry) {
                registry.create_schema::<Self, _>($name.into(), |_| MetaSchema {
                    description: Some($description),
                    enum_items: <$ty>::ALL
                        .iter()
                        .map(|v| Value::String(v.as_str().into()))
                        .collect(),
                    ..MetaSchema::new("string")
                });
            }

            fn as_raw_value(&self) -> Option<&Self> {
                Some(self)
            }

            fn raw_element_iter<'a>(&'a self) -> Box<dyn Iterator<Item = &'a Self> + 'a> {
                Box::new(std::iter::once(self))
            }
        }

        impl ToJSON for $wire {
            fn to_json(&self) -> Option<Value> {
                Some(Value::String(self.0.as_str().into()))
            }
        }

        impl ParseFromJSON for $wire {
            fn parse_from_json(value: Option<Value>) -> ParseResult<Self> {
                let value = value.unwrap_or_default();
                <$ty>::ALL
                    .into_iter()
                    .find(|v| value.as_str() == Some(v.as_str()))
                    .map($wire)
                    .ok_or_else(|| ParseError::expected_type(value))
            }
        }
    };
}

string_enum!(
    WireErrorCode,
    ErrorCode,
    "ErrorCode",
    "The RFC 6749 §5.2 error code (and invalid_target of RFC 8707, invalid_dpop_proof of RFC 9449)."
);

string_enum!(
    WireTokenType,
    TokenType,
    "TokenType",
    "How the access token is presented: Bearer (RFC 6750) or DPoP (RFC 9449)."
);

/// A successful token response (RFC 6749 §5.1).
#[derive(Object, Serialize)]
#[oai(rename = "TokenResponse")]
pub struct TokenBody {
    /// An RFC 9068 JWT access token, signed with the active key (ES256 by
    /// default; EdDSA or RS256 when configured).
    pub access_token: String,
    /// `Bearer`, or `DPoP` when the request carried a DPoP proof (the
    /// token is then bound to its key: `cnf.jkt`).
    pub(crate) token_type: WireTokenType,
    /// Seconds until the token expires.
    pub expires_in: u64,
    /// The granted scopes, space-separated.
    pub scope: String,
    /// Token exchange only (RFC 8693 §2.2.1): always
    /// `urn:ietf:params:oauth:token-type:access_token`.
    #[oai(skip_serializing_if_is_none)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub issued_token_type: Option<String>,
    /// OpenID Connect Core §3.1.3.3: when `openid` was granted to a
    /// person (a JWT, `typ` `JWT`, signed like access tokens).
    #[oai(skip_serializing_if_is_none)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id_token: Option<String>,
    /// When `offline_access` was granted, and at each refresh (the one
    /// presented is used up: rotation).
    #[oai(skip_serializing_if_is_none)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
}

/// An error response (RFC 6749 §5.2).
#[derive(Object, Serialize)]
#[oai(rename = "OAuthError")]
pub struct ErrorBody {
    pub(crate) error: WireErrorCode,
    /// Human-readable detail for the developer of the client.
    pub error_description: String,
}

pub(super) const JSON: &str = "application/json; charset=utf-8";
const JSON_VALUE: HeaderValue = HeaderValue::from_static(JSON);
const NO_STORE: HeaderValue = HeaderValue::from_static("no-store");
const NO_CACHE: HeaderValue = HeaderValue::from_static("no-cache");

/// A JSON response that must not be cached (RFC 6749 §5.1, §5.2: token
/// and error responses alike).
pub(super) fn no_store_json(status: StatusCode, body: Vec<u8>) -> Response {
    Response::builder()
        .status(status)
        .header(CONTENT_TYPE, JSON_VALUE)
        .header(CACHE_CONTROL, NO_STORE)
        .header(PRAGMA, NO_CACHE)
        .body(body)
}

/// The response of an error: the one place a protocol error becomes HTTP.
pub(super) fn error_response(error: &OAuthError) -> Response {
    let body = ErrorBody {
        error: WireErrorCode(error.code),
        error_description: error.description.clone().into_owned(),
    };
    let status = StatusCode::from_u16(error.http_status()).unwrap_or(StatusCode::BAD_REQUEST);
    let json = serde_json::to_vec(&body).unwrap_or_default();
    let mut response = no_store_json(status, json);
    let headers = response.headers_mut();
    if error.challenge == Challenge::Basic {
        headers.insert(
            WWW_AUTHENTICATE,
            HeaderValue::from_static(r#"Basic realm="tollgate""#),
        );
    }
    if let Some(retry) = error.retry {
        headers.insert(RETRY_AFTER, HeaderValue::from(retry.seconds()));
    }
    response
}

impl IntoResponse for TokenBody {
    fn into_response(self) -> Response {
        match serde_json::to_vec(&self) {
            Ok(json) => no_store_json(StatusCode::OK, json),
            Err(e) => {
                tracing::error!(error = %e, "token response serialization failed");
                error_response(&OAuthError::server_error())
            }
        }
    }
}

/// A string property with a description.
fn string_property(description: &'static str) -> MetaSchemaRef {
    MetaSchemaRef::Inline(Box::new(MetaSchema {
        description: Some(description),
        ..MetaSchema::new("string")
    }))
}

/// The public JWK of a signing key ([`crate::keys::Jwk`], which the JWKS is
/// serialized from), described for the document. `tests/it/openapi.rs`
/// checks every algorithm's JWK against it.
pub(super) struct JwkSchema;

impl Type for JwkSchema {
    const IS_REQUIRED: bool = true;
    type RawValueType = Self;
    type RawElementValueType = Self;

    fn name() -> Cow<'static, str> {
        "Jwk".into()
    }

    fn schema_ref() -> MetaSchemaRef {
        MetaSchemaRef::Reference("Jwk".into())
    }

    fn register(registry: &mut Registry) {
        registry.create_schema::<Self, _>("Jwk".into(), |_| MetaSchema {
            description: Some(
                "A JSON Web Key (RFC 7517): EC P-256 (ES256), OKP Ed25519 (EdDSA) or RSA \
                 (RS256); only the members of its kty are present, never private ones.",
            ),
            required: vec!["kty", "kid", "alg", "use"],
            properties: vec![
                ("kty", string_property("`EC`, `OKP` or `RSA`")),
                ("crv", string_property("`P-256` (EC) or `Ed25519` (OKP)")),
                (
                    "x",
                    string_property("base64url x coordinate (EC) or public key (OKP)"),
                ),
                ("y", string_property("base64url y coordinate (EC)")),
                ("n", string_property("base64url modulus (RSA)")),
                ("e", string_property("base64url public exponent (RSA)")),
                (
                    "kid",
                    string_property(
                        "RFC 7638 thumbprint of the key; the `kid` of the tokens it signed",
                    ),
                ),
                ("alg", string_property("`ES256`, `EdDSA` or `RS256`")),
                ("use", string_property("`sig`")),
            ],
            additional_properties: Some(Box::new(MetaSchemaRef::Inline(Box::new(MetaSchema::ANY)))),
            ..MetaSchema::new("object")
        });
    }

    fn as_raw_value(&self) -> Option<&Self> {
        Some(self)
    }

    fn raw_element_iter<'a>(&'a self) -> Box<dyn Iterator<Item = &'a Self> + 'a> {
        Box::new(std::iter::once(self))
    }
}

impl ToJSON for JwkSchema {
    fn to_json(&self) -> Option<Value> {
        None
    }
}

impl ParseFromJSON for JwkSchema {
    fn parse_from_json(value: Option<Value>) -> ParseResult<Self> {
        Err(ParseError::expected_type(value.unwrap_or_default()))
    }
}
