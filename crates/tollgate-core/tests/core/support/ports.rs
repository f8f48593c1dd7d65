//! A fake of what the core asks of the outside: slow work runs inline,
//! tokens are signed with a key made here (as the server's ring would,
//! `typ` `at+jwt` and its `kid`), remote key sets are fixed maps, single
//! use is the memory replay store, and the CAs are whatever the case set.
//! Each failure the server can meet is a field a case may set.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use serde_json::{Map, Value, json};
use time::OffsetDateTime;
use tollgate_core::{OwnTokens, PortError, Ports, TokenKind, TrustAnchors};
use tollgate_jose::jose::{self, JwksLocation, PublicKeys};
use tollgate_jose::replay::{MemoryReplay, ReplayError, ReplayStore};

use super::jws::Key;

/// The `kid` of our signing key.
pub(crate) const OWN_KID: &str = "own-1";

/// A remote key set: as cached, and as a refetch finds it.
type Served = (Arc<PublicKeys>, Arc<PublicKeys>);

pub(crate) struct Fake {
    /// Signs our access tokens; the only key published.
    pub(crate) own: Key,
    /// Remote key sets by URL.
    pub(crate) remote: Mutex<HashMap<String, Served>>,
    /// How many times a remote set was fetched again.
    pub(crate) refetched: AtomicUsize,
    pub(crate) replay: MemoryReplay,
    pub(crate) anchors: Option<Arc<TrustAnchors>>,
    /// What signing fails with, if it does.
    pub(crate) sign_error: Option<PortError>,
    /// What running slow work fails with, if it does.
    pub(crate) slow_error: Option<PortError>,
}

impl Default for Fake {
    fn default() -> Self {
        Self {
            own: Key::new(Some(OWN_KID)),
            remote: Mutex::default(),
            refetched: AtomicUsize::new(0),
            replay: MemoryReplay::new(1000, 1000),
            anchors: None,
            sign_error: None,
            slow_error: None,
        }
    }
}

impl Fake {
    /// Publishes `keys` at `url`; `rotated` is what a refetch finds.
    pub(crate) fn serve(&self, url: &str, keys: Arc<PublicKeys>, rotated: Arc<PublicKeys>) {
        self.remote
            .lock()
            .unwrap()
            .insert(url.to_owned(), (keys, rotated));
    }

    /// One of our access tokens with exactly these claims.
    pub(crate) fn own_token(&self, claims: &Value) -> String {
        self.own.sign_with(
            &json!({"alg": "ES256", "typ": "at+jwt", "kid": OWN_KID}),
            claims,
        )
    }

    /// The claims of one of our tokens (its signature checked).
    pub(crate) fn decode(&self, token: &str) -> Map<String, Value> {
        let jwt = jose::peek(token).expect("a JWS");
        let key = jose::parse_jwk(&self.own.jwk).unwrap();
        assert!(jose::verifies(token, &jwt, &key), "signed by our key");
        jwt.claims
    }
}

impl Ports for Fake {
    async fn slow<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, PortError> {
        match self.slow_error {
            Some(e) => Err(e),
            None => Ok(work()),
        }
    }

    async fn sign(
        &self,
        claims_json: Vec<u8>,
        kind: TokenKind,
        _: OffsetDateTime,
    ) -> Result<String, PortError> {
        if let Some(e) = self.sign_error {
            return Err(e);
        }
        let claims: Value = serde_json::from_slice(&claims_json).map_err(|_| PortError::Failed)?;
        Ok(match kind {
            TokenKind::Access => self.own_token(&claims),
            TokenKind::Id => self.own.sign_with(
                &json!({"alg": "ES256", "typ": "JWT", "kid": OWN_KID}),
                &claims,
            ),
            TokenKind::Logout => self.own.sign_with(
                &json!({"alg": "ES256", "typ": "logout+jwt", "kid": OWN_KID}),
                &claims,
            ),
        })
    }

    async fn keys(
        &self,
        source: &JwksLocation,
        refresh: bool,
    ) -> Result<Arc<PublicKeys>, PortError> {
        let remote = self.remote.lock().unwrap();
        let (cached, rotated) = remote.get(source.url.as_str()).ok_or(PortError::Failed)?;
        if refresh {
            self.refetched.fetch_add(1, Ordering::SeqCst);
            return Ok(rotated.clone());
        }
        Ok(cached.clone())
    }

    async fn first_use(
        &self,
        key: [u8; 32],
        holder: &str,
        until: OffsetDateTime,
        now: OffsetDateTime,
    ) -> Result<bool, ReplayError> {
        self.replay.first_use(key, holder, until, now).await
    }

    async fn advance(
        &self,
        key: [u8; 32],
        holder: &str,
        from: u64,
        until: OffsetDateTime,
        now: OffsetDateTime,
    ) -> Result<bool, ReplayError> {
        self.replay.advance(key, holder, from, until, now).await
    }

    async fn used(&self, key: [u8; 32], now: OffsetDateTime) -> Result<bool, ReplayError> {
        self.replay.used(key, now).await
    }

    fn trust_anchors(&self) -> Option<Arc<TrustAnchors>> {
        self.anchors.clone()
    }
}

/// Our tokens are those our key signed, typed `at+jwt` (as the server
/// checks them against the keys it publishes).
impl OwnTokens for Fake {
    async fn claims(&self, token: &str, _: OffsetDateTime) -> Option<Map<String, Value>> {
        let jwt = jose::peek(token)?;
        if jwt.raw_header.get("typ").and_then(Value::as_str) != Some("at+jwt")
            || jwt.header.kid.as_deref() != Some(OWN_KID)
        {
            return None;
        }
        let key = jose::parse_jwk(&self.own.jwk).ok()?;
        jose::verifies(token, &jwt, &key).then_some(jwt.claims)
    }
}
