//! What the engine tests (and the engine bench) share: the repository's
//! suite, the Linux-host profile with edits, and running cases by ID.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use hmip6spec::engine::{run_cases, Context, RunOptions};
use hmip6spec::profile::LoadedProfile;
use hmip6spec::suite::{Filter, Suite};
use hmip6spec::verdict::CaseResult;

pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The repository's cases, linted.
pub fn suite() -> Suite {
    match Suite::load(&repo().join("cases")) {
        Ok(s) => s,
        Err(d) => panic!("the cases do not lint: {d:?}"),
    }
}

/// `text` written to `dir/<name>.yaml` and loaded as a profile (lint must
/// find nothing).
pub fn load_profile(suite: &Suite, dir: &Path, name: &str, text: &str) -> LoadedProfile {
    let path = dir.join(format!("{name}.yaml"));
    std::fs::write(&path, text).unwrap();
    match suite.load_profile(&path) {
        Ok(p) => p,
        Err(d) => panic!("profile {name}: {d:?}"),
    }
}

/// profiles/linux-host.yaml with `edit` applied to its text.
pub fn linux_host(
    suite: &Suite,
    dir: &Path,
    name: &str,
    edit: impl Fn(String) -> String,
) -> LoadedProfile {
    let text = std::fs::read_to_string(repo().join("profiles/linux-host.yaml")).unwrap();
    load_profile(suite, dir, name, &edit(text))
}

/// An edit giving the Linux-host profile an IUT command (a stand-in
/// process: the kernel still does the IPv6) and a `ready` section.
pub fn with_command<'a>(script: &'a str, ready: &'a str) -> impl Fn(String) -> String + 'a {
    move |t: String| {
        t.replace(
            "  # No command: the IUT is the kernel of the IUT namespace itself.\n",
            &format!("  command: [sh, -c, {script:?}]\n  ready: {ready}\n"),
        )
    }
}

/// The cases whose IDs match the globs `ids`, in ID order.
pub fn select(suite: &Suite, ids: &[&str]) -> Vec<hmip6spec::case::LoadedCase> {
    let filter = Filter {
        ids: ids.iter().map(|s| s.to_string()).collect(),
        ..Filter::default()
    };
    filter
        .select(&suite.cases, &suite.catalogue)
        .unwrap()
        .into_iter()
        .cloned()
        .collect()
}

pub fn context(suite: &Suite, profile: LoadedProfile, dir: &Path) -> Arc<Context> {
    Arc::new(Context {
        profile,
        catalogue: suite.catalogue.clone(),
        parameters: suite.parameters.clone(),
        captures_dir: dir.to_path_buf(),
    })
}

/// Runs the cases matching `ids` against `profile`, `jobs` at once, on a
/// runtime of its own; captures go to `dir`.
pub fn run(
    suite: &Suite,
    profile: LoadedProfile,
    dir: &Path,
    ids: &[&str],
    jobs: usize,
) -> Vec<CaseResult> {
    let cases = select(suite, ids);
    assert!(!cases.is_empty(), "no case matches {ids:?}");
    run_selected(suite, profile, dir, cases, jobs)
}

/// Runs every case of `role` (a `[map, ar]` case counts for `ar`).
pub fn run_role(
    suite: &Suite,
    profile: LoadedProfile,
    dir: &Path,
    role: hmip6spec::requirements::Role,
    jobs: usize,
) -> Vec<CaseResult> {
    let filter = Filter {
        roles: vec![role],
        ..Filter::default()
    };
    let cases: Vec<_> = filter
        .select(&suite.cases, &suite.catalogue)
        .unwrap()
        .into_iter()
        .cloned()
        .collect();
    assert!(!cases.is_empty(), "no case for {role:?}");
    run_selected(suite, profile, dir, cases, jobs)
}

fn run_selected(
    suite: &Suite,
    profile: LoadedProfile,
    dir: &Path,
    cases: Vec<hmip6spec::case::LoadedCase>,
    jobs: usize,
) -> Vec<CaseResult> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(run_cases(
        cases,
        context(suite, profile, dir),
        RunOptions { jobs },
        |_| {},
    ))
}
