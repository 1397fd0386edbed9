//! Fault switches: each breaks exactly one requirement on purpose, so the
//! suite can prove it notices (mutation testing).
//!
//! Every role has a table of [`FaultSpec`]s (name, requirement ID,
//! description); `--fault NAME` turns one on and `--list-faults` prints the
//! table. The code tests a switch with [`Faults::has`] at the one place the
//! behaviour lives.

use std::fmt;

use crate::discovery::DISCOVERY_FAULTS;

/// Every fault of every role. A role's table says which ones it knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Fault {
    BaWithoutRh2,
    Rh2HoldsLcoa,
    NoBa,
    AcceptWithoutMFlag,
    IgnoreValidPrefixes,
    RcoaPrefixMismatch,
    NoBindingStored,
    NoDecapsulation,
    DecapsulateUnbound,
    TunnelOuterSourceWrong,
    NoProxyNa,
    NoDad,
    IgnoreDadFailure,
    LifetimeAboveRequested,
    NoSequenceCheck,
    BindingsNeverExpire,
    DeregistrationIgnored,
    NoMhChecksumCheck,
    AcceptWithoutHao,
    UnknownOptionRejected,
    NoForwardOutsideDomain,
    RaDistZero,
    RaDistTwo,
    RaMapOptionLength4,
    AcceptUnprotectedBu,
    AcceptEspReplay,
    BaUnprotected,
    AnswerUnprotectedProbe,
    RelayUnauthenticatedRa,
    RelayWithoutIncrement,
    RelayWithoutOwnOption,
    RelayKeepsLargerDist,
    NoIcvCheck,
    SilentOnShortHeader,
    NoMapOption,
    ProbesUnprotected,
    AcceptUnprotectedReply,
    BuWithoutMFlag,
    BuWithoutAFlag,
    AcceptBaWithoutRh2,
    HaBeforeMapBa,
    HaLifetimeAboveMap,
    NearestMapChosen,
    PrefZeroMapChosen,
    LifetimeZeroMapKept,
    NoReverseTunnel,
    RcoaWithoutRFlag,
    RcoaFromLinkPrefix,
    NoPreviousMapBu,
    AlternateCoaAdded,
    // MN registered with several MAPs (reference/src/mn/extra.rs).
    RcoaAsCoaToOtherMap,
    RcoaAsAlternateCoa,
    OneRcoaForAllMaps,
    SecondMapReplacesFirst,
    // MN MAP selection and option storage (mn-select).
    MapIgnored,
    NoMipv6Fallback,
    LowestPrefChosen,
    LifetimeZeroMapChosen,
    NoHaBuOnMapChange,
    NoFallbackAfterMapLoss,
    MapOptionsNotStored,
    LocalBuHaoLcoa,
    LonePrefZeroMapChosen,
    // MN addressing, RA validation, movement (A2); the MN's `no-dad` is
    // the MAP's `NoDad` switch.
    RaLengthZeroAccepted,
    UnknownRaOptionDropsRa,
    UnknownRaOptionStopsParsing,
    PrefixLengthNot64Used,
    NoLocalBuOnMove,
    RcoaAsCoaToNewMap,
    // MN: ESP between the MN and its MAP (RFC 4140 12, 12.1).
    BuUnprotected,
    AcceptUnprotectedBa,
    AcceptBaReplay,
    NoBaIcvCheck,
    // MN traffic: route optimisation, Home Address option, HoTI (mn/ro.rs).
    RoSourceLcoa,
    RoWithoutHao,
    HaoHoldsRcoa,
    HotiFromRcoa,
    // MN multihoming: the LCoA on the current MAP's link (mn/mod.rs).
    LcoaFromOtherInterface,
}

/// One row of a role's fault table.
#[derive(Debug, Clone, Copy)]
pub struct FaultSpec {
    pub fault: Fault,
    /// The `--fault` name.
    pub name: &'static str,
    /// The requirement it breaks (an ID of `cases/requirements.yaml`).
    pub requirement: &'static str,
    pub description: &'static str,
}

const fn spec(
    fault: Fault,
    name: &'static str,
    requirement: &'static str,
    description: &'static str,
) -> FaultSpec {
    FaultSpec {
        fault,
        name,
        requirement,
        description,
    }
}

/// The row of [`DISCOVERY_FAULTS`] number `i` (name, requirement and
/// description as the discovery module has them) as `fault`.
const fn discovery_spec(fault: Fault, i: usize) -> FaultSpec {
    let (name, requirement, description) = DISCOVERY_FAULTS[i];
    spec(fault, name, requirement, description)
}

/// A fault both the MAP and the AR have.
const RELAY_UNAUTHENTICATED_RA: FaultSpec = spec(
    Fault::RelayUnauthenticatedRa,
    "relay-unauthenticated-ra",
    "RFC4140-7-RA-AUTHENTICATED",
    "with --protect ra, RAs without ESP feed the MAP option relay",
);

/// The MAP's faults.
#[rustfmt::skip]
pub const MAP_FAULTS: &[FaultSpec] = &[
    spec(Fault::BaWithoutRh2, "ba-without-rh2", "RFC4140-6.2-BA-RH2",
        "BAs are sent without the type 2 routing header (destination LCoA, no RCoA)"),
    spec(Fault::Rh2HoldsLcoa, "rh2-holds-lcoa", "RFC4140-6.2-BA-RH2",
        "the BA's type 2 routing header holds the LCoA instead of the RCoA"),
    spec(Fault::NoBa, "no-ba", "RFC4140-6.2-MAP-BA-SUCCESS",
        "no BA for a successful registration with the A flag set"),
    spec(Fault::AcceptWithoutMFlag, "accept-without-m-flag", "RFC4140-4.1-MN-BU-M-A-FLAGS",
        "a BU without the M flag is treated as a MAP registration"),
    spec(Fault::IgnoreValidPrefixes, "ignore-valid-prefixes", "RFC4140-6.2-MAP-VALID-ONLINK-PREFIXES",
        "LCoAs outside the valid on-link prefixes are accepted (no status 129)"),
    spec(Fault::RcoaPrefixMismatch, "rcoa-prefix-mismatch", "RFC4140-5-MAP-PREFIX-CONFIGURED",
        "the MAP takes the /64 after its address's as RCoA prefix, so RCoAs from the advertised prefix get 132"),
    spec(Fault::NoBindingStored, "no-binding-stored", "RFC4140-3.1-MAP-STORE-BINDING",
        "BA status 0 but no binding is kept: no proxy NA, no tunnel"),
    spec(Fault::NoDecapsulation, "no-decapsulation", "RFC4140-6.2-MAP-ACCEPT-TUNNEL",
        "packets tunnelled to the MAP are dropped instead of decapsulated"),
    spec(Fault::DecapsulateUnbound, "decapsulate-unbound", "RFC6275-10.4.5-REVERSE-TUNNEL-CHECK",
        "tunnelled packets are decapsulated whatever their outer source and inner source"),
    spec(Fault::TunnelOuterSourceWrong, "tunnel-outer-source-wrong", "RFC6275-10.4.2-TUNNEL-TO-COA",
        "the outer source of tunnelled packets is the MAP's core link-local address"),
    spec(Fault::NoProxyNa, "no-proxy-na", "RFC6275-10.4.1-PROXY-ND",
        "no unsolicited NA and no NS answers for bound RCoAs"),
    spec(Fault::NoDad, "no-dad", "RFC6275-10.3.1-DAD-BEFORE-BA",
        "new bindings are accepted at once, without DAD for the RCoA"),
    spec(Fault::IgnoreDadFailure, "ignore-dad-failure", "RFC6275-10.3.1-DAD-FAILED-134",
        "a failed DAD for the RCoA still gives a binding and status 0 (not 134)"),
    spec(Fault::LifetimeAboveRequested, "lifetime-above-requested", "RFC6275-10.3.1-GRANTED-LIFETIME",
        "the granted lifetime is --max-lifetime whatever the BU asked for"),
    spec(Fault::NoSequenceCheck, "no-sequence-check", "RFC6275-9.5.1-SEQ-OUT-OF-WINDOW",
        "BUs with a sequence number not greater than the last accepted are accepted (no 135)"),
    spec(Fault::BindingsNeverExpire, "bindings-never-expire", "RFC6275-9.1-EXPIRE-ENTRY",
        "bindings are kept after their lifetime ends"),
    spec(Fault::DeregistrationIgnored, "deregistration-ignored", "RFC6275-10.3.2-DELETE-BINDING",
        "a BU with lifetime 0 is answered with BA 0 but the binding stays"),
    spec(Fault::NoMhChecksumCheck, "no-mh-checksum-check", "RFC6275-9.2-MH-CHECKSUM",
        "Mobility Headers with a wrong checksum are processed"),
    spec(Fault::SilentOnShortHeader, "silent-on-short-header", "RFC6275-9.2-HEADER-LEN-PARAM-PROBLEM",
        "a Mobility Header whose Header Len is too short for its MH Type is discarded without an ICMP Parameter Problem"),
    spec(Fault::AcceptWithoutHao, "accept-without-hao", "RFC6275-10.3.1-NOT-HOME-SUBNET",
        "a BU without a Home Address option binds its source address, skipping the prefix check"),
    spec(Fault::UnknownOptionRejected, "unknown-option-rejected", "RFC6275-6.2.1-SKIP-UNKNOWN-OPTION",
        "a BU with an unrecognised mobility option is silently dropped"),
    spec(Fault::NoForwardOutsideDomain, "no-forward-outside-domain", "RFC4140-8-MAP-FORWARD-NEIGHBOUR-DOMAINS",
        "packets for an RCoA whose CoA is not on the access link are dropped"),
    spec(Fault::RaDistZero, "ra-dist-zero", "RFC4140-5-DIST-NOT-ZERO",
        "the own MAP option is advertised with Dist 0"),
    spec(Fault::RaDistTwo, "ra-dist-two", "RFC4140-5-DIST-ONE-SAME-LINK",
        "the own MAP option is advertised with Dist 2 on the MAP's own link"),
    spec(Fault::RaMapOptionLength4, "ra-map-option-length-4", "RFC4140-5-MAP-OPT-LENGTH",
        "the own MAP option is sent with Length 4 (32 octets)"),
    spec(Fault::AcceptUnprotectedBu, "accept-unprotected-bu", "RFC4140-12.1-BU-AH-ESP",
        "with --protect bu, BUs without ESP are processed"),
    spec(Fault::AcceptEspReplay, "accept-esp-replay", "RFC4140-12-MN-MAP-SECURITY",
        "the ESP anti-replay window is off: replayed packets are accepted"),
    spec(Fault::NoIcvCheck, "no-icv-check", "RFC4140-12-MN-MAP-SECURITY",
        "ESP packets whose ICV does not verify are processed anyway"),
    spec(Fault::BaUnprotected, "ba-unprotected", "RFC4140-12-MN-MAP-SECURITY",
        "with --protect bu, BAs are sent without ESP"),
    spec(Fault::AnswerUnprotectedProbe, "answer-unprotected-probe", "RFC4140-10-FAILURE-DETECTION-SECURE",
        "with --protect probe, echo requests without ESP are answered"),
    RELAY_UNAUTHENTICATED_RA,
    discovery_spec(Fault::RelayWithoutIncrement, 0),
    discovery_spec(Fault::RelayWithoutOwnOption, 1),
    discovery_spec(Fault::RelayKeepsLargerDist, 2),
];

/// The AR's faults. The MAP option faults are the MAP's `ra-*` ones
/// (the same requirement, the same code in [`crate::ra`]) under the AR's
/// names.
#[rustfmt::skip]
pub const AR_FAULTS: &[FaultSpec] = &[
    spec(Fault::NoMapOption, "no-map-option", "RFC4140-3.1-AR-ADVERTISE-MAP",
        "RAs carry no MAP option"),
    spec(Fault::RaMapOptionLength4, "map-option-length-4", "RFC4140-5-MAP-OPT-LENGTH",
        "the configured MAPs' options are sent with Length 4 (32 octets)"),
    spec(Fault::RaDistZero, "dist-zero", "RFC4140-5-DIST-NOT-ZERO",
        "configured MAPs are advertised with Dist 0"),
    spec(Fault::RaDistTwo, "onlink-map-dist-two", "RFC4140-5-DIST-ONE-SAME-LINK",
        "a MAP inside an access prefix is advertised with Dist 2"),
    discovery_spec(Fault::RelayWithoutIncrement, 0),
    discovery_spec(Fault::RelayKeepsLargerDist, 2),
    RELAY_UNAUTHENTICATED_RA,
    spec(Fault::ProbesUnprotected, "probes-unprotected", "RFC4140-10-FAILURE-DETECTION-SECURE",
        "with --protect probe, MAP probes are sent in the clear"),
    spec(Fault::AcceptUnprotectedReply, "accept-unprotected-reply", "RFC4140-10-FAILURE-DETECTION-SECURE",
        "with --protect probe, echo replies without ESP keep the MAP alive"),
];

/// The mobile node's faults.
#[rustfmt::skip]
pub const MN_FAULTS: &[FaultSpec] = &[
    spec(Fault::BuWithoutMFlag, "bu-without-m-flag", "RFC4140-4.1-MN-BU-M-A-FLAGS",
        "local BUs to the MAP are sent with the M flag clear"),
    spec(Fault::BuWithoutAFlag, "bu-without-a-flag", "RFC4140-4.1-MN-BU-M-A-FLAGS",
        "local BUs to the MAP are sent with the A flag clear (the binding counts as up at once)"),
    spec(Fault::AlternateCoaAdded, "alternate-coa-added", "RFC4140-3.1-MN-LCOA-FROM-LINK-PREFIX",
        "local BUs carry an Alternate Care-of Address option holding the RCoA, so the CoA bound is not the LCoA from the link's prefix"),
    spec(Fault::AcceptBaWithoutRh2, "accept-ba-without-rh2", "RFC4140-6.1-MN-IGNORE-BA-NO-RH2",
        "a BA from the MAP without a type 2 routing header holding the RCoA is accepted"),
    spec(Fault::HaBeforeMapBa, "ha-before-map-ba", "RFC4140-6.1-MN-WAIT-BA-BEFORE-HA",
        "the BU to the HA goes out with the local BU, before the MAP's BA"),
    spec(Fault::HaLifetimeAboveMap, "ha-lifetime-above-map", "RFC4140-6.1-MN-HA-LIFETIME-NOT-ABOVE-MAP",
        "the BU to the HA asks for twice the lifetime the MAP granted"),
    spec(Fault::NearestMapChosen, "nearest-map-chosen", "RFC4140-7.2-MN-DISTANCE-SELECTION",
        "the MAP with the smallest Distance is chosen instead of the furthest"),
    spec(Fault::PrefZeroMapChosen, "pref-zero-map-chosen", "RFC4140-7.2-MN-PREF-ZERO-NO-NEW-BU",
        "MAPs with preference 0 are used for new local BUs"),
    spec(Fault::LifetimeZeroMapKept, "lifetime-zero-map-kept", "RFC4140-7.2-MN-LIFETIME-ZERO-NEW-MAP",
        "a MAP option with valid lifetime 0 for the current MAP is ignored: no other MAP, no new bindings"),
    spec(Fault::NoReverseTunnel, "no-reverse-tunnel", "RFC4140-6.1.1-MN-RCOA-SOURCE",
        "data packets from the RCoA (echo requests and replies, route-optimised packets) are sent on the link without the tunnel to the MAP (Mobility Header messages still go through it)"),
    spec(Fault::RcoaWithoutRFlag, "rcoa-without-r-flag", "RFC4140-5-R-FLAG-FORM-RCOA",
        "MAPs whose option has the R flag clear are used, with an RCoA formed from their address"),
    spec(Fault::RcoaFromLinkPrefix, "rcoa-from-link-prefix", "RFC4140-5-R-FLAG-FORM-RCOA",
        "the RCoA is formed from the link's prefix (the LCoA's) instead of the prefix in the MAP option"),
    spec(Fault::NoPreviousMapBu, "no-previous-map-bu", "RFC4140-6.1-MN-BU-PREVIOUS-MAP",
        "moving to a new MAP domain sends no local BU to the previous MAP"),
    // MN registered with several MAPs (`register MAP`, reference/src/mn/extra.rs).
    spec(Fault::RcoaAsCoaToOtherMap, "rcoa-as-coa-to-other-map", "RFC4140-3.1-MN-NO-RCOA-AS-LCOA",
        "the local BU to an additional MAP comes from the current MAP's RCoA, reverse-tunnelled through the current MAP"),
    spec(Fault::RcoaAsAlternateCoa, "rcoa-as-alternate-coa", "RFC4140-6.1-MN-NO-RCOA-AS-COA",
        "the local BU to an additional MAP carries an Alternate Care-of Address option holding the current MAP's RCoA"),
    spec(Fault::OneRcoaForAllMaps, "one-rcoa-for-all-maps", "RFC4140-6.1-MN-BU-EACH-RCOA",
        "the local BU to an additional MAP registers the current MAP's RCoA (Home Address option) instead of an RCoA from that MAP's prefix"),
    spec(Fault::SecondMapReplacesFirst, "second-map-replaces-first", "RFC4140-7.2-MN-SEVERAL-MAPS",
        "once registered with an additional MAP, the current MAP's binding is no longer refreshed and lapses"),
    // MN MAP selection and option storage (mn-select).
    spec(Fault::MapIgnored, "map-ignored", "RFC4140-3-MN-CHOOSE-MAP",
        "advertised MAPs are ignored: the MN registers its LCoA with its HA as plain Mobile IPv6"),
    spec(Fault::NoMipv6Fallback, "no-mipv6-fallback", "RFC4140-7.2-MN-NO-MAP-OPTION-MIPV6",
        "without any MAP option the MN sends no BU at all (no plain Mobile IPv6 registration with its HA)"),
    spec(Fault::LowestPrefChosen, "lowest-pref-chosen", "RFC4140-7.2-MN-HIGHEST-PREF",
        "among MAPs at the same Distance, the one with the lowest preference is chosen"),
    spec(Fault::LifetimeZeroMapChosen, "lifetime-zero-map-chosen", "RFC4140-7.2-MN-LIFETIME-ZERO-NOT-SELECTED",
        "a MAP option with valid lifetime 0 can be selected (until the option is dropped as expired)"),
    spec(Fault::NoHaBuOnMapChange, "no-ha-bu-on-map-change", "RFC4140-3.1-MN-MAP-CHANGE-BU",
        "once the HA has a binding, a new MAP's BA (a new RCoA) brings no BU to the HA: the HA binding keeps its old care-of address"),
    spec(Fault::NoFallbackAfterMapLoss, "no-fallback-after-map-loss", "RFC4140-7.2-MN-NO-OTHER-MAP-MIPV6",
        "when the MAP in use is lost and no other MAP is left, the HA binding keeps the RCoA (no plain Mobile IPv6 BU with the LCoA)"),
    spec(Fault::MapOptionsNotStored, "map-options-not-stored", "RFC4140-7.2-MN-STORE-OPTIONS",
        "MAP options are not kept: only the last RA's options count"),
    spec(Fault::LocalBuHaoLcoa, "local-bu-hao-lcoa", "RFC4140-7.2-MN-R-FLAG-RCOA-HOME-ADDRESS",
        "the Home Address option of local BUs holds the LCoA instead of the RCoA"),
    spec(Fault::LonePrefZeroMapChosen, "lone-pref-zero-map-chosen", "RFC4140-7.1.2-PREF-ZERO-NOT-CHOSEN",
        "a new MN chooses a MAP with preference 0 when no other MAP qualifies (instead of plain Mobile IPv6)"),
    // MN addressing, RA validation, movement (A2).
    spec(Fault::NoDad, "no-dad", "RFC4862-5.5.3-FORM-ADDRESS",
        "the LCoA formed from an RA's prefix is used at once, without Duplicate Address Detection"),
    spec(Fault::RaLengthZeroAccepted, "ra-length-zero-accepted", "RFC4861-6.1.2-RA-OPTION-LENGTH-ZERO",
        "an RA with an option of Length 0 is processed (the options before it) instead of discarded"),
    spec(Fault::UnknownRaOptionDropsRa, "unknown-ra-option-drops-ra", "RFC4861-6.1.2-RA-IGNORE-UNRECOGNIZED",
        "an RA carrying an option of a type the MN does not know is dropped whole"),
    spec(Fault::UnknownRaOptionStopsParsing, "unknown-ra-option-stops-parsing", "RFC4861-4.2-IGNORE-UNKNOWN-OPTIONS",
        "the options after the first one the MN does not know are not processed"),
    spec(Fault::PrefixLengthNot64Used, "prefix-length-not-64-used", "RFC4862-5.5.3-FORM-ADDRESS",
        "an LCoA is formed from a Prefix Information option whose length is not 64 (prefix plus interface identifier not 128 bits)"),
    spec(Fault::NoLocalBuOnMove, "no-local-bu-on-move", "RFC4140-3.1-MN-LCOA-FROM-LINK-PREFIX",
        "a move to a new link of the same MAP domain sends no local BU: the MAP keeps the previous link's LCoA"),
    spec(Fault::RcoaAsCoaToNewMap, "rcoa-as-coa-to-new-map", "RFC4140-6.1-MN-NO-RCOA-AS-COA",
        "moving to a new MAP domain, the local BU to the new MAP comes from the previous MAP's RCoA instead of the new LCoA"),
    // ESP between the MN and its MAP (RFC 4140 12, 12.1).
    spec(Fault::BuUnprotected, "bu-unprotected", "RFC4140-12.1-BU-AH-ESP",
        "with --protect bu, local BUs go to the MAP in the clear, without ESP"),
    spec(Fault::AcceptUnprotectedBa, "accept-unprotected-ba", "RFC4140-12-MN-MAP-SECURITY",
        "with --protect bu, a BA from the MAP without ESP is accepted (no authentication of the MAP)"),
    spec(Fault::AcceptBaReplay, "accept-ba-replay", "RFC4140-12-MN-MAP-SECURITY",
        "the MAP's ESP sequence numbers are not checked: a replayed BA is accepted"),
    spec(Fault::NoBaIcvCheck, "no-ba-icv-check", "RFC4140-12-MN-MAP-SECURITY",
        "the ICV of the MAP's ESP packets is not checked: a forged BA is accepted"),
    // MN traffic: route optimisation, Home Address option, HoTI (mn/ro.rs).
    spec(Fault::RoSourceLcoa, "ro-source-lcoa", "RFC4140-6.1.1-MN-RCOA-SOURCE",
        "route-optimised packets to a correspondent that bound the RCoA go from the LCoA, straight to the AR (not from the RCoA through the MAP)"),
    spec(Fault::RoWithoutHao, "ro-without-hao", "RFC4140-6.1.1-MN-HAO-OUTGOING",
        "route-optimised packets to a correspondent carry no Home Address option"),
    spec(Fault::HaoHoldsRcoa, "hao-holds-rcoa", "RFC4140-6.1.1-MN-HAO-HOME-ADDRESS",
        "the Home Address option of route-optimised packets holds the RCoA instead of the home address"),
    spec(Fault::HotiFromRcoa, "hoti-from-rcoa", "RFC4140-12.2-MN-HOTI-SOURCE-HOME-ADDRESS",
        "the Home Test Init goes from the RCoA through the MAP tunnel, not from the home address through the home agent"),
    // MN multihoming: the LCoA on the current MAP's link (mn/mod.rs).
    spec(Fault::LcoaFromOtherInterface, "lcoa-from-other-interface", "RFC4140-7.2-MN-MULTIHOMED-LCOA",
        "a multihomed MN binds at its MAP the LCoA of another interface than the one whose AR advertises the MAP"),
];

/// Every role's fault table, by role name.
pub const ROLE_FAULTS: &[(&str, &[FaultSpec])] =
    &[("map", MAP_FAULTS), ("ar", AR_FAULTS), ("mn", MN_FAULTS)];

/// The set of faults switched on.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Faults {
    on: Vec<Fault>,
}

/// `--fault NAME` named no fault of the role's table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownFault {
    pub name: String,
    pub valid: Vec<&'static str>,
    /// The roles whose table has it, when the name is another role's.
    pub roles: Vec<&'static str>,
}

impl fmt::Display for UnknownFault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.roles.is_empty() {
            write!(f, "unknown fault `{}`", self.name)?;
        } else {
            write!(
                f,
                "fault `{}` is a fault of `hmip6-ref {}`, not of this role",
                self.name,
                self.roles.join("`/`hmip6-ref ")
            )?;
        }
        write!(f, "; valid faults: {}", self.valid.join(", "))
    }
}

impl std::error::Error for UnknownFault {}

impl Faults {
    /// No fault: the conformant behaviour.
    pub fn none() -> Self {
        Faults::default()
    }

    /// The faults named, looked up in `table`.
    pub fn parse<S: AsRef<str>>(names: &[S], table: &[FaultSpec]) -> Result<Faults, UnknownFault> {
        let mut on = Vec::new();
        for n in names {
            let n = n.as_ref().trim();
            match table.iter().find(|s| s.name == n) {
                Some(s) => {
                    if !on.contains(&s.fault) {
                        on.push(s.fault);
                    }
                }
                None => {
                    return Err(UnknownFault {
                        name: n.to_string(),
                        valid: table.iter().map(|s| s.name).collect(),
                        roles: ROLE_FAULTS
                            .iter()
                            .filter(|(_, t)| t.iter().any(|s| s.name == n))
                            .map(|(role, _)| *role)
                            .collect(),
                    })
                }
            }
        }
        Ok(Faults { on })
    }

    /// A set with exactly these faults (tests).
    pub fn of(faults: &[Fault]) -> Self {
        Faults {
            on: faults.to_vec(),
        }
    }

    /// Is `f` switched on?
    pub fn has(&self, f: Fault) -> bool {
        self.on.contains(&f)
    }

    /// The names of the faults switched on, as `table` spells them.
    pub fn names(&self, table: &[FaultSpec]) -> Vec<&'static str> {
        table
            .iter()
            .filter(|s| self.has(s.fault))
            .map(|s| s.name)
            .collect()
    }
}

/// The `--list-faults` text: `NAME  REQUIREMENT-ID  description`, one a line.
pub fn listing(table: &[FaultSpec]) -> String {
    let w1 = table.iter().map(|s| s.name.len()).max().unwrap_or(0);
    let w2 = table.iter().map(|s| s.requirement.len()).max().unwrap_or(0);
    let mut out = String::new();
    for s in table {
        out.push_str(&format!(
            "{:w1$}  {:w2$}  {}\n",
            s.name, s.requirement, s.description
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_kebab_case() {
        for (_, table) in ROLE_FAULTS {
            let mut names: Vec<_> = table.iter().map(|s| s.name).collect();
            names.sort();
            names.dedup();
            assert_eq!(names.len(), table.len());
            for s in *table {
                assert!(s
                    .name
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'));
                assert!(s.requirement.starts_with("RFC"), "{}", s.name);
            }
            let mut faults: Vec<_> = table.iter().map(|s| s.fault).collect();
            faults.sort();
            faults.dedup();
            assert_eq!(faults.len(), table.len());
        }
    }

    /// Every fault names a requirement of `cases/requirements.yaml`.
    #[test]
    fn requirements_exist() {
        let yaml = include_str!("../../cases/requirements.yaml");
        for (role, table) in ROLE_FAULTS {
            for s in *table {
                let line = format!("- id: {}\n", s.requirement);
                assert!(
                    yaml.contains(&line),
                    "{role} fault {}: no requirement {}",
                    s.name,
                    s.requirement
                );
            }
        }
    }

    #[test]
    fn a_fault_of_another_role_is_refused_by_name() {
        let e = Faults::parse(&["no-ba"], AR_FAULTS).unwrap_err();
        let text = e.to_string();
        assert!(
            text.contains("`no-ba` is a fault of `hmip6-ref map`"),
            "{text}"
        );
        assert!(text.contains("no-map-option"), "{text}");
        let e = Faults::parse(&["no-map-option"], MAP_FAULTS).unwrap_err();
        assert!(e.to_string().contains("`hmip6-ref ar`"), "{e}");
        // A name both roles have is fine for either.
        for table in [MAP_FAULTS, AR_FAULTS] {
            let f = Faults::parse(&["relay-unauthenticated-ra"], table).unwrap();
            assert!(f.has(Fault::RelayUnauthenticatedRa));
        }
        let e = Faults::parse(&["nothing-like-it"], AR_FAULTS).unwrap_err();
        assert!(e.to_string().starts_with("unknown fault"), "{e}");
    }

    #[test]
    fn unknown_name_lists_the_valid_ones() {
        let e = Faults::parse(&["no-such"], MAP_FAULTS).unwrap_err();
        let text = e.to_string();
        assert!(text.contains("no-such"));
        assert!(text.contains("ba-without-rh2"));
        let f = Faults::parse(&["no-ba", "no-dad"], MAP_FAULTS).unwrap();
        assert!(f.has(Fault::NoBa) && f.has(Fault::NoDad) && !f.has(Fault::NoProxyNa));
        assert_eq!(f.names(MAP_FAULTS), vec!["no-ba", "no-dad"]);
    }

    #[test]
    fn listing_has_one_line_per_fault() {
        let l = listing(MAP_FAULTS);
        assert_eq!(l.lines().count(), MAP_FAULTS.len());
        assert!(l.lines().all(|line| line.split_whitespace().count() >= 3));
    }

    /// Every fault of a role's table is tested somewhere in the role's
    /// code or the shared code it uses (outside this table).
    #[test]
    fn every_fault_is_referenced_by_code() {
        let shared = include_str!("ra.rs");
        let map = [
            include_str!("map/mod.rs"),
            include_str!("map/binding.rs"),
            include_str!("map/advert.rs"),
            include_str!("map/config.rs"),
            shared,
        ]
        .concat();
        let ar = [
            include_str!("ar/mod.rs"),
            include_str!("ar/config.rs"),
            include_str!("ar/probe.rs"),
            shared,
        ]
        .concat();
        let mn = [
            include_str!("mn/mod.rs"),
            include_str!("mn/select.rs"),
            include_str!("mn/extra.rs"),
            include_str!("mn/ro.rs"),
        ]
        .concat();
        for (role, table, sources) in [
            ("map", MAP_FAULTS, map),
            ("ar", AR_FAULTS, ar),
            ("mn", MN_FAULTS, mn),
        ] {
            for s in table {
                let needle = format!("Fault::{:?}", s.fault);
                assert!(
                    sources.contains(&needle),
                    "fault {} ({needle}) is not used by the {role}",
                    s.name
                );
            }
        }
    }
}
