//! The MAP's configuration: command-line flags, optionally a YAML file with
//! the same names (flags win), checked into a [`MapConfig`].

use std::net::Ipv6Addr;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use serde::Deserialize;

use crate::addr::{Dur, Prefix};
use crate::faults::{Fault, Faults, MAP_FAULTS};
use crate::log::LogFormat;
use crate::sad::SecurityAssociation;

/// What `--protect` can name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protect {
    Bu,
    Probe,
    Ra,
}

impl FromStr for Protect {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim() {
            "bu" => Ok(Protect::Bu),
            "probe" => Ok(Protect::Probe),
            "ra" => Ok(Protect::Ra),
            other => Err(format!("{other:?} is not one of bu, probe, ra")),
        }
    }
}

impl<'de> Deserialize<'de> for Protect {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d)?
            .parse()
            .map_err(serde::de::Error::custom)
    }
}

/// Which messages must arrive ESP-protected (RFC 4140 12.1).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Protection {
    pub bu: bool,
    pub probe: bool,
    pub ra: bool,
}

/// `hmip6-ref map` flags.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct MapArgs {
    /// YAML file with any of these settings under the same names (flags win).
    #[arg(long, value_name = "FILE.yaml")]
    pub config: Option<PathBuf>,
    /// Interface towards the mobile nodes.
    #[arg(long, value_name = "IF")]
    pub access: Option<String>,
    /// Interface towards CNs, HAs and other routers.
    #[arg(long, value_name = "IF")]
    pub core: Option<String>,
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
    /// Time between unsolicited RAs [default: 1s].
    #[arg(long, value_name = "DURATION")]
    pub ra_interval: Option<Dur>,
    /// Dist of the own MAP option [default: 1].
    #[arg(long, value_name = "N")]
    pub map_dist: Option<u8>,
    /// Pref of the own MAP option [default: 10].
    #[arg(long, value_name = "N")]
    pub map_preference: Option<u8>,
    /// Valid Lifetime of the own MAP option, seconds [default: 3600].
    #[arg(long, value_name = "SECS")]
    pub map_lifetime: Option<u32>,
    /// Relay MAP options from other routers' RAs (dynamic MAP discovery).
    #[arg(long)]
    pub relay: bool,
    /// Inbound ESP SA, spi=0x1000,key=HEX (repeatable).
    #[arg(long = "sa-in", value_name = "spi=SPI,key=HEX")]
    pub sa_in: Vec<SecurityAssociation>,
    /// Outbound ESP SA, spi=0x2000,key=HEX.
    #[arg(long = "sa-out", value_name = "spi=SPI,key=HEX")]
    pub sa_out: Option<SecurityAssociation>,
    /// Messages that must be ESP-protected: bu, probe, ra (comma-separated).
    #[arg(long, value_delimiter = ',', value_name = "LIST")]
    pub protect: Vec<Protect>,
    /// Unix socket for the control protocol.
    #[arg(long, value_name = "PATH")]
    pub control: Option<PathBuf>,
    /// Event log format on stderr: text or json [default: text].
    #[arg(long, value_name = "FORMAT")]
    pub log: Option<LogFormat>,
    /// Switch a fault on (repeatable; see --list-faults).
    #[arg(long, value_name = "NAME")]
    pub fault: Vec<String>,
    /// Print the faults (NAME  REQUIREMENT-ID  description) and exit.
    #[arg(long)]
    pub list_faults: bool,
}

/// The YAML form: the flags' names as keys.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct MapFile {
    access: Option<String>,
    core: Option<String>,
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
    ra_interval: Option<Dur>,
    map_dist: Option<u8>,
    map_preference: Option<u8>,
    map_lifetime: Option<u32>,
    #[serde(default)]
    relay: bool,
    #[serde(default)]
    sa_in: Vec<SecurityAssociation>,
    sa_out: Option<SecurityAssociation>,
    #[serde(default)]
    protect: ProtectList,
    control: Option<PathBuf>,
    log: Option<LogFormat>,
    #[serde(default)]
    fault: Vec<String>,
}

/// `protect: [bu, ra]` or `protect: bu,ra`.
#[derive(Debug, Default)]
struct ProtectList(Vec<Protect>);

impl<'de> Deserialize<'de> for ProtectList {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            List(Vec<String>),
            One(String),
        }
        let items = match Raw::deserialize(d)? {
            Raw::List(l) => l,
            Raw::One(s) => s.split(',').map(str::to_string).collect(),
        };
        items
            .iter()
            .map(|s| s.parse().map_err(serde::de::Error::custom))
            .collect::<Result<_, _>>()
            .map(ProtectList)
    }
}

/// The checked configuration the MAP runs with.
#[derive(Debug, Clone)]
pub struct MapConfig {
    pub access: String,
    pub core: String,
    pub address: Ipv6Addr,
    pub access_prefixes: Vec<Prefix>,
    pub default_router: Option<Ipv6Addr>,
    pub valid_prefixes: Vec<Prefix>,
    pub max_lifetime: u32,
    pub max_bindings: usize,
    pub dad_transmits: u32,
    pub retrans_timer: Duration,
    pub advertise: bool,
    pub ra_interval: Duration,
    pub map_dist: u8,
    pub map_preference: u8,
    pub map_lifetime: u32,
    pub relay: bool,
    pub sa_in: Vec<SecurityAssociation>,
    pub sa_out: Option<SecurityAssociation>,
    pub protect: Protection,
    pub control: Option<PathBuf>,
    pub log: LogFormat,
    pub faults: Faults,
}

/// A configuration error: the message names the flag or `file:line:column`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError(pub String);

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

fn load_file(path: &Path) -> Result<MapFile, ConfigError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| ConfigError(format!("{}: cannot read: {e}", path.display())))?;
    if text.trim().is_empty() {
        return Ok(MapFile::default());
    }
    serde_saphyr::from_str::<MapFile>(&text).map_err(|e| {
        let (line, col) = e
            .location()
            .map(|l| (l.line(), l.column()))
            .unwrap_or((1, 1));
        let msg = e.without_snippet().to_string();
        let msg = msg.lines().next().unwrap_or("").trim();
        let msg = match msg.rfind(" at line ") {
            Some(i) => &msg[..i],
            None => msg,
        };
        ConfigError(format!("{}:{line}:{col}: {msg}", path.display()))
    })
}

impl MapConfig {
    /// Merge the flags over the file (if any) and check the result.
    pub fn from_args(a: &MapArgs) -> Result<MapConfig, ConfigError> {
        let file = match &a.config {
            Some(p) => load_file(p)?,
            None => MapFile::default(),
        };
        let src = |flag: &str| match &a.config {
            Some(p) => format!("--{flag} (or `{flag}:` in {})", p.display()),
            None => format!("--{flag}"),
        };
        let list = |flag: &Vec<Prefix>, file: Vec<Prefix>| {
            if flag.is_empty() {
                file
            } else {
                flag.clone()
            }
        };
        let access = a.access.clone().or(file.access).ok_or_else(|| {
            ConfigError(format!("missing {}: the access interface", src("access")))
        })?;
        let core =
            a.core.clone().or(file.core).ok_or_else(|| {
                ConfigError(format!("missing {}: the core interface", src("core")))
            })?;
        if access == core {
            return Err(ConfigError(format!(
                "--access and --core both name {access}; they must be two interfaces"
            )));
        }
        let address = a.address.or(file.address).ok_or_else(|| {
            ConfigError(format!(
                "missing {}: the MAP's global address",
                src("address")
            ))
        })?;
        if address.is_multicast()
            || address.is_unspecified()
            || address.is_loopback()
            || crate::addr::is_link_local(&address)
        {
            return Err(ConfigError(format!(
                "--address {address} must be a global unicast address"
            )));
        }
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
        let ra_interval = a
            .ra_interval
            .or(file.ra_interval)
            .map(|d| d.0)
            .unwrap_or(Duration::from_secs(1));
        if ra_interval < Duration::from_millis(10) {
            return Err(ConfigError("--ra-interval must be at least 10ms".into()));
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
        let protect_list = if a.protect.is_empty() {
            file.protect.0
        } else {
            a.protect.clone()
        };
        let protect = Protection {
            bu: protect_list.contains(&Protect::Bu),
            probe: protect_list.contains(&Protect::Probe),
            ra: protect_list.contains(&Protect::Ra),
        };
        let sa_in = if a.sa_in.is_empty() {
            file.sa_in
        } else {
            a.sa_in.clone()
        };
        let sa_out = a.sa_out.clone().or(file.sa_out);
        if (protect.bu || protect.probe || protect.ra) && sa_in.is_empty() {
            return Err(ConfigError(
                "--protect needs at least one --sa-in to check what arrives".into(),
            ));
        }
        if (protect.bu || protect.probe) && sa_out.is_none() {
            return Err(ConfigError(
                "--protect bu or probe needs --sa-out to protect the answers".into(),
            ));
        }
        let fault_names = if a.fault.is_empty() {
            file.fault
        } else {
            a.fault.clone()
        };
        let faults = Faults::parse(&fault_names, MAP_FAULTS)
            .map_err(|e| ConfigError(format!("--fault: {e}")))?;
        Ok(MapConfig {
            access,
            core,
            address,
            access_prefixes: list(&a.access_prefix, file.access_prefix),
            default_router: a.default_router.or(file.default_router),
            valid_prefixes: list(&a.valid_prefix, file.valid_prefix),
            max_lifetime,
            max_bindings: a.max_bindings.or(file.max_bindings).unwrap_or(1024),
            dad_transmits: a.dad_transmits.or(file.dad_transmits).unwrap_or(1),
            retrans_timer,
            advertise: a.advertise || file.advertise,
            ra_interval,
            map_dist,
            map_preference,
            map_lifetime: a.map_lifetime.or(file.map_lifetime).unwrap_or(3600),
            relay: a.relay || file.relay,
            sa_in,
            sa_out,
            protect,
            control: a.control.clone().or(file.control),
            log: a.log.or(file.log).unwrap_or_default(),
            faults,
        })
    }

    /// A configuration for tests: the given links, address and access
    /// prefix, defaults otherwise.
    pub fn for_test(address: Ipv6Addr, access_prefix: Prefix) -> MapConfig {
        MapConfig {
            access: "access".into(),
            core: "core".into(),
            address,
            access_prefixes: vec![access_prefix],
            default_router: None,
            valid_prefixes: Vec::new(),
            max_lifetime: 3600,
            max_bindings: 1024,
            dad_transmits: 1,
            retrans_timer: Duration::from_millis(200),
            advertise: false,
            ra_interval: Duration::from_secs(1),
            map_dist: 1,
            map_preference: 10,
            map_lifetime: 3600,
            relay: false,
            sa_in: Vec::new(),
            sa_out: None,
            protect: Protection::default(),
            control: None,
            log: LogFormat::Off,
            faults: Faults::none(),
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
    use clap::Parser;

    #[derive(Parser)]
    struct T {
        #[command(flatten)]
        map: MapArgs,
    }

    fn parse(args: &[&str]) -> Result<MapConfig, ConfigError> {
        let t = T::try_parse_from(std::iter::once("t").chain(args.iter().copied()))
            .map_err(|e| ConfigError(e.to_string()))?;
        MapConfig::from_args(&t.map)
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
