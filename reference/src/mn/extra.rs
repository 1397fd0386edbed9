//! Bindings with MAPs besides the current one (RFC 4140 7.2: "A mobile
//! node MAY choose to register with more than one MAP simultaneously").
//!
//! The current MAP (the one [`select`](super::select) picks, whose RCoA
//! the home agent gets) keeps its own logic in `mod.rs`; the control
//! command `register MAP` adds a registration with another stored MAP
//! option (R set, valid). Each one is a binding procedure of its own
//! (6.1: "the mobile node MUST perform the binding update procedure for
//! each RCoA"): an RCoA from that MAP's prefix, a local BU from the LCoA
//! (never another MAP's RCoA: 3.1, 6.1) with its own sequence numbers,
//! retransmissions, refreshes and BAs. `mod.rs` only calls in here from
//! its BA dispatch, `tick`, `next_deadline`, `bindings_json`, `control`
//! and its own-address checks.

use std::net::Ipv6Addr;
use std::time::Instant;

use serde_json::{json, Value};
use wire::frame::Frame;
use wire::ipv6::Ipv6Repr;
use wire::mobility::{BindingAckRepr, BindingUpdateRepr, MhMessage, MobilityRepr};
use wire::mobility_options::MobilityOption;

use crate::faults::Fault;
use crate::log::{s, v};

use super::{select, units, Mn, Registration, State};

impl Mn {
    /// The additional MAP bindings (not the current MAP's).
    pub fn extra_bindings(&self) -> &[Registration] {
        &self.extra
    }

    /// Is `a` the RCoA of an additional binding?
    pub(super) fn is_extra_rcoa(&self, a: &Ipv6Addr) -> bool {
        self.extra.iter().any(|r| r.hoa == *a)
    }

    /// Is `a` a MAP of an additional binding (its tunnel is accepted)?
    pub(super) fn is_extra_map(&self, a: &Ipv6Addr) -> bool {
        self.extra.iter().any(|r| r.peer == *a)
    }

    /// The care-of address of every additional binding: the LCoA (3.1,
    /// 6.1); the `rcoa-as-coa-to-other-map` fault uses the current MAP's
    /// RCoA instead.
    fn extra_coa(&self) -> Option<Ipv6Addr> {
        if self.has(Fault::RcoaAsCoaToOtherMap) {
            self.rcoa().or(self.lcoa())
        } else {
            self.lcoa()
        }
    }

    /// `register MAP`: register with `map` too, a stored MAP option with
    /// R set and a valid lifetime that is not the current MAP.
    pub(super) fn register_map(&mut self, now: Instant, map: Ipv6Addr) -> String {
        if self.map.as_ref().is_some_and(|m| m.peer == map) {
            return format!("error: {map} is the current MAP, already registered");
        }
        if let Some(r) = self.extra.iter().find(|r| r.peer == map) {
            return format!("ok already registering rcoa={}", r.hoa);
        }
        // 5: only the R flag lets the node form an RCoA from the prefix;
        // 7.2: a lifetime of 0 is not for new bindings.
        let usable = self
            .maps
            .get(&map)
            .is_some_and(|m| m.valid(now) && m.option.r_flag && m.option.pref > 0);
        if !usable {
            return format!(
                "error: no valid MAP option with the R flag and a preference above 0 for {map}"
            );
        }
        let Some(coa) = self.extra_coa() else {
            return "error: no care-of address yet".into();
        };
        let own = select::rcoa(map, self.iid);
        let rcoa = match self.rcoa() {
            Some(r) if self.has(Fault::OneRcoaForAllMaps) => r,
            _ => own,
        };
        self.event(
            "map_added",
            &[("map", s(map)), ("rcoa", s(rcoa)), ("lcoa", s(coa))],
        );
        self.extra
            .push(Registration::new(map, rcoa, coa, self.cfg.lifetime, now));
        self.send_extra_bu(now, self.extra.len() - 1);
        format!("ok rcoa={rcoa}")
    }

    /// Send (again) the local BU of additional binding `i`, with its next
    /// sequence number.
    fn send_extra_bu(&mut self, now: Instant, i: usize) {
        let rcoa1 = self.rcoa();
        let alt = self.has(Fault::RcoaAsAlternateCoa);
        let Some(r) = self.extra.get_mut(i) else {
            return;
        };
        r.sent_again(now, r.seq.wrapping_add(1));
        let r = r.clone();
        // 6.1: the CoA is the source; no Alternate CoA, least of all
        // another MAP's RCoA.
        let options = match rcoa1 {
            Some(a) if alt => vec![MobilityOption::AlternateCareofAddress {
                length: None,
                address: a,
            }],
            _ => Vec::new(),
        };
        let mh = MobilityRepr::new(
            MhMessage::BindingUpdate(BindingUpdateRepr::local(r.seq, r.requested)),
            options,
        );
        // Sealed like every local BU (RFC 4140 12.1).
        let seal = self.seals_local_bus();
        let Some(layers) = self.bu_layers(r.coa, r.peer, r.hoa, mh, seal) else {
            return;
        };
        self.event(
            "bu_sent",
            &[
                ("to", s(r.peer)),
                ("kind", s("extra_map")),
                ("hoa", s(r.hoa)),
                ("coa", s(r.coa)),
                ("seq", v(r.seq)),
                ("lifetime", v(r.requested)),
            ],
        );
        if Some(r.coa) == self.rcoa() {
            // Only the faulty CoA: a packet from the RCoA goes through the
            // current MAP (6.1.1).
            self.send_from_rcoa(now, layers);
        } else {
            self.send_ip(now, Frame::new(layers).emit());
        }
    }

    /// A BA from a MAP the current logic has no registration with: an
    /// additional binding's, if any (`false`: none).
    pub(super) fn extra_ba(
        &mut self,
        now: Instant,
        ip: &Ipv6Repr,
        rh2: Option<Ipv6Addr>,
        ba: &BindingAckRepr,
    ) -> bool {
        let Some(i) = self.extra.iter().position(|r| r.peer == ip.src) else {
            return false;
        };
        let r = &self.extra[i];
        // 6.1: without a type 2 routing header holding this binding's
        // RCoA, silently ignored.
        if rh2 != Some(r.hoa) {
            self.event(
                "ba_ignored",
                &[
                    ("from", s(ip.src)),
                    (
                        "reason",
                        s("no type 2 routing header with the MN's address"),
                    ),
                ],
            );
            return true;
        }
        self.event(
            "ba_received",
            &[
                ("from", s(ip.src)),
                ("kind", s("extra_map")),
                ("status", v(ba.status)),
                ("seq", v(ba.seq)),
                ("lifetime", v(ba.lifetime)),
            ],
        );
        if ba.status == 135 {
            // Out of window: continue after the MAP's number.
            self.extra[i].seq = ba.seq;
            self.send_extra_bu(now, i);
            return true;
        }
        if ba.seq != r.seq {
            self.event(
                "ba_ignored",
                &[
                    ("from", s(ip.src)),
                    ("reason", s("sequence number mismatch")),
                ],
            );
            return true;
        }
        let r = &mut self.extra[i];
        if ba.status < 128 {
            r.state = State::Bound;
            r.granted = ba.lifetime;
            r.bound_at = Some(now);
            r.tries = 0;
            // Refreshed at 3/4 of the lifetime, like the current MAP's.
            r.next = (ba.lifetime > 0).then(|| now + units(ba.lifetime) * 3 / 4);
        } else {
            r.state = State::Rejected(ba.status);
            r.next = None;
        }
        true
    }

    /// The additional bindings at `now`: drop those the current logic
    /// took over (the selection chose that MAP) or whose MAP option is
    /// gone or no longer usable; follow a new LCoA (a local BU to each
    /// MAP); send what is due.
    pub(super) fn extra_tick(&mut self, now: Instant) {
        let current = self.map.as_ref().map(|m| m.peer);
        let maps = &self.maps;
        let (kept, dropped): (Vec<_>, Vec<_>) =
            std::mem::take(&mut self.extra).into_iter().partition(|r| {
                Some(r.peer) != current
                    && maps
                        .get(&r.peer)
                        .is_some_and(|m| m.valid(now) && m.option.r_flag)
            });
        self.extra = kept;
        for r in dropped {
            self.event("map_removed", &[("map", s(r.peer)), ("rcoa", s(r.hoa))]);
        }
        if self.has(Fault::SecondMapReplacesFirst) && !self.extra.is_empty() {
            if let Some(m) = self.map.as_mut() {
                m.next = None;
            }
        }
        let coa = self.extra_coa();
        for i in 0..self.extra.len() {
            let r = &mut self.extra[i];
            let moved = coa.is_some_and(|c| c != r.coa);
            if moved {
                r.coa = coa.unwrap_or(r.coa);
                r.tries = 0;
                r.state = State::Pending;
            }
            if moved || r.next.is_some_and(|t| t <= now) {
                self.send_extra_bu(now, i);
            }
        }
    }

    /// When [`extra_tick`](Self::extra_tick) next has something to do.
    pub(super) fn extra_deadline(&self) -> Option<Instant> {
        self.extra.iter().filter_map(|r| r.next).min()
    }

    /// The `bindings` lines of the additional bindings.
    pub(super) fn extra_json(&self, now: Instant) -> Vec<Value> {
        self.extra
            .iter()
            .map(|r| {
                let mut o = r.json(now);
                o["kind"] = json!("extra_map");
                o["map"] = json!(r.peer.to_string());
                o["rcoa"] = json!(r.hoa.to_string());
                o["lcoa"] = json!(r.coa.to_string());
                o
            })
            .collect()
    }
}
