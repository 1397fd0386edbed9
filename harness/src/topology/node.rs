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
//! `answer_ns`/`answer_echo` (true), `router` (false).
//!
//! Running: [`Topology::start_nodes`] opens one tester-side AF_PACKET socket
//! per node and spawns one tokio task per node; the returned [`Nodes`]
//! borrows the topology (so the topology cannot be closed under running
//! reflexes) and aborts the tasks when dropped ([`Nodes::shutdown`] also
//! waits for them, so their sockets are closed when it returns).

use std::fmt;
use std::marker::PhantomData;
use std::net::Ipv6Addr;
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::sync::watch;
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
/// Hop Limit of echo replies.
const ECHO_HOP_LIMIT: u8 = 64;
/// First value of the last MAC octet given to nodes without a `mac`
/// (0x01 and 0x02 are the tester's and the IUT's ends of the link).
const NODE_MAC_BASE: u8 = 0x10;

fn yes() -> bool {
    true
}

fn is_true(b: &bool) -> bool {
    *b
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// One emulated node, as a case describes it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NodeSpec {
    /// Unique within the case (reports and [`Nodes`] look nodes up by it).
    pub name: String,
    /// The link it sits on.
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
    #[serde(default)]
    pub reflexes: Reflexes,
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
}

impl Default for Reflexes {
    fn default() -> Self {
        Reflexes {
            answer_ns: true,
            defend: Vec::new(),
            answer_echo: true,
            router_advert: None,
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

/// The EUI-64 interface identifier of a MAC (RFC 4291 appendix A) after
/// `prefix`'s first 64 bits: what SLAAC forms with `addr_gen_mode=0`.
pub fn eui64_address(prefix: Ipv6Addr, mac: MacAddr) -> Ipv6Addr {
    let p = prefix.octets();
    let m = mac.0;
    Ipv6Addr::from([
        p[0],
        p[1],
        p[2],
        p[3],
        p[4],
        p[5],
        p[6],
        p[7],
        m[0] ^ 0x02,
        m[1],
        m[2],
        0xff,
        0xfe,
        m[3],
        m[4],
        m[5],
    ])
}

/// The link-local address of a MAC (fe80::/64 + EUI-64).
pub fn link_local(mac: MacAddr) -> Ipv6Addr {
    eui64_address(Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 0), mac)
}

fn is_unicast(a: &Ipv6Addr) -> bool {
    !a.is_multicast() && !a.is_unspecified() && !a.is_loopback()
}

/// A node ready to react: its spec and resolved MAC and link-local address.
/// [`Node::react`] is pure, so reflexes are unit-tested without a link.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Node {
    spec: NodeSpec,
    mac: MacAddr,
    link_local: Ipv6Addr,
}

impl Node {
    /// Resolves `spec` with `default_mac` (used when the spec names none)
    /// and checks it: a unicast MAC, unicast addresses, an RA interval > 0.
    pub fn new(spec: NodeSpec, default_mac: MacAddr) -> Result<Node, String> {
        let who = format!("node {:?}", spec.name);
        if spec.name.is_empty() {
            return Err("a node needs a name".into());
        }
        let mac = spec.mac.unwrap_or(default_mac);
        if mac.is_multicast() || mac.0 == [0; 6] {
            return Err(format!("{who}: MAC {mac} is not a unicast address"));
        }
        let lists = [
            ("addresses", &spec.addresses),
            ("behind", &spec.behind),
            ("defend", &spec.reflexes.defend),
        ];
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
        Ok(Node {
            link_local: link_local(mac),
            mac,
            spec,
        })
    }

    pub fn spec(&self) -> &NodeSpec {
        &self.spec
    }

    pub fn name(&self) -> &str {
        &self.spec.name
    }

    pub fn mac(&self) -> MacAddr {
        self.mac
    }

    /// fe80::/64 + the EUI-64 of its MAC: the source of its ND messages.
    pub fn link_local(&self) -> Ipv6Addr {
        self.link_local
    }

    /// Whether `a` is one of its own addresses (link-local included).
    pub fn owns(&self, a: &Ipv6Addr) -> bool {
        *a == self.link_local || self.spec.addresses.contains(a)
    }

    fn sends_ras(&self) -> bool {
        self.spec.reflexes.router_advert.is_some()
    }

    /// Whether a frame to `dst` reaches it: its MAC, broadcast, all-nodes,
    /// all-routers (if it is a router or sends RAs), and the solicited-node
    /// groups of its own and its defended addresses.
    pub fn accepts_mac(&self, dst: MacAddr) -> bool {
        if dst == self.mac || dst == MacAddr::BROADCAST {
            return true;
        }
        if !dst.is_multicast() {
            return false;
        }
        let group = |a: &Ipv6Addr| MacAddr::ipv6_multicast(a) == dst;
        group(&ALL_NODES)
            || ((self.spec.router || self.sends_ras()) && group(&ALL_ROUTERS))
            || std::iter::once(&self.link_local)
                .chain(&self.spec.addresses)
                .chain(&self.spec.reflexes.defend)
                .any(|a| group(&solicited_node(a)))
    }

    /// A periodic RA (to ff02::1), if the node sends RAs.
    pub fn periodic_ra(&self) -> Option<Frame> {
        self.router_advert(ALL_NODES, MacAddr::ipv6_multicast(&ALL_NODES))
    }

    fn router_advert(&self, dst: Ipv6Addr, dst_mac: MacAddr) -> Option<Frame> {
        let ra = self.spec.reflexes.router_advert.as_ref()?;
        Some(self.frame(dst_mac, self.link_local, dst, ND_HOP_LIMIT, ra.message()))
    }

    fn frame(
        &self,
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
                    src: self.mac,
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

    fn neighbor_advert(&self, dst_mac: MacAddr, dst: Ipv6Addr, target: Ipv6Addr, s: bool) -> Frame {
        let na = Icmpv6Message::NeighborAdvert {
            r_flag: self.spec.router,
            s_flag: s,
            o_flag: true,
            reserved: 0,
            target,
            options: vec![NdOption::TargetLinkLayerAddr(LinkLayerAddrRepr {
                length: None,
                addr: self.mac,
            })],
        };
        // The target is the NA's source: it is ours (or defended as ours).
        self.frame(dst_mac, target, dst, ND_HOP_LIMIT, na)
    }

    /// What the node sends in answer to `frame` (a decoded frame received on
    /// its link): nothing for anything not addressed to it, malformed, or
    /// not covered by its reflexes.
    pub fn react(&self, frame: &Frame) -> Vec<Frame> {
        let (eth, ip, icmp) = match frame.layers.as_slice() {
            [Layer::Ethernet(e), Layer::Ipv6(i), Layer::Icmpv6(m)]
            | [Layer::Ethernet(e), Layer::Ipv6(i), Layer::Icmpv6(m), Layer::Trailer(_)] => {
                (e, i, m)
            }
            _ => return Vec::new(),
        };
        // Odd linking fields (a wrong EtherType, Next Header or Payload
        // Length) or a cut frame: malformed, not for a reflex.
        if eth.ethertype.is_some()
            || ip.next_header.is_some()
            || ip.payload_len.is_some()
            || ip.repr.version != 6
            || frame.truncate.is_some()
        {
            return Vec::new();
        }
        if !self.accepts_mac(eth.repr.dst) || !checksum_ok(&ip.repr, icmp) {
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
                    if dst == solicited_node(target)
                        && slla.is_none()
                        && self.spec.reflexes.defend.contains(target)
                    {
                        return vec![self.neighbor_advert(
                            MacAddr::ipv6_multicast(&ALL_NODES),
                            ALL_NODES,
                            *target,
                            false,
                        )];
                    }
                    return Vec::new();
                }
                if self.spec.reflexes.answer_ns
                    && self.owns(target)
                    && (dst == solicited_node(target) || dst == *target)
                    && !src.is_multicast()
                {
                    let to = slla.unwrap_or(eth.repr.src);
                    return vec![self.neighbor_advert(to, src, *target, true)];
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
                if !answers
                    || !nd_ok
                    || !options_ok(options)
                    || !(dst == ALL_ROUTERS || self.owns(&dst))
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
                    || eth.repr.dst != self.mac
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
                vec![self.frame(eth.repr.src, dst, src, ECHO_HOP_LIMIT, reply)]
            }
            _ => Vec::new(),
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

/// What a node has done so far; watch it with [`Nodes::wait_for`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NodeCounters {
    /// RAs sent, periodic and in answer to RS.
    pub router_adverts: u64,
    pub neighbor_adverts: u64,
    pub echo_replies: u64,
    /// Frames it failed to send (see `last_error`).
    pub send_errors: u64,
    /// Set when the node's socket failed; its reflexes then stopped.
    pub stopped: bool,
    pub last_error: Option<String>,
}

/// Running nodes. Borrows the topology, so the topology outlives them;
/// dropping this aborts every reflex.
pub struct Nodes<'t> {
    nodes: Vec<Arc<Node>>,
    links: Vec<String>,
    counters: Vec<watch::Receiver<NodeCounters>>,
    tasks: Vec<JoinHandle<()>>,
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
    /// links, see [`Node::new`]), gives each node without a MAC
    /// `02:s1:s2:s3:LL:NN` (the link's tester MAC with last octet
    /// `NN` = 0x10 + its position among the nodes of its link), opens a
    /// tester-side socket per node and spawns its reflexes. RAs start at
    /// once. Must be called within a tokio runtime.
    pub fn start_nodes(&self, specs: &[NodeSpec]) -> Result<Nodes<'_>, TopologyError> {
        let mut nodes = Vec::with_capacity(specs.len());
        let mut per_link = vec![0usize; self.links.len()];
        for (i, spec) in specs.iter().enumerate() {
            if specs[..i].iter().any(|o| o.name == spec.name) {
                return Err(TopologyError::InvalidSpec(format!(
                    "node {:?} appears twice",
                    spec.name
                )));
            }
            let link = self.link_index(&spec.link).map_err(|_| {
                TopologyError::InvalidSpec(format!(
                    "node {:?} is on link {:?}, which this topology does not have",
                    spec.name, spec.link
                ))
            })?;
            let nth = per_link[link];
            per_link[link] += 1;
            let last = u8::try_from(nth)
                .ok()
                .and_then(|n| NODE_MAC_BASE.checked_add(n))
                .ok_or_else(|| {
                    TopologyError::InvalidSpec(format!(
                        "too many nodes on link {:?} for default MACs",
                        spec.link
                    ))
                })?;
            let mut mac = self.links[link].tester_mac;
            mac[5] = last;
            let node = Node::new(spec.clone(), MacAddr(mac)).map_err(TopologyError::InvalidSpec)?;
            if let Some(o) = nodes.iter().find(|o: &&Node| o.mac == node.mac) {
                return Err(TopologyError::InvalidSpec(format!(
                    "nodes {:?} and {:?} have the same MAC {}",
                    o.name(),
                    node.name(),
                    node.mac
                )));
            }
            nodes.push(node);
        }
        // Every socket first, so a failure leaves no task running.
        let mut sockets = Vec::with_capacity(nodes.len());
        for node in &nodes {
            sockets.push(self.open_socket(Side::Tester, &node.spec.link, Outgoing::Drop)?);
        }
        let mut running = Nodes {
            nodes: Vec::with_capacity(nodes.len()),
            links: Vec::with_capacity(nodes.len()),
            counters: Vec::with_capacity(nodes.len()),
            tasks: Vec::with_capacity(nodes.len()),
            _topology: PhantomData,
        };
        for (node, socket) in nodes.into_iter().zip(sockets) {
            let node = Arc::new(node);
            let (tx, rx) = watch::channel(NodeCounters::default());
            running.links.push(node.spec.link.clone());
            running
                .tasks
                .push(tokio::spawn(run(node.clone(), socket, tx)));
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

/// One node's reflexes: decode what arrives, answer, and send RAs on time.
async fn run(node: Arc<Node>, socket: PacketSocket, counters: watch::Sender<NodeCounters>) {
    let mut timer = node.spec.reflexes.router_advert.as_ref().map(|ra| {
        // The first tick is immediate: the first RA goes out at once.
        let mut t = tokio::time::interval(ra.interval);
        t.set_missed_tick_behavior(MissedTickBehavior::Delay);
        t
    });
    loop {
        let out: Vec<Frame> = tokio::select! {
            r = socket.recv() => match r {
                Ok(f) => node.react(&Frame::decode(&f.bytes).frame),
                Err(e) => {
                    counters.send_modify(|c| {
                        c.stopped = true;
                        c.last_error = Some(format!("node {}: receive: {e}", node.name()));
                    });
                    return;
                }
            },
            () = tick(&mut timer) => node.periodic_ra().into_iter().collect(),
        };
        for f in out {
            let sent = socket.send(&f.emit()).await;
            counters.send_modify(|c| match sent {
                Ok(()) => match f.icmpv6().map(|m| &m.message) {
                    Some(Icmpv6Message::RouterAdvert { .. }) => c.router_adverts += 1,
                    Some(Icmpv6Message::NeighborAdvert { .. }) => c.neighbor_adverts += 1,
                    Some(Icmpv6Message::EchoReply { .. }) => c.echo_replies += 1,
                    _ => {}
                },
                Err(ref e) => {
                    c.send_errors += 1;
                    c.last_error = Some(format!("node {}: send: {e}", node.name()));
                }
            });
        }
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
    fn link_local_is_eui64_of_the_mac() {
        let ll = link_local(MacAddr([0x02, 0x11, 0x22, 0x33, 0x44, 0x55]));
        assert_eq!(ll, "fe80::11:22ff:fe33:4455".parse::<Ipv6Addr>().unwrap());
        let a = eui64_address(PREFIX, MacAddr([0x00, 0x11, 0x22, 0x33, 0x44, 0x55]));
        assert_eq!(
            a,
            "2001:db8:1::211:22ff:fe33:4455"
                .parse::<Ipv6Addr>()
                .unwrap()
        );
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
            eth(MN_MAC, MacAddr::ipv6_multicast(&sn)),
            ip(MN_LL, sn, 255),
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
        uni.layers[0] = eth(MN_MAC, AR_MAC);
        uni.layers[1] = ip(MN_LL, ar.link_local(), 255);
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
        f.layers[0] = eth(AR_MAC, MAP_MAC);
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
            eth(MN_MAC, AR_MAC),
            ip(LCOA, CN, 64),
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
        other.layers[1] = ip(LCOA, HA, 64);
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
            eth(MN_MAC, MacAddr::ipv6_multicast(&ALL_ROUTERS)),
            ip(Ipv6Addr::UNSPECIFIED, ALL_ROUTERS, 255),
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
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        for s in samples::all() {
            let bytes = s.frame.emit();
            for cut in 0..=bytes.len() {
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
                let d = Frame::decode(&b);
                for n in &nodes {
                    for reply in n.react(&d.frame) {
                        let _ = reply.emit();
                    }
                }
            }
        }
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

    fn eth(src: MacAddr, dst: MacAddr) -> Layer {
        Layer::Ethernet(EthernetLayer {
            repr: EthernetRepr { dst, src },
            ethertype: None,
        })
    }

    fn ip(src: Ipv6Addr, dst: Ipv6Addr, hop_limit: u8) -> Layer {
        Layer::Ipv6(Ipv6Layer {
            repr: Ipv6Repr::new(src, dst, hop_limit),
            next_header: None,
            payload_len: None,
        })
    }
}
