//! The MAP options a mobile node has heard (RFC 4140 7.2: stored per MAP
//! address with their fields and expiry) and the choice of a MAP among
//! them (RFC 4140 7.2, 9.1).

use std::collections::BTreeMap;
use std::net::Ipv6Addr;
use std::time::{Duration, Instant};

use wire::nd::MapOptionRepr;

use crate::faults::{Fault, Faults};

/// One stored MAP option.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredMap {
    pub option: MapOptionRepr,
    /// When its Valid Lifetime runs out.
    pub expires: Instant,
    /// The link (by index) of the RA that last carried it: where the AR
    /// advertising this MAP is (RFC 4140 7.2, a multihomed MN).
    pub link: usize,
}

impl StoredMap {
    /// Usable for a binding at `now`: Valid Lifetime not 0 and not run out
    /// (RFC 4140 7.2: a lifetime of 0 "MUST NOT be selected").
    pub fn valid(&self, now: Instant) -> bool {
        self.option.valid_lifetime > 0 && self.expires > now
    }
}

/// How the faults bend the choice.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Rules {
    /// `nearest-map-chosen`: smallest Distance first.
    pub nearest: bool,
    /// `pref-zero-map-chosen`: preference 0 allowed for new bindings.
    pub pref_zero: bool,
    /// `rcoa-without-r-flag`: MAPs with R clear allowed.
    pub r_clear: bool,
    /// `lowest-pref-chosen`: among equal Distances, the lowest preference.
    pub lowest_pref: bool,
    /// `lifetime-zero-map-chosen`: options with Valid Lifetime 0 usable
    /// (while they are stored).
    pub lifetime_zero: bool,
    /// `lone-pref-zero-map-chosen`: a MAP with preference 0 chosen when no
    /// other qualifies.
    pub lone_pref_zero: bool,
}

impl Rules {
    pub fn of(f: &Faults) -> Rules {
        Rules {
            nearest: f.has(Fault::NearestMapChosen),
            pref_zero: f.has(Fault::PrefZeroMapChosen),
            r_clear: f.has(Fault::RcoaWithoutRFlag),
            lowest_pref: f.has(Fault::LowestPrefChosen),
            lifetime_zero: f.has(Fault::LifetimeZeroMapChosen),
            lone_pref_zero: f.has(Fault::LonePrefZeroMapChosen),
        }
    }
}

/// The MAP options heard on the current link, by MAP address.
#[derive(Debug, Clone, Default)]
pub struct MapStore {
    maps: BTreeMap<Ipv6Addr, StoredMap>,
}

impl MapStore {
    /// Store the options of one RA received at `now`: each replaces what
    /// was stored for its MAP address. Options with Dist 0 (RFC 4140 5:
    /// MUST NOT be used) or a Length other than 3 are ignored.
    pub fn store(&mut self, now: Instant, options: &[MapOptionRepr]) {
        self.store_on(now, 0, options)
    }

    /// [`store`](Self::store) for an RA heard on `link`. One entry per MAP
    /// address: the latest RA wins, link included, so the selection rules
    /// (9.1, 7.2) still compare distinct MAPs and the MAP is reached
    /// through the AR that advertised it last.
    pub fn store_on(&mut self, now: Instant, link: usize, options: &[MapOptionRepr]) {
        for o in options {
            if o.dist == 0 || o.length.is_some_and(|l| l != 3) {
                continue;
            }
            let expires = now + Duration::from_secs(u64::from(o.valid_lifetime));
            self.maps.insert(
                o.address,
                StoredMap {
                    option: o.clone(),
                    expires,
                    link,
                },
            );
        }
    }

    /// Forget every option (movement to another link).
    pub fn clear(&mut self) {
        self.maps.clear();
    }

    /// Forget the options heard on `link` (movement of that interface to
    /// another link); with one link, [`clear`](Self::clear).
    pub fn clear_link(&mut self, link: usize) {
        self.maps.retain(|_, m| m.link != link);
    }

    /// Drop the options whose lifetime ran out; whether any did.
    pub fn expire(&mut self, now: Instant) -> bool {
        let before = self.maps.len();
        self.maps.retain(|_, m| m.expires > now);
        self.maps.len() != before
    }

    /// When [`expire`](Self::expire) next drops something.
    pub fn next_expiry(&self) -> Option<Instant> {
        self.maps.values().map(|m| m.expires).min()
    }

    pub fn get(&self, map: &Ipv6Addr) -> Option<&StoredMap> {
        self.maps.get(map)
    }

    pub fn iter(&self) -> impl Iterator<Item = &StoredMap> {
        self.maps.values()
    }

    pub fn is_empty(&self) -> bool {
        self.maps.is_empty()
    }

    /// The MAP to use at `now`, `current` being the one in use: among the
    /// valid options with R set (an RCoA can be formed, RFC 4140 5) and
    /// preference above 0 (7.2: 0 is not for new bindings), the one with
    /// the largest Distance (9.1: the furthest), ties to the highest
    /// preference (7.2), then the lowest address. With none of those, the
    /// current MAP if it is still valid with preference 0 (its binding can
    /// be refreshed). `None`: plain Mobile IPv6 (7.2).
    pub fn select(
        &self,
        now: Instant,
        rules: Rules,
        current: Option<Ipv6Addr>,
    ) -> Option<&MapOptionRepr> {
        let usable = |m: &&StoredMap| {
            let lifetime_zero = rules.lifetime_zero && m.option.valid_lifetime == 0;
            (m.valid(now) || lifetime_zero) && (m.option.r_flag || rules.r_clear)
        };
        let rank = |m: &&StoredMap| {
            let o = &m.option;
            let dist = if rules.nearest {
                i16::from(o.dist)
            } else {
                -i16::from(o.dist)
            };
            let pref = if rules.lowest_pref {
                -i16::from(o.pref)
            } else {
                i16::from(o.pref)
            };
            (dist, std::cmp::Reverse(pref), o.address)
        };
        let best = self
            .maps
            .values()
            .filter(usable)
            .filter(|m| m.option.pref > 0 || rules.pref_zero)
            .min_by_key(rank);
        // `lone-pref-zero-map-chosen`: preference 0 rather than no MAP.
        let lone = || {
            let pick = self.maps.values().filter(usable).min_by_key(rank);
            pick.filter(|_| rules.lone_pref_zero)
        };
        best.or_else(lone)
            .or_else(|| current.and_then(|c| self.maps.get(&c)).filter(usable))
            .map(|m| &m.option)
    }
}

/// The RCoA for `map` (an R-flagged MAP option's address): the /64 of the
/// address and the interface identifier of `iid_source` (RFC 4140 5, 7.2).
pub fn rcoa(map: Ipv6Addr, iid_source: Ipv6Addr) -> Ipv6Addr {
    let hi = u128::from(map) & (u128::MAX << 64);
    let lo = u128::from(iid_source) & u128::from(u64::MAX);
    Ipv6Addr::from(hi | lo)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn a(n: u16) -> Ipv6Addr {
        Ipv6Addr::new(0x2001, 0xdb8, 0xff00 + n, 0, 0, 0, 0, 1)
    }

    fn opt(n: u16, dist: u8, pref: u8, lifetime: u32) -> MapOptionRepr {
        MapOptionRepr::new(dist, pref, true, lifetime, a(n))
    }

    fn chosen(s: &MapStore, now: Instant, rules: Rules, cur: Option<Ipv6Addr>) -> Option<u16> {
        s.select(now, rules, cur)
            .map(|o| o.address.segments()[2] - 0xff00)
    }

    #[test]
    fn furthest_then_highest_preference() {
        let t = Instant::now();
        let mut s = MapStore::default();
        s.store(t, &[opt(1, 1, 15, 60), opt(2, 3, 5, 60), opt(3, 3, 9, 60)]);
        assert_eq!(chosen(&s, t, Rules::default(), None), Some(3));
        let nearest = Rules {
            nearest: true,
            ..Rules::default()
        };
        assert_eq!(chosen(&s, t, nearest, None), Some(1));
        let lowest = Rules {
            lowest_pref: true,
            ..Rules::default()
        };
        assert_eq!(chosen(&s, t, lowest, None), Some(2));
    }

    #[test]
    fn lifetime_zero_pref_zero_r_clear_and_dist_zero_are_not_chosen() {
        let t = Instant::now();
        let mut s = MapStore::default();
        let mut no_r = opt(4, 9, 9, 60);
        no_r.r_flag = false;
        s.store(
            t,
            &[opt(1, 5, 9, 0), opt(2, 6, 0, 60), no_r, opt(5, 0, 9, 60)],
        );
        assert_eq!(s.iter().count(), 3, "Dist 0 is not stored");
        assert_eq!(chosen(&s, t, Rules::default(), None), None);
        // Preference 0: only to keep the current binding.
        assert_eq!(chosen(&s, t, Rules::default(), Some(a(2))), Some(2));
        let pz = Rules {
            pref_zero: true,
            ..Rules::default()
        };
        assert_eq!(chosen(&s, t, pz, None), Some(2));
        let rc = Rules {
            r_clear: true,
            ..Rules::default()
        };
        assert_eq!(chosen(&s, t, rc, None), Some(4));
        let lz = Rules {
            lifetime_zero: true,
            ..Rules::default()
        };
        assert_eq!(chosen(&s, t, lz, None), Some(1));
        let lone = Rules {
            lone_pref_zero: true,
            ..Rules::default()
        };
        assert_eq!(chosen(&s, t, lone, None), Some(2));
        s.store(t, &[opt(6, 1, 3, 60)]);
        assert_eq!(chosen(&s, t, lone, None), Some(6), "only when alone");
    }

    #[test]
    fn options_expire() {
        let t = Instant::now();
        let mut s = MapStore::default();
        s.store(t, &[opt(1, 1, 9, 10), opt(2, 1, 9, 20)]);
        assert_eq!(s.next_expiry(), Some(t + Duration::from_secs(10)));
        assert!(!s.expire(t + Duration::from_secs(9)));
        assert!(s.expire(t + Duration::from_secs(10)));
        assert_eq!(
            chosen(&s, t + Duration::from_secs(10), Rules::default(), None),
            Some(2)
        );
    }

    #[test]
    fn rcoa_is_map_prefix_and_own_iid() {
        assert_eq!(
            rcoa(
                "2001:db8:ffff::1".parse().unwrap(),
                "fe80::ff:fe00:2".parse().unwrap()
            ),
            "2001:db8:ffff::ff:fe00:2".parse::<Ipv6Addr>().unwrap()
        );
    }
}
