//! The registry: what the protocol core knows of the world — clients, API
//! scopes and API resources. Built by the config module from a validated
//! file; immutable (a reload builds a new one), but for the clients named
//! by a URL that the outside admits once their document checked out.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use super::client::{Argon2Cost, Client, Secrets};
use super::federation::{FederatedRule, TrustedIssuer};
use super::metadata_documents::MetadataDocuments;
use super::metadata_documents::admitted::{ADMITTED_CAPACITY, Admitted};
use super::people::{IdentityScope, Login, User, builtin_identity_scopes};
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
    /// The distinct Argon2 parameter lists of the holders' secrets.
    secret_costs: Vec<Vec<Argon2Cost>>,
    /// Trusted issuers by the `iss` of their tokens.
    issuers: HashMap<String, Arc<TrustedIssuer>>,
    /// The federation rules of every client, by trusted issuer name.
    federated: HashMap<String, Vec<(Arc<Client>, FederatedRule)>>,
    /// `[login]`: `None`, no one signs in.
    login: Option<Login>,
    /// People of the file, by username.
    users: HashMap<String, Arc<User>>,
    /// The built-in identity scopes, then the declared ones.
    identity_scopes: Vec<IdentityScope>,
    /// `[client_metadata_documents]`: clients named by a URL.
    metadata_documents: MetadataDocuments,
    /// The clients named by a URL whose document checked out.
    admitted: Admitted,
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
        let secret_costs = distinct_costs(
            clients
                .iter()
                .map(|c| &c.secrets)
                .chain(resources.iter().map(|r| &r.secrets)),
        );
        // The dearest failed verification: every failure is made to take as
        // long, so timing does not tell which id exists or how many secrets
        // it has. An unknown id costs one default verification.
        let failure_work = secret_costs
            .iter()
            .map(|costs| costs.iter().map(|c| c.work()).sum())
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
            secret_costs,
            issuers,
            federated,
            login: None,
            users: HashMap::new(),
            identity_scopes: builtin_identity_scopes(),
            metadata_documents: MetadataDocuments::default(),
            admitted: Admitted::default(),
        }
    }

    /// The same registry with a policy for clients named by a URL (Client
    /// ID Metadata Documents).
    pub fn with_metadata_documents(mut self, policy: MetadataDocuments) -> Self {
        if policy.enabled() {
            self.admitted = Admitted::with_capacity(ADMITTED_CAPACITY);
        }
        self.metadata_documents = policy;
        self
    }

    /// Makes `client`, named by a URL and made from a document whose
    /// SHA-256 is `digest`, a client every lookup finds, until a reload
    /// (the outside fetched and checked the document: the core does no
    /// IO). `false` when it cannot: URLs may not name clients here, the
    /// file has a client of that id, or too many were admitted since the
    /// last reload.
    pub fn admit(&self, client: Client, digest: [u8; 32]) -> bool {
        self.metadata_documents.enabled()
            && !self.clients.contains_key(client.id.as_str())
            && self.admitted.admit(client, digest)
    }

    /// Which URLs may name a client, and what such a client may do.
    pub fn metadata_documents(&self) -> &MetadataDocuments {
        &self.metadata_documents
    }

    /// The same registry with people: the `[login]` settings, the users
    /// (unique usernames, validated) and the declared identity scopes
    /// (names unique among every scope, built-in ones included).
    pub fn with_people(
        mut self,
        login: Option<Login>,
        users: Vec<Arc<User>>,
        identity_scopes: Vec<IdentityScope>,
    ) -> Self {
        self.login = login;
        self.users = users
            .into_iter()
            .map(|u| (u.username.as_str().to_owned(), u))
            .collect();
        self.identity_scopes.extend(identity_scopes);
        self
    }

    /// `[login]`, if people may sign in.
    pub fn login(&self) -> Option<&Login> {
        self.login.as_ref()
    }

    pub fn user(&self, username: &str) -> Option<&Arc<User>> {
        self.users.get(username)
    }

    /// Every user, in no particular order.
    pub fn users(&self) -> impl Iterator<Item = &Arc<User>> {
        self.users.values()
    }

    /// The identity scopes: built in, then declared.
    pub fn identity_scopes(&self) -> &[IdentityScope] {
        &self.identity_scopes
    }

    /// The identity scope named `name`.
    pub fn identity_scope(&self, name: &str) -> Option<&IdentityScope> {
        self.identity_scopes
            .iter()
            .find(|s| s.name.as_str() == name)
    }

    /// The trusted issuer whose tokens carry `iss`.
    pub(crate) fn trusted_issuer(&self, iss: &str) -> Option<&Arc<TrustedIssuer>> {
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

    /// The client of the file with this id, or one named by a URL and
    /// admitted.
    pub fn client(&self, id: &str) -> Option<&Arc<Client>> {
        self.clients.get(id).or_else(|| self.admitted.get(id))
    }

    /// Every client of the file, in no particular order.
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

    /// The Argon2 parameters of each holder's secrets (clients and
    /// resources), each list sorted and each distinct list once: what the
    /// failed verifications run, for whoever measures how long failures
    /// take. A file of 100,000 clients has a handful.
    pub fn secret_costs(&self) -> &[Vec<Argon2Cost>] {
        &self.secret_costs
    }
}

fn distinct_costs<'a>(holders: impl Iterator<Item = &'a Secrets>) -> Vec<Vec<Argon2Cost>> {
    let mut seen: HashSet<Vec<Argon2Cost>> = HashSet::new();
    let mut costs = Vec::new();
    for secrets in holders {
        costs.clear();
        costs.extend(secrets.list.iter().map(|s| s.hash.cost()));
        costs.sort_unstable();
        if !seen.contains(&costs) {
            seen.insert(costs.clone());
        }
    }
    seen.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::{ClientSecret, SecretHash};

    fn holder(costs: &[(u32, u32)], tag: u8) -> Arc<Client> {
        let list = costs
            .iter()
            .map(|(m, t)| ClientSecret {
                hash: format!(
                    "$argon2id$v=19$m={m},t={t},p=1$c29tZXNhbHQ$RdescudvJCsgt3ub+b+dWRWJTmaaJObG"
                )
                .parse::<SecretHash>()
                .unwrap(),
                expires: None,
            })
            .collect();
        Arc::new(Client {
            id: format!("c{tag}").parse().unwrap(),
            secrets: Secrets {
                list,
                fingerprint: [tag; 32],
            },
            ..Client::default()
        })
    }

    #[test]
    fn failure_work_is_the_dearest_holder_and_each_cost_list_is_kept_once() {
        let clients = vec![
            holder(&[(19_456, 2)], 1),
            holder(&[(19_456, 2)], 2),
            // The same list in another order is the same list.
            holder(&[(19_456, 2), (19_456, 4)], 3),
            holder(&[(19_456, 4), (19_456, 2)], 4),
            // A client without secrets (it signs its own assertions).
            holder(&[], 5),
        ];
        let registry = Registry::new(Vec::new(), Vec::new(), clients, Vec::new());
        let mut costs = registry.secret_costs().to_vec();
        costs.sort();
        let default = Argon2Cost {
            m: 19_456,
            t: 2,
            p: 1,
        };
        let double = Argon2Cost { t: 4, ..default };
        assert_eq!(costs, vec![vec![], vec![default], vec![default, double]]);
        assert_eq!(registry.failure_work(), 3.0);
    }

    #[test]
    fn an_empty_registry_fails_at_one_default_verification() {
        let registry = Registry::new(Vec::new(), Vec::new(), Vec::new(), Vec::new());
        assert!(registry.secret_costs().is_empty());
        assert_eq!(registry.failure_work(), 1.0);
    }
}
