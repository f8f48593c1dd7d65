//! Outgoing HTTPS (remote JWKS, discovery): the platform's certificate
//! store where it has one, Mozilla's roots where it has none. The
//! container image is built `FROM scratch` and may carry no store; the
//! platform verifier then refuses to build, which must not stop the
//! server.

use reqwest::{Certificate, Client, ClientBuilder};

/// `configure` applied to a builder, built with the platform's store, or
/// with the bundled roots when that store cannot be loaded.
pub(crate) fn build(configure: impl Fn(ClientBuilder) -> ClientBuilder) -> reqwest::Result<Client> {
    configure(Client::builder()).build().or_else(|e| {
        tracing::debug!(error = %e, "no usable system certificate store; using the bundled Mozilla roots");
        bundled_roots(configure(Client::builder())).build()
    })
}

fn bundled_roots(builder: ClientBuilder) -> ClientBuilder {
    let roots = webpki_root_certs::TLS_SERVER_ROOT_CERTS
        .iter()
        .filter_map(|c| Certificate::from_der(c.as_ref()).ok());
    builder.tls_certs_only(roots)
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_client_builds_with_the_system_store_and_with_the_bundled_roots() {
        assert!(super::build(|b| b.timeout(std::time::Duration::from_secs(1))).is_ok());
        assert!(webpki_root_certs::TLS_SERVER_ROOT_CERTS.len() > 100);
        assert!(
            super::bundled_roots(reqwest::Client::builder())
                .build()
                .is_ok()
        );
    }
}
