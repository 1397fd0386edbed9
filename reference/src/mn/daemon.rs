//! `hmip6-ref mn`: the mobile node on real links, driven by the shared
//! [`daemon`](crate::daemon) loop.

use crate::daemon::{self, Setup};
use crate::log::s;

use super::config::MnConfig;
use super::Mn;

crate::impl_engine!(Mn);

/// The interfaces of `--link`: `*` expands to every interface of the
/// network namespace but loopback, sorted by name (/proc/net/dev lists the
/// reading process's namespace), each named once.
pub fn interfaces(links: &[String]) -> Result<Vec<String>, String> {
    let mut out: Vec<String> = Vec::new();
    for l in links {
        let names = if l == "*" {
            let dev = std::fs::read_to_string("/proc/net/dev")
                .map_err(|e| format!("--link '*': cannot read /proc/net/dev: {e}"))?;
            let mut all: Vec<String> = dev
                .lines()
                .skip(2)
                .filter_map(|line| line.split(':').next())
                .map(|n| n.trim().to_string())
                .filter(|n| !n.is_empty() && n != "lo")
                .collect();
            all.sort();
            all
        } else {
            vec![l.clone()]
        };
        for n in names {
            if !out.contains(&n) {
                out.push(n);
            }
        }
    }
    if out.is_empty() {
        return Err("--link '*': no interface but loopback".into());
    }
    Ok(out)
}

/// Run the MN until SIGTERM, SIGINT or `quit`. An error is a start-up
/// failure (a socket that could not be opened).
pub fn run(cfg: MnConfig) -> Result<(), String> {
    let ifnames = interfaces(&cfg.link)?;
    // The log names of the links: `link` (the only or first), `link2`, ...
    // (leaked once: the daemon runs until the process ends).
    let links = ifnames
        .iter()
        .enumerate()
        .map(|(i, n)| {
            let name: &'static str = match i {
                0 => "link",
                i => Box::leak(format!("link{}", i + 1).into_boxed_str()),
            };
            (name, n.as_str())
        })
        .collect();
    let setup = Setup {
        role: "mn",
        links,
        control: cfg.control.as_ref(),
        log: cfg.log,
    };
    let fields = vec![
        ("home_address", s(cfg.home_address)),
        ("home_agent", s(cfg.home_agent)),
    ];
    daemon::run(setup, fields, |macs, log, now| {
        Mn::multihomed(cfg.clone(), macs, log, now)
    })
}
