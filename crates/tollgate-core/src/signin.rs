//! A person's sign-in: a username and a password, checked against the
//! Argon2id hash the file holds for her.
//!
//! Every failure looks the same to the person: an unknown user, a
//! disabled one and a wrong password get the one [`FAILED`] message, after
//! the same Argon2 work — a known user's hash, or for an unknown one a
//! dummy run of the dearest user hash's cost, then the rest up to that
//! cost on top — so neither the page nor its timing tells whether a
//! username exists. The reason goes to the audit log only. Attempts are
//! throttled per username and address like failed client authentication
//! (`throttle`), counted before Argon2 runs.

use std::fmt;
use std::sync::Arc;

use argon2::{Argon2, PasswordVerifier};

use super::auth::secret::{argon2_run, padding_params};
use super::people::{MAX_USERNAME_LEN, User};
use super::ports::{Context, PortError, Ports};
use super::refusal::Reason;

/// What the sign-in page says for every failed sign-in.
pub const FAILED: &str = "The username or password is not right.";
/// What it says when the attempts from here are throttled.
pub const THROTTLED: &str = "Too many failed sign-ins. Wait a minute, then try again.";

/// The throttle's kind for people (clients are 0, API resources 1).
const KIND: u8 = 2;

/// A password as the person typed it. Its `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct PresentedPassword(String);

impl PresentedPassword {
    pub fn new(s: String) -> Self {
        Self(s)
    }

    fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for PresentedPassword {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PresentedPassword([redacted])")
    }
}

/// A failed sign-in: why (for the audit log), and what the page says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SignInFailure {
    pub reason: Reason,
}

impl SignInFailure {
    /// The message the page shows: the same for every reason but
    /// throttling and the server's own failure.
    pub fn message(self) -> &'static str {
        match self.reason {
            Reason::Throttled => THROTTLED,
            _ => FAILED,
        }
    }
}

/// The user `username` is, if `password` is hers and she may sign in.
pub async fn sign_in<P: Ports>(
    cx: &Context<'_>,
    ports: &P,
    username: &str,
    password: PresentedPassword,
) -> Result<Arc<User>, SignInFailure> {
    let fail = |reason| SignInFailure { reason };
    // A name no file can hold is counted by its address only.
    let name = if username.len() > MAX_USERNAME_LEN {
        ""
    } else {
        username
    };
    cx.services
        .throttle
        .attempt(KIND, name, cx.address)
        .map_err(|_| fail(Reason::Throttled))?;
    let user = cx.registry.user(name).cloned();
    let dearest = cx
        .registry
        .users()
        .filter_map(|u| u.password_hash.as_ref())
        .map(|h| h.work())
        .fold(1.0, f64::max);
    let checked = ports
        .slow(move || verify(user, &password, dearest))
        .await
        .map_err(|_: PortError| fail(Reason::Internal))?;
    checked.map_err(fail)
}

/// Argon2 against her hash, then padding up to `dearest` default
/// verifications' work in all, whatever the outcome.
fn verify(
    user: Option<Arc<User>>,
    password: &PresentedPassword,
    dearest: f64,
) -> Result<Arc<User>, Reason> {
    let mut done = 0.0;
    let mut matched = false;
    if let Some(hash) = user.as_ref().and_then(|u| u.password_hash.as_ref()) {
        done = hash.work();
        matched = Argon2::default()
            .verify_password(password.expose().as_bytes(), &hash.phc())
            .is_ok();
    }
    let outcome = match user {
        Some(user) if matched && user.enabled => return Ok(user),
        Some(user) if !user.enabled => Reason::DisabledUser,
        Some(_) => Reason::WrongPassword,
        None => Reason::UnknownUser,
    };
    let rest = dearest - done;
    if rest >= 0.01 {
        argon2_run(padding_params(rest));
    }
    Err(outcome)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_never_show_in_debug_output() {
        let p = PresentedPassword::new("hunter2".into());
        assert!(!format!("{p:?}").contains("hunter2"));
    }
}
