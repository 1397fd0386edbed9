//! Variables in case and profile values: `{name}` inside any string.
//!
//! Names are `pixit.<name>` and `pics.<name>` (the profile), `node.<n>.mac`,
//! `node.<n>.link_local`, `node.<n>.address` (an emulated node's MAC, EUI-64
//! link-local and first address), `iut.<link>.mac`, `iut.<link>.link_local`
//! (the IUT's end of a link), `if.<link>` (the IUT's interface name), case
//! `vars`, values bound by `expect` steps, `i` inside `repeat`, and
//! `args.<name>` in profile actions. `{name+N}` and `{name-N}` add to a
//! number (a sequence number one ahead). `{{` and `}}` are literal braces.
//!
//! A string that is exactly one reference takes the variable's value with
//! its type (a number stays a number); otherwise references are
//! interpolated as text: `"{pixit.map_prefix}::2:2"`.

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::Value;

/// A reference found in a string.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ref {
    pub name: String,
    /// `{seq+1}`: 1.
    pub offset: i64,
}

/// One piece of a template string.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Piece {
    Text(String),
    Var(Ref),
}

fn pieces(s: &str) -> Result<Vec<Piece>, String> {
    let mut out = Vec::new();
    let mut text = String::new();
    let mut chars = s.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        match c {
            '{' if chars.peek().map(|p| p.1) == Some('{') => {
                chars.next();
                text.push('{');
            }
            '}' if chars.peek().map(|p| p.1) == Some('}') => {
                chars.next();
                text.push('}');
            }
            '{' => {
                let rest = &s[i + 1..];
                let end = rest.find('}').ok_or_else(|| {
                    format!(
                        "unclosed `{{` at character {i} of {s:?}; write `{{{{` for a literal brace"
                    )
                })?;
                let inner = &rest[..end];
                for _ in 0..inner.chars().count() + 1 {
                    chars.next();
                }
                if !text.is_empty() {
                    out.push(Piece::Text(std::mem::take(&mut text)));
                }
                out.push(Piece::Var(parse_ref(inner)?));
            }
            '}' => {
                return Err(format!(
                    "stray `}}` at character {i} of {s:?}; write `}}}}` for a literal brace"
                ))
            }
            c => text.push(c),
        }
    }
    if !text.is_empty() {
        out.push(Piece::Text(text));
    }
    Ok(out)
}

fn parse_ref(inner: &str) -> Result<Ref, String> {
    let inner = inner.trim();
    let (name, offset) = match inner.find(['+', '-']) {
        // A '-' inside a name (node names, link names) is part of it unless
        // a number follows to the end.
        Some(p) if inner[p + 1..].trim().parse::<i64>().is_ok() => {
            let n: i64 = inner[p + 1..].trim().parse().unwrap_or(0);
            let n = if &inner[p..=p] == "-" { -n } else { n };
            (inner[..p].trim(), n)
        }
        _ => (inner, 0),
    };
    let valid = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.' || c == '-');
    if !valid {
        return Err(format!(
            "`{{{inner}}}` is not a variable reference; expected `{{name}}` or `{{name+N}}` with a name of letters, digits, `_`, `-` and `.`"
        ));
    }
    Ok(Ref {
        name: name.to_string(),
        offset,
    })
}

/// The references in `s`.
pub fn references(s: &str) -> Result<Vec<Ref>, String> {
    Ok(pieces(s)?
        .into_iter()
        .filter_map(|p| match p {
            Piece::Var(r) => Some(r),
            Piece::Text(_) => None,
        })
        .collect())
}

/// Every reference in a JSON tree, with the path to the string holding it.
pub fn references_in(
    v: &Value,
    path: &mut Vec<crate::yaml::Seg>,
    out: &mut Vec<(Vec<crate::yaml::Seg>, Result<Ref, String>)>,
) {
    use crate::yaml::Seg;
    match v {
        Value::String(s) => match references(s) {
            Ok(refs) => out.extend(refs.into_iter().map(|r| (path.clone(), Ok(r)))),
            Err(e) => out.push((path.clone(), Err(e))),
        },
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                path.push(Seg::Index(i));
                references_in(item, path, out);
                path.pop();
            }
        }
        Value::Object(map) => {
            for (k, item) in map {
                path.push(Seg::Key(k.clone()));
                references_in(item, path, out);
                path.pop();
            }
        }
        _ => {}
    }
}

/// Variable values.
#[derive(Clone, Debug, Default)]
pub struct Scope {
    values: BTreeMap<String, Value>,
}

/// Why a value could not be resolved.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResolveError {
    /// Path inside the value.
    pub path: Vec<crate::yaml::Seg>,
    pub message: String,
}

impl Scope {
    pub fn new() -> Scope {
        Scope::default()
    }

    pub fn set(&mut self, name: impl Into<String>, value: Value) {
        self.values.insert(name.into(), value);
    }

    pub fn get(&self, name: &str) -> Option<&Value> {
        self.values.get(name)
    }

    pub fn contains(&self, name: &str) -> bool {
        self.values.contains_key(name)
    }

    /// Sets `prefix.<key>` for every entry of a map (pixit, pics).
    pub fn set_all(&mut self, prefix: &str, map: &serde_json::Map<String, Value>) {
        for (k, v) in map {
            self.set(format!("{prefix}.{k}"), v.clone());
        }
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.values.keys().map(String::as_str)
    }

    /// `v` with every reference replaced.
    pub fn resolve(&self, v: &Value) -> Result<Value, ResolveError> {
        self.resolve_with(v, &mut |_: &str, _: &str| None)
    }

    /// As [`Scope::resolve`]; a name the scope lacks is asked of `fallback`
    /// (given the name and the mapping key holding the string), which lint
    /// uses to put a plausible placeholder where a value is only known at
    /// run time.
    pub fn resolve_with(
        &self,
        v: &Value,
        fallback: &mut dyn FnMut(&str, &str) -> Option<Value>,
    ) -> Result<Value, ResolveError> {
        let mut path = Vec::new();
        self.walk(v, "", &mut path, fallback)
    }

    fn walk(
        &self,
        v: &Value,
        key: &str,
        path: &mut Vec<crate::yaml::Seg>,
        fallback: &mut dyn FnMut(&str, &str) -> Option<Value>,
    ) -> Result<Value, ResolveError> {
        use crate::yaml::Seg;
        Ok(match v {
            Value::String(s) => self
                .string(s, key, fallback)
                .map_err(|message| ResolveError {
                    path: path.clone(),
                    message,
                })?,
            Value::Array(items) => {
                let mut out = Vec::with_capacity(items.len());
                for (i, item) in items.iter().enumerate() {
                    path.push(Seg::Index(i));
                    out.push(self.walk(item, key, path, fallback)?);
                    path.pop();
                }
                Value::Array(out)
            }
            Value::Object(map) => {
                let mut out = serde_json::Map::new();
                for (k, item) in map {
                    path.push(Seg::Key(k.clone()));
                    out.insert(k.clone(), self.walk(item, k, path, fallback)?);
                    path.pop();
                }
                Value::Object(out)
            }
            other => other.clone(),
        })
    }

    fn lookup(
        &self,
        r: &Ref,
        key: &str,
        fallback: &mut dyn FnMut(&str, &str) -> Option<Value>,
    ) -> Result<Value, String> {
        let v = match self.values.get(&r.name) {
            Some(v) => v.clone(),
            None => fallback(&r.name, key)
                .ok_or_else(|| format!("undefined variable `{{{}}}`", r.name))?,
        };
        if r.offset == 0 {
            return Ok(v);
        }
        let n = as_i64(&v).ok_or_else(|| {
            format!(
                "`{{{}{:+}}}`: the variable is {v}, not a number",
                r.name, r.offset
            )
        })?;
        Ok(Value::from(n + r.offset))
    }

    fn string(
        &self,
        s: &str,
        key: &str,
        fallback: &mut dyn FnMut(&str, &str) -> Option<Value>,
    ) -> Result<Value, String> {
        let ps = pieces(s)?;
        if let [Piece::Var(r)] = ps.as_slice() {
            return self.lookup(r, key, fallback);
        }
        let mut out = String::new();
        for p in ps {
            match p {
                Piece::Text(t) => out.push_str(&t),
                Piece::Var(r) => match self.lookup(&r, key, fallback)? {
                    Value::String(t) => out.push_str(&t),
                    other => out.push_str(&other.to_string()),
                },
            }
        }
        Ok(Value::String(out))
    }
}

/// A number, or a string holding one.
pub fn as_i64(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// A duration: `"250ms"`, `"2s"`, `"1.5s"`, or a number of milliseconds
/// (0 allowed).
pub fn as_duration(v: &Value) -> Result<Duration, String> {
    match v {
        Value::Number(n) => n
            .as_u64()
            .map(Duration::from_millis)
            .ok_or_else(|| format!("expected a duration like \"500ms\" or \"2s\", found {n}")),
        Value::String(s) if s.trim() == "0" || s.trim() == "0s" || s.trim() == "0ms" => {
            Ok(Duration::ZERO)
        }
        Value::String(s) => crate::topology::node::parse_interval(s),
        other => Err(format!(
            "expected a duration like \"500ms\" or \"2s\", found {other}"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn scope() -> Scope {
        let mut s = Scope::new();
        s.set("pixit.map_prefix", json!("2001:db8:ffff"));
        s.set("seq", json!(100));
        s.set("node.ar-1.mac", json!("02:00:00:00:00:01"));
        s
    }

    #[test]
    fn whole_reference_keeps_the_type() {
        assert_eq!(scope().resolve(&json!("{seq}")).unwrap(), json!(100));
        assert_eq!(scope().resolve(&json!("{seq+1}")).unwrap(), json!(101));
        assert_eq!(scope().resolve(&json!("{seq-2}")).unwrap(), json!(98));
        assert_eq!(
            scope().resolve(&json!("{node.ar-1.mac}")).unwrap(),
            json!("02:00:00:00:00:01")
        );
    }

    #[test]
    fn interpolation_and_escapes() {
        let v = json!({"a": ["{pixit.map_prefix}::2:2", "s{seq}", "{{x}}"]});
        assert_eq!(
            scope().resolve(&v).unwrap(),
            json!({"a": ["2001:db8:ffff::2:2", "s100", "{x}"]})
        );
    }

    #[test]
    fn errors_name_the_variable_and_path() {
        let e = scope().resolve(&json!({"x": [1, "{nope}"]})).unwrap_err();
        assert_eq!(e.message, "undefined variable `{nope}`");
        assert_eq!(crate::yaml::path_text(&e.path), "x[1]");
        assert!(scope().resolve(&json!("{pixit.map_prefix+1}")).is_err());
        assert!(references("{a b}").is_err());
        assert!(references("{open").is_err());
        assert!(references("close}").is_err());
    }

    #[test]
    fn durations() {
        assert_eq!(
            as_duration(&json!("250ms")).unwrap(),
            Duration::from_millis(250)
        );
        assert_eq!(as_duration(&json!(40)).unwrap(), Duration::from_millis(40));
        assert_eq!(as_duration(&json!("0s")).unwrap(), Duration::ZERO);
        assert!(as_duration(&json!("soon")).is_err());
    }
}
