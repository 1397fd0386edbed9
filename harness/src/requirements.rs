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
    /// The sentence, verbatim (line breaks may differ).
    pub text: String,
    /// The roles it binds.
    pub roles: Vec<Role>,
    /// Whether a tester on the links can observe it.
    pub testable: bool,
    /// Why not, when `testable` is false.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub untestable_because: Option<String>,
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
