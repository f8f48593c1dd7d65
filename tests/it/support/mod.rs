//! Test helpers shared by every test file, one file per job. Test files
//! import them from here, never from each other.

mod browser;
mod certs;
mod clock;
mod config;
mod documents;
mod dpop;
mod handbook;
mod http;
mod key_server;
mod keys;
mod people;
mod process;
mod receiver;
mod redis;
mod server;
mod softhsm;
mod timing;
mod tokens;
mod wait;

pub(crate) use browser::*;
pub(crate) use certs::*;
pub(crate) use clock::*;
pub(crate) use config::*;
pub(crate) use documents::*;
pub(crate) use dpop::*;
pub(crate) use handbook::*;
pub(crate) use http::*;
pub(crate) use key_server::*;
pub(crate) use keys::*;
pub(crate) use people::*;
pub(crate) use process::*;
pub(crate) use receiver::*;
pub(crate) use redis::*;
pub(crate) use server::*;
pub(crate) use softhsm::*;
pub(crate) use timing::*;
pub(crate) use tokens::*;
pub(crate) use wait::*;
