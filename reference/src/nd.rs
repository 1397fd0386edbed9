//! Neighbour Discovery (RFC 4861) for every role: the neighbour cache with
//! address resolution (NS retransmissions, a bounded queue of packets
//! waiting for an answer) and builders for NS / NA frames.

use std::collections::{HashMap, VecDeque};
use std::net::Ipv6Addr;
use std::time::{Duration, Instant};

use wire::ethernet::EthernetRepr;
use wire::frame::{Frame, Layer};
use wire::icmpv6::{Icmpv6Message, Icmpv6Repr};
use wire::nd::{LinkLayerAddrRepr, NdOption};
use wire::MacAddr;

use crate::addr::{solicited_node, ALL_NODES};
use crate::log::{s, v, Logger};

/// NS transmissions before a neighbour is declared unreachable
/// (MAX_MULTICAST_SOLICIT).
pub const MAX_SOLICIT: u32 = 3;
/// Packets kept per neighbour being resolved; older ones are dropped.
pub const MAX_QUEUE: usize = 16;

/// What [`Neighbors::resolve`] decided for a packet.
#[derive(Debug, PartialEq, Eq)]
pub enum Resolved {
    /// The neighbour is known: send the packet to this MAC now.
    Send(MacAddr, Vec<u8>),
    /// Unknown: the packet is queued and an NS must be sent now.
    Solicit,
    /// Resolution already runs: the packet is queued behind it.
    Queued,
}

#[derive(Debug)]
struct Pending {
    sent: u32,
    next: Instant,
    queue: VecDeque<Vec<u8>>,
}

/// The neighbour cache of one link.
#[derive(Debug)]
pub struct Neighbors {
    entries: HashMap<Ipv6Addr, MacAddr>,
    pending: HashMap<Ipv6Addr, Pending>,
    retrans: Duration,
}

/// What a timer tick asks of the caller.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct NdTick {
    /// Send an NS again for these.
    pub resolicit: Vec<Ipv6Addr>,
    /// Gave up on these: (neighbour, packets dropped).
    pub unreachable: Vec<(Ipv6Addr, usize)>,
}

impl Neighbors {
    pub fn new(retrans: Duration) -> Self {
        Neighbors {
            entries: HashMap::new(),
            pending: HashMap::new(),
            retrans,
        }
    }

    pub fn lookup(&self, ip: &Ipv6Addr) -> Option<MacAddr> {
        self.entries.get(ip).copied()
    }

    /// Resolve `ip` for `packet` (an IPv6 packet to send to it).
    pub fn resolve(&mut self, now: Instant, ip: Ipv6Addr, packet: Vec<u8>) -> Resolved {
        if let Some(mac) = self.lookup(&ip) {
            return Resolved::Send(mac, packet);
        }
        if let Some(p) = self.pending.get_mut(&ip) {
            if p.queue.len() >= MAX_QUEUE {
                p.queue.pop_front();
            }
            p.queue.push_back(packet);
            return Resolved::Queued;
        }
        let mut queue = VecDeque::new();
        queue.push_back(packet);
        self.pending.insert(
            ip,
            Pending {
                sent: 1,
                next: now + self.retrans,
                queue,
            },
        );
        Resolved::Solicit
    }

    /// Record that `ip` is at `mac` (from an NA, or an NS's source
    /// link-layer address option); returns the packets that waited for it.
    pub fn learn(&mut self, ip: Ipv6Addr, mac: MacAddr) -> Vec<Vec<u8>> {
        if ip.is_unspecified() || ip.is_multicast() || mac.is_multicast() {
            return Vec::new();
        }
        self.entries.insert(ip, mac);
        self.pending
            .remove(&ip)
            .map(|p| p.queue.into_iter().collect())
            .unwrap_or_default()
    }

    /// Forget everything learnt about `ip`.
    pub fn forget(&mut self, ip: &Ipv6Addr) {
        self.entries.remove(ip);
    }

    /// Retransmissions and give-ups due at `now`.
    pub fn tick(&mut self, now: Instant) -> NdTick {
        let mut out = NdTick::default();
        let retrans = self.retrans;
        self.pending.retain(|ip, p| {
            if p.next > now {
                return true;
            }
            if p.sent >= MAX_SOLICIT {
                out.unreachable.push((*ip, p.queue.len()));
                return false;
            }
            p.sent += 1;
            p.next = now + retrans;
            out.resolicit.push(*ip);
            true
        });
        out.resolicit.sort();
        out.unreachable.sort();
        out
    }

    /// When [`tick`](Self::tick) next has something to do.
    pub fn next_deadline(&self) -> Option<Instant> {
        self.pending.values().map(|p| p.next).min()
    }

    /// Packets waiting for resolution (all neighbours).
    pub fn queued(&self) -> usize {
        self.pending.values().map(|p| p.queue.len()).sum()
    }
}

/// The destination MAC for an IPv6 destination: the multicast mapping, or
/// `unicast` for a unicast one.
pub fn dst_mac(dst: &Ipv6Addr, unicast: MacAddr) -> MacAddr {
    if dst.is_multicast() {
        MacAddr::ipv6_multicast(dst)
    } else {
        unicast
    }
}

/// An Ethernet frame around the IPv6 packet `packet`.
pub fn ethernet(src: MacAddr, dst: MacAddr, packet: &[u8]) -> Vec<u8> {
    let mut out = vec![0u8; 14];
    EthernetRepr { dst, src }.emit(&mut out, wire::proto::ETHERTYPE_IPV6);
    out.extend_from_slice(packet);
    out
}

/// An ICMPv6 message in a whole frame (hop limit 255 for ND).
pub fn icmp_frame(
    src_mac: MacAddr,
    dst_mac: MacAddr,
    src: Ipv6Addr,
    dst: Ipv6Addr,
    hop_limit: u8,
    message: Icmpv6Message,
) -> Vec<u8> {
    Frame::new(vec![
        Layer::ethernet(src_mac, dst_mac),
        Layer::ipv6(src, dst, hop_limit),
        Layer::Icmpv6(Icmpv6Repr::new(message)),
    ])
    .emit()
}

/// A Neighbor Solicitation for `target` to its solicited-node group; from
/// `src` (with a source link-layer address option), or from `::` for DAD.
pub fn ns_frame(src_mac: MacAddr, src: Ipv6Addr, target: Ipv6Addr) -> Vec<u8> {
    let group = solicited_node(&target);
    let options = if src.is_unspecified() {
        Vec::new()
    } else {
        vec![NdOption::SourceLinkLayerAddr(LinkLayerAddrRepr {
            length: None,
            addr: src_mac,
        })]
    };
    icmp_frame(
        src_mac,
        MacAddr::ipv6_multicast(&group),
        src,
        group,
        255,
        Icmpv6Message::NeighborSolicit {
            reserved: 0,
            target,
            options,
        },
    )
}

/// The flags of a Neighbor Advertisement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct NaFlags {
    pub router: bool,
    pub solicited: bool,
    pub override_: bool,
}

/// A Neighbor Advertisement for `target` with a target link-layer address
/// option `tlla`.
pub fn na_frame(
    src_mac: MacAddr,
    dst_mac: MacAddr,
    src: Ipv6Addr,
    dst: Ipv6Addr,
    target: Ipv6Addr,
    flags: NaFlags,
    tlla: MacAddr,
) -> Vec<u8> {
    icmp_frame(
        src_mac,
        dst_mac,
        src,
        dst,
        255,
        Icmpv6Message::NeighborAdvert {
            r_flag: flags.router,
            s_flag: flags.solicited,
            o_flag: flags.override_,
            reserved: 0,
            target,
            options: vec![NdOption::TargetLinkLayerAddr(LinkLayerAddrRepr {
                length: None,
                addr: tlla,
            })],
        },
    )
}

/// The source link-layer address option of an ND message, if any.
pub fn slla(options: &[NdOption]) -> Option<MacAddr> {
    options.iter().find_map(|o| match o {
        NdOption::SourceLinkLayerAddr(l) if l.length.is_none() => Some(l.addr),
        _ => None,
    })
}

/// The target link-layer address option of an ND message, if any.
pub fn tlla(options: &[NdOption]) -> Option<MacAddr> {
    options.iter().find_map(|o| match o {
        NdOption::TargetLinkLayerAddr(l) if l.length.is_none() => Some(l.addr),
        _ => None,
    })
}

/// One link of a router: its MAC, its EUI-64 link-local address, the
/// global address it solicits from for global targets (the core link's),
/// and its neighbour cache.
#[derive(Debug)]
pub struct LinkState {
    pub mac: MacAddr,
    pub ll: Ipv6Addr,
    pub global: Option<Ipv6Addr>,
    pub neighbors: Neighbors,
}

impl LinkState {
    /// The link with MAC `mac`, NSs `retrans` apart.
    pub fn new(mac: MacAddr, global: Option<Ipv6Addr>, retrans: Duration) -> Self {
        LinkState {
            mac,
            ll: crate::addr::link_local(mac),
            global,
            neighbors: Neighbors::new(retrans),
        }
    }

    /// An NS for `target` (address resolution): from the global address
    /// for a global target when the link has one, else from the
    /// link-local.
    pub fn solicit(&self, target: Ipv6Addr) -> Vec<u8> {
        let src = match self.global {
            Some(g) if !crate::addr::is_link_local(&target) => g,
            _ => self.ll,
        };
        ns_frame(self.mac, src, target)
    }

    /// The frame to send now for an IPv6 `packet` to `next_hop`: the
    /// packet itself (multicast, or a known neighbour), an NS (resolution
    /// starts, the packet waits), or nothing (it waits behind one).
    pub fn send(&mut self, now: Instant, next_hop: Ipv6Addr, packet: Vec<u8>) -> Option<Vec<u8>> {
        if next_hop.is_multicast() {
            return Some(ethernet(
                self.mac,
                MacAddr::ipv6_multicast(&next_hop),
                &packet,
            ));
        }
        match self.neighbors.resolve(now, next_hop, packet) {
            Resolved::Send(dst, p) => Some(ethernet(self.mac, dst, &p)),
            Resolved::Solicit => Some(self.solicit(next_hop)),
            Resolved::Queued => None,
        }
    }

    /// Record a neighbour: the frames that waited for it.
    pub fn learn(&mut self, ip: Ipv6Addr, mac: MacAddr) -> Vec<Vec<u8>> {
        let own = self.mac;
        self.neighbors
            .learn(ip, mac)
            .into_iter()
            .map(|p| ethernet(own, mac, &p))
            .collect()
    }

    /// The NA answering an NS for `target` that came from `ip_src`
    /// (`src_mac`, with `slla` if it had one): to all-nodes for DAD (source
    /// `::`), else solicited, to the sender; sent from `from`, R flag
    /// `router`, O set, TLLA our MAC.
    pub fn answer_ns(
        &self,
        ip_src: Ipv6Addr,
        src_mac: MacAddr,
        slla: Option<MacAddr>,
        target: Ipv6Addr,
        from: Ipv6Addr,
        router: bool,
    ) -> Vec<u8> {
        let dad = ip_src.is_unspecified();
        let (dst, dst_mac) = if dad {
            (ALL_NODES, MacAddr::ipv6_multicast(&ALL_NODES))
        } else {
            (ip_src, slla.unwrap_or(src_mac))
        };
        let flags = NaFlags {
            router,
            solicited: !dad,
            override_: true,
        };
        na_frame(self.mac, dst_mac, from, dst, target, flags, self.mac)
    }
}

/// Run the neighbour timers of `links` (named `names` in the log): the NSs
/// to send again, by link; the neighbours given up on are logged as
/// `neighbour_unreachable`.
pub fn tick_links(
    links: &mut [LinkState],
    names: &[&str],
    now: Instant,
    log: &Logger,
) -> Vec<(usize, Vec<u8>)> {
    let mut out = Vec::new();
    for (i, link) in links.iter_mut().enumerate() {
        let t = link.neighbors.tick(now);
        out.extend(t.resolicit.into_iter().map(|ip| (i, link.solicit(ip))));
        for (ip, n) in t.unreachable {
            log.event(
                "neighbour_unreachable",
                &[
                    ("link", s(names.get(i).copied().unwrap_or("?"))),
                    ("addr", s(ip)),
                    ("dropped", v(n)),
                ],
            );
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 1, 0, 0, 0, 0, 2);
    const MAC: MacAddr = MacAddr([2, 0, 0, 0, 0, 9]);

    #[test]
    fn resolution_queues_retransmits_and_gives_up() {
        let t0 = Instant::now();
        let r = Duration::from_millis(200);
        let mut n = Neighbors::new(r);
        assert_eq!(n.resolve(t0, A, vec![1]), Resolved::Solicit);
        assert_eq!(n.resolve(t0, A, vec![2]), Resolved::Queued);
        assert_eq!(n.next_deadline(), Some(t0 + r));
        assert_eq!(n.tick(t0 + r).resolicit, vec![A]);
        assert_eq!(n.tick(t0 + 2 * r).resolicit, vec![A]);
        let t = n.tick(t0 + 3 * r);
        assert_eq!(t.unreachable, vec![(A, 2)]);
        assert_eq!(n.next_deadline(), None);
    }

    #[test]
    fn learning_releases_the_queue_bounded() {
        let t0 = Instant::now();
        let mut n = Neighbors::new(Duration::from_secs(1));
        for i in 0..(MAX_QUEUE + 5) {
            n.resolve(t0, A, vec![i as u8]);
        }
        assert_eq!(n.queued(), MAX_QUEUE);
        let q = n.learn(A, MAC);
        assert_eq!(q.len(), MAX_QUEUE);
        assert_eq!(q[0], vec![5]);
        assert_eq!(n.resolve(t0, A, vec![9]), Resolved::Send(MAC, vec![9]));
    }

    #[test]
    fn ns_and_na_frames_decode() {
        let f = ns_frame(MAC, Ipv6Addr::UNSPECIFIED, A);
        let d = Frame::decode(&f);
        assert!(d.findings.is_empty(), "{:?}", d.findings);
        let f = na_frame(
            MAC,
            MAC,
            A,
            A,
            A,
            NaFlags {
                router: true,
                solicited: true,
                override_: true,
            },
            MAC,
        );
        let d = Frame::decode(&f);
        assert!(d.findings.is_empty(), "{:?}", d.findings);
        let opts = d.frame.icmpv6().unwrap().message.options().unwrap();
        assert_eq!(tlla(opts), Some(MAC));
    }
}
