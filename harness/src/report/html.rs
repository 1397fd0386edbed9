//! `report.html`: one self-contained file to hand to someone (inline CSS,
//! no script, no external asset). A header with the profile, the run and
//! the conclusion; a requirement matrix; then every case with its verdict,
//! requirements, reason, field-by-field diff, steps, a ladder diagram of
//! the steps as inline SVG and a link to its capture.
//!
//! The page is the template `report.html.j2` rendered by minijinja with
//! HTML autoescape on: every string from a case, a profile, the catalogue
//! or the IUT reaches the page escaped. Everything the template needs is
//! computed here into a plain view model (`Page`), including the ladder's
//! geometry, so the template only lays it out.

use std::collections::{BTreeMap, BTreeSet};
use std::io;
use std::path::{Path, PathBuf};

use minijinja::syntax::SyntaxConfig;
use minijinja::value::{Serde, Value};
use minijinja::Environment;
use serde::Serialize;

use crate::requirements::{Catalogue, Gate};
use crate::verdict::{CaseResult, FieldDiff, RunResults, StepRecord, StepStatus, Verdict};

use super::{format_ms, level_label, one_line, relative_link, write_file, Conclusion, REPORT_HTML};

const TEMPLATE_NAME: &str = "report.html.j2";
const TEMPLATE: &str = include_str!("report.html.j2");

/// Writes `dir/report.html` (the directory must exist) and returns its
/// path. Links to captures are relative to `dir`.
pub fn write_html(
    dir: &Path,
    r: &RunResults,
    catalogue: Option<&Catalogue>,
) -> io::Result<PathBuf> {
    let html = render_html(r, catalogue, dir).map_err(io::Error::other)?;
    write_file(dir, REPORT_HTML, html.as_bytes())
}

/// The HTML text of the report, for a file placed in `dir` (captures are
/// linked relative to it).
pub fn render_html(
    r: &RunResults,
    catalogue: Option<&Catalogue>,
    dir: &Path,
) -> Result<String, minijinja::Error> {
    let mut env = Environment::new();
    env.set_syntax(
        SyntaxConfig::builder()
            .trim_blocks(true)
            .lstrip_blocks(true)
            .build()?,
    );
    // A name ending .html.j2 turns HTML autoescape on.
    env.add_template(TEMPLATE_NAME, TEMPLATE)?;
    let page = page(r, catalogue, dir);
    env.get_template(TEMPLATE_NAME)?
        .render(Value::from(Serde(&page)))
}

/// The view model of the page.
#[derive(Serialize)]
struct Page {
    title: String,
    run: Vec<(&'static str, String)>,
    profile_name: String,
    profile_role: String,
    pics: Vec<(String, String)>,
    pixit: Vec<(String, String)>,
    conclusion: &'static str,
    conclusion_class: &'static str,
    conclusion_reason: String,
    exit_code: i32,
    counts: Vec<Count>,
    total: usize,
    matrix: Vec<MatrixRow>,
    has_catalogue: bool,
    coverage: Option<String>,
    not_covered: Vec<Uncovered>,
    cases: Vec<CaseView>,
}

#[derive(Serialize)]
struct Count {
    verdict: &'static str,
    class: &'static str,
    n: usize,
}

#[derive(Serialize)]
struct MatrixRow {
    id: String,
    anchor: String,
    level: String,
    section: String,
    /// The quoted statement, for the hover title.
    quote: Option<String>,
    /// The ID is not in the catalogue (only said when one was given).
    unknown: bool,
    result: &'static str,
    result_class: &'static str,
    result_note: String,
    cases: Vec<Citation>,
}

#[derive(Serialize)]
struct Citation {
    id: String,
    anchor: String,
    verdict: &'static str,
    class: &'static str,
    /// Why the case's verdict means something else for this requirement.
    note: String,
}

#[derive(Serialize)]
struct Uncovered {
    id: String,
    level: String,
    section: String,
    text: String,
}

#[derive(Serialize)]
struct ReqRef {
    id: String,
    anchor: String,
    level: String,
    quote: Option<String>,
}

#[derive(Serialize)]
struct CaseView {
    id: String,
    anchor: String,
    title: String,
    role: String,
    file: String,
    verdict: &'static str,
    class: &'static str,
    requirements: Vec<ReqRef>,
    violated: Option<String>,
    level: Option<String>,
    gating: bool,
    reason: String,
    diff: Vec<FieldDiff>,
    steps: Vec<StepView>,
    ladder: Option<Ladder>,
    capture: Option<String>,
    capture_href: Option<String>,
    iut_stderr: Option<String>,
    duration: String,
}

#[derive(Serialize)]
struct StepView {
    step: String,
    kind: String,
    summary: String,
    status: &'static str,
    at: String,
    link: String,
    frame: String,
}

/// A ladder diagram: one lifeline per link's tester side and one for the
/// IUT; a row per step.
#[derive(Serialize)]
struct Ladder {
    width: i64,
    height: i64,
    lifelines: Vec<Lifeline>,
    rows: Vec<LadderRow>,
}

#[derive(Serialize)]
struct Lifeline {
    x: i64,
    label: String,
    iut: bool,
}

#[derive(Serialize)]
struct LadderRow {
    y: i64,
    /// `ok`, `failed` or `skipped`.
    class: &'static str,
    time: String,
    /// The full step text, shown on hover.
    title: String,
    label: String,
    label_x: i64,
    /// An arrow from x1 to x2 at y, with its head's points.
    arrow: Option<(i64, i64, String)>,
    /// A dot on a lifeline, for steps that are not frames (wait, action,
    /// expect_none, an expect that nothing answered).
    dot: Option<i64>,
}

fn class(v: Verdict) -> &'static str {
    match v {
        Verdict::Pass => "pass",
        Verdict::Fail => "fail",
        Verdict::Inconclusive => "inconclusive",
        Verdict::NotApplicable => "na",
        Verdict::Error => "error",
    }
}

fn anchor(prefix: &str, id: &str) -> String {
    let safe: String = id
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("{prefix}-{safe}")
}

/// A command line as a shell would take it back: arguments with spaces or
/// quotes in single quotes.
fn shell_words(args: &[String]) -> String {
    args.iter()
        .map(|a| {
            if !a.is_empty()
                && a.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_./:=,+@%{}".contains(c))
            {
                a.clone()
            } else {
                format!("'{}'", a.replace('\'', "'\\''"))
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn json_text(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn page(r: &RunResults, catalogue: Option<&Catalogue>, dir: &Path) -> Page {
    let s = &r.summary;
    let strict = s.strict;
    let conclusion = Conclusion::of(s);
    let mut run = vec![
        ("Run", r.run_id.clone()),
        ("Started", r.started_at.clone()),
        ("Duration", format_ms(r.duration_ms)),
        ("Tool", format!("{} {}", r.tool, r.tool_version)),
        ("Host", format!("{} (kernel {})", r.hostname, r.kernel)),
        ("Command", shell_words(&r.command)),
        ("Jobs", r.jobs.to_string()),
        (
            "Mode",
            if strict {
                "strict: SHOULD-level FAILs gate".into()
            } else {
                "not strict: SHOULD-level FAILs are reported and do not gate".into()
            },
        ),
        ("Profile file", r.profile.path.display().to_string()),
        ("Captures", r.captures_dir.display().to_string()),
    ];
    if let Some(shard) = &r.shard {
        run.push(("Shard", shard.clone()));
    }
    let (coverage_line, not_covered) = match catalogue.map(|cat| coverage(r, cat)) {
        Some((line, list)) => (Some(line), list),
        None => (None, Vec::new()),
    };
    let kv = |m: &serde_json::Map<String, serde_json::Value>| {
        m.iter().map(|(k, v)| (k.clone(), json_text(v))).collect()
    };
    Page {
        title: format!(
            "hmip6spec: {} ({}) — {}",
            r.profile.name,
            r.profile.role,
            conclusion.label()
        ),
        run,
        profile_name: r.profile.name.clone(),
        profile_role: r.profile.role.to_string(),
        pics: kv(&r.profile.pics),
        pixit: kv(&r.profile.pixit),
        conclusion: conclusion.label(),
        conclusion_class: match conclusion {
            Conclusion::Compliant => "pass",
            Conclusion::NonCompliant => "fail",
            Conclusion::RunFailed => "error",
        },
        conclusion_reason: conclusion.reason(s),
        exit_code: s.exit_code(),
        counts: [
            (Verdict::Pass, s.pass),
            (Verdict::Fail, s.fail),
            (Verdict::Inconclusive, s.inconclusive),
            (Verdict::NotApplicable, s.not_applicable),
            (Verdict::Error, s.error),
        ]
        .into_iter()
        .map(|(v, n)| Count {
            verdict: v.name(),
            class: class(v),
            n,
        })
        .collect(),
        total: s.total,
        matrix: matrix(r, catalogue),
        has_catalogue: catalogue.is_some(),
        coverage: coverage_line,
        not_covered,
        cases: r
            .cases
            .iter()
            .map(|c| case_view(c, strict, catalogue, dir))
            .collect(),
    }
}

/// The IDs a case cites: its requirements and the one it violated.
fn cited(c: &CaseResult) -> impl Iterator<Item = &str> {
    c.requirements
        .iter()
        .map(String::as_str)
        .chain(c.violated.as_deref())
}

/// How important a verdict is for a requirement's row: a FAIL of the
/// requirement is the news, then a broken run, then what was not shown.
fn row_rank(v: Verdict) -> u8 {
    match v {
        Verdict::Fail => 4,
        Verdict::Error => 3,
        Verdict::Inconclusive => 2,
        Verdict::Pass => 1,
        Verdict::NotApplicable => 0,
    }
}

fn matrix(r: &RunResults, catalogue: Option<&Catalogue>) -> Vec<MatrixRow> {
    let mut by_id: BTreeMap<&str, Vec<&CaseResult>> = BTreeMap::new();
    for c in &r.cases {
        let ids: BTreeSet<&str> = cited(c).collect();
        for id in ids {
            by_id.entry(id).or_default().push(c);
        }
    }
    // Catalogue order when there is one, the IDs it lacks after; else by ID.
    let mut order: Vec<&str> = Vec::new();
    if let Some(cat) = catalogue {
        order.extend(
            cat.iter()
                .map(|q| q.id.as_str())
                .filter(|id| by_id.contains_key(id)),
        );
    }
    order.extend(
        by_id
            .keys()
            .copied()
            .filter(|id| catalogue.is_none_or(|cat| cat.get(id).is_none())),
    );

    order
        .into_iter()
        .map(|id| {
            let cases = &by_id[id];
            let entry = catalogue.and_then(|cat| cat.get(id));
            let failed_level = cases
                .iter()
                .find(|c| c.violated.as_deref() == Some(id))
                .and_then(|c| c.level);
            let level = entry
                .map(|q| q.level)
                .or(failed_level)
                .map(|l| l.keyword().to_string())
                .unwrap_or_default();
            let citations: Vec<Citation> = cases
                .iter()
                .map(|c| {
                    let note = match (&c.verdict, &c.violated) {
                        (Verdict::Fail, Some(other)) if other != id => {
                            format!("the case failed on {other}, so this was not shown")
                        }
                        _ => String::new(),
                    };
                    Citation {
                        id: c.id.clone(),
                        anchor: anchor("case", &c.id),
                        verdict: c.verdict.name(),
                        class: class(c.verdict),
                        note,
                    }
                })
                .collect();
            // The row's result: the most telling verdict of the cases
            // citing it, where a case that failed on another requirement
            // did not show this one (INCONCLUSIVE for this row).
            let result = cases
                .iter()
                .map(|c| match (&c.verdict, &c.violated) {
                    (Verdict::Fail, Some(other)) if other != id => Verdict::Inconclusive,
                    (v, _) => *v,
                })
                .max_by_key(|v| row_rank(*v))
                .unwrap_or(Verdict::NotApplicable);
            let result_note = match (result, failed_level.map(|l| l.gate())) {
                (Verdict::Fail, Some(Gate::Advisory)) if !r.summary.strict => {
                    "non-gating".to_string()
                }
                (Verdict::Fail, Some(Gate::Informational)) => "informational".to_string(),
                _ => String::new(),
            };
            MatrixRow {
                id: id.to_string(),
                anchor: anchor("req", id),
                level,
                section: entry
                    .map(|q| format!("{} §{}", q.source.name(), q.section))
                    .unwrap_or_default(),
                quote: entry.map(|q| q.shown_text()),
                unknown: catalogue.is_some() && entry.is_none(),
                result: result.name(),
                result_class: class(result),
                result_note,
                cases: citations,
            }
        })
        .collect()
}

/// The coverage line and the testable requirements binding the profile's
/// role that no case of this run cites.
fn coverage(r: &RunResults, cat: &Catalogue) -> (String, Vec<Uncovered>) {
    let cited: BTreeSet<&str> = r.cases.iter().flat_map(cited).collect();
    let role = r.profile.role;
    let testable: Vec<_> = cat
        .iter()
        .filter(|q| q.testable && q.roles.contains(&role))
        .collect();
    let not_covered: Vec<Uncovered> = testable
        .iter()
        .filter(|q| !cited.contains(q.id.as_str()))
        .map(|q| Uncovered {
            id: q.id.clone(),
            level: q.level.keyword().to_string(),
            section: format!("{} §{}", q.source.name(), q.section),
            text: q.shown_text(),
        })
        .collect();
    let line = format!(
        "{} of {} testable requirements binding the {role} role are cited by a case of this run.",
        testable.len() - not_covered.len(),
        testable.len()
    );
    (line, not_covered)
}

fn case_view(c: &CaseResult, strict: bool, catalogue: Option<&Catalogue>, dir: &Path) -> CaseView {
    let requirements = c
        .requirements
        .iter()
        .map(|id| {
            let entry = catalogue.and_then(|cat| cat.get(id));
            ReqRef {
                id: id.clone(),
                anchor: anchor("req", id),
                level: entry
                    .map(|q| q.level.keyword().to_string())
                    .unwrap_or_default(),
                quote: entry.map(|q| q.shown_text()),
            }
        })
        .collect();
    let is_fail = c.verdict == Verdict::Fail;
    CaseView {
        id: c.id.clone(),
        anchor: anchor("case", &c.id),
        title: c.title.clone(),
        role: c.roles.join(", "),
        file: c.file.display().to_string(),
        verdict: c.verdict.name(),
        class: class(c.verdict),
        requirements,
        violated: if is_fail {
            Some(
                c.violated
                    .clone()
                    .unwrap_or_else(|| "no requirement named".into()),
            )
        } else {
            None
        },
        level: is_fail.then(|| level_label(c, strict)),
        gating: c.gates(strict),
        reason: c.reason.clone(),
        diff: c.diff.clone(),
        steps: c.steps.iter().map(step_view).collect(),
        ladder: ladder(c),
        capture: c.capture.as_ref().map(|p| p.display().to_string()),
        capture_href: c.capture.as_ref().map(|p| relative_link(dir, p)),
        iut_stderr: c.iut_stderr.clone(),
        duration: format_ms(c.duration_ms),
    }
}

fn status_name(s: StepStatus) -> &'static str {
    match s {
        StepStatus::Ok => "ok",
        StepStatus::Failed => "failed",
        StepStatus::Skipped => "skipped",
    }
}

fn step_view(s: &StepRecord) -> StepView {
    StepView {
        step: s.step.clone(),
        kind: s.kind.clone(),
        summary: s.summary.clone(),
        status: status_name(s.status),
        at: format!("+{}", format_ms(s.at_ms)),
        link: s.link.clone().unwrap_or_default(),
        frame: s.frame.map(|f| f.to_string()).unwrap_or_default(),
    }
}

// Ladder geometry, in px.
const LADDER_TOP: i64 = 46;
const LADDER_ROW: i64 = 34;
const LADDER_FIRST_X: i64 = 130;
const LADDER_LINK_GAP: i64 = 160;
const LADDER_IUT_GAP: i64 = 460;
/// The width of a character of the 12px monospace labels, in tenths of a
/// px (a little more than most fonts' 7.2, so labels never overrun).
const LADDER_CHAR_TENTHS_PX: i64 = 76;

fn truncate(s: &str, max_chars: usize) -> String {
    let s = one_line(s);
    if s.chars().count() <= max_chars {
        s
    } else {
        let mut t: String = s.chars().take(max_chars.saturating_sub(1)).collect();
        t.push('…');
        t
    }
}

fn arrow(x1: i64, x2: i64, y: i64) -> (i64, i64, String) {
    let d = if x2 >= x1 { 1 } else { -1 };
    let head = format!(
        "{},{} {},{} {},{}",
        x2,
        y,
        x2 - d * 9,
        y - 5,
        x2 - d * 9,
        y + 5
    );
    (x1, x2, head)
}

/// The ladder of a case's steps; `None` for a case without steps.
fn ladder(c: &CaseResult) -> Option<Ladder> {
    if c.steps.is_empty() {
        return None;
    }
    let mut links: Vec<&str> = Vec::new();
    for s in &c.steps {
        if let Some(l) = s.link.as_deref() {
            if !links.contains(&l) {
                links.push(l);
            }
        }
    }
    let tester_x = |i: usize| LADDER_FIRST_X + i as i64 * LADDER_LINK_GAP;
    let n_testers = links.len().max(1);
    let iut_x = tester_x(n_testers - 1) + LADDER_IUT_GAP;
    let mut lifelines: Vec<Lifeline> = if links.is_empty() {
        vec![Lifeline {
            x: tester_x(0),
            label: "tester".into(),
            iut: false,
        }]
    } else {
        links
            .iter()
            .enumerate()
            .map(|(i, l)| Lifeline {
                x: tester_x(i),
                label: format!("tester · {l}"),
                iut: false,
            })
            .collect()
    };
    lifelines.push(Lifeline {
        x: iut_x,
        label: format!("IUT ({})", c.roles),
        iut: true,
    });

    let link_x = |s: &StepRecord| {
        s.link
            .as_deref()
            .and_then(|l| links.iter().position(|x| *x == l))
            .map_or(tester_x(0), tester_x)
    };
    let mut label_room: i64 = 0;
    let rows: Vec<LadderRow> = c
        .steps
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let y = LADDER_TOP + 24 + i as i64 * LADDER_ROW;
            let tx = link_x(s);
            let framed = s.frame.is_some() && s.status != StepStatus::Skipped;
            // send: tester → IUT; a frame that came (matched, or the one an
            // expectation judged wrong): IUT → tester.
            let (arrow_, dot) = match (s.kind.as_str(), s.status) {
                ("send", st) if st != StepStatus::Skipped => (Some(arrow(tx, iut_x, y)), None),
                ("expect", StepStatus::Ok) => (Some(arrow(iut_x, tx, y)), None),
                ("expect" | "expect_none", _) if framed => (Some(arrow(iut_x, tx, y)), None),
                ("action", _) => (None, Some(iut_x)),
                _ => (None, Some(tx)),
            };
            let prefix = match s.status {
                StepStatus::Ok => "",
                StepStatus::Failed => "✗ ",
                StepStatus::Skipped => "(skipped) ",
            };
            let text = format!("{prefix}{} {}: {}", s.step, s.kind, s.summary);
            // Labels stay left of the IUT's lifeline, except beside a dot
            // on it (actions), where the diagram grows to the right.
            let (label_x, room) = match (&arrow_, dot) {
                (Some((x1, x2, _)), _) => {
                    let left = *x1.min(x2);
                    (left + 8, (x1 - x2).abs() - 16)
                }
                (None, Some(x)) if x == iut_x => (x + 10, LADDER_IUT_GAP),
                (None, Some(x)) => (x + 10, iut_x - x - 18),
                (None, None) => (tx + 10, iut_x - tx - 18),
            };
            let max_chars = (room * 10 / LADDER_CHAR_TENTHS_PX).max(12) as usize;
            let label = truncate(&text, max_chars);
            label_room =
                label_room.max(label_x + label.chars().count() as i64 * LADDER_CHAR_TENTHS_PX / 10);
            LadderRow {
                y,
                class: status_name(s.status),
                time: format!("+{}", format_ms(s.at_ms)),
                title: text,
                label,
                label_x,
                arrow: arrow_,
                dot,
            }
        })
        .collect();
    let height = LADDER_TOP + 24 + rows.len() as i64 * LADDER_ROW;
    Some(Ladder {
        width: (iut_x + 80).max(label_room + 10),
        height,
        lifelines,
        rows,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::fixture;

    const DIR: &str = "reports/20250115T102030Z-reference-map";

    fn html(catalogue: bool) -> String {
        let r = fixture::run_results();
        let cat = fixture::catalogue();
        render_html(&r, catalogue.then_some(&cat), Path::new(DIR)).unwrap()
    }

    /// The `<article>` of a case.
    fn article<'a>(html: &'a str, id: &str) -> &'a str {
        let start = html
            .find(&format!("<article id=\"case-{id}\""))
            .unwrap_or_else(|| panic!("no article for {id}"));
        let rest = &html[start..];
        &rest[..rest.find("</article>").unwrap()]
    }

    #[test]
    fn self_contained() {
        let h = html(true);
        assert!(h.starts_with("<!DOCTYPE html>"));
        assert!(h.contains("<style>"));
        assert!(!h.contains("<script"));
        assert!(!h.contains("<link"));
        assert!(!h.contains(" src="));
        assert!(!h.contains("http:&#x2f;&#x2f;") && !h.contains("https:&#x2f;&#x2f;"));
        assert!(!h.contains("http://") && !h.contains("https://"));
        assert!(h.trim_end().ends_with("</html>"));
    }

    #[test]
    fn header_has_profile_run_and_conclusion() {
        let h = html(false);
        assert!(h.contains("<title>hmip6spec: reference-map (map) — NON-COMPLIANT</title>"));
        assert!(h.contains("20250115T102030Z-reference-map"));
        assert!(h.contains("2025-01-15T10:20:30Z"));
        assert!(h.contains("class=\"conclusion fail\""));
        assert!(h.contains("1 gating FAIL: 1 against MUST-level requirements; 1 case in ERROR"));
        assert!(h.contains("valid_onlink_prefixes"));
    }

    #[test]
    fn every_case_has_an_article() {
        let h = html(false);
        assert_eq!(h.matches("<article ").count(), 7);
        for c in fixture::cases() {
            let a = article(&h, &c.id);
            assert!(a.contains(&format!(">{}</span>", c.verdict)), "{a}");
        }
    }

    #[test]
    fn fail_article_has_diff_steps_ladder_and_capture_link() {
        let h = html(true);
        let a = article(&h, "map.bu.rejects-offlink-lcoa");
        assert!(a.contains("RFC4140-6.1-LCOA-ONLINK"));
        assert!(a.contains("MUST"));
        assert!(a.contains("<td><code>mh.binding_ack.status</code></td><td><code>at least 128</code></td><td><code>0</code></td>"), "{a}");
        assert!(a.contains("<table class=\"steps\">"));
        assert_eq!(a.matches("<tr class=\"step ").count(), 3);
        assert_eq!(a.matches("<svg ").count(), 1);
        // Step 1 (send) and step 2 (an answer judged wrong) are arrows; the
        // skipped expect_none is a dot.
        assert_eq!(a.matches("<polygon ").count(), 2);
        assert_eq!(a.matches("<circle ").count(), 1);
        assert!(a.contains("tester · access"));
        assert!(a.contains("IUT (map)"));
        assert!(a.contains(
            "href=\"..&#x2f;..&#x2f;captures&#x2f;20250115T102030Z-reference-map&#x2f;map.bu.rejects-offlink-lcoa.pcapng\""
        ), "{a}");
    }

    #[test]
    fn should_fail_says_non_gating() {
        let h = html(true);
        let a = article(&h, "map.ra.preference-default");
        assert!(a.contains("(SHOULD, non-gating)"), "{a}");
    }

    #[test]
    fn a_case_of_several_roles_names_them() {
        let h = html(true);
        let a = article(&h, "map.ra.preference-default");
        assert!(a.contains("<dt>Role</dt><dd>map, ar</dd>"), "{a}");
        assert!(a.contains("IUT (map or ar)"), "{a}");
        let one = article(&h, "map.bu.ba-carries-rh2");
        assert!(one.contains("<dt>Role</dt><dd>map</dd>"), "{one}");
    }

    #[test]
    fn error_article_has_stderr_and_no_ladder() {
        let h = html(false);
        let a = article(&h, "map.tunnel.decapsulates-to-lcoa");
        assert!(a.contains("<pre class=\"stderr\">hmip6-ref: map: bind access0: Address already in use (os error 98)\nhmip6-ref: giving up\n</pre>"), "{a}");
        assert!(!a.contains("<svg"));
        assert!(a.contains("&quot;ready&quot;"));
    }

    #[test]
    fn command_line_is_quoted() {
        let args = ["hmip6spec", "run", "--only", "map.*", "it's", ""].map(String::from);
        assert_eq!(
            shell_words(&args),
            "hmip6spec run --only 'map.*' 'it'\\''s' ''"
        );
    }

    #[test]
    fn ladder_geometry() {
        let cases = fixture::cases();
        let l = ladder(&cases[0]).unwrap();
        assert_eq!(l.lifelines.len(), 2);
        let (tester, iut) = (l.lifelines[0].x, l.lifelines[1].x);
        assert!(iut > tester);
        // send: tester → IUT; matched expect: IUT → tester.
        let (x1, x2, _) = l.rows[0].arrow.clone().unwrap();
        assert_eq!((x1, x2), (tester, iut));
        let (x1, x2, _) = l.rows[1].arrow.clone().unwrap();
        assert_eq!((x1, x2), (iut, tester));
        assert_eq!(l.rows[1].time, "+12 ms");
        assert!(l.rows.windows(2).all(|w| w[0].y < w[1].y));
        assert!(l.height > l.rows.last().unwrap().y);
        // Long labels are cut to fit and kept whole in the title.
        assert!(l.rows[0].label.ends_with('…') || l.rows[0].label == l.rows[0].title);
        assert!(l.width >= iut);
        // An expectation nothing answered is a dot, not an arrow.
        let l = ladder(&cases[4]).unwrap();
        assert!(l.rows[1].arrow.is_none() && l.rows[1].dot.is_some());
        // The case without steps has no ladder.
        assert!(ladder(&cases[6]).is_none());
    }

    #[test]
    fn matrix_with_catalogue() {
        let h = html(true);
        let start = h.find("<table class=\"matrix\">").unwrap();
        let m = &h[start..start + h[start..].find("</table>").unwrap()];
        // Every cited requirement, in catalogue order.
        let ids: Vec<&str> = m
            .match_indices("<tr id=\"req-")
            .map(|(i, _)| {
                let rest = &m[i + "<tr id=\"req-".len()..];
                &rest[..rest.find('"').unwrap()]
            })
            .collect();
        assert_eq!(
            ids,
            [
                "RFC4140-6.1-LCOA-ONLINK",
                "RFC4140-6.2-BA-RH2",
                "RFC4140-6.2-BCE-LIFETIME",
                "RFC4140-6.2-TUNNEL",
                "RFC4140-7.1-PREF-DEFAULT",
                "RFC4140-7.2-MAP-OPT-FORMAT",
                "RFC4140-7.2-MAP-OPT-LENGTH",
                "RFC4140-8.1-MN-HA-BU",
            ]
        );
        // The quoted text on hover.
        assert!(m.contains(
            "title=\"The Binding Acknowledgement MUST carry a type 2 routing header with the RCoA.\""
        ));
        // BA-RH2: PASS by one case; the other case failed on another
        // requirement, which does not make BA-RH2 fail.
        let row = &m[m.find("<tr id=\"req-RFC4140-6.2-BA-RH2\"").unwrap()..];
        let row = &row[..row.find("</tr>").unwrap()];
        assert!(
            row.contains("the case failed on RFC4140-6.1-LCOA-ONLINK"),
            "{row}"
        );
        assert!(
            row.contains("class=\"badge inconclusive\">INCONCLUSIVE"),
            "{row}"
        );
    }

    #[test]
    fn not_covered_lists_testable_requirements_of_the_role() {
        let h = html(true);
        let start = h.find("id=\"not-covered\"").unwrap();
        let nc = &h[start..];
        let nc = &nc[..nc.find("</section>").unwrap()];
        assert!(nc.contains("RFC4140-6.2-DAD"));
        assert!(nc.contains("RFC4140-7.2-RA-INTERVAL"));
        assert!(!nc.contains("RFC4140-6.2-KEYS"), "untestable");
        assert!(!nc.contains("RFC4140-8.1-MN-ONLY"), "another role");
        assert!(h.contains("7 of 9 testable requirements binding the map role are cited"));
        // The catalogue's text is escaped too.
        assert!(
            nc.contains("&lt;on&gt; the &quot;MN&#x27;s&quot; behalf &amp; answer"),
            "{nc}"
        );
        // Without a catalogue there is no such section.
        assert!(!html(false).contains("id=\"not-covered\""));
    }

    #[test]
    fn everything_is_escaped() {
        let mut r = fixture::run_results();
        r.cases[2].reason = "<script>alert(1)</script>".into();
        r.cases[2].diff[0].observed = "<img onerror=x>".into();
        r.cases[2].steps[0].summary = "<b>bold</b>".into();
        r.cases[6].iut_stderr = Some("</pre><script>x</script>".into());
        r.profile.name = "\"><script>".into();
        let h = render_html(&r, None, Path::new(DIR)).unwrap();
        assert!(!h.contains("<script"));
        assert!(!h.contains("<img"));
        assert!(!h.contains("<b>bold"));
        assert!(h.contains("&lt;script&gt;alert(1)&lt;&#x2f;script&gt;"));
    }

    #[test]
    fn writes_report_html() {
        let tmp = tempfile::tempdir().unwrap();
        let r = fixture::run_results();
        let p = write_html(tmp.path(), &r, None).unwrap();
        assert_eq!(p.file_name().unwrap(), "report.html");
        let text = std::fs::read_to_string(p).unwrap();
        assert!(text.contains("map.bu.ba-carries-rh2"));
    }
}
