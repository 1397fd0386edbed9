//! The MAP's own Router Advertisements on the access link (RFC 4861 6.2.3
//! with the MAP options of RFC 4140 5). Which MAP options go in (the own
//! one, and with `--relay` those learned from other routers) is the
//! business of [`Discovery`](crate::discovery::Discovery); this module configures it and builds the RA
//! around what it returns.

use std::net::Ipv6Addr;

use wire::icmpv6::Icmpv6Message;
use wire::nd::{LinkLayerAddrRepr, MapOptionRepr, NdOption, PrefixInfoRepr};
use wire::MacAddr;

use crate::addr::ALL_NODES;
use crate::discovery::{DiscoveryConfig, DiscoveryFaults};
use crate::faults::Fault;
use crate::nd::icmp_frame;

use super::config::MapConfig;

/// Router Lifetime of the own RAs, seconds.
pub const ROUTER_LIFETIME: u16 = 1800;
/// Prefix Information lifetimes, seconds.
pub const PREFIX_VALID: u32 = 86_400;
pub const PREFIX_PREFERRED: u32 = 14_400;

/// What [`Discovery`](crate::discovery::Discovery) advertises and relays:
/// the own MAP option (Dist `--map-dist`, Pref `--map-preference`, R set,
/// Valid Lifetime `--map-lifetime`, address `--address`), relaying with
/// `--relay`, and the discovery faults switched on.
pub fn discovery_config(cfg: &MapConfig) -> DiscoveryConfig {
    let f = &cfg.faults;
    DiscoveryConfig {
        own: Some(MapOptionRepr::new(
            cfg.map_dist,
            cfg.map_preference,
            true,
            cfg.map_lifetime,
            cfg.address,
        )),
        relay: cfg.relay,
        faults: DiscoveryFaults {
            relay_without_increment: f.has(Fault::RelayWithoutIncrement),
            relay_without_own_option: f.has(Fault::RelayWithoutOwnOption),
            relay_keeps_larger_dist: f.has(Fault::RelayKeepsLargerDist),
        },
    }
}

/// The own MAP option as the RA faults break it, applied to what
/// discovery emits (which never advertises Dist 0 itself).
fn break_own_option(cfg: &MapConfig, o: &mut MapOptionRepr) {
    let f = &cfg.faults;
    if f.has(Fault::RaDistZero) {
        o.dist = 0;
    } else if f.has(Fault::RaDistTwo) {
        o.dist = 2;
    }
    if f.has(Fault::RaMapOptionLength4) {
        o.length = Some(4);
    }
}

/// The whole RA frame: from `ll` (the access link-local) to ff02::1, hop
/// limit 255, with SLLA, a Prefix Information option per access prefix and
/// the MAP options `maps` (from [`Discovery::advertised`](crate::discovery::Discovery::advertised):
/// the own one first, then the relayed ones).
pub fn router_advert(
    cfg: &MapConfig,
    mac: MacAddr,
    ll: Ipv6Addr,
    maps: &[MapOptionRepr],
) -> Vec<u8> {
    let mut options = vec![NdOption::SourceLinkLayerAddr(LinkLayerAddrRepr {
        length: None,
        addr: mac,
    })];
    for p in &cfg.access_prefixes {
        options.push(NdOption::PrefixInformation(PrefixInfoRepr::new(
            p.addr,
            p.len,
            true,
            true,
            PREFIX_VALID,
            PREFIX_PREFERRED,
        )));
    }
    options.extend(maps.iter().map(|o| {
        let mut o = o.clone();
        if o.address == cfg.address {
            break_own_option(cfg, &mut o);
        }
        NdOption::Map(o)
    }));
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
            router_lifetime: ROUTER_LIFETIME,
            reachable_time: 0,
            retrans_timer: 0,
            options,
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::discovery::{Discovery, DISCOVERY_FAULTS};
    use crate::faults::Faults;
    use std::time::Instant;
    use wire::frame::Frame;

    fn cfg() -> MapConfig {
        MapConfig::for_test(
            "2001:db8:ffff::1".parse().unwrap(),
            "2001:db8:1::/64".parse().unwrap(),
        )
    }

    fn map_options(frame: &[u8]) -> Vec<MapOptionRepr> {
        let d = Frame::decode(frame);
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

    /// The RA of a MAP configured by `c` that heard `received` from one
    /// other router.
    fn ra(c: &MapConfig, received: &[MapOptionRepr]) -> Vec<u8> {
        let mac = MacAddr([2, 0, 0, 0, 0, 3]);
        let mut d = Discovery::new(discovery_config(c));
        let now = Instant::now();
        d.on_router_advert(now, 1, "fe80::6".parse().unwrap(), received);
        router_advert(c, mac, crate::addr::link_local(mac), &d.advertised(now))
    }

    fn other_map(dist: u8) -> MapOptionRepr {
        MapOptionRepr::new(dist, 7, true, 600, "2001:db8:eeee::1".parse().unwrap())
    }

    #[test]
    fn conformant_ra_decodes_cleanly() {
        let f = ra(&cfg(), &[]);
        let d = Frame::decode(&f);
        assert!(d.findings.is_empty(), "{:?}", d.findings);
        let m = map_options(&f);
        assert_eq!(m.len(), 1);
        assert_eq!(
            (m[0].dist, m[0].pref, m[0].r_flag, m[0].valid_lifetime),
            (1, 10, true, 3600)
        );
        assert_eq!(m[0].address, cfg().address);
        assert_eq!(m[0].length, None);
        // Without --relay, options heard from others stay out.
        assert_eq!(map_options(&ra(&cfg(), &[other_map(1)])).len(), 1);
        let mut c = cfg();
        c.relay = true;
        let m = map_options(&ra(&c, &[other_map(1)]));
        assert_eq!((m.len(), m[1].dist, m[1].pref), (2, 2, 7));
    }

    #[test]
    fn ra_faults_break_the_own_option_only() {
        for (fault, rule) in [
            (Fault::RaDistZero, wire::rules::MAP_DIST),
            (Fault::RaMapOptionLength4, wire::rules::MAP_LENGTH),
        ] {
            let mut c = cfg();
            c.relay = true;
            c.faults = Faults::of(&[fault]);
            let d = Frame::decode(&ra(&c, &[other_map(2)]));
            let broken: Vec<_> = d.findings.iter().filter(|f| f.rule == rule).collect();
            assert_eq!(broken.len(), 1, "{fault:?}: {:?}", d.findings);
        }
        let mut c = cfg();
        c.relay = true;
        c.faults = Faults::of(&[Fault::RaDistZero]);
        let m = map_options(&ra(&c, &[other_map(2)]));
        assert_eq!((m[0].dist, m[1].dist), (0, 3), "Dist 0 despite the clamp");
        c.faults = Faults::of(&[Fault::RaDistTwo]);
        let m = map_options(&ra(&c, &[other_map(2)]));
        assert_eq!((m[0].dist, m[1].dist), (2, 3));
    }

    /// Each discovery fault of the MAP's table switches on the flag of the
    /// same name in the discovery module.
    #[test]
    fn discovery_faults_map_to_their_flags() {
        for (name, requirement, _) in DISCOVERY_FAULTS {
            let spec = crate::faults::MAP_FAULTS
                .iter()
                .find(|s| s.name == *name)
                .unwrap_or_else(|| panic!("{name} is not in MAP_FAULTS"));
            assert_eq!(spec.requirement, *requirement);
            let mut c = cfg();
            c.faults = Faults::parse(&[name], crate::faults::MAP_FAULTS).unwrap();
            let mut expected = DiscoveryFaults::default();
            assert!(expected.set(name));
            assert_eq!(discovery_config(&c).faults, expected, "{name}");
        }
        assert_eq!(discovery_config(&cfg()).faults, DiscoveryFaults::default());
    }
}
