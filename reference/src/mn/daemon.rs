//! `hmip6-ref mn`: the mobile node on a real link, driven by the shared
//! [`daemon`](crate::daemon) loop.

use crate::daemon::{self, Setup};
use crate::log::s;

use super::config::MnConfig;
use super::{Mn, LINK};

crate::impl_engine!(Mn);

/// Run the MN until SIGTERM, SIGINT or `quit`. An error is a start-up
/// failure (a socket that could not be opened).
pub fn run(cfg: MnConfig) -> Result<(), String> {
    let setup = Setup {
        role: "mn",
        links: vec![("link", &cfg.link)],
        control: cfg.control.as_ref(),
        log: cfg.log,
    };
    let fields = vec![
        ("home_address", s(cfg.home_address)),
        ("home_agent", s(cfg.home_agent)),
    ];
    daemon::run(setup, fields, |macs, log, now| {
        Mn::new(cfg.clone(), macs[LINK], log, now)
    })
}
