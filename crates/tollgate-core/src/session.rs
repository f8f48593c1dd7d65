//! The browser session at tollgate: who signed in, when, until when, the
//! consents she gave in it and the clients she signed in to (so that
//! signing out tells them: back-channel logout). No server keeps it: it is
//! the session cookie's value, sealed (`sealed::Purpose::Session`), so
//! replicas share it as they share the sealing key.
//!
//! A session stands only while its user does: one removed, disabled or
//! revoked since she signed in (`User::stands_since`) has no session, and
//! the endpoint that finds out clears the cookie.

use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::people::{User, Username};
use super::ports::Context;
use super::sealed::Purpose;
use super::upstream::Person;

/// How many clients' consents a session remembers; the oldest goes first.
/// Bounds the cookie (a browser keeps 4 KiB of it).
pub const MAX_CONSENTS: usize = 8;

/// How many clients a session remembers signing in to; the oldest goes
/// first. Bounded like the consents, and for the same cookie.
pub const MAX_CLIENTS: usize = MAX_CONSENTS;

/// A client as a session remembers it: the first 96 bits of the SHA-256
/// of its id, base64url (16 characters). A client id may be 255 bytes, and
/// eight of them would take most of the 4 KiB a browser keeps of a
/// cookie; the tag finds the client again among the file's, and the cookie
/// is sealed, so it tells no one anything.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ClientTag(String);

impl ClientTag {
    /// The tag of the client `client_id`.
    pub fn of(client_id: &str) -> Self {
        let digest = tollgate_jose::digest::sha256(client_id.as_bytes());
        Self(B64.encode(&digest[..12]))
    }
}

/// What the session cookie carries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    /// 128 random bits: tells sessions apart (the audit log, logout).
    pub sid: String,
    /// The username.
    pub sub: String,
    /// When she signed in (Unix seconds).
    pub auth_time: i64,
    /// When the session ends (Unix seconds): `auth_time` plus
    /// `[login] session_lifetime`.
    pub exp: i64,
    /// Consents given in this session: a client id and the scopes,
    /// space separated.
    pub consents: Vec<(String, String)>,
    /// A person an upstream provider signed in (`sub` is
    /// `<provider>|<her sub there>`): her claims as copied at sign-in, as
    /// `Person::claims` made them. No file holds her, so the sealed cookie
    /// does, and her codes and tokens after it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub claims: Option<Map<String, Value>>,
    /// The clients a code was issued to in this session, the latest last
    /// (at most [`MAX_CLIENTS`]): those signing out tells. Absent from
    /// cookies sealed before it was carried.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub clients: Vec<ClientTag>,
}

/// What the endpoint does with the session cookie.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SessionChange {
    /// Leave it as it is (absent, or still good).
    Keep,
    /// Set it to this sealed session.
    Set(String),
    /// Clear it: it no longer stands (expired, tampered, her user gone).
    Clear,
}

/// 128 random bits, base64url: a secret identifier (session, code, CSRF
/// binding), drawn from the system's random source each time.
pub fn random_id() -> String {
    let mut bits = [0u8; 16];
    aws_lc_rs::rand::fill(&mut bits).expect("system random source");
    B64.encode(bits)
}

impl Session {
    /// A session for `user`, signed in now.
    pub fn new(cx: &Context<'_>, user: &User) -> Option<Self> {
        let lifetime = cx.registry.login()?.session_lifetime;
        let auth_time = cx.now.unix_timestamp();
        Some(Self {
            sid: random_id(),
            sub: user.username.as_str().to_owned(),
            auth_time,
            exp: auth_time.saturating_add(i64::try_from(lifetime.as_secs()).unwrap_or(i64::MAX)),
            consents: Vec::new(),
            claims: None,
            clients: Vec::new(),
        })
    }

    /// A session for `person`, whom an upstream provider signed in now.
    pub fn of_person(cx: &Context<'_>, person: &Person) -> Option<Self> {
        let lifetime = cx.registry.login()?.session_lifetime;
        let auth_time = cx.now.unix_timestamp();
        Some(Self {
            sid: random_id(),
            sub: person.sub.clone(),
            auth_time,
            exp: auth_time.saturating_add(i64::try_from(lifetime.as_secs()).unwrap_or(i64::MAX)),
            consents: Vec::new(),
            claims: Some(person.claims()),
            clients: Vec::new(),
        })
    }

    /// The person a provider's session is, while her provider is still in
    /// the file: a user with the claims copied at sign-in. Removing the
    /// provider signs its people out.
    fn upstream_user(&self, cx: &Context<'_>) -> Option<User> {
        let (provider, _) = self.sub.split_once('|')?;
        cx.registry.login()?.provider(provider)?;
        let claims = self.claims.as_ref()?;
        let text = |name: &str| claims.get(name).and_then(Value::as_str).map(str::to_owned);
        Some(User {
            username: Username::of_provider(&self.sub),
            password_hash: None,
            name: text("name"),
            email: text("email"),
            email_verified: claims.get("email_verified") == Some(&Value::Bool(true)),
            groups: claims
                .get("groups")
                .and_then(Value::as_array)
                .map(|g| {
                    g.iter()
                        .filter_map(Value::as_str)
                        .map(str::to_owned)
                        .collect()
                })
                .unwrap_or_default(),
            claims: Map::new(),
            enabled: true,
            tokens_valid_after: None,
        })
    }

    /// The session a cookie holds, and her user, if both stand now.
    /// `Err(Lapsed)`: a cookie was sent and stands no longer (clear it).
    pub fn open(cx: &Context<'_>, cookie: Option<&str>) -> Result<Option<Open>, Lapsed> {
        let Some(cookie) = cookie else {
            return Ok(None);
        };
        let key = cx.sealing.ok_or(Lapsed)?;
        cx.registry.login().ok_or(Lapsed)?;
        let session: Session = key.open(Purpose::Session, cookie).ok_or(Lapsed)?;
        if session.exp <= cx.now.unix_timestamp() {
            return Err(Lapsed);
        }
        if session.sub.contains('|') {
            let user = session.upstream_user(cx).ok_or(Lapsed)?;
            return Ok(Some(Open {
                session,
                user: Arc::new(user),
            }));
        }
        let user = cx.registry.user(&session.sub).ok_or(Lapsed)?;
        let since =
            time::OffsetDateTime::from_unix_timestamp(session.auth_time).map_err(|_| Lapsed)?;
        if !user.stands_since(since) {
            return Err(Lapsed);
        }
        Ok(Some(Open {
            session,
            user: user.clone(),
        }))
    }

    /// Sealed, as the cookie's value.
    pub fn seal(&self, cx: &Context<'_>) -> Option<String> {
        Some(cx.sealing?.seal(Purpose::Session, self))
    }

    /// Whether she consented to `scope` (space separated) for `client`.
    pub fn consented(&self, client: &str, scope: &str) -> bool {
        self.consents.iter().any(|(c, given)| {
            c == client && scope.split(' ').all(|s| given.split(' ').any(|g| g == s))
        })
    }

    /// Records her consent to `scope` for `client`, replacing an earlier
    /// one for it; the oldest is forgotten beyond [`MAX_CONSENTS`].
    pub fn consent(&mut self, client: &str, scope: &str) {
        self.consents.retain(|(c, _)| c != client);
        self.consents.push((client.to_owned(), scope.to_owned()));
        if self.consents.len() > MAX_CONSENTS {
            self.consents.remove(0);
        }
    }

    /// Records that a code was issued to `client` in this session, as the
    /// latest; the oldest is forgotten beyond [`MAX_CLIENTS`]. Whether the
    /// session changed (the cookie is then set again).
    pub fn signed_in_to(&mut self, client: &str) -> bool {
        let tag = ClientTag::of(client);
        if self.clients.last() == Some(&tag) {
            return false;
        }
        self.clients.retain(|t| *t != tag);
        self.clients.push(tag);
        if self.clients.len() > MAX_CLIENTS {
            self.clients.remove(0);
        }
        true
    }

    /// Whether a code was issued to `client` in this session (among the
    /// latest [`MAX_CLIENTS`]).
    pub fn has_signed_in_to(&self, client: &str) -> bool {
        let tag = ClientTag::of(client);
        self.clients.contains(&tag)
    }
}

/// A session cookie that no longer stands: expired, not ours, or her
/// user removed, disabled or revoked since she signed in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lapsed;

/// A session that stands, and her user as the file says now.
#[derive(Debug, Clone)]
pub struct Open {
    pub session: Session,
    pub user: Arc<User>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn consents_are_per_client_cover_subsets_and_are_bounded() {
        let mut s = Session {
            sid: random_id(),
            sub: "alice".into(),
            auth_time: 0,
            exp: 10,
            consents: Vec::new(),
            claims: None,
            clients: Vec::new(),
        };
        s.consent("web", "openid profile");
        assert!(s.consented("web", "openid"));
        assert!(s.consented("web", "profile openid"));
        assert!(!s.consented("web", "openid email"));
        assert!(!s.consented("other", "openid"));
        for i in 0..20 {
            s.consent(&format!("c{i}"), "openid");
        }
        assert_eq!(s.consents.len(), MAX_CONSENTS);
        assert!(!s.consented("web", "openid"), "the oldest went first");
    }

    #[test]
    fn the_clients_signed_in_to_are_remembered_latest_last_and_bounded() {
        let mut s = Session {
            sid: random_id(),
            sub: "alice".into(),
            auth_time: 0,
            exp: 10,
            consents: Vec::new(),
            claims: None,
            clients: Vec::new(),
        };
        assert!(s.signed_in_to("web"));
        assert!(!s.signed_in_to("web"), "already the latest: unchanged");
        assert!(s.signed_in_to("spa"));
        assert!(s.signed_in_to("web"), "the latest again");
        assert_eq!(s.clients.len(), 2);
        assert!(s.has_signed_in_to("web") && s.has_signed_in_to("spa"));
        assert!(!s.has_signed_in_to("other"));
        for i in 0..20 {
            s.signed_in_to(&format!("c{i}"));
        }
        assert_eq!(s.clients.len(), MAX_CLIENTS);
        assert!(!s.has_signed_in_to("web"), "the oldest went first");
        assert!(s.has_signed_in_to("c19"));
    }

    #[test]
    fn a_session_at_its_bounds_with_the_longest_ids_stays_well_under_4_kib() {
        let key = super::super::sealed::SealingKey::new(&[7; 32]);
        let long = |i: usize| format!("{i:0>255}");
        let mut s = Session {
            sid: random_id(),
            sub: "a".repeat(255),
            auth_time: 1_765_000_000,
            exp: 1_765_028_800,
            consents: Vec::new(),
            claims: None,
            clients: Vec::new(),
        };
        let before = key.seal(Purpose::Session, &s).len();
        for i in 0..MAX_CLIENTS + 4 {
            s.signed_in_to(&long(i));
        }
        let added = key.seal(Purpose::Session, &s).len() - before;
        // Eight tags: 8 × 19 bytes of JSON, sealed and base64url.
        assert!(added < 256, "the clients add {added} bytes");
        // A session from before the clients were carried still opens.
        let old = key.seal(
            Purpose::Session,
            &serde_json::json!({"sid": "s", "sub": "alice", "auth_time": 0, "exp": 10, "consents": []}),
        );
        let opened: Session = key.open(Purpose::Session, &old).unwrap();
        assert!(opened.clients.is_empty());
    }
}
