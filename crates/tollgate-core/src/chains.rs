//! Client certificate chains verified at bounded cost. A chain over the
//! limits (`tollgate_jose::chain`) is refused before anything in it is
//! parsed. An outcome is remembered for the span of time it holds
//! ([`Verdict`]): on the certificate itself, which its connection's
//! requests share, and across connections in a bounded cache keyed by the
//! chain's digest and the anchors' (a changed CA file is other anchors).
//! A chain verified afresh is verified through [`Ports::slow`], off the
//! request threads, and its time counts as the request's work.

use std::sync::atomic::Ordering;

use super::ports::{Context, Ports};
use super::refusal::Reason;
use super::trust::{AnchorSet, CertificateChain, Verdict};

/// Whether `certificate`'s chain verifies to `anchors` at the request's
/// time: `UntrustedCertificate` when it does not, `ChainTooLarge` for a
/// chain over the limits.
pub(crate) async fn trusted<P: Ports>(
    anchors: &AnchorSet,
    certificate: &CertificateChain,
    cx: &Context<'_>,
    ports: &P,
) -> Result<(), Reason> {
    certificate
        .within_limits()
        .map_err(|_| Reason::ChainTooLarge)?;
    let now = cx.now.unix_timestamp();
    let verdict = match certificate.remembered(anchors, now) {
        Some(verdict) => verdict,
        None => {
            let verdict = recall_or_judge(anchors, certificate, now, cx, ports).await?;
            certificate.remember(anchors, verdict);
            verdict
        }
    };
    verdict
        .trusted
        .then_some(())
        .ok_or(Reason::UntrustedCertificate)
}

/// The verdict another connection's request left, or a fresh one.
async fn recall_or_judge<P: Ports>(
    anchors: &AnchorSet,
    certificate: &CertificateChain,
    now: i64,
    cx: &Context<'_>,
    ports: &P,
) -> Result<Verdict, Reason> {
    let verdicts = &cx.services.chains;
    let key = (certificate.digest(), anchors.digest());
    if let Some(verdict) = verdicts.cache.get(&key).filter(|v| v.holds_at(now)) {
        return Ok(verdict);
    }
    verdicts.runs.fetch_add(1, Ordering::Relaxed);
    let (anchors, certificate) = (anchors.clone(), certificate.clone());
    let verdict = ports
        .slow(move || anchors.judge(&certificate, now))
        .await
        .map_err(|_| Reason::Internal)?;
    verdicts.cache.insert(key, verdict);
    Ok(verdict)
}

#[cfg(test)]
mod tests;
