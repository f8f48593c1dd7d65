//! What tollgate reads from a token: a key pair found by its label, and
//! its public key (EC P-256 or RSA), the one tollgate publishes; the
//! attributes a new pair is made with share the curve's parameters from
//! here.

use cryptoki::object::{Attribute, AttributeType, KeyType, ObjectClass, ObjectHandle};
use cryptoki::session::Session;

use super::proof::PublishedKey;

/// DER of the P-256 curve's OID (1.2.840.10045.3.1.7): `CKA_EC_PARAMS`.
pub(crate) const P256_PARAMS: [u8; 10] =
    [0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];

/// The handle of the private key labelled `label`.
pub(crate) fn find_private(session: &Session, label: &str) -> Result<ObjectHandle, String> {
    let found = session
        .find_objects(&[
            Attribute::Class(ObjectClass::PRIVATE_KEY),
            Attribute::Label(label.as_bytes().to_vec()),
        ])
        .map_err(|e| format!("cannot search the token: {e}"))?;
    match found.as_slice() {
        [one] => Ok(*one),
        [] => Err(format!("the token has no private key labelled {label:?}")),
        _ => Err(format!(
            "the token has {} private keys labelled {label:?}; labels must be unique",
            found.len()
        )),
    }
}

/// The private key labelled `label` and the public key of that label (the
/// caller proves they are a pair).
pub(crate) fn find_pair(
    session: &Session,
    label: &str,
) -> Result<(ObjectHandle, PublishedKey), String> {
    let private = find_private(session, label)?;
    let public = session
        .find_objects(&[
            Attribute::Class(ObjectClass::PUBLIC_KEY),
            Attribute::Label(label.as_bytes().to_vec()),
        ])
        .map_err(|e| format!("cannot search the token: {e}"))?;
    let [public] = public.as_slice() else {
        return Err(format!(
            "the token has {} public keys labelled {label:?}; tollgate publishes the one \
             public key of the pair",
            public.len()
        ));
    };
    let attributes = session
        .get_attributes(
            *public,
            &[
                AttributeType::KeyType,
                AttributeType::EcParams,
                AttributeType::EcPoint,
                AttributeType::Modulus,
                AttributeType::PublicExponent,
            ],
        )
        .map_err(|e| format!("cannot read the public key: {e}"))?;
    let mut kind = None;
    let (mut params, mut point, mut n, mut e) = (None, None, None, None);
    for a in attributes {
        match a {
            Attribute::KeyType(k) => kind = Some(k),
            Attribute::EcParams(v) => params = Some(v),
            Attribute::EcPoint(v) => point = Some(v),
            Attribute::Modulus(v) => n = Some(v),
            Attribute::PublicExponent(v) => e = Some(v),
            _ => {}
        }
    }
    let published = match (kind, params, point, n, e) {
        (Some(k), Some(params), Some(point), _, _) if k == KeyType::EC => {
            if params != P256_PARAMS {
                return Err("the key is on a curve other than P-256 (ES256 needs P-256)".into());
            }
            let point = unwrap_octet_string(&point);
            if point.len() != 65 || point[0] != 4 {
                return Err("the public key is not an uncompressed P-256 point".into());
            }
            PublishedKey::P256(point.to_vec())
        }
        (Some(k), _, _, Some(n), Some(e)) if k == KeyType::RSA => {
            let n = strip_zeros(&n);
            if n.len() * 8 > tollgate_jose::jose::MAX_RSA_BITS || n.len() < 256 {
                return Err(format!(
                    "RSA signing keys must have 2048 to {} bits (this one: {})",
                    tollgate_jose::jose::MAX_RSA_BITS,
                    n.len() * 8
                ));
            }
            PublishedKey::Rsa {
                n: n.to_vec(),
                e: strip_zeros(&e).to_vec(),
            }
        }
        (Some(k), ..) => {
            return Err(format!(
                "the key's type ({k}) is not one tollgate signs with from a token (EC P-256, RSA)"
            ));
        }
        _ => return Err("cannot read the public key's type and value".into()),
    };
    Ok((private, published))
}

/// `CKA_EC_POINT` is a DER OCTET STRING holding the point; some modules
/// give the bare point.
fn unwrap_octet_string(v: &[u8]) -> &[u8] {
    match v {
        [0x04, len, rest @ ..] if usize::from(*len) == rest.len() && *len < 0x80 => rest,
        [0x04, 0x81, len, rest @ ..] if usize::from(*len) == rest.len() => rest,
        _ => v,
    }
}

fn strip_zeros(v: &[u8]) -> &[u8] {
    let start = v.iter().position(|b| *b != 0).unwrap_or(v.len());
    &v[start..]
}

/// A short printable id for `CKA_ID`: the first bytes of a random value.
pub(crate) fn random_id() -> Vec<u8> {
    let mut id = [0u8; 8];
    let _ = aws_lc_rs::rand::fill(&mut id);
    id.to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ec_points_come_wrapped_in_an_octet_string_or_bare() {
        let point: Vec<u8> = std::iter::once(4).chain(1..=64).collect();
        let mut wrapped = vec![0x04, 65];
        wrapped.extend(&point);
        assert_eq!(unwrap_octet_string(&wrapped), point.as_slice());
        assert_eq!(unwrap_octet_string(&point), point.as_slice());
        assert_eq!(strip_zeros(&[0, 0, 1, 0]), &[1, 0]);
    }
}
