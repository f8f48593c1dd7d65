//! RFC 9068 access tokens: the claims of a grant, serialized for signing.
//! Time is passed in.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use serde::Serialize;

use super::grant::Grant;

#[derive(Serialize)]
#[serde(untagged)]
enum Audience<'a> {
    One(&'a str),
    Many(&'a [String]),
}

#[derive(Serialize)]
struct Claims<'a> {
    iss: &'a str,
    sub: &'a str,
    client_id: &'a str,
    aud: Audience<'a>,
    scope: &'a str,
    iat: i64,
    nbf: i64,
    exp: i64,
    jti: &'a str,
    /// When the person signed in (OpenID Connect Core §2): a person's
    /// token, never a client's.
    #[serde(skip_serializing_if = "Option::is_none")]
    auth_time: Option<i64>,
    /// RFC 9449 §6: the thumbprint of the key the token is bound to.
    #[serde(skip_serializing_if = "Option::is_none")]
    cnf: Option<Confirmation<'a>>,
    /// RFC 8693 §4.1: who acts for the subject (token exchange).
    #[serde(skip_serializing_if = "Option::is_none")]
    act: Option<&'a serde_json::Value>,
    /// RFC 9493 `iss_sub`: a subject that is a trusted issuer's, not ours.
    #[serde(skip_serializing_if = "Option::is_none")]
    sub_id: Option<SubjectId<'a>>,
    #[serde(flatten)]
    extra: &'a serde_json::Map<String, serde_json::Value>,
    /// `copy_claims`: checked not to meet registered names or `extra`.
    #[serde(flatten)]
    copied: &'a serde_json::Map<String, serde_json::Value>,
}

/// RFC 7800 `cnf`: the DPoP key (RFC 9449 §6) and/or the client
/// certificate (RFC 8705 §3.1) the token is bound to.
#[derive(Serialize)]
struct Confirmation<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    jkt: Option<&'a str>,
    #[serde(rename = "x5t#S256", skip_serializing_if = "Option::is_none")]
    x5t_s256: Option<&'a str>,
}

/// RFC 9493 §3.2.4: a subject named by its issuer and its `sub`.
#[derive(Serialize)]
struct SubjectId<'a> {
    format: &'static str,
    iss: &'a str,
    sub: &'a str,
}

/// How the token is used (RFC 6750 bearer, or bound to a key by DPoP).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenType {
    Bearer,
    DPoP,
}

impl TokenType {
    pub const ALL: [TokenType; 2] = [Self::Bearer, Self::DPoP];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Bearer => "Bearer",
            Self::DPoP => "DPoP",
        }
    }
}

/// A fresh `jti`: 128 random bits, base64url.
pub(crate) fn new_jti() -> String {
    B64.encode(JTI_BITS.with_borrow_mut(RandomPool::take))
}

/// Random bytes from aws-lc's DRBG, drawn 4 KiB at a time: a call per
/// token (the DRBG's locking, reseed checks and AES setup) measured 1.5 %
/// of a token's cost. A `jti` is public, so holding the next ones in
/// memory reveals nothing.
struct RandomPool {
    bytes: [u8; 4096],
    used: usize,
}

impl RandomPool {
    fn take(&mut self) -> [u8; 16] {
        if self.used + 16 > self.bytes.len() {
            aws_lc_rs::rand::fill(&mut self.bytes).expect("system random source");
            self.used = 0;
        }
        let mut out = [0u8; 16];
        out.copy_from_slice(&self.bytes[self.used..self.used + 16]);
        self.used += 16;
        out
    }
}

thread_local! {
    static JTI_BITS: std::cell::RefCell<RandomPool> = const {
        std::cell::RefCell::new(RandomPool { bytes: [0; 4096], used: 4096 })
    };
}

/// A token's claims, serialized, and what the response says about them.
pub(crate) struct Unsigned {
    pub claims_json: Vec<u8>,
    pub expires_in: u64,
    pub scope: String,
    pub jti: String,
}

/// What a token is bound to: a DPoP key's thumbprint (`jkt`), a client
/// certificate's (`x5t#S256`).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Binding<'a> {
    pub jkt: Option<&'a str>,
    pub x5t_s256: Option<&'a str>,
}

/// The claims of the access token for `grant`, bound as `binding` says.
/// `now` is Unix seconds.
pub(crate) fn claims(
    grant: &Grant,
    issuer: &str,
    now: i64,
    binding: Binding<'_>,
) -> Result<Unsigned, serde_json::Error> {
    let client = &grant.client;
    let lifetime = i64::try_from(client.access_token_lifetime.as_secs()).unwrap_or(i64::MAX);
    let mut exp = now.saturating_add(lifetime);
    let mut sub = client.id.as_str();
    if let Some(delegation) = &grant.delegation {
        // RFC 8693: the token is the subject's; it never outlives the
        // token it was exchanged for.
        sub = &delegation.subject;
        exp = exp.min(delegation.not_after);
    }
    if let Some(person) = &grant.person {
        sub = &person.sub;
    }
    let scope = grant.scopes.to_string();
    let jti = new_jti();
    // RFC 9068 §3 requires `aud`; with no API resource granted, the
    // issuer's resources URI stands for "any API of this issuer".
    let default_aud;
    let aud = match grant.audiences.as_slice() {
        [] => {
            default_aud = format!("{issuer}/resources");
            Audience::One(&default_aud)
        }
        [one] => Audience::One(one),
        many => Audience::Many(many),
    };
    let claims = Claims {
        iss: issuer,
        sub,
        client_id: client.id.as_str(),
        aud,
        scope: &scope,
        iat: now,
        nbf: now,
        exp,
        jti: &jti,
        auth_time: grant.person.as_ref().map(|p| p.auth_time),
        cnf: (binding.jkt.is_some() || binding.x5t_s256.is_some()).then_some(Confirmation {
            jkt: binding.jkt,
            x5t_s256: binding.x5t_s256,
        }),
        act: grant.delegation.as_ref().map(|d| &d.act),
        sub_id: grant.delegation.as_ref().and_then(|d| {
            Some(SubjectId {
                format: "iss_sub",
                iss: d.subject_issuer.as_deref()?,
                sub: &d.subject,
            })
        }),
        extra: &client.claims,
        copied: &grant.copied,
    };
    let claims_json = serde_json::to_vec(&claims)?;
    Ok(Unsigned {
        claims_json,
        expires_in: u64::try_from(exp.saturating_sub(now)).unwrap_or(0),
        scope,
        jti,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jtis_are_distinct_128_bit_values_across_pool_refills() {
        // 1,000 draws span four refills of the 256-value pool.
        let jtis: std::collections::HashSet<String> = (0..1000).map(|_| new_jti()).collect();
        assert_eq!(jtis.len(), 1000);
        for jti in &jtis {
            assert_eq!(B64.decode(jti).unwrap().len(), 16, "{jti}");
        }
        // Another thread has its own pool, never a copy of this one.
        let other: Vec<String> = std::thread::spawn(|| (0..300).map(|_| new_jti()).collect())
            .join()
            .unwrap();
        assert!(other.iter().all(|j| !jtis.contains(j)));
    }
}
