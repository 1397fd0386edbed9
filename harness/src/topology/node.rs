//! Emulated nodes: the ARs, MAPs, home agents and CNs a case needs around the
//! IUT, with addresses, a MAC and simple reflexes that run in the background
//! (DESIGN.md, "Topologies"). Their behaviour is data ([`NodeSpec`]), so case
//! files can carry it; cases script only what is under test.
//!
//! A node sits on one link and owns the EUI-64 link-local address of its MAC
//! plus [`NodeSpec::addresses`]. Its reflexes ([`Reflexes`]):
//! - `answer_ns` (default on): a Neighbor Solicitation for an owned address,
//!   sent to the solicited-node group or to the address itself, gets a
//!   solicited NA (S and O set, R if `router`) with the node's TLLA.
//! - `defend`: a DAD probe (NS from `::`) for one of these addresses gets an
//!   NA to ff02::1 (S clear), so the IUT's DAD fails. Owned addresses are
//!   *not* defended unless listed: a case asks for a conflict explicitly.
//! - `answer_echo` (default on): an Echo Request to an owned address or to an
//!   address in `behind` (hosts behind a router, e.g. a CN) gets a reply from
//!   that address, with the same identifier, sequence number and data.
//! - `router_advert`: RAs to ff02::1 every `interval` (the first one at
//!   once), and an RA in answer to Router Solicitations (unicast to the
//!   soliciting node, or to ff02::1 when it solicited from `::`).
//! - `forward` (default off): route between the node's interfaces, see
//!   below.
//!
//! Only well-formed input triggers a reflex, as on a conforming peer: ND
//! messages need Hop Limit 255 and Code 0, every ICMPv6 message a correct
//! checksum, and the frame must be addressed to the node (its MAC, the
//! broadcast MAC, or the multicast MAC of a group it listens to). Anything
//! else, malformed or not, is ignored; nothing panics.
//!
//! The YAML (or JSON) form, as a case file would carry it:
//! ```yaml
//! name: ar
//! link: access
//! router: true
//! behind: ["2001:db8:cccc::5"]        # a CN reached through this AR
//! reflexes:
//!   router_advert:
//!     interval: 200ms                 # "200ms", "1s", "1.5s", or a number of ms
//!     router_lifetime: 1800
//!     options:
//!       - prefix_information: {prefix_len: 64, l_flag: true, a_flag: true, r_flag: false,
//!                              valid_lifetime: 86400, preferred_lifetime: 14400,
//!                              prefix: "2001:db8:1::"}
//!       - map: {dist: 1, pref: 10, r_flag: true, valid_lifetime: 3600,
//!               address: "2001:db8:ffff::1", length: 0}   # crafted: Length 0
//! ```
//! Omitted: `mac` (deterministic from the topology's seed, see
//! [`Topology::start_nodes`]), `addresses` and `defend` (empty),
//! `answer_ns`/`answer_echo` (true), `router` (false), and everything of the
//! next section.
//!
//! # Routers on several links, forwarding
//! The link above is the node's *primary interface*; [`NodeSpec::interfaces`]
//! adds more, each on another link, with its own MAC (and EUI-64
//! link-local), addresses and on-link prefixes. Each interface answers NS
//! for its own addresses (its link-local and `addresses`); an echo request
//! to any of the node's addresses is answered on the interface it came in
//! on. RAs, answers to RS and `defend` belong to the primary interface only.
//! ```yaml
//! name: ar
//! link: access                        # primary interface
//! router: true
//! prefixes: ["2001:db8:1::/64"]       # on-link on `access` (optional here:
//!                                     # the RA's prefixes with L count too)
//! interfaces:
//!   - link: core
//!     mac: "02:00:00:00:01:10"        # optional, defaults as for `mac`
//!     addresses: ["2001:db8:2::1"]
//!     prefixes: ["2001:db8:2::/64"]
//! default_link: core                  # optional: where off-link packets go
//! reflexes:
//!   forward: true
//!   router_advert: {interval: 200ms, options: [...]}
//! ```
//! With `forward`, a frame sent to the MAC of the interface it arrives on,
//! carrying an IPv6 packet whose destination is not the node's (on any
//! interface) nor in `behind`, is routed:
//! - Not forwarded (dropped, counted in [`NodeCounters::forward_drops`]):
//!   link-local, multicast, unspecified or loopback source or destination,
//!   a packet cut short, a destination outside every interface's on-link
//!   prefixes when there is no `default_link`.
//! - The outgoing interface is the one with the longest on-link prefix
//!   containing the destination (else `default_link`, where the
//!   destination is resolved as if on-link). The next hop is the
//!   destination itself.
//! - Hop Limit 0 or 1: dropped, and an ICMPv6 Time Exceeded (code 0, as
//!   much of the packet as fits in 1280 octets) goes back to the source
//!   through the previous hop's MAC, unless the packet is itself an ICMPv6
//!   error. Otherwise Hop Limit is decremented, the Ethernet source becomes
//!   the outgoing interface's MAC and the destination the next hop's MAC;
//!   every other octet is kept (Ethernet padding is stripped).
//! - Neighbour cache, per interface, learned from every frame addressed to
//!   the node: IPv6 source -> Ethernet source (for link-local or on-link
//!   sources only), the SLLA of NS and RS, the TLLA of NA (for its
//!   target). Entries do not expire (a case is short); at most
//!   1024 entries.
//! - An unknown next hop: the packet waits (at most 3 per destination, the
//!   oldest dropped; at most 64 destinations, the oldest evicted) and an NS
//!   for it goes to its solicited-node group, from the outgoing interface's
//!   link-local, with SLLA. There are no timers: the NS is sent when the
//!   first packet starts waiting and again whenever the queue overflows.
//!   The queue is flushed as soon as the next hop's MAC is learned.
//!
//! [`Node::react`] (the primary interface's reflexes) and [`Node::handle`]
//! (every reflex, with forwarding state in a [`NodeState`]) are pure, so
//! all of this is unit-tested without a link.
//!
//! Running: [`Topology::start_nodes`] opens one tester-side AF_PACKET socket
//! per node interface and spawns one tokio task per node; the returned
//! [`Nodes`] borrows the topology (so the topology cannot be closed under
//! running reflexes) and aborts the tasks when dropped ([`Nodes::shutdown`]
//! also waits for them, so their sockets are closed when it returns).
//!
//! Nodes on the same link hear each other: all tester-side senders share the
//! tester's interface, whose sockets drop outgoing frames, so every frame a
//! node sends goes to the wire *and* straight to the other nodes' interfaces
//! on that link through an in-process channel (not back to the sender). The
//! engine's frames reach the nodes the same way if it sends them with
//! [`Nodes::send`]; frames sent on [`Topology::tester_link`] directly only
//! reach the IUT. A node too slow to keep up loses fanned-out frames (the
//! channel holds [`FANOUT_QUEUE`]), as on a congested link; no sender waits.

use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::marker::PhantomData;
use std::net::Ipv6Addr;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use futures::stream::{self, BoxStream, StreamExt};
use serde::{Deserialize, Serialize};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;
use tokio::time::{Instant, Interval, MissedTickBehavior};
use wire::checksum::PseudoHeader;
use wire::ethernet::EthernetRepr;
use wire::frame::{EthernetLayer, Frame, Ipv6Layer, Layer};
use wire::icmpv6::{Icmpv6Message, Icmpv6Repr};
use wire::ipv6::{solicited_node, Ipv6Repr};
use wire::nd::{LinkLayerAddrRepr, NdOption};
use wire::{proto, MacAddr};

use super::{Outgoing, PacketSocket, Side, Topology, TopologyError};

/// All-nodes multicast (ff02::1).
pub const ALL_NODES: Ipv6Addr = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 1);
/// All-routers multicast (ff02::2).
pub const ALL_ROUTERS: Ipv6Addr = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 2);
/// Hop Limit of every ND message (RFC 4861 6.1, 7.1).
const ND_HOP_LIMIT: u8 = 255;
/// Hop Limit of echo replies and ICMPv6 errors.
const ECHO_HOP_LIMIT: u8 = 64;
/// First value of the last MAC octet given to nodes without a `mac`
/// (0x01 and 0x02 are the tester's and the IUT's ends of the link).
const NODE_MAC_BASE: u8 = 0x10;
/// Packets waiting for one unresolved next hop.
pub const PENDING_PER_DESTINATION: usize = 3;
/// Unresolved next hops with waiting packets.
pub const PENDING_DESTINATIONS: usize = 64;
/// Neighbour cache entries per node.
pub const NEIGHBOUR_CACHE_SIZE: usize = 1024;
/// Frames fanned out to a node and not yet handled.
pub const FANOUT_QUEUE: usize = 256;
/// IPv6 minimum MTU: the bound of an ICMPv6 error (RFC 4443 2.4 (c)).
const MIN_MTU: usize = 1280;
const ETH_LEN: usize = 14;
const IPV6_LEN: usize = 40;
const ETHERTYPE_IPV6: [u8; 2] = [0x86, 0xdd];

fn yes() -> bool {
    true
}

fn is_true(b: &bool) -> bool {
    *b
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// An IPv6 prefix, written `"2001:db8:2::/64"`. Bits after the length are
/// cleared.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Ipv6Prefix {
    addr: Ipv6Addr,
    len: u8,
}

impl Ipv6Prefix {
    /// `addr/len`; `None` if `len` > 128.
    pub fn new(addr: Ipv6Addr, len: u8) -> Option<Ipv6Prefix> {
        if len > 128 {
            return None;
        }
        let masked = u128::from(addr) & Self::mask(len);
        Some(Ipv6Prefix {
            addr: Ipv6Addr::from(masked),
            len,
        })
    }

    fn mask(len: u8) -> u128 {
        match len {
            0 => 0,
            l => u128::MAX << (128 - u32::from(l.min(128))),
        }
    }

    pub fn addr(&self) -> Ipv6Addr {
        self.addr
    }

    pub fn prefix_len(&self) -> u8 {
        self.len
    }

    pub fn contains(&self, a: &Ipv6Addr) -> bool {
        u128::from(*a) & Self::mask(self.len) == u128::from(self.addr)
    }
}

impl fmt::Display for Ipv6Prefix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.len)
    }
}

impl FromStr for Ipv6Prefix {
    type Err = String;

    fn from_str(s: &str) -> Result<Ipv6Prefix, String> {
        let bad = || format!("expected an IPv6 prefix like \"2001:db8:2::/64\", found {s:?}");
        let (a, l) = s.trim().split_once('/').ok_or_else(bad)?;
        let addr: Ipv6Addr = a.parse().map_err(|_| bad())?;
        let len: u8 = l.parse().map_err(|_| bad())?;
        Ipv6Prefix::new(addr, len).ok_or_else(bad)
    }
}

impl Serialize for Ipv6Prefix {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Ipv6Prefix {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// One emulated node, as a case describes it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NodeSpec {
    /// Unique within the case (reports and [`Nodes`] look nodes up by it).
    pub name: String,
    /// The link it sits on (its primary interface).
    pub link: String,
    /// Its MAC; `None`: `02:s1:s2:s3:LL:NN` from the topology's seed, with
    /// `LL` the link number and `NN` = 0x10 + the node's position among the
    /// nodes of that link (see [`Topology::start_nodes`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mac: Option<MacAddr>,
    /// Unicast addresses it owns, besides the EUI-64 link-local of its MAC.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub addresses: Vec<Ipv6Addr>,
    /// Addresses of hosts behind it (it is their router): echo requests to
    /// them are answered as if they had come back through it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub behind: Vec<Ipv6Addr>,
    /// Whether it is a router: the R flag of its NAs, and it listens to
    /// ff02::2. A node that sends RAs should be one: an NA with R clear
    /// makes a host drop it from its default routers (RFC 4861 7.2.5).
    #[serde(default, skip_serializing_if = "is_false")]
    pub router: bool,
    /// On-link prefixes of the primary interface, for forwarding; the
    /// prefixes of its RAs' Prefix Information options with L set are
    /// on-link too.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub prefixes: Vec<Ipv6Prefix>,
    /// Further interfaces, each on another link (a router's).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub interfaces: Vec<InterfaceSpec>,
    /// With `forward`: the link (of one of its interfaces) where packets to
    /// destinations outside every on-link prefix go; `None`: dropped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_link: Option<String>,
    #[serde(default)]
    pub reflexes: Reflexes,
}

/// A further interface of a node, on another link than its primary one.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InterfaceSpec {
    pub link: String,
    /// `None`: from the topology's seed, as for [`NodeSpec::mac`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mac: Option<MacAddr>,
    /// Unicast addresses on this interface, besides its EUI-64 link-local.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub addresses: Vec<Ipv6Addr>,
    /// On-link prefixes of this interface, for forwarding.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub prefixes: Vec<Ipv6Prefix>,
}

impl InterfaceSpec {
    /// An interface on `link` with no address but its link-local.
    pub fn new(link: &str) -> InterfaceSpec {
        InterfaceSpec {
            link: link.to_string(),
            mac: None,
            addresses: Vec::new(),
            prefixes: Vec::new(),
        }
    }
}

/// What a node does by itself.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Reflexes {
    /// Answer NS for its addresses (default true).
    #[serde(default = "yes", skip_serializing_if = "is_true")]
    pub answer_ns: bool,
    /// Answer DAD probes for these addresses (owned or not).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub defend: Vec<Ipv6Addr>,
    /// Answer echo requests to its addresses and `behind` (default true).
    #[serde(default = "yes", skip_serializing_if = "is_true")]
    pub answer_echo: bool,
    /// Periodic RAs and answers to RS.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub router_advert: Option<RaSpec>,
    /// Forward unicast packets between its interfaces (default false; see
    /// the module documentation).
    #[serde(default, skip_serializing_if = "is_false")]
    pub forward: bool,
}

impl Default for Reflexes {
    fn default() -> Self {
        Reflexes {
            answer_ns: true,
            defend: Vec::new(),
            answer_echo: true,
            router_advert: None,
            forward: false,
        }
    }
}

fn default_interval() -> Duration {
    Duration::from_secs(1)
}

fn default_cur_hop_limit() -> u8 {
    64
}

fn default_router_lifetime() -> u16 {
    1800
}
/// The Router Advertisements a node sends. The fields are those of the RA
/// (RFC 4861 4.2, H flag RFC 6275 7.1, Prf RFC 4191); `options` are sent
/// exactly as listed (no Source Link-layer Address is added: list one if the
/// case wants it), lengths overridable as anywhere in `wire`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RaSpec {
    /// Time between periodic RAs (default 1 s; millisecond resolution, more
    /// than 0). Written `"200ms"`, `"1s"`, `"1.5s"` or as a number of ms.
    #[serde(default = "default_interval", with = "interval_serde")]
    pub interval: Duration,
    /// Default 64.
    #[serde(default = "default_cur_hop_limit")]
    pub cur_hop_limit: u8,
    #[serde(default, skip_serializing_if = "is_false")]
    pub m_flag: bool,
    #[serde(default, skip_serializing_if = "is_false")]
    pub o_flag: bool,
    #[serde(default, skip_serializing_if = "is_false")]
    pub h_flag: bool,
    /// Default Router Preference, 2 bits.
    #[serde(default)]
    pub prf: u8,
    /// Seconds; default 1800. More than 0 makes the node a default router.
    #[serde(default = "default_router_lifetime")]
    pub router_lifetime: u16,
    /// Milliseconds, 0 = unspecified.
    #[serde(default)]
    pub reachable_time: u32,
    /// Milliseconds, 0 = unspecified.
    #[serde(default)]
    pub retrans_timer: u32,
    #[serde(default)]
    pub options: Vec<NdOption>,
    /// Answer Router Solicitations (default true).
    #[serde(default = "yes", skip_serializing_if = "is_true")]
    pub answer_rs: bool,
}

impl RaSpec {
    /// RAs every `interval` with default fields and these options.
    pub fn new(interval: Duration, options: Vec<NdOption>) -> RaSpec {
        RaSpec {
            interval,
            cur_hop_limit: default_cur_hop_limit(),
            m_flag: false,
            o_flag: false,
            h_flag: false,
            prf: 0,
            router_lifetime: default_router_lifetime(),
            reachable_time: 0,
            retrans_timer: 0,
            options,
            answer_rs: true,
        }
    }

    fn message(&self) -> Icmpv6Message {
        Icmpv6Message::RouterAdvert {
            cur_hop_limit: self.cur_hop_limit,
            m_flag: self.m_flag,
            o_flag: self.o_flag,
            h_flag: self.h_flag,
            prf: self.prf,
            reserved: 0,
            router_lifetime: self.router_lifetime,
            reachable_time: self.reachable_time,
            retrans_timer: self.retrans_timer,
            options: self.options.clone(),
        }
    }
}

impl NodeSpec {
    /// A node with no address but its link-local and the default reflexes.
    pub fn new(name: &str, link: &str) -> NodeSpec {
        NodeSpec {
            name: name.to_string(),
            link: link.to_string(),
            mac: None,
            addresses: Vec::new(),
            behind: Vec::new(),
            router: false,
            prefixes: Vec::new(),
            interfaces: Vec::new(),
            default_link: None,
            reflexes: Reflexes::default(),
        }
    }
}

/// `interval` as a human duration or a number of milliseconds.
mod interval_serde {
    use std::time::Duration;

    use serde::de::{self, Visitor};
    use serde::{Deserializer, Serializer};

    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&super::format_interval(*d))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Duration;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str(r#"a duration such as "200ms" or "1s", or a number of milliseconds"#)
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Duration, E> {
                if v == 0 {
                    return Err(E::custom("interval must be more than 0"));
                }
                Ok(Duration::from_millis(v))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Duration, E> {
                u64::try_from(v)
                    .map_err(|_| E::custom("interval must be more than 0"))
                    .and_then(|v| self.visit_u64(v))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Duration, E> {
                super::parse_interval(v).map_err(E::custom)
            }
        }
        d.deserialize_any(V)
    }
}

/// Parses `"250ms"`, `"2s"`, `"1.5s"` to whole milliseconds (more than 0).
pub fn parse_interval(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let (num, scale) = if let Some(n) = s.strip_suffix("ms") {
        (n, 1.0)
    } else if let Some(n) = s.strip_suffix('s') {
        (n, 1000.0)
    } else {
        return Err(format!(
            "interval {s:?} needs a unit: \"200ms\" or \"1s\" (or a plain number of ms)"
        ));
    };
    let value: f64 = num
        .trim()
        .parse()
        .map_err(|_| format!("interval {s:?} is not a number followed by ms or s"))?;
    let ms = (value * scale).round();
    // Upper bound: a day is far more than any case waits, and keeps the cast exact.
    // NaN and infinities are outside the range too.
    if !(1.0..=86_400_000.0).contains(&ms) {
        return Err(format!(
            "interval {s:?} must be between 1ms and 24h (millisecond resolution)"
        ));
    }
    Ok(Duration::from_millis(ms as u64))
}

/// `"200ms"` or `"2s"`: the form [`parse_interval`] reads back.
pub fn format_interval(d: Duration) -> String {
    let ms = d.as_millis();
    if ms % 1000 == 0 {
        format!("{}s", ms / 1000)
    } else {
        format!("{ms}ms")
    }
}

pub use wire::ipv6::{eui64_address, link_local};

fn is_unicast(a: &Ipv6Addr) -> bool {
    !a.is_multicast() && !a.is_unspecified() && !a.is_loopback()
}

/// fe80::/10.
fn is_link_local(a: &Ipv6Addr) -> bool {
    a.segments()[0] & 0xffc0 == 0xfe80
}

/// An address a router may forward from or to: unicast, wider than a link.
fn routable(a: &Ipv6Addr) -> bool {
    is_unicast(a) && !is_link_local(a)
}

/// One interface of a node: the primary one (index 0) or one of
/// [`NodeSpec::interfaces`] (index 1 on), resolved.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Interface {
    link: String,
    mac: MacAddr,
    link_local: Ipv6Addr,
    addresses: Vec<Ipv6Addr>,
    prefixes: Vec<Ipv6Prefix>,
}

impl Interface {
    pub fn link(&self) -> &str {
        &self.link
    }

    pub fn mac(&self) -> MacAddr {
        self.mac
    }

    pub fn link_local(&self) -> Ipv6Addr {
        self.link_local
    }

    /// Its addresses besides the link-local.
    pub fn addresses(&self) -> &[Ipv6Addr] {
        &self.addresses
    }

    /// Its on-link prefixes (for the primary interface, those of its RAs
    /// with L set included).
    pub fn prefixes(&self) -> &[Ipv6Prefix] {
        &self.prefixes
    }

    /// Whether `a` is this interface's (link-local included).
    pub fn owns(&self, a: &Ipv6Addr) -> bool {
        *a == self.link_local || self.addresses.contains(a)
    }

    fn on_link(&self, a: &Ipv6Addr) -> bool {
        is_link_local(a) || self.prefixes.iter().any(|p| p.contains(a))
    }

    /// A global address to send ICMPv6 errors from, if it has one.
    fn global(&self) -> Option<Ipv6Addr> {
        self.addresses.iter().copied().find(routable)
    }
}

/// A node ready to react: its spec and resolved interfaces (MACs and
/// link-local addresses). [`Node::react`] and [`Node::handle`] are pure, so
/// reflexes are unit-tested without a link.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Node {
    spec: NodeSpec,
    /// The primary interface first, then `spec.interfaces` in order.
    ifaces: Vec<Interface>,
    /// Index in `ifaces` of `spec.default_link`.
    default_iface: Option<usize>,
}

impl Node {
    /// Resolves `spec` with `default_mac` (used when the spec names none)
    /// and checks it: a unicast MAC, unicast addresses, an RA interval > 0.
    /// A node with further interfaces needs a `mac` on each of them, or
    /// [`Node::with_default_macs`].
    pub fn new(spec: NodeSpec, default_mac: MacAddr) -> Result<Node, String> {
        Node::with_default_macs(spec, &[default_mac])
    }

    /// Like [`Node::new`], with a default MAC per interface (the primary
    /// first), and checks the interfaces too: each on its own link, with
    /// unicast addresses; `default_link` one of them.
    pub fn with_default_macs(spec: NodeSpec, default_macs: &[MacAddr]) -> Result<Node, String> {
        let who = format!("node {:?}", spec.name);
        if spec.name.is_empty() {
            return Err("a node needs a name".into());
        }
        let mut primary_prefixes = spec.prefixes.clone();
        let ra_options = spec
            .reflexes
            .router_advert
            .iter()
            .flat_map(|ra| &ra.options);
        for o in ra_options {
            if let NdOption::PrefixInformation(p) = o {
                if let Some(p) = Ipv6Prefix::new(p.prefix, p.prefix_len).filter(|_| p.l_flag) {
                    if !primary_prefixes.contains(&p) {
                        primary_prefixes.push(p);
                    }
                }
            }
        }
        let primary = (&spec.link, spec.mac, &spec.addresses, primary_prefixes);
        let others = spec
            .interfaces
            .iter()
            .map(|i| (&i.link, i.mac, &i.addresses, i.prefixes.clone()));
        let mut ifaces: Vec<Interface> = Vec::with_capacity(1 + spec.interfaces.len());
        for (k, (link, mac, addresses, prefixes)) in
            std::iter::once(primary).chain(others).enumerate()
        {
            let mac = mac
                .or_else(|| default_macs.get(k).copied())
                .ok_or_else(|| format!("{who}: its interface on link {link:?} needs a mac"))?;
            if mac.is_multicast() || mac.0 == [0; 6] {
                return Err(format!("{who}: MAC {mac} is not a unicast address"));
            }
            if ifaces.iter().any(|i| i.link == *link) {
                return Err(format!("{who}: two interfaces on link {link:?}"));
            }
            if let Some(a) = addresses.iter().find(|a| !is_unicast(a)) {
                return Err(format!("{who}: addresses holds {a}, not a unicast address"));
            }
            ifaces.push(Interface {
                link: link.clone(),
                mac,
                link_local: link_local(mac),
                addresses: addresses.clone(),
                prefixes,
            });
        }
        let lists = [("behind", &spec.behind), ("defend", &spec.reflexes.defend)];
        for (what, list) in lists {
            if let Some(a) = list.iter().find(|a| !is_unicast(a)) {
                return Err(format!("{who}: {what} holds {a}, not a unicast address"));
            }
        }
        if let Some(ra) = &spec.reflexes.router_advert {
            // tokio's interval panics on a zero period; a case file cannot
            // produce one (the parser refuses it) but Rust code can.
            if ra.interval.is_zero() {
                return Err(format!("{who}: router_advert interval must be more than 0"));
            }
        }
        let default_iface = match &spec.default_link {
            None => None,
            Some(l) => Some(ifaces.iter().position(|i| i.link == *l).ok_or_else(|| {
                format!("{who}: default_link {l:?} is not the link of one of its interfaces")
            })?),
        };
        Ok(Node {
            spec,
            ifaces,
            default_iface,
        })
    }

    pub fn spec(&self) -> &NodeSpec {
        &self.spec
    }

    pub fn name(&self) -> &str {
        &self.spec.name
    }

    /// The MAC of its primary interface.
    pub fn mac(&self) -> MacAddr {
        self.ifaces[0].mac
    }

    /// fe80::/64 + the EUI-64 of its primary MAC: the source of its ND
    /// messages there.
    pub fn link_local(&self) -> Ipv6Addr {
        self.ifaces[0].link_local
    }

    /// Its interfaces, the primary one first.
    pub fn interfaces(&self) -> &[Interface] {
        &self.ifaces
    }

    /// Its interface on link `link`.
    pub fn interface(&self, link: &str) -> Option<&Interface> {
        self.ifaces.iter().find(|i| i.link == link)
    }

    /// Whether `a` is one of its own addresses, on any interface (link-locals
    /// included).
    pub fn owns(&self, a: &Ipv6Addr) -> bool {
        self.ifaces.iter().any(|i| i.owns(a))
    }

    fn sends_ras(&self) -> bool {
        self.spec.reflexes.router_advert.is_some()
    }

    /// Whether a frame to `dst` reaches its primary interface (see
    /// [`Node::accepts_mac_on`]).
    pub fn accepts_mac(&self, dst: MacAddr) -> bool {
        self.accepts_mac_on(0, dst)
    }

    /// Whether a frame to `dst` reaches interface `iface`: its MAC,
    /// broadcast, all-nodes, all-routers (if it is a router or, on the
    /// primary interface, sends RAs), and the solicited-node groups of the
    /// interface's addresses (and, on the primary one, defended addresses).
    pub fn accepts_mac_on(&self, iface: usize, dst: MacAddr) -> bool {
        let Some(ifc) = self.ifaces.get(iface) else {
            return false;
        };
        if dst == ifc.mac || dst == MacAddr::BROADCAST {
            return true;
        }
        if !dst.is_multicast() {
            return false;
        }
        let defend: &[Ipv6Addr] = if iface == 0 {
            &self.spec.reflexes.defend
        } else {
            &[]
        };
        let group = |a: &Ipv6Addr| MacAddr::ipv6_multicast(a) == dst;
        group(&ALL_NODES)
            || ((self.spec.router || (iface == 0 && self.sends_ras())) && group(&ALL_ROUTERS))
            || std::iter::once(&ifc.link_local)
                .chain(&ifc.addresses)
                .chain(defend)
                .any(|a| group(&solicited_node(a)))
    }

    /// A periodic RA (to ff02::1), if the node sends RAs.
    pub fn periodic_ra(&self) -> Option<Frame> {
        self.router_advert(ALL_NODES, MacAddr::ipv6_multicast(&ALL_NODES))
    }

    /// What the node sends at an RA tick (on its primary interface).
    pub fn periodic(&self) -> Vec<Output> {
        self.periodic_ra()
            .into_iter()
            .map(|f| Output::reflex(0, &f))
            .collect()
    }

    fn router_advert(&self, dst: Ipv6Addr, dst_mac: MacAddr) -> Option<Frame> {
        let ra = self.spec.reflexes.router_advert.as_ref()?;
        let ifc = &self.ifaces[0];
        Some(icmp_frame(
            ifc.mac,
            dst_mac,
            ifc.link_local,
            dst,
            ND_HOP_LIMIT,
            ra.message(),
        ))
    }

    fn neighbor_advert(
        &self,
        ifc: &Interface,
        dst_mac: MacAddr,
        dst: Ipv6Addr,
        target: Ipv6Addr,
        s: bool,
    ) -> Frame {
        let na = Icmpv6Message::NeighborAdvert {
            r_flag: self.spec.router,
            s_flag: s,
            o_flag: true,
            reserved: 0,
            target,
            options: vec![NdOption::TargetLinkLayerAddr(LinkLayerAddrRepr {
                length: None,
                addr: ifc.mac,
            })],
        };
        // The target is the NA's source: it is ours (or defended as ours).
        icmp_frame(ifc.mac, dst_mac, target, dst, ND_HOP_LIMIT, na)
    }

    /// What the node sends on its primary interface in answer to `frame` (a
    /// decoded frame received there): nothing for anything not addressed to
    /// it, malformed, or not covered by its reflexes. Stateless: forwarding
    /// is [`Node::handle`]'s.
    pub fn react(&self, frame: &Frame) -> Vec<Frame> {
        self.react_on(0, frame)
    }

    /// Like [`Node::react`], for a frame received on interface `iface`; the
    /// answers go out on that interface.
    pub fn react_on(&self, iface: usize, frame: &Frame) -> Vec<Frame> {
        let Some(ifc) = self.ifaces.get(iface) else {
            return Vec::new();
        };
        let Some((eth, ip, icmp)) = icmp_layers(frame) else {
            return Vec::new();
        };
        if !self.accepts_mac_on(iface, eth.repr.dst) || !checksum_ok(&ip.repr, icmp) {
            return Vec::new();
        }
        let (src, dst) = (ip.repr.src, ip.repr.dst);
        let nd_ok = ip.repr.hop_limit == ND_HOP_LIMIT && icmp.code == 0;
        match &icmp.message {
            Icmpv6Message::NeighborSolicit {
                target, options, ..
            } => {
                if !nd_ok || target.is_multicast() || !options_ok(options) {
                    return Vec::new();
                }
                let slla = source_lla(options);
                if src.is_unspecified() {
                    // DAD probe (RFC 4862 5.4.3): to the solicited-node
                    // group, without SLLA; answered to all nodes, S clear.
                    if iface == 0
                        && dst == solicited_node(target)
                        && slla.is_none()
                        && self.spec.reflexes.defend.contains(target)
                    {
                        return vec![self.neighbor_advert(
                            ifc,
                            MacAddr::ipv6_multicast(&ALL_NODES),
                            ALL_NODES,
                            *target,
                            false,
                        )];
                    }
                    return Vec::new();
                }
                if self.spec.reflexes.answer_ns
                    && ifc.owns(target)
                    && (dst == solicited_node(target) || dst == *target)
                    && !src.is_multicast()
                {
                    let to = slla.unwrap_or(eth.repr.src);
                    return vec![self.neighbor_advert(ifc, to, src, *target, true)];
                }
                Vec::new()
            }
            Icmpv6Message::RouterSolicit { options, .. } => {
                let answers = self
                    .spec
                    .reflexes
                    .router_advert
                    .as_ref()
                    .is_some_and(|ra| ra.answer_rs);
                if iface != 0
                    || !answers
                    || !nd_ok
                    || !options_ok(options)
                    || !(dst == ALL_ROUTERS || ifc.owns(&dst))
                    || src.is_multicast()
                {
                    return Vec::new();
                }
                let slla = source_lla(options);
                let reply = if src.is_unspecified() {
                    // RFC 4861 6.1.1: an RS from :: carries no SLLA.
                    if slla.is_some() {
                        return Vec::new();
                    }
                    self.periodic_ra()
                } else {
                    self.router_advert(src, slla.unwrap_or(eth.repr.src))
                };
                reply.into_iter().collect()
            }
            Icmpv6Message::EchoRequest { ident, seq, data } => {
                if !self.spec.reflexes.answer_echo
                    || eth.repr.dst != ifc.mac
                    || !(self.owns(&dst) || self.spec.behind.contains(&dst))
                    || !is_unicast(&src)
                {
                    return Vec::new();
                }
                let reply = Icmpv6Message::EchoReply {
                    ident: *ident,
                    seq: *seq,
                    data: data.clone(),
                };
                vec![icmp_frame(
                    ifc.mac,
                    eth.repr.src,
                    dst,
                    src,
                    ECHO_HOP_LIMIT,
                    reply,
                )]
            }
            _ => Vec::new(),
        }
    }

    /// Everything the node does with `bytes`, a frame received on interface
    /// `iface`: learn neighbours (and send the packets that waited for
    /// them), answer it ([`Node::react_on`]) and, with `forward`, route it.
    /// `state` is the node's neighbour cache and waiting packets.
    pub fn handle(&self, state: &mut NodeState, iface: usize, bytes: &[u8]) -> Vec<Output> {
        if iface >= self.ifaces.len() {
            return Vec::new();
        }
        let frame = Frame::decode(bytes).frame;
        let mut out = self.learn(state, iface, bytes, &frame);
        out.extend(
            self.react_on(iface, &frame)
                .iter()
                .map(|f| Output::reflex(iface, f)),
        );
        if self.spec.reflexes.forward {
            out.extend(self.forward(state, iface, bytes));
        }
        out
    }

    /// Neighbour learning from a frame addressed to interface `iface`.
    fn learn(
        &self,
        state: &mut NodeState,
        iface: usize,
        bytes: &[u8],
        frame: &Frame,
    ) -> Vec<Output> {
        let ifc = &self.ifaces[iface];
        let Some(h) = RawIpv6::parse(bytes) else {
            return Vec::new();
        };
        if !self.accepts_mac_on(iface, h.eth_dst) {
            return Vec::new();
        }
        let mut learned = Vec::new();
        if is_unicast(&h.src)
            && !self.owns(&h.src)
            && (ifc.on_link(&h.src) || self.default_iface == Some(iface))
        {
            learned.push((h.src, h.eth_src));
        }
        if let Some((_, ip, icmp)) = icmp_layers(frame) {
            let nd_ok =
                ip.repr.hop_limit == ND_HOP_LIMIT && icmp.code == 0 && checksum_ok(&ip.repr, icmp);
            match &icmp.message {
                Icmpv6Message::NeighborSolicit { options, .. }
                | Icmpv6Message::RouterSolicit { options, .. }
                    if nd_ok && options_ok(options) && is_unicast(&ip.repr.src) =>
                {
                    if let Some(slla) = source_lla(options) {
                        learned.push((ip.repr.src, slla));
                    }
                }
                Icmpv6Message::NeighborAdvert {
                    target, options, ..
                } if nd_ok && options_ok(options) && !self.owns(target) => {
                    if let Some(tlla) = target_lla(options) {
                        learned.push((*target, tlla));
                    }
                }
                _ => {}
            }
        }
        let mut out = Vec::new();
        for (a, mac) in learned {
            out.extend(state.learn(iface, a, mac).into_iter().map(|bytes| Output {
                iface,
                bytes,
                kind: OutputKind::Forwarded,
            }));
        }
        out
    }

    /// The interface towards `dst`: longest on-link prefix, else the default.
    pub fn route(&self, dst: &Ipv6Addr) -> Option<usize> {
        let mut best: Option<(u8, usize)> = None;
        for (i, ifc) in self.ifaces.iter().enumerate() {
            for p in ifc.prefixes.iter().filter(|p| p.contains(dst)) {
                if best.is_none_or(|(len, _)| p.prefix_len() > len) {
                    best = Some((p.prefix_len(), i));
                }
            }
        }
        best.map(|(_, i)| i).or(self.default_iface)
    }

    /// Routes a frame received on `iface` (see the module documentation).
    fn forward(&self, state: &mut NodeState, iface: usize, bytes: &[u8]) -> Vec<Output> {
        let ifc = &self.ifaces[iface];
        let Some(h) = RawIpv6::parse(bytes) else {
            return Vec::new();
        };
        if h.eth_dst != ifc.mac || self.owns(&h.dst) || self.spec.behind.contains(&h.dst) {
            // Not sent to this router, or for its own reflexes.
            return Vec::new();
        }
        let total = ETH_LEN + IPV6_LEN + h.payload_len;
        let route = self.route(&h.dst);
        let (Some(out_if), true, true, true, true) = (
            route,
            routable(&h.src),
            routable(&h.dst),
            !h.eth_src.is_multicast(),
            bytes.len() >= total,
        ) else {
            state.dropped += 1;
            return Vec::new();
        };
        let packet = &bytes[..total];
        if h.hop_limit <= 1 {
            state.dropped += 1;
            return self.time_exceeded(iface, &h, packet).into_iter().collect();
        }
        let out_ifc = &self.ifaces[out_if];
        let mut p = packet.to_vec();
        p[ETH_LEN + 7] = h.hop_limit - 1;
        p[6..12].copy_from_slice(&out_ifc.mac.0);
        if let Some(mac) = state.neighbour(out_if, &h.dst) {
            p[..6].copy_from_slice(&mac.0);
            return vec![Output {
                iface: out_if,
                bytes: p,
                kind: OutputKind::Forwarded,
            }];
        }
        if state.enqueue(out_if, h.dst, p) {
            vec![self.neighbor_solicit(out_if, h.dst)]
        } else {
            Vec::new()
        }
    }

    /// An NS for `target` on interface `iface`, to its solicited-node group.
    fn neighbor_solicit(&self, iface: usize, target: Ipv6Addr) -> Output {
        let ifc = &self.ifaces[iface];
        let group = solicited_node(&target);
        let ns = Icmpv6Message::NeighborSolicit {
            reserved: 0,
            target,
            options: vec![NdOption::SourceLinkLayerAddr(LinkLayerAddrRepr {
                length: None,
                addr: ifc.mac,
            })],
        };
        let f = icmp_frame(
            ifc.mac,
            MacAddr::ipv6_multicast(&group),
            ifc.link_local,
            group,
            ND_HOP_LIMIT,
            ns,
        );
        Output::reflex(iface, &f)
    }

    /// Time Exceeded (code 0) for `packet` (Ethernet included), back
    /// through the previous hop; none for an ICMPv6 error.
    fn time_exceeded(&self, iface: usize, h: &RawIpv6, packet: &[u8]) -> Option<Output> {
        let ip = packet.get(ETH_LEN..)?;
        if h.next_header == proto::ICMPV6 && ip.get(IPV6_LEN).is_some_and(|t| *t < 128) {
            return None;
        }
        let ifc = &self.ifaces[iface];
        let src = ifc
            .global()
            .or_else(|| self.ifaces.iter().find_map(Interface::global))
            .unwrap_or(ifc.link_local);
        // RFC 4443 2.4 (c): the error fits in the minimum MTU.
        let room = MIN_MTU - IPV6_LEN - 8;
        let invoking = ip[..ip.len().min(room)].to_vec();
        let f = icmp_frame(
            ifc.mac,
            h.eth_src,
            src,
            h.src,
            ECHO_HOP_LIMIT,
            Icmpv6Message::TimeExceeded {
                unused: 0,
                invoking,
            },
        );
        Some(Output::reflex(iface, &f))
    }
}

/// An ICMPv6 message in an IPv6 packet in an Ethernet frame.
fn icmp_frame(
    src_mac: MacAddr,
    dst_mac: MacAddr,
    src: Ipv6Addr,
    dst: Ipv6Addr,
    hop_limit: u8,
    message: Icmpv6Message,
) -> Frame {
    Frame::new(vec![
        Layer::Ethernet(EthernetLayer {
            repr: EthernetRepr {
                dst: dst_mac,
                src: src_mac,
            },
            ethertype: None,
        }),
        Layer::Ipv6(Ipv6Layer {
            repr: Ipv6Repr::new(src, dst, hop_limit),
            next_header: None,
            payload_len: None,
        }),
        Layer::Icmpv6(Icmpv6Repr::new(message)),
    ])
}

/// The layers of a well-linked Ethernet/IPv6/ICMPv6 frame; `None` for
/// anything else, or odd linking fields (a wrong EtherType, Next Header or
/// Payload Length) or a cut frame: malformed, not for a reflex.
fn icmp_layers(frame: &Frame) -> Option<(&EthernetLayer, &Ipv6Layer, &Icmpv6Repr)> {
    let (eth, ip, icmp) = match frame.layers.as_slice() {
        [Layer::Ethernet(e), Layer::Ipv6(i), Layer::Icmpv6(m)]
        | [Layer::Ethernet(e), Layer::Ipv6(i), Layer::Icmpv6(m), Layer::Trailer(_)] => (e, i, m),
        _ => return None,
    };
    if eth.ethertype.is_some()
        || ip.next_header.is_some()
        || ip.payload_len.is_some()
        || ip.repr.version != 6
        || frame.truncate.is_some()
    {
        return None;
    }
    Some((eth, ip, icmp))
}

/// The Ethernet and IPv6 headers of a frame, read from its octets (so that
/// forwarding does not depend on the decoder's view of the rest).
#[derive(Clone, Copy, Debug)]
struct RawIpv6 {
    eth_dst: MacAddr,
    eth_src: MacAddr,
    payload_len: usize,
    next_header: u8,
    hop_limit: u8,
    src: Ipv6Addr,
    dst: Ipv6Addr,
}

impl RawIpv6 {
    fn parse(b: &[u8]) -> Option<RawIpv6> {
        let ip = b.get(ETH_LEN..ETH_LEN + IPV6_LEN)?;
        if b.get(12..14)? != ETHERTYPE_IPV6 || ip[0] >> 4 != 6 {
            return None;
        }
        let addr = |at: usize| {
            let mut o = [0u8; 16];
            o.copy_from_slice(&ip[at..at + 16]);
            Ipv6Addr::from(o)
        };
        Some(RawIpv6 {
            eth_dst: MacAddr::from_bytes(&b[..6]),
            eth_src: MacAddr::from_bytes(&b[6..12]),
            payload_len: usize::from(u16::from_be_bytes([ip[4], ip[5]])),
            next_header: ip[6],
            hop_limit: ip[7],
            src: addr(8),
            dst: addr(24),
        })
    }
}

/// A node's memory for forwarding: its neighbour cache and the packets
/// waiting for address resolution. Owned by the node's task; tests drive it
/// through [`Node::handle`].
#[derive(Clone, Debug, Default)]
pub struct NodeState {
    neighbours: HashMap<(usize, Ipv6Addr), MacAddr>,
    pending: HashMap<(usize, Ipv6Addr), Pending>,
    /// Orders `pending` by age.
    next_seq: u64,
    dropped: u64,
}

#[derive(Clone, Debug)]
struct Pending {
    since: u64,
    /// Ready to send but for the destination MAC.
    packets: VecDeque<Vec<u8>>,
}

impl NodeState {
    pub fn new() -> NodeState {
        NodeState::default()
    }

    /// The MAC learned for `addr` on interface `iface`.
    pub fn neighbour(&self, iface: usize, addr: &Ipv6Addr) -> Option<MacAddr> {
        self.neighbours.get(&(iface, *addr)).copied()
    }

    /// Number of neighbour cache entries.
    pub fn neighbours(&self) -> usize {
        self.neighbours.len()
    }

    /// Packets waiting for `addr` to be resolved on `iface`.
    pub fn waiting(&self, iface: usize, addr: &Ipv6Addr) -> usize {
        self.pending
            .get(&(iface, *addr))
            .map_or(0, |p| p.packets.len())
    }

    /// Packets the node was asked to route and did not (see
    /// [`NodeCounters::forward_drops`]).
    pub fn dropped(&self) -> u64 {
        self.dropped
    }

    /// Records `addr` at `mac` on `iface`; returns the packets that waited
    /// for it, addressed to it.
    fn learn(&mut self, iface: usize, addr: Ipv6Addr, mac: MacAddr) -> Vec<Vec<u8>> {
        if !is_unicast(&addr) || mac.is_multicast() || mac.0 == [0; 6] {
            return Vec::new();
        }
        let key = (iface, addr);
        if self.neighbours.len() < NEIGHBOUR_CACHE_SIZE || self.neighbours.contains_key(&key) {
            self.neighbours.insert(key, mac);
        }
        let Some(p) = self.pending.remove(&key) else {
            return Vec::new();
        };
        p.packets
            .into_iter()
            .map(|mut b| {
                b[..6].copy_from_slice(&mac.0);
                b
            })
            .collect()
    }

    /// Makes `packet` wait for `addr` on `iface`; true when an NS should go
    /// out (the first packet waits, or the queue overflowed).
    fn enqueue(&mut self, iface: usize, addr: Ipv6Addr, packet: Vec<u8>) -> bool {
        let key = (iface, addr);
        if let Some(p) = self.pending.get_mut(&key) {
            p.packets.push_back(packet);
            if p.packets.len() > PENDING_PER_DESTINATION {
                p.packets.pop_front();
                self.dropped += 1;
                return true;
            }
            return false;
        }
        if self.pending.len() >= PENDING_DESTINATIONS {
            let oldest = self
                .pending
                .iter()
                .min_by_key(|(_, p)| p.since)
                .map(|(k, _)| *k);
            if let Some(p) = oldest.and_then(|k| self.pending.remove(&k)) {
                self.dropped += p.packets.len() as u64;
            }
        }
        self.next_seq += 1;
        self.pending.insert(
            key,
            Pending {
                since: self.next_seq,
                packets: VecDeque::from([packet]),
            },
        );
        true
    }
}

/// What a frame a node sends is, for its counters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OutputKind {
    RouterAdvert,
    NeighborAdvert,
    NeighborSolicit,
    EchoReply,
    TimeExceeded,
    /// A packet routed through the node.
    Forwarded,
    Other,
}

/// A frame a node sends, and on which of its interfaces.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Output {
    /// Index in [`Node::interfaces`].
    pub iface: usize,
    pub bytes: Vec<u8>,
    pub kind: OutputKind,
}

impl Output {
    fn reflex(iface: usize, f: &Frame) -> Output {
        let kind = match f.icmpv6().map(|m| &m.message) {
            Some(Icmpv6Message::RouterAdvert { .. }) => OutputKind::RouterAdvert,
            Some(Icmpv6Message::NeighborAdvert { .. }) => OutputKind::NeighborAdvert,
            Some(Icmpv6Message::NeighborSolicit { .. }) => OutputKind::NeighborSolicit,
            Some(Icmpv6Message::EchoReply { .. }) => OutputKind::EchoReply,
            Some(Icmpv6Message::TimeExceeded { .. }) => OutputKind::TimeExceeded,
            _ => OutputKind::Other,
        };
        Output {
            iface,
            bytes: f.emit(),
            kind,
        }
    }
}
/// The checksum the decoder found: `None` is a verified one; a wire 0xffff
/// is valid only where 0x0000 is computed (its one's-complement twin).
fn checksum_ok(ip: &Ipv6Repr, icmp: &Icmpv6Repr) -> bool {
    match icmp.checksum {
        None => true,
        Some(0xffff) => {
            let canonical = Icmpv6Repr {
                checksum: None,
                ..icmp.clone()
            };
            let bytes = canonical.to_bytes(&PseudoHeader {
                src: ip.src,
                dst: ip.dst,
                next_header: proto::ICMPV6,
            });
            bytes.get(2..4) == Some(&[0, 0][..])
        }
        Some(_) => false,
    }
}

/// RFC 4861 6.1/7.1: a packet with a malformed option (kept as `Raw` by
/// the decoder) or an option length override is silently discarded.
fn options_ok(options: &[NdOption]) -> bool {
    options.iter().all(|o| match o {
        NdOption::Raw { .. } => false,
        NdOption::SourceLinkLayerAddr(l) | NdOption::TargetLinkLayerAddr(l) => l.length.is_none(),
        _ => true,
    })
}

fn source_lla(options: &[NdOption]) -> Option<MacAddr> {
    options.iter().find_map(|o| match o {
        NdOption::SourceLinkLayerAddr(l) => Some(l.addr),
        _ => None,
    })
}

fn target_lla(options: &[NdOption]) -> Option<MacAddr> {
    options.iter().find_map(|o| match o {
        NdOption::TargetLinkLayerAddr(l) => Some(l.addr),
        _ => None,
    })
}

/// What a node has done so far; watch it with [`Nodes::wait_for`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NodeCounters {
    /// RAs sent, periodic and in answer to RS.
    pub router_adverts: u64,
    pub neighbor_adverts: u64,
    pub echo_replies: u64,
    /// NSs sent to resolve a next hop (forwarding).
    pub neighbor_solicits: u64,
    /// Packets routed through the node and sent on.
    pub forwarded: u64,
    /// ICMPv6 Time Exceeded messages sent.
    pub time_exceeded: u64,
    /// Packets it was asked to route and did not: no route, a bad address,
    /// Hop Limit exhausted, a resolution queue overflowed.
    pub forward_drops: u64,
    /// Frames it failed to send (see `last_error`).
    pub send_errors: u64,
    /// Set when the node's socket failed; its reflexes then stopped.
    pub stopped: bool,
    pub last_error: Option<String>,
}

/// A frame fanned out to a node: the interface it arrives on, its octets.
type FanoutItem = (usize, Arc<[u8]>);

/// One node interface on a link, as the fan-out sees it.
#[derive(Debug)]
struct Member {
    node: usize,
    iface: usize,
    tx: mpsc::Sender<FanoutItem>,
}

/// The in-process side of every link: who listens on it (see the module
/// documentation).
#[derive(Debug, Default)]
struct Fanout {
    /// Indexed by the topology's link number.
    links: Vec<Vec<Member>>,
}

impl Fanout {
    /// Hands `bytes`, just sent on link `link`, to every node interface on
    /// that link but the sender's (`from`, a node index). Never waits: a
    /// full queue loses the frame.
    fn deliver(&self, link: usize, from: Option<usize>, bytes: &[u8]) {
        let Some(members) = self.links.get(link) else {
            return;
        };
        let mut shared: Option<Arc<[u8]>> = None;
        for m in members.iter().filter(|m| Some(m.node) != from) {
            let b = shared.get_or_insert_with(|| Arc::from(bytes)).clone();
            let _ = m.tx.try_send((m.iface, b));
        }
    }
}

/// Running nodes. Borrows the topology, so the topology outlives them;
/// dropping this aborts every reflex.
pub struct Nodes<'t> {
    nodes: Vec<Arc<Node>>,
    links: Vec<String>,
    counters: Vec<watch::Receiver<NodeCounters>>,
    tasks: Vec<JoinHandle<()>>,
    fanout: Arc<Fanout>,
    /// The topology's link names and tester sockets, by link number.
    link_names: Vec<String>,
    tester: Vec<Arc<PacketSocket>>,
    _topology: PhantomData<&'t Topology>,
}

impl fmt::Debug for Nodes<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Nodes")
            .field("nodes", &self.nodes)
            .field("links", &self.links)
            .finish()
    }
}

impl Topology {
    /// Starts emulated nodes: checks the specs (unique names, existing
    /// links, see [`Node::with_default_macs`]), gives each node interface
    /// without a MAC `02:s1:s2:s3:LL:NN` (the link's tester MAC with last
    /// octet `NN` = 0x10 + its position among the node interfaces of its
    /// link, in spec order, a node's primary interface before its others),
    /// opens a tester-side socket per node interface and spawns its
    /// reflexes. RAs start at once. Must be called within a tokio runtime.
    pub fn start_nodes(&self, specs: &[NodeSpec]) -> Result<Nodes<'_>, TopologyError> {
        let invalid = TopologyError::InvalidSpec;
        let mut nodes: Vec<Node> = Vec::with_capacity(specs.len());
        // Per node, the link number of each of its interfaces.
        let mut node_links: Vec<Vec<usize>> = Vec::with_capacity(specs.len());
        let mut per_link = vec![0usize; self.links.len()];
        for (i, spec) in specs.iter().enumerate() {
            if specs[..i].iter().any(|o| o.name == spec.name) {
                return Err(invalid(format!("node {:?} appears twice", spec.name)));
            }
            let link_names =
                std::iter::once(&spec.link).chain(spec.interfaces.iter().map(|i| &i.link));
            let mut links = Vec::with_capacity(1 + spec.interfaces.len());
            let mut macs = Vec::with_capacity(1 + spec.interfaces.len());
            for name in link_names {
                let link = self.link_index(name).map_err(|_| {
                    invalid(format!(
                        "node {:?} is on link {:?}, which this topology does not have",
                        spec.name, name
                    ))
                })?;
                let nth = per_link[link];
                per_link[link] += 1;
                let last = u8::try_from(nth)
                    .ok()
                    .and_then(|n| NODE_MAC_BASE.checked_add(n))
                    .ok_or_else(|| {
                        invalid(format!("too many nodes on link {name:?} for default MACs"))
                    })?;
                let mut mac = self.links[link].tester_mac;
                mac[5] = last;
                links.push(link);
                macs.push(MacAddr(mac));
            }
            let node = Node::with_default_macs(spec.clone(), &macs).map_err(invalid)?;
            for (ifc, link) in node.ifaces.iter().zip(&links) {
                let clash = nodes.iter().zip(&node_links).find(|(o, o_links)| {
                    o.ifaces
                        .iter()
                        .zip(o_links.iter())
                        .any(|(oi, ol)| ol == link && oi.mac == ifc.mac)
                });
                if let Some((o, _)) = clash {
                    return Err(invalid(format!(
                        "nodes {:?} and {:?} have the same MAC {} on link {:?}",
                        o.name(),
                        node.name(),
                        ifc.mac,
                        ifc.link
                    )));
                }
            }
            nodes.push(node);
            node_links.push(links);
        }
        // Every socket first, so a failure leaves no task running.
        let mut sockets = Vec::with_capacity(nodes.len());
        for node in &nodes {
            let mut own = Vec::with_capacity(node.ifaces.len());
            for ifc in &node.ifaces {
                own.push(self.open_socket(Side::Tester, &ifc.link, Outgoing::Drop)?);
            }
            sockets.push(own);
        }
        let mut fanout = Fanout {
            links: (0..self.links.len()).map(|_| Vec::new()).collect(),
        };
        let mut inboxes = Vec::with_capacity(nodes.len());
        for (n, links) in node_links.iter().enumerate() {
            let (tx, rx) = mpsc::channel(FANOUT_QUEUE);
            for (iface, &link) in links.iter().enumerate() {
                fanout.links[link].push(Member {
                    node: n,
                    iface,
                    tx: tx.clone(),
                });
            }
            inboxes.push(rx);
        }
        let fanout = Arc::new(fanout);
        let mut running = Nodes {
            nodes: Vec::with_capacity(nodes.len()),
            links: Vec::with_capacity(nodes.len()),
            counters: Vec::with_capacity(nodes.len()),
            tasks: Vec::with_capacity(nodes.len()),
            fanout: fanout.clone(),
            link_names: self.links.iter().map(|l| l.name.clone()).collect(),
            tester: self.tester_sockets.clone(),
            _topology: PhantomData,
        };
        let parts = nodes.into_iter().zip(sockets).zip(node_links).zip(inboxes);
        for (me, (((node, sockets), links), inbox)) in parts.enumerate() {
            let node = Arc::new(node);
            let (tx, rx) = watch::channel(NodeCounters::default());
            running.links.push(node.spec.link.clone());
            let task = Task {
                node: node.clone(),
                me,
                sockets: sockets.into_iter().map(Arc::new).collect(),
                links,
                fanout: fanout.clone(),
                counters: tx,
            };
            running.tasks.push(tokio::spawn(task.run(inbox)));
            running.nodes.push(node);
            running.counters.push(rx);
        }
        Ok(running)
    }
}

impl Nodes<'_> {
    /// The running nodes, in spec order.
    pub fn nodes(&self) -> impl Iterator<Item = &Node> {
        self.nodes.iter().map(|n| n.as_ref())
    }

    /// The node called `name`.
    pub fn node(&self, name: &str) -> Option<&Node> {
        self.index(name).map(|i| self.nodes[i].as_ref())
    }

    fn index(&self, name: &str) -> Option<usize> {
        self.nodes.iter().position(|n| n.name() == name)
    }

    /// What node `name` has done so far.
    pub fn counters(&self, name: &str) -> Option<NodeCounters> {
        self.index(name).map(|i| self.counters[i].borrow().clone())
    }

    /// Sends `frame` as is on link `link` from the tester's end (the
    /// [`Topology::tester_link`] socket), and hands it to every node on that
    /// link as well: the way for the engine to send a frame the nodes must
    /// hear.
    pub async fn send(&self, link: &str, frame: &[u8]) -> Result<(), TopologyError> {
        let i = self
            .link_names
            .iter()
            .position(|l| l == link)
            .ok_or_else(|| TopologyError::NoSuchLink(link.to_string()))?;
        self.tester[i]
            .send(frame)
            .await
            .map_err(super::io_ctx(format!("send on {link}")))?;
        self.fanout.deliver(i, None, frame);
        Ok(())
    }

    /// Waits until node `name`'s counters satisfy `pred` (checked at once,
    /// then at every change) and returns them; `None` at `deadline`, for an
    /// unknown name, or once the node stopped without satisfying `pred`.
    pub async fn wait_for(
        &self,
        name: &str,
        deadline: Instant,
        mut pred: impl FnMut(&NodeCounters) -> bool,
    ) -> Option<NodeCounters> {
        let mut rx = self.counters[self.index(name)?].clone();
        let mut satisfied = false;
        let waited = tokio::time::timeout_at(
            deadline,
            rx.wait_for(|c| {
                satisfied = pred(c);
                satisfied || c.stopped
            }),
        )
        .await;
        let counters = match waited {
            Ok(Ok(c)) => Some(c.clone()),
            _ => None,
        };
        counters.filter(|_| satisfied)
    }

    /// Stops every reflex and waits until the tasks are gone (and with them
    /// the nodes' sockets). Dropping `Nodes` stops them too, without waiting.
    pub async fn shutdown(mut self) {
        let tasks = std::mem::take(&mut self.tasks);
        for t in &tasks {
            t.abort();
        }
        for t in tasks {
            let _ = t.await;
        }
    }
}

impl Drop for Nodes<'_> {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

/// Resolves at the next RA tick, or never for a node without RAs.
async fn tick(timer: &mut Option<Interval>) {
    match timer {
        Some(t) => {
            t.tick().await;
        }
        None => std::future::pending().await,
    }
}

/// One running node.
struct Task {
    node: Arc<Node>,
    /// Its index in the fan-out.
    me: usize,
    /// One per interface.
    sockets: Vec<Arc<PacketSocket>>,
    /// The link number of each interface.
    links: Vec<usize>,
    fanout: Arc<Fanout>,
    counters: watch::Sender<NodeCounters>,
}

/// What arrives at a node: on which interface, and the frame (or why its
/// socket failed).
type Input = (usize, std::io::Result<Vec<u8>>);

impl Task {
    /// Frames from every interface's socket and from the fan-out, as one
    /// stream (cancel-safe: a pending receive lives in the stream).
    fn inputs(
        &self,
        inbox: mpsc::Receiver<FanoutItem>,
    ) -> stream::SelectAll<BoxStream<'static, Input>> {
        let mut all: Vec<BoxStream<'static, Input>> = Vec::with_capacity(self.sockets.len() + 1);
        for (k, s) in self.sockets.iter().enumerate() {
            all.push(
                stream::unfold(s.clone(), move |s| async move {
                    let r = s.recv().await.map(|f| f.bytes);
                    Some(((k, r), s))
                })
                .boxed(),
            );
        }
        all.push(
            stream::unfold(inbox, |mut rx| async move {
                let (k, b) = rx.recv().await?;
                Some(((k, Ok(b.to_vec())), rx))
            })
            .boxed(),
        );
        stream::select_all(all)
    }

    /// The reflexes: handle what arrives, answer, forward, and send RAs on
    /// time.
    async fn run(self, inbox: mpsc::Receiver<FanoutItem>) {
        let node = self.node.clone();
        let mut timer = node.spec.reflexes.router_advert.as_ref().map(|ra| {
            // The first tick is immediate: the first RA goes out at once.
            let mut t = tokio::time::interval(ra.interval);
            t.set_missed_tick_behavior(MissedTickBehavior::Delay);
            t
        });
        let mut inputs = self.inputs(inbox);
        let mut state = NodeState::new();
        loop {
            let out: Vec<Output> = tokio::select! {
                input = inputs.next() => match input {
                    Some((k, Ok(bytes))) => node.handle(&mut state, k, &bytes),
                    Some((k, Err(e))) => {
                        let link = node.ifaces.get(k).map_or("?", |i| i.link.as_str());
                        self.counters.send_modify(|c| {
                            c.stopped = true;
                            c.last_error =
                                Some(format!("node {}: receive on {link}: {e}", node.name()));
                        });
                        return;
                    }
                    // Cannot happen: the sockets' streams never end.
                    None => return,
                },
                () = tick(&mut timer) => node.periodic(),
            };
            for o in out {
                self.send(o).await;
            }
            self.counters.send_if_modified(|c| {
                let changed = c.forward_drops != state.dropped();
                c.forward_drops = state.dropped();
                changed
            });
        }
    }

    /// Sends `o` on the wire and to the other nodes on its link.
    async fn send(&self, o: Output) {
        let (Some(socket), Some(&link)) = (self.sockets.get(o.iface), self.links.get(o.iface))
        else {
            return;
        };
        let sent = socket.send(&o.bytes).await;
        if sent.is_ok() {
            self.fanout.deliver(link, Some(self.me), &o.bytes);
        }
        let name = self.node.name();
        self.counters.send_modify(|c| match sent {
            Ok(()) => match o.kind {
                OutputKind::RouterAdvert => c.router_adverts += 1,
                OutputKind::NeighborAdvert => c.neighbor_adverts += 1,
                OutputKind::NeighborSolicit => c.neighbor_solicits += 1,
                OutputKind::EchoReply => c.echo_replies += 1,
                OutputKind::TimeExceeded => c.time_exceeded += 1,
                OutputKind::Forwarded => c.forwarded += 1,
                OutputKind::Other => {}
            },
            Err(ref e) => {
                c.send_errors += 1;
                c.last_error = Some(format!("node {name}: send: {e}"));
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wire::nd::{MapOptionRepr, PrefixInfoRepr};
    use wire::samples;
    use wire::samples::addr::{AR_LL, AR_MAC, CN, HA, LCOA, MAP, MAP_MAC, MN_LL, MN_MAC, PREFIX};

    fn sample(name: &str) -> Frame {
        samples::all()
            .into_iter()
            .find(|s| s.name == name)
            .unwrap_or_else(|| panic!("no sample {name}"))
            .frame
    }

    /// Decodes what a node would put on the wire: the reply as the IUT sees it.
    fn wire_form(f: &Frame) -> Frame {
        let d = Frame::decode(&f.emit());
        assert!(
            d.findings.is_empty(),
            "reply has findings: {:?}",
            d.findings
        );
        d.frame
    }

    fn ra_spec() -> RaSpec {
        RaSpec::new(
            Duration::from_millis(200),
            vec![
                NdOption::PrefixInformation(PrefixInfoRepr::new(
                    PREFIX, 64, true, true, 86400, 14400,
                )),
                NdOption::Map(MapOptionRepr::new(1, 10, true, 3600, MAP)),
            ],
        )
    }

    /// The MN of the samples: MN_MAC, owning LCOA.
    fn mn() -> Node {
        let mut s = NodeSpec::new("mn", "access");
        s.mac = Some(MN_MAC);
        s.addresses = vec![LCOA];
        Node::new(s, MacAddr([2, 0, 0, 0, 0, 0x99])).unwrap()
    }

    /// An AR on AR_MAC with a CN behind it, sending RAs.
    fn ar() -> Node {
        let mut s = NodeSpec::new("ar", "access");
        s.mac = Some(AR_MAC);
        s.router = true;
        s.behind = vec![CN];
        s.reflexes.router_advert = Some(ra_spec());
        Node::new(s, MacAddr([2, 0, 0, 0, 0, 0x99])).unwrap()
    }

    fn icmp(f: &Frame) -> &Icmpv6Message {
        &f.icmpv6().expect("an ICMPv6 message").message
    }

    fn addrs(f: &Frame) -> (MacAddr, MacAddr, Ipv6Addr, Ipv6Addr, u8) {
        let Layer::Ethernet(e) = &f.layers[0] else {
            panic!("no Ethernet layer")
        };
        let Layer::Ipv6(i) = &f.layers[1] else {
            panic!("no IPv6 layer")
        };
        (
            e.repr.src,
            e.repr.dst,
            i.repr.src,
            i.repr.dst,
            i.repr.hop_limit,
        )
    }

    #[test]
    fn ns_for_own_address_gets_solicited_na_with_tlla() {
        // "ns": the AR asks for LCOA at its solicited-node group, with SLLA.
        let out = mn().react(&sample("ns"));
        assert_eq!(out.len(), 1);
        let na = wire_form(&out[0]);
        assert_eq!(addrs(&na), (MN_MAC, AR_MAC, LCOA, AR_LL, 255));
        assert_eq!(
            icmp(&na),
            &Icmpv6Message::NeighborAdvert {
                r_flag: false,
                s_flag: true,
                o_flag: true,
                reserved: 0,
                target: LCOA,
                options: vec![NdOption::TargetLinkLayerAddr(LinkLayerAddrRepr {
                    length: None,
                    addr: MN_MAC,
                })],
            }
        );
    }

    #[test]
    fn ns_for_router_link_local_gets_na_with_r_flag() {
        let ar = ar();
        let sn = solicited_node(&ar.link_local());
        let ns = Frame::new(vec![
            Layer::ethernet(MN_MAC, MacAddr::ipv6_multicast(&sn)),
            Layer::ipv6(MN_LL, sn, 255),
            Layer::Icmpv6(Icmpv6Repr::new(Icmpv6Message::NeighborSolicit {
                reserved: 0,
                target: ar.link_local(),
                options: vec![NdOption::SourceLinkLayerAddr(LinkLayerAddrRepr {
                    length: None,
                    addr: MN_MAC,
                })],
            })),
        ]);
        let out = ar.react(&wire_form(&ns));
        assert_eq!(out.len(), 1);
        assert_eq!(
            addrs(&out[0]),
            (AR_MAC, MN_MAC, ar.link_local(), MN_LL, 255)
        );
        assert!(matches!(
            icmp(&out[0]),
            Icmpv6Message::NeighborAdvert { r_flag: true, s_flag: true, target, .. }
                if *target == ar.link_local()
        ));
        // The same NS sent unicast to the target address is answered too.
        let mut uni = ns.clone();
        uni.layers[0] = Layer::ethernet(MN_MAC, AR_MAC);
        uni.layers[1] = Layer::ipv6(MN_LL, ar.link_local(), 255);
        assert_eq!(ar.react(&wire_form(&uni)).len(), 1);
    }

    #[test]
    fn ns_for_another_address_or_malformed_gets_nothing() {
        // The AR does not own LCOA.
        assert!(ar().react(&sample("ns")).is_empty());
        let mn = mn();
        // answer_ns off.
        let mut quiet = mn.spec().clone();
        quiet.reflexes.answer_ns = false;
        let quiet = Node::new(quiet, MN_MAC).unwrap();
        assert!(quiet.react(&sample("ns")).is_empty());
        // Hop Limit 64: not a valid ND message.
        let mut f = sample("ns");
        if let Layer::Ipv6(i) = &mut f.layers[1] {
            i.repr.hop_limit = 64;
        }
        assert!(mn.react(&wire_form_lenient(&f)).is_empty());
        // A bad checksum.
        let mut f = sample("ns");
        if let Layer::Icmpv6(m) = &mut f.layers[2] {
            m.checksum = Some(0x1234);
        }
        assert!(mn.react(&wire_form_lenient(&f)).is_empty());
        // Addressed to another node's MAC.
        let mut f = sample("ns");
        f.layers[0] = Layer::ethernet(AR_MAC, MAP_MAC);
        assert!(mn.react(&f).is_empty());
    }

    /// Decodes a deliberately broken frame (findings expected).
    fn wire_form_lenient(f: &Frame) -> Frame {
        Frame::decode(&f.emit()).frame
    }

    #[test]
    fn dad_probe_for_defended_address_gets_na_to_all_nodes() {
        let probe = sample("ns-dad");
        // Owning LCOA is not enough: only listed addresses are defended.
        assert!(mn().react(&probe).is_empty());
        let mut s = NodeSpec::new("squatter", "access");
        s.mac = Some(MAP_MAC);
        s.reflexes.defend = vec![LCOA];
        let squatter = Node::new(s, MAP_MAC).unwrap();
        let out = squatter.react(&probe);
        assert_eq!(out.len(), 1);
        let na = wire_form(&out[0]);
        assert_eq!(
            addrs(&na),
            (
                MAP_MAC,
                MacAddr::ipv6_multicast(&ALL_NODES),
                LCOA,
                ALL_NODES,
                255
            )
        );
        assert!(matches!(
            icmp(&na),
            Icmpv6Message::NeighborAdvert { s_flag: false, o_flag: true, target, .. }
                if *target == LCOA
        ));
        // A defended address is not answered for ordinary resolution.
        assert!(squatter.react(&sample("ns")).is_empty());
    }

    #[test]
    fn echo_request_to_behind_address_gets_reply_with_same_ident_seq_data() {
        let ar = ar();
        let req = Frame::new(vec![
            Layer::ethernet(MN_MAC, AR_MAC),
            Layer::ipv6(LCOA, CN, 64),
            Layer::Icmpv6(Icmpv6Repr::new(Icmpv6Message::EchoRequest {
                ident: 0x4242,
                seq: 3,
                data: b"ping payload".to_vec(),
            })),
        ]);
        let out = ar.react(&wire_form(&req));
        assert_eq!(out.len(), 1);
        let rep = wire_form(&out[0]);
        assert_eq!(addrs(&rep), (AR_MAC, MN_MAC, CN, LCOA, 64));
        assert_eq!(
            icmp(&rep),
            &Icmpv6Message::EchoReply {
                ident: 0x4242,
                seq: 3,
                data: b"ping payload".to_vec(),
            }
        );
        // Not behind it, or echo turned off: nothing.
        let mut other = req.clone();
        other.layers[1] = Layer::ipv6(LCOA, HA, 64);
        assert!(ar.react(&wire_form(&other)).is_empty());
        let mut off = ar.spec().clone();
        off.reflexes.answer_echo = false;
        assert!(Node::new(off, AR_MAC)
            .unwrap()
            .react(&wire_form(&req))
            .is_empty());
        // The sample "echo-request" (CN -> LCOA) reaches the MN's own address.
        let out = mn().react(&sample("echo-request"));
        assert_eq!(addrs(&out[0]), (MN_MAC, AR_MAC, LCOA, CN, 64));
    }

    #[test]
    fn rs_gets_ra_and_periodic_ra_goes_to_all_nodes() {
        let ar = ar();
        let out = ar.react(&sample("rs"));
        assert_eq!(out.len(), 1);
        let ra = wire_form(&out[0]);
        assert_eq!(addrs(&ra), (AR_MAC, MN_MAC, ar.link_local(), MN_LL, 255));
        assert_eq!(icmp(&ra), &ra_spec().message());
        let periodic = wire_form(&ar.periodic_ra().unwrap());
        assert_eq!(
            addrs(&periodic),
            (
                AR_MAC,
                MacAddr::ipv6_multicast(&ALL_NODES),
                ar.link_local(),
                ALL_NODES,
                255
            )
        );
        // An RS from :: is answered to all nodes.
        let rs = Frame::new(vec![
            Layer::ethernet(MN_MAC, MacAddr::ipv6_multicast(&ALL_ROUTERS)),
            Layer::ipv6(Ipv6Addr::UNSPECIFIED, ALL_ROUTERS, 255),
            Layer::Icmpv6(Icmpv6Repr::new(Icmpv6Message::RouterSolicit {
                reserved: 0,
                options: vec![],
            })),
        ]);
        let out = ar.react(&wire_form(&rs));
        assert_eq!(addrs(&out[0]).3, ALL_NODES);
        // A node without RAs ignores RS.
        assert!(mn().react(&sample("rs")).is_empty());
        assert!(mn().periodic_ra().is_none());
    }

    #[test]
    fn crafted_ra_options_are_sent_as_given() {
        let mut spec = ar().spec().clone();
        let ra = spec.reflexes.router_advert.as_mut().unwrap();
        ra.options = vec![NdOption::Map(MapOptionRepr {
            length: Some(0),
            ..MapOptionRepr::new(1, 10, true, 3600, MAP)
        })];
        let bytes = Node::new(spec, AR_MAC)
            .unwrap()
            .periodic_ra()
            .unwrap()
            .emit();
        // Ethernet 14 + IPv6 40 + RA 16: the MAP option starts here.
        assert_eq!(&bytes[70..72], &[23, 0]);
        assert_eq!(bytes.len(), 70 + 24);
    }

    #[test]
    fn no_frame_makes_a_node_panic() {
        // Every sample, every truncation of it, and some corrupted octets.
        let nodes = [ar(), mn()];
        let mut spec = router_spec();
        spec.default_link = Some("core".into());
        spec.reflexes.router_advert = Some(ra_spec());
        let r = Node::new(spec, AR_MAC).unwrap();
        let mut state = NodeState::new();
        let mut routed = 0;
        // Each frame as it is, and sent to the router's MAC on each of its
        // interfaces, so that forwarding sees it too.
        let mut handle = |b: &[u8]| {
            for (iface, mac) in [(0, None), (0, Some(R_ACCESS)), (1, Some(R_CORE)), (2, None)] {
                let mut b = b.to_vec();
                if let (Some(m), Some(dst)) = (mac, b.get_mut(..6)) {
                    dst.copy_from_slice(&m.0);
                }
                for o in r.handle(&mut state, iface, &b) {
                    let _ = Frame::decode(&o.bytes);
                    routed += usize::from(o.kind == OutputKind::NeighborSolicit);
                }
            }
        };
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        for s in samples::all() {
            let bytes = s.frame.emit();
            for cut in 0..=bytes.len() {
                handle(&bytes[..cut]);
                let d = Frame::decode(&bytes[..cut]);
                for n in &nodes {
                    let _ = n.react(&d.frame);
                }
            }
            for _ in 0..50 {
                let mut b = bytes.clone();
                for _ in 0..3 {
                    // xorshift: deterministic, no extra dependency.
                    seed ^= seed << 13;
                    seed ^= seed >> 7;
                    seed ^= seed << 17;
                    let at = (seed as usize) % b.len().max(1);
                    if let Some(o) = b.get_mut(at) {
                        *o = (seed >> 32) as u8;
                    }
                }
                handle(&b);
                let d = Frame::decode(&b);
                for n in &nodes {
                    for reply in n.react(&d.frame) {
                        let _ = reply.emit();
                    }
                }
            }
        }
        assert!(
            routed > 0 && state.dropped() > 0,
            "forwarding was not exercised"
        );
    }

    #[test]
    fn spec_json_form_round_trips_and_rejects_unknown_fields() {
        let json = r#"{
            "name": "ar", "link": "access", "router": true,
            "behind": ["2001:db8:cccc::5"],
            "reflexes": {"router_advert": {"interval": "200ms", "options": [
                {"prefix_information": {"prefix_len": 64, "l_flag": true, "a_flag": true,
                 "r_flag": false, "valid_lifetime": 86400, "preferred_lifetime": 14400,
                 "prefix": "2001:db8:1::"}},
                {"map": {"dist": 1, "pref": 10, "r_flag": true, "valid_lifetime": 3600,
                 "address": "2001:db8:ffff::1", "length": 0}}]}}
        }"#;
        let spec: NodeSpec = serde_json::from_str(json).unwrap();
        assert!(spec.reflexes.answer_ns && spec.reflexes.answer_echo);
        let ra = spec.reflexes.router_advert.as_ref().unwrap();
        assert_eq!(ra.interval, Duration::from_millis(200));
        assert_eq!(ra.router_lifetime, 1800);
        assert!(matches!(&ra.options[1], NdOption::Map(m) if m.length == Some(0)));
        let back: NodeSpec = serde_json::from_value(serde_json::to_value(&spec).unwrap()).unwrap();
        assert_eq!(back, spec);
        let typo = r#"{"name": "x", "link": "access", "adresses": []}"#;
        let err = serde_json::from_str::<NodeSpec>(typo).unwrap_err();
        assert!(err.to_string().contains("adresses"), "{err}");
        let typo = r#"{"name": "x", "link": "access", "reflexes": {"answer_na": true}}"#;
        assert!(serde_json::from_str::<NodeSpec>(typo).is_err());
    }

    #[test]
    fn intervals_parse_in_several_forms() {
        let ms = |s: &str| {
            serde_json::from_str::<RaSpec>(&format!(r#"{{"interval": {s}}}"#))
                .map(|r| r.interval.as_millis())
                .map_err(|e| e.to_string())
        };
        assert_eq!(ms(r#""200ms""#), Ok(200));
        assert_eq!(ms(r#""1s""#), Ok(1000));
        assert_eq!(ms(r#""1.5s""#), Ok(1500));
        assert_eq!(ms("250"), Ok(250));
        for bad in [r#""0ms""#, "0", "-5", r#""fast""#, r#""10""#, r#""nans""#] {
            assert!(ms(bad).is_err(), "{bad} accepted");
        }
        assert_eq!(format_interval(Duration::from_millis(200)), "200ms");
        assert_eq!(format_interval(Duration::from_secs(2)), "2s");
        // A zero interval built in Rust is refused before tokio sees it.
        let mut spec = ar().spec().clone();
        spec.reflexes.router_advert.as_mut().unwrap().interval = Duration::ZERO;
        assert!(Node::new(spec, AR_MAC).is_err());
    }

    #[test]
    fn invalid_specs_are_refused() {
        let mut s = NodeSpec::new("n", "access");
        s.addresses = vec![ALL_NODES];
        assert!(Node::new(s, AR_MAC).is_err());
        let s = NodeSpec::new("n", "access");
        assert!(Node::new(s, MacAddr::BROADCAST).is_err());
        assert!(Node::new(NodeSpec::new("", "access"), AR_MAC).is_err());
    }

    // ---- Several interfaces and forwarding ----

    const R_ACCESS: MacAddr = MacAddr([2, 0, 0, 0, 1, 0x10]);
    const R_CORE: MacAddr = MacAddr([2, 0, 0, 0, 2, 0x10]);
    const H_MAC: MacAddr = MacAddr([2, 0, 0, 0, 1, 0x20]);
    const CN_MAC: MacAddr = MacAddr([2, 0, 0, 0, 2, 0x21]);
    const H: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 1, 0, 0, 0, 0, 0x20);
    const CN5: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 2, 0, 0, 0, 0, 5);
    const R_CORE_ADDR: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 2, 0, 0, 0, 0, 1);

    fn prefix(s: &str) -> Ipv6Prefix {
        s.parse().unwrap()
    }

    /// A forwarding router between `access` (2001:db8:1::/64, no global
    /// address) and `core` (2001:db8:2::/64, 2001:db8:2::1).
    fn router_spec() -> NodeSpec {
        let mut s = NodeSpec::new("r", "access");
        s.mac = Some(R_ACCESS);
        s.router = true;
        s.prefixes = vec![prefix("2001:db8:1::/64")];
        s.interfaces = vec![InterfaceSpec {
            link: "core".into(),
            mac: Some(R_CORE),
            addresses: vec![R_CORE_ADDR],
            prefixes: vec![prefix("2001:db8:2::/64")],
        }];
        s.reflexes.forward = true;
        s
    }

    fn router() -> Node {
        Node::new(router_spec(), MacAddr([2, 0, 0, 0, 0, 0x99])).unwrap()
    }

    fn echo_frame(
        macs: (MacAddr, MacAddr),
        src: Ipv6Addr,
        dst: Ipv6Addr,
        hop: u8,
        seq: u16,
    ) -> Vec<u8> {
        Frame::new(vec![
            Layer::ethernet(macs.0, macs.1),
            Layer::ipv6(src, dst, hop),
            Layer::Icmpv6(Icmpv6Repr::new(Icmpv6Message::EchoRequest {
                ident: 7,
                seq,
                data: b"through the router".to_vec(),
            })),
        ])
        .emit()
    }

    fn na_frame(
        macs: (MacAddr, MacAddr),
        src: Ipv6Addr,
        dst: Ipv6Addr,
        target: Ipv6Addr,
        tlla: MacAddr,
    ) -> Vec<u8> {
        Frame::new(vec![
            Layer::ethernet(macs.0, macs.1),
            Layer::ipv6(src, dst, 255),
            Layer::Icmpv6(Icmpv6Repr::new(Icmpv6Message::NeighborAdvert {
                r_flag: false,
                s_flag: true,
                o_flag: true,
                reserved: 0,
                target,
                options: vec![NdOption::TargetLinkLayerAddr(LinkLayerAddrRepr {
                    length: None,
                    addr: tlla,
                })],
            })),
        ])
        .emit()
    }

    /// What forwarding must have made of `orig`: new MACs, Hop Limit - 1,
    /// every other octet the same.
    fn assert_forwarded(out: &Output, orig: &[u8], iface: usize, src: MacAddr, dst: MacAddr) {
        assert_eq!(out.iface, iface);
        assert_eq!(out.kind, OutputKind::Forwarded);
        let b = &out.bytes;
        assert_eq!(b.len(), orig.len());
        assert_eq!(MacAddr::from_bytes(&b[..6]), dst, "Ethernet destination");
        assert_eq!(MacAddr::from_bytes(&b[6..12]), src, "Ethernet source");
        assert_eq!(b[21], orig[21] - 1, "Hop Limit");
        assert_eq!(&b[12..21], &orig[12..21]);
        assert_eq!(&b[22..], &orig[22..]);
        // Still a well-formed frame: the Hop Limit is not in the checksum.
        assert!(Frame::decode(b).findings.is_empty());
    }

    #[test]
    fn prefixes_parse_match_and_round_trip() {
        let p = prefix("2001:db8:2::/64");
        assert!(p.contains(&CN5) && !p.contains(&H));
        assert_eq!(prefix("2001:db8:2::77/64"), p, "host bits are cleared");
        assert_eq!(p.to_string(), "2001:db8:2::/64");
        assert!(prefix("::/0").contains(&H));
        assert!(prefix("2001:db8:2::5/128").contains(&CN5));
        assert!(!prefix("2001:db8:2::5/128").contains(&R_CORE_ADDR));
        for bad in [
            "2001:db8::",
            "2001:db8::/129",
            "x/64",
            "2001:db8::/-1",
            "/64",
        ] {
            assert!(bad.parse::<Ipv6Prefix>().is_err(), "{bad} accepted");
        }
        let json = serde_json::to_string(&p).unwrap();
        assert_eq!(json, r#""2001:db8:2::/64""#);
        assert_eq!(serde_json::from_str::<Ipv6Prefix>(&json).unwrap(), p);
    }

    #[test]
    fn spec_with_interfaces_parses_and_round_trips() {
        let json = r#"{
            "name": "ar", "link": "access", "router": true,
            "prefixes": ["2001:db8:1::/64"],
            "interfaces": [{"link": "core", "mac": "02:00:00:00:02:10",
                            "addresses": ["2001:db8:2::1"], "prefixes": ["2001:db8:2::/64"]}],
            "default_link": "core",
            "reflexes": {"forward": true}
        }"#;
        let spec: NodeSpec = serde_json::from_str(json).unwrap();
        assert!(spec.reflexes.forward && spec.reflexes.answer_ns);
        assert_eq!(spec.interfaces[0].mac, Some(R_CORE));
        assert_eq!(spec.default_link.as_deref(), Some("core"));
        let back: NodeSpec = serde_json::from_value(serde_json::to_value(&spec).unwrap()).unwrap();
        assert_eq!(back, spec);
        // The old form has none of it, and serialises without it.
        let old: NodeSpec = serde_json::from_str(r#"{"name": "cn", "link": "core"}"#).unwrap();
        assert_eq!(old, NodeSpec::new("cn", "core"));
        let v = serde_json::to_value(&old).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"name": "cn", "link": "core", "reflexes": {}})
        );
        let typo = r#"{"name": "x", "link": "a", "interfaces": [{"link": "b", "prefix": []}]}"#;
        assert!(serde_json::from_str::<NodeSpec>(typo).is_err());
        // The RA's on-link prefixes count as the primary interface's.
        let node = Node::new(ar().spec().clone(), AR_MAC).unwrap();
        assert_eq!(
            node.interfaces()[0].prefixes(),
            &[Ipv6Prefix::new(PREFIX, 64).unwrap()]
        );
    }

    #[test]
    fn invalid_interfaces_are_refused() {
        let mut s = router_spec();
        s.interfaces[0].link = "access".into();
        let e = Node::new(s, AR_MAC).unwrap_err();
        assert!(e.contains("two interfaces"), "{e}");
        let mut s = router_spec();
        s.default_link = Some("elsewhere".into());
        assert!(Node::new(s, AR_MAC).unwrap_err().contains("default_link"));
        let mut s = router_spec();
        s.interfaces[0].mac = None;
        assert!(Node::new(s.clone(), AR_MAC)
            .unwrap_err()
            .contains("needs a mac"));
        let n = Node::with_default_macs(s, &[AR_MAC, MAP_MAC]).unwrap();
        assert_eq!(n.interface("core").map(|i| i.mac()), Some(MAP_MAC));
        let mut s = router_spec();
        s.interfaces[0].addresses = vec![ALL_NODES];
        assert!(Node::new(s, AR_MAC).is_err());
    }

    #[test]
    fn each_interface_answers_ns_for_its_own_addresses() {
        let r = router();
        let core = r.interface("core").unwrap().clone();
        let sn = solicited_node(&R_CORE_ADDR);
        let ns = Frame::new(vec![
            Layer::ethernet(CN_MAC, MacAddr::ipv6_multicast(&sn)),
            Layer::ipv6(CN5, sn, 255),
            Layer::Icmpv6(Icmpv6Repr::new(Icmpv6Message::NeighborSolicit {
                reserved: 0,
                target: R_CORE_ADDR,
                options: vec![NdOption::SourceLinkLayerAddr(LinkLayerAddrRepr {
                    length: None,
                    addr: CN_MAC,
                })],
            })),
        ]);
        let mut state = NodeState::new();
        let out = r.handle(&mut state, 1, &ns.emit());
        assert_eq!(out.len(), 1);
        assert_eq!((out[0].iface, out[0].kind), (1, OutputKind::NeighborAdvert));
        let na = wire_form(&Frame::decode(&out[0].bytes).frame);
        assert_eq!(addrs(&na), (R_CORE, CN_MAC, R_CORE_ADDR, CN5, 255));
        assert!(matches!(
            icmp(&na),
            Icmpv6Message::NeighborAdvert { r_flag: true, .. }
        ));
        // The NS taught it the CN's MAC.
        assert_eq!(state.neighbour(1, &CN5), Some(CN_MAC));
        // The same NS on access: not that interface's address.
        assert!(r.handle(&mut NodeState::new(), 0, &ns.emit()).is_empty());
        // The core link-local is answered on core, not on access.
        assert!(r.accepts_mac_on(
            1,
            MacAddr::ipv6_multicast(&solicited_node(&core.link_local()))
        ));
        assert!(!r.accepts_mac_on(
            0,
            MacAddr::ipv6_multicast(&solicited_node(&core.link_local()))
        ));
        assert!(!r.accepts_mac_on(7, MacAddr::BROADCAST));
        assert!(r.handle(&mut state, 7, &ns.emit()).is_empty());
    }

    #[test]
    fn forwarding_resolves_the_next_hop_queues_and_flushes() {
        let r = router();
        let core_ll = r.interface("core").unwrap().link_local();
        let mut state = NodeState::new();
        let pkts: Vec<Vec<u8>> = (1..=4)
            .map(|seq| echo_frame((H_MAC, R_ACCESS), H, CN5, 64, seq))
            .collect();
        // The first packet: an NS for the CN on core, the packet waits.
        let out = r.handle(&mut state, 0, &pkts[0]);
        assert_eq!(out.len(), 1, "{out:?}");
        assert_eq!(
            (out[0].iface, out[0].kind),
            (1, OutputKind::NeighborSolicit)
        );
        let ns = Frame::decode(&out[0].bytes);
        assert!(ns.findings.is_empty(), "{:?}", ns.findings);
        let sn = solicited_node(&CN5);
        assert_eq!(
            addrs(&ns.frame),
            (R_CORE, MacAddr::ipv6_multicast(&sn), core_ll, sn, 255)
        );
        assert_eq!(
            icmp(&ns.frame),
            &Icmpv6Message::NeighborSolicit {
                reserved: 0,
                target: CN5,
                options: vec![NdOption::SourceLinkLayerAddr(LinkLayerAddrRepr {
                    length: None,
                    addr: R_CORE,
                })],
            }
        );
        assert_eq!(state.waiting(1, &CN5), 1);
        // The source was learned on the way in.
        assert_eq!(state.neighbour(0, &H), Some(H_MAC));
        // Two more wait quietly; the fourth overflows the queue: the oldest
        // goes, and the NS is sent again.
        assert!(r.handle(&mut state, 0, &pkts[1]).is_empty());
        assert!(r.handle(&mut state, 0, &pkts[2]).is_empty());
        assert_eq!(state.dropped(), 0);
        let out = r.handle(&mut state, 0, &pkts[3]);
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].kind, OutputKind::NeighborSolicit);
        assert_eq!(state.waiting(1, &CN5), PENDING_PER_DESTINATION);
        assert_eq!(state.dropped(), 1);
        // The CN's NA flushes the queue, in order, to its MAC.
        let na = na_frame((CN_MAC, R_CORE), CN5, core_ll, CN5, CN_MAC);
        let out = r.handle(&mut state, 1, &na);
        assert_eq!(out.len(), 3, "{out:?}");
        for (o, orig) in out.iter().zip(&pkts[1..]) {
            assert_forwarded(o, orig, 1, R_CORE, CN_MAC);
        }
        assert_eq!(state.waiting(1, &CN5), 0);
        assert_eq!(state.neighbour(1, &CN5), Some(CN_MAC));
        // From now on, straight through; and the reply goes back to H.
        let out = r.handle(&mut state, 0, &pkts[0]);
        assert_eq!(out.len(), 1);
        assert_forwarded(&out[0], &pkts[0], 1, R_CORE, CN_MAC);
        let reply = echo_frame((CN_MAC, R_CORE), CN5, H, 64, 1);
        let out = r.handle(&mut state, 1, &reply);
        assert_eq!(out.len(), 1);
        assert_forwarded(&out[0], &reply, 0, R_ACCESS, H_MAC);
    }

    #[test]
    fn hop_limit_one_is_dropped_with_time_exceeded() {
        let r = router();
        let mut state = NodeState::new();
        for hop in [1u8, 0] {
            let pkt = echo_frame((H_MAC, R_ACCESS), H, CN5, hop, 9);
            let out = r.handle(&mut state, 0, &pkt);
            assert_eq!(out.len(), 1, "hop {hop}: {out:?}");
            assert_eq!((out[0].iface, out[0].kind), (0, OutputKind::TimeExceeded));
            let te = wire_form(&Frame::decode(&out[0].bytes).frame);
            // From the router's global address (access has none: core's),
            // back through the previous hop.
            assert_eq!(addrs(&te), (R_ACCESS, H_MAC, R_CORE_ADDR, H, 64));
            assert_eq!(
                icmp(&te),
                &Icmpv6Message::TimeExceeded {
                    unused: 0,
                    invoking: pkt[14..].to_vec(),
                }
            );
            assert_eq!(state.waiting(1, &CN5), 0);
        }
        assert_eq!(state.dropped(), 2);
        // Hop Limit 2 leaves with 1.
        state.learn(1, CN5, CN_MAC);
        let pkt = echo_frame((H_MAC, R_ACCESS), H, CN5, 2, 9);
        let out = r.handle(&mut state, 0, &pkt);
        assert_eq!(out.len(), 1);
        assert_forwarded(&out[0], &pkt, 1, R_CORE, CN_MAC);
        assert_eq!(out[0].bytes[21], 1);
        // No error about an error.
        let err = Frame::new(vec![
            Layer::ethernet(H_MAC, R_ACCESS),
            Layer::ipv6(H, CN5, 1),
            Layer::Icmpv6(Icmpv6Repr::new(Icmpv6Message::DstUnreachable {
                unused: 0,
                invoking: vec![0x60; 48],
            })),
        ]);
        assert!(r.handle(&mut state, 0, &err.emit()).is_empty());
        // A big packet's error is cut to fit in 1280 octets.
        let big = Frame::new(vec![
            Layer::ethernet(H_MAC, R_ACCESS),
            Layer::ipv6(H, CN5, 1),
            Layer::Icmpv6(Icmpv6Repr::new(Icmpv6Message::EchoRequest {
                ident: 1,
                seq: 1,
                data: vec![0xab; 1400],
            })),
        ]);
        let out = r.handle(&mut state, 0, &big.emit());
        assert_eq!(out[0].bytes.len(), 14 + 1280);
    }

    #[test]
    fn what_is_not_forwarded() {
        let r = router();
        let mut state = NodeState::new();
        state.learn(1, CN5, CN_MAC);
        let off_link = Ipv6Addr::new(0x2001, 0xdb8, 9, 0, 0, 0, 0, 1);
        let ll = Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 5);
        // No route: dropped, counted.
        assert!(r
            .handle(
                &mut state,
                0,
                &echo_frame((H_MAC, R_ACCESS), H, off_link, 64, 1)
            )
            .is_empty());
        assert_eq!(state.dropped(), 1);
        // Link-local or multicast destination or source: dropped.
        for (src, dst) in [
            (H, ll),
            (ll, CN5),
            (H, ALL_NODES),
            (Ipv6Addr::UNSPECIFIED, CN5),
        ] {
            let f = echo_frame((H_MAC, R_ACCESS), src, dst, 64, 1);
            assert!(r.handle(&mut state, 0, &f).is_empty(), "{src} -> {dst}");
        }
        assert_eq!(state.dropped(), 5);
        // Not sent to its MAC (on that interface): not its business.
        for macs in [
            (H_MAC, CN_MAC),
            (H_MAC, R_CORE),
            (H_MAC, MacAddr::BROADCAST),
        ] {
            let f = echo_frame(macs, H, CN5, 64, 1);
            assert!(r.handle(&mut state, 0, &f).is_empty(), "{macs:?}");
        }
        assert_eq!(state.dropped(), 5);
        // Its own address: answered, not forwarded.
        let out = r.handle(
            &mut state,
            0,
            &echo_frame((H_MAC, R_ACCESS), H, R_CORE_ADDR, 64, 1),
        );
        assert_eq!(out.len(), 1);
        assert_eq!((out[0].iface, out[0].kind), (0, OutputKind::EchoReply));
        // A packet cut short (Payload Length beyond the frame): dropped.
        let mut cut = echo_frame((H_MAC, R_ACCESS), H, CN5, 64, 1);
        cut.truncate(cut.len() - 4);
        assert!(r.handle(&mut state, 0, &cut).is_empty());
        assert_eq!(state.dropped(), 6);
        // Ethernet padding is not forwarded.
        let short = Frame::new(vec![
            Layer::ethernet(H_MAC, R_ACCESS),
            Layer::Ipv6(Ipv6Layer {
                repr: Ipv6Repr::new(H, CN5, 64),
                next_header: Some(59),
                payload_len: None,
            }),
        ])
        .emit();
        let mut padded = short.clone();
        padded.resize(60, 0);
        let out = r.handle(&mut state, 0, &padded);
        assert_eq!(out.len(), 1);
        assert_forwarded(&out[0], &short, 1, R_CORE, CN_MAC);
        // Forwarding off: nothing (the reflexes still answer).
        let mut quiet = router_spec();
        quiet.reflexes.forward = false;
        let quiet = Node::new(quiet, AR_MAC).unwrap();
        let f = echo_frame((H_MAC, R_ACCESS), H, CN5, 64, 1);
        assert!(quiet.handle(&mut state, 0, &f).is_empty());
        // A default link takes what no prefix covers, resolved as on-link.
        let mut spec = router_spec();
        spec.default_link = Some("core".into());
        let r = Node::new(spec, AR_MAC).unwrap();
        let mut state = NodeState::new();
        let out = r.handle(
            &mut state,
            0,
            &echo_frame((H_MAC, R_ACCESS), H, off_link, 64, 1),
        );
        assert_eq!(
            (out[0].iface, out[0].kind),
            (1, OutputKind::NeighborSolicit)
        );
        assert_eq!(r.route(&off_link), Some(1));
        assert_eq!(r.route(&H), Some(0));
    }

    #[test]
    fn neighbours_are_learned_only_from_frames_for_the_node() {
        let r = router();
        let core_ll = r.interface("core").unwrap().link_local();
        let mut state = NodeState::new();
        let off_link = Ipv6Addr::new(0x2001, 0xdb8, 9, 0, 0, 0, 0, 1);
        // An off-link source (behind another router) is not a neighbour.
        let _ = r.handle(
            &mut state,
            1,
            &echo_frame((CN_MAC, R_CORE), off_link, H, 64, 1),
        );
        assert_eq!(state.neighbour(1, &off_link), None);
        // A frame for someone else teaches nothing.
        let _ = r.handle(&mut state, 1, &echo_frame((CN_MAC, H_MAC), CN5, H, 64, 1));
        assert_eq!(state.neighbour(1, &CN5), None);
        // An NA's TLLA wins over its Ethernet source; a bad checksum counts
        // for nothing.
        let other = MacAddr([2, 0, 0, 0, 2, 0x77]);
        let mut bad = na_frame((CN_MAC, R_CORE), core_ll, core_ll, CN5, other);
        let n = bad.len();
        bad[n - 1] ^= 0xff;
        let _ = r.handle(&mut state, 1, &bad);
        assert_eq!(state.neighbour(1, &CN5), None);
        let na = na_frame((CN_MAC, R_CORE), CN5, core_ll, CN5, other);
        let _ = r.handle(&mut state, 1, &na);
        assert_eq!(state.neighbour(1, &CN5), Some(other));
        // Learned per interface.
        assert_eq!(state.neighbour(0, &CN5), None);
    }

    #[test]
    fn waiting_destinations_are_bounded() {
        let r = router();
        let mut state = NodeState::new();
        let n = PENDING_DESTINATIONS as u16 + 5;
        for i in 0..n {
            let dst = Ipv6Addr::new(0x2001, 0xdb8, 2, 0, 0, 0, 1, i);
            let out = r.handle(&mut state, 0, &echo_frame((H_MAC, R_ACCESS), H, dst, 64, i));
            assert_eq!(out.len(), 1);
        }
        let first = Ipv6Addr::new(0x2001, 0xdb8, 2, 0, 0, 0, 1, 0);
        let last = Ipv6Addr::new(0x2001, 0xdb8, 2, 0, 0, 0, 1, n - 1);
        assert_eq!(state.waiting(1, &first), 0, "the oldest was evicted");
        assert_eq!(state.waiting(1, &last), 1);
        assert_eq!(state.pending.len(), PENDING_DESTINATIONS);
        assert_eq!(state.dropped(), 5);
        // The cache is bounded too.
        for i in 0..(NEIGHBOUR_CACHE_SIZE as u32 + 10) {
            let a = Ipv6Addr::from(u128::from(CN5) + 0x1_0000 + u128::from(i));
            state.learn(1, a, CN_MAC);
        }
        assert_eq!(state.neighbours(), NEIGHBOUR_CACHE_SIZE);
    }
}
