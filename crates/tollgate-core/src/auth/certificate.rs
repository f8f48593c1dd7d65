//! Mutual TLS client authentication (RFC 8705 §2): the certificate of the
//! connection (or of a declared proxy's header) and `client_id` in the
//! body. `tls_client_auth`: the chain verifies to the client CA, or, for
//! a `spiffe://` rule, to the bundle of the trust domain the certificate's
//! one URI SAN names, and the named subject DN or SAN matches.
//! `self_signed_tls_client_auth`: the certificate's public key is one of
//! the client's keys. The TLS handshake already proved the key's holder.

use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use serde_json::json;
use x509_parser::certificate::X509Certificate;
use x509_parser::extensions::GeneralName;
use x509_parser::public_key::PublicKey as SpkiKey;

use super::super::chains;
use super::super::client::Client;
use super::super::params::Params;
use super::super::ports::{Context, Ports};
use super::super::refusal::Reason;
use super::super::rules::CertificateRule;
use super::super::spiffe;
use super::super::trust::{AnchorSet, CertificateChain};
use super::keys::current_keys;

/// A certificate presented with a `client_id` and nothing else.
#[derive(Debug)]
pub struct Presented {
    pub client_id: String,
    pub certificate: CertificateChain,
}

/// The certificate credentials of a request: the connection's
/// certificate and `client_id`, when the request carries no other
/// credentials (a certificate belongs to the connection, so a secret sent
/// over the same connection is the request's method).
pub fn extract(params: &Params, certificate: Option<&CertificateChain>) -> Option<Presented> {
    let client_id = params.get("client_id")?;
    Some(Presented {
        client_id: client_id.to_owned(),
        certificate: certificate?.clone(),
    })
}

/// How the certificate authenticated the client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Through a CA and a subject rule.
    Pki,
    /// Its key is one of the client's keys.
    SelfSigned,
}

/// The client the certificate proves, or why not.
pub(super) async fn authenticate<P: Ports>(
    presented: &Presented,
    cx: &Context<'_>,
    ports: &P,
) -> Result<(Arc<Client>, Kind), Reason> {
    let id = super::assertion::plausible_client_id(&presented.client_id)?;
    let client = cx.registry.client(id).ok_or(Reason::UnknownClient)?;
    if !client.enabled {
        return Err(Reason::DisabledClient);
    }
    // Nothing of a chain over the limits is parsed, its leaf included.
    presented
        .certificate
        .within_limits()
        .map_err(|_| Reason::ChainTooLarge)?;
    let leaf = presented.certificate.leaf();
    let (_, parsed) = x509_parser::parse_x509_certificate(leaf.as_ref())
        .map_err(|_| Reason::MalformedCertificate)?;
    if let Some(rule) = &client.certificate {
        let (anchors, matched) = ports.timed(|| check_pki(rule, &parsed, ports))?;
        // Off the request threads, once per chain and anchors (remembered).
        chains::trusted(&anchors, &presented.certificate, cx, ports).await?;
        return match matched {
            true => Ok((client.clone(), Kind::Pki)),
            false => Err(Reason::CertificateMismatch),
        };
    }
    if client.self_signed_certificate {
        let thumbprint = key_thumbprint(&parsed).ok_or(Reason::CertificateMismatch)?;
        let keys = current_keys(&client.keys, |keys| keys.has(&thumbprint), ports).await?;
        return match keys.has(&thumbprint) {
            true => Ok((client.clone(), Kind::SelfSigned)),
            false => Err(Reason::CertificateMismatch),
        };
    }
    Err(Reason::NoCertificateRule)
}

/// `tls_client_auth`: the anchors the chain must verify to, and whether
/// the rule matches (which counts once the chain has verified).
fn check_pki<P: Ports>(
    rule: &CertificateRule,
    parsed: &X509Certificate<'_>,
    ports: &P,
) -> Result<(AnchorSet, bool), Reason> {
    let uris = names(parsed, |n| match n {
        GeneralName::URI(u) => Some(*u),
        _ => None,
    })?;
    let trust = ports.trust_anchors().ok_or(Reason::UntrustedCertificate)?;
    let anchors = match rule.trust_domain() {
        // An X.509-SVID holds exactly one URI SAN, the SPIFFE ID, and its
        // trust domain names the bundle it must chain to.
        Some(_) => {
            let [uri] = uris.as_slice() else {
                return Err(Reason::NotAnSvid);
            };
            let id = spiffe::parse(uri).ok_or(Reason::NotAnSvid)?;
            if !svid_leaf(parsed) {
                return Err(Reason::NotAnSvid);
            }
            trust
                .domains
                .get(id.trust_domain)
                .ok_or(Reason::UntrustedCertificate)?
        }
        None => trust
            .client_ca
            .as_ref()
            .ok_or(Reason::UntrustedCertificate)?,
    };
    let matched = match rule {
        CertificateRule::SubjectDn(dn) => dn.matches(parsed.subject()),
        CertificateRule::SanDns(name) => names(parsed, |n| match n {
            GeneralName::DNSName(d) => Some(*d),
            _ => None,
        })?
        .iter()
        .any(|d| d.eq_ignore_ascii_case(name)),
        CertificateRule::SanUri(pattern) => uris.iter().any(|u| pattern.matches(u)),
    };
    Ok((anchors.clone(), matched))
}

/// X.509-SVID §4.3 (and §4.1): a leaf is no CA, and its key usage holds
/// `digitalSignature` and neither `keyCertSign` nor `cRLSign`.
fn svid_leaf(parsed: &X509Certificate<'_>) -> bool {
    let ca = parsed
        .basic_constraints()
        .ok()
        .flatten()
        .is_some_and(|b| b.value.ca);
    let usage = parsed.key_usage().ok().flatten().map(|u| *u.value);
    !ca && usage.is_some_and(|u| u.digital_signature() && !u.key_cert_sign() && !u.crl_sign())
}

/// The subject alternative names of one kind.
fn names<'a>(
    parsed: &'a X509Certificate<'_>,
    pick: impl Fn(&GeneralName<'a>) -> Option<&'a str>,
) -> Result<Vec<&'a str>, Reason> {
    let san = parsed
        .subject_alternative_name()
        .map_err(|_| Reason::MalformedCertificate)?;
    Ok(san
        .map(|ext| ext.value.general_names.iter().filter_map(pick).collect())
        .unwrap_or_default())
}

/// The RFC 7638 thumbprint of the certificate's public key, as a JWK of
/// the client's key set would have it.
fn key_thumbprint(parsed: &X509Certificate<'_>) -> Option<String> {
    let spki = parsed.public_key();
    let b64 = |b: &[u8]| B64.encode(b);
    let jwk = match spki.parsed().ok()? {
        SpkiKey::EC(point) => {
            let data = point.data();
            let (crv, size) = match data.len() {
                65 => ("P-256", 32),
                97 => ("P-384", 48),
                _ => return None,
            };
            if data[0] != 4 {
                return None;
            }
            let (x, y) = data[1..].split_at(size);
            json!({"kty": "EC", "crv": crv, "x": b64(x), "y": b64(y)})
        }
        SpkiKey::RSA(rsa) => {
            let trim =
                |b: &'_ [u8]| -> Vec<u8> { b.iter().skip_while(|x| **x == 0).copied().collect() };
            json!({"kty": "RSA", "n": b64(&trim(rsa.modulus)), "e": b64(&trim(rsa.exponent))})
        }
        SpkiKey::Unknown(raw) if spki.algorithm.algorithm.to_id_string() == "1.3.101.112" => {
            json!({"kty": "OKP", "crv": "Ed25519", "x": b64(raw)})
        }
        _ => return None,
    };
    tollgate_jose::jose::parse_jwk(&jwk)
        .ok()
        .map(|k| k.thumbprint)
}
