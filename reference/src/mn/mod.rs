//! The HMIPv6-aware mobile node (RFC 4140 3.1, 5, 6.1, 7.2, 8, 9.1) on
//! one link or several at once (multihomed, 7.2: the LCoA bound at the MAP
//! is the one on the link whose AR advertises it): it follows the access routers' RAs (the default router, the
//! LCoA from the advertised prefix, the MAP options), chooses a MAP,
//! registers the RCoA with it (local BU) and, once the MAP accepted, the
//! RCoA with its home agent through the reverse tunnel to the MAP. Without
//! a usable MAP it falls back to plain Mobile IPv6 (BU to the HA with the
//! LCoA).
//!
//! [`Mn`] is the whole engine, free of I/O like the routers': frames in
//! through [`Mn::handle_frame`], time through [`Mn::tick`], frames out of
//! [`Mn::take_output`]. [`daemon`] drives it on a real link.

pub mod config;
pub mod daemon;
mod extra;
pub mod ro;
pub mod select;

use std::net::Ipv6Addr;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use wire::checksum::PseudoHeader;
use wire::frame::{Decoded, ExtLayer, Frame, Layer};
use wire::icmpv6::{Icmpv6Message, Icmpv6Repr};
use wire::ipv6::Ipv6Repr;
use wire::ipv6_options::{Ipv6Option, OptionsHeaderRepr};
use wire::mobility::{BindingAckRepr, BindingUpdateRepr, MhMessage, MobilityRepr};
use wire::mobility_options::MobilityOption;
use wire::nd::{MapOptionRepr, NdOption};
use wire::{proto, rules, MacAddr};

use crate::addr::{is_link_local, is_solicited_node, solicited_node, Prefix, ALL_NODES};
use crate::control;
use crate::faults::{Fault, MN_FAULTS};
use crate::log::{s, v, Logger};
use crate::nd::{self as ndp, LinkState};
use crate::packet::{self, fatal_finding, read_addr, Rejection, ETH};
use crate::ra::map_options;
use crate::sad::Sad;

use config::MnConfig;
use select::{MapStore, Rules};

/// The MN's first (with one interface, only) link.
pub const LINK: usize = 0;

/// First wait for a BA (RFC 6275 13: InitialBindackTimeoutFirstReg ~1 s),
/// doubled per retransmission up to [`MAX_BINDACK_TIMEOUT`].
pub const INITIAL_BINDACK_TIMEOUT: Duration = Duration::from_secs(1);
pub const MAX_BINDACK_TIMEOUT: Duration = Duration::from_secs(32);
/// BUs to a previous MAP are sent at most this many times.
const PREVIOUS_MAP_TRIES: u32 = 3;
/// How deep tunnels to the MN may nest.
const MAX_NESTING: usize = 3;
/// RetransTimer when the RA leaves it unspecified (RFC 4861 10:
/// RETRANS_TIMER, 1 s): the wait after a DAD probe.
pub const DEFAULT_RETRANS: Duration = Duration::from_secs(1);
/// Identifier of the echo requests of the `echo` command.
pub const ECHO_IDENT: u16 = 0x4d4e;

/// Where a registration stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    /// BU sent, no BA yet.
    Pending,
    /// Accepted (BA status below 128).
    Bound,
    /// Refused with this status.
    Rejected(u8),
}

/// One binding the MN keeps with a MAP or its HA: `hoa` (RCoA or home
/// address) bound to `coa` (LCoA or RCoA) at `peer`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Registration {
    pub peer: Ipv6Addr,
    pub hoa: Ipv6Addr,
    pub coa: Ipv6Addr,
    /// Sequence number of the last BU sent.
    pub seq: u16,
    pub state: State,
    /// Lifetime asked for, units of 4 s.
    pub requested: u16,
    /// Lifetime granted by the last successful BA, units of 4 s.
    pub granted: u16,
    /// When the last BU went out and when the binding was last accepted.
    pub sent: Instant,
    pub bound_at: Option<Instant>,
    /// BUs sent without a BA since the last accepted one.
    pub tries: u32,
    /// Next retransmission (no BA yet) or refresh.
    pub next: Option<Instant>,
}

impl Registration {
    /// A (re)transmission of its BU with `seq` at `now`: the next try is
    /// due after the BA timeout, doubled per try (RFC 6275 11.8).
    fn sent_again(&mut self, now: Instant, seq: u16) {
        self.seq = seq;
        self.sent = now;
        self.tries += 1;
        let backoff = INITIAL_BINDACK_TIMEOUT
            .saturating_mul(1 << (self.tries - 1).min(6))
            .min(MAX_BINDACK_TIMEOUT);
        self.next = Some(now + backoff);
    }

    fn new(peer: Ipv6Addr, hoa: Ipv6Addr, coa: Ipv6Addr, requested: u16, now: Instant) -> Self {
        Registration {
            peer,
            hoa,
            coa,
            seq: 0,
            state: State::Pending,
            requested,
            granted: 0,
            sent: now,
            bound_at: None,
            tries: 0,
            next: None,
        }
    }

    /// Time left of the granted lifetime at `now`.
    pub fn remaining(&self, now: Instant) -> Duration {
        match self.bound_at {
            Some(t) => (t + units(self.granted)).saturating_duration_since(now),
            None => Duration::ZERO,
        }
    }

    fn json(&self, now: Instant) -> Value {
        json!({
            "seq": self.seq,
            "state": match self.state {
                State::Pending => "pending",
                State::Bound => "bound",
                State::Rejected(_) => "rejected",
            },
            "status": match self.state { State::Rejected(st) => Value::from(st), _ => Value::Null },
            "requested_lifetime": self.requested,
            "granted_lifetime": self.granted,
            "remaining_s": self.remaining(now).as_secs(),
        })
    }
}

/// A lifetime in units of 4 s as a duration.
fn units(u: u16) -> Duration {
    Duration::from_secs(4 * u64::from(u))
}

/// An address under Duplicate Address Detection (RFC 4862 5.4): formed
/// from the link's prefix, not used until its probes went unanswered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Tentative {
    addr: Ipv6Addr,
    /// Probes sent so far.
    sent: u32,
    /// Next probe, or the end of the wait after the last one.
    next: Instant,
    /// RetransTimer of the RA that gave the prefix.
    retrans: Duration,
}

/// What the MN knows of one of its links (RFC 4140 7.2: a multihomed MN
/// may hear several ARs at once, one per interface).
#[derive(Debug, Clone, Default)]
struct Iface {
    router: Option<Ipv6Addr>,
    prefix: Option<Prefix>,
    lcoa: Option<Ipv6Addr>,
    /// The next LCoA while DAD runs on it.
    tentative: Option<Tentative>,
}

/// Which registration a BA answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Which {
    Map,
    Previous,
    Ha,
}

/// The mobile node's protocol engine.
pub struct Mn {
    cfg: MnConfig,
    /// The links by index, and what the MN learnt on each.
    links: Vec<LinkState>,
    link_names: Vec<String>,
    ifs: Vec<Iface>,
    /// The link the frame being handled came in on.
    rx_link: usize,
    /// Interface identifier source of the RCoA: the first link's EUI-64
    /// link-local address.
    iid: Ipv6Addr,
    maps: MapStore,
    map: Option<Registration>,
    previous: Option<Registration>,
    ha: Option<Registration>,
    /// Bindings with MAPs besides the current one (`register MAP`,
    /// extra.rs).
    extra: Vec<Registration>,
    /// Return routability and route optimisation ([`ro`]).
    cns: Vec<ro::Correspondent>,
    seq: u16,
    echo_seq: u16,
    /// The SAs with the MAP (RFC 4140 12.1): the outbound one seals the
    /// local BUs, the inbound ones open the MAP's BAs.
    sad: Sad,
    /// Whether the packet being handled came inside ESP that verified: set
    /// while [`open_esp`](Self::open_esp) hands on what it opened.
    rx_protected: bool,
    log: Logger,
    out: Vec<(usize, Vec<u8>)>,
}

impl Mn {
    /// A mobile node with MAC `mac` starting at `now`.
    pub fn new(cfg: MnConfig, mac: MacAddr, log: Logger, now: Instant) -> Mn {
        Mn::multihomed(cfg, &[mac], log, now)
    }

    /// A mobile node with one interface per MAC in `macs` (at least one;
    /// link index = position).
    pub fn multihomed(cfg: MnConfig, macs: &[MacAddr], log: Logger, _now: Instant) -> Mn {
        let macs = if macs.is_empty() {
            &[MacAddr([2, 0, 0, 0, 0, 1])][..]
        } else {
            macs
        };
        let links: Vec<LinkState> = macs
            .iter()
            .map(|m| LinkState::new(*m, None, Duration::from_secs(1)))
            .collect();
        let link_names = (0..links.len())
            .map(|i| match i {
                0 => "link".to_string(),
                i => format!("link{}", i + 1),
            })
            .collect();
        // RFC 4303 3.4.3 lets a receiver with manual keys skip the replay
        // check; the `accept-ba-replay` fault does.
        let sad = Sad::new(
            cfg.esp.sa_in.clone(),
            cfg.esp.sa_out.clone(),
            !cfg.faults.has(Fault::AcceptBaReplay),
        );
        Mn {
            iid: links[0].ll,
            ifs: vec![Iface::default(); links.len()],
            links,
            link_names,
            rx_link: LINK,
            cfg,
            maps: MapStore::default(),
            map: None,
            previous: None,
            ha: None,
            extra: Vec::new(),
            cns: Vec::new(),
            seq: 0,
            echo_seq: 0,
            sad,
            rx_protected: false,
            log,
            out: Vec::new(),
        }
    }

    pub fn config(&self) -> &MnConfig {
        &self.cfg
    }
    /// The LCoA in use: the one on the current MAP's link (see
    /// [`lcoa_for`](Self::lcoa_for)).
    pub fn lcoa(&self) -> Option<Ipv6Addr> {
        self.lcoa_for(self.map.as_ref().map(|m| m.peer))
            .map(|(_, a)| a)
    }
    /// The LCoA on link `link`.
    pub fn lcoa_on(&self, link: usize) -> Option<Ipv6Addr> {
        self.ifs.get(link).and_then(|i| i.lcoa)
    }
    /// The address under Duplicate Address Detection, if any (the first
    /// link's first).
    pub fn tentative(&self) -> Option<Ipv6Addr> {
        self.ifs.iter().find_map(|i| i.tentative.map(|t| t.addr))
    }
    /// The default router of the link of the LCoA in use.
    pub fn router(&self) -> Option<Ipv6Addr> {
        let l = self.lcoa_link().unwrap_or(LINK);
        self.ifs[l].router
    }

    /// The LCoA (and its link) to bind at `map` (RFC 4140 7.2: "If a
    /// multihomed mobile node has access to several ARs simultaneously (on
    /// different interfaces), it SHOULD use an LCoA on the link defined by
    /// the AR that advertises its current MAP"): the LCoA of the link where
    /// the MAP's option was heard; `None` while that link's address is
    /// still under DAD (wait rather than bind another interface's); without
    /// a MAP, or an LCoA on its link, the first link's LCoA. The
    /// `lcoa-from-other-interface` fault prefers another link's.
    fn lcoa_for(&self, map: Option<Ipv6Addr>) -> Option<(usize, Ipv6Addr)> {
        let first = |skip: Option<usize>| {
            self.ifs
                .iter()
                .enumerate()
                .filter(|(i, _)| Some(*i) != skip)
                .find_map(|(i, f)| f.lcoa.map(|a| (i, a)))
        };
        let Some(l) = map.and_then(|m| self.maps.get(&m)).map(|m| m.link) else {
            return first(None);
        };
        if self.has(Fault::LcoaFromOtherInterface) {
            if let Some(x) = first(Some(l)) {
                return Some(x);
            }
        }
        match self.ifs.get(l) {
            Some(Iface { lcoa: Some(a), .. }) => Some((l, *a)),
            Some(Iface {
                tentative: Some(_), ..
            }) => None,
            _ => first(None),
        }
    }

    /// The link of the LCoA in use.
    fn lcoa_link(&self) -> Option<usize> {
        self.lcoa_for(self.map.as_ref().map(|m| m.peer))
            .map(|(l, _)| l)
    }

    /// The link owning `src` (its link-local address, LCoA or tentative
    /// address).
    fn link_of_src(&self, src: &Ipv6Addr) -> Option<usize> {
        (0..self.links.len()).find(|&i| {
            self.links[i].ll == *src
                || self.ifs[i].lcoa == Some(*src)
                || self.ifs[i].tentative.is_some_and(|t| t.addr == *src)
        })
    }
    pub fn maps(&self) -> &MapStore {
        &self.maps
    }
    /// The binding with the current MAP.
    pub fn map_binding(&self) -> Option<&Registration> {
        self.map.as_ref()
    }
    /// The local BU to the previous MAP after a move to another domain.
    pub fn previous_binding(&self) -> Option<&Registration> {
        self.previous.as_ref()
    }
    pub fn ha_binding(&self) -> Option<&Registration> {
        self.ha.as_ref()
    }
    /// The RCoA in use (the current MAP's binding).
    pub fn rcoa(&self) -> Option<Ipv6Addr> {
        self.map.as_ref().map(|m| m.hoa)
    }

    /// Frames to send, by link, in order.
    pub fn take_output(&mut self) -> Vec<(usize, Vec<u8>)> {
        std::mem::take(&mut self.out)
    }

    fn has(&self, f: Fault) -> bool {
        self.cfg.faults.has(f)
    }

    fn event(&self, name: &str, fields: &[(&str, Value)]) {
        self.log.event(name, fields);
    }

    fn reject(&self, (reason, offset): Rejection) {
        let mut f = vec![("reason", s(reason))];
        if let Some(o) = offset {
            f.push(("offset", v(o)));
        }
        self.event("drop", &f);
    }

    fn drop_frame(&self, reason: &str) {
        self.reject((reason.to_string(), None));
    }

    // ------------------------------------------------------------------
    // Addresses and sending
    // ------------------------------------------------------------------

    /// Unicast addresses the MN answers on some link (NS) and accepts.
    fn on_link_own(&self, a: &Ipv6Addr) -> bool {
        (0..self.links.len()).any(|i| self.own_on(i, a))
    }

    /// Whether `a` is link `i`'s link-local address or LCoA.
    fn own_on(&self, i: usize, a: &Ipv6Addr) -> bool {
        *a == self.links[i].ll || Some(*a) == self.ifs[i].lcoa
    }

    fn is_own(&self, a: &Ipv6Addr) -> bool {
        self.on_link_own(a)
            || Some(*a) == self.rcoa()
            || *a == self.cfg.home_address
            || self.is_extra_rcoa(a)
    }

    fn listens(&self, g: &Ipv6Addr) -> bool {
        // The tentative address's group is joined before its first probe
        // (RFC 4862 5.4.2), to hear another node's probe or defence.
        *g == ALL_NODES
            || (is_solicited_node(g)
                && self.links.iter().zip(&self.ifs).any(|(k, f)| {
                    *g == solicited_node(&k.ll)
                        || f.lcoa.is_some_and(|l| *g == solicited_node(&l))
                        || f.tentative.is_some_and(|t| *g == solicited_node(&t.addr))
                }))
    }

    /// Send an IPv6 packet out the link owning its source (otherwise the
    /// link of the LCoA in use): link-local and multicast destinations on
    /// the link, everything else through that link's default router.
    fn send_ip(&mut self, now: Instant, packet: Vec<u8>) {
        let (Some(src), Some(dst)) = (read_addr(&packet, 8), read_addr(&packet, 24)) else {
            return;
        };
        let l = self
            .link_of_src(&src)
            .or_else(|| self.lcoa_link())
            .unwrap_or(LINK);
        let next_hop = if is_link_local(&dst) || dst.is_multicast() {
            dst
        } else {
            match self.ifs[l].router {
                Some(r) => r,
                None => return self.event("no_route", &[("dst", s(dst))]),
            }
        };
        if let Some(f) = self.links[l].send(now, next_hop, packet) {
            self.out.push((l, f));
        }
    }

    /// Send `inner` (IPv6 layers from the RCoA) reverse-tunnelled to the
    /// current MAP: outer LCoA → MAP (RFC 4140 6.1.1), unless the
    /// `no-reverse-tunnel` fault sends data packets (not Mobility Header
    /// messages) as they are.
    fn send_from_rcoa(&mut self, now: Instant, inner: Vec<Layer>) {
        let data = !inner.iter().any(|l| matches!(l, Layer::Mobility(_)));
        let tunnel = match (&self.map, self.lcoa()) {
            (Some(m), Some(l)) if !(data && self.has(Fault::NoReverseTunnel)) => Some((l, m.peer)),
            _ => None,
        };
        let mut layers = Vec::new();
        if let Some((lcoa, map)) = tunnel {
            layers.push(Layer::ipv6(lcoa, map, 64));
        }
        layers.extend(inner);
        self.send_ip(now, Frame::new(layers).emit());
    }

    fn next_seq(&mut self) -> u16 {
        self.seq = self.seq.wrapping_add(1);
        self.seq
    }

    // ------------------------------------------------------------------
    // Binding Updates
    // ------------------------------------------------------------------

    fn reg_mut(&mut self, w: Which) -> Option<&mut Registration> {
        match w {
            Which::Map => self.map.as_mut(),
            Which::Previous => self.previous.as_mut(),
            Which::Ha => self.ha.as_mut(),
        }
    }

    /// Send (again) the BU of registration `w` with a new sequence number.
    fn send_bu(&mut self, now: Instant, w: Which) {
        let seq = self.next_seq();
        let no_a = w != Which::Ha && self.has(Fault::BuWithoutAFlag);
        let no_m = self.has(Fault::BuWithoutMFlag);
        let Some(r) = self.reg_mut(w) else {
            return;
        };
        r.sent_again(now, seq);
        if w == Which::Previous && r.tries >= PREVIOUS_MAP_TRIES {
            r.next = None;
        }
        let r = r.clone();
        let bu = match w {
            Which::Map | Which::Previous => {
                let mut b = BindingUpdateRepr::local(seq, r.requested);
                b.m_flag = !no_m;
                b.a_flag = !no_a;
                b
            }
            Which::Ha => BindingUpdateRepr {
                seq,
                a_flag: true,
                h_flag: true,
                lifetime: r.requested,
                ..Default::default()
            },
        };
        // RFC 4140 6.1: no Alternate CoA option; the CoA is the source.
        let options = if w != Which::Ha && self.has(Fault::AlternateCoaAdded) {
            vec![MobilityOption::AlternateCareofAddress {
                length: None,
                address: r.hoa,
            }]
        } else {
            Vec::new()
        };
        // RFC 4140 7.2: the local BU's Home Address option is the RCoA.
        let hao = if w != Which::Ha && self.has(Fault::LocalBuHaoLcoa) {
            r.coa
        } else {
            r.hoa
        };
        let mh = MobilityRepr::new(MhMessage::BindingUpdate(bu), options);
        // The HA's BU is RFC 6275's business: never sealed here.
        let seal = w != Which::Ha && self.seals_local_bus();
        let Some(layers) = self.bu_layers(r.coa, r.peer, hao, mh, seal) else {
            return;
        };
        self.event(
            "bu_sent",
            &[
                ("to", s(r.peer)),
                (
                    "kind",
                    s(match w {
                        Which::Map => "map",
                        Which::Previous => "previous_map",
                        Which::Ha => "ha",
                    }),
                ),
                ("hoa", s(r.hoa)),
                ("coa", s(r.coa)),
                ("seq", v(seq)),
                ("lifetime", v(r.requested)),
                ("protected", v(seal)),
            ],
        );
        // The HA BU from the RCoA goes through the MAP (6.1.1); every other
        // BU from the LCoA straight to its MAP or HA.
        if w == Which::Ha && Some(r.coa) == self.rcoa() {
            self.send_from_rcoa(now, layers);
        } else {
            self.send_ip(now, Frame::new(layers).emit());
        }
        if no_a {
            // Nothing will answer: count the binding as up at once.
            self.accepted(now, w, r.requested);
        }
    }

    /// A BU's layers: from `coa` to `peer` with the Home Address option
    /// `hao`, its Mobility Header `mh` sealed under the outbound SA when
    /// `seal` (RFC 4140 12.1). `None` when it cannot be sealed.
    fn bu_layers(
        &mut self,
        coa: Ipv6Addr,
        peer: Ipv6Addr,
        hao: Ipv6Addr,
        mh: MobilityRepr,
        seal: bool,
    ) -> Option<Vec<Layer>> {
        let body = if seal {
            self.seal_local_mh(hao, peer, &mh)?
        } else {
            Layer::Mobility(mh)
        };
        Some(vec![
            Layer::ipv6(coa, peer, 64),
            Layer::DestinationOptions(ExtLayer::new(OptionsHeaderRepr::aligned(vec![
                Ipv6Option::HomeAddress {
                    length: None,
                    address: hao,
                },
            ]))),
            body,
        ])
    }

    /// Whether local BUs go in ESP (RFC 4140 12.1, `--protect bu`).
    fn seals_local_bus(&self) -> bool {
        self.cfg.esp.protect.bu && !self.has(Fault::BuUnprotected)
    }

    /// The ESP layer (transport mode: it follows the Destination Options
    /// header with the HAO) carrying `mh`, a local Mobility Header from
    /// home address `hao` (the RCoA) to `map`, under the outbound SA; its
    /// checksum is the one it would have without ESP. `None`, logged as
    /// `bu_not_sent`, once the SA's counter ran out (RFC 4303 3.3.3).
    fn seal_local_mh(&mut self, hao: Ipv6Addr, map: Ipv6Addr, mh: &MobilityRepr) -> Option<Layer> {
        let pseudo = PseudoHeader {
            src: hao,
            dst: map,
            next_header: proto::MOBILITY,
        };
        let sealed = packet::esp_layer(&mut self.sad, proto::MOBILITY, &mh.to_bytes(&pseudo));
        if sealed.is_none() {
            self.event(
                "bu_not_sent",
                &[
                    ("to", s(map)),
                    (
                        "reason",
                        s("the outbound SA cannot seal any more (RFC 4303 3.3.3)"),
                    ),
                ],
            );
        }
        sealed
    }

    /// The lifetime of the HA BU: the requested one, not above what the
    /// MAP granted (RFC 4140 6.1) when the CoA is the RCoA; the fault
    /// `ha-lifetime-above-map` asks for twice the MAP's.
    fn ha_lifetime(&self, coa: Ipv6Addr) -> u16 {
        match &self.map {
            Some(m) if m.hoa == coa && m.state == State::Bound => {
                if self.has(Fault::HaLifetimeAboveMap) {
                    m.granted.saturating_mul(2).max(m.granted.saturating_add(1))
                } else {
                    self.cfg.lifetime.min(m.granted)
                }
            }
            _ => self.cfg.lifetime,
        }
    }

    /// Register `coa` with the HA (a new HA binding).
    fn start_ha(&mut self, now: Instant, coa: Ipv6Addr) {
        let lifetime = self.ha_lifetime(coa);
        self.ha = Some(Registration::new(
            self.cfg.home_agent,
            self.cfg.home_address,
            coa,
            lifetime,
            now,
        ));
        self.send_bu(now, Which::Ha);
    }

    /// Registration `w` accepted with lifetime `granted`.
    fn accepted(&mut self, now: Instant, w: Which, granted: u16) {
        let Some(r) = self.reg_mut(w) else {
            return;
        };
        r.state = State::Bound;
        r.granted = granted;
        r.bound_at = Some(now);
        r.tries = 0;
        // Refresh at 3/4 of the lifetime; the previous MAP's is not.
        r.next = (granted > 0 && w != Which::Previous).then(|| now + units(granted) * 3 / 4);
        if w == Which::Map {
            let rcoa = r.hoa;
            let fresh = match &self.ha {
                None => true,
                // A new RCoA (another MAP): the HA must learn it (3.1),
                // unless `no-ha-bu-on-map-change`.
                Some(h) => h.coa != rcoa && !self.has(Fault::NoHaBuOnMapChange),
            };
            if fresh {
                // After the MAP's BA, not before (6.1): the HA binding
                // (RCoA, home address), 3.1 and 6.1.
                self.start_ha(now, rcoa);
            }
        }
    }

    // ------------------------------------------------------------------
    // MAP choice and movement
    // ------------------------------------------------------------------

    /// Choose the MAP again (after an RA, an option expiring) and make the
    /// bindings follow: a new MAP → local BU (and, having moved, a BU to
    /// the previous MAP), the same MAP with a new LCoA → local BU, no MAP
    /// → Mobile IPv6 with the LCoA.
    fn reconsider(&mut self, now: Instant) {
        if self.ifs.iter().all(|f| f.lcoa.is_none()) {
            return;
        }
        let current = self.map.as_ref().map(|m| m.peer);
        let chosen = self
            .maps
            .select(now, Rules::of(&self.cfg.faults), current)
            .map(|o| o.address)
            .filter(|_| !self.has(Fault::MapIgnored));
        // The LCoA on the chosen MAP's link (7.2); none yet: wait for DAD.
        let Some((_, lcoa)) = self.lcoa_for(chosen) else {
            return;
        };
        match chosen {
            Some(map) if Some(map) == current => {
                // (`rcoa-as-coa-to-new-map` keeps the previous RCoA it bound.)
                let old_rcoa = self.previous.as_ref().map(|p| p.hoa);
                if self.map.as_ref().is_some_and(|m| m.coa != lcoa)
                    && !self.has(Fault::NoLocalBuOnMove)
                    && !(self.has(Fault::RcoaAsCoaToNewMap)
                        && self.map.as_ref().map(|m| m.coa) == old_rcoa)
                {
                    self.event("movement", &[("map", s(map)), ("lcoa", s(lcoa))]);
                    if let Some(m) = self.map.as_mut() {
                        m.coa = lcoa;
                        m.tries = 0;
                        m.state = State::Pending;
                    }
                    self.send_bu(now, Which::Map);
                }
            }
            Some(map) => {
                let rcoa = if self.has(Fault::RcoaFromLinkPrefix) {
                    select::rcoa(lcoa, self.iid)
                } else {
                    select::rcoa(map, self.iid)
                };
                self.event(
                    "map_selected",
                    &[("map", s(map)), ("rcoa", s(rcoa)), ("lcoa", s(lcoa))],
                );
                // RFC 4140 6.1: the CoA bound at the new MAP is the LCoA,
                // never the previous MAP's RCoA (the fault uses it).
                let mut coa = lcoa;
                if let Some(old) = self.map.take() {
                    if self.has(Fault::RcoaAsCoaToNewMap) {
                        coa = old.hoa;
                    }
                    // A move into another MAP domain: the previous MAP
                    // forwards to the new LCoA meanwhile (6.1, 8).
                    if old.coa != lcoa && !self.has(Fault::NoPreviousMapBu) {
                        self.previous = Some(Registration::new(
                            old.peer,
                            old.hoa,
                            lcoa,
                            self.cfg.lifetime,
                            now,
                        ));
                        self.send_bu(now, Which::Previous);
                    }
                }
                self.map = Some(Registration::new(map, rcoa, coa, self.cfg.lifetime, now));
                self.send_bu(now, Which::Map);
                if self.has(Fault::HaBeforeMapBa) && self.ha.as_ref().is_none_or(|h| h.coa != rcoa)
                {
                    self.start_ha(now, rcoa);
                }
            }
            None => {
                let had_map = self.map.take().is_some();
                // The faults: never having registered, nothing is sent
                // (`no-mipv6-fallback`); having lost the MAP, the HA keeps
                // the RCoA (`no-fallback-after-map-loss`).
                let never = !had_map && self.ha.is_none();
                let lost = had_map || self.ha.as_ref().is_some_and(|h| h.coa != lcoa);
                if (never && self.has(Fault::NoMipv6Fallback))
                    || (lost && self.has(Fault::NoFallbackAfterMapLoss))
                {
                    return;
                }
                if had_map || self.ha.as_ref().is_none_or(|h| h.coa != lcoa) {
                    self.event("mobile_ipv6", &[("lcoa", s(lcoa))]);
                    self.start_ha(now, lcoa);
                }
            }
        }
    }

    /// A valid RA (RFC 4861 6.1.2 checked by the caller) from `src`,
    /// whose Retrans Timer is `retrans` (the default when unspecified).
    fn on_ra(
        &mut self,
        now: Instant,
        src: Ipv6Addr,
        src_mac: MacAddr,
        router_lifetime: u16,
        retrans: Duration,
        options: &[NdOption],
    ) {
        if !is_link_local(&src) {
            return self.reject(("RA source is not link-local".into(), Some(ETH + 8)));
        }
        // RFC 4861 4.2 and 6.1.2: options of unknown types are skipped and
        // the rest of the RA processed. The faults drop the whole RA, or
        // stop at the first unknown option.
        let unknown = options
            .iter()
            .position(|o| matches!(o, NdOption::Unknown { .. }));
        if unknown.is_some() && self.has(Fault::UnknownRaOptionDropsRa) {
            return self.drop_frame("RA with an option of unknown type");
        }
        let options = match unknown {
            Some(i) if self.has(Fault::UnknownRaOptionStopsParsing) => &options[..i],
            _ => options,
        };
        let mac = ndp::slla(options).unwrap_or(src_mac);
        let l = self.rx_link;
        for f in self.links[l].learn(src, mac) {
            self.out.push((l, f));
        }
        // RFC 4862 5.5.3: an address is formed from a prefix with the A
        // flag, not link-local, a valid lifetime not 0 and not below the
        // preferred one, and a length that with the 64-bit interface
        // identifier makes 128 bits (`prefix-length-not-64-used` forgets
        // the last).
        let any_len = self.has(Fault::PrefixLengthNot64Used);
        let prefix = options.iter().find_map(|o| match o {
            NdOption::PrefixInformation(p)
                if p.a_flag
                    && (p.prefix_len == 64 || (any_len && p.prefix_len <= 64))
                    && p.valid_lifetime > 0
                    && p.preferred_lifetime <= p.valid_lifetime
                    && !is_link_local(&p.prefix) =>
            {
                Some(Prefix::new(p.prefix, 64))
            }
            _ => None,
        });
        let maps = map_options(options);
        self.event(
            "ra_received",
            &[
                ("from", s(src)),
                ("prefix", prefix.map(s).unwrap_or(Value::Null)),
                ("map_options", v(maps.len())),
            ],
        );
        let f = &mut self.ifs[l];
        let new_link = prefix.is_some_and(|p| Some(p) != f.prefix);
        if f.router == Some(src) && router_lifetime == 0 {
            f.router = None;
        } else if router_lifetime > 0 && (f.router.is_none() || new_link) {
            f.router = Some(src);
        }
        if f.router != Some(src) {
            // Another router on the same link: its MAP options count.
            self.store_maps(now, &maps);
            return self.reconsider(now);
        }
        if let (true, Some(p)) = (new_link, prefix) {
            // The interface's own identifier (the first link's is the
            // RCoA's too).
            let addr = select::rcoa(p.addr, self.links[l].ll);
            let direct = self.cfg.dad_transmits == 0 || self.has(Fault::NoDad);
            self.maps.clear_link(l);
            let f = &mut self.ifs[l];
            f.prefix = Some(p);
            f.tentative = None;
            if direct {
                f.lcoa = Some(addr);
                self.event("lcoa", &[("prefix", s(p)), ("lcoa", s(addr))]);
            } else {
                // The previous link's LCoA is no use here; the new one is
                // not used before DAD (RFC 4862 5.4): no BU meanwhile.
                f.lcoa = None;
                f.tentative = Some(Tentative {
                    addr,
                    sent: 0,
                    next: now,
                    retrans,
                });
                self.dad_probe(now, l);
            }
        }
        self.store_maps(now, &maps);
        self.reconsider(now);
    }

    /// Send the next DAD probe for the tentative address (RFC 4862 5.4.2:
    /// from `::` to its solicited-node group, no source link-layer
    /// address option), or, the probes done and the wait over, make it
    /// the LCoA.
    fn dad_probe(&mut self, now: Instant, l: usize) {
        let Some(t) = self.ifs[l].tentative.as_mut() else {
            return;
        };
        if t.sent < self.cfg.dad_transmits {
            t.sent += 1;
            t.next = now + t.retrans;
            let (addr, n) = (t.addr, t.sent);
            self.event("dad_probe", &[("target", s(addr)), ("n", v(n))]);
            let ns = ndp::ns_frame(self.links[l].mac, Ipv6Addr::UNSPECIFIED, addr);
            self.out.push((l, ns));
            return;
        }
        let addr = t.addr;
        let f = &mut self.ifs[l];
        f.tentative = None;
        f.lcoa = Some(addr);
        let prefix = f.prefix.map(s).unwrap_or(Value::Null);
        self.event("lcoa", &[("prefix", prefix), ("lcoa", s(addr))]);
        self.reconsider(now);
    }

    /// DAD found `addr` in use (RFC 4862 5.4.5): it is not used, and not
    /// tried again for this prefix.
    fn dad_failed(&mut self, addr: Ipv6Addr, why: &str) {
        self.ifs[self.rx_link].tentative = None;
        self.event("dad_failed", &[("address", s(addr)), ("reason", s(why))]);
    }

    /// Store an RA's MAP options (7.2); the `lifetime-zero-map-kept`
    /// fault ignores a lifetime of 0 for the MAP in use.
    fn store_maps(&mut self, now: Instant, maps: &[MapOptionRepr]) {
        if self.has(Fault::MapOptionsNotStored) {
            // Only this RA's options count.
            self.maps.clear();
        }
        let current = self.map.as_ref().map(|m| m.peer);
        let kept: Vec<MapOptionRepr> = maps
            .iter()
            .filter(|o| {
                !(self.has(Fault::LifetimeZeroMapKept)
                    && o.valid_lifetime == 0
                    && Some(o.address) == current)
            })
            .cloned()
            .collect();
        self.maps.store_on(now, self.rx_link, &kept);
    }

    // ------------------------------------------------------------------
    // Input
    // ------------------------------------------------------------------

    /// A frame received on `link` at `now`.
    pub fn handle_frame(&mut self, now: Instant, link: usize, frame: &[u8]) {
        let Some(mac) = self.links.get(link).map(|k| k.mac) else {
            return;
        };
        match packet::frame_for(frame, mac) {
            Ok(true) => {}
            Ok(false) => return,
            Err(r) => return self.reject(r),
        }
        self.rx_link = link;
        self.receive(now, frame, 0);
    }

    fn receive(&mut self, now: Instant, frame: &[u8], depth: usize) {
        let d = Frame::decode(frame);
        let (ip, end) = match packet::ipv6_of(&d, frame) {
            Ok(x) => x,
            Err(r) => return self.reject(r),
        };
        let for_us = if ip.dst.is_multicast() {
            self.listens(&ip.dst)
        } else {
            self.is_own(&ip.dst)
        };
        if !for_us {
            return;
        }
        let mut rh2 = None;
        for (i, layer) in d.frame.layers.iter().enumerate().skip(2) {
            match layer {
                Layer::HopByHop(_) | Layer::DestinationOptions(_) => {}
                Layer::Routing(r) => match r.repr.type2_address() {
                    Some(a) if self.is_own(&a) => rh2 = Some(a),
                    _ if r.repr.segments_left == 0 => {}
                    _ => return self.drop_frame("routing header not for the MN"),
                },
                Layer::Icmpv6(m) => return self.icmp(now, frame, &d, &ip, m),
                Layer::Mobility(m) => return self.mobility(now, &d, &ip, rh2, m),
                Layer::Ipv6(_) => return self.decapsulate(now, frame, &d, &ip, end, i, depth),
                Layer::Esp(_) => return self.open_esp(now, frame, &d, end, i, depth),
                _ => {
                    return self.event("ignored", &[("reason", s("upper layer not handled"))]);
                }
            }
        }
    }

    /// A tunnelled packet: from a MAP the MN is bound with, to the LCoA
    /// (or, nested, to the RCoA); the inner packet is received as if it
    /// had come alone.
    #[allow(clippy::too_many_arguments)]
    fn decapsulate(
        &mut self,
        now: Instant,
        frame: &[u8],
        d: &Decoded,
        ip: &Ipv6Repr,
        end: usize,
        i: usize,
        depth: usize,
    ) {
        // From a MAP, or from the HA to the care-of address registered
        // with it (a Home Test, RFC 4140 12.2: nested in the MAP's tunnel).
        let from_map = [&self.map, &self.previous]
            .into_iter()
            .flatten()
            .any(|r| r.peer == ip.src)
            || self.is_extra_map(&ip.src)
            || self
                .ha
                .as_ref()
                .is_some_and(|h| h.peer == ip.src && h.coa == ip.dst);
        if !from_map || ip.dst.is_multicast() || depth >= MAX_NESTING {
            return self.drop_frame("tunnelled packet not from a MAP of the MN");
        }
        let Some(&(start, _)) = d.spans.get(i) else {
            return;
        };
        let Some(inner) = frame.get(start..end) else {
            return;
        };
        self.event(
            "tunnel_decap",
            &[("from", s(ip.src)), ("len", v(inner.len()))],
        );
        let mut f = frame[..ETH].to_vec();
        f.extend_from_slice(inner);
        self.receive(now, &f, depth + 1);
    }

    /// An ESP packet: opened with the SAs (RFC 4303 3.4.3: the SPI picks
    /// the SA, the sequence number must be in its window, the ICV must
    /// verify) and what it carried received as if it had come without ESP,
    /// marked protected. What does not open is dropped.
    fn open_esp(
        &mut self,
        now: Instant,
        frame: &[u8],
        d: &Decoded,
        end: usize,
        i: usize,
        depth: usize,
    ) {
        if self.rx_protected {
            return self.drop_frame("ESP inside ESP");
        }
        let verify_icv = !self.has(Fault::NoBaIcvCheck);
        let (opened, plain) = match packet::open_esp(&mut self.sad, d, frame, end, i, verify_icv) {
            Ok(o) => o,
            Err(r) => return self.reject(r),
        };
        self.event(
            "esp_opened",
            &[
                ("spi", v(opened.spi)),
                ("seq", v(opened.seq)),
                ("next_header", v(opened.next_header)),
            ],
        );
        self.rx_protected = true;
        self.receive(now, &plain, depth);
        self.rx_protected = false;
    }

    /// Whether `a` is a MAP: one the MN registered with or one advertised.
    fn is_map(&self, a: &Ipv6Addr) -> bool {
        [&self.map, &self.previous]
            .into_iter()
            .flatten()
            .any(|r| r.peer == *a)
            || self.maps.get(a).is_some()
    }

    fn icmp(&mut self, now: Instant, frame: &[u8], d: &Decoded, ip: &Ipv6Repr, m: &Icmpv6Repr) {
        if let Err(r) = packet::check_icmp(d, ip, m) {
            // RFC 4861 6.1.2: an RA with an option of Length 0 is discarded;
            // the `ra-length-zero-accepted` fault uses what came before it.
            let forgiven = self.has(Fault::RaLengthZeroAccepted)
                && matches!(m.message, Icmpv6Message::RouterAdvert { .. })
                && ip.hop_limit == 255
                && d.findings
                    .iter()
                    .any(|f| f.rule == rules::ND_OPTION_LENGTH_ZERO);
            if !forgiven {
                return self.reject(r);
            }
        }
        let src_mac = MacAddr::from_bytes(&frame[6..12]);
        let l = self.rx_link;
        let tentative = self.ifs[l].tentative.map(|t| t.addr);
        match &m.message {
            // RFC 4862 5.4.3: an NS for the tentative address from `::` is
            // another node's DAD probe (a duplicate); from a unicast
            // address it is not answered, the address is not ours yet.
            Icmpv6Message::NeighborSolicit { target, .. }
                if Some(*target) == tentative && ip.src.is_unspecified() =>
            {
                self.dad_failed(*target, "another node probes for it");
            }
            Icmpv6Message::NeighborSolicit { target, .. } if Some(*target) == tentative => {}
            // RFC 4862 5.4.4: an NA for it: the address is someone's.
            Icmpv6Message::NeighborAdvert { target, .. } if Some(*target) == tentative => {
                self.dad_failed(*target, "a neighbour advertises it");
            }
            Icmpv6Message::NeighborSolicit {
                target, options, ..
            } if self.own_on(l, target) => {
                let slla = ndp::slla(options);
                if let (Some(mac), false) = (slla, ip.src.is_unspecified()) {
                    for f in self.links[l].learn(ip.src, mac) {
                        self.out.push((l, f));
                    }
                }
                let na = self.links[l].answer_ns(ip.src, src_mac, slla, *target, *target, false);
                self.out.push((l, na));
            }
            Icmpv6Message::NeighborAdvert {
                target, options, ..
            } if !target.is_multicast() && !self.on_link_own(target) => {
                let mac = ndp::tlla(options).unwrap_or(src_mac);
                for f in self.links[l].learn(*target, mac) {
                    self.out.push((l, f));
                }
            }
            Icmpv6Message::RouterAdvert {
                router_lifetime,
                retrans_timer,
                options,
                ..
            } => {
                let retrans = match *retrans_timer {
                    0 => DEFAULT_RETRANS,
                    ms => Duration::from_millis(u64::from(ms)),
                };
                self.on_ra(now, ip.src, src_mac, *router_lifetime, retrans, options)
            }
            Icmpv6Message::EchoRequest { ident, seq, data } => {
                let reply = Icmpv6Message::EchoReply {
                    ident: *ident,
                    seq: *seq,
                    data: data.clone(),
                };
                if ip.dst.is_multicast() {
                    return;
                }
                self.event("echo_reply", &[("to", s(ip.src)), ("from", s(ip.dst))]);
                let layers = vec![
                    Layer::ipv6(ip.dst, ip.src, 64),
                    Layer::Icmpv6(Icmpv6Repr::new(reply)),
                ];
                if Some(ip.dst) == self.rcoa() {
                    self.send_from_rcoa(now, layers);
                } else if self.on_link_own(&ip.dst) {
                    self.send_ip(now, Frame::new(layers).emit());
                }
            }
            Icmpv6Message::EchoReply { ident, seq, .. } => self.event(
                "echo_reply_received",
                &[("from", s(ip.src)), ("ident", v(*ident)), ("seq", v(*seq))],
            ),
            _ => {}
        }
    }

    /// A Mobility Header for the MN: only BAs are handled.
    fn mobility(
        &mut self,
        now: Instant,
        d: &Decoded,
        ip: &Ipv6Repr,
        rh2: Option<Ipv6Addr>,
        m: &MobilityRepr,
    ) {
        // The IPsec policy first (RFC 4140 12: the MN authenticates the
        // MAP): with --protect bu, what the MAP sends outside ESP is not
        // believed.
        if self.cfg.esp.protect.bu
            && !self.rx_protected
            && self.is_map(&ip.src)
            && !self.has(Fault::AcceptUnprotectedBa)
        {
            return self.drop_frame("Mobility Header from a MAP without ESP (--protect bu)");
        }
        if let Some(f) = fatal_finding(
            d,
            &[
                rules::MH_CHECKSUM,
                rules::MH_PAYLOAD_PROTO,
                rules::MH_LENGTH,
                rules::MH_MESSAGE_LENGTH,
                rules::MH_OPTION_LENGTH,
                rules::TRUNCATED,
            ],
        ) {
            return self.reject(packet::finding_rejection("Mobility Header", &f));
        }
        if self.on_test(now, ip, &m.message) {
            return;
        }
        if let MhMessage::BindingAck(ba) = &m.message {
            if self.on_cn_ba(ip, m, ba) {
                return;
            }
        }
        let MhMessage::BindingAck(ba) = &m.message else {
            return self.event(
                "ignored",
                &[
                    ("reason", s("MH type not handled by the MN")),
                    ("mh_type", v(m.message.mh_type())),
                ],
            );
        };
        self.on_ba(now, ip, rh2, ba);
    }

    fn on_ba(&mut self, now: Instant, ip: &Ipv6Repr, rh2: Option<Ipv6Addr>, ba: &BindingAckRepr) {
        let skip_rh2 = self.has(Fault::AcceptBaWithoutRh2);
        let which = [Which::Map, Which::Previous, Which::Ha]
            .into_iter()
            .find(|w| {
                let r = match w {
                    Which::Map => self.map.as_ref(),
                    Which::Previous => self.previous.as_ref(),
                    Which::Ha => self.ha.as_ref(),
                };
                r.is_some_and(|r| r.peer == ip.src)
            });
        let Some(w) = which else {
            if self.extra_ba(now, ip, rh2, ba) {
                return;
            }
            return self.drop_frame("BA from no MAP or HA the MN registered with");
        };
        let Some(r) = self.reg_mut(w).map(|r| r.clone()) else {
            return;
        };
        // RFC 4140 6.1: a BA without a type 2 routing header holding the
        // RCoA is silently ignored (the HA's: holding the home address).
        if rh2 != Some(r.hoa) && !(skip_rh2 && w != Which::Ha) {
            return self.event(
                "ba_ignored",
                &[
                    ("from", s(ip.src)),
                    (
                        "reason",
                        s("no type 2 routing header with the MN's address"),
                    ),
                ],
            );
        }
        self.event(
            "ba_received",
            &[
                ("from", s(ip.src)),
                ("status", v(ba.status)),
                ("seq", v(ba.seq)),
                ("lifetime", v(ba.lifetime)),
            ],
        );
        if ba.status == 135 {
            // Sequence number out of window: continue after the MAP's.
            self.seq = ba.seq;
            return self.send_bu(now, w);
        }
        if ba.seq != r.seq {
            return self.event(
                "ba_ignored",
                &[
                    ("from", s(ip.src)),
                    ("reason", s("sequence number mismatch")),
                ],
            );
        }
        if ba.status < 128 {
            self.accepted(now, w, ba.lifetime);
        } else if let Some(r) = self.reg_mut(w) {
            r.state = State::Rejected(ba.status);
            r.next = None;
        }
    }

    // ------------------------------------------------------------------
    // Time
    // ------------------------------------------------------------------

    /// Do what is due at `now`: ND retransmissions, options expiring,
    /// BU retransmissions and refreshes.
    pub fn tick(&mut self, now: Instant) {
        let names: Vec<&str> = self.link_names.iter().map(String::as_str).collect();
        for (link, f) in ndp::tick_links(&mut self.links, &names, now, &self.log) {
            self.out.push((link, f));
        }
        for l in 0..self.ifs.len() {
            if self.ifs[l].tentative.is_some_and(|t| t.next <= now) {
                self.dad_probe(now, l);
            }
        }
        if self.maps.expire(now) {
            self.reconsider(now);
        }
        for w in [Which::Map, Which::Previous, Which::Ha] {
            let due = match w {
                Which::Map => &self.map,
                Which::Previous => &self.previous,
                Which::Ha => &self.ha,
            }
            .as_ref()
            .and_then(|r| r.next)
            .is_some_and(|t| t <= now);
            if !due {
                continue;
            }
            if w == Which::Ha {
                let coa = self.ha.as_ref().map(|h| h.coa);
                let lifetime = coa.map(|c| self.ha_lifetime(c));
                if let (Some(h), Some(l)) = (self.ha.as_mut(), lifetime) {
                    h.requested = l;
                }
            }
            self.send_bu(now, w);
        }
        self.ro_tick(now);
        if self
            .previous
            .as_ref()
            .is_some_and(|p| p.next.is_none() && p.remaining(now).is_zero())
        {
            self.previous = None;
        }
        self.extra_tick(now);
    }

    /// When [`tick`](Self::tick) next has something to do.
    pub fn next_deadline(&self) -> Option<Instant> {
        let regs = [&self.map, &self.previous, &self.ha];
        let mut d: Vec<Instant> = regs.into_iter().flatten().filter_map(|r| r.next).collect();
        d.extend(
            self.links
                .iter()
                .filter_map(|k| k.neighbors.next_deadline()),
        );
        d.extend(self.maps.next_expiry());
        d.extend(self.extra_deadline());
        d.extend(self.ifs.iter().filter_map(|f| f.tentative.map(|t| t.next)));
        d.extend(self.ro_next_deadline());
        if let Some(p) = &self.previous {
            if p.next.is_none() {
                d.extend(p.bound_at.map(|t| t + units(p.granted)));
            }
        }
        d.into_iter().min()
    }

    // ------------------------------------------------------------------
    // Control
    // ------------------------------------------------------------------

    /// The `bindings` answer: the current MAP's binding, the previous
    /// MAP's, the HA's, the additional MAPs'.
    pub fn bindings_json(&self, now: Instant) -> Vec<Value> {
        let mut out = Vec::new();
        for (kind, r) in [("map", &self.map), ("previous_map", &self.previous)] {
            if let Some(r) = r {
                let mut o = r.json(now);
                o["kind"] = json!(kind);
                o["map"] = json!(r.peer.to_string());
                o["rcoa"] = json!(r.hoa.to_string());
                o["lcoa"] = json!(r.coa.to_string());
                out.push(o);
            }
        }
        if let Some(r) = &self.ha {
            let mut o = r.json(now);
            o["kind"] = json!("ha");
            o["ha"] = json!(r.peer.to_string());
            o["home"] = json!(r.hoa.to_string());
            o["coa"] = json!(r.coa.to_string());
            out.push(o);
        }
        out.extend(self.extra_json(now));
        out.extend(self.cns_json());
        out
    }

    /// The `maps` answer: the stored MAP options.
    pub fn maps_json(&self, now: Instant) -> Vec<Value> {
        self.maps
            .iter()
            .map(|m| {
                json!({
                    "map": m.option.address.to_string(),
                    "dist": m.option.dist,
                    "pref": m.option.pref,
                    "r": m.option.r_flag,
                    "lifetime": m.option.valid_lifetime,
                    "remaining_s": m.expires.saturating_duration_since(now).as_secs(),
                })
            })
            .collect()
    }

    /// `echo DST`: an echo request to DST from the RCoA, tunnelled LCoA →
    /// MAP; without a MAP, from the LCoA.
    fn echo(&mut self, now: Instant, dst: Ipv6Addr) -> String {
        self.echo_seq = self.echo_seq.wrapping_add(1);
        let request = Icmpv6Repr::new(Icmpv6Message::EchoRequest {
            ident: ECHO_IDENT,
            seq: self.echo_seq,
            data: b"hmip6-ref mn echo".to_vec(),
        });
        // A correspondent with a binding: route-optimised (6.1.1).
        if self.send_optimised(now, dst, Layer::Icmpv6(request.clone())) {
            return format!("ok seq={} route-optimised", self.echo_seq);
        }
        let src = match (self.rcoa(), self.lcoa()) {
            (Some(r), _) => r,
            (None, Some(l)) => l,
            (None, None) => return "error: no care-of address yet".into(),
        };
        let layers = vec![Layer::ipv6(src, dst, 64), Layer::Icmpv6(request)];
        self.event(
            "echo_sent",
            &[("src", s(src)), ("dst", s(dst)), ("seq", v(self.echo_seq))],
        );
        if Some(src) == self.rcoa() {
            self.send_from_rcoa(now, layers);
        } else {
            self.send_ip(now, Frame::new(layers).emit());
        }
        format!("ok seq={}", self.echo_seq)
    }

    /// Answer a control command; `true` asks the daemon to stop.
    pub fn control(&mut self, now: Instant, command: &str) -> (String, bool) {
        let mut words = command.split_whitespace();
        match (words.next().unwrap_or(""), words.next(), words.next()) {
            ("bindings", None, _) => (control::lines(self.bindings_json(now)), false),
            ("maps", None, _) => (control::lines(self.maps_json(now)), false),
            ("faults", None, _) => (control::lines(self.cfg.faults.names(MN_FAULTS)), false),
            ("echo", Some(dst), None) => match dst.parse::<Ipv6Addr>() {
                Ok(a) if !a.is_multicast() && !a.is_unspecified() => (self.echo(now, a), false),
                _ => (
                    format!("error: {dst:?} is not a unicast IPv6 address"),
                    false,
                ),
            },
            ("register", Some(map), None) => match map.parse::<Ipv6Addr>() {
                Ok(a) => (self.register_map(now, a), false),
                _ => (format!("error: {map:?} is not an IPv6 address"), false),
            },
            (cmd @ ("ro" | "hoti"), Some(cn), None) => match cn.parse::<Ipv6Addr>() {
                Ok(a) if !a.is_multicast() && !a.is_unspecified() => {
                    (self.ro_start(now, a, cmd == "hoti"), false)
                }
                _ => (
                    format!("error: {cn:?} is not a unicast IPv6 address"),
                    false,
                ),
            },
            ("quit", None, _) => ("ok".into(), true),
            _ => (
                format!(
                    "error: unknown command {command:?} (bindings, maps, faults, echo DST, register MAP, ro CN, hoti CN, quit)"
                ),
                false,
            ),
        }
    }
}

#[cfg(test)]
mod tests;
