//! The lint corpus: `tests/lint_corpus/cases/` and `tests/lint_corpus/profiles/`
//! hold broken files, each breaking one thing (its first line says what).
//! Every file must give at least one located diagnostic, without a panic,
//! and the diagnostics are snapshots (`snapshots/lint_corpus__*.snap`), so a
//! change in what lint says shows in review. A folder under `cases/` is
//! linted as one suite (for problems between files: duplicate case IDs).
//!
//! The catalogues are `tests/lint_corpus/catalogue/`, copies frozen for the
//! corpus, so that the real catalogue can grow without touching these.
//!
//! The good files (`cases/` with its real catalogues, `profiles/*.yaml`)
//! must give no diagnostic at all.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};

use hmip6spec::case;
use hmip6spec::lint::{self, Catalogues};
use hmip6spec::profile::{self, ParameterCatalogue};
use hmip6spec::requirements::Catalogue;
use hmip6spec::suite::Suite;
use hmip6spec::yaml::Diagnostic;

fn manifest() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn corpus() -> PathBuf {
    manifest().join("tests").join("lint_corpus")
}

fn repo() -> PathBuf {
    manifest()
        .parent()
        .expect("the workspace root")
        .to_path_buf()
}

struct Cats {
    requirements: Catalogue,
    parameters: ParameterCatalogue,
}

impl Cats {
    fn load(dir: &Path) -> Cats {
        let requirements = Catalogue::load(&dir.join("requirements.yaml"))
            .unwrap_or_else(|d| panic!("{}: {d:?}", dir.display()));
        let (parameters, _) = ParameterCatalogue::load(&dir.join("pics.yaml"))
            .unwrap_or_else(|d| panic!("{}: {d}", dir.display()));
        Cats {
            requirements,
            parameters,
        }
    }

    fn get(&self) -> Catalogues<'_> {
        Catalogues {
            requirements: &self.requirements,
            parameters: &self.parameters,
        }
    }
}

/// The YAML files directly in `dir`, sorted.
fn yaml_files(dir: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("a directory entry").path())
        .filter(|p| p.is_file() && p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    out.sort();
    out
}

/// The folders directly in `dir`, sorted.
fn folders(dir: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("a directory entry").path())
        .filter(|p| p.is_dir())
        .collect();
    out.sort();
    out
}

/// Loads and lints case files together, as one suite would.
fn lint_case_files(files: &[PathBuf], cats: &Cats) -> Vec<Diagnostic> {
    let mut diags = Vec::new();
    let mut loaded = Vec::new();
    for f in files {
        match case::load(f) {
            Ok(c) => loaded.push(c),
            Err(d) => diags.push(d),
        }
    }
    diags.extend(lint::lint_cases(&loaded, &cats.get()));
    diags
}

fn lint_profile_file(file: &Path, cats: &Cats) -> Vec<Diagnostic> {
    match profile::load(file) {
        Ok(p) => lint::lint_profile(&p, &cats.get()),
        Err(d) => vec![d],
    }
}

/// Diagnostics one per line, paths relative to `tests/` (the snapshots must
/// not depend on where the repository is).
fn render(diags: &[Diagnostic]) -> String {
    let base = format!("{}/", manifest().join("tests").display());
    diags
        .iter()
        .map(|d| d.to_string().replace(&base, ""))
        .collect::<Vec<_>>()
        .join("\n")
}

/// One corpus entry: lint without panicking, at least one diagnostic, each
/// located in one of the entry's files; then the snapshot.
fn check_entry(name: &str, files: &[PathBuf], lint: impl FnOnce() -> Vec<Diagnostic>) {
    let diags = catch_unwind(AssertUnwindSafe(lint))
        .unwrap_or_else(|_| panic!("lint panicked on {files:?}"));
    assert!(!diags.is_empty(), "lint found nothing wrong in {files:?}");
    for d in &diags {
        assert!(
            d.at.line >= 1 && d.at.column >= 1,
            "diagnostic without a location: {d}"
        );
        assert!(
            files.contains(&d.file),
            "diagnostic in another file than the entry's: {d}"
        );
    }
    insta::assert_snapshot!(name, render(&diags));
}

/// Every corpus file starts with a comment saying what is broken.
fn check_first_line(file: &Path) {
    let text = std::fs::read_to_string(file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
    let first = text.lines().next().unwrap_or("");
    assert!(
        first.starts_with("# BROKEN: ") && first.len() > "# BROKEN: ".len(),
        "{}: the first line must say what is broken (`# BROKEN: ...`), found {first:?}",
        file.display()
    );
}

/// Runs every check, then fails once listing all that failed (so one run
/// shows every entry whose diagnostics changed, not just the first).
#[derive(Default)]
struct Failures(Vec<String>);

impl Failures {
    fn check(&mut self, name: &str, f: impl FnOnce()) {
        if let Err(e) = catch_unwind(AssertUnwindSafe(f)) {
            let msg = e
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            self.0.push(format!("{name}: {msg}"));
        }
    }

    fn finish(self) {
        assert!(
            self.0.is_empty(),
            "{} corpus entries failed:\n{}",
            self.0.len(),
            self.0.join("\n")
        );
    }
}

fn stem(p: &Path) -> String {
    p.file_stem()
        .expect("a file name")
        .to_string_lossy()
        .into_owned()
}

#[test]
fn broken_cases() {
    let cats = Cats::load(&corpus().join("catalogue"));
    let dir = corpus().join("cases");
    let files = yaml_files(&dir);
    assert!(files.len() >= 30, "only {} broken case files", files.len());
    let mut failures = Failures::default();
    for f in &files {
        let name = format!("cases-{}", stem(f));
        failures.check(&name.clone(), || {
            check_first_line(f);
            let files = vec![f.clone()];
            check_entry(&name, &files, || lint_case_files(&files, &cats));
        });
    }
    // Folders: problems between files, linted together.
    let groups = folders(&dir);
    assert!(!groups.is_empty(), "no multi-file entries under {dir:?}");
    for g in &groups {
        let files = yaml_files(g);
        assert!(
            files.len() >= 2,
            "{}: a folder entry needs two files",
            g.display()
        );
        let name = format!("cases-{}", stem(g));
        failures.check(&name.clone(), || {
            files.iter().for_each(|f| check_first_line(f));
            check_entry(&name, &files, || lint_case_files(&files, &cats));
        });
    }
    failures.finish();
}

#[test]
fn broken_profiles() {
    let cats = Cats::load(&corpus().join("catalogue"));
    let files = yaml_files(&corpus().join("profiles"));
    assert!(files.len() >= 12, "only {} broken profiles", files.len());
    let mut failures = Failures::default();
    for f in &files {
        let name = format!("profiles-{}", stem(f));
        failures.check(&name.clone(), || {
            check_first_line(f);
            let one = vec![f.clone()];
            check_entry(&name, &one, || lint_profile_file(f, &cats));
        });
    }
    failures.finish();
}

#[test]
fn corpus_is_large_enough() {
    let cases = yaml_files(&corpus().join("cases")).len() + folders(&corpus().join("cases")).len();
    let profiles = yaml_files(&corpus().join("profiles")).len();
    assert!(
        cases + profiles >= 36,
        "the corpus has {cases} case and {profiles} profile entries; expected at least 36"
    );
}

#[test]
fn good_cases_and_profiles_are_clean() {
    let cases = repo().join("cases");
    let suite = match catch_unwind(|| Suite::load(&cases)) {
        Ok(Ok(s)) => s,
        Ok(Err(d)) => panic!("cases/ does not lint clean:\n{}", render(&d)),
        Err(_) => panic!("lint panicked on cases/"),
    };
    assert!(
        suite
            .cases
            .iter()
            .any(|c| c.path.starts_with(cases.join("host"))),
        "no case under cases/host/"
    );
    // Each host case also alone (lint_cases on one file, as `lint FILE` does).
    let cats = Cats::load(&cases);
    for f in yaml_files(&cases.join("host")) {
        let d = lint_case_files(std::slice::from_ref(&f), &cats);
        assert!(d.is_empty(), "{}:\n{}", f.display(), render(&d));
    }
    let profiles = yaml_files(&repo().join("profiles"));
    assert!(!profiles.is_empty(), "no profile under profiles/");
    for p in profiles {
        let d = match suite.load_profile(&p) {
            Ok(_) => Vec::new(),
            Err(d) => d,
        };
        assert!(d.is_empty(), "{}:\n{}", p.display(), render(&d));
    }
}
