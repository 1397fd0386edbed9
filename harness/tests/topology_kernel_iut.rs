//! A real kernel as the IUT: the Linux IPv6 stack on the IUT's end of
//! `access`, an emulated AR on the tester's end. Checks that the emulated
//! nodes are good enough for a real stack (it autoconfigures from their RAs,
//! resolves them with NS, reaches a CN behind them, loses DAD against an
//! address they defend) and that a crafted RA (a MAP option with Length 0)
//! is discarded whole, as RFC 4861 6.1.2 and 4.6 say.

mod common;

use std::net::Ipv6Addr;
use std::time::Duration;

use common::kernel::{after, note, ping3_from_iut, require_ping, AddressEvent, AddressWatch};
use hmip6spec::topology::node::eui64_address;
use hmip6spec::topology::testing::require_root;
use hmip6spec::topology::{
    LinkSpec, NodeSpec, Outgoing, RaSpec, Side, Topology, TopologySpec, IUT_IFINDEX_BASE,
};
use rtnetlink::packet_route::address::AddressFlags;
use tokio::time::Instant;
use wire::frame::{Frame, Layer};
use wire::icmpv6::Icmpv6Message;
use wire::nd::{LinkLayerAddrRepr, MapOptionRepr, NdOption, PrefixInfoRepr};
use wire::MacAddr;

const PREFIX: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 1, 0, 0, 0, 0, 0);
const MAP_ADDRESS: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0xffff, 0, 0, 0, 0, 1);
const CN: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0xcccc, 0, 0, 0, 0, 5);
/// Short, so three RAs' worth of waiting stays well under a second.
const RA_INTERVAL: Duration = Duration::from_millis(200);
/// ifindex of the IUT's end of the first (only) link.
const IUT_ACCESS: u32 = IUT_IFINDEX_BASE;

/// `access` with the kernel's IPv6 on the IUT's end, set up for SLAAC.
/// The namespace defaults are the quiet ones (no DAD, no RS, no link-local);
/// here the link gets a link-local again (`addr_gen_mode=0`: EUI-64, so the
/// SLAAC address is predictable) and accepts RAs and autoconfigures
/// (`accept_ra=2` works even were forwarding on). Without `dad`, DAD stays
/// off: it would only delay the address by a retransmission timer. With it,
/// one probe, sent at once (the random delay before the first probe is
/// bounded by `router_solicitation_delay`).
async fn topology(dad: bool) -> Topology {
    let access = LinkSpec::new("access")
        .iut_kernel_ipv6(true)
        .iut_sysctl("addr_gen_mode", "0")
        .iut_sysctl("accept_ra", "2")
        .iut_sysctl("autoconf", "1");
    let access = if dad {
        access
            .iut_sysctl("accept_dad", "1")
            .iut_sysctl("dad_transmits", "1")
            .iut_sysctl("router_solicitation_delay", "0")
    } else {
        access.iut_sysctl("accept_dad", "0")
    };
    Topology::build(TopologySpec {
        links: vec![access],
        seed: 4140,
        capture: None,
    })
    .await
    .expect("topology")
}

/// The AR: a router sending RAs with a Prefix Information option
/// (2001:db8:1::/64, L and A) and a MAP option (Dist 1), Length as given
/// (`None`: the correct 3). No SLLA option, so the kernel has to resolve the
/// AR's link-local with an NS before it can use it as its default router.
fn ar(map_length: Option<u8>) -> NodeSpec {
    let mut ar = NodeSpec::new("ar", "access");
    ar.router = true;
    ar.behind = vec![CN];
    ar.reflexes.router_advert = Some(RaSpec::new(
        RA_INTERVAL,
        vec![
            NdOption::PrefixInformation(PrefixInfoRepr::new(PREFIX, 64, true, true, 86400, 14400)),
            NdOption::Map(MapOptionRepr {
                length: map_length,
                ..MapOptionRepr::new(1, 10, true, 3600, MAP_ADDRESS)
            }),
        ],
    ));
    ar
}

fn icmp(f: &Frame) -> Option<&Icmpv6Message> {
    f.icmpv6().map(|m| &m.message)
}

fn ipv6_src_dst(f: &Frame) -> Option<(Ipv6Addr, Ipv6Addr)> {
    f.ipv6_headers().next().map(|h| (h.src, h.dst))
}

#[tokio::test]
async fn kernel_autoconfigures_from_emulated_ar_and_reaches_cn_behind_it() {
    let test = "kernel_autoconfigures_from_emulated_ar_and_reaches_cn_behind_it";
    if !require_root(test) || !require_ping(test) {
        return;
    }
    let topo = topology(false).await;
    let iut_mac = MacAddr(topo.links()[0].iut_mac);
    let expected = eui64_address(PREFIX, iut_mac);
    let mut addresses = AddressWatch::open(&topo).expect("netlink address watch");
    // Sees both directions: the kernel's frames and the AR's (Keep).
    let observer = topo
        .open_socket(Side::Tester, "access", Outgoing::Keep)
        .expect("observer socket");

    let started = Instant::now();
    let nodes = topo.start_nodes(&[ar(None)]).expect("start AR");
    let ar = nodes.node("ar").expect("ar");
    let (ar_mac, ar_ll) = (ar.mac(), ar.link_local());

    let configured = addresses
        .added_in(IUT_ACCESS, PREFIX, after(Duration::from_secs(5)))
        .await;
    let slaac_time = started.elapsed();
    note(&format!(
        "SLAAC address {configured:?} {slaac_time:?} after the AR started"
    ));
    assert_eq!(
        configured,
        Some(expected),
        "the kernel did not configure the EUI-64 address from the AR's prefix within 5 s \
         (AR counters: {:?})",
        nodes.counters("ar")
    );

    let (ok, out) = ping3_from_iut(&topo, CN).await;
    note(&format!(
        "ping done {:?} after the AR started",
        started.elapsed()
    ));
    assert!(
        ok,
        "ping {CN} from the IUT failed, {out}\nAR counters: {:?}",
        nodes.counters("ar")
    );

    // The kernel had no link-layer address for its default router (the RA
    // carried no SLLA): it must have asked with an NS, and the AR answered.
    // Everything is already queued on the observer socket.
    let mut ns_from: Option<(MacAddr, Ipv6Addr)> = None;
    let mut na_ok = false;
    let mut first_ra_clean = None;
    let deadline = after(Duration::from_secs(1));
    while !(na_ok && first_ra_clean.is_some()) {
        let Ok(Some(f)) = observer.recv_until(deadline, |_| true).await else {
            break;
        };
        let d = Frame::decode(&f.bytes);
        let frame = &d.frame;
        let Some((src, dst)) = ipv6_src_dst(frame) else {
            continue;
        };
        match icmp(frame) {
            Some(Icmpv6Message::RouterAdvert { .. }) if first_ra_clean.is_none() => {
                first_ra_clean = Some(d.findings.is_empty());
            }
            Some(Icmpv6Message::NeighborSolicit { target, .. }) if *target == ar_ll => {
                let Some(Layer::Ethernet(e)) = frame.layers.first() else {
                    continue;
                };
                ns_from = Some((e.repr.src, src));
            }
            Some(Icmpv6Message::NeighborAdvert {
                r_flag,
                s_flag,
                target,
                options,
                ..
            }) if *target == ar_ll => {
                let tlla = NdOption::TargetLinkLayerAddr(LinkLayerAddrRepr {
                    length: None,
                    addr: ar_mac,
                });
                na_ok = ns_from.is_some_and(|(_, ns_src)| ns_src == dst)
                    && *r_flag
                    && *s_flag
                    && options.contains(&tlla)
                    && d.findings.is_empty();
            }
            _ => {}
        }
    }
    assert_eq!(
        first_ra_clean,
        Some(true),
        "the AR's RA was not seen, or had findings"
    );
    assert!(
        ns_from.is_some_and(|(mac, _)| mac == iut_mac),
        "no NS from the kernel for the AR's link-local {ar_ll}"
    );
    assert!(
        na_ok,
        "no valid solicited NA (R, S, TLLA {ar_mac}) from the AR to the kernel's NS"
    );
    let c = nodes.counters("ar").expect("ar counters");
    assert!(
        c.echo_replies >= 3 && c.neighbor_adverts >= 1 && c.send_errors == 0,
        "{c:?}"
    );
    nodes.shutdown().await;
}

#[tokio::test]
async fn kernel_discards_ra_whose_map_option_has_length_zero() {
    let test = "kernel_discards_ra_whose_map_option_has_length_zero";
    if !require_root(test) {
        return;
    }
    let topo = topology(false).await;
    let mut addresses = AddressWatch::open(&topo).expect("netlink address watch");
    let observer = topo
        .open_socket(Side::Tester, "access", Outgoing::Keep)
        .expect("observer socket");
    let started = Instant::now();
    let nodes = topo.start_nodes(&[ar(Some(0))]).expect("start AR");

    // Three full RA intervals after the first RA: the positive case gets its
    // address within milliseconds of the first RA, so any of these RAs
    // being accepted would show up well before the fourth one goes out.
    const RAS: u64 = 4;
    let deadline = after(Duration::from_secs(3));
    tokio::select! {
        a = addresses.added_in(IUT_ACCESS, PREFIX, deadline) => {
            panic!("the kernel configured {a:?} from an RA with a MAP option of Length 0");
        }
        c = nodes.wait_for("ar", deadline, |c| c.router_adverts >= RAS) => {
            assert!(c.is_some(), "the AR did not send {RAS} RAs: {:?}", nodes.counters("ar"));
        }
    }
    note(&format!(
        "{RAS} RAs with MAP Length 0 in {:?}, no address",
        started.elapsed()
    ));
    // An address event queued at the same moment would have lost the race
    // in select!: look once more, without waiting.
    assert_eq!(
        addresses.added_in(IUT_ACCESS, PREFIX, Instant::now()).await,
        None,
        "the kernel configured an address from an RA with a MAP option of Length 0"
    );
    // The RAs on the wire really carried the crafted option.
    let f = observer
        .recv_until(after(Duration::from_secs(1)), |b| {
            matches!(
                icmp(&Frame::decode(b).frame),
                Some(Icmpv6Message::RouterAdvert { .. })
            )
        })
        .await
        .expect("observer socket")
        .expect("an RA on the wire");
    let d = Frame::decode(&f.bytes);
    assert!(
        d.findings
            .iter()
            .any(|x| x.rule == wire::rules::ND_OPTION_LENGTH_ZERO),
        "the RA on the wire has no Length-0 option: {:?}",
        d.findings
    );
    nodes.shutdown().await;
}

#[tokio::test]
async fn kernel_dad_fails_against_address_defended_by_emulated_node() {
    let test = "kernel_dad_fails_against_address_defended_by_emulated_node";
    if !require_root(test) {
        return;
    }
    let topo = topology(true).await;
    let iut_mac = MacAddr(topo.links()[0].iut_mac);
    let slaac = eui64_address(PREFIX, iut_mac);
    let mut addresses = AddressWatch::open(&topo).expect("netlink address watch");
    // The AR claims the address the kernel will form. Its RAs set the
    // retransmission timer to 100 ms, so that had nobody defended the
    // address, DAD would succeed (and this test fail) within 100 ms.
    let mut spec = ar(None);
    spec.reflexes.defend = vec![slaac];
    if let Some(ra) = spec.reflexes.router_advert.as_mut() {
        ra.retrans_timer = 100;
    }
    let started = Instant::now();
    let nodes = topo.start_nodes(&[spec]).expect("start AR");

    let deadline = after(Duration::from_secs(5));
    // The outcome of DAD, the first event about the address (Linux
    // announces an address only once DAD is over): removed, or flagged
    // DADFAILED (failure); or there and not TENTATIVE (success).
    let outcome = addresses
        .next(IUT_ACCESS, deadline, |e| {
            e.address() == slaac
                && match e {
                    AddressEvent::Del(_) => true,
                    AddressEvent::New(_, f) => {
                        f.contains(AddressFlags::Dadfailed) || !f.contains(AddressFlags::Tentative)
                    }
                }
        })
        .await;
    note(&format!(
        "DAD outcome {outcome:?} {:?} after the AR started",
        started.elapsed()
    ));
    let failed = match outcome {
        Some(AddressEvent::Del(_)) => true,
        Some(AddressEvent::New(_, f)) => f.contains(AddressFlags::Dadfailed),
        None => false,
    };
    assert!(
        failed,
        "the kernel's DAD for {slaac} did not fail against the AR's defence: {outcome:?} \
         (AR counters: {:?})",
        nodes.counters("ar")
    );
    let c = nodes.counters("ar").expect("ar counters");
    assert!(c.neighbor_adverts >= 1, "{c:?}");
    nodes.shutdown().await;
}

#[tokio::test]
async fn start_nodes_checks_specs_and_derives_macs_from_the_seed() {
    if !require_root("start_nodes_checks_specs_and_derives_macs_from_the_seed") {
        return;
    }
    let topo = topology(false).await;
    let err = |specs: &[NodeSpec]| match topo.start_nodes(specs) {
        Ok(_) => panic!("accepted {specs:?}"),
        Err(e) => e.to_string(),
    };
    let msg = err(&[NodeSpec::new("ar", "core")]);
    assert!(msg.contains("\"core\""), "{msg}");
    let msg = err(&[NodeSpec::new("ar", "access"), NodeSpec::new("ar", "access")]);
    assert!(msg.contains("twice"), "{msg}");
    let mut clash = NodeSpec::new("cn", "access");
    clash.mac = Some(MacAddr(topo.links()[0].tester_mac).with_last(0x10));
    let msg = err(&[NodeSpec::new("ar", "access"), clash]);
    assert!(msg.contains("same MAC"), "{msg}");

    let nodes = topo
        .start_nodes(&[NodeSpec::new("ar", "access"), NodeSpec::new("mn", "access")])
        .expect("start nodes");
    let tester = MacAddr(topo.links()[0].tester_mac);
    assert_eq!(
        nodes.node("ar").map(|n| n.mac()),
        Some(tester.with_last(0x10))
    );
    assert_eq!(
        nodes.node("mn").map(|n| n.mac()),
        Some(tester.with_last(0x11))
    );
    nodes.shutdown().await;
}

trait WithLast {
    fn with_last(self, last: u8) -> MacAddr;
}

impl WithLast for MacAddr {
    fn with_last(mut self, last: u8) -> MacAddr {
        self.0[5] = last;
        self
    }
}
