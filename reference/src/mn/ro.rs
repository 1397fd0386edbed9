//! Route optimisation with correspondent nodes (RFC 4140 6.1.1, 12.2 on top
//! of RFC 6275 5.2, 11.6, 11.7.2).
//!
//! The `ro CN` control command runs return routability: a Home Test Init
//! from the home address, reverse-tunnelled through the home agent (which
//! itself goes through the MAP: outer LCoA → MAP, middle RCoA → HA, inner
//! home address → CN, RFC 4140 12.2), and a Care-of Test Init from the
//! care-of address registered with the HA (the RCoA, tunnelled to the
//! MAP). With the Home Test and the Care-of Test in, the BU to the CN goes
//! from the RCoA with a Home Address option, Nonce Indices and Binding
//! Authorization Data (Kbm from the two keygen tokens). From then on,
//! packets to the CN (the `echo` command) are route-optimised: from the
//! RCoA, with a Home Address option holding the home address, through the
//! MAP tunnel (6.1.1).
//!
//! The BU asks for an acknowledgement (A set); a BA from the CN counts only
//! with a valid authenticator (RFC 6275 11.7.3), and the BU is sent again
//! until one comes. Route optimisation starts when the BU is sent: the
//! Binding Update List entry exists then (RFC 6275 11.3.1), and the
//! correspondent creates its binding cache entry on receiving it.
//!
//! `hoti CN` sends a Home Test Init alone (RFC 4140 12.2 cases).

use std::net::Ipv6Addr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::{json, Value};
use wire::binding_auth;
use wire::frame::{ExtLayer, Frame, Layer};
use wire::ipv6::Ipv6Repr;
use wire::ipv6_options::{Ipv6Option, OptionsHeaderRepr};
use wire::mobility::{BindingAckRepr, BindingUpdateRepr, MhMessage, MobilityRepr};
use wire::mobility_options::MobilityOption;

use super::{Mn, INITIAL_BINDACK_TIMEOUT, MAX_BINDACK_TIMEOUT};
use crate::faults::Fault;
use crate::log::{s, v};

/// RFC 6275 12: MAX_RR_BINDING_LIFETIME, 420 s, in units of 4 s.
pub const MAX_RR_BINDING_LIFETIME: u16 = 105;

/// Where return routability with one correspondent stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RoState {
    /// Test Init messages sent, waiting for the tests.
    Testing,
    /// BU sent, no valid BA yet: packets are route-optimised already.
    BuSent,
    /// The CN acknowledged the BU.
    Bound,
}

/// One correspondent node the MN runs return routability with.
#[derive(Debug, Clone)]
pub struct Correspondent {
    pub cn: Ipv6Addr,
    /// The care-of address tested and bound: the RCoA (or the LCoA
    /// without a MAP).
    pub coa: Ipv6Addr,
    pub home_cookie: u64,
    pub careof_cookie: u64,
    /// (nonce index, keygen token) of the Home Test and the Care-of Test.
    pub home: Option<(u16, u64)>,
    pub careof: Option<(u16, u64)>,
    /// Only a Home Test Init was asked for (`hoti CN`).
    pub hoti_only: bool,
    pub state: RoState,
    /// Sequence number of the last BU to the CN.
    pub seq: u16,
    pub tries: u32,
    pub next: Option<Instant>,
}

impl Correspondent {
    fn kbm(&self) -> Option<[u8; binding_auth::KBM_LEN]> {
        let (_, h) = self.home?;
        let (_, c) = self.careof?;
        Some(binding_auth::kbm(h, Some(c)))
    }

    /// Whether packets to the CN are route-optimised.
    pub fn optimised(&self) -> bool {
        matches!(self.state, RoState::BuSent | RoState::Bound)
    }

    fn json(&self) -> Value {
        json!({
            "kind": "cn",
            "cn": self.cn.to_string(),
            "coa": self.coa.to_string(),
            "state": match self.state {
                RoState::Testing => "testing",
                RoState::BuSent => "bu_sent",
                RoState::Bound => "bound",
            },
            "seq": self.seq,
        })
    }
}

/// A fresh 64-bit cookie: unpredictable enough for a test peer (clock,
/// counter and address mixed by splitmix64), never repeated in a process.
fn cookie(salt: Ipv6Addr) -> u64 {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let t = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0);
    let mut z =
        t ^ u128::from(salt) as u64 ^ COUNTER.fetch_add(0x9e37_79b9_7f4a_7c15, Ordering::Relaxed);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

fn backoff(tries: u32) -> Duration {
    INITIAL_BINDACK_TIMEOUT
        .saturating_mul(1 << tries.saturating_sub(1).min(6))
        .min(MAX_BINDACK_TIMEOUT)
}

fn hao(address: Ipv6Addr) -> Layer {
    Layer::DestinationOptions(ExtLayer::new(OptionsHeaderRepr::aligned(vec![
        Ipv6Option::HomeAddress {
            length: None,
            address,
        },
    ])))
}

impl Mn {
    fn cn_index(&self, cn: Ipv6Addr) -> Option<usize> {
        self.cns.iter().position(|c| c.cn == cn)
    }

    /// The correspondents, for `bindings`.
    pub fn correspondents(&self) -> &[Correspondent] {
        &self.cns
    }

    pub(super) fn cns_json(&self) -> Vec<Value> {
        self.cns.iter().map(Correspondent::json).collect()
    }

    /// `ro CN` (`hoti_only` false) or `hoti CN`: start return routability
    /// with `cn` from the care-of address registered with the home agent.
    pub(super) fn ro_start(&mut self, now: Instant, cn: Ipv6Addr, hoti_only: bool) -> String {
        let Some(coa) = self.ha.as_ref().map(|h| h.coa) else {
            return "error: no registration with the home agent yet".into();
        };
        let c = Correspondent {
            cn,
            coa,
            home_cookie: cookie(cn),
            careof_cookie: cookie(coa),
            home: None,
            careof: None,
            hoti_only,
            state: RoState::Testing,
            seq: 0,
            tries: 1,
            next: Some(now + backoff(1)),
        };
        self.event(
            "return_routability",
            &[("cn", s(cn)), ("coa", s(coa)), ("hoti_only", v(hoti_only))],
        );
        self.send_hoti(now, &c);
        if !hoti_only {
            self.send_coti(now, &c);
        }
        match self.cn_index(cn) {
            Some(i) => self.cns[i] = c,
            None => self.cns.push(c),
        }
        "ok".into()
    }

    /// Send `inner` (a packet from the home address) reverse-tunnelled to
    /// the home agent from the care-of address registered with it: from
    /// the RCoA, that tunnel itself goes through the MAP's.
    fn send_via_ha(&mut self, now: Instant, inner: Vec<Layer>) {
        let Some(h) = self.ha.as_ref().map(|h| (h.coa, h.peer)) else {
            return;
        };
        let mut layers = vec![Layer::ipv6(h.0, h.1, 64)];
        layers.extend(inner);
        if Some(h.0) == self.rcoa() {
            self.send_from_rcoa(now, layers);
        } else {
            self.send_ip(now, Frame::new(layers).emit());
        }
    }

    /// Send packet layers from care-of address `coa`: through the MAP
    /// tunnel when it is the RCoA.
    fn send_from_coa(&mut self, now: Instant, coa: Ipv6Addr, layers: Vec<Layer>) {
        if Some(coa) == self.rcoa() {
            self.send_from_rcoa(now, layers);
        } else {
            self.send_ip(now, Frame::new(layers).emit());
        }
    }

    /// The Home Test Init: from the home address through the HA (RFC 4140
    /// 12.2); the `hoti-from-rcoa` fault sends it from the RCoA straight
    /// through the MAP tunnel instead.
    fn send_hoti(&mut self, now: Instant, c: &Correspondent) {
        let mh = Layer::Mobility(MobilityRepr::new(
            MhMessage::HomeTestInit {
                reserved: 0,
                cookie: c.home_cookie,
            },
            Vec::new(),
        ));
        self.event("hoti_sent", &[("cn", s(c.cn))]);
        match self.rcoa() {
            Some(rcoa) if self.has(Fault::HotiFromRcoa) => {
                self.send_from_rcoa(now, vec![Layer::ipv6(rcoa, c.cn, 64), mh])
            }
            _ => self.send_via_ha(now, vec![Layer::ipv6(self.cfg.home_address, c.cn, 64), mh]),
        }
    }

    /// The Care-of Test Init, from the care-of address (RFC 6275 11.6.1).
    fn send_coti(&mut self, now: Instant, c: &Correspondent) {
        let mh = Layer::Mobility(MobilityRepr::new(
            MhMessage::CareofTestInit {
                reserved: 0,
                cookie: c.careof_cookie,
            },
            Vec::new(),
        ));
        self.event("coti_sent", &[("cn", s(c.cn)), ("coa", s(c.coa))]);
        self.send_from_coa(now, c.coa, vec![Layer::ipv6(c.coa, c.cn, 64), mh]);
    }

    /// The BU to the CN (RFC 6275 11.7.2): from the care-of address, Home
    /// Address option, Nonce Indices and Binding Authorization Data last.
    fn send_cn_bu(&mut self, now: Instant, i: usize) {
        let seq = self.next_seq();
        let lifetime = self
            .ha_lifetime(self.cns[i].coa)
            .min(MAX_RR_BINDING_LIFETIME);
        let c = &mut self.cns[i];
        let (Some(kbm), Some((hi, _)), Some((ci, _))) = (c.kbm(), c.home, c.careof) else {
            return;
        };
        c.seq = seq;
        c.state = match c.state {
            RoState::Bound => RoState::Bound,
            _ => RoState::BuSent,
        };
        c.tries += 1;
        c.next = Some(now + backoff(c.tries));
        let (cn, coa) = (c.cn, c.coa);
        let mut mh = MobilityRepr::new(
            MhMessage::BindingUpdate(BindingUpdateRepr {
                seq,
                a_flag: true,
                lifetime,
                ..Default::default()
            }),
            vec![
                MobilityOption::NonceIndices {
                    length: None,
                    home_nonce_index: hi,
                    careof_nonce_index: ci,
                },
                MobilityOption::BindingAuthorizationData {
                    authenticator: vec![0; binding_auth::AUTHENTICATOR_LEN],
                },
            ],
        );
        binding_auth::sign(&mut mh, &kbm, coa, cn);
        self.event(
            "bu_sent",
            &[
                ("to", s(cn)),
                ("kind", s("cn")),
                ("hoa", s(self.cfg.home_address)),
                ("coa", s(coa)),
                ("seq", v(seq)),
                ("lifetime", v(lifetime)),
            ],
        );
        let layers = vec![
            Layer::ipv6(coa, cn, 64),
            hao(self.cfg.home_address),
            Layer::Mobility(mh),
        ];
        self.send_from_coa(now, coa, layers);
    }

    /// A Home Test or Care-of Test (`home` says which) from `ip.src`:
    /// `true` when it answered one of the MN's tests.
    pub(super) fn on_test(&mut self, now: Instant, ip: &Ipv6Repr, m: &MhMessage) -> bool {
        let (home, nonce_index, cookie, token) = match *m {
            MhMessage::HomeTest {
                nonce_index,
                cookie,
                keygen_token,
            } => (true, nonce_index, cookie, keygen_token),
            MhMessage::CareofTest {
                nonce_index,
                cookie,
                keygen_token,
            } => (false, nonce_index, cookie, keygen_token),
            _ => return false,
        };
        let Some(i) = self.cn_index(ip.src) else {
            return false;
        };
        let c = &mut self.cns[i];
        // RFC 6275 11.6.2: to the right address, echoing the cookie.
        let right = if home {
            ip.dst == self.cfg.home_address && cookie == c.home_cookie
        } else {
            ip.dst == c.coa && cookie == c.careof_cookie
        };
        if !right {
            self.event(
                "test_ignored",
                &[
                    ("from", s(ip.src)),
                    ("reason", s("cookie or address not the MN's")),
                ],
            );
            return true;
        }
        if home {
            c.home = Some((nonce_index, token));
        } else {
            c.careof = Some((nonce_index, token));
        }
        self.event(
            if home { "hot_received" } else { "cot_received" },
            &[("from", s(ip.src)), ("nonce_index", v(nonce_index))],
        );
        let c = &mut self.cns[i];
        if c.state == RoState::Testing && !c.hoti_only && c.home.is_some() && c.careof.is_some() {
            c.tries = 0;
            self.send_cn_bu(now, i);
        } else if c.hoti_only && c.home.is_some() {
            c.next = None;
        }
        true
    }

    /// A BA from a correspondent: `true` when `ip.src` is one. It counts
    /// with the latest sequence number and a valid authenticator only
    /// (RFC 6275 11.7.3); anything else is silently ignored.
    pub(super) fn on_cn_ba(
        &mut self,
        ip: &Ipv6Repr,
        mh: &MobilityRepr,
        ba: &BindingAckRepr,
    ) -> bool {
        let Some(i) = self.cn_index(ip.src) else {
            return false;
        };
        let c = &self.cns[i];
        let valid = c.state != RoState::Testing
            && ba.seq == c.seq
            && c.kbm()
                .is_some_and(|k| binding_auth::verify(mh, &k, c.coa, c.cn));
        if !valid {
            self.event(
                "ba_ignored",
                &[
                    ("from", s(ip.src)),
                    (
                        "reason",
                        s("not for the last BU, or no valid Binding Authorization Data"),
                    ),
                ],
            );
            return true;
        }
        self.event(
            "ba_received",
            &[
                ("from", s(ip.src)),
                ("status", v(ba.status)),
                ("seq", v(ba.seq)),
            ],
        );
        let c = &mut self.cns[i];
        c.tries = 0;
        if ba.status < 128 {
            c.state = RoState::Bound;
            c.next = None;
        } else {
            // Refused: back to the home agent's route.
            self.cns.remove(i);
        }
        true
    }

    /// Retransmissions of the tests and of the BU to each correspondent.
    pub(super) fn ro_tick(&mut self, now: Instant) {
        for i in 0..self.cns.len() {
            if self.cns[i].next.is_none_or(|t| t > now) {
                continue;
            }
            let c = self.cns[i].clone();
            if c.state == RoState::Testing {
                let tries = c.tries + 1;
                self.cns[i].tries = tries;
                self.cns[i].next = Some(now + backoff(tries));
                if c.home.is_none() {
                    self.send_hoti(now, &c);
                }
                if c.careof.is_none() && !c.hoti_only {
                    self.send_coti(now, &c);
                }
            } else {
                self.send_cn_bu(now, i);
            }
        }
    }

    pub(super) fn ro_next_deadline(&self) -> Option<Instant> {
        self.cns.iter().filter_map(|c| c.next).min()
    }

    /// `inner` (an IPv6 header from `src` to `dst` and its upper layers)
    /// route-optimised if the MN has a binding with `dst`: from the care-of
    /// address bound, with a Home Address option holding the home address
    /// (RFC 4140 6.1.1), sent through the MAP tunnel from the RCoA. `false`
    /// when `dst` is no route-optimised correspondent.
    pub(super) fn send_optimised(&mut self, now: Instant, dst: Ipv6Addr, upper: Layer) -> bool {
        let Some(c) = self.cns.iter().find(|c| c.cn == dst && c.optimised()) else {
            return false;
        };
        let coa = c.coa;
        let src = match self.lcoa() {
            Some(l) if self.has(Fault::RoSourceLcoa) => l,
            _ => coa,
        };
        let home = if self.has(Fault::HaoHoldsRcoa) {
            coa
        } else {
            self.cfg.home_address
        };
        let mut layers = vec![Layer::ipv6(src, dst, 64)];
        if !self.has(Fault::RoWithoutHao) {
            layers.push(hao(home));
        }
        layers.push(upper);
        self.event(
            "route_optimised",
            &[("src", s(src)), ("dst", s(dst)), ("home", s(home))],
        );
        self.send_from_coa(now, src, layers);
        true
    }
}
