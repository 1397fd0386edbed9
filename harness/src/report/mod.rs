//! The reporters (DESIGN.md, "Evidence and reports"): everything a run's
//! [`RunResults`] becomes once the engine is done with it.
//!
//! - [`json`]: `results.json`, the machine-readable truth (versioned).
//! - [`junit`]: `junit.xml`, for CI systems.
//! - [`markdown`]: `summary.md`, for a pull request or an issue.
//! - [`html`]: `report.html`, one self-contained file to hand to someone.
//! - [`console`]: lines and blocks for the terminal and for logs.
//!
//! [`write_all`] writes the four files into a run's report directory.
//! Reporters only read the results: the verdicts, the counts and the exit
//! status are decided by [`crate::verdict`], and every reporter states the
//! same conclusion ([`Conclusion::of`]).

use std::fmt::Write as _;
use std::fs;
use std::io;
use std::path::{Component, Path, PathBuf};

use crate::requirements::{Catalogue, Gate};
use crate::verdict::{CaseResult, FieldDiff, RunResults, Summary, Verdict};

pub mod console;
#[cfg(test)]
pub(crate) mod fixture;
pub mod html;
pub mod json;
pub mod junit;
pub mod markdown;

/// The file names inside a report directory.
pub const RESULTS_JSON: &str = "results.json";
pub const JUNIT_XML: &str = "junit.xml";
pub const SUMMARY_MD: &str = "summary.md";
pub const REPORT_HTML: &str = "report.html";

/// Writes `results.json`, `junit.xml`, `summary.md` and `report.html` into
/// `dir` (created if missing) and returns their paths in that order.
/// `catalogue` lets the HTML report quote the requirements and list the
/// ones no case covered.
pub fn write_all(
    dir: &Path,
    r: &RunResults,
    catalogue: Option<&Catalogue>,
) -> io::Result<Vec<PathBuf>> {
    fs::create_dir_all(dir)?;
    Ok(vec![
        json::write_results(dir, r)?,
        junit::write_junit(dir, r)?,
        markdown::write_markdown(dir, r)?,
        html::write_html(dir, r, catalogue)?,
    ])
}

/// What a run shows about the IUT, as every report words it. Follows
/// [`Summary::exit_code`]: 0 compliant, 1 non-compliant, 2 the run failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Conclusion {
    Compliant,
    NonCompliant,
    RunFailed,
}

impl Conclusion {
    pub fn of(s: &Summary) -> Conclusion {
        match s.exit_code() {
            0 => Conclusion::Compliant,
            1 => Conclusion::NonCompliant,
            _ => Conclusion::RunFailed,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Conclusion::Compliant => "COMPLIANT",
            Conclusion::NonCompliant => "NON-COMPLIANT",
            Conclusion::RunFailed => "RUN FAILED",
        }
    }

    /// The conclusion's reason in one sentence, from the counts.
    pub fn reason(self, s: &Summary) -> String {
        let strict = if s.strict { " (--strict)" } else { "" };
        match self {
            Conclusion::NonCompliant => {
                let mut parts = Vec::new();
                if s.fail_mandatory > 0 {
                    parts.push(format!(
                        "{} against MUST-level requirements",
                        s.fail_mandatory
                    ));
                }
                let advisory_gating = s.gating_fails.saturating_sub(s.fail_mandatory);
                if advisory_gating > 0 {
                    parts.push(format!(
                        "{advisory_gating} against SHOULD-level requirements{strict}"
                    ));
                }
                let mut out = format!(
                    "{} gating {}: {}",
                    s.gating_fails,
                    plural(s.gating_fails, "FAIL", "FAILs"),
                    parts.join(", ")
                );
                if s.error > 0 {
                    let _ = write!(
                        out,
                        "; {} {} in ERROR",
                        s.error,
                        plural(s.error, "case", "cases")
                    );
                }
                out
            }
            Conclusion::RunFailed => format!(
                "{} {} ended in ERROR (the harness or the IUT's launch broke), so compliance is not shown",
                s.error,
                plural(s.error, "case", "cases")
            ),
            Conclusion::Compliant => {
                let mut out = format!("no gating FAIL and no ERROR{strict}");
                let non_gating = s.fail - s.gating_fails;
                if non_gating > 0 {
                    let _ = write!(
                        out,
                        "; {non_gating} non-gating {} reported",
                        plural(non_gating, "FAIL", "FAILs")
                    );
                }
                if s.pass == 0 {
                    out.push_str("; but no case passed, so nothing was shown");
                }
                out
            }
        }
    }
}

pub(crate) fn plural<'a>(n: usize, one: &'a str, many: &'a str) -> &'a str {
    if n == 1 {
        one
    } else {
        many
    }
}

/// The level of a FAIL as reports show it: `MUST`, `SHOULD, non-gating`,
/// `SHOULD, gating: --strict`, `MAY, informational`, or `unknown level`
/// for a FAIL without one (which gates).
pub(crate) fn level_label(c: &CaseResult, strict: bool) -> String {
    match c.level {
        None => "unknown level".to_string(),
        Some(l) => match l.gate() {
            Gate::Mandatory => l.keyword().to_string(),
            Gate::Advisory if strict => format!("{}, gating: --strict", l.keyword()),
            Gate::Advisory => format!("{}, non-gating", l.keyword()),
            Gate::Informational => format!("{}, informational", l.keyword()),
        },
    }
}

/// The requirement a FAIL violated, with its level:
/// `RFC4140-6.2-BA-RH2 (MUST)`. Falls back to the case's requirements when
/// the engine did not name one.
pub(crate) fn violated_label(c: &CaseResult, strict: bool) -> String {
    format!("{} ({})", violated_id(c), level_label(c, strict))
}

/// The requirement a FAIL violated, or the case's requirements when the
/// engine did not name one.
pub(crate) fn violated_id(c: &CaseResult) -> String {
    match &c.violated {
        Some(v) => v.clone(),
        None if c.requirements.is_empty() => "no requirement named".to_string(),
        None => c.requirements.join(", "),
    }
}

/// The prefix a non-gating FAIL's message carries (`SHOULD (non-gating): `)
/// so that a reader of a CI log sees at once that it does not gate; empty
/// for a gating FAIL.
pub(crate) fn non_gating_prefix(c: &CaseResult, strict: bool) -> String {
    if c.verdict != Verdict::Fail || c.gates(strict) {
        return String::new();
    }
    match c.level {
        Some(l) if l.gate() == Gate::Advisory => format!("{} (non-gating): ", l.keyword()),
        Some(l) => format!("{} (informational): ", l.keyword()),
        None => String::new(),
    }
}

/// A duration for people: `41 ms`, `1.25 s`, `3.977 s`, `2m 3s`.
pub fn format_ms(ms: u64) -> String {
    if ms < 1000 {
        format!("{ms} ms")
    } else if ms < 60_000 {
        let s = format!("{:.3}", ms as f64 / 1000.0);
        let s = s.trim_end_matches('0').trim_end_matches('.');
        format!("{s} s")
    } else {
        humantime::format_duration(std::time::Duration::from_secs(ms / 1000)).to_string()
    }
}

/// One line of a cell: newlines and tabs shown as `⏎` and spaces, so a
/// value cannot break a table.
pub(crate) fn one_line(s: &str) -> String {
    s.replace("\r\n", "⏎")
        .replace(['\n', '\r'], "⏎")
        .replace('\t', " ")
}

/// A diff as an aligned plain-text table (`field`, `expected`, `observed`),
/// each line prefixed by `indent`, ending with a newline.
pub(crate) fn diff_table(diff: &[FieldDiff], indent: &str) -> String {
    let rows: Vec<[String; 3]> = std::iter::once([
        "field".to_string(),
        "expected".to_string(),
        "observed".to_string(),
    ])
    .chain(diff.iter().map(|d| {
        [
            one_line(&d.field),
            one_line(&d.expected),
            one_line(&d.observed),
        ]
    }))
    .collect();
    let width = |i: usize| rows.iter().map(|r| r[i].chars().count()).max().unwrap_or(0);
    let (w0, w1) = (width(0), width(1));
    let mut out = String::new();
    for r in &rows {
        let line = format!("{indent}{:<w0$}  {:<w1$}  {}", r[0], r[1], r[2]);
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// The roles of a case that names several ("map, ar"); `None` for a
/// single-role case, whose reports do not name its role (the run's role
/// says it), so they read as they did before cases could name several.
pub(crate) fn several_roles(c: &CaseResult) -> Option<String> {
    (c.roles.len() > 1).then(|| c.roles.join(", "))
}

/// The role a case is reported under, once even when it names several:
/// the IUT's when the case applies to it, else the first it names (a
/// NOT-APPLICABLE case of another role).
pub(crate) fn report_role(r: &RunResults, c: &CaseResult) -> crate::requirements::Role {
    if c.roles.contains(r.profile.role) {
        r.profile.role
    } else {
        c.roles.first()
    }
}

/// The roles the run's cases are reported under ([`report_role`]), each
/// once, in [`crate::requirements::Role::ALL`] order.
pub(crate) fn roles_present(r: &RunResults) -> Vec<crate::requirements::Role> {
    crate::requirements::Role::ALL
        .into_iter()
        .filter(|role| r.cases.iter().any(|c| report_role(r, c) == *role))
        .collect()
}

/// Writes `contents` to `dir/name` through a temporary file and a rename,
/// so a reader never sees half a report.
pub(crate) fn write_file(dir: &Path, name: &str, contents: &[u8]) -> io::Result<PathBuf> {
    let path = dir.join(name);
    let tmp = dir.join(format!(".{name}.tmp"));
    fs::write(&tmp, contents)?;
    fs::rename(&tmp, &path)?;
    Ok(path)
}

/// `target` as a relative URL from the directory `from` (both made absolute
/// against the current directory, `.` and `..` resolved by their names), so
/// a report directory can link to a capture elsewhere in the tree. Path
/// characters that mean something in a URL are percent-encoded.
pub(crate) fn relative_link(from: &Path, target: &Path) -> String {
    let cwd = std::env::current_dir().unwrap_or_default();
    let abs = |p: &Path| {
        normalize(&if p.is_absolute() {
            p.to_path_buf()
        } else {
            cwd.join(p)
        })
    };
    let (from, target) = (abs(from), abs(target));
    let common = from
        .iter()
        .zip(target.iter())
        .take_while(|(a, b)| a == b)
        .count();
    let mut parts: Vec<String> = Vec::new();
    for _ in from.iter().skip(common) {
        parts.push("..".to_string());
    }
    for c in target.iter().skip(common) {
        parts.push(url_escape(&c.to_string_lossy()));
    }
    parts.join("/")
}

fn normalize(p: &Path) -> Vec<std::ffi::OsString> {
    let mut out: Vec<std::ffi::OsString> = Vec::new();
    for c in p.components() {
        match c {
            Component::Normal(s) => out.push(s.to_os_string()),
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir | Component::RootDir | Component::Prefix(_) => {}
        }
    }
    out
}

fn url_escape(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=:@".contains(&b) {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::fixture;

    #[test]
    fn conclusion_follows_exit_code() {
        let r = fixture::run_results();
        assert_eq!(r.summary.exit_code(), 1);
        assert_eq!(Conclusion::of(&r.summary), Conclusion::NonCompliant);
        assert_eq!(
            Conclusion::NonCompliant.reason(&r.summary),
            "1 gating FAIL: 1 against MUST-level requirements; 1 case in ERROR"
        );

        let strict = Summary::of(&r.cases, true);
        assert_eq!(
            Conclusion::of(&strict).reason(&strict),
            "2 gating FAILs: 1 against MUST-level requirements, 1 against SHOULD-level requirements (--strict); 1 case in ERROR"
        );

        let only_error: Vec<_> = r
            .cases
            .iter()
            .filter(|c| c.verdict != Verdict::Fail)
            .cloned()
            .collect();
        let s = Summary::of(&only_error, false);
        assert_eq!(Conclusion::of(&s), Conclusion::RunFailed);
        assert!(Conclusion::RunFailed
            .reason(&s)
            .starts_with("1 case ended in ERROR"));

        let compliant: Vec<_> = r
            .cases
            .iter()
            .filter(|c| c.verdict != Verdict::Error && !c.gates(false))
            .cloned()
            .collect();
        let s = Summary::of(&compliant, false);
        assert_eq!(Conclusion::of(&s), Conclusion::Compliant);
        assert_eq!(
            Conclusion::Compliant.reason(&s),
            "no gating FAIL and no ERROR; 1 non-gating FAIL reported"
        );
        assert!(Conclusion::Compliant
            .reason(&Summary::of(&[], false))
            .ends_with("no case passed, so nothing was shown"));
    }

    #[test]
    fn durations_read_well() {
        assert_eq!(format_ms(41), "41 ms");
        assert_eq!(format_ms(1250), "1.25 s");
        assert_eq!(format_ms(2000), "2 s");
        assert_eq!(format_ms(3977), "3.977 s");
        assert_eq!(format_ms(123_456), "2m 3s");
    }

    #[test]
    fn diff_table_aligns_columns() {
        let d = vec![
            FieldDiff {
                field: "mh.binding_ack.status".into(),
                expected: "below 128".into(),
                observed: "129".into(),
            },
            FieldDiff {
                field: "routing.type".into(),
                expected: "2".into(),
                observed: "absent".into(),
            },
        ];
        assert_eq!(
            diff_table(&d, "  "),
            "  field                  expected   observed\n\
             \x20 mh.binding_ack.status  below 128  129\n\
             \x20 routing.type           2          absent\n"
        );
    }

    #[test]
    fn relative_links_climb_out_of_the_report_dir() {
        assert_eq!(
            relative_link(
                Path::new("/w/reports/run1"),
                Path::new("/w/captures/run1/map.bu x#1.pcapng")
            ),
            "../../captures/run1/map.bu%20x%231.pcapng"
        );
        assert_eq!(
            relative_link(Path::new("reports/r"), Path::new("./captures/r/a.pcapng")),
            "../../captures/r/a.pcapng"
        );
        assert_eq!(
            relative_link(Path::new("/a/b"), Path::new("/a/b/c.pcapng")),
            "c.pcapng"
        );
    }

    #[test]
    fn write_all_writes_four_files() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("reports").join("run");
        let r = fixture::run_results();
        let paths = write_all(&dir, &r, None).unwrap();
        let names: Vec<_> = paths
            .iter()
            .map(|p| p.file_name().unwrap().to_str().unwrap().to_string())
            .collect();
        assert_eq!(names, [RESULTS_JSON, JUNIT_XML, SUMMARY_MD, REPORT_HTML]);
        for p in &paths {
            assert!(
                fs::metadata(p).unwrap().len() > 100,
                "{} is empty",
                p.display()
            );
        }
        // No temporary files left behind.
        assert_eq!(fs::read_dir(&dir).unwrap().count(), 4);
    }
}
