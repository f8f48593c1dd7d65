//! The registry: what the protocol core knows of the world — clients, API
//! scopes and API resources. Built by the config module from a validated
//! file; immutable (a reload builds a new one).

use std::collections::HashMap;
use std::sync::Arc;

use super::client::{Client, Secrets};
use super::federation::{FederatedRule, TrustedIssuer};
use super::scope::{ScopeSet, ScopeToken};

/// A scope an API can require.
#[derive(Debug, Clone)]
pub struct ApiScope {
    pub name: ScopeToken,
    /// For people: shown in the docs page's scope list.
    pub display_name: Option<String>,
}

/// An API: an audience that groups scopes. With secrets it may call the
/// introspection endpoint.
#[derive(Debug, Clone, Default)]
pub struct ApiResource {
    pub name: String,
    pub scopes: Vec<ScopeToken>,
    pub secrets: Secrets,
}

/// Clients, scopes and resources, indexed.
#[derive(Debug, Default)]
pub struct Registry {
    clients: HashMap<String, Arc<Client>>,
    scopes: Vec<ApiScope>,
    scopes_supported: ScopeSet,
    resources: Vec<Arc<ApiResource>>,
    resources_by_name: HashMap<String, Arc<ApiResource>>,
    failure_work: f64,
    /// Trusted issuers by the `iss` of their tokens.
    issuers: HashMap<String, Arc<TrustedIssuer>>,
    /// The federation rules of every client, by trusted issuer name.
    federated: HashMap<String, Vec<(Arc<Client>, FederatedRule)>>,
}

impl Registry {
    /// Indexes what the config module validated: ids and names are unique,
    /// every scope a client or resource names is declared. Clients come
    /// shared: a reload keeps those whose configuration did not change.
    pub fn new(
        scopes: Vec<ApiScope>,
        resources: Vec<ApiResource>,
        clients: Vec<Arc<Client>>,
        issuers: Vec<TrustedIssuer>,
    ) -> Self {
        let scopes_supported = scopes.iter().map(|s| s.name.clone()).collect();
        let resources: Vec<Arc<ApiResource>> = resources.into_iter().map(Arc::new).collect();
        let resources_by_name = resources
            .iter()
            .map(|r| (r.name.clone(), r.clone()))
            .collect();
        // The dearest failed verification: every failure is made to take as
        // long, so timing does not tell which id exists or how many secrets
        // it has. An unknown id costs one default verification.
        let failure_work = clients
            .iter()
            .map(|c| c.secrets.work())
            .chain(resources.iter().map(|r| r.secrets.work()))
            .fold(1.0, f64::max);
        let clients: HashMap<String, Arc<Client>> = clients
            .into_iter()
            .map(|c| (c.id.as_str().to_owned(), c))
            .collect();
        let mut federated: HashMap<String, Vec<(Arc<Client>, FederatedRule)>> = HashMap::new();
        for client in clients.values() {
            for rule in &client.federated {
                federated
                    .entry(rule.issuer.clone())
                    .or_default()
                    .push((client.clone(), rule.clone()));
            }
        }
        let issuers = issuers
            .into_iter()
            .map(|i| (i.issuer.clone(), Arc::new(i)))
            .collect();
        Self {
            clients,
            scopes,
            scopes_supported,
            resources,
            resources_by_name,
            failure_work,
            issuers,
            federated,
        }
    }

    /// The trusted issuer whose tokens carry `iss`.
    pub fn trusted_issuer(&self, iss: &str) -> Option<&Arc<TrustedIssuer>> {
        self.issuers.get(iss)
    }

    /// Every trusted issuer.
    pub fn trusted_issuers(&self) -> impl Iterator<Item = &Arc<TrustedIssuer>> {
        self.issuers.values()
    }

    /// The rules (and their clients) that name the trusted issuer `name`.
    pub fn federated(&self, name: &str) -> &[(Arc<Client>, FederatedRule)] {
        self.federated.get(name).map_or(&[], Vec::as_slice)
    }

    pub fn client(&self, id: &str) -> Option<&Arc<Client>> {
        self.clients.get(id)
    }

    /// Every client, in no particular order.
    pub fn clients(&self) -> impl Iterator<Item = &Arc<Client>> {
        self.clients.values()
    }

    pub fn scopes(&self) -> &[ApiScope] {
        &self.scopes
    }

    /// Every declared scope, in file order.
    pub fn scopes_supported(&self) -> &ScopeSet {
        &self.scopes_supported
    }

    pub fn resources(&self) -> &[Arc<ApiResource>] {
        &self.resources
    }

    pub fn resource(&self, name: &str) -> Option<&Arc<ApiResource>> {
        self.resources_by_name.get(name)
    }

    /// The Argon2 work of the dearest failed secret verification, in
    /// default verifications (at least 1).
    pub fn failure_work(&self) -> f64 {
        self.failure_work
    }

    /// Every holder's secrets (clients and resources): what a failed
    /// verification of each runs, for whoever measures how long failures
    /// take.
    pub fn secret_holders(&self) -> impl Iterator<Item = &Secrets> {
        self.clients
            .values()
            .map(|c| &c.secrets)
            .chain(self.resources.iter().map(|r| &r.secrets))
    }
}
