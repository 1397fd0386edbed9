//! `results.json`: the machine-readable truth of a run (DESIGN.md,
//! "Evidence and reports"). Every other report is a rendering of it: the
//! [`RunResults`] that [`read_results`] returns is all the reporters need
//! (the HTML report also takes the requirements catalogue when it is at
//! hand).
//!
//! # Format
//!
//! One JSON object, [`RunResults`] serialised by serde, pretty-printed, keys
//! in the order of the struct's fields, UTF-8, ending with a newline.
//!
//! | key | type | meaning |
//! | --- | --- | --- |
//! | `schema_version` | integer | the version of this format ([`RESULTS_SCHEMA_VERSION`], now 1) |
//! | `tool`, `tool_version` | string | `"hmip6spec"` and the version that wrote the file |
//! | `run_id` | string | the run's ID; also the name of its report and capture directories |
//! | `started_at` | string | RFC 3339, UTC |
//! | `duration_ms` | integer | wall-clock time of the whole run |
//! | `command` | array of strings | the command line |
//! | `hostname`, `kernel` | string | where it ran (`uname -r` for the kernel) |
//! | `jobs` | integer | cases run in parallel |
//! | `shard` | string, optional | `"i/n"` when the run was one shard of a larger one |
//! | `profile` | object | the IUT profile as the run used it: `path`, `name`, `role` (`map`, `mn`, `ar`, `host`), `pics` and `pixit` (objects, as in the profile file) |
//! | `summary` | object | counts: `total`, `pass`, `fail`, `inconclusive`, `not_applicable`, `error`; `fail_mandatory` (FAILs against MUST-level requirements), `fail_advisory` (SHOULD-level), `gating_fails` (FAILs that make the IUT non-compliant), `compliant` (no gating FAIL and no ERROR), `strict` (SHOULD-level FAILs gate) |
//! | `cases` | array of objects | one per case, in run order (below) |
//! | `captures_dir` | string | where this run's pcapng captures are |
//!
//! Each case:
//!
//! | key | type | meaning |
//! | --- | --- | --- |
//! | `id`, `title` | string | the case's ID and one-line title |
//! | `role` | string, or array of strings | the role the case tests (`"map"`); for a case of several roles, the list (`["map", "ar"]`) |
//! | `file` | string | the case file |
//! | `requirements` | array of strings | the requirement IDs the case checks (`cases/requirements.yaml`) |
//! | `verdict` | string | `PASS`, `FAIL`, `INCONCLUSIVE`, `NOT-APPLICABLE` or `ERROR` |
//! | `violated` | string, optional | FAIL: the requirement violated |
//! | `level` | string, optional | FAIL: its level: `MUST`, `MUST NOT`, `REQUIRED`, `SHALL`, `SHALL NOT`, `SHOULD`, `SHOULD NOT`, `RECOMMENDED`, `NOT RECOMMENDED`, `MAY`, `OPTIONAL` |
//! | `reason` | string | why, in words (for PASS: what was shown) |
//! | `diff` | array, optional | FAIL: `{field, expected, observed}` per differing field; `observed` is `absent` when the frame lacks the field |
//! | `steps` | array, optional | `{step, kind, summary, status, at_ms, link?, frame?}` per step: `step` is `3` or `4.2.1` in repeat blocks, `kind` one of `send`, `expect`, `expect_none`, `action`, `wait`; `status` `ok`, `failed` or `skipped`; `at_ms` from the case's start; `frame` the 1-based frame number on that link in the capture |
//! | `iut_stderr` | string, optional | the end of the IUT's stderr, for an ERROR or when the IUT exited |
//! | `capture` | string, optional | the case's pcapng |
//! | `duration_ms` | integer | the case's wall-clock time |
//!
//! Optional keys are left out when empty. Paths are relative to the
//! directory the run started in when possible.
//!
//! # Versioning
//!
//! - Adding a key is compatible and does not change `schema_version`:
//!   readers must ignore keys they do not know (this reader does).
//! - Removing or renaming a key, changing a type, a meaning or the set of
//!   values of an enumerated key bumps `schema_version`.
//! - [`read_results`] accepts exactly the version this build writes and
//!   names both versions otherwise, so a report is never re-rendered from a
//!   file it would misread.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use crate::verdict::{RunResults, RESULTS_SCHEMA_VERSION};

use super::{write_file, RESULTS_JSON};

/// The JSON text of `r`: pretty, keys in struct order, newline-terminated.
pub fn render_results(r: &RunResults) -> String {
    let mut s = serde_json::to_string_pretty(r).expect("RunResults always serialises");
    s.push('\n');
    s
}

/// Writes `dir/results.json` (the directory must exist) and returns its
/// path.
pub fn write_results(dir: &Path, r: &RunResults) -> io::Result<PathBuf> {
    write_file(dir, RESULTS_JSON, render_results(r).as_bytes())
}

/// Reads a `results.json`. Errors name the file and say what is wrong: not
/// JSON, not a results file, another schema version, or which key does not
/// fit (with its path, e.g. `cases[3].verdict`).
pub fn read_results(path: &Path) -> Result<RunResults, String> {
    let text = fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    parse_results(&text).map_err(|e| format!("{}: {e}", path.display()))
}

/// [`read_results`] on text already read.
pub fn parse_results(text: &str) -> Result<RunResults, String> {
    let value: serde_json::Value =
        serde_json::from_str(text).map_err(|e| format!("not valid JSON: {e}"))?;
    let Some(obj) = value.as_object() else {
        return Err("not a hmip6spec results file: expected a JSON object".into());
    };
    match obj.get("schema_version") {
        None => {
            return Err("not a hmip6spec results file: it has no \"schema_version\" key".into())
        }
        Some(v) => match v.as_u64() {
            Some(n) if n == u64::from(RESULTS_SCHEMA_VERSION) => {}
            Some(n) => {
                let hint = if n > u64::from(RESULTS_SCHEMA_VERSION) {
                    "a newer hmip6spec wrote it; read it with that version"
                } else {
                    "an older hmip6spec wrote it; read it with that version or run the suite again"
                };
                return Err(format!(
                    "results schema_version {n} is not supported: this hmip6spec ({}) reads schema_version {RESULTS_SCHEMA_VERSION} only ({hint})",
                    env!("CARGO_PKG_VERSION")
                ));
            }
            None => {
                return Err(format!(
                    "\"schema_version\" must be a non-negative integer, found {v}"
                ))
            }
        },
    }
    serde_path_to_error::deserialize(&value).map_err(|e| {
        let at = e.path().to_string();
        format!("does not fit the results format at {at}: {}", e.inner())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::fixture;

    #[test]
    fn round_trips() {
        let tmp = tempfile::tempdir().unwrap();
        let r = fixture::run_results();
        let path = write_results(tmp.path(), &r).unwrap();
        assert_eq!(path, tmp.path().join("results.json"));
        let back = read_results(&path).unwrap();
        assert_eq!(back, r);
        // Writing it again gives the same bytes: stable output.
        assert_eq!(render_results(&back), fs::read_to_string(&path).unwrap());
    }

    #[test]
    fn keys_in_struct_order_and_empty_optionals_left_out() {
        let text = render_results(&fixture::run_results());
        assert!(text.ends_with("}\n"));
        let pos = |k: &str| {
            text.find(&format!("\n  \"{k}\":"))
                .unwrap_or_else(|| panic!("no top-level key {k}"))
        };
        let order = [
            "schema_version",
            "tool",
            "tool_version",
            "run_id",
            "started_at",
            "duration_ms",
            "command",
            "hostname",
            "kernel",
            "jobs",
            "profile",
            "summary",
            "cases",
            "captures_dir",
        ];
        for w in order.windows(2) {
            assert!(pos(w[0]) < pos(w[1]), "{} before {}", w[0], w[1]);
        }
        assert!(!text.contains("\"shard\""));
        assert!(text.contains("\"verdict\": \"NOT-APPLICABLE\""));
        assert!(text.contains("\"level\": \"SHOULD\""));
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        let na = &v["cases"][5];
        assert_eq!(na["verdict"], "NOT-APPLICABLE");
        assert!(na.get("diff").is_none() && na.get("steps").is_none());
    }

    /// `role` is a string for a single-role case, as before lists, and a
    /// list for a case of several roles; both read back.
    #[test]
    fn role_is_a_string_or_a_list() {
        let r = fixture::run_results();
        let v = serde_json::to_value(&r).unwrap();
        let role = |id: &str| {
            v["cases"]
                .as_array()
                .unwrap()
                .iter()
                .find(|c| c["id"] == id)
                .unwrap()["role"]
                .clone()
        };
        assert_eq!(role("map.bu.ba-carries-rh2"), serde_json::json!("map"));
        assert_eq!(
            role("map.ra.preference-default"),
            serde_json::json!(["map", "ar"])
        );
        let back: RunResults = serde_json::from_value(v).unwrap();
        assert_eq!(back, r);
    }

    #[test]
    fn rejects_another_schema_version() {
        let mut v = serde_json::to_value(fixture::run_results()).unwrap();
        v["schema_version"] = 2.into();
        let e = parse_results(&v.to_string()).unwrap_err();
        assert!(e.contains("schema_version 2 is not supported"), "{e}");
        assert!(e.contains("reads schema_version 1 only"), "{e}");
        assert!(e.contains("newer hmip6spec"), "{e}");

        v["schema_version"] = 0.into();
        let e = parse_results(&v.to_string()).unwrap_err();
        assert!(e.contains("older hmip6spec"), "{e}");

        v["schema_version"] = "1".into();
        let e = parse_results(&v.to_string()).unwrap_err();
        assert!(e.contains("must be a non-negative integer"), "{e}");

        v.as_object_mut().unwrap().remove("schema_version");
        let e = parse_results(&v.to_string()).unwrap_err();
        assert!(e.contains("no \"schema_version\""), "{e}");
    }

    #[test]
    fn errors_name_the_file_and_the_key() {
        let tmp = tempfile::tempdir().unwrap();
        let mut v = serde_json::to_value(fixture::run_results()).unwrap();
        v["cases"][3]["verdict"] = "MAYBE".into();
        let path = tmp.path().join("results.json");
        fs::write(&path, v.to_string()).unwrap();
        let e = read_results(&path).unwrap_err();
        assert!(e.starts_with(&path.display().to_string()), "{e}");
        assert!(e.contains("cases[3].verdict"), "{e}");
        assert!(e.contains("MAYBE"), "{e}");

        fs::write(&path, "[1, 2").unwrap();
        assert!(read_results(&path).unwrap_err().contains("not valid JSON"));
        let missing = read_results(&tmp.path().join("nope.json")).unwrap_err();
        assert!(missing.contains("nope.json"), "{missing}");
    }

    #[test]
    fn unknown_keys_are_ignored() {
        let mut v = serde_json::to_value(fixture::run_results()).unwrap();
        v["added_later"] = serde_json::json!({"x": 1});
        v["cases"][0]["added_later"] = 1.into();
        assert_eq!(
            parse_results(&v.to_string()).unwrap(),
            fixture::run_results()
        );
    }
}
