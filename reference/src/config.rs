//! Configuration plumbing shared by every role: the flags every router role
//! has ([`CommonArgs`], flattened into each role's flags), the YAML file
//! with the same names (flags win; see [`config_file!`](crate::config_file)),
//! and the checks on them, giving a [`CommonConfig`].

use std::net::Ipv6Addr;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use serde::de::DeserializeOwned;
use serde::Deserialize;

use crate::addr::Dur;
use crate::faults::{FaultSpec, Faults};
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

/// Which messages must arrive ESP-protected (RFC 4140 10, 12.1).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Protection {
    /// MH messages to the MAP (MAP).
    pub bu: bool,
    /// Echo requests to the MAP (MAP) / MAP failure detection probes (AR).
    pub probe: bool,
    /// RAs that feed the MAP option relay.
    pub ra: bool,
}

impl Protection {
    pub fn any(&self) -> bool {
        self.bu || self.probe || self.ra
    }
}

/// `protect: [bu, ra]` or `protect: bu,ra`.
#[derive(Debug, Default)]
pub struct ProtectList(pub Vec<Protect>);

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

/// A configuration error: the message names the flag or `file:line:column`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError(pub String);

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// The flags every router role has.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct CommonArgs {
    /// YAML file with any of these settings under the same names (flags win).
    #[arg(long, value_name = "FILE.yaml")]
    pub config: Option<PathBuf>,
    /// Interface towards the mobile nodes.
    #[arg(long, value_name = "IF")]
    pub access: Option<String>,
    /// Interface towards CNs, HAs and other routers.
    #[arg(long, value_name = "IF")]
    pub core: Option<String>,
    /// Time between unsolicited RAs [default: 1s].
    #[arg(long, value_name = "DURATION")]
    pub ra_interval: Option<Dur>,
    /// Relay MAP options from other routers' RAs (dynamic MAP discovery).
    #[arg(long)]
    pub relay: bool,
    #[command(flatten)]
    pub esp: EspArgs,
    #[command(flatten)]
    pub daemon: DaemonArgs,
}

/// The ESP flags: the manually keyed SAs and what they protect (the
/// routers and the MN alike).
#[derive(Debug, Clone, Default, clap::Args)]
pub struct EspArgs {
    /// Inbound ESP SA, spi=0x1000,key=HEX (repeatable).
    #[arg(long = "sa-in", value_name = "spi=SPI,key=HEX")]
    pub sa_in: Vec<SecurityAssociation>,
    /// Outbound ESP SA, spi=0x2000,key=HEX.
    #[arg(long = "sa-out", value_name = "spi=SPI,key=HEX")]
    pub sa_out: Option<SecurityAssociation>,
    /// Messages that must be ESP-protected (comma-separated; see the role's
    /// documentation).
    #[arg(long, value_delimiter = ',', value_name = "LIST")]
    pub protect: Vec<Protect>,
}

/// The checked ESP settings.
#[derive(Debug, Clone, Default)]
pub struct Esp {
    pub sa_in: Vec<SecurityAssociation>,
    pub sa_out: Option<SecurityAssociation>,
    pub protect: Protection,
}

impl EspArgs {
    /// These flags over a file's `sa-in`, `sa-out` and `protect` keys
    /// (flags win), checked against what the role `needs`: anything
    /// protected needs an inbound SA to check what arrives.
    pub fn merge(
        &self,
        sa_in: Vec<SecurityAssociation>,
        sa_out: Option<SecurityAssociation>,
        protect: ProtectList,
        needs: SaNeeds<'_>,
    ) -> Result<Esp, ConfigError> {
        let protect_list = list(&self.protect, protect.0);
        let protect = Protection {
            bu: protect_list.contains(&Protect::Bu),
            probe: protect_list.contains(&Protect::Probe),
            ra: protect_list.contains(&Protect::Ra),
        };
        let sa_in = list(&self.sa_in, sa_in);
        let sa_out = self.sa_out.clone().or(sa_out);
        if protect.any() && sa_in.is_empty() {
            return Err(ConfigError(
                "--protect needs at least one --sa-in to check what arrives".into(),
            ));
        }
        if needs.out_for.iter().any(|p| protect_list.contains(p)) && sa_out.is_none() {
            return Err(ConfigError(format!(
                "--protect {} needs --sa-out {}",
                needs
                    .out_for
                    .iter()
                    .map(|p| format!("{p:?}").to_lowercase())
                    .collect::<Vec<_>>()
                    .join(" or "),
                needs.out_why
            )));
        }
        Ok(Esp {
            sa_in,
            sa_out,
            protect,
        })
    }
}

/// The flags every role has (routers and the MN): the control socket, the
/// event log and the faults.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct DaemonArgs {
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

impl DaemonArgs {
    /// These flags over a file's `control`, `log` and `fault` keys (flags
    /// win; faults add up), faults looked up in the role's `table`.
    pub fn merge(
        &self,
        control: Option<PathBuf>,
        log: Option<LogFormat>,
        fault: Vec<String>,
        table: &[FaultSpec],
    ) -> Result<(Option<PathBuf>, LogFormat, Faults), ConfigError> {
        let faults = Faults::parse(&list(&self.fault, fault), table)
            .map_err(|e| ConfigError(format!("--fault: {e}")))?;
        Ok((
            self.control.clone().or(control),
            self.log.or(log).unwrap_or_default(),
            faults,
        ))
    }
}

/// The keys of [`CommonArgs`] in a YAML file.
#[derive(Debug, Default)]
pub struct CommonFile {
    pub access: Option<String>,
    pub core: Option<String>,
    pub ra_interval: Option<Dur>,
    pub relay: bool,
    pub sa_in: Vec<SecurityAssociation>,
    pub sa_out: Option<SecurityAssociation>,
    pub protect: ProtectList,
    pub control: Option<PathBuf>,
    pub log: Option<LogFormat>,
    pub fault: Vec<String>,
}

/// A role's YAML file: the keys of [`CommonArgs`] and the role's own
/// (`field: Type,` as in a struct), unknown keys refused with their line
/// and column. Generates `$name` (Deserialize, Default) with
/// `fn common(&mut self) -> CommonFile`, which takes the common keys out.
#[macro_export]
macro_rules! config_file {
    ($(#[$meta:meta])* $name:ident { $($body:tt)* }) => {
        $(#[$meta])*
        #[derive(Debug, Default, serde::Deserialize)]
        #[serde(deny_unknown_fields, rename_all = "kebab-case")]
        struct $name {
            access: Option<String>,
            core: Option<String>,
            ra_interval: Option<$crate::addr::Dur>,
            #[serde(default)]
            relay: bool,
            #[serde(default)]
            sa_in: Vec<$crate::sad::SecurityAssociation>,
            sa_out: Option<$crate::sad::SecurityAssociation>,
            #[serde(default)]
            protect: $crate::config::ProtectList,
            control: Option<std::path::PathBuf>,
            log: Option<$crate::log::LogFormat>,
            #[serde(default)]
            fault: Vec<String>,
            $($body)*
        }

        impl $name {
            fn common(&mut self) -> $crate::config::CommonFile {
                $crate::config::CommonFile {
                    access: self.access.take(),
                    core: self.core.take(),
                    ra_interval: self.ra_interval.take(),
                    relay: self.relay,
                    sa_in: std::mem::take(&mut self.sa_in),
                    sa_out: self.sa_out.take(),
                    protect: std::mem::take(&mut self.protect),
                    control: self.control.take(),
                    log: self.log.take(),
                    fault: std::mem::take(&mut self.fault),
                }
            }
        }
    };
}

/// The checked common settings.
#[derive(Debug, Clone)]
pub struct CommonConfig {
    pub access: String,
    pub core: String,
    pub ra_interval: Duration,
    pub relay: bool,
    pub sa_in: Vec<SecurityAssociation>,
    pub sa_out: Option<SecurityAssociation>,
    pub protect: Protection,
    pub control: Option<PathBuf>,
    pub log: LogFormat,
    pub faults: Faults,
}

/// Read the YAML file at `path` as `T`; errors as `file:line:column: message`.
pub fn load_file<T: DeserializeOwned + Default>(path: &Path) -> Result<T, ConfigError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| ConfigError(format!("{}: cannot read: {e}", path.display())))?;
    if text.trim().is_empty() {
        return Ok(T::default());
    }
    serde_saphyr::from_str::<T>(&text).map_err(|e| {
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

/// The file named by `--config`, or the default (no file).
pub fn load_config<T: DeserializeOwned + Default>(
    config: &Option<PathBuf>,
) -> Result<T, ConfigError> {
    match config {
        Some(p) => load_file(p),
        None => Ok(T::default()),
    }
}

/// Where a setting comes from, for error messages: `--flag`, or `--flag
/// (or `flag:` in FILE)` with a config file.
pub fn source(config: &Option<PathBuf>, flag: &str) -> String {
    match config {
        Some(p) => format!("--{flag} (or `{flag}:` in {})", p.display()),
        None => format!("--{flag}"),
    }
}

/// A repeatable setting: the flags if any were given, else the file's.
pub fn list<T: Clone>(flag: &[T], file: Vec<T>) -> Vec<T> {
    if flag.is_empty() {
        file
    } else {
        flag.to_vec()
    }
}

/// Parse `args` (without the program name) as the flags `A`, errors as
/// [`ConfigError`]s (the roles' configuration tests).
#[cfg(test)]
pub fn parse_flags<A: clap::Args>(args: &[&str]) -> Result<A, ConfigError> {
    let cmd = A::augment_args(clap::Command::new("t"));
    let m = cmd
        .try_get_matches_from(std::iter::once("t").chain(args.iter().copied()))
        .map_err(|e| ConfigError(e.to_string()))?;
    A::from_arg_matches(&m).map_err(|e| ConfigError(e.to_string()))
}

/// Is `a` usable as a router's global unicast address?
pub fn check_global(flag: &str, a: Ipv6Addr) -> Result<Ipv6Addr, ConfigError> {
    if a.is_multicast() || a.is_unspecified() || a.is_loopback() || crate::addr::is_link_local(&a) {
        return Err(ConfigError(format!(
            "--{flag} {a} must be a global unicast address"
        )));
    }
    Ok(a)
}

/// What a role needs of the SAs for its `--protect` list: the outbound SA
/// is required when any of `out_for` is protected (answers or probes are
/// then sealed).
pub struct SaNeeds<'a> {
    pub out_for: &'a [Protect],
    /// How the role says what the outbound SA is for.
    pub out_why: &'a str,
}

impl CommonConfig {
    /// Merge the common flags over the file's keys and check them; faults
    /// are looked up in `table` (the role's).
    pub fn from_args(
        a: &CommonArgs,
        file: CommonFile,
        table: &[FaultSpec],
        needs: SaNeeds<'_>,
    ) -> Result<CommonConfig, ConfigError> {
        let src = |flag: &str| source(&a.config, flag);
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
        let ra_interval = a
            .ra_interval
            .or(file.ra_interval)
            .map(|d| d.0)
            .unwrap_or(Duration::from_secs(1));
        if ra_interval < Duration::from_millis(10) {
            return Err(ConfigError("--ra-interval must be at least 10ms".into()));
        }
        let Esp {
            sa_in,
            sa_out,
            protect,
        } = a.esp.merge(file.sa_in, file.sa_out, file.protect, needs)?;
        let (control, log, faults) = a.daemon.merge(file.control, file.log, file.fault, table)?;
        Ok(CommonConfig {
            access,
            core,
            ra_interval,
            relay: a.relay || file.relay,
            sa_in,
            sa_out,
            protect,
            control,
            log,
            faults,
        })
    }

    /// Defaults for tests: links `access` and `core`, no ESP, no fault.
    pub fn for_test() -> CommonConfig {
        CommonConfig {
            access: "access".into(),
            core: "core".into(),
            ra_interval: Duration::from_secs(1),
            relay: false,
            sa_in: Vec::new(),
            sa_out: None,
            protect: Protection::default(),
            control: None,
            log: LogFormat::Off,
            faults: Faults::none(),
        }
    }
}
