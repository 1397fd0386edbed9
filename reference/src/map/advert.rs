//! The MAP's own Router Advertisements on the access link (RFC 4861 6.2.3
//! with the MAP option of RFC 4140 5).

use std::net::Ipv6Addr;

use wire::icmpv6::Icmpv6Message;
use wire::nd::{LinkLayerAddrRepr, MapOptionRepr, NdOption, PrefixInfoRepr};
use wire::MacAddr;

use crate::addr::ALL_NODES;
use crate::faults::Fault;
use crate::nd::icmp_frame;

use super::config::MapConfig;

/// Router Lifetime of the own RAs, seconds.
pub const ROUTER_LIFETIME: u16 = 1800;
/// Prefix Information lifetimes, seconds.
pub const PREFIX_VALID: u32 = 86_400;
pub const PREFIX_PREFERRED: u32 = 14_400;

/// The MAP option the MAP advertises for itself.
pub fn own_map_option(cfg: &MapConfig) -> MapOptionRepr {
    let f = &cfg.faults;
    let dist = if f.has(Fault::RaDistZero) {
        0
    } else if f.has(Fault::RaDistTwo) {
        2
    } else {
        cfg.map_dist
    };
    let mut o = MapOptionRepr::new(
        dist,
        cfg.map_preference,
        true,
        cfg.map_lifetime,
        cfg.address,
    );
    if f.has(Fault::RaMapOptionLength4) {
        o.length = Some(4);
    }
    o
}

/// The whole RA frame: from `ll` (the access link-local) to ff02::1, hop
/// limit 255, with SLLA, a Prefix Information option per access prefix,
/// the own MAP option and then the `relayed` ones.
pub fn router_advert(
    cfg: &MapConfig,
    mac: MacAddr,
    ll: Ipv6Addr,
    relayed: &[MapOptionRepr],
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
    options.push(NdOption::Map(own_map_option(cfg)));
    options.extend(
        relayed
            .iter()
            .filter(|o| o.address != cfg.address)
            .cloned()
            .map(NdOption::Map),
    );
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
    use crate::faults::Faults;
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

    #[test]
    fn conformant_ra_decodes_cleanly() {
        let mac = MacAddr([2, 0, 0, 0, 0, 3]);
        let f = router_advert(&cfg(), mac, crate::addr::link_local(mac), &[]);
        let d = Frame::decode(&f);
        assert!(d.findings.is_empty(), "{:?}", d.findings);
        let m = map_options(&f);
        assert_eq!(m.len(), 1);
        assert_eq!(
            (m[0].dist, m[0].pref, m[0].r_flag, m[0].valid_lifetime),
            (1, 10, true, 3600)
        );
        assert_eq!(m[0].length, None);
    }

    #[test]
    fn ra_faults_break_the_option() {
        let mac = MacAddr([2, 0, 0, 0, 0, 3]);
        let ll = crate::addr::link_local(mac);
        for (fault, rule) in [
            (Fault::RaDistZero, wire::rules::MAP_DIST),
            (Fault::RaMapOptionLength4, wire::rules::MAP_LENGTH),
        ] {
            let mut c = cfg();
            c.faults = Faults::of(&[fault]);
            let d = Frame::decode(&router_advert(&c, mac, ll, &[]));
            assert!(
                d.findings.iter().any(|f| f.rule == rule),
                "{fault:?}: {:?}",
                d.findings
            );
        }
        let mut c = cfg();
        c.faults = Faults::of(&[Fault::RaDistTwo]);
        assert_eq!(map_options(&router_advert(&c, mac, ll, &[]))[0].dist, 2);
    }
}
