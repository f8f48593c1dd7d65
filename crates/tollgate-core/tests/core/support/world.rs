//! The world a case runs in: a registry built as the config module
//! builds one (`Registry::new` from `Client` values), the core's services
//! on a clock pinned at [`NOW`], the fake ports, and requests as the HTTP
//! adapter hands them over.

use std::net::IpAddr;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use time::OffsetDateTime;
use time::macros::datetime;
use tollgate_core::introspection::{self, Introspection};
use tollgate_core::revocation::{self, Revoked};
use tollgate_core::sealed::SealingKey;
use tollgate_core::token_request::{self, Issued, Request};
use tollgate_core::{
    ApiResource, ApiScope, CertificateChain, Client, ClientSecret, Context, GrantType, Login,
    RefusedRequest, Registry, ScopeSet, Secrets, Services, ThrottleSettings, TrustedIssuer, User,
    hash_secret,
};
use tollgate_jose::clock::{ManualClock, SharedClock};

use super::ports::Fake;

/// The time every case runs at.
pub(crate) const NOW: OffsetDateTime = datetime!(2026-12-01 12:00 UTC);
/// Our issuer identifier.
pub(crate) const ISSUER: &str = "https://id.example";
/// Our token endpoint, as clients reach it.
pub(crate) const TOKEN_ENDPOINT: &str = "https://id.example/connect/token";
/// The API resources of every world, and their scopes.
pub(crate) const API: &str = "https://api.example";
pub(crate) const ORDERS: &str = "https://orders.example";
/// An API with no secret (it cannot introspect).
pub(crate) const BILLING: &str = "https://billing.example";
/// The secret of every client and resource that has one.
pub(crate) const SECRET: &str = "s3cret-of-the-test";

/// A person of the file whose password is her username, in `groups`.
pub(crate) fn user(name: &str, groups: &[&str]) -> User {
    User {
        username: name.parse().unwrap(),
        password_hash: Some(hash(name).parse().unwrap()),
        groups: groups.iter().map(|g| (*g).to_owned()).collect(),
        enabled: true,
        ..User::default()
    }
}

/// Argon2 is slow on purpose: each secret is hashed once per run.
pub(crate) fn hash(secret: &str) -> String {
    static HASHES: OnceLock<Mutex<std::collections::HashMap<String, String>>> = OnceLock::new();
    let mut map = HASHES.get_or_init(Default::default).lock().unwrap();
    map.entry(secret.to_owned())
        .or_insert_with(|| hash_secret(secret).unwrap())
        .clone()
}

/// Secrets holding `secret`, expiring at `expires`; the fingerprint
/// tells holders apart.
pub(crate) fn secrets(secret: &str, expires: Option<OffsetDateTime>, tag: &str) -> Secrets {
    Secrets {
        list: vec![ClientSecret {
            hash: hash(secret).parse().unwrap(),
            expires,
        }],
        fingerprint: tollgate_jose::digest::sha256(format!("{tag}{expires:?}").as_bytes()),
    }
}

pub(crate) fn scopes(names: &[&str]) -> ScopeSet {
    names.iter().map(|n| n.parse().unwrap()).collect()
}

/// An enabled client of the client_credentials grant, with [`SECRET`],
/// allowed `api1` and `orders.read`, tokens for an hour.
pub(crate) fn client(id: &str) -> Client {
    Client {
        id: id.parse().unwrap(),
        grant_types: vec![GrantType::ClientCredentials],
        allowed_scopes: scopes(&["api1", "orders.read"]),
        access_token_lifetime: Duration::from_secs(3600),
        enabled: true,
        secrets: secrets(SECRET, None, id),
        ..Client::default()
    }
}

/// The scopes and APIs of every world: `api1` (and `admin`) of [`API`],
/// `orders.read` of [`ORDERS`], `billing` of [`BILLING`]; `unused`
/// belongs to none.
fn registry(
    clients: Vec<Client>,
    issuers: Vec<TrustedIssuer>,
    users: &[Arc<User>],
) -> Arc<Registry> {
    registry_with(clients, issuers, users, Login::default())
}

/// [`registry`] with `[login]` as `login`.
fn registry_with(
    clients: Vec<Client>,
    issuers: Vec<TrustedIssuer>,
    users: &[Arc<User>],
    login: Login,
) -> Arc<Registry> {
    let scope = |n: &str| ApiScope {
        name: n.parse().unwrap(),
        display_name: None,
    };
    let resource = |name: &str, s: &[&str], with_secret: bool| ApiResource {
        name: name.into(),
        scopes: s.iter().map(|n| n.parse().unwrap()).collect(),
        secrets: match with_secret {
            true => secrets(SECRET, None, name),
            false => Secrets::default(),
        },
    };
    Arc::new(
        Registry::new(
            ["api1", "admin", "orders.read", "billing", "unused"]
                .map(scope)
                .to_vec(),
            vec![
                resource(API, &["api1", "admin"], true),
                resource(ORDERS, &["orders.read"], true),
                resource(BILLING, &["billing"], false),
            ],
            clients.into_iter().map(Arc::new).collect(),
            issuers,
        )
        .with_people(Some(login), users.to_vec(), Vec::new()),
    )
}

pub(crate) struct World {
    pub(crate) registry: Arc<Registry>,
    pub(crate) services: Arc<Services>,
    pub(crate) ports: Fake,
    pub(crate) now: OffsetDateTime,
    pub(crate) address: Option<IpAddr>,
    /// The people of the file (`with_people`).
    pub(crate) users: Vec<Arc<User>>,
    /// Seals codes, refresh tokens, sessions and forms.
    pub(crate) sealing: SealingKey,
}

impl World {
    pub(crate) fn new(clients: Vec<Client>) -> Self {
        Self::with(clients, Vec::new(), ThrottleSettings::default())
    }

    pub(crate) fn with(
        clients: Vec<Client>,
        issuers: Vec<TrustedIssuer>,
        throttle: ThrottleSettings,
    ) -> Self {
        let clock: SharedClock = ManualClock::new(NOW);
        Self {
            registry: registry(clients, issuers, &[]),
            services: Arc::new(Services::new(throttle, &clock)),
            ports: Fake::default(),
            now: NOW,
            address: Some(IpAddr::from([192, 0, 2, 1])),
            users: Vec::new(),
            sealing: SealingKey::new(&[7; tollgate_core::sealed::KEY_LEN]),
        }
    }

    /// A world where people sign in (`[login]` with its defaults): these
    /// clients and users.
    pub(crate) fn people(clients: Vec<Client>, users: Vec<User>) -> Self {
        Self::with_people(clients, users)
    }

    /// A world of these clients and these people.
    pub(crate) fn with_people(clients: Vec<Client>, users: Vec<User>) -> Self {
        let mut world = Self::new(Vec::new());
        world.users = users.into_iter().map(Arc::new).collect();
        world.registry = registry(clients, Vec::new(), &world.users);
        world
    }

    /// The file edited and reloaded with these clients and people.
    pub(crate) fn reload_people(&mut self, clients: Vec<Client>, users: Vec<User>) {
        self.reload_login(clients, users, Login::default());
    }

    /// The file edited and reloaded with `[login]` as `login` (its
    /// providers).
    pub(crate) fn reload_login(&mut self, clients: Vec<Client>, users: Vec<User>, login: Login) {
        self.users = users.into_iter().map(Arc::new).collect();
        self.registry = registry_with(clients, Vec::new(), &self.users, login);
    }

    /// The file edited and reloaded: the same services and keys, another
    /// registry.
    pub(crate) fn reload(&mut self, clients: Vec<Client>, issuers: Vec<TrustedIssuer>) {
        self.registry = registry(clients, issuers, &self.users);
    }

    pub(crate) fn cx(&self) -> Context<'_> {
        Context {
            registry: &self.registry,
            services: &self.services,
            issuer: ISSUER,
            token_endpoint: TOKEN_ENDPOINT,
            sealing: Some(&self.sealing),
            now: self.now,
            address: self.address,
        }
    }

    pub(crate) async fn token(&self, request: &Req) -> Result<Issued, RefusedRequest> {
        let dpop: Vec<&[u8]> = request.dpop.iter().map(Vec::as_slice).collect();
        let request = Request {
            body: request.body.as_bytes(),
            authorization: request.authorization.as_deref(),
            dpop: &dpop,
            certificate: request.certificate.as_ref(),
        };
        token_request::token(&self.cx(), &self.ports, request).await
    }

    pub(crate) async fn revoke(&self, request: &Req) -> Result<Revoked, RefusedRequest> {
        let request = Request {
            body: request.body.as_bytes(),
            authorization: request.authorization.as_deref(),
            dpop: &[],
            certificate: None,
        };
        revocation::revoke(&self.cx(), &self.ports, request)
            .await
            .map(|(_, revoked)| revoked)
    }

    pub(crate) async fn introspect(&self, request: &Req) -> Result<Introspection, RefusedRequest> {
        let authorization = request.authorization.as_deref();
        introspection::introspect(
            &self.cx(),
            &self.ports,
            request.body.as_bytes(),
            authorization,
        )
        .await
        .map(|(_, answer)| answer)
    }
}

/// A request as the HTTP adapter hands it over.
#[derive(Debug, Clone, Default)]
pub(crate) struct Req {
    pub(crate) body: String,
    pub(crate) authorization: Option<Vec<u8>>,
    pub(crate) dpop: Vec<Vec<u8>>,
    pub(crate) certificate: Option<CertificateChain>,
}

impl Req {
    /// A form body of these parameters.
    pub(crate) fn form(params: &[(&str, &str)]) -> Self {
        let body = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(params)
            .finish();
        Self {
            body,
            ..Self::default()
        }
    }

    /// With HTTP Basic credentials, each form-urlencoded first (RFC 6749
    /// §2.3.1: an API's name is a URL, with a `:`).
    pub(crate) fn basic(self, id: &str, secret: &str) -> Self {
        let encode = |s: &str| form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
        let pair = format!("{}:{}", encode(id), encode(secret));
        let raw = format!("Basic {}", STANDARD.encode(pair));
        Self {
            authorization: Some(raw.into_bytes()),
            ..self
        }
    }

    pub(crate) fn dpop(mut self, proof: &str) -> Self {
        self.dpop.push(proof.as_bytes().to_vec());
        self
    }

    pub(crate) fn certificate(self, certificate: CertificateChain) -> Self {
        Self {
            certificate: Some(certificate),
            ..self
        }
    }
}
