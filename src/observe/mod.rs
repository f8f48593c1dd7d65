//! What the server tells its operator: one audit event per request
//! ([`audit`]), repeated warnings limited ([`log_limit`]), the log set up
//! ([`logging`]: text or JSON, colours, filter) with the text log's fields
//! and timestamps ([`text_log`]) written in batches by one thread
//! ([`log_writer`]), and Prometheus metrics ([`metrics`]).

pub(crate) mod audit;
pub(crate) mod log_limit;
pub(crate) mod log_writer;
pub(crate) mod logging;
pub(crate) mod metrics;
pub(crate) mod text_log;
