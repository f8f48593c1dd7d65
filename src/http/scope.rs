//! What one protocol request runs against, loaded once at its start: the
//! configuration in force (a reload mid-request is not seen), our issuer,
//! and the URLs of our endpoints as the core must name them (the token
//! endpoint is the audience of client assertions and the `htu` of DPoP
//! proofs). Every endpoint of the protocol builds its core `Context` here.

use std::net::IpAddr;
use std::sync::Arc;

use crate::config::Config;
use crate::state::AppState;
use tollgate_core::Context;

/// Where the token endpoint is served, under the issuer.
pub(crate) const TOKEN_PATH: &str = "/connect/token";
/// Where the introspection endpoint is served, under the issuer.
pub(crate) const INTROSPECT_PATH: &str = "/connect/introspect";

/// Where the UserInfo endpoint is served, under the issuer.
pub(crate) const USERINFO_PATH: &str = "/connect/userinfo";
/// Where the revocation endpoint is served, under the issuer.
pub(crate) const REVOKE_PATH: &str = "/connect/revoke";
/// Where RP-initiated logout is served, under the issuer.
pub(crate) const ENDSESSION_PATH: &str = "/connect/endsession";

/// One request's configuration and names.
pub(crate) struct Scope {
    config: Arc<Config>,
    issuer: String,
    token_endpoint: String,
    sealing: Option<Arc<tollgate_core::sealed::SealingKey>>,
}

impl Scope {
    pub(crate) fn load(state: &AppState) -> Self {
        let config = state.config();
        let issuer = state.issuer(&config);
        let token_endpoint = format!("{issuer}{TOKEN_PATH}");
        let sealing = state.sealing_key(&config);
        Self {
            sealing,
            config,
            issuer,
            token_endpoint,
        }
    }

    /// The core's view of the request from `address`, at the clock's now.
    pub(crate) fn context<'a>(
        &'a self,
        state: &'a AppState,
        address: Option<IpAddr>,
    ) -> Context<'a> {
        Context {
            registry: &self.config.registry,
            services: &state.services,
            issuer: &self.issuer,
            token_endpoint: &self.token_endpoint,
            now: state.clock.now(),
            address,
            sealing: self.sealing.as_deref(),
        }
    }

    /// Whether cookies are `Secure`: the issuer is https.
    pub(crate) fn secure_cookies(&self) -> bool {
        self.issuer.starts_with("https://")
    }

    /// The pages' title: `[login] title`, else "tollgate".
    pub(crate) fn page_title(&self) -> &str {
        self.config
            .registry
            .login()
            .and_then(|l| l.title.as_deref())
            .unwrap_or("tollgate")
    }

    /// Our issuer identifier.
    pub(crate) fn issuer(&self) -> &str {
        &self.issuer
    }

    pub(crate) fn config(&self) -> &Config {
        &self.config
    }
}
