//! `tollgate users add | set-password | list | remove`, as processes:
//! lossless edits of the file that declares the user, validated before
//! they are written; passwords from stdin or made and printed once; and
//! what `tollgate diff` shows of people.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use serde_json::Value;

use crate::support::{hash, tollgate_bin, verifies};

/// Runs `tollgate ARGS --config CONFIG` with `stdin` as its input.
fn tollgate(args: &[&str], config: &Path, stdin: &str) -> (i32, String, String) {
    let mut child = Command::new(tollgate_bin())
        .args(args)
        .arg("--config")
        .arg(config)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The hash the file holds for `username`.
fn stored_hash(file: &Path, username: &str) -> String {
    stored_hash_in(&std::fs::read_to_string(file).unwrap(), username)
}

/// The hash of `username` in `text`.
fn stored_hash_in(text: &str, username: &str) -> String {
    let doc: toml::Table = toml::from_str(text).unwrap();
    doc["users"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["username"].as_str() == Some(username))
        .and_then(|u| u["password_hash"].as_str())
        .unwrap_or_else(|| panic!("no user {username} in {text}"))
        .to_owned()
}

fn main_file(extra: &str) -> String {
    format!(
        "# Our identity server.\nissuer = \"http://localhost:5001\"   # public URL\n{extra}\n\
         [[api_scopes]]\nname = \"api1\"\n\n[login]\ntitle = \"Acme\"\n\n\
         # People.\n[[users]]\nusername = \"dave\"\npassword_hash = \"{}\"\n",
        hash("secret")
    )
}

#[test]
fn users_add_set_password_list_and_remove_keep_every_other_byte() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("identity.toml");
    let before = main_file("");
    std::fs::write(&file, &before).unwrap();

    let add = [
        "users",
        "add",
        "carol",
        "--email",
        "carol@example.com",
        "--name",
        "Carol Jones",
        "--group",
        "eng",
        "--group",
        "ops",
    ];
    let (code, out, err) = tollgate(&add, &file, "pw-of-carol\n");
    assert_eq!(code, 0, "{err}");
    assert!(
        !out.contains("password"),
        "a given password is not printed: {out}"
    );
    let added = std::fs::read_to_string(&file).unwrap();
    assert!(added.starts_with(&before), "{added}");
    let carol = stored_hash(&file, "carol");
    assert_eq!(
        &added[before.len()..],
        format!(
            "\n[[users]]\nusername = \"carol\"\npassword_hash = \"{carol}\"\nname = \"Carol Jones\"\n\
             email = \"carol@example.com\"\ngroups = [\"eng\", \"ops\"]\n"
        )
    );
    assert!(verifies(&carol, "pw-of-carol"));

    // Refused, and nothing written: a name taken, a name the rules refuse,
    // an empty password.
    for (args, stdin, words) in [
        (&["users", "add", "carol"][..], "x\n", "exists already"),
        (
            &["users", "add", "corp|carol"][..],
            "x\n",
            "would not validate",
        ),
        (&["users", "add", "erin"][..], "\n", "the password is empty"),
        (&["users", "set-password", "nobody"][..], "x\n", "no user"),
        (&["users", "remove", "nobody"][..], "", "no user"),
    ] {
        let (code, _, err) = tollgate(args, &file, stdin);
        assert_eq!(code, 1, "{args:?}: {err}");
        assert!(err.contains(words), "{args:?}: {err}");
        assert_eq!(std::fs::read_to_string(&file).unwrap(), added, "{args:?}");
    }

    // A generated password, printed once; only her hash changes.
    let (code, out, err) = tollgate(&["users", "set-password", "carol", "--generate"], &file, "");
    assert_eq!(code, 0, "{err}");
    let password = out
        .lines()
        .find_map(|l| l.strip_prefix("password: "))
        .expect("a password: line")
        .to_owned();
    assert!(password.len() >= 32, "{password}");
    let new_hash = stored_hash(&file, "carol");
    assert!(verifies(&new_hash, &password));
    let changed = std::fs::read_to_string(&file).unwrap();
    assert_eq!(changed, added.replace(&carol, &new_hash));

    let (code, out, err) = tollgate(&["users", "list", "--format", "json"], &file, "");
    assert_eq!(code, 0, "{err}");
    assert!(!out.contains("argon2"), "no hash is listed: {out}");
    let listed: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        listed,
        serde_json::json!([
            { "username": "carol", "name": "Carol Jones", "email": "carol@example.com",
              "email_verified": false, "groups": ["eng", "ops"], "enabled": true },
            { "username": "dave", "name": null, "email": null,
              "email_verified": false, "groups": [], "enabled": true },
        ])
    );
    let (code, out, _) = tollgate(&["users", "list"], &file, "");
    assert_eq!(code, 0);
    assert_eq!(
        out,
        "USER   NAME         EMAIL              GROUPS   STATE\n\
         carol  Carol Jones  carol@example.com  eng ops  enabled\n\
         dave                                            enabled\n"
    );

    let (code, _, err) = tollgate(&["users", "remove", "carol"], &file, "");
    assert_eq!(code, 0, "{err}");
    assert_eq!(std::fs::read_to_string(&file).unwrap(), before);
}

#[test]
fn a_user_of_an_included_file_is_added_and_edited_in_that_file() {
    let dir = tempfile::tempdir().unwrap();
    let main = dir.path().join("identity.toml");
    std::fs::write(&main, main_file("include = [\"people/*.toml\"]\n")).unwrap();
    std::fs::create_dir(dir.path().join("people")).unwrap();
    let team = dir.path().join("people/eng.toml");
    std::fs::write(&team, "# engineers\n").unwrap();
    let main_before = std::fs::read_to_string(&main).unwrap();
    let into = team.to_str().unwrap();

    // The main file's dave is taken across files.
    let (code, _, err) = tollgate(&["users", "add", "dave", "--file", into], &main, "x\n");
    assert_eq!(code, 1, "{err}");
    let (code, _, err) = tollgate(
        &["users", "add", "erin", "--file", into],
        &main,
        "pw-of-erin\n",
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(std::fs::read_to_string(&main).unwrap(), main_before);
    let team_after = std::fs::read_to_string(&team).unwrap();
    assert!(team_after.starts_with("# engineers\n"), "{team_after}");
    assert!(verifies(&stored_hash(&team, "erin"), "pw-of-erin"));

    // Her password is changed where she is declared.
    let (code, _, err) = tollgate(&["users", "set-password", "erin"], &main, "new-of-erin\n");
    assert_eq!(code, 0, "{err}");
    assert_eq!(std::fs::read_to_string(&main).unwrap(), main_before);
    assert!(verifies(&stored_hash(&team, "erin"), "new-of-erin"));

    // A file the main file does not include is refused.
    let stray = dir.path().join("stray.toml");
    std::fs::write(&stray, "").unwrap();
    let (code, _, err) = tollgate(
        &["users", "add", "frank", "--file", stray.to_str().unwrap()],
        &main,
        "x\n",
    );
    assert_eq!(code, 1);
    assert!(err.contains("not a file that"), "{err}");

    let (code, _, err) = tollgate(&["users", "remove", "erin"], &main, "");
    assert_eq!(code, 0, "{err}");
    assert_eq!(std::fs::read_to_string(&team).unwrap(), "# engineers\n");
}

#[test]
fn diff_shows_users_and_the_code_grant_settings_of_clients() {
    let dir = tempfile::tempdir().unwrap();
    let web = |uri: &str| {
        format!(
            "[[clients]]\nclient_id = \"web\"\nallowed_grant_types = [\"authorization_code\"]\n\
             redirect_uris = [\"{uri}\"]\nallowed_scopes = [\"openid\"]\n\
             [[clients.secrets]]\nhash = \"{}\"\n",
            hash("secret")
        )
    };
    let old = dir.path().join("old.toml");
    let new = dir.path().join("new.toml");
    std::fs::write(&old, main_file("") + &web("https://a.example/cb")).unwrap();
    let edited = main_file("").replace(
        "username = \"dave\"\n",
        "username = \"dave\"\nenabled = false\n",
    ) + &format!(
        "[[users]]\nusername = \"erin\"\npassword_hash = \"{}\"\n",
        hash("secret")
    ) + &web("https://b.example/cb");
    std::fs::write(&new, edited).unwrap();
    let out = Command::new(tollgate_bin())
        .args(["diff"])
        .arg(&old)
        .arg(&new)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        text,
        "~ client web: redirect_uris: https://a.example/cb -> https://b.example/cb\n\
         + user erin\n\
         ~ user dave: enabled: true -> false\n",
        "{out:?}"
    );
}
