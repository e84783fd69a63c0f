//! Where a webhook may send: `https://` to public addresses, unless the operator allows the internal network
//! (`AUDITLOG_WEBHOOK_ALLOW_PRIVATE=1`). The check runs when an endpoint is saved and again at every
//! connection, inside the HTTP client's resolver: the addresses it connects to are the ones it checked, so a
//! name that resolves elsewhere later (DNS rebinding) cannot reach the internal network either.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use app::model::FieldError;
use reqwest::{
    Url,
    dns::{Addrs, Name, Resolve, Resolving},
};

/// True for an address on the public internet: not loopback, private, link-local, shared (CGNAT),
/// unspecified, multicast, broadcast, documentation, benchmarking or reserved, nor an IPv6 form of one.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => is_public_v6(v6),
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    !(ip.is_private()
        || ip.is_loopback()
        || ip.is_link_local()
        || ip.is_unspecified()
        || ip.is_broadcast()
        || ip.is_documentation()
        || ip.is_multicast()
        || a == 0
        || (a == 100 && (64..128).contains(&b))
        || (a == 192 && b == 0 && c == 0)
        || (a == 198 && (18..20).contains(&b))
        || a >= 240)
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    if let Some(v4) = ip.to_ipv4_mapped() {
        return is_public_v4(v4);
    }
    let s = ip.segments();
    // NAT64 (64:ff9b::/96) carries an IPv4 address in its last 32 bits.
    if s[0] == 0x64 && s[1] == 0xff9b && s[2..6] == [0, 0, 0, 0] {
        return is_public_v4(Ipv4Addr::new(
            (s[6] >> 8) as u8,
            s[6] as u8,
            (s[7] >> 8) as u8,
            s[7] as u8,
        ));
    }
    !(ip.is_loopback()
        || ip.is_unspecified()
        || ip.is_multicast()
        || (s[0] & 0xfe00) == 0xfc00
        || (s[0] & 0xffc0) == 0xfe80
        || (s[0] == 0x2001 && s[1] == 0x0db8)
        || s[..6] == [0, 0, 0, 0, 0, 0])
}

/// How long a name may take to resolve.
const DNS_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

/// The destination policy.
#[derive(Clone, Copy, Debug, Default)]
pub struct Destinations {
    /// `http://` and internal addresses allowed too.
    pub allow_private: bool,
}

impl Destinations {
    /// Checks an endpoint's URL: its scheme, and the addresses its host resolves to (each must be public
    /// unless private ones are allowed). The error names `url`.
    pub async fn check(&self, url: &str) -> Result<(), FieldError> {
        let bad = |m: String| FieldError::invalid("url", m);
        let parsed = Url::parse(url).map_err(|e| bad(format!("is not a URL: {e}")))?;
        match parsed.scheme() {
            "https" => {}
            "http" if self.allow_private => {}
            "http" => {
                return Err(bad(
                    "must use https:// (http:// only with AUDITLOG_WEBHOOK_ALLOW_PRIVATE=1)".into(),
                ));
            }
            other => return Err(bad(format!("must use https://, not {other}://"))),
        }
        if !parsed.username().is_empty() || parsed.password().is_some() {
            return Err(bad("must not carry a user name or password".into()));
        }
        let host = parsed
            .host_str()
            .filter(|h| !h.is_empty())
            .ok_or_else(|| bad("has no host".into()))?;
        let port = parsed.port_or_known_default().unwrap_or(443);
        self.resolve_host(host.trim_start_matches('[').trim_end_matches(']'), port)
            .await
            .map(|_| ())
            .map_err(bad)
    }

    /// The addresses of `host`, refused when one is not public (unless allowed).
    async fn resolve_host(&self, host: &str, port: u16) -> Result<Vec<SocketAddr>, String> {
        let addrs: Vec<SocketAddr> = match host.parse::<IpAddr>() {
            Ok(ip) => vec![SocketAddr::new(ip, port)],
            Err(_) => tokio::time::timeout(DNS_TIMEOUT, tokio::net::lookup_host((host, port)))
                .await
                .map_err(|_| format!("{host} does not resolve (no answer within 5 s)"))?
                .map_err(|e| format!("{host} does not resolve: {e}"))?
                .collect(),
        };
        if addrs.is_empty() {
            return Err(format!("{host} does not resolve"));
        }
        if !self.allow_private
            && let Some(inner) = addrs.iter().find(|a| !is_public(a.ip()))
        {
            return Err(format!(
                "{host} is an internal address ({}): webhooks go to public addresses unless \
                 AUDITLOG_WEBHOOK_ALLOW_PRIVATE=1",
                inner.ip()
            ));
        }
        Ok(addrs)
    }
}

impl Resolve for Destinations {
    fn resolve(&self, name: Name) -> Resolving {
        let policy = *self;
        Box::pin(async move {
            let addrs = policy
                .resolve_host(name.as_str(), 0)
                .await
                .map_err(|e| -> Box<dyn std::error::Error + Send + Sync> { e.into() })?;
            Ok(Box::new(addrs.into_iter()) as Addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_addresses_are_not_public() {
        for inner in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "::1",
            "fd00::1",
            "fe80::1",
            "::ffff:10.0.0.1",
            "::ffff:127.0.0.1",
            "64:ff9b::a00:1",
            "::",
        ] {
            assert!(!is_public(inner.parse().unwrap()), "{inner}");
        }
        for public in ["93.184.216.34", "1.1.1.1", "2606:4700:4700::1111", "::ffff:1.1.1.1"] {
            assert!(is_public(public.parse().unwrap()), "{public}");
        }
    }

    #[tokio::test]
    async fn urls_to_the_internal_network_are_refused_unless_allowed() {
        let strict = Destinations { allow_private: false };
        for url in [
            "https://127.0.0.1/hook",
            "https://[::1]:8443/hook",
            "https://169.254.169.254/latest",
            "https://localhost/hook",
            "http://93.184.216.34/hook",
            "ftp://93.184.216.34/",
            "https://user:pw@93.184.216.34/",
        ] {
            assert_eq!(strict.check(url).await.unwrap_err().field, "url", "{url}");
        }
        assert!(strict.check("https://93.184.216.34/hook").await.is_ok());
        let open = Destinations { allow_private: true };
        assert!(open.check("http://127.0.0.1:9/hook").await.is_ok());
    }
}
