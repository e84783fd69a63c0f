//! IP addresses: parsed on ingest (stored in canonical text form), masked for display and export, and
//! matched by a range (`ip=203.0.113.0/24`).

use std::{fmt, net::IpAddr, str::FromStr};

/// Canonical text of a valid IPv4 or IPv6 address, or `None`.
pub fn canonical(s: &str) -> Option<String> {
    s.trim().parse::<IpAddr>().ok().map(|ip| ip.to_string())
}

/// The address group a sign-in block counts by: an IPv4 address itself (also when written as IPv4-mapped
/// IPv6, `::ffff:10.0.0.1`), or an IPv6 address's /64 (one host commonly holds a whole /64, and rotating
/// within it must not reset the count). Text that is not an address stands for itself.
pub fn block_key(s: &str) -> String {
    match s.trim().parse::<IpAddr>() {
        Ok(IpAddr::V4(v4)) => v4.to_string(),
        Ok(IpAddr::V6(v6)) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let [a, b, c, d, ..] = v6.segments();
                format!("{a:x}:{b:x}:{c:x}:{d:x}::/64")
            }
        },
        Err(_) => s.trim().to_string(),
    }
}

/// IPv4 loses its last octet (`192.168.1.xxx`), IPv6 its last group (`2001:db8::xxxx`). Text that is not an
/// address (which ingest never stores) is masked whole.
pub fn mask(s: &str) -> String {
    match s.parse::<IpAddr>() {
        Ok(IpAddr::V4(v4)) => {
            let [a, b, c, _] = v4.octets();
            format!("{a}.{b}.{c}.xxx")
        }
        Ok(IpAddr::V6(v6)) => {
            let text = v6.to_string();
            match text.rfind(':') {
                Some(i) => format!("{}xxxx", &text[..=i]),
                None => "xxxx".into(),
            }
        }
        Err(_) => "xxx".into(),
    }
}

/// A range of addresses the `ip` filter keeps: a network in CIDR notation (`203.0.113.0/24`, `2001:db8::/32`)
/// or one address (`203.0.113.42`). Bits past the prefix are dropped (`203.0.113.7/24` is `203.0.113.0/24`).
/// An IPv4 range also holds the IPv4-mapped IPv6 form of its addresses (`::ffff:203.0.113.7`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct IpRange(ipnet::IpNet);

impl IpRange {
    pub fn contains(&self, ip: IpAddr) -> bool {
        self.0.contains(&ip) || self.0.contains(&ip.to_canonical())
    }

    /// Whether `text` (a stored address) is in the range; text that is not an address is not.
    pub fn contains_text(&self, text: &str) -> bool {
        text.parse().is_ok_and(|ip| self.contains(ip))
    }
}

impl FromStr for IpRange {
    type Err = &'static str;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        const WRONG: &str = "must be an IP address or a network in CIDR notation (`203.0.113.0/24`, `2001:db8::/32`)";
        let net = match s.split_once('/') {
            Some(_) => s.parse::<ipnet::IpNet>().map_err(|_| WRONG)?,
            None => ipnet::IpNet::from(s.parse::<IpAddr>().map_err(|_| WRONG)?),
        };
        Ok(IpRange(net.trunc()))
    }
}

/// One address as itself, a network as `address/prefix`.
impl fmt::Display for IpRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.prefix_len() == self.0.max_prefix_len() {
            write!(f, "{}", self.0.addr())
        } else {
            write!(f, "{}", self.0)
        }
    }
}

/// An address group blocked from signing in (`ip::block_key`: an IPv4 address or an IPv6 /64).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct IpBlock {
    pub address: String,
    /// The failed sign-ins that led to the block.
    pub failures: u32,
    /// Unix ms.
    pub until: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_range_holds_its_network_one_address_or_the_mapped_form() {
        let net: IpRange = "203.0.113.7/24".parse().unwrap();
        assert_eq!(net.to_string(), "203.0.113.0/24");
        assert!(net.contains_text("203.0.113.255"));
        assert!(net.contains_text("::ffff:203.0.113.9"));
        assert!(!net.contains_text("203.0.114.0"));
        assert!(!net.contains_text("2001:db8::1"));
        let v6: IpRange = "2001:DB8::/32".parse().unwrap();
        assert_eq!(v6.to_string(), "2001:db8::/32");
        assert!(v6.contains_text("2001:db8:85a3::8a2e:370:7334"));
        assert!(!v6.contains_text("2001:db9::1"));
        let one: IpRange = "2001:db8::1".parse().unwrap();
        assert_eq!(one.to_string(), "2001:db8::1");
        assert!(one.contains_text("2001:db8:0::1") && !one.contains_text("2001:db8::2"));
        assert_eq!("10.0.0.1/32".parse::<IpRange>().unwrap().to_string(), "10.0.0.1");
        for wrong in [
            "",
            "10.0.0",
            "10.0.0.0/33",
            "2001:db8::/129",
            "10.0.0.0/",
            "/8",
            "acme",
            "10.0.0.0/-1",
        ] {
            assert!(wrong.parse::<IpRange>().is_err(), "{wrong}");
        }
    }

    #[test]
    fn ipv4_loses_its_last_octet() {
        assert_eq!(mask("203.0.113.42"), "203.0.113.xxx");
    }

    #[test]
    fn ipv6_loses_its_last_group() {
        assert_eq!(mask("2001:db8:85a3::8a2e:370:7334"), "2001:db8:85a3::8a2e:370:xxxx");
        assert_eq!(mask("2001:db8::1"), "2001:db8::xxxx");
    }

    #[test]
    fn sign_in_blocks_count_an_ipv6_64_as_one_and_mapped_ipv4_as_ipv4() {
        assert_eq!(block_key("2001:db8:1:2:aaaa::1"), block_key("2001:db8:1:2:ffff::9"));
        assert_ne!(block_key("2001:db8:1:2::1"), block_key("2001:db8:1:3::1"));
        assert_eq!(block_key("2001:db8:1:2::1"), "2001:db8:1:2::/64");
        assert_eq!(block_key("::ffff:10.0.0.1"), "10.0.0.1");
        assert_eq!(block_key("10.0.0.1"), "10.0.0.1");
    }

    #[test]
    fn canonical_form_is_stored() {
        assert_eq!(canonical("2001:0db8:0000::0001").as_deref(), Some("2001:db8::1"));
        assert_eq!(canonical("not-an-ip"), None);
        assert_eq!(canonical("256.1.1.1"), None);
    }
}
