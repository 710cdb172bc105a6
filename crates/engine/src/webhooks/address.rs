//! Which network addresses a webhook may reach (SSRF protection).
//!
//! Rule: unless private targets are allowed, a delivery is refused when ANY address its host
//! resolves to, at delivery time, is not a public unicast address: loopback, private
//! (RFC 1918), link-local (including the cloud metadata address 169.254.169.254), shared
//! (CGNAT, 100.64/10), unspecified, multicast, broadcast, documentation, benchmarking or
//! otherwise reserved ranges, and the IPv6 equivalents (`::1`, `fc00::/7`, `fe80::/10`, …).
//! IPv6 forms that embed an IPv4 address (IPv4-mapped `::ffff:a.b.c.d`, IPv4-compatible,
//! NAT64 `64:ff9b::/96`, 6to4 `2002::/16`) are judged by the embedded address.
//!
//! The check cannot be bypassed by DNS rebinding: [`GuardedResolver`] is the HTTP client's
//! resolver, so the addresses it checked are the very ones the connection is made to; a URL
//! whose host is an IP literal never reaches a resolver and is checked by [`check_literal`].

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

/// Why an address may not be a webhook target: one word, shown in the delivery's error.
pub fn blocked_reason(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => blocked_v4(v4),
        IpAddr::V6(v6) => blocked_v6(v6),
    }
}

fn blocked_v4(ip: Ipv4Addr) -> Option<&'static str> {
    let [a, b, c, _] = ip.octets();
    if ip.is_unspecified() || a == 0 {
        Some("unspecified")
    } else if ip.is_loopback() {
        Some("loopback")
    } else if ip.is_private() {
        Some("private")
    } else if ip.is_link_local() {
        Some("link-local")
    } else if a == 100 && (b & 0b1100_0000) == 64 {
        Some("shared address space")
    } else if ip.is_broadcast() {
        Some("broadcast")
    } else if ip.is_multicast() {
        Some("multicast")
    } else if ip.is_documentation() {
        Some("documentation")
    } else if a == 198 && (b & 0b1111_1110) == 18 {
        Some("benchmarking")
    } else if (a == 192 && b == 0 && c == 0) || a >= 240 {
        Some("reserved")
    } else {
        None
    }
}

fn blocked_v6(ip: Ipv6Addr) -> Option<&'static str> {
    let segments = ip.segments();
    if let Some(v4) = embedded_v4(ip) {
        return blocked_v4(v4);
    }
    if ip.is_unspecified() {
        Some("unspecified")
    } else if ip.is_loopback() {
        Some("loopback")
    } else if ip.is_multicast() {
        Some("multicast")
    } else if (segments[0] & 0xfe00) == 0xfc00 {
        Some("unique-local")
    } else if (segments[0] & 0xffc0) == 0xfe80 {
        Some("link-local")
    } else if (segments[0] & 0xffc0) == 0xfec0 {
        Some("site-local")
    } else if segments[0] == 0x2001 && segments[1] == 0x0db8 {
        Some("documentation")
    } else if segments[0] == 0x0100 && segments[1..4] == [0, 0, 0] {
        Some("discard-only")
    } else {
        None
    }
}

/// The IPv4 address carried inside an IPv6 one, for the forms that route to it.
fn embedded_v4(ip: Ipv6Addr) -> Option<Ipv4Addr> {
    let s = ip.segments();
    let o = ip.octets();
    let low = Ipv4Addr::new(o[12], o[13], o[14], o[15]);
    if let Some(mapped) = ip.to_ipv4_mapped() {
        // ::ffff:a.b.c.d
        Some(mapped)
    } else if s[..6] == [0, 0, 0, 0, 0, 0] && !ip.is_loopback() && !ip.is_unspecified() {
        // ::a.b.c.d (deprecated IPv4-compatible)
        Some(low)
    } else if s[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        // 64:ff9b::a.b.c.d (NAT64 well-known prefix)
        Some(low)
    } else if s[0] == 0x2002 {
        // 2002:aabb:ccdd::/48 (6to4)
        Some(Ipv4Addr::new(o[2], o[3], o[4], o[5]))
    } else {
        None
    }
}

/// A delivery refused because of where it would go.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "blocked address {ip} ({reason}): private and internal addresses are refused unless \
     webhooks_allow_private is set"
)]
pub struct BlockedAddress {
    pub ip: IpAddr,
    pub reason: &'static str,
}

/// The first blocked address among `addrs`, as an error.
pub fn check_all(addrs: &[SocketAddr]) -> Result<(), BlockedAddress> {
    match addrs
        .iter()
        .find_map(|addr| blocked_reason(addr.ip()).map(|reason| (addr.ip(), reason)))
    {
        Some((ip, reason)) => Err(BlockedAddress { ip, reason }),
        None => Ok(()),
    }
}

/// Checks the host of a URL when it is an IP literal (those are never resolved).
pub fn check_literal(url: &reqwest::Url) -> Result<(), BlockedAddress> {
    let Some(host) = url.host_str() else {
        return Ok(());
    };
    let bare = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    match bare.parse::<IpAddr>() {
        Ok(ip) => check_all(&[SocketAddr::new(ip, 0)]),
        Err(_) => Ok(()),
    }
}

/// The HTTP client's resolver when private targets are refused: resolves with the system
/// resolver and fails when any address is blocked, so the connection can only go to checked
/// addresses.
#[derive(Debug, Clone, Copy, Default)]
pub struct GuardedResolver;

/// No address at all for a host.
#[derive(Debug, thiserror::Error)]
#[error("no address found for {0}")]
struct NoAddress(String);

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let addrs: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            if addrs.is_empty() {
                return Err(NoAddress(host).into());
            }
            check_all(&addrs)?;
            let addrs: Addrs = Box::new(addrs.into_iter());
            Ok(addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_addresses() {
        let table: &[(&str, Option<&str>)] = &[
            ("10.0.0.1", Some("private")),
            ("172.16.0.1", Some("private")),
            ("172.31.255.254", Some("private")),
            ("192.168.1.1", Some("private")),
            ("169.254.169.254", Some("link-local")),
            ("127.0.0.1", Some("loopback")),
            ("127.8.9.10", Some("loopback")),
            ("0.0.0.0", Some("unspecified")),
            ("0.1.2.3", Some("unspecified")),
            ("100.64.0.1", Some("shared address space")),
            ("100.127.255.254", Some("shared address space")),
            ("255.255.255.255", Some("broadcast")),
            ("224.0.0.1", Some("multicast")),
            ("192.0.2.1", Some("documentation")),
            ("198.51.100.7", Some("documentation")),
            ("203.0.113.9", Some("documentation")),
            ("198.18.0.1", Some("benchmarking")),
            ("192.0.0.8", Some("reserved")),
            ("240.0.0.1", Some("reserved")),
            ("::1", Some("loopback")),
            ("::", Some("unspecified")),
            ("fd00::1", Some("unique-local")),
            ("fc00::1", Some("unique-local")),
            ("fe80::1", Some("link-local")),
            ("fec0::1", Some("site-local")),
            ("ff02::1", Some("multicast")),
            ("2001:db8::1", Some("documentation")),
            ("::ffff:127.0.0.1", Some("loopback")),
            ("::ffff:10.1.2.3", Some("private")),
            ("::ffff:169.254.169.254", Some("link-local")),
            ("::127.0.0.1", Some("loopback")),
            ("64:ff9b::a9fe:a9fe", Some("link-local")),
            ("2002:c0a8:0101::1", Some("private")),
            // Public addresses.
            ("93.184.216.34", None),
            ("8.8.8.8", None),
            ("100.63.255.255", None),
            ("100.128.0.1", None),
            ("172.15.255.255", None),
            ("172.32.0.1", None),
            ("2606:4700::1", None),
            ("2a00:1450:4001::1", None),
            ("::ffff:93.184.216.34", None),
            ("64:ff9b::5db8:d822", None),
        ];
        for (text, expected) in table {
            let ip: IpAddr = text.parse().unwrap();
            assert_eq!(blocked_reason(ip), *expected, "{text}");
        }
    }

    #[test]
    fn one_blocked_address_blocks_the_host() {
        let public: SocketAddr = "93.184.216.34:443".parse().unwrap();
        let private: SocketAddr = "10.0.0.1:443".parse().unwrap();
        assert!(check_all(&[public]).is_ok());
        let err = check_all(&[public, private]).unwrap_err();
        assert_eq!(err.ip, private.ip());
        assert!(
            err.to_string()
                .starts_with("blocked address 10.0.0.1 (private)")
        );
    }

    #[test]
    fn literal_hosts_are_checked() {
        let url = |s: &str| reqwest::Url::parse(s).unwrap();
        assert!(check_literal(&url("http://127.0.0.1:9/x")).is_err());
        assert!(check_literal(&url("http://[::1]:9/x")).is_err());
        assert!(check_literal(&url("http://[::ffff:7f00:1]/")).is_err());
        // The URL parser normalises other spellings of an IPv4 address.
        assert!(check_literal(&url("http://2130706433/")).is_err());
        assert!(check_literal(&url("http://0x7f.1/")).is_err());
        assert!(check_literal(&url("https://93.184.216.34/")).is_ok());
        assert!(check_literal(&url("https://example.com/")).is_ok());
    }
}
