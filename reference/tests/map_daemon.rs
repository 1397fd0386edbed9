//! The MAP daemon on real links: two veth pairs between two anonymous
//! network namespaces, `hmip6-ref map` in one, the test's packet sockets
//! in the other (see `common`).
//!
//! Needs root (CAP_SYS_ADMIN for namespaces, CAP_NET_ADMIN for links).
//! Without it the test prints `SKIP: needs root` and passes, unless
//! HMIP6SPEC_REQUIRE_ALL=1.

mod common;

use std::net::Ipv6Addr;
use std::time::Duration;

use common::{Children, Tester, ACCESS, CORE};
use wire::frame::{Decoded, ExtLayer, Frame, Layer};
use wire::icmpv6::{Icmpv6Message, Icmpv6Repr};
use wire::ipv6_options::{Ipv6Option, OptionsHeaderRepr};
use wire::mobility::{BindingUpdateRepr, MhMessage, MobilityRepr};
use wire::MacAddr;

const MAP_ACCESS_MAC: MacAddr = MacAddr([0x02, 0, 0, 0, 0x0a, 0x01]);
const MAP_CORE_MAC: MacAddr = MacAddr([0x02, 0, 0, 0, 0x0c, 0x01]);
const MN_MAC: MacAddr = MacAddr([0x02, 0, 0, 0, 0, 0x02]);
const ROUTER_MAC: MacAddr = MacAddr([0x02, 0, 0, 0, 0, 0x06]);
const MAP: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0xffff, 0, 0, 0, 0, 1);
const ROUTER: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0xffff, 0, 0, 0, 0, 0xfe);
const LCOA: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 1, 0, 0, 0, 0, 2);
const RCOA: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0xffff, 0, 0, 0, 2, 2);
const CN: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0xcccc, 0, 0, 0, 0, 5);

fn bu(seq: u16) -> Vec<u8> {
    Frame::new(vec![
        Layer::ethernet(MN_MAC, MAP_ACCESS_MAC),
        Layer::ipv6(LCOA, MAP, 64),
        Layer::DestinationOptions(ExtLayer::new(OptionsHeaderRepr::aligned(vec![
            Ipv6Option::HomeAddress {
                length: None,
                address: RCOA,
            },
        ]))),
        Layer::Mobility(MobilityRepr::new(
            MhMessage::BindingUpdate(BindingUpdateRepr::local(seq, 15)),
            vec![],
        )),
    ])
    .emit()
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

#[test]
fn map_daemon_on_veths() {
    if !common::root_or_skip("map_daemon_on_veths") {
        return;
    }
    let mut children = Children::default();
    let map_ns = common::holder(&mut children);
    let test_ns = common::holder(&mut children);
    common::veth(map_ns, "access0", MAP_ACCESS_MAC, test_ns, "tacc0", MN_MAC);
    common::veth(map_ns, "core0", MAP_CORE_MAC, test_ns, "tcore0", ROUTER_MAC);
    let tester = Tester::new(
        [
            common::socket_in(test_ns, "tacc0"),
            common::socket_in(test_ns, "tcore0"),
        ],
        vec![(ACCESS, LCOA, MN_MAC), (CORE, ROUTER, ROUTER_MAC)],
    );

    let control = std::env::temp_dir().join(format!("hmip6-ref-map-{}.sock", std::process::id()));
    let args = [
        "map",
        "--access",
        "access0",
        "--core",
        "core0",
        "--address",
        &MAP.to_string(),
        "--access-prefix",
        "2001:db8:1::/64",
        "--default-router",
        &ROUTER.to_string(),
        "--retrans-timer",
        "200ms",
        "--log",
        "json",
        "--control",
        control.to_str().unwrap(),
    ]
    .map(String::from);
    let stderr = common::start_daemon(&mut children, map_ns, &args);

    // A local BU: DAD NS for the RCoA on core, then the BA with RH2 = RCoA.
    tester.send(ACCESS, &bu(100));
    tester.expect(CORE, "DAD NS for the RCoA", Duration::from_secs(3), |d| {
        d.frame
            .ipv6_headers()
            .next()
            .is_some_and(|i| i.src.is_unspecified())
            && matches!(d.frame.icmpv6().map(|m| &m.message),
                Some(Icmpv6Message::NeighborSolicit { target, .. }) if *target == RCOA)
    });
    let ba = tester.expect(ACCESS, "BA", Duration::from_secs(3), |d| ba_of(d).is_some());
    let b = ba_of(&ba).unwrap();
    assert_eq!((b.status, b.seq, b.lifetime), (0, 100, 15));
    assert_eq!(rh2_of(&ba), Some(RCOA));
    assert!(ba.findings.is_empty(), "{:?}", ba.findings);

    // Proxy ND: an NS for the RCoA from the router is answered by the MAP.
    let ns = hmip6_ref::nd::ns_frame(ROUTER_MAC, ROUTER, RCOA);
    tester.send(CORE, &ns);
    let proxy = tester.expect(CORE, "proxy NA for the RCoA", Duration::from_secs(2), |d| {
        matches!(d.frame.icmpv6().map(|m| &m.message),
            Some(Icmpv6Message::NeighborAdvert { target, s_flag: true, .. }) if *target == RCOA)
    });
    let tlla = hmip6_ref::nd::tlla(proxy.frame.icmpv6().unwrap().message.options().unwrap());
    assert_eq!(tlla, Some(MAP_CORE_MAC));

    // A packet for the RCoA is tunnelled to the LCoA.
    let to_rcoa = Frame::new(vec![
        Layer::ethernet(ROUTER_MAC, MAP_CORE_MAC),
        Layer::ipv6(CN, RCOA, 40),
        Layer::Icmpv6(Icmpv6Repr::new(Icmpv6Message::EchoRequest {
            ident: 9,
            seq: 1,
            data: b"tunnel me".to_vec(),
        })),
    ])
    .emit();
    tester.send(CORE, &to_rcoa);
    let tunnelled = tester.expect(ACCESS, "tunnelled packet", Duration::from_secs(2), |d| {
        d.frame.ipv6_headers().count() == 2
    });
    let ips: Vec<_> = tunnelled.frame.ipv6_headers().cloned().collect();
    assert_eq!((ips[0].src, ips[0].dst), (MAP, LCOA));
    assert_eq!((ips[1].src, ips[1].dst, ips[1].hop_limit), (CN, RCOA, 39));

    // A truncated BU does not kill it: it still answers the next BU.
    let full = bu(101);
    tester.send(ACCESS, &full[..full.len() - 13]);
    tester.send(ACCESS, &full[..60]);
    tester.send(ACCESS, &bu(101));
    let ba = tester.expect(
        ACCESS,
        "BA after truncated BUs",
        Duration::from_secs(2),
        |d| ba_of(d).is_some(),
    );
    assert_eq!(ba_of(&ba).unwrap().seq, 101);

    // The control socket lists the binding.
    let answer = common::control(&control, "bindings");
    assert!(
        answer.contains("\"rcoa\":\"2001:db8:ffff::2:2\""),
        "{answer}"
    );
    assert!(answer.contains("\"lcoa\":\"2001:db8:1::2\""), "{answer}");

    // SIGTERM: a clean exit.
    let (status, log) = common::stop_daemon(&mut children, stderr);
    assert!(status.success(), "exit {status}; log:\n{log}");
    for event in [
        "bu_received",
        "dad_start",
        "binding_created",
        "ba_sent",
        "tunnel_encap",
        "drop",
    ] {
        assert!(
            log.contains(&format!("\"event\":\"{event}\"")),
            "no {event} in:\n{log}"
        );
    }
    assert!(!control.exists(), "control socket left behind");
}
