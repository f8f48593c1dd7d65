//! `client_secret_basic` and `client_secret_post` (RFC 6749 §2.3.1): a
//! shared secret, checked against stored Argon2id hashes.
//!
//! Costs: a verified (holder, secret) pair is answered from the cache with
//! one HMAC; anything else runs Argon2 against the holder's valid secrets,
//! and every failure does the same Argon2 work in all, whatever the id
//! (see [`Registry::failure_work`]).

use std::sync::Arc;

use argon2::{Argon2, PasswordHasher, PasswordVerifier};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use time::OffsetDateTime;

use super::super::client::{Client, MAX_CLIENT_ID_LEN, PresentedSecret, Secrets};
use super::super::error::{Challenge, OAuthError};
use super::super::params::Params;
use super::super::ports::{Context, PortError, Ports, Services};
use super::super::refusal::{Reason, Refusal};
use super::super::registry::{ApiResource, Registry};
use super::super::secret_cache::Holder;

/// How the secret was sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecretMethod {
    Basic,
    Post,
}

/// A secret as a request presented it.
#[derive(Debug, Clone)]
pub struct Presented {
    pub id: String,
    secret: PresentedSecret,
    pub method: SecretMethod,
}

impl Presented {
    fn challenge(&self) -> Challenge {
        match self.method {
            SecretMethod::Basic => Challenge::Basic,
            SecretMethod::Post => Challenge::None,
        }
    }
}

/// The secret credentials in a request, if it carries any: an
/// `Authorization` header (it must be Basic), or `client_secret` in the
/// body (with `client_id`).
pub fn extract(
    params: &Params,
    authorization: Option<&[u8]>,
) -> Option<Result<Presented, Refusal>> {
    let body_id = params.get("client_id");
    let body_secret = params.get("client_secret");
    match authorization {
        Some(header) => Some((|| {
            if body_secret.is_some() {
                return Err(Refusal::invalid_request(
                    Reason::SeveralAuthMethods,
                    "use either HTTP Basic or client_secret in the body, not both",
                ));
            }
            let (id, secret) = decode_basic(header)
                .ok_or_else(|| Refusal::client(Reason::MalformedCredentials, Challenge::Basic))?;
            // Some clients repeat client_id in the body next to Basic; that
            // is harmless when it names the same client.
            if body_id.is_some_and(|b| b != id) {
                return Err(Refusal::invalid_request(
                    Reason::ClientIdMismatch,
                    "client_id in the body differs from the one in Authorization",
                ));
            }
            Ok(Presented {
                id,
                secret: PresentedSecret::new(secret),
                method: SecretMethod::Basic,
            })
        })()),
        None => {
            let secret = body_secret?;
            // A secret with no client named: authentication failed.
            Some(match body_id {
                Some(id) => Ok(Presented {
                    id: id.to_owned(),
                    secret: PresentedSecret::new(secret.to_owned()),
                    method: SecretMethod::Post,
                }),
                None => Err(Refusal::client(Reason::NoCredentials, Challenge::None)),
            })
        }
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

/// A kind of principal that authenticates with secrets.
pub trait SecretHolder: Send + Sync + 'static {
    /// Tells the kinds apart in the cache and the throttle.
    const KIND: u8;
    fn find<'r>(registry: &'r Registry, id: &str) -> Option<&'r Arc<Self>>;
    fn id(&self) -> &str;
    fn secrets(&self) -> &Secrets;
    /// A disabled holder never authenticates.
    fn enabled(&self) -> bool;
}

impl SecretHolder for Client {
    const KIND: u8 = 0;
    fn find<'r>(registry: &'r Registry, id: &str) -> Option<&'r Arc<Self>> {
        registry.client(id)
    }
    fn id(&self) -> &str {
        self.id.as_str()
    }
    fn secrets(&self) -> &Secrets {
        &self.secrets
    }
    fn enabled(&self) -> bool {
        self.enabled
    }
}

impl SecretHolder for ApiResource {
    const KIND: u8 = 1;
    fn find<'r>(registry: &'r Registry, id: &str) -> Option<&'r Arc<Self>> {
        registry.resource(id)
    }
    fn id(&self) -> &str {
        &self.name
    }
    fn secrets(&self) -> &Secrets {
        &self.secrets
    }
    fn enabled(&self) -> bool {
        true
    }
}

fn holder<H: SecretHolder>(h: &H) -> Holder<'_> {
    Holder {
        kind: H::KIND,
        id: h.id(),
        secrets: h.secrets(),
    }
}

/// Authenticates `presented` as a holder of kind `H`: from the cache, else
/// with Argon2 through `ports` (throttled first).
pub async fn verify<H: SecretHolder, P: Ports>(
    presented: Presented,
    cx: &Context<'_>,
    ports: &P,
) -> Result<Arc<H>, Refusal> {
    // Longer than any registered id can be: refused at the cost of any
    // other failure, and never remembered (the throttle counts only the
    // address; the logs keep a short form).
    let too_long = presented.id.len() > MAX_CLIENT_ID_LEN;
    if !too_long && let Some(found) = cached::<H>(cx.registry, cx.services, &presented, cx.now) {
        return Ok(found);
    }
    let (registry, services) = (cx.registry.clone(), cx.services.clone());
    let (now, address) = (cx.now, cx.address);
    let checked = ports
        .slow(move || {
            // Requests that queued behind the first verification of the same
            // secret (a fresh start, a burst) find it verified.
            if !too_long && let Some(found) = cached::<H>(&registry, &services, &presented, now) {
                return Ok(found);
            }
            // Counted here, where Argon2 is about to run, so that a burst of
            // one client's requests counts once.
            let id = if too_long { "" } else { presented.id.as_str() };
            services
                .throttle
                .attempt(H::KIND, id, address)
                .map_err(|wait| Refusal::new(OAuthError::throttled(wait), Reason::Throttled))?;
            let reason = if too_long {
                services.secrets.count_argon2(0.0);
                burn(&services, registry.failure_work());
                Err(Reason::ClientIdTooLong)
            } else {
                authenticate::<H>(&registry, &services, &presented, now)
            };
            reason.map_err(|reason| Refusal::client(reason, presented.challenge()))
        })
        .await;
    match checked {
        Ok(outcome) => outcome,
        Err(PortError::NoActiveKey | PortError::Failed | PortError::KeyUnavailable(_)) => {
            Err(Refusal::server_error(Reason::Internal))
        }
    }
}

/// The holder, if the cache vouches for these credentials. One HMAC.
fn cached<H: SecretHolder>(
    registry: &Registry,
    services: &Services,
    presented: &Presented,
    now: OffsetDateTime,
) -> Option<Arc<H>> {
    let found = H::find(registry, &presented.id)?;
    (found.enabled()
        && services
            .secrets
            .is_verified(holder(&**found), &presented.secret, now))
    .then(|| found.clone())
}

/// Argon2 against every valid secret of the holder, and on success into
/// the cache. A failure always does [`Registry::failure_work`] in all:
/// an unknown id (or one without a valid secret) burns it on a dummy, a
/// known one its secrets' work and the rest on top. So the work, and with
/// it the time, of a failure says nothing about which id exists, how many
/// secrets it has or how they were hashed.
fn authenticate<H: SecretHolder>(
    registry: &Registry,
    services: &Services,
    presented: &Presented,
    now: OffsetDateTime,
) -> Result<Arc<H>, Reason> {
    let found = H::find(registry, &presented.id);
    let mut done = 0.0;
    let mut matched = None;
    for secret in found.into_iter().flat_map(|h| h.secrets().valid_at(now)) {
        services.secrets.count_argon2(secret.hash.work());
        done += secret.hash.work();
        let ok = Argon2::default()
            .verify_password(presented.secret.expose().as_bytes(), &secret.hash.phc())
            .is_ok();
        if ok {
            matched = Some(secret);
            break;
        }
    }
    let outcome = match (found, matched) {
        (Some(h), Some(secret)) if h.enabled() => {
            services
                .secrets
                .remember(holder(&**h), secret, &presented.secret, now);
            return Ok(h.clone());
        }
        (None, _) => Reason::UnknownClient,
        (Some(_), None) if done == 0.0 => Reason::NoValidSecret,
        (Some(_), None) => Reason::WrongSecret,
        (Some(_), Some(_)) => Reason::DisabledClient,
    };
    if done == 0.0 {
        // The verification an unknown id (or one without a valid secret)
        // pays for, like any other.
        services.secrets.count_argon2(0.0);
    }
    burn(services, registry.failure_work() - done);
    Err(outcome)
}

/// The parameters of one run that does `work` default verifications' worth
/// of Argon2: `t` passes over about the default memory, `m × t` the work.
pub fn padding_params(work: f64) -> argon2::Params {
    let passes = (work * 2.0).round().max(1.0);
    let memory = (work * 38_912.0 / passes).round().max(8.0);
    argon2::Params::new(memory as u32, passes as u32, 1, Some(32)).unwrap_or_default()
}

/// Does `work` default verifications' worth of Argon2 (if there is any
/// left to do) in one run.
pub(crate) fn burn(services: &Services, work: f64) {
    if work < 0.01 {
        return;
    }
    services.secrets.count_padding(work);
    argon2_run(padding_params(work));
}

/// One Argon2id run with `params` (whose time a caller may measure): what
/// verifying against a hash with these parameters costs.
pub fn argon2_run(params: argon2::Params) {
    let argon2 = Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params);
    let mut out = [0u8; 32];
    let _ = argon2.hash_password_into(b"a measured run", &PAD_SALT, &mut out);
}

/// Any salt: the output of [`burn`] is thrown away.
const PAD_SALT: [u8; 16] = *b"tollgate-padding";

/// Hashes a secret the way `tollgate hash-secret` does: Argon2id with the
/// argon2 crate's defaults (m=19456 KiB, t=2, p=1, the OWASP baseline) and a
/// random salt.
pub fn hash_secret(secret: &str) -> Result<String, argon2::password_hash::Error> {
    Ok(Argon2::default()
        .hash_password(secret.as_bytes())?
        .to_string())
}

/// Runs one default verification, so the first failure is not slower than
/// the rest (which would itself be a timing signal), and returns how long
/// it took here.
pub fn warm_up() -> std::time::Duration {
    let started = std::time::Instant::now();
    let mut out = [0u8; 32];
    let _ = Argon2::default().hash_password_into(b"warm-up", &PAD_SALT, &mut out);
    started.elapsed()
}

#[cfg(test)]
mod tests;
