//! The MAP's own Router Advertisements on the access link: the shared RA
//! of [`ra`](crate::ra) with the MAP's own option first. Which MAP options
//! go in (the own one, and with `--relay` those learned from other
//! routers) is the business of [`Discovery`](crate::discovery::Discovery);
//! this module configures it and applies the `ra-*` faults.

use std::net::Ipv6Addr;

use wire::nd::MapOptionRepr;
use wire::MacAddr;

use crate::discovery::DiscoveryConfig;
use crate::faults::Fault;
use crate::ra::{self, OwnOptionFaults};

use super::config::MapConfig;

/// What [`Discovery`](crate::discovery::Discovery) advertises and relays:
/// the own MAP option (Dist `--map-dist`, Pref `--map-preference`, R set,
/// Valid Lifetime `--map-lifetime`, address `--address`), relaying with
/// `--relay`, and the discovery faults switched on.
pub fn discovery_config(cfg: &MapConfig) -> DiscoveryConfig {
    DiscoveryConfig {
        own: vec![MapOptionRepr::new(
            cfg.map_dist,
            cfg.map_preference,
            true,
            cfg.map_lifetime,
            cfg.address,
        )],
        relay: cfg.relay,
        faults: ra::discovery_faults(&cfg.faults),
    }
}

/// How the `ra-*` faults break the own option.
fn own_option_faults(cfg: &MapConfig) -> OwnOptionFaults {
    let f = &cfg.faults;
    OwnOptionFaults {
        dist_zero: f.has(Fault::RaDistZero),
        dist_two: f.has(Fault::RaDistTwo),
        length_4: f.has(Fault::RaMapOptionLength4),
    }
}

/// The whole RA frame (see [`ra::router_advert`]): the access prefixes,
/// and the MAP options `maps` (from
/// [`Discovery::advertised`](crate::discovery::Discovery::advertised): the
/// own one first, then the relayed ones) with the own one as the faults
/// break it.
pub fn router_advert(
    cfg: &MapConfig,
    mac: MacAddr,
    ll: Ipv6Addr,
    maps: &[MapOptionRepr],
) -> Vec<u8> {
    let faults = own_option_faults(cfg);
    let maps = maps
        .iter()
        .map(|o| {
            let mut o = o.clone();
            if o.address == cfg.address {
                faults.apply(&mut o);
            }
            o
        })
        .collect();
    ra::router_advert(mac, ll, &cfg.access_prefixes, maps)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::discovery::{Discovery, DiscoveryFaults, DISCOVERY_FAULTS};
    use crate::faults::Faults;
    use std::time::Instant;
    use wire::frame::Frame;
    use wire::nd::NdOption;

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
