//! Reading a form body (`application/x-www-form-urlencoded`) with a size
//! and a time limit, as the token and introspection endpoints take it.

use poem::{Body, Request};

use tollgate_core::{ErrorCode, OAuthError, Reason, Refusal};

pub(super) const FORM: &str = "application/x-www-form-urlencoded";

/// The largest form body accepted. A real token request is under 1 KiB;
/// one with a client assertion and a DPoP proof a few KiB.
pub(super) const MAX_BODY: usize = 16 * 1024;

/// `application/x-www-form-urlencoded`, any case, parameters (such as
/// `; charset=UTF-8`) allowed.
fn is_form(content_type: &str) -> bool {
    let essence = content_type.split(';').next().unwrap_or("").trim();
    essence.eq_ignore_ascii_case(FORM)
}

/// The body of a form request, or the refusal it deserves. A body over
/// [`MAX_BODY`] is 413: a declared length is checked before reading (hyper
/// never reads past it); a chunked body is counted as it arrives.
pub(super) async fn read(
    req: &Request,
    body: Body,
    limit: std::time::Duration,
) -> Result<bytes::Bytes, Refusal> {
    if !req.content_type().is_some_and(is_form) {
        return Err(Refusal::invalid_request(
            Reason::WrongContentType,
            "the body must be application/x-www-form-urlencoded",
        ));
    }
    let declared = req
        .header(poem::http::header::CONTENT_LENGTH)
        .and_then(|v| v.parse::<usize>().ok());
    let read = async {
        match declared {
            Some(n) if n > MAX_BODY => Err(poem::error::ReadBodyError::PayloadTooLarge),
            Some(_) => body.into_bytes().await,
            None => body.into_bytes_limit(MAX_BODY).await,
        }
    };
    // A body trickled in byte by byte would hold the request open forever
    // (the connection's idle timeout resets on every byte).
    let Ok(read) = tokio::time::timeout(limit, read).await else {
        return Err(Refusal::invalid_request(
            Reason::BodySlow,
            "the request body did not arrive in time",
        ));
    };
    read.map_err(|e| match e {
        poem::error::ReadBodyError::PayloadTooLarge => Refusal::new(
            OAuthError {
                status_override: Some(413),
                ..OAuthError::new(
                    ErrorCode::InvalidRequest,
                    "the request body is larger than 16 KiB",
                )
            },
            Reason::BodyTooLarge,
        ),
        _ => Refusal::invalid_request(Reason::BodyUnreadable, "the request body could not be read"),
    })
}
