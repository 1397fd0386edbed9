//! Address helpers shared by every role: prefixes, durations, EUI-64
//! link-local addresses, multicast groups.

use std::fmt;
use std::net::Ipv6Addr;
use std::str::FromStr;
use std::time::Duration;

/// All-nodes multicast (ff02::1).
pub const ALL_NODES: Ipv6Addr = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 1);
/// All-routers multicast (ff02::2).
pub const ALL_ROUTERS: Ipv6Addr = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 2);

/// An IPv6 prefix `ADDR/LEN`; the address bits beyond `len` are cleared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Prefix {
    pub addr: Ipv6Addr,
    pub len: u8,
}

impl Prefix {
    /// The prefix of length `len` containing `addr` (`len` capped at 128).
    pub fn new(addr: Ipv6Addr, len: u8) -> Prefix {
        let len = len.min(128);
        Prefix {
            addr: mask(addr, len),
            len,
        }
    }

    /// The /64 of `addr`.
    pub fn slash64(addr: Ipv6Addr) -> Prefix {
        Prefix::new(addr, 64)
    }

    pub fn contains(&self, a: &Ipv6Addr) -> bool {
        mask(*a, self.len) == self.addr
    }
}

fn mask(a: Ipv6Addr, len: u8) -> Ipv6Addr {
    let bits = u128::from(a);
    let m = if len == 0 {
        0
    } else {
        u128::MAX << (128 - u32::from(len.min(128)))
    };
    Ipv6Addr::from(bits & m)
}

impl fmt::Display for Prefix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.len)
    }
}

impl FromStr for Prefix {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (a, l) = s
            .split_once('/')
            .ok_or_else(|| format!("expected a prefix like 2001:db8:1::/64, found {s:?}"))?;
        let addr: Ipv6Addr = a
            .parse()
            .map_err(|_| format!("{a:?} is not an IPv6 address"))?;
        let len: u8 = l
            .parse()
            .ok()
            .filter(|l| *l <= 128)
            .ok_or_else(|| format!("prefix length {l:?} is not a number from 0 to 128"))?;
        Ok(Prefix::new(addr, len))
    }
}

impl<'de> serde::Deserialize<'de> for Prefix {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// A duration as written on the command line: `200ms`, `1s`, `1.5s`, `2m`;
/// a bare number is seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Dur(pub Duration);

impl FromStr for Dur {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        let split = t
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(t.len());
        let (num, unit) = t.split_at(split);
        let n: f64 = num
            .parse()
            .map_err(|_| format!("expected a duration like 200ms or 1s, found {s:?}"))?;
        let secs = match unit.trim() {
            "" | "s" => n,
            "ms" => n / 1000.0,
            "us" => n / 1_000_000.0,
            "m" | "min" => n * 60.0,
            other => {
                return Err(format!(
                    "unknown duration unit {other:?} in {s:?} (use ms, s or m)"
                ))
            }
        };
        if !secs.is_finite() || !(0.0..=86_400.0 * 365.0).contains(&secs) {
            return Err(format!("duration {s:?} is out of range"));
        }
        Ok(Dur(Duration::from_secs_f64(secs)))
    }
}

impl<'de> serde::Deserialize<'de> for Dur {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(serde::Deserialize)]
        #[serde(untagged)]
        enum Raw {
            N(f64),
            S(String),
        }
        match Raw::deserialize(d)? {
            Raw::N(n) => format!("{n}s"),
            Raw::S(s) => s,
        }
        .parse()
        .map_err(serde::de::Error::custom)
    }
}

pub use wire::ipv6::{link_local, solicited_node};

/// Is `a` a solicited-node multicast group?
pub fn is_solicited_node(a: &Ipv6Addr) -> bool {
    let o = a.octets();
    o[..11] == [0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0] && o[11] == 1 && o[12] == 0xff
}

/// Link-local unicast (fe80::/10)?
pub fn is_link_local(a: &Ipv6Addr) -> bool {
    a.segments()[0] & 0xffc0 == 0xfe80
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_parse_and_contain() {
        let p: Prefix = "2001:db8:1::5/64".parse().unwrap();
        assert_eq!(p.to_string(), "2001:db8:1::/64");
        assert!(p.contains(&"2001:db8:1::2".parse().unwrap()));
        assert!(!p.contains(&"2001:db8:2::2".parse().unwrap()));
        assert!("2001:db8::/129".parse::<Prefix>().is_err());
        assert!("2001:db8::".parse::<Prefix>().is_err());
        let all: Prefix = "::/0".parse().unwrap();
        assert!(all.contains(&"2001:db8::1".parse().unwrap()));
    }

    #[test]
    fn durations_parse() {
        assert_eq!(
            "200ms".parse::<Dur>().unwrap().0,
            Duration::from_millis(200)
        );
        assert_eq!("1s".parse::<Dur>().unwrap().0, Duration::from_secs(1));
        assert_eq!("2".parse::<Dur>().unwrap().0, Duration::from_secs(2));
        assert_eq!(
            "1.5s".parse::<Dur>().unwrap().0,
            Duration::from_millis(1500)
        );
        assert!("fast".parse::<Dur>().is_err());
        assert!("1h".parse::<Dur>().is_err());
    }

    #[test]
    fn eui64_link_local() {
        let mac: wire::MacAddr = "02:00:00:00:00:03".parse().unwrap();
        assert_eq!(
            link_local(mac),
            "fe80::ff:fe00:3".parse::<Ipv6Addr>().unwrap()
        );
        assert!(is_link_local(&link_local(mac)));
        assert!(is_solicited_node(&solicited_node(&link_local(mac))));
    }
}
