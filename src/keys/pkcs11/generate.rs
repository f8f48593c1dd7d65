//! Makes a signing key pair inside a PKCS#11 token: the private key
//! sensitive and never extractable, the public key readable without login
//! (tollgate publishes it), both kept on the token.

use std::sync::Arc;

use cryptoki::mechanism::Mechanism;
use cryptoki::object::{Attribute, ObjectClass};

use super::module::{self, Pkcs11Key};
use super::objects::{P256_PARAMS, random_id};
use crate::keys::{Algorithm, KeyError, SigningKey};

/// Creates the pair `spec.label` in `spec.token` and returns the key, ready
/// to sign. Refuses a label the token already has.
pub(crate) fn generate(
    spec: &Pkcs11Key,
    algorithm: Algorithm,
) -> Result<Arc<SigningKey>, KeyError> {
    let unusable = KeyError::Unusable;
    let module = module::module(&spec.module);
    let (context, _) = module.context().map_err(unusable)?;
    let slot = module::find_token(&context, &spec.token).map_err(unusable)?;
    let pin = spec.pin.read().map_err(unusable)?;
    let session = module::open_session(&context, slot, &pin, true)
        .map_err(|e| KeyError::Unusable(e.to_string()))?;
    let made = make_pair(&session, &spec.label, algorithm);
    let _ = session.close();
    made?;
    SigningKey::in_token(spec)
}

fn make_pair(
    session: &cryptoki::session::Session,
    label: &str,
    algorithm: Algorithm,
) -> Result<(), KeyError> {
    let taken = session
        .find_objects(&[Attribute::Label(label.as_bytes().to_vec())])
        .map_err(|e| KeyError::Unusable(format!("cannot search the token: {e}")))?;
    if !taken.is_empty() {
        return Err(KeyError::Unusable(format!(
            "the token already has an object labelled {label:?}; choose another --label"
        )));
    }
    let id = random_id();
    let common = |private: bool| {
        vec![
            Attribute::Token(true),
            Attribute::Private(private),
            Attribute::Label(label.as_bytes().to_vec()),
            Attribute::Id(id.clone()),
        ]
    };
    let mut public = common(false);
    public.extend([
        Attribute::Class(ObjectClass::PUBLIC_KEY),
        Attribute::Verify(true),
        Attribute::Encrypt(false),
        Attribute::Wrap(false),
    ]);
    let mut private = common(true);
    private.extend([
        Attribute::Class(ObjectClass::PRIVATE_KEY),
        Attribute::Sign(true),
        Attribute::Sensitive(true),
        Attribute::Extractable(false),
        // A signing key only: a module's defaults may allow more.
        Attribute::Decrypt(false),
        Attribute::Unwrap(false),
        Attribute::Derive(false),
    ]);
    let mechanism = match algorithm {
        Algorithm::ES256 => {
            public.push(Attribute::EcParams(P256_PARAMS.to_vec()));
            Mechanism::EccKeyPairGen
        }
        Algorithm::RS256 => {
            public.extend([
                Attribute::ModulusBits(2048.into()),
                Attribute::PublicExponent(vec![1, 0, 1]),
            ]);
            Mechanism::RsaPkcsKeyPairGen
        }
        Algorithm::EdDSA => {
            return Err(KeyError::Unusable(
                "EdDSA keys are not made in tokens; use ES256 or RS256".into(),
            ));
        }
    };
    session
        .generate_key_pair(&mechanism, &public, &private)
        .map_err(|e| KeyError::Unusable(format!("the token did not make the key pair: {e}")))?;
    Ok(())
}
