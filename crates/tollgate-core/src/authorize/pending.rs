//! The authorization request while the person signs in or consents: the
//! validated request sealed (`sealed::Purpose::Pending`) into the form's
//! hidden `pending` field, with an expiry ([`PENDING_LIFETIME`]), so no
//! server keeps it and a browser can change nothing in it.
//!
//! CSRF: the blob is bound to the browser that was shown the form. The
//! HTTP adapter keeps a random value in a cookie of its own (`HttpOnly`,
//! `SameSite=Strict`: a cross-site POST never carries it); the sealed blob
//! holds the same value, and a posted form counts only when the two are
//! equal (compared in constant time). Another site can neither read the
//! cookie nor make a blob bound to it, so it cannot post a form in the
//! person's name, nor replay one it was shown itself.

use serde::{Deserialize, Serialize};

use super::super::ports::Context;
use super::super::refusal::Reason;
use super::super::sealed::Purpose;
use super::{Answer, AuthRequest, page};

/// How long a form may be left open before it is posted, in seconds.
pub const PENDING_LIFETIME: i64 = 600;

/// What the hidden field carries.
#[derive(Debug, Serialize, Deserialize)]
struct Pending {
    request: AuthRequest,
    /// Unix seconds after which the form is refused.
    exp: i64,
    /// The CSRF cookie's value when the form was made.
    bound: String,
}

/// `req`, sealed for a form shown to the browser whose CSRF cookie holds
/// `csrf`; `None` without a sealing key.
pub(super) fn seal(cx: &Context<'_>, req: &AuthRequest, csrf: &str) -> Option<String> {
    let pending = Pending {
        request: req.clone(),
        exp: cx.now.unix_timestamp() + PENDING_LIFETIME,
        bound: csrf.to_owned(),
    };
    Some(cx.sealing?.seal(Purpose::Pending, &pending))
}

/// The request a posted form carries, and the CSRF value it is bound to,
/// if the blob is ours, unexpired, and bound to the browser's `cookie`.
pub(super) fn open(
    cx: &Context<'_>,
    blob: Option<&str>,
    cookie: Option<&str>,
) -> Result<(AuthRequest, String), Answer> {
    let invalid = |reason| {
        page(
            400,
            reason,
            "This sign-in form is no longer valid. Go back to the application and start again.",
        )
    };
    let key = cx.sealing.ok_or_else(|| invalid(Reason::PendingInvalid))?;
    let pending: Pending = blob
        .and_then(|b| key.open(Purpose::Pending, b))
        .ok_or_else(|| invalid(Reason::PendingInvalid))?;
    if pending.exp <= cx.now.unix_timestamp() {
        return Err(invalid(Reason::PendingInvalid));
    }
    let bound = !pending.bound.is_empty()
        && cookie.is_some_and(|c| {
            aws_lc_rs::constant_time::verify_slices_are_equal(
                c.as_bytes(),
                pending.bound.as_bytes(),
            )
            .is_ok()
        });
    if !bound {
        return Err(invalid(Reason::CsrfMismatch));
    }
    Ok((pending.request, pending.bound))
}
