//! `wire`: a tester's codec for every header and option that Hierarchical
//! Mobile IPv6 (RFC 4140) puts on the wire.
//!
//! Modelled on smoltcp's `wire` module: each header has a checked
//! zero-copy view over a byte buffer (`Foo<T: AsRef<[u8]>>`, with
//! `new_checked`, field getters and, for `AsMut` buffers, setters) and a
//! plain `FooRepr` value that parses from and emits into bytes.
//!
//! Two rules make it a tester's codec rather than a stack's:
//!
//! - **Lenient parsing.** `Repr` parsers never panic and never give up at
//!   the first problem: every broken format rule becomes a
//!   [`Finding`](finding::Finding) reported through a [`Diag`](finding::Diag),
//!   and decoding goes on where it can. A header too short for its fixed part
//!   is reported as truncated and its octets kept raw.
//! - **Crafting anything.** Every length, checksum and padding the codec can
//!   compute is an `Option` in the `Repr`: `None` means "compute it", `Some`
//!   means "write this value", so a test can send a MAP option with Length 2
//!   or a BU with a bad checksum. Parsers return `None` where the wire value
//!   equals the computed one and `Some(value)` (with a finding) where it does
//!   not, so `parse(emit(r)) == r` for every well-formed `r`, and a decoded
//!   frame shows exactly what was odd about it. Reserved fields are plain
//!   values (0 by default) and padding options are explicit list items.
//!   Fields that depend on the neighbouring headers (Next Header, IPv6
//!   Payload Length, EtherType) are not in the module `Repr`s: their parsers
//!   return them and their emitters take them, and [`frame`] derives them.
//!
//! [`frame`] ties the headers into a layer stack: [`frame::Frame::decode`]
//! follows an Ethernet frame through IPv6, extension headers, tunnels nested
//! to any depth, ICMPv6 / Neighbour Discovery, the Mobility Header and IPsec,
//! and [`frame::Frame::emit`] builds one back.

pub mod addr;
pub mod checksum;
pub mod error;
pub mod finding;
pub mod frame;
pub mod hex;
pub mod proto;
pub mod rules;
pub mod samples;

pub mod binding_auth;
pub mod esp_auth;
pub mod ethernet;
pub mod fragment;
pub mod ipsec;
pub mod ipv6;
pub mod ipv6_options;
pub mod routing;

pub mod icmpv6;
pub mod nd;

pub mod mobility;
pub mod mobility_options;

pub use addr::MacAddr;
pub use error::{Error, Result};
pub use finding::{Diag, Finding};
