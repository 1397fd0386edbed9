//! `hmip6-ref ar`: the AR on real links, driven by the shared
//! [`daemon`](crate::daemon) loop.

use serde_json::Value;

use crate::daemon::{self, Setup, ACCESS, CORE};
use crate::log::s;

use super::config::ArConfig;
use super::Ar;

crate::impl_engine!(Ar);

/// Run the AR until SIGTERM, SIGINT or `quit`. An error is a start-up
/// failure (a socket that could not be opened).
pub fn run(cfg: ArConfig) -> Result<(), String> {
    let setup = Setup {
        role: "ar",
        links: vec![("access", &cfg.access), ("core", &cfg.core)],
        control: cfg.control.as_ref(),
        log: cfg.log,
    };
    let list = |v: Vec<String>| Value::from(v);
    let fields = vec![
        (
            "maps",
            list(cfg.maps.iter().map(|m| m.address.to_string()).collect()),
        ),
        (
            "probes",
            list(cfg.probes.iter().map(|a| a.to_string()).collect()),
        ),
        (
            "core_address",
            cfg.core_address.map(s).unwrap_or(Value::Null),
        ),
    ];
    daemon::run(setup, fields, |macs, log, now| {
        Ar::new(cfg.clone(), [macs[ACCESS], macs[CORE]], log, now)
    })
}
