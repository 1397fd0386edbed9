//! `hmip6-ref map`: the MAP on real links, driven by the shared
//! [`daemon`](crate::daemon) loop.

use crate::daemon::{self, Setup, ACCESS, CORE};
use crate::log::s;

use super::config::MapConfig;
use super::Map;

crate::impl_engine!(Map);

/// Run the MAP until SIGTERM, SIGINT or `quit`. An error is a start-up
/// failure (a socket that could not be opened).
pub fn run(cfg: MapConfig) -> Result<(), String> {
    let setup = Setup {
        role: "map",
        links: vec![("access", &cfg.access), ("core", &cfg.core)],
        control: cfg.control.as_ref(),
        log: cfg.log,
    };
    let fields = vec![("address", s(cfg.address))];
    daemon::run(setup, fields, |macs, log, now| {
        Map::new(cfg.clone(), [macs[ACCESS], macs[CORE]], log, now)
    })
}
