//! The Mobility Anchor Point (RFC 4140 6.2): a home agent for RCoAs.
//!
//! [`Map`] is the whole protocol engine, free of I/O: frames go in through
//! [`Map::handle_frame`], time through [`Map::tick`], and the frames to
//! send come out of [`Map::take_output`]. [`daemon`] drives it on real
//! links.

pub mod advert;
pub mod binding;
pub mod config;
pub mod daemon;

use std::collections::BTreeMap;
use std::net::Ipv6Addr;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use wire::checksum::PseudoHeader;
use wire::esp_auth;
use wire::finding::Finding;
use wire::frame::{Decoded, ExtLayer, Frame, Layer};
use wire::icmpv6::{Icmpv6Message, Icmpv6Repr};
use wire::ipv6::{self, Ipv6Repr};
use wire::mobility::{self as mh, BindingAckRepr, MhMessage, MobilityRepr};
use wire::mobility_options::MobilityOption;
use wire::nd::NdOption;
use wire::routing::RoutingRepr;
use wire::{proto, rules, MacAddr};

use crate::addr::{is_link_local, is_solicited_node, Prefix, ALL_NODES, ALL_ROUTERS};
use crate::control;
use crate::faults::{Fault, MAP_FAULTS};
use crate::log::{s, v, Logger};
pub use crate::nd::LinkState;
use crate::nd::{self as ndp, NaFlags};
use crate::packet::{self, fatal_finding, read_addr, ETH};
use crate::ra::{Advertiser, ReceivedRa};
use crate::sad::Sad;

use binding::{status, Binding, BindingCache, BuRequest, Policy, Verdict};
use config::MapConfig;

pub use crate::daemon::{ACCESS, CORE};
const LINK_NAMES: [&str; 2] = ["access", "core"];

/// How deep packets for the MAP itself may nest inside tunnels.
const MAX_NESTING: usize = 4;
/// The IPv6 minimum MTU: an ICMPv6 error, invoking packet included, fits
/// in it (RFC 4443 2.4 (c)).
const MIN_MTU: usize = 1280;
/// ICMPv6 error rate limit (RFC 4443 2.4 (f)): a burst of this many...
const ICMP_ERROR_BURST: u32 = 10;
/// ...then one per this interval (10 per second).
const ICMP_ERROR_INTERVAL: Duration = Duration::from_millis(100);

/// A token bucket for the ICMPv6 errors the MAP originates.
#[derive(Debug, Clone)]
struct ErrorRateLimit {
    tokens: u32,
    last: Instant,
}

impl ErrorRateLimit {
    fn new(now: Instant) -> Self {
        ErrorRateLimit {
            tokens: ICMP_ERROR_BURST,
            last: now,
        }
    }

    /// May an error be sent at `now`? Takes a token if so.
    fn take(&mut self, now: Instant) -> bool {
        let elapsed = now.saturating_duration_since(self.last);
        let earned = elapsed.as_nanos() / ICMP_ERROR_INTERVAL.as_nanos();
        if earned >= u128::from(ICMP_ERROR_BURST) {
            self.tokens = ICMP_ERROR_BURST;
            self.last = now;
        } else if let Ok(earned @ 1..) = u32::try_from(earned) {
            self.tokens = (self.tokens + earned).min(ICMP_ERROR_BURST);
            self.last += ICMP_ERROR_INTERVAL * earned;
        }
        if self.tokens == 0 {
            return false;
        }
        self.tokens -= 1;
        true
    }
}

/// For what [`Map::local`] handles after [`Map::open_esp`] unwrapped it:
/// the packet as it was received.
#[derive(Debug, Clone, Copy)]
struct Unwrapped<'a> {
    /// The IPv6 packet as received, ESP header and trailer included.
    received: &'a [u8],
    /// Where its ESP header starts, from the start of the IPv6 header.
    esp_at: usize,
}

impl Unwrapped<'_> {
    /// The offset in the received packet of what is at `plain` in the
    /// unwrapped one (NULL encryption: the payload follows the ESP header
    /// as is).
    fn received_offset(&self, plain: usize) -> usize {
        if plain >= self.esp_at {
            plain + esp_auth::HEADER_LEN
        } else {
            plain
        }
    }
}

/// The packet a message arrived in, as an ICMPv6 error must quote it
/// (RFC 4443 2.4 (c)): the IPv6 packet as received, and where the
/// message's header starts in it.
#[derive(Debug, Clone, Copy)]
struct Invoking<'a> {
    packet: &'a [u8],
    at: usize,
}

/// A new registration waiting for DAD of its RCoA (RFC 6275 10.3.1).
#[derive(Debug, Clone)]
struct PendingDad {
    coa: Ipv6Addr,
    seq: u16,
    lifetime: u16,
    ack: bool,
    sent: u32,
    next: Instant,
    conflict: bool,
}

/// The MAP protocol engine.
pub struct Map {
    cfg: MapConfig,
    links: [LinkState; 2],
    bindings: BindingCache,
    dads: BTreeMap<Ipv6Addr, PendingDad>,
    sad: Sad,
    /// The own RAs with the MAP options advertised: the own one and, with
    /// `--relay`, those learned from other routers' RAs (dynamic MAP
    /// discovery).
    adv: Advertiser,
    log: Logger,
    out: Vec<(usize, Vec<u8>)>,
    rcoa_prefix: Prefix,
    icmp_errors: ErrorRateLimit,
}

impl Map {
    /// A MAP with MACs `macs` (access, core) starting at `now`.
    pub fn new(cfg: MapConfig, macs: [MacAddr; 2], log: Logger, now: Instant) -> Map {
        let sad = Sad::new(
            cfg.sa_in.clone(),
            cfg.sa_out.clone(),
            !cfg.faults.has(Fault::AcceptEspReplay),
        );
        Map {
            rcoa_prefix: cfg.rcoa_prefix(),
            links: [
                LinkState::new(macs[ACCESS], None, cfg.retrans_timer),
                LinkState::new(macs[CORE], Some(cfg.address), cfg.retrans_timer),
            ],
            bindings: BindingCache::default(),
            dads: BTreeMap::new(),
            sad,
            adv: Advertiser::new(
                advert::discovery_config(&cfg),
                cfg.advertise,
                cfg.ra_interval,
                now,
            ),
            log,
            out: Vec::new(),
            icmp_errors: ErrorRateLimit::new(now),
            cfg,
        }
    }

    pub fn config(&self) -> &MapConfig {
        &self.cfg
    }

    pub fn links(&self) -> &[LinkState; 2] {
        &self.links
    }

    pub fn bindings(&self) -> &BindingCache {
        &self.bindings
    }

    /// Frames to send, by link, in order.
    pub fn take_output(&mut self) -> Vec<(usize, Vec<u8>)> {
        std::mem::take(&mut self.out)
    }

    fn event(&self, name: &str, fields: &[(&str, Value)]) {
        self.log.event(name, fields);
    }

    fn drop_frame(&self, link: usize, reason: &str, offset: Option<usize>) {
        let mut f = vec![("link", s(LINK_NAMES[link])), ("reason", s(reason))];
        if let Some(o) = offset {
            f.push(("offset", v(o)));
        }
        self.event("drop", &f);
    }

    fn drop_finding(&self, link: usize, what: &str, f: &Finding) {
        let (reason, offset) = packet::finding_rejection(what, f);
        self.drop_frame(link, &reason, offset);
    }

    // ------------------------------------------------------------------
    // Addresses and routing
    // ------------------------------------------------------------------

    /// Is `a` an address of the MAP itself on `link`?
    fn is_own(&self, link: usize, a: &Ipv6Addr) -> bool {
        *a == self.links[link].ll || *a == self.cfg.address
    }

    /// Does the MAP listen to multicast group `g` on `link`?
    fn listens(&self, _link: usize, g: &Ipv6Addr) -> bool {
        *g == ALL_NODES || *g == ALL_ROUTERS || is_solicited_node(g)
    }

    /// Is `rcoa` bound (so the MAP proxies and tunnels for it)?
    fn bound(&self, rcoa: &Ipv6Addr) -> Option<&Binding> {
        self.bindings.get(rcoa)
    }

    /// The link and next hop for `dst` (RFC 4140 6.2 routing of the
    /// reference MAP): access prefixes on-link on access, the /64 of the
    /// MAP's address on-link on core, everything else via the default
    /// router on core.
    pub fn route(cfg: &MapConfig, dst: &Ipv6Addr) -> Option<(usize, Ipv6Addr)> {
        if dst.is_multicast() || dst.is_unspecified() || is_link_local(dst) {
            return None;
        }
        if cfg.access_prefixes.iter().any(|p| p.contains(dst)) {
            return Some((ACCESS, *dst));
        }
        if cfg.core_prefix().contains(dst) {
            return Some((CORE, *dst));
        }
        cfg.default_router.map(|r| (CORE, r))
    }

    // ------------------------------------------------------------------
    // Output
    // ------------------------------------------------------------------

    fn push_frame(&mut self, link: usize, frame: Vec<u8>) {
        self.out.push((link, frame));
    }

    /// Send an IPv6 packet to `next_hop` on `link`, resolving it first.
    fn send_via(&mut self, now: Instant, link: usize, next_hop: Ipv6Addr, packet: Vec<u8>) {
        if let Some(f) = self.links[link].send(now, next_hop, packet) {
            self.push_frame(link, f);
        }
    }

    /// Send a packet the MAP originates or forwards: tunnelled when its
    /// destination is a bound RCoA, else routed; link-local and multicast
    /// destinations go out on `link_hint`.
    fn send_ip(&mut self, now: Instant, packet: Vec<u8>, link_hint: Option<usize>) {
        let Some(dst) = read_addr(&packet, 24) else {
            return;
        };
        if let Some(b) = self.bound(&dst).cloned() {
            self.tunnel(now, packet, &b);
            return;
        }
        self.route_out(now, packet, dst, link_hint);
    }

    /// Route `packet` to `dst` without looking at bindings.
    fn route_out(
        &mut self,
        now: Instant,
        packet: Vec<u8>,
        dst: Ipv6Addr,
        link_hint: Option<usize>,
    ) {
        if dst.is_multicast() || is_link_local(&dst) {
            if let Some(l) = link_hint {
                self.send_via(now, l, dst, packet);
            }
            return;
        }
        match Map::route(&self.cfg, &dst).or(link_hint.map(|l| (l, dst))) {
            Some((l, nh)) => self.send_via(now, l, nh, packet),
            None => self.event("no_route", &[("dst", s(dst))]),
        }
    }

    /// Encapsulate `inner` towards the binding's CoA (RFC 6275 10.4.2).
    fn tunnel(&mut self, now: Instant, inner: Vec<u8>, b: &Binding) {
        let route = Map::route(&self.cfg, &b.coa);
        if self.cfg.faults.has(Fault::NoForwardOutsideDomain) && !matches!(route, Some((ACCESS, _)))
        {
            self.event(
                "drop",
                &[
                    ("reason", s("CoA not on the access link")),
                    ("rcoa", s(b.rcoa)),
                    ("lcoa", s(b.coa)),
                ],
            );
            return;
        }
        let Ok(plen) = u16::try_from(inner.len()) else {
            self.event("drop", &[("reason", s("packet too big to encapsulate"))]);
            return;
        };
        let src = if self.cfg.faults.has(Fault::TunnelOuterSourceWrong) {
            self.links[CORE].ll
        } else {
            self.cfg.address
        };
        let outer = Ipv6Repr::new(src, b.coa, 64);
        let mut pkt = vec![0u8; ipv6::HEADER_LEN];
        outer.emit(&mut pkt, proto::IPV6_IN_IPV6, plen);
        pkt.extend_from_slice(&inner);
        self.event(
            "tunnel_encap",
            &[
                ("rcoa", s(b.rcoa)),
                ("lcoa", s(b.coa)),
                (
                    "inner_src",
                    s(read_addr(&inner, 8).unwrap_or(Ipv6Addr::UNSPECIFIED)),
                ),
                ("len", v(inner.len())),
            ],
        );
        self.route_out(now, pkt, b.coa, None);
    }

    /// Forward a packet not for the MAP: hop limit − 1, then tunnel, route
    /// or (for the MAP itself, after a tunnel) deliver locally.
    fn forward(&mut self, now: Instant, link: usize, mut pkt: Vec<u8>, depth: usize) {
        let (Some(src), Some(dst)) = (read_addr(&pkt, 8), read_addr(&pkt, 24)) else {
            return;
        };
        if self.is_own(CORE, &dst) {
            if depth >= MAX_NESTING {
                self.drop_frame(link, "tunnels nested too deep", None);
                return;
            }
            let frame = ndp::ethernet(self.links[link].mac, self.links[link].mac, &pkt);
            self.receive(now, link, &frame, depth + 1);
            return;
        }
        if dst.is_multicast() || is_link_local(&dst) || is_link_local(&src) || dst.is_unspecified()
        {
            self.drop_frame(link, "link-scoped packet not forwarded", None);
            return;
        }
        let hop = pkt[7];
        if hop <= 1 {
            self.event(
                "drop",
                &[("reason", s("hop limit exceeded")), ("dst", s(dst))],
            );
            return;
        }
        pkt[7] = hop - 1;
        self.send_ip(now, pkt, None);
    }

    // ------------------------------------------------------------------
    // Input
    // ------------------------------------------------------------------

    /// Handle one Ethernet frame received on `link`. Never panics.
    pub fn handle_frame(&mut self, now: Instant, link: usize, frame: &[u8]) {
        if link > CORE {
            return;
        }
        match packet::frame_for(frame, self.links[link].mac) {
            Ok(true) => {}
            Ok(false) => return,
            Err((reason, offset)) => {
                self.drop_frame(link, &reason, offset);
                return;
            }
        }
        self.receive(now, link, frame, 0);
    }

    /// An IPv6-in-Ethernet frame for this MAP (or a multicast one).
    fn receive(&mut self, now: Instant, link: usize, frame: &[u8], depth: usize) {
        let d = Frame::decode(frame);
        let (ip, end) = match packet::ipv6_of(&d, frame) {
            Ok(x) => x,
            Err((reason, offset)) => {
                self.drop_frame(link, &reason, offset);
                return;
            }
        };
        let dst = ip.dst;
        if dst.is_multicast() {
            if self.listens(link, &dst) {
                self.local(now, link, &d, frame, end, None, depth);
            }
            return;
        }
        if self.is_own(link, &dst) {
            self.local(now, link, &d, frame, end, None, depth);
            return;
        }
        let eth_dst = MacAddr::from_bytes(&frame[0..6]);
        if eth_dst != self.links[link].mac {
            return;
        }
        // A unicast NS for a bound RCoA (neighbour unreachability
        // detection) is answered by the proxy, not tunnelled.
        if link == CORE && self.bound(&dst).is_some() {
            if let Some(Layer::Icmpv6(Icmpv6Repr {
                message: Icmpv6Message::NeighborSolicit { .. },
                ..
            })) = d.frame.layers.get(2)
            {
                self.local(now, link, &d, frame, end, None, depth);
                return;
            }
        }
        self.forward(now, link, frame[ETH..end].to_vec(), depth);
    }

    /// A packet addressed to the MAP (or a group it listens to): walk its
    /// headers to the upper layer.
    #[allow(clippy::too_many_arguments)]
    fn local(
        &mut self,
        now: Instant,
        link: usize,
        d: &Decoded,
        frame: &[u8],
        end: usize,
        unwrapped: Option<Unwrapped<'_>>,
        depth: usize,
    ) {
        let protected = unwrapped.is_some();
        let layers = &d.frame.layers;
        let Some(Layer::Ipv6(ip)) = layers.get(1) else {
            return;
        };
        let ip = ip.repr.clone();
        let mut hao = None;
        for (i, layer) in layers.iter().enumerate().skip(2) {
            match layer {
                Layer::HopByHop(_) => {}
                Layer::DestinationOptions(h) => {
                    if hao.is_none() {
                        hao = h.repr.home_address();
                    }
                }
                Layer::Routing(r) => {
                    if r.repr.segments_left != 0 {
                        self.drop_frame(
                            link,
                            "routing header with segments left (not processed)",
                            d.spans.get(i).map(|s| s.0 + 3),
                        );
                        return;
                    }
                }
                Layer::Fragment(_) => {
                    self.drop_frame(
                        link,
                        "fragments are not reassembled",
                        d.spans.get(i).map(|s| s.0),
                    );
                    return;
                }
                Layer::Ah(_) => {
                    self.drop_frame(link, "AH is not supported", d.spans.get(i).map(|s| s.0));
                    return;
                }
                Layer::Esp(_) => {
                    self.open_esp(now, link, d, frame, end, i, protected, depth);
                    return;
                }
                Layer::Icmpv6(m) => {
                    self.icmp(now, link, frame, d, &ip, m, protected);
                    return;
                }
                Layer::Mobility(m) => {
                    let invoking = d.spans.get(i).and_then(|&(start, _)| {
                        let at = start.checked_sub(ETH)?;
                        Some(match unwrapped {
                            None => Invoking {
                                packet: frame.get(ETH..end)?,
                                at,
                            },
                            Some(u) => Invoking {
                                packet: u.received,
                                at: u.received_offset(at),
                            },
                        })
                    });
                    self.mobility(now, link, d, &ip, hao, m, protected, invoking);
                    return;
                }
                Layer::Ipv6(_) => {
                    self.decapsulate(now, link, d, frame, end, i, &ip, depth);
                    return;
                }
                Layer::Payload(_) => {
                    match d.findings.first() {
                        Some(f) => self.drop_finding(link, "malformed packet", f),
                        None => self.event(
                            "ignored",
                            &[
                                ("link", s(LINK_NAMES[link])),
                                ("reason", s("upper layer not handled")),
                            ],
                        ),
                    }
                    return;
                }
                Layer::Ethernet(_) | Layer::Trailer(_) => return,
            }
        }
    }

    /// Open an ESP packet with the SA database and handle what it carried as
    /// if it had come without ESP, marked protected.
    #[allow(clippy::too_many_arguments)]
    fn open_esp(
        &mut self,
        now: Instant,
        link: usize,
        d: &Decoded,
        frame: &[u8],
        end: usize,
        i: usize,
        protected: bool,
        depth: usize,
    ) {
        let Some(&(start, _)) = d.spans.get(i) else {
            return;
        };
        if protected {
            self.drop_frame(link, "ESP inside ESP", Some(start));
            return;
        }
        let (opened, plain) = match packet::open_esp(
            &mut self.sad,
            d,
            frame,
            end,
            i,
            !self.cfg.faults.has(Fault::NoIcvCheck),
        ) {
            Ok(o) => o,
            Err((reason, offset)) => {
                self.drop_frame(link, &reason, offset);
                return;
            }
        };
        self.event(
            "esp_opened",
            &[
                ("spi", v(opened.spi)),
                ("seq", v(opened.seq)),
                ("next_header", v(opened.next_header)),
            ],
        );
        let d2 = Frame::decode(&plain);
        let end2 = plain.len();
        let unwrapped = Unwrapped {
            received: &frame[ETH..end],
            esp_at: start - ETH,
        };
        self.local(now, link, &d2, &plain, end2, Some(unwrapped), depth);
    }

    // ------------------------------------------------------------------
    // ICMPv6 and Neighbour Discovery
    // ------------------------------------------------------------------

    #[allow(clippy::too_many_arguments)]
    fn icmp(
        &mut self,
        now: Instant,
        link: usize,
        frame: &[u8],
        d: &Decoded,
        ip: &Ipv6Repr,
        m: &Icmpv6Repr,
        protected: bool,
    ) {
        if let Err((reason, offset)) = packet::check_icmp(d, ip, m) {
            self.drop_frame(link, &reason, offset);
            return;
        }
        let src_mac = MacAddr::from_bytes(&frame[6..12]);
        match &m.message {
            Icmpv6Message::NeighborSolicit {
                target, options, ..
            } => self.on_ns(now, link, src_mac, ip, *target, options),
            Icmpv6Message::NeighborAdvert {
                target, options, ..
            } => self.on_na(now, link, src_mac, ip, *target, options),
            Icmpv6Message::RouterSolicit { .. } if self.adv.advertises() && link == ACCESS => {
                self.send_ra(now)
            }
            Icmpv6Message::RouterAdvert { options, .. } => {
                self.on_ra(now, link, ip, options, protected)
            }
            Icmpv6Message::EchoRequest { ident, seq, data } => {
                self.on_echo(now, link, ip, *ident, *seq, data, protected)
            }
            _ => {}
        }
    }

    fn on_ns(
        &mut self,
        now: Instant,
        link: usize,
        src_mac: MacAddr,
        ip: &Ipv6Repr,
        target: Ipv6Addr,
        options: &[NdOption],
    ) {
        let dad = ip.src.is_unspecified();
        let slla = ndp::slla(options);
        if dad && (slla.is_some() || !is_solicited_node(&ip.dst)) {
            self.drop_frame(
                link,
                "DAD NS with a source link-layer address or not to a solicited-node group",
                None,
            );
            return;
        }
        if dad && link == CORE && self.dads.contains_key(&target) {
            self.dad_conflict(now, target, "DAD NS for the same target");
            return;
        }
        if let (false, Some(mac)) = (dad, slla) {
            self.learn(now, link, ip.src, mac);
        }
        let own = (target == self.links[link].ll) || (link == CORE && target == self.cfg.address);
        let proxied = link == CORE
            && !own
            && self.bound(&target).is_some()
            && !self.cfg.faults.has(Fault::NoProxyNa);
        if !own && !proxied {
            return;
        }
        let src = if own { target } else { self.cfg.address };
        let f = self.links[link].answer_ns(ip.src, src_mac, slla, target, src, own);
        if proxied {
            let dst = if dad { ALL_NODES } else { ip.src };
            self.event("proxy_na", &[("rcoa", s(target)), ("to", s(dst))]);
        }
        self.push_frame(link, f);
    }

    fn on_na(
        &mut self,
        now: Instant,
        link: usize,
        src_mac: MacAddr,
        ip: &Ipv6Repr,
        target: Ipv6Addr,
        options: &[NdOption],
    ) {
        if link == CORE && self.dads.contains_key(&target) {
            self.dad_conflict(now, target, "NA for the RCoA");
            return;
        }
        if self.is_own(link, &target) {
            self.event(
                "address_conflict",
                &[("target", s(target)), ("from", s(ip.src))],
            );
            return;
        }
        let mac = ndp::tlla(options).unwrap_or(src_mac);
        if !target.is_multicast() && !target.is_unspecified() {
            self.learn(now, link, target, mac);
        }
    }

    /// Record a neighbour and send what waited for it.
    fn learn(&mut self, _now: Instant, link: usize, ip: Ipv6Addr, mac: MacAddr) {
        for f in self.links[link].learn(ip, mac) {
            self.push_frame(link, f);
        }
    }

    fn on_ra(
        &mut self,
        now: Instant,
        link: usize,
        ip: &Ipv6Repr,
        options: &[NdOption],
        protected: bool,
    ) {
        let ra = ReceivedRa {
            link,
            link_name: LINK_NAMES[link],
            src: ip.src,
            own_ll: self.links[link].ll,
            options,
            protected,
            require_esp: self.cfg.protect.ra && !self.cfg.faults.has(Fault::RelayUnauthenticatedRa),
        };
        if let Err((reason, offset)) = self.adv.on_router_advert(now, ra, &self.log) {
            self.drop_frame(link, &reason, offset);
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn on_echo(
        &mut self,
        now: Instant,
        link: usize,
        ip: &Ipv6Repr,
        ident: u16,
        seq: u16,
        data: &[u8],
        protected: bool,
    ) {
        if self.cfg.protect.probe
            && !protected
            && !self.cfg.faults.has(Fault::AnswerUnprotectedProbe)
        {
            self.drop_frame(link, "echo request without ESP (--protect probe)", None);
            return;
        }
        let Some(pkt) = packet::echo_reply(&mut self.sad, ip, ident, seq, data, protected) else {
            return;
        };
        self.event(
            "echo_reply",
            &[("to", s(ip.src)), ("protected", v(protected))],
        );
        self.send_ip(now, pkt, Some(link));
    }

    /// An ESP layer carrying `payload` (protocol `nh`) under the outbound SA.
    fn esp_layer(&mut self, nh: u8, payload: &[u8]) -> Option<Layer> {
        packet::esp_layer(&mut self.sad, nh, payload)
    }

    /// Send the own RA on the access link now.
    fn send_ra(&mut self, now: Instant) {
        let maps = self.adv.options(now);
        let l = &self.links[ACCESS];
        let f = advert::router_advert(&self.cfg, l.mac, l.ll, &maps);
        self.push_frame(ACCESS, f);
    }

    // ------------------------------------------------------------------
    // Binding Updates
    // ------------------------------------------------------------------

    #[allow(clippy::too_many_arguments)]
    fn mobility(
        &mut self,
        now: Instant,
        link: usize,
        d: &Decoded,
        ip: &Ipv6Repr,
        hao: Option<Ipv6Addr>,
        m: &MobilityRepr,
        protected: bool,
        invoking: Option<Invoking<'_>>,
    ) {
        if ip.dst != self.cfg.address {
            return;
        }
        // The IPsec policy first (RFC 4301 5.2): what should have come in
        // ESP and did not is dropped without a word.
        if self.cfg.protect.bu && !protected && !self.cfg.faults.has(Fault::AcceptUnprotectedBu) {
            self.drop_frame(link, "Mobility Header without ESP (--protect bu)", None);
            return;
        }
        // Then RFC 6275 9.2: the checksum...
        if !self.cfg.faults.has(Fault::NoMhChecksumCheck) {
            if let Some(f) = fatal_finding(d, &[rules::MH_CHECKSUM]) {
                self.drop_finding(link, "Mobility Header", &f);
                return;
            }
        }
        // ...and a Header Len too short for the MH Type: discarded, with an
        // ICMP Parameter Problem pointing at the Header Len field.
        let header_len = m.effective_header_len();
        let needed = mh::message_len(m.message.mh_type()).map(|n| mh::HEADER_LEN + n);
        if let Some(needed) = needed.filter(|&n| (usize::from(header_len) + 1) * 8 < n) {
            // As every drop offset: in the frame (as received).
            let at = invoking.map(|i| ETH + i.at + 1);
            self.drop_frame(
                link,
                &format!(
                    "Mobility Header Len {header_len} ({} octets) is too short for MH Type {} ({needed} octets)",
                    (usize::from(header_len) + 1) * 8,
                    m.message.mh_type()
                ),
                at,
            );
            match invoking {
                Some(_) if self.cfg.faults.has(Fault::SilentOnShortHeader) => {}
                Some(i) => self.param_problem(now, link, i.packet, i.at + 1),
                None => {}
            }
            return;
        }
        if let Some(f) = fatal_finding(
            d,
            &[
                rules::MH_PAYLOAD_PROTO,
                rules::MH_LENGTH,
                rules::MH_MESSAGE_LENGTH,
                rules::MH_OPTION_LENGTH,
                rules::TRUNCATED,
            ],
        ) {
            self.drop_finding(link, "Mobility Header", &f);
            return;
        }
        let bu = match &m.message {
            MhMessage::BindingUpdate(bu) => bu.clone(),
            MhMessage::Unknown { mh_type: 5, .. } => {
                self.drop_frame(link, "Binding Update shorter than its message data", None);
                return;
            }
            other => {
                self.event(
                    "ignored",
                    &[
                        ("reason", s("MH type not handled by a MAP")),
                        ("mh_type", v(other.mh_type())),
                    ],
                );
                return;
            }
        };
        let mut alt_coa = None;
        let mut unknown_option = false;
        for o in &m.options {
            match o {
                MobilityOption::AlternateCareofAddress {
                    length: None,
                    address,
                } => {
                    alt_coa.get_or_insert(*address);
                }
                MobilityOption::Unknown { .. } => unknown_option = true,
                _ => {}
            }
        }
        let req = BuRequest {
            src: ip.src,
            hao,
            alt_coa,
            bu,
            unknown_option,
        };
        self.event(
            "bu_received",
            &[
                ("link", s(LINK_NAMES[link])),
                ("src", s(req.src)),
                ("hao", hao.map(s).unwrap_or(Value::Null)),
                ("seq", v(req.bu.seq)),
                ("lifetime", v(req.bu.lifetime)),
                ("a", v(req.bu.a_flag)),
                ("h", v(req.bu.h_flag)),
                ("m", v(req.bu.m_flag)),
                ("protected", v(protected)),
            ],
        );
        let occupied = self.bindings.len() + self.dads.len();
        let policy = Policy {
            rcoa_prefix: self.rcoa_prefix,
            valid_prefixes: &self.cfg.valid_prefixes,
            max_lifetime_s: self.cfg.max_lifetime,
            max_bindings: self.cfg.max_bindings,
            faults: &self.cfg.faults,
        };
        let verdict = binding::validate(&req, &self.bindings, occupied, &policy);
        let ack = req.bu.a_flag;
        match verdict {
            Verdict::Discard(reason) => {
                self.event(
                    "bu_discarded",
                    &[("reason", s(reason)), ("seq", v(req.bu.seq))],
                );
            }
            Verdict::Reject {
                status,
                seq,
                rcoa,
                coa,
            } => {
                self.event(
                    "bu_rejected",
                    &[("status", v(status)), ("rcoa", s(rcoa)), ("lcoa", s(coa))],
                );
                self.send_ba(now, status, seq, 0, rcoa, coa);
            }
            Verdict::Delete { rcoa, coa, seq } => {
                if self.cfg.faults.has(Fault::DeregistrationIgnored) {
                    self.event(
                        "binding_kept",
                        &[
                            ("rcoa", s(rcoa)),
                            ("reason", s("deregistration ignored (fault)")),
                        ],
                    );
                } else if let Some(b) = self.bindings.remove(&rcoa) {
                    self.binding_gone(&b, "deregistered");
                }
                if ack {
                    self.send_ba(now, status::ACCEPTED, seq, 0, rcoa, coa);
                }
            }
            Verdict::Register {
                rcoa,
                coa,
                seq,
                lifetime,
                new: false,
            } => {
                if let Some(mut b) = self.bindings.get(&rcoa).cloned() {
                    b.coa = coa;
                    b.seq = seq;
                    b.lifetime = lifetime;
                    b.expires = now + Duration::from_secs(4 * u64::from(lifetime));
                    self.bindings.insert(b);
                    self.event(
                        "binding_updated",
                        &[
                            ("rcoa", s(rcoa)),
                            ("lcoa", s(coa)),
                            ("seq", v(seq)),
                            ("lifetime", v(lifetime)),
                        ],
                    );
                }
                if ack && !self.cfg.faults.has(Fault::NoBa) {
                    self.send_ba(now, status::ACCEPTED, seq, lifetime, rcoa, coa);
                }
            }
            Verdict::Register {
                rcoa,
                coa,
                seq,
                lifetime,
                new: true,
            } => {
                self.register_new(now, rcoa, coa, seq, lifetime, ack);
            }
        }
    }

    /// A new registration: DAD for the RCoA on the core link first.
    fn register_new(
        &mut self,
        now: Instant,
        rcoa: Ipv6Addr,
        coa: Ipv6Addr,
        seq: u16,
        lifetime: u16,
        ack: bool,
    ) {
        if let Some(p) = self.dads.get_mut(&rcoa) {
            // DAD already runs for it: the latest BU is the one answered.
            p.coa = coa;
            p.seq = seq;
            p.lifetime = lifetime;
            p.ack = ack;
            return;
        }
        let pending = PendingDad {
            coa,
            seq,
            lifetime,
            ack,
            sent: 0,
            next: now,
            conflict: false,
        };
        if self.cfg.faults.has(Fault::NoDad) || self.cfg.dad_transmits == 0 {
            self.create_binding(now, rcoa, pending);
            return;
        }
        self.event(
            "dad_start",
            &[("rcoa", s(rcoa)), ("transmits", v(self.cfg.dad_transmits))],
        );
        self.dads.insert(rcoa, pending);
        self.dad_step(now);
    }

    /// Send due DAD NSs and finish DADs whose time is up.
    fn dad_step(&mut self, now: Instant) {
        let due: Vec<Ipv6Addr> = self
            .dads
            .iter()
            .filter(|(_, p)| p.next <= now)
            .map(|(r, _)| *r)
            .collect();
        for rcoa in due {
            let Some(p) = self.dads.get_mut(&rcoa) else {
                continue;
            };
            if p.sent < self.cfg.dad_transmits {
                p.sent += 1;
                p.next = now + self.cfg.retrans_timer;
                let f = ndp::ns_frame(self.links[CORE].mac, Ipv6Addr::UNSPECIFIED, rcoa);
                self.push_frame(CORE, f);
                continue;
            }
            let Some(p) = self.dads.remove(&rcoa) else {
                continue;
            };
            self.event(
                "dad_result",
                &[
                    ("rcoa", s(rcoa)),
                    (
                        "result",
                        s(if p.conflict {
                            "duplicate-ignored"
                        } else {
                            "unique"
                        }),
                    ),
                ],
            );
            self.create_binding(now, rcoa, p);
        }
    }

    /// Someone else has the RCoA under DAD.
    fn dad_conflict(&mut self, now: Instant, rcoa: Ipv6Addr, why: &str) {
        if self.cfg.faults.has(Fault::IgnoreDadFailure) {
            if let Some(p) = self.dads.get_mut(&rcoa) {
                p.conflict = true;
            }
            return;
        }
        let Some(p) = self.dads.remove(&rcoa) else {
            return;
        };
        self.event(
            "dad_result",
            &[
                ("rcoa", s(rcoa)),
                ("result", s("duplicate")),
                ("reason", s(why)),
            ],
        );
        self.send_ba(now, status::DAD_FAILED, p.seq, 0, rcoa, p.coa);
    }

    fn create_binding(&mut self, now: Instant, rcoa: Ipv6Addr, p: PendingDad) {
        let b = Binding {
            rcoa,
            coa: p.coa,
            seq: p.seq,
            lifetime: p.lifetime,
            expires: now + Duration::from_secs(4 * u64::from(p.lifetime)),
        };
        if self.cfg.faults.has(Fault::NoBindingStored) {
            self.event(
                "binding_not_stored",
                &[("rcoa", s(rcoa)), ("reason", s("fault no-binding-stored"))],
            );
        } else {
            self.bindings.insert(b);
            self.event(
                "binding_created",
                &[
                    ("rcoa", s(rcoa)),
                    ("lcoa", s(p.coa)),
                    ("seq", v(p.seq)),
                    ("lifetime", v(p.lifetime)),
                ],
            );
            if !self.cfg.faults.has(Fault::NoProxyNa) {
                // RFC 6275 10.4.1: unsolicited NA for the RCoA, O set.
                let mac = self.links[CORE].mac;
                let f = ndp::na_frame(
                    mac,
                    MacAddr::ipv6_multicast(&ALL_NODES),
                    self.cfg.address,
                    ALL_NODES,
                    rcoa,
                    NaFlags {
                        router: false,
                        solicited: false,
                        override_: true,
                    },
                    mac,
                );
                self.push_frame(CORE, f);
                self.event("proxy_na", &[("rcoa", s(rcoa)), ("to", s(ALL_NODES))]);
            }
        }
        if p.ack && !self.cfg.faults.has(Fault::NoBa) {
            self.send_ba(now, status::ACCEPTED, p.seq, p.lifetime, rcoa, p.coa);
        }
    }

    /// Send an ICMPv6 Parameter Problem, Code 0 (erroneous header field),
    /// about `invoking` (an IPv6 packet as received) with `pointer`, from
    /// the address it was sent to straight back to its source: no binding
    /// is used (RFC 6275 9.2). Not about an ICMPv6 error, nor to a
    /// multicast or unspecified source, nor about a packet to a multicast
    /// address, and at most [`ICMP_ERROR_BURST`] at once, then one per
    /// [`ICMP_ERROR_INTERVAL`] (RFC 4443 2.4).
    fn param_problem(&mut self, now: Instant, link: usize, invoking: &[u8], pointer: usize) {
        let (Some(to), Some(from)) = (read_addr(invoking, 8), read_addr(invoking, 24)) else {
            return;
        };
        let about_an_error = Frame::decode_ipv6(invoking)
            .frame
            .layers
            .iter()
            .any(|l| matches!(l, Layer::Icmpv6(m) if m.message.icmp_type() < 128));
        let suppressed = if to.is_multicast() || to.is_unspecified() {
            Some("source is multicast or unspecified")
        } else if from.is_multicast() {
            Some("destination is multicast")
        } else if about_an_error {
            Some("invoking packet is an ICMPv6 error")
        } else if !self.icmp_errors.take(now) {
            Some("rate limit")
        } else {
            None
        };
        if let Some(why) = suppressed {
            self.event(
                "icmp_error_suppressed",
                &[("to", s(to)), ("reason", s(why))],
            );
            return;
        }
        let Ok(pointer) = u32::try_from(pointer) else {
            return;
        };
        let quoted = &invoking[..invoking.len().min(MIN_MTU - ipv6::HEADER_LEN - 8)];
        let error = Icmpv6Repr::new(Icmpv6Message::ParamProblem {
            pointer,
            invoking: quoted.to_vec(),
        });
        let pkt = Frame::new(vec![Layer::ipv6(from, to, 64), Layer::Icmpv6(error)]).emit();
        self.event(
            "param_problem_sent",
            &[
                ("to", s(to)),
                ("pointer", v(pointer)),
                ("quoted", v(quoted.len())),
            ],
        );
        self.route_out(now, pkt, to, Some(link));
    }

    fn binding_gone(&self, b: &Binding, why: &str) {
        let event = if why == "expired" {
            "binding_expired"
        } else {
            "binding_deleted"
        };
        self.event(
            event,
            &[("rcoa", s(b.rcoa)), ("lcoa", s(b.coa)), ("reason", s(why))],
        );
    }

    /// Send a Binding Acknowledgement to `coa` with a type 2 routing
    /// header holding `rcoa` (RFC 4140 6.2), ESP-protected under
    /// `--protect bu`.
    fn send_ba(
        &mut self,
        now: Instant,
        status: u8,
        seq: u16,
        lifetime: u16,
        rcoa: Ipv6Addr,
        coa: Ipv6Addr,
    ) {
        let f = &self.cfg.faults;
        let rh2_addr = if f.has(Fault::Rh2HoldsLcoa) {
            coa
        } else {
            rcoa
        };
        let use_rh2 = !f.has(Fault::BaWithoutRh2) && rcoa != coa;
        let protect =
            self.cfg.protect.bu && !f.has(Fault::BaUnprotected) && self.sad.has_outbound();
        let src = self.cfg.address;
        let mh = MobilityRepr::new(
            MhMessage::BindingAck(BindingAckRepr {
                status,
                k_flag: false,
                reserved: 0,
                seq,
                lifetime,
            }),
            Vec::new(),
        );
        let mut layers = vec![Layer::ipv6(src, coa, 64)];
        if use_rh2 {
            layers.push(Layer::Routing(ExtLayer::new(RoutingRepr::type2(rh2_addr))));
        }
        if protect {
            let pseudo = PseudoHeader {
                src,
                dst: if use_rh2 { rh2_addr } else { coa },
                next_header: proto::MOBILITY,
            };
            let bytes = mh.to_bytes(&pseudo);
            match self.esp_layer(proto::MOBILITY, &bytes) {
                Some(l) => layers.push(l),
                None => return,
            }
        } else {
            layers.push(Layer::Mobility(mh));
        }
        let pkt = Frame::new(layers).emit();
        self.event(
            "ba_sent",
            &[
                ("status", v(status)),
                ("seq", v(seq)),
                ("lifetime", v(lifetime)),
                ("rcoa", s(rcoa)),
                ("lcoa", s(coa)),
                ("protected", v(protect)),
            ],
        );
        // The BA goes to the CoA itself, never through a tunnel.
        self.route_out(now, pkt, coa, None);
    }

    // ------------------------------------------------------------------
    // Tunnels
    // ------------------------------------------------------------------

    /// An IPv6-in-IPv6 packet to the MAP: decapsulate it if it came from
    /// the CoA bound to its inner source (RFC 6275 10.4.5).
    #[allow(clippy::too_many_arguments)]
    fn decapsulate(
        &mut self,
        now: Instant,
        link: usize,
        d: &Decoded,
        frame: &[u8],
        end: usize,
        i: usize,
        outer: &Ipv6Repr,
        depth: usize,
    ) {
        if outer.dst != self.cfg.address {
            return;
        }
        if self.cfg.faults.has(Fault::NoDecapsulation) {
            self.drop_frame(
                link,
                "tunnelled packet not decapsulated (fault no-decapsulation)",
                None,
            );
            return;
        }
        let Some(&(start, _)) = d.spans.get(i) else {
            return;
        };
        let Some(inner) = frame.get(start..end) else {
            return;
        };
        if inner.len() < ipv6::HEADER_LEN || inner[0] >> 4 != 6 {
            self.drop_frame(link, "inner IPv6 header truncated", Some(start));
            return;
        }
        let iplen = usize::from(u16::from_be_bytes([inner[4], inner[5]]));
        if ipv6::HEADER_LEN + iplen > inner.len() {
            self.drop_frame(
                link,
                "inner IPv6 Payload Length past the outer packet",
                Some(start + 4),
            );
            return;
        }
        let inner = inner[..ipv6::HEADER_LEN + iplen].to_vec();
        let (Some(inner_src), Some(inner_dst)) = (read_addr(&inner, 8), read_addr(&inner, 24))
        else {
            return;
        };
        let ok = self.bound(&inner_src).is_some_and(|b| b.coa == outer.src);
        if !ok && !self.cfg.faults.has(Fault::DecapsulateUnbound) {
            self.drop_frame(
                link,
                &format!(
                    "reverse tunnel check failed: no binding {inner_src} -> {}",
                    outer.src
                ),
                Some(start + 8),
            );
            return;
        }
        self.event(
            "tunnel_decap",
            &[
                ("outer_src", s(outer.src)),
                ("inner_src", s(inner_src)),
                ("inner_dst", s(inner_dst)),
                ("len", v(inner.len())),
            ],
        );
        self.forward(now, link, inner, depth);
    }

    // ------------------------------------------------------------------
    // Time
    // ------------------------------------------------------------------

    /// Do what is due at `now`: NS retransmissions, DAD, binding expiry,
    /// periodic RAs.
    pub fn tick(&mut self, now: Instant) {
        for (link, f) in ndp::tick_links(&mut self.links, &LINK_NAMES, now, &self.log) {
            self.push_frame(link, f);
        }
        self.dad_step(now);
        if !self.cfg.faults.has(Fault::BindingsNeverExpire) {
            for b in self.bindings.expire(now) {
                self.binding_gone(&b, "expired");
            }
        }
        if self.adv.due(now) {
            self.send_ra(now);
        }
    }

    /// When [`tick`](Self::tick) next has something to do.
    pub fn next_deadline(&self) -> Option<Instant> {
        let mut d: Vec<Instant> = Vec::new();
        d.extend(
            self.links
                .iter()
                .filter_map(|l| l.neighbors.next_deadline()),
        );
        d.extend(self.dads.values().map(|p| p.next));
        if !self.cfg.faults.has(Fault::BindingsNeverExpire) {
            d.extend(self.bindings.next_expiry());
        }
        d.extend(self.adv.next_deadline());
        d.into_iter().min()
    }

    // ------------------------------------------------------------------
    // Control
    // ------------------------------------------------------------------

    /// The `bindings` answer: one JSON object per binding.
    pub fn bindings_json(&self, now: Instant) -> Vec<Value> {
        self.bindings
            .iter()
            .map(|b| {
                json!({
                    "rcoa": b.rcoa.to_string(),
                    "lcoa": b.coa.to_string(),
                    "seq": b.seq,
                    "lifetime_remaining_s": b.remaining(now).as_secs(),
                })
            })
            .collect()
    }

    /// Answer a control command; `true` asks the daemon to stop.
    pub fn control(&mut self, now: Instant, command: &str) -> (String, bool) {
        match command {
            "bindings" => (control::lines(self.bindings_json(now)), false),
            "flush" => {
                for b in self.bindings.clear() {
                    self.binding_gone(&b, "flushed");
                }
                self.dads.clear();
                ("ok".into(), false)
            }
            "faults" => (control::lines(self.cfg.faults.names(MAP_FAULTS)), false),
            "quit" => ("ok".into(), true),
            other => (
                format!("error: unknown command {other:?} (bindings, flush, faults, quit)"),
                false,
            ),
        }
    }
}

#[cfg(test)]
mod tests;
