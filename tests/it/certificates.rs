//! Mutual TLS client authentication (RFC 8705) and SPIFFE X.509-SVIDs:
//! certificates made here, presented in real TLS handshakes (or by a
//! declared proxy's header), judged at the token endpoint; their tokens
//! bound to the certificate.

use std::time::Duration;

use rcgen::DnType;
use serde_json::Value;

use crate::support::{
    TestCa, TestCert, TestServer, basic, crafted_intermediates, eventually, hash, https_client,
    jwt_parts, metric, scrape, server_pair, start_logged,
};

/// A folder with a TLS pair, the given extra files, and `toml` (which
/// names them) after `[server.tls]`'s cert and key.
fn folder(tls_extra: &str, files: &[(&str, &str)], toml: &str) -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = server_pair();
    std::fs::write(dir.path().join("server.pem"), &cert).unwrap();
    std::fs::write(dir.path().join("server.key"), &key).unwrap();
    for (name, text) in files {
        std::fs::write(dir.path().join(name), text).unwrap();
    }
    let text = format!(
        "[server.tls]\ncert = \"server.pem\"\nkey = \"server.key\"\n{tls_extra}\n{toml}\n{}",
        secret_client()
    );
    std::fs::write(dir.path().join("identity.toml"), text).unwrap();
    (dir, cert)
}

/// A secret client beside the certificate ones, and the API scope.
fn secret_client() -> String {
    format!(
        r#"
[[api_scopes]]
name = "api1"

[[api_resources]]
name = "https://api.example.com"
scopes = ["api1"]
[[api_resources.secrets]]
hash = "{h}"

[[clients]]
client_id = "secret-client"
allowed_scopes = ["api1"]
[[clients.secrets]]
hash = "{h}"
"#,
        h = hash("secret")
    )
}

/// POSTs a token request for `client_id` over `http`.
async fn token(http: &reqwest::Client, base: &str, client_id: &str) -> (u16, Value) {
    let r = http
        .post(format!("{base}/connect/token"))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", client_id),
        ])
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap())
}

/// The `cnf` of an access token.
fn cnf(body: &Value) -> Value {
    let (_, claims) = jwt_parts(body["access_token"].as_str().unwrap());
    claims["cnf"].clone()
}

/// The one `invalid_client` body (what a wrong secret gets).
async fn wrong_secret(base: &str, server_pem: &str) -> (u16, Value) {
    let r = https_client(server_pem)
        .post(format!("{base}/connect/token"))
        .header("Authorization", basic("secret-client", "wrong"))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap())
}

const SPIFFE_CLIENT: &str = r#"
[[trust_domains]]
name = "example.org"
bundle_file = "example.org.pem"

[[clients]]
client_id = "payments"
allowed_scopes = ["api1"]
tls_client_auth_san_uri = "spiffe://example.org/ns/payments/sa/*"
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn svids_of_the_named_trust_domain_get_tokens_bound_to_their_certificate() {
    let domain = TestCa::new("example.org");
    let other = TestCa::new("other.org");
    let (dir, server_pem) = folder("", &[("example.org.pem", &domain.pem())], SPIFFE_CLIENT);
    let server = TestServer::spawn_in(dir).await;
    let base = format!("https://{}", server.addr);

    let svid = domain.svid(&["spiffe://example.org/ns/payments/sa/api"]);
    let (status, body) = token(&svid.https(&server_pem), &base, "payments").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(
        cnf(&body),
        serde_json::json!({"x5t#S256": svid.thumbprint()})
    );

    // Introspection returns the cnf, and the token stays a bearer token.
    let r: Value = https_client(&server_pem)
        .post(format!("{base}/connect/introspect"))
        .header("Authorization", basic("https://api.example.com", "secret"))
        .form(&[("token", body["access_token"].as_str().unwrap())])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(r["active"], true, "{r}");
    assert_eq!(r["token_type"], "Bearer");
    assert_eq!(r["cnf"]["x5t#S256"], svid.thumbprint());

    // Every failure is the wrong secret's 401 invalid_client.
    let refused = wrong_secret(&base, &server_pem).await;
    assert_eq!(refused.0, 401);
    let cases = [
        (
            "another trust domain",
            other.svid(&["spiffe://other.org/ns/payments/sa/api"]),
        ),
        (
            "the right ID signed by another domain's CA",
            other.svid(&["spiffe://example.org/ns/payments/sa/api"]),
        ),
        (
            "two URI SANs",
            domain.svid(&[
                "spiffe://example.org/ns/payments/sa/api",
                "spiffe://example.org/ns/other/sa/api",
            ]),
        ),
        (
            "another workload",
            domain.svid(&["spiffe://example.org/ns/billing/sa/api"]),
        ),
        (
            "a self-signed certificate",
            TestCert::self_signed("payments"),
        ),
    ];
    for (what, cert) in cases {
        let got = token(&cert.https(&server_pem), &base, "payments").await;
        assert_eq!(got, refused, "{what}");
    }
    let got = token(&https_client(&server_pem), &base, "payments").await;
    assert_eq!(got, refused, "no certificate");
    let got = token(&svid.https(&server_pem), &base, "secret-client").await;
    assert_eq!(got, refused, "a certificate for a secret client");

    // A secret client on the same listener, with or without a certificate.
    for http in [https_client(&server_pem), svid.https(&server_pem)] {
        let r = http
            .post(format!("{base}/connect/token"))
            .header("Authorization", basic("secret-client", "secret"))
            .form(&[("grant_type", "client_credentials")])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let body: Value = r.json().await.unwrap();
        assert_eq!(
            cnf(&body),
            Value::Null,
            "a secret client's token is not bound"
        );
    }

    let discovery: Value = https_client(&server_pem)
        .get(format!("{base}/.well-known/openid-configuration"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let methods = discovery["token_endpoint_auth_methods_supported"].to_string();
    assert!(methods.contains("\"tls_client_auth\""), "{methods}");
    assert!(
        methods.contains("\"self_signed_tls_client_auth\""),
        "{methods}"
    );
    assert_eq!(
        discovery["tls_client_certificate_bound_access_tokens"],
        true
    );
}

/// Round four: a URI SAN that is not a SPIFFE ID, a leaf that may sign
/// certificates, and a `*` asked to cross `/` were all accepted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_valid_spiffe_ids_in_svid_leaves_match_and_a_star_stays_in_its_segment() {
    let domain = TestCa::new("example.org");
    let rules = format!(
        "{SPIFFE_CLIENT}\n[[clients]]\nclient_id = \"team\"\nallowed_scopes = [\"api1\"]\n\
         tls_client_auth_san_uri = \"spiffe://example.org/ns/*/sa/api\"\n"
    );
    let (dir, server_pem) = folder("", &[("example.org.pem", &domain.pem())], &rules);
    let server = TestServer::spawn_in(dir).await;
    let base = format!("https://{}", server.addr);
    let refused = wrong_secret(&base, &server_pem).await;

    let team = domain.svid(&["spiffe://example.org/ns/billing/sa/api"]);
    assert_eq!(token(&team.https(&server_pem), &base, "team").await.0, 200);
    let deeper = domain.svid(&["spiffe://example.org/ns/team/evil/sa/api"]);
    let got = token(&deeper.https(&server_pem), &base, "team").await;
    assert_eq!(got, refused, "`*` crossing a `/`");

    for uri in [
        "spiffe://example.org/ns/payments/sa/../../admin/sa/api",
        "spiffe://example.org/ns/payments/sa/api?x=1",
        "spiffe://example.org/ns/payments/sa/api#f",
        "spiffe://example.org/ns/payments/sa/a%2Fb",
    ] {
        let svid = domain.svid(&[uri]);
        let got = token(&svid.https(&server_pem), &base, "payments").await;
        assert_eq!(got, refused, "{uri}");
    }
    let signer = domain.svid_with_usage(
        &["spiffe://example.org/ns/payments/sa/api"],
        vec![rcgen::KeyUsagePurpose::KeyCertSign],
    );
    let got = token(&signer.https(&server_pem), &base, "payments").await;
    assert_eq!(got, refused, "a leaf for certificate signing only");
    let fine = domain.svid(&["spiffe://example.org/ns/payments/sa/api"]);
    assert_eq!(
        token(&fine.https(&server_pem), &base, "payments").await.0,
        200
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subject_dn_and_dns_san_rules_chain_to_the_client_ca() {
    let company = TestCa::new("Acme Clients CA");
    let stranger = TestCa::new("Another CA");
    let clients = r#"
[[clients]]
client_id = "ledger"
allowed_scopes = ["api1"]
tls_client_auth_subject_dn = "cn=Ledger.Acme.test, OU=Finance,O=Acme,C=US"

[[clients]]
client_id = "reports"
allowed_scopes = ["api1"]
tls_client_auth_san_dns = "reports.acme.test"
"#;
    let (dir, server_pem) = folder(
        "client_ca = \"clients-ca.pem\"",
        &[("clients-ca.pem", &company.pem())],
        clients,
    );
    let server = TestServer::spawn_in(dir).await;
    let base = format!("https://{}", server.addr);
    let subject = [
        (DnType::CountryName, "US"),
        (DnType::OrganizationName, "Acme"),
        (DnType::OrganizationalUnitName, "Finance"),
        (DnType::CommonName, "ledger.acme.test"),
    ];
    let ledger = company.client(&subject, &[]);
    let (status, body) = token(&ledger.https(&server_pem), &base, "ledger").await;
    assert_eq!(status, 200, "the DN matches as a DN, not as text: {body}");
    assert_eq!(cnf(&body)["x5t#S256"], ledger.thumbprint());

    let reports = company.client(
        &[(DnType::CommonName, "r")],
        &["other.test", "REPORTS.acme.test"],
    );
    let (status, _) = token(&reports.https(&server_pem), &base, "reports").await;
    assert_eq!(status, 200);

    let refused = wrong_secret(&base, &server_pem).await;
    let mut reversed = subject.clone();
    reversed.reverse();
    let cases = [
        (
            "the DN in another order",
            "ledger",
            company.client(&reversed, &[]),
        ),
        (
            "the DN less its OU",
            "ledger",
            company.client(
                &[subject[0].clone(), subject[1].clone(), subject[3].clone()],
                &[],
            ),
        ),
        (
            "the DN from another CA",
            "ledger",
            stranger.client(&subject, &[]),
        ),
        (
            "the DNS name from another CA",
            "reports",
            stranger.client(&[], &["reports.acme.test"]),
        ),
        (
            "another DNS name",
            "reports",
            company.client(&[], &["ledger.acme.test"]),
        ),
        (
            "the DNS name as the CN only",
            "reports",
            company.client(&[(DnType::CommonName, "reports.acme.test")], &[]),
        ),
    ];
    for (what, id, cert) in cases {
        let got = token(&cert.https(&server_pem), &base, id).await;
        assert_eq!(got, refused, "{what}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_self_signed_certificate_authenticates_by_the_clients_published_key() {
    let cert = TestCert::self_signed("device-7");
    let jwks = serde_json::json!({"keys": [cert.jwk()]});
    let clients = r#"
[[clients]]
client_id = "device"
allowed_scopes = ["api1"]
jwks_file = "device.jwks.json"
self_signed_tls_client_auth = true
"#;
    let (dir, server_pem) = folder("", &[("device.jwks.json", &jwks.to_string())], clients);
    let server = TestServer::spawn_in(dir).await;
    let base = format!("https://{}", server.addr);
    let (status, body) = token(&cert.https(&server_pem), &base, "device").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(cnf(&body)["x5t#S256"], cert.thumbprint());
    assert_eq!(body["token_type"], "Bearer");
    let refused = wrong_secret(&base, &server_pem).await;
    let stranger = TestCert::self_signed("device-7");
    assert_eq!(
        token(&stranger.https(&server_pem), &base, "device").await,
        refused
    );
}

/// A TLS server with a management listener, whose client `ledger`
/// authenticates by a subject DN through the company CA: (the CA, the
/// server, the server's certificate).
async fn ledger_behind_its_ca() -> (TestCa, TestServer, String) {
    let company = TestCa::new("Acme Clients CA");
    let clients = r#"
[server]
management_listen = "127.0.0.1:0"

[[clients]]
client_id = "ledger"
allowed_scopes = ["api1"]
tls_client_auth_subject_dn = "CN=ledger.acme.test"
"#;
    let (dir, server_pem) = folder(
        "client_ca = \"clients-ca.pem\"",
        &[("clients-ca.pem", &company.pem())],
        clients,
    );
    (company, TestServer::spawn_in(dir).await, server_pem)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_chain_over_the_limits_is_refused_unread_like_any_other_failure() {
    let (company, server, server_pem) = ledger_behind_its_ca().await;
    let base = format!("https://{}", server.addr);
    let subject = [(DnType::CommonName, "ledger.acme.test")];
    let refused = wrong_secret(&base, &server_pem).await;

    // Four CAs between the client CA and the leaf are looked at.
    let four = company.descendants(4);
    let cert = four[3].client(&subject, &[]).chained_to(&four);
    let (status, body) = token(&cert.https(&server_pem), &base, "ledger").await;
    assert_eq!(status, 200, "{body}");
    // Five are not, however genuine; nor the red team's 55 KB of
    // self-issued "CAs" (seconds of path building when unbounded).
    let five = company.descendants(5);
    let cases = [
        ("five CAs", five[4].client(&subject, &[]).chained_to(&five)),
        (
            "ten crafted CAs",
            company
                .client(&subject, &[])
                .chained(&crafted_intermediates()),
        ),
    ];
    let series = r#"tollgate_client_auth_failures_total{reason="chain_too_large"}"#;
    let management = server.management.unwrap();
    for (what, cert) in cases {
        let before = metric(&scrape(&server.http, management).await, series);
        let got = token(&cert.https(&server_pem), &base, "ledger").await;
        assert_eq!(got, refused, "{what}");
        let after = metric(&scrape(&server.http, management).await, series);
        assert_eq!(after, before + 1.0, "{what}");
    }
}

/// A server behind a proxy: plain HTTP (TLS ends at the proxy), a client
/// CA, and the proxies and header given.
async fn behind_proxy(proxies: &str, header: &str, ca: &TestCa) -> TestServer {
    TestServer::spawn_in(proxy_folder(proxies, header, ca)).await
}

/// The folder of [`behind_proxy`]'s server.
fn proxy_folder(proxies: &str, header: &str, ca: &TestCa) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("ca.pem"), ca.pem()).unwrap();
    let text = format!(
        "[server.tls]\nclient_ca = \"ca.pem\"\ntrusted_proxies = {proxies}\nclient_cert_header = \"{header}\"\n\
         [[clients]]\nclient_id = \"ledger\"\nallowed_scopes = [\"api1\"]\ntls_client_auth_san_dns = \"ledger.acme.test\"\n{}",
        secret_client()
    );
    std::fs::write(dir.path().join("identity.toml"), text).unwrap();
    dir
}

/// Round four: a client id longer than any can be, sent with a
/// certificate, was looked up and audited as `unknown_client`.
#[tokio::test]
async fn an_impossibly_long_client_id_with_a_certificate_is_audited_as_too_long() {
    let ca = TestCa::new("Acme Clients CA");
    let cert = ca.client(&[], &["ledger.acme.test"]);
    let dir = proxy_folder("[\"127.0.0.1/32\"]", "ssl-client-cert", &ca);
    let server = start_logged(&dir.path().join("identity.toml"), "info", &[]).await;
    let escaped =
        percent_encoding::utf8_percent_encode(&cert.pem, percent_encoding::NON_ALPHANUMERIC)
            .to_string();
    let long = "A".repeat(12_000);
    let r = reqwest::Client::new()
        .post(format!("http://{}/connect/token", server.addr))
        .header("ssl-client-cert", escaped)
        .form(&[("grant_type", "client_credentials"), ("client_id", &long)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    eventually(Duration::from_secs(5), "the audit line", || {
        std::future::ready(
            server
                .log
                .lock()
                .unwrap()
                .contains("client_id_too_long")
                .then_some(()),
        )
    })
    .await;
    assert!(!server.log.lock().unwrap().contains("unknown_client"));
}

async fn via_header(server: &TestServer, header: &str, value: &str) -> (u16, Value) {
    via_header_lines(server, header, &[value]).await
}

/// The token request with `header` sent once per value, each its own line.
async fn via_header_lines(server: &TestServer, header: &str, values: &[&str]) -> (u16, Value) {
    let mut request = server.http.post(server.url("/connect/token"));
    for value in values {
        request = request.header(header, *value);
    }
    let r = request
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", "ledger"),
        ])
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_proxy_header_carries_the_certificate_only_from_a_declared_proxy() {
    let ca = TestCa::new("Acme Clients CA");
    let cert = ca.client(&[], &["ledger.acme.test"]);
    let escaped: String =
        percent_encoding::utf8_percent_encode(&cert.pem, percent_encoding::NON_ALPHANUMERIC)
            .to_string();
    let xfcc = format!(
        "By=spiffe://cluster/ns/ingress;Hash=00;Cert=\"{escaped}\";Subject=\"CN=x\";DNS=ledger.acme.test"
    );

    // NGINX: `proxy_set_header ssl-client-cert $ssl_client_escaped_cert;`
    let nginx = behind_proxy("[\"127.0.0.1/32\"]", "ssl-client-cert", &ca).await;
    let (status, body) = via_header(&nginx, "ssl-client-cert", &escaped).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(cnf(&body)["x5t#S256"], cert.thumbprint());
    // Envoy's XFCC, the last element being the client of the nearest hop.
    let envoy = behind_proxy("[\"127.0.0.0/8\", \"::1\"]", "x-forwarded-client-cert", &ca).await;
    let (status, body) = via_header(&envoy, "x-forwarded-client-cert", &xfcc).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(cnf(&body)["x5t#S256"], cert.thumbprint());

    // From an address that is not a declared proxy, the header is nothing.
    let elsewhere = behind_proxy("[\"10.0.0.0/8\"]", "ssl-client-cert", &ca).await;
    let (status, body) = via_header(&elsewhere, "ssl-client-cert", &escaped).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("invalid_client"))
    );
    let elsewhere = behind_proxy("[\"10.0.0.0/8\"]", "x-forwarded-client-cert", &ca).await;
    let (status, body) = via_header(&elsewhere, "x-forwarded-client-cert", &xfcc).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("invalid_client"))
    );
}

/// The red team's impersonation (round four): a client of the declared
/// proxy sends the public certificate of `ledger` in an XFCC element of
/// its own, shaped to swallow the comma before the element the proxy
/// appends, or as a header line before the proxy's. Each is refused as a
/// request without a certificate.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_s_own_certificate_header_never_passes_for_the_proxy_s() {
    let ca = TestCa::new("Acme Clients CA");
    let ledger = ca.client(&[], &["ledger.acme.test"]);
    let mallory = ca.client(&[], &["mallory.acme.test"]);
    let escape = |pem: &str| {
        percent_encoding::utf8_percent_encode(pem, percent_encoding::NON_ALPHANUMERIC).to_string()
    };
    let (public, own) = (escape(&ledger.pem), escape(&mallory.pem));
    let proxy_element =
        format!("By=spiffe://cluster/ns/ingress;Hash=00;Cert=\"{own}\";DNS=mallory.acme.test");
    let refused = (401, Some("invalid_client"));

    let envoy = behind_proxy("[\"127.0.0.0/8\", \"::1\"]", "x-forwarded-client-cert", &ca).await;
    for client in [
        format!("Cert=\"{public}\";x=\""),
        format!("Cert=\"{public}\\\""),
    ] {
        let value = format!("{client},{proxy_element}");
        let (status, body) = via_header(&envoy, "x-forwarded-client-cert", &value).await;
        assert_eq!((status, body["error"].as_str()), refused, "{value}: {body}");
    }
    let client_line = format!("Cert=\"{public}\"");
    let (status, body) = via_header_lines(
        &envoy,
        "x-forwarded-client-cert",
        &[&client_line, &proxy_element],
    )
    .await;
    assert_eq!((status, body["error"].as_str()), refused, "{body}");

    let nginx = behind_proxy("[\"127.0.0.1/32\"]", "ssl-client-cert", &ca).await;
    let (status, body) = via_header_lines(&nginx, "ssl-client-cert", &[&public, &own]).await;
    assert_eq!((status, body["error"].as_str()), refused, "{body}");
    // The proxy's one line still counts.
    let (status, body) = via_header(&nginx, "ssl-client-cert", &public).await;
    assert_eq!(status, 200, "{body}");
}

/// An HTTPS client presenting `cert` that keeps its connection open.
fn kept_alive(cert: &TestCert, server_pem: &str) -> reqwest::Client {
    let identity = format!("{}{}", cert.pem, cert.key.serialize_pem());
    reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(server_pem.as_bytes()).unwrap())
        .identity(reqwest::Identity::from_pem(identity.as_bytes()).unwrap())
        .build()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_chain_is_verified_once_for_its_connection_and_the_next_until_the_ca_file_changes() {
    let (company, server, server_pem) = ledger_behind_its_ca().await;
    let base = format!("https://{}", server.addr);
    let management = server.management.unwrap();
    let verified = || async {
        let text = scrape(&server.http, management).await;
        metric(&text, "tollgate_certificate_chain_verifications_total")
    };
    let issuing = company.descendants(1);
    let cert = issuing[0]
        .client(&[(DnType::CommonName, "ledger.acme.test")], &[])
        .chained_to(&issuing);
    let start = verified().await;
    let kept = kept_alive(&cert, &server_pem);
    // Two requests on one connection, then two connections of their own.
    for http in [
        &kept,
        &kept,
        &cert.https(&server_pem),
        &cert.https(&server_pem),
    ] {
        let (status, body) = token(http, &base, "ledger").await;
        assert_eq!(status, 200, "{body}");
    }
    assert_eq!(verified().await, start + 1.0, "verified once for all four");

    // The CA file changes (a second CA joins it): verified again, once.
    let path = server.dir.path().join("clients-ca.pem");
    let both = format!(
        "{}{}",
        company.pem(),
        TestCa::new("Acme Clients CA 2027").pem()
    );
    std::fs::write(path.with_extension("tmp"), both).unwrap();
    std::fs::rename(path.with_extension("tmp"), &path).unwrap();
    eventually(
        Duration::from_secs(10),
        "the new CA file in force",
        || async {
            assert_eq!(token(&kept, &base, "ledger").await.0, 200);
            (verified().await == start + 2.0).then_some(())
        },
    )
    .await;
    assert_eq!(token(&kept, &base, "ledger").await.0, 200);
    assert_eq!(
        token(&cert.https(&server_pem), &base, "ledger").await.0,
        200
    );
    assert_eq!(verified().await, start + 2.0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_proxy_headers_chain_over_the_limits_is_refused() {
    let ca = TestCa::new("Acme Clients CA");
    let nginx = behind_proxy("[\"127.0.0.1/32\"]", "ssl-client-cert", &ca).await;
    let escape = |cert: &TestCert| {
        percent_encoding::utf8_percent_encode(&cert.pem, percent_encoding::NON_ALPHANUMERIC)
            .to_string()
    };
    let four = ca.descendants(4);
    let cert = four[3].client(&[], &["ledger.acme.test"]).chained_to(&four);
    let (status, body) = via_header(&nginx, "ssl-client-cert", &escape(&cert)).await;
    assert_eq!(status, 200, "{body}");
    let five = ca.descendants(5);
    let cases = [
        five[4].client(&[], &["ledger.acme.test"]).chained_to(&five),
        ca.client(&[], &["ledger.acme.test"])
            .chained(&crafted_intermediates()),
    ];
    for cert in cases {
        let (status, body) = via_header(&nginx, "ssl-client-cert", &escape(&cert)).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (401, Some("invalid_client"))
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replaced_bundle_is_picked_up_without_a_restart() {
    let old = TestCa::new("example.org 2026");
    let new = TestCa::new("example.org 2027");
    let (dir, server_pem) = folder("", &[("example.org.pem", &old.pem())], SPIFFE_CLIENT);
    let server = TestServer::spawn_in(dir).await;
    let base = format!("https://{}", server.addr);
    let svid = new.svid(&["spiffe://example.org/ns/payments/sa/api"]);
    let http = svid.https(&server_pem);
    assert_eq!(token(&http, &base, "payments").await.0, 401);
    // SPIRE's bundle rotation: the new CA joins the file.
    let bundle = format!("{}{}", old.pem(), new.pem());
    let path = server.dir.path().join("example.org.pem");
    std::fs::write(path.with_extension("tmp"), bundle).unwrap();
    std::fs::rename(path.with_extension("tmp"), &path).unwrap();
    eventually(
        Duration::from_secs(10),
        "the new bundle in force",
        || async { (token(&http, &base, "payments").await.0 == 200).then_some(()) },
    )
    .await;
}

/// The problems `check` reports for `toml` (with `files` beside it).
fn problems(files: &[(&str, &str)], toml: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in files {
        std::fs::write(dir.path().join(name), text).unwrap();
    }
    let path = dir.path().join("identity.toml");
    std::fs::write(&path, format!("{toml}\n{}", secret_client())).unwrap();
    let (code, text) = crate::support::run_printed(
        std::process::Command::new(crate::support::tollgate_bin()).args([
            "check",
            "--config",
            path.to_str().unwrap(),
        ]),
    );
    assert_eq!(code, Some(1), "{text}");
    text
}

#[test]
fn check_refuses_certificate_settings_that_cannot_work() {
    let ca = TestCa::new("CA");
    let leaf = ca.client(&[(DnType::CommonName, "leaf")], &[]);
    let client = |rules: &str| {
        format!("[[clients]]\nclient_id = \"c\"\nallowed_scopes = [\"api1\"]\n{rules}\n")
    };
    let text = problems(
        &[],
        &client("tls_client_auth_san_dns = \"a.test\"\ntls_client_auth_subject_dn = \"CN=a\""),
    );
    assert!(text.contains("one certificate rule"), "{text}");
    let text = problems(&[], &client("tls_client_auth_san_uri = \"*\""));
    assert!(text.contains("`*` alone"), "{text}");
    for rule in [
        "spiffe://example.org/ns/../admin",
        "spiffe://*.org/ns/a",
        "spiffe://example.org:8443/ns/a",
        "spiffe://example.org/ns/a?x=1",
    ] {
        let text = problems(
            &[],
            &client(&format!("tls_client_auth_san_uri = \"{rule}\"")),
        );
        assert!(text.contains("is not a SPIFFE ID"), "{rule}: {text}");
    }
    let text = problems(&[], "[[trust_domains]]\nname = \"example.org\"\n");
    assert!(text.contains("has no bundle_file"), "{text}");
    let text = problems(
        &[("b.pem", &leaf.pem)],
        "[[trust_domains]]\nname = \"example.org\"\nbundle_file = \"b.pem\"\n",
    );
    assert!(text.contains("holds no CA certificate"), "{text}");
    let text = problems(
        &[("ca.pem", &leaf.pem)],
        "[server.tls]\nclient_ca = \"ca.pem\"\n",
    );
    assert!(
        text.contains("client_ca") && text.contains("holds no CA certificate"),
        "{text}"
    );
}

/// Whether the handbook's tools are here; a note when they are not,
/// unless `REQUIRE_OPENSSL_FOR_TESTS` says they must be (CI installs them).
fn have(tools: &[&str]) -> bool {
    let missing: Vec<_> = tools
        .iter()
        .filter(|t| {
            std::process::Command::new(t)
                .arg("--version")
                .output()
                .is_err()
        })
        .collect();
    if missing.is_empty() {
        return true;
    }
    assert!(
        std::env::var_os("REQUIRE_OPENSSL_FOR_TESTS").is_none(),
        "REQUIRE_OPENSSL_FOR_TESTS is set but {missing:?} is missing"
    );
    eprintln!(
        "note: {missing:?} not installed; the handbook's certificate commands are not tested"
    );
    false
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_handbooks_openssl_certificates_get_bound_tokens_with_curl() {
    if !have(&["openssl", "curl"]) {
        return;
    }
    let here = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/certificates");
    let dir = tempfile::tempdir().unwrap();
    let run = |script: &str, args: &[&str]| {
        let out = std::process::Command::new(here.join(script))
            .args(args)
            .current_dir(dir.path())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{script}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    run("make-certs.sh", &[dir.path().to_str().unwrap()]);
    std::fs::copy(here.join("identity.toml"), dir.path().join("identity.toml")).unwrap();
    let path = dir.path().to_owned();
    let server = TestServer::spawn_in(dir).await;
    let issuer = format!("https://{}", server.addr);
    let script = here.join("token.sh");
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new(script)
            .arg(&issuer)
            .current_dir(&path)
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let bodies: Vec<Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    for (body, cert) in bodies.iter().zip(["ledger.pem", "svid.pem"]) {
        let pem = std::fs::read(server.dir.path().join(cert)).unwrap();
        let der = tollgate_core::CertificateChain::from_pem(&pem).unwrap();
        assert_eq!(cnf(body)["x5t#S256"], der.thumbprint(), "{cert}: {body}");
    }
    assert_eq!(bodies.len(), 2);
}

#[test]
fn check_warns_of_certificate_rules_no_certificate_can_match() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("identity.toml");
    let client = |id: &str, rule: &str| {
        format!("[[clients]]\nclient_id = \"{id}\"\nallowed_scopes = [\"api1\"]\n{rule}\n")
    };
    let text = format!(
        "{}{}{}",
        secret_client(),
        client("p", "tls_client_auth_san_uri = \"spiffe://nowhere.org/x\""),
        client("l", "tls_client_auth_san_dns = \"a.test\""),
    );
    std::fs::write(&path, text).unwrap();
    let (code, text) = crate::support::run_printed(
        std::process::Command::new(crate::support::tollgate_bin()).args([
            "check",
            "--config",
            path.to_str().unwrap(),
        ]),
    );
    assert_eq!(code, Some(0), "warnings only: {text}");
    assert!(
        text.contains("\"nowhere.org\" has no [[trust_domains]] entry"),
        "{text}"
    );
    assert!(text.contains("has no client_ca"), "{text}");
    assert!(
        !text.contains("no valid secret"),
        "a certificate client can authenticate: {text}"
    );
}
