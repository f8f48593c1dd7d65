//! The serde mirror of the server's own sections of `identity.toml`:
//! `[server]` (with `[server.tls]`), `[throttle]` and `[replay]`. Shape
//! only, as in `raw`; the doc comments are what editors show on hover.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::duration::RawDuration;

/// `[throttle]`: how many client authentications that need Argon2 (cache
/// misses: wrong secrets, unknown clients, first uses) are allowed per
/// window before further attempts get 429 with `Retry-After`. Requests
/// whose secret is already verified are never throttled. Needs a restart
/// to change.
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct RawThrottle {
    /// Attempts per client id per window. Default 10; 0 turns it off.
    #[serde(default)]
    pub client_failures: Option<u32>,
    /// Attempts per source address per window. Default 100 (behind a
    /// proxy every client shares its address); 0 turns it off.
    #[serde(default)]
    pub address_failures: Option<u32>,
    /// The window over which a spent budget refills: seconds or `"1m"`,
    /// `"15m"`... Default `"1m"`.
    #[serde(default)]
    pub window: Option<RawDuration>,
}

/// `[replay]`: the single-use store of client assertions and DPoP proofs.
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct RawReplay {
    /// `"memory"` (default: this process only) or `"redis://HOST:PORT[/DB]"`
    /// (shared: use it with several replicas, or a replayed assertion can
    /// succeed once per replica). Needs a restart to change.
    #[serde(default)]
    pub store: Option<String>,

    /// The most unexpired assertion and DPoP proof ids one client may
    /// hold in the store (default 100000). In memory it binds once the
    /// store is half full; with Redis, always. A client over it is refused
    /// (`503 temporarily_unavailable`, `Retry-After`) until some of its ids
    /// expire, and only it. Needs a restart to change.
    #[serde(default)]
    #[schemars(range(min = 1))]
    pub max_per_client: Option<u64>,

    /// The most ids the memory store holds (default 1000000, about 70 MB).
    /// Full, it refuses new assertions and proofs rather than forget a
    /// live one. Needs a restart to change.
    #[serde(default)]
    #[schemars(range(min = 2))]
    pub capacity: Option<u64>,
}

/// `[server]`
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct RawServer {
    /// Address and port to listen on. Default `"127.0.0.1:5001"`. Needs a
    /// restart to change.
    #[serde(default)]
    pub listen: Option<String>,

    /// Address and port of the management listener: `/metrics` with
    /// per-client and per-reason series and `/healthz` with every detail,
    /// for Prometheus and the operator only (Keycloak's port 9000, Hydra's
    /// admin port), e.g. `"0.0.0.0:9000"`. Unset: the public port serves
    /// `/metrics` without anything that tells client ids apart. Needs a
    /// restart to change.
    #[serde(default)]
    pub management_listen: Option<String>,

    /// Serve HTTPS with these files (e.g. cert-manager's `tls.crt` and
    /// `tls.key`); they are re-read when they change. Turning TLS on or off
    /// needs a restart.
    #[serde(default)]
    pub tls: Option<RawTls>,
}

/// `[server.tls]`: HTTPS (`cert` and `key`) and client certificates
/// (RFC 8705 mutual TLS), on this listener or from a proxy in front.
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct RawTls {
    /// PEM certificate chain, leaf first; relative to this file. With
    /// `key`, tollgate serves HTTPS; without both, plain HTTP (TLS ends at
    /// a proxy: see `trusted_proxies`).
    #[serde(default)]
    pub cert: Option<String>,
    /// PEM private key (PKCS#8, PKCS#1 or SEC1) of the leaf; relative to
    /// this file.
    #[serde(default)]
    pub key: Option<String>,
    /// PEM file of the CAs whose client certificates authenticate clients
    /// with `tls_client_auth_subject_dn` or `tls_client_auth_san_dns` (and
    /// non-SPIFFE `tls_client_auth_san_uri`); relative to this file, re-read
    /// when it changes. The listener asks every client for a certificate
    /// and never requires one.
    #[serde(default)]
    pub client_ca: Option<String>,
    /// Proxies (addresses or CIDR ranges, e.g. `["10.0.0.0/8"]`) whose
    /// `client_cert_header` carries the client's certificate where TLS ends
    /// before tollgate (an ingress, a mesh sidecar). From any other address
    /// the header is ignored; from these, only the header counts.
    #[serde(default)]
    pub trusted_proxies: Vec<String>,
    /// The header a trusted proxy puts the client certificate in:
    /// `"x-forwarded-client-cert"` (Envoy's XFCC, its `Cert="..."` element)
    /// or any other name for a URL-escaped PEM, e.g. `"ssl-client-cert"`
    /// set from NGINX's `$ssl_client_escaped_cert`. Goes with
    /// `trusted_proxies`.
    #[serde(default)]
    pub client_cert_header: Option<String>,
}
