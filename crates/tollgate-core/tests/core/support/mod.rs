//! What every case uses: the world (registry, services, fake ports), keys
//! and JWSs, certificates, and the one way a case asserts a refusal: its
//! RFC error code and its audit reason, recorded as reached.

pub(crate) mod certs;
pub(crate) mod jws;
pub(crate) mod people;
pub(crate) mod ports;
pub(crate) mod subjects;
pub(crate) mod world;

use std::cell::RefCell;
use std::collections::HashSet;
use std::fmt::Debug;

use tollgate_core::{Challenge, ErrorCode, OAuthError, Reason, Refusal, RefusedRequest};

pub(crate) use jws::Key;
pub(crate) use world::{
    API, BILLING, ISSUER, NOW, ORDERS, Req, SECRET, TOKEN_ENDPOINT, World, client, scopes, secrets,
    user,
};

thread_local! {
    /// Every reason a case has asserted on this thread: each test runs
    /// on its own (a current-thread runtime), so what one test reached
    /// is never mixed with what others running beside it did.
    static REACHED: RefCell<HashSet<Reason>> = RefCell::default();
}

/// Records `reason` as reached by a case that asserted it another way
/// (a page, a redirect to the client).
pub(crate) fn reach(reason: Reason) {
    REACHED.with_borrow_mut(|r| r.insert(reason));
}

/// The reasons this test's cases asserted so far.
pub(crate) fn reached() -> HashSet<Reason> {
    REACHED.with_borrow(Clone::clone)
}

/// A refusal, whether or not it names the client it claimed.
pub(crate) trait AsRefusal {
    fn refusal(&self) -> &Refusal;
}

impl AsRefusal for Refusal {
    fn refusal(&self) -> &Refusal {
        self
    }
}

impl AsRefusal for RefusedRequest {
    fn refusal(&self) -> &Refusal {
        &self.refusal
    }
}

/// Asserts that `outcome` is a refusal with `code` and `reason`, and
/// records the reason as reached. An `invalid_client` is always the one
/// body (RFC 6749 §5.2 and the contract: nothing tells causes apart).
#[track_caller]
pub(crate) fn refused<T: Debug, E: AsRefusal + Debug>(
    case: &str,
    outcome: Result<T, E>,
    code: ErrorCode,
    reason: Reason,
) -> Refusal {
    let refusal = match outcome {
        Ok(v) => panic!("{case}: expected {code} ({reason:?}), got {v:?}"),
        Err(e) => e.refusal().clone(),
    };
    assert_eq!(
        (refusal.error.code, refusal.reason),
        (code, reason),
        "{case}: {refusal:?}"
    );
    if code == ErrorCode::InvalidClient {
        let one = OAuthError::invalid_client(refusal.error.challenge);
        assert_eq!(refusal.error, one, "{case}: the one invalid_client body");
        assert!(
            matches!(refusal.error.challenge, Challenge::None | Challenge::Basic),
            "{case}"
        );
    }
    REACHED.with_borrow_mut(|r| r.insert(reason));
    refusal
}

/// `claims` with `patch` over them (`null` removes one).
pub(crate) fn patched(
    mut claims: serde_json::Value,
    patch: serde_json::Value,
) -> serde_json::Value {
    let object = claims.as_object_mut().expect("claims are an object");
    for (name, value) in patch.as_object().expect("a patch is an object") {
        match value {
            serde_json::Value::Null => object.remove(name),
            v => object.insert(name.clone(), v.clone()),
        };
    }
    claims
}

/// Asserts that `outcome` succeeded.
#[track_caller]
pub(crate) fn granted<T, E: Debug>(case: &str, outcome: Result<T, E>) -> T {
    match outcome {
        Ok(v) => v,
        Err(e) => panic!("{case}: expected success, got {e:?}"),
    }
}
