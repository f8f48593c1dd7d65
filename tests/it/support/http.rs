//! HTTP details: client authentication headers, form encoding, metrics.

use base64::Engine;

/// `Basic base64(urlencode(id):urlencode(secret))` as RFC 6749 §2.3.1 says.
pub(crate) fn basic(id: &str, secret: &str) -> String {
    basic_raw(&format!("{}:{}", form(id), form(secret)))
}

/// `Basic base64(raw)`, for clients that skip the url-encoding.
pub(crate) fn basic_raw(raw: &str) -> String {
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(raw)
    )
}

pub(crate) fn form(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// The `/metrics` text of the server at `addr` (`host:port`).
pub(crate) async fn scrape(http: &reqwest::Client, addr: impl std::fmt::Display) -> String {
    let r = http
        .get(format!("http://{addr}/metrics"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    r.text().await.unwrap()
}

/// The value of the first sample line of `text` that starts with `series`
/// (0 when there is none).
pub(crate) fn metric(text: &str, series: &str) -> f64 {
    text.lines()
        .find_map(|l| {
            l.strip_prefix(series)
                .and_then(|rest| rest.trim().parse().ok())
        })
        .unwrap_or(0.0)
}
