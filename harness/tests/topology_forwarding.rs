//! Emulated routers forward between links, and nodes on one link hear each
//! other. The Linux kernel is the IUT, a host on `access` only (the IUT's
//! end of `core` has no IPv6): it pings a CN on `core` through an emulated
//! router with an interface on each link, which resolves both ends with ND.

mod common;

use std::net::Ipv6Addr;
use std::time::Duration;

use common::kernel::{after, note, ping3_from_iut, require_ping, AddressWatch};
use hmip6spec::topology::node::eui64_address;
use hmip6spec::topology::testing::require_root;
use hmip6spec::topology::{
    Direction, InterfaceSpec, LinkSpec, NodeSpec, Outgoing, PacketSocket, RaSpec, Side, Topology,
    TopologySpec, IUT_IFINDEX_BASE,
};
use tokio::time::Instant;
use wire::ethernet::EthernetRepr;
use wire::frame::{EthernetLayer, Frame, Ipv6Layer, Layer};
use wire::icmpv6::{Icmpv6Message, Icmpv6Repr};
use wire::ipv6::Ipv6Repr;
use wire::nd::{LinkLayerAddrRepr, NdOption, PrefixInfoRepr};
use wire::MacAddr;

const ACCESS_PREFIX: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 1, 0, 0, 0, 0, 0);
const AR_CORE: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 2, 0, 0, 0, 0, 1);
const CN: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 2, 0, 0, 0, 0, 5);
const RA_INTERVAL: Duration = Duration::from_millis(200);
/// ifindex of the IUT's end of `access`, the first link.
const IUT_ACCESS: u32 = IUT_IFINDEX_BASE;

/// A frame seen on a link, decoded.
struct Seen {
    direction: Direction,
    frame: Frame,
    clean: bool,
}

/// The frames already queued on `observer` (both directions), until `done`
/// says enough or one second passes.
async fn seen(observer: &PacketSocket, mut done: impl FnMut(&[Seen]) -> bool) -> Vec<Seen> {
    let mut seen = Vec::new();
    let deadline = after(Duration::from_secs(1));
    while !done(&seen) {
        let Ok(Some(f)) = observer.recv_until(deadline, |_| true).await else {
            break;
        };
        let d = Frame::decode(&f.bytes);
        seen.push(Seen {
            direction: f.direction,
            frame: d.frame,
            clean: d.findings.is_empty(),
        });
    }
    seen
}

/// An echo request or reply seen on a link.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Echo {
    direction: Direction,
    eth_src: MacAddr,
    eth_dst: MacAddr,
    src: Ipv6Addr,
    dst: Ipv6Addr,
    hop_limit: u8,
    request: bool,
    seq: u16,
}

fn echoes(seen: &[Seen]) -> Vec<Echo> {
    seen.iter()
        .filter_map(|s| {
            let (Some(Layer::Ethernet(e)), Some(Layer::Ipv6(i))) =
                (s.frame.layers.first(), s.frame.layers.get(1))
            else {
                return None;
            };
            let (request, seq) = match s.frame.icmpv6().map(|m| &m.message) {
                Some(Icmpv6Message::EchoRequest { seq, .. }) => (true, *seq),
                Some(Icmpv6Message::EchoReply { seq, .. }) => (false, *seq),
                _ => return None,
            };
            Some(Echo {
                direction: s.direction,
                eth_src: e.repr.src,
                eth_dst: e.repr.dst,
                src: i.repr.src,
                dst: i.repr.dst,
                hop_limit: i.repr.hop_limit,
                request,
                seq,
            })
        })
        .collect()
}

/// The NSs and NAs seen, with their Ethernet source; all must be clean.
fn nd_messages(seen: &[Seen]) -> Vec<(MacAddr, Icmpv6Message)> {
    seen.iter()
        .filter_map(|s| {
            let Some(Layer::Ethernet(e)) = s.frame.layers.first() else {
                return None;
            };
            match s.frame.icmpv6().map(|m| &m.message) {
                Some(
                    m @ (Icmpv6Message::NeighborSolicit { .. }
                    | Icmpv6Message::NeighborAdvert { .. }),
                ) => {
                    assert!(s.clean, "{m:?} has findings");
                    Some((e.repr.src, m.clone()))
                }
                _ => None,
            }
        })
        .collect()
}

fn solicits(nd: &[(MacAddr, Icmpv6Message)], from: MacAddr, for_target: Ipv6Addr) -> bool {
    nd.iter().any(|(src, m)| {
        *src == from
            && matches!(m, Icmpv6Message::NeighborSolicit { target, options, .. }
                if *target == for_target && options.contains(&NdOption::SourceLinkLayerAddr(
                    LinkLayerAddrRepr { length: None, addr: from })))
    })
}

fn advertises(nd: &[(MacAddr, Icmpv6Message)], from: MacAddr, for_target: Ipv6Addr) -> bool {
    let tlla = NdOption::TargetLinkLayerAddr(LinkLayerAddrRepr {
        length: None,
        addr: from,
    });
    nd.iter().any(|(src, m)| {
        *src == from
            && matches!(m, Icmpv6Message::NeighborAdvert { target, s_flag: true, options, .. }
                if *target == for_target && options.contains(&tlla))
    })
}

/// `access` with kernel IPv6 on the IUT's end, set up for SLAAC with an
/// EUI-64 address and no DAD; `core` with no IPv6 on the IUT's end, so the
/// kernel is a host on `access` only.
async fn topology() -> Topology {
    let access = LinkSpec::new("access")
        .iut_kernel_ipv6(true)
        .iut_sysctl("addr_gen_mode", "0")
        .iut_sysctl("accept_ra", "2")
        .iut_sysctl("autoconf", "1")
        .iut_sysctl("accept_dad", "0");
    let core = LinkSpec::new("core").iut_kernel_ipv6(false);
    Topology::build(TopologySpec {
        links: vec![access, core],
        seed: 4141,
        capture: None,
    })
    .await
    .expect("topology")
}

/// The AR: RAs on `access` (2001:db8:1::/64, L and A, so on-link there
/// too), an interface on `core` (2001:db8:2::1, 2001:db8:2::/64), forwarding.
fn ar(forward: bool) -> NodeSpec {
    let mut ar = NodeSpec::new("ar", "access");
    ar.router = true;
    ar.interfaces = vec![InterfaceSpec {
        addresses: vec![AR_CORE],
        prefixes: vec!["2001:db8:2::/64".parse().expect("prefix")],
        ..InterfaceSpec::new("core")
    }];
    ar.reflexes.forward = forward;
    ar.reflexes.router_advert = Some(RaSpec::new(
        RA_INTERVAL,
        vec![NdOption::PrefixInformation(PrefixInfoRepr::new(
            ACCESS_PREFIX,
            64,
            true,
            true,
            86400,
            14400,
        ))],
    ));
    ar
}

/// The CN on `core`: a separate node that the AR has to resolve.
fn cn() -> NodeSpec {
    let mut cn = NodeSpec::new("cn", "core");
    cn.addresses = vec![CN];
    cn
}

#[tokio::test]
async fn kernel_pings_cn_on_another_link_through_forwarding_router() {
    let test = "kernel_pings_cn_on_another_link_through_forwarding_router";
    if !require_root(test) || !require_ping(test) {
        return;
    }
    let topo = topology().await;
    let iut_mac = MacAddr(topo.links()[0].iut_mac);
    let mut addresses = AddressWatch::open(&topo).expect("netlink address watch");
    let access = topo
        .open_socket(Side::Tester, "access", Outgoing::Keep)
        .expect("access observer");
    let core = topo
        .open_socket(Side::Tester, "core", Outgoing::Keep)
        .expect("core observer");
    let started = Instant::now();
    let nodes = topo.start_nodes(&[ar(true), cn()]).expect("start nodes");
    let ar_node = nodes.node("ar").expect("ar");
    let ar_access = ar_node.mac();
    let ar_core = ar_node.interface("core").expect("ar on core").mac();
    let cn_mac = nodes.node("cn").expect("cn").mac();

    let iut_addr = addresses
        .added_in(IUT_ACCESS, ACCESS_PREFIX, after(Duration::from_secs(5)))
        .await;
    assert_eq!(
        iut_addr,
        Some(eui64_address(ACCESS_PREFIX, iut_mac)),
        "no SLAAC address from the AR's RAs within 5 s (AR: {:?})",
        nodes.counters("ar")
    );
    let iut_addr = iut_addr.expect("checked");

    let (ok, out) = ping3_from_iut(&topo, CN).await;
    note(&format!(
        "ping done {:?} after the nodes started",
        started.elapsed()
    ));
    assert!(
        ok,
        "ping {CN} from the IUT failed, {out}\nAR: {:?}\nCN: {:?}",
        nodes.counters("ar"),
        nodes.counters("cn")
    );

    // On access: the kernel's requests (to the AR's MAC) and the replies
    // the AR forwarded to the kernel. On core: the requests the AR forwarded
    // and the CN's replies. Matched by sequence number.
    let six = |s: &[Seen]| echoes(s).len() >= 6;
    let access_seen = seen(&access, six).await;
    let core_seen = seen(&core, six).await;
    let (on_access, on_core) = (echoes(&access_seen), echoes(&core_seen));
    let find = |list: &[Echo], request: bool, seq: u16| {
        list.iter()
            .copied()
            .find(|e| e.request == request && e.seq == seq)
    };
    let seqs: Vec<u16> = on_access
        .iter()
        .filter(|e| e.request)
        .map(|e| e.seq)
        .collect();
    assert_eq!(seqs.len(), 3, "kernel's requests on access: {on_access:?}");
    for seq in seqs {
        let sent = find(&on_access, true, seq).expect("listed");
        assert_eq!(
            (
                sent.direction,
                sent.eth_src,
                sent.eth_dst,
                sent.src,
                sent.dst
            ),
            (Direction::Incoming, iut_mac, ar_access, iut_addr, CN),
            "the kernel's request {seq}"
        );
        let fwd = find(&on_core, true, seq)
            .unwrap_or_else(|| panic!("request {seq} not forwarded to core: {on_core:?}"));
        assert_eq!(
            fwd.hop_limit,
            sent.hop_limit - 1,
            "request {seq}: Hop Limit on core is not one less than the kernel sent"
        );
        assert_eq!(
            (fwd.eth_src, fwd.eth_dst, fwd.src, fwd.dst),
            (ar_core, cn_mac, iut_addr, CN),
            "request {seq} on core"
        );
        let reply = find(&on_core, false, seq).expect("the CN's reply on core");
        assert_eq!((reply.eth_src, reply.eth_dst), (cn_mac, ar_core));
        let back = find(&on_access, false, seq).expect("the reply forwarded to access");
        assert_eq!(
            (
                back.eth_src,
                back.eth_dst,
                back.src,
                back.dst,
                back.hop_limit
            ),
            (ar_access, iut_mac, CN, iut_addr, reply.hop_limit - 1),
            "reply {seq} on access"
        );
    }
    // The AR found the CN's MAC with an NS (the CN is a separate node:
    // it heard the NS, and the AR its NA, through the fan-out).
    let nd = nd_messages(&core_seen);
    assert!(
        solicits(&nd, ar_core, CN),
        "no NS from the AR for {CN}: {nd:?}"
    );
    assert!(advertises(&nd, cn_mac, CN), "no NA from the CN: {nd:?}");
    let ar_c = nodes.counters("ar").expect("ar");
    let cn_c = nodes.counters("cn").expect("cn");
    assert!(
        ar_c.forwarded == 6 && ar_c.neighbor_solicits >= 1 && ar_c.send_errors == 0,
        "{ar_c:?}"
    );
    assert!(
        cn_c.neighbor_adverts >= 1 && cn_c.echo_replies == 3 && cn_c.send_errors == 0,
        "{cn_c:?}"
    );
    nodes.shutdown().await;
}

#[tokio::test]
async fn nodes_on_one_link_hear_each_other() {
    let test = "nodes_on_one_link_hear_each_other";
    if !require_root(test) {
        return;
    }
    let topo = Topology::build(TopologySpec {
        links: vec![LinkSpec::new("lan")],
        seed: 4142,
        capture: None,
    })
    .await
    .expect("topology");
    let observer = topo
        .open_socket(Side::Tester, "lan", Outgoing::Keep)
        .expect("observer");
    // A: a router for 2001:db8:2::/64 on lan, B: a host on it.
    let mut a = NodeSpec::new("a", "lan");
    a.router = true;
    a.prefixes = vec!["2001:db8:2::/64".parse().expect("prefix")];
    a.reflexes.forward = true;
    let mut b = NodeSpec::new("b", "lan");
    b.addresses = vec![CN];
    let nodes = topo.start_nodes(&[a, b]).expect("start nodes");
    let a_mac = nodes.node("a").expect("a").mac();
    let b_mac = nodes.node("b").expect("b").mac();

    // The engine sends A a packet for B through Nodes::send, so that A
    // hears it; A asks for B's MAC, B answers, A forwards.
    let far = Ipv6Addr::new(0x2001, 0xdb8, 9, 0, 0, 0, 0, 1);
    let request = Frame::new(vec![
        Layer::Ethernet(EthernetLayer {
            repr: EthernetRepr {
                src: MacAddr(topo.links()[0].tester_mac),
                dst: a_mac,
            },
            ethertype: None,
        }),
        Layer::Ipv6(Ipv6Layer {
            repr: Ipv6Repr::new(far, CN, 64),
            next_header: None,
            payload_len: None,
        }),
        Layer::Icmpv6(Icmpv6Repr::new(Icmpv6Message::EchoRequest {
            ident: 1,
            seq: 1,
            data: b"hello b".to_vec(),
        })),
    ]);
    nodes.send("lan", &request.emit()).await.expect("send");
    let deadline = after(Duration::from_secs(2));
    let a_c = nodes
        .wait_for("a", deadline, |c| {
            c.neighbor_solicits >= 1 && c.forwarded >= 1
        })
        .await;
    let b_c = nodes
        .wait_for("b", deadline, |c| {
            c.neighbor_adverts >= 1 && c.echo_replies >= 1
        })
        .await;
    assert!(
        a_c.is_some() && b_c.is_some(),
        "A: {:?}\nB: {:?}",
        nodes.counters("a"),
        nodes.counters("b")
    );
    // B's reply went back to A, which has no route to 2001:db8:9::/64.
    let a_c = nodes
        .wait_for("a", deadline, |c| c.forward_drops >= 1)
        .await
        .expect("A drops the reply it has no route for");
    assert_eq!(a_c.forwarded, 1, "{a_c:?}");

    // On the wire: A's NS for B's address, B's NA with its TLLA, the
    // forwarded request and B's reply.
    let lan = seen(&observer, |s| echoes(s).len() >= 3).await;
    let nd = nd_messages(&lan);
    assert!(solicits(&nd, a_mac, CN), "no NS from A for {CN}: {nd:?}");
    assert!(advertises(&nd, b_mac, CN), "no solicited NA from B: {nd:?}");
    let on_lan = echoes(&lan);
    let fwd = on_lan
        .iter()
        .find(|e| e.request && e.eth_src == a_mac)
        .expect("the forwarded request");
    assert_eq!(
        (fwd.direction, fwd.eth_src, fwd.eth_dst, fwd.hop_limit),
        (Direction::Outgoing, a_mac, b_mac, 63)
    );
    let reply = on_lan.iter().find(|e| !e.request).expect("B's reply");
    assert_eq!(
        (reply.eth_src, reply.eth_dst, reply.dst),
        (b_mac, a_mac, far)
    );
    nodes.shutdown().await;
}
