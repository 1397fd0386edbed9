//! MAP failure detection (RFC 4140 10) without I/O: ICMPv6 echo requests
//! to each probed MAP, one per interval; once one goes unanswered the
//! prober turns aggressive (a probe every interval/4) until `retries`
//! probes in a row went unanswered, and the MAP counts as failed. Failed
//! MAPs are still probed every interval: an answer brings them back.
//!
//! The caller sends the probes [`Prober::due`] asks for, feeds it the
//! echo replies that count ([`Prober::on_reply`]: the AR decides first
//! whether an unprotected reply counts) and acts on the [`Change`]s.

use std::net::Ipv6Addr;
use std::time::{Duration, Instant};

/// The Identifier of the AR's probes.
pub const PROBE_IDENT: u16 = 0x4852;

/// A probed MAP's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Health {
    Alive,
    Failed,
}

impl Health {
    pub fn name(self) -> &'static str {
        match self {
            Health::Alive => "alive",
            Health::Failed => "failed",
        }
    }
}

/// A MAP changed state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Change {
    pub map: Ipv6Addr,
    pub health: Health,
}

/// One probed MAP.
#[derive(Debug, Clone)]
pub struct Target {
    pub map: Ipv6Addr,
    pub health: Health,
    /// Unanswered probes in a row.
    pub misses: u32,
    /// Probes sent and answered.
    pub sent: u64,
    pub answered: u64,
    /// The sequence number of the probe awaiting its answer.
    outstanding: Option<u16>,
    seq: u16,
    last_sent: Option<Instant>,
    next: Instant,
}

/// What [`Prober::on_reply`] made of an echo reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reply {
    /// The answer to the outstanding probe; the MAP changed state if
    /// `Some`.
    Answered(Option<Change>),
    /// Not from a probed MAP, not the AR's identifier, or not the latest
    /// probe (a late answer).
    Unexpected,
}

/// The failure detector.
#[derive(Debug, Clone)]
pub struct Prober {
    targets: Vec<Target>,
    interval: Duration,
    retries: u32,
}

impl Prober {
    /// Probing `maps` every `interval` from `now` on; a MAP fails after
    /// `retries` (at least 1) unanswered probes in a row.
    pub fn new(maps: &[Ipv6Addr], interval: Duration, retries: u32, now: Instant) -> Self {
        Prober {
            targets: maps
                .iter()
                .map(|&map| Target {
                    map,
                    health: Health::Alive,
                    misses: 0,
                    sent: 0,
                    answered: 0,
                    outstanding: None,
                    seq: 0,
                    last_sent: None,
                    next: now,
                })
                .collect(),
            interval,
            retries: retries.max(1),
        }
    }

    pub fn targets(&self) -> &[Target] {
        &self.targets
    }

    /// The state of `map`, if probed.
    pub fn health(&self, map: &Ipv6Addr) -> Option<Health> {
        self.targets
            .iter()
            .find(|t| t.map == *map)
            .map(|t| t.health)
    }

    /// At `now`: the probes to send (MAP, sequence number) and the MAPs
    /// that just failed (their previous probe was the `retries`-th
    /// unanswered one in a row).
    pub fn due(&mut self, now: Instant) -> (Vec<(Ipv6Addr, u16)>, Vec<Change>) {
        let mut probes = Vec::new();
        let mut changes = Vec::new();
        for t in &mut self.targets {
            if t.next > now {
                continue;
            }
            if t.outstanding.take().is_some() {
                t.misses = t.misses.saturating_add(1);
                if t.health == Health::Alive && t.misses >= self.retries {
                    t.health = Health::Failed;
                    changes.push(Change {
                        map: t.map,
                        health: Health::Failed,
                    });
                }
            }
            t.seq = t.seq.wrapping_add(1);
            t.outstanding = Some(t.seq);
            t.sent += 1;
            t.last_sent = Some(now);
            let aggressive = t.health == Health::Alive && t.misses > 0;
            t.next = now
                + if aggressive {
                    self.interval / 4
                } else {
                    self.interval
                };
            probes.push((t.map, t.seq));
        }
        (probes, changes)
    }

    /// An echo reply from `from` with `ident` and `seq`, received at
    /// `now`, that counts (the caller checked its protection).
    pub fn on_reply(&mut self, now: Instant, from: Ipv6Addr, ident: u16, seq: u16) -> Reply {
        let _ = now;
        let Some(t) = self.targets.iter_mut().find(|t| t.map == from) else {
            return Reply::Unexpected;
        };
        if ident != PROBE_IDENT || t.outstanding != Some(seq) {
            return Reply::Unexpected;
        }
        t.outstanding = None;
        t.misses = 0;
        t.answered += 1;
        if let Some(sent) = t.last_sent {
            // Back to the normal pace after an aggressive probe.
            t.next = sent + self.interval;
        }
        if t.health == Health::Failed {
            t.health = Health::Alive;
            return Reply::Answered(Some(Change {
                map: t.map,
                health: Health::Alive,
            }));
        }
        Reply::Answered(None)
    }

    /// When [`due`](Self::due) next has something to do.
    pub fn next_deadline(&self) -> Option<Instant> {
        self.targets.iter().map(|t| t.next).min()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAP: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0xffff, 0, 0, 0, 0, 1);
    const OTHER: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0xffff, 0, 0, 0, 0, 2);

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    /// alive → missed → aggressive → failed → recovered, on a fake clock.
    #[test]
    fn the_whole_life_of_a_map() {
        let t0 = Instant::now();
        let mut p = Prober::new(&[MAP], ms(1000), 3, t0);
        // Alive: one probe per interval, each answered.
        let (probes, changes) = p.due(t0);
        assert_eq!((probes, changes), (vec![(MAP, 1)], vec![]));
        assert_eq!(p.due(t0 + ms(999)), (vec![], vec![]));
        assert_eq!(
            p.on_reply(t0 + ms(10), MAP, PROBE_IDENT, 1),
            Reply::Answered(None)
        );
        assert_eq!(p.next_deadline(), Some(t0 + ms(1000)));
        let (probes, _) = p.due(t0 + ms(1000));
        assert_eq!(probes, vec![(MAP, 2)]);
        // Missed: probe 2 goes unanswered; from now on every 250 ms.
        let (probes, changes) = p.due(t0 + ms(2000));
        assert_eq!((probes, changes), (vec![(MAP, 3)], vec![]));
        assert_eq!(p.targets()[0].misses, 1);
        assert_eq!(p.next_deadline(), Some(t0 + ms(2250)));
        let (probes, changes) = p.due(t0 + ms(2250));
        assert_eq!((probes, changes), (vec![(MAP, 4)], vec![]));
        assert_eq!(p.health(&MAP), Some(Health::Alive));
        // The third miss in a row: failed.
        let (probes, changes) = p.due(t0 + ms(2500));
        assert_eq!(probes, vec![(MAP, 5)]);
        assert_eq!(
            changes,
            vec![Change {
                map: MAP,
                health: Health::Failed
            }]
        );
        assert_eq!(p.health(&MAP), Some(Health::Failed));
        // Failed: probed at the normal pace, no second failure.
        assert_eq!(p.next_deadline(), Some(t0 + ms(3500)));
        let (probes, changes) = p.due(t0 + ms(3500));
        assert_eq!((probes, changes), (vec![(MAP, 6)], vec![]));
        // A late answer (to probe 5) does not count.
        assert_eq!(
            p.on_reply(t0 + ms(3600), MAP, PROBE_IDENT, 5),
            Reply::Unexpected
        );
        // Recovered: the answer to the latest probe.
        assert_eq!(
            p.on_reply(t0 + ms(3600), MAP, PROBE_IDENT, 6),
            Reply::Answered(Some(Change {
                map: MAP,
                health: Health::Alive
            }))
        );
        assert_eq!(p.targets()[0].misses, 0);
        assert_eq!(p.next_deadline(), Some(t0 + ms(4500)));
        assert_eq!(p.targets()[0].sent, 6);
        assert_eq!(p.targets()[0].answered, 2);
    }

    #[test]
    fn an_answer_during_the_aggressive_phase_resets_the_count() {
        let t0 = Instant::now();
        let mut p = Prober::new(&[MAP], ms(1000), 3, t0);
        p.due(t0);
        p.due(t0 + ms(1000)); // miss 1
        p.due(t0 + ms(1250)); // miss 2
        assert_eq!(p.targets()[0].misses, 2);
        assert_eq!(
            p.on_reply(t0 + ms(1300), MAP, PROBE_IDENT, 3),
            Reply::Answered(None)
        );
        assert_eq!(p.targets()[0].misses, 0);
        assert_eq!(p.next_deadline(), Some(t0 + ms(2250)));
        let (_, changes) = p.due(t0 + ms(2250));
        assert!(changes.is_empty());
    }

    #[test]
    fn replies_that_do_not_match_are_ignored() {
        let t0 = Instant::now();
        let mut p = Prober::new(&[MAP, OTHER], ms(1000), 1, t0);
        let (probes, _) = p.due(t0);
        assert_eq!(probes, vec![(MAP, 1), (OTHER, 1)]);
        for (from, ident, seq) in [
            (MAP, PROBE_IDENT ^ 1, 1),
            (MAP, PROBE_IDENT, 2),
            (Ipv6Addr::LOCALHOST, PROBE_IDENT, 1),
        ] {
            assert_eq!(p.on_reply(t0, from, ident, seq), Reply::Unexpected);
        }
        assert_eq!(p.on_reply(t0, OTHER, PROBE_IDENT, 1), Reply::Answered(None));
        // One retry: MAP fails at the next probe, OTHER does not.
        let (_, changes) = p.due(t0 + ms(1000));
        assert_eq!(
            changes,
            vec![Change {
                map: MAP,
                health: Health::Failed
            }]
        );
        assert_eq!(p.health(&OTHER), Some(Health::Alive));
        assert_eq!(p.health(&Ipv6Addr::LOCALHOST), None);
    }

    #[test]
    fn nothing_to_probe_no_deadline() {
        let mut p = Prober::new(&[], ms(1000), 3, Instant::now());
        assert_eq!(p.next_deadline(), None);
        assert_eq!(p.due(Instant::now()), (vec![], vec![]));
    }
}
