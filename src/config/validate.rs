//! Raw config → [`Config`]: every cross-field rule lives here, once, and
//! every broken rule becomes a [`Problem`] with its line. Does no Argon2
//! work (hashes are only parsed), so even a huge file validates fast.

use std::cell::OnceCell;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use sha2::{Digest, Sha256};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::locate::{self, Locator};
use super::raw::{RawClient, RawConfig, RawDateTime};
use super::shape;
use super::sources::{self, DocumentError, Overrides};
use super::{ApiResource, ApiScope, Config, DEFAULT_LISTEN, Problem, duration};
use crate::oauth::client::{ClientSecret, SecretHash};
use crate::oauth::throttle::ThrottleSettings;
use crate::oauth::{Client, ClientId, GrantType, ScopeSet, ScopeToken};

/// Claims tollgate sets itself; a client's extra claims may not replace them.
pub const REGISTERED_CLAIMS: [&str; 10] = [
    "iss",
    "sub",
    "aud",
    "exp",
    "nbf",
    "iat",
    "jti",
    "client_id",
    "scope",
    "cnf",
];

const DEFAULT_TOKEN_LIFETIME: Duration = Duration::from_secs(3600);

/// Collects problems, placing each at its line (or naming the
/// environment variable that set it).
pub(super) struct Problems<'a> {
    text: &'a str,
    locator: OnceCell<Locator<'a>>,
    from_env: &'a BTreeMap<String, String>,
    list: Vec<Problem>,
}

impl<'a> Problems<'a> {
    fn new(text: &'a str, from_env: &'a BTreeMap<String, String>) -> Self {
        Self {
            text,
            locator: OnceCell::new(),
            from_env,
            list: Vec::new(),
        }
    }

    /// Built on the first problem only: a valid file never pays for it.
    fn locator(&self) -> &Locator<'a> {
        self.locator.get_or_init(|| Locator::new(self.text))
    }

    pub(super) fn len(&self) -> usize {
        self.list.len()
    }

    pub(super) fn add(&mut self, path: impl Into<String>, message: impl Into<String>) {
        self.add_hinted(path, message, None);
    }

    pub(super) fn add_hinted(
        &mut self,
        path: impl Into<String>,
        message: impl Into<String>,
        hint: Option<&str>,
    ) {
        let key_path = path.into();
        let mut message = message.into();
        let pos = match ancestors(&key_path).find_map(|p| self.from_env.get(p)) {
            Some(var) => {
                message = format!("{message} (set by environment variable {var})");
                None
            }
            // A path the document doesn't hold (a defaulted key) is
            // reported at its parent, the nearest place one can act on.
            None => ancestors(&key_path).find_map(|p| self.locator().find(p)),
        };
        self.list.push(Problem {
            line: pos.map(|p| p.line),
            column: pos.map(|p| p.column),
            key_path,
            message,
            hint: hint.map(str::to_owned),
        });
    }
}

/// `a.b[1].c`, `a.b[1]`, `a.b`, `a`.
fn ancestors(path: &str) -> impl Iterator<Item = &str> {
    let mut next = Some(path);
    std::iter::from_fn(move || {
        let current = next?;
        next = current.rfind(['.', '[']).map(|i| &current[..i]);
        Some(current)
    })
}

/// The outcome of validating a file: the configuration if there is no
/// error, every error, and warnings.
pub struct Report {
    pub config: Option<Config>,
    pub errors: Vec<Problem>,
    pub warnings: Vec<Problem>,
}

/// Validates `text` (a file in folder `base`): syntax, then shape against
/// the schema, then meaning. `now` dates the warnings about expiring
/// secrets.
pub fn check(text: &str, base: &Path, overrides: Overrides, now: OffsetDateTime) -> Report {
    let failed = |errors| Report {
        config: None,
        errors,
        warnings: Vec::new(),
    };
    let document = match sources::document(text, overrides) {
        Ok(d) => d,
        Err(DocumentError::Toml(e)) => {
            // Only a position is needed: no document index for a text that
            // does not parse.
            let pos = e.span().map(|s| locate::position(text, s.start));
            return failed(vec![Problem {
                key_path: String::new(),
                line: pos.map(|p| p.line),
                column: pos.map(|p| p.column),
                message: e.message().trim().to_owned(),
                hint: None,
            }]);
        }
        Err(DocumentError::Env(e)) => {
            return failed(vec![Problem {
                key_path: String::new(),
                line: None,
                column: None,
                message: format!("environment overrides: {e}"),
                hint: None,
            }]);
        }
    };
    let mut problems = Problems::new(text, &document.from_env);
    for p in shape::check(&document.value) {
        problems.add_hinted(p.key_path, p.message, p.hint.as_deref());
    }
    if !problems.list.is_empty() {
        return failed(problems.list);
    }
    let raw: RawConfig = match serde_json::from_value(document.value) {
        Ok(raw) => raw,
        // The schema is generated from these types, so this is a bug in
        // the schema generation; still say what is wrong.
        Err(e) => {
            problems.add("", e.to_string());
            return failed(problems.list);
        }
    };
    let config = build(&raw, base, now, &mut problems);
    if !problems.list.is_empty() {
        return failed(problems.list);
    }
    let errors = std::mem::take(&mut problems.list);
    warn(&config, &raw, now, &mut problems);
    Report {
        config: Some(config),
        errors,
        warnings: problems.list,
    }
}

/// How soon before a secret expires `check` starts warning.
const EXPIRY_WARNING: time::Duration = time::Duration::days(14);

fn warn(config: &Config, raw: &RawConfig, now: OffsetDateTime, problems: &mut Problems<'_>) {
    super::keys::warn(config, now, problems);
    if config.issuer.is_none() {
        problems.add_hinted(
            "issuer",
            "no issuer is set; tokens will name the listen address as their issuer",
            Some("set issuer = \"https://your.host\" to the URL clients and APIs use"),
        );
    }
    let loopback = config
        .listen
        .parse::<SocketAddr>()
        .is_ok_and(|a| a.ip().is_loopback());
    if config
        .issuer
        .as_deref()
        .is_some_and(|i| i.starts_with("http://"))
        && !loopback
        && config.tls.is_none()
    {
        problems.add_hinted(
            "issuer",
            "the issuer is http:// but the server listens beyond loopback",
            Some("serve tokens over https (a TLS-terminating proxy or ingress) and set an https issuer"),
        );
    }
    if config.tls.is_some()
        && config
            .issuer
            .as_deref()
            .is_some_and(|i| i.starts_with("http://"))
    {
        problems.add_hinted(
            "issuer",
            "the server serves https ([server.tls]) but the issuer is http://",
            Some("set issuer = \"https://...\""),
        );
    }
    for (i, c) in raw.clients.iter().enumerate() {
        let Some(client) = config.client(&c.client_id) else {
            continue;
        };
        for (j, s) in client.secrets.iter().enumerate() {
            if let Some(expires) = s.expires {
                let path = format!("clients[{i}].secrets[{j}].expires");
                if expires <= now {
                    problems.add(path, "this secret has expired and no longer authenticates");
                } else if expires - now < EXPIRY_WARNING {
                    let days = (expires - now).whole_days();
                    problems.add_hinted(
                        path,
                        format!("this secret expires in {days} days"),
                        Some("add a new [[clients.secrets]] entry now and hand out its secret"),
                    );
                }
            }
        }
        if client.enabled && client.secrets.iter().all(|s| !s.is_valid_at(now)) {
            problems.add(
                format!("clients[{i}]"),
                "this client has no valid secret and cannot authenticate",
            );
        }
    }
}

fn build(raw: &RawConfig, base: &Path, now: OffsetDateTime, problems: &mut Problems<'_>) -> Config {
    let issuer = raw.issuer.as_deref().and_then(|i| match check_issuer(i) {
        Ok(i) => Some(i),
        Err(e) => {
            problems.add("issuer", e);
            None
        }
    });
    let listen = raw
        .server
        .listen
        .clone()
        .unwrap_or_else(|| DEFAULT_LISTEN.into());
    if listen.parse::<SocketAddr>().is_err() {
        problems.add(
            "server.listen",
            format!("{listen:?} is not an IP:PORT address, e.g. \"0.0.0.0:5001\""),
        );
    }
    let tls = super::tls::build(raw.server.tls.as_ref(), base, problems);
    let keys = super::keys::build(&raw.keys, base, now, problems);

    let mut scopes = Vec::new();
    let mut scopes_supported = ScopeSet::default();
    for (i, s) in raw.api_scopes.iter().enumerate() {
        let path = format!("api_scopes[{i}].name");
        match s.name.parse::<ScopeToken>() {
            Ok(name) if scopes_supported.contains(&name) => {
                problems.add(path, format!("scope {name} is declared twice"))
            }
            Ok(name) => {
                scopes_supported.insert(name.clone());
                scopes.push(ApiScope {
                    name,
                    display_name: s.display_name.clone(),
                });
            }
            Err(e) => problems.add(path, e.to_string()),
        }
    }

    let mut resources = Vec::new();
    let mut resource_names = HashSet::new();
    for (i, r) in raw.api_resources.iter().enumerate() {
        if r.name.trim().is_empty() {
            problems.add(
                format!("api_resources[{i}].name"),
                "a resource name may not be empty",
            );
        } else if !resource_names.insert(r.name.as_str()) {
            problems.add(
                format!("api_resources[{i}].name"),
                format!("resource {} is declared twice", r.name),
            );
        }
        let scopes = known_scopes(
            &r.scopes,
            &format!("api_resources[{i}].scopes"),
            &scopes_supported,
            problems,
        );
        resources.push(ApiResource {
            name: r.name.clone(),
            scopes: scopes.iter().cloned().collect(),
        });
    }

    let mut clients = HashMap::new();
    for (i, c) in raw.clients.iter().enumerate() {
        if let Some(client) = build_client(c, i, &scopes_supported, problems) {
            if clients.contains_key(client.id.as_str()) {
                problems.add(
                    format!("clients[{i}].client_id"),
                    format!("client_id {:?} is used by an earlier client", c.client_id),
                );
            } else {
                clients.insert(client.id.as_str().to_owned(), Arc::new(client));
            }
        }
    }

    let defaults = ThrottleSettings::default();
    let throttle = ThrottleSettings {
        client_failures: raw
            .throttle
            .client_failures
            .unwrap_or(defaults.client_failures),
        address_failures: raw
            .throttle
            .address_failures
            .unwrap_or(defaults.address_failures),
        window: match &raw.throttle.window {
            None => defaults.window,
            Some(d) => duration::parse(d).unwrap_or_else(|e| {
                problems.add("throttle.window", e);
                defaults.window
            }),
        },
    };

    Config {
        issuer,
        listen,
        tls,
        keys,
        scopes,
        resources,
        clients,
        scopes_supported,
        throttle,
    }
}

fn check_issuer(issuer: &str) -> Result<String, String> {
    let url = url::Url::parse(issuer).map_err(|e| format!("{issuer:?} is not a URL ({e})"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err("the issuer must be an http or https URL".into());
    }
    // RFC 8414 §2: "a URL that uses the https scheme and has no query or
    // fragment components".
    if url.query().is_some() || url.fragment().is_some() {
        return Err("the issuer may not have a query or fragment".into());
    }
    Ok(issuer.trim_end_matches('/').to_owned())
}

/// Parses a list of scope names, each of which must be declared.
fn known_scopes(
    names: &[String],
    path: &str,
    declared: &ScopeSet,
    problems: &mut Problems<'_>,
) -> ScopeSet {
    let mut set = ScopeSet::default();
    for (j, name) in names.iter().enumerate() {
        match name.parse::<ScopeToken>() {
            Ok(s) if declared.contains(&s) => set.insert(s),
            Ok(s) => problems.add_hinted(
                format!("{path}[{j}]"),
                format!("scope {s} is not declared in [[api_scopes]]"),
                Some("add [[api_scopes]] name = \"...\" or fix the spelling"),
            ),
            Err(e) => problems.add(format!("{path}[{j}]"), e.to_string()),
        }
    }
    set
}

fn build_client(
    c: &RawClient,
    i: usize,
    declared: &ScopeSet,
    problems: &mut Problems<'_>,
) -> Option<Client> {
    let at = |k: &str| format!("clients[{i}].{k}");
    let before = problems.list.len();
    let id = c
        .client_id
        .parse::<ClientId>()
        .map_err(|e| problems.add(at("client_id"), e))
        .ok();

    let grant_types = match &c.allowed_grant_types {
        None => vec![GrantType::ClientCredentials],
        Some(names) => names
            .iter()
            .enumerate()
            .filter_map(|(j, g)| {
                g.parse::<GrantType>()
                    .map_err(|()| {
                        let supported: Vec<_> = GrantType::ALL.iter().map(|g| g.as_str()).collect();
                        problems.add(
                            format!("{}[{j}]", at("allowed_grant_types")),
                            format!(
                                "grant type {g:?} is not supported (supported: {})",
                                supported.join(", ")
                            ),
                        )
                    })
                    .ok()
            })
            .collect(),
    };
    let allowed_scopes = known_scopes(&c.allowed_scopes, &at("allowed_scopes"), declared, problems);
    let access_token_lifetime = match &c.access_token_lifetime {
        None => DEFAULT_TOKEN_LIFETIME,
        Some(d) => duration::parse(d).unwrap_or_else(|e| {
            problems.add(at("access_token_lifetime"), e);
            DEFAULT_TOKEN_LIFETIME
        }),
    };
    let mut claims = serde_json::Map::new();
    for (name, value) in &c.claims {
        if REGISTERED_CLAIMS.contains(&name.as_str()) {
            problems.add(
                format!("{}.{name}", at("claims")),
                format!("claim {name:?} is set by tollgate itself and cannot be overridden"),
            );
        } else {
            claims.insert(name.clone(), value.clone());
        }
    }
    let mut secrets = Vec::new();
    for (j, s) in c.secrets.iter().enumerate() {
        let hash = s.hash.parse::<SecretHash>().map_err(|e| {
            let plaintext = !s.hash.starts_with('$');
            let (message, hint) = if plaintext {
                (
                    "this looks like a plaintext secret; only Argon2id hashes may be stored"
                        .to_owned(),
                    Some("run `tollgate hash-secret` and paste the $argon2id$... line it prints"),
                )
            } else {
                (e, None)
            };
            problems.add_hinted(format!("{}[{j}].hash", at("secrets")), message, hint)
        });
        let expires = match &s.expires {
            None => Ok(None),
            Some(raw) => parse_datetime(raw)
                .map(Some)
                .map_err(|e| problems.add(format!("{}[{j}].expires", at("secrets")), e)),
        };
        if let (Ok(hash), Ok(expires)) = (hash, expires) {
            secrets.push(ClientSecret { hash, expires });
        }
    }
    if problems.list.len() > before {
        return None;
    }
    let mut fingerprint = Sha256::new();
    for (raw, secret) in c.secrets.iter().zip(&secrets) {
        fingerprint.update(raw.hash.as_bytes());
        let expires = secret
            .expires
            .map_or(i128::MIN, |e| e.unix_timestamp_nanos());
        fingerprint.update(expires.to_be_bytes());
    }
    Some(Client {
        id: id?,
        grant_types,
        allowed_scopes,
        access_token_lifetime,
        enabled: c.enabled.unwrap_or(true),
        claims,
        secrets,
        secrets_fingerprint: fingerprint.finalize().into(),
    })
}

pub(super) fn parse_datetime(raw: &RawDateTime) -> Result<OffsetDateTime, String> {
    let text = match raw {
        RawDateTime::Toml(dt) => dt.to_string(),
        RawDateTime::Text(s) => s.clone(),
    };
    OffsetDateTime::parse(&text, &Rfc3339).map_err(|_| {
        format!("{text} is not a date-time with an offset; write e.g. 2027-01-01T00:00:00Z")
    })
}
