//! `tollgate_resource::TokenValidator` against an authority the test
//! controls: the JWKS's cache time honoured, keys that left the JWKS
//! refused, refetches limited even when they fail, valid tokens never
//! waiting for a slow authority, `crit` refused.

use std::sync::atomic::{AtomicU8, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use poem::http::StatusCode;
use poem::{EndpointExt, IntoResponse, Response, Route, get, handler, web::Data};
use serde_json::{Value, json};
use tollgate::{Algorithm, SigningKey};
use tollgate_jose::clock::{ManualClock, SharedClock};
use tollgate_resource::{Rejection, TokenValidator};

use crate::support::{eventually, start};

/// What the stub authority serves.
#[derive(Default)]
struct Authority {
    issuer: Mutex<String>,
    keys: Mutex<Vec<Value>>,
    /// 0 serve, 1 answer 500, 2 answer slowly (3 s).
    mode: AtomicU8,
    fetches: AtomicU64,
}

#[handler]
async fn discovery(a: Data<&Arc<Authority>>) -> Response {
    a.fetches.fetch_add(1, Ordering::SeqCst);
    match a.mode.load(Ordering::SeqCst) {
        1 => return StatusCode::INTERNAL_SERVER_ERROR.into_response(),
        2 => tokio::time::sleep(Duration::from_secs(3)).await,
        _ => {}
    }
    let issuer = a.issuer.lock().unwrap().clone();
    poem::web::Json(json!({ "issuer": issuer, "jwks_uri": format!("{issuer}/jwks") }))
        .into_response()
}

#[handler]
async fn jwks(a: Data<&Arc<Authority>>) -> Response {
    let keys = a.keys.lock().unwrap().clone();
    poem::web::Json(json!({ "keys": keys }))
        .with_header("Cache-Control", "public, max-age=60")
        .into_response()
}

async fn authority() -> Arc<Authority> {
    let a = Arc::new(Authority::default());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    *a.issuer.lock().unwrap() = format!("http://{addr}");
    let app = Route::new()
        .at("/.well-known/openid-configuration", get(discovery))
        .at("/jwks", get(jwks))
        .data(a.clone());
    let acceptor = poem::listener::TcpAcceptor::from_tokio(listener).unwrap();
    tokio::spawn(poem::Server::new_with_acceptor(acceptor).run(app));
    a
}

fn token(key: &SigningKey, issuer: &str, now: i64) -> String {
    let claims = json!({"iss": issuer, "sub": "c", "exp": now + 3600, "iat": now, "scope": "api1"});
    key.sign_jwt(claims.to_string().as_bytes()).unwrap()
}

fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

#[tokio::test]
async fn a_key_that_left_the_jwks_stops_validating_within_its_cache_time() {
    let a = authority().await;
    let issuer = a.issuer.lock().unwrap().clone();
    let (leaked, _) = SigningKey::generate(Algorithm::ES256).unwrap();
    *a.keys.lock().unwrap() = vec![serde_json::to_value(leaked.jwk()).unwrap()];
    let clock = ManualClock::new(start());
    let shared: SharedClock = clock.clone();
    let v = TokenValidator::new(&issuer, Some("api1")).with_clock(shared.clone());
    let now = shared.now().unix_timestamp();
    let t = bearer(&token(&leaked, &issuer, now));
    assert!(v.validate(Some(&t)).await.is_ok());
    // The key is withdrawn (a leak); the cached JWKS said max-age=60.
    a.keys.lock().unwrap().clear();
    clock.advance(time::Duration::seconds(30));
    assert!(v.validate(Some(&t)).await.is_ok(), "still within max-age");
    clock.advance(time::Duration::seconds(31));
    assert_eq!(
        v.validate(Some(&t)).await,
        Err(Rejection::InvalidToken("signed with an unknown key".into()))
    );
}

#[tokio::test]
async fn unknown_kids_cannot_hammer_a_failing_authority() {
    let a = authority().await;
    let issuer = a.issuer.lock().unwrap().clone();
    let (known, _) = SigningKey::generate(Algorithm::ES256).unwrap();
    *a.keys.lock().unwrap() = vec![serde_json::to_value(known.jwk()).unwrap()];
    let v = TokenValidator::new(&issuer, None);
    let now = start().unix_timestamp();
    assert!(
        v.validate(Some(&bearer(&token(&known, &issuer, now))))
            .await
            .is_ok()
    );
    let fetched = a.fetches.load(Ordering::SeqCst);
    a.mode.store(1, Ordering::SeqCst);
    for _ in 0..100 {
        let (forged, _) = SigningKey::generate(Algorithm::ES256).unwrap();
        assert!(
            v.validate(Some(&bearer(&token(&forged, &issuer, now))))
                .await
                .is_err()
        );
    }
    let more = a.fetches.load(Ordering::SeqCst) - fetched;
    assert!(
        more <= 2,
        "{more} fetches for 100 unknown kids in well under 2 s"
    );
    // The known key keeps working while the authority fails.
    assert!(
        v.validate(Some(&bearer(&token(&known, &issuer, now))))
            .await
            .is_ok()
    );
}

#[tokio::test]
async fn a_slow_authority_never_stalls_tokens_of_known_keys() {
    let a = authority().await;
    let issuer = a.issuer.lock().unwrap().clone();
    let (known, _) = SigningKey::generate(Algorithm::ES256).unwrap();
    *a.keys.lock().unwrap() = vec![serde_json::to_value(known.jwk()).unwrap()];
    let clock = ManualClock::new(start());
    let v = Arc::new(TokenValidator::new(&issuer, None).with_clock(clock.clone()));
    let now = start().unix_timestamp();
    let good = bearer(&token(&known, &issuer, now));
    assert!(v.validate(Some(&good)).await.is_ok());
    // Past the refetch interval, an unknown kid starts a refetch that hangs.
    clock.advance(time::Duration::seconds(11));
    a.mode.store(2, Ordering::SeqCst);
    let fetched = a.fetches.load(Ordering::SeqCst);
    let (forged, _) = SigningKey::generate(Algorithm::ES256).unwrap();
    let unknown = bearer(&token(&forged, &issuer, now));
    let slow = v.validate(Some(&unknown));
    let known_meanwhile = async {
        eventually(
            Duration::from_secs(5),
            "the slow refetch to start",
            || async { (a.fetches.load(Ordering::SeqCst) > fetched).then_some(()) },
        )
        .await;
        let started = Instant::now();
        let outcome = v.validate(Some(&good)).await;
        (outcome, started.elapsed())
    };
    let (slow, (outcome, waited)) = tokio::join!(slow, known_meanwhile);
    assert!(outcome.is_ok(), "{outcome:?}");
    assert!(
        waited < Duration::from_secs(1),
        "a valid token waited {waited:?} for the refetch of another"
    );
    assert!(slow.is_err());
}

#[tokio::test]
async fn tokens_with_crit_header_parameters_are_refused() {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let a = authority().await;
    let issuer = a.issuer.lock().unwrap().clone();
    let (key, _) = SigningKey::generate(Algorithm::ES256).unwrap();
    *a.keys.lock().unwrap() = vec![serde_json::to_value(key.jwk()).unwrap()];
    let v = TokenValidator::new(&issuer, None);
    let now = start().unix_timestamp();
    let signed = token(&key, &issuer, now);
    // The same token with a crit member added to its header (re-signed
    // by hand: the header is part of what is signed).
    let header: Value =
        serde_json::from_slice(&b64.decode(signed.split('.').next().unwrap()).unwrap()).unwrap();
    let mut header = header.as_object().unwrap().clone();
    header.insert("crit".into(), json!(["exp"]));
    let forged = format!(
        "{}.{}.x",
        b64.encode(Value::Object(header).to_string()),
        signed.split('.').nth(1).unwrap()
    );
    assert_eq!(
        v.validate(Some(&bearer(&forged))).await,
        Err(Rejection::InvalidToken(
            "the token has crit header parameters".into()
        ))
    );
}

/// A refusal's description tells the API's caller what to do, in words:
/// a token for another API names the audience this one expects.
#[tokio::test]
async fn refusals_say_in_words_what_is_wrong_and_name_the_expected_audience() {
    let a = authority().await;
    let issuer = a.issuer.lock().unwrap().clone();
    let (key, _) = SigningKey::generate(Algorithm::ES256).unwrap();
    *a.keys.lock().unwrap() = vec![serde_json::to_value(key.jwk()).unwrap()];
    let now = start().unix_timestamp();
    let why = |r: Result<_, Rejection>| match r {
        Err(Rejection::InvalidToken(why)) => why,
        other => panic!("{other:?}"),
    };
    let clock = ManualClock::new(start());
    let orders = TokenValidator::new(&issuer, None)
        .with_audience("https://orders.example")
        .with_clock(clock.clone());
    let other_api = bearer(&token(&key, &issuer, now));
    let said = why(orders.validate(Some(&other_api)).await);
    assert!(
        said.contains("https://orders.example") && said.contains("resource="),
        "{said}"
    );
    let v = TokenValidator::new(&issuer, None).with_clock(clock);
    let expired = bearer(&token(&key, &issuer, now - 7200));
    assert_eq!(
        why(v.validate(Some(&expired)).await),
        "the token has expired"
    );
    let elsewhere = bearer(&token(&key, "https://elsewhere.example", now));
    let said = why(v.validate(Some(&elsewhere)).await);
    assert!(said.contains(&issuer), "{said}");
}
