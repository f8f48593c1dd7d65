//! The binaries and examples as processes, their stderr collected.

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::eventually;

/// Where cargo put this package's binaries and examples.
pub(crate) fn target_dir() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    // target/<profile>/deps/it-<hash>
    exe.parent().unwrap().parent().unwrap().to_owned()
}

pub(crate) fn example(name: &str) -> PathBuf {
    let path = target_dir().join("examples").join(name);
    assert!(
        path.exists(),
        "{} not built (cargo test builds examples)",
        path.display()
    );
    path
}

pub(crate) fn tollgate_bin() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_tollgate"))
}

/// A real server process with its stderr collected.
pub(crate) struct Logged {
    pub child: std::process::Child,
    pub addr: String,
    /// The management listener's `host:port`, when the file has one.
    pub management: Option<String>,
    pub log: std::sync::Arc<std::sync::Mutex<String>>,
    /// Copies stderr into `log` until the process ends.
    reader: Option<std::thread::JoinHandle<()>>,
}

impl Logged {
    /// Waits (10 s at most) until the log holds `needle`: an audit line
    /// may be written after its response was sent.
    pub(crate) async fn logged(&self, needle: &str) {
        let log = self.log.clone();
        super::eventually(std::time::Duration::from_secs(10), needle, || {
            std::future::ready(log.lock().unwrap().contains(needle).then_some(()))
        })
        .await;
    }

    /// Kills the process and returns its whole log: everything it wrote,
    /// read to the end of its stderr, not what happened to arrive so far.
    pub(crate) fn stop(&mut self) -> String {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if let Some(reader) = self.reader.take() {
            reader.join().unwrap();
        }
        self.log.lock().unwrap().clone()
    }
}

pub(crate) async fn start_logged(
    config: &std::path::Path,
    log_filter: &str,
    args: &[&str],
) -> Logged {
    start_logged_with_env(config, log_filter, args, &[]).await
}

/// [`start_logged`] with environment variables of its own (process-wide
/// settings such as a PKCS#11 module's configuration file).
pub(crate) async fn start_logged_with_env(
    config: &std::path::Path,
    log_filter: &str,
    args: &[&str],
    env: &[(&str, &str)],
) -> Logged {
    start_logged_at(config, log_filter, "127.0.0.1:0", args, env).await
}

/// [`start_logged_with_env`] on the address `listen` (a port the caller
/// chose, when the file's issuer must name it).
pub(crate) async fn start_logged_at(
    config: &std::path::Path,
    log_filter: &str,
    listen: &str,
    args: &[&str],
    env: &[(&str, &str)],
) -> Logged {
    let mut child = std::process::Command::new(tollgate_bin())
        .args([
            "serve",
            "--config",
            config.to_str().unwrap(),
            "--listen",
            listen,
        ])
        .args(args)
        .envs(env.iter().copied())
        .env("TOLLGATE_LOG", log_filter)
        .stderr(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let log = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
    let sink = log.clone();
    let reader = std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok(n) = std::io::Read::read(&mut stderr, &mut buf) {
            if n == 0 {
                break;
            }
            sink.lock()
                .unwrap()
                .push_str(&String::from_utf8_lossy(&buf[..n]));
        }
    });
    let addr = eventually(Duration::from_secs(30), "the listening line", || {
        std::future::ready({
            let text = log.lock().unwrap().clone();
            text.split("listening on http://").nth(1).map(|rest| {
                rest.split(|c: char| c.is_whitespace() || c == '"')
                    .next()
                    .unwrap()
                    .to_owned()
            })
        })
    })
    .await;
    let management = log
        .lock()
        .unwrap()
        .split("management listener (metrics, health) on http://")
        .nth(1)
        .map(|rest| {
            rest.split(|c: char| c.is_whitespace() || c == '"')
                .next()
                .unwrap()
                .to_owned()
        });
    Logged {
        child,
        addr,
        management,
        log,
        reader: Some(reader),
    }
}

impl Drop for Logged {
    /// A failed test must not leave servers running.
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A child process killed when dropped.
pub(crate) struct Proc(pub(crate) std::process::Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `program` and waits for the stderr line that contains `marker`,
/// returning the `http://...` address printed after it.
pub(crate) async fn start_process(program: &Path, args: &[&str], marker: &str) -> (Proc, String) {
    start_process_with(program, args, &[], marker).await
}

/// [`start_process`], with environment variables set for the child.
pub(crate) async fn start_process_with(
    program: &Path,
    args: &[&str],
    env: &[(&str, &Path)],
    marker: &str,
) -> (Proc, String) {
    let mut child = std::process::Command::new(program)
        .args(args)
        .envs(env.iter().copied())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .env("NO_COLOR", "1")
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufRead::lines(std::io::BufReader::new(stderr)).map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let proc = Proc(child);
    let mut seen = Vec::new();
    let url = eventually(Duration::from_secs(30), marker, || {
        let mut url = None;
        while let Ok(line) = rx.try_recv() {
            seen.push(line.clone());
            if let Some(rest) = line.split(marker).nth(1) {
                url = Some(rest.split_whitespace().next().unwrap().to_owned());
                break;
            }
        }
        std::future::ready(url)
    })
    .await;
    // Keep draining so the child never blocks on a full pipe.
    std::thread::spawn(move || for _ in rx {});
    (proc, url)
}

/// Runs `command` to its end: its exit code and everything it printed
/// (stdout, then stderr), as a user at a terminal sees it.
pub(crate) fn run_printed(command: &mut std::process::Command) -> (Option<i32>, String) {
    let out = command.output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code(), text)
}
