//! SoftHSM2, the real PKCS#11 module: a token store of the test's own (a
//! temporary softhsm2.conf and token folder), tokens and keys made with
//! its own tools (`softhsm2-util`, OpenSC's `pkcs11-tool`).
//!
//! The module reads `SOFTHSM2_CONF` when it is initialized, and a PKCS#11
//! module is initialized once per process: so every server using a token
//! runs as a child process with its own `SOFTHSM2_CONF`, and this test
//! process never loads the module (no process-wide setting is changed, and
//! taking a token away in one test cannot disturb another).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The user PIN of every test token.
pub(crate) const USER_PIN: &str = "4711-user";
const SO_PIN: &str = "0815-so";

/// A SoftHSM2 token store in a temporary folder.
pub(crate) struct SoftHsm {
    pub dir: tempfile::TempDir,
    pub module: PathBuf,
    conf: PathBuf,
}

impl SoftHsm {
    /// `None` (and a note) where SoftHSM2 or pkcs11-tool is not installed,
    /// unless `REQUIRE_SOFTHSM_FOR_TESTS` says it must be (CI installs
    /// them).
    pub(crate) fn new() -> Option<SoftHsm> {
        let module = [
            "/usr/lib/softhsm/libsofthsm2.so",
            "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so",
            "/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so",
            "/usr/local/lib/softhsm/libsofthsm2.so",
        ]
        .into_iter()
        .map(PathBuf::from)
        .find(|p| p.exists());
        let tools = ["softhsm2-util", "pkcs11-tool"]
            .into_iter()
            .all(|tool| Command::new(tool).arg("--help").output().is_ok());
        let Some(module) = module.filter(|_| tools) else {
            assert!(
                std::env::var_os("REQUIRE_SOFTHSM_FOR_TESTS").is_none(),
                "SoftHSM2 (libsofthsm2.so, softhsm2-util) and pkcs11-tool are required here"
            );
            eprintln!(
                "note: SoftHSM2 or pkcs11-tool is not installed (apt-get install softhsm2 \
                 opensc); the hardware key test is skipped"
            );
            return None;
        };
        let dir = tempfile::tempdir().unwrap();
        let tokens = dir.path().join("tokens");
        std::fs::create_dir(&tokens).unwrap();
        let conf = dir.path().join("softhsm2.conf");
        std::fs::write(
            &conf,
            format!(
                "directories.tokendir = {}\nobjectstore.backend = file\nlog.level = ERROR\n",
                tokens.display()
            ),
        )
        .unwrap();
        Some(SoftHsm { dir, module, conf })
    }

    /// The folder holding the tokens (moved away to take them away).
    pub(crate) fn tokens(&self) -> PathBuf {
        self.dir.path().join("tokens")
    }

    /// The environment a process needs to see these tokens.
    pub(crate) fn env(&self) -> Vec<(&'static str, String)> {
        vec![("SOFTHSM2_CONF", self.conf.display().to_string())]
    }

    /// A process with this store's environment.
    pub(crate) fn command(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut command = Command::new(program);
        command.envs(self.env());
        command
    }

    /// Initializes a token labelled `label` in the first free slot.
    pub(crate) fn init_token(&self, label: &str) {
        ok(self.command("softhsm2-util").args([
            "--init-token",
            "--free",
            "--label",
            label,
            "--pin",
            USER_PIN,
            "--so-pin",
            SO_PIN,
        ]));
    }

    /// `pkcs11-tool` on the token `token`, logged in, with `args`.
    pub(crate) fn pkcs11_tool(&self, token: &str, args: &[&str]) -> Output {
        let mut command = self.command("pkcs11-tool");
        command
            .arg("--module")
            .arg(&self.module)
            .args(["--token-label", token, "--login", "--pin", USER_PIN])
            .args(args);
        ok(&mut command)
    }

    /// A key pair made by pkcs11-tool (not by tollgate): `key_type` as
    /// pkcs11-tool names it (`EC:prime256v1`, `rsa:2048`).
    pub(crate) fn keypairgen(&self, token: &str, key_type: &str, label: &str, id: &str) {
        self.pkcs11_tool(
            token,
            &[
                "--keypairgen",
                "--key-type",
                key_type,
                "--label",
                label,
                "--id",
                id,
            ],
        );
    }

    /// The `pkcs11 = { ... }` value for the key `label` in `token`, the
    /// PIN read from `pin` (a `pin_file = ...` or `pin_env = ...` member).
    pub(crate) fn entry(&self, token: &str, label: &str, pin: &str) -> String {
        format!(
            "pkcs11 = {{ module = \"{}\", token = \"{token}\", label = \"{label}\", {pin} }}",
            self.module.display()
        )
    }
}

/// Runs `command`, failing the test with its output unless it succeeds.
pub(crate) fn ok(command: &mut Command) -> Output {
    let out = command.output().unwrap();
    assert!(
        out.status.success(),
        "{command:?} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// Writes the user PIN to `dir/name` (mode 0600), with a trailing newline
/// or not, and returns the path.
pub(crate) fn pin_file(dir: &Path, name: &str, newline: bool) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let path = dir.join(name);
    let text = if newline {
        format!("{USER_PIN}\n")
    } else {
        USER_PIN.to_owned()
    };
    std::fs::write(&path, text).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    path
}
