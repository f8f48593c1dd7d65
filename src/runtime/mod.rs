//! The machinery the core's ports run on: Argon2's own threads
//! ([`slow_pool`]), the replay store on Redis ([`redis_replay`]), how long
//! a failed authentication takes ([`failure_time`]) and the allocator's
//! tuning ([`allocator`]). `state::ports` puts them behind the core's
//! `Ports`.

pub mod allocator;
pub(crate) mod failure_time;
pub(crate) mod redis_replay;
pub(crate) mod slow_pool;
