//! The MAP engine fed with frames built by `wire`, no links involved.

use std::net::Ipv6Addr;
use std::time::{Duration, Instant};

use proptest::prelude::*;
use wire::frame::{Decoded, ExtLayer, Frame, Layer};
use wire::icmpv6::{Icmpv6Message, Icmpv6Repr};
use wire::ipv6::Ipv6Repr;
use wire::ipv6_options::{Ipv6Option, OptionsHeaderRepr};
use wire::mobility::{BindingUpdateRepr, MhMessage, MobilityRepr};
use wire::mobility_options::MobilityOption;
use wire::nd::{MapOptionRepr, NdOption};
use wire::MacAddr;

use super::config::{MapConfig, Protection};
use super::{Map, ACCESS, CORE};
use crate::faults::{Fault, Faults};
use crate::log::Logger;
use crate::sad::{Sad, SecurityAssociation};

const MAP_ACCESS_MAC: MacAddr = MacAddr([2, 0, 0, 0, 0xa, 1]);
const MAP_CORE_MAC: MacAddr = MacAddr([2, 0, 0, 0, 0xc, 1]);
const MN_MAC: MacAddr = MacAddr([2, 0, 0, 0, 0, 2]);
const CN_MAC: MacAddr = MacAddr([2, 0, 0, 0, 0, 5]);
const ROUTER_MAC: MacAddr = MacAddr([2, 0, 0, 0, 0, 6]);
const MAP: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0xffff, 0, 0, 0, 0, 1);
const LCOA: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 1, 0, 0, 0, 0, 2);
const FAR_LCOA: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 9, 0, 0, 0, 0, 2);
const RCOA: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0xffff, 0, 0, 0, 2, 2);
const CN: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0xcccc, 0, 0, 0, 0, 5);
const ROUTER: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0xffff, 0, 0, 0, 0, 0xfe);

fn cfg() -> MapConfig {
    let mut c = MapConfig::for_test(MAP, "2001:db8:1::/64".parse().unwrap());
    c.default_router = Some(ROUTER);
    c
}

fn hao(a: Ipv6Addr) -> Layer {
    Layer::DestinationOptions(ExtLayer::new(OptionsHeaderRepr::aligned(vec![
        Ipv6Option::HomeAddress {
            length: None,
            address: a,
        },
    ])))
}

fn bu_layer(b: BindingUpdateRepr, options: Vec<MobilityOption>) -> Layer {
    Layer::Mobility(MobilityRepr::new(MhMessage::BindingUpdate(b), options))
}

fn bu(seq: u16, lifetime: u16) -> Vec<u8> {
    bu_from(LCOA, RCOA, BindingUpdateRepr::local(seq, lifetime), vec![])
}

fn bu_from(
    src: Ipv6Addr,
    rcoa: Ipv6Addr,
    b: BindingUpdateRepr,
    options: Vec<MobilityOption>,
) -> Vec<u8> {
    Frame::new(vec![
        Layer::ethernet(MN_MAC, MAP_ACCESS_MAC),
        Layer::ipv6(src, MAP, 64),
        hao(rcoa),
        bu_layer(b, options),
    ])
    .emit()
}

fn echo(src: Ipv6Addr, dst: Ipv6Addr) -> Layer {
    let _ = (src, dst);
    Layer::Icmpv6(Icmpv6Repr::new(Icmpv6Message::EchoRequest {
        ident: 7,
        seq: 1,
        data: b"probe".to_vec(),
    }))
}

struct Rig {
    map: Map,
    now: Instant,
}

impl Rig {
    fn new(cfg: MapConfig) -> Rig {
        let now = Instant::now();
        let mut map = Map::new(cfg, [MAP_ACCESS_MAC, MAP_CORE_MAC], Logger::off(), now);
        // The neighbours are known: MN on access, CN-side router on core.
        for (link, ipa, mac) in [(ACCESS, LCOA, MN_MAC), (CORE, ROUTER, ROUTER_MAC)] {
            map.links[link].neighbors.learn(ipa, mac);
        }
        Rig { map, now }
    }

    fn faulty(faults: &[Fault]) -> Rig {
        let mut c = cfg();
        c.faults = Faults::of(faults);
        Rig::new(c)
    }

    fn feed(&mut self, link: usize, frame: &[u8]) -> Vec<(usize, Decoded)> {
        self.map.handle_frame(self.now, link, frame);
        self.out()
    }

    fn advance(&mut self, d: Duration) -> Vec<(usize, Decoded)> {
        self.now += d;
        self.map.tick(self.now);
        self.out()
    }

    fn out(&mut self) -> Vec<(usize, Decoded)> {
        self.map
            .take_output()
            .into_iter()
            .map(|(l, f)| (l, Frame::decode(&f)))
            .collect()
    }

    /// BU, then DAD runs out: every frame sent on the way.
    fn register(&mut self, seq: u16, lifetime: u16) -> Vec<(usize, Decoded)> {
        let mut all = self.feed(ACCESS, &bu(seq, lifetime));
        all.extend(self.advance(Duration::from_millis(200)));
        all
    }
}

fn ba_of(d: &Decoded) -> Option<wire::mobility::BindingAckRepr> {
    match d.frame.mobility().map(|m| &m.message) {
        Some(MhMessage::BindingAck(b)) => Some(b.clone()),
        _ => None,
    }
}

fn rh2_of(d: &Decoded) -> Option<Ipv6Addr> {
    d.frame.layers.iter().find_map(|l| match l {
        Layer::Routing(r) => r.repr.type2_address(),
        _ => None,
    })
}

fn ipv6_of(d: &Decoded) -> &Ipv6Repr {
    d.frame.ipv6_headers().next().unwrap()
}

fn bas(out: &[(usize, Decoded)]) -> Vec<wire::mobility::BindingAckRepr> {
    out.iter().filter_map(|(_, d)| ba_of(d)).collect()
}

fn is_dad_ns(d: &Decoded, target: Ipv6Addr) -> bool {
    ipv6_of(d).src.is_unspecified()
        && matches!(d.frame.icmpv6().map(|m| &m.message),
            Some(Icmpv6Message::NeighborSolicit { target: t, .. }) if *t == target)
}

fn na_target(d: &Decoded) -> Option<(Ipv6Addr, bool, bool, bool, Vec<NdOption>)> {
    match d.frame.icmpv6().map(|m| &m.message) {
        Some(Icmpv6Message::NeighborAdvert {
            target,
            r_flag,
            s_flag,
            o_flag,
            options,
            ..
        }) => Some((*target, *r_flag, *s_flag, *o_flag, options.clone())),
        _ => None,
    }
}

#[test]
fn registration_runs_dad_then_acknowledges_with_rh2() {
    let mut r = Rig::new(cfg());
    let first = r.feed(ACCESS, &bu(100, 15));
    assert_eq!(first.len(), 1, "only the DAD NS before DAD ends");
    assert_eq!(first[0].0, CORE);
    assert!(is_dad_ns(&first[0].1, RCOA));
    assert!(first[0].1.findings.is_empty());
    let after = r.advance(Duration::from_millis(200));
    let na = after
        .iter()
        .find(|(l, d)| *l == CORE && na_target(d).is_some())
        .expect("unsolicited NA on core");
    let (target, rf, sf, of, opts) = na_target(&na.1).unwrap();
    assert_eq!((target, rf, sf, of), (RCOA, false, false, true));
    assert_eq!(crate::nd::tlla(&opts), Some(MAP_CORE_MAC));
    assert_eq!(ipv6_of(&na.1).dst, crate::addr::ALL_NODES);
    let (link, ba) = after
        .iter()
        .find(|(_, d)| ba_of(d).is_some())
        .expect("a BA");
    assert_eq!(*link, ACCESS);
    assert!(ba.findings.is_empty(), "{:?}", ba.findings);
    let b = ba_of(ba).unwrap();
    assert_eq!((b.status, b.seq, b.lifetime, b.k_flag), (0, 100, 15, false));
    assert_eq!(rh2_of(ba), Some(RCOA));
    assert_eq!((ipv6_of(ba).src, ipv6_of(ba).dst), (MAP, LCOA));
    let Some(Layer::Ethernet(e)) = ba.frame.layers.first() else {
        panic!()
    };
    assert_eq!(e.repr.dst, MN_MAC);
    assert_eq!(r.map.bindings().len(), 1);
    let (text, _) = r.map.control(r.now, "bindings");
    assert!(text.contains("\"rcoa\":\"2001:db8:ffff::2:2\""), "{text}");
    assert!(text.ends_with('.'));
}

#[test]
fn refresh_needs_no_dad_and_sequence_is_checked() {
    let mut r = Rig::new(cfg());
    r.register(100, 15);
    let out = r.feed(ACCESS, &bu(101, 30));
    assert_eq!(bas(&out).len(), 1, "BA at once, no DAD");
    assert_eq!(bas(&out)[0].lifetime, 30);
    let out = r.feed(ACCESS, &bu(101, 30));
    let b = &bas(&out)[0];
    assert_eq!((b.status, b.seq, b.lifetime), (135, 101, 0));
    // Deregistration.
    let out = r.feed(ACCESS, &bu(102, 0));
    assert_eq!((bas(&out)[0].status, bas(&out)[0].lifetime), (0, 0));
    assert!(r.map.bindings().is_empty());
    let out = r.feed(ACCESS, &bu(103, 0));
    assert_eq!(bas(&out)[0].status, 133);
}

#[test]
fn rejections_carry_their_status() {
    let mut c = cfg();
    c.valid_prefixes = vec!["2001:db8:1::/64".parse().unwrap()];
    let mut r = Rig::new(c);
    // RCoA outside the MAP prefix.
    let out = r.feed(
        ACCESS,
        &bu_from(LCOA, CN, BindingUpdateRepr::local(1, 15), vec![]),
    );
    assert_eq!(bas(&out)[0].status, 132);
    // LCoA outside the valid prefixes; the BA still goes to it, via the default router.
    r.map.links[CORE].neighbors.learn(ROUTER, ROUTER_MAC);
    let out = r.feed(
        ACCESS,
        &bu_from(FAR_LCOA, RCOA, BindingUpdateRepr::local(1, 15), vec![]),
    );
    assert_eq!(bas(&out)[0].status, 129);
    assert_eq!(out[0].0, CORE);
    // H without M.
    let mut b = BindingUpdateRepr::local(1, 15);
    b.m_flag = false;
    b.h_flag = true;
    let out = r.feed(ACCESS, &bu_from(LCOA, RCOA, b.clone(), vec![]));
    assert_eq!(bas(&out)[0].status, 131);
    // Neither: silence.
    b.h_flag = false;
    assert!(r.feed(ACCESS, &bu_from(LCOA, RCOA, b, vec![])).is_empty());
    // No HAO: 132.
    let no_hao = Frame::new(vec![
        Layer::ethernet(MN_MAC, MAP_ACCESS_MAC),
        Layer::ipv6(LCOA, MAP, 64),
        bu_layer(BindingUpdateRepr::local(1, 15), vec![]),
    ])
    .emit();
    let out = r.feed(ACCESS, &no_hao);
    assert_eq!(bas(&out)[0].status, 132);
}

#[test]
fn dad_failure_gives_134_and_no_binding() {
    let mut r = Rig::new(cfg());
    r.feed(ACCESS, &bu(5, 15));
    let na = crate::nd::na_frame(
        CN_MAC,
        MacAddr::ipv6_multicast(&crate::addr::ALL_NODES),
        RCOA,
        crate::addr::ALL_NODES,
        RCOA,
        crate::nd::NaFlags::default(),
        CN_MAC,
    );
    let out = r.feed(CORE, &na);
    let b = &bas(&out)[0];
    assert_eq!((b.status, b.seq), (134, 5));
    assert!(r.map.bindings().is_empty());
    // A DAD NS by someone else for the same target also fails it.
    r.feed(ACCESS, &bu(6, 15));
    let out = r.feed(
        CORE,
        &crate::nd::ns_frame(CN_MAC, Ipv6Addr::UNSPECIFIED, RCOA),
    );
    assert_eq!(bas(&out)[0].status, 134);
    // With the fault the conflict is ignored.
    let mut r = Rig::faulty(&[Fault::IgnoreDadFailure]);
    r.feed(ACCESS, &bu(5, 15));
    assert!(r.feed(CORE, &na).is_empty());
    let out = r.advance(Duration::from_millis(200));
    assert_eq!(bas(&out)[0].status, 0);
}

#[test]
fn proxy_nd_and_tunnels() {
    let mut r = Rig::new(cfg());
    r.register(1, 15);
    // Proxy NA for an NS from the router.
    let ns = crate::nd::ns_frame(ROUTER_MAC, ROUTER, RCOA);
    let out = r.feed(CORE, &ns);
    let (target, rf, sf, of, opts) = na_target(&out[0].1).unwrap();
    assert_eq!((target, rf, sf, of), (RCOA, false, true, true));
    assert_eq!(crate::nd::tlla(&opts), Some(MAP_CORE_MAC));
    assert_eq!(ipv6_of(&out[0].1).dst, ROUTER);
    // A unicast NS for the RCoA (NUD) is answered too, not tunnelled.
    let mut nud = Frame::decode(&ns).frame;
    if let Some(Layer::Ethernet(e)) = nud.layers.get_mut(0) {
        e.repr.dst = MAP_CORE_MAC;
    }
    if let Some(Layer::Ipv6(i)) = nud.layers.get_mut(1) {
        i.repr.dst = RCOA;
    }
    let out = r.feed(CORE, &nud.emit());
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].0, CORE);
    assert_eq!(na_target(&out[0].1).map(|n| (n.0, n.2)), Some((RCOA, true)));
    // A packet for the RCoA is tunnelled to the LCoA, hop limit - 1.
    let pkt = Frame::new(vec![
        Layer::ethernet(ROUTER_MAC, MAP_CORE_MAC),
        Layer::ipv6(CN, RCOA, 30),
        echo(CN, RCOA),
    ])
    .emit();
    let out = r.feed(CORE, &pkt);
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].0, ACCESS);
    let ips: Vec<_> = out[0].1.frame.ipv6_headers().cloned().collect();
    assert_eq!((ips[0].src, ips[0].dst, ips[0].hop_limit), (MAP, LCOA, 64));
    assert_eq!((ips[1].src, ips[1].dst, ips[1].hop_limit), (CN, RCOA, 29));
    // Reverse tunnel from the LCoA: decapsulated and routed to the CN.
    let rev = Frame::new(vec![
        Layer::ethernet(MN_MAC, MAP_ACCESS_MAC),
        Layer::ipv6(LCOA, MAP, 64),
        Layer::ipv6(RCOA, CN, 64),
        echo(RCOA, CN),
    ])
    .emit();
    let out = r.feed(ACCESS, &rev);
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].0, CORE);
    let ips: Vec<_> = out[0].1.frame.ipv6_headers().cloned().collect();
    assert_eq!(ips.len(), 1);
    assert_eq!((ips[0].src, ips[0].dst, ips[0].hop_limit), (RCOA, CN, 63));
    // From a source that is not the bound CoA: dropped.
    let spoof = Frame::new(vec![
        Layer::ethernet(MN_MAC, MAP_ACCESS_MAC),
        Layer::ipv6(Ipv6Addr::new(0x2001, 0xdb8, 1, 0, 0, 0, 0, 0x99), MAP, 64),
        Layer::ipv6(RCOA, CN, 64),
        echo(RCOA, CN),
    ])
    .emit();
    assert!(r.feed(ACCESS, &spoof).is_empty());
    // After expiry: no proxy, no tunnel.
    r.advance(Duration::from_secs(61));
    assert!(r.map.bindings().is_empty());
    assert!(r.feed(CORE, &ns).is_empty());
}

#[test]
fn address_resolution_and_echo() {
    let mut r = Rig::new(cfg());
    // An NS for the MAP's address: solicited NA with R and O.
    let ns = crate::nd::ns_frame(ROUTER_MAC, ROUTER, MAP);
    let out = r.feed(CORE, &ns);
    let (t, rf, sf, of, _) = na_target(&out[0].1).unwrap();
    assert_eq!((t, rf, sf, of), (MAP, true, true, true));
    // Echo to the MAP from an unknown neighbour: NS first, reply after NA.
    let who = Ipv6Addr::new(0x2001, 0xdb8, 1, 0, 0, 0, 0, 0x77);
    let req = Frame::new(vec![
        Layer::ethernet(MN_MAC, MAP_ACCESS_MAC),
        Layer::ipv6(who, MAP, 64),
        echo(who, MAP),
    ])
    .emit();
    let out = r.feed(ACCESS, &req);
    assert!(matches!(out[0].1.frame.icmpv6().map(|m| &m.message),
        Some(Icmpv6Message::NeighborSolicit { target, .. }) if *target == who));
    let na = crate::nd::na_frame(
        MN_MAC,
        MAP_ACCESS_MAC,
        who,
        crate::addr::link_local(MAP_ACCESS_MAC),
        who,
        crate::nd::NaFlags {
            solicited: true,
            ..Default::default()
        },
        MN_MAC,
    );
    let out = r.feed(ACCESS, &na);
    assert!(matches!(
        out[0].1.frame.icmpv6().map(|m| &m.message),
        Some(Icmpv6Message::EchoReply { ident: 7, .. })
    ));
    // Unanswered resolution gives up after 3 NSs.
    let nobody = Ipv6Addr::new(0x2001, 0xdb8, 1, 0, 0, 0, 0, 0x78);
    let req = Frame::new(vec![
        Layer::ethernet(MN_MAC, MAP_ACCESS_MAC),
        Layer::ipv6(nobody, MAP, 64),
        echo(nobody, MAP),
    ])
    .emit();
    assert_eq!(r.feed(ACCESS, &req).len(), 1);
    assert_eq!(r.advance(Duration::from_millis(200)).len(), 1);
    assert_eq!(r.advance(Duration::from_millis(200)).len(), 1);
    assert_eq!(r.advance(Duration::from_millis(200)).len(), 0);
}

#[test]
fn malformed_bus_are_dropped_silently() {
    let mut r = Rig::new(cfg());
    let mut bad = bu(1, 15);
    bad[14 + 40 + 24 + 4] ^= 0xff; // the MH checksum field
    assert!(r.feed(ACCESS, &bad).is_empty());
    // Truncated at every length.
    let good = bu(1, 15);
    for cut in 0..good.len() {
        assert!(r.feed(ACCESS, &good[..cut]).is_empty(), "cut at {cut}");
    }
    // The checksum fault processes it.
    let mut r = Rig::faulty(&[Fault::NoMhChecksumCheck]);
    assert_eq!(r.feed(ACCESS, &bad).len(), 1, "DAD NS");
    // Unknown options are skipped (and dropped with the fault).
    let unknown = bu_from(
        LCOA,
        RCOA,
        BindingUpdateRepr::local(1, 15),
        vec![MobilityOption::Unknown {
            option_type: 200,
            data: vec![1, 2],
        }],
    );
    let mut r = Rig::new(cfg());
    assert_eq!(r.feed(ACCESS, &unknown).len(), 1);
    let mut r = Rig::faulty(&[Fault::UnknownOptionRejected]);
    assert!(r.feed(ACCESS, &unknown).is_empty());
}

#[test]
fn ba_faults() {
    let mut r = Rig::faulty(&[Fault::BaWithoutRh2]);
    let out = r.register(1, 15);
    let ba = out.iter().find(|(_, d)| ba_of(d).is_some()).unwrap();
    assert_eq!(rh2_of(&ba.1), None);
    let mut r = Rig::faulty(&[Fault::Rh2HoldsLcoa]);
    let out = r.register(1, 15);
    let ba = out.iter().find(|(_, d)| ba_of(d).is_some()).unwrap();
    assert_eq!(rh2_of(&ba.1), Some(LCOA));
    let mut r = Rig::faulty(&[Fault::NoBa]);
    assert!(bas(&r.register(1, 15)).is_empty());
    assert_eq!(r.map.bindings().len(), 1);
    let mut r = Rig::faulty(&[Fault::NoDad]);
    let out = r.feed(ACCESS, &bu(1, 15));
    assert_eq!(bas(&out)[0].status, 0);
    assert!(!out.iter().any(|(_, d)| is_dad_ns(d, RCOA)));
    let mut r = Rig::faulty(&[Fault::NoBindingStored]);
    assert_eq!(bas(&r.register(1, 15))[0].status, 0);
    assert!(r.map.bindings().is_empty());
    let mut r = Rig::faulty(&[Fault::NoProxyNa]);
    let out = r.register(1, 15);
    assert!(!out.iter().any(|(_, d)| na_target(d).is_some()));
    assert!(r
        .feed(CORE, &crate::nd::ns_frame(ROUTER_MAC, ROUTER, RCOA))
        .is_empty());
    let mut r = Rig::faulty(&[Fault::DeregistrationIgnored]);
    r.register(1, 15);
    assert_eq!(bas(&r.feed(ACCESS, &bu(2, 0)))[0].status, 0);
    assert_eq!(r.map.bindings().len(), 1);
    let mut r = Rig::faulty(&[Fault::BindingsNeverExpire]);
    r.register(1, 1);
    r.advance(Duration::from_secs(10));
    assert_eq!(r.map.bindings().len(), 1);
    let mut r = Rig::faulty(&[Fault::RcoaPrefixMismatch]);
    assert_eq!(bas(&r.feed(ACCESS, &bu(1, 15)))[0].status, 132);
}

#[test]
fn tunnel_faults() {
    let pkt = Frame::new(vec![
        Layer::ethernet(ROUTER_MAC, MAP_CORE_MAC),
        Layer::ipv6(CN, RCOA, 30),
        echo(CN, RCOA),
    ])
    .emit();
    let mut r = Rig::faulty(&[Fault::TunnelOuterSourceWrong]);
    r.register(1, 15);
    let out = r.feed(CORE, &pkt);
    assert_eq!(
        ipv6_of(&out[0].1).src,
        crate::addr::link_local(MAP_CORE_MAC)
    );
    // Section 8: an LCoA in a neighbouring domain, reached via the router.
    let mut far_bu = bu_from(FAR_LCOA, RCOA, BindingUpdateRepr::local(1, 15), vec![]);
    far_bu[0..6].copy_from_slice(&MAP_CORE_MAC.0);
    let mut r = Rig::new(cfg());
    r.feed(CORE, &far_bu);
    r.advance(Duration::from_millis(200));
    let out = r.feed(CORE, &pkt);
    assert_eq!(out[0].0, CORE);
    assert_eq!(ipv6_of(&out[0].1).dst, FAR_LCOA);
    let mut r = Rig::faulty(&[Fault::NoForwardOutsideDomain]);
    r.feed(CORE, &far_bu);
    r.advance(Duration::from_millis(200));
    assert!(r.feed(CORE, &pkt).is_empty());
    let rev = Frame::new(vec![
        Layer::ethernet(MN_MAC, MAP_ACCESS_MAC),
        Layer::ipv6(LCOA, MAP, 64),
        Layer::ipv6(RCOA, CN, 64),
        echo(RCOA, CN),
    ])
    .emit();
    let mut r = Rig::faulty(&[Fault::NoDecapsulation]);
    r.register(1, 15);
    assert!(r.feed(ACCESS, &rev).is_empty());
    let mut r = Rig::faulty(&[Fault::DecapsulateUnbound]);
    assert_eq!(r.feed(ACCESS, &rev).len(), 1, "forwarded without a binding");
}

fn sa(spi: u32) -> SecurityAssociation {
    SecurityAssociation {
        spi,
        key: vec![0x42; 32],
    }
}

fn protected_cfg(p: Protection, faults: &[Fault]) -> MapConfig {
    let mut c = cfg();
    c.sa_in = vec![sa(0x1000)];
    c.sa_out = Some(sa(0x2000));
    c.protect = p;
    c.faults = Faults::of(faults);
    c
}

/// The MN's SA database: the mirror of [`protected_cfg`]'s.
fn mn_sad() -> Sad {
    Sad::new(vec![sa(0x2000)], Some(sa(0x1000)), true)
}

/// The MN's side: a protected local BU (IPv6, HAO, ESP, MH).
fn protected_bu(mn: &mut Sad, seq: u16) -> Vec<u8> {
    protected_mh(
        mn,
        MobilityRepr::new(
            MhMessage::BindingUpdate(BindingUpdateRepr::local(seq, 15)),
            vec![],
        ),
    )
}

/// A protected local Mobility Header from the MN (IPv6, HAO, ESP, `mh`).
fn protected_mh(mn: &mut Sad, mh: MobilityRepr) -> Vec<u8> {
    let bytes = mh.to_bytes(&wire::checksum::PseudoHeader {
        src: RCOA,
        dst: MAP,
        next_header: 135,
    });
    let sealed = mn.seal_outbound(135, &bytes).unwrap();
    Frame::new(vec![
        Layer::ethernet(MN_MAC, MAP_ACCESS_MAC),
        Layer::ipv6(LCOA, MAP, 64),
        hao(RCOA),
        Layer::Esp(wire::ipsec::EspRepr {
            spi: 0x1000,
            seq: u32::from_be_bytes([sealed[4], sealed[5], sealed[6], sealed[7]]),
            data: sealed[8..].to_vec(),
        }),
    ])
    .emit()
}

fn has_esp(d: &Decoded) -> bool {
    d.frame.layers.iter().any(|l| matches!(l, Layer::Esp(_)))
}

#[test]
fn a_forged_icv_is_refused_unless_no_icv_check() {
    let bu_only = Protection {
        bu: true,
        ..Default::default()
    };
    // Forged twice over: a flipped ICV bit, and a key the MAP does not have.
    let mut flipped = protected_bu(&mut mn_sad(), 1);
    *flipped.last_mut().unwrap() ^= 1;
    let mut forger = Sad::new(
        vec![],
        Some(SecurityAssociation {
            spi: 0x1000,
            key: vec![0x99; 32],
        }),
        true,
    );
    let wrong_key = protected_bu(&mut forger, 2);
    for forged in [&flipped, &wrong_key] {
        let mut r = Rig::new(protected_cfg(bu_only, &[Fault::NoDad]));
        assert!(r.feed(ACCESS, forged).is_empty());
        assert!(r.map.bindings().is_empty());
        let mut r = Rig::new(protected_cfg(bu_only, &[Fault::NoDad, Fault::NoIcvCheck]));
        let out = r.feed(ACCESS, forged);
        assert!(
            out.iter().any(|(l, d)| *l == ACCESS && has_esp(d)),
            "the BA, under ESP"
        );
        assert_eq!(r.map.bindings().len(), 1, "the forged BU made a binding");
        // The window still works: the same packet again is a replay.
        assert!(r.feed(ACCESS, forged).is_empty());
    }
    // A genuine BU is accepted either way.
    let mut r = Rig::new(protected_cfg(bu_only, &[Fault::NoDad, Fault::NoIcvCheck]));
    r.feed(ACCESS, &protected_bu(&mut mn_sad(), 1));
    assert_eq!(r.map.bindings().len(), 1);
}

/// A local BU from `src` whose Header Len is 0 (8 octets), too short for a
/// Binding Update (16), after `dest_opts` (the HAO last).
fn short_bu_with(src: Ipv6Addr, mut dest_opts: Vec<Ipv6Option>) -> Vec<u8> {
    let mut mh = MobilityRepr::new(
        MhMessage::BindingUpdate(BindingUpdateRepr::local(1, 15)),
        vec![],
    );
    mh.header_len = Some(0);
    dest_opts.push(Ipv6Option::HomeAddress {
        length: None,
        address: RCOA,
    });
    Frame::new(vec![
        Layer::ethernet(MN_MAC, MAP_ACCESS_MAC),
        Layer::ipv6(src, MAP, 64),
        Layer::DestinationOptions(ExtLayer::new(OptionsHeaderRepr::aligned(dest_opts))),
        Layer::Mobility(mh),
    ])
    .emit()
}

fn short_bu(src: Ipv6Addr) -> Vec<u8> {
    short_bu_with(src, vec![])
}

/// The Parameter Problem in `out` (the only frame): (code, pointer, invoking).
fn param_problem(out: &[(usize, Decoded)]) -> (u8, u32, Vec<u8>) {
    assert_eq!(out.len(), 1, "one frame");
    let (link, d) = &out[0];
    assert_eq!(*link, ACCESS);
    assert!(d.findings.is_empty(), "{:?}", d.findings);
    let ip = ipv6_of(d);
    assert_eq!((ip.src, ip.dst, ip.hop_limit), (MAP, LCOA, 64));
    let Some(Layer::Ethernet(e)) = d.frame.layers.first() else {
        panic!()
    };
    assert_eq!(e.repr.dst, MN_MAC);
    match d.frame.icmpv6() {
        Some(Icmpv6Repr {
            code,
            message: Icmpv6Message::ParamProblem { pointer, invoking },
            ..
        }) => (*code, *pointer, invoking.clone()),
        other => panic!("not a Parameter Problem: {other:?}"),
    }
}

#[test]
fn short_header_len_gets_a_parameter_problem() {
    let f = short_bu(LCOA);
    let mut r = Rig::new(cfg());
    let (code, pointer, invoking) = param_problem(&r.feed(ACCESS, &f));
    assert_eq!(code, 0);
    // IPv6 header (40), Destination Options with the HAO (24), then the
    // MH: its Header Len is octet 1.
    assert_eq!(pointer, 40 + 24 + 1);
    assert_eq!(invoking, f[14..].to_vec(), "the whole invoking packet");
    assert_eq!(invoking[pointer as usize], 0, "Header Len 0");
    assert_eq!(invoking[pointer as usize + 1], 5, "MH Type 5 after it");
    // Discarded: no DAD, no BA, no binding, then or later.
    assert!(r.advance(Duration::from_secs(1)).is_empty());
    assert!(r.map.bindings().is_empty());

    // The fault: silence, and still no binding.
    let mut r = Rig::faulty(&[Fault::SilentOnShortHeader]);
    assert!(r.feed(ACCESS, &f).is_empty());
    assert!(r.advance(Duration::from_secs(1)).is_empty());
    assert!(r.map.bindings().is_empty());

    // Never to a multicast or unspecified source.
    let mut r = Rig::new(cfg());
    for src in [crate::addr::ALL_NODES, Ipv6Addr::UNSPECIFIED] {
        assert!(r.feed(ACCESS, &short_bu(src)).is_empty(), "{src}");
    }
    assert!(r.map.bindings().is_empty());

    // Never about an ICMPv6 error (the guard of the sending function).
    let error = Frame::new(vec![
        Layer::ipv6(LCOA, MAP, 64),
        Layer::Icmpv6(Icmpv6Repr::new(Icmpv6Message::ParamProblem {
            pointer: 0,
            invoking: vec![0; 40],
        })),
    ])
    .emit();
    r.map.param_problem(r.now, ACCESS, &error, 0);
    assert!(r.out().is_empty());
    // A well-formed BU still registers.
    assert_eq!(
        r.register(1, 15)
            .iter()
            .filter(|(_, d)| ba_of(d).is_some())
            .count(),
        1
    );
}

#[test]
fn parameter_problems_fit_the_minimum_mtu() {
    // 1400 octets of padding before the HAO: the MH starts past what fits.
    let pad = (0..6)
        .map(|_| Ipv6Option::PadN { data: vec![0; 240] })
        .collect();
    let f = short_bu_with(LCOA, pad);
    assert!(f.len() - 14 > 1400);
    let mut r = Rig::new(cfg());
    let out = r.feed(ACCESS, &f);
    assert_eq!(out.len(), 1);
    let (code, pointer, invoking) = param_problem(&out);
    assert_eq!(code, 0);
    assert_eq!(invoking.len(), 1280 - 40 - 8);
    assert_eq!(invoking, f[14..14 + 1232].to_vec());
    assert_eq!(usize::try_from(pointer).unwrap(), f.len() - 14 - 8 + 1);
    assert_eq!(out[0].1.frame.emit().len(), 14 + 1280);
}

#[test]
fn parameter_problems_are_rate_limited() {
    let f = short_bu(LCOA);
    let mut r = Rig::new(cfg());
    let sent: usize = (0..15).map(|_| r.feed(ACCESS, &f).len()).sum();
    assert_eq!(sent, 10, "a burst of 10");
    r.advance(Duration::from_millis(100));
    assert_eq!(r.feed(ACCESS, &f).len(), 1, "one more 100 ms later");
    assert!(r.feed(ACCESS, &f).is_empty());
    r.advance(Duration::from_secs(5));
    let sent: usize = (0..15).map(|_| r.feed(ACCESS, &f).len()).sum();
    assert_eq!(sent, 10, "the bucket refills to 10, not more");
}

#[test]
fn short_header_len_under_esp() {
    let bu_only = Protection {
        bu: true,
        ..Default::default()
    };
    let mut mh = MobilityRepr::new(
        MhMessage::BindingUpdate(BindingUpdateRepr::local(1, 15)),
        vec![],
    );
    mh.header_len = Some(0);
    let f = protected_mh(&mut mn_sad(), mh);
    let mut r = Rig::new(protected_cfg(bu_only, &[]));
    let (code, pointer, invoking) = param_problem(&r.feed(ACCESS, &f));
    assert_eq!(code, 0);
    // The packet as received, ESP included: the MH follows the 8-octet
    // ESP header.
    assert_eq!(invoking, f[14..].to_vec());
    assert_eq!(pointer, 40 + 24 + 8 + 1);
    assert_eq!(invoking[pointer as usize], 0);
    assert_eq!(invoking[pointer as usize + 1], 5);
    assert!(r.advance(Duration::from_secs(1)).is_empty());
    assert!(r.map.bindings().is_empty());
    // Without ESP under --protect bu: dropped by the policy, no error.
    assert!(r.feed(ACCESS, &short_bu(LCOA)).is_empty());
}

#[test]
fn esp_protected_registration() {
    let bu_only = Protection {
        bu: true,
        ..Default::default()
    };
    let mut r = Rig::new(protected_cfg(bu_only, &[]));
    let mut mn = mn_sad();
    // Unprotected: dropped.
    assert!(r.feed(ACCESS, &bu(1, 15)).is_empty());
    let frame = protected_bu(&mut mn, 1);
    assert_eq!(r.feed(ACCESS, &frame).len(), 1, "DAD NS");
    let out = r.advance(Duration::from_millis(200));
    let (_, ba) = out
        .iter()
        .find(|(_, d)| d.frame.layers.iter().any(|l| matches!(l, Layer::Esp(_))))
        .expect("protected BA");
    assert_eq!(rh2_of(ba), Some(RCOA));
    // The MN opens it: an MH with status 0 whose checksum uses the RH2 address.
    let Some(Layer::Esp(e)) = ba.frame.layers.iter().find(|l| matches!(l, Layer::Esp(_))) else {
        panic!()
    };
    let mut esp = vec![];
    esp.extend_from_slice(&e.spi.to_be_bytes());
    esp.extend_from_slice(&e.seq.to_be_bytes());
    esp.extend_from_slice(&e.data);
    let opened = mn.open_inbound(&esp).unwrap();
    assert_eq!(opened.next_header, 135);
    let mut findings = vec![];
    let (mh, _) = MobilityRepr::parse(
        &opened.payload,
        Some(&wire::checksum::PseudoHeader {
            src: MAP,
            dst: RCOA,
            next_header: 135,
        }),
        &mut wire::Diag::new(&mut findings),
    )
    .unwrap();
    assert!(findings.is_empty(), "{findings:?}");
    assert!(matches!(mh.message, MhMessage::BindingAck(ref b) if b.status == 0));
    // A replay is refused.
    assert!(r.feed(ACCESS, &frame).is_empty());
    // Faults.
    let mut r = Rig::new(protected_cfg(bu_only, &[Fault::AcceptUnprotectedBu]));
    assert_eq!(r.feed(ACCESS, &bu(1, 15)).len(), 1);
    let mut r = Rig::new(protected_cfg(
        bu_only,
        &[Fault::AcceptEspReplay, Fault::NoDad],
    ));
    let mut mn = mn_sad();
    let frame = protected_bu(&mut mn, 1);
    assert_eq!(bas(&r.feed(ACCESS, &frame)).len(), 0, "BA is under ESP");
    assert_eq!(r.feed(ACCESS, &frame).len(), 1, "the replay answered (135)");
    let mut r = Rig::new(protected_cfg(
        bu_only,
        &[Fault::BaUnprotected, Fault::NoDad],
    ));
    let mut mn = mn_sad();
    let out = r.feed(ACCESS, &protected_bu(&mut mn, 1));
    assert_eq!(bas(&out)[0].status, 0, "BA in the clear");
}

#[test]
fn probe_protection() {
    let probe = Protection {
        probe: true,
        ..Default::default()
    };
    let req = Frame::new(vec![
        Layer::ethernet(MN_MAC, MAP_ACCESS_MAC),
        Layer::ipv6(LCOA, MAP, 64),
        echo(LCOA, MAP),
    ])
    .emit();
    let mut r = Rig::new(protected_cfg(probe, &[]));
    assert!(r.feed(ACCESS, &req).is_empty());
    let mut r = Rig::new(protected_cfg(probe, &[Fault::AnswerUnprotectedProbe]));
    assert_eq!(r.feed(ACCESS, &req).len(), 1);
    // Protected request: protected reply.
    let mut r = Rig::new(protected_cfg(probe, &[]));
    let mut mn = mn_sad();
    let icmp = Icmpv6Repr::new(Icmpv6Message::EchoRequest {
        ident: 1,
        seq: 1,
        data: vec![],
    })
    .to_bytes(&wire::checksum::PseudoHeader {
        src: LCOA,
        dst: MAP,
        next_header: 58,
    });
    let sealed = mn.seal_outbound(58, &icmp).unwrap();
    let f = Frame::new(vec![
        Layer::ethernet(MN_MAC, MAP_ACCESS_MAC),
        Layer::ipv6(LCOA, MAP, 64),
        Layer::Esp(wire::ipsec::EspRepr {
            spi: 0x1000,
            seq: 1,
            data: sealed[8..].to_vec(),
        }),
    ])
    .emit();
    let out = r.feed(ACCESS, &f);
    assert_eq!(out.len(), 1);
    assert!(out[0]
        .1
        .frame
        .layers
        .iter()
        .any(|l| matches!(l, Layer::Esp(_))));
}

const OTHER_MAP: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0xeeee, 0, 0, 0, 0, 1);

/// An RA from `router_ll` with the MAP options `maps`.
fn ra_with(link_mac: MacAddr, router_ll: Ipv6Addr, hop: u8, maps: Vec<MapOptionRepr>) -> Vec<u8> {
    Frame::new(vec![
        Layer::ethernet(link_mac, MacAddr::ipv6_multicast(&crate::addr::ALL_NODES)),
        Layer::ipv6(router_ll, crate::addr::ALL_NODES, hop),
        Layer::Icmpv6(Icmpv6Repr::new(Icmpv6Message::RouterAdvert {
            cur_hop_limit: 64,
            m_flag: false,
            o_flag: false,
            h_flag: false,
            prf: 0,
            reserved: 0,
            router_lifetime: 1800,
            reachable_time: 0,
            retrans_timer: 0,
            options: maps.into_iter().map(NdOption::Map).collect(),
        })),
    ])
    .emit()
}

/// An RA from the core router advertising OTHER_MAP (Dist 1, Pref 7).
fn ra_from(router_ll: Ipv6Addr, hop: u8) -> Vec<u8> {
    ra_with(
        ROUTER_MAC,
        router_ll,
        hop,
        vec![MapOptionRepr::new(1, 7, true, 600, OTHER_MAP)],
    )
}

/// A Router Solicitation from the MN.
fn rs() -> Vec<u8> {
    Frame::new(vec![
        Layer::ethernet(MN_MAC, MacAddr::ipv6_multicast(&crate::addr::ALL_ROUTERS)),
        Layer::ipv6("fe80::2".parse().unwrap(), crate::addr::ALL_ROUTERS, 255),
        Layer::Icmpv6(Icmpv6Repr::new(Icmpv6Message::RouterSolicit {
            reserved: 0,
            options: vec![],
        })),
    ])
    .emit()
}

/// The MAP options of a decoded RA.
fn maps(d: &Decoded) -> Vec<MapOptionRepr> {
    d.frame
        .icmpv6()
        .unwrap()
        .message
        .options()
        .unwrap()
        .iter()
        .filter_map(|o| match o {
            NdOption::Map(m) => Some(m.clone()),
            _ => None,
        })
        .collect()
}

fn relaying_cfg(faults: &[Fault]) -> MapConfig {
    let mut c = cfg();
    c.advertise = true;
    c.relay = true;
    c.faults = Faults::of(faults);
    c
}

#[test]
fn advertising_and_relay() {
    let mut r = Rig::new(relaying_cfg(&[]));
    let out = r.advance(Duration::ZERO);
    assert_eq!(out.len(), 1);
    assert_eq!(maps(&out[0].1).len(), 1);
    // A bad RA (hop limit 254) does not feed the relay; a good one does.
    r.feed(CORE, &ra_from("fe80::6".parse().unwrap(), 254));
    r.feed(CORE, &ra_from("2001:db8::6".parse().unwrap(), 255));
    let out = r.advance(Duration::from_secs(1));
    assert_eq!(maps(&out[0].1).len(), 1);
    r.feed(CORE, &ra_from("fe80::6".parse().unwrap(), 255));
    // An RS gets an RA at once.
    let out = r.feed(ACCESS, &rs());
    let m = maps(&out[0].1);
    assert_eq!(m.len(), 2);
    assert_eq!((m[0].address, m[0].dist), (MAP, 1));
    assert_eq!((m[1].address, m[1].dist, m[1].pref), (OTHER_MAP, 2, 7));
    // Without --relay nothing is relayed.
    let mut c = relaying_cfg(&[]);
    c.relay = false;
    let mut r = Rig::new(c);
    r.feed(CORE, &ra_from("fe80::6".parse().unwrap(), 255));
    assert_eq!(maps(&r.feed(ACCESS, &rs())[0].1).len(), 1);
    // With --protect ra a plain RA is not relayed (unless the fault).
    for (faults, relayed) in [(vec![], 1), (vec![Fault::RelayUnauthenticatedRa], 2)] {
        let mut c = protected_cfg(
            Protection {
                ra: true,
                ..Default::default()
            },
            &faults,
        );
        c.advertise = true;
        c.relay = true;
        let mut r = Rig::new(c);
        r.feed(CORE, &ra_from("fe80::6".parse().unwrap(), 255));
        let out = r.feed(ACCESS, &rs());
        assert_eq!(maps(&out[0].1).len(), relayed, "{faults:?}");
    }
}

/// OTHER_MAP heard with Dist 2 on core and Dist 5 on access; the RA sent
/// on an RS then, as (address, Dist) pairs.
fn relayed_after_two_ras(faults: &[Fault]) -> Vec<(Ipv6Addr, u8)> {
    let mut r = Rig::new(relaying_cfg(faults));
    let opt = |dist| MapOptionRepr::new(dist, 7, true, 600, OTHER_MAP);
    r.feed(
        CORE,
        &ra_with(ROUTER_MAC, "fe80::6".parse().unwrap(), 255, vec![opt(2)]),
    );
    r.feed(
        ACCESS,
        &ra_with(CN_MAC, "fe80::7".parse().unwrap(), 255, vec![opt(5)]),
    );
    let out = r.feed(ACCESS, &rs());
    assert_eq!(out.len(), 1);
    assert!(out[0].1.findings.is_empty(), "{:?}", out[0].1.findings);
    maps(&out[0].1)
        .iter()
        .map(|o| (o.address, o.dist))
        .collect()
}

#[test]
fn relay_faults_change_the_emitted_ra() {
    assert_eq!(
        relayed_after_two_ras(&[]),
        vec![(MAP, 1), (OTHER_MAP, 3)],
        "own option, then the smallest Dist + 1"
    );
    assert_eq!(
        relayed_after_two_ras(&[Fault::RelayWithoutIncrement]),
        vec![(MAP, 1), (OTHER_MAP, 2)]
    );
    assert_eq!(
        relayed_after_two_ras(&[Fault::RelayWithoutOwnOption]),
        vec![(OTHER_MAP, 3)]
    );
    assert_eq!(
        relayed_after_two_ras(&[Fault::RelayKeepsLargerDist]),
        vec![(MAP, 1), (OTHER_MAP, 6)]
    );
    // The RA faults break the own option, not the relayed one, and Dist 0
    // gets through although discovery never advertises it.
    assert_eq!(
        relayed_after_two_ras(&[Fault::RaDistTwo]),
        vec![(MAP, 2), (OTHER_MAP, 3)]
    );
    let mut r = Rig::new(relaying_cfg(&[Fault::RaDistZero]));
    let m = maps(&r.feed(ACCESS, &rs())[0].1);
    assert_eq!((m[0].address, m[0].dist), (MAP, 0));
}

#[test]
fn an_expiring_relayed_option_triggers_an_ra() {
    let mut c = relaying_cfg(&[]);
    c.ra_interval = Duration::from_secs(100);
    let mut r = Rig::new(c);
    assert_eq!(r.advance(Duration::ZERO).len(), 1);
    r.feed(
        CORE,
        &ra_with(
            ROUTER_MAC,
            "fe80::6".parse().unwrap(),
            255,
            vec![MapOptionRepr::new(1, 7, true, 3, OTHER_MAP)],
        ),
    );
    assert_eq!(r.map.next_deadline(), Some(r.now + Duration::from_secs(3)));
    assert!(r.advance(Duration::from_secs(2)).is_empty());
    let out = r.advance(Duration::from_secs(1));
    assert_eq!(out.len(), 1, "an RA when the option expires");
    assert_eq!(maps(&out[0].1).len(), 1);
    // Nothing more until the periodic RA.
    assert_eq!(
        r.map.next_deadline(),
        Some(r.now - Duration::from_secs(3) + Duration::from_secs(100))
    );
}

#[test]
fn control_commands() {
    let mut c = cfg();
    c.faults = Faults::of(&[Fault::NoBa]);
    let mut r = Rig::new(c);
    r.register(1, 15);
    assert_eq!(r.map.control(r.now, "faults").0, "no-ba\n.");
    assert_eq!(r.map.control(r.now, "flush"), ("ok".to_string(), false));
    assert!(r.map.bindings().is_empty());
    assert_eq!(r.map.control(r.now, "bindings").0, ".");
    assert!(r.map.control(r.now, "quit").1);
    assert!(r.map.control(r.now, "what").0.starts_with("error"));
}

#[test]
fn routing_choice() {
    let c = cfg();
    assert_eq!(Map::route(&c, &LCOA), Some((ACCESS, LCOA)));
    assert_eq!(Map::route(&c, &RCOA), Some((CORE, RCOA)));
    assert_eq!(Map::route(&c, &CN), Some((CORE, ROUTER)));
    assert_eq!(Map::route(&c, &"fe80::1".parse().unwrap()), None);
    let mut c = cfg();
    c.default_router = None;
    assert_eq!(Map::route(&c, &CN), None);
}

fn samples() -> Vec<Vec<u8>> {
    let mut v: Vec<Vec<u8>> = wire::samples::all()
        .into_iter()
        .map(|s| s.frame.emit())
        .collect();
    v.push(bu(1, 15));
    v.push(bu(2, 0));
    v
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn random_frames_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..200), link in 0usize..3) {
        let mut r = Rig::new(cfg());
        r.register(1, 15);
        // Address them to the MAP so they get past the MAC filter.
        let mut bytes = bytes;
        if bytes.len() >= 14 {
            bytes[0..6].copy_from_slice(&MAP_ACCESS_MAC.0);
            bytes[12] = 0x86;
            bytes[13] = 0xdd;
        }
        r.map.handle_frame(r.now, link, &bytes);
        r.advance(Duration::from_secs(1));
    }

    #[test]
    fn mutated_frames_never_panic(
        idx in 0usize..1000,
        flips in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..6),
        cut in any::<usize>(),
        link in 0usize..2,
    ) {
        let all = samples();
        let mut bytes = all[idx % all.len()].clone();
        for (pos, val) in flips {
            let n = bytes.len();
            bytes[pos % n] = val;
        }
        bytes.truncate(cut % (bytes.len() + 1));
        if bytes.len() >= 6 {
            let mac = if link == ACCESS { MAP_ACCESS_MAC } else { MAP_CORE_MAC };
            bytes[0..6].copy_from_slice(&mac.0);
        }
        let mut r = Rig::new(cfg());
        r.register(1, 15);
        r.map.handle_frame(r.now, link, &bytes);
        r.advance(Duration::from_secs(70));
    }
}
