//! The suite's proof for a role: the role's corpus (`cases/<role>/`) run
//! against its reference implementation (`profiles/hmip6-ref-<role>.yaml`).
//!
//! - The conformant implementation passes every case, and none is
//!   NOT-APPLICABLE (the reference profile claims every PICS the corpus
//!   uses).
//! - Each fault switch (`hmip6-ref <role> --list-faults`) makes at least
//!   one of the cases citing the requirement it breaks FAIL on that
//!   requirement.
//! - Every case FAILs against at least one faulty implementation, so no
//!   case is one that cannot fail.
//!
//! Needs root (namespaces, veth pairs, raw sockets): without it the test
//! prints SKIP, except under HMIP6SPEC_REQUIRE_ALL=1 where that is a failure.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use hmip6spec::engine::{run_cases, Context, RunOptions};
pub use hmip6spec::requirements::Role;
use hmip6spec::suite::{Filter, Suite};
use hmip6spec::verdict::{CaseResult, Verdict};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn have_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } == 0 {
        return true;
    }
    if std::env::var("HMIP6SPEC_REQUIRE_ALL").as_deref() == Ok("1") {
        panic!("the conformance tests need root and HMIP6SPEC_REQUIRE_ALL=1 forbids skipping");
    }
    eprintln!("SKIP conformance: needs root (network namespaces, veth pairs, AF_PACKET)");
    false
}

/// (name, requirement ID) of every fault switch of `role`, from the
/// daemon itself.
fn faults(bin: &str, role: &str, at_least: usize) -> Vec<(String, String)> {
    let out = std::process::Command::new(bin)
        .args([role, "--list-faults"])
        .output()
        .expect("run hmip6-ref <role> --list-faults");
    assert!(out.status.success(), "--list-faults failed: {out:?}");
    let list: Vec<(String, String)> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| {
            let mut w = l.split_whitespace();
            Some((w.next()?.to_string(), w.next()?.to_string()))
        })
        .collect();
    assert!(
        list.len() >= at_least,
        "at least {at_least} {role} faults: {list:?}"
    );
    list
}

/// The daemon and the role it plays.
struct Reference<'a> {
    bin: &'a str,
    role: &'a str,
}

/// The reference profile of the role with the daemon's absolute path (in
/// its launch command and its actions) and `faults`.
fn profile_text(r: &Reference, faults: &[&str]) -> String {
    let text = std::fs::read_to_string(repo().join(format!("profiles/hmip6-ref-{}.yaml", r.role)))
        .unwrap();
    let mut head = format!("command: [{:?}, {},", r.bin, r.role);
    for f in faults {
        head.push_str(&format!(" --fault, {f},"));
    }
    let edited = text.replace(&format!("command: [hmip6-ref, {},", r.role), &head);
    assert_ne!(
        edited, text,
        "the profile's command no longer starts `[hmip6-ref, {},`",
        r.role
    );
    // Actions that ask the daemon through its control socket
    // (`hmip6-ref ctl ...`) need the same binary: it is not on the PATH.
    edited.replace(
        "command: [hmip6-ref, ctl,",
        &format!("command: [{:?}, ctl,", r.bin),
    )
}

fn context(r: &Reference, suite: &Suite, dir: &Path, name: &str, faults: &[&str]) -> Arc<Context> {
    let path = dir.join(format!("{name}.yaml"));
    std::fs::write(&path, profile_text(r, faults)).unwrap();
    let profile = suite
        .load_profile(&path)
        .unwrap_or_else(|d| panic!("profile {name}: {d:?}"));
    let captures = dir.join(name);
    std::fs::create_dir_all(&captures).unwrap();
    Arc::new(Context {
        profile,
        catalogue: suite.catalogue.clone(),
        parameters: suite.parameters.clone(),
        captures_dir: captures,
    })
}

fn select(
    suite: &Suite,
    role: Role,
    requirements: Vec<String>,
) -> Vec<hmip6spec::case::LoadedCase> {
    let filter = Filter {
        roles: vec![role],
        requirements,
        ..Filter::default()
    };
    filter
        .select(&suite.cases, &suite.catalogue)
        .unwrap()
        .into_iter()
        .cloned()
        .collect()
}

fn show(r: &CaseResult) -> String {
    format!(
        "{} {:?} violated={:?}: {}{}",
        r.id,
        r.verdict,
        r.violated,
        r.reason,
        r.iut_stderr
            .as_deref()
            .map(|e| format!("\n  IUT stderr: {e}"))
            .unwrap_or_default()
    )
}

/// Runs the checks of the module documentation for `role` against the
/// daemon `bin` (`hmip6-ref`), which must offer at least `min_faults`.
pub fn corpus_passes_the_reference_and_catches_every_fault(
    bin: &str,
    role: Role,
    min_faults: usize,
) {
    check(bin, role, min_faults, &[]);
}

/// As [`corpus_passes_the_reference_and_catches_every_fault`], for a corpus
/// still being written: the faults in `not_caught_yet` need not be caught,
/// and must indeed not be (a fault that a case starts catching must leave
/// the list, so the list can only shrink).
pub fn check(bin: &str, role: Role, min_faults: usize, not_caught_yet: &[&str]) {
    if !have_root() {
        return;
    }
    let name = role.to_string();
    let r = Reference { bin, role: &name };
    let suite = Suite::load(&repo().join("cases")).unwrap_or_else(|d| panic!("cases: {d:?}"));
    let dir = tempfile::tempdir().unwrap();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let jobs = hmip6spec::engine::default_jobs();

    // 1. The conformant implementation: every case PASSes.
    let all = select(&suite, role, Vec::new());
    assert!(!all.is_empty(), "no {role} case");
    let conformant = rt.block_on(run_cases(
        all.clone(),
        context(&r, &suite, dir.path(), "conformant", &[]),
        RunOptions { jobs },
        |_| {},
    ));
    let bad: Vec<String> = conformant
        .iter()
        .filter(|r| r.verdict != Verdict::Pass)
        .map(show)
        .collect();
    assert!(
        bad.is_empty(),
        "against the conformant reference {role}, {} of {} cases did not PASS:\n{}",
        bad.len(),
        conformant.len(),
        bad.join("\n")
    );

    // 2. Every fault: the cases citing its requirement, run against the daemon
    // with that fault; at least one must FAIL on that requirement. Faults
    // run side by side, each a run of its own.
    let faults = faults(bin, &name, min_faults);
    let mut failed_somewhere: BTreeSet<String> = BTreeSet::new();
    let mut missed = Vec::new();
    let runs: Vec<(String, String, Vec<CaseResult>)> = rt.block_on(async {
        let sem = Arc::new(tokio::sync::Semaphore::new(jobs));
        let mut handles = Vec::new();
        for (fault, requirement) in &faults {
            let cases = select(&suite, role, vec![requirement.clone()]);
            let ctx = context(&r, &suite, dir.path(), fault, &[fault.as_str()]);
            let sem = sem.clone();
            let (fault, requirement) = (fault.clone(), requirement.clone());
            handles.push(tokio::spawn(async move {
                let _permit = sem.acquire_owned().await.unwrap();
                let results = run_cases(cases, ctx, RunOptions { jobs: 1 }, |_| {}).await;
                (fault, requirement, results)
            }));
        }
        let mut out = Vec::new();
        for h in handles {
            out.push(h.await.unwrap());
        }
        out
    });
    let mut report = BTreeMap::new();
    for (fault, requirement, results) in &runs {
        let listed = not_caught_yet.contains(&fault.as_str());
        if results.is_empty() {
            if !listed {
                missed.push(format!("{fault}: no case cites {requirement}"));
            }
            continue;
        }
        for r in results.iter().filter(|r| r.verdict == Verdict::Fail) {
            failed_somewhere.insert(r.id.clone());
        }
        let caught: Vec<&str> = results
            .iter()
            .filter(|r| r.verdict == Verdict::Fail && r.violated.as_deref() == Some(requirement))
            .map(|r| r.id.as_str())
            .collect();
        if listed {
            if !caught.is_empty() {
                missed.push(format!(
                    "{fault} is listed as not caught yet, but {} catch it: take it off the list",
                    caught.join(", ")
                ));
            }
            continue;
        }
        if caught.is_empty() {
            missed.push(format!(
                "{fault} ({requirement}) was not caught:\n  {}",
                results.iter().map(show).collect::<Vec<_>>().join("\n  ")
            ));
        }
        report.insert(fault.clone(), caught.join(", "));
    }
    for (fault, caught) in &report {
        eprintln!("{fault:32} caught by {caught}");
    }
    assert!(missed.is_empty(), "{}", missed.join("\n"));

    // 3. No case that cannot fail.
    let never: Vec<&str> = all
        .iter()
        .map(|c| c.case.id.as_str())
        .filter(|id| !failed_somewhere.contains(*id))
        .collect();
    assert!(
        never.is_empty(),
        "these {role} cases FAIL against no faulty {role}: {never:?}"
    );
}
