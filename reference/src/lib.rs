//! hmip6-ref: reference implementations under test for hmip6spec, written
//! from RFC 4140 as userspace daemons on raw links, each with named fault
//! switches that break one requirement on purpose.
//!
//! Role-independent parts: [`link`] (AF_PACKET I/O), [`daemon`] (the
//! daemon loop), [`config`] (the common flags and the YAML file), [`nd`]
//! (neighbour discovery), [`packet`] (ICMPv6 checks, ESP around packets,
//! echo replies), [`sad`] (the security association database: manually
//! keyed ESP SAs with anti-replay), [`ra`] (Router Advertisements with MAP
//! options), [`discovery`] (MAP option advertising and dynamic MAP
//! discovery), [`faults`], [`control`] (the control socket), [`log`]
//! (event logs), [`signals`], [`addr`].
//! Roles: [`map`] (Mobility Anchor Point), [`ar`] (Access Router), [`mn`]
//! (mobile node).

pub mod addr;
pub mod ar;
pub mod config;
pub mod control;
pub mod daemon;
pub mod discovery;
pub mod faults;
pub mod link;
pub mod log;
pub mod map;
pub mod mn;
pub mod nd;
pub mod packet;
pub mod ra;
pub mod sad;
pub mod signals;
