//! The `hmip6spec` binary as a user runs it: `run` writes its reports and
//! captures and exits 0, 1 or 2 as documented, shards partition the cases,
//! it works as an unprivileged user through the rootless re-exec, and
//! `list`, `explain`, `coverage`, `lint` and `schema --check` work on the
//! repository's cases.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use hmip6spec::report::json::read_results;
use hmip6spec::requirements::Role;
use hmip6spec::topology::rootless;
use hmip6spec::topology::testing::{require_root, skip};
use hmip6spec::verdict::Verdict;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_hmip6spec"));
    c.current_dir(repo()).env("NO_COLOR", "1");
    c
}

fn text(o: &Output) -> String {
    format!(
        "status {}\nstdout:\n{}\nstderr:\n{}",
        o.status,
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// `run` with reports and captures in `dir`, run id `id`.
fn run(dir: &Path, id: &str, extra: &[&str]) -> Output {
    let reports = dir.join("reports");
    let captures = dir.join("captures");
    let mut c = bin();
    c.args(["run", "--run-id", id, "--reports"])
        .arg(&reports)
        .arg("--captures")
        .arg(&captures)
        .args(extra);
    c.output().unwrap()
}

fn ids_of(dir: &Path, id: &str) -> BTreeSet<String> {
    let r = read_results(&dir.join("reports").join(id).join("results.json")).unwrap();
    r.cases.iter().map(|c| c.id.clone()).collect()
}

#[test]
fn run_writes_reports_and_captures_and_exits_0() {
    if !require_root("run_writes_reports_and_captures_and_exits_0") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let o = run(tmp.path(), "r1", &["--profile", "profiles/linux-host.yaml"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("COMPLIANT"), "{out}");
    assert!(!out.contains('\u{1b}'), "NO_COLOR: no escape codes: {out}");
    let dir = tmp.path().join("reports/r1");
    for f in ["results.json", "junit.xml", "summary.md", "report.html"] {
        assert!(dir.join(f).is_file(), "{f} missing");
    }
    let r = read_results(&dir.join("results.json")).unwrap();
    assert_eq!(r.run_id, "r1");
    assert_eq!(r.profile.name, "linux-host");
    assert!(
        r.cases
            .iter()
            .filter(|c| c.roles.contains(Role::Host))
            .count()
            >= 4
    );
    for c in &r.cases {
        // The kernel is a host: it passes the host cases and the others
        // (MAP, ...) do not apply to it.
        let want = if c.roles.contains(Role::Host) {
            Verdict::Pass
        } else {
            Verdict::NotApplicable
        };
        assert_eq!(c.verdict, want, "{}: {}", c.id, c.reason);
        if want == Verdict::NotApplicable {
            continue; // nothing ran, so nothing was captured
        }
        let cap = c.capture.as_ref().expect("capture path");
        assert!(
            cap.starts_with(tmp.path().join("captures/r1")),
            "{}",
            cap.display()
        );
        assert!(cap.is_file());
    }
    let junit = std::fs::read_to_string(dir.join("junit.xml")).unwrap();
    assert!(junit.contains("hmip6spec.host"), "{junit}");
}

#[test]
fn a_non_compliant_iut_exits_1_and_a_broken_profile_2() {
    if !require_root("a_non_compliant_iut_exits_1_and_a_broken_profile_2") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let good = std::fs::read_to_string(repo().join("profiles/linux-host.yaml")).unwrap();
    let faulty = tmp.path().join("faulty.yaml");
    std::fs::write(&faulty, good.replace("accept_ra: 2", "accept_ra: 0")).unwrap();
    let o = run(tmp.path(), "r2", &["--profile", faulty.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("NON-COMPLIANT"),
        "{}",
        text(&o)
    );

    // A profile with an unknown field: nothing runs, the error is located.
    let broken = tmp.path().join("broken.yaml");
    std::fs::write(
        &broken,
        good.replace("role: host", "role: host\nrole_extra: 1"),
    )
    .unwrap();
    let o = run(tmp.path(), "r3", &["--profile", broken.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("broken.yaml:") && err.contains("unknown field `role_extra`"),
        "{err}"
    );
    assert!(!tmp.path().join("reports/r3").exists());

    // Filters that match nothing: the run itself failed.
    let o = run(
        tmp.path(),
        "r4",
        &[
            "--profile",
            "profiles/linux-host.yaml",
            "--case",
            "nothing.*",
        ],
    );
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
}

#[test]
fn shards_partition_the_cases() {
    if !require_root("shards_partition_the_cases") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let all = run(
        tmp.path(),
        "all",
        &["--profile", "profiles/linux-host.yaml", "-j", "4"],
    );
    assert_eq!(all.status.code(), Some(0), "{}", text(&all));
    let all = ids_of(tmp.path(), "all");
    let mut union = BTreeSet::new();
    for k in 1..=3 {
        let id = format!("s{k}");
        let o = run(
            tmp.path(),
            &id,
            &[
                "--profile",
                "profiles/linux-host.yaml",
                "--shard",
                &format!("{k}/3"),
                "-q",
            ],
        );
        // A shard may be empty only if there are fewer cases than shards.
        if o.status.code() == Some(2) && all.len() < 3 {
            continue;
        }
        assert_eq!(o.status.code(), Some(0), "{}", text(&o));
        let ids = ids_of(tmp.path(), &id);
        assert!(union.is_disjoint(&ids), "shards overlap: {union:?} {ids:?}");
        union.extend(ids);
    }
    assert_eq!(union, all);
    let o = run(
        tmp.path(),
        "bad",
        &["--profile", "profiles/linux-host.yaml", "--shard", "4/3"],
    );
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
}

#[test]
fn run_as_an_unprivileged_user() {
    if !require_root("run_as_an_unprivileged_user") {
        return;
    }
    if let Some(why) = rootless::known_blockers() {
        skip(
            "run_as_an_unprivileged_user",
            &format!("{}: {}", why.0, why.1),
        );
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    // nobody must be able to write the reports.
    let status = Command::new("chmod")
        .arg("0777")
        .arg(tmp.path())
        .status()
        .unwrap();
    assert!(status.success());
    let o = Command::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"])
        .arg(env!("CARGO_BIN_EXE_hmip6spec"))
        .args([
            "run",
            "--profile",
            "profiles/linux-host.yaml",
            "--run-id",
            "nobody",
            "--reports",
        ])
        .arg(tmp.path().join("reports"))
        .arg("--captures")
        .arg(tmp.path().join("captures"))
        .current_dir(repo())
        .env("NO_COLOR", "1")
        .env_remove(rootless::ROOTLESS_ENV)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(!ids_of(tmp.path(), "nobody").is_empty());
}

#[test]
fn list_explain_coverage_lint_and_schema() {
    let o = bin()
        .args(["list", "--profile", "profiles/linux-host.yaml"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.contains("host.map-option.plain-ipv6") && out.contains("[applies]"),
        "{out}"
    );

    let o = bin()
        .args(["explain", "RFC4861-6.1.2-RA-OPTION-LENGTH-ZERO"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.contains("greater than zero")
            && out.contains("host.map-option.length-zero-discards-ra"),
        "{out}"
    );

    let o = bin()
        .args(["explain", "host.map-option.plain-ipv6"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("Steps:"),
        "{}",
        text(&o)
    );

    let o = bin()
        .args(["explain", "RFC4140-6.2-BA-RH3"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("did you mean RFC4140-6.2-BA-RH2"),
        "{}",
        text(&o)
    );

    let o = bin().args(["coverage", "--role", "host"]).output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("0 not covered"),
        "{}",
        text(&o)
    );
    let o = bin().args(["coverage", "--json"]).output().unwrap();
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(v["covered"].as_array().is_some_and(|a| !a.is_empty()));
    assert!(v["untestable"].as_array().is_some_and(|a| !a.is_empty()));

    let o = bin()
        .args(["lint", "profiles/linux-host.yaml"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));

    let o = bin().args(["schema", "--check"]).output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
}
