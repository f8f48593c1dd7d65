//! Prometheus metrics (`GET /metrics`, text exposition format): counters
//! and a latency histogram updated on the request path, and the state's own
//! numbers (config generation, cache, Argon2) read at scrape time.

use std::time::Duration;

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{
    DescriptorEncoder, EncodeLabelSet, EncodeLabelValue, EncodeMetric,
};
use prometheus_client::metrics::counter::{ConstCounter, Counter};
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

use crate::oauth::ErrorCode;

/// Which endpoint a request went to, as the `endpoint` label.
#[derive(Debug, Clone, Copy, Hash, PartialEq, Eq, EncodeLabelValue)]
#[allow(non_camel_case_types)]
#[repr(usize)]
pub enum Endpoint {
    token,
    discovery,
    jwks,
    health,
    metrics,
    docs,
    other,
}

impl Endpoint {
    const ALL: [Endpoint; 7] = [
        Self::token,
        Self::discovery,
        Self::jwks,
        Self::health,
        Self::metrics,
        Self::docs,
        Self::other,
    ];

    pub fn of(path: &str) -> Self {
        match path {
            "/connect/token" => Self::token,
            "/.well-known/openid-configuration" | "/.well-known/oauth-authorization-server" => {
                Self::discovery
            }
            "/.well-known/jwks.json" => Self::jwks,
            "/healthz" => Self::health,
            "/metrics" => Self::metrics,
            p if p == "/openapi.json" || p.starts_with("/docs") => Self::docs,
            _ => Self::other,
        }
    }
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct EndpointLabels {
    endpoint: Endpoint,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct TokenLabels {
    client_id: String,
    scope: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ErrorLabels {
    error: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ReasonLabels {
    reason: &'static str,
}

/// The live metrics of one server.
pub struct Metrics {
    registry: Registry,
    tokens_issued: Family<TokenLabels, Counter>,
    token_errors: Family<ErrorLabels, Counter>,
    auth_failures: Family<ReasonLabels, Counter>,
    /// One histogram per endpoint, resolved once: observing then takes no
    /// lookup in the family's map (this runs on every request).
    durations: [Histogram; 7],
    in_flight: prometheus_client::metrics::gauge::Gauge,
}

impl Default for Metrics {
    fn default() -> Self {
        let tokens_issued = Family::<TokenLabels, Counter>::default();
        let token_errors = Family::<ErrorLabels, Counter>::default();
        let auth_failures = Family::<ReasonLabels, Counter>::default();
        // 50 µs to ~1.6 s.
        let durations = Family::<EndpointLabels, Histogram>::new_with_constructor(|| {
            Histogram::new(exponential_buckets(0.000_05, 2.0, 16))
        });
        let mut registry = Registry::with_prefix("tollgate");
        registry.register(
            "tokens_issued",
            "Access tokens issued, by client and granted scopes",
            tokens_issued.clone(),
        );
        registry.register(
            "token_errors",
            "Token requests refused, by RFC 6749 error code (temporarily_unavailable = throttled)",
            token_errors.clone(),
        );
        registry.register(
            "client_auth_failures",
            "Failed client authentications, by reason (unknown_client, wrong_secret, \
             no_valid_secret, disabled_client, malformed_credentials, throttled); the client \
             sees invalid_client for each",
            auth_failures.clone(),
        );
        let in_flight = prometheus_client::metrics::gauge::Gauge::default();
        registry.register(
            "requests_in_flight",
            "Requests read and not yet answered (this scrape included)",
            in_flight.clone(),
        );
        registry.register_with_unit(
            "request_duration",
            "Time to answer a request, by endpoint",
            prometheus_client::registry::Unit::Seconds,
            durations.clone(),
        );
        let durations = Endpoint::ALL.map(|endpoint| {
            durations
                .get_or_create(&EndpointLabels { endpoint })
                .clone()
        });
        Self {
            registry,
            tokens_issued,
            token_errors,
            auth_failures,
            durations,
            in_flight,
        }
    }
}

impl Metrics {
    pub fn token_issued(&self, client_id: &str, scope: &str) {
        self.tokens_issued
            .get_or_create(&TokenLabels {
                client_id: client_id.to_owned(),
                scope: scope.to_owned(),
            })
            .inc();
    }

    pub fn token_refused(&self, code: ErrorCode) {
        self.token_errors
            .get_or_create(&ErrorLabels {
                error: code.as_str(),
            })
            .inc();
    }

    pub fn client_auth_failed(&self, reason: &'static str) {
        self.auth_failures
            .get_or_create(&ReasonLabels { reason })
            .inc();
    }

    /// Counts a request in flight until the guard is dropped (also when the
    /// request is cancelled).
    pub fn in_flight(&self) -> InFlight<'_> {
        self.in_flight.inc();
        InFlight(&self.in_flight)
    }

    pub fn observe(&self, endpoint: Endpoint, took: Duration) {
        self.durations[endpoint as usize].observe(took.as_secs_f64());
    }

    /// The exposition text: the live metrics, then `snapshot`.
    pub fn render(&self, snapshot: Snapshot) -> Result<String, std::fmt::Error> {
        use prometheus_client::encoding::text::{encode_eof, encode_registry};
        let mut out = String::new();
        encode_registry(&mut out, &self.registry)?;
        let mut scraped = Registry::with_prefix("tollgate");
        scraped.register_collector(Box::new(snapshot));
        encode_registry(&mut out, &scraped)?;
        encode_eof(&mut out)?;
        Ok(out)
    }
}

/// A request in flight; see [`Metrics::in_flight`].
pub struct InFlight<'a>(&'a prometheus_client::metrics::gauge::Gauge);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.dec();
    }
}

/// Numbers the server keeps anyway, read at scrape time.
#[derive(Debug, Clone, Copy)]
pub struct Snapshot {
    pub config_generation: u64,
    pub config_last_reload_ok: bool,
    pub config_reload_failures: u64,
    pub argon2_verifications: u64,
    pub secret_cache_hits: u64,
    pub secret_cache_entries: u64,
    pub signing_keys_published: u64,
    /// Seconds until the active key stops signing; `None` when nothing is
    /// scheduled (or no key signs).
    pub signing_key_rotation_seconds: Option<f64>,
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
        ];
        for (name, help, value) in gauges {
            let gauge = ConstGauge::new(value);
            gauge.encode(encoder.encode_descriptor(name, help, None, gauge.metric_type())?)?;
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
