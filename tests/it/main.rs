//! Integration tests: the real server on 127.0.0.1:0, real HTTP.

mod architecture;
mod assertions;
mod bound;
mod cli;
mod clients_cli;
mod config_file;
mod connections;
mod discovery;
mod hardening;
mod hostile;
mod includes;
mod keys;
mod keys_config;
mod logs;
mod metrics;
mod openapi;
mod reload;
mod replicas;
mod samples;
mod shutdown;
mod support;
mod throttling;
mod tls;
mod token_endpoint;
mod tokens;
mod validator;
