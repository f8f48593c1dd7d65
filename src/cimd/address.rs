//! Where a metadata document may come from: never an address inside
//! (loopback, private, link-local, and the other special-purpose ranges),
//! IPv4 and IPv6 alike, an IPv6 form that carries an IPv4 address judged
//! by that address. The resolver of the document client applies it to
//! every address a name resolves to, and the connection goes to the
//! addresses it checked, so a DNS answer cannot steer a fetch inside.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use reqwest::dns::{Addrs, Name, Resolve, Resolving};

/// Whether a document may be fetched from `ip` when no pattern names it.
pub(crate) fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => public_v4(v4),
        IpAddr::V6(v6) => match embedded_v4(v6) {
            Some(v4) => public_v4(v4),
            None => public_v6(v6),
        },
    }
}

fn public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    !(ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_broadcast()
        || ip.is_multicast()
        || ip.is_documentation()
        // 0.0.0.0/8 ("this network"), 100.64.0.0/10 (shared address
        // space, carrier NAT), 192.0.0.0/24 (IETF protocol
        // assignments), 198.18.0.0/15 (benchmarking), 240.0.0.0/4
        // (reserved).
        || a == 0
        || (a == 100 && (64..128).contains(&b))
        || (a == 192 && b == 0 && c == 0)
        || (a == 198 && (18..20).contains(&b))
        || a >= 240)
}

fn public_v6(ip: Ipv6Addr) -> bool {
    let first = ip.segments()[0];
    !(ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_multicast()
        // fc00::/7 unique local, fe80::/10 link-local, fec0::/10 the old
        // site-local, 2001:db8::/32 documentation.
        || (first & 0xfe00) == 0xfc00
        || (first & 0xffc0) == 0xfe80
        || (first & 0xffc0) == 0xfec0
        || (first == 0x2001 && ip.segments()[1] == 0x0db8))
}

/// The IPv4 address an IPv6 one stands for: IPv4-mapped (`::ffff:a.b.c.d`),
/// IPv4-compatible (`::a.b.c.d`, deprecated but routed by some stacks),
/// NAT64 (`64:ff9b::/96`) and 6to4 (`2002:AABB:CCDD::/48`).
fn embedded_v4(ip: Ipv6Addr) -> Option<Ipv4Addr> {
    let s = ip.segments();
    let tail = || Ipv4Addr::new((s[6] >> 8) as u8, s[6] as u8, (s[7] >> 8) as u8, s[7] as u8);
    if let Some(v4) = ip.to_ipv4_mapped() {
        return Some(v4);
    }
    if s[..6] == [0; 6] && !ip.is_loopback() && !ip.is_unspecified() {
        return Some(tail());
    }
    if s[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        return Some(tail());
    }
    if s[0] == 0x2002 {
        return Some(Ipv4Addr::new(
            (s[1] >> 8) as u8,
            s[1] as u8,
            (s[2] >> 8) as u8,
            s[2] as u8,
        ));
    }
    None
}

/// A name resolved to an address documents may not come from.
#[derive(Debug)]
pub(crate) struct Inside(pub(crate) IpAddr);

impl fmt::Display for Inside {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "resolves to {}, a loopback, private or special-purpose address (a pattern may name that address literally)",
            self.0
        )
    }
}

impl std::error::Error for Inside {}

/// The document client's resolver: the system's answer, refused whole if
/// any address in it is inside (an attacker's name that resolves both
/// outside and inside must not get a second try).
pub(crate) struct PublicOnly;

impl Resolve for PublicOnly {
    fn resolve(&self, name: Name) -> Resolving {
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let addrs: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            if let Some(inside) = addrs.iter().find(|a| !is_public(a.ip())) {
                return Err(Box::new(Inside(inside.ip())) as _);
            }
            Ok(Box::new(addrs.into_iter()) as Addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn public(s: &str) -> bool {
        is_public(s.parse().unwrap())
    }

    #[test]
    fn loopback_private_and_link_local_v4_addresses_are_inside() {
        for inside in [
            "127.0.0.1",
            "127.1.2.3",
            "10.0.0.1",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "169.254.169.254",
            "0.0.0.0",
            "0.1.2.3",
            "100.64.0.1",
            "198.18.0.1",
            "224.0.0.1",
            "255.255.255.255",
            "240.0.0.1",
            "192.0.0.8",
        ] {
            assert!(!public(inside), "{inside}");
        }
        for outside in [
            "93.184.216.34",
            "1.1.1.1",
            "172.32.0.1",
            "100.128.0.1",
            "8.8.8.8",
        ] {
            assert!(public(outside), "{outside}");
        }
    }

    #[test]
    fn loopback_unique_local_and_link_local_v6_addresses_are_inside() {
        for inside in [
            "::1",
            "::",
            "fc00::1",
            "fd12:3456::1",
            "fe80::1",
            "febf::1",
            "fec0::1",
            "ff02::1",
            "2001:db8::1",
        ] {
            assert!(!public(inside), "{inside}");
        }
        for outside in ["2606:4700:4700::1111", "2001:4860:4860::8888"] {
            assert!(public(outside), "{outside}");
        }
    }

    #[test]
    fn v6_forms_of_v4_addresses_are_judged_by_their_v4_address() {
        for inside in [
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "::ffff:169.254.169.254",
            "::127.0.0.1",
            "::192.168.0.1",
            "64:ff9b::10.0.0.1",
            "64:ff9b::127.0.0.1",
            "2002:7f00:1::",
            "2002:a9fe:a9fe::1",
        ] {
            assert!(!public(inside), "{inside}");
        }
        for outside in ["::ffff:1.1.1.1", "64:ff9b::808:808", "2002:808:808::1"] {
            assert!(public(outside), "{outside}");
        }
    }

    #[tokio::test]
    async fn a_name_that_resolves_inside_is_refused_by_the_resolver() {
        let name: Name = "localhost".parse().unwrap();
        let err = match PublicOnly.resolve(name).await {
            Ok(_) => panic!("localhost resolved"),
            Err(e) => e,
        };
        assert!(err.downcast_ref::<Inside>().is_some(), "{err}");
    }
}
