//! The committed JSON Schemas (`cases/schema.json`, `profiles/schema.json`)
//! are what `hmip6spec schema` writes now; every case file and profile
//! names its schema on its first line (for editors: `# yaml-language-server:
//! $schema=<relative path>`), and validates against it.

use std::path::{Component, Path, PathBuf};

use hmip6spec::case::Case;
use hmip6spec::profile::Profile;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the workspace root")
        .to_path_buf()
}

/// What `hmip6spec schema` writes for `T` (commands::schema_text).
fn schema_text<T: schemars::JsonSchema>() -> String {
    let schema = schemars::schema_for!(T);
    let mut s = serde_json::to_string_pretty(&schema).expect("a schema serialises");
    s.push('\n');
    s
}

fn check_committed(path: &Path, want: &str) {
    let have = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("{}: {e}; run `hmip6spec schema`", path.display()));
    assert!(
        have == want,
        "{} is out of date: run `hmip6spec schema` from the repository root",
        path.display()
    );
}

#[test]
fn committed_schemas_are_current() {
    check_committed(&repo().join("cases/schema.json"), &schema_text::<Case>());
    check_committed(
        &repo().join("profiles/schema.json"),
        &schema_text::<Profile>(),
    );
}

/// The case files: every YAML file under a role folder of `cases/`
/// (files directly in `cases/` are catalogues).
fn case_files() -> Vec<PathBuf> {
    let files = hmip6spec::case::discover(&repo().join("cases")).expect("cases/ lists");
    assert!(!files.is_empty(), "no case file under cases/");
    files
}

fn profile_files() -> Vec<PathBuf> {
    let dir = repo().join("profiles");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("a directory entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml" || e == "yml"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no profile under profiles/");
    files
}

/// `a/b/../c` -> `a/c`, without touching the file system.
fn normalise(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

fn check_modeline(file: &Path, schema: &Path) {
    const PREFIX: &str = "# yaml-language-server: $schema=";
    let text = std::fs::read_to_string(file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
    let first = text.lines().next().unwrap_or("");
    let rel = first.strip_prefix(PREFIX).unwrap_or_else(|| {
        panic!(
            "{}: the first line must be `{PREFIX}<relative path to {}>`, found {first:?}",
            file.display(),
            schema.display()
        )
    });
    let rel = rel.trim();
    assert!(
        Path::new(rel).is_relative() && !rel.contains("://"),
        "{}: the schema path {rel:?} must be relative",
        file.display()
    );
    let target = normalise(&file.parent().expect("a folder").join(rel));
    assert_eq!(
        target,
        normalise(schema),
        "{}: `$schema={rel}` does not point at {}",
        file.display(),
        schema.display()
    );
}

#[test]
fn every_file_names_its_schema() {
    let cases_schema = repo().join("cases/schema.json");
    for f in case_files() {
        check_modeline(&f, &cases_schema);
    }
    let profiles_schema = repo().join("profiles/schema.json");
    for f in profile_files() {
        check_modeline(&f, &profiles_schema);
    }
}

/// Validates each file, as an editor would, against the committed schema.
fn validate_all(schema: &Path, files: &[PathBuf]) {
    let text =
        std::fs::read_to_string(schema).unwrap_or_else(|e| panic!("{}: {e}", schema.display()));
    let schema_json: serde_json::Value = serde_json::from_str(&text).expect("the schema is JSON");
    let validator = jsonschema::validator_for(&schema_json)
        .unwrap_or_else(|e| panic!("{} is not a valid schema: {e}", schema.display()));
    for f in files {
        let text = std::fs::read_to_string(f).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
        let tree = hmip6spec::yaml::parse(f, &text).unwrap_or_else(|d| panic!("{d}"));
        let instance = tree.to_json();
        let errors: Vec<String> = validator
            .iter_errors(&instance)
            .map(|e| format!("  {}: {e}", e.instance_path()))
            .collect();
        assert!(
            errors.is_empty(),
            "{} does not validate against {}:\n{}",
            f.display(),
            schema.display(),
            errors.join("\n")
        );
    }
}

#[test]
fn good_files_validate_against_their_schema() {
    validate_all(&repo().join("cases/schema.json"), &case_files());
    validate_all(&repo().join("profiles/schema.json"), &profile_files());
}

/// The schema must also reject: a broken file of the lint corpus whose
/// fault is one of shape (an unknown field) fails validation too.
#[test]
fn schema_rejects_an_unknown_field() {
    let schema: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(repo().join("cases/schema.json")).expect("cases/schema.json"),
    )
    .expect("JSON");
    let f = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/lint_corpus/cases/unknown-top-level-field.yaml");
    let text = std::fs::read_to_string(&f).expect("the corpus file");
    let instance = hmip6spec::yaml::parse(&f, &text)
        .unwrap_or_else(|d| panic!("{d}"))
        .to_json();
    assert!(!jsonschema::is_valid(&schema, &instance));
}
