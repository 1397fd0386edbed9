//! The AR daemon on real links: two veth pairs between two anonymous
//! network namespaces, `hmip6-ref ar` in one, the test's packet sockets
//! (a mobile node on access, the MAP on core) in the other (see `common`).
//!
//! Needs root (CAP_SYS_ADMIN for namespaces, CAP_NET_ADMIN for links).
//! Without it the test prints `SKIP: needs root` and passes, unless
//! HMIP6SPEC_REQUIRE_ALL=1.

mod common;

use std::net::Ipv6Addr;
use std::time::{Duration, Instant};

use common::{Children, Tester, ACCESS, CORE};
use hmip6_ref::addr::{link_local, ALL_ROUTERS};
use wire::frame::{Decoded, Frame, Layer};
use wire::icmpv6::{Icmpv6Message, Icmpv6Repr};
use wire::nd::MapOptionRepr;
use wire::MacAddr;

const AR_ACCESS_MAC: MacAddr = MacAddr([0x02, 0, 0, 0, 0x0a, 0x0a]);
const AR_CORE_MAC: MacAddr = MacAddr([0x02, 0, 0, 0, 0x0c, 0x0a]);
const MN_MAC: MacAddr = MacAddr([0x02, 0, 0, 0, 0, 0x02]);
const MAP_MAC: MacAddr = MacAddr([0x02, 0, 0, 0, 0, 0x01]);
const MAP: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0xffff, 0, 0, 0, 0, 1);
const CORE_ADDRESS: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0xffff, 0, 0, 0, 0, 0xa);

/// The MAP options of an RA, if `d` is one.
fn ra_maps(d: &Decoded) -> Option<Vec<MapOptionRepr>> {
    match d.frame.icmpv6().map(|m| &m.message) {
        Some(Icmpv6Message::RouterAdvert { options, .. }) => {
            Some(hmip6_ref::ra::map_options(options))
        }
        _ => None,
    }
}

/// The sequence number of a probe (an echo request to the MAP from the
/// core address), if `d` is one.
fn probe_seq(d: &Decoded) -> Option<(u16, u16)> {
    let ip = d.frame.ipv6_headers().next()?;
    if (ip.src, ip.dst) != (CORE_ADDRESS, MAP) {
        return None;
    }
    match d.frame.icmpv6().map(|m| &m.message) {
        Some(Icmpv6Message::EchoRequest { ident, seq, .. }) => Some((*ident, *seq)),
        _ => None,
    }
}

fn echo_reply(ident: u16, seq: u16) -> Vec<u8> {
    Frame::new(vec![
        Layer::ethernet(MAP_MAC, AR_CORE_MAC),
        Layer::ipv6(MAP, CORE_ADDRESS, 64),
        Layer::Icmpv6(Icmpv6Repr::new(Icmpv6Message::EchoReply {
            ident,
            seq,
            data: hmip6_ref::ar::PROBE_DATA.to_vec(),
        })),
    ])
    .emit()
}

#[test]
fn ar_daemon_on_veths() {
    if !common::root_or_skip("ar_daemon_on_veths") {
        return;
    }
    let mut children = Children::default();
    let ar_ns = common::holder(&mut children);
    let test_ns = common::holder(&mut children);
    common::veth(ar_ns, "access0", AR_ACCESS_MAC, test_ns, "tacc0", MN_MAC);
    common::veth(ar_ns, "core0", AR_CORE_MAC, test_ns, "tcore0", MAP_MAC);
    // The MAP answers address resolution, not (yet) the probes.
    let tester = Tester::new(
        [
            common::socket_in(test_ns, "tacc0"),
            common::socket_in(test_ns, "tcore0"),
        ],
        vec![(CORE, MAP, MAP_MAC)],
    );

    let control = std::env::temp_dir().join(format!("hmip6-ref-ar-{}.sock", std::process::id()));
    let args = [
        "ar",
        "--access",
        "access0",
        "--core",
        "core0",
        "--prefix",
        "2001:db8:1::/64",
        "--map",
        "2001:db8:ffff::1,dist=2,pref=7",
        "--core-address",
        &CORE_ADDRESS.to_string(),
        "--probe",
        &MAP.to_string(),
        "--probe-interval",
        "400ms",
        "--probe-retries",
        "3",
        // Long enough that an RA within a second answers something.
        "--ra-interval",
        "30s",
        "--log",
        "json",
        "--control",
        control.to_str().unwrap(),
    ]
    .map(String::from);
    let stderr = common::start_daemon(&mut children, ar_ns, &args);

    // The first RA: from the access link-local, the MAP option.
    let ra = tester.expect(ACCESS, "RA", Duration::from_secs(3), |d| {
        ra_maps(d).is_some()
    });
    assert!(ra.findings.is_empty(), "{:?}", ra.findings);
    assert_eq!(
        ra.frame.ipv6_headers().next().map(|i| (i.src, i.hop_limit)),
        Some((link_local(AR_ACCESS_MAC), 255))
    );
    let maps = ra_maps(&ra).unwrap();
    assert_eq!(maps.len(), 1);
    assert_eq!(
        (
            maps[0].address,
            maps[0].dist,
            maps[0].pref,
            maps[0].valid_lifetime
        ),
        (MAP, 2, 7, 3600)
    );

    // An RS is answered at once (the next periodic RA is 30 s away).
    let mn_ll = link_local(MN_MAC);
    let rs = Frame::new(vec![
        Layer::ethernet(MN_MAC, MacAddr::ipv6_multicast(&ALL_ROUTERS)),
        Layer::ipv6(mn_ll, ALL_ROUTERS, 255),
        Layer::Icmpv6(Icmpv6Repr::new(Icmpv6Message::RouterSolicit {
            reserved: 0,
            options: vec![],
        })),
    ])
    .emit();
    tester.send(ACCESS, &rs);
    tester.expect(ACCESS, "RA answering the RS", Duration::from_secs(1), |d| {
        ra_maps(d).is_some_and(|m| m.len() == 1 && m[0].valid_lifetime == 3600)
    });

    // The MAP is probed on core from the core address; an answered probe
    // keeps it alive.
    let probe = tester.expect(CORE, "probe", Duration::from_secs(3), |d| {
        probe_seq(d).is_some()
    });
    let (ident, seq) = probe_seq(&probe).unwrap();
    tester.send(CORE, &echo_reply(ident, seq));
    let answer = common::control(&control, "status");
    assert!(answer.contains("\"state\":\"alive\""), "{answer}");

    // Then no more answers: after 3 unanswered probes the MAP fails and
    // an RA with Valid Lifetime 0 goes out at once.
    let started = Instant::now();
    tester.expect(ACCESS, "RA with lifetime 0", Duration::from_secs(5), |d| {
        ra_maps(d).is_some_and(|m| m.len() == 1 && m[0].address == MAP && m[0].valid_lifetime == 0)
    });
    assert!(started.elapsed() < Duration::from_secs(5));
    let answer = common::control(&control, "status");
    assert!(answer.contains("\"state\":\"failed\""), "{answer}");

    // An answered probe brings the normal lifetime back, at once.
    let probe = tester.expect(CORE, "probe", Duration::from_secs(3), |d| {
        probe_seq(d).is_some()
    });
    let (ident, seq) = probe_seq(&probe).unwrap();
    tester.send(CORE, &echo_reply(ident, seq));
    tester.expect(
        ACCESS,
        "RA with the lifetime back",
        Duration::from_secs(2),
        |d| ra_maps(d).is_some_and(|m| m.len() == 1 && m[0].valid_lifetime == 3600),
    );

    // The faults answer: none.
    assert_eq!(common::control(&control, "faults"), "");

    // SIGTERM: a clean exit.
    let (status, log) = common::stop_daemon(&mut children, stderr);
    assert!(status.success(), "exit {status}; log:\n{log}");
    for event in [
        "started",
        "probe_sent",
        "probe_answered",
        "map_failed",
        "map_recovered",
        "stopped",
    ] {
        assert!(
            log.contains(&format!("\"event\":\"{event}\"")),
            "no {event} in:\n{log}"
        );
    }
    assert!(!control.exists(), "control socket left behind");
}

/// Bad flags: exit status 2 and the flag named; `--list-faults` prints the
/// AR's table. No root needed.
#[test]
fn ar_command_line() {
    let bin = env!("CARGO_BIN_EXE_hmip6-ref");
    let out = std::process::Command::new(bin)
        .args(["ar", "--list-faults"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(text.lines().count(), hmip6_ref::faults::AR_FAULTS.len());
    assert!(text.starts_with("no-map-option "), "{text}");
    for (args, needle) in [
        (&["ar", "--access", "a0"][..], "--core"),
        (
            &[
                "ar",
                "--access",
                "a0",
                "--core",
                "c0",
                "--map",
                "2001:db8::1,dist=0",
            ][..],
            "--map",
        ),
        (
            &["ar", "--access", "a0", "--core", "c0", "--fault", "no-ba"][..],
            "hmip6-ref map",
        ),
        (
            &[
                "ar",
                "--access",
                "a0",
                "--core",
                "c0",
                "--probe",
                "2001:db8::1",
            ][..],
            "--core-address",
        ),
    ] {
        let out = std::process::Command::new(bin).args(args).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(needle), "{args:?}: {err}");
    }
}
