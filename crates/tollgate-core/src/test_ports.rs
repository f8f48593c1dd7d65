//! The core's unit tests' ports: slow work runs inline (and is counted),
//! nothing signs, no keys are fetched, every id is a first use. One fake,
//! so the modules' tests do not each write their own.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use time::OffsetDateTime;

use super::ports::{PortError, Ports, TokenKind};

#[derive(Default)]
pub(crate) struct Inline {
    /// How many times slow work ran.
    pub(crate) slow: AtomicUsize,
}

impl Ports for Inline {
    async fn slow<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, PortError> {
        self.slow.fetch_add(1, Ordering::SeqCst);
        Ok(work())
    }

    async fn sign(&self, _: Vec<u8>, _: TokenKind, _: OffsetDateTime) -> Result<String, PortError> {
        Err(PortError::Failed)
    }

    async fn keys(
        &self,
        _: &tollgate_jose::jose::JwksLocation,
        _: bool,
    ) -> Result<Arc<tollgate_jose::jose::PublicKeys>, PortError> {
        Err(PortError::Failed)
    }

    async fn first_use(
        &self,
        _: [u8; 32],
        _: &str,
        _: OffsetDateTime,
        _: OffsetDateTime,
    ) -> Result<bool, tollgate_jose::replay::ReplayError> {
        Ok(true)
    }

    async fn advance(
        &self,
        _: [u8; 32],
        _: &str,
        _: u64,
        _: OffsetDateTime,
        _: OffsetDateTime,
    ) -> Result<bool, tollgate_jose::replay::ReplayError> {
        Ok(true)
    }

    async fn used(
        &self,
        _: [u8; 32],
        _: OffsetDateTime,
    ) -> Result<bool, tollgate_jose::replay::ReplayError> {
        Ok(false)
    }
}
