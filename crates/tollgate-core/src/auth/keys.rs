//! A holder's public keys as the key-based methods need them (a client's
//! for `private_key_jwt` and self-signed certificates, a trusted issuer's
//! for its tokens): the set as last fetched, fetched again when it lacks
//! the key a request names, since the holder may have rotated. One rule,
//! so every method refetches alike and as rarely as the outside allows.

use std::sync::Arc;

use super::super::federation::KeySource;
use super::super::ports::Ports;
use super::super::refusal::Reason;
use tollgate_jose::jose::PublicKeys;

/// The keys of `source`; `knows` says whether a set holds the key the
/// request names (always true when it names none).
pub(crate) async fn current_keys<P: Ports>(
    source: &KeySource,
    knows: impl Fn(&PublicKeys) -> bool,
    ports: &P,
) -> Result<Arc<PublicKeys>, Reason> {
    match source {
        KeySource::None => Err(Reason::NoClientKeys),
        KeySource::Static(keys) => Ok(keys.clone()),
        KeySource::Remote(location) => {
            let keys = ports
                .keys(location, false)
                .await
                .map_err(|_| Reason::KeysUnreachable)?;
            if knows(&keys) {
                return Ok(keys);
            }
            ports
                .keys(location, true)
                .await
                .map_err(|_| Reason::KeysUnreachable)
        }
    }
}

/// A `knows` for a JWS naming `kid` (or none).
pub(crate) fn has_kid(kid: Option<&str>) -> impl Fn(&PublicKeys) -> bool + '_ {
    move |keys| kid.is_none_or(|kid| keys.has_kid(kid))
}
