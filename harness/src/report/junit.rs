//! `junit.xml`, for CI systems (GitLab, Jenkins, GitHub test reporters).
//!
//! - One `<testsuite>` per role present, named `hmip6spec.<role>`, carrying
//!   the run's properties (`run_id`, `profile`, `profile_role`,
//!   `tool_version`, `strict`, `started_at`, `conclusion`): JUnit has no
//!   properties on the `<testsuites>` root, so each suite repeats them.
//! - One `<testcase>` per case: name = case ID, classname =
//!   `hmip6spec.<role>`, time = its duration; properties `requirements` and
//!   `file`.
//! - PASS: success, the reason in `<system-out>`.
//! - FAIL: `<failure>`, message = the reason, type = the level (`MUST`,
//!   `SHOULD`, ...; `FAIL` when the engine named none), text = the violated
//!   requirement, the field-by-field diff as an aligned table and the
//!   capture. A FAIL that does not gate (SHOULD without `--strict`, MAY) is
//!   still a failure, so a CI reader sees it, but its message starts with
//!   `SHOULD (non-gating): `.
//! - ERROR: `<error>`, message = the reason, the IUT's stderr in
//!   `<system-err>`.
//! - NOT-APPLICABLE and INCONCLUSIVE: `<skipped>` with the reason, prefixed
//!   `INCONCLUSIVE: ` for the latter.

use std::io;
use std::path::{Path, PathBuf};
use std::time::Duration;

use quick_junit::{NonSuccessKind, Property, Report, TestCase, TestCaseStatus, TestSuite};

use crate::verdict::{CaseResult, RunResults, Verdict};

use super::{
    diff_table, non_gating_prefix, report_role, roles_present, several_roles, violated_label,
    write_file, Conclusion, JUNIT_XML,
};

/// The JUnit report of a run.
pub fn junit_report(r: &RunResults) -> Report {
    let strict = r.summary.strict;
    let conclusion = Conclusion::of(&r.summary);
    let mut report = Report::new(format!("hmip6spec {}", r.run_id));
    report.set_time(Duration::from_millis(r.duration_ms));
    for role in roles_present(r) {
        let name = format!("hmip6spec.{role}");
        let mut suite = TestSuite::new(name.clone());
        suite.add_properties(
            [
                ("run_id", r.run_id.clone()),
                ("profile", r.profile.name.clone()),
                ("profile_role", r.profile.role.to_string()),
                ("tool_version", r.tool_version.clone()),
                ("strict", strict.to_string()),
                ("started_at", r.started_at.clone()),
                ("conclusion", conclusion.label().to_string()),
            ]
            .map(|(k, v)| Property::new(k, v)),
        );
        let cases = r.cases.iter().filter(|c| report_role(r, c) == role);
        suite.set_time(Duration::from_millis(
            cases.clone().map(|c| c.duration_ms).sum(),
        ));
        suite.add_test_cases(cases.map(|c| test_case(c, &name, strict)));
        report.add_test_suite(suite);
    }
    report
}

fn test_case(c: &CaseResult, classname: &str, strict: bool) -> TestCase {
    let status = match c.verdict {
        Verdict::Pass => TestCaseStatus::success(),
        Verdict::Fail => {
            let mut s = TestCaseStatus::non_success(NonSuccessKind::Failure);
            s.set_message(format!("{}{}", non_gating_prefix(c, strict), c.reason))
                .set_type(c.level.map_or("FAIL", |l| l.keyword()))
                .set_description(failure_text(c, strict));
            s
        }
        Verdict::Error => {
            let mut s = TestCaseStatus::non_success(NonSuccessKind::Error);
            s.set_message(c.reason.clone()).set_type("ERROR");
            if let Some(cap) = &c.capture {
                s.set_description(format!("capture: {}", cap.display()));
            }
            s
        }
        Verdict::NotApplicable => {
            let mut s = TestCaseStatus::skipped();
            s.set_message(c.reason.clone()).set_type("NOT-APPLICABLE");
            s
        }
        Verdict::Inconclusive => {
            let mut s = TestCaseStatus::skipped();
            s.set_message(format!("INCONCLUSIVE: {}", c.reason))
                .set_type("INCONCLUSIVE");
            s
        }
    };
    let mut t = TestCase::new(c.id.clone(), status);
    t.set_classname(classname)
        .set_time(Duration::from_millis(c.duration_ms));
    t.add_property(Property::new("requirements", c.requirements.join(" ")));
    t.add_property(Property::new("file", c.file.display().to_string()));
    if let Some(roles) = several_roles(c) {
        t.add_property(Property::new("roles", roles));
    }
    if c.verdict == Verdict::Pass {
        t.set_system_out(c.reason.clone());
    }
    if let Some(err) = &c.iut_stderr {
        t.set_system_err(err.clone());
    }
    t
}

/// The text of a `<failure>`: what was violated, the diff, the capture.
fn failure_text(c: &CaseResult, strict: bool) -> String {
    let mut out = format!("violated: {}\n", violated_label(c, strict));
    out.push_str(&format!("case: {} ({})\n", c.title, c.file.display()));
    if !c.diff.is_empty() {
        out.push('\n');
        out.push_str(&diff_table(&c.diff, ""));
    }
    if let Some(cap) = &c.capture {
        out.push_str(&format!("\ncapture: {}\n", cap.display()));
    }
    out
}

/// The XML text of the JUnit report.
pub fn render_junit(r: &RunResults) -> String {
    junit_report(r)
        .to_string()
        .expect("a JUnit report of strings always serialises")
}

/// Writes `dir/junit.xml` (the directory must exist) and returns its path.
pub fn write_junit(dir: &Path, r: &RunResults) -> io::Result<PathBuf> {
    write_file(dir, JUNIT_XML, render_junit(r).as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::fixture;
    use crate::requirements::Role;
    use crate::verdict::Summary;

    fn xml() -> String {
        render_junit(&fixture::run_results())
    }

    /// The `<testcase ...>...</testcase>` element of `id`.
    fn element<'a>(xml: &'a str, id: &str) -> &'a str {
        let start = xml
            .find(&format!("<testcase name=\"{id}\""))
            .unwrap_or_else(|| panic!("no testcase {id}"));
        let rest = &xml[start..];
        let end = rest
            .find("</testcase>")
            .map_or_else(|| rest.find("/>").unwrap() + 2, |e| e + "</testcase>".len());
        &rest[..end]
    }

    #[test]
    fn parses_back_with_the_counts() {
        let text = xml();
        assert!(text.starts_with("<?xml"));
        let back = Report::deserialize_from_str(&text).expect("well-formed JUnit XML");
        assert_eq!(back.tests, 7);
        assert_eq!(back.failures, 2);
        assert_eq!(back.errors, 1);
        let names: Vec<_> = back.test_suites.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["hmip6spec.map", "hmip6spec.mn"]);
        assert_eq!(back.test_suites[0].tests, 6);
        assert_eq!(back.test_suites[0].disabled.unwrap_or(0), 0);
        assert_eq!(back.test_suites[1].tests, 1);
        for s in &back.test_suites {
            for c in &s.test_cases {
                assert_eq!(c.classname.as_ref().unwrap().as_str(), s.name.as_str());
            }
        }
        let props: Vec<_> = back.test_suites[0]
            .properties
            .iter()
            .map(|p| format!("{}={}", p.name.as_str(), p.value.as_str()))
            .collect();
        for want in [
            "run_id=20250115T102030Z-reference-map",
            "profile=reference-map",
            "tool_version=0.1.0",
            "strict=false",
            "conclusion=NON-COMPLIANT",
        ] {
            assert!(props.iter().any(|p| p == want), "{want} not in {props:?}");
        }
    }

    #[test]
    fn well_formed_by_tag_balance() {
        // A minimal check independent of quick-junit's own reader: every
        // opened element is closed in order.
        let text = xml();
        let mut stack: Vec<String> = Vec::new();
        let mut rest = text.as_str();
        while let Some(i) = rest.find('<') {
            rest = &rest[i + 1..];
            let end = rest.find('>').expect("unclosed tag");
            let tag = &rest[..end];
            rest = &rest[end + 1..];
            if tag.starts_with('?') || tag.starts_with('!') {
                continue;
            }
            let name: String = tag
                .trim_start_matches('/')
                .chars()
                .take_while(|c| !c.is_whitespace() && *c != '/')
                .collect();
            if let Some(closing) = tag.strip_prefix('/') {
                assert_eq!(stack.pop().as_deref(), Some(closing.trim()));
            } else if !tag.ends_with('/') {
                stack.push(name);
            }
        }
        assert!(stack.is_empty(), "unclosed: {stack:?}");
    }

    #[test]
    fn testcases_carry_name_classname_and_time() {
        let text = xml();
        let pass = element(&text, "map.bu.ba-carries-rh2");
        assert!(pass.contains("classname=\"hmip6spec.map\""), "{pass}");
        assert!(pass.contains("time=\"0.041\""), "{pass}");
        assert!(!pass.contains("<failure") && !pass.contains("<skipped"));
        assert!(pass.contains("RFC4140-6.2-BA-RH2"));
        let na = element(&text, "mn.bu.rcoa-to-ha");
        assert!(na.contains("classname=\"hmip6spec.mn\""), "{na}");
    }

    #[test]
    fn must_fail_is_a_failure_with_level_and_diff_table() {
        let text = xml();
        let f = element(&text, "map.bu.rejects-offlink-lcoa");
        assert!(
            f.contains(
                "message=\"the BA accepted a BU from an LCoA outside the valid on-link prefixes\""
            ),
            "{f}"
        );
        assert!(f.contains("type=\"MUST\""), "{f}");
        assert!(
            f.contains("violated: RFC4140-6.1-LCOA-ONLINK (MUST)"),
            "{f}"
        );
        assert!(
            f.contains("field                    expected      observed"),
            "{f}"
        );
        assert!(
            f.contains("mh.binding_ack.status    at least 128  0"),
            "{f}"
        );
        assert!(
            f.contains("routing.home_address     absent        2001:db8:ffff::2:2"),
            "{f}"
        );
        assert!(
            f.contains("capture: captures/20250115T102030Z-reference-map/map.bu.rejects-offlink-lcoa.pcapng"),
            "{f}"
        );
    }

    #[test]
    fn should_fail_is_a_failure_marked_non_gating_unless_strict() {
        let r = fixture::run_results();
        let text = render_junit(&r);
        let f = element(&text, "map.ra.preference-default");
        assert!(f.contains("<failure"), "{f}");
        assert!(f.contains("type=\"SHOULD\""), "{f}");
        assert!(
            f.contains("message=\"SHOULD (non-gating): the MAP option carried preference 7"),
            "{f}"
        );
        assert!(
            f.contains("RFC4140-7.1-PREF-DEFAULT (SHOULD, non-gating)"),
            "{f}"
        );

        let mut strict = r.clone();
        strict.summary = Summary::of(&strict.cases, true);
        let text = render_junit(&strict);
        let f = element(&text, "map.ra.preference-default");
        assert!(
            f.contains("message=\"the MAP option carried preference 7"),
            "{f}"
        );
        assert!(text.contains("<property name=\"strict\" value=\"true\"/>"));
    }

    /// A case of several roles is one test case, in the suite of the
    /// IUT's role when it applies to it, with its roles as a property; a
    /// single-role case has no such property.
    #[test]
    fn a_case_of_several_roles_is_reported_once() {
        let mut r = fixture::run_results();
        let text = render_junit(&r);
        let f = element(&text, "map.ra.preference-default");
        assert!(f.contains("classname=\"hmip6spec.map\""), "{f}");
        assert!(
            f.contains("<property name=\"roles\" value=\"map, ar\"/>"),
            "{f}"
        );
        assert_eq!(
            text.matches("name=\"map.ra.preference-default\"").count(),
            1
        );
        assert!(!element(&text, "map.bu.ba-carries-rh2").contains("name=\"roles\""));
        // Against an AR, the same case goes under hmip6spec.ar.
        r.profile.role = Role::Ar;
        let text = render_junit(&r);
        let f = element(&text, "map.ra.preference-default");
        assert!(f.contains("classname=\"hmip6spec.ar\""), "{f}");
    }

    #[test]
    fn error_has_stderr_and_skips_have_reasons() {
        let text = xml();
        let e = element(&text, "map.tunnel.decapsulates-to-lcoa");
        assert!(e.contains("<error message=\"the IUT exited with status 1 before printing &quot;ready&quot; (within 2s)\" type=\"ERROR\""), "{e}");
        assert!(e.contains("<system-err>hmip6-ref: map: bind access0: Address already in use (os error 98)\nhmip6-ref: giving up\n</system-err>"), "{e}");

        let i = element(&text, "map.bce.lifetime-expiry");
        assert!(
            i.contains("<skipped message=\"INCONCLUSIVE: precondition: the IUT never acknowledged"),
            "{i}"
        );
        let n = element(&text, "mn.bu.rcoa-to-ha");
        assert!(n.contains("<skipped message=\"the case tests an mn; the IUT is a map\" type=\"NOT-APPLICABLE\""), "{n}");
    }

    #[test]
    fn markup_in_reasons_is_escaped() {
        let mut r = fixture::run_results();
        r.cases[2].reason = "<script>alert(1)</script> & \"x\"".into();
        r.cases[6].iut_stderr = Some("panic at <here> & \u{1b}[31mred\u{1b}[0m".into());
        let text = render_junit(&r);
        assert!(!text.contains("<script>"));
        assert!(text.contains("&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;x&quot;"));
        assert!(!text.contains('\u{1b}'), "ANSI escapes are stripped");
        let back = Report::deserialize_from_str(&text).unwrap();
        assert_eq!(back.tests, 7);
    }

    #[test]
    fn writes_junit_xml() {
        let tmp = tempfile::tempdir().unwrap();
        let p = write_junit(tmp.path(), &fixture::run_results()).unwrap();
        assert_eq!(p.file_name().unwrap(), "junit.xml");
        assert_eq!(std::fs::read_to_string(p).unwrap(), xml());
    }
}
