//! The requirements catalogue against the RFC it quotes: `cases/
//! requirements.yaml` must load, quote `spec/rfc4140.txt` verbatim, in the
//! right sections and at the right levels, and leave no normative sentence
//! of the RFC out; and quote RFC 6275, which the suite does not ship whole,
//! verbatim from `spec/rfc6275-excerpts.txt`. And the check must be able to
//! fail: an altered copy of the catalogue is reported.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use hmip6spec::requirements::{
    check_against_excerpts, check_against_rfc, normative_sentences, Catalogue, Source,
};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn catalogue_path() -> PathBuf {
    root().join("cases/requirements.yaml")
}

fn load() -> Catalogue {
    Catalogue::load(&catalogue_path()).unwrap_or_else(|diags| {
        let lines: Vec<String> = diags.iter().map(|d| d.to_string()).collect();
        panic!("the catalogue does not load:\n{}", lines.join("\n"))
    })
}

fn rfc() -> String {
    std::fs::read_to_string(root().join("spec/rfc4140.txt"))
        .expect("spec/rfc4140.txt is in the repository")
}

/// The passages of RFC 6275 that the catalogue quotes (the suite does not
/// ship that RFC whole).
fn rfc6275_excerpts() -> String {
    std::fs::read_to_string(root().join("spec/rfc6275-excerpts.txt"))
        .expect("spec/rfc6275-excerpts.txt is in the repository")
}

/// The section an ID names if it has the form
/// `^RFC(4140|4861|4862|6275)-[0-9.]+-[A-Z0-9-]+$`, else None.
fn id_section(id: &str) -> Option<&str> {
    let rest = id.strip_prefix("RFC")?;
    let (number, rest) = rest.split_once('-')?;
    if !["4140", "4861", "4862", "6275"].contains(&number) {
        return None;
    }
    let (section, words) = rest.split_once('-')?;
    let section_ok =
        !section.is_empty() && section.bytes().all(|b| b.is_ascii_digit() || b == b'.');
    let words_ok = !words.is_empty()
        && words
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'-');
    (section_ok && words_ok).then_some(section)
}

#[test]
fn the_catalogue_quotes_rfc_4140_completely_and_verbatim() {
    let cat = load();
    let rfc = rfc();

    let problems = check_against_rfc(&cat, &rfc);
    assert!(
        problems.is_empty(),
        "{} problem(s) between cases/requirements.yaml and spec/rfc4140.txt:\n{}",
        problems.len(),
        problems.join("\n")
    );

    let mut bad = Vec::new();
    for r in cat.iter() {
        match id_section(&r.id) {
            None => bad.push(format!(
                "{}: not of the form RFC(4140|4861|4862|6275)-<section>-<WORDS>",
                r.id
            )),
            Some(s) if s != r.section => bad.push(format!(
                "{}: the ID names section {s} but `section` is {}",
                r.id, r.section
            )),
            Some(_) => {}
        }
        if !r.testable
            && r.untestable_because
                .as_deref()
                .is_none_or(|w| w.trim().is_empty())
        {
            bad.push(format!("{}: untestable without a reason", r.id));
        }
    }
    assert!(bad.is_empty(), "{}", bad.join("\n"));

    // One entry per normative sentence of RFC 4140 (the check above already
    // implies it; this states the number).
    let sentences = normative_sentences(&rfc).len();
    let quoted = cat.iter().filter(|r| r.source == Source::Rfc4140).count();
    assert_eq!(quoted, sentences);

    // The counts, for the report (`cargo test -- --nocapture`).
    let mut by_level: BTreeMap<String, usize> = BTreeMap::new();
    let mut by_role: BTreeMap<String, usize> = BTreeMap::new();
    let mut by_source: BTreeMap<&str, usize> = BTreeMap::new();
    for r in cat.iter() {
        *by_level.entry(r.level.to_string()).or_default() += 1;
        for role in &r.roles {
            *by_role.entry(role.to_string()).or_default() += 1;
        }
        *by_source.entry(r.source.name()).or_default() += 1;
    }
    let testable = cat.iter().filter(|r| r.testable).count();
    println!(
        "{} requirements, {sentences} normative sentences in RFC 4140",
        cat.len()
    );
    println!("by source: {by_source:?}");
    println!("by level: {by_level:?}");
    println!("by role: {by_role:?}");
    println!(
        "testable: {testable}, not testable: {}",
        cat.len() - testable
    );
}

#[test]
fn the_catalogue_quotes_rfc_6275_verbatim_from_its_excerpts() {
    let cat = load();
    let problems = check_against_excerpts(&cat, Source::Rfc6275, &rfc6275_excerpts());
    assert!(
        problems.is_empty(),
        "{} RFC 6275 quote(s) not in spec/rfc6275-excerpts.txt:\n{}",
        problems.len(),
        problems.join("\n")
    );
    // The file names where its text comes from.
    assert!(rfc6275_excerpts().contains("https://www.rfc-editor.org/rfc/rfc6275.txt"));
    // Summaries stand in only for text the repository does not hold:
    // never for RFC 4140, which it holds whole.
    let summarised: Vec<&str> = cat
        .iter()
        .filter(|r| r.summary && r.source == Source::Rfc4140)
        .map(|r| r.id.as_str())
        .collect();
    assert!(
        summarised.is_empty(),
        "RFC 4140 entries marked summary: {summarised:?}"
    );
    // A summary is checked for nothing verbatim, so the check must skip it
    // and only it: an edited quote of a summary still passes, of a quote
    // fails (the excerpts hold no RFC 6275 entry's text otherwise).
    assert!(
        cat.iter().any(|r| r.summary),
        "the RFC 6275 summaries are there"
    );
}

/// The catalogue's text with `from` replaced by `to` (which must occur).
fn edited(from: &str, to: &str) -> Catalogue {
    let text = std::fs::read_to_string(catalogue_path()).expect("the catalogue is readable");
    assert!(
        text.contains(from),
        "the catalogue no longer holds {from:?}"
    );
    let text = text.replacen(from, to, 1);
    Catalogue::from_text(&catalogue_path(), &text)
        .unwrap_or_else(|diags| panic!("the edited catalogue does not load: {}", diags[0]))
}

#[test]
fn the_check_reports_an_altered_word() {
    let cat = edited(
        "The MAP MUST store this information",
        "The MAP MUST keep this information",
    );
    let problems = check_against_rfc(&cat, &rfc());
    assert!(
        problems.iter().any(|p| p
            .starts_with("RFC4140-3.1-MAP-STORE-BINDING: the text is not in RFC 4140 verbatim")),
        "{problems:#?}"
    );
    assert!(
        problems.iter().any(|p| p
            .starts_with("section 3.1: MUST sentence not in the catalogue: \"The MAP MUST store")),
        "{problems:#?}"
    );
}

#[test]
fn the_check_reports_a_dropped_entry() {
    // The whole entry of RFC4140-6.2-BA-RH2, up to the next entry.
    let text = std::fs::read_to_string(catalogue_path()).expect("the catalogue is readable");
    let start = text
        .find("  - id: RFC4140-6.2-BA-RH2\n")
        .expect("the entry is there");
    let end = start
        + 1
        + text[start + 1..]
            .find("  - id: ")
            .expect("an entry follows");
    let cat = edited(&text[start..end], "");
    assert!(cat.get("RFC4140-6.2-BA-RH2").is_none());

    let problems = check_against_rfc(&cat, &rfc());
    assert_eq!(
        problems,
        [
            "section 6.2: MUST sentence not in the catalogue: \"The binding acknowledgement \
             MUST include a routing header type 2 that contains the mobile node's RCoA.\""
        ],
    );
}

#[test]
fn the_check_reports_a_wrong_level() {
    let cat = edited(
        "  - id: RFC4140-6.2-BA-RH2\n    section: \"6.2\"\n    level: MUST\n",
        "  - id: RFC4140-6.2-BA-RH2\n    section: \"6.2\"\n    level: SHOULD\n",
    );
    let problems = check_against_rfc(&cat, &rfc());
    assert_eq!(
        problems,
        ["RFC4140-6.2-BA-RH2: level SHOULD but the text does not use SHOULD (it uses: MUST)"],
    );
}
