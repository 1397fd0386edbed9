//! The AR engine fed with frames built by `wire`, on a fake clock, no
//! links involved.

use std::net::Ipv6Addr;
use std::time::{Duration, Instant};

use proptest::prelude::*;
use wire::checksum::PseudoHeader;
use wire::frame::{Decoded, Frame, Layer};
use wire::icmpv6::{Icmpv6Message, Icmpv6Repr};
use wire::nd::{MapOptionRepr, NdOption};
use wire::{proto, MacAddr};

use super::config::{ArConfig, Protection};
use super::probe::PROBE_IDENT;
use super::{Ar, ACCESS, CORE, PROBE_DATA};
use crate::addr::{link_local, ALL_NODES, ALL_ROUTERS};
use crate::faults::{Fault, Faults, AR_FAULTS};
use crate::log::Logger;
use crate::packet;
use crate::sad::{Sad, SecurityAssociation};

const AR_ACCESS_MAC: MacAddr = MacAddr([2, 0, 0, 0, 0xa, 0xa]);
const AR_CORE_MAC: MacAddr = MacAddr([2, 0, 0, 0, 0xc, 0xa]);
const MN_MAC: MacAddr = MacAddr([2, 0, 0, 0, 0, 2]);
const MAP_MAC: MacAddr = MacAddr([2, 0, 0, 0, 0, 1]);
const ROUTER_MAC: MacAddr = MacAddr([2, 0, 0, 0, 0, 6]);
/// The MAP on core, probed.
const MAP: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0xffff, 0, 0, 0, 0, 1);
/// A MAP on the access link.
const ONLINK_MAP: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 1, 0, 0, 0, 0, 0x99);
/// A MAP other routers advertise.
const FAR_MAP: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0xeeee, 0, 0, 0, 0, 1);
const CORE_ADDRESS: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0xffff, 0, 0, 0, 0, 0xa);
const SECOND: Duration = Duration::from_secs(1);

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn sa(spi: u32, key: u8) -> SecurityAssociation {
    SecurityAssociation {
        spi,
        key: vec![key; 32],
    }
}

/// The peers' side of the SAs: they seal with the AR's inbound SA and
/// open with its outbound one.
fn peer_sad() -> Sad {
    Sad::new(vec![sa(0x2000, 0x22)], Some(sa(0x1000, 0x11)), true)
}

fn cfg() -> ArConfig {
    let mut c = ArConfig::for_test(
        "2001:db8:1::/64",
        &[
            "2001:db8:ffff::1,dist=3,pref=7,lifetime=600",
            "2001:db8:1::99,dist=5",
        ],
    );
    c.probes = vec![MAP];
    c
}

fn protected_cfg(faults: &[Fault]) -> ArConfig {
    let mut c = cfg();
    c.relay = true;
    c.sa_in = vec![sa(0x1000, 0x11)];
    c.sa_out = Some(sa(0x2000, 0x22));
    c.protect = Protection {
        bu: false,
        probe: true,
        ra: true,
    };
    c.faults = Faults::of(faults);
    c
}

struct Rig {
    ar: Ar,
    now: Instant,
    peer: Sad,
}

impl Rig {
    fn new(cfg: ArConfig) -> Rig {
        let now = Instant::now();
        let mut ar = Ar::new(cfg, [AR_ACCESS_MAC, AR_CORE_MAC], Logger::off(), now);
        ar.links[CORE].neighbors.learn(MAP, MAP_MAC);
        Rig {
            ar,
            now,
            peer: peer_sad(),
        }
    }

    fn feed(&mut self, link: usize, frame: &[u8]) -> Vec<(usize, Decoded)> {
        self.ar.handle_frame(self.now, link, frame);
        self.out()
    }

    fn advance(&mut self, d: Duration) -> Vec<(usize, Decoded)> {
        self.now += d;
        self.ar.tick(self.now);
        self.out()
    }

    /// Advance in steps of `step` up to `total`: every frame sent.
    fn run(&mut self, total: Duration, step: Duration) -> Vec<(usize, Decoded)> {
        let mut all = Vec::new();
        let end = self.now + total;
        while self.now < end {
            all.extend(self.advance(step));
        }
        all
    }

    fn out(&mut self) -> Vec<(usize, Decoded)> {
        self.ar
            .take_output()
            .into_iter()
            .map(|(l, f)| (l, Frame::decode(&f)))
            .collect()
    }

    /// A packet from `src` (behind `mac`) to `dst` carrying `m`, in ESP
    /// under the peers' SA when `protect`.
    fn icmp(
        &mut self,
        mac_pair: (MacAddr, MacAddr),
        src: Ipv6Addr,
        dst: Ipv6Addr,
        hop_limit: u8,
        m: Icmpv6Message,
        protect: bool,
    ) -> Vec<u8> {
        let m = Icmpv6Repr::new(m);
        let body = if protect {
            let pseudo = PseudoHeader {
                src,
                dst,
                next_header: proto::ICMPV6,
            };
            packet::esp_layer(&mut self.peer, proto::ICMPV6, &m.to_bytes(&pseudo)).unwrap()
        } else {
            Layer::Icmpv6(m)
        };
        Frame::new(vec![
            Layer::ethernet(mac_pair.0, mac_pair.1),
            Layer::ipv6(src, dst, hop_limit),
            body,
        ])
        .emit()
    }

    /// An RA from another router (`ROUTER_MAC`, its link-local) on `link`
    /// with the MAP options `maps`.
    fn other_ra(&mut self, maps: &[MapOptionRepr], protect: bool) -> Vec<u8> {
        let m = Icmpv6Message::RouterAdvert {
            cur_hop_limit: 64,
            m_flag: false,
            o_flag: false,
            h_flag: false,
            prf: 0,
            reserved: 0,
            router_lifetime: 1800,
            reachable_time: 0,
            retrans_timer: 0,
            options: maps.iter().cloned().map(NdOption::Map).collect(),
        };
        let dst_mac = MacAddr::ipv6_multicast(&ALL_NODES);
        self.icmp(
            (ROUTER_MAC, dst_mac),
            link_local(ROUTER_MAC),
            ALL_NODES,
            255,
            m,
            protect,
        )
    }

    /// The MAP's echo reply to probe `seq`.
    fn reply(&mut self, seq: u16, protect: bool) -> Vec<u8> {
        let m = Icmpv6Message::EchoReply {
            ident: PROBE_IDENT,
            seq,
            data: PROBE_DATA.to_vec(),
        };
        self.icmp((MAP_MAC, AR_CORE_MAC), MAP, CORE_ADDRESS, 64, m, protect)
    }
}

/// The MAP options of the RAs among `frames` (on access), one list per RA.
fn ras(frames: &[(usize, Decoded)]) -> Vec<Vec<MapOptionRepr>> {
    frames
        .iter()
        .filter_map(|(l, d)| match d.frame.icmpv6().map(|m| &m.message) {
            Some(Icmpv6Message::RouterAdvert { options, .. }) => {
                assert_eq!(*l, ACCESS, "RAs go out on access only");
                Some(crate::ra::map_options(options))
            }
            _ => None,
        })
        .collect()
}

/// The probes among `frames`: (sequence number, protected).
fn probes(rig: &mut Rig, frames: &[(usize, Decoded)]) -> Vec<(u16, bool)> {
    let mut out = Vec::new();
    for (l, d) in frames {
        let ip = d.frame.ipv6_headers().next();
        if *l != CORE || ip.is_none_or(|i| i.dst != MAP) {
            continue;
        }
        assert_eq!(ip.map(|i| i.src), Some(CORE_ADDRESS));
        let esp = d
            .frame
            .layers
            .iter()
            .position(|l| matches!(l, Layer::Esp(_)));
        let (decoded, protected) = match esp {
            Some(i) => {
                let bytes = d.frame.emit();
                let (_, plain) =
                    packet::open_esp(&mut rig.peer, d, &bytes, bytes.len(), i, true).unwrap();
                (Frame::decode(&plain), true)
            }
            None => (d.clone(), false),
        };
        if let Some(Icmpv6Message::EchoRequest { ident, seq, data }) =
            decoded.frame.icmpv6().map(|m| &m.message)
        {
            assert_eq!((*ident, data.as_slice()), (PROBE_IDENT, PROBE_DATA));
            assert!(decoded.findings.is_empty(), "{:?}", decoded.findings);
            out.push((*seq, protected));
        }
    }
    out
}

fn summary(o: &MapOptionRepr) -> (Ipv6Addr, u8, u8, bool, u32) {
    (o.address, o.dist, o.pref, o.r_flag, o.valid_lifetime)
}

#[test]
fn the_first_ra_carries_the_configured_maps_with_the_dist_rules() {
    let mut rig = Rig::new(cfg());
    let out = rig.advance(Duration::ZERO);
    let (_, ra) = out
        .iter()
        .find(|(_, d)| {
            matches!(
                d.frame.icmpv6().map(|m| &m.message),
                Some(Icmpv6Message::RouterAdvert { .. })
            )
        })
        .expect("an RA at start");
    assert!(ra.findings.is_empty(), "{:?}", ra.findings);
    let ip = ra.frame.ipv6_headers().next().unwrap();
    assert_eq!(
        (ip.src, ip.dst, ip.hop_limit),
        (link_local(AR_ACCESS_MAC), ALL_NODES, 255)
    );
    let options = ra.frame.icmpv6().unwrap().message.options().unwrap();
    assert!(options.iter().any(|o| matches!(o,
        NdOption::PrefixInformation(p) if p.prefix == "2001:db8:1::".parse::<Ipv6Addr>().unwrap()
            && p.l_flag && p.a_flag && p.valid_lifetime == 86_400 && p.preferred_lifetime == 14_400)));
    let maps: Vec<_> = ras(&out)[0].iter().map(summary).collect();
    assert_eq!(
        maps,
        vec![
            // Off-link: the Dist given.
            (MAP, 3, 7, true, 600),
            // Inside the access prefix: Dist 1 whatever was given.
            (ONLINK_MAP, 1, 10, true, 3600),
        ]
    );
    assert!(ras(&out)[0].iter().all(|o| o.length.is_none()));
    // Without a dist the default is 1.
    let mut rig = Rig::new(ArConfig::for_test("2001:db8:1::/64", &["2001:db8:ffff::1"]));
    let out = rig.advance(Duration::ZERO);
    assert_eq!(ras(&out)[0][0].dist, 1);
}

#[test]
fn ras_are_periodic_and_rs_is_answered_at_once() {
    let mut rig = Rig::new(cfg());
    assert_eq!(ras(&rig.advance(Duration::ZERO)).len(), 1);
    assert!(ras(&rig.advance(ms(500))).is_empty());
    let rs = Icmpv6Message::RouterSolicit {
        reserved: 0,
        options: vec![],
    };
    let from_mn = Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 2);
    let f = rig.icmp(
        (MN_MAC, MacAddr::ipv6_multicast(&ALL_ROUTERS)),
        from_mn,
        ALL_ROUTERS,
        255,
        rs.clone(),
        false,
    );
    assert_eq!(ras(&rig.feed(ACCESS, &f)).len(), 1);
    // Not on core, and not with a hop limit below 255.
    assert!(ras(&rig.feed(CORE, &f)).is_empty());
    let low = rig.icmp(
        (MN_MAC, MacAddr::ipv6_multicast(&ALL_ROUTERS)),
        from_mn,
        ALL_ROUTERS,
        64,
        rs,
        false,
    );
    assert!(rig.feed(ACCESS, &low).is_empty());
    assert_eq!(ras(&rig.advance(ms(500))).len(), 1);
}

#[test]
fn ns_for_own_addresses_and_echo_requests_are_answered() {
    let mut rig = Rig::new(cfg());
    rig.advance(Duration::ZERO);
    let mn = Ipv6Addr::new(0x2001, 0xdb8, 1, 0, 0, 0, 0, 2);
    for (link, src, mac, target, answered) in [
        (ACCESS, mn, MN_MAC, link_local(AR_ACCESS_MAC), true),
        (CORE, MAP, MAP_MAC, CORE_ADDRESS, true),
        (CORE, MAP, MAP_MAC, link_local(AR_CORE_MAC), true),
        (CORE, MAP, MAP_MAC, FAR_MAP, false),
    ] {
        let ns = crate::nd::ns_frame(mac, src, target);
        let out = rig.feed(link, &ns);
        let na = out
            .iter()
            .find_map(|(l, d)| match d.frame.icmpv6().map(|m| &m.message) {
                Some(Icmpv6Message::NeighborAdvert {
                    target: t,
                    r_flag,
                    s_flag,
                    ..
                }) => Some((*l, *t, *r_flag, *s_flag)),
                _ => None,
            });
        if answered {
            assert_eq!(na, Some((link, target, true, true)), "{target}");
        } else {
            assert_eq!(na, None, "{target}");
        }
    }
    let echo = Icmpv6Message::EchoRequest {
        ident: 1,
        seq: 2,
        data: b"hi".to_vec(),
    };
    let f = rig.icmp((MAP_MAC, AR_CORE_MAC), MAP, CORE_ADDRESS, 64, echo, false);
    let out = rig.feed(CORE, &f);
    assert!(out.iter().any(|(l, d)| *l == CORE
        && matches!(
            d.frame.icmpv6().map(|m| &m.message),
            Some(Icmpv6Message::EchoReply {
                ident: 1,
                seq: 2,
                ..
            })
        )));
}

#[test]
fn relayed_options_get_dist_plus_one_and_the_smallest_wins() {
    let mut c = cfg();
    c.relay = true;
    let mut rig = Rig::new(c);
    rig.advance(Duration::ZERO);
    let far = |dist| MapOptionRepr::new(dist, 9, true, 600, FAR_MAP);
    // A received option for a configured MAP is ignored: the AR's own wins.
    let own_echo = MapOptionRepr::new(7, 1, true, 600, MAP);
    let ra = rig.other_ra(&[far(4), own_echo], false);
    assert!(rig.feed(CORE, &ra).is_empty());
    let ra = rig.other_ra(&[far(2)], false);
    rig.feed(ACCESS, &ra);
    let out = rig.advance(SECOND);
    let maps: Vec<_> = ras(&out)[0].iter().map(|o| (o.address, o.dist)).collect();
    assert_eq!(maps, vec![(MAP, 3), (ONLINK_MAP, 1), (FAR_MAP, 3)]);
    // Its own RAs (from its own link-local) are not learned from.
    let own = Rig::new(cfg()).ar.links[ACCESS].ll;
    assert_eq!(own, link_local(AR_ACCESS_MAC));
}

#[test]
fn relay_off_learns_nothing() {
    let mut rig = Rig::new(cfg());
    rig.advance(Duration::ZERO);
    let ra = rig.other_ra(&[MapOptionRepr::new(1, 9, true, 600, FAR_MAP)], false);
    rig.feed(CORE, &ra);
    let out = rig.advance(SECOND);
    assert_eq!(ras(&out)[0].len(), 2);
}

#[test]
fn protect_ra_takes_only_esp_protected_ras() {
    for (faults, plain_learned) in [
        (&[][..], false),
        (&[Fault::RelayUnauthenticatedRa][..], true),
    ] {
        let mut rig = Rig::new(protected_cfg(faults));
        rig.advance(Duration::ZERO);
        let far = MapOptionRepr::new(1, 9, true, 600, FAR_MAP);
        let plain = rig.other_ra(std::slice::from_ref(&far), false);
        rig.feed(CORE, &plain);
        let learned = |rig: &Rig| {
            rig.ar
                .status_json(rig.now)
                .iter()
                .any(|o| o["option"] == FAR_MAP.to_string())
        };
        assert_eq!(learned(&rig), plain_learned, "{faults:?}");
        let sealed = rig.other_ra(&[far], true);
        rig.feed(CORE, &sealed);
        assert!(learned(&rig), "{faults:?}: an ESP-protected RA is learned");
    }
}

/// alive → missed → aggressive → failed (lifetime 0, RA at once) →
/// recovered (lifetime back, RA at once).
#[test]
fn an_unanswered_map_is_advertised_with_lifetime_zero_and_comes_back() {
    let mut rig = Rig::new(cfg());
    let out = rig.advance(Duration::ZERO);
    assert_eq!(probes(&mut rig, &out), vec![(1, false)]);
    let reply = rig.reply(1, false);
    rig.feed(CORE, &reply);
    // Answered: the next probe an interval later, nothing else changes.
    let out = rig.advance(SECOND);
    assert_eq!(probes(&mut rig, &out), vec![(2, false)]);
    assert_eq!(ras(&out)[0][0].valid_lifetime, 600);
    // Probe 2 unanswered: probe 3 at once, then every 250 ms.
    let out = rig.advance(SECOND);
    assert_eq!(probes(&mut rig, &out), vec![(3, false)]);
    let out = rig.advance(ms(250));
    assert_eq!(probes(&mut rig, &out), vec![(4, false)]);
    assert!(ras(&out).is_empty());
    // The third miss: failed, an RA with lifetime 0 for that MAP at once.
    let out = rig.advance(ms(250));
    assert_eq!(probes(&mut rig, &out), vec![(5, false)]);
    let failed = ras(&out);
    assert_eq!(failed.len(), 1, "one RA at once");
    let maps: Vec<_> = failed[0]
        .iter()
        .map(|o| (o.address, o.valid_lifetime))
        .collect();
    assert_eq!(maps, vec![(MAP, 0), (ONLINK_MAP, 3600)]);
    let status = rig.ar.status_json(rig.now);
    assert_eq!(status[0]["state"], "failed");
    // Still advertised with lifetime 0 while failed.
    let out = rig.run(SECOND, ms(100));
    assert!(ras(&out).iter().all(|r| r[0].valid_lifetime == 0));
    // The answer to the latest probe brings it back, with an RA at once.
    let last = probes(&mut rig, &out).last().copied().unwrap().0;
    let reply = rig.reply(last, false);
    let out = rig.feed(CORE, &reply);
    assert_eq!(ras(&out).len(), 1);
    assert_eq!(ras(&out)[0][0].valid_lifetime, 600);
    assert_eq!(rig.ar.status_json(rig.now)[0]["state"], "alive");
}

#[test]
fn protected_probes_count_only_protected_replies() {
    let mut rig = Rig::new(protected_cfg(&[]));
    let out = rig.advance(Duration::ZERO);
    assert_eq!(probes(&mut rig, &out), vec![(1, true)]);
    // A plain reply does not count: the MAP fails all the same.
    let plain = rig.reply(1, false);
    rig.feed(CORE, &plain);
    let out = rig.run(ms(1500), ms(250));
    assert!(ras(&out).iter().any(|r| r[0].valid_lifetime == 0));
    assert!(probes(&mut rig, &out).iter().all(|&(_, p)| p));
    // A protected one does.
    let last = rig.ar.prober().targets()[0].sent as u16;
    let sealed = rig.reply(last, true);
    let out = rig.feed(CORE, &sealed);
    assert_eq!(ras(&out)[0][0].valid_lifetime, 600);
}

#[test]
fn fault_probes_unprotected_sends_them_in_the_clear() {
    let mut rig = Rig::new(protected_cfg(&[Fault::ProbesUnprotected]));
    let out = rig.advance(Duration::ZERO);
    assert_eq!(probes(&mut rig, &out), vec![(1, false)]);
}

#[test]
fn fault_accept_unprotected_reply_keeps_the_map_alive() {
    let mut rig = Rig::new(protected_cfg(&[Fault::AcceptUnprotectedReply]));
    for _ in 0..5 {
        let out = rig.advance(SECOND);
        let seq = probes(&mut rig, &out).last().unwrap().0;
        assert!(ras(&out).iter().all(|r| r[0].valid_lifetime == 600));
        let plain = rig.reply(seq, false);
        rig.feed(CORE, &plain);
    }
    assert_eq!(rig.ar.status_json(rig.now)[0]["state"], "alive");
}

#[test]
fn map_option_faults() {
    let first_ra = |faults: &[Fault]| {
        let mut c = cfg();
        c.faults = Faults::of(faults);
        let mut rig = Rig::new(c);
        let out = rig.advance(Duration::ZERO);
        ras(&out).remove(0)
    };
    let dists = |r: &[MapOptionRepr]| r.iter().map(|o| o.dist).collect::<Vec<_>>();
    assert_eq!(dists(&first_ra(&[])), vec![3, 1]);
    assert!(first_ra(&[Fault::NoMapOption]).is_empty());
    assert_eq!(dists(&first_ra(&[Fault::RaDistZero])), vec![0, 0]);
    assert_eq!(dists(&first_ra(&[Fault::RaDistTwo])), vec![3, 2]);
    let long = first_ra(&[Fault::RaMapOptionLength4]);
    assert!(long.iter().all(|o| o.length == Some(4)));
}

#[test]
fn relay_faults() {
    let relayed = |faults: &[Fault]| {
        let mut c = cfg();
        c.relay = true;
        c.faults = Faults::of(faults);
        let mut rig = Rig::new(c);
        rig.advance(Duration::ZERO);
        let ra = rig.other_ra(&[MapOptionRepr::new(2, 9, true, 600, FAR_MAP)], false);
        rig.feed(CORE, &ra);
        let ra = rig.other_ra(&[MapOptionRepr::new(5, 9, true, 600, FAR_MAP)], false);
        rig.feed(ACCESS, &ra);
        let out = rig.advance(SECOND);
        ras(&out)[0]
            .iter()
            .find(|o| o.address == FAR_MAP)
            .unwrap()
            .dist
    };
    assert_eq!(relayed(&[]), 3);
    assert_eq!(relayed(&[Fault::RelayWithoutIncrement]), 2);
    assert_eq!(relayed(&[Fault::RelayKeepsLargerDist]), 6);
}

/// Everything the AR sends in a script that exercises every behaviour a
/// fault breaks: RAs with an on-link and an off-link MAP, relaying plain
/// and protected RAs received on both links, protected probes with plain
/// replies.
fn script(faults: &[Fault]) -> Vec<(usize, Vec<u8>)> {
    let mut rig = Rig::new(protected_cfg(faults));
    let mut sent = Vec::new();
    let mut keep = |rig: &mut Rig, out: Vec<(usize, Decoded)>| {
        sent.extend(out.into_iter().map(|(l, d)| (l, d.frame.emit())));
        let _ = rig;
    };
    let out = rig.advance(Duration::ZERO);
    keep(&mut rig, out);
    let far = |dist| MapOptionRepr::new(dist, 9, true, 600, FAR_MAP);
    let other = MapOptionRepr::new(
        1,
        9,
        true,
        600,
        Ipv6Addr::new(0x2001, 0xdb8, 0xdddd, 0, 0, 0, 0, 1),
    );
    for (link, maps, protect) in [
        (CORE, vec![far(2)], true),
        (ACCESS, vec![far(5)], true),
        (CORE, vec![other], false),
    ] {
        let ra = rig.other_ra(&maps, protect);
        rig.ar.handle_frame(rig.now, link, &ra);
    }
    for _ in 0..8 {
        let out = rig.advance(ms(250));
        let seqs = probes(&mut rig, &out);
        keep(&mut rig, out);
        if let Some(&(seq, _)) = seqs.last() {
            let plain = rig.reply(seq, false);
            rig.ar.handle_frame(rig.now, CORE, &plain);
        }
    }
    sent
}

#[test]
fn every_fault_changes_behaviour() {
    let good = script(&[]);
    assert!(!good.is_empty());
    for spec in AR_FAULTS {
        assert_ne!(
            script(&[spec.fault]),
            good,
            "fault {} changes nothing",
            spec.name
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn random_frames_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..200), link in 0usize..3) {
        let mut rig = Rig::new(protected_cfg(&[]));
        rig.ar.handle_frame(rig.now, link, &bytes);
        let mut f = rig.reply(1, true);
        let n = f.len();
        for (i, b) in bytes.iter().enumerate().take(8) {
            f[(usize::from(*b) + i) % n] ^= b | 1;
        }
        rig.ar.handle_frame(rig.now, CORE, &f);
        rig.ar.tick(rig.now + SECOND);
    }
}
