//! The MN engine fed with frames built by `wire` on a fake clock, no link
//! involved.

use std::net::Ipv6Addr;
use std::time::{Duration, Instant};

use proptest::prelude::*;
use wire::frame::{Decoded, ExtLayer, Frame, Layer};
use wire::icmpv6::{Icmpv6Message, Icmpv6Repr};
use wire::mobility::{BindingAckRepr, BindingUpdateRepr, MhMessage, MobilityRepr};
use wire::mobility_options::MobilityOption;
use wire::nd::{MapOptionRepr, NdOption, PrefixInfoRepr};
use wire::routing::RoutingRepr;
use wire::MacAddr;

use super::config::MnConfig;
use super::{Mn, State, LINK};
use crate::addr::{link_local, solicited_node, ALL_NODES};
use crate::faults::{Fault, Faults};
use crate::log::Logger;
use crate::nd::{na_frame, ns_frame, NaFlags};
use crate::ra::router_advert;

const MN_MAC: MacAddr = MacAddr([2, 0, 0, 0, 0, 2]);
const AR1_MAC: MacAddr = MacAddr([2, 0, 0, 0, 0xa, 1]);
const AR2_MAC: MacAddr = MacAddr([2, 0, 0, 0, 0xa, 2]);
const MAP1: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0xffff, 0, 0, 0, 0, 1);
const MAP2: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0xeeee, 0, 0, 0, 0, 1);
const LCOA1: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 1, 0, 0, 0xff, 0xfe00, 2);
const LCOA2: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 2, 0, 0, 0xff, 0xfe00, 2);
const RCOA1: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0xffff, 0, 0, 0xff, 0xfe00, 2);
const RCOA2: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0xeeee, 0, 0, 0xff, 0xfe00, 2);
const HOME: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0xaaaa, 0, 0, 0, 0, 2);
const HA: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0xaaaa, 0, 0, 0, 0, 1);
const SECOND: Duration = Duration::from_secs(1);
const CN: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0xcccc, 0, 0, 0, 0, 5);

fn opt(map: Ipv6Addr, dist: u8, pref: u8, lifetime: u32) -> MapOptionRepr {
    MapOptionRepr::new(dist, pref, true, lifetime, map)
}

fn ra(mac: MacAddr, prefix: &str, maps: Vec<MapOptionRepr>) -> Vec<u8> {
    router_advert(mac, link_local(mac), &[prefix.parse().unwrap()], maps)
}

fn ra1(maps: Vec<MapOptionRepr>) -> Vec<u8> {
    ra(AR1_MAC, "2001:db8:1::/64", maps)
}

fn ba_layers(
    src: Ipv6Addr,
    dst: Ipv6Addr,
    rh2: Option<Ipv6Addr>,
    ba: BindingAckRepr,
) -> Vec<Layer> {
    let mut l = vec![Layer::ipv6(src, dst, 64)];
    if let Some(a) = rh2 {
        l.push(Layer::Routing(ExtLayer::new(RoutingRepr::type2(a))));
    }
    l.push(Layer::Mobility(MobilityRepr::new(
        MhMessage::BindingAck(ba),
        Vec::new(),
    )));
    l
}

fn ba(status: u8, seq: u16, lifetime: u16) -> BindingAckRepr {
    BindingAckRepr {
        status,
        seq,
        lifetime,
        ..Default::default()
    }
}

fn framed(mut layers: Vec<Layer>) -> Vec<u8> {
    layers.insert(0, Layer::ethernet(AR1_MAC, MN_MAC));
    Frame::new(layers).emit()
}

struct Rig {
    mn: Mn,
    now: Instant,
    /// Every frame sent must decode without findings (no fault on).
    strict: bool,
}

/// A BU as sent: (IPv6 headers outermost first, HAO, BU).
struct SentBu {
    ips: Vec<(Ipv6Addr, Ipv6Addr)>,
    hao: Option<Ipv6Addr>,
    bu: BindingUpdateRepr,
    /// Alternate Care-of Address options.
    alt_coa: usize,
    eth_dst: MacAddr,
}

fn bu_of(d: &Decoded) -> Option<SentBu> {
    let m = d.frame.mobility()?;
    let MhMessage::BindingUpdate(bu) = &m.message else {
        return None;
    };
    let eth_dst = match d.frame.layers.first() {
        Some(Layer::Ethernet(e)) => e.repr.dst,
        _ => return None,
    };
    Some(SentBu {
        ips: d.frame.ipv6_headers().map(|i| (i.src, i.dst)).collect(),
        hao: d.frame.layers.iter().find_map(|l| match l {
            Layer::DestinationOptions(h) => h.repr.home_address(),
            _ => None,
        }),
        bu: bu.clone(),
        alt_coa: m
            .options
            .iter()
            .filter(|o| matches!(o, MobilityOption::AlternateCareofAddress { .. }))
            .count(),
        eth_dst,
    })
}

impl Rig {
    fn new(faults: &[Fault]) -> Rig {
        let mut cfg = MnConfig::for_test();
        cfg.faults = Faults::of(faults);
        let now = Instant::now();
        Rig {
            mn: Mn::new(cfg, MN_MAC, Logger::off(), now),
            now,
            strict: faults.is_empty(),
        }
    }

    fn feed(&mut self, frame: &[u8]) -> Vec<Decoded> {
        self.mn.handle_frame(self.now, LINK, frame);
        self.out()
    }

    fn advance(&mut self, d: Duration) -> Vec<Decoded> {
        self.now += d;
        self.mn.tick(self.now);
        self.out()
    }

    fn out(&mut self) -> Vec<Decoded> {
        self.mn
            .take_output()
            .into_iter()
            .map(|(l, f)| {
                assert_eq!(l, LINK);
                let d = Frame::decode(&f);
                assert!(!self.strict || d.findings.is_empty(), "{:?}", d.findings);
                d
            })
            .collect()
    }

    fn bus(&mut self, frame: &[u8]) -> Vec<SentBu> {
        self.feed(frame).iter().filter_map(bu_of).collect()
    }

    /// A move: an RA from AR2 (2001:db8:2::/64) with `maps`; the BUs sent.
    fn move_to_ar2(&mut self, maps: Vec<MapOptionRepr>) -> Vec<SentBu> {
        self.bus(&ra(AR2_MAC, "2001:db8:2::/64", maps))
    }

    fn map_seq(&self) -> u16 {
        self.mn.map_binding().unwrap().seq
    }

    /// The MAP's BA (RH2 = `rcoa`) to the current local BU.
    fn map_ba(&mut self, map: Ipv6Addr, lcoa: Ipv6Addr, rcoa: Ipv6Addr, life: u16) -> Vec<SentBu> {
        let seq = self.map_seq();
        self.bus(&framed(ba_layers(map, lcoa, Some(rcoa), ba(0, seq, life))))
    }

    /// RA with MAP1, then its BA: the HA BU that follows.
    fn registered(&mut self, life: u16) -> Vec<SentBu> {
        let b = self.bus(&ra1(vec![opt(MAP1, 1, 10, 3600)]));
        assert_eq!(b.len(), 1);
        self.map_ba(MAP1, LCOA1, RCOA1, life)
    }
}

#[test]
fn ra_gives_lcoa_and_a_local_bu_to_the_map() {
    let mut r = Rig::new(&[]);
    let b = r.bus(&ra1(vec![opt(MAP1, 1, 10, 3600)]));
    assert_eq!(r.mn.lcoa(), Some(LCOA1));
    assert_eq!(r.mn.router(), Some(link_local(AR1_MAC)));
    assert_eq!(b.len(), 1, "only the local BU before the MAP's BA");
    let b = &b[0];
    assert_eq!(b.ips, vec![(LCOA1, MAP1)]);
    assert_eq!(b.hao, Some(RCOA1));
    assert!(b.bu.a_flag && b.bu.m_flag && !b.bu.h_flag);
    assert_eq!(b.bu.lifetime, 15);
    assert_eq!(b.alt_coa, 0, "no Alternate CoA option");
    assert_eq!(b.eth_dst, AR1_MAC);
    assert_eq!(r.mn.map_binding().unwrap().state, State::Pending);
}

#[test]
fn map_ba_with_rh2_brings_the_tunnelled_ha_bu() {
    let mut r = Rig::new(&[]);
    let b = r.registered(10);
    assert_eq!(r.mn.map_binding().unwrap().state, State::Bound);
    assert_eq!(b.len(), 1);
    let b = &b[0];
    assert_eq!(b.ips, vec![(LCOA1, MAP1), (RCOA1, HA)], "reverse tunnel");
    assert_eq!(b.hao, Some(HOME));
    assert!(b.bu.h_flag && b.bu.a_flag && !b.bu.m_flag);
    assert_eq!(b.bu.lifetime, 10, "not above what the MAP granted");
    assert_eq!(b.eth_dst, AR1_MAC);
    // The HA's BA, tunnelled by the MAP to the LCoA.
    let seq = r.mn.ha_binding().unwrap().seq;
    let mut l = vec![Layer::ipv6(MAP1, LCOA1, 64)];
    l.extend(ba_layers(HA, RCOA1, Some(HOME), ba(0, seq, 10)));
    assert!(r.bus(&framed(l)).is_empty());
    assert_eq!(r.mn.ha_binding().unwrap().state, State::Bound);
    let j = r.mn.bindings_json(r.now);
    assert_eq!(j.len(), 2);
    assert_eq!(j[0]["rcoa"], RCOA1.to_string());
    assert_eq!(j[1]["state"], "bound");
}

#[test]
fn ha_lifetime_is_the_requested_one_when_the_map_grants_more() {
    let mut r = Rig::new(&[]);
    assert_eq!(r.registered(900)[0].bu.lifetime, 15);
}

#[test]
fn ba_without_rh2_or_wrong_seq_is_ignored() {
    for fault in [false, true] {
        let f = fault.then_some(Fault::AcceptBaWithoutRh2);
        let f = f.as_slice();
        let mut r = Rig::new(f);
        r.bus(&ra1(vec![opt(MAP1, 1, 10, 3600)]));
        let seq = r.map_seq();
        let b = r.bus(&framed(ba_layers(MAP1, LCOA1, None, ba(0, seq, 10))));
        assert_eq!(b.len(), usize::from(fault), "fault {fault}");
        let bound = r.mn.map_binding().unwrap().state == State::Bound;
        assert_eq!(bound, fault);
    }
    let mut r = Rig::new(&[]);
    r.bus(&ra1(vec![opt(MAP1, 1, 10, 3600)]));
    let seq = r.map_seq();
    let wrong = framed(ba_layers(MAP1, LCOA1, Some(RCOA1), ba(0, seq + 7, 10)));
    assert!(r.bus(&wrong).is_empty());
    assert_eq!(r.mn.map_binding().unwrap().state, State::Pending);
}

#[test]
fn status_135_resynchronises_the_sequence_number() {
    let mut r = Rig::new(&[]);
    r.bus(&ra1(vec![opt(MAP1, 1, 10, 3600)]));
    let b = r.bus(&framed(ba_layers(
        MAP1,
        LCOA1,
        Some(RCOA1),
        ba(135, 500, 0),
    )));
    assert_eq!(b.len(), 1);
    assert_eq!(b[0].bu.seq, 501);
    let b = r.map_ba(MAP1, LCOA1, RCOA1, 10);
    assert_eq!(b.len(), 1, "then the HA BU");
}

#[test]
fn unanswered_bus_are_retransmitted_with_backoff() {
    let mut r = Rig::new(&[]);
    let first = r.bus(&ra1(vec![opt(MAP1, 1, 10, 3600)]))[0].bu.seq;
    let again: Vec<_> = r.advance(SECOND).iter().filter_map(bu_of).collect();
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].bu.seq, first.wrapping_add(1));
    assert!(r.advance(SECOND).iter().all(|d| bu_of(d).is_none()));
    assert_eq!(r.advance(SECOND).iter().filter_map(bu_of).count(), 1);
}

#[test]
fn bindings_are_refreshed_before_they_expire() {
    let mut r = Rig::new(&[]);
    r.registered(10);
    // 40 s granted: both refreshed at 30 s.
    let b: Vec<_> = r
        .advance(Duration::from_secs(30))
        .iter()
        .filter_map(bu_of)
        .collect();
    assert_eq!(b.len(), 2);
}

#[test]
fn furthest_map_is_chosen_unless_faulty() {
    let maps = vec![opt(MAP1, 1, 15, 3600), opt(MAP2, 3, 1, 3600)];
    let mut r = Rig::new(&[]);
    assert_eq!(r.bus(&ra1(maps.clone()))[0].ips, vec![(LCOA1, MAP2)]);
    assert_eq!(r.mn.rcoa(), Some(RCOA2));
    let mut r = Rig::new(&[Fault::NearestMapChosen]);
    assert_eq!(r.bus(&ra1(maps))[0].ips, vec![(LCOA1, MAP1)]);
}

#[test]
fn equal_distance_goes_to_the_highest_preference() {
    let mut r = Rig::new(&[]);
    let b = r.bus(&ra1(vec![opt(MAP1, 2, 3, 3600), opt(MAP2, 2, 9, 3600)]));
    assert_eq!(b[0].ips, vec![(LCOA1, MAP2)]);
}

/// Plain Mobile IPv6: the BU to the HA from the LCoA, no tunnel.
fn assert_mipv6(b: &[SentBu]) {
    assert_eq!(b.len(), 1);
    assert_eq!(b[0].ips, vec![(LCOA1, HA)]);
    assert_eq!(b[0].hao, Some(HOME));
    assert!(b[0].bu.h_flag && !b[0].bu.m_flag);
}

#[test]
fn no_map_option_is_plain_mobile_ipv6() {
    let mut r = Rig::new(&[]);
    assert_mipv6(&r.bus(&ra1(vec![])));
    assert!(r.mn.map_binding().is_none());
    // The HA's BA straight to the LCoA.
    let seq = r.mn.ha_binding().unwrap().seq;
    r.bus(&framed(ba_layers(HA, LCOA1, Some(HOME), ba(0, seq, 15))));
    assert_eq!(r.mn.ha_binding().unwrap().state, State::Bound);
}

#[test]
fn preference_zero_is_not_used_for_a_new_binding() {
    let maps = vec![opt(MAP1, 1, 0, 3600)];
    let mut r = Rig::new(&[]);
    assert_mipv6(&r.bus(&ra1(maps.clone())));
    let mut r = Rig::new(&[Fault::PrefZeroMapChosen]);
    assert_eq!(r.bus(&ra1(maps))[0].ips, vec![(LCOA1, MAP1)]);
}

#[test]
fn r_flag_clear_gives_no_rcoa() {
    let mut o = opt(MAP1, 1, 10, 3600);
    o.r_flag = false;
    let mut r = Rig::new(&[]);
    assert_mipv6(&r.bus(&ra1(vec![o.clone()])));
    let mut r = Rig::new(&[Fault::RcoaWithoutRFlag]);
    let b = r.bus(&ra1(vec![o]));
    assert_eq!((b[0].ips[0], b[0].hao), ((LCOA1, MAP1), Some(RCOA1)));
}

#[test]
fn rcoa_from_link_prefix_fault_forms_it_from_the_lcoa() {
    let mut r = Rig::new(&[Fault::RcoaFromLinkPrefix]);
    let b = r.bus(&ra1(vec![opt(MAP1, 1, 10, 3600)]));
    let hao = b[0].hao.expect("a Home Address option");
    assert_ne!(hao, RCOA1);
    assert_eq!(hao.segments()[..4], LCOA1.segments()[..4]);
}

#[test]
fn lifetime_zero_for_the_current_map_moves_to_another() {
    for kept in [false, true] {
        let f = kept.then_some(Fault::LifetimeZeroMapKept);
        let f = f.as_slice();
        let mut r = Rig::new(f);
        r.bus(&ra1(vec![opt(MAP1, 2, 10, 3600), opt(MAP2, 1, 10, 3600)]));
        r.map_ba(MAP1, LCOA1, RCOA1, 10);
        let b = r.bus(&ra1(vec![opt(MAP1, 2, 10, 0), opt(MAP2, 1, 10, 3600)]));
        if kept {
            assert!(b.is_empty());
            assert_eq!(r.mn.rcoa(), Some(RCOA1));
            continue;
        }
        assert_eq!(b.len(), 1, "same link: no BU to the failed MAP");
        assert_eq!((b[0].ips[0], b[0].hao), ((LCOA1, MAP2), Some(RCOA2)));
        // New bindings: the HA gets the new RCoA after MAP2's BA.
        let b = r.map_ba(MAP2, LCOA1, RCOA2, 10);
        assert_eq!(b[0].ips, vec![(LCOA1, MAP2), (RCOA2, HA)]);
    }
}

#[test]
fn the_only_map_failing_reverts_to_mobile_ipv6() {
    let mut r = Rig::new(&[]);
    r.registered(10);
    assert_mipv6(&r.bus(&ra1(vec![opt(MAP1, 1, 10, 0)])));
}

#[test]
fn movement_inside_the_domain_is_one_local_bu() {
    let mut r = Rig::new(&[]);
    r.registered(10);
    let b = r.move_to_ar2(vec![opt(MAP1, 1, 10, 3600)]);
    assert_eq!(r.mn.router(), Some(link_local(AR2_MAC)));
    assert_eq!(b.len(), 1);
    assert_eq!((b[0].ips[0], b[0].hao), ((LCOA2, MAP1), Some(RCOA1)));
    assert_eq!(b[0].eth_dst, AR2_MAC);
    assert!(r.map_ba(MAP1, LCOA2, RCOA1, 10).is_empty(), "no HA BU");
}

#[test]
fn movement_to_a_new_domain_tells_the_previous_map() {
    for fault in [false, true] {
        let f = fault.then_some(Fault::NoPreviousMapBu);
        let f = f.as_slice();
        let mut r = Rig::new(f);
        r.registered(10);
        let b = r.move_to_ar2(vec![opt(MAP2, 1, 10, 3600)]);
        let firsts: Vec<_> = b.iter().map(|b| (b.ips[0], b.hao)).collect();
        let mut want = vec![((LCOA2, MAP2), Some(RCOA2))];
        if !fault {
            want.insert(0, ((LCOA2, MAP1), Some(RCOA1)));
        }
        assert_eq!(firsts, want, "fault {fault}");
        assert!(b.iter().all(|b| b.bu.m_flag && b.bu.a_flag));
        let b = r.map_ba(MAP2, LCOA2, RCOA2, 10);
        assert_eq!(b[0].ips, vec![(LCOA2, MAP2), (RCOA2, HA)]);
    }
}

#[test]
fn flag_faults() {
    let mut r = Rig::new(&[Fault::BuWithoutMFlag]);
    let b = r.bus(&ra1(vec![opt(MAP1, 1, 10, 3600)]));
    assert!(!b[0].bu.m_flag && b[0].bu.a_flag);
    let mut r = Rig::new(&[Fault::BuWithoutAFlag]);
    let b = r.bus(&ra1(vec![opt(MAP1, 1, 10, 3600)]));
    assert!(b[0].bu.m_flag && !b[0].bu.a_flag);
    assert_eq!(b.len(), 2, "no BA to wait for: the HA BU follows");
    let mut r = Rig::new(&[Fault::AlternateCoaAdded]);
    let b = r.bus(&ra1(vec![opt(MAP1, 1, 10, 3600)]));
    assert_eq!(b[0].alt_coa, 1);
}

#[test]
fn ha_bu_timing_and_lifetime_faults() {
    let mut r = Rig::new(&[Fault::HaBeforeMapBa]);
    let b = r.bus(&ra1(vec![opt(MAP1, 1, 10, 3600)]));
    assert_eq!(b.len(), 2, "HA BU before the MAP's BA");
    assert!(b[1].bu.h_flag);
    let mut r = Rig::new(&[Fault::HaLifetimeAboveMap]);
    assert_eq!(r.registered(10)[0].bu.lifetime, 20);
    // Mobility Header messages stay tunnelled; data packets do not.
    let mut r = Rig::new(&[Fault::NoReverseTunnel]);
    assert_eq!(r.registered(10)[0].ips, vec![(LCOA1, MAP1), (RCOA1, HA)]);
    r.mn.control(r.now, "echo 2001:db8:cccc::5");
    assert_eq!(ips_of(&r.out()[0]), vec![(RCOA1, CN)]);
}

#[test]
fn ras_are_validated() {
    let mut r = Rig::new(&[]);
    let mut f = ra1(vec![opt(MAP1, 1, 10, 3600)]);
    f[14 + 7] = 254; // hop limit (the checksum does not cover it)
    assert!(r.feed(&f).is_empty());
    assert_eq!(r.mn.lcoa(), None);
    // A global source.
    let d = Frame::decode(&ra1(vec![]));
    let mut layers = d.frame.layers.clone();
    if let Layer::Ipv6(ip) = &mut layers[1] {
        ip.repr.src = MAP1;
    }
    assert!(r.feed(&Frame::new(layers).emit()).is_empty());
    assert_eq!(r.mn.lcoa(), None);
}

#[test]
fn ns_for_the_lcoa_is_answered_and_echo_goes_through_the_map() {
    let mut r = Rig::new(&[]);
    r.registered(10);
    let ns = crate::nd::ns_frame(AR1_MAC, link_local(AR1_MAC), LCOA1);
    let out = r.feed(&ns);
    assert_eq!(out.len(), 1);
    assert!(matches!(
        out[0].frame.icmpv6().unwrap().message,
        Icmpv6Message::NeighborAdvert { target: LCOA1, .. }
    ));
    let (answer, quit) = r.mn.control(r.now, "echo 2001:db8:cccc::5");
    assert!(answer.starts_with("ok") && !quit, "{answer}");
    let out = r.out();
    let ips: Vec<_> = out[0]
        .frame
        .ipv6_headers()
        .map(|i| (i.src, i.dst))
        .collect();
    let cn: Ipv6Addr = "2001:db8:cccc::5".parse().unwrap();
    assert_eq!(ips, vec![(LCOA1, MAP1), (RCOA1, cn)]);
    assert!(r.mn.control(r.now, "echo nope").0.starts_with("error"));
    assert!(r.mn.control(r.now, "bindings").0.ends_with('.'));
    assert!(r.mn.control(r.now, "maps").0.contains("\"dist\":1"));
    assert!(r.mn.control(r.now, "quit").1);
}

#[test]
fn echo_request_to_the_rcoa_is_answered_through_the_tunnel() {
    let mut r = Rig::new(&[]);
    r.registered(10);
    let cn: Ipv6Addr = "2001:db8:cccc::5".parse().unwrap();
    let req = Layer::Icmpv6(Icmpv6Repr::new(Icmpv6Message::EchoRequest {
        ident: 1,
        seq: 2,
        data: vec![1, 2],
    }));
    let f = framed(vec![
        Layer::ipv6(MAP1, LCOA1, 64),
        Layer::ipv6(cn, RCOA1, 64),
        req,
    ]);
    let out = r.feed(&f);
    assert_eq!(out.len(), 1);
    let ips: Vec<_> = out[0]
        .frame
        .ipv6_headers()
        .map(|i| (i.src, i.dst))
        .collect();
    assert_eq!(ips, vec![(LCOA1, MAP1), (RCOA1, cn)]);
    // Not from a MAP of the MN: dropped.
    let f = framed(vec![
        Layer::ipv6(MAP2, LCOA1, 64),
        Layer::ipv6(cn, RCOA1, 64),
        Layer::Icmpv6(Icmpv6Repr::new(Icmpv6Message::EchoRequest {
            ident: 1,
            seq: 2,
            data: vec![],
        })),
    ]);
    assert!(r.feed(&f).is_empty());
}

#[test]
fn map_options_expire() {
    let mut r = Rig::new(&[]);
    r.bus(&ra1(vec![opt(MAP1, 1, 10, 5), opt(MAP2, 1, 9, 3600)]));
    assert_eq!(r.mn.rcoa(), Some(RCOA1));
    let b: Vec<_> = r
        .advance(Duration::from_secs(5))
        .iter()
        .filter_map(bu_of)
        .collect();
    assert!(b.iter().any(|b| b.ips == vec![(LCOA1, MAP2)]));
    assert_eq!(r.mn.rcoa(), Some(RCOA2));
}

// MAP selection and option storage faults (mn-select).

#[test]
fn map_ignored_registers_the_lcoa_with_the_ha() {
    let mut r = Rig::new(&[Fault::MapIgnored]);
    assert_mipv6(&r.bus(&ra1(vec![opt(MAP1, 1, 10, 3600)])));
    assert!(r.mn.map_binding().is_none());
    assert!(r.bus(&ra1(vec![opt(MAP1, 1, 10, 3600)])).is_empty());
}

#[test]
fn no_mipv6_fallback_sends_nothing_without_maps_but_still_uses_one() {
    let mut r = Rig::new(&[Fault::NoMipv6Fallback]);
    assert!(r.bus(&ra1(vec![])).is_empty());
    assert!(r.mn.ha_binding().is_none());
    let b = r.bus(&ra1(vec![opt(MAP1, 1, 10, 3600)]));
    assert_eq!(b[0].ips, vec![(LCOA1, MAP1)]);
    // Losing that MAP still reverts to Mobile IPv6 (another requirement).
    r.map_ba(MAP1, LCOA1, RCOA1, 10);
    assert_mipv6(&r.bus(&ra1(vec![opt(MAP1, 1, 10, 0)])));
}

#[test]
fn lowest_pref_fault_takes_the_lower_preference() {
    let mut r = Rig::new(&[Fault::LowestPrefChosen]);
    let b = r.bus(&ra1(vec![opt(MAP1, 2, 3, 3600), opt(MAP2, 2, 9, 3600)]));
    assert_eq!(b[0].ips, vec![(LCOA1, MAP1)]);
}

#[test]
fn lifetime_zero_option_is_not_selected_unless_faulty() {
    let maps = vec![opt(MAP1, 2, 10, 0), opt(MAP2, 1, 10, 3600)];
    let mut r = Rig::new(&[]);
    assert_eq!(r.bus(&ra1(maps.clone()))[0].ips, vec![(LCOA1, MAP2)]);
    let mut r = Rig::new(&[Fault::LifetimeZeroMapChosen]);
    assert_eq!(r.bus(&ra1(maps))[0].ips, vec![(LCOA1, MAP1)]);
}

#[test]
fn no_ha_bu_on_map_change_keeps_the_old_rcoa_at_the_ha() {
    let mut r = Rig::new(&[Fault::NoHaBuOnMapChange]);
    r.bus(&ra1(vec![opt(MAP1, 2, 10, 3600), opt(MAP2, 1, 10, 3600)]));
    assert_eq!(r.map_ba(MAP1, LCOA1, RCOA1, 10).len(), 1, "first HA BU");
    let b = r.bus(&ra1(vec![opt(MAP1, 2, 10, 0), opt(MAP2, 1, 10, 3600)]));
    assert_eq!(b[0].ips, vec![(LCOA1, MAP2)]);
    assert!(r.map_ba(MAP2, LCOA1, RCOA2, 10).is_empty());
    assert_eq!(r.mn.ha_binding().unwrap().coa, RCOA1);
}

#[test]
fn no_fallback_after_map_loss_keeps_the_rcoa_at_the_ha() {
    let mut r = Rig::new(&[Fault::NoFallbackAfterMapLoss]);
    r.registered(10);
    assert!(r.bus(&ra1(vec![opt(MAP1, 1, 10, 0)])).is_empty());
    // Not later either, when the option expires or RAs come again.
    let later: Vec<_> = r.advance(SECOND).iter().filter_map(bu_of).collect();
    assert!(later.iter().all(|b| b.ips.last() != Some(&(LCOA1, HA))));
    assert!(r.bus(&ra1(vec![])).is_empty());
    assert_eq!(r.mn.ha_binding().unwrap().coa, RCOA1);
    // Without any MAP from the start, Mobile IPv6 as usual.
    let mut r = Rig::new(&[Fault::NoFallbackAfterMapLoss]);
    assert_mipv6(&r.bus(&ra1(vec![])));
}

#[test]
fn options_are_stored_across_ras_unless_faulty() {
    for fault in [false, true] {
        let f = fault.then_some(Fault::MapOptionsNotStored);
        let f = f.as_slice();
        let mut r = Rig::new(f);
        let b = r.bus(&ra1(vec![opt(MAP1, 2, 10, 3600), opt(MAP2, 1, 10, 3600)]));
        assert_eq!(b[0].ips, vec![(LCOA1, MAP1)]);
        // Only MAP1, withdrawn: MAP2 is known from the first RA alone.
        let b = r.bus(&ra1(vec![opt(MAP1, 2, 10, 0)]));
        if fault {
            assert_mipv6(&b);
        } else {
            assert_eq!((b[0].ips[0], b[0].hao), ((LCOA1, MAP2), Some(RCOA2)));
        }
    }
}

#[test]
fn local_bu_hao_lcoa_fault() {
    let mut r = Rig::new(&[Fault::LocalBuHaoLcoa]);
    let b = r.bus(&ra1(vec![opt(MAP1, 1, 10, 3600)]));
    assert_eq!((b[0].ips[0], b[0].hao), ((LCOA1, MAP1), Some(LCOA1)));
}

#[test]
fn lone_pref_zero_fault_takes_the_only_map_rather_than_mobile_ipv6() {
    let mut r = Rig::new(&[Fault::LonePrefZeroMapChosen]);
    let b = r.bus(&ra1(vec![opt(MAP1, 1, 0, 3600)]));
    assert_eq!(b[0].ips, vec![(LCOA1, MAP1)]);
    // With a MAP above preference 0, that one, even nearer.
    let mut r = Rig::new(&[Fault::LonePrefZeroMapChosen]);
    let b = r.bus(&ra1(vec![opt(MAP1, 2, 0, 3600), opt(MAP2, 1, 10, 3600)]));
    assert_eq!(b[0].ips, vec![(LCOA1, MAP2)]);
}

// ----------------------------------------------------------------------
// DAD for the LCoA, RA validation, movement (A2)
// ----------------------------------------------------------------------

/// A rig whose MN runs DAD (one probe) on its LCoAs.
fn dad_rig(faults: &[Fault]) -> Rig {
    let mut cfg = MnConfig::for_test();
    cfg.faults = Faults::of(faults);
    cfg.dad_transmits = 1;
    let now = Instant::now();
    Rig {
        mn: Mn::new(cfg, MN_MAC, Logger::off(), now),
        now,
        strict: faults.is_empty(),
    }
}

fn pio(prefix: &str, len: u8, valid: u32) -> NdOption {
    NdOption::PrefixInformation(PrefixInfoRepr::new(
        prefix.parse().unwrap(),
        len,
        true,
        true,
        valid,
        valid.min(14400),
    ))
}

/// An RA from `mac` with exactly `options`.
fn ra_with(mac: MacAddr, router_lifetime: u16, retrans_ms: u32, options: Vec<NdOption>) -> Vec<u8> {
    crate::ra::router_advert_frame(mac, link_local(mac), router_lifetime, retrans_ms, options)
}

/// The DAD probes among `out`: their targets.
fn probes(out: &[Decoded]) -> Vec<Ipv6Addr> {
    out.iter()
        .filter_map(|d| {
            let ip = d.frame.ipv6_headers().next()?;
            match &d.frame.icmpv6()?.message {
                Icmpv6Message::NeighborSolicit {
                    target, options, ..
                } => {
                    assert!(ip.src.is_unspecified(), "DAD probes come from ::");
                    assert_eq!(ip.dst, solicited_node(target));
                    assert!(options.is_empty(), "no SLLA option from ::");
                    Some(*target)
                }
                _ => None,
            }
        })
        .collect()
}

fn map1_ra() -> Vec<u8> {
    ra1(vec![opt(MAP1, 1, 10, 3600)])
}

#[test]
fn the_lcoa_is_probed_then_used_after_retrans_timer() {
    let mut r = dad_rig(&[]);
    let out = r.feed(&map1_ra());
    assert_eq!(probes(&out), vec![LCOA1]);
    assert!(
        out.iter().all(|d| bu_of(d).is_none()),
        "no BU while tentative"
    );
    assert_eq!((r.mn.lcoa(), r.mn.tentative()), (None, Some(LCOA1)));
    // The RA's Retrans Timer is 0: the default second. Repeated RAs do not
    // restart DAD.
    assert!(r.feed(&map1_ra()).is_empty());
    assert!(r.advance(SECOND - Duration::from_millis(1)).is_empty());
    let b: Vec<_> = r
        .advance(Duration::from_millis(1))
        .iter()
        .filter_map(bu_of)
        .collect();
    assert_eq!(b.len(), 1);
    assert_eq!(b[0].ips, vec![(LCOA1, MAP1)]);
    assert_eq!((r.mn.lcoa(), r.mn.tentative()), (Some(LCOA1), None));
}

#[test]
fn the_ra_retrans_timer_sets_the_wait() {
    let mut r = dad_rig(&[]);
    let f = ra_with(
        AR1_MAC,
        1800,
        50,
        vec![
            pio("2001:db8:1::", 64, 86400),
            NdOption::Map(opt(MAP1, 1, 10, 3600)),
        ],
    );
    assert_eq!(probes(&r.feed(&f)), vec![LCOA1]);
    assert!(r.advance(Duration::from_millis(49)).is_empty());
    let out = r.advance(Duration::from_millis(1));
    assert_eq!(out.iter().filter_map(bu_of).count(), 1);
}

#[test]
fn a_duplicate_lcoa_is_not_used() {
    let na = |target: Ipv6Addr| {
        na_frame(
            AR2_MAC,
            MacAddr::ipv6_multicast(&ALL_NODES),
            target,
            ALL_NODES,
            target,
            NaFlags {
                override_: true,
                ..Default::default()
            },
            AR2_MAC,
        )
    };
    let other_probe = ns_frame(AR2_MAC, Ipv6Addr::UNSPECIFIED, LCOA1);
    for duplicate in [na(LCOA1), other_probe] {
        let mut r = dad_rig(&[]);
        r.feed(&map1_ra());
        assert!(r.feed(&duplicate).is_empty());
        assert_eq!(r.mn.tentative(), None);
        assert!(r.advance(SECOND * 5).is_empty(), "no BU with a duplicate");
        assert_eq!(r.mn.lcoa(), None);
        // Not tried again on the same prefix.
        assert!(r.feed(&map1_ra()).is_empty());
    }
    // An NS for the tentative address from a unicast address is not
    // answered and is no duplicate.
    let mut r = dad_rig(&[]);
    r.feed(&map1_ra());
    let ns = ns_frame(AR1_MAC, link_local(AR1_MAC), LCOA1);
    assert!(r.feed(&ns).is_empty());
    assert_eq!(r.mn.tentative(), Some(LCOA1));
    // Once assigned, the LCoA is defended.
    r.advance(SECOND);
    let out = r.feed(&ns);
    assert!(matches!(
        out[0].frame.icmpv6().map(|m| &m.message),
        Some(Icmpv6Message::NeighborAdvert { target, .. }) if *target == LCOA1
    ));
}

#[test]
fn no_dad_fault_uses_the_lcoa_at_once() {
    let mut r = dad_rig(&[Fault::NoDad]);
    let out = r.feed(&map1_ra());
    assert!(probes(&out).is_empty());
    assert_eq!(out.iter().filter_map(bu_of).count(), 1);
}

#[test]
fn unknown_ra_options_are_skipped() {
    let options = vec![
        pio("2001:db8:1::", 64, 86400),
        NdOption::Unknown {
            option_type: 250,
            data: vec![1, 2, 3, 4, 5, 6],
        },
        NdOption::Map(opt(MAP1, 1, 10, 3600)),
    ];
    let f = ra_with(AR1_MAC, 1800, 0, options);
    let mut r = Rig::new(&[]);
    let b = r.bus(&f);
    assert_eq!((b[0].ips[0], b[0].hao), ((LCOA1, MAP1), Some(RCOA1)));
    // Dropped whole: nothing.
    let mut r = Rig::new(&[Fault::UnknownRaOptionDropsRa]);
    assert!(r.feed(&f).is_empty());
    assert_eq!(r.mn.lcoa(), None);
    // Stopped at the unknown option: the prefix but not the MAP.
    let mut r = Rig::new(&[Fault::UnknownRaOptionStopsParsing]);
    assert_mipv6(&r.bus(&f));
}

#[test]
fn an_ra_with_a_length_zero_option_is_discarded() {
    let mut zero = opt(MAP1, 1, 10, 3600);
    zero.length = Some(0);
    let f = ra_with(
        AR1_MAC,
        1800,
        0,
        vec![pio("2001:db8:1::", 64, 86400), NdOption::Map(zero)],
    );
    let mut r = Rig::new(&[]);
    assert!(r.feed(&f).is_empty());
    assert_eq!((r.mn.lcoa(), r.mn.router()), (None, None));
    let mut r = Rig::new(&[Fault::RaLengthZeroAccepted]);
    assert_mipv6(&r.bus(&f));
}

#[test]
fn only_a_64_bit_prefix_forms_an_address() {
    let f = |len: u8| {
        ra_with(
            AR1_MAC,
            1800,
            0,
            vec![
                pio("2001:db8:1::", len, 86400),
                NdOption::Map(opt(MAP1, 1, 10, 3600)),
            ],
        )
    };
    for len in [48, 80] {
        let mut r = Rig::new(&[]);
        assert!(r.feed(&f(len)).is_empty(), "/{len}");
        assert_eq!(r.mn.lcoa(), None);
    }
    let mut r = Rig::new(&[Fault::PrefixLengthNot64Used]);
    assert_eq!(r.bus(&f(48)).len(), 1);
    assert_eq!(r.mn.lcoa(), Some(LCOA1));
    // Preferred above valid, or link-local: ignored too.
    let mut bad = PrefixInfoRepr::new("2001:db8:1::".parse().unwrap(), 64, true, true, 10, 20);
    let mut r = Rig::new(&[]);
    assert!(r
        .feed(&ra_with(
            AR1_MAC,
            1800,
            0,
            vec![NdOption::PrefixInformation(bad.clone())]
        ))
        .is_empty());
    bad.preferred_lifetime = 5;
    bad.prefix = "fe80::".parse().unwrap();
    assert!(r
        .feed(&ra_with(
            AR1_MAC,
            1800,
            0,
            vec![NdOption::PrefixInformation(bad)]
        ))
        .is_empty());
    assert_eq!(r.mn.lcoa(), None);
}

#[test]
fn moving_runs_dad_on_the_new_lcoa_then_updates_both_maps() {
    let mut r = dad_rig(&[]);
    r.feed(&map1_ra());
    r.advance(SECOND);
    r.map_ba(MAP1, LCOA1, RCOA1, 10);
    // AR1 leaves: router and prefix lifetimes 0.
    let bye = ra_with(AR1_MAC, 0, 0, vec![pio("2001:db8:1::", 64, 0)]);
    assert!(r.feed(&bye).iter().all(|d| bu_of(d).is_none()));
    assert_eq!(r.mn.router(), None);
    let ar2 = ra_with(
        AR2_MAC,
        1800,
        0,
        vec![
            pio("2001:db8:2::", 64, 86400),
            NdOption::Map(opt(MAP2, 1, 10, 3600)),
        ],
    );
    let out = r.feed(&ar2);
    assert_eq!(probes(&out), vec![LCOA2]);
    assert!(out.iter().all(|d| bu_of(d).is_none()));
    // (The HA BU, unanswered here, may be retransmitted meanwhile.)
    let b: Vec<_> = r
        .advance(SECOND)
        .iter()
        .filter_map(bu_of)
        .filter(|b| !b.bu.h_flag)
        .collect();
    let firsts: Vec<_> = b.iter().map(|b| (b.ips[0], b.hao)).collect();
    assert_eq!(
        firsts,
        vec![((LCOA2, MAP1), Some(RCOA1)), ((LCOA2, MAP2), Some(RCOA2))]
    );
    assert!(b.iter().all(|b| b.eth_dst == AR2_MAC));
}

#[test]
fn rcoa_as_coa_fault_registers_the_old_rcoa_with_the_new_map() {
    let mut r = Rig::new(&[Fault::RcoaAsCoaToNewMap]);
    r.registered(10);
    let b = r.move_to_ar2(vec![opt(MAP2, 1, 10, 3600)]);
    let firsts: Vec<_> = b.iter().map(|b| (b.ips[0], b.hao)).collect();
    assert_eq!(
        firsts,
        vec![((LCOA2, MAP1), Some(RCOA1)), ((RCOA1, MAP2), Some(RCOA2))]
    );
}

#[test]
fn no_local_bu_on_move_fault_keeps_the_old_lcoa() {
    let mut r = Rig::new(&[Fault::NoLocalBuOnMove]);
    r.registered(10);
    let b = r.move_to_ar2(vec![opt(MAP1, 1, 10, 3600)]);
    assert!(b.is_empty());
    assert_eq!(r.mn.map_binding().unwrap().coa, LCOA1);
}

fn ips_of(d: &Decoded) -> Vec<(Ipv6Addr, Ipv6Addr)> {
    d.frame.ipv6_headers().map(|i| (i.src, i.dst)).collect()
}

fn hao_of(d: &Decoded) -> Option<Ipv6Addr> {
    d.frame.layers.iter().find_map(|l| match l {
        Layer::DestinationOptions(h) => h.repr.home_address(),
        _ => None,
    })
}

const HOME_TOKEN: u64 = 0x1122_3344_5566_7788;
const CAREOF_TOKEN: u64 = 0x99aa_bbcc_ddee_ff00;

/// Registered with MAP1 and the HA (both BAs in), then `ro CN`: the HoTI
/// and the CoTI it sent.
fn rr_started(faults: &[Fault]) -> (Rig, Decoded, Decoded) {
    let mut r = Rig::new(faults);
    assert!(r
        .mn
        .control(r.now, "ro 2001:db8:cccc::5")
        .0
        .starts_with("error"));
    r.registered(10);
    let seq = r.mn.ha_binding().unwrap().seq;
    let mut l = vec![Layer::ipv6(MAP1, LCOA1, 64)];
    l.extend(ba_layers(HA, RCOA1, Some(HOME), ba(0, seq, 10)));
    r.feed(&framed(l));
    let (answer, _) = r.mn.control(r.now, "ro 2001:db8:cccc::5");
    assert_eq!(answer, "ok");
    let mut out = r.out();
    assert_eq!(out.len(), 2, "HoTI and CoTI");
    let coti = out.pop().unwrap();
    let hoti = out.pop().unwrap();
    (r, hoti, coti)
}

fn cookie_of(d: &Decoded) -> u64 {
    match d.frame.mobility().unwrap().message {
        MhMessage::HomeTestInit { cookie, .. } | MhMessage::CareofTestInit { cookie, .. } => cookie,
        ref m => panic!("not a test init: {m:?}"),
    }
}

/// The HoT (nested MAP[HA[CN]]) and CoT (MAP[CN]) answering the tests.
fn tests_answered(r: &mut Rig, hoti: &Decoded, coti: &Decoded) -> Vec<Decoded> {
    let hot = MhMessage::HomeTest {
        nonce_index: 7,
        cookie: cookie_of(hoti),
        keygen_token: HOME_TOKEN,
    };
    let cot = MhMessage::CareofTest {
        nonce_index: 9,
        cookie: cookie_of(coti),
        keygen_token: CAREOF_TOKEN,
    };
    let out = r.feed(&framed(vec![
        Layer::ipv6(MAP1, LCOA1, 64),
        Layer::ipv6(HA, RCOA1, 64),
        Layer::ipv6(CN, HOME, 64),
        Layer::Mobility(MobilityRepr::new(hot, Vec::new())),
    ]));
    assert!(out.is_empty(), "no BU before the Care-of Test");
    r.feed(&framed(vec![
        Layer::ipv6(MAP1, LCOA1, 64),
        Layer::ipv6(CN, RCOA1, 64),
        Layer::Mobility(MobilityRepr::new(cot, Vec::new())),
    ]))
}

fn echo_to_cn(r: &mut Rig) -> Decoded {
    let (answer, _) = r.mn.control(r.now, "echo 2001:db8:cccc::5");
    assert!(answer.contains("route-optimised"), "{answer}");
    let mut out = r.out();
    assert_eq!(out.len(), 1);
    out.pop().unwrap()
}

/// The correspondent's BA to the RCoA (RH2 = home address), tunnelled by
/// the MAP, signed with `kbm` when given.
fn cn_ba(seq: u16, kbm: Option<[u8; 20]>) -> Vec<u8> {
    let mut mh = MobilityRepr::new(
        MhMessage::BindingAck(ba(0, seq, 10)),
        vec![MobilityOption::BindingAuthorizationData {
            authenticator: vec![0; 12],
        }],
    );
    if let Some(k) = kbm {
        assert!(wire::binding_auth::sign(&mut mh, &k, RCOA1, CN));
    }
    framed(vec![
        Layer::ipv6(MAP1, LCOA1, 64),
        Layer::ipv6(CN, RCOA1, 64),
        Layer::Routing(ExtLayer::new(RoutingRepr::type2(HOME))),
        Layer::Mobility(mh),
    ])
}

#[test]
fn return_routability_then_route_optimised_echo() {
    let (mut r, hoti, coti) = rr_started(&[]);
    // RFC 4140 12.2: HoTI from the home address, in the HA's tunnel, in
    // the MAP's; the CoTI from the RCoA through the MAP.
    assert_eq!(ips_of(&hoti), vec![(LCOA1, MAP1), (RCOA1, HA), (HOME, CN)]);
    assert_eq!(ips_of(&coti), vec![(LCOA1, MAP1), (RCOA1, CN)]);
    // A test with a wrong cookie does nothing.
    let wrong = MhMessage::CareofTest {
        nonce_index: 1,
        cookie: cookie_of(&coti) ^ 1,
        keygen_token: 5,
    };
    assert!(r
        .feed(&framed(vec![
            Layer::ipv6(MAP1, LCOA1, 64),
            Layer::ipv6(CN, RCOA1, 64),
            Layer::Mobility(MobilityRepr::new(wrong, Vec::new())),
        ]))
        .is_empty());
    let out = tests_answered(&mut r, &hoti, &coti);
    assert_eq!(out.len(), 1, "the BU to the CN");
    let bu = bu_of(&out[0]).unwrap();
    assert_eq!(bu.ips, vec![(LCOA1, MAP1), (RCOA1, CN)]);
    assert_eq!(bu.hao, Some(HOME));
    assert!(bu.bu.a_flag && !bu.bu.h_flag && !bu.bu.m_flag);
    assert!(bu.bu.lifetime <= 10, "not above the MAP's lifetime");
    let mh = out[0].frame.mobility().unwrap();
    assert!(mh.options.iter().any(|o| matches!(
        o,
        MobilityOption::NonceIndices {
            home_nonce_index: 7,
            careof_nonce_index: 9,
            ..
        }
    )));
    let kbm = wire::binding_auth::kbm(HOME_TOKEN, Some(CAREOF_TOKEN));
    assert!(wire::binding_auth::verify(mh, &kbm, RCOA1, CN));
    // Route-optimised from now on (RFC 4140 6.1.1).
    let e = echo_to_cn(&mut r);
    assert_eq!(ips_of(&e), vec![(LCOA1, MAP1), (RCOA1, CN)]);
    assert_eq!(hao_of(&e), Some(HOME));
    // An unauthenticated BA is ignored: the BU goes again.
    assert!(r.feed(&cn_ba(bu.bu.seq, None)).is_empty());
    let again: Vec<_> = r.advance(SECOND).iter().filter_map(bu_of).collect();
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].ips, vec![(LCOA1, MAP1), (RCOA1, CN)]);
    // The authenticated one for the latest BU binds: no more BUs.
    assert!(r.feed(&cn_ba(again[0].bu.seq, Some(kbm))).is_empty());
    let j = r.mn.bindings_json(r.now);
    assert_eq!(j.last().unwrap()["state"], "bound");
    assert!(r.advance(SECOND * 10).iter().all(|d| bu_of(d).is_none()));
    // Other destinations are not route-optimised.
    let (answer, _) = r.mn.control(r.now, "echo 2001:db8:cccc::6");
    assert!(!answer.contains("route-optimised"));
    assert!(r.mn.control(r.now, "ro nope").0.starts_with("error"));
}

#[test]
fn unanswered_tests_are_sent_again() {
    let (mut r, hoti, _) = rr_started(&[]);
    let out: Vec<_> = r
        .advance(SECOND)
        .into_iter()
        .filter(|d| d.frame.mobility().is_some())
        .collect();
    assert_eq!(out.len(), 2);
    assert_eq!(cookie_of(&out[0]), cookie_of(&hoti), "the same test again");
    // `hoti CN`: a Home Test Init alone.
    let (answer, _) = r.mn.control(r.now, "hoti 2001:db8:cccc::7");
    assert_eq!(answer, "ok");
    let out = r.out();
    assert_eq!(out.len(), 1);
    assert!(matches!(
        out[0].frame.mobility().unwrap().message,
        MhMessage::HomeTestInit { .. }
    ));
}

#[test]
fn route_optimisation_faults() {
    for (fault, ips, hao) in [
        (Fault::RoSourceLcoa, vec![(LCOA1, CN)], Some(HOME)),
        (Fault::RoWithoutHao, vec![(LCOA1, MAP1), (RCOA1, CN)], None),
        (
            Fault::HaoHoldsRcoa,
            vec![(LCOA1, MAP1), (RCOA1, CN)],
            Some(RCOA1),
        ),
        (Fault::NoReverseTunnel, vec![(RCOA1, CN)], Some(HOME)),
    ] {
        let (mut r, hoti, coti) = rr_started(&[fault]);
        let bu = bu_of(&tests_answered(&mut r, &hoti, &coti)[0]).unwrap();
        assert_eq!(bu.ips, vec![(LCOA1, MAP1), (RCOA1, CN)], "{fault:?}");
        let e = echo_to_cn(&mut r);
        assert_eq!(ips_of(&e), ips, "{fault:?}");
        assert_eq!(hao_of(&e), hao, "{fault:?}");
    }
    let (_, hoti, _) = rr_started(&[Fault::HotiFromRcoa]);
    assert_eq!(ips_of(&hoti), vec![(LCOA1, MAP1), (RCOA1, CN)]);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn random_frames_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
        let mut r = Rig::new(&[]);
        r.registered(10);
        r.mn.handle_frame(r.now, LINK, &bytes);
        // Mutations of a valid BA and of a valid RA.
        let seq = r.map_seq();
        for mut f in [
            framed(ba_layers(MAP1, LCOA1, Some(RCOA1), ba(0, seq, 10))),
            ra1(vec![opt(MAP2, 2, 10, 60)]),
        ] {
            let n = f.len();
            for (i, b) in bytes.iter().enumerate().take(8) {
                f[(usize::from(*b) + i) % n] ^= b | 1;
            }
            r.mn.handle_frame(r.now, LINK, &f);
        }
        r.mn.tick(r.now + Duration::from_secs(60));
        let _ = r.mn.take_output();
    }
}

// ----------------------------------------------------------------------
// Several MAPs at once (extra.rs)
// ----------------------------------------------------------------------

/// RA with MAP1 (chosen: the higher preference) and MAP2, MAP1's BA, then
/// `register MAP2`: the command's answer and the BUs it sent.
fn with_second_map(faults: &[Fault]) -> (Rig, String, Vec<SentBu>) {
    let mut r = Rig::new(faults);
    let b = r.bus(&ra1(vec![opt(MAP1, 1, 10, 3600), opt(MAP2, 1, 5, 3600)]));
    assert_eq!(b[0].ips, vec![(LCOA1, MAP1)]);
    r.map_ba(MAP1, LCOA1, RCOA1, 10);
    let (answer, quit) = r.mn.control(r.now, &format!("register {MAP2}"));
    assert!(!quit);
    let b = r.out().iter().filter_map(bu_of).collect();
    (r, answer, b)
}

fn extra_ba(r: &mut Rig, rh2: Option<Ipv6Addr>, status: u8, life: u16) -> Vec<SentBu> {
    let seq = r.mn.extra_bindings()[0].seq;
    r.bus(&framed(ba_layers(MAP2, LCOA1, rh2, ba(status, seq, life))))
}

#[test]
fn register_adds_a_binding_with_its_own_rcoa_from_the_lcoa() {
    let (mut r, answer, b) = with_second_map(&[]);
    assert_eq!(answer, format!("ok rcoa={RCOA2}"));
    assert_eq!(b.len(), 1);
    assert_eq!(
        b[0].ips,
        vec![(LCOA1, MAP2)],
        "from the LCoA, not tunnelled"
    );
    assert_eq!(b[0].hao, Some(RCOA2));
    assert_eq!(b[0].alt_coa, 0);
    assert!(b[0].bu.m_flag && b[0].bu.a_flag && !b[0].bu.h_flag);
    let map1 = r.mn.map_binding().unwrap().clone();
    assert_eq!(r.mn.extra_bindings()[0].state, State::Pending);
    // A BA without RH2, then one with MAP1's RCoA: not this binding's.
    assert!(extra_ba(&mut r, None, 0, 10).is_empty());
    assert!(extra_ba(&mut r, Some(RCOA1), 0, 10).is_empty());
    assert_eq!(r.mn.extra_bindings()[0].state, State::Pending);
    // Its own BA: bound, no BU to the HA (that stays with MAP1's RCoA),
    // MAP1's binding untouched.
    assert!(extra_ba(&mut r, Some(RCOA2), 0, 10).is_empty());
    let x = &r.mn.extra_bindings()[0];
    assert_eq!((x.state, x.granted), (State::Bound, 10));
    assert_eq!(r.mn.map_binding(), Some(&map1));
    assert_eq!(r.mn.ha_binding().unwrap().coa, RCOA1);
    let kinds: Vec<String> =
        r.mn.bindings_json(r.now)
            .iter()
            .map(|o| o["kind"].as_str().unwrap().to_string())
            .collect();
    assert_eq!(kinds, ["map", "ha", "extra_map"]);
    // Registering again sends nothing new.
    let (answer, _) = r.mn.control(r.now, &format!("register {MAP2}"));
    assert!(answer.starts_with("ok already"), "{answer}");
    assert!(r.out().is_empty());
}

#[test]
fn extra_bus_are_retransmitted_and_refreshed_with_their_own_numbers() {
    let (mut r, _, b) = with_second_map(&[]);
    let first = b[0].bu.seq;
    let map1_seq = r.map_seq();
    let again: Vec<_> = r.advance(SECOND).iter().filter_map(bu_of).collect();
    // MAP1's HA BU is also due (unanswered): keep the one to MAP2.
    let again: Vec<_> = again.into_iter().filter(|b| b.ips[0].1 == MAP2).collect();
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].bu.seq, first.wrapping_add(1));
    assert_eq!(r.map_seq(), map1_seq, "MAP1's binding is not resent");
    // A status 135 BA: continue after the MAP's number.
    let b = extra_ba(&mut r, Some(RCOA2), 135, 0);
    let seq = r.mn.extra_bindings()[0].seq;
    let b: Vec<_> = b.iter().filter(|b| b.ips[0].1 == MAP2).collect();
    assert_eq!(b.len(), 1);
    assert_eq!(b[0].bu.seq, seq);
    // 40 s granted: refreshed at 30 s.
    extra_ba(&mut r, Some(RCOA2), 0, 10);
    let to_map2 = |r: &mut Rig, d| {
        r.advance(d)
            .iter()
            .filter_map(bu_of)
            .filter(|b| b.ips[0].1 == MAP2)
            .count()
    };
    assert_eq!(to_map2(&mut r, Duration::from_secs(29)), 0);
    assert_eq!(to_map2(&mut r, SECOND), 1);
    assert!(r.mn.next_deadline().is_some());
}

#[test]
fn register_refuses_what_it_cannot_register_with() {
    let (mut r, _, _) = with_second_map(&[]);
    for (cmd, want) in [
        (format!("register {MAP1}"), "is the current MAP"),
        ("register 2001:db8:9::1".to_string(), "no valid MAP option"),
        ("register nonsense".to_string(), "not an IPv6 address"),
    ] {
        let (answer, quit) = r.mn.control(r.now, &cmd);
        assert!(
            answer.starts_with("error") && answer.contains(want),
            "{answer}"
        );
        assert!(!quit);
    }
    assert!(r.out().is_empty());
    // Before any RA: no MAP option at all.
    let mut r = Rig::new(&[]);
    let (answer, _) = r.mn.control(r.now, &format!("register {MAP2}"));
    assert!(answer.starts_with("error"), "{answer}");
    // R clear: no RCoA can be formed (5).
    let mut r = Rig::new(&[]);
    let no_r = MapOptionRepr::new(1, 5, false, 3600, MAP2);
    r.bus(&ra1(vec![opt(MAP1, 1, 10, 3600), no_r]));
    let (answer, _) = r.mn.control(r.now, &format!("register {MAP2}"));
    assert!(answer.starts_with("error"), "{answer}");
}

#[test]
fn extra_binding_follows_the_lcoa_and_ends_with_its_option() {
    let (mut r, _, _) = with_second_map(&[]);
    extra_ba(&mut r, Some(RCOA2), 0, 10);
    // A new link advertising both MAPs: a local BU to each, from LCoA2.
    let maps = vec![opt(MAP1, 1, 10, 3600), opt(MAP2, 1, 5, 3600)];
    r.feed(&ra(AR2_MAC, "2001:db8:2::/64", maps));
    let b: Vec<_> = r.advance(Duration::ZERO);
    let b: Vec<_> = b.iter().filter_map(bu_of).collect();
    assert!(b
        .iter()
        .any(|b| b.ips == vec![(LCOA2, MAP2)] && b.hao == Some(RCOA2)));
    assert_eq!(r.mn.extra_bindings()[0].coa, LCOA2);
    // MAP2 advertised with lifetime 0: the binding is given up.
    let maps = vec![opt(MAP1, 1, 10, 3600), opt(MAP2, 1, 5, 0)];
    r.feed(&ra(AR2_MAC, "2001:db8:2::/64", maps));
    r.advance(Duration::ZERO);
    assert!(r.mn.extra_bindings().is_empty());
}

#[test]
fn extra_binding_ends_when_the_selection_takes_its_map() {
    let (mut r, _, _) = with_second_map(&[]);
    // MAP1 goes away: MAP2 becomes the current MAP, one binding with it.
    r.feed(&ra1(vec![opt(MAP1, 1, 10, 0), opt(MAP2, 1, 5, 3600)]));
    r.advance(Duration::ZERO);
    assert_eq!(r.mn.map_binding().unwrap().peer, MAP2);
    assert!(r.mn.extra_bindings().is_empty());
}

#[test]
fn several_map_faults() {
    let (_, _, b) = with_second_map(&[Fault::RcoaAsCoaToOtherMap]);
    assert_eq!(b[0].ips, vec![(LCOA1, MAP1), (RCOA1, MAP2)]);
    let (_, _, b) = with_second_map(&[Fault::RcoaAsAlternateCoa]);
    assert_eq!((b[0].ips[0], b[0].alt_coa), ((LCOA1, MAP2), 1));
    let (_, answer, b) = with_second_map(&[Fault::OneRcoaForAllMaps]);
    assert_eq!((b[0].ips[0], b[0].hao), ((LCOA1, MAP2), Some(RCOA1)));
    assert_eq!(answer, format!("ok rcoa={RCOA1}"));
    // MAP1's binding (40 s) is no longer refreshed once MAP2 is added.
    for fault in [false, true] {
        let f = fault.then_some(Fault::SecondMapReplacesFirst);
        let f = f.as_slice();
        let (mut r, _, _) = with_second_map(f);
        r.advance(Duration::ZERO);
        let to_map1 = r
            .advance(Duration::from_secs(30))
            .iter()
            .filter_map(bu_of)
            .filter(|b| b.ips == vec![(LCOA1, MAP1)])
            .count();
        assert_eq!(to_map1, usize::from(!fault), "fault {fault}");
    }
}

// ----------------------------------------------------------------------
// ESP between the MN and its MAP (RFC 4140 12, 12.1)
// ----------------------------------------------------------------------

mod esp {
    use super::*;
    use crate::config::{Esp, Protection};
    use crate::packet::{self, ETH};
    use crate::sad::{Sad, SecurityAssociation};
    use wire::checksum::PseudoHeader;
    use wire::ipsec::EspRepr;

    const MN_TO_MAP: u32 = 0x1000;
    const MAP_TO_MN: u32 = 0x2000;

    fn sa(spi: u32) -> SecurityAssociation {
        SecurityAssociation {
            spi,
            key: vec![spi as u8 ^ 0x5a; 32],
        }
    }

    /// The MAP's side: the mirror of the MN's SAs.
    fn map_sad() -> Sad {
        Sad::new(vec![sa(MN_TO_MAP)], Some(sa(MAP_TO_MN)), true)
    }

    fn rig(faults: &[Fault]) -> Rig {
        let mut cfg = MnConfig::for_test();
        cfg.faults = Faults::of(faults);
        cfg.esp = Esp {
            sa_in: vec![sa(MAP_TO_MN)],
            sa_out: Some(sa(MN_TO_MAP)),
            protect: Protection {
                bu: true,
                ..Default::default()
            },
        };
        let now = Instant::now();
        Rig {
            mn: Mn::new(cfg, MN_MAC, Logger::off(), now),
            now,
            strict: faults.is_empty(),
        }
    }

    /// The frames the MN sent, as they went out.
    fn raw(r: &mut Rig) -> Vec<Vec<u8>> {
        r.mn.take_output().into_iter().map(|(_, f)| f).collect()
    }

    /// A sent frame opened by the MAP's SAs: (ESP sequence number, the
    /// frame as without ESP), or `None` if it had no ESP.
    fn opened(map: &mut Sad, frame: &[u8]) -> Option<(u32, Decoded)> {
        let d = Frame::decode(frame);
        let i = d
            .frame
            .layers
            .iter()
            .position(|l| matches!(l, Layer::Esp(_)))?;
        let (o, plain) = packet::open_esp(map, &d, frame, frame.len(), i, true).unwrap();
        let plain = Frame::decode(&plain);
        assert!(plain.findings.is_empty(), "{:?}", plain.findings);
        Some((o.seq, plain))
    }

    /// The BA `ba` from MAP1 to LCOA1 (RH2 = RCOA1) sealed with `key` on
    /// SPI `MAP_TO_MN` and ESP sequence number `esp_seq`.
    fn sealed_ba(ba: BindingAckRepr, esp_seq: u32, key: &[u8]) -> Vec<u8> {
        let mh = MobilityRepr::new(MhMessage::BindingAck(ba), Vec::new());
        let bytes = mh.to_bytes(&PseudoHeader {
            src: MAP1,
            dst: RCOA1,
            next_header: 135,
        });
        let sealed = wire::esp_auth::seal(MAP_TO_MN, esp_seq, key, 135, &bytes);
        framed(vec![
            Layer::ipv6(MAP1, LCOA1, 64),
            Layer::Routing(ExtLayer::new(RoutingRepr::type2(RCOA1))),
            Layer::Esp(EspRepr {
                spi: MAP_TO_MN,
                seq: esp_seq,
                data: sealed[8..].to_vec(),
            }),
        ])
    }

    fn good_ba(r: &Rig, esp_seq: u32) -> Vec<u8> {
        sealed_ba(ba(0, r.map_seq(), 10), esp_seq, &sa(MAP_TO_MN).key)
    }

    fn clear_ba(r: &Rig) -> Vec<u8> {
        framed(ba_layers(MAP1, LCOA1, Some(RCOA1), ba(0, r.map_seq(), 10)))
    }

    /// The RA with MAP1: the local BU it brings, as sent.
    fn local_bu(r: &mut Rig) -> Vec<u8> {
        r.mn.handle_frame(r.now, LINK, &ra1(vec![opt(MAP1, 1, 10, 3600)]));
        let f: Vec<_> = raw(r)
            .into_iter()
            .filter(|f| packet::read_addr(f, ETH + 24) == Some(MAP1))
            .collect();
        assert_eq!(f.len(), 1);
        f.into_iter().next().unwrap()
    }

    /// Feed `frame`: whether the MN went on to the HA BU.
    fn ha_bu_follows(r: &mut Rig, frame: &[u8]) -> bool {
        r.bus(frame).iter().any(|b| b.bu.h_flag)
    }

    #[test]
    fn local_bus_are_sealed_and_the_map_opens_them() {
        let mut r = rig(&[]);
        let mut map = map_sad();
        let f = local_bu(&mut r);
        let (esp_seq, plain) = opened(&mut map, &f).expect("the local BU is in ESP");
        assert_eq!(esp_seq, 1);
        let b = bu_of(&plain).unwrap();
        assert_eq!(b.ips, vec![(LCOA1, MAP1)]);
        assert_eq!(b.hao, Some(RCOA1));
        assert!(b.bu.a_flag && b.bu.m_flag && !b.bu.h_flag);
        // The retransmission is sealed with the next sequence number.
        r.now += 2 * SECOND;
        r.mn.tick(r.now);
        let f = raw(&mut r);
        assert_eq!(f.len(), 1);
        let (esp_seq, plain) = opened(&mut map, &f[0]).unwrap();
        assert_eq!(esp_seq, 2);
        assert_eq!(bu_of(&plain).unwrap().bu.seq, r.map_seq());
    }

    #[test]
    fn a_sealed_ba_is_accepted_and_the_ha_bu_stays_in_the_clear() {
        let mut r = rig(&[]);
        local_bu(&mut r);
        r.mn.handle_frame(r.now, LINK, &good_ba(&r, 1));
        assert_eq!(r.mn.map_binding().unwrap().state, State::Bound);
        let f = raw(&mut r);
        let ha: Vec<_> = f.iter().filter_map(|f| bu_of(&Frame::decode(f))).collect();
        assert_eq!(ha.len(), 1);
        assert!(ha[0].bu.h_flag);
        assert_eq!(ha[0].ips, vec![(LCOA1, MAP1), (RCOA1, HA)]);
        assert!(f.iter().all(|f| opened(&mut map_sad(), f).is_none()));
    }

    #[test]
    fn a_ba_in_the_clear_is_dropped_unless_the_fault() {
        let mut r = rig(&[]);
        local_bu(&mut r);
        let clear = clear_ba(&r);
        assert!(!ha_bu_follows(&mut r, &clear));
        assert_eq!(r.mn.map_binding().unwrap().state, State::Pending);
        // The retransmissions go on.
        assert_eq!(r.advance(2 * SECOND).len(), 1);
        let mut r = rig(&[Fault::AcceptUnprotectedBa]);
        local_bu(&mut r);
        let clear = clear_ba(&r);
        assert!(ha_bu_follows(&mut r, &clear));
    }

    #[test]
    fn a_forged_icv_is_dropped_unless_the_fault() {
        for forge in [0, 1] {
            let mut r = rig(&[]);
            local_bu(&mut r);
            let forged = if forge == 0 {
                let mut f = good_ba(&r, 1);
                *f.last_mut().unwrap() ^= 1;
                f
            } else {
                sealed_ba(ba(0, r.map_seq(), 10), 1, &[0x99; 32])
            };
            assert!(!ha_bu_follows(&mut r, &forged));
            assert_eq!(r.mn.map_binding().unwrap().state, State::Pending);
            // The forgery did not move the window: sequence number 1 is
            // still good.
            let good = good_ba(&r, 1);
            assert!(ha_bu_follows(&mut r, &good));
            let mut r = rig(&[Fault::NoBaIcvCheck]);
            local_bu(&mut r);
            let mut f = good_ba(&r, 1);
            *f.last_mut().unwrap() ^= 1;
            assert!(ha_bu_follows(&mut r, &f));
        }
    }

    /// The replay the case plays: a BA with status 135 (sequence number
    /// out of window) on ESP sequence number 5 makes the MN send a BU with
    /// the next sequence number; the BA for that one on ESP sequence
    /// number 5 again is a replay.
    fn replay(faults: &[Fault]) -> bool {
        let mut r = rig(faults);
        local_bu(&mut r);
        let key = sa(MAP_TO_MN).key;
        r.mn.handle_frame(r.now, LINK, &sealed_ba(ba(135, 1000, 0), 5, &key));
        let f = raw(&mut r);
        assert_eq!(f.len(), 1);
        let (_, plain) = opened(&mut map_sad(), &f[0]).expect("the BU again, in ESP");
        assert_eq!(bu_of(&plain).unwrap().bu.seq, 1001);
        ha_bu_follows(&mut r, &sealed_ba(ba(0, 1001, 10), 5, &key))
    }

    #[test]
    fn a_replayed_esp_sequence_number_is_dropped_unless_the_fault() {
        assert!(!replay(&[]));
        assert!(replay(&[Fault::AcceptBaReplay]));
    }

    #[test]
    fn the_bu_to_the_previous_map_is_sealed_too() {
        let mut r = rig(&[]);
        local_bu(&mut r);
        let good = good_ba(&r, 1);
        r.mn.handle_frame(r.now, LINK, &good);
        raw(&mut r);
        let ra2 = ra(AR2_MAC, "2001:db8:2::/64", vec![opt(MAP2, 1, 10, 3600)]);
        r.mn.handle_frame(r.now, LINK, &ra2);
        let mut map = map_sad();
        let sent: Vec<_> = raw(&mut r)
            .iter()
            .filter_map(|f| opened(&mut map, f))
            .filter_map(|(_, d)| bu_of(&d))
            .map(|b| (b.ips[0], b.hao))
            .collect();
        assert_eq!(
            sent,
            vec![((LCOA2, MAP1), Some(RCOA1)), ((LCOA2, MAP2), Some(RCOA2))]
        );
    }

    #[test]
    fn the_bu_unprotected_fault_sends_local_bus_in_the_clear() {
        let mut r = rig(&[Fault::BuUnprotected]);
        let f = local_bu(&mut r);
        assert!(opened(&mut map_sad(), &f).is_none());
        assert!(bu_of(&Frame::decode(&f)).unwrap().bu.m_flag);
    }

    #[test]
    fn esp_without_a_matching_sa_or_malformed_is_dropped() {
        let mut r = rig(&[]);
        local_bu(&mut r);
        let mut other = good_ba(&r, 1);
        // An SPI (after the IPv6 header and the 24-octet RH2) of no
        // inbound SA.
        other[ETH + 40 + 24 + 3] ^= 1;
        assert!(!ha_bu_follows(&mut r, &other));
        let good = good_ba(&r, 2);
        for cut in [1, 8, 17, good.len() - ETH - 40 - 24] {
            let mut f = good[..good.len() - cut].to_vec();
            let plen = (f.len() - ETH - 40) as u16;
            f[ETH + 4..ETH + 6].copy_from_slice(&plen.to_be_bytes());
            assert!(!ha_bu_follows(&mut r, &f));
        }
        assert!(ha_bu_follows(&mut r, &good));
    }
}

// ----------------------------------------------------------------------
// A multihomed MN (RFC 4140 7.2): two interfaces, AR1 on the first
// without a MAP, AR2 on the second advertising MAP1.
// ----------------------------------------------------------------------

const MN2_MAC: MacAddr = MacAddr([2, 0, 0, 0, 0, 3]);
/// The second interface's LCoA (AR2's prefix, MN2_MAC's identifier).
const LCOA2_IF2: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 2, 0, 0, 0xff, 0xfe00, 3);

fn two_links(faults: &[Fault], dad: u32) -> (Mn, Instant) {
    let mut cfg = MnConfig::for_test();
    cfg.faults = Faults::of(faults);
    cfg.dad_transmits = dad;
    let now = Instant::now();
    (
        Mn::multihomed(cfg, &[MN_MAC, MN2_MAC], Logger::off(), now),
        now,
    )
}

/// The BUs sent, with the link each went out.
fn sent_bus(mn: &mut Mn) -> Vec<(usize, SentBu)> {
    mn.take_output()
        .into_iter()
        .filter_map(|(l, f)| bu_of(&Frame::decode(&f)).map(|b| (l, b)))
        .collect()
}

fn ra2_map1() -> Vec<u8> {
    ra(AR2_MAC, "2001:db8:2::/64", vec![opt(MAP1, 1, 10, 3600)])
}

#[test]
fn multihomed_binds_the_lcoa_of_the_maps_link() {
    let (mut mn, now) = two_links(&[], 0);
    mn.handle_frame(now, 0, &ra1(vec![]));
    let b = sent_bus(&mut mn);
    assert_eq!(b.len(), 1, "no MAP yet: Mobile IPv6 from the first LCoA");
    assert_eq!(b[0].0, 0);
    assert_eq!(b[0].1.ips, vec![(LCOA1, HA)]);
    mn.handle_frame(now, 1, &ra2_map1());
    assert_eq!(mn.lcoa_on(0), Some(LCOA1));
    assert_eq!(mn.lcoa_on(1), Some(LCOA2_IF2));
    let b = sent_bus(&mut mn);
    assert_eq!(b.len(), 1, "the local BU");
    let (link, bu) = &b[0];
    assert_eq!(*link, 1, "out the MAP's AR's interface");
    assert_eq!(bu.ips, vec![(LCOA2_IF2, MAP1)]);
    assert_eq!(bu.hao, Some(RCOA1));
    assert_eq!(bu.eth_dst, AR2_MAC);
    assert_eq!(mn.lcoa(), Some(LCOA2_IF2));
    assert_eq!(mn.router(), Some(link_local(AR2_MAC)));
    // The MAP's BA on the second interface: the HA BU through the MAP
    // tunnel from that LCoA, out the same interface.
    let seq = mn.map_binding().unwrap().seq;
    let mut layers = ba_layers(MAP1, LCOA2_IF2, Some(RCOA1), ba(0, seq, 10));
    layers.insert(0, Layer::ethernet(AR2_MAC, MN2_MAC));
    mn.handle_frame(now, 1, &Frame::new(layers).emit());
    assert_eq!(mn.map_binding().unwrap().state, State::Bound);
    let b = sent_bus(&mut mn);
    assert_eq!(b.len(), 1);
    assert_eq!(b[0].0, 1);
    assert_eq!(b[0].1.ips, vec![(LCOA2_IF2, MAP1), (RCOA1, HA)]);
}

#[test]
fn multihomed_waits_for_dad_on_the_maps_link() {
    let (mut mn, now) = two_links(&[], 1);
    mn.handle_frame(now, 0, &ra1(vec![]));
    mn.tick(now + SECOND);
    assert_eq!(mn.lcoa_on(0), Some(LCOA1));
    let _ = mn.take_output();
    mn.handle_frame(now + SECOND, 1, &ra2_map1());
    assert!(
        sent_bus(&mut mn).is_empty(),
        "no local BU from the other interface while the MAP's link runs DAD"
    );
    mn.tick(now + SECOND * 2);
    let b = sent_bus(&mut mn);
    let local: Vec<_> = b.iter().filter(|(_, b)| b.ips[0].1 == MAP1).collect();
    assert_eq!(local.len(), 1);
    assert_eq!(local[0].0, 1);
    assert_eq!(local[0].1.ips, vec![(LCOA2_IF2, MAP1)]);
}

#[test]
fn multihomed_fault_binds_the_other_interfaces_lcoa() {
    let (mut mn, now) = two_links(&[Fault::LcoaFromOtherInterface], 0);
    mn.handle_frame(now, 0, &ra1(vec![]));
    let _ = mn.take_output();
    mn.handle_frame(now, 1, &ra2_map1());
    let b = sent_bus(&mut mn);
    assert_eq!(b.len(), 1);
    assert_eq!(
        b[0].0, 0,
        "out the interface whose AR does not advertise the MAP"
    );
    assert_eq!(b[0].1.ips, vec![(LCOA1, MAP1)]);
}

#[test]
fn frames_for_a_link_the_mn_lacks_are_ignored() {
    let (mut mn, now) = two_links(&[], 0);
    mn.handle_frame(now, 7, &ra2_map1());
    assert!(mn.take_output().is_empty());
    assert_eq!(mn.lcoa(), None);
}
