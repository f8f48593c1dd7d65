//! A proxy's certificate header (Envoy's XFCC, NGINX's escaped PEM) must
//! never panic, and whatever it yields must be PEM certificates alone: a
//! value read in part is how a client's own certificate passes for the
//! proxy's.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tollgate_resource::forwarded::{escaped_pem, xfcc_pem};

fuzz_target!(|data: &[u8]| {
    let Ok(value) = std::str::from_utf8(data) else {
        return;
    };
    for pem in [xfcc_pem(value), escaped_pem(value)].into_iter().flatten() {
        assert!(pem.trim_start().starts_with("-----BEGIN CERTIFICATE-----"));
        assert!(pem.trim_end().ends_with("-----END CERTIFICATE-----"));
    }
    // A client's element before the proxy's never yields the client's
    // certificate: whatever the client wrote, the last element is read or
    // nothing is.
    let proxy = "By=spiffe://proxy;Cert=%2D%2D%2D%2D%2DBEGIN%20CERTIFICATE%2D%2D%2D%2D%2D%0AAAAA%0A%2D%2D%2D%2D%2DEND%20CERTIFICATE%2D%2D%2D%2D%2D";
    if let Ok(pem) = xfcc_pem(&format!("{value},{proxy}")) {
        assert!(pem.contains("\nAAAA\n"), "{pem}");
    }
});
