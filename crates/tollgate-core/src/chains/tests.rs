use std::sync::Arc;

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, CustomExtension, DnType,
    ExtendedKeyUsagePurpose, IsCa, KeyPair, KeyUsagePurpose,
};
use rustls_pki_types::CertificateDer;
use time::OffsetDateTime;
use time::macros::datetime;

use super::*;
use crate::ports::Services;
use crate::registry::Registry;
use crate::test_ports::Inline;
use crate::throttle::ThrottleSettings;

const NOW: OffsetDateTime = datetime!(2026-11-25 12:00 UTC);
const HOUR: time::Duration = time::Duration::HOUR;

type Ca = CertifiedIssuer<'static, KeyPair>;

fn ca_params(name: &str) -> CertificateParams {
    let mut params = CertificateParams::default();
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.distinguished_name.push(DnType::CommonName, name);
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    params
}

fn root(name: &str) -> Ca {
    CertifiedIssuer::self_signed(ca_params(name), KeyPair::generate().unwrap()).unwrap()
}

/// A CA below `issuer`.
fn sub_ca(name: &str, issuer: &Ca) -> Ca {
    CertifiedIssuer::signed_by(ca_params(name), KeyPair::generate().unwrap(), issuer).unwrap()
}

/// A client certificate of `issuer`, valid within `valid`.
fn leaf(issuer: &Ca, valid: (OffsetDateTime, OffsetDateTime)) -> CertificateDer<'static> {
    let mut params = CertificateParams::default();
    params.distinguished_name.push(DnType::CommonName, "client");
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
    (params.not_before, params.not_after) = valid;
    let key = KeyPair::generate().unwrap();
    params.signed_by(&key, issuer).unwrap().der().clone()
}

fn around_now() -> (OffsetDateTime, OffsetDateTime) {
    (NOW - HOUR, NOW + HOUR)
}

/// `depth` CAs below a root, and a leaf of the lowest: (root, chain leaf
/// first).
fn chain_of(depth: usize) -> (Ca, Vec<CertificateDer<'static>>) {
    let root = root("Root");
    let mut cas: Vec<Ca> = Vec::new();
    for i in 0..depth {
        let issuer = cas.last().unwrap_or(&root);
        cas.push(sub_ca(&format!("Intermediate {i}"), issuer));
    }
    let mut chain = vec![leaf(cas.last().unwrap_or(&root), around_now())];
    chain.extend(cas.iter().rev().map(|ca| ca.der().clone()));
    (root, chain)
}

/// Anchors as read from a file holding these CAs.
fn anchor_set(cas: &[&Ca]) -> AnchorSet {
    let pem: String = cas.iter().map(|ca| ca.pem()).collect();
    AnchorSet::from_pem(pem.as_bytes()).unwrap()
}

fn services() -> Arc<Services> {
    Arc::new(Services::new(
        ThrottleSettings::default(),
        &tollgate_jose::clock::system(),
    ))
}

/// `trusted` at `now`, as a request would ask.
async fn trusted_at(
    services: &Arc<Services>,
    ports: &Inline,
    anchors: &AnchorSet,
    certificate: &CertificateChain,
    now: OffsetDateTime,
) -> Result<(), Reason> {
    let registry = Arc::new(Registry::new(
        Vec::new(),
        Vec::new(),
        Vec::new(),
        Vec::new(),
    ));
    let cx = Context {
        registry: &registry,
        services,
        issuer: "https://issuer",
        token_endpoint: "https://issuer/token",
        sealing: None,
        now,
        address: None,
    };
    trusted(anchors, certificate, &cx, ports).await
}

#[tokio::test]
async fn a_chain_is_verified_once_per_anchors_off_the_request_path_until_an_edge_of_its_dates() {
    let ca = root("Clients CA");
    let anchors = anchor_set(&[&ca]);
    let der = leaf(&ca, around_now());
    let (services, ports) = (services(), Inline::default());
    let runs = || services.chains.verifications();

    let connection = CertificateChain::new(vec![der.clone()]).unwrap();
    for _ in 0..3 {
        let got = trusted_at(&services, &ports, &anchors, &connection, NOW).await;
        assert_eq!(got, Ok(()));
    }
    assert_eq!(runs(), 1, "once on its connection");
    let next_connection = CertificateChain::new(vec![der.clone()]).unwrap();
    let got = trusted_at(&services, &ports, &anchors, &next_connection, NOW + HOUR).await;
    assert_eq!(got, Ok(()));
    assert_eq!(runs(), 1, "and not again on the next");
    assert_eq!(
        ports.slow.load(Ordering::SeqCst),
        1,
        "verified as slow work"
    );

    // Another CA file (the bundle rotated) is other anchors.
    let rotated = anchor_set(&[&ca, &root("Clients CA 2027")]);
    let got = trusted_at(&services, &ports, &rotated, &connection, NOW).await;
    assert_eq!(got, Ok(()));
    assert_eq!(runs(), 2);

    // Past the leaf's notAfter the success no longer holds.
    let later = NOW + HOUR + time::Duration::SECOND;
    for certificate in [&connection, &next_connection] {
        let got = trusted_at(&services, &ports, &anchors, certificate, later).await;
        assert_eq!(got, Err(Reason::UntrustedCertificate));
    }
    assert_eq!(runs(), 3, "verified again once, then remembered");

    // A stranger's chain: refused, and the refusal remembered too.
    let stranger = CertificateChain::new(vec![leaf(&root("Clients CA"), around_now())]).unwrap();
    for _ in 0..2 {
        let got = trusted_at(&services, &ports, &anchors, &stranger, NOW).await;
        assert_eq!(got, Err(Reason::UntrustedCertificate));
    }
    assert_eq!(runs(), 4);
}

#[tokio::test]
async fn a_refusal_for_a_certificate_not_yet_valid_ends_at_its_not_before() {
    let ca = root("Clients CA");
    let anchors = anchor_set(&[&ca]);
    let starts = NOW + HOUR;
    let certificate = CertificateChain::new(vec![leaf(&ca, (starts, NOW + 2 * HOUR))]).unwrap();
    let (services, ports) = (services(), Inline::default());
    let at = |now| trusted_at(&services, &ports, &anchors, &certificate, now);
    assert_eq!(at(NOW).await, Err(Reason::UntrustedCertificate));
    assert_eq!(
        at(starts - time::Duration::SECOND).await,
        Err(Reason::UntrustedCertificate)
    );
    assert_eq!(services.chains.verifications(), 1);
    assert_eq!(at(starts).await, Ok(()));
    assert_eq!(services.chains.verifications(), 2);
}

/// The red team's chain: a leaf and ten self-issued "CAs" with 380 empty
/// extensions each (55 KB), which cost seconds of path building.
fn crafted_chain() -> Vec<CertificateDer<'static>> {
    let ca = root("CA");
    let mut chain = vec![leaf(&ca, around_now())];
    for i in 0..10u64 {
        let mut params = ca_params("CA");
        params.custom_extensions = (0..380)
            .map(|n| CustomExtension::from_oid_content(&[1, 3, 6, 1, 4, 1, i, n], vec![]))
            .collect();
        let key = KeyPair::generate().unwrap();
        chain.push(params.self_signed(&key).unwrap().der().clone());
    }
    chain
}

#[tokio::test]
async fn a_chain_over_the_limits_is_refused_before_anything_is_verified() {
    let crafted = crafted_chain();
    let bytes: usize = crafted.iter().map(|c| c.len()).sum();
    assert!((50_000..60_000).contains(&bytes), "{bytes}");
    let (services, ports) = (services(), Inline::default());
    let ca = root("CA");
    let got = trusted_at(
        &services,
        &ports,
        &anchor_set(&[&ca]),
        &CertificateChain::new(crafted.clone()).unwrap(),
        NOW,
    )
    .await;
    assert_eq!(got, Err(Reason::ChainTooLarge));
    // Four of them are few enough, but more than 16 KiB.
    let four = CertificateChain::new(crafted[..5].to_vec()).unwrap();
    let got = trusted_at(&services, &ports, &anchor_set(&[&ca]), &four, NOW).await;
    assert_eq!(got, Err(Reason::ChainTooLarge));
    assert_eq!(services.chains.verifications(), 0);
    assert_eq!(ports.slow.load(Ordering::SeqCst), 0);

    // A genuine chain: four CAs below the root are looked at, five not.
    let (root4, four) = chain_of(4);
    let got = trusted_at(
        &services,
        &ports,
        &anchor_set(&[&root4]),
        &CertificateChain::new(four).unwrap(),
        NOW,
    )
    .await;
    assert_eq!(got, Ok(()));
    let (root5, five) = chain_of(5);
    let got = trusted_at(
        &services,
        &ports,
        &anchor_set(&[&root5]),
        &CertificateChain::new(five).unwrap(),
        NOW,
    )
    .await;
    assert_eq!(got, Err(Reason::ChainTooLarge));
    assert_eq!(services.chains.verifications(), 1);
}
