//! What the server tells its operator: one audit event per request
//! ([`audit`]), repeated warnings limited ([`log_limit`]), the text log's
//! fields and timestamps ([`log_format`]) written in batches by one thread
//! ([`log_writer`]), and Prometheus metrics ([`metrics`]).

pub(crate) mod audit;
pub(crate) mod log_format;
pub(crate) mod log_limit;
pub(crate) mod log_writer;
pub(crate) mod metrics;
