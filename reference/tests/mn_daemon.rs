//! The MN daemon on a real link: one veth pair between two anonymous
//! network namespaces, `hmip6-ref mn` in one, the test's packet socket
//! (the access router, and the MAP and HA behind it) in the other (see
//! `common`).
//!
//! Needs root (CAP_SYS_ADMIN for namespaces, CAP_NET_ADMIN for links).
//! Without it the test prints `SKIP: needs root` and passes, unless
//! HMIP6SPEC_REQUIRE_ALL=1.

mod common;

use std::net::Ipv6Addr;
use std::process::Command;
use std::time::Duration;

use common::{Children, Tester};
use hmip6_ref::addr::link_local;
use wire::frame::{Decoded, ExtLayer, Frame, Layer};
use wire::mobility::{BindingAckRepr, BindingUpdateRepr, MhMessage, MobilityRepr};
use wire::nd::MapOptionRepr;
use wire::routing::RoutingRepr;
use wire::MacAddr;

const LINK: usize = 0;
const MN_MAC: MacAddr = MacAddr([0x02, 0, 0, 0, 0, 0x02]);
const AR_MAC: MacAddr = MacAddr([0x02, 0, 0, 0, 0x0a, 0x01]);
const MAP: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0xffff, 0, 0, 0, 0, 1);
const LCOA: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 1, 0, 0, 0xff, 0xfe00, 2);
const RCOA: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0xffff, 0, 0, 0xff, 0xfe00, 2);
const HOME: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0xaaaa, 0, 0, 0, 0, 2);
const HA: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0xaaaa, 0, 0, 0, 0, 1);

/// The BU of `d` and its IPv6 (source, destination) pairs, outermost first.
fn bu(d: &Decoded) -> Option<(BindingUpdateRepr, Vec<(Ipv6Addr, Ipv6Addr)>)> {
    match d.frame.mobility().map(|m| &m.message) {
        Some(MhMessage::BindingUpdate(b)) => Some((
            b.clone(),
            d.frame.ipv6_headers().map(|i| (i.src, i.dst)).collect(),
        )),
        _ => None,
    }
}

#[test]
fn mn_lists_its_faults() {
    let out = Command::new(env!("CARGO_BIN_EXE_hmip6-ref"))
        .args(["mn", "--list-faults"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.lines().count() >= 12, "{text}");
    assert!(
        text.lines().any(|l| l
            .split_whitespace()
            .take(2)
            .eq(["accept-ba-without-rh2", "RFC4140-6.1-MN-IGNORE-BA-NO-RH2"])),
        "{text}"
    );
}

#[test]
fn mn_daemon_on_a_veth() {
    if !common::root_or_skip("mn_daemon_on_a_veth") {
        return;
    }
    let mut children = Children::default();
    let mn_ns = common::holder(&mut children);
    let test_ns = common::holder(&mut children);
    common::veth(mn_ns, "mn0", MN_MAC, test_ns, "tmn0", AR_MAC);
    let tester = Tester::new([common::socket_in(test_ns, "tmn0")], vec![]);

    // An abstract socket: it lives in the MN's network namespace only.
    let control = format!("@hmip6-ref-mn-test-{}", std::process::id());
    let args = [
        "mn",
        "--link",
        "mn0",
        "--home-address",
        &HOME.to_string(),
        "--home-agent",
        &HA.to_string(),
        "--lifetime",
        "15",
        "--log",
        "json",
        "--control",
        &control,
    ]
    .map(String::from);
    let stderr = common::start_daemon(&mut children, mn_ns, &args);

    tester.send(
        LINK,
        &hmip6_ref::ra::router_advert(
            AR_MAC,
            link_local(AR_MAC),
            &["2001:db8:1::/64".parse().unwrap()],
            vec![MapOptionRepr::new(1, 10, true, 3600, MAP)],
        ),
    );
    let local = tester.expect(LINK, "local BU", Duration::from_secs(3), |d| {
        bu(d).is_some()
    });
    assert!(local.findings.is_empty(), "{:?}", local.findings);
    let (b, ips) = bu(&local).unwrap();
    assert_eq!(ips, vec![(LCOA, MAP)]);
    assert!(b.m_flag && b.a_flag && !b.h_flag);
    assert_eq!(b.lifetime, 15);

    let ba = Frame::new(vec![
        Layer::ethernet(AR_MAC, MN_MAC),
        Layer::ipv6(MAP, LCOA, 64),
        Layer::Routing(ExtLayer::new(RoutingRepr::type2(RCOA))),
        Layer::Mobility(MobilityRepr::new(
            MhMessage::BindingAck(BindingAckRepr {
                status: 0,
                seq: b.seq,
                lifetime: 10,
                ..Default::default()
            }),
            Vec::new(),
        )),
    ])
    .emit();
    tester.send(LINK, &ba);
    let home = tester.expect(LINK, "HA BU", Duration::from_secs(3), |d| {
        bu(d).is_some_and(|(b, _)| b.h_flag)
    });
    let (b, ips) = bu(&home).unwrap();
    assert_eq!(ips, vec![(LCOA, MAP), (RCOA, HA)]);
    assert_eq!(b.lifetime, 10);

    // `hmip6-ref ctl`, as profile actions run it: inside the MN's
    // namespace it reaches the daemon; outside it the name does not exist.
    let ctl = |ns: Option<u32>, words: &[&str]| {
        let mut argv = vec![env!("CARGO_BIN_EXE_hmip6-ref"), "ctl", &control];
        argv.extend_from_slice(words);
        let mut c = match ns {
            Some(ns) => common::in_ns(ns, &argv),
            None => {
                let mut c = Command::new(argv[0]);
                c.args(&argv[1..]);
                c
            }
        };
        c.output().expect("run hmip6-ref ctl")
    };
    let out = ctl(Some(mn_ns), &["bindings"]);
    let bindings = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{out:?}");
    assert!(bindings.contains("\"state\":\"bound\""), "{bindings}");
    assert!(bindings.contains(&RCOA.to_string()), "{bindings}");
    let out = ctl(Some(mn_ns), &["echo", "not-an-address"]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "an error answer exits 1: {out:?}"
    );
    let out = ctl(None, &["bindings"]);
    assert_eq!(out.status.code(), Some(2), "another namespace: {out:?}");

    let (status, log) = common::stop_daemon(&mut children, stderr);
    assert!(status.success(), "{status:?}\n{log}");
    assert!(log.contains("\"event\":\"ba_received\""), "{log}");
}
