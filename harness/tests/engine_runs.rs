//! The engine end to end, as root: the Linux-host cases against the Linux
//! kernel (every one PASSes), against a kernel that ignores RAs (the cases
//! that need an address FAIL citing their requirement, those whose
//! precondition fails are INCONCLUSIVE), and against IUTs whose launch
//! misbehaves (ERROR with the reason, and the other cases still run).

mod common;

use common::engine::{linux_host, run as run_jobs, suite, with_command};
use common::kernel::{note, require_ping};
use hmip6spec::profile::LoadedProfile;
use hmip6spec::suite::Suite;
use hmip6spec::topology::testing::require_root;
use hmip6spec::verdict::{CaseResult, Summary, Verdict};
use std::path::Path;

fn profile(
    suite: &Suite,
    dir: &Path,
    name: &str,
    edit: impl Fn(String) -> String,
) -> LoadedProfile {
    linux_host(suite, dir, name, edit)
}

fn run(suite: &Suite, profile: LoadedProfile, dir: &Path, ids: &[&str]) -> Vec<CaseResult> {
    run_jobs(suite, profile, dir, ids, 4)
}

fn verdict_of<'a>(rs: &'a [CaseResult], id: &str) -> &'a CaseResult {
    rs.iter()
        .find(|r| r.id == id)
        .unwrap_or_else(|| panic!("no result for {id}"))
}

#[test]
fn linux_kernel_passes_every_host_case() {
    if !require_root("linux_kernel_passes_every_host_case")
        || !require_ping("linux_kernel_passes_every_host_case")
    {
        return;
    }
    let s = suite();
    let tmp = tempfile::tempdir().unwrap();
    let p = profile(&s, tmp.path(), "linux-host", |t| t);
    let rs = run(&s, p, tmp.path(), &["host.*"]);
    for r in &rs {
        note(&format!(
            "{} {} ({} ms): {}",
            r.verdict, r.id, r.duration_ms, r.reason
        ));
        assert_eq!(
            r.verdict,
            Verdict::Pass,
            "{}: {} {:?}",
            r.id,
            r.reason,
            r.diff
        );
        // Each case leaves a capture with its frames.
        let cap = r.capture.as_ref().expect("capture");
        assert!(
            std::fs::metadata(cap).unwrap().len() > 100,
            "{}",
            cap.display()
        );
    }
    assert_eq!(rs.len(), 4);
    assert_eq!(Summary::of(&rs, true).exit_code(), 0);
}

#[test]
fn kernel_ignoring_ras_fails_with_the_requirement() {
    if !require_root("kernel_ignoring_ras_fails_with_the_requirement")
        || !require_ping("kernel_ignoring_ras_fails_with_the_requirement")
    {
        return;
    }
    let s = suite();
    let tmp = tempfile::tempdir().unwrap();
    // A host that does not process RAs at all: it forms no address.
    let p = profile(&s, tmp.path(), "no-ra", |t| {
        t.replace("accept_ra: 2", "accept_ra: 0")
    });
    let rs = run(&s, p, tmp.path(), &["host.*"]);
    let fail = verdict_of(&rs, "host.map-option.ignored-autoconfigures");
    assert_eq!(fail.verdict, Verdict::Fail, "{}", fail.reason);
    assert_eq!(
        fail.violated.as_deref(),
        Some("RFC4861-6.1.2-RA-IGNORE-UNRECOGNIZED")
    );
    assert!(
        fail.diff
            .iter()
            .any(|d| d.field == "icmpv6.neighbor_solicit.target" || d.field == "(frame)"),
        "{:?}",
        fail.diff
    );
    assert_eq!(
        verdict_of(&rs, "host.map-option.odd-values-ignored").verdict,
        Verdict::Fail
    );
    // Preconditions that did not hold: INCONCLUSIVE, not FAIL.
    let inc = verdict_of(&rs, "host.map-option.plain-ipv6");
    assert_eq!(inc.verdict, Verdict::Inconclusive, "{}", inc.reason);
    let inc = verdict_of(&rs, "host.map-option.length-zero-discards-ra");
    assert_eq!(inc.verdict, Verdict::Inconclusive, "{}", inc.reason);
    assert_eq!(Summary::of(&rs, false).exit_code(), 1);
}

#[test]
fn a_misbehaving_launch_is_an_error_and_the_run_goes_on() {
    if !require_root("a_misbehaving_launch_is_an_error_and_the_run_goes_on") {
        return;
    }
    let s = suite();
    let tmp = tempfile::tempdir().unwrap();
    let ids = [
        "host.map-option.ignored-autoconfigures",
        "host.map-option.odd-values-ignored",
    ];
    // Exits at once, before its ready line.
    let p = profile(
        &s,
        tmp.path(),
        "exits",
        with_command("echo boom >&2; exit 3", "{stdout_line: ready, within: 2s}"),
    );
    let rs = run(&s, p, tmp.path(), &ids);
    assert_eq!(rs.len(), 2, "every case still runs");
    for r in &rs {
        assert_eq!(r.verdict, Verdict::Error, "{}", r.reason);
        assert!(r.reason.contains("exited"), "{}", r.reason);
        assert!(
            r.reason.contains("boom"),
            "stderr in the reason: {}",
            r.reason
        );
    }
    // Never ready.
    let p = profile(
        &s,
        tmp.path(),
        "never-ready",
        with_command("sleep 30", "{stdout_line: ready, within: 300ms}"),
    );
    let rs = run(&s, p, tmp.path(), &ids);
    assert_eq!(rs.len(), 2);
    for r in &rs {
        assert_eq!(r.verdict, Verdict::Error, "{}", r.reason);
        assert!(
            r.reason.contains("did not print its ready line"),
            "{}",
            r.reason
        );
        assert!(
            r.duration_ms < 5000,
            "the deadline holds: {} ms",
            r.duration_ms
        );
    }
    // Ready, then dies during the case (which lasts over 3 s).
    let p = profile(
        &s,
        tmp.path(),
        "dies",
        with_command(
            "echo ready; sleep 0.3; echo dying >&2; exit 1",
            "{stdout_line: ready, within: 2s}",
        ),
    );
    let rs = run(
        &s,
        p,
        tmp.path(),
        &["host.map-option.length-zero-discards-ra"],
    );
    assert_eq!(rs.len(), 1);
    for r in &rs {
        assert_eq!(r.verdict, Verdict::Error, "{}", r.reason);
        assert!(r.reason.contains("exited during the case"), "{}", r.reason);
        assert!(
            r.iut_stderr.as_deref().unwrap_or("").contains("dying"),
            "{:?}",
            r.iut_stderr
        );
    }
    // Hangs: ready, then does nothing (the kernel still is the IUT's
    // stack): the case runs to its verdict and the process is killed.
    let p = profile(
        &s,
        tmp.path(),
        "hangs",
        with_command("echo ready; exec sleep 60", "{stdout_line: ready}"),
    );
    let rs = run(&s, p, tmp.path(), &ids[..1]);
    assert_eq!(rs[0].verdict, Verdict::Pass, "{}", rs[0].reason);
    assert_eq!(Summary::of(&rs, false).exit_code(), 0);
}

/// Processes whose command line contains `marker`.
fn processes_with(marker: &str) -> usize {
    std::fs::read_dir("/proc")
        .map(|d| {
            d.flatten()
                .filter(|e| {
                    std::fs::read(e.path().join("cmdline"))
                        .map(|c| String::from_utf8_lossy(&c).contains(marker))
                        .unwrap_or(false)
                })
                .count()
        })
        .unwrap_or(0)
}

#[test]
fn an_action_that_does_not_wait_runs_on_and_dies_with_the_case() {
    if !require_root("an_action_that_does_not_wait_runs_on_and_dies_with_the_case")
        || !require_ping("an_action_that_does_not_wait_runs_on_and_dies_with_the_case")
    {
        return;
    }
    let s = suite();
    let tmp = tempfile::tempdir().unwrap();
    let marker = format!("hmip6spec-bg-{}", std::process::id());
    let p = profile(&s, tmp.path(), "background", |t| {
        t.replace(
            "    command: [ping, -6, -n, -c3, -i0.2, -W1, \"{args.dst}\"]\n    within: 5s",
            &format!(
                "    command: [sh, -c, \"ping -6 -n -c3 -i0.2 -W1 {{args.dst}}; sleep 60 # {marker}\"]\n    wait: false"
            ),
        )
    });
    let rs = run(&s, p, tmp.path(), &["host.map-option.plain-ipv6"]);
    // The echo request went out while the action ran on.
    assert_eq!(rs[0].verdict, Verdict::Pass, "{}", rs[0].reason);
    assert!(rs[0].steps.iter().any(|r| r.kind == "action"));
    assert_eq!(
        processes_with(&marker),
        0,
        "the background action outlived its case"
    );
}
