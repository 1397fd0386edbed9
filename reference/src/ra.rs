//! Router Advertisements with MAP options, for every router role (RFC 4861
//! 6.2.3 with the MAP option of RFC 4140 5): building them, when to send
//! them ([`Advertiser`]: periodically, on an RS, and when a relayed option
//! changes by itself), and checking the RAs of other routers before their
//! MAP options feed dynamic MAP discovery (RFC 4140 7).
//!
//! Which MAP options go in is the business of
//! [`Discovery`](crate::discovery::Discovery); this module sends them.

use std::net::Ipv6Addr;
use std::time::{Duration, Instant};

use wire::icmpv6::Icmpv6Message;
use wire::nd::{LinkLayerAddrRepr, MapOptionRepr, NdOption, PrefixInfoRepr};
use wire::MacAddr;

use crate::addr::{is_link_local, Prefix, ALL_NODES};
use crate::discovery::{Discovery, DiscoveryConfig, DiscoveryFaults};
use crate::faults::{Fault, Faults};
use crate::log::{s, v, Logger};
use crate::nd::icmp_frame;
use crate::packet::{Rejection, ETH};

/// Router Lifetime of the own RAs, seconds.
pub const ROUTER_LIFETIME: u16 = 1800;
/// Prefix Information lifetimes, seconds.
pub const PREFIX_VALID: u32 = 86_400;
pub const PREFIX_PREFERRED: u32 = 14_400;

/// The discovery faults switched on in `f`.
pub fn discovery_faults(f: &Faults) -> DiscoveryFaults {
    DiscoveryFaults {
        relay_without_increment: f.has(Fault::RelayWithoutIncrement),
        relay_without_own_option: f.has(Fault::RelayWithoutOwnOption),
        relay_keeps_larger_dist: f.has(Fault::RelayKeepsLargerDist),
    }
}

/// How the RA faults break a router's own MAP options, applied to what
/// discovery emits (which never advertises Dist 0 itself).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OwnOptionFaults {
    /// Dist 0 (RFC4140-5-DIST-NOT-ZERO).
    pub dist_zero: bool,
    /// Dist 2 (RFC4140-5-DIST-ONE-SAME-LINK).
    pub dist_two: bool,
    /// Length 4 (RFC4140-5-MAP-OPT-LENGTH).
    pub length_4: bool,
}

impl OwnOptionFaults {
    /// `o` as the faults break it.
    pub fn apply(&self, o: &mut MapOptionRepr) {
        if self.dist_zero {
            o.dist = 0;
        } else if self.dist_two {
            o.dist = 2;
        }
        if self.length_4 {
            o.length = Some(4);
        }
    }
}

/// The whole RA frame: from `ll` (the access link-local, MAC `mac`) to
/// ff02::1, hop limit 255, router lifetime [`ROUTER_LIFETIME`], with SLLA,
/// a Prefix Information option (L, A, [`PREFIX_VALID`],
/// [`PREFIX_PREFERRED`]) per prefix of `prefixes` and the MAP options
/// `maps` in that order.
pub fn router_advert(
    mac: MacAddr,
    ll: Ipv6Addr,
    prefixes: &[Prefix],
    maps: Vec<MapOptionRepr>,
) -> Vec<u8> {
    let mut options = vec![NdOption::SourceLinkLayerAddr(LinkLayerAddrRepr {
        length: None,
        addr: mac,
    })];
    for p in prefixes {
        options.push(NdOption::PrefixInformation(PrefixInfoRepr::new(
            p.addr,
            p.len,
            true,
            true,
            PREFIX_VALID,
            PREFIX_PREFERRED,
        )));
    }
    options.extend(maps.into_iter().map(NdOption::Map));
    router_advert_frame(mac, ll, ROUTER_LIFETIME, 0, options)
}

/// An RA from `mac` and link-local `ll` to all nodes with exactly
/// `options`, Router Lifetime `router_lifetime` (s) and Retrans Timer
/// `retrans_ms`.
pub fn router_advert_frame(
    mac: MacAddr,
    ll: Ipv6Addr,
    router_lifetime: u16,
    retrans_ms: u32,
    options: Vec<NdOption>,
) -> Vec<u8> {
    icmp_frame(
        mac,
        MacAddr::ipv6_multicast(&ALL_NODES),
        ll,
        ALL_NODES,
        255,
        Icmpv6Message::RouterAdvert {
            cur_hop_limit: 64,
            m_flag: false,
            o_flag: false,
            h_flag: false,
            prf: 0,
            reserved: 0,
            router_lifetime,
            reachable_time: 0,
            retrans_timer: retrans_ms,
            options,
        },
    )
}

/// The MAP options among ND `options`.
pub fn map_options(options: &[NdOption]) -> Vec<MapOptionRepr> {
    options
        .iter()
        .filter_map(|o| match o {
            NdOption::Map(m) => Some(m.clone()),
            _ => None,
        })
        .collect()
}

/// An RA another router sent, as the caller received it (its ICMPv6 and
/// ND checks passed: hop limit 255, checksum, no option of length 0).
#[derive(Debug, Clone, Copy)]
pub struct ReceivedRa<'a> {
    /// The caller's index of the link it came on, and its name.
    pub link: usize,
    pub link_name: &'a str,
    /// The RA's source address.
    pub src: Ipv6Addr,
    /// The receiving link's own link-local address.
    pub own_ll: Ipv6Addr,
    pub options: &'a [NdOption],
    /// Whether it came in ESP.
    pub protected: bool,
    /// Whether only ESP-protected RAs may feed the relay (`--protect ra`,
    /// unless the `relay-unauthenticated-ra` fault is on).
    pub require_esp: bool,
}

/// A router's own RAs: the MAP options of [`Discovery`] and the times to
/// send them.
#[derive(Debug, Clone)]
pub struct Advertiser {
    discovery: Discovery,
    relay: bool,
    interval: Duration,
    /// The next periodic RA; `None` when the router does not advertise.
    next_ra: Option<Instant>,
    /// When the advertised options next change by themselves (a relayed
    /// one expiring): an RA goes out then, between the periodic ones.
    change: Option<Instant>,
}

impl Advertiser {
    /// Advertising every `interval` from `now` on (if `advertise`) what
    /// `discovery` says, relaying if it does.
    pub fn new(
        discovery: DiscoveryConfig,
        advertise: bool,
        interval: Duration,
        now: Instant,
    ) -> Self {
        Advertiser {
            relay: discovery.relay,
            discovery: Discovery::new(discovery),
            interval,
            next_ra: advertise.then_some(now),
            change: None,
        }
    }

    pub fn advertises(&self) -> bool {
        self.next_ra.is_some()
    }

    pub fn discovery(&self) -> &Discovery {
        &self.discovery
    }

    /// Replace the own options (a MAP failed or came back); the caller
    /// sends an RA at once.
    pub fn set_own(&mut self, own: Vec<MapOptionRepr>) {
        self.discovery.set_own(own);
    }

    /// Check an RA from another router and, when relaying, learn its MAP
    /// options: its source must be a link-local address other than ours,
    /// and with `require_esp` it must have come in ESP. Logs
    /// `ra_received`.
    pub fn on_router_advert(
        &mut self,
        now: Instant,
        ra: ReceivedRa<'_>,
        log: &Logger,
    ) -> Result<(), Rejection> {
        if !is_link_local(&ra.src) || ra.src == ra.own_ll {
            return Err((
                "RA source is not a link-local address of another router".into(),
                Some(ETH + 8),
            ));
        }
        if ra.require_esp && !ra.protected {
            return Err(("RA without ESP (--protect ra)".into(), None));
        }
        let maps = map_options(ra.options);
        log.event(
            "ra_received",
            &[
                ("link", s(ra.link_name)),
                ("from", s(ra.src)),
                ("map_options", v(maps.len())),
                ("protected", v(ra.protected)),
            ],
        );
        if self.relay {
            self.discovery.on_router_advert(now, ra.link, ra.src, &maps);
            self.note_change(now);
        }
        Ok(())
    }

    /// Is an RA due at `now` (the periodic one, or a relayed option
    /// changed)? Schedules the next periodic one.
    pub fn due(&mut self, now: Instant) -> bool {
        let mut send = self.change.is_some_and(|t| t <= now);
        if let Some(t) = self.next_ra {
            if t <= now {
                send = true;
                let mut next = t + self.interval;
                if next <= now {
                    next = now + self.interval;
                }
                self.next_ra = Some(next);
            }
        }
        send
    }

    /// The MAP options of an RA sent at `now` (own first, then relayed).
    pub fn options(&mut self, now: Instant) -> Vec<MapOptionRepr> {
        let maps = self.discovery.advertised(now);
        self.note_change(now);
        maps
    }

    /// When [`due`](Self::due) next becomes true.
    pub fn next_deadline(&self) -> Option<Instant> {
        [self.next_ra, self.change].into_iter().flatten().min()
    }

    fn note_change(&mut self, now: Instant) {
        self.change = if self.advertises() && self.relay {
            self.discovery.next_change(now)
        } else {
            None
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wire::frame::Frame;

    fn maps_of(frame: &[u8]) -> Vec<MapOptionRepr> {
        let d = Frame::decode(frame);
        map_options(d.frame.icmpv6().unwrap().message.options().unwrap())
    }

    #[test]
    fn ra_carries_slla_prefixes_and_maps_in_order() {
        let mac = MacAddr([2, 0, 0, 0, 0, 3]);
        let m = MapOptionRepr::new(1, 10, true, 3600, "2001:db8::1".parse().unwrap());
        let f = router_advert(
            mac,
            crate::addr::link_local(mac),
            &["2001:db8:1::/64".parse().unwrap()],
            vec![m.clone()],
        );
        let d = Frame::decode(&f);
        assert!(d.findings.is_empty(), "{:?}", d.findings);
        let opts = d.frame.icmpv6().unwrap().message.options().unwrap();
        assert!(matches!(opts[0], NdOption::SourceLinkLayerAddr(_)));
        assert!(matches!(opts[1], NdOption::PrefixInformation(_)));
        assert_eq!(maps_of(&f), vec![m]);
        assert_eq!(d.frame.ipv6_headers().next().unwrap().hop_limit, 255);
    }

    #[test]
    fn own_option_faults() {
        let base = MapOptionRepr::new(1, 10, true, 3600, "2001:db8::1".parse().unwrap());
        let mut o = base.clone();
        OwnOptionFaults::default().apply(&mut o);
        assert_eq!(o, base);
        OwnOptionFaults {
            dist_zero: true,
            length_4: true,
            ..Default::default()
        }
        .apply(&mut o);
        assert_eq!((o.dist, o.length), (0, Some(4)));
    }

    #[test]
    fn advertiser_timing() {
        let t0 = Instant::now();
        let sec = Duration::from_secs(1);
        let mut a = Advertiser::new(DiscoveryConfig::default(), true, sec, t0);
        assert!(a.due(t0));
        assert!(!a.due(t0));
        assert_eq!(a.next_deadline(), Some(t0 + sec));
        assert!(a.due(t0 + sec));
        // Late: the next one is an interval after now.
        assert!(a.due(t0 + 5 * sec));
        assert_eq!(a.next_deadline(), Some(t0 + 6 * sec));
        let mut quiet = Advertiser::new(DiscoveryConfig::default(), false, sec, t0);
        assert!(!quiet.due(t0) && quiet.next_deadline().is_none());
    }

    #[test]
    fn received_ras_are_checked() {
        let t0 = Instant::now();
        let cfg = DiscoveryConfig {
            relay: true,
            ..Default::default()
        };
        let mut a = Advertiser::new(cfg, true, Duration::from_secs(1), t0);
        let ll: Ipv6Addr = "fe80::1".parse().unwrap();
        let other = NdOption::Map(MapOptionRepr::new(
            1,
            10,
            true,
            60,
            "2001:db8::9".parse().unwrap(),
        ));
        let options = [other];
        let ra = ReceivedRa {
            link: 1,
            link_name: "core",
            src: "fe80::2".parse().unwrap(),
            own_ll: ll,
            options: &options,
            protected: false,
            require_esp: false,
        };
        let log = Logger::off();
        let from_self = ReceivedRa { src: ll, ..ra };
        assert!(a.on_router_advert(t0, from_self, &log).is_err());
        let global = ReceivedRa {
            src: "2001:db8::2".parse().unwrap(),
            ..ra
        };
        assert!(a.on_router_advert(t0, global, &log).is_err());
        let plain = ReceivedRa {
            require_esp: true,
            ..ra
        };
        assert!(a.on_router_advert(t0, plain, &log).is_err());
        assert!(a.options(t0).is_empty());
        a.on_router_advert(t0, ra, &log).unwrap();
        assert_eq!(a.options(t0).len(), 1);
        // The relayed option expires: an RA is due then.
        assert!(a.due(t0));
        assert_eq!(a.next_deadline(), Some(t0 + Duration::from_secs(1)));
        assert!(a.due(t0 + Duration::from_secs(60)));
        assert!(a.options(t0 + Duration::from_secs(60)).is_empty());
    }
}
