//! Certificates made in the test (rcgen): CAs, company client
//! certificates, X.509-SVIDs and self-signed ones, as the chain a TLS
//! connection would present.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose, SanType,
};
use rustls_pki_types::CertificateDer;
use tollgate_core::{AnchorSet, CertificateChain};

/// A CA that signs client certificates.
pub(crate) struct Ca {
    issuer: CertifiedIssuer<'static, KeyPair>,
}

/// A client certificate and its key.
pub(crate) struct Cert {
    pub(crate) der: Vec<u8>,
    pub(crate) key: KeyPair,
}

fn ca_params(name: &str) -> CertificateParams {
    let mut params = CertificateParams::default();
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.distinguished_name.push(DnType::CommonName, name);
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    params
}

impl Ca {
    pub(crate) fn new(name: &str) -> Self {
        let issuer = CertifiedIssuer::self_signed(ca_params(name), KeyPair::generate().unwrap());
        Self {
            issuer: issuer.unwrap(),
        }
    }

    /// An intermediate CA this one signs.
    pub(crate) fn intermediate(&self, name: &str) -> Self {
        let key = KeyPair::generate().unwrap();
        let issuer = CertifiedIssuer::signed_by(ca_params(name), key, &self.issuer);
        Self {
            issuer: issuer.unwrap(),
        }
    }

    /// This CA's certificate, DER.
    pub(crate) fn der(&self) -> Vec<u8> {
        self.issuer.der().to_vec()
    }

    /// This CA as the anchors of a client CA file or a trust bundle.
    pub(crate) fn anchors(&self) -> AnchorSet {
        AnchorSet::from_pem(self.issuer.pem().as_bytes()).unwrap()
    }

    /// A company client certificate: this subject (most significant RDN
    /// first) and these DNS SANs.
    pub(crate) fn client(&self, subject: &[(DnType, &str)], dns: &[&str]) -> Cert {
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

    /// An X.509-SVID (or any certificate) with these URI SANs and key
    /// usages.
    pub(crate) fn svid(&self, uris: &[&str], usages: Vec<KeyUsagePurpose>) -> Cert {
        let mut params = client_params();
        params.key_usages = usages;
        params.subject_alt_names = uris
            .iter()
            .map(|u| SanType::URI((*u).try_into().unwrap()))
            .collect();
        self.sign(params)
    }

    /// A client certificate that expired in 2020.
    pub(crate) fn expired(&self, dns: &str) -> Cert {
        let mut params = client_params();
        params.subject_alt_names = vec![SanType::DnsName(dns.try_into().unwrap())];
        params.not_before = rcgen::date_time_ymd(2019, 1, 1);
        params.not_after = rcgen::date_time_ymd(2020, 1, 1);
        self.sign(params)
    }

    fn sign(&self, params: CertificateParams) -> Cert {
        let key = KeyPair::generate().unwrap();
        let cert = params.signed_by(&key, &self.issuer).unwrap();
        Cert {
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

impl Cert {
    /// A self-signed client certificate with a fresh P-256 key.
    pub(crate) fn self_signed(cn: &str) -> Self {
        let mut params = client_params();
        params.distinguished_name.push(DnType::CommonName, cn);
        let key = KeyPair::generate().unwrap();
        let cert = params.self_signed(&key).unwrap();
        Self {
            der: cert.der().to_vec(),
            key,
        }
    }

    /// The chain a connection presents: this certificate alone.
    pub(crate) fn chain(&self) -> CertificateChain {
        self.chain_with(&[])
    }

    /// This certificate, then these (intermediates, DER).
    pub(crate) fn chain_with(&self, rest: &[Vec<u8>]) -> CertificateChain {
        let chain = std::iter::once(&self.der)
            .chain(rest)
            .map(|der| CertificateDer::from(der.clone()))
            .collect();
        CertificateChain::new(chain).unwrap()
    }

    /// Its public key as a JWK, as a client's key set lists it.
    pub(crate) fn jwk(&self) -> serde_json::Value {
        let point = self.key.public_key_raw();
        serde_json::json!({"kty": "EC", "crv": "P-256", "kid": "cert",
            "x": B64.encode(&point[1..33]), "y": B64.encode(&point[33..65])})
    }
}
