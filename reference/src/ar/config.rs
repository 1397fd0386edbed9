//! The AR's configuration: command-line flags, optionally a YAML file with
//! the same names (flags win), checked into an [`ArConfig`].

use std::net::Ipv6Addr;
use std::str::FromStr;
use std::time::Duration;

use wire::nd::MapOptionRepr;

use crate::addr::{Dur, Prefix};
use crate::config::{self as common, list, CommonArgs, CommonConfig, SaNeeds};
pub use crate::config::{ConfigError, Protect, Protection};
use crate::faults::AR_FAULTS;

/// Default Pref of an advertised MAP.
pub const DEFAULT_PREF: u8 = 10;
/// Default Valid Lifetime of an advertised MAP, seconds.
pub const DEFAULT_LIFETIME: u32 = 3600;

/// A MAP the AR advertises: `ADDR[,dist=N][,pref=N][,lifetime=SECS][,r=0|1]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MapSpec {
    pub address: Ipv6Addr,
    /// As given; the Dist advertised is [`ArConfig::map_option`]'s.
    pub dist: Option<u8>,
    pub pref: u8,
    pub lifetime: u32,
    pub r_flag: bool,
}

impl FromStr for MapSpec {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut parts = s.split(',');
        let addr = parts.next().unwrap_or("").trim();
        let address: Ipv6Addr = addr
            .parse()
            .map_err(|_| format!("{addr:?} is not an IPv6 address"))?;
        common::check_global("map", address).map_err(|e| e.0)?;
        let mut spec = MapSpec {
            address,
            dist: None,
            pref: DEFAULT_PREF,
            lifetime: DEFAULT_LIFETIME,
            r_flag: true,
        };
        for part in parts {
            let (key, value) = part
                .split_once('=')
                .ok_or_else(|| format!("{part:?} is not KEY=VALUE"))?;
            let (key, value) = (key.trim(), value.trim());
            let number = |max: u64| -> Result<u64, String> {
                value
                    .parse::<u64>()
                    .ok()
                    .filter(|&n| n <= max)
                    .ok_or_else(|| format!("{key}={value}: expected a number from 0 to {max}"))
            };
            match key {
                "dist" => {
                    let n = number(15)? as u8;
                    if n == 0 {
                        return Err(
                            "dist=0: a MAP option's Distance MUST NOT be 0 (RFC 4140 5)".into()
                        );
                    }
                    spec.dist = Some(n);
                }
                "pref" => spec.pref = number(15)? as u8,
                "lifetime" => spec.lifetime = number(u64::from(u32::MAX))? as u32,
                "r" => spec.r_flag = number(1)? == 1,
                other => return Err(format!("unknown key {other:?} (dist, pref, lifetime, r)")),
            }
        }
        Ok(spec)
    }
}

impl<'de> serde::Deserialize<'de> for MapSpec {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d)?
            .parse()
            .map_err(serde::de::Error::custom)
    }
}

/// `hmip6-ref ar` flags.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct ArArgs {
    #[command(flatten)]
    pub common: CommonArgs,
    /// An on-link prefix of the access link, advertised (repeatable).
    #[arg(long = "prefix", value_name = "P/64")]
    pub prefix: Vec<Prefix>,
    /// An on-link prefix of the core link (repeatable).
    #[arg(long = "core-prefix", value_name = "P/LEN")]
    pub core_prefix: Vec<Prefix>,
    /// A MAP to advertise (repeatable).
    #[arg(
        long = "map",
        value_name = "ADDR[,dist=N][,pref=N][,lifetime=SECS][,r=0|1]"
    )]
    pub map: Vec<MapSpec>,
    /// The AR's global address on the core link (source of the probes).
    #[arg(long, value_name = "ADDR")]
    pub core_address: Option<Ipv6Addr>,
    /// A MAP to probe for failure detection (repeatable).
    #[arg(long = "probe", value_name = "ADDR")]
    pub probe: Vec<Ipv6Addr>,
    /// Time between probes [default: 1s].
    #[arg(long, value_name = "DURATION")]
    pub probe_interval: Option<Dur>,
    /// Unanswered probes in a row before a MAP counts as failed [default: 3].
    #[arg(long, value_name = "N")]
    pub probe_retries: Option<u32>,
}

crate::config_file!(
    /// The YAML form: the flags' names as keys.
    ArFile {
        #[serde(default)]
        prefix: Vec<Prefix>,
        #[serde(default)]
        core_prefix: Vec<Prefix>,
        #[serde(default)]
        map: Vec<MapSpec>,
        core_address: Option<Ipv6Addr>,
        #[serde(default)]
        probe: Vec<Ipv6Addr>,
        probe_interval: Option<Dur>,
        probe_retries: Option<u32>,
    }
);

/// The checked configuration the AR runs with: the common settings
/// (through `Deref`) and the AR's own.
#[derive(Debug, Clone)]
pub struct ArConfig {
    pub common: CommonConfig,
    /// On-link prefixes of the access link, advertised.
    pub prefixes: Vec<Prefix>,
    /// On-link prefixes of the core link.
    pub core_prefixes: Vec<Prefix>,
    /// The MAPs advertised (RFC 4140 3.1).
    pub maps: Vec<MapSpec>,
    pub core_address: Option<Ipv6Addr>,
    /// The MAPs probed (RFC 4140 10).
    pub probes: Vec<Ipv6Addr>,
    pub probe_interval: Duration,
    pub probe_retries: u32,
}

impl std::ops::Deref for ArConfig {
    type Target = CommonConfig;
    fn deref(&self) -> &CommonConfig {
        &self.common
    }
}

impl std::ops::DerefMut for ArConfig {
    fn deref_mut(&mut self) -> &mut CommonConfig {
        &mut self.common
    }
}

impl ArConfig {
    /// Merge the flags over the file (if any) and check the result.
    pub fn from_args(a: &ArArgs) -> Result<ArConfig, ConfigError> {
        let mut file: ArFile = common::load_config(&a.common.config)?;
        let c = CommonConfig::from_args(
            &a.common,
            file.common(),
            AR_FAULTS,
            SaNeeds {
                out_for: &[Protect::Probe],
                out_why: "to seal the probes",
            },
        )?;
        if c.protect.bu {
            return Err(ConfigError(
                "--protect bu: an AR receives no Binding Update (probe, ra)".into(),
            ));
        }
        let prefixes = list(&a.prefix, file.prefix);
        if let Some(p) = prefixes.iter().find(|p| p.len != 64) {
            return Err(ConfigError(format!(
                "--prefix {p}: advertised prefixes are /64 (stateless autoconfiguration)"
            )));
        }
        let core_address = match a.core_address.or(file.core_address) {
            Some(x) => Some(common::check_global("core-address", x)?),
            None => None,
        };
        let probes = list(&a.probe, file.probe);
        if !probes.is_empty() && core_address.is_none() {
            return Err(ConfigError(format!(
                "--probe needs {}: the source of the probes",
                common::source(&a.common.config, "core-address")
            )));
        }
        let probe_interval = a
            .probe_interval
            .or(file.probe_interval)
            .map(|d| d.0)
            .unwrap_or(Duration::from_secs(1));
        if probe_interval < Duration::from_millis(40) {
            return Err(ConfigError("--probe-interval must be at least 40ms".into()));
        }
        let probe_retries = a.probe_retries.or(file.probe_retries).unwrap_or(3);
        if probe_retries == 0 {
            return Err(ConfigError("--probe-retries must be at least 1".into()));
        }
        Ok(ArConfig {
            common: c,
            prefixes,
            core_prefixes: list(&a.core_prefix, file.core_prefix),
            maps: list(&a.map, file.map),
            core_address,
            probes,
            probe_interval,
            probe_retries,
        })
    }

    /// A configuration for tests: access prefix `prefix`, the MAPs `maps`
    /// (`--map` syntax), core address `2001:db8:ffff::a`, defaults
    /// otherwise.
    pub fn for_test(prefix: &str, maps: &[&str]) -> ArConfig {
        ArConfig {
            common: CommonConfig::for_test(),
            prefixes: vec![prefix.parse().expect("prefix")],
            core_prefixes: Vec::new(),
            maps: maps.iter().map(|m| m.parse().expect("--map")).collect(),
            core_address: Some(Ipv6Addr::new(0x2001, 0xdb8, 0xffff, 0, 0, 0, 0, 0xa)),
            probes: Vec::new(),
            probe_interval: Duration::from_secs(1),
            probe_retries: 3,
        }
    }

    /// Is `a` inside an access prefix (on the mobile nodes' link)?
    pub fn on_access_link(&self, a: &Ipv6Addr) -> bool {
        self.prefixes.iter().any(|p| p.contains(a))
    }

    /// Is `a` on the core link: inside a `--core-prefix`, or (none given)
    /// the /64 of `--core-address`?
    pub fn on_core_link(&self, a: &Ipv6Addr) -> bool {
        if self.core_prefixes.is_empty() {
            return self
                .core_address
                .is_some_and(|c| Prefix::slash64(c).contains(a));
        }
        self.core_prefixes.iter().any(|p| p.contains(a))
    }

    /// The MAP option for `m` with its Valid Lifetime: Dist 1 when the MAP
    /// is inside an access prefix (RFC 4140 5: "The Distance MUST be set to
    /// 1 if the MAP is on the same link as the mobile node"), else the
    /// given Dist, else 1.
    pub fn map_option(&self, m: &MapSpec, lifetime: u32) -> MapOptionRepr {
        let dist = if self.on_access_link(&m.address) {
            1
        } else {
            m.dist.unwrap_or(1)
        };
        MapOptionRepr::new(dist, m.pref, m.r_flag, lifetime, m.address)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::faults::Fault;

    fn parse(args: &[&str]) -> Result<ArConfig, ConfigError> {
        ArConfig::from_args(&crate::config::parse_flags::<ArArgs>(args)?)
    }

    const BASE: [&str; 4] = ["--access", "a0", "--core", "c0"];

    fn with(extra: &[&str]) -> Result<ArConfig, ConfigError> {
        parse(&[&BASE[..], extra].concat())
    }

    #[test]
    fn map_specs() {
        let m: MapSpec = "2001:db8:ffff::1".parse().unwrap();
        assert_eq!(
            (m.dist, m.pref, m.lifetime, m.r_flag),
            (None, 10, 3600, true)
        );
        let m: MapSpec = "2001:db8:ffff::1, dist=3,pref=7,lifetime=60,r=0"
            .parse()
            .unwrap();
        assert_eq!(
            (m.dist, m.pref, m.lifetime, m.r_flag),
            (Some(3), 7, 60, false)
        );
        for (bad, needle) in [
            ("2001:db8::1,dist=0", "MUST NOT be 0"),
            ("2001:db8::1,dist=16", "0 to 15"),
            ("2001:db8::1,pref=16", "0 to 15"),
            ("2001:db8::1,r=2", "0 to 1"),
            ("2001:db8::1,x=1", "unknown key"),
            ("2001:db8::1,dist", "KEY=VALUE"),
            ("fe80::1", "global unicast"),
            ("nope", "not an IPv6 address"),
        ] {
            let e = bad.parse::<MapSpec>().unwrap_err();
            assert!(e.contains(needle), "{bad}: {e}");
        }
    }

    #[test]
    fn flags_and_defaults() {
        let c = with(&[
            "--prefix",
            "2001:db8:1::/64",
            "--map",
            "2001:db8:ffff::1,dist=4",
            "--map",
            "2001:db8:1::99",
            "--core-address",
            "2001:db8:ffff::a",
            "--probe",
            "2001:db8:ffff::1",
            "--ra-interval",
            "200ms",
            "--relay",
        ])
        .unwrap();
        assert_eq!(c.maps.len(), 2);
        assert_eq!(
            (c.probe_interval, c.probe_retries),
            (Duration::from_secs(1), 3)
        );
        assert_eq!(c.ra_interval, Duration::from_millis(200));
        assert!(c.relay);
        // Dist: the given one off-link, 1 on the access link whatever given.
        assert_eq!(c.map_option(&c.maps[0], 3600).dist, 4);
        assert_eq!(c.map_option(&c.maps[1], 3600).dist, 1);
        let mut on_link = c.maps[1].clone();
        on_link.dist = Some(5);
        assert_eq!(c.map_option(&on_link, 0).dist, 1);
        assert!(c.on_core_link(&"2001:db8:ffff::1".parse().unwrap()));
        assert!(!c.on_core_link(&"2001:db8:eeee::1".parse().unwrap()));
    }

    #[test]
    fn errors_name_the_flag() {
        for (args, needle) in [
            (&["--probe", "2001:db8::1"][..], "--core-address"),
            (&["--map", "2001:db8::1,dist=0"][..], "--map"),
            (&["--prefix", "2001:db8:1::/48"][..], "--prefix"),
            (&["--probe-retries", "0"][..], "--probe-retries"),
            (&["--probe-interval", "1ms"][..], "--probe-interval"),
            (&["--fault", "no-ba"][..], "hmip6-ref map"),
            (&["--fault", "bogus"][..], "--fault"),
            (
                &[
                    "--protect",
                    "probe",
                    "--sa-in",
                    "spi=0x1000,key=00112233445566778899aabbccddeeff",
                ][..],
                "--sa-out",
            ),
            (&["--protect", "ra"][..], "--sa-in"),
            (
                &[
                    "--protect",
                    "bu",
                    "--sa-in",
                    "spi=0x1000,key=00112233445566778899aabbccddeeff",
                ][..],
                "--protect bu",
            ),
        ] {
            let e = with(args).unwrap_err();
            assert!(e.0.contains(needle), "{args:?}: {e}");
        }
        let e = parse(&["--access", "a0"]).unwrap_err();
        assert!(e.0.contains("--core"), "{e}");
    }

    #[test]
    fn yaml_file_and_flags_win() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("ar.yaml");
        std::fs::write(
            &f,
            "access: a0\ncore: c0\nprefix: [2001:db8:1::/64]\nmap: [\"2001:db8:ffff::1,pref=3\"]\ncore-address: 2001:db8:ffff::a\nprobe: [2001:db8:ffff::1]\nprobe-retries: 5\nfault: [dist-zero]\n",
        )
        .unwrap();
        let c = parse(&["--config", f.to_str().unwrap(), "--probe-retries", "2"]).unwrap();
        assert_eq!(c.probe_retries, 2);
        assert_eq!(c.maps[0].pref, 3);
        assert!(c.faults.has(Fault::RaDistZero));
        std::fs::write(&f, "access: a0\ncore: c0\nmap: [\"2001:db8::1,dist=0\"]\n").unwrap();
        let e = parse(&["--config", f.to_str().unwrap()]).unwrap_err();
        assert!(e.0.contains("ar.yaml:3:"), "{e}");
        std::fs::write(&f, "access: a0\nbogus: 1\n").unwrap();
        let e = parse(&["--config", f.to_str().unwrap()]).unwrap_err();
        assert!(e.0.contains("ar.yaml:2:"), "{e}");
    }
}
