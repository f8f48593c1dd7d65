//! The fast path and the full path of validation must agree: whatever
//! the fast path answers, the full path answers the same. [`agree`] says
//! whether they do for one file; the tests below ask it of generated
//! files — small and split (over a thousand clients), with and without
//! included files, valid and broken in the ways the meaning rules catch
//! — and the `config` fuzz target asks it of whatever the fuzzer makes.

use std::path::Path;

use time::OffsetDateTime;

use super::super::sources::Overrides;
use super::{Report, fast, full};

/// Both answers for `text` (the main file at `main`, in folder `base`),
/// when the fast path gives one and they differ.
pub(crate) fn agree(
    text: &str,
    main: &Path,
    base: &Path,
    now: OffsetDateTime,
) -> Result<(), (String, String)> {
    let Some(fast) = fast::report(text, main, base, Overrides::None, now, &[], None) else {
        return Ok(());
    };
    let (fast, full) = (
        summary(&fast),
        summary(&full::report(text, main, base, Overrides::None, now, &[])),
    );
    if fast == full {
        Ok(())
    } else {
        Err((fast, full))
    }
}

/// What a report says, in a form two reports can be compared by.
fn summary(report: &Report) -> String {
    let Some(config) = &report.config else {
        return format!("errors {:#?}", report.errors);
    };
    let mut clients: Vec<String> = config
        .registry
        .clients()
        .map(|c| format!("{c:?}"))
        .collect();
    clients.sort();
    let mut users: Vec<String> = config.registry.users().map(|u| format!("{u:?}")).collect();
    users.sort();
    format!(
        "issuer {:?}\nscopes {:?}\nresources {:?}\nclients {clients:#?}\nlogin {:?}\nusers {users:#?}\nidentity scopes {:?}\nincluded {:?}\nwarnings {:#?}",
        config.issuer,
        config.registry.scopes(),
        config.registry.resources(),
        config.registry.login(),
        config.registry.identity_scopes(),
        config.included,
        report.warnings,
    )
}

#[cfg(test)]
mod tests {
    use std::fmt::Write as _;

    use time::macros::datetime;

    use super::*;

    const HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$XPH7V5bK2jFOL0p56Nl75A$BczGG9UfWRUYHisrEzwYTrXUbmsUDOpL6QymQkHml5c";

    /// A small deterministic generator (xorshift64*), so a failure names the
    /// seed that reproduces it.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
        }

        fn below(&mut self, n: u64) -> u64 {
            self.next() % n
        }

        /// True once in `n` times.
        fn one_in(&mut self, n: u64) -> bool {
            self.below(n) == 0
        }
    }

    /// Clients with ids from `ids`, each asking for some of `scopes` (and,
    /// now and then, for one nobody declared).
    fn clients(rng: &mut Rng, out: &mut String, ids: std::ops::Range<usize>, scopes: &[String]) {
        for i in ids {
            // Now and then an id used twice.
            let id = if i > 0 && rng.one_in(97) { i - 1 } else { i };
            let mut asked: Vec<String> = scopes.iter().filter(|_| rng.one_in(2)).cloned().collect();
            if rng.one_in(89) {
                asked.push("undeclared".into());
            }
            let list: Vec<String> = asked.iter().map(|s| format!("{s:?}")).collect();
            let _ = writeln!(
                out,
                "[[clients]]\nclient_id = \"c{id}\"\nallowed_scopes = [{}]",
                list.join(", ")
            );
            if rng.one_in(7) {
                out.push_str("access_token_lifetime = \"15m\"\n");
            }
            if rng.one_in(11) {
                out.push_str("enabled = false\n");
            }
            if rng.one_in(13) {
                out.push_str("[clients.claims]\ntenant = \"acme\"\n");
            }
            let _ = writeln!(out, "[[clients.secrets]]\nhash = \"{HASH}\"\n");
        }
    }

    /// Now and then a few users: sometimes a name another file also
    /// uses (`u0`), a plaintext password, or a shadowed claim.
    fn users(rng: &mut Rng, out: &mut String, first: usize) {
        if !rng.one_in(3) {
            return;
        }
        for i in 0..1 + rng.below(3) as usize {
            let name = if rng.one_in(5) { 0 } else { first + i };
            let hash = if rng.one_in(17) { "alice" } else { HASH };
            let _ = writeln!(
                out,
                "[[users]]\nusername = \"u{name}\"\npassword_hash = \"{hash}\"\ngroups = [\"g{i}\"]"
            );
            if rng.one_in(7) {
                out.push_str("enabled = false\n");
            }
            if rng.one_in(19) {
                out.push_str("claims = { email = \"x@example.com\" }\n");
            }
            out.push('\n');
        }
    }

    /// A main file and its included files, from `seed`.
    fn generate(seed: u64) -> (String, Vec<(String, String)>) {
        let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
        let scopes: Vec<String> = (0..1 + rng.below(4)).map(|i| format!("s{i}")).collect();
        let mut main = String::from("issuer = \"https://id.example\"\n");
        let includes = rng.one_in(3);
        if includes {
            main.push_str("include = [\"teams/*.toml\"]\n");
        }
        for s in &scopes {
            let _ = writeln!(main, "[[api_scopes]]\nname = \"{s}\"");
        }
        if rng.one_in(4) {
            let _ = writeln!(
                main,
                "[[api_resources]]\nname = \"https://api.example\"\nscopes = [\"{}\"]",
                scopes[0]
            );
        }
        // Some files big enough to be split into parts.
        let count = if rng.one_in(25) {
            1_001 + rng.below(60) as usize
        } else {
            rng.below(12) as usize
        };
        clients(&mut rng, &mut main, 0..count, &scopes);
        if rng.one_in(3) {
            main.push_str("[login]\ntitle = \"Sign in\"\n");
        }
        users(&mut rng, &mut main, 0);
        let mut teams = Vec::new();
        if includes {
            for t in 0..1 + rng.below(2) {
                let mut team = String::new();
                let own = format!("t{t}");
                let _ = writeln!(team, "[[api_scopes]]\nname = \"{own}\"");
                // A team's resource, now and then naming a scope of the
                // main file (which the rules refuse).
                if rng.one_in(2) {
                    let foreign = if rng.one_in(4) {
                        format!(", \"{}\"", scopes[0])
                    } else {
                        String::new()
                    };
                    let _ = writeln!(
                        team,
                        "[[api_resources]]\nname = \"https://team{t}.example\"\nscopes = [\"{own}\"{foreign}]"
                    );
                }
                let mut visible = scopes.clone();
                visible.push(own);
                let first = 10_000 * (t as usize + 1);
                let last = first + rng.below(5) as usize;
                clients(&mut rng, &mut team, first..last, &visible);
                users(&mut rng, &mut team, first);
                teams.push((format!("team{t}.toml"), team));
            }
        }
        (main, teams)
    }

    #[test]
    fn the_fast_and_the_full_validation_agree_on_generated_files() {
        let now = datetime!(2026-12-01 00:00 UTC);
        let mut fast_answered = 0;
        let mut failed = 0;
        let cases = 300;
        for seed in 0..cases {
            let dir = tempfile::tempdir().unwrap();
            let (main, teams) = generate(seed);
            let path = dir.path().join("identity.toml");
            std::fs::write(&path, &main).unwrap();
            if !teams.is_empty() {
                std::fs::create_dir(dir.path().join("teams")).unwrap();
            }
            for (name, text) in &teams {
                std::fs::write(dir.path().join("teams").join(name), text).unwrap();
            }
            let base: &Path = dir.path();
            let full = full::report(&main, &path, base, Overrides::None, now, &[]);
            failed += usize::from(full.config.is_none());
            if fast::report(&main, &path, base, Overrides::None, now, &[], None).is_some() {
                fast_answered += 1;
            }
            if let Err((fast, full)) = agree(&main, &path, base, now) {
                assert_eq!(fast, full, "seed {seed}:\n{main}");
            }
        }
        // The generator must reach both paths and both outcomes, or the test
        // proves little.
        assert!(
            fast_answered > cases / 2,
            "the fast path answered {fast_answered}"
        );
        assert!(
            failed > 10 && failed < (cases as usize) / 2,
            "{failed} of {cases} refused"
        );
    }
}
