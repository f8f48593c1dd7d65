use std::sync::{Arc, OnceLock};
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use time::OffsetDateTime;
use time::macros::datetime;

use super::*;
use crate::auth::{self, Credential};
use crate::client::{ClientSecret, GrantType, SecretHash};
use crate::error::ErrorCode;
use crate::test_ports::Inline;
use crate::throttle::ThrottleSettings;
use crate::{ClientId, ScopeSet};
use tollgate_jose::clock::SharedClock;

const NOW: OffsetDateTime = datetime!(2026-11-25 12:00 UTC);

/// Argon2 is slow on purpose: each test secret is hashed once.
fn hash(secret: &str) -> String {
    static HASHES: OnceLock<std::sync::Mutex<std::collections::HashMap<String, String>>> =
        OnceLock::new();
    let map = HASHES.get_or_init(Default::default);
    map.lock()
        .unwrap()
        .entry(secret.to_owned())
        .or_insert_with(|| hash_secret(secret).unwrap())
        .clone()
}

fn secret(hash: &str, expires: Option<OffsetDateTime>) -> ClientSecret {
    ClientSecret {
        hash: hash.parse::<SecretHash>().unwrap(),
        expires,
    }
}

fn client(id: &str, secrets: Vec<ClientSecret>, enabled: bool, tag: u8) -> Client {
    Client {
        id: id.parse::<ClientId>().unwrap(),
        grant_types: vec![GrantType::ClientCredentials],
        allowed_scopes: ScopeSet::default(),
        access_token_lifetime: Duration::from_secs(3600),
        enabled,
        claims: Default::default(),
        secrets: Secrets {
            list: secrets,
            fingerprint: [tag; 32],
        },
        ..Client::default()
    }
}

fn registry(clients: Vec<Client>) -> Arc<Registry> {
    let clients = clients.into_iter().map(Arc::new).collect();
    Arc::new(Registry::new(Vec::new(), Vec::new(), clients, Vec::new()))
}

fn services() -> Arc<Services> {
    let clock: SharedClock = tollgate_jose::clock::system();
    Arc::new(Services::new(
        ThrottleSettings {
            client_failures: 0,
            address_failures: 0,
            window: Duration::from_secs(60),
        },
        &clock,
    ))
}

fn presented(id: &str, secret: &str) -> Presented {
    Presented {
        id: id.into(),
        secret: PresentedSecret::new(secret.into()),
        method: SecretMethod::Basic,
    }
}

async fn authenticate_at(
    registry: &Arc<Registry>,
    services: &Arc<Services>,
    id: &str,
    secret: &str,
    now: OffsetDateTime,
) -> Result<Arc<Client>, Refusal> {
    let cx = Context {
        registry,
        services,
        issuer: "https://issuer",
        token_endpoint: "https://issuer/token",
        sealing: None,
        now,
        address: None,
    };
    verify::<Client, _>(presented(id, secret), &cx, &Inline::default()).await
}

fn basic(raw: &str) -> Vec<u8> {
    format!("Basic {}", STANDARD.encode(raw)).into_bytes()
}

fn extract_from(body: &[u8], authorization: Option<&[u8]>) -> Result<Credential, Refusal> {
    let params = Params::parse(body, &["grant_type", "client_id", "client_secret"], &[])?;
    auth::extract(&params, authorization, None)
}

#[test]
fn basic_credentials_are_form_urlencoded_inside_base64() {
    let h = basic("my%3Aid:p%25ss+w%2Bord");
    let Ok(Credential::Secret(p)) = extract_from(b"grant_type=x", Some(&h)) else {
        panic!("secret credentials")
    };
    assert_eq!(p.id, "my:id");
    assert_eq!(p.secret.expose(), "p%ss w+ord");
    assert_eq!(p.method, SecretMethod::Basic);
    let h = basic("client:AZaz09-._~");
    let Ok(Credential::Secret(p)) = extract_from(b"grant_type=x", Some(&h)) else {
        panic!("secret credentials")
    };
    assert_eq!(
        p.secret.expose(),
        "AZaz09-._~",
        "unencoded unreserved secrets work too"
    );
}

#[test]
fn malformed_credentials_get_their_rfc_error() {
    let h = basic("client:secret");
    type Case<'a> = (&'a [u8], Option<&'a [u8]>, ErrorCode, Challenge);
    let cases: &[Case] = &[
        (
            b"grant_type=x&client_secret=s",
            Some(&h),
            ErrorCode::InvalidRequest,
            Challenge::None,
        ),
        (
            b"grant_type=x&client_id=other",
            Some(&h),
            ErrorCode::InvalidRequest,
            Challenge::None,
        ),
        (
            b"grant_type=x&client_secret=s",
            None,
            ErrorCode::InvalidClient,
            Challenge::None,
        ),
        (
            b"grant_type=x",
            None,
            ErrorCode::InvalidClient,
            Challenge::None,
        ),
        (
            b"grant_type=x",
            Some(b"Bearer abc"),
            ErrorCode::InvalidClient,
            Challenge::Basic,
        ),
        (
            b"grant_type=x",
            Some(b"Basic !!!"),
            ErrorCode::InvalidClient,
            Challenge::Basic,
        ),
        (
            b"grant_type=x",
            Some(b"Basic"),
            ErrorCode::InvalidClient,
            Challenge::Basic,
        ),
        (
            b"grant_type=x",
            Some(&[0xff, 0xfe]),
            ErrorCode::InvalidClient,
            Challenge::Basic,
        ),
    ];
    for (body, authorization, code, challenge) in cases {
        let err = extract_from(body, *authorization).unwrap_err();
        let shown = String::from_utf8_lossy(body);
        assert_eq!(err.error.code, *code, "{shown}");
        assert_eq!(err.error.challenge, *challenge, "{shown}");
    }
    // A client_id alone is a public client's (method `none`), judged when
    // it authenticates.
    assert!(matches!(
        extract_from(b"grant_type=x&client_id=c", None),
        Ok(Credential::Public(_))
    ));
    // The same id in the body next to Basic is accepted.
    assert!(extract_from(b"grant_type=x&client_id=client", Some(&h)).is_ok());
}

#[tokio::test]
async fn a_verified_secret_is_answered_from_the_cache_and_a_wrong_one_never_is() {
    let (reg, s) = (
        registry(vec![client(
            "c",
            vec![secret(&hash("right"), None)],
            true,
            1,
        )]),
        services(),
    );
    authenticate_at(&reg, &s, "c", "right", NOW).await.unwrap();
    assert_eq!(s.secrets.stats().argon2_runs, 1);
    authenticate_at(&reg, &s, "c", "right", NOW).await.unwrap();
    assert_eq!(s.secrets.stats().hits, 1, "warm");
    assert_eq!(s.secrets.stats().argon2_runs, 1);
    // A wrong secret after the right one: full Argon2, refused, not cached.
    for _ in 0..2 {
        let e = authenticate_at(&reg, &s, "c", "wrong", NOW)
            .await
            .unwrap_err();
        assert_eq!(e.reason, Reason::WrongSecret);
    }
    assert_eq!(s.secrets.stats().argon2_runs, 3);
}

#[tokio::test]
async fn every_failure_does_the_same_argon2_work_whatever_the_client() {
    // The dearest client: three secrets, one hashed with m=65536, t=3
    // (5.05 default verifications), so 7.05 in all.
    let heavy = "$argon2id$v=19$m=65536,t=3,p=1$c2FsdHNhbHQ$8k8T9Vn6RlUOyyEbYOWMmg";
    let reg = registry(vec![
        client("one", vec![secret(&hash("a"), None)], true, 1),
        client(
            "three",
            vec![
                secret(&hash("a"), None),
                secret(&hash("b"), None),
                secret(heavy, None),
            ],
            true,
            2,
        ),
        client(
            "expired",
            vec![secret(&hash("a"), Some(NOW - time::Duration::days(1)))],
            true,
            3,
        ),
        client("off", vec![secret(&hash("a"), None)], false, 4),
    ]);
    assert!(
        (reg.failure_work() - 7.05).abs() < 0.01,
        "{}",
        reg.failure_work()
    );
    let s = services();
    let mut reasons = Vec::new();
    for (id, guess) in [
        ("nobody", "x"),
        ("one", "x"),
        ("three", "x"),
        ("expired", "a"),
        ("off", "a"),
        (&"x".repeat(300), "x"),
    ] {
        let before = s.secrets.stats().argon2_work;
        let e = authenticate_at(&reg, &s, id, guess, NOW).await.unwrap_err();
        let work = s.secrets.stats().argon2_work - before;
        assert!((work - reg.failure_work()).abs() < 0.01, "{id}: {work}");
        assert_eq!(
            e.error,
            OAuthError::invalid_client(Challenge::Basic),
            "{id}"
        );
        reasons.push(e.reason);
    }
    assert_eq!(
        reasons,
        [
            Reason::UnknownClient,
            Reason::WrongSecret,
            Reason::WrongSecret,
            Reason::NoValidSecret,
            Reason::DisabledClient,
            Reason::ClientIdTooLong,
        ]
    );
}

#[tokio::test]
async fn changed_secrets_or_a_disabled_client_invalidate_cached_verifications() {
    let s = services();
    let old = hash("right");
    let before = registry(vec![client("c", vec![secret(&old, None)], true, 1)]);
    authenticate_at(&before, &s, "c", "right", NOW)
        .await
        .unwrap();
    let cached =
        |reg: &Registry| cached::<Client>(reg, &s, &presented("c", "right"), NOW).is_some();
    assert!(cached(&before));
    // A reload that leaves the client's secrets alone keeps the entry.
    assert!(cached(&registry(vec![client(
        "c",
        vec![secret(&old, None)],
        true,
        1
    )])));
    // Other secrets (another fingerprint): verify again.
    assert!(!cached(&registry(vec![client(
        "c",
        vec![secret(&old, None)],
        true,
        9
    )])));
    assert!(!cached(&registry(vec![client(
        "c",
        vec![secret(&old, None)],
        false,
        1
    )])));
}

#[tokio::test]
async fn entries_expire_with_the_ttl_or_the_secret_whichever_is_first() {
    let s = services();
    let h = hash("right");
    let at = |m: i64| NOW + time::Duration::minutes(m);
    let expiring = registry(vec![client("c", vec![secret(&h, Some(at(5)))], true, 1)]);
    authenticate_at(&expiring, &s, "c", "right", NOW)
        .await
        .unwrap();
    let cached =
        |reg: &Registry, now| cached::<Client>(reg, &s, &presented("c", "right"), now).is_some();
    assert!(cached(&expiring, at(4)));
    assert!(!cached(&expiring, at(5)), "secret expired");
    let forever = registry(vec![client("c", vec![secret(&h, None)], true, 2)]);
    authenticate_at(&forever, &s, "c", "right", NOW)
        .await
        .unwrap();
    assert!(cached(&forever, at(9)));
    assert!(!cached(&forever, at(10)), "ttl");
}

#[test]
fn the_cache_is_bounded() {
    let cache = crate::secret_cache::SecretCache::new(50, Duration::from_secs(600));
    let c = client("c", vec![secret(&hash("right"), None)], true, 1);
    for i in 0..500 {
        cache.remember(
            holder(&c),
            &c.secrets.list[0],
            &PresentedSecret::new(format!("s{i}")),
            NOW,
        );
    }
    assert!(cache.stats().entries <= 60, "{}", cache.stats().entries);
}
