//! Turns the raw token request (form body + `Authorization` header) into a
//! typed [`TokenRequest`], answering malformed input with the RFC 6749 error
//! it deserves. Knows nothing about HTTP frameworks.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use super::client::{AuthMethod, ClientCredentials, PresentedSecret};
use super::error::OAuthError;

/// The parameters of a token request that tollgate reads. Everything else is
/// ignored, as RFC 6749 §3.2 requires.
#[derive(Debug, Clone)]
pub struct TokenRequest {
    /// The raw `grant_type`: unknown values are judged after the client is
    /// authenticated, so they are kept as sent.
    pub grant_type: String,
    /// The raw `scope`, if sent and not empty.
    pub scope: Option<String>,
    pub credentials: ClientCredentials,
}

const KNOWN: [&str; 4] = ["grant_type", "scope", "client_id", "client_secret"];

/// Parses a form-urlencoded body and an optional `Authorization` header.
pub fn parse_token_request(
    body: &[u8],
    authorization: Option<&[u8]>,
) -> Result<TokenRequest, OAuthError> {
    let mut values: [Option<String>; 4] = Default::default();
    for (name, value) in form_urlencoded::parse(body) {
        let Some(i) = KNOWN.iter().position(|k| *k == name) else {
            continue;
        };
        // RFC 6749 §3.2: "Parameters sent without a value MUST be treated as
        // if they were omitted", and none may be included more than once.
        if values[i].is_some() {
            return Err(OAuthError::invalid_request(format!(
                "parameter {name} is repeated"
            )));
        }
        if !value.is_empty() {
            values[i] = Some(value.into_owned());
        }
    }
    let [grant_type, scope, client_id, client_secret] = values;
    let grant_type =
        grant_type.ok_or_else(|| OAuthError::invalid_request("grant_type is missing"))?;
    let credentials = client_credentials(authorization, client_id, client_secret)?;
    Ok(TokenRequest {
        grant_type,
        scope,
        credentials,
    })
}

/// Picks the one authentication method the request used (RFC 6749 §2.3:
/// "MUST NOT use more than one").
fn client_credentials(
    authorization: Option<&[u8]>,
    body_id: Option<String>,
    body_secret: Option<String>,
) -> Result<ClientCredentials, OAuthError> {
    match authorization {
        Some(header) => {
            if body_secret.is_some() {
                return Err(OAuthError::invalid_request(
                    "use either HTTP Basic or client_secret in the body, not both",
                ));
            }
            let (id, secret) =
                decode_basic(header).ok_or_else(|| OAuthError::invalid_client(true))?;
            // Some clients repeat client_id in the body next to Basic; that is
            // harmless when it names the same client.
            if body_id.as_ref().is_some_and(|b| *b != id) {
                return Err(OAuthError::invalid_request(
                    "client_id in the body differs from the one in Authorization",
                ));
            }
            Ok(ClientCredentials {
                client_id: id,
                secret: PresentedSecret::new(secret),
                method: AuthMethod::ClientSecretBasic,
            })
        }
        None => match (body_id, body_secret) {
            (Some(id), Some(secret)) => Ok(ClientCredentials {
                client_id: id,
                secret: PresentedSecret::new(secret),
                method: AuthMethod::ClientSecretPost,
            }),
            // No authentication, a secret with no client named, or a
            // public client (tollgate has none): authentication failed.
            _ => Err(OAuthError::invalid_client(false)),
        },
    }
}

/// Decodes `Basic base64(urlencode(id) ":" urlencode(secret))` as RFC 6749
/// §2.3.1 specifies. Clients that skip the url-encoding still work as long
/// as their id and secret contain no `%` or `+`, which holds for every
/// secret `tollgate hash-secret --generate` makes.
fn decode_basic(header: &[u8]) -> Option<(String, String)> {
    let header = std::str::from_utf8(header).ok()?.trim();
    let (scheme, rest) = header.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = STANDARD.decode(rest.trim()).ok()?;
    let decoded = String::from_utf8(decoded).ok()?;
    let (id, secret) = decoded.split_once(':')?;
    let id = form_decode(id);
    let secret = form_decode(secret);
    if id.is_empty() || secret.is_empty() {
        return None;
    }
    Some((id, secret))
}

/// `application/x-www-form-urlencoded` decoding of one value (`+` is a
/// space, `%XX` a byte).
fn form_decode(s: &str) -> String {
    let plus_decoded = s.replace('+', " ");
    percent_encoding::percent_decode_str(&plus_decoded)
        .decode_utf8_lossy()
        .into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oauth::error::ErrorCode;

    fn basic(raw: &str) -> Vec<u8> {
        format!("Basic {}", STANDARD.encode(raw)).into_bytes()
    }

    #[test]
    fn basic_credentials_are_form_urlencoded_inside_base64() {
        let h = basic("my%3Aid:p%25ss+w%2Bord");
        let r = parse_token_request(b"grant_type=client_credentials", Some(&h)).unwrap();
        assert_eq!(r.credentials.client_id, "my:id");
        assert_eq!(r.credentials.secret.expose(), "p%ss w+ord");
        assert_eq!(r.credentials.method, AuthMethod::ClientSecretBasic);
    }

    #[test]
    fn unencoded_unreserved_secrets_work_the_same() {
        let h = basic("client:AZaz09-._~");
        let r = parse_token_request(b"grant_type=client_credentials", Some(&h)).unwrap();
        assert_eq!(r.credentials.secret.expose(), "AZaz09-._~");
    }

    #[test]
    fn malformed_requests_get_their_rfc_error() {
        let h = basic("client:secret");
        type Case<'a> = (&'a [u8], Option<&'a [u8]>, ErrorCode, bool);
        let cases: &[Case] = &[
            (b"scope=api1", Some(&h), ErrorCode::InvalidRequest, false),
            (
                b"grant_type=a&grant_type=b",
                Some(&h),
                ErrorCode::InvalidRequest,
                false,
            ),
            (
                b"grant_type=x&scope=a&scope=b",
                Some(&h),
                ErrorCode::InvalidRequest,
                false,
            ),
            (
                b"grant_type=x&client_secret=s",
                Some(&h),
                ErrorCode::InvalidRequest,
                false,
            ),
            (
                b"grant_type=x&client_id=other",
                Some(&h),
                ErrorCode::InvalidRequest,
                false,
            ),
            (
                b"grant_type=x&client_secret=s",
                None,
                ErrorCode::InvalidClient,
                false,
            ),
            (b"grant_type=x", None, ErrorCode::InvalidClient, false),
            (
                b"grant_type=x&client_id=c",
                None,
                ErrorCode::InvalidClient,
                false,
            ),
            (
                b"grant_type=x",
                Some(b"Bearer abc"),
                ErrorCode::InvalidClient,
                true,
            ),
            (
                b"grant_type=x",
                Some(b"Basic !!!"),
                ErrorCode::InvalidClient,
                true,
            ),
            (
                b"grant_type=x",
                Some(b"Basic"),
                ErrorCode::InvalidClient,
                true,
            ),
            (
                b"grant_type=x",
                Some(&[0xff, 0xfe]),
                ErrorCode::InvalidClient,
                true,
            ),
        ];
        for (body, auth, code, challenge) in cases {
            let err = parse_token_request(body, *auth).unwrap_err();
            let shown = String::from_utf8_lossy(body);
            assert_eq!(err.code, *code, "{shown}");
            assert_eq!(err.basic_challenge, *challenge, "{shown}");
        }
    }

    #[test]
    fn empty_and_unknown_parameters_are_ignored() {
        let body = b"grant_type=client_credentials&scope=&foo=1&foo=2&client_id=c&client_secret=s";
        let r = parse_token_request(body, None).unwrap();
        assert_eq!(r.scope, None);
        assert_eq!(r.credentials.method, AuthMethod::ClientSecretPost);
    }
}
