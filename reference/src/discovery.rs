//! MAP option advertisement and Dynamic MAP Discovery (RFC 4140 5, 7.1.1,
//! 7.1.2, 10), without I/O.
//!
//! A MAP advertises its own MAP option in its Router Advertisements; a
//! router configured to relay (a MAP or an AR) also learns MAP options
//! from the RAs it receives and re-sends each with the Distance field
//! incremented by one. The caller feeds the MAP options of every
//! validated RA to [`Discovery::on_router_advert`] and puts
//! [`Discovery::advertised`] into every RA it sends; [`Discovery::next_change`]
//! tells it when a learned option expires, so that it can send an
//! unsolicited RA (or simply recompute) then.
//!
//! What is learned is kept per advertising router, that is per
//! (interface, router link-local address), because RFC 4140 7.1.1 decides
//! between the options "from two different interfaces" for one MAP: the
//! smallest Distance wins. Keeping the latest option of each router, rather
//! than one per MAP, lets a router that raises its Distance, fails the MAP
//! (lifetime 0) or withdraws it be heard without waiting for an expiry.
//!
//! The [`DiscoveryFaults`] break one requirement each, so that the suite
//! can check that its cases notice (see [`DISCOVERY_FAULTS`]).

use std::collections::BTreeMap;
use std::net::Ipv6Addr;
use std::time::{Duration, Instant};

use wire::nd::MapOptionRepr;

/// How long an option received with Valid Lifetime 0 (the MAP has failed,
/// RFC 4140 10) keeps being relayed, with lifetime 0, before it is dropped.
///
/// The natural hold would be a few RA intervals (so that every MN on the
/// link hears the failure at least once), but this module does not know
/// the caller's interval; 10 s covers three RAs at the fastest intervals
/// the suite's topologies use and is short enough for a case to see the
/// option disappear.
pub const FAILED_MAP_HOLD: Duration = Duration::from_secs(10);

/// The largest value of the 4-bit Dist field.
pub const MAX_DIST: u8 = 15;

/// Deliberate deviations, one requirement each: `(fault name, requirement
/// ID, what the router then does wrong)`.
pub const DISCOVERY_FAULTS: &[(&str, &str, &str)] = &[
    (
        "relay-without-increment",
        "RFC4140-7.1.1-ROUTER-RELAY-INCREMENT-DIST",
        "relays received MAP options with the Distance field unchanged instead of incremented by one",
    ),
    (
        "relay-without-own-option",
        "RFC4140-7.1.1-MAP-SEND-OWN-WITH-RECEIVED",
        "once it relays another MAP's option, the MAP leaves its own option out of its RAs",
    ),
    (
        "relay-keeps-larger-dist",
        "RFC4140-7.1.1-ROUTER-SMALLEST-DIST",
        "of the options for one MAP received on different interfaces, relays the one with the largest Distance",
    ),
];

/// Which of the [`DISCOVERY_FAULTS`] are on. All off by default.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct DiscoveryFaults {
    /// Relayed Dist not incremented (RFC4140-7.1.1-ROUTER-RELAY-INCREMENT-DIST).
    pub relay_without_increment: bool,
    /// Own option omitted once anything is relayed
    /// (RFC4140-7.1.1-MAP-SEND-OWN-WITH-RECEIVED).
    pub relay_without_own_option: bool,
    /// The largest Dist among interfaces is relayed
    /// (RFC4140-7.1.1-ROUTER-SMALLEST-DIST).
    pub relay_keeps_larger_dist: bool,
}

impl DiscoveryFaults {
    /// Turn on the fault called `name` (a name of [`DISCOVERY_FAULTS`]);
    /// false if there is no such fault.
    pub fn set(&mut self, name: &str) -> bool {
        let flag = match name {
            "relay-without-increment" => &mut self.relay_without_increment,
            "relay-without-own-option" => &mut self.relay_without_own_option,
            "relay-keeps-larger-dist" => &mut self.relay_keeps_larger_dist,
            _ => return false,
        };
        *flag = true;
        true
    }
}

/// What the router advertises and whether it relays.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct DiscoveryConfig {
    /// The router's own MAP options: a MAP's own, the MAPs an AR is
    /// configured to advertise (RFC 4140 3.1); advertised first, in this
    /// order.
    pub own: Vec<MapOptionRepr>,
    /// Re-send MAP options learned from received RAs (RFC 4140 7.1.1:
    /// routers "should be configured to re-send the MAP option").
    pub relay: bool,
    pub faults: DiscoveryFaults,
}

/// The latest option one router advertised for one MAP.
#[derive(Debug, Clone)]
struct Learned {
    option: MapOptionRepr,
    /// `None`: the lifetime runs past what `Instant` can represent.
    expires: Option<Instant>,
}

impl Learned {
    fn live_at(&self, now: Instant) -> bool {
        self.expires.is_none_or(|t| t > now)
    }
}

/// An advertising router: (interface index, link-local address).
type Source = (usize, Ipv6Addr);

/// The MAP options a router advertises: its own and the relayed ones.
#[derive(Debug, Clone)]
pub struct Discovery {
    own: Vec<MapOptionRepr>,
    relay: bool,
    faults: DiscoveryFaults,
    /// MAP address → advertising router → its latest option.
    learned: BTreeMap<Ipv6Addr, BTreeMap<Source, Learned>>,
}

impl Discovery {
    /// A router advertising `cfg.own` and relaying if `cfg.relay`.
    ///
    /// A configured Dist of 0 is advertised as 1: RFC 4140 7.1.1 says the
    /// initial Distance "MUST NOT be set to zero" (1 is its default). A Dist
    /// above 15 is advertised as 15, since the field has 4 bits and masking
    /// could otherwise turn, say, 16 into the forbidden 0.
    pub fn new(cfg: DiscoveryConfig) -> Self {
        let mut d = Discovery {
            own: Vec::new(),
            relay: cfg.relay,
            faults: cfg.faults,
            learned: BTreeMap::new(),
        };
        d.set_own(cfg.own);
        d
    }

    /// Replace the own options (an AR's MAP failed or came back: the same
    /// options with another Valid Lifetime), with the Dist rules of
    /// [`new`](Self::new).
    pub fn set_own(&mut self, own: Vec<MapOptionRepr>) {
        self.own = own
            .into_iter()
            .map(|mut o| {
                o.dist = o.dist.clamp(1, MAX_DIST);
                o
            })
            .collect();
    }

    /// The own options, as advertised.
    pub fn own(&self) -> &[MapOptionRepr] {
        &self.own
    }

    /// The MAP options of a validated RA received at `now` on interface
    /// `iface` (an index the caller chooses) from router `from` (its
    /// link-local address).
    ///
    /// Ignored when not relaying. Options for the router's own MAP address
    /// are ignored (its own option is authoritative), and so are invalid
    /// ones: Dist 0 (RFC 4140 5: "MUST NOT be used") or a Length other than
    /// 3 (RFC 4140 5: "MUST be set to 3"). Of the valid options, each
    /// replaces what `from` advertised before for that MAP; a MAP that
    /// `from` advertised before but not in this RA is forgotten for `from`,
    /// since the RA is the router's whole current list. If one RA carries
    /// several options for the same MAP, the one 7.1.1 would choose is kept.
    pub fn on_router_advert(
        &mut self,
        now: Instant,
        iface: usize,
        from: Ipv6Addr,
        options: &[MapOptionRepr],
    ) {
        if !self.relay {
            return;
        }
        self.purge(now);

        let mut carried: BTreeMap<Ipv6Addr, &MapOptionRepr> = BTreeMap::new();
        for o in options {
            let valid = o.dist != 0 && matches!(o.length, None | Some(3));
            if !valid || self.own.iter().any(|own| own.address == o.address) {
                continue;
            }
            match carried.get(&o.address) {
                Some(kept) if !self.prefers(o, kept) => {}
                _ => {
                    carried.insert(o.address, o);
                }
            }
        }
        let source = (iface, from);
        // Withdrawn: no longer in this router's list.
        for (address, by_source) in self.learned.iter_mut() {
            if !carried.contains_key(address) {
                by_source.remove(&source);
            }
        }
        for (address, o) in carried {
            // Lifetime 0: the MAP has failed (RFC 4140 10); relay that for
            // a while, then drop it.
            let hold = match o.valid_lifetime {
                0 => FAILED_MAP_HOLD,
                s => Duration::from_secs(u64::from(s)),
            };
            let learned = Learned {
                option: o.clone(),
                expires: now.checked_add(hold),
            };
            self.learned
                .entry(address)
                .or_default()
                .insert(source, learned);
        }
        self.learned.retain(|_, by_source| !by_source.is_empty());
    }

    /// The MAP options to put into an RA sent at `now` (on any interface):
    /// the own option first (if configured), then one per other MAP
    /// learned and not expired, in the order of their addresses.
    ///
    /// A relayed option is a copy of the chosen received one (the smallest
    /// Dist among the routers that advertise that MAP; on a tie the first
    /// by interface index, then link-local address) with Dist incremented
    /// by one (RFC 4140 7.1.1), saturating at 15, and Length 3. Preference,
    /// R flag, reserved bits, Valid Lifetime and address are as received:
    /// 7.1.1 says "copy the option", so a MAP's preference changes and
    /// failures (lifetime 0) reach the MNs unchanged.
    pub fn advertised(&self, now: Instant) -> Vec<MapOptionRepr> {
        let relayed: Vec<MapOptionRepr> = self
            .learned
            .values()
            .filter_map(|by_source| {
                by_source
                    .values()
                    .filter(|l| l.live_at(now))
                    .map(|l| &l.option)
                    .reduce(|kept, o| if self.prefers(o, kept) { o } else { kept })
            })
            .map(|o| {
                let mut out = o.clone();
                out.length = None;
                if !self.faults.relay_without_increment {
                    out.dist = o.dist.min(MAX_DIST).saturating_add(1).min(MAX_DIST);
                }
                out
            })
            .collect();
        let mut out = Vec::with_capacity(relayed.len() + self.own.len());
        // RFC 4140 7.1.1: a MAP that relays "MUST send its own option,
        // together with the received option, in the same advertisement".
        let omitted = self.faults.relay_without_own_option && !relayed.is_empty();
        if !omitted {
            out.extend(self.own.iter().cloned());
        }
        out.extend(relayed);
        out
    }

    /// The earliest instant after `now` at which [`advertised`](Self::advertised)
    /// changes without further input (a learned option expiring, or one
    /// hidden behind a smaller Dist no longer hiding), for the caller's
    /// timer; `None` if it never does. Expiries that change nothing (an
    /// option shadowed by a smaller Dist that outlives it) are skipped.
    pub fn next_change(&self, now: Instant) -> Option<Instant> {
        let mut expiries: Vec<Instant> = self
            .learned
            .values()
            .flat_map(|by_source| by_source.values())
            .filter_map(|l| l.expires)
            .filter(|&t| t > now)
            .collect();
        expiries.sort();
        expiries.dedup();
        let current = self.advertised(now);
        expiries
            .into_iter()
            .find(|&t| self.advertised(t) != current)
    }

    /// Whether `candidate` should be relayed rather than `kept` (options
    /// for the same MAP): a strictly smaller Dist (RFC 4140 7.1.1), or
    /// strictly larger under the `relay-keeps-larger-dist` fault.
    fn prefers(&self, candidate: &MapOptionRepr, kept: &MapOptionRepr) -> bool {
        if self.faults.relay_keeps_larger_dist {
            candidate.dist > kept.dist
        } else {
            candidate.dist < kept.dist
        }
    }

    /// Forget the options that expired at or before `now`.
    fn purge(&mut self, now: Instant) {
        for by_source in self.learned.values_mut() {
            by_source.retain(|_, l| l.live_at(now));
        }
        self.learned.retain(|_, by_source| !by_source.is_empty());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const OWN: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 1, 0, 0, 0, 0, 1);
    const MAP_A: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0xa, 0, 0, 0, 0, 1);
    const MAP_B: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0xb, 0, 0, 0, 0, 1);
    const R1: Ipv6Addr = Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 1);
    const R2: Ipv6Addr = Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 2);

    fn opt(dist: u8, lifetime: u32, address: Ipv6Addr) -> MapOptionRepr {
        MapOptionRepr::new(dist, 10, true, lifetime, address)
    }

    fn map(faults: DiscoveryFaults) -> Discovery {
        Discovery::new(DiscoveryConfig {
            own: vec![opt(1, 600, OWN)],
            relay: true,
            faults,
        })
    }

    fn ar() -> Discovery {
        Discovery::new(DiscoveryConfig {
            own: vec![],
            relay: true,
            faults: DiscoveryFaults::default(),
        })
    }

    fn secs(s: u64) -> Duration {
        Duration::from_secs(s)
    }

    fn dists(v: &[MapOptionRepr]) -> Vec<(Ipv6Addr, u8)> {
        v.iter().map(|o| (o.address, o.dist)).collect()
    }

    #[test]
    fn a_map_alone_advertises_its_own_option_unchanged() {
        let d = map(DiscoveryFaults::default());
        let now = Instant::now();
        assert_eq!(d.advertised(now), vec![opt(1, 600, OWN)]);
        assert_eq!(d.next_change(now), None);
    }

    #[test]
    fn own_dist_zero_is_advertised_as_one_and_above_fifteen_as_fifteen() {
        for (configured, advertised) in [(0, 1), (3, 3), (15, 15), (16, 15), (255, 15)] {
            let d = Discovery::new(DiscoveryConfig {
                own: vec![opt(configured, 600, OWN)],
                ..DiscoveryConfig::default()
            });
            assert_eq!(d.advertised(Instant::now())[0].dist, advertised);
        }
    }

    #[test]
    fn no_relay_ignores_received_options() {
        let mut d = Discovery::new(DiscoveryConfig {
            own: vec![opt(1, 600, OWN)],
            relay: false,
            faults: DiscoveryFaults::default(),
        });
        let now = Instant::now();
        d.on_router_advert(now, 0, R1, &[opt(1, 600, MAP_A)]);
        assert_eq!(d.advertised(now), vec![opt(1, 600, OWN)]);
        assert_eq!(d.next_change(now), None);
        let mut plain_ar = Discovery::new(DiscoveryConfig::default());
        plain_ar.on_router_advert(now, 0, R1, &[opt(1, 600, MAP_A)]);
        assert!(plain_ar.advertised(now).is_empty());
    }

    #[test]
    fn relayed_option_is_a_copy_with_dist_plus_one_and_own_first() {
        let mut d = map(DiscoveryFaults::default());
        let now = Instant::now();
        let mut received = MapOptionRepr::new(2, 7, false, 300, MAP_A);
        received.reserved = 0x15;
        received.length = Some(3);
        d.on_router_advert(now, 1, R1, &[received.clone()]);
        let out = d.advertised(now);
        let mut expected = received;
        expected.dist = 3;
        expected.length = None;
        assert_eq!(out, vec![opt(1, 600, OWN), expected]);
    }

    #[test]
    fn an_ar_relays_without_an_own_option() {
        let mut d = ar();
        let now = Instant::now();
        d.on_router_advert(now, 0, R1, &[opt(1, 600, MAP_A)]);
        assert_eq!(d.advertised(now), vec![opt(2, 600, MAP_A)]);
    }

    #[test]
    fn dist_saturates_at_fifteen() {
        let mut d = ar();
        let now = Instant::now();
        d.on_router_advert(now, 0, R1, &[opt(14, 600, MAP_A), opt(15, 600, MAP_B)]);
        assert_eq!(dists(&d.advertised(now)), vec![(MAP_A, 15), (MAP_B, 15)]);
    }

    #[test]
    fn options_for_the_own_address_are_ignored() {
        let mut d = map(DiscoveryFaults::default());
        let now = Instant::now();
        d.on_router_advert(now, 0, R1, &[opt(1, 0, OWN), opt(1, 600, MAP_A)]);
        assert_eq!(dists(&d.advertised(now)), vec![(OWN, 1), (MAP_A, 2)]);
    }

    #[test]
    fn invalid_options_are_ignored() {
        let mut d = ar();
        let now = Instant::now();
        let mut long = opt(1, 600, MAP_B);
        long.length = Some(4);
        let mut short = opt(1, 600, MAP_B);
        short.length = Some(2);
        d.on_router_advert(now, 0, R1, &[opt(0, 600, MAP_A), long, short]);
        assert!(d.advertised(now).is_empty());
        assert_eq!(d.next_change(now), None);
    }

    #[test]
    fn the_smallest_dist_among_interfaces_is_relayed() {
        let mut d = ar();
        let now = Instant::now();
        d.on_router_advert(now, 0, R1, &[opt(4, 600, MAP_A)]);
        d.on_router_advert(now, 1, R2, &[opt(2, 600, MAP_A)]);
        d.on_router_advert(now, 2, R1, &[opt(3, 600, MAP_A)]);
        assert_eq!(dists(&d.advertised(now)), vec![(MAP_A, 3)]);
        // The router on interface 1 now reports a larger Distance: the
        // latest option per router counts, so interface 2's wins.
        d.on_router_advert(now, 1, R2, &[opt(9, 600, MAP_A)]);
        assert_eq!(dists(&d.advertised(now)), vec![(MAP_A, 4)]);
    }

    #[test]
    fn one_option_per_map_in_address_order() {
        let mut d = map(DiscoveryFaults::default());
        let now = Instant::now();
        // Received in reverse order, on two interfaces.
        d.on_router_advert(now, 1, R2, &[opt(1, 600, MAP_B)]);
        d.on_router_advert(now, 0, R1, &[opt(3, 600, MAP_B), opt(2, 600, MAP_A)]);
        assert_eq!(
            dists(&d.advertised(now)),
            vec![(OWN, 1), (MAP_A, 3), (MAP_B, 2)]
        );
        // Deterministic: the same input gives the same output.
        assert_eq!(d.advertised(now), d.clone().advertised(now));
    }

    #[test]
    fn duplicate_options_in_one_ra_keep_the_smallest_dist() {
        let mut d = ar();
        let now = Instant::now();
        d.on_router_advert(
            now,
            0,
            R1,
            &[opt(5, 600, MAP_A), opt(2, 600, MAP_A), opt(3, 600, MAP_A)],
        );
        assert_eq!(dists(&d.advertised(now)), vec![(MAP_A, 3)]);
    }

    #[test]
    fn a_map_missing_from_the_next_ra_of_the_same_router_is_withdrawn() {
        let mut d = ar();
        let now = Instant::now();
        d.on_router_advert(now, 0, R1, &[opt(1, 600, MAP_A), opt(1, 600, MAP_B)]);
        d.on_router_advert(now, 1, R2, &[opt(3, 600, MAP_B)]);
        d.on_router_advert(now + secs(1), 0, R1, &[opt(1, 600, MAP_A)]);
        // MAP_B is still heard from R2 on interface 1, with its Distance.
        assert_eq!(
            dists(&d.advertised(now + secs(1))),
            vec![(MAP_A, 2), (MAP_B, 4)]
        );
        // An RA with no MAP option withdraws all of that router's MAPs.
        d.on_router_advert(now + secs(2), 0, R1, &[]);
        assert_eq!(dists(&d.advertised(now + secs(2))), vec![(MAP_B, 4)]);
        // The same link-local on another interface is another router.
        d.on_router_advert(now + secs(3), 0, R2, &[]);
        assert_eq!(dists(&d.advertised(now + secs(3))), vec![(MAP_B, 4)]);
        // An invalid option does not keep the entry alive either.
        d.on_router_advert(now + secs(4), 1, R2, &[opt(0, 600, MAP_B)]);
        assert!(d.advertised(now + secs(4)).is_empty());
    }

    #[test]
    fn learned_options_expire_after_their_valid_lifetime() {
        let mut d = map(DiscoveryFaults::default());
        let t0 = Instant::now();
        d.on_router_advert(t0, 0, R1, &[opt(1, 30, MAP_A), opt(1, 60, MAP_B)]);
        assert_eq!(d.next_change(t0), Some(t0 + secs(30)));
        assert_eq!(d.advertised(t0 + secs(29)).len(), 3);
        assert_eq!(
            dists(&d.advertised(t0 + secs(30))),
            vec![(OWN, 1), (MAP_B, 2)]
        );
        assert_eq!(d.next_change(t0 + secs(30)), Some(t0 + secs(60)));
        assert_eq!(dists(&d.advertised(t0 + secs(60))), vec![(OWN, 1)]);
        assert_eq!(d.next_change(t0 + secs(60)), None);
        // A refresh restarts the lifetime.
        d.on_router_advert(t0 + secs(20), 0, R1, &[opt(1, 30, MAP_A)]);
        assert_eq!(d.next_change(t0 + secs(20)), Some(t0 + secs(50)));
    }

    #[test]
    fn next_change_skips_expiries_hidden_behind_a_smaller_dist() {
        let mut d = ar();
        let t0 = Instant::now();
        d.on_router_advert(t0, 0, R1, &[opt(1, 100, MAP_A)]);
        d.on_router_advert(t0, 1, R2, &[opt(5, 10, MAP_A)]);
        // R2's option expiring at 10 s changes nothing; R1's at 100 s does.
        assert_eq!(d.next_change(t0), Some(t0 + secs(100)));
        // The other way round, the larger Dist shows through at 10 s.
        let mut d = ar();
        d.on_router_advert(t0, 0, R1, &[opt(1, 10, MAP_A)]);
        d.on_router_advert(t0, 1, R2, &[opt(5, 100, MAP_A)]);
        assert_eq!(d.next_change(t0), Some(t0 + secs(10)));
        assert_eq!(dists(&d.advertised(t0 + secs(10))), vec![(MAP_A, 6)]);
    }

    #[test]
    fn a_failed_map_is_relayed_with_lifetime_zero_for_the_hold_time() {
        let mut d = map(DiscoveryFaults::default());
        let t0 = Instant::now();
        d.on_router_advert(t0, 0, R1, &[opt(1, 600, MAP_A)]);
        let t1 = t0 + secs(5);
        d.on_router_advert(t1, 0, R1, &[opt(1, 0, MAP_A)]);
        assert_eq!(d.advertised(t1), vec![opt(1, 600, OWN), opt(2, 0, MAP_A)]);
        assert_eq!(d.next_change(t1), Some(t1 + FAILED_MAP_HOLD));
        assert_eq!(
            d.advertised(t1 + FAILED_MAP_HOLD - Duration::from_millis(1))[1].valid_lifetime,
            0
        );
        assert_eq!(d.advertised(t1 + FAILED_MAP_HOLD), vec![opt(1, 600, OWN)]);
        // Purged on the next input.
        d.on_router_advert(t1 + FAILED_MAP_HOLD, 1, R2, &[]);
        assert!(d.learned.is_empty());
    }

    #[test]
    fn a_huge_lifetime_never_expires_without_overflow() {
        let mut d = ar();
        let now = Instant::now();
        d.on_router_advert(now, 0, R1, &[opt(1, u32::MAX, MAP_A)]);
        assert_eq!(d.advertised(now).len(), 1);
        assert_eq!(d.advertised(now + secs(1 << 20)).len(), 1);
    }

    #[test]
    fn fault_relay_without_increment_keeps_the_received_dist() {
        let mut good = map(DiscoveryFaults::default());
        let mut bad = map(DiscoveryFaults {
            relay_without_increment: true,
            ..DiscoveryFaults::default()
        });
        let now = Instant::now();
        for d in [&mut good, &mut bad] {
            d.on_router_advert(now, 0, R1, &[opt(2, 600, MAP_A)]);
        }
        assert_eq!(dists(&good.advertised(now)), vec![(OWN, 1), (MAP_A, 3)]);
        assert_eq!(dists(&bad.advertised(now)), vec![(OWN, 1), (MAP_A, 2)]);
    }

    #[test]
    fn fault_relay_without_own_option_drops_it_once_something_is_relayed() {
        let mut d = map(DiscoveryFaults {
            relay_without_own_option: true,
            ..DiscoveryFaults::default()
        });
        let t0 = Instant::now();
        assert_eq!(dists(&d.advertised(t0)), vec![(OWN, 1)]);
        d.on_router_advert(t0, 0, R1, &[opt(1, 30, MAP_A)]);
        assert_eq!(dists(&d.advertised(t0)), vec![(MAP_A, 2)]);
        // The own option comes back when nothing is relayed any more, and
        // next_change sees that too.
        assert_eq!(d.next_change(t0), Some(t0 + secs(30)));
        assert_eq!(dists(&d.advertised(t0 + secs(30))), vec![(OWN, 1)]);
    }

    #[test]
    fn fault_relay_keeps_larger_dist_chooses_the_largest() {
        let mut good = ar();
        let mut bad = Discovery::new(DiscoveryConfig {
            own: vec![],
            relay: true,
            faults: DiscoveryFaults {
                relay_keeps_larger_dist: true,
                ..DiscoveryFaults::default()
            },
        });
        let now = Instant::now();
        for d in [&mut good, &mut bad] {
            d.on_router_advert(now, 0, R1, &[opt(2, 600, MAP_A)]);
            d.on_router_advert(now, 1, R2, &[opt(6, 600, MAP_A)]);
            d.on_router_advert(now, 2, R2, &[opt(4, 600, MAP_A)]);
        }
        assert_eq!(dists(&good.advertised(now)), vec![(MAP_A, 3)]);
        assert_eq!(dists(&bad.advertised(now)), vec![(MAP_A, 7)]);
    }

    #[test]
    fn faults_are_set_by_name_and_listed_with_their_requirements() {
        let mut f = DiscoveryFaults::default();
        assert!(!f.set("no-such-fault"));
        assert_eq!(f, DiscoveryFaults::default());
        for (name, requirement, description) in DISCOVERY_FAULTS {
            let mut one = DiscoveryFaults::default();
            assert!(one.set(name), "{name}");
            assert_ne!(one, DiscoveryFaults::default(), "{name}");
            assert!(requirement.starts_with("RFC4140-7.1.1-"), "{requirement}");
            assert!(!description.is_empty());
            assert!(f.set(name));
        }
        assert_eq!(
            f,
            DiscoveryFaults {
                relay_without_increment: true,
                relay_without_own_option: true,
                relay_keeps_larger_dist: true,
            }
        );
    }
}
