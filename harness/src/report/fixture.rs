//! A realistic run for the reporters' tests: a MAP run with every verdict,
//! a MUST-level FAIL with a field-by-field diff, a SHOULD-level FAIL, an
//! ERROR with the IUT's stderr, and cases with steps and captures. Times
//! and dates are fixed so renderings can be snapshotted.

use std::io::Write as _;
use std::path::PathBuf;

use serde_json::json;

use crate::case::Roles;
use crate::requirements::{Catalogue, Level, Role};
use crate::verdict::{
    CaseResult, FieldDiff, ProfileSummary, RunResults, StepRecord, StepStatus, Summary, Verdict,
    RESULTS_SCHEMA_VERSION,
};

const RUN: &str = "20250115T102030Z-reference-map";

fn capture(id: &str) -> Option<PathBuf> {
    Some(PathBuf::from(format!("captures/{RUN}/{id}.pcapng")))
}

fn step(
    step: &str,
    kind: &str,
    summary: &str,
    status: StepStatus,
    at_ms: u64,
    link: Option<&str>,
    frame: Option<u64>,
) -> StepRecord {
    StepRecord {
        step: step.into(),
        kind: kind.into(),
        summary: summary.into(),
        status,
        at_ms,
        link: link.map(Into::into),
        frame,
    }
}

fn diff(field: &str, expected: &str, observed: &str) -> FieldDiff {
    FieldDiff {
        field: field.into(),
        expected: expected.into(),
        observed: observed.into(),
    }
}

fn case(id: &str, title: &str, role: Role, requirements: &[&str], verdict: Verdict) -> CaseResult {
    let dir = id.split('.').next().unwrap_or("map");
    CaseResult {
        id: id.into(),
        title: title.into(),
        roles: Roles::one(role),
        file: PathBuf::from(format!("cases/{dir}/{id}.yaml")),
        requirements: requirements.iter().map(|s| s.to_string()).collect(),
        verdict,
        violated: None,
        level: None,
        reason: String::new(),
        diff: vec![],
        steps: vec![],
        iut_stderr: None,
        capture: None,
        duration_ms: 0,
    }
}

/// The cases, in the order a run lists them.
pub(crate) fn cases() -> Vec<CaseResult> {
    use StepStatus::{Failed, Ok, Skipped};

    let mut pass = case(
        "map.bu.ba-carries-rh2",
        "The BA for a local BU carries a type 2 routing header holding the RCoA",
        Role::Map,
        &["RFC4140-6.2-BA-RH2"],
        Verdict::Pass,
    );
    pass.reason =
        "BA seq 100 status 0 came after 12 ms with a type 2 routing header holding 2001:db8:ffff::2:2"
            .into();
    pass.steps = vec![
        step(
            "1",
            "send",
            "BU seq 100 A M lifetime 15 from 2001:db8:1::2 (HoA option 2001:db8:ffff::2:2)",
            Ok,
            0,
            Some("access"),
            Some(1),
        ),
        step(
            "2",
            "expect",
            "BA seq 100 status 0 with RH2 2001:db8:ffff::2:2",
            Ok,
            12,
            Some("access"),
            Some(2),
        ),
    ];
    pass.capture = capture(&pass.id);
    pass.duration_ms = 41;

    let mut pass_ra = case(
        "map.ra.map-option-format",
        "The MAP's RAs carry a well-formed MAP option",
        Role::Map,
        &["RFC4140-7.2-MAP-OPT-FORMAT", "RFC4140-7.2-MAP-OPT-LENGTH"],
        Verdict::Pass,
    );
    pass_ra.reason = "RA with MAP option Dist 1 Pref 10 Length 3 on core".into();
    pass_ra.steps = vec![step(
        "1",
        "expect",
        "RA with a MAP option for 2001:db8:ffff::1",
        Ok,
        298,
        Some("core"),
        Some(1),
    )];
    pass_ra.capture = capture(&pass_ra.id);
    pass_ra.duration_ms = 310;

    let mut fail = case(
        "map.bu.rejects-offlink-lcoa",
        "The MAP rejects a BU whose LCoA is not in a valid on-link prefix",
        Role::Map,
        &["RFC4140-6.1-LCOA-ONLINK", "RFC4140-6.2-BA-RH2"],
        Verdict::Fail,
    );
    fail.violated = Some("RFC4140-6.1-LCOA-ONLINK".into());
    fail.level = Some(Level::Must);
    fail.reason = "the BA accepted a BU from an LCoA outside the valid on-link prefixes".into();
    fail.diff = vec![
        diff("mh.binding_ack.status", "at least 128", "0"),
        diff("mh.binding_ack.lifetime", "0", "15"),
        diff("routing.home_address", "absent", "2001:db8:ffff::2:2"),
    ];
    fail.steps = vec![
        step(
            "1",
            "send",
            "BU seq 7 A M lifetime 15 from 2001:db8:99::2 (off-link)",
            Ok,
            0,
            Some("access"),
            Some(1),
        ),
        step(
            "2",
            "expect",
            "BA seq 7 status >= 128",
            Failed,
            9,
            Some("access"),
            Some(2),
        ),
        step(
            "3",
            "expect_none",
            "no tunnelled packet to 2001:db8:99::2",
            Skipped,
            9,
            Some("access"),
            None,
        ),
    ];
    fail.capture = capture(&fail.id);
    fail.duration_ms = 57;

    let mut should = case(
        "map.ra.preference-default",
        "The MAP option's preference is 10 by default",
        Role::Map,
        &["RFC4140-7.1-PREF-DEFAULT"],
        Verdict::Fail,
    );
    // A case of several roles: the MAP option's rules bind ARs too.
    should.roles = Roles::new(vec![Role::Map, Role::Ar]).unwrap();
    should.violated = Some("RFC4140-7.1-PREF-DEFAULT".into());
    should.level = Some(Level::Should);
    should.reason = "the MAP option carried preference 7 without being configured to".into();
    should.diff = vec![diff("icmpv6.ra.options[0].map.pref", "10", "7")];
    should.steps = vec![step(
        "1",
        "expect",
        "RA with a MAP option, Pref 10",
        Failed,
        301,
        Some("core"),
        Some(1),
    )];
    should.capture = capture(&should.id);
    should.duration_ms = 305;

    let mut inconclusive = case(
        "map.bce.lifetime-expiry",
        "The MAP stops tunnelling when the binding's lifetime runs out",
        Role::Map,
        &["RFC4140-6.2-BCE-LIFETIME"],
        Verdict::Inconclusive,
    );
    inconclusive.reason =
        "precondition: the IUT never acknowledged the registration (no BA within 1s)".into();
    inconclusive.steps = vec![
        step(
            "1",
            "send",
            "BU seq 1 A M lifetime 2",
            Ok,
            0,
            Some("access"),
            Some(1),
        ),
        step(
            "2",
            "expect",
            "BA seq 1 status < 128",
            Failed,
            1000,
            Some("access"),
            None,
        ),
        step("3", "wait", "wait 2s", Skipped, 1000, None, None),
    ];
    inconclusive.capture = capture(&inconclusive.id);
    inconclusive.duration_ms = 1004;

    let mut na = case(
        "mn.bu.rcoa-to-ha",
        "The MN registers its RCoA with its home agent",
        Role::Mn,
        &["RFC4140-8.1-MN-HA-BU"],
        Verdict::NotApplicable,
    );
    na.reason = "the case tests an mn; the IUT is a map".into();

    let mut error = case(
        "map.tunnel.decapsulates-to-lcoa",
        "The MAP tunnels packets for the RCoA to the LCoA",
        Role::Map,
        &["RFC4140-6.2-TUNNEL"],
        Verdict::Error,
    );
    error.reason = "the IUT exited with status 1 before printing \"ready\" (within 2s)".into();
    error.iut_stderr = Some(
        "hmip6-ref: map: bind access0: Address already in use (os error 98)\nhmip6-ref: giving up\n"
            .into(),
    );
    error.capture = capture(&error.id);
    error.duration_ms = 2003;

    vec![pass, pass_ra, fail, should, inconclusive, na, error]
}

/// The whole run, not strict: one gating FAIL (MUST), one non-gating FAIL
/// (SHOULD), one ERROR: exit status 1, NON-COMPLIANT.
pub(crate) fn run_results() -> RunResults {
    let cases = cases();
    let summary = Summary::of(&cases, false);
    let obj = |v: serde_json::Value| match v {
        serde_json::Value::Object(m) => m,
        _ => unreachable!(),
    };
    RunResults {
        schema_version: RESULTS_SCHEMA_VERSION,
        tool: "hmip6spec".into(),
        tool_version: "0.1.0".into(),
        run_id: RUN.into(),
        started_at: "2025-01-15T10:20:30Z".into(),
        duration_ms: 3977,
        command: vec![
            "hmip6spec".into(),
            "run".into(),
            "--profile".into(),
            "profiles/reference-map.yaml".into(),
        ],
        hostname: "ci-runner-3".into(),
        kernel: "6.12.0".into(),
        jobs: 2,
        shard: None,
        profile: ProfileSummary {
            path: "profiles/reference-map.yaml".into(),
            name: "reference-map".into(),
            role: Role::Map,
            pics: obj(json!({"bu_protection": "none", "valid_onlink_prefixes": true})),
            pixit: obj(json!({
                "map_address": "2001:db8:ffff::1",
                "lcoa": "2001:db8:1::2",
                "ba_timeout": "1s"
            })),
        },
        summary,
        cases,
        captures_dir: format!("captures/{RUN}").into(),
    }
}

/// A catalogue quoting the cited requirements, plus two testable MAP
/// requirements no case cites, an untestable one and one for another role.
pub(crate) fn catalogue() -> Catalogue {
    let yaml = r#"requirements:
  - id: RFC4140-6.1-LCOA-ONLINK
    section: "6.1"
    level: MUST
    text: The MAP MUST ensure that the LCoA is in one of its valid on-link prefixes.
    roles: [map]
    testable: true
  - id: RFC4140-6.2-BA-RH2
    section: "6.2"
    level: MUST
    text: The Binding Acknowledgement MUST carry a type 2 routing header with the RCoA.
    roles: [map]
    testable: true
  - id: RFC4140-6.2-BCE-LIFETIME
    section: "6.2"
    level: MUST
    text: The MAP MUST delete the binding when its lifetime expires.
    roles: [map]
    testable: true
  - id: RFC4140-6.2-TUNNEL
    section: "6.2"
    level: MUST
    text: The MAP MUST tunnel packets addressed to the RCoA to the LCoA.
    roles: [map]
    testable: true
  - id: RFC4140-6.2-DAD
    section: "6.2"
    level: MUST
    text: The MAP MUST perform DAD for the RCoA <on> the "MN's" behalf & answer.
    roles: [map]
    testable: true
  - id: RFC4140-6.2-KEYS
    section: "6.2"
    level: SHOULD
    text: The MAP SHOULD keep its keys secret.
    roles: [map]
    testable: false
    untestable_because: nothing on the wire shows it
  - id: RFC4140-7.1-PREF-DEFAULT
    section: "7.1"
    level: SHOULD
    text: The preference SHOULD be 10 by default.
    roles: [map, ar]
    testable: true
  - id: RFC4140-7.2-MAP-OPT-FORMAT
    section: "7.2"
    level: MUST
    text: The MAP option MUST have the format of Section 7.2.
    roles: [map]
    testable: true
  - id: RFC4140-7.2-MAP-OPT-LENGTH
    section: "7.2"
    level: MUST
    text: The Length field MUST be 3.
    roles: [map]
    testable: true
  - id: RFC4140-7.2-RA-INTERVAL
    section: "7.2"
    level: SHOULD
    text: The MAP SHOULD send the MAP option in every RA.
    roles: [map, ar]
    testable: true
  - id: RFC4140-8.1-MN-HA-BU
    section: "8.1"
    level: MUST
    text: The MN MUST register its RCoA with its HA.
    roles: [mn]
    testable: true
  - id: RFC4140-8.1-MN-ONLY
    section: "8.1"
    level: MUST
    text: An MN-only statement no case cites.
    roles: [mn]
    testable: true
"#;
    let mut f = tempfile::Builder::new().suffix(".yaml").tempfile().unwrap();
    f.write_all(yaml.as_bytes()).unwrap();
    Catalogue::load(f.path()).unwrap_or_else(|d| panic!("fixture catalogue: {d:?}"))
}

#[test]
fn the_fixture_covers_every_verdict() {
    let r = run_results();
    for v in Verdict::ALL {
        assert!(r.cases.iter().any(|c| c.verdict == v), "no {v} case");
    }
    assert_eq!(r.summary.exit_code(), 1);
    assert_eq!(r.summary.fail_mandatory, 1);
    assert_eq!(r.summary.fail_advisory, 1);
    assert_eq!(catalogue().len(), 12);
}
