//! Mutual TLS client authentication (RFC 8705): `tls_client_auth` with
//! chains made here (a company CA and a SPIFFE trust domain's bundle),
//! the SPIFFE rules of X.509-SVIDs, and `self_signed_tls_client_auth`.

use std::collections::HashMap;
use std::sync::Arc;

use rcgen::{DnType, KeyUsagePurpose};
use rustls_pki_types::CertificateDer;
use tollgate_core::{
    AuthMethod, CertificateChain, CertificateRule, Client, DistinguishedName, ErrorCode, KeySource,
    Reason, SubjectPattern, TrustAnchors,
};

use crate::support::certs::{Ca, Cert};
use crate::support::{Req, World, client, granted, refused};

fn with_certificate(id: &str, chain: CertificateChain) -> Req {
    Req::form(&[("grant_type", "client_credentials"), ("client_id", id)]).certificate(chain)
}

fn ruled(id: &str, rule: CertificateRule) -> Client {
    Client {
        certificate: Some(rule),
        secrets: Default::default(),
        ..client(id)
    }
}

fn self_signed(id: &str, keys: KeySource) -> Client {
    Client {
        self_signed_certificate: true,
        keys,
        secrets: Default::default(),
        ..client(id)
    }
}

struct Pki {
    company: Ca,
    domain: Ca,
    rogue: Ca,
    selfie: Cert,
}

fn pki() -> Pki {
    Pki {
        company: Ca::new("Acme clients"),
        domain: Ca::new("example.org bundle"),
        rogue: Ca::new("Rogue"),
        selfie: Cert::self_signed("selfie"),
    }
}

/// The subject of `ledger`'s certificates, most significant RDN first.
const LEDGER: [(DnType, &str); 3] = [
    (DnType::CountryName, "US"),
    (DnType::OrganizationName, "Acme"),
    (DnType::CommonName, "ledger"),
];

fn world(pki: &Pki) -> World {
    let dn = DistinguishedName::parse("CN=ledger,O=Acme,C=US").unwrap();
    let spiffe = SubjectPattern::within_segments("spiffe://example.org/ns/payments/*").unwrap();
    let selfie_keys =
        tollgate_jose::jose::parse_jwk_set(&serde_json::json!({"keys": [pki.selfie.jwk()]}))
            .unwrap();
    let mut world = World::new(vec![
        ruled("ledger", CertificateRule::SubjectDn(dn.clone())),
        ruled("dns", CertificateRule::SanDns("dns.acme.test".into())),
        ruled("payments", CertificateRule::SanUri(spiffe)),
        self_signed("selfie", KeySource::Static(Arc::new(selfie_keys))),
        self_signed("keyless", KeySource::None),
        client("secret-only"),
        Client {
            enabled: false,
            ..ruled("disabled", CertificateRule::SubjectDn(dn))
        },
    ]);
    world.ports.anchors = Some(Arc::new(TrustAnchors {
        client_ca: Some(pki.company.anchors()),
        domains: HashMap::from([("example.org".to_owned(), pki.domain.anchors())]),
    }));
    world
}

async fn certificate_cases() {
    let pki = pki();
    let world = world(&pki);
    let sign = || vec![KeyUsagePurpose::DigitalSignature];
    let svid = |ca: &Ca, uris: &[&str]| ca.svid(uris, sign()).chain();
    let good = pki.company.client(&LEDGER, &[]).chain();
    let issued = granted(
        "a company certificate",
        world.token(&with_certificate("ledger", good.clone())).await,
    );
    assert_eq!(issued.method, AuthMethod::TlsClientAuth);
    let claims = world.ports.decode(&issued.access_token);
    assert_eq!(
        claims["cnf"]["x5t#S256"],
        good.thumbprint(),
        "bound to the certificate"
    );
    let dns = pki.company.client(&[], &["DNS.acme.test"]).chain();
    granted(
        "a DNS SAN, any case",
        world.token(&with_certificate("dns", dns)).await,
    );
    let api = svid(&pki.domain, &["spiffe://example.org/ns/payments/api"]);
    granted(
        "an X.509-SVID",
        world.token(&with_certificate("payments", api)).await,
    );
    let issued = granted(
        "a self-signed certificate",
        world
            .token(&with_certificate("selfie", pki.selfie.chain()))
            .await,
    );
    assert_eq!(issued.method, AuthMethod::SelfSignedTlsClientAuth);

    let garbage =
        CertificateChain::new(vec![CertificateDer::from(vec![0x30, 0x03, 1, 2, 3])]).unwrap();
    let long = "x".repeat(300);
    use Reason::*;
    let cases: Vec<(&str, &str, CertificateChain, Reason)> = vec![
        (
            "another CA",
            "ledger",
            pki.rogue.client(&LEDGER, &[]).chain(),
            UntrustedCertificate,
        ),
        (
            "another subject",
            "ledger",
            pki.company
                .client(&[(DnType::CommonName, "ledger")], &[])
                .chain(),
            CertificateMismatch,
        ),
        (
            "another DNS name",
            "dns",
            pki.company.client(&[], &["evil.acme.test"]).chain(),
            CertificateMismatch,
        ),
        (
            "expired",
            "dns",
            pki.company.expired("dns.acme.test").chain(),
            UntrustedCertificate,
        ),
        (
            "an SVID of the company CA",
            "payments",
            svid(&pki.company, &["spiffe://example.org/ns/payments/api"]),
            UntrustedCertificate,
        ),
        (
            "an SVID of another trust domain",
            "payments",
            svid(&pki.domain, &["spiffe://other.org/ns/payments/api"]),
            UntrustedCertificate,
        ),
        (
            "two URI SANs",
            "payments",
            svid(
                &pki.domain,
                &[
                    "spiffe://example.org/ns/payments/api",
                    "spiffe://example.org/ns/payments/b",
                ],
            ),
            NotAnSvid,
        ),
        (
            "no URI SAN",
            "payments",
            pki.domain.client(&[], &["payments.test"]).chain(),
            NotAnSvid,
        ),
        (
            "a URI that is no SPIFFE ID",
            "payments",
            svid(&pki.domain, &["spiffe://example.org/ns/payments/../admin"]),
            NotAnSvid,
        ),
        (
            "an SVID that signs certificates",
            "payments",
            pki.domain
                .svid(
                    &["spiffe://example.org/ns/payments/api"],
                    vec![
                        KeyUsagePurpose::DigitalSignature,
                        KeyUsagePurpose::KeyCertSign,
                    ],
                )
                .chain(),
            NotAnSvid,
        ),
        (
            "a star does not cross a slash",
            "payments",
            svid(&pki.domain, &["spiffe://example.org/ns/payments/api/extra"]),
            CertificateMismatch,
        ),
        (
            "another self-signed key",
            "selfie",
            Cert::self_signed("selfie").chain(),
            CertificateMismatch,
        ),
        (
            "self-signed, no keys",
            "keyless",
            pki.selfie.chain(),
            NoClientKeys,
        ),
        (
            "a client that uses a secret",
            "secret-only",
            pki.selfie.chain(),
            NoCertificateRule,
        ),
        (
            "an unknown client",
            "nobody",
            pki.selfie.chain(),
            UnknownClient,
        ),
        (
            "a disabled client",
            "disabled",
            pki.company.client(&LEDGER, &[]).chain(),
            DisabledClient,
        ),
        (
            "an id longer than any",
            &long,
            pki.selfie.chain(),
            ClientIdTooLong,
        ),
        ("not a certificate", "ledger", garbage, MalformedCertificate),
    ];
    for (case, id, chain, reason) in cases {
        let outcome = world.token(&with_certificate(id, chain)).await;
        refused(case, outcome, ErrorCode::InvalidClient, reason);
    }
    // A certificate with no `client_id`: the one invalid_client, and the
    // audit says what the client must add.
    let anonymous = Req::form(&[("grant_type", "client_credentials")])
        .certificate(pki.company.client(&LEDGER, &[]).chain());
    refused(
        "a certificate without client_id",
        world.token(&anonymous).await,
        ErrorCode::InvalidClient,
        CertificateWithoutClientId,
    );
}

/// A chain through an intermediate verifies when the connection sends
/// the intermediate, never without it, nor through another root.
async fn intermediates() {
    let pki = pki();
    let world = world(&pki);
    let issuing = pki.company.intermediate("Acme issuing");
    let stray = pki.rogue.intermediate("Rogue issuing");
    let leaf = issuing.client(&LEDGER, &[]);
    let request = |chain| with_certificate("ledger", chain);
    granted(
        "leaf and intermediate",
        world
            .token(&request(leaf.chain_with(&[issuing.der()])))
            .await,
    );
    refused(
        "the leaf alone",
        world.token(&request(leaf.chain())).await,
        ErrorCode::InvalidClient,
        Reason::UntrustedCertificate,
    );
    // Five certificates after the leaf: refused before any is read.
    let padding: Vec<Vec<u8>> = std::iter::repeat_n(issuing.der(), 5).collect();
    refused(
        "a chain over the limits",
        world.token(&request(leaf.chain_with(&padding))).await,
        ErrorCode::InvalidClient,
        Reason::ChainTooLarge,
    );
    let rogue = stray.client(&LEDGER, &[]);
    refused(
        "through another root",
        world
            .token(&request(rogue.chain_with(&[stray.der()])))
            .await,
        ErrorCode::InvalidClient,
        Reason::UntrustedCertificate,
    );
    let svid = pki.domain.intermediate("example.org issuing").svid(
        &["spiffe://example.org/ns/payments/api"],
        vec![KeyUsagePurpose::DigitalSignature],
    );
    refused(
        "an SVID without its intermediate",
        world
            .token(&with_certificate("payments", svid.chain()))
            .await,
        ErrorCode::InvalidClient,
        Reason::UntrustedCertificate,
    );
}

/// Without any CA configured no chain verifies, whatever it is.
async fn no_anchors() {
    let pki = pki();
    let mut world = world(&pki);
    world.ports.anchors = None;
    let chain = pki.company.client(&LEDGER, &[]).chain();
    refused(
        "no client CA",
        world.token(&with_certificate("ledger", chain)).await,
        ErrorCode::InvalidClient,
        Reason::UntrustedCertificate,
    );
    granted(
        "self-signed needs none",
        world
            .token(&with_certificate("selfie", pki.selfie.chain()))
            .await,
    );
}

pub(crate) async fn all() {
    certificate_cases().await;
    intermediates().await;
    no_anchors().await;
}

#[tokio::test]
async fn certificates_are_judged_by_chain_rule_and_key() {
    certificate_cases().await;
}

#[tokio::test]
async fn chains_verify_through_the_intermediates_sent() {
    intermediates().await;
}

#[tokio::test]
async fn without_anchors_no_chain_verifies() {
    no_anchors().await;
}
