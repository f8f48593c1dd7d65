//! The clients of the configuration in force, kept for the next reload.
//! With 100,000 clients a reload spent most of its time parsing and
//! building every `[[clients]]` element again, to change one. An element
//! whose text is the same as in the configuration in force, in a file
//! whose everything else is the same too (the scopes, resources and
//! trusted issuers a client is checked against, every included file, the
//! folder paths resolve against; not the main file's `[[users]]`, which
//! no client rule reads), validates to the same client: its
//! `Arc<Client>` is taken over as it is. Elements are known by the
//! SHA-256 of their text, so the kept text costs 32 bytes a client.
//!
//! Never kept: a client whose keys come from a `jwks_file` (the file is
//! read when the client is built, and may have changed), and anything of
//! a file that took the full validation path (environment overrides, a
//! shape problem), which validates everything.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use tollgate_core::Client;

/// What a reload may take over from the configuration in force.
pub struct Reuse {
    /// Of everything in the files but the main file's client elements.
    context: [u8; 32],
    clients: HashMap<[u8; 32], Arc<Client>>,
}

impl std::fmt::Debug for Reuse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Reuse({} clients)", self.clients.len())
    }
}

/// The fingerprint of what every client of the main file is validated
/// against: the main file without its client elements, the folder, and
/// each included file (path and text).
pub(super) fn context(rest: &str, base: &Path, included: &[(PathBuf, String)]) -> [u8; 32] {
    let base = base.as_os_str().as_encoded_bytes();
    let parts = [rest.as_bytes(), base].into_iter().chain(
        included
            .iter()
            .flat_map(|(p, text)| [p.as_os_str().as_encoded_bytes(), text.as_bytes()]),
    );
    tollgate_jose::digest::sha256_parts(parts)
}

/// The key of one element's text.
pub(super) fn element(text: &str) -> [u8; 32] {
    tollgate_jose::digest::sha256(text.as_bytes())
}

impl Reuse {
    pub(super) fn new(context: [u8; 32], clients: HashMap<[u8; 32], Arc<Client>>) -> Self {
        Self { context, clients }
    }

    /// The client built from an element with this key in the same
    /// context, if there is one.
    pub(super) fn get(&self, context: &[u8; 32], element: &[u8; 32]) -> Option<&Arc<Client>> {
        (self.context == *context)
            .then(|| self.clients.get(element))
            .flatten()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_kept_client_is_found_only_in_the_same_context() {
        let base = Path::new("/etc/tollgate");
        let here = context("[[api_scopes]]\nname = \"api1\"\n", base, &[]);
        let key = element("[[clients]]\nclient_id = \"a\"\n");
        let client = Arc::new(Client::default());
        let reuse = Reuse::new(here, HashMap::from([(key, client.clone())]));
        assert!(Arc::ptr_eq(reuse.get(&here, &key).unwrap(), &client));
        assert!(
            reuse
                .get(&here, &element("[[clients]]\nclient_id = \"b\"\n"))
                .is_none()
        );
        // Another scope list, another folder, an included file: nothing.
        let others = [
            context("[[api_scopes]]\nname = \"api2\"\n", base, &[]),
            context("[[api_scopes]]\nname = \"api1\"\n", Path::new("/srv"), &[]),
            context(
                "[[api_scopes]]\nname = \"api1\"\n",
                base,
                &[(base.join("team.toml"), String::new())],
            ),
        ];
        for other in others {
            assert_ne!(other, here);
            assert!(reuse.get(&other, &key).is_none());
        }
    }

    /// More clients than one batch, so that the file takes the split path:
    /// `c7` asks for `api2` from the start, the others for `api1`.
    fn file(scopes: &str, changed: Option<&str>, hash: &str) -> String {
        let mut t = scopes.to_owned();
        for i in 0..super::super::super::split::BATCH + 10 {
            let scope = if i == 7 { "api2" } else { "api1" };
            let element = match changed {
                Some(c) if i == 5 => c.to_owned(),
                _ => format!("[[clients]]\nclient_id = \"c{i}\"\nallowed_scopes = [\"{scope}\"]\n"),
            };
            t += &element;
            t += &format!("[[clients.secrets]]\nhash = \"{hash}\"\n");
        }
        t
    }

    fn check(text: &str, previous: Option<&Reuse>) -> crate::config::Report {
        let now = time::macros::datetime!(2026-12-01 12:00 UTC);
        let path = Path::new("identity.toml");
        crate::config::check_reusing(text, path, crate::config::Overrides::None, now, previous)
    }

    fn client<'a>(report: &'a crate::config::Report, id: &str) -> &'a Arc<Client> {
        report.config.as_ref().unwrap().registry.client(id).unwrap()
    }

    #[test]
    fn a_reload_takes_over_unchanged_clients_and_validates_the_rest() {
        let hash = tollgate_core::hash_secret("secret").unwrap();
        let scopes = "[[api_scopes]]\nname = \"api1\"\n[[api_scopes]]\nname = \"api2\"\n";
        let mut first = check(&file(scopes, None, &hash), None);
        let previous = first.reusable().expect("a split file leaves its clients");

        // c5 now asks for api2: rebuilt; c0 and c7 are the same clients.
        let c5 = "[[clients]]\nclient_id = \"c5\"\nallowed_scopes = [\"api2\"]\n";
        let mut second = check(&file(scopes, Some(c5), &hash), Some(&previous));
        assert!(second.errors.is_empty(), "{:?}", second.errors);
        assert!(Arc::ptr_eq(client(&first, "c0"), client(&second, "c0")));
        assert!(Arc::ptr_eq(client(&first, "c7"), client(&second, "c7")));
        assert!(!Arc::ptr_eq(client(&first, "c5"), client(&second, "c5")));
        let api2 = "api2".parse::<tollgate_core::ScopeToken>().unwrap();
        assert!(client(&second, "c5").allowed_scopes.contains(&api2));
        let previous = second.reusable().unwrap();

        // A changed element is validated as a new one, with its line.
        let bad = "[[clients]]\nclient_id = \"c5\"\nallowed_scopes = [\"api3\"]\n";
        let refused = check(&file(scopes, Some(bad), &hash), Some(&previous));
        assert!(refused.config.is_none());
        assert!(
            refused
                .errors
                .iter()
                .any(|p| p.key_path.starts_with("clients[5]")),
            "{:?}",
            refused.errors
        );
        // Two elements of one id: the stand-ins keep the ids.
        let twin = "[[clients]]\nclient_id = \"c6\"\nallowed_scopes = [\"api1\"]\n";
        let refused = check(&file(scopes, Some(twin), &hash), Some(&previous));
        assert!(refused.config.is_none(), "a duplicate id slipped through");

        // Without api2 declared, unchanged c7 is no longer valid: another
        // context, so nothing is taken over.
        let fewer = "[[api_scopes]]\nname = \"api1\"\n";
        let refused = check(&file(fewer, Some(c5), &hash), Some(&previous));
        assert!(
            refused
                .errors
                .iter()
                .any(|p| p.key_path.starts_with("clients[7]")),
            "{:?}",
            refused.errors
        );
    }

    #[test]
    fn a_reload_applies_a_disabled_user_and_a_clients_new_redirect_uri() {
        let hash = tollgate_core::hash_secret("secret").unwrap();
        let people = |enabled: bool| {
            format!(
                "[[api_scopes]]\nname = \"api1\"\n[[api_scopes]]\nname = \"api2\"\n[login]\n\
                 [[users]]\nusername = \"carol\"\npassword_hash = \"{hash}\"\nenabled = {enabled}\n"
            )
        };
        let web = |uri: &str| {
            format!(
                "[[clients]]\nclient_id = \"c5\"\nallowed_grant_types = [\"authorization_code\"]\n\
                 redirect_uris = [\"{uri}\"]\nallowed_scopes = [\"openid\"]\n"
            )
        };
        let mut first = check(
            &file(&people(true), Some(&web("https://a.example/cb")), &hash),
            None,
        );
        assert!(first.errors.is_empty(), "{:?}", first.errors);
        let registry = &first.config.as_ref().unwrap().registry;
        assert!(registry.user("carol").unwrap().enabled);
        let previous = first.reusable().unwrap();

        // The client's element changed: rebuilt with its new URI, the
        // others taken over.
        let mut second = check(
            &file(&people(true), Some(&web("https://b.example/cb")), &hash),
            Some(&previous),
        );
        assert!(second.errors.is_empty(), "{:?}", second.errors);
        assert!(Arc::ptr_eq(client(&first, "c0"), client(&second, "c0")));
        assert_eq!(
            client(&second, "c5").redirect_uris,
            ["https://b.example/cb"]
        );
        let previous = second.reusable().unwrap();

        // She is disabled: the new registry says so, and the clients,
        // which no rule of hers touches, are taken over.
        let third = check(
            &file(&people(false), Some(&web("https://b.example/cb")), &hash),
            Some(&previous),
        );
        assert!(third.errors.is_empty(), "{:?}", third.errors);
        let registry = &third.config.as_ref().unwrap().registry;
        assert!(!registry.user("carol").unwrap().enabled);
        assert!(Arc::ptr_eq(client(&second, "c0"), client(&third, "c0")));
        assert!(Arc::ptr_eq(client(&second, "c5"), client(&third, "c5")));
    }
}
