//! `summary.md`: the run in a page of GitHub-flavoured Markdown, for a pull
//! request comment, a CI job summary or an issue. A heading with the profile
//! and the conclusion, the counts, every case that did not pass, and the
//! evidence of each FAIL and ERROR in a `<details>` block.

use std::fmt::Write as _;
use std::io;
use std::path::{Path, PathBuf};

use crate::verdict::{CaseResult, RunResults, Verdict};

use super::{
    format_ms, level_label, several_roles, violated_label, write_file, Conclusion, SUMMARY_MD,
};

/// Markdown text: ASCII punctuation that could start markup is
/// backslash-escaped (CommonMark shows it literally), so a reason cannot
/// open a link, emphasis, raw HTML or a table cell. Line breaks become
/// `<br>`, which keeps a table row on one line.
pub(crate) fn text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let s = s.trim_end_matches(['\n', '\r']);
    for ch in s.chars() {
        match ch {
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '|' | '~' | '&' | '#' | '!' => {
                out.push('\\');
                out.push(ch);
            }
            '\n' => out.push_str("<br>"),
            '\r' => {}
            _ => out.push(ch),
        }
    }
    out
}

/// An inline code span that holds `s` whatever backticks it contains, with
/// `|` escaped for use in a table cell (GFM unescapes it inside code).
pub(crate) fn code(s: &str) -> String {
    let s = super::one_line(s).replace('|', "\\|");
    let longest = s.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest + 1);
    if s.starts_with('`') || s.ends_with('`') {
        format!("{fence} {s} {fence}")
    } else {
        format!("{fence}{s}{fence}")
    }
}

/// A fenced code block for `s`, with a fence longer than any run of
/// backticks inside.
fn fenced(s: &str, info: &str) -> String {
    let longest = s.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest.max(2) + 1);
    format!("{fence}{info}\n{}\n{fence}\n", s.trim_end_matches('\n'))
}

/// The order of the "not passed" table: FAIL first (what the IUT did
/// wrong), then ERROR, INCONCLUSIVE, NOT-APPLICABLE; run order within.
fn attention_rank(v: Verdict) -> u8 {
    match v {
        Verdict::Fail => 0,
        Verdict::Error => 1,
        Verdict::Inconclusive => 2,
        Verdict::NotApplicable => 3,
        Verdict::Pass => 4,
    }
}

fn requirement_cell(c: &CaseResult, strict: bool) -> String {
    if c.verdict == Verdict::Fail {
        text(&violated_label(c, strict))
    } else {
        text(&c.requirements.join(", "))
    }
}

/// The whole `summary.md`.
pub fn render_markdown(r: &RunResults) -> String {
    let s = &r.summary;
    let strict = s.strict;
    let conclusion = Conclusion::of(s);
    let mut out = String::new();
    let w = &mut out;

    let _ = writeln!(
        w,
        "# hmip6spec: {} ({}) — {}\n",
        text(&r.profile.name),
        r.profile.role,
        conclusion.label()
    );
    let _ = writeln!(
        w,
        "**{}**: {}.\n",
        conclusion.label(),
        text(&conclusion.reason(s))
    );
    let _ = writeln!(
        w,
        "Run {} started {} on {} (kernel {}), {}, {} {}{}{}; profile {}.\n",
        code(&r.run_id),
        text(&r.started_at),
        text(&r.hostname),
        text(&r.kernel),
        format_ms(r.duration_ms),
        text(&r.tool),
        text(&r.tool_version),
        if strict { ", --strict" } else { "" },
        r.shard
            .as_deref()
            .map(|sh| format!(", shard {}", text(sh)))
            .unwrap_or_default(),
        code(&r.profile.path.display().to_string()),
    );

    let _ = writeln!(w, "| Verdict | Cases |\n| --- | ---: |");
    let fail_detail = if s.fail > 0 {
        let mut parts = Vec::new();
        if s.fail_mandatory > 0 {
            parts.push(format!("{} MUST-level", s.fail_mandatory));
        }
        if s.fail_advisory > 0 {
            parts.push(format!(
                "{} SHOULD-level{}",
                s.fail_advisory,
                if strict { "" } else { ", non-gating" }
            ));
        }
        let other = s.fail - s.fail_mandatory - s.fail_advisory;
        if other > 0 {
            parts.push(format!("{other} MAY-level, informational"));
        }
        format!(" ({})", parts.join("; "))
    } else {
        String::new()
    };
    for (v, n) in s.counts() {
        let extra = if v == Verdict::Fail {
            fail_detail.as_str()
        } else {
            ""
        };
        let _ = writeln!(w, "| {v} | {n}{extra} |");
    }
    let _ = writeln!(w, "| **Total** | **{}** |\n", s.total);

    let mut not_passed: Vec<&CaseResult> = r
        .cases
        .iter()
        .filter(|c| c.verdict != Verdict::Pass)
        .collect();
    not_passed.sort_by_key(|c| attention_rank(c.verdict));
    if not_passed.is_empty() {
        let _ = writeln!(w, "Every case passed.\n");
    } else {
        let _ = writeln!(w, "## Cases that did not pass\n");
        let _ = writeln!(
            w,
            "| Verdict | Case | Requirement | Reason |\n| --- | --- | --- | --- |"
        );
        for c in &not_passed {
            let _ = writeln!(
                w,
                "| {} | {}{} | {} | {} |",
                c.verdict,
                code(&c.id),
                several_roles(c)
                    .map(|r| format!(" ({})", text(&r)))
                    .unwrap_or_default(),
                requirement_cell(c, strict),
                text(&c.reason)
            );
        }
        w.push('\n');
    }

    let detailed: Vec<&&CaseResult> = not_passed
        .iter()
        .filter(|c| matches!(c.verdict, Verdict::Fail | Verdict::Error))
        .collect();
    if !detailed.is_empty() {
        let _ = writeln!(w, "## Evidence\n");
    }
    for c in detailed {
        details(w, c, strict);
    }
    out
}

fn details(w: &mut String, c: &CaseResult, strict: bool) {
    // The <summary> line is HTML, so it is escaped as HTML.
    let head = match c.verdict {
        Verdict::Fail => format!(
            "FAIL <code>{}</code> — {}",
            html_escape(&c.id),
            html_escape(&violated_label(c, strict))
        ),
        _ => format!("{} <code>{}</code>", c.verdict, html_escape(&c.id)),
    };
    let _ = writeln!(w, "<details>\n<summary>{head}</summary>\n");
    let _ = writeln!(w, "{}\n", text(&c.title));
    if c.verdict == Verdict::Fail {
        let _ = writeln!(
            w,
            "- **Violated:** {} ({})",
            text(c.violated.as_deref().unwrap_or("no requirement named")),
            text(&level_label(c, strict))
        );
    }
    let _ = writeln!(w, "- **Reason:** {}", text(&c.reason));
    let _ = writeln!(
        w,
        "- **Requirements checked:** {}",
        text(&c.requirements.join(", "))
    );
    let _ = writeln!(
        w,
        "- **Case file:** {}",
        code(&c.file.display().to_string())
    );
    if let Some(cap) = &c.capture {
        let _ = writeln!(w, "- **Capture:** {}", code(&cap.display().to_string()));
    }
    let _ = writeln!(w, "- **Duration:** {}", format_ms(c.duration_ms));
    w.push('\n');
    if !c.diff.is_empty() {
        let _ = writeln!(w, "| Field | Expected | Observed |\n| --- | --- | --- |");
        for d in &c.diff {
            let _ = writeln!(
                w,
                "| {} | {} | {} |",
                code(&d.field),
                code(&d.expected),
                code(&d.observed)
            );
        }
        w.push('\n');
    }
    if let Some(err) = &c.iut_stderr {
        let _ = writeln!(w, "IUT stderr:\n");
        w.push_str(&fenced(err, "text"));
        w.push('\n');
    }
    let _ = writeln!(w, "</details>\n");
}

fn html_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(ch),
        }
    }
    out
}

/// Writes `dir/summary.md` (the directory must exist) and returns its path.
pub fn write_markdown(dir: &Path, r: &RunResults) -> io::Result<PathBuf> {
    write_file(dir, SUMMARY_MD, render_markdown(r).as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::fixture;
    use crate::verdict::Summary;

    #[test]
    fn snapshot() {
        insta::assert_snapshot!(render_markdown(&fixture::run_results()));
    }

    #[test]
    fn heading_says_profile_and_conclusion() {
        let r = fixture::run_results();
        let md = render_markdown(&r);
        assert!(md.starts_with("# hmip6spec: reference-map (map) — NON-COMPLIANT\n"));

        let only_ok: Vec<_> = r
            .cases
            .iter()
            .filter(|c| c.verdict == Verdict::Pass)
            .cloned()
            .collect();
        let mut ok = r.clone();
        ok.summary = Summary::of(&only_ok, false);
        ok.cases = only_ok;
        let md = render_markdown(&ok);
        assert!(
            md.starts_with("# hmip6spec: reference-map (map) — COMPLIANT\n"),
            "{md}"
        );
        assert!(md.contains("Every case passed."));
        assert!(!md.contains("<details>"));

        let mut failed = r.clone();
        failed.cases.retain(|c| c.verdict != Verdict::Fail);
        failed.summary = Summary::of(&failed.cases, false);
        assert!(
            render_markdown(&failed).starts_with("# hmip6spec: reference-map (map) — RUN FAILED\n")
        );
    }

    #[test]
    fn table_lists_every_non_pass_case_fail_first() {
        let md = render_markdown(&fixture::run_results());
        let rows: Vec<&str> = md
            .lines()
            .skip_while(|l| !l.starts_with("| Verdict | Case |"))
            .skip(2)
            .take_while(|l| l.starts_with('|'))
            .collect();
        let verdicts: Vec<&str> = rows
            .iter()
            .map(|l| l.split(" | ").next().unwrap().trim_start_matches("| "))
            .collect();
        assert_eq!(
            verdicts,
            ["FAIL", "FAIL", "ERROR", "INCONCLUSIVE", "NOT-APPLICABLE"]
        );
        assert!(rows[1].contains("RFC4140-7.1-PREF-DEFAULT (SHOULD, non-gating)"));
    }

    #[test]
    fn pipes_and_markup_in_cells_are_escaped() {
        let mut r = fixture::run_results();
        r.cases[2].reason = "status was 0 | lifetime 15\nsecond <b>line</b>".into();
        r.cases[2].diff[0].expected = "128 | 129".into();
        let md = render_markdown(&r);
        let row = md
            .lines()
            .find(|l| l.contains("`map.bu.rejects-offlink-lcoa`"))
            .unwrap();
        assert!(
            row.ends_with("| status was 0 \\| lifetime 15<br>second \\<b\\>line\\</b\\> |"),
            "{row}"
        );
        // Four cells: five unescaped pipes.
        let unescaped = row
            .char_indices()
            .filter(|&(i, c)| c == '|' && (i == 0 || row.as_bytes()[i - 1] != b'\\'))
            .count();
        assert_eq!(unescaped, 5, "{row}");
        assert!(md.contains("| `mh.binding_ack.status` | `128 \\| 129` | `0` |"));
    }

    #[test]
    fn code_spans_and_fences_survive_backticks() {
        assert_eq!(code("a`b"), "``a`b``");
        assert_eq!(code("`x"), "`` `x ``");
        assert_eq!(fenced("x ``` y\n", "text"), "````text\nx ``` y\n````\n");
    }

    #[test]
    fn details_carry_diff_capture_and_stderr() {
        let md = render_markdown(&fixture::run_results());
        assert!(md.contains(
            "<summary>FAIL <code>map.bu.rejects-offlink-lcoa</code> — RFC4140-6.1-LCOA-ONLINK (MUST)</summary>"
        ));
        assert!(md.contains(
            "- **Capture:** `captures/20250115T102030Z-reference-map/map.bu.rejects-offlink-lcoa.pcapng`"
        ));
        assert!(md.contains("| `routing.home_address` | `absent` | `2001:db8:ffff::2:2` |"));
        assert!(md.contains("```text\nhmip6-ref: map: bind access0: Address already in use (os error 98)\nhmip6-ref: giving up\n```"));
    }

    #[test]
    fn writes_summary_md() {
        let tmp = tempfile::tempdir().unwrap();
        let r = fixture::run_results();
        let p = write_markdown(tmp.path(), &r).unwrap();
        assert_eq!(p.file_name().unwrap(), "summary.md");
        assert_eq!(std::fs::read_to_string(p).unwrap(), render_markdown(&r));
    }
}
