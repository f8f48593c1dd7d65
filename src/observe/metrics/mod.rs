//! Prometheus metrics: counters and a latency histogram updated on the
//! request path, and the state's own numbers (config generation, cache,
//! Argon2, keys) read at scrape time.
//!
//! Two views. The full one (the management listener) has per-client and
//! per-reason series. The public one (`/metrics` on the token port, when no
//! management listener is configured) tells an unauthenticated caller
//! nothing about which client ids exist: no client ids, and failed
//! authentications without their reason.
//!
//! Series are bounded: client ids only of clients that got a token (and
//! dropped when a reload removes the client), reasons and error codes from
//! closed enums.

use std::time::Duration;

use prometheus_client::encoding::{EncodeLabelSet, EncodeLabelValue};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

use tollgate_core::{Reason, Refusal};

mod snapshot;
mod text_format;

pub(crate) use snapshot::Snapshot;
pub(crate) use text_format::to_text_format;

/// Which endpoint a request went to, as the `endpoint` label.
#[derive(Debug, Clone, Copy, Hash, PartialEq, Eq, EncodeLabelValue)]
#[allow(non_camel_case_types)]
#[repr(usize)]
pub(crate) enum Endpoint {
    token,
    introspect,
    discovery,
    jwks,
    health,
    metrics,
    docs,
    other,
}

impl Endpoint {
    const ALL: [Endpoint; 8] = [
        Self::token,
        Self::introspect,
        Self::discovery,
        Self::jwks,
        Self::health,
        Self::metrics,
        Self::docs,
        Self::other,
    ];

    pub(crate) fn of(path: &str) -> Self {
        match path {
            "/connect/token" => Self::token,
            "/connect/introspect" => Self::introspect,
            "/.well-known/openid-configuration" | "/.well-known/oauth-authorization-server" => {
                Self::discovery
            }
            "/.well-known/jwks.json" => Self::jwks,
            "/healthz" | "/livez" | "/readyz" => Self::health,
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
struct ClientLabels {
    client_id: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ErrorLabels {
    error: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ProviderLabels {
    provider: String,
    reason: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabels {
    outcome: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ReasonLabels {
    reason: &'static str,
}

/// Which view of the metrics to render.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum View {
    /// Everything (the management listener).
    Full,
    /// Nothing that tells client ids apart (the public port).
    Public,
}

/// The live metrics of one server.
pub(crate) struct Metrics {
    full: Registry,
    public: Registry,
    tokens_by_client: Family<ClientLabels, Counter>,
    tokens: Counter,
    auth_failures_by_reason: Family<ReasonLabels, Counter>,
    auth_failures: Counter,
    token_errors: Family<ErrorLabels, Counter>,
    provider_failures: Family<ProviderLabels, Counter>,
    /// One histogram per endpoint, resolved once: observing then takes no
    /// lookup in the family's map (this runs on every request).
    durations: [Histogram; 8],
    in_flight: Gauge,
    /// Clients named by a URL looked up, by outcome (accepted, or why not).
    metadata_documents: Family<OutcomeLabels, Counter>,
    /// Logout tokens sent to clients, by outcome.
    backchannel_logouts: Family<OutcomeLabels, Counter>,
}

impl Default for Metrics {
    fn default() -> Self {
        let tokens_by_client = Family::<ClientLabels, Counter>::default();
        let tokens = Counter::default();
        let auth_failures_by_reason = Family::<ReasonLabels, Counter>::default();
        let auth_failures = Counter::default();
        let token_errors = Family::<ErrorLabels, Counter>::default();
        // 50 µs to ~1.6 s.
        let durations = Family::<EndpointLabels, Histogram>::new_with_constructor(|| {
            Histogram::new(exponential_buckets(0.000_05, 2.0, 16))
        });
        let in_flight = Gauge::default();
        let provider_failures = Family::<ProviderLabels, Counter>::default();
        let metadata_documents = Family::<OutcomeLabels, Counter>::default();
        let backchannel_logouts = Family::<OutcomeLabels, Counter>::default();
        let mut full = Registry::with_prefix("tollgate");
        let mut public = Registry::with_prefix("tollgate");
        full.register(
            "tokens_issued",
            "Access tokens issued, by client",
            tokens_by_client.clone(),
        );
        public.register("tokens_issued", "Access tokens issued", tokens.clone());
        full.register(
            "client_auth_failures",
            "Failed client authentications, by reason (unknown_client, wrong_secret, \
             no_valid_secret, disabled_client, malformed_credentials, throttled, and the \
             assertion reasons); the client sees invalid_client for each",
            auth_failures_by_reason.clone(),
        );
        public.register(
            "client_auth_failures",
            "Failed client authentications (reasons on the management listener)",
            auth_failures.clone(),
        );
        for registry in [&mut full, &mut public] {
            registry.register(
                "token_errors",
                "Token requests refused, by RFC 6749 error code (temporarily_unavailable = \
                 throttled or a store unreachable)",
                token_errors.clone(),
            );
            registry.register(
                "login_provider_failures",
                "Sign-ins through an upstream provider that failed on its side, by provider \
                 and reason (discovery, token_endpoint, client_secret, invalid_answer)",
                provider_failures.clone(),
            );
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
            registry.register(
                "client_metadata_documents",
                "Clients named by a URL looked up (Client ID Metadata Documents), by outcome: \
                 accepted, or why the document was refused (the person sees one page)",
                metadata_documents.clone(),
            );
            registry.register(
                "backchannel_logouts",
                "Logout tokens sent to clients' backchannel_logout_uri when a person signed out, \
                 by outcome (delivered, refused, unreachable, not_signed)",
                backchannel_logouts.clone(),
            );
        }
        let durations = Endpoint::ALL.map(|endpoint| {
            durations
                .get_or_create(&EndpointLabels { endpoint })
                .clone()
        });
        Self {
            full,
            public,
            tokens_by_client,
            tokens,
            auth_failures_by_reason,
            auth_failures,
            token_errors,
            provider_failures,
            durations,
            in_flight,
            metadata_documents,
            backchannel_logouts,
        }
    }
}

impl Metrics {
    /// A sign-in through `provider` failed on its side.
    pub(crate) fn provider_failed(&self, provider: &str, reason: &'static str) {
        self.provider_failures
            .get_or_create(&ProviderLabels {
                provider: provider.to_owned(),
                reason,
            })
            .inc();
    }

    pub(crate) fn token_issued(&self, client_id: &str) {
        self.tokens.inc();
        self.tokens_by_client
            .get_or_create(&ClientLabels {
                client_id: client_id.to_owned(),
            })
            .inc();
    }

    /// Counts a refused request by its error code, and a failed client
    /// authentication by its reason.
    pub(crate) fn refused(&self, refusal: &Refusal) {
        self.token_errors
            .get_or_create(&ErrorLabels {
                error: refusal.error.code.as_str(),
            })
            .inc();
        if refusal.is_authentication_failure() {
            self.auth_failure(refusal.reason);
        }
    }

    fn auth_failure(&self, reason: Reason) {
        self.auth_failures.inc();
        self.auth_failures_by_reason
            .get_or_create(&ReasonLabels {
                reason: reason.as_str(),
            })
            .inc();
    }

    /// Counts a client named by a URL, looked up.
    pub(crate) fn metadata_document(&self, outcome: tollgate_core::metadata_documents::Outcome) {
        self.metadata_documents
            .get_or_create(&OutcomeLabels {
                outcome: outcome.as_str(),
            })
            .inc();
    }

    /// Counts a logout token sent to a client, by `outcome`.
    pub(crate) fn backchannel_logout(&self, outcome: &'static str) {
        self.backchannel_logouts
            .get_or_create(&OutcomeLabels { outcome })
            .inc();
    }

    /// Drops the series of clients a reload removed.
    pub(crate) fn forget_clients<'a>(&self, removed: impl Iterator<Item = &'a str>) {
        for client_id in removed {
            self.tokens_by_client.remove(&ClientLabels {
                client_id: client_id.to_owned(),
            });
        }
    }

    /// Counts a request in flight until the guard is dropped (also when the
    /// request is cancelled).
    pub(crate) fn in_flight(&self) -> InFlight<'_> {
        self.in_flight.inc();
        InFlight(&self.in_flight)
    }

    pub(crate) fn observe(&self, endpoint: Endpoint, took: Duration) {
        self.durations[endpoint as usize].observe(took.as_secs_f64());
    }

    /// The OpenMetrics exposition of `view`: the live metrics, then
    /// `snapshot`.
    pub(crate) fn render(&self, view: View, snapshot: Snapshot) -> Result<String, std::fmt::Error> {
        use prometheus_client::encoding::text::{encode_eof, encode_registry};
        let mut out = String::new();
        let live = match view {
            View::Full => &self.full,
            View::Public => &self.public,
        };
        encode_registry(&mut out, live)?;
        let mut scraped = Registry::with_prefix("tollgate");
        scraped.register_collector(Box::new(snapshot));
        encode_registry(&mut out, &scraped)?;
        encode_eof(&mut out)?;
        Ok(out)
    }
}

/// A request in flight; see [`Metrics::in_flight`].
pub(crate) struct InFlight<'a>(&'a Gauge);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.dec();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tollgate_core::{Challenge, Reason, Refusal};

    fn snapshot() -> Snapshot {
        Snapshot {
            config_generation: 1,
            config_last_reload_ok: true,
            config_reload_failures: 0,
            argon2_verifications: 2,
            secret_cache_hits: 3,
            secret_cache_entries: 1,
            certificate_chain_verifications: 0,
            signing_keys_published: 1,
            signing_key_rotation_seconds: Some(10.0),
            signing_key_fault: false,
            signing_keys_unavailable: 0,
            replay_store_up: true,
            replay_store_fill: None,
        }
    }

    #[test]
    fn the_text_format_describes_every_sample_family_under_its_own_name() {
        let m = Metrics::default();
        m.token_issued("client");
        m.refused(&Refusal::client(Reason::WrongSecret, Challenge::None));
        m.observe(Endpoint::token, Duration::from_millis(1));
        let text = to_text_format(&m.render(View::Full, snapshot()).unwrap());
        assert!(
            !text.contains("# EOF") && !text.contains("# UNIT"),
            "{text}"
        );
        // Every sample's family has HELP and TYPE lines of its name, as
        // promtool requires.
        for sample in text
            .lines()
            .filter(|l| !l.starts_with('#') && !l.is_empty())
        {
            let name = sample.split(['{', ' ']).next().unwrap();
            let family = ["_bucket", "_sum", "_count"]
                .iter()
                .find_map(|s| {
                    name.strip_suffix(s).filter(|_| {
                        text.contains(&format!(
                            "# TYPE {} histogram",
                            name.strip_suffix(s).unwrap()
                        ))
                    })
                })
                .unwrap_or(name);
            assert!(
                text.contains(&format!("# HELP {family} ")),
                "no help for {name}:\n{text}"
            );
            assert!(
                text.contains(&format!("# TYPE {family} ")),
                "no type for {name}:\n{text}"
            );
        }
        assert!(text.contains("# TYPE tollgate_tokens_issued_total counter"));
    }

    #[test]
    fn the_public_view_names_no_client_and_no_reason() {
        let m = Metrics::default();
        m.token_issued("secret-client-name");
        m.refused(&Refusal::client(Reason::UnknownClient, Challenge::None));
        let public = m.render(View::Public, snapshot()).unwrap();
        assert!(!public.contains("secret-client-name"), "{public}");
        assert!(!public.contains("unknown_client"), "{public}");
        assert!(
            public.contains("tollgate_tokens_issued_total 1"),
            "{public}"
        );
        assert!(
            public.contains("tollgate_client_auth_failures_total 1"),
            "{public}"
        );
        let full = m.render(View::Full, snapshot()).unwrap();
        assert!(full.contains(r#"tollgate_tokens_issued_total{client_id="secret-client-name"} 1"#));
        assert!(full.contains(r#"tollgate_client_auth_failures_total{reason="unknown_client"} 1"#));
        m.forget_clients(["secret-client-name"].into_iter());
        assert!(
            !m.render(View::Full, snapshot())
                .unwrap()
                .contains("secret-client-name")
        );
    }
}
