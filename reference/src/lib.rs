//! hmip6-ref: reference implementations under test for hmip6spec, written
//! from RFC 4140 as userspace daemons on raw links, each with named fault
//! switches that break one requirement on purpose.
//!
//! Role-independent parts: [`link`] (AF_PACKET I/O), [`nd`] (neighbour
//! discovery), [`sad`] (the security association database: manually keyed
//! ESP SAs with anti-replay), [`discovery`] (MAP option advertising and
//! dynamic MAP discovery), [`faults`], [`control`] (the control socket),
//! [`log`] (event logs), [`signals`], [`addr`].
//! Roles: [`map`].

pub mod addr;
pub mod control;
pub mod discovery;
pub mod faults;
pub mod link;
pub mod log;
pub mod map;
pub mod nd;
pub mod sad;
pub mod signals;
