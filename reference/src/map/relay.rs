//! The hook for dynamic MAP discovery (RFC 4140 7.1.1 / 7.1.2): the MAP
//! hands the MAP options of validated RAs it receives to a [`MapRelay`]
//! and includes what the relay returns in its own RAs.
//!
//! The full discovery logic lives in its own module (written separately);
//! plugging it in means implementing [`MapRelay`] for it and passing it to
//! [`Map::with_relay`](super::Map::with_relay). [`PassThrough`] is a
//! minimal stand-in: it keeps the latest option per MAP address until its
//! Valid Lifetime ends and re-advertises it with Dist + 1.

use std::collections::BTreeMap;
use std::net::Ipv6Addr;
use std::time::{Duration, Instant};

use wire::nd::MapOptionRepr;

/// What the MAP needs from a MAP-option relay.
pub trait MapRelay: Send {
    /// MAP options of a validated RA received on `link` from `router`.
    fn on_ra(&mut self, now: Instant, link: usize, router: Ipv6Addr, options: &[MapOptionRepr]);
    /// The MAP options to append to the own RAs, as of `now`.
    fn advertised(&mut self, now: Instant) -> Vec<MapOptionRepr>;
}

/// No relaying (without `--relay`).
#[derive(Debug, Default)]
pub struct NoRelay;

impl MapRelay for NoRelay {
    fn on_ra(&mut self, _: Instant, _: usize, _: Ipv6Addr, _: &[MapOptionRepr]) {}
    fn advertised(&mut self, _: Instant) -> Vec<MapOptionRepr> {
        Vec::new()
    }
}

/// The minimal stand-in relay.
#[derive(Debug)]
pub struct PassThrough {
    own: Ipv6Addr,
    seen: BTreeMap<Ipv6Addr, (MapOptionRepr, Instant)>,
}

impl PassThrough {
    pub fn new(own: Ipv6Addr) -> Self {
        PassThrough {
            own,
            seen: BTreeMap::new(),
        }
    }
}

impl MapRelay for PassThrough {
    fn on_ra(&mut self, now: Instant, _: usize, _: Ipv6Addr, options: &[MapOptionRepr]) {
        for o in options {
            if o.address == self.own || o.length.is_some() || o.dist == 0 {
                continue;
            }
            let until = now + Duration::from_secs(u64::from(o.valid_lifetime));
            self.seen.insert(o.address, (o.clone(), until));
        }
    }

    fn advertised(&mut self, now: Instant) -> Vec<MapOptionRepr> {
        self.seen.retain(|_, (_, until)| *until > now);
        self.seen
            .values()
            .map(|(o, until)| {
                let mut o = o.clone();
                o.dist = o.dist.saturating_add(1).min(15);
                o.valid_lifetime = u32::try_from(until.saturating_duration_since(now).as_secs())
                    .unwrap_or(u32::MAX);
                o
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pass_through_increments_dist_and_expires() {
        let own: Ipv6Addr = "2001:db8:ffff::1".parse().unwrap();
        let other: Ipv6Addr = "2001:db8:eeee::1".parse().unwrap();
        let mut r = PassThrough::new(own);
        let t0 = Instant::now();
        r.on_ra(
            t0,
            1,
            "fe80::1".parse().unwrap(),
            &[
                MapOptionRepr::new(1, 5, true, 10, other),
                MapOptionRepr::new(1, 5, true, 10, own),
            ],
        );
        let a = r.advertised(t0);
        assert_eq!(a.len(), 1);
        assert_eq!((a[0].address, a[0].dist), (other, 2));
        assert!(r.advertised(t0 + Duration::from_secs(11)).is_empty());
    }
}
