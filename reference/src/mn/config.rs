//! `hmip6-ref mn` flags, its YAML file (the flags' names as keys, flags
//! win) and the checked [`MnConfig`].

use std::net::Ipv6Addr;
use std::path::PathBuf;

use crate::config::{self as common, ConfigError, Esp, EspArgs, Protect, ProtectList, SaNeeds};
use crate::faults::{Faults, MN_FAULTS};
use crate::log::LogFormat;
use crate::sad::SecurityAssociation;

/// Requested BU lifetime when not given: 15 units of 4 s (60 s).
pub const DEFAULT_LIFETIME: u16 = 15;

/// `hmip6-ref mn` flags.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct MnArgs {
    /// YAML file with any of these settings under the same names (flags win).
    #[arg(long, value_name = "FILE.yaml")]
    pub config: Option<PathBuf>,
    /// An interface of the mobile node (access routers come and go on
    /// it); repeat it for a multihomed MN (RFC 4140 7.2). `*`: every
    /// interface of the network namespace but loopback.
    #[arg(long, value_name = "IF")]
    pub link: Vec<String>,
    /// The home address.
    #[arg(long, value_name = "ADDR")]
    pub home_address: Option<Ipv6Addr>,
    /// The home agent's address.
    #[arg(long, value_name = "ADDR")]
    pub home_agent: Option<Ipv6Addr>,
    /// Requested BU lifetime in units of 4 seconds [default: 15].
    #[arg(long, value_name = "UNITS")]
    pub lifetime: Option<u16>,
    /// Duplicate Address Detection probes before an LCoA is used (RFC 4862
    /// DupAddrDetectTransmits; 0 uses it at once) [default: 1].
    #[arg(long, value_name = "N")]
    pub dad_transmits: Option<u32>,
    /// `--sa-in` (the MAP's BAs), `--sa-out` (the local BUs) and
    /// `--protect bu`.
    #[command(flatten)]
    pub esp: EspArgs,
    #[command(flatten)]
    pub daemon: common::DaemonArgs,
}

/// The YAML form.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct MnFile {
    link: Option<Links>,
    home_address: Option<Ipv6Addr>,
    home_agent: Option<Ipv6Addr>,
    lifetime: Option<u16>,
    dad_transmits: Option<u32>,
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

/// `link:` in the file: one interface or a list.
#[derive(Debug, serde::Deserialize)]
#[serde(untagged)]
enum Links {
    One(String),
    Many(Vec<String>),
}

/// The checked configuration the MN runs with.
#[derive(Debug, Clone)]
pub struct MnConfig {
    /// The interfaces (link index = position); `*` stands for every one
    /// but loopback, expanded when the daemon starts.
    pub link: Vec<String>,
    pub home_address: Ipv6Addr,
    pub home_agent: Ipv6Addr,
    /// Requested BU lifetime, units of 4 s (1 or more).
    pub lifetime: u16,
    /// DAD probes for a new LCoA (RFC 4862 5.4; 0: no DAD).
    pub dad_transmits: u32,
    /// The SAs with the MAP; `esp.protect.bu`: local BUs sealed with the
    /// outbound SA, the MAP's BAs accepted only under an inbound one
    /// (RFC 4140 12.1).
    pub esp: Esp,
    pub control: Option<PathBuf>,
    pub log: LogFormat,
    pub faults: Faults,
}

impl MnConfig {
    /// Merge the flags over the file (if any) and check the result.
    pub fn from_args(a: &MnArgs) -> Result<MnConfig, ConfigError> {
        let file: MnFile = common::load_config(&a.config)?;
        let src = |flag: &str| common::source(&a.config, flag);
        let link = match (a.link.is_empty(), file.link) {
            (false, _) => a.link.clone(),
            (true, Some(Links::One(l))) => vec![l],
            (true, Some(Links::Many(l))) => l,
            (true, None) => Vec::new(),
        };
        if link.is_empty() || link.iter().any(|l| l.is_empty()) {
            return Err(ConfigError(format!(
                "missing {}: the interface",
                src("link")
            )));
        }
        let home_address = a.home_address.or(file.home_address).ok_or_else(|| {
            ConfigError(format!("missing {}: the home address", src("home-address")))
        })?;
        let home_agent = a
            .home_agent
            .or(file.home_agent)
            .ok_or_else(|| ConfigError(format!("missing {}: the home agent", src("home-agent"))))?;
        let lifetime = a.lifetime.or(file.lifetime).unwrap_or(DEFAULT_LIFETIME);
        if lifetime == 0 {
            return Err(ConfigError(
                "--lifetime 0 would deregister: give 1 or more (units of 4 s)".into(),
            ));
        }
        let esp = a.esp.merge(
            file.sa_in,
            file.sa_out,
            file.protect,
            SaNeeds {
                out_for: &[Protect::Bu],
                out_why: "to seal the local BUs",
            },
        )?;
        if esp.protect.probe || esp.protect.ra {
            return Err(ConfigError(
                "--protect: the MN protects only its local BUs and their BAs (bu)".into(),
            ));
        }
        let (control, log, faults) =
            a.daemon
                .merge(file.control, file.log, file.fault, MN_FAULTS)?;
        Ok(MnConfig {
            link,
            home_address: common::check_global("home-address", home_address)?,
            home_agent: common::check_global("home-agent", home_agent)?,
            lifetime,
            dad_transmits: a.dad_transmits.or(file.dad_transmits).unwrap_or(1),
            esp,
            control,
            log,
            faults,
        })
    }

    /// A configuration for tests: home address `2001:db8:aaaa::2`, home
    /// agent `2001:db8:aaaa::1`, default lifetime, no fault, and no DAD (an
    /// RA's LCoA is used at once; the DAD tests turn it on).
    pub fn for_test() -> MnConfig {
        MnConfig {
            link: vec!["mn0".into()],
            home_address: Ipv6Addr::new(0x2001, 0xdb8, 0xaaaa, 0, 0, 0, 0, 2),
            home_agent: Ipv6Addr::new(0x2001, 0xdb8, 0xaaaa, 0, 0, 0, 0, 1),
            lifetime: DEFAULT_LIFETIME,
            dad_transmits: 0,
            esp: Esp::default(),
            control: None,
            log: LogFormat::Off,
            faults: Faults::none(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::faults::Fault;

    fn parse(args: &[&str]) -> Result<MnConfig, ConfigError> {
        MnConfig::from_args(&crate::config::parse_flags::<MnArgs>(args)?)
    }

    const BASE: [&str; 6] = [
        "--link",
        "mn0",
        "--home-address",
        "2001:db8:aaaa::2",
        "--home-agent",
        "2001:db8:aaaa::1",
    ];

    #[test]
    fn flags_defaults_and_errors() {
        let c = parse(&BASE).unwrap();
        assert_eq!(c.lifetime, 15);
        assert_eq!(c.dad_transmits, 1);
        assert_eq!(
            parse(&[&BASE[..], &["--dad-transmits", "0"]].concat())
                .unwrap()
                .dad_transmits,
            0
        );
        let c = parse(
            &[
                &BASE[..],
                &["--lifetime", "3", "--fault", "no-reverse-tunnel"],
            ]
            .concat(),
        )
        .unwrap();
        assert_eq!(c.lifetime, 3);
        assert!(c.faults.has(Fault::NoReverseTunnel));
        for (args, needle) in [
            (&["--lifetime", "0"][..], "--lifetime"),
            (&["--fault", "no-ba"][..], "hmip6-ref map"),
            (&["--home-agent", "fe80::1"][..], "--home-agent"),
        ] {
            let e = parse(&[&BASE[..], args].concat()).unwrap_err();
            assert!(e.0.contains(needle), "{args:?}: {e}");
        }
        let e = parse(&["--link", "mn0"]).unwrap_err();
        assert!(e.0.contains("--home-address"), "{e}");
    }

    #[test]
    fn link_repeats_and_takes_a_list_in_the_file() {
        assert_eq!(parse(&BASE).unwrap().link, vec!["mn0".to_string()]);
        let c = parse(&[&BASE[..], &["--link", "mn1"]].concat()).unwrap();
        assert_eq!(c.link, vec!["mn0".to_string(), "mn1".to_string()]);
        let c = parse(&[
            "--link",
            "*",
            "--home-address",
            "2001:db8:aaaa::2",
            "--home-agent",
            "2001:db8:aaaa::1",
        ])
        .unwrap();
        assert_eq!(c.link, vec!["*".to_string()]);
        let e = parse(&[
            "--home-address",
            "2001:db8:aaaa::2",
            "--home-agent",
            "2001:db8:aaaa::1",
        ])
        .unwrap_err();
        assert!(e.0.contains("link"), "{e}");
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("mn.yaml");
        std::fs::write(
            &f,
            "link: [mn0, mn1]\nhome-address: 2001:db8:aaaa::2\nhome-agent: 2001:db8:aaaa::1\n",
        )
        .unwrap();
        let c = parse(&["--config", f.to_str().unwrap()]).unwrap();
        assert_eq!(c.link, vec!["mn0".to_string(), "mn1".to_string()]);
        assert_eq!(
            super::super::daemon::interfaces(&["a".into(), "b".into(), "a".into()]).unwrap(),
            vec!["a".to_string(), "b".to_string()]
        );
    }

    const SA_IN: &str =
        "spi=8192,key=00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
    const SA_OUT: &str =
        "spi=4096,key=ffeeddccbbaa99887766554433221100ffeeddccbbaa99887766554433221100";

    #[test]
    fn security_associations_and_protect() {
        let c = parse(&BASE).unwrap();
        assert!(!c.esp.protect.bu && c.esp.sa_in.is_empty() && c.esp.sa_out.is_none());
        let c = parse(
            &[
                &BASE[..],
                &["--sa-in", SA_IN, "--sa-out", SA_OUT, "--protect", "bu"],
            ]
            .concat(),
        )
        .unwrap();
        assert!(c.esp.protect.bu);
        assert_eq!(c.esp.sa_in[0].spi, 8192);
        assert_eq!(c.esp.sa_out.as_ref().map(|sa| sa.spi), Some(4096));
        for (args, needle) in [
            (&["--protect", "bu", "--sa-out", SA_OUT][..], "--sa-in"),
            (&["--protect", "bu", "--sa-in", SA_IN][..], "--sa-out"),
            (
                &["--protect", "ra", "--sa-in", SA_IN, "--sa-out", SA_OUT][..],
                "only its local BUs",
            ),
            (&["--sa-in", "spi=0,key=00"][..], "SPI 0"),
        ] {
            let e = parse(&[&BASE[..], args].concat()).unwrap_err();
            assert!(e.0.contains(needle), "{args:?}: {e}");
        }
    }

    #[test]
    fn yaml_file_and_flags_win() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("mn.yaml");
        std::fs::write(
            &f,
            "link: mn0\nhome-address: 2001:db8:aaaa::2\nhome-agent: 2001:db8:aaaa::1\nlifetime: 7\nfault: [nearest-map-chosen]\n",
        )
        .unwrap();
        let c = parse(&["--config", f.to_str().unwrap(), "--lifetime", "9"]).unwrap();
        assert_eq!(c.lifetime, 9);
        assert!(c.faults.has(Fault::NearestMapChosen));
        std::fs::write(
            &f,
            format!("link: mn0\nhome-address: 2001:db8:aaaa::2\nhome-agent: 2001:db8:aaaa::1\nsa-in: [\"{SA_IN}\"]\nsa-out: \"{SA_OUT}\"\nprotect: [bu]\n"),
        )
        .unwrap();
        let c = parse(&["--config", f.to_str().unwrap()]).unwrap();
        assert!(c.esp.protect.bu);
        assert_eq!(
            (c.esp.sa_in.len(), c.esp.sa_out.map(|sa| sa.spi)),
            (1, Some(4096))
        );
        std::fs::write(
            &f,
            format!("link: mn0\nhome-address: 2001:db8:aaaa::2\nhome-agent: 2001:db8:aaaa::1\nsa-in: [\"{SA_IN}\"]\nprotect: [probe]\n"),
        )
        .unwrap();
        let e = parse(&["--config", f.to_str().unwrap()]).unwrap_err();
        assert!(e.0.contains("only its local BUs"), "{e}");
        std::fs::write(&f, "link: mn0\nbogus: 1\n").unwrap();
        let e = parse(&["--config", f.to_str().unwrap()]).unwrap_err();
        assert!(e.0.contains("mn.yaml:2:"), "{e}");
    }
}
