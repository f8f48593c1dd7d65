//! tollgate: an OAuth 2.0 authorization server whose whole state is one
//! declarative file, `identity.toml`.
//!
//! # Code map
//!
//! - `oauth`: the protocol core. The [`oauth::Registry`] of clients, API
//!   scopes and resources; RFC 6749 error codes and the typed
//!   [`oauth::Refusal`] (error for the client, precise reason for the
//!   operator); form parameters; client authentication as an open set of
//!   methods (`oauth::auth`: one file per method); the verified-secret
//!   cache and the throttle; the client_credentials grant; RFC 9068
//!   claims; and the token request as one operation that asks
//!   [`oauth::Ports`] for what it cannot do (slow verification,
//!   signatures).
//!   *Architecture invariant:* `oauth` imports neither poem nor `config`,
//!   does no IO, and is given the time.
//! - `config`: `identity.toml` — `raw` (serde mirror, the source of the
//!   JSON schema), `sources` (TOML → JSON, environment overrides), `shape`
//!   (schema checks), `split` (a big file's clients parsed in parts),
//!   `validate` (cross-field rules; builds the registry; its `reuse` takes
//!   over the unchanged clients of the configuration in force on reload),
//!   `keys` and `tls` (their sections), `problems` and `locate` (every
//!   problem at its line), `reload` (folder watch, settle, hand-over to a
//!   [`config::reload::Sink`]), `stamp` (the files' metadata, so that an
//!   unchanged file is not read again).
//!   *Architecture invariant:* `serve`, reload and `check` share one
//!   validation path, and it never runs Argon2.
//! - `keys`: signing keys (ES256, EdDSA, RS256) — `kid` (RFC 7638), the
//!   ring that says what is published and what signs at an instant (pure),
//!   automatic rotation in a folder, key files, batched signing.
//!   *Architecture invariant:* the active key is a function of the
//!   configuration, the key files and the clock; replicas never talk.
//! - `state`: what each request reads (config behind an `ArcSwap`, keys,
//!   the core's services, the clock); the reload [`config::reload::Sink`].
//! - `adapters`: how the core's [`oauth::Ports`] are carried out (the
//!   Argon2 pool, the batch signer, remote keys, the replay store);
//!   `slow_pool`: Argon2's own threads, at a lower CPU priority than the
//!   request threads, so a flood of wrong secrets cannot delay the
//!   cached path.
//! - `replay_redis`: the single-use store on Redis, for replicas.
//! - `remote_keys`: keys at a URL (client `jwks_uri`, trusted issuers),
//!   fetched, bounded, cached as the response allows.
//! - `http_client`: outgoing HTTPS, with bundled roots where the
//!   platform has no certificate store (the `FROM scratch` image).
//! - `endpoints`: HTTP — with `serve`, the only modules that import
//!   poem; one file per endpoint, `wire` (the response shapes, one type
//!   each, documented from the same type), `form` (bodies), the OpenAPI
//!   document and docs UI, the management routes.
//! - `server`: [`Server`], the program: bind, then serve with reload,
//!   SIGHUP, key maintenance and TLS renewal beside it.
//! - `serve`: the connection loop — poem's endpoints on hyper connections,
//!   the header-read and idle limit, draining, graceful shutdown.
//! - `clock`: the one place that reads the wall clock.
//! - `audit`, `log_limit`: one event per request, issued or refused, with
//!   untrusted values cut short and escaped; repeated warnings limited.
//! - `log_writer`: log lines appended to one buffer, written by one
//!   thread in batches (no write, wake-up or allocation per line);
//!   `log_format`: the text log's fields and timestamps written as the
//!   default formatter writes them, without its per-field cost.
//! - `metrics`: Prometheus counters and histograms (a full and a public
//!   view), `snapshot` (the state's numbers read at scrape time),
//!   `text_format` (the classic format made from OpenMetrics).
//! - `cli`: the commands other than `serve` (`check`'s report, secrets,
//!   keys, the health check).
//! - `timing`: how long a failed authentication takes, measured, so every
//!   failure is answered after the same time.
//! - `digest`, `memory`, `tls`: SHA-256, allocator tuning, certificate
//!   renewal.
//! - [`resource`]: for API authors — validates tollgate's tokens through
//!   discovery and JWKS; the sample API uses it.
//!
//! `src/main.rs` is only the command line. The public surface is this
//! file's `pub` items: what API authors, the command line and the tests
//! need. *Architecture invariant:* `tests/it/architecture.rs` checks the
//! invariants above on the source.

mod adapters;
mod audit;
pub mod cli;
pub mod clock;
pub mod config;
mod digest;
mod endpoints;
mod http_client;
pub mod keys;
mod log_format;
mod log_limit;
mod log_writer;
pub mod memory;
mod metrics;
pub mod oauth;
mod remote_keys;
mod replay_redis;
pub mod resource;
mod serve;
mod server;
mod slow_pool;
mod state;
mod timing;
mod tls;

pub use server::{Builder, Server};
pub use state::AppState;
