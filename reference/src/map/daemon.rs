//! `hmip6-ref map`: the MAP on real links, driven by the shared
//! [`daemon`](crate::daemon) loop.

use std::time::Instant;

use crate::daemon::{self, Engine, Setup};
use crate::log::s;

use super::config::MapConfig;
use super::Map;

impl Engine for Map {
    fn handle_frame(&mut self, now: Instant, link: usize, frame: &[u8]) {
        Map::handle_frame(self, now, link, frame)
    }
    fn tick(&mut self, now: Instant) {
        Map::tick(self, now)
    }
    fn next_deadline(&self) -> Option<Instant> {
        Map::next_deadline(self)
    }
    fn take_output(&mut self) -> Vec<(usize, Vec<u8>)> {
        Map::take_output(self)
    }
    fn control(&mut self, now: Instant, command: &str) -> (String, bool) {
        Map::control(self, now, command)
    }
}

/// Run the MAP until SIGTERM, SIGINT or `quit`. An error is a start-up
/// failure (a socket that could not be opened).
pub fn run(cfg: MapConfig) -> Result<(), String> {
    let setup = Setup {
        role: "map",
        access: &cfg.access,
        core: &cfg.core,
        control: cfg.control.as_ref(),
        log: cfg.log,
    };
    let fields = vec![("address", s(cfg.address))];
    daemon::run(setup, fields, |macs, log, now| {
        Map::new(cfg.clone(), macs, log, now)
    })
}
