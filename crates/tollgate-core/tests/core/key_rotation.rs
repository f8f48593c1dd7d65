//! Keys fetched again: every key-based method (a client's assertion, a
//! self-signed certificate, a platform token, a trusted issuer's subject
//! token) reads the holder's keys as cached, and fetches them again when
//! they lack the key the request names, since the holder may have
//! rotated; a key no fetch finds is refused with the method's reason.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use serde_json::json;
use tollgate_core::exchange::JWT_TOKEN_TYPE;
use tollgate_core::{
    Client, ErrorCode, FederatedRule, JWT_BEARER_GRANT, Reason, SubjectPattern, ThrottleSettings,
    TrustedIssuer,
};
use tollgate_jose::jose::PublicKeys;

use crate::private_key_jwt::{claims, keyed, remote, with_assertion};
use crate::support::certs::Cert;
use crate::support::jws::{jwks, set};
use crate::support::subjects::{IDP, clients, exchange, foreign};
use crate::support::{Key, NOW, Req, World, client, granted, refused};

const SIGNER: &str = "https://signer.example/jwks";
const SELFIE: &str = "https://selfie.example/jwks";
const PLATFORM: &str = "https://k8s.example/jwks";
const IDP_KEYS: &str = "https://idp.example/jwks";

fn issuer(name: &str, iss: &str, url: &str, audience: Option<&str>) -> TrustedIssuer {
    TrustedIssuer {
        name: name.into(),
        issuer: iss.into(),
        keys: remote(url),
        audience: audience.map(str::to_owned),
        max_token_lifetime: Duration::from_secs(3600),
        fingerprint: tollgate_jose::digest::sha256(name.as_bytes()),
    }
}

fn world() -> World {
    let mut all = clients();
    all.push(keyed("rotating", remote(SIGNER)));
    all.push(Client {
        self_signed_certificate: true,
        ..keyed("selfie", remote(SELFIE))
    });
    all.push(Client {
        federated: vec![FederatedRule {
            issuer: "cluster".into(),
            subject: SubjectPattern::new("system:serviceaccount:*").unwrap(),
            claims: Vec::new(),
            copy: Vec::new(),
        }],
        ..client("workload")
    });
    let issuers = vec![
        issuer("idp", IDP, IDP_KEYS, None),
        issuer("cluster", "https://k8s.example", PLATFORM, Some("tollgate")),
    ];
    World::with(all, issuers, ThrottleSettings::default())
}

/// One method's request signed by (or presenting) a key, and the reason
/// a key unknown even after a refetch gets.
struct Method {
    name: &'static str,
    url: &'static str,
    /// A fresh signer (a key, or a certificate) with this `kid`.
    make: fn(&str) -> Signer,
    request: Box<dyn Fn(&Signer) -> Req>,
    code: ErrorCode,
    unknown: Reason,
}

/// What a request proves possession of: a JWS key, or a certificate's.
enum Signer {
    Key(Key),
    Cert(Cert),
}

impl Signer {
    fn public(&self) -> Arc<PublicKeys> {
        match self {
            Self::Key(k) => set(&[k]),
            Self::Cert(c) => jwks(&[c.jwk()]),
        }
    }

    fn key(&self) -> &Key {
        match self {
            Self::Key(k) => k,
            Self::Cert(_) => panic!("a certificate signs no JWS here"),
        }
    }
}

fn methods() -> Vec<Method> {
    let now = NOW.unix_timestamp();
    let key: fn(&str) -> Signer = |kid| Signer::Key(Key::new(Some(kid)));
    let cert: fn(&str) -> Signer = |cn| Signer::Cert(Cert::self_signed(cn));
    vec![
        Method {
            name: "private_key_jwt",
            url: SIGNER,
            make: key,
            request: Box::new(|s| {
                with_assertion(&s.key().sign(&claims("rotating", json!({}))), None)
            }),
            code: ErrorCode::InvalidClient,
            unknown: Reason::UnknownKey,
        },
        Method {
            name: "self-signed certificate",
            url: SELFIE,
            make: cert,
            request: Box::new(|s| {
                let Signer::Cert(c) = s else {
                    unreachable!("a certificate")
                };
                let params = [
                    ("grant_type", "client_credentials"),
                    ("client_id", "selfie"),
                ];
                Req::form(&params).certificate(c.chain())
            }),
            code: ErrorCode::InvalidClient,
            unknown: Reason::CertificateMismatch,
        },
        Method {
            name: "platform token",
            url: PLATFORM,
            make: key,
            request: Box::new(move |s| {
                let claims = json!({"iss": "https://k8s.example", "aud": "tollgate",
                    "sub": "system:serviceaccount:a:b", "exp": now + 60});
                let token = s.key().sign(&claims);
                Req::form(&[("grant_type", JWT_BEARER_GRANT), ("assertion", &token)])
            }),
            code: ErrorCode::InvalidGrant,
            unknown: Reason::UnknownKey,
        },
        Method {
            name: "trusted subject token",
            url: IDP_KEYS,
            make: key,
            request: Box::new(|s| {
                let subject = foreign(s.key(), json!({}));
                exchange("exchanger", &subject, JWT_TOKEN_TYPE, &[])
            }),
            code: ErrorCode::InvalidGrant,
            // The client authenticated: a subject token's failure is the
            // subject token's, never a client assertion's reason.
            unknown: Reason::InvalidSubjectToken,
        },
    ]
}

async fn rotation() {
    for method in methods() {
        let make = method.make;
        let world = world();
        let (old, new, stranger) = (make("old"), make("new"), make("stranger"));
        let both = [old.public(), new.public()]
            .iter()
            .flat_map(|s| s.0.clone())
            .collect();
        world
            .ports
            .serve(method.url, old.public(), Arc::new(PublicKeys(both)));
        let fetched = || world.ports.refetched.load(Ordering::SeqCst);
        let name = method.name;
        granted(name, world.token(&(method.request)(&old)).await);
        assert_eq!(fetched(), 0, "{name}: a cached key is not fetched again");
        granted(name, world.token(&(method.request)(&new)).await);
        assert_eq!(fetched(), 1, "{name}: a rotated key is fetched once");
        let outcome = world.token(&(method.request)(&stranger)).await;
        refused(name, outcome, method.code, method.unknown);
    }
}

pub(crate) async fn all() {
    rotation().await;
}

#[tokio::test]
async fn every_key_based_method_fetches_rotated_keys_again() {
    rotation().await;
}
