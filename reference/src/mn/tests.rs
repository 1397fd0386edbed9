//! The MN engine fed with frames built by `wire` on a fake clock, no link
//! involved.

use std::net::Ipv6Addr;
use std::time::{Duration, Instant};

use proptest::prelude::*;
use wire::frame::{Decoded, ExtLayer, Frame, Layer};
use wire::icmpv6::{Icmpv6Message, Icmpv6Repr};
use wire::mobility::{BindingAckRepr, BindingUpdateRepr, MhMessage, MobilityRepr};
use wire::mobility_options::MobilityOption;
use wire::nd::MapOptionRepr;
use wire::routing::RoutingRepr;
use wire::MacAddr;

use super::config::MnConfig;
use super::{Mn, State, LINK};
use crate::addr::link_local;
use crate::faults::{Fault, Faults};
use crate::log::Logger;
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
        let f: &[Fault] = if fault {
            &[Fault::AcceptBaWithoutRh2]
        } else {
            &[]
        };
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
        let f: &[Fault] = if kept {
            &[Fault::LifetimeZeroMapKept]
        } else {
            &[]
        };
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
    let b = r.bus(&ra(
        AR2_MAC,
        "2001:db8:2::/64",
        vec![opt(MAP1, 1, 10, 3600)],
    ));
    assert_eq!(r.mn.router(), Some(link_local(AR2_MAC)));
    assert_eq!(b.len(), 1);
    assert_eq!((b[0].ips[0], b[0].hao), ((LCOA2, MAP1), Some(RCOA1)));
    assert_eq!(b[0].eth_dst, AR2_MAC);
    assert!(r.map_ba(MAP1, LCOA2, RCOA1, 10).is_empty(), "no HA BU");
}

#[test]
fn movement_to_a_new_domain_tells_the_previous_map() {
    for fault in [false, true] {
        let f: &[Fault] = if fault {
            &[Fault::NoPreviousMapBu]
        } else {
            &[]
        };
        let mut r = Rig::new(f);
        r.registered(10);
        let b = r.bus(&ra(
            AR2_MAC,
            "2001:db8:2::/64",
            vec![opt(MAP2, 1, 10, 3600)],
        ));
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
