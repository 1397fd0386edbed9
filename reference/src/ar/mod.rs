//! The Access Router (RFC 4140 3.1, 5, 7, 10): advertises the MAPs of its
//! domain in its RAs on the access link, relays the MAP options it learns
//! from other routers (dynamic MAP discovery) and detects MAP failures by
//! probing, advertising a failed MAP with Valid Lifetime 0.
//!
//! [`Ar`] is the whole engine, free of I/O like the MAP's: frames go in
//! through [`Ar::handle_frame`], time through [`Ar::tick`], and the frames
//! to send come out of [`Ar::take_output`]. [`daemon`] drives it on real
//! links. It does not forward: it only answers what is addressed to it.

pub mod config;
pub mod daemon;
pub mod probe;

use std::net::Ipv6Addr;
use std::time::Instant;

use serde_json::{json, Value};
use wire::frame::{Decoded, Frame, Layer};
use wire::icmpv6::{Icmpv6Message, Icmpv6Repr};
use wire::ipv6::Ipv6Repr;
use wire::nd::{MapOptionRepr, NdOption};
use wire::MacAddr;

use crate::addr::{is_link_local, is_solicited_node, ALL_NODES, ALL_ROUTERS};
use crate::control;
pub use crate::daemon::{ACCESS, CORE};
use crate::discovery::DiscoveryConfig;
use crate::faults::{Fault, AR_FAULTS};
use crate::log::{s, v, Logger};
use crate::nd::{self as ndp, LinkState};
use crate::packet::{self, Rejection};
use crate::ra::{self, Advertiser, OwnOptionFaults, ReceivedRa};
use crate::sad::Sad;

use config::ArConfig;
use probe::{Change, Health, Prober, Reply, PROBE_IDENT};

const LINK_NAMES: [&str; 2] = ["access", "core"];

/// The payload of the AR's probes.
pub const PROBE_DATA: &[u8] = b"hmip6-ref ar probe";

/// The AR protocol engine.
pub struct Ar {
    cfg: ArConfig,
    links: [LinkState; 2],
    sad: Sad,
    /// The RAs on the access link, with the configured MAPs (the own
    /// options) and, with `--relay`, the learned ones.
    adv: Advertiser,
    prober: Prober,
    log: Logger,
    out: Vec<(usize, Vec<u8>)>,
}

impl Ar {
    /// An AR with MACs `macs` (access, core) starting at `now`.
    pub fn new(cfg: ArConfig, macs: [MacAddr; 2], log: Logger, now: Instant) -> Ar {
        let retrans = std::time::Duration::from_secs(1);
        let discovery = DiscoveryConfig {
            own: Vec::new(),
            relay: cfg.relay,
            faults: ra::discovery_faults(&cfg.faults),
        };
        let mut ar = Ar {
            links: [
                LinkState::new(macs[ACCESS], None, retrans),
                LinkState::new(macs[CORE], cfg.core_address, retrans),
            ],
            sad: Sad::new(cfg.sa_in.clone(), cfg.sa_out.clone(), true),
            adv: Advertiser::new(discovery, true, cfg.ra_interval, now),
            prober: Prober::new(&cfg.probes, cfg.probe_interval, cfg.probe_retries, now),
            log,
            out: Vec::new(),
            cfg,
        };
        ar.update_own_options();
        ar
    }

    pub fn config(&self) -> &ArConfig {
        &self.cfg
    }

    pub fn links(&self) -> &[LinkState; 2] {
        &self.links
    }

    pub fn prober(&self) -> &Prober {
        &self.prober
    }

    /// Frames to send, by link, in order.
    pub fn take_output(&mut self) -> Vec<(usize, Vec<u8>)> {
        std::mem::take(&mut self.out)
    }

    fn event(&self, name: &str, fields: &[(&str, Value)]) {
        self.log.event(name, fields);
    }

    fn reject(&self, link: usize, (reason, offset): Rejection) {
        let mut f = vec![("link", s(LINK_NAMES[link])), ("reason", s(reason))];
        if let Some(o) = offset {
            f.push(("offset", v(o)));
        }
        self.event("drop", &f);
    }

    fn drop_frame(&self, link: usize, reason: &str) {
        self.reject(link, (reason.to_string(), None));
    }

    // ------------------------------------------------------------------
    // Addresses and routing
    // ------------------------------------------------------------------

    /// Is `a` an address of the AR on `link`: the link's link-local, or
    /// the core address?
    fn is_own(&self, link: usize, a: &Ipv6Addr) -> bool {
        *a == self.links[link].ll || Some(*a) == self.cfg.core_address
    }

    /// The link towards `dst`: access prefixes on access, core prefixes
    /// on core (the AR has no default router).
    pub fn route(cfg: &ArConfig, dst: &Ipv6Addr) -> Option<usize> {
        if cfg.on_access_link(dst) {
            Some(ACCESS)
        } else if cfg.on_core_link(dst) {
            Some(CORE)
        } else {
            None
        }
    }

    fn push_frame(&mut self, link: usize, frame: Vec<u8>) {
        self.out.push((link, frame));
    }

    /// Send an IPv6 packet the AR originates: link-local destinations on
    /// `link_hint`, others routed (or, off every known prefix, on
    /// `link_hint` when there is one).
    fn send_ip(&mut self, now: Instant, packet: Vec<u8>, link_hint: Option<usize>) -> bool {
        let Some(dst) = packet::read_addr(&packet, 24) else {
            return false;
        };
        let link = if is_link_local(&dst) || dst.is_multicast() {
            link_hint
        } else {
            Ar::route(&self.cfg, &dst).or(link_hint)
        };
        let Some(link) = link else {
            self.event("no_route", &[("dst", s(dst))]);
            return false;
        };
        if let Some(f) = self.links[link].send(now, dst, packet) {
            self.push_frame(link, f);
        }
        true
    }

    // ------------------------------------------------------------------
    // MAP options and RAs
    // ------------------------------------------------------------------

    /// The configured MAPs' options, with Valid Lifetime 0 for a MAP
    /// found failed (RFC 4140 10), handed to discovery as the own ones.
    fn update_own_options(&mut self) {
        let own = self
            .cfg
            .maps
            .iter()
            .map(|m| {
                let failed = self.prober.health(&m.address) == Some(Health::Failed);
                self.cfg.map_option(m, if failed { 0 } else { m.lifetime })
            })
            .collect();
        self.adv.set_own(own);
    }

    /// The MAP options of an RA sent at `now`, as the faults break them.
    fn ra_options(&mut self, now: Instant) -> Vec<MapOptionRepr> {
        let f = &self.cfg.faults;
        if f.has(Fault::NoMapOption) {
            self.adv.options(now);
            return Vec::new();
        }
        let mut maps = self.adv.options(now);
        for o in &mut maps {
            if !self.cfg.maps.iter().any(|m| m.address == o.address) {
                continue;
            }
            OwnOptionFaults {
                dist_zero: f.has(Fault::RaDistZero),
                dist_two: f.has(Fault::RaDistTwo) && self.cfg.on_access_link(&o.address),
                length_4: f.has(Fault::RaMapOptionLength4),
            }
            .apply(o);
        }
        maps
    }

    /// Send the RA on the access link now.
    fn send_ra(&mut self, now: Instant) {
        let maps = self.ra_options(now);
        let l = &self.links[ACCESS];
        let f = ra::router_advert(l.mac, l.ll, &self.cfg.prefixes, maps);
        self.push_frame(ACCESS, f);
    }

    // ------------------------------------------------------------------
    // Failure detection
    // ------------------------------------------------------------------

    /// A probe (echo request) to `map`, from the core address, sealed
    /// under `--protect probe`.
    fn send_probe(&mut self, now: Instant, map: Ipv6Addr, seq: u16) {
        let Some(src) = self.cfg.core_address else {
            return;
        };
        let protect = self.cfg.protect.probe && !self.cfg.faults.has(Fault::ProbesUnprotected);
        let request = Icmpv6Message::EchoRequest {
            ident: PROBE_IDENT,
            seq,
            data: PROBE_DATA.to_vec(),
        };
        let Some(pkt) = packet::icmp_packet(&mut self.sad, src, map, request, protect) else {
            self.event(
                "probe_not_sent",
                &[("map", s(map)), ("reason", s("no outbound SA"))],
            );
            return;
        };
        self.event(
            "probe_sent",
            &[("map", s(map)), ("seq", v(seq)), ("protected", v(protect))],
        );
        self.send_ip(now, pkt, None);
    }

    /// A MAP changed state: its option's lifetime follows, and the mobile
    /// nodes hear it at once.
    fn on_change(&mut self, now: Instant, c: Change) {
        self.event(
            match c.health {
                Health::Failed => "map_failed",
                Health::Alive => "map_recovered",
            },
            &[("map", s(c.map))],
        );
        self.update_own_options();
        self.send_ra(now);
    }

    fn on_echo_reply(
        &mut self,
        now: Instant,
        link: usize,
        ip: &Ipv6Repr,
        ident: u16,
        seq: u16,
        protected: bool,
    ) {
        if self.cfg.protect.probe
            && !protected
            && !self.cfg.faults.has(Fault::AcceptUnprotectedReply)
        {
            self.drop_frame(link, "echo reply without ESP (--protect probe)");
            return;
        }
        match self.prober.on_reply(now, ip.src, ident, seq) {
            Reply::Answered(change) => {
                self.event(
                    "probe_answered",
                    &[
                        ("map", s(ip.src)),
                        ("seq", v(seq)),
                        ("protected", v(protected)),
                    ],
                );
                if let Some(c) = change {
                    self.on_change(now, c);
                }
            }
            Reply::Unexpected => self.event(
                "ignored",
                &[
                    ("reason", s("echo reply to no outstanding probe")),
                    ("from", s(ip.src)),
                ],
            ),
        }
    }

    // ------------------------------------------------------------------
    // Input
    // ------------------------------------------------------------------

    /// A frame received on `link` at `now`.
    pub fn handle_frame(&mut self, now: Instant, link: usize, frame: &[u8]) {
        if link > CORE {
            return;
        }
        match packet::frame_for(frame, self.links[link].mac) {
            Ok(true) => {}
            Ok(false) => return,
            Err(r) => return self.reject(link, r),
        }
        let d = Frame::decode(frame);
        let (ip, _) = match packet::ipv6_of(&d, frame) {
            Ok(x) => x,
            Err(r) => return self.reject(link, r),
        };
        let for_us = if ip.dst.is_multicast() {
            ip.dst == ALL_NODES || ip.dst == ALL_ROUTERS || is_solicited_node(&ip.dst)
        } else {
            self.is_own(link, &ip.dst)
        };
        if for_us {
            self.local(now, link, &d, frame, false);
        }
    }

    /// A packet for the AR: walk to the upper layer.
    fn local(&mut self, now: Instant, link: usize, d: &Decoded, frame: &[u8], protected: bool) {
        let Ok((ip, end)) = packet::ipv6_of(d, frame) else {
            return;
        };
        for (i, layer) in d.frame.layers.iter().enumerate().skip(2) {
            match layer {
                Layer::HopByHop(_) | Layer::DestinationOptions(_) => {}
                Layer::Esp(_) if protected => return self.drop_frame(link, "ESP inside ESP"),
                Layer::Esp(_) => {
                    match packet::open_esp(&mut self.sad, d, frame, end, i, true) {
                        Ok((opened, plain)) => {
                            self.event(
                                "esp_opened",
                                &[("spi", v(opened.spi)), ("seq", v(opened.seq))],
                            );
                            let d2 = Frame::decode(&plain);
                            self.local(now, link, &d2, &plain, true);
                        }
                        Err(r) => self.reject(link, r),
                    }
                    return;
                }
                Layer::Icmpv6(m) => return self.icmp(now, link, frame, d, &ip, m, protected),
                _ => {
                    return self.event(
                        "ignored",
                        &[
                            ("link", s(LINK_NAMES[link])),
                            ("reason", s("upper layer not handled")),
                        ],
                    )
                }
            }
        }
    }

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
        if let Err(r) = packet::check_icmp(d, ip, m) {
            return self.reject(link, r);
        }
        let src_mac = MacAddr::from_bytes(&frame[6..12]);
        match &m.message {
            Icmpv6Message::NeighborSolicit {
                target, options, ..
            } => self.on_ns(link, src_mac, ip, *target, options),
            Icmpv6Message::NeighborAdvert {
                target, options, ..
            } if !target.is_multicast() && !self.is_own(link, target) => {
                let mac = ndp::tlla(options).unwrap_or(src_mac);
                for f in self.links[link].learn(*target, mac) {
                    self.push_frame(link, f);
                }
            }
            Icmpv6Message::RouterSolicit { .. } if link == ACCESS => self.send_ra(now),
            Icmpv6Message::RouterAdvert { options, .. } => {
                let ra = ReceivedRa {
                    link,
                    link_name: LINK_NAMES[link],
                    src: ip.src,
                    own_ll: self.links[link].ll,
                    options,
                    protected,
                    require_esp: self.cfg.protect.ra
                        && !self.cfg.faults.has(Fault::RelayUnauthenticatedRa),
                };
                if let Err(r) = self.adv.on_router_advert(now, ra, &self.log) {
                    self.reject(link, r);
                }
            }
            Icmpv6Message::EchoRequest { ident, seq, data } => {
                let Some(pkt) =
                    packet::echo_reply(&mut self.sad, ip, *ident, *seq, data, protected)
                else {
                    return;
                };
                self.event(
                    "echo_reply",
                    &[("to", s(ip.src)), ("protected", v(protected))],
                );
                self.send_ip(now, pkt, Some(link));
            }
            Icmpv6Message::EchoReply { ident, seq, .. } => {
                self.on_echo_reply(now, link, ip, *ident, *seq, protected)
            }
            _ => {}
        }
    }

    /// NSs for the AR's own addresses are answered (R set); the sender is
    /// learned.
    fn on_ns(
        &mut self,
        link: usize,
        src_mac: MacAddr,
        ip: &Ipv6Repr,
        target: Ipv6Addr,
        options: &[NdOption],
    ) {
        let slla = ndp::slla(options);
        if ip.src.is_unspecified() && (slla.is_some() || !is_solicited_node(&ip.dst)) {
            return self.drop_frame(
                link,
                "DAD NS with a source link-layer address or not to a solicited-node group",
            );
        }
        if let (false, Some(mac)) = (ip.src.is_unspecified(), slla) {
            for f in self.links[link].learn(ip.src, mac) {
                self.push_frame(link, f);
            }
        }
        if !self.is_own(link, &target) {
            return;
        }
        let f = self.links[link].answer_ns(ip.src, src_mac, slla, target, target, true);
        self.push_frame(link, f);
    }

    // ------------------------------------------------------------------
    // Time
    // ------------------------------------------------------------------

    /// Do what is due at `now`: NS retransmissions, probes and failures,
    /// RAs.
    pub fn tick(&mut self, now: Instant) {
        for (link, f) in ndp::tick_links(&mut self.links, &LINK_NAMES, now, &self.log) {
            self.push_frame(link, f);
        }
        let (probes, changes) = self.prober.due(now);
        for c in changes {
            self.on_change(now, c);
        }
        for (map, seq) in probes {
            self.send_probe(now, map, seq);
        }
        if self.adv.due(now) {
            self.send_ra(now);
        }
    }

    /// When [`tick`](Self::tick) next has something to do.
    pub fn next_deadline(&self) -> Option<Instant> {
        self.links
            .iter()
            .filter_map(|l| l.neighbors.next_deadline())
            .chain(self.prober.next_deadline())
            .chain(self.adv.next_deadline())
            .min()
    }

    // ------------------------------------------------------------------
    // Control
    // ------------------------------------------------------------------

    /// The `status` answer: one JSON object per probed MAP, then one per
    /// MAP option advertised (own: a configured MAP; else learned).
    pub fn status_json(&self, now: Instant) -> Vec<Value> {
        let probes = self.prober.targets().iter().map(|t| {
            json!({
                "probe": t.map.to_string(),
                "state": t.health.name(),
                "misses": t.misses,
                "sent": t.sent,
                "answered": t.answered,
            })
        });
        let options = self.adv.discovery().advertised(now).into_iter().map(|o| {
            json!({
                "option": o.address.to_string(),
                "dist": o.dist,
                "pref": o.pref,
                "r": o.r_flag,
                "lifetime": o.valid_lifetime,
                "own": self.cfg.maps.iter().any(|m| m.address == o.address),
            })
        });
        probes.chain(options).collect()
    }

    /// Answer a control command; `true` asks the daemon to stop.
    pub fn control(&mut self, now: Instant, command: &str) -> (String, bool) {
        match command {
            "status" => (control::lines(self.status_json(now)), false),
            "faults" => (control::lines(self.cfg.faults.names(AR_FAULTS)), false),
            "quit" => ("ok".into(), true),
            other => (
                format!("error: unknown command {other:?} (status, faults, quit)"),
                false,
            ),
        }
    }
}

#[cfg(test)]
mod tests;
