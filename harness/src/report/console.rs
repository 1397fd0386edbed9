//! Plain text for the terminal and for logs: a line per case as it ends,
//! the evidence of a case that did not pass, and the run's summary. Colour
//! is plain ANSI SGR codes, on only when [`use_color`] says so.

use std::ffi::OsStr;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use crate::verdict::{CaseResult, RunResults, StepStatus, Verdict};

use super::{diff_table, format_ms, one_line, plural, several_roles, violated_id, Conclusion};

const RESET: &str = "\x1b[0m";
const BOLD: &str = "\x1b[1m";
const DIM: &str = "\x1b[2m";
const RED: &str = "\x1b[31m";
const GREEN: &str = "\x1b[32m";
const YELLOW: &str = "\x1b[33m";
const MAGENTA: &str = "\x1b[35m";

/// The width of the longest verdict name (`NOT-APPLICABLE`), so case lines
/// align.
const VERDICT_WIDTH: usize = 14;

/// Whether to colour output going to a terminal (`is_terminal`) or not,
/// following <https://no-color.org> and <https://bixense.com/clicolors/>:
/// `NO_COLOR` set and non-empty turns colour off (it wins), else
/// `CLICOLOR_FORCE` set, non-empty and not `0` turns it on, else colour is
/// on for a terminal whose `TERM` is not `dumb`.
pub fn use_color(is_terminal: bool) -> bool {
    color_choice(
        is_terminal,
        std::env::var_os("NO_COLOR").as_deref(),
        std::env::var_os("CLICOLOR_FORCE").as_deref(),
        std::env::var_os("TERM").as_deref(),
    )
}

fn color_choice(
    is_terminal: bool,
    no_color: Option<&OsStr>,
    clicolor_force: Option<&OsStr>,
    term: Option<&OsStr>,
) -> bool {
    if no_color.is_some_and(|v| !v.is_empty()) {
        return false;
    }
    if clicolor_force.is_some_and(|v| !v.is_empty() && v != "0") {
        return true;
    }
    is_terminal && term != Some(OsStr::new("dumb"))
}

fn paint(s: &str, code: &str, color: bool) -> String {
    if color {
        format!("{code}{s}{RESET}")
    } else {
        s.to_string()
    }
}

fn verdict_color(v: Verdict) -> &'static str {
    match v {
        Verdict::Pass => GREEN,
        Verdict::Fail => RED,
        Verdict::Inconclusive => YELLOW,
        Verdict::NotApplicable => DIM,
        Verdict::Error => MAGENTA,
    }
}

/// The verdict's name, padded to align, coloured. The padding stays outside
/// the colour codes so columns align with and without colour.
fn verdict_cell(v: Verdict, color: bool) -> String {
    let pad = VERDICT_WIDTH - v.name().len();
    format!(
        "{}{}",
        paint(v.name(), verdict_color(v), color),
        " ".repeat(pad)
    )
}

/// `RFC4140-6.2-BA-RH2 (MUST)`, from what a FAIL carries.
/// Plain level keyword only: a case line does not know whether the run is
/// strict; the summary says which FAILs gate.
fn violated(c: &CaseResult) -> String {
    let level = c.level.map_or("level unknown", |l| l.keyword());
    format!("{} ({level})", violated_id(c))
}

fn first_line(s: &str) -> &str {
    s.lines().next().unwrap_or("")
}

/// One line for a finished case:
/// `PASS            map.bu.ba-carries-rh2  (41 ms)`; a case that names
/// several roles has them after its ID (`map.ra.x [map, ar]`). A FAIL adds
/// ` — RFC4140-6.2-BA-RH2 (MUST): reason`, the other verdicts that did not
/// pass add ` — reason` (its first line).
pub fn case_line(c: &CaseResult, color: bool) -> String {
    let mut line = format!(
        "{}  {}{}  ({})",
        verdict_cell(c.verdict, color),
        c.id,
        several_roles(c)
            .map(|r| format!(" [{r}]"))
            .unwrap_or_default(),
        format_ms(c.duration_ms)
    );
    match c.verdict {
        Verdict::Pass => {}
        Verdict::Fail => {
            let _ = write!(line, " — {}: {}", violated(c), first_line(&c.reason));
        }
        _ => {
            let _ = write!(line, " — {}", first_line(&c.reason));
        }
    }
    line
}

/// The evidence of a case, for a case that did not pass: a header line,
/// the violated requirement, the reason, the step that failed, the diff as
/// an aligned field/expected/observed table, the capture, and the IUT's
/// stderr indented. Ends with a newline.
pub fn render_failure_details(c: &CaseResult, color: bool) -> String {
    let mut out = String::new();
    let w = &mut out;
    let _ = writeln!(
        w,
        "{}  {}",
        paint(c.verdict.name(), verdict_color(c.verdict), color),
        paint(&c.id, BOLD, color)
    );
    let _ = writeln!(w, "    {}", one_line(&c.title));
    let label = |k: &str| paint(&format!("{k:<10}"), DIM, color);
    if let Some(roles) = several_roles(c) {
        let _ = writeln!(w, "  {}{roles}", label("roles"));
    }
    if c.verdict == Verdict::Fail {
        let _ = writeln!(w, "  {}{}", label("violated"), violated(c));
    } else if !c.requirements.is_empty() {
        let _ = writeln!(w, "  {}{}", label("checks"), c.requirements.join(", "));
    }
    let mut reason = c.reason.lines();
    let _ = writeln!(w, "  {}{}", label("reason"), reason.next().unwrap_or(""));
    for more in reason {
        let _ = writeln!(w, "  {:10}{more}", "");
    }
    let _ = writeln!(w, "  {}{}", label("file"), c.file.display());
    if let Some(s) = c.steps.iter().find(|s| s.status == StepStatus::Failed) {
        let mut at = format!("+{}", format_ms(s.at_ms));
        if let Some(link) = &s.link {
            let _ = write!(at, ", {link}");
            if let Some(f) = s.frame {
                let _ = write!(at, " frame {f}");
            }
        }
        let _ = writeln!(
            w,
            "  {}step {} {}: {} ({at})",
            label("failed at"),
            s.step,
            s.kind,
            one_line(&s.summary)
        );
    }
    if !c.diff.is_empty() {
        w.push('\n');
        let table = diff_table(&c.diff, "    ");
        let mut lines = table.lines();
        if let Some(head) = lines.next() {
            let _ = writeln!(w, "{}", paint(head, BOLD, color));
        }
        for l in lines {
            let _ = writeln!(w, "{l}");
        }
        w.push('\n');
    }
    if let Some(cap) = &c.capture {
        let _ = writeln!(w, "  {}{}", label("capture"), cap.display());
    }
    if let Some(err) = &c.iut_stderr {
        let _ = writeln!(w, "  {}", label("IUT stderr").trim_end());
        for l in err.trim_end_matches('\n').lines() {
            let _ = writeln!(w, "    | {l}");
        }
    }
    out
}

/// The end of a run: the counts, the conclusion with its reason, and where
/// the reports (`reports`, as [`super::write_all`] returned them; may be
/// empty) and the captures are. Ends with a newline.
pub fn render_summary(r: &RunResults, color: bool, reports: &[PathBuf]) -> String {
    let s = &r.summary;
    let mut out = String::new();
    let w = &mut out;
    let mut counts = Vec::new();
    for (v, n) in s.counts() {
        if n == 0 {
            continue;
        }
        let mut item = format!("{n} {}", paint(v.name(), verdict_color(v), color));
        if v == Verdict::Fail {
            let mut parts = Vec::new();
            if s.fail_mandatory > 0 {
                parts.push(format!("{} MUST", s.fail_mandatory));
            }
            if s.fail_advisory > 0 {
                let gating = if s.strict { "" } else { " non-gating" };
                parts.push(format!("{} SHOULD{gating}", s.fail_advisory));
            }
            let other = s.fail - s.fail_mandatory - s.fail_advisory;
            if other > 0 {
                parts.push(format!("{other} MAY"));
            }
            let _ = write!(item, " ({})", parts.join(", "));
        }
        counts.push(item);
    }
    let _ = writeln!(
        w,
        "{} {} in {}{}{}",
        s.total,
        plural(s.total, "case", "cases"),
        format_ms(r.duration_ms),
        if counts.is_empty() { "" } else { ": " },
        counts.join(", ")
    );
    let conclusion = Conclusion::of(s);
    let code = match conclusion {
        Conclusion::Compliant => GREEN,
        Conclusion::NonCompliant => RED,
        Conclusion::RunFailed => MAGENTA,
    };
    let _ = writeln!(
        w,
        "{}: {} (profile {}, exit status {})",
        paint(conclusion.label(), &format!("{BOLD}{code}"), color),
        conclusion.reason(s),
        r.profile.name,
        s.exit_code()
    );
    if !reports.is_empty() {
        let dir = reports[0].parent();
        if reports.iter().all(|p| p.parent() == dir) {
            let names: Vec<String> = reports
                .iter()
                .map(|p| p.file_name().unwrap_or_default().to_string_lossy().into())
                .collect();
            let _ = writeln!(
                w,
                "reports:  {}/ ({})",
                dir.unwrap_or(Path::new(".")).display(),
                names.join(", ")
            );
        } else {
            let names: Vec<String> = reports.iter().map(|p| p.display().to_string()).collect();
            let _ = writeln!(w, "reports:  {}", names.join(", "));
        }
    }
    let _ = writeln!(w, "captures: {}/", r.captures_dir.display());
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::fixture;

    fn strip_ansi(s: &str) -> String {
        let mut out = String::new();
        let mut chars = s.chars();
        while let Some(c) = chars.next() {
            if c == '\x1b' {
                for c in chars.by_ref() {
                    if c == 'm' {
                        break;
                    }
                }
            } else {
                out.push(c);
            }
        }
        out
    }

    #[test]
    fn no_color_wins_and_clicolor_force_forces() {
        let s = |v: &'static str| Some(OsStr::new(v));
        // NO_COLOR set and non-empty: off, even on a terminal, even forced.
        assert!(!color_choice(true, s("1"), None, s("xterm")));
        assert!(!color_choice(true, s("yes"), s("1"), s("xterm")));
        // NO_COLOR empty counts as unset.
        assert!(color_choice(true, s(""), None, s("xterm")));
        // CLICOLOR_FORCE: on without a terminal, unless empty or 0.
        assert!(color_choice(false, None, s("1"), None));
        assert!(!color_choice(false, None, s("0"), None));
        assert!(!color_choice(false, None, s(""), None));
        // Otherwise: a terminal that is not dumb.
        assert!(color_choice(true, None, None, s("xterm-256color")));
        assert!(color_choice(true, None, None, None));
        assert!(!color_choice(true, None, None, s("dumb")));
        assert!(!color_choice(false, None, None, s("xterm")));
    }

    #[test]
    fn case_lines() {
        let cases = fixture::cases();
        let lines: Vec<String> = cases.iter().map(|c| case_line(c, false)).collect();
        insta::assert_snapshot!(lines.join("\n"));
        assert_eq!(lines[0], "PASS            map.bu.ba-carries-rh2  (41 ms)");
        assert_eq!(
            lines[2],
            "FAIL            map.bu.rejects-offlink-lcoa  (57 ms) — RFC4140-6.1-LCOA-ONLINK (MUST): the BA accepted a BU from an LCoA outside the valid on-link prefixes"
        );
        assert!(lines[3].contains("RFC4140-7.1-PREF-DEFAULT (SHOULD): "));
    }

    #[test]
    fn colored_case_lines_color_only_the_verdict() {
        let cases = fixture::cases();
        let pass = case_line(&cases[0], true);
        assert!(
            pass.starts_with("\x1b[32mPASS\x1b[0m            map.bu"),
            "{pass:?}"
        );
        assert!(case_line(&cases[2], true).starts_with("\x1b[31mFAIL\x1b[0m"));
        assert!(case_line(&cases[4], true).starts_with("\x1b[33mINCONCLUSIVE\x1b[0m"));
        assert!(case_line(&cases[5], true).starts_with("\x1b[2mNOT-APPLICABLE\x1b[0m"));
        assert!(case_line(&cases[6], true).starts_with("\x1b[35mERROR\x1b[0m"));
        for c in &cases {
            assert_eq!(strip_ansi(&case_line(c, true)), case_line(c, false));
            assert!(!case_line(c, false).contains('\x1b'));
        }
    }

    #[test]
    fn failure_details() {
        let cases = fixture::cases();
        let text: Vec<String> = [2, 3, 4, 6]
            .iter()
            .map(|&i| render_failure_details(&cases[i], false))
            .collect();
        insta::assert_snapshot!(text.join("\n"));
        let fail = &text[0];
        assert!(fail.contains("    field                    expected      observed\n"));
        assert!(fail.contains("    mh.binding_ack.status    at least 128  0\n"));
        assert!(fail.contains("    routing.home_address     absent        2001:db8:ffff::2:2\n"));
        assert!(fail.contains("  capture   captures/20250115T102030Z-reference-map/map.bu.rejects-offlink-lcoa.pcapng\n"));
        let err = &text[3];
        assert!(err.contains("    | hmip6-ref: map: bind access0: Address already in use (os error 98)\n    | hmip6-ref: giving up\n"));
        for (i, t) in [2, 3, 4, 6].iter().zip(&text) {
            assert_eq!(&strip_ansi(&render_failure_details(&cases[*i], true)), t);
        }
    }

    #[test]
    fn summary() {
        let r = fixture::run_results();
        let reports: Vec<PathBuf> = ["results.json", "junit.xml", "summary.md", "report.html"]
            .iter()
            .map(|n| Path::new("reports/20250115T102030Z-reference-map").join(n))
            .collect();
        let text = render_summary(&r, false, &reports);
        insta::assert_snapshot!(text);
        assert!(text.contains("7 cases in 3.977 s: 2 PASS, 2 FAIL (1 MUST, 1 SHOULD non-gating), 1 INCONCLUSIVE, 1 NOT-APPLICABLE, 1 ERROR\n"));
        assert!(text.contains("NON-COMPLIANT: 1 gating FAIL"));
        assert!(text.contains("exit status 1"));
        assert!(text.contains("reports:  reports/20250115T102030Z-reference-map/ (results.json, junit.xml, summary.md, report.html)\n"));
        assert_eq!(strip_ansi(&render_summary(&r, true, &reports)), text);
        assert!(render_summary(&r, true, &[]).contains("\x1b[1m\x1b[31mNON-COMPLIANT\x1b[0m"));
        assert!(!render_summary(&r, false, &[]).contains("reports:"));
    }
}
