//! PKCS#11 modules as this process holds them: one context per module
//! file, initialized once and, after a failure, finalized and initialized
//! again; where a key lives (module, token, label) and its PIN.
//!
//! One context per module file is not a convenience: a module is
//! initialized once per process (a second `C_Initialize` is refused), so
//! every key of every configuration this process loads shares it.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, LazyLock, Mutex, MutexGuard};

use cryptoki::context::{CInitializeArgs, CInitializeFlags, Pkcs11};
use cryptoki::error::{Error, RvError};
use cryptoki::session::{Session, UserType};
use cryptoki::slot::Slot;
use cryptoki::types::AuthPin;

/// Where a key lives in hardware and how to log in to its token: what
/// `[[keys.signing]] pkcs11 = { ... }` says. Holds where the PIN is, never
/// the PIN.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Pkcs11Key {
    /// The module (a shared library), as written (absolute, or a name the
    /// dynamic loader finds).
    pub module: PathBuf,
    /// The token's label.
    pub token: String,
    /// The key's `CKA_LABEL` (private and public key alike).
    pub label: String,
    pub pin: PinSource,
}

/// Where the user PIN is read from, at every login.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum PinSource {
    /// A file holding the PIN; one trailing newline is not part of it.
    File(PathBuf),
    /// An environment variable.
    Env(String),
}

impl PinSource {
    /// The PIN, read now (a changed PIN file takes effect at the next
    /// login). Errors name the source, never the content.
    pub(crate) fn read(&self) -> Result<AuthPin, String> {
        let pin = match self {
            Self::File(path) => {
                let text = std::fs::read_to_string(path)
                    .map_err(|e| format!("cannot read the PIN file {}: {e}", path.display()))?;
                let pin = text.strip_suffix('\n').unwrap_or(&text);
                pin.strip_suffix('\r').unwrap_or(pin).to_owned()
            }
            Self::Env(var) => std::env::var(var)
                .map_err(|_| format!("the PIN variable {var} is not set (or not UTF-8)"))?,
        };
        if pin.is_empty() {
            return Err(match self {
                Self::File(path) => format!("the PIN file {} is empty", path.display()),
                Self::Env(var) => format!("the PIN variable {var} is empty"),
            });
        }
        Ok(AuthPin::from(pin))
    }
}

impl std::fmt::Display for PinSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::File(path) => write!(f, "the PIN file {}", path.display()),
            Self::Env(var) => write!(f, "the PIN variable {var}"),
        }
    }
}

/// A module file and its context, if initialized.
pub(crate) struct Module {
    path: PathBuf,
    live: Mutex<Live>,
}

struct Live {
    context: Option<Pkcs11>,
    /// Increments every time the context is dropped: sessions opened under
    /// an older generation are gone.
    generation: u64,
}

/// The module at `path`, shared by every key of this process.
pub(crate) fn module(path: &Path) -> Arc<Module> {
    static MODULES: LazyLock<Mutex<HashMap<PathBuf, Arc<Module>>>> = LazyLock::new(Mutex::default);
    lock(&MODULES)
        .entry(path.to_owned())
        .or_insert_with(|| {
            Arc::new(Module {
                path: path.to_owned(),
                live: Mutex::new(Live {
                    context: None,
                    generation: 0,
                }),
            })
        })
        .clone()
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // What the locks guard stays consistent across a panic (whole values
    // are swapped in).
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Module {
    /// The initialized context and its generation, loading and
    /// initializing the module first if needed.
    pub(crate) fn context(&self) -> Result<(Pkcs11, u64), String> {
        let mut live = lock(&self.live);
        if let Some(context) = &live.context {
            return Ok((context.clone(), live.generation));
        }
        let context = Pkcs11::new(&self.path).map_err(|e| {
            format!(
                "cannot load the PKCS#11 module {}: {e}",
                self.path.display()
            )
        })?;
        match context.initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK)) {
            Ok(()) | Err(Error::Pkcs11(RvError::CryptokiAlreadyInitialized, _)) => {}
            Err(e) => {
                return Err(format!(
                    "cannot initialize the PKCS#11 module {}: {e}; {CONFIGURED}",
                    self.path.display()
                ));
            }
        }
        live.context = Some(context.clone());
        Ok((context, live.generation))
    }

    /// Finalizes the module, if it is still at `generation`, so that the
    /// next [`Module::context`] initializes it again: after a token came
    /// back, some modules (SoftHSM2) see it only then. Every session of
    /// the old generation is closed by this.
    pub(crate) fn reset(&self, generation: u64) {
        let mut live = lock(&self.live);
        if live.generation != generation {
            return; // someone else already did
        }
        live.generation += 1;
        if let Some(context) = live.context.take()
            && let Err(e) = context.finalize()
        {
            tracing::debug!(module = %self.path.display(), error = %e, "C_Finalize failed");
        }
    }

    /// The current generation (sessions of another one are gone).
    pub(crate) fn generation(&self) -> u64 {
        lock(&self.live).generation
    }
}

/// The slot holding the token labelled `token`.
pub(crate) fn find_token(context: &Pkcs11, token: &str) -> Result<Slot, String> {
    let slots = context
        .get_slots_with_token()
        .map_err(|e| format!("cannot list the module's tokens: {e}"))?;
    let mut labels = Vec::new();
    for slot in slots {
        let Ok(info) = context.get_token_info(slot) else {
            continue;
        };
        let label = info.label().trim_end();
        if label == token {
            return Ok(slot);
        }
        labels.push(format!("{label:?}"));
    }
    Err(if labels.is_empty() {
        format!("no token labelled {token:?}: the module shows no token; {CONFIGURED}")
    } else {
        format!(
            "no token labelled {token:?} (the module shows {}); {CONFIGURED}",
            labels.join(", ")
        )
    })
}

/// What to check when a module does not show the token: most often the
/// process does not see the module's configuration (a new shell without
/// the variable the token was made with).
const CONFIGURED: &str = "a module finds its tokens through its own configuration, which this \
     process must see as the one that made the token did (SoftHSM2: the file SOFTHSM2_CONF \
     names; is it set here?)";

/// Why a session could not be opened and logged in.
#[derive(Debug)]
pub(crate) enum OpenError {
    /// `CKR_PIN_INCORRECT`: trying the same PIN again only brings the
    /// token closer to locking it.
    PinRefused,
    Other(String),
}

impl std::fmt::Display for OpenError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::PinRefused => f.write_str("the token refused the PIN (CKR_PIN_INCORRECT)"),
            Self::Other(why) => f.write_str(why),
        }
    }
}

/// A session on `slot`, logged in as the user with `pin`. Not closed on
/// drop: a reset closes every session of its generation at once, and a
/// handle dropped afterwards must not close a newer session that happens
/// to get the same number.
pub(crate) fn open_session(
    context: &Pkcs11,
    slot: Slot,
    pin: &AuthPin,
    read_write: bool,
) -> Result<Session, OpenError> {
    let session = if read_write {
        context.open_rw_session_no_drop(slot)
    } else {
        context.open_ro_session_no_drop(slot)
    }
    .map_err(|e| OpenError::Other(format!("cannot open a session: {e}")))?;
    // Login is per token and application: the pool's later sessions find
    // it done.
    match session.login(UserType::User, Some(pin)) {
        Ok(()) | Err(Error::Pkcs11(RvError::UserAlreadyLoggedIn, _)) => Ok(session),
        Err(e) => {
            let _ = session.close();
            Err(match e {
                Error::Pkcs11(RvError::PinIncorrect, _) => OpenError::PinRefused,
                e => OpenError::Other(format!("cannot log in to the token: {e}")),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pin_file_may_end_with_a_newline_or_not_and_errors_never_show_the_pin() {
        use cryptoki::types::AuthPin;
        use secrecy::ExposeSecret;
        let dir = tempfile::tempdir().unwrap();
        let read = |content: &str| {
            let path = dir.path().join("pin");
            std::fs::write(&path, content).unwrap();
            PinSource::File(path).read()
        };
        let pin = |r: Result<AuthPin, String>| r.unwrap().expose_secret().to_owned();
        assert_eq!(pin(read("1234")), "1234");
        assert_eq!(pin(read("1234\n")), "1234");
        assert_eq!(pin(read("1234\r\n")), "1234");
        assert!(read("\n").unwrap_err().contains("is empty"));
        let missing = PinSource::File(dir.path().join("absent"))
            .read()
            .unwrap_err();
        assert!(missing.contains("cannot read the PIN file"), "{missing}");
        let env = PinSource::Env("TOLLGATE_TEST_PIN_THAT_IS_NOT_SET".into());
        assert!(env.read().unwrap_err().contains("is not set"));
        // The PIN read is a secret: its Debug output never shows it.
        assert!(!format!("{:?}", read("1234").unwrap()).contains("1234"));
    }
}
