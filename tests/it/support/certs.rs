//! Certificates made in the test (rcgen): CAs, X.509-SVIDs, company
//! client certificates, self-signed ones, and HTTPS clients that present
//! them.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose, SanType,
};

/// A CA: its certificate (PEM) and what signs with it.
pub(crate) struct TestCa {
    pub issuer: CertifiedIssuer<'static, KeyPair>,
}

/// A client certificate and its key.
pub(crate) struct TestCert {
    pub pem: String,
    pub der: Vec<u8>,
    pub key: KeyPair,
}

fn ca_params(name: &str) -> CertificateParams {
    let mut params = CertificateParams::default();
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.distinguished_name.push(DnType::CommonName, name);
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    params
}

impl TestCa {
    pub(crate) fn new(name: &str) -> Self {
        let issuer =
            CertifiedIssuer::self_signed(ca_params(name), KeyPair::generate().unwrap()).unwrap();
        Self { issuer }
    }

    /// A CA this one certifies (an intermediate).
    pub(crate) fn below(&self, name: &str) -> Self {
        let key = KeyPair::generate().unwrap();
        let issuer = CertifiedIssuer::signed_by(ca_params(name), key, &self.issuer).unwrap();
        Self { issuer }
    }

    /// `depth` CAs, each below the one before, the first below this one.
    pub(crate) fn descendants(&self, depth: usize) -> Vec<TestCa> {
        let mut cas: Vec<TestCa> = Vec::new();
        for i in 0..depth {
            let ca = cas
                .last()
                .unwrap_or(self)
                .below(&format!("Intermediate {i}"));
            cas.push(ca);
        }
        cas
    }

    pub(crate) fn pem(&self) -> String {
        self.issuer.pem()
    }

    /// An X.509-SVID (or any client certificate) with these URI SANs.
    pub(crate) fn svid(&self, uris: &[&str]) -> TestCert {
        self.svid_with_usage(uris, vec![KeyUsagePurpose::DigitalSignature])
    }

    /// An X.509-SVID whose key usage is `usages` (X.509-SVID §4.3 asks
    /// for `digitalSignature` alone, or with key agreement/encipherment).
    pub(crate) fn svid_with_usage(&self, uris: &[&str], usages: Vec<KeyUsagePurpose>) -> TestCert {
        let mut params = client_params();
        params.key_usages = usages;
        params.subject_alt_names = uris
            .iter()
            .map(|u| SanType::URI((*u).try_into().unwrap()))
            .collect();
        self.sign(params)
    }

    /// A client certificate with this subject (most significant first:
    /// `[(C, "US"), (O, "Acme"), ...]`) and DNS SANs.
    pub(crate) fn client(&self, subject: &[(DnType, &str)], dns: &[&str]) -> TestCert {
        let mut params = client_params();
        for (t, v) in subject {
            params.distinguished_name.push(t.clone(), *v);
        }
        params.subject_alt_names = dns
            .iter()
            .map(|d| SanType::DnsName((*d).try_into().unwrap()))
            .collect();
        self.sign(params)
    }

    fn sign(&self, params: CertificateParams) -> TestCert {
        let key = KeyPair::generate().unwrap();
        let cert = params.signed_by(&key, &self.issuer).unwrap();
        TestCert {
            pem: cert.pem(),
            der: cert.der().to_vec(),
            key,
        }
    }
}

fn client_params() -> CertificateParams {
    let mut params = CertificateParams::default();
    params.distinguished_name = rcgen::DistinguishedName::new();
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
    params
}

/// The red team's intermediates (PEM): ten self-issued "CAs" of the same
/// name with 380 empty extensions each, 55 KB, which cost seconds of RFC
/// 5280 path building when nothing bounded it.
pub(crate) fn crafted_intermediates() -> String {
    (0..10u64)
        .map(|i| {
            let mut params = ca_params("CA");
            params.custom_extensions = (0..380)
                .map(|n| {
                    rcgen::CustomExtension::from_oid_content(&[1, 3, 6, 1, 4, 1, i, n], vec![])
                })
                .collect();
            params
                .self_signed(&KeyPair::generate().unwrap())
                .unwrap()
                .pem()
        })
        .collect()
}

impl TestCert {
    /// This certificate presented with `intermediates` (PEM) after it.
    pub(crate) fn chained(mut self, intermediates: &str) -> Self {
        self.pem.push_str(intermediates);
        self
    }

    /// This certificate presented with the CAs between it and a root after
    /// it; `cas` from the root down, as [`TestCa::descendants`] gives them
    /// (sent nearest first).
    pub(crate) fn chained_to(self, cas: &[TestCa]) -> Self {
        let pem: String = cas.iter().rev().map(TestCa::pem).collect();
        self.chained(&pem)
    }

    /// A self-signed client certificate with a fresh P-256 key.
    pub(crate) fn self_signed(cn: &str) -> Self {
        let mut params = client_params();
        params.distinguished_name.push(DnType::CommonName, cn);
        let key = KeyPair::generate().unwrap();
        let cert = params.self_signed(&key).unwrap();
        TestCert {
            pem: cert.pem(),
            der: cert.der().to_vec(),
            key,
        }
    }

    /// RFC 8705 §3.1: base64url SHA-256 of the DER.
    pub(crate) fn thumbprint(&self) -> String {
        B64.encode(tollgate_jose::digest::sha256(&self.der))
    }

    /// The public key as a JWK (P-256).
    pub(crate) fn jwk(&self) -> serde_json::Value {
        let point = self.key.public_key_raw();
        assert_eq!(point.len(), 65, "a P-256 key");
        serde_json::json!({"kty": "EC", "crv": "P-256", "kid": "cert",
            "x": B64.encode(&point[1..33]), "y": B64.encode(&point[33..65])})
    }

    /// An HTTPS client that presents this certificate and trusts `server`.
    pub(crate) fn https(&self, server_pem: &str) -> reqwest::Client {
        let identity = format!("{}{}", self.pem, self.key.serialize_pem());
        https_builder(server_pem)
            .identity(reqwest::Identity::from_pem(identity.as_bytes()).unwrap())
            .build()
            .unwrap()
    }
}

/// An HTTPS client without a certificate that trusts `server`.
pub(crate) fn https_client(server_pem: &str) -> reqwest::Client {
    https_builder(server_pem).build().unwrap()
}

fn https_builder(server_pem: &str) -> reqwest::ClientBuilder {
    reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(server_pem.as_bytes()).unwrap())
        .pool_max_idle_per_host(0)
}

/// A server certificate for 127.0.0.1: (cert PEM, key PEM).
pub(crate) fn server_pair() -> (String, String) {
    let c =
        rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_owned(), "localhost".to_owned()])
            .unwrap();
    (c.cert.pem(), c.signing_key.serialize_pem())
}
