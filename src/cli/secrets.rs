//! `tollgate hash-secret [--generate]`: Argon2id hashes of client secrets,
//! and strong random secrets.

use std::io::{BufRead, IsTerminal};
use std::process::ExitCode;

use tollgate_core::hash_secret;

pub fn hash(generate: bool) -> ExitCode {
    let secret = if generate {
        generate_secret()
    } else {
        match read_secret() {
            Ok(s) if !s.is_empty() => s,
            Ok(_) => {
                eprintln!("error: the secret is empty");
                return ExitCode::FAILURE;
            }
            Err(e) => {
                eprintln!("error: cannot read the secret: {e}");
                return ExitCode::FAILURE;
            }
        }
    };
    match hash_secret(&secret) {
        Ok(hash) => {
            if generate {
                println!("secret: {secret}");
                println!("hash:   {hash}");
            } else {
                println!("{hash}");
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: hashing failed: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Prompts without echo on a terminal; otherwise reads the first line of
/// stdin (so `echo -n s | tollgate hash-secret` and pipelines work).
fn read_secret() -> std::io::Result<String> {
    if std::io::stdin().is_terminal() {
        rpassword::prompt_password("client secret: ")
    } else {
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line)?;
        Ok(line.trim_end_matches(['\r', '\n']).to_owned())
    }
}

/// 32 characters from the 64 URL-unreserved ones that need no encoding
/// anywhere: 192 bits, and identical whether or not a client form-encodes
/// Basic credentials.
pub fn generate_secret() -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut bytes = [0u8; 32];
    aws_lc_rs::rand::fill(&mut bytes).expect("system random source");
    bytes
        .iter()
        .map(|b| ALPHABET[(b & 63) as usize] as char)
        .collect()
}
