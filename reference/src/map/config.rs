//! The MAP's configuration: command-line flags, optionally a YAML file with
//! the same names (flags win), checked into a [`MapConfig`].

use std::net::Ipv6Addr;
use std::time::Duration;

use crate::addr::{Dur, Prefix};
use crate::config::{self as common, list, CommonArgs, CommonConfig, SaNeeds};
pub use crate::config::{ConfigError, Protect, Protection};
use crate::faults::{Fault, MAP_FAULTS};

/// `hmip6-ref map` flags.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct MapArgs {
    #[command(flatten)]
    pub common: CommonArgs,
    /// The MAP's global address (on the core link); its /64 is the RCoA prefix.
    #[arg(long, value_name = "ADDR")]
    pub address: Option<Ipv6Addr>,
    /// An on-link prefix of the access link (repeatable).
    #[arg(long = "access-prefix", value_name = "P/LEN")]
    pub access_prefix: Vec<Prefix>,
    /// Next hop on the core link for everything not on-link.
    #[arg(long, value_name = "ADDR")]
    pub default_router: Option<Ipv6Addr>,
    /// Valid on-link prefix an LCoA must be in (RFC 4140 6.2; repeatable).
    #[arg(long = "valid-prefix", value_name = "P/LEN")]
    pub valid_prefix: Vec<Prefix>,
    /// Longest lifetime granted, seconds [default: 3600].
    #[arg(long, value_name = "SECS")]
    pub max_lifetime: Option<u32>,
    /// Most bindings kept [default: 1024].
    #[arg(long, value_name = "N")]
    pub max_bindings: Option<usize>,
    /// NS sent for DAD of an RCoA [default: 1].
    #[arg(long, value_name = "N")]
    pub dad_transmits: Option<u32>,
    /// Time between DAD and resolution NSs [default: 1s].
    #[arg(long, value_name = "DURATION")]
    pub retrans_timer: Option<Dur>,
    /// Send Router Advertisements with a MAP option on the access link.
    #[arg(long)]
    pub advertise: bool,
    /// Dist of the own MAP option [default: 1].
    #[arg(long, value_name = "N")]
    pub map_dist: Option<u8>,
    /// Pref of the own MAP option [default: 10].
    #[arg(long, value_name = "N")]
    pub map_preference: Option<u8>,
    /// Valid Lifetime of the own MAP option, seconds [default: 3600].
    #[arg(long, value_name = "SECS")]
    pub map_lifetime: Option<u32>,
}

crate::config_file!(
    /// The YAML form: the flags' names as keys.
    MapFile {
        address: Option<Ipv6Addr>,
        #[serde(default)]
        access_prefix: Vec<Prefix>,
        default_router: Option<Ipv6Addr>,
        #[serde(default)]
        valid_prefix: Vec<Prefix>,
        max_lifetime: Option<u32>,
        max_bindings: Option<usize>,
        dad_transmits: Option<u32>,
        retrans_timer: Option<Dur>,
        #[serde(default)]
        advertise: bool,
        map_dist: Option<u8>,
        map_preference: Option<u8>,
        map_lifetime: Option<u32>,
    }
);

/// The checked configuration the MAP runs with: the common settings
/// (through `Deref`: `cfg.faults`, `cfg.protect`, ...) and the MAP's own.
#[derive(Debug, Clone)]
pub struct MapConfig {
    pub common: CommonConfig,
    pub address: Ipv6Addr,
    pub access_prefixes: Vec<Prefix>,
    pub default_router: Option<Ipv6Addr>,
    pub valid_prefixes: Vec<Prefix>,
    pub max_lifetime: u32,
    pub max_bindings: usize,
    pub dad_transmits: u32,
    pub retrans_timer: Duration,
    pub advertise: bool,
    pub map_dist: u8,
    pub map_preference: u8,
    pub map_lifetime: u32,
}

impl std::ops::Deref for MapConfig {
    type Target = CommonConfig;
    fn deref(&self) -> &CommonConfig {
        &self.common
    }
}

impl std::ops::DerefMut for MapConfig {
    fn deref_mut(&mut self) -> &mut CommonConfig {
        &mut self.common
    }
}

impl MapConfig {
    /// Merge the flags over the file (if any) and check the result.
    pub fn from_args(a: &MapArgs) -> Result<MapConfig, ConfigError> {
        let mut file: MapFile = common::load_config(&a.common.config)?;
        let c = CommonConfig::from_args(
            &a.common,
            file.common(),
            MAP_FAULTS,
            SaNeeds {
                out_for: &[Protect::Bu, Protect::Probe],
                out_why: "to protect the answers",
            },
        )?;
        let address = a.address.or(file.address).ok_or_else(|| {
            ConfigError(format!(
                "missing {}: the MAP's global address",
                common::source(&a.common.config, "address")
            ))
        })?;
        let address = common::check_global("address", address)?;
        let max_lifetime = a.max_lifetime.or(file.max_lifetime).unwrap_or(3600);
        if max_lifetime < 4 {
            return Err(ConfigError(format!(
                "--max-lifetime {max_lifetime} is less than one lifetime unit (4 s)"
            )));
        }
        let retrans_timer = a
            .retrans_timer
            .or(file.retrans_timer)
            .map(|d| d.0)
            .unwrap_or(Duration::from_secs(1));
        if retrans_timer.is_zero() {
            return Err(ConfigError("--retrans-timer must be more than 0".into()));
        }
        let map_dist = a.map_dist.or(file.map_dist).unwrap_or(1);
        if !(1..=15).contains(&map_dist) {
            return Err(ConfigError(format!(
                "--map-dist {map_dist} must be from 1 to 15"
            )));
        }
        let map_preference = a.map_preference.or(file.map_preference).unwrap_or(10);
        if map_preference > 15 {
            return Err(ConfigError(format!(
                "--map-preference {map_preference} must be from 0 to 15"
            )));
        }
        Ok(MapConfig {
            common: c,
            address,
            access_prefixes: list(&a.access_prefix, file.access_prefix),
            default_router: a.default_router.or(file.default_router),
            valid_prefixes: list(&a.valid_prefix, file.valid_prefix),
            max_lifetime,
            max_bindings: a.max_bindings.or(file.max_bindings).unwrap_or(1024),
            dad_transmits: a.dad_transmits.or(file.dad_transmits).unwrap_or(1),
            retrans_timer,
            advertise: a.advertise || file.advertise,
            map_dist,
            map_preference,
            map_lifetime: a.map_lifetime.or(file.map_lifetime).unwrap_or(3600),
        })
    }

    /// A configuration for tests: the given links, address and access
    /// prefix, defaults otherwise.
    pub fn for_test(address: Ipv6Addr, access_prefix: Prefix) -> MapConfig {
        MapConfig {
            common: CommonConfig::for_test(),
            address,
            access_prefixes: vec![access_prefix],
            default_router: None,
            valid_prefixes: Vec::new(),
            max_lifetime: 3600,
            max_bindings: 1024,
            dad_transmits: 1,
            retrans_timer: Duration::from_millis(200),
            advertise: false,
            map_dist: 1,
            map_preference: 10,
            map_lifetime: 3600,
        }
    }

    /// The prefix RCoAs must be in: the /64 of `--address` (RFC 4140 5:
    /// the MAP's prefix is the first 64 bits of its address).
    pub fn rcoa_prefix(&self) -> Prefix {
        let p = Prefix::slash64(self.address);
        if self.faults.has(Fault::RcoaPrefixMismatch) {
            // The /64 next to it: the last 16 bits of the prefix + 1.
            let mut s = p.addr.segments();
            s[3] = s[3].wrapping_add(1);
            return Prefix::new(Ipv6Addr::from(s), 64);
        }
        p
    }

    /// The core link's on-link prefix: the /64 of `--address`.
    pub fn core_prefix(&self) -> Prefix {
        Prefix::slash64(self.address)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::faults::Faults;

    fn parse(args: &[&str]) -> Result<MapConfig, ConfigError> {
        MapConfig::from_args(&crate::config::parse_flags::<MapArgs>(args)?)
    }

    #[test]
    fn flags_and_defaults() {
        let c = parse(&[
            "--access",
            "a0",
            "--core",
            "c0",
            "--address",
            "2001:db8:ffff::1",
            "--access-prefix",
            "2001:db8:1::/64",
            "--valid-prefix",
            "2001:db8:1::/64",
            "--valid-prefix",
            "2001:db8:2::/64",
            "--retrans-timer",
            "200ms",
            "--protect",
            "bu,probe",
            "--sa-in",
            "spi=0x1000,key=00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff",
            "--sa-out",
            "spi=0x2000,key=ffeeddccbbaa99887766554433221100ffeeddccbbaa99887766554433221100",
        ])
        .unwrap();
        assert_eq!(c.max_lifetime, 3600);
        assert_eq!(c.max_bindings, 1024);
        assert_eq!(c.valid_prefixes.len(), 2);
        assert_eq!(c.retrans_timer, Duration::from_millis(200));
        assert!(c.protect.bu && c.protect.probe && !c.protect.ra);
        assert_eq!(c.sa_in.len(), 1);
        assert_eq!((c.sa_in[0].spi, c.sa_in[0].key.len()), (0x1000, 32));
        assert_eq!(c.sa_out.as_ref().map(|sa| sa.spi), Some(0x2000));
        assert_eq!(c.rcoa_prefix().to_string(), "2001:db8:ffff::/64");
    }

    #[test]
    fn security_associations_are_checked() {
        let base = ["--access", "a0", "--core", "c0", "--address", "2001:db8::1"];
        let e = parse(&[&base[..], &["--sa-in", "spi=0x1000,key=0011"]].concat()).unwrap_err();
        assert!(e.0.contains("--sa-in") && e.0.contains("2 octets"), "{e}");
        let e = parse(&[&base[..], &["--sa-out", "spi=0,key=00"]].concat()).unwrap_err();
        assert!(e.0.contains("--sa-out") && e.0.contains("SPI 0"), "{e}");
    }

    #[test]
    fn errors_name_the_flag() {
        let e = parse(&["--access", "a0", "--core", "c0"]).unwrap_err();
        assert!(e.0.contains("--address"), "{e}");
        let e = parse(&[
            "--access",
            "a0",
            "--core",
            "c0",
            "--address",
            "2001:db8::1",
            "--fault",
            "nope",
        ])
        .unwrap_err();
        assert!(e.0.contains("--fault") && e.0.contains("no-ba"), "{e}");
        let e = parse(&[
            "--access",
            "a0",
            "--core",
            "c0",
            "--address",
            "2001:db8::1",
            "--protect",
            "bu",
        ])
        .unwrap_err();
        assert!(e.0.contains("--sa-in"), "{e}");
    }

    #[test]
    fn yaml_file_and_flags_win() {
        let dir = std::env::temp_dir().join(format!("hmip6-ref-cfg-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let f = dir.join("map.yaml");
        std::fs::write(
            &f,
            "access: a0\ncore: c0\naddress: 2001:db8:ffff::1\nmax-lifetime: 100\nprotect: [ra]\nsa-in: [\"spi=0x1000,key=00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\"]\nfault: [no-ba]\n",
        )
        .unwrap();
        let c = parse(&["--config", f.to_str().unwrap(), "--core", "c9"]).unwrap();
        assert_eq!(c.core, "c9");
        assert_eq!(c.access, "a0");
        assert_eq!(c.max_lifetime, 100);
        assert!(c.protect.ra);
        assert!(c.faults.has(Fault::NoBa));
        std::fs::write(&f, "access: a0\ncore: c0\naddress: not-an-address\n").unwrap();
        let e = parse(&["--config", f.to_str().unwrap()]).unwrap_err();
        assert!(e.0.contains("map.yaml:3:"), "{e}");
        std::fs::write(&f, "access: a0\nbogus: 1\n").unwrap();
        let e = parse(&["--config", f.to_str().unwrap()]).unwrap_err();
        assert!(e.0.contains("map.yaml:2:"), "{e}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn rcoa_prefix_fault_shifts_the_prefix() {
        let mut c = MapConfig::for_test(
            "2001:db8:ffff::1".parse().unwrap(),
            "2001:db8:1::/64".parse().unwrap(),
        );
        c.faults = Faults::of(&[Fault::RcoaPrefixMismatch]);
        assert_eq!(c.rcoa_prefix().to_string(), "2001:db8:ffff:1::/64");
    }
}
