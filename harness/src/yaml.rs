//! Case and profile files as located trees.
//!
//! Every file the suite reads (cases, profiles, the requirements catalogue)
//! goes through one path: `serde-saphyr` parses the text into a [`Yaml`]
//! tree in which every node and every mapping key carries its line and
//! column, the tree is turned into JSON and deserialised into the typed
//! model with `serde_path_to_error`, and any error's path is looked up in
//! the tree. So every problem, a YAML syntax error, an unknown field, a
//! wrong type or a semantic one found later (an undefined variable, a link
//! not in the topology), is reported at a line and column with one
//! mechanism, and the typed model keeps plain Rust types.

use std::fmt;
use std::path::{Path, PathBuf};

use serde::de::{self, DeserializeOwned, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use serde_saphyr::Spanned;

/// A line and column, both counted from 1 (0 when unknown).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Pos {
    pub line: u32,
    pub column: u32,
}

impl Pos {
    fn of(loc: serde_saphyr::Location) -> Pos {
        Pos {
            line: u32::try_from(loc.line()).unwrap_or(u32::MAX),
            column: u32::try_from(loc.column()).unwrap_or(u32::MAX),
        }
    }
}

/// One YAML node and where it starts.
#[derive(Clone, Debug, PartialEq)]
pub struct Yaml {
    pub at: Pos,
    pub value: YamlValue,
}

/// A mapping key and where it starts (keys are kept as text: `1:` is "1").
#[derive(Clone, Debug, PartialEq)]
pub struct Key {
    pub name: String,
    pub at: Pos,
}

#[derive(Clone, Debug, PartialEq)]
pub enum YamlValue {
    Null,
    Bool(bool),
    Int(i128),
    Float(f64),
    Str(String),
    Seq(Vec<Yaml>),
    /// In file order.
    Map(Vec<(Key, Yaml)>),
}

impl<'de> Deserialize<'de> for Yaml {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Yaml, D::Error> {
        let s = Spanned::<YamlValue>::deserialize(d)?;
        Ok(Yaml {
            at: Pos::of(s.referenced),
            value: s.value,
        })
    }
}

impl<'de> Deserialize<'de> for YamlValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<YamlValue, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = YamlValue;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("any YAML value")
            }
            fn visit_unit<E>(self) -> Result<YamlValue, E> {
                Ok(YamlValue::Null)
            }
            fn visit_none<E>(self) -> Result<YamlValue, E> {
                Ok(YamlValue::Null)
            }
            fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<YamlValue, D::Error> {
                YamlValue::deserialize(d)
            }
            fn visit_bool<E>(self, b: bool) -> Result<YamlValue, E> {
                Ok(YamlValue::Bool(b))
            }
            fn visit_i64<E>(self, n: i64) -> Result<YamlValue, E> {
                Ok(YamlValue::Int(n.into()))
            }
            fn visit_u64<E>(self, n: u64) -> Result<YamlValue, E> {
                Ok(YamlValue::Int(n.into()))
            }
            fn visit_i128<E>(self, n: i128) -> Result<YamlValue, E> {
                Ok(YamlValue::Int(n))
            }
            fn visit_u128<E: de::Error>(self, n: u128) -> Result<YamlValue, E> {
                i128::try_from(n)
                    .map(YamlValue::Int)
                    .map_err(|_| E::custom("integer too large"))
            }
            fn visit_f64<E>(self, n: f64) -> Result<YamlValue, E> {
                Ok(YamlValue::Float(n))
            }
            fn visit_str<E>(self, s: &str) -> Result<YamlValue, E> {
                Ok(YamlValue::Str(s.to_string()))
            }
            fn visit_string<E>(self, s: String) -> Result<YamlValue, E> {
                Ok(YamlValue::Str(s))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut a: A) -> Result<YamlValue, A::Error> {
                let mut items = Vec::new();
                while let Some(item) = a.next_element::<Yaml>()? {
                    items.push(item);
                }
                Ok(YamlValue::Seq(items))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut a: A) -> Result<YamlValue, A::Error> {
                let mut entries: Vec<(Key, Yaml)> = Vec::new();
                while let Some(key) = a.next_key::<Yaml>()? {
                    let name = match key.value {
                        YamlValue::Str(s) => s,
                        YamlValue::Int(n) => n.to_string(),
                        YamlValue::Bool(b) => b.to_string(),
                        YamlValue::Float(x) => x.to_string(),
                        YamlValue::Null => "null".to_string(),
                        YamlValue::Seq(_) | YamlValue::Map(_) => {
                            return Err(de::Error::custom(
                                "a mapping key must be a plain scalar, not a list or a mapping",
                            ))
                        }
                    };
                    let value = a.next_value::<Yaml>()?;
                    entries.push((Key { name, at: key.at }, value));
                }
                Ok(YamlValue::Map(entries))
            }
        }
        d.deserialize_any(V)
    }
}

/// One step of a path into a tree: a mapping key or a list index.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Seg {
    Key(String),
    Index(usize),
}

impl fmt::Display for Seg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Seg::Key(k) => write!(f, ".{k}"),
            Seg::Index(i) => write!(f, "[{i}]"),
        }
    }
}

/// `steps[2].send.mh`, for messages.
pub fn path_text(path: &[Seg]) -> String {
    let mut s = String::new();
    for seg in path {
        s.push_str(&seg.to_string());
    }
    s.trim_start_matches('.').to_string()
}

impl Yaml {
    /// The value as JSON (key order kept). Keys that repeat keep the last
    /// value, but the parser rejects duplicate keys before this.
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value;
        match &self.value {
            YamlValue::Null => Value::Null,
            YamlValue::Bool(b) => Value::Bool(*b),
            YamlValue::Int(n) => {
                if let Ok(u) = u64::try_from(*n) {
                    Value::from(u)
                } else if let Ok(i) = i64::try_from(*n) {
                    Value::from(i)
                } else {
                    Value::String(n.to_string())
                }
            }
            YamlValue::Float(x) => serde_json::Number::from_f64(*x)
                .map(Value::Number)
                .unwrap_or_else(|| Value::String(x.to_string())),
            YamlValue::Str(s) => Value::String(s.clone()),
            YamlValue::Seq(items) => Value::Array(items.iter().map(Yaml::to_json).collect()),
            YamlValue::Map(entries) => Value::Object(
                entries
                    .iter()
                    .map(|(k, v)| (k.name.clone(), v.to_json()))
                    .collect(),
            ),
        }
    }

    /// The entry `key` of a mapping.
    pub fn get(&self, key: &str) -> Option<&Yaml> {
        self.entry(key).map(|(_, v)| v)
    }

    /// The key and value of the entry `key` of a mapping.
    pub fn entry(&self, key: &str) -> Option<(&Key, &Yaml)> {
        match &self.value {
            YamlValue::Map(entries) => entries
                .iter()
                .find(|(k, _)| k.name == key)
                .map(|(k, v)| (k, v)),
            _ => None,
        }
    }

    /// Where `path` points: the node itself if it exists; for a path whose
    /// last step is a key that the mapping lacks, the mapping; in general the
    /// deepest node on the way. `key_pos` asks for the position of the last
    /// key rather than its value (for "unknown field" errors).
    pub fn locate(&self, path: &[Seg], key_pos: bool) -> Pos {
        let mut node = self;
        for (i, seg) in path.iter().enumerate() {
            let last = i + 1 == path.len();
            match (seg, &node.value) {
                (Seg::Key(k), YamlValue::Map(entries)) => {
                    match entries.iter().find(|(key, _)| &key.name == k) {
                        Some((key, value)) => {
                            if last && key_pos {
                                return key.at;
                            }
                            node = value;
                        }
                        None => return node.at,
                    }
                }
                (Seg::Index(ix), YamlValue::Seq(items)) => match items.get(*ix) {
                    Some(item) => node = item,
                    None => return node.at,
                },
                _ => return node.at,
            }
        }
        node.at
    }
}

impl Yaml {
    /// The node at `path`, if there is one.
    pub fn node(&self, path: &[Seg]) -> Option<&Yaml> {
        let mut node = self;
        for seg in path {
            node = match (seg, &node.value) {
                (Seg::Key(k), YamlValue::Map(_)) => node.get(k)?,
                (Seg::Index(i), YamlValue::Seq(items)) => items.get(*i)?,
                _ => return None,
            };
        }
        Some(node)
    }

    /// Where a deserialisation error at `path` points. "unknown field"
    /// errors carry the offending key as the path's last step: the key.
    /// "unknown variant `x`": the key `x` when the node is a mapping holding
    /// it (an enum written `x: {...}`), the value when it is a scalar
    /// (`role: x`), else the key.
    pub fn locate_error(&self, path: &[Seg], message: &str) -> Pos {
        if let Some(rest) = message.strip_prefix("unknown variant `") {
            let variant = rest.split('`').next().unwrap_or("");
            match self.node(path) {
                Some(n) => {
                    if let Some((k, _)) = n.entry(variant) {
                        return k.at;
                    }
                    if !matches!(n.value, YamlValue::Map(_) | YamlValue::Seq(_)) {
                        return n.at;
                    }
                    return self.locate(path, true);
                }
                None => return self.locate(path, true),
            }
        }
        self.locate(path, message.starts_with("unknown field"))
    }
}

/// A problem in a file, at a line and column.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Diagnostic {
    pub file: PathBuf,
    pub at: Pos,
    /// What is wrong and what was expected instead.
    pub message: String,
    /// A warning: shown, but the file is still usable (a `run` goes on).
    pub warning: bool,
}

impl Diagnostic {
    pub fn new(file: &Path, at: Pos, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            file: file.to_path_buf(),
            at,
            message: message.into(),
            warning: false,
        }
    }

    /// A diagnostic that does not make the file unusable.
    pub fn warning(file: &Path, at: Pos, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            warning: true,
            ..Diagnostic::new(file, at, message)
        }
    }
}

/// Whether any of `diags` is an error (not a warning).
pub fn any_error(diags: &[Diagnostic]) -> bool {
    diags.iter().any(|d| !d.warning)
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}: {}{}",
            self.file.display(),
            self.at.line,
            self.at.column,
            if self.warning { "warning: " } else { "" },
            self.message
        )
    }
}

impl std::error::Error for Diagnostic {}

/// Parses `text` (the contents of `file`) into a located tree. YAML syntax
/// errors, duplicate keys and an empty file are diagnostics.
pub fn parse(file: &Path, text: &str) -> Result<Yaml, Diagnostic> {
    let options = serde_saphyr::options! { with_snippet: false, strict_booleans: true };
    match serde_saphyr::from_str_with_options::<Option<Yaml>>(text, options) {
        Ok(Some(tree)) => Ok(tree),
        Ok(None) => Err(Diagnostic::new(
            file,
            Pos { line: 1, column: 1 },
            "the file is empty; expected a YAML mapping",
        )),
        Err(e) => {
            let at = e.location().map(Pos::of).unwrap_or_default();
            Err(explain_syntax_error(
                Diagnostic::new(file, at, saphyr_message(&e)),
                text,
            ))
        }
    }
}

/// The message of a serde-saphyr error without its own location suffix
/// (ours goes in front, as compilers do).
fn saphyr_message(e: &serde_saphyr::Error) -> String {
    let text = e.without_snippet().to_string();
    let first = text.lines().next().unwrap_or("").trim();
    match first.rfind(" at line ") {
        Some(i) => first[..i].to_string(),
        None => first.to_string(),
    }
}

/// Says more than the parser about three common mistakes: a duplicate key
/// (the parser's text names a library option), a tab in the indentation
/// (the parser stops where a scalar runs into it, often on the line
/// before), and a flow list or mapping left open (the parser stops at some
/// later line).
fn explain_syntax_error(mut d: Diagnostic, text: &str) -> Diagnostic {
    if let Some(rest) = d.message.strip_prefix("duplicate mapping key") {
        let k = rest
            .trim_start_matches(':')
            .split(", set DuplicateKeyPolicy")
            .next()
            .unwrap_or("")
            .trim();
        d.message = if k.is_empty() {
            "duplicate key: a key may appear only once in a mapping".to_string()
        } else {
            format!("duplicate key `{k}`: a key may appear only once in a mapping; remove or rename one")
        };
        return d;
    }
    if d.message.to_lowercase().contains("tab") {
        for (i, line) in text.lines().enumerate() {
            let indent: String = line
                .chars()
                .take_while(|c| *c == ' ' || *c == '\t')
                .collect();
            if let Some(col) = indent.find('\t') {
                d.at = Pos {
                    line: u32::try_from(i + 1).unwrap_or(u32::MAX),
                    column: u32::try_from(col + 1).unwrap_or(u32::MAX),
                };
                d.message = format!(
                    "a tab in the indentation ({}); YAML indents with spaces only",
                    d.message
                );
                return d;
            }
        }
        return d;
    }
    if let Some((c, at)) = open_flow_before(text, d.at) {
        if at.line < d.at.line {
            let close = if c == '[' { ']' } else { '}' };
            d.message = format!(
                "{}; perhaps the `{c}` at line {}, column {} is never closed (expected `{close}`)",
                d.message, at.line, at.column
            );
        }
    }
    d
}

/// The innermost flow collection (`[` or `{`) still open at `end`, outside
/// quotes and comments: a rough scan, for a hint only.
fn open_flow_before(text: &str, end: Pos) -> Option<(char, Pos)> {
    let mut stack: Vec<(char, Pos)> = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line_no = u32::try_from(i + 1).unwrap_or(u32::MAX);
        if line_no > end.line {
            break;
        }
        let mut quote: Option<char> = None;
        let mut prev = ' ';
        for (j, c) in line.chars().enumerate() {
            let col = u32::try_from(j + 1).unwrap_or(u32::MAX);
            if line_no == end.line && col >= end.column {
                break;
            }
            match (quote, c) {
                (Some('"'), '\\') if prev != '\\' => {}
                (Some(q), c) if c == q && !(q == '"' && prev == '\\') => quote = None,
                (Some(_), _) => {}
                (None, '"' | '\'') => quote = Some(c),
                (None, '#') if prev == ' ' || prev == '\t' || j == 0 => break,
                (None, '[' | '{') => stack.push((
                    c,
                    Pos {
                        line: line_no,
                        column: col,
                    },
                )),
                (None, ']' | '}') => {
                    stack.pop();
                }
                _ => {}
            }
            prev = if prev == '\\' && c == '\\' { ' ' } else { c };
        }
    }
    stack.pop()
}

/// A `serde_path_to_error` path as our path steps (an enum variant is the
/// key that names it in YAML).
pub fn segs(path: &serde_path_to_error::Path) -> Vec<Seg> {
    path.iter()
        .filter_map(|seg| match seg {
            serde_path_to_error::Segment::Seq { index } => Some(Seg::Index(*index)),
            serde_path_to_error::Segment::Map { key } => Some(Seg::Key(key.clone())),
            serde_path_to_error::Segment::Enum { variant } => Some(Seg::Key(variant.clone())),
            serde_path_to_error::Segment::Unknown => None,
        })
        .collect()
}

/// Deserialises the tree into `T`; an error is located through its path.
pub fn typed<T: DeserializeOwned>(file: &Path, tree: &Yaml) -> Result<T, Diagnostic> {
    typed_at(file, tree, &[])
}

/// As [`typed`], for a subtree found at `base` in the file's tree
/// (`tree` is that subtree; locations are still the file's).
pub fn typed_at<T: DeserializeOwned>(
    file: &Path,
    tree: &Yaml,
    base: &[Seg],
) -> Result<T, Diagnostic> {
    let json = tree.to_json();
    serde_path_to_error::deserialize::<_, T>(json).map_err(|e| {
        let path = segs(e.path());
        let message = e.inner().to_string();
        let at = tree.locate_error(&path, &message);
        let mut full: Vec<Seg> = base.to_vec();
        full.extend(path);
        let message = if full.is_empty() {
            message
        } else {
            format!("{}: {message}", path_text(&full))
        };
        Diagnostic::new(file, at, message)
    })
}

/// Reads, parses and deserialises a file.
pub fn load<T: DeserializeOwned>(file: &Path) -> Result<(T, Yaml), Diagnostic> {
    let text = std::fs::read_to_string(file)
        .map_err(|e| Diagnostic::new(file, Pos::default(), format!("cannot read the file: {e}")))?;
    let tree = parse(file, &text)?;
    let value = typed(file, &tree)?;
    Ok((value, tree))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Doc {
        name: String,
        items: Vec<Item>,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Item {
        n: u8,
    }

    fn f() -> PathBuf {
        PathBuf::from("t.yaml")
    }

    #[test]
    fn tree_keeps_positions() {
        let t = parse(&f(), "name: a\nitems:\n  - n: 1\n  - n: 300\n").unwrap();
        let n = t.locate(
            &[
                Seg::Key("items".into()),
                Seg::Index(1),
                Seg::Key("n".into()),
            ],
            false,
        );
        assert_eq!(n, Pos { line: 4, column: 8 });
        let k = t.locate(&[Seg::Key("items".into())], true);
        assert_eq!(k, Pos { line: 2, column: 1 });
    }

    #[test]
    fn type_error_is_located() {
        let t = parse(&f(), "name: a\nitems:\n  - n: 1\n  - n: 300\n").unwrap();
        let e = typed::<Doc>(&f(), &t).unwrap_err();
        assert_eq!(e.at, Pos { line: 4, column: 8 }, "{e}");
        assert!(e.message.starts_with("items[1].n: invalid value"), "{e}");
    }

    #[test]
    fn unknown_field_points_at_the_key() {
        let t = parse(&f(), "name: a\nitems:\n  - n: 1\n    m: 2\n").unwrap();
        let e = typed::<Doc>(&f(), &t).unwrap_err();
        assert_eq!(e.at, Pos { line: 4, column: 5 }, "{e}");
        assert!(e.message.contains("unknown field `m`"), "{e}");
        assert!(e.message.contains("expected `n`"), "{e}");
    }

    #[test]
    fn syntax_errors_and_duplicates_are_located() {
        let e = parse(&f(), "a: 1\nb: [1, 2\n").unwrap_err();
        assert!(e.at.line >= 2, "{e}");
        let e = parse(&f(), "a: 1\na: 2\n").unwrap_err();
        assert_eq!(e.at.line, 2, "{e}");
        assert!(e.message.to_lowercase().contains("duplicate"), "{e}");
        let e = parse(&f(), "").unwrap_err();
        assert_eq!(e.at.line, 1);
    }
}
