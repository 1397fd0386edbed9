//! The requirements catalogue (`cases/requirements.yaml`): every normative
//! statement of RFC 4140, quoted, with a stable ID, its section, level, the
//! roles it binds and whether the wire can show it. Cases cite these IDs;
//! a FAIL carries the level of the requirement it violated.

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::yaml::{self, Diagnostic, Pos, Seg, Yaml};

/// The role of an implementation under test, and the roles a requirement
/// binds.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Mobility Anchor Point.
    Map,
    /// Mobile Node (HMIPv6-aware).
    Mn,
    /// Access Router of a MAP domain.
    Ar,
    /// An IPv6 node that does not implement HMIPv6 (RFC 4140 3.1: it ignores
    /// the MAP option and uses plain Mobile IPv6 or none).
    Host,
}

impl Role {
    pub const ALL: [Role; 4] = [Role::Map, Role::Mn, Role::Ar, Role::Host];

    pub fn name(self) -> &'static str {
        match self {
            Role::Map => "map",
            Role::Mn => "mn",
            Role::Ar => "ar",
            Role::Host => "host",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Role, String> {
        Role::ALL
            .into_iter()
            .find(|r| r.name() == s)
            .ok_or_else(|| format!("unknown role {s:?}; expected one of map, mn, ar, host"))
    }
}

/// The RFC 2119 keyword of a statement.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
pub enum Level {
    #[serde(rename = "MUST")]
    Must,
    #[serde(rename = "MUST NOT")]
    MustNot,
    #[serde(rename = "REQUIRED")]
    Required,
    #[serde(rename = "SHALL")]
    Shall,
    #[serde(rename = "SHALL NOT")]
    ShallNot,
    #[serde(rename = "SHOULD")]
    Should,
    #[serde(rename = "SHOULD NOT")]
    ShouldNot,
    #[serde(rename = "RECOMMENDED")]
    Recommended,
    #[serde(rename = "NOT RECOMMENDED")]
    NotRecommended,
    #[serde(rename = "MAY")]
    May,
    #[serde(rename = "OPTIONAL")]
    Optional,
}

/// What a FAIL against a requirement of this level means for the verdict of
/// the whole run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Gate {
    /// MUST, MUST NOT, REQUIRED, SHALL, SHALL NOT: the IUT is non-compliant.
    Mandatory,
    /// SHOULD, SHOULD NOT, RECOMMENDED, NOT RECOMMENDED: reported, gates
    /// only in `--strict` mode.
    Advisory,
    /// MAY, OPTIONAL: reported, never gates.
    Informational,
}

impl Level {
    pub fn keyword(self) -> &'static str {
        match self {
            Level::Must => "MUST",
            Level::MustNot => "MUST NOT",
            Level::Required => "REQUIRED",
            Level::Shall => "SHALL",
            Level::ShallNot => "SHALL NOT",
            Level::Should => "SHOULD",
            Level::ShouldNot => "SHOULD NOT",
            Level::Recommended => "RECOMMENDED",
            Level::NotRecommended => "NOT RECOMMENDED",
            Level::May => "MAY",
            Level::Optional => "OPTIONAL",
        }
    }

    pub fn gate(self) -> Gate {
        match self {
            Level::Must | Level::MustNot | Level::Required | Level::Shall | Level::ShallNot => {
                Gate::Mandatory
            }
            Level::Should | Level::ShouldNot | Level::Recommended | Level::NotRecommended => {
                Gate::Advisory
            }
            Level::May | Level::Optional => Gate::Informational,
        }
    }

    /// Whether a FAIL at this level makes the run non-compliant.
    pub fn gates(self, strict: bool) -> bool {
        match self.gate() {
            Gate::Mandatory => true,
            Gate::Advisory => strict,
            Gate::Informational => false,
        }
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.keyword())
    }
}

/// The document a statement is quoted from.
#[derive(
    Clone,
    Copy,
    Debug,
    Default,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    #[default]
    Rfc4140,
    Rfc4861,
    Rfc4862,
    Rfc6275,
}

impl Source {
    pub fn name(self) -> &'static str {
        match self {
            Source::Rfc4140 => "RFC 4140",
            Source::Rfc4861 => "RFC 4861",
            Source::Rfc4862 => "RFC 4862",
            Source::Rfc6275 => "RFC 6275",
        }
    }
}

/// One normative statement.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Requirement {
    /// Stable ID, `RFC4140-<section>-<WORDS>`, e.g. `RFC4140-6.2-BA-RH2`.
    pub id: String,
    /// Where it is quoted from (default RFC 4140).
    #[serde(default, skip_serializing_if = "is_default_source")]
    pub source: Source,
    /// The section number, e.g. "6.2".
    pub section: String,
    /// The strongest keyword of the sentence.
    pub level: Level,
    /// The sentence, verbatim (line breaks may differ); with `summary`, our
    /// words for it instead.
    pub text: String,
    /// `text` is a summary, not a quotation: for an RFC whose text the
    /// repository does not hold (RFC 6275 in part), so that no sentence is
    /// passed off as the RFC's own words. The summary keeps the RFC's
    /// keyword in capitals, so its level is checked like a quote's. RFC 4140
    /// entries are never summaries.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub summary: bool,
    /// The roles it binds.
    pub roles: Vec<Role>,
    /// Whether a tester on the links can observe it.
    pub testable: bool,
    /// Why not, when `testable` is false.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub untestable_because: Option<String>,
}

impl Requirement {
    /// `text` as reports show it: a quotation as it is, a summary marked
    /// as one.
    pub fn shown_text(&self) -> String {
        if self.summary {
            format!("[summary, not the RFC's words] {}", self.text)
        } else {
            self.text.clone()
        }
    }

    /// [`shown_text`](Self::shown_text) in running prose: a quotation in
    /// quotation marks.
    pub fn quoted_text(&self) -> String {
        if self.summary {
            self.shown_text()
        } else {
            format!("\"{}\"", self.text)
        }
    }
}

fn is_default_source(s: &Source) -> bool {
    *s == Source::Rfc4140
}

/// The file's top level.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CatalogueFile {
    pub requirements: Vec<Requirement>,
}

/// The loaded catalogue, with where each entry sits in its file.
#[derive(Clone, Debug, Default)]
pub struct Catalogue {
    entries: Vec<Requirement>,
    index: BTreeMap<String, usize>,
    positions: Vec<Pos>,
}

impl Catalogue {
    /// Loads and checks the catalogue: IDs unique, `untestable_because`
    /// present exactly when `testable` is false, at least one role.
    pub fn load(path: &Path) -> Result<Catalogue, Vec<Diagnostic>> {
        let (file, tree): (CatalogueFile, Yaml) = yaml::load(path).map_err(|d| vec![d])?;
        Catalogue::from_parts(path, file, &tree)
    }

    /// As [`Catalogue::load`], for text already in memory (`path` only
    /// names it in diagnostics). Tests use it to check altered copies.
    pub fn from_text(path: &Path, text: &str) -> Result<Catalogue, Vec<Diagnostic>> {
        let tree = yaml::parse(path, text).map_err(|d| vec![d])?;
        let file: CatalogueFile = yaml::typed(path, &tree).map_err(|d| vec![d])?;
        Catalogue::from_parts(path, file, &tree)
    }

    fn from_parts(
        path: &Path,
        file: CatalogueFile,
        tree: &Yaml,
    ) -> Result<Catalogue, Vec<Diagnostic>> {
        let mut diags = Vec::new();
        let mut cat = Catalogue::default();
        for (i, r) in file.requirements.into_iter().enumerate() {
            let at = |field: &str| {
                tree.locate(
                    &[
                        Seg::Key("requirements".into()),
                        Seg::Index(i),
                        Seg::Key(field.into()),
                    ],
                    false,
                )
            };
            if cat.index.contains_key(&r.id) {
                diags.push(Diagnostic::new(
                    path,
                    at("id"),
                    format!("requirement ID {} appears twice; IDs must be unique", r.id),
                ));
            }
            if r.roles.is_empty() {
                diags.push(Diagnostic::new(
                    path,
                    at("roles"),
                    format!("{}: expected at least one role (map, mn, ar, host)", r.id),
                ));
            }
            match (r.testable, &r.untestable_because) {
                (false, None) => diags.push(Diagnostic::new(
                    path,
                    at("testable"),
                    format!(
                        "{}: untestable, so expected `untestable_because` saying why",
                        r.id
                    ),
                )),
                (true, Some(_)) => diags.push(Diagnostic::new(
                    path,
                    at("untestable_because"),
                    format!("{}: testable, so `untestable_because` must go", r.id),
                )),
                _ => {}
            }
            cat.index.insert(r.id.clone(), cat.entries.len());
            cat.positions.push(at("id"));
            cat.entries.push(r);
        }
        if diags.is_empty() {
            Ok(cat)
        } else {
            Err(diags)
        }
    }

    pub fn get(&self, id: &str) -> Option<&Requirement> {
        self.index.get(id).map(|&i| &self.entries[i])
    }

    /// In file order.
    pub fn iter(&self) -> impl Iterator<Item = &Requirement> {
        self.entries.iter()
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Where the entry `id` starts in the file.
    pub fn position(&self, id: &str) -> Option<Pos> {
        self.index.get(id).map(|&i| self.positions[i])
    }

    /// IDs that look like `id` (for "did you mean" in lint messages).
    pub fn similar(&self, id: &str) -> Vec<&str> {
        let mut scored: Vec<(usize, &str)> = self
            .index
            .keys()
            .map(|k| (edit_distance(k, id), k.as_str()))
            .filter(|(d, _)| *d <= 3.max(id.len() / 5))
            .collect();
        scored.sort();
        scored.into_iter().take(3).map(|(_, k)| k).collect()
    }
}

/// Levenshtein distance, for suggestions.
pub fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != *cb);
            cur.push(sub.min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}

// The catalogue against the RFC.
//
// The catalogue quotes RFC 4140, and that is checked rather than trusted:
// every quoted text must occur in `spec/rfc4140.txt` in the section given,
// its level must be the strongest keyword it uses, and every normative
// sentence of the RFC must be quoted by exactly one entry. So a typo in a
// quote, a sentence forgotten or an entry filed under the wrong section is
// a test failure, not a silent gap in coverage.
//
// The RFC file may be laid out for paper (page footers and headers around a
// form feed, words hyphenated at line ends) or, like the copy the suite
// ships, as text taken from a web rendering (many paragraphs on one line,
// a "ToP  noToC  RFC4140 - Page N" line between pages). Both read the same
// once normalised.

/// The RFC 2119 keywords, two-word ones first so that "MUST NOT" is not
/// read as "MUST".
const KEYWORDS: [Level; 11] = [
    Level::MustNot,
    Level::ShallNot,
    Level::ShouldNot,
    Level::NotRecommended,
    Level::Must,
    Level::Required,
    Level::Shall,
    Level::Should,
    Level::Recommended,
    Level::May,
    Level::Optional,
];

/// Words that end in a full stop without ending a sentence.
const ABBREVIATIONS: [&str; 8] = ["e.g", "i.e", "etc", "al", "cf", "vs", "viz", "Fig"];

/// Unnumbered headings, none of them normative: the front matter, the
/// table of contents and the back matter.
const UNNUMBERED_HEADINGS: [&str; 10] = [
    "Abstract",
    "Status of This Memo",
    "Status of this Memo",
    "Copyright Notice",
    "Table of Contents",
    "Authors' Addresses",
    "Author's Address",
    "Full Copyright Statement",
    "Intellectual Property",
    "Acknowledgement",
];

/// `text` as one line: page breaks (and the blank lines around them)
/// removed, so that a sentence broken across pages reads continuously,
/// every run of whitespace made one space, and a word hyphenated at a line
/// end made whole again ("non-\n   null" reads "non-null"; RFC formatters
/// break lines only at hyphens already in the word, so the hyphen stays).
///
/// Quotes in the catalogue and the RFC are compared in this form, so line
/// breaks, indentation and page layout never matter, and the words always
/// do.
pub fn normalise(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for line in body_lines(text) {
        for word in line.split_whitespace() {
            if !out.is_empty() && !continues_hyphenated(&out, word) {
                out.push(' ');
            }
            out.push_str(word);
        }
    }
    out
}

/// Whether `next` continues a word that `done` ends with a hyphen: a
/// hyphen after a letter or digit, then a letter or digit.
fn continues_hyphenated(done: &str, next: &str) -> bool {
    let mut tail = done.chars().rev();
    tail.next() == Some('-')
        && tail.next().is_some_and(|c| c.is_alphanumeric())
        && next.chars().next().is_some_and(|c| c.is_alphanumeric())
}

/// The lines of `text` without page furniture. Each run of blank lines and
/// page-break lines that holds a page break goes as a whole: in the paper
/// layout the footer, the form feed, the header and the blank lines around
/// them; in the web layout the "ToP" line and the blank line after it.
fn body_lines(text: &str) -> Vec<&str> {
    #[derive(Clone, Copy, PartialEq)]
    enum Kind {
        Text,
        Blank,
        PageBreak,
    }
    let lines: Vec<&str> = text.lines().collect();
    let kinds: Vec<Kind> = lines
        .iter()
        .map(|line| {
            // A form feed is itself a page break, whatever shares its line
            // (the paper layout puts the next page's header there).
            if line.contains('\u{c}') || is_page_furniture(line.trim()) {
                Kind::PageBreak
            } else if line.trim().is_empty() {
                Kind::Blank
            } else {
                Kind::Text
            }
        })
        .collect();
    let mut keep = vec![true; lines.len()];
    let mut i = 0;
    while i < lines.len() {
        if kinds[i] == Kind::Text {
            i += 1;
            continue;
        }
        let start = i;
        while i < lines.len() && kinds[i] != Kind::Text {
            i += 1;
        }
        if kinds[start..i].contains(&Kind::PageBreak) {
            keep[start..i].fill(false);
        }
    }
    lines
        .into_iter()
        .zip(keep)
        .filter_map(|(line, keep)| keep.then_some(line))
        .collect()
}

/// A page footer or header line (already trimmed).
fn is_page_furniture(line: &str) -> bool {
    let words: Vec<&str> = line.split_whitespace().collect();
    let n = words.len();
    let is_number = |w: &str| !w.is_empty() && w.bytes().all(|b| b.is_ascii_digit());
    // The web layout: "ToP  noToC  RFC4140 - Page 7".
    if n >= 3 && words[0] == "ToP" && words[n - 2] == "Page" && is_number(words[n - 1]) {
        return true;
    }
    // The paper footer: "Soliman, et al.     Experimental     [Page 7]".
    if let Some(page) = line
        .strip_suffix(']')
        .and_then(|l| l.rsplit_once("[Page "))
        .map(|(_, page)| page)
    {
        if is_number(page) {
            return true;
        }
    }
    // The paper header: "RFC 4140     HMIPv6     August 2005".
    const MONTHS: [&str; 12] = [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ];
    n >= 4
        && words[0] == "RFC"
        && is_number(words[1])
        && MONTHS.contains(&words[n - 2])
        && words[n - 1].len() == 4
        && is_number(words[n - 1])
}

/// The keywords `text` uses, in order. Only whole words in capitals count
/// ("must" and "MAP" are no keywords), and a keyword in double quotes is
/// mentioned, not used: that is how Section 2 lists them.
pub fn keyword_uses(text: &str) -> Vec<Level> {
    let words: Vec<(&str, bool)> = text
        .split_whitespace()
        .map(|raw| {
            let quoted = raw.trim_start_matches('(').starts_with('"');
            (
                raw.trim_matches(|c: char| !c.is_ascii_alphanumeric()),
                quoted,
            )
        })
        .collect();
    let mut uses = Vec::new();
    let mut i = 0;
    while i < words.len() {
        let found = KEYWORDS.into_iter().find_map(|level| {
            let phrase: Vec<&str> = level.keyword().split(' ').collect();
            let here = words.get(i..i + phrase.len())?;
            here.iter()
                .map(|(w, _)| *w)
                .eq(phrase.iter().copied())
                .then_some((level, phrase.len()))
        });
        match found {
            Some((level, len)) => {
                if !words[i].1 {
                    uses.push(level);
                }
                i += len;
            }
            None => i += 1,
        }
    }
    uses
}

/// The strongest of `levels` (MUST-strength over SHOULD over MAY); the
/// first one of that strength when several tie.
fn strongest(levels: &[Level]) -> Option<Level> {
    levels
        .iter()
        .copied()
        .reduce(|best, l| if l.gate() < best.gate() { l } else { best })
}

/// The sentences of a normalised paragraph. A sentence ends at a full stop
/// (or `?`, `!`), after any closing parenthesis or quote, when a space and
/// a capital, a digit, a quote or an opening parenthesis follow, and the
/// word before the stop is no abbreviation ("e.g.", "et al.") or initial.
/// So "described in section 9.1. The mobile node" ends a sentence after
/// "9.1.", and "(e.g., MAP2). This" after ")."; "e.g.," never does, having
/// no space after its stop.
fn sentences(para: &str) -> Vec<&str> {
    let bytes = para.as_bytes();
    let mut out = Vec::new();
    let mut start = 0;
    let mut i = 0;
    while i < bytes.len() {
        if matches!(bytes[i], b'.' | b'?' | b'!') {
            let mut end = i + 1;
            while end < bytes.len() && matches!(bytes[end], b')' | b'"' | b'\'' | b']') {
                end += 1;
            }
            let next = para[end..]
                .strip_prefix(' ')
                .and_then(|rest| rest.chars().next());
            let at_end = end == bytes.len();
            let next_starts = next.is_some_and(|c| {
                c.is_ascii_uppercase() || c.is_ascii_digit() || c == '"' || c == '('
            });
            if at_end || (next_starts && !ends_with_abbreviation(&para[start..i])) {
                let sentence = para[start..end].trim();
                if !sentence.is_empty() {
                    out.push(sentence);
                }
                start = end;
                i = end;
                continue;
            }
        }
        i += 1;
    }
    let rest = para[start..].trim();
    if !rest.is_empty() {
        out.push(rest);
    }
    out
}

/// Whether the text before a full stop ends with an abbreviation or an
/// initial ("H. Soliman"), whose stop ends no sentence.
fn ends_with_abbreviation(before: &str) -> bool {
    let word = before
        .rsplit(' ')
        .next()
        .unwrap_or("")
        .trim_start_matches(['(', '"', '[']);
    ABBREVIATIONS.contains(&word)
        || (word.len() == 1 && word.bytes().all(|b| b.is_ascii_uppercase()))
}

/// One heading's worth of the RFC: a numbered section, an appendix, or an
/// unnumbered part (front matter, table of contents, back matter).
struct Part {
    /// "6.1", "A" for an appendix, "" for an unnumbered part.
    number: String,
    title: String,
    /// Whether its sentences are requirements: not so for the front
    /// matter, the table of contents, the references and the back matter.
    normative: bool,
    /// Its paragraphs, each normalised.
    paragraphs: Vec<String>,
}

impl Part {
    /// How messages name it.
    fn name(&self) -> &str {
        if self.number.is_empty() {
            &self.title
        } else {
            &self.number
        }
    }

    /// Its paragraphs as one text, to find a quote in.
    fn text(&self) -> String {
        self.paragraphs.join(" ")
    }
}

/// A heading line: its number ("" if unnumbered) and title.
///
/// Headings start in the first column and fit on one line. That alone does
/// not tell them apart in the web layout, whose one-line paragraphs start
/// in the first column too; but a paragraph does not start with "6.1. ",
/// and the table of contents, which does, has dot leaders.
fn heading(line: &str) -> Option<(String, String)> {
    if line.starts_with(char::is_whitespace) || line.len() > 72 || line.contains("..") {
        return None;
    }
    let line = line.trim_end();
    if UNNUMBERED_HEADINGS.contains(&line) {
        return Some((String::new(), line.to_string()));
    }
    let (first, title) = line.split_once(' ')?;
    let title = title.trim();
    if let Some(rest) = first.strip_prefix("Appendix") {
        // "Appendix A: Fast Mobile IPv6 Handovers and HMIPv6".
        let (letter, title) = title.split_once([':', '.'])?;
        let letter_ok = letter.len() == 1 && letter.bytes().all(|b| b.is_ascii_uppercase());
        return (rest.is_empty() && letter_ok)
            .then(|| (letter.to_string(), title.trim().to_string()));
    }
    // "6.1.1. Sending Packets to Correspondent Nodes".
    let number = first.strip_suffix('.')?;
    let number_ok = !number.is_empty()
        && number
            .split('.')
            .all(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()));
    let title_ok = title.starts_with(|c: char| c.is_ascii_uppercase());
    (number_ok && title_ok).then(|| (number.to_string(), title.to_string()))
}

/// The RFC cut into parts at its headings, and each part into paragraphs.
fn parts(rfc: &str) -> Vec<Part> {
    let mut parts = vec![Part {
        number: String::new(),
        title: "front matter".to_string(),
        normative: false,
        paragraphs: Vec::new(),
    }];
    let mut para: Vec<&str> = Vec::new();
    fn flush(parts: &mut [Part], para: &mut Vec<&str>) {
        if !para.is_empty() {
            if let Some(part) = parts.last_mut() {
                part.paragraphs.push(normalise(&para.join("\n")));
            }
            para.clear();
        }
    }
    for line in body_lines(rfc) {
        if line.trim().is_empty() {
            flush(&mut parts, &mut para);
        } else if let Some((number, title)) = heading(line) {
            flush(&mut parts, &mut para);
            let normative = !number.is_empty() && !title.ends_with("References");
            parts.push(Part {
                number,
                title,
                normative,
                paragraphs: Vec::new(),
            });
        } else {
            para.push(line);
        }
    }
    flush(&mut parts, &mut para);
    parts
}

/// A sentence of the RFC that uses an RFC 2119 keyword.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NormativeSentence {
    /// The deepest numbered section holding it, e.g. "6.1.1".
    pub section: String,
    /// Its strongest keyword: the level its catalogue entry must carry.
    pub keyword: Level,
    /// The sentence, normalised (see [`normalise`]).
    pub text: String,
}

/// Every sentence of the RFC's numbered sections and appendices that uses
/// a keyword in capitals: not the front matter, the table of contents, the
/// references or the back matter, and not Section 2's boilerplate, which
/// only mentions the keywords (in quotes).
pub fn normative_sentences(rfc: &str) -> Vec<NormativeSentence> {
    normative_sentences_in(&parts(rfc))
}

fn normative_sentences_in(parts: &[Part]) -> Vec<NormativeSentence> {
    let mut out = Vec::new();
    for part in parts.iter().filter(|p| p.normative) {
        for para in &part.paragraphs {
            for sentence in sentences(para) {
                if let Some(keyword) = strongest(&keyword_uses(sentence)) {
                    out.push(NormativeSentence {
                        section: part.number.clone(),
                        keyword,
                        text: sentence.to_string(),
                    });
                }
            }
        }
    }
    out
}

/// Whether the (normalised) quote `quote` is the sentence `sentence`.
///
/// The rule: the quote equals the sentence, or it is the sentence's end
/// after a head that uses no keyword. The second form is for definition
/// lists that a web layout ran together with their terms: the RFC's "R
/// When set to 1, it indicates that the mobile node MUST form an RCoA ..."
/// is quoted without the field name "R". A quote can never be more than a
/// sentence, nor leave out a keyword, nor stop before the sentence does.
fn quotes(quote: &str, sentence: &str) -> bool {
    if quote == sentence {
        return true;
    }
    match sentence
        .strip_suffix(quote)
        .and_then(|h| h.strip_suffix(' '))
    {
        Some(head) => !head.is_empty() && keyword_uses(head).is_empty(),
        None => false,
    }
}

/// The form every ID must have: `RFC<number>-<section>-<WORDS>`, the RFC
/// being the entry's source, the section its `section`, the words capitals,
/// digits and single hyphens. Returns what is wrong, or None.
pub fn id_problem(r: &Requirement) -> Option<String> {
    let section_ok = !r.section.is_empty()
        && r.section
            .split('.')
            .all(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()));
    if !section_ok {
        return Some(format!(
            "{}: section {:?} is not a section number like \"6.1\"",
            r.id, r.section
        ));
    }
    let prefix = format!("{}-{}-", r.source.name().replace(' ', ""), r.section);
    let Some(words) = r.id.strip_prefix(&prefix) else {
        return Some(format!(
            "{}: expected the ID to start with {prefix} (its source and section)",
            r.id
        ));
    };
    let words_ok = !words.is_empty()
        && words.split('-').all(|w| {
            !w.is_empty()
                && w.bytes()
                    .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
        });
    (!words_ok).then(|| {
        format!(
            "{}: after {prefix} expected words in capitals and digits joined by single hyphens",
            r.id
        )
    })
}

/// Checks the catalogue against the text of RFC 4140 and returns every
/// problem found, each naming the entry or the sentence concerned, in
/// catalogue order and then RFC order. Empty means:
///
/// 1. each RFC 4140 entry's text occurs, normalised, in the normalised RFC;
/// 2. each entry's level is a keyword its text uses, and the strongest;
/// 3. each normative sentence of the RFC (see [`normative_sentences`]) is
///    quoted by exactly one entry, and each entry quotes exactly one
///    sentence (the rule, in `quotes`: the whole sentence, or its end
///    after a keyword-free head such as a field name);
/// 4. each entry's section is the one its text occurs in;
/// 5. each ID has the form [`id_problem`] describes.
///
/// Entries quoting other RFCs (which the suite does not ship whole) get
/// checks 2 and 5 only here; those quoting RFC 6275 are also checked
/// against its excerpts by [`check_against_excerpts`].
pub fn check_against_rfc(cat: &Catalogue, rfc: &str) -> Vec<String> {
    let mut problems = Vec::new();
    let whole = normalise(rfc);
    let parts = parts(rfc);
    let part_texts: Vec<(String, &str)> = parts.iter().map(|p| (p.text(), p.name())).collect();
    let sentences = normative_sentences_in(&parts);
    let mut quoted_by: Vec<Vec<&str>> = vec![Vec::new(); sentences.len()];

    for r in cat.iter() {
        problems.extend(id_problem(r));
        let text = normalise(&r.text);
        let uses = keyword_uses(&text);
        if !uses.contains(&r.level) {
            problems.push(format!(
                "{}: level {} but the text does not use {} (it uses: {})",
                r.id,
                r.level,
                r.level,
                list_levels(&uses)
            ));
        } else if let Some(top) = strongest(&uses).filter(|top| top.gate() < r.level.gate()) {
            problems.push(format!(
                "{}: level {} but the text also uses {}; the level is the strongest keyword",
                r.id, r.level, top
            ));
        }
        if r.source != Source::Rfc4140 {
            continue;
        }

        if !whole.contains(&text) {
            problems.push(not_verbatim(&r.id, &text, &whole));
            continue;
        }

        let found_in: Vec<&str> = part_texts
            .iter()
            .filter(|(t, _)| t.contains(&text))
            .map(|(_, name)| *name)
            .collect();
        let section_ok = found_in.contains(&r.section.as_str());
        if !section_ok {
            problems.push(if found_in.is_empty() {
                format!("{}: the text runs across a heading of RFC 4140", r.id)
            } else {
                format!(
                    "{}: section {} given, but the text is in section {}",
                    r.id,
                    r.section,
                    found_in.join(", ")
                )
            });
        }

        // With a wrong section already reported, match the sentence by text
        // alone, so the one mistake is not reported three times.
        let mine: Vec<usize> = sentences
            .iter()
            .enumerate()
            .filter(|(_, s)| (!section_ok || s.section == r.section) && quotes(&text, &s.text))
            .map(|(i, _)| i)
            .collect();
        if mine.is_empty() && section_ok {
            problems.push(not_a_sentence(&r.id, &text, &r.section, &sentences));
        } else if mine.len() > 1 {
            problems.push(format!(
                "{}: the text is {} normative sentences of section {} at once; \
                 one entry per sentence",
                r.id,
                mine.len(),
                r.section
            ));
        }
        for i in mine {
            quoted_by[i].push(&r.id);
        }
    }

    for (s, ids) in sentences.iter().zip(&quoted_by) {
        match ids.len() {
            0 => problems.push(format!(
                "section {}: {} sentence not in the catalogue: \"{}\"",
                s.section, s.keyword, s.text
            )),
            1 => {}
            _ => problems.push(format!(
                "section {}: the sentence \"{}\" is quoted by {} entries: {}",
                s.section,
                s.text,
                ids.len(),
                ids.join(", ")
            )),
        }
    }
    problems
}

/// Checks the entries quoting `source` against `excerpts`, a text holding
/// the parts of that RFC the catalogue quotes (`spec/rfc6275-excerpts.txt`
/// for RFC 6275, which the suite does not ship whole): each such entry's
/// text must occur there, both normalised (see [`normalise`]). Returns one
/// problem per entry that does not, in catalogue order, saying where its
/// quote stops agreeing. Levels and IDs are [`check_against_rfc`]'s part.
pub fn check_against_excerpts(cat: &Catalogue, source: Source, excerpts: &str) -> Vec<String> {
    let whole = normalise(excerpts);
    cat.iter()
        .filter(|r| r.source == source && !r.summary)
        .filter_map(|r| {
            let text = normalise(&r.text);
            (!whole.contains(&text)).then(|| not_verbatim_in(&r.id, &text, &whole, source))
        })
        .collect()
}

fn list_levels(levels: &[Level]) -> String {
    if levels.is_empty() {
        "no keyword".to_string()
    } else {
        levels
            .iter()
            .map(|l| l.keyword())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// "Not verbatim", with where the quote stops agreeing with the RFC: the
/// longest head of the quote that the RFC holds (a longer head occurs only
/// if a shorter one does, so halving finds it).
fn not_verbatim(id: &str, text: &str, whole: &str) -> String {
    not_verbatim_in(id, text, whole, Source::Rfc4140)
}

/// As [`not_verbatim`], naming `source` as the document quoted.
fn not_verbatim_in(id: &str, text: &str, whole: &str, source: Source) -> String {
    let bounds: Vec<usize> = text
        .char_indices()
        .map(|(i, _)| i)
        .chain([text.len()])
        .collect();
    let (mut lo, mut hi) = (0, bounds.len() - 1);
    while lo < hi {
        let mid = (lo + hi).div_ceil(2);
        if whole.contains(&text[..bounds[mid]]) {
            lo = mid;
        } else {
            hi = mid - 1;
        }
    }
    let agreed = &text[..bounds[lo]];
    let context_from = agreed.char_indices().rev().nth(29).map_or(0, |(i, _)| i);
    let differs: String = text[bounds[lo]..].chars().take(30).collect();
    format!(
        "{id}: the text is not in {} verbatim; it agrees up to \"...{}\" and then \
         reads \"{}...\"",
        source.name(),
        &agreed[context_from..],
        differs
    )
}

/// "Not a sentence", with the normative sentences that overlap the quote.
fn not_a_sentence(id: &str, text: &str, section: &str, sentences: &[NormativeSentence]) -> String {
    let here = || sentences.iter().filter(|s| s.section == section);
    if let Some(s) = here().find(|s| text.contains(s.text.as_str())) {
        format!(
            "{id}: the text goes beyond the sentence \"{}\"; quote exactly one sentence",
            s.text
        )
    } else if let Some(s) = here().find(|s| s.text.contains(text)) {
        format!(
            "{id}: the text is part of the sentence \"{}\"; quote it whole (a head \
             without keywords, such as a field name, may be left out)",
            s.text
        )
    } else {
        format!("{id}: the text is in section {section} but is no normative sentence of it")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The page mark of the web layout, with its em spaces.
    const MARK: &str = "ToP\u{2003}\u{2003}noToC\u{2003}\u{2003}RFC4140 - Page 4";

    #[test]
    fn normalise_joins_a_sentence_across_a_web_page_mark() {
        let text = format!(
            "It also supports Fast Mobile IPv6 Handovers (see\n{MARK}\n   Appendix A).  \
             Furthermore, HMIPv6\n   allows"
        );
        assert_eq!(
            normalise(&text),
            "It also supports Fast Mobile IPv6 Handovers (see Appendix A). Furthermore, \
             HMIPv6 allows"
        );
    }

    #[test]
    fn normalise_drops_paper_footer_form_feed_header_and_their_blank_lines() {
        let text = "   address is received, the mobile node MUST act on the change by\n\
                    \n\n\n\
                    Soliman, et al.              Experimental                      [Page 7]\n\
                    \u{c}\n\
                    RFC 4140                         HMIPv6                      August 2005\n\
                    \n\n   sending Binding Updates to its HA and correspondent nodes.\n";
        assert_eq!(
            normalise(text),
            "address is received, the mobile node MUST act on the change by sending \
             Binding Updates to its HA and correspondent nodes."
        );
        // The header may share the form feed's line.
        let text = "a\n\nSoliman, et al.   Experimental   [Page 7]\n\u{c}RFC 4140   HMIPv6   \
                    August 2005\n\n   b";
        assert_eq!(normalise(text), "a b");
    }

    #[test]
    fn normalise_makes_words_hyphenated_at_a_line_end_whole() {
        assert_eq!(
            normalise("When ESP is used, a non-\n   null authentication algorithm"),
            "When ESP is used, a non-null authentication algorithm"
        );
        // A dash between spaced words is no hyphenation.
        assert_eq!(
            normalise("1) The mobile node - MAP"),
            "1) The mobile node - MAP"
        );
        // Nor is text that only looks like furniture.
        assert_eq!(
            normalise("RFC 3775. Section 5 introduces"),
            "RFC 3775. Section 5 introduces"
        );
    }

    #[test]
    fn sentences_end_at_full_stops_not_abbreviations() {
        let para = "In addition, the mobile node MUST NOT use one RCoA (e.g., RCoA1) derived \
                    from a MAP's prefix (e.g., MAP1) as a care-of address in its binding update \
                    to another MAP (e.g., MAP2). This would force packets to be encapsulated \
                    several times.";
        assert_eq!(sentences(para).len(), 2);
        assert!(sentences(para)[0].ends_with("(e.g., MAP2)."));

        // A section number ends a sentence when a capital follows.
        let para = "The method is described in section 9.1. The mobile node should not.";
        assert_eq!(
            sentences(para),
            [
                "The method is described in section 9.1.",
                "The mobile node should not."
            ]
        );
        // ... and not when the sentence goes on.
        assert_eq!(sentences("See Section 6.1. for details.").len(), 1);

        // "i.e." before a capital, initials, "et al.".
        assert_eq!(sentences("That is, i.e. No packet loss.").len(), 1);
        assert_eq!(
            sentences("Written by H. Soliman and C. Castelluccia.").len(),
            1
        );
        assert_eq!(sentences("Soliman, et al. Experimental.").len(), 1);

        // The MAP option's field list, run together in the web layout.
        assert_eq!(
            sentences("Type IPv6 Neighbor Discovery option. 23. Length 8-bit unsigned integer."),
            [
                "Type IPv6 Neighbor Discovery option.",
                "23.",
                "Length 8-bit unsigned integer."
            ]
        );
    }

    #[test]
    fn keywords_are_capitals_whole_words_and_unquoted() {
        assert_eq!(
            keyword_uses(
                "The key words \"MUST\", \"MUST NOT\", \"REQUIRED\", \"SHALL\", \"SHALL NOT\", \
                 \"SHOULD\", \"SHOULD NOT\", \"RECOMMENDED\", \"MAY\", and \"OPTIONAL\" in this \
                 document are to be interpreted as described in RFC 2119 [3]."
            ),
            []
        );
        assert_eq!(
            keyword_uses("The initial value MAY be set to 1 and MUST NOT be set to zero."),
            [Level::May, Level::MustNot]
        );
        assert_eq!(keyword_uses("The MAP must also be able, MUSTER."), []);
        assert_eq!(
            keyword_uses("it is NOT RECOMMENDED (SHOULD)."),
            [Level::NotRecommended, Level::Should]
        );
        assert_eq!(
            strongest(&[Level::May, Level::MustNot]),
            Some(Level::MustNot)
        );
        assert_eq!(
            strongest(&[Level::Should, Level::Optional]),
            Some(Level::Should)
        );
        assert_eq!(strongest(&[]), None);
    }

    #[test]
    fn headings_are_told_from_paragraphs_and_contents() {
        let h = |l: &str| heading(l).map(|(n, t)| format!("{n}|{t}"));
        assert_eq!(
            h("6.1.1. Sending Packets to Correspondent Nodes").as_deref(),
            Some("6.1.1|Sending Packets to Correspondent Nodes")
        );
        assert_eq!(h("14. References").as_deref(), Some("14|References"));
        assert_eq!(
            h("Appendix A: Fast Mobile IPv6 Handovers and HMIPv6").as_deref(),
            Some("A|Fast Mobile IPv6 Handovers and HMIPv6")
        );
        assert_eq!(
            h("Table of Contents").as_deref(),
            Some("|Table of Contents")
        );
        // One-line paragraphs of the web layout start in the first column.
        assert_eq!(
            h("HMIPv6 is completely transparent to correspondent nodes."),
            None
        );
        assert_eq!(h("1. Introduction ......3 2. Terminology ......4"), None);
        assert_eq!(h("   6.1. Mobile Node Operation"), None);
        assert_eq!(h("6.1. mobile node operation"), None);
        assert_eq!(h("0 1 2 3 0 1 2 3 4 5"), None);
    }

    /// A small RFC in the web layout: front matter, contents, the keyword
    /// boilerplate, two sections with a page mark inside a paragraph,
    /// references and back matter.
    fn mini_rfc() -> String {
        format!(
            "RFC 9999\n\nThe implementation MUST be nice.\n\
             {MARK}\n\nTable of Contents\n\n1. Introduction ....3 2. Terminology ....4\n\
             {MARK}\n\n1. Introduction\n\nThe key words \"MUST\" and \"MAY\" in this document \
             are to be interpreted as described in RFC 2119 [3].\n\n\
             3.1. HMIPv6 Operation\n\nThe MAP MUST store this information in its Binding Cache. \
             Nothing here.\n\n   Note that the mobile node MUST NOT present an RCoA as an\n\
             {MARK}\n   LCoA (e.g., RCoA1).  The LCoA MAY be\n   anything.\n\n\
             6.2. MAP Operations\n\nR When set to 1, the mobile node MUST form an RCoA.\n\n\
             14. References\n\n[1] Something, \"Title\", RFC 3775. It MUST be read.\n\n\
             Full Copyright Statement\n\n   Nobody MUST do anything.\n"
        )
    }

    fn catalogue(entries: &str) -> Catalogue {
        let text = format!("requirements:\n{entries}");
        Catalogue::from_text(Path::new("test.yaml"), &text).unwrap_or_else(|d| panic!("{}", d[0]))
    }

    /// One entry in YAML.
    fn entry(id: &str, section: &str, level: &str, text: &str) -> String {
        format!(
            "  - id: {id}\n    section: \"{section}\"\n    level: {level}\n    \
             text: \"{}\"\n    roles: [map]\n    testable: true\n",
            text.replace('"', "\\\"")
        )
    }

    /// The entries that quote `mini_rfc` correctly.
    fn good_entries() -> Vec<String> {
        vec![
            entry(
                "RFC4140-3.1-MAP-STORE",
                "3.1",
                "MUST",
                "The MAP MUST store this information in its Binding Cache.",
            ),
            entry(
                "RFC4140-3.1-MN-NO-RCOA",
                "3.1",
                "MUST NOT",
                "Note that the mobile node MUST NOT present an RCoA as an LCoA (e.g., RCoA1).",
            ),
            entry(
                "RFC4140-3.1-LCOA-ANY",
                "3.1",
                "MAY",
                "The LCoA MAY be anything.",
            ),
            entry(
                "RFC4140-6.2-R-FLAG",
                "6.2",
                "MUST",
                "When set to 1, the mobile node MUST form an RCoA.",
            ),
        ]
    }

    #[test]
    fn normative_sentences_skip_front_matter_boilerplate_references_and_back_matter() {
        let found: Vec<(String, Level, String)> = normative_sentences(&mini_rfc())
            .into_iter()
            .map(|s| (s.section, s.keyword, s.text))
            .collect();
        let want = [
            (
                "3.1",
                Level::Must,
                "The MAP MUST store this information in its Binding Cache.",
            ),
            (
                "3.1",
                Level::MustNot,
                "Note that the mobile node MUST NOT present an RCoA as an LCoA (e.g., RCoA1).",
            ),
            ("3.1", Level::May, "The LCoA MAY be anything."),
            (
                "6.2",
                Level::Must,
                "R When set to 1, the mobile node MUST form an RCoA.",
            ),
        ];
        let want: Vec<(String, Level, String)> = want
            .iter()
            .map(|(s, l, t)| (s.to_string(), *l, t.to_string()))
            .collect();
        assert_eq!(found, want);
    }

    #[test]
    fn a_faithful_catalogue_has_no_problem() {
        let cat = catalogue(&good_entries().concat());
        assert_eq!(check_against_rfc(&cat, &mini_rfc()), Vec::<String>::new());
    }

    /// The problems found when entry `i` of the good catalogue is replaced
    /// by `replacement` (or dropped, if None).
    fn problems_with(i: usize, replacement: Option<String>) -> Vec<String> {
        let mut entries = good_entries();
        match replacement {
            Some(r) => entries[i] = r,
            None => {
                entries.remove(i);
            }
        }
        check_against_rfc(&catalogue(&entries.concat()), &mini_rfc())
    }

    #[test]
    fn each_kind_of_mistake_is_reported() {
        // Exactly the problems wanted, each found by a part of its message.
        let all = |problems: Vec<String>, wanted: &[&str]| {
            assert_eq!(problems.len(), wanted.len(), "{problems:#?}");
            for (p, w) in problems.iter().zip(wanted) {
                assert!(p.contains(w), "{problems:#?}\nwanted: {w}");
            }
        };
        let one = |problems: Vec<String>, wanted: &str| all(problems, &[wanted]);
        // A quote that is not the sentence also leaves the sentence unquoted.
        let uncovered = "section 3.1: MUST sentence not in the catalogue: \"The MAP MUST store";
        // A word changed: not verbatim, and where it stops agreeing.
        all(
            problems_with(
                0,
                Some(entry(
                    "RFC4140-3.1-MAP-STORE",
                    "3.1",
                    "MUST",
                    "The MAP MUST keep this information in its Binding Cache.",
                )),
            ),
            &[
                "RFC4140-3.1-MAP-STORE: the text is not in RFC 4140 verbatim; it agrees up to \
                 \"...The MAP MUST \" and then reads \"keep this",
                uncovered,
            ],
        );
        // A sentence not in the catalogue.
        one(
            problems_with(2, None),
            "section 3.1: MAY sentence not in the catalogue: \"The LCoA MAY be anything.\"",
        );
        // A level the text does not use, and one weaker than the text's.
        one(
            problems_with(
                0,
                Some(entry(
                    "RFC4140-3.1-MAP-STORE",
                    "3.1",
                    "SHOULD",
                    "The MAP MUST store this information in its Binding Cache.",
                )),
            ),
            "level SHOULD but the text does not use SHOULD",
        );
        one(
            problems_with(
                1,
                Some(entry(
                    "RFC4140-3.1-MN-NO-RCOA",
                    "3.1",
                    "MUST",
                    "Note that the mobile node MUST NOT present an RCoA as an LCoA (e.g., RCoA1).",
                )),
            ),
            "level MUST but the text does not use MUST",
        );
        // The wrong section (the ID says it too, so the ID agrees).
        one(
            problems_with(
                3,
                Some(entry(
                    "RFC4140-3.1-R-FLAG",
                    "3.1",
                    "MUST",
                    "When set to 1, the mobile node MUST form an RCoA.",
                )),
            ),
            "RFC4140-3.1-R-FLAG: section 3.1 given, but the text is in section 6.2",
        );
        // An ID that disagrees with the section.
        one(
            problems_with(
                3,
                Some(entry(
                    "RFC4140-6.1-R-FLAG",
                    "6.2",
                    "MUST",
                    "When set to 1, the mobile node MUST form an RCoA.",
                )),
            ),
            "expected the ID to start with RFC4140-6.2-",
        );
        // Part of a sentence, more than a sentence.
        all(
            problems_with(
                0,
                Some(entry(
                    "RFC4140-3.1-MAP-STORE",
                    "3.1",
                    "MUST",
                    "The MAP MUST store this information",
                )),
            ),
            &["is part of the sentence", uncovered],
        );
        let problems = problems_with(
            0,
            Some(entry(
                "RFC4140-3.1-MAP-STORE",
                "3.1",
                "MUST",
                "The MAP MUST store this information in its Binding Cache. Nothing here.",
            )),
        );
        all(problems, &["goes beyond the sentence", uncovered]);
        // Two entries for one sentence.
        let mut entries = good_entries();
        entries.push(entry(
            "RFC4140-3.1-LCOA-ANYTHING",
            "3.1",
            "MAY",
            "The LCoA MAY be anything.",
        ));
        one(
            check_against_rfc(&catalogue(&entries.concat()), &mini_rfc()),
            "is quoted by 2 entries: RFC4140-3.1-LCOA-ANY, RFC4140-3.1-LCOA-ANYTHING",
        );
    }

    #[test]
    fn other_rfcs_are_checked_for_level_and_id_only() {
        let mut entries = good_entries();
        entries.push(
            "  - id: RFC4861-4.2-IGNORE-UNKNOWN-OPTIONS\n    source: rfc4861\n    \
             section: \"4.2\"\n    level: MUST\n    text: \"Receivers MUST silently ignore \
             any options they do not recognize.\"\n    roles: [host]\n    testable: true\n"
                .to_string(),
        );
        let cat = catalogue(&entries.concat());
        assert_eq!(check_against_rfc(&cat, &mini_rfc()), Vec::<String>::new());
    }

    #[test]
    fn rfc_6275_quotes_are_checked_against_the_excerpts() {
        let excerpts = "RFC 6275 excerpts\n\n10.1.  Conceptual Data Structures\n\n   \
                        Each home agent MUST maintain a Binding Cache and Home\n   \
                        Agents List.  The rules are the same.\n";
        let rfc6275 = |id: &str, text: &str| {
            format!(
                "  - id: {id}\n    source: rfc6275\n    section: \"10.1\"\n    level: MUST\n    \
                 text: \"{text}\"\n    roles: [map]\n    testable: true\n"
            )
        };
        let mut entries = good_entries();
        entries.push(rfc6275(
            "RFC6275-10.1-BINDING-CACHE",
            "Each home agent MUST maintain a Binding Cache and Home Agents List.",
        ));
        let cat = catalogue(&entries.concat());
        assert_eq!(
            check_against_excerpts(&cat, Source::Rfc6275, excerpts),
            Vec::<String>::new()
        );
        // RFC 4140 entries are not looked for in RFC 6275's excerpts.
        assert_eq!(
            check_against_excerpts(&cat, Source::Rfc4140, "").len(),
            good_entries().len()
        );

        entries.push(rfc6275(
            "RFC6275-10.1-KEEP-CACHE",
            "Each home agent MUST keep a Binding Cache.",
        ));
        let cat = catalogue(&entries.concat());
        assert_eq!(
            check_against_excerpts(&cat, Source::Rfc6275, excerpts),
            [
                "RFC6275-10.1-KEEP-CACHE: the text is not in RFC 6275 verbatim; it agrees up to \
              \"...Each home agent MUST \" and then reads \"keep a Binding Cache....\""
            ]
        );
        // The same words marked as a summary are not looked for: they do not
        // claim to be the RFC's.
        let last = entries.len() - 1;
        entries[last] =
            entries[last].replace("    level: MUST\n", "    level: MUST\n    summary: true\n");
        let cat = catalogue(&entries.concat());
        assert!(cat.get("RFC6275-10.1-KEEP-CACHE").unwrap().summary);
        assert_eq!(
            check_against_excerpts(&cat, Source::Rfc6275, excerpts),
            Vec::<String>::new()
        );
    }

    #[test]
    fn id_form() {
        let r = |id: &str, source: Source, section: &str| Requirement {
            id: id.to_string(),
            source,
            section: section.to_string(),
            level: Level::Must,
            text: String::new(),
            roles: vec![Role::Map],
            testable: true,
            untestable_because: None,
            summary: false,
        };
        assert_eq!(
            id_problem(&r("RFC4140-6.2-BA-RH2", Source::Rfc4140, "6.2")),
            None
        );
        assert_eq!(
            id_problem(&r("RFC4862-5.5.3-FORM-ADDRESS", Source::Rfc4862, "5.5.3")),
            None
        );
        for (id, section) in [
            ("RFC4140-6.2-BA-RH2", "6.1"),
            ("RFC4140-6.2-ba-rh2", "6.2"),
            ("RFC4140-6.2-BA--RH2", "6.2"),
            ("RFC4140-6.2-", "6.2"),
            ("RFC4140-6.2-BA-", "6.2"),
            ("RFC4140-6..2-BA", "6..2"),
            ("RFC4861-6.2-BA", "6.2"),
        ] {
            assert!(
                id_problem(&r(id, Source::Rfc4140, section)).is_some(),
                "{id} in {section}"
            );
        }
    }
}
