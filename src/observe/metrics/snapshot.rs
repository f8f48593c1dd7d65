//! The state's own numbers (config generation, cache, Argon2, certificate
//! chains, keys, replay store), encoded at scrape time as constant gauges and counters.

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;

/// Numbers the server keeps anyway, read at scrape time.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Snapshot {
    pub config_generation: u64,
    pub config_last_reload_ok: bool,
    pub config_reload_failures: u64,
    pub argon2_verifications: u64,
    pub secret_cache_hits: u64,
    pub secret_cache_entries: u64,
    /// Client certificate chains verified (not answered from memory).
    pub certificate_chain_verifications: u64,
    pub signing_keys_published: u64,
    /// Seconds until the active key stops signing; `None` when nothing is
    /// scheduled (or no key signs).
    pub signing_key_rotation_seconds: Option<f64>,
    /// Automatic key maintenance is failing (the keys in force stay).
    pub signing_key_fault: bool,
    /// Published keys in hardware whose token cannot sign now.
    pub signing_keys_unavailable: u64,
    /// The replay store answered its last command.
    pub replay_store_up: bool,
    /// Ids the replay store holds and the most it holds, where known.
    pub replay_store_fill: Option<(usize, usize)>,
}

impl Collector for Snapshot {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let gauges = [
            (
                "config_generation",
                "Generation of the configuration in force (1 at start, +1 per applied reload)",
                self.config_generation as i64,
            ),
            (
                "config_last_reload_success",
                "1 if the latest version of the file is in force, 0 if it was refused",
                i64::from(self.config_last_reload_ok),
            ),
            (
                "secret_cache_entries",
                "Verified (client, secret) pairs remembered",
                self.secret_cache_entries as i64,
            ),
            (
                "signing_keys_published",
                "Keys in the JWKS now (active, announced and retained)",
                self.signing_keys_published as i64,
            ),
            (
                "signing_key_fault",
                "1 while automatic key maintenance fails (the key folder is gone or \
                 unwritable); the keys in memory keep serving",
                i64::from(self.signing_key_fault),
            ),
            (
                "signing_keys_unavailable",
                "Published keys in a hardware token (PKCS#11) that cannot sign now (token \
                 away, session lost, PIN refused); while the active one is, token requests \
                 get temporarily_unavailable",
                self.signing_keys_unavailable as i64,
            ),
            (
                "replay_store_up",
                "1 while the replay store (memory, or Redis) answers; 0: requests with \
                 assertions or DPoP proofs get temporarily_unavailable",
                i64::from(self.replay_store_up),
            ),
        ];
        for (name, help, value) in gauges {
            let gauge = ConstGauge::new(value);
            gauge.encode(encoder.encode_descriptor(name, help, None, gauge.metric_type())?)?;
        }
        if let Some((held, capacity)) = self.replay_store_fill {
            for (name, help, value) in [
                (
                    "replay_store_entries",
                    "Unexpired assertion and DPoP proof ids the replay store holds",
                    held,
                ),
                (
                    "replay_store_capacity",
                    "The most ids the replay store holds; at it, new assertions and \
                     proofs get temporarily_unavailable",
                    capacity,
                ),
            ] {
                let gauge = ConstGauge::new(i64::try_from(value).unwrap_or(i64::MAX));
                gauge.encode(encoder.encode_descriptor(
                    name,
                    help,
                    None,
                    gauge.metric_type(),
                )?)?;
            }
        }
        if let Some(seconds) = self.signing_key_rotation_seconds {
            let gauge = ConstGauge::new(seconds);
            gauge.encode(encoder.encode_descriptor(
                "signing_key_rotation_seconds",
                "Seconds until the active signing key stops signing (next key activates or it retires)",
                None,
                gauge.metric_type(),
            )?)?;
        }
        let counters = [
            (
                "config_reload_failures",
                "Edits of the file that were refused",
                self.config_reload_failures,
            ),
            (
                "argon2_verifications",
                "Argon2 verifications run (cache misses, wrong secrets, unknown clients)",
                self.argon2_verifications,
            ),
            (
                "secret_cache_hits",
                "Client authentications answered by the verified-secret cache",
                self.secret_cache_hits,
            ),
            (
                "certificate_chain_verifications",
                "Client certificate chains verified (a chain and CA file seen before is not, \
                 until a date in the chain changes the answer)",
                self.certificate_chain_verifications,
            ),
        ];
        for (name, help, value) in counters {
            let counter = ConstCounter::new(value);
            counter.encode(encoder.encode_descriptor(
                name,
                help,
                None,
                counter.metric_type(),
            )?)?;
        }
        Ok(())
    }
}
