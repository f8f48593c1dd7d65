//! Workload identity federation: a platform's token (a Kubernetes
//! service-account token, a GitHub Actions OIDC token, a SPIFFE JWT-SVID)
//! proves the workload, and `[[clients.federated]]` rules say which one
//! client it is. `iss` is a trusted issuer's, `aud` holds its audience,
//! `exp - iat` is at most its `max_token_lifetime`. Platforms present the
//! same token again until it expires, so a verified token is remembered
//! until `exp`: a workload that reuses its token pays for one signature
//! check. The rules are matched against the file in force every time.

use std::sync::Arc;

use serde_json::{Map, Value};

use super::super::client::Client;
use super::super::federation::TrustedIssuer;
use super::super::ports::{Context, Ports, VerifiedToken};
use super::super::refusal::Reason;
use super::assertion::{LEEWAY, Presented, check_audience, check_header, check_times, signed_by};
use super::keys::{current_keys, has_kid};

/// The client the platform token proves and the claims its rule copies
/// (of the first matching rule), or why not.
pub(super) async fn authenticate<P: Ports>(
    presented: &Presented,
    issuer: &Arc<TrustedIssuer>,
    cx: &Context<'_>,
    ports: &P,
) -> Result<(Arc<Client>, Map<String, Value>), Reason> {
    let alg = check_header(&presented.jwt)?;
    let now = cx.now.unix_timestamp();
    let remembered =
        tollgate_jose::digest::sha256_parts([&issuer.fingerprint[..], presented.token.as_bytes()]);
    let cached = cx
        .services
        .federated
        .get(&remembered)
        .filter(|verified| verified.exp.saturating_add(LEEWAY) > now);
    let claims = match cached {
        // Remembered, and the key that verified it is still published: a
        // key the platform withdrew (a leak) stops admitting its tokens.
        Some(verified)
            if current_keys(&issuer.keys, |_| true, ports)
                .await?
                .has(&verified.key) =>
        {
            verified.claims
        }
        _ => {
            let keys = current_keys(
                &issuer.keys,
                has_kid(presented.jwt.header.kid.as_deref()),
                ports,
            )
            .await?;
            let key = ports.timed(|| signed_by(&presented.token, &presented.jwt, alg, &keys))?;
            let exp = check_times(&presented.jwt.claims, now, lifetime(issuer))?;
            let claims = Arc::new(Value::Object(presented.jwt.claims.clone()));
            cx.services.federated.insert(
                remembered,
                VerifiedToken {
                    claims: claims.clone(),
                    exp,
                    key: key.thumbprint.clone(),
                },
            );
            claims
        }
    };
    let object = claims.as_object().ok_or(Reason::MalformedAssertion)?;
    let audience = issuer.audience.as_deref().unwrap_or(cx.issuer);
    check_audience(object, &[audience])?;
    check_times(object, now, lifetime(issuer))?;
    let mut matching = cx
        .registry
        .federated(&issuer.name)
        .iter()
        .filter(|(_, rule)| rule.matches(&claims));
    let (client, rule) = match (matching.next(), matching.next()) {
        (None, _) => return Err(Reason::NoMatchingClient),
        (Some((one, rule)), None) => (one, rule),
        (Some((a, rule)), Some((b, _)))
            if Arc::ptr_eq(a, b) && matching.all(|(c, _)| Arc::ptr_eq(a, c)) =>
        {
            (a, rule)
        }
        (Some(_), Some(_)) => return Err(Reason::AmbiguousClient),
    };
    if presented
        .client_id
        .as_deref()
        .is_some_and(|id| id != client.id.as_str())
    {
        return Err(Reason::ClientIdMismatch);
    }
    if !client.enabled {
        return Err(Reason::DisabledClient);
    }
    Ok((client.clone(), rule.copied(&claims)))
}

/// The longest lifetime the issuer's tokens may have, in seconds.
pub(crate) fn lifetime(issuer: &TrustedIssuer) -> i64 {
    i64::try_from(issuer.max_token_lifetime.as_secs()).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    use serde_json::json;
    use time::OffsetDateTime;

    use super::*;
    use crate::federation::{KeySource, SubjectPattern};
    use crate::ports::{PortError, Services};
    use crate::{ClientId, FederatedRule, Registry, ThrottleSettings};
    use tollgate_jose::jose::JwksLocation;
    use tollgate_jose::jose::{self, PublicKeys};
    use tollgate_jose::replay::ReplayError;

    /// A platform's P-256 signing key and its public JWK.
    fn platform_key() -> (jsonwebtoken::EncodingKey, serde_json::Value) {
        use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair};
        use base64::Engine;
        let b64 = |b: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b);
        let rng = aws_lc_rs::rand::SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).unwrap();
        let pair =
            EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref()).unwrap();
        // The uncompressed point: 0x04, then x and y.
        let point = pair.public_key().as_ref();
        let jwk =
            json!({"kty": "EC", "crv": "P-256", "x": b64(&point[1..33]), "y": b64(&point[33..65])});
        (jsonwebtoken::EncodingKey::from_ec_der(pkcs8.as_ref()), jwk)
    }

    /// Counts how often the keys are asked for; the test may withdraw them.
    struct Counting {
        keys: std::sync::Mutex<Arc<PublicKeys>>,
        asked: AtomicUsize,
    }

    impl Ports for Counting {
        async fn slow<T: Send + 'static>(
            &self,
            work: impl FnOnce() -> T + Send + 'static,
        ) -> Result<T, PortError> {
            Ok(work())
        }
        async fn sign(
            &self,
            _: Vec<u8>,
            _: crate::ports::TokenKind,
            _: OffsetDateTime,
        ) -> Result<String, PortError> {
            Err(PortError::Failed)
        }
        async fn keys(&self, _: &JwksLocation, _: bool) -> Result<Arc<PublicKeys>, PortError> {
            self.asked.fetch_add(1, Ordering::SeqCst);
            Ok(self.keys.lock().unwrap().clone())
        }
        async fn first_use(
            &self,
            _: [u8; 32],
            _: &str,
            _: OffsetDateTime,
            _: OffsetDateTime,
        ) -> Result<bool, ReplayError> {
            Ok(true)
        }
        async fn advance(
            &self,
            _: [u8; 32],
            _: &str,
            _: u64,
            _: OffsetDateTime,
            _: OffsetDateTime,
        ) -> Result<bool, ReplayError> {
            Ok(true)
        }
        async fn used(&self, _: [u8; 32], _: OffsetDateTime) -> Result<bool, ReplayError> {
            Ok(false)
        }
    }

    #[tokio::test]
    async fn a_platform_token_presented_again_is_not_verified_again_until_it_expires() {
        let (key, jwk) = platform_key();
        let public = jose::parse_jwk(&jwk).unwrap();
        let issuer = TrustedIssuer {
            name: "cluster".into(),
            issuer: "https://k8s.example".into(),
            keys: KeySource::Remote(JwksLocation {
                url: "https://k8s.example/jwks".parse().unwrap(),
                discovery: false,
            }),
            audience: Some("aud".into()),
            max_token_lifetime: Duration::from_secs(3600),
            fingerprint: [1; 32],
        };
        let client = Client {
            id: "billing".parse::<ClientId>().unwrap(),
            enabled: true,
            federated: vec![FederatedRule {
                issuer: "cluster".into(),
                subject: SubjectPattern::new("system:serviceaccount:billing:*").unwrap(),
                claims: Vec::new(),
                copy: Vec::new(),
            }],
            ..Client::default()
        };
        let registry = Arc::new(Registry::new(
            Vec::new(),
            Vec::new(),
            vec![Arc::new(client)],
            vec![issuer],
        ));
        let clock = tollgate_jose::clock::system();
        let services = Arc::new(Services::new(ThrottleSettings::default(), &clock));
        let now = clock.now();
        let claims = json!({"iss": "https://k8s.example", "aud": "aud", "sub": "system:serviceaccount:billing:w",
                            "iat": now.unix_timestamp(), "exp": now.unix_timestamp() + 600});
        let header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::ES256);
        let token = jsonwebtoken::encode(&header, &claims, &key).unwrap();
        let ports = Counting {
            keys: std::sync::Mutex::new(Arc::new(PublicKeys(vec![public]))),
            asked: AtomicUsize::new(0),
        };
        let cx = Context {
            registry: &registry,
            services: &services,
            issuer: "https://tollgate",
            token_endpoint: "https://tollgate/connect/token",
            sealing: None,
            now,
            address: None,
        };
        let presented = Presented {
            jwt: jose::peek(&token).unwrap(),
            token,
            client_id: None,
        };
        let issuer = registry.trusted_issuer("https://k8s.example").unwrap();
        for _ in 0..3 {
            let (client, _) = authenticate(&presented, issuer, &cx, &ports).await.unwrap();
            assert_eq!(client.id.as_str(), "billing");
        }
        // Each time the current keys are looked up (the JWKS cache's, no
        // fetch), to see the verifying key is still published.
        assert_eq!(ports.asked.load(Ordering::SeqCst), 3);
        // The platform withdraws the key (a leak): the remembered
        // verification no longer admits the token.
        let kept = std::mem::take(&mut *ports.keys.lock().unwrap());
        assert_eq!(
            authenticate(&presented, issuer, &cx, &ports)
                .await
                .unwrap_err(),
            Reason::UnknownKey
        );
        *ports.keys.lock().unwrap() = kept;
        // Past its expiry the remembered verification no longer counts.
        let later = Context {
            now: now + time::Duration::seconds(700),
            ..cx
        };
        assert_eq!(
            authenticate(&presented, issuer, &later, &ports)
                .await
                .unwrap_err(),
            Reason::AssertionExpired
        );
    }
}
