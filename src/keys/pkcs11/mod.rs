//! A signing key that stays in a PKCS#11 token: found by label, its public
//! key read once (the JWKS keeps answering while the token is away), and
//! signatures made by the module through a small pool of logged-in
//! sessions. A failure makes the key unavailable, loudly, until a
//! reconnection (the module finalized and initialized again) succeeds; a
//! session is used only once its key has proved to be the published one.
//!
//! Beside it: [`module`] holds the modules (one context per module file),
//! [`objects`] reads a key pair from a token, [`proof`] proves a token's
//! key is the published one, [`generate`] makes pairs.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use cryptoki::object::ObjectHandle;
use cryptoki::session::Session;

use super::KeyError;
use super::public::{Algorithm, Jwk};
use module::Module;
use objects::{find_pair, find_private};
use proof::{PublishedKey, Unproven};

mod generate;
mod module;
mod objects;
mod proof;

pub(crate) use generate::generate;
pub use module::{PinSource, Pkcs11Key};

/// How long after a failure the token is tried again. Recovery comes
/// within this (and the health probe's period) of the token's return.
pub(crate) const RETRY: Duration = Duration::from_secs(5);

/// The key in the token, and what it takes to sign with it.
pub(crate) struct HsmKey {
    spec: Pkcs11Key,
    module: Arc<Module>,
    /// Read when the key was loaded; its `kid` is published. Every session
    /// proves its key against this, not against the token's public key.
    published: PublishedKey,
    /// Idle sessions, logged in. A PKCS#11 session runs one operation at a
    /// time, so concurrent signatures each take one.
    pool: Mutex<Vec<Pooled>>,
    health: Mutex<Health>,
    /// Held by the one caller that reconnects; the others answer at once.
    reconnecting: Mutex<()>,
    /// SHA-256 of the last PIN the token refused (in memory only).
    refused_pin: Mutex<Option<[u8; 32]>>,
}

struct Pooled {
    session: Session,
    key: ObjectHandle,
    generation: u64,
}

enum Health {
    Up,
    Down {
        why: String,
        /// The module generation that failed (reset before retrying).
        generation: u64,
        retry_at: Instant,
    },
}

/// Why a key whose private key is no longer the published one is
/// unavailable (after a reconnection, or at a probe).
const REPLACED: &str = "the private key the token has under this label is not the one \
    published under this kid: a signature it made does not verify with the published public \
    key (was the key pair replaced under the same label?); it is never used";

/// Why a key whose private and public keys are not one pair is not loaded.
const NOT_A_PAIR: &str = "the private key under this label is not the pair of the public key \
    of that label: a signature it made does not verify with it";

/// At most this many idle sessions are kept: enough for every core.
fn pool_size() -> usize {
    std::thread::available_parallelism().map_or(4, |n| n.get().clamp(2, 16))
}

impl HsmKey {
    /// Finds the key pair labelled `spec.label` in the token, reads its
    /// public key (its JWK, the `kid` still to be set) and proves the
    /// private key is its pair; the session it used is the pool's first.
    pub(crate) fn open(spec: Pkcs11Key) -> Result<(HsmKey, Jwk), KeyError> {
        let module = module::module(&spec.module);
        let unusable = KeyError::Unusable;
        let (context, generation) = module.context().map_err(unusable)?;
        let slot = module::find_token(&context, &spec.token).map_err(unusable)?;
        let pin = spec.pin.read().map_err(unusable)?;
        let session = module::open_session(&context, slot, &pin, false)
            .map_err(|e| KeyError::Unusable(e.to_string()))?;
        // At load the published key is the one just read: the proof shows
        // that the label's private and public keys are one pair.
        let found = find_pair(&session, &spec.label).and_then(|(key, published)| {
            proof::prove(&session, key, &published).map_err(|e| match e {
                Unproven::Mismatch => NOT_A_PAIR.to_owned(),
                Unproven::Failed(why) => why,
            })?;
            Ok((key, published))
        });
        let (key, published) = match found {
            Ok(found) => found,
            Err(e) => {
                let _ = session.close();
                return Err(KeyError::Unusable(e));
            }
        };
        let jwk = published.jwk();
        let hsm = HsmKey {
            spec,
            module,
            published,
            pool: Mutex::new(vec![Pooled {
                session,
                key,
                generation,
            }]),
            health: Mutex::new(Health::Up),
            reconnecting: Mutex::new(()),
            refused_pin: Mutex::new(None),
        };
        Ok((hsm, jwk))
    }

    pub(crate) fn algorithm(&self) -> Algorithm {
        self.published.algorithm()
    }

    /// Why the key cannot sign now, if it cannot.
    pub(crate) fn fault(&self) -> Option<String> {
        match &*self.health.lock().unwrap_or_else(|e| e.into_inner()) {
            Health::Up => None,
            Health::Down { why, .. } => Some(why.clone()),
        }
    }

    /// The signature of `input` (the JWS signing input), as the JWS
    /// encodes it (ECDSA: `r || s`). Blocks on the module.
    pub(crate) fn sign(&self, input: &[u8]) -> Result<Vec<u8>, KeyError> {
        self.ready()?;
        // A pooled session may have gone stale on its own (a module that
        // timed it out): one more try with a fresh session before the key
        // is declared unavailable.
        let mut why = String::new();
        let mut failed_generation = None;
        for _ in 0..2 {
            let (pooled, generation) = match self.take() {
                Ok(p) => p,
                Err(e) => return Err(self.failed(e, None)),
            };
            let result = proof::sign(&pooled.session, pooled.key, self.algorithm(), input);
            match result {
                Ok(signature) => {
                    self.give_back(pooled);
                    match proof::malformed(self.algorithm(), &signature) {
                        None => return Ok(signature),
                        Some(malformed) => why = malformed,
                    }
                    break;
                }
                // Neither this session nor its idle siblings are returned:
                // whatever happened to one likely happened to all, and the
                // second try must be on a fresh session.
                Err(e) => {
                    let current = self.module.generation();
                    let idle =
                        std::mem::take(&mut *self.pool.lock().unwrap_or_else(|e| e.into_inner()));
                    for p in idle.into_iter().chain([pooled]) {
                        if p.generation == current {
                            let _ = p.session.close();
                        }
                    }
                    why = format!("the token did not sign: {e}");
                    failed_generation = Some(generation);
                }
            }
        }
        Err(self.failed(why, failed_generation))
    }

    /// Tries the token once if it is down and a retry is due: the health
    /// probe calls this so that recovery does not wait for a request. While
    /// it is up, one signature, verified with the published key: a module
    /// whose pooled session now reaches another key is caught here too.
    pub(crate) fn probe(&self) {
        const INPUT: &[u8] = b"tollgate health probe";
        if self.fault().is_some() {
            let _ = self.ready();
            return;
        }
        match self.sign(INPUT) {
            Ok(signature) if !self.published.verifies(INPUT, &signature) => {
                self.failed(REPLACED.into(), None);
            }
            Ok(_) => {}
            Err(e) => tracing::debug!(error = %e, "the token failed its probe"),
        }
    }

    /// `Ok` if the key may be used now; while it is down, the refusal with
    /// how long to wait, or (a retry being due) the reconnection's result.
    fn ready(&self) -> Result<(), KeyError> {
        let (why, generation, wait) = {
            match &*self.health.lock().unwrap_or_else(|e| e.into_inner()) {
                Health::Up => return Ok(()),
                Health::Down {
                    why,
                    generation,
                    retry_at,
                } => (
                    why.clone(),
                    *generation,
                    retry_at.saturating_duration_since(Instant::now()),
                ),
            }
        };
        let unavailable = |retry| KeyError::Unavailable { why, retry };
        if !wait.is_zero() {
            return Err(unavailable(wait));
        }
        // One caller reconnects; the rest are told to come back shortly.
        let Ok(_reconnecting) = self.reconnecting.try_lock() else {
            return Err(unavailable(Duration::from_secs(1)));
        };
        self.module.reset(generation);
        match self.take() {
            Ok((pooled, _)) => {
                self.give_back(pooled);
                *self.health.lock().unwrap_or_else(|e| e.into_inner()) = Health::Up;
                tracing::warn!(
                    token = %self.spec.token, label = %self.spec.label,
                    "the signing key's token is available again"
                );
                Ok(())
            }
            Err(why) => Err(self.failed(why, None)),
        }
    }

    /// Records a failure and returns the refusal it makes.
    fn failed(&self, why: String, generation: Option<u64>) -> KeyError {
        let generation = generation.unwrap_or_else(|| self.module.generation());
        let why = format!(
            "the signing key {:?} in token {:?} is unavailable: {why}",
            self.spec.label, self.spec.token
        );
        let mut health = self.health.lock().unwrap_or_else(|e| e.into_inner());
        if matches!(*health, Health::Up) {
            tracing::error!(reason = %why, "signing with a hardware key failed; token requests get 503 until it is back");
        }
        *health = Health::Down {
            why: why.clone(),
            generation,
            retry_at: Instant::now() + RETRY,
        };
        KeyError::Unavailable { why, retry: RETRY }
    }

    /// An idle session of the current generation, or a new one.
    fn take(&self) -> Result<(Pooled, u64), String> {
        let current = self.module.generation();
        {
            let mut pool = self.pool.lock().unwrap_or_else(|e| e.into_inner());
            // Sessions of an older generation were closed by its reset.
            pool.retain(|p| p.generation == current);
            if let Some(pooled) = pool.pop() {
                return Ok((pooled, current));
            }
        }
        let (context, generation) = self.module.context()?;
        let slot = module::find_token(&context, &self.spec.token)?;
        let session = self.log_in(&context, slot)?;
        // A new session finds the key by label anew: whatever holds the
        // label now signs only once it proved to be the published key.
        let found = find_private(&session, &self.spec.label).and_then(|key| {
            proof::prove(&session, key, &self.published).map_err(|e| match e {
                Unproven::Mismatch => REPLACED.to_owned(),
                Unproven::Failed(why) => why,
            })?;
            Ok(key)
        });
        match found {
            Ok(key) => Ok((
                Pooled {
                    session,
                    key,
                    generation,
                },
                generation,
            )),
            Err(e) => {
                let _ = session.close();
                Err(e)
            }
        }
    }

    /// A new session, logged in; a PIN the token refused is not tried
    /// again (tokens lock the user after a few wrong PINs), only a
    /// changed one.
    fn log_in(
        &self,
        context: &cryptoki::context::Pkcs11,
        slot: cryptoki::slot::Slot,
    ) -> Result<Session, String> {
        use secrecy::ExposeSecret;
        let pin = self.spec.pin.read()?;
        let digest = tollgate_jose::digest::sha256(pin.expose_secret().as_bytes());
        let mut refused = self.refused_pin.lock().unwrap_or_else(|e| e.into_inner());
        if *refused == Some(digest) {
            return Err(format!(
                "the token refused this PIN before; it is not tried again (a token locks \
                 after a few wrong PINs): correct {}",
                self.spec.pin
            ));
        }
        module::open_session(context, slot, &pin, false).map_err(|e| {
            if matches!(e, module::OpenError::PinRefused) {
                *refused = Some(digest);
            }
            e.to_string()
        })
    }

    fn give_back(&self, pooled: Pooled) {
        let mut pool = self.pool.lock().unwrap_or_else(|e| e.into_inner());
        if pool.len() < pool_size() {
            pool.push(pooled);
        } else if pooled.generation == self.module.generation() {
            let _ = pooled.session.close();
        }
    }
}

impl Drop for HsmKey {
    /// Closes the idle sessions that are still open (a key dropped from
    /// the configuration).
    fn drop(&mut self) {
        let current = self.module.generation();
        for pooled in std::mem::take(self.pool.get_mut().unwrap_or_else(|e| e.into_inner())) {
            if pooled.generation == current {
                let _ = pooled.session.close();
            }
        }
    }
}
