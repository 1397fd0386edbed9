//! radvd, a router advertisement daemon nobody here wrote, under test as an
//! access router (`profiles/radvd.yaml`). radvd 2.19 has no MAP option, so
//! the honest verdicts are: FAIL on RFC4140-3.1-AR-ADVERTISE-MAP (all ARs
//! of a MAP domain MUST advertise the MAP), after a precondition showing
//! radvd does answer a Router Solicitation; NOT-APPLICABLE for the AR
//! cases about MAP options, relaying and failure detection, whose PICS the
//! profile does not claim. Needs root and radvd (`apt-get install radvd`).

mod common;

use common::engine::{repo, run_role, suite};
use hmip6spec::requirements::Role;
use hmip6spec::topology::testing::{require_radvd, require_root};
use hmip6spec::verdict::Verdict;

#[test]
fn radvd_fails_only_on_advertising_the_map() {
    if !require_root("radvd_fails_only_on_advertising_the_map")
        || !require_radvd("radvd_fails_only_on_advertising_the_map")
    {
        return;
    }
    let s = suite();
    let profile = s
        .load_profile(&repo().join("profiles/radvd.yaml"))
        .unwrap_or_else(|d| panic!("profiles/radvd.yaml: {d:?}"));
    let tmp = tempfile::tempdir().unwrap();
    // Every case for an AR, `[map, ar]` ones included.
    let results = run_role(&s, profile, tmp.path(), Role::Ar, 4);
    assert!(results.len() >= 6, "the AR corpus: {}", results.len());
    for r in &results {
        let want = if r.id == "ar.advertise.map-option-present" {
            Verdict::Fail
        } else {
            Verdict::NotApplicable
        };
        assert_eq!(r.verdict, want, "{}: {}", r.id, r.reason);
    }
    let r = results
        .iter()
        .find(|r| r.id == "ar.advertise.map-option-present")
        .unwrap();
    assert_eq!(r.violated.as_deref(), Some("RFC4140-3.1-AR-ADVERTISE-MAP"));
    // It did answer the Router Solicitation: the FAIL is about the MAP
    // option, not a silent radvd.
    assert!(r.reason.contains("step 3"), "{}", r.reason);
}
