//! Verdicts and the results of a run: what the engine produces and every
//! reporter consumes. `RunResults` serialised is `results.json`, the
//! machine-readable truth of a run (its schema is versioned by
//! [`RESULTS_SCHEMA_VERSION`]).

use std::fmt;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::case::Roles;
use crate::requirements::{Level, Role};

/// Bumped on any incompatible change to the JSON form of [`RunResults`].
pub const RESULTS_SCHEMA_VERSION: u32 = 1;

/// The verdict of a case (DESIGN.md, "Verdicts").
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Verdict {
    #[serde(rename = "PASS")]
    Pass,
    #[serde(rename = "FAIL")]
    Fail,
    /// A precondition did not hold (the IUT never registered, the profile
    /// lacks an action the case needs).
    #[serde(rename = "INCONCLUSIVE")]
    Inconclusive,
    /// The IUT does not claim the feature (PICS) or has another role.
    #[serde(rename = "NOT-APPLICABLE")]
    NotApplicable,
    /// The harness or the IUT's launch broke.
    #[serde(rename = "ERROR")]
    Error,
}

impl Verdict {
    pub const ALL: [Verdict; 5] = [
        Verdict::Pass,
        Verdict::Fail,
        Verdict::Inconclusive,
        Verdict::NotApplicable,
        Verdict::Error,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Verdict::Pass => "PASS",
            Verdict::Fail => "FAIL",
            Verdict::Inconclusive => "INCONCLUSIVE",
            Verdict::NotApplicable => "NOT-APPLICABLE",
            Verdict::Error => "ERROR",
        }
    }

    /// Which of two verdicts a case keeps when several checks disagree:
    /// ERROR > FAIL > INCONCLUSIVE > PASS > NOT-APPLICABLE. A FAIL is never
    /// hidden by a later PASS; an ERROR means the evidence cannot be trusted.
    pub fn severity(self) -> u8 {
        match self {
            Verdict::NotApplicable => 0,
            Verdict::Pass => 1,
            Verdict::Inconclusive => 2,
            Verdict::Fail => 3,
            Verdict::Error => 4,
        }
    }

    pub fn worst(self, other: Verdict) -> Verdict {
        if other.severity() > self.severity() {
            other
        } else {
            self
        }
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One field that differed: where in the frame, what the case wanted, what
/// came.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldDiff {
    /// e.g. `routing.home_address`, `mh.binding_ack.status`.
    pub field: String,
    pub expected: String,
    /// `absent` when the frame lacks the field.
    pub observed: String,
}

/// What happened to one step.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StepStatus {
    Ok,
    Failed,
    /// Not run: an earlier step ended the case.
    Skipped,
}

/// The record of one executed step, for reports and ladder diagrams.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepRecord {
    /// `3`, or `4.2.1` inside repeat blocks (iteration, then step).
    pub step: String,
    /// send, expect, expect_none, action, wait; and before the steps
    /// `launch` (the IUT started, or running since an earlier case) and
    /// `reset` (the profile's reset of a shared IUT).
    pub kind: String,
    /// One line in words.
    pub summary: String,
    pub status: StepStatus,
    /// Milliseconds from the case's start.
    pub at_ms: u64,
    /// The link the step sent on or matched on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link: Option<String>,
    /// 1-based number of the frame in the case's capture that the step sent
    /// or matched (on that link's interface).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub frame: Option<u64>,
}

/// The result of one case.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CaseResult {
    pub id: String,
    pub title: String,
    /// The case's roles: a string for one (`"map"`), a list for several.
    #[serde(rename = "role")]
    pub roles: Roles,
    /// The case file, relative to where the run started when possible.
    pub file: PathBuf,
    /// The requirements the case checks.
    pub requirements: Vec<String>,
    pub verdict: Verdict,
    /// For FAIL: the requirement violated and its level.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub violated: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub level: Option<Level>,
    /// Why, in words (for PASS: what was shown).
    pub reason: String,
    /// For FAIL: expected against observed, field by field.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub diff: Vec<FieldDiff>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub steps: Vec<StepRecord>,
    /// The IUT's stderr (the end of it) when the verdict is ERROR or the IUT
    /// exited.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iut_stderr: Option<String>,
    /// The case's pcapng.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capture: Option<PathBuf>,
    pub duration_ms: u64,
}

impl CaseResult {
    /// Whether this result makes the run non-compliant.
    pub fn gates(&self, strict: bool) -> bool {
        match self.verdict {
            Verdict::Fail => self.level.is_none_or(|l| l.gates(strict)),
            _ => false,
        }
    }
}

/// The IUT profile as the run used it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ProfileSummary {
    pub path: PathBuf,
    pub name: String,
    pub role: Role,
    pub pics: serde_json::Map<String, serde_json::Value>,
    pub pixit: serde_json::Map<String, serde_json::Value>,
}

/// Counts per verdict, and the run's conclusion.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    pub total: usize,
    pub pass: usize,
    pub fail: usize,
    pub inconclusive: usize,
    pub not_applicable: usize,
    pub error: usize,
    /// FAILs against MUST-level requirements.
    pub fail_mandatory: usize,
    /// FAILs against SHOULD-level requirements.
    pub fail_advisory: usize,
    /// FAILs that make the IUT non-compliant (`strict` counts SHOULDs).
    pub gating_fails: usize,
    /// No gating FAIL and no ERROR.
    pub compliant: bool,
    pub strict: bool,
}

impl Summary {
    pub fn of(cases: &[CaseResult], strict: bool) -> Summary {
        let mut s = Summary {
            strict,
            total: cases.len(),
            ..Summary::default()
        };
        for c in cases {
            match c.verdict {
                Verdict::Pass => s.pass += 1,
                Verdict::Fail => {
                    s.fail += 1;
                    match c.level.map(Level::gate) {
                        Some(crate::requirements::Gate::Advisory) => s.fail_advisory += 1,
                        Some(crate::requirements::Gate::Informational) => {}
                        _ => s.fail_mandatory += 1,
                    }
                }
                Verdict::Inconclusive => s.inconclusive += 1,
                Verdict::NotApplicable => s.not_applicable += 1,
                Verdict::Error => s.error += 1,
            }
        }
        s.gating_fails = cases.iter().filter(|c| c.gates(strict)).count();
        s.compliant = s.error == 0 && s.gating_fails == 0;
        s
    }

    /// `(verdict, number of cases)` for every verdict, in report order.
    pub fn counts(&self) -> [(Verdict, usize); 5] {
        [
            (Verdict::Pass, self.pass),
            (Verdict::Fail, self.fail),
            (Verdict::Inconclusive, self.inconclusive),
            (Verdict::NotApplicable, self.not_applicable),
            (Verdict::Error, self.error),
        ]
    }

    /// Exit status of `hmip6spec run`: 1 non-compliant (a gating FAIL,
    /// whatever else happened), else 2 if a case ended in ERROR (the harness
    /// or the IUT's launch broke, so compliance is not shown), else 0.
    pub fn exit_code(&self) -> i32 {
        if self.gating_fails > 0 {
            1
        } else if self.error > 0 {
            2
        } else {
            0
        }
    }
}

/// The whole run: `reports/<run-id>/results.json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunResults {
    pub schema_version: u32,
    pub tool: String,
    pub tool_version: String,
    pub run_id: String,
    /// RFC 3339, UTC.
    pub started_at: String,
    pub duration_ms: u64,
    /// The command line.
    pub command: Vec<String>,
    pub hostname: String,
    pub kernel: String,
    pub jobs: usize,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard: Option<String>,
    pub profile: ProfileSummary,
    pub summary: Summary,
    pub cases: Vec<CaseResult>,
    /// Where the captures of this run are.
    pub captures_dir: PathBuf,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn case(verdict: Verdict, level: Option<Level>) -> CaseResult {
        CaseResult {
            id: "map.x".into(),
            title: String::new(),
            roles: Roles::one(Role::Map),
            file: PathBuf::new(),
            requirements: vec![],
            verdict,
            violated: level.map(|_| "RFC4140-6.2-BA-RH2".into()),
            level,
            reason: String::new(),
            diff: vec![],
            steps: vec![],
            iut_stderr: None,
            capture: None,
            duration_ms: 0,
        }
    }

    #[test]
    fn fail_is_never_hidden_by_a_pass_and_error_beats_all() {
        assert_eq!(Verdict::Pass.worst(Verdict::Fail), Verdict::Fail);
        assert_eq!(Verdict::Fail.worst(Verdict::Pass), Verdict::Fail);
        assert_eq!(Verdict::Fail.worst(Verdict::Inconclusive), Verdict::Fail);
        assert_eq!(
            Verdict::Inconclusive.worst(Verdict::Pass),
            Verdict::Inconclusive
        );
        assert_eq!(Verdict::Fail.worst(Verdict::Error), Verdict::Error);
        assert_eq!(Verdict::NotApplicable.worst(Verdict::Pass), Verdict::Pass);
        let all = Verdict::ALL
            .iter()
            .fold(Verdict::NotApplicable, |a, b| a.worst(*b));
        assert_eq!(all, Verdict::Error);
    }

    #[test]
    fn levels_gate_as_designed() {
        let must = [
            case(Verdict::Pass, None),
            case(Verdict::Fail, Some(Level::MustNot)),
        ];
        let s = Summary::of(&must, false);
        assert_eq!(
            (s.fail_mandatory, s.gating_fails, s.compliant, s.exit_code()),
            (1, 1, false, 1)
        );
        let should = [
            case(Verdict::Pass, None),
            case(Verdict::Fail, Some(Level::Should)),
        ];
        let s = Summary::of(&should, false);
        assert_eq!(
            (s.fail_advisory, s.gating_fails, s.compliant, s.exit_code()),
            (1, 0, true, 0)
        );
        let s = Summary::of(&should, true);
        assert_eq!((s.gating_fails, s.compliant, s.exit_code()), (1, false, 1));
        let may = [case(Verdict::Fail, Some(Level::May))];
        assert_eq!(Summary::of(&may, true).exit_code(), 0);
    }

    #[test]
    fn errors_make_the_run_fail_unless_non_compliance_is_shown() {
        let e = [case(Verdict::Pass, None), case(Verdict::Error, None)];
        let s = Summary::of(&e, false);
        assert_eq!((s.error, s.compliant, s.exit_code()), (1, false, 2));
        let both = [
            case(Verdict::Error, None),
            case(Verdict::Fail, Some(Level::Must)),
        ];
        assert_eq!(Summary::of(&both, false).exit_code(), 1);
        let quiet = [
            case(Verdict::Inconclusive, None),
            case(Verdict::NotApplicable, None),
        ];
        let s = Summary::of(&quiet, false);
        assert_eq!((s.inconclusive, s.not_applicable, s.exit_code()), (1, 1, 0));
    }

    #[test]
    fn verdicts_serialise_as_the_design_names_them() {
        let names: Vec<String> = Verdict::ALL
            .iter()
            .map(|v| serde_json::to_string(v).unwrap())
            .collect();
        assert_eq!(
            names,
            [
                "\"PASS\"",
                "\"FAIL\"",
                "\"INCONCLUSIVE\"",
                "\"NOT-APPLICABLE\"",
                "\"ERROR\""
            ]
        );
    }
}
