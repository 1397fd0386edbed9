//! The MAP's binding cache and the pure rules for a Binding Update:
//! RFC 4140 6.2 with the home agent rules of RFC 6275 it inherits
//! (9.5.1 sequence numbers, 10.3.1 registration, 10.3.2 deletion).

use std::collections::BTreeMap;
use std::net::Ipv6Addr;
use std::time::{Duration, Instant};

use wire::mobility::BindingUpdateRepr;

use crate::addr::Prefix;
use crate::faults::{Fault, Faults};

/// Binding Acknowledgement status codes (RFC 6275 6.1.8).
pub mod status {
    pub const ACCEPTED: u8 = 0;
    pub const ADMIN_PROHIBITED: u8 = 129;
    pub const INSUFFICIENT_RESOURCES: u8 = 130;
    pub const HOME_REGISTRATION_NOT_SUPPORTED: u8 = 131;
    pub const NOT_HOME_SUBNET: u8 = 132;
    pub const NOT_HOME_AGENT: u8 = 133;
    pub const DAD_FAILED: u8 = 134;
    pub const SEQ_OUT_OF_WINDOW: u8 = 135;
}

/// One binding: RCoA → LCoA.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Binding {
    pub rcoa: Ipv6Addr,
    pub coa: Ipv6Addr,
    /// Sequence number of the last accepted BU.
    pub seq: u16,
    /// Granted lifetime, units of 4 s.
    pub lifetime: u16,
    pub expires: Instant,
}

impl Binding {
    pub fn remaining(&self, now: Instant) -> Duration {
        self.expires.saturating_duration_since(now)
    }
}

/// The binding cache, by RCoA.
#[derive(Debug, Default)]
pub struct BindingCache {
    entries: BTreeMap<Ipv6Addr, Binding>,
}

impl BindingCache {
    pub fn get(&self, rcoa: &Ipv6Addr) -> Option<&Binding> {
        self.entries.get(rcoa)
    }

    pub fn insert(&mut self, b: Binding) {
        self.entries.insert(b.rcoa, b);
    }

    pub fn remove(&mut self, rcoa: &Ipv6Addr) -> Option<Binding> {
        self.entries.remove(rcoa)
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = &Binding> {
        self.entries.values()
    }

    /// Remove and return every binding expired at `now`.
    pub fn expire(&mut self, now: Instant) -> Vec<Binding> {
        let gone: Vec<Ipv6Addr> = self
            .entries
            .values()
            .filter(|b| b.expires <= now)
            .map(|b| b.rcoa)
            .collect();
        gone.iter().filter_map(|r| self.entries.remove(r)).collect()
    }

    /// Remove every binding.
    pub fn clear(&mut self) -> Vec<Binding> {
        std::mem::take(&mut self.entries).into_values().collect()
    }

    /// When the next binding expires.
    pub fn next_expiry(&self) -> Option<Instant> {
        self.entries.values().map(|b| b.expires).min()
    }
}

/// `new` is greater than `last` modulo 2^16 (RFC 6275 9.5.1: serial
/// number arithmetic, half the space ahead counts as newer).
pub fn seq_greater(new: u16, last: u16) -> bool {
    let d = new.wrapping_sub(last);
    d != 0 && d < 0x8000
}

/// The lifetime granted (units of 4 s): the one asked for, capped at
/// `max_lifetime_s` (RFC 6275 10.3.1: never more than asked).
pub fn granted_lifetime(requested: u16, max_lifetime_s: u32, faults: &Faults) -> u16 {
    let max_units = u16::try_from(max_lifetime_s / 4).unwrap_or(u16::MAX);
    if faults.has(Fault::LifetimeAboveRequested) {
        return max_units;
    }
    requested.min(max_units)
}

/// What the BU handler extracted from a received Binding Update.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuRequest {
    /// The IPv6 Source Address (the LCoA of a local BU).
    pub src: Ipv6Addr,
    /// The Home Address option's address (the RCoA of a local BU).
    pub hao: Option<Ipv6Addr>,
    /// The Alternate Care-of Address option's address.
    pub alt_coa: Option<Ipv6Addr>,
    pub bu: BindingUpdateRepr,
    /// A mobility option of a type the MAP does not know was present.
    pub unknown_option: bool,
}

/// The MAP's registration policy.
#[derive(Debug, Clone)]
pub struct Policy<'a> {
    /// The prefix RCoAs must be in.
    pub rcoa_prefix: Prefix,
    /// RFC 4140 6.2 valid on-link prefixes; empty: any LCoA.
    pub valid_prefixes: &'a [Prefix],
    pub max_lifetime_s: u32,
    pub max_bindings: usize,
    pub faults: &'a Faults,
}

/// What to do with a Binding Update.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Drop it without an answer.
    Discard(&'static str),
    /// Refuse it with a BA of this status (always sent).
    Reject {
        status: u8,
        seq: u16,
        rcoa: Ipv6Addr,
        coa: Ipv6Addr,
    },
    /// Lifetime 0 for an existing binding: delete it; BA status 0 if A.
    Delete {
        rcoa: Ipv6Addr,
        coa: Ipv6Addr,
        seq: u16,
    },
    /// Register (new: after DAD) or refresh; BA status 0 if A.
    Register {
        rcoa: Ipv6Addr,
        coa: Ipv6Addr,
        seq: u16,
        lifetime: u16,
        new: bool,
    },
}

/// Decide on `req` given the cache and `occupied` (bindings plus
/// registrations waiting for DAD). The checksum, Payload Proto and length
/// of the Mobility Header were checked before.
pub fn validate(req: &BuRequest, cache: &BindingCache, occupied: usize, p: &Policy) -> Verdict {
    let f = p.faults;
    let bu = &req.bu;
    if req.unknown_option && f.has(Fault::UnknownOptionRejected) {
        return Verdict::Discard("unrecognised mobility option");
    }
    let rcoa = req.hao.unwrap_or(req.src);
    let coa = req.alt_coa.unwrap_or(req.src);
    let reject = |status| Verdict::Reject {
        status,
        seq: bu.seq,
        rcoa,
        coa,
    };
    if !bu.m_flag && !f.has(Fault::AcceptWithoutMFlag) {
        if bu.h_flag {
            return reject(status::HOME_REGISTRATION_NOT_SUPPORTED);
        }
        return Verdict::Discard(
            "correspondent registration (no M flag) without authorisation data",
        );
    }
    let skip_prefix_check = req.hao.is_none() && f.has(Fault::AcceptWithoutHao);
    if !skip_prefix_check && (req.hao.is_none() || !p.rcoa_prefix.contains(&rcoa)) {
        return reject(status::NOT_HOME_SUBNET);
    }
    if !p.valid_prefixes.is_empty()
        && !p.valid_prefixes.iter().any(|v| v.contains(&coa))
        && !f.has(Fault::IgnoreValidPrefixes)
    {
        return reject(status::ADMIN_PROHIBITED);
    }
    let existing = cache.get(&rcoa);
    if let Some(b) = existing {
        if !seq_greater(bu.seq, b.seq) && !f.has(Fault::NoSequenceCheck) {
            return Verdict::Reject {
                status: status::SEQ_OUT_OF_WINDOW,
                seq: b.seq,
                rcoa,
                coa,
            };
        }
    }
    if bu.lifetime == 0 {
        return match existing {
            Some(_) => Verdict::Delete {
                rcoa,
                coa,
                seq: bu.seq,
            },
            None => reject(status::NOT_HOME_AGENT),
        };
    }
    if existing.is_none() && occupied >= p.max_bindings {
        return reject(status::INSUFFICIENT_RESOURCES);
    }
    Verdict::Register {
        rcoa,
        coa,
        seq: bu.seq,
        lifetime: granted_lifetime(bu.lifetime, p.max_lifetime_s, f),
        new: existing.is_none(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LCOA: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 1, 0, 0, 0, 0, 2);
    const LCOA2: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 1, 0, 0, 0, 0, 3);
    const FAR: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 9, 0, 0, 0, 0, 2);
    const RCOA: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0xffff, 0, 0, 0, 2, 2);

    fn bu(seq: u16, lifetime: u16) -> BindingUpdateRepr {
        BindingUpdateRepr::local(seq, lifetime)
    }

    fn req(b: BindingUpdateRepr) -> BuRequest {
        BuRequest {
            src: LCOA,
            hao: Some(RCOA),
            alt_coa: None,
            bu: b,
            unknown_option: false,
        }
    }

    fn check(r: &BuRequest, cache: &BindingCache, faults: &[Fault], valid: &[Prefix]) -> Verdict {
        let faults = Faults::of(faults);
        let p = Policy {
            rcoa_prefix: Prefix::slash64(RCOA),
            valid_prefixes: valid,
            max_lifetime_s: 3600,
            max_bindings: 2,
            faults: &faults,
        };
        validate(r, cache, cache.len(), &p)
    }

    fn cache_with(seq: u16) -> BindingCache {
        let mut c = BindingCache::default();
        c.insert(Binding {
            rcoa: RCOA,
            coa: LCOA,
            seq,
            lifetime: 15,
            expires: Instant::now() + Duration::from_secs(60),
        });
        c
    }

    fn status_of(v: &Verdict) -> Option<u8> {
        match v {
            Verdict::Reject { status, .. } => Some(*status),
            Verdict::Register { .. } | Verdict::Delete { .. } => Some(0),
            Verdict::Discard(_) => None,
        }
    }

    #[test]
    fn a_local_bu_registers_with_the_granted_lifetime() {
        let v = check(&req(bu(100, 15)), &BindingCache::default(), &[], &[]);
        assert_eq!(
            v,
            Verdict::Register {
                rcoa: RCOA,
                coa: LCOA,
                seq: 100,
                lifetime: 15,
                new: true
            }
        );
        let v = check(&req(bu(100, 5000)), &BindingCache::default(), &[], &[]);
        assert!(matches!(v, Verdict::Register { lifetime: 900, .. }));
        let v = check(
            &req(bu(100, 15)),
            &BindingCache::default(),
            &[Fault::LifetimeAboveRequested],
            &[],
        );
        assert!(matches!(v, Verdict::Register { lifetime: 900, .. }));
    }

    #[test]
    fn status_codes() {
        let empty = BindingCache::default();
        // H without M: 131; neither: silent.
        let mut b = bu(1, 15);
        b.m_flag = false;
        assert_eq!(status_of(&check(&req(b.clone()), &empty, &[], &[])), None);
        assert_eq!(
            status_of(&check(
                &req(b.clone()),
                &empty,
                &[Fault::AcceptWithoutMFlag],
                &[]
            )),
            Some(0)
        );
        b.h_flag = true;
        assert_eq!(status_of(&check(&req(b), &empty, &[], &[])), Some(131));
        // No HAO / RCoA outside the MAP prefix: 132.
        let mut r = req(bu(1, 15));
        r.hao = None;
        assert_eq!(status_of(&check(&r, &empty, &[], &[])), Some(132));
        assert!(matches!(
            check(&r, &empty, &[Fault::AcceptWithoutHao], &[]),
            Verdict::Register { rcoa: LCOA, .. }
        ));
        let mut r = req(bu(1, 15));
        r.hao = Some(FAR);
        assert_eq!(status_of(&check(&r, &empty, &[], &[])), Some(132));
        // Valid on-link prefixes: 129, the Alternate CoA counts.
        let valid = ["2001:db8:1::/64".parse().unwrap()];
        let mut r = req(bu(1, 15));
        assert_eq!(status_of(&check(&r, &empty, &[], &valid)), Some(0));
        r.src = FAR;
        assert_eq!(status_of(&check(&r, &empty, &[], &valid)), Some(129));
        assert_eq!(
            status_of(&check(&r, &empty, &[Fault::IgnoreValidPrefixes], &valid)),
            Some(0)
        );
        r.alt_coa = Some(LCOA2);
        assert!(matches!(
            check(&r, &empty, &[], &valid),
            Verdict::Register { coa: LCOA2, .. }
        ));
        // Cache full: 130 for a new binding only.
        let mut full = cache_with(5);
        full.insert(Binding {
            rcoa: Ipv6Addr::new(0x2001, 0xdb8, 0xffff, 0, 0, 0, 9, 9),
            coa: LCOA2,
            seq: 1,
            lifetime: 1,
            expires: Instant::now(),
        });
        let mut r = req(bu(1, 15));
        r.hao = Some(Ipv6Addr::new(0x2001, 0xdb8, 0xffff, 0, 0, 0, 7, 7));
        assert_eq!(status_of(&check(&r, &full, &[], &[])), Some(130));
        assert_eq!(status_of(&check(&req(bu(6, 15)), &full, &[], &[])), Some(0));
        // Deregistration of nothing: 133.
        assert_eq!(
            status_of(&check(&req(bu(1, 0)), &empty, &[], &[])),
            Some(133)
        );
        // Unknown options are skipped, unless the fault drops them.
        let mut r = req(bu(1, 15));
        r.unknown_option = true;
        assert_eq!(status_of(&check(&r, &empty, &[], &[])), Some(0));
        assert_eq!(
            status_of(&check(&r, &empty, &[Fault::UnknownOptionRejected], &[])),
            None
        );
    }

    #[test]
    fn sequence_window_and_deregistration() {
        let c = cache_with(100);
        let v = check(&req(bu(100, 15)), &c, &[], &[]);
        assert_eq!(
            v,
            Verdict::Reject {
                status: 135,
                seq: 100,
                rcoa: RCOA,
                coa: LCOA
            }
        );
        assert_eq!(status_of(&check(&req(bu(99, 15)), &c, &[], &[])), Some(135));
        assert_eq!(
            status_of(&check(
                &req(bu(100, 15)),
                &c,
                &[Fault::NoSequenceCheck],
                &[]
            )),
            Some(0)
        );
        assert!(matches!(
            check(&req(bu(101, 15)), &c, &[], &[]),
            Verdict::Register { new: false, .. }
        ));
        assert!(matches!(
            check(&req(bu(101, 0)), &c, &[], &[]),
            Verdict::Delete { seq: 101, .. }
        ));
        assert_eq!(status_of(&check(&req(bu(100, 0)), &c, &[], &[])), Some(135));
    }

    #[test]
    fn sequence_arithmetic_wraps() {
        assert!(seq_greater(1, 0));
        assert!(seq_greater(0, 65535));
        assert!(seq_greater(5, 65000));
        assert!(!seq_greater(65000, 5));
        assert!(!seq_greater(7, 7));
        assert!(seq_greater(0x7fff, 0));
        assert!(!seq_greater(0x8000, 0));
        assert!(!seq_greater(100, 101));
    }

    #[test]
    fn lifetime_clamp() {
        let none = Faults::none();
        assert_eq!(granted_lifetime(15, 3600, &none), 15);
        assert_eq!(granted_lifetime(65535, 3600, &none), 900);
        assert_eq!(granted_lifetime(10, 3, &none), 0);
        assert_eq!(granted_lifetime(65535, u32::MAX, &none), 65535);
        let f = Faults::of(&[Fault::LifetimeAboveRequested]);
        assert_eq!(granted_lifetime(1, 3600, &f), 900);
    }

    #[test]
    fn expiry_removes_due_bindings() {
        let mut c = cache_with(1);
        let now = Instant::now();
        assert!(c.expire(now).is_empty());
        assert_eq!(c.expire(now + Duration::from_secs(61)).len(), 1);
        assert!(c.is_empty());
    }
}
