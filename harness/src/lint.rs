//! `hmip6spec lint`: everything about case and profile files that can be
//! checked without running them, each problem at a file, line and column.
//!
//! Beyond the shape (unknown fields, wrong types, which loading already
//! reports): unknown or misapplied requirement IDs, duplicate case IDs,
//! links and nodes not in the topology, variables used before they are
//! defined, PICS and PIXIT names not in `cases/pics.yaml`, unreachable
//! steps, frame descriptions that cannot be built, pattern fields that no
//! frame has, and profiles whose commands or actions are malformed.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde_json::{json, Value};

use crate::case::esp::{Sa, SaTable, Sealer};
use crate::case::frame_spec::{self, Defaults, FRAME_KEYS, PACKET_KEYS};
use crate::case::pattern::{is_operator, OPERATORS};
use crate::case::template::{as_duration, as_i64, references, references_in, Scope};
use crate::case::{ExpectStep, LoadedCase, SendStep, Step};
use crate::profile::{LoadedProfile, ParameterCatalogue};
use crate::requirements::Catalogue;
use crate::topology::check_ifname;
use crate::topology::node::NodeSpec;
use crate::yaml::{Diagnostic, Seg};
use wire::MacAddr;

/// What lint checks against.
pub struct Catalogues<'a> {
    pub requirements: &'a Catalogue,
    pub parameters: &'a ParameterCatalogue,
}

fn key(k: &str) -> Seg {
    Seg::Key(k.to_string())
}

fn with(base: &[Seg], more: &[Seg]) -> Vec<Seg> {
    let mut p = base.to_vec();
    p.extend_from_slice(more);
    p
}

/// Names a case can use before any step runs, besides its own `vars` and
/// nodes: the profile's, the IUT's link facts and the case's id.
fn case_scope(lc: &LoadedCase, cats: &Catalogues) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for k in cats.parameters.pixit.keys() {
        names.insert(format!("pixit.{k}"));
    }
    for k in cats.parameters.pics.keys() {
        names.insert(format!("pics.{k}"));
    }
    names.insert("case.id".into());
    for l in &lc.case.topology.links {
        names.insert(format!("iut.{}.mac", l.name()));
        names.insert(format!("iut.{}.link_local", l.name()));
        names.insert(format!("if.{}", l.name()));
    }
    names
}

struct CaseLint<'a> {
    lc: &'a LoadedCase,
    cats: &'a Catalogues<'a>,
    out: Vec<Diagnostic>,
    defined: BTreeSet<String>,
    links: BTreeSet<String>,
    nodes: BTreeMap<String, Option<NodeSpec>>,
    /// Field paths that occur in frames (from `wire::samples`), for pattern
    /// keys.
    vocabulary: &'a BTreeMap<String, BTreeSet<String>>,
    /// Every name an `expect` binds, and the first step that binds it (to
    /// tell "used before it is bound" from "defined nowhere").
    bound_by: BTreeMap<String, Vec<Seg>>,
}

impl CaseLint<'_> {
    fn at(&mut self, path: &[Seg], key_pos: bool, message: impl Into<String>) {
        let pos = self.lc.tree.locate(path, key_pos);
        self.out.push(Diagnostic::new(&self.lc.path, pos, message));
    }

    /// Every reference in `v` (found at `path`) must be defined.
    fn refs(&mut self, v: &Value, path: &[Seg], extra: &BTreeSet<String>) {
        let mut found = Vec::new();
        references_in(v, &mut Vec::new(), &mut found);
        for (p, r) in found {
            let full = with(path, &p);
            match r {
                Err(e) => self.at(&full, false, e),
                Ok(r) => {
                    if !self.defined.contains(&r.name) && !extra.contains(&r.name) {
                        let hint;
                        if let Some(at) = self.bound_by.get(&r.name) {
                            hint = format!(
                                "; it is bound only by a later step, `{}`: use it after that step",
                                crate::yaml::path_text(at)
                            );
                        } else if let Some(rest) = r.name.strip_prefix("pixit.") {
                            let near = self
                                .cats
                                .parameters
                                .pixit
                                .keys()
                                .find(|k| crate::requirements::edit_distance(k, rest) <= 2);
                            hint = match near {
                                Some(k) => format!("; did you mean `{{pixit.{k}}}`?"),
                                None => format!(
                                    "; PIXIT names are listed in cases/pics.yaml ({rest:?} is not one)"
                                ),
                            };
                        } else if r.name.starts_with("node.") {
                            hint = "; nodes give `node.<name>.mac`, `.link_local` and `.address`"
                                .into();
                        } else {
                            let near: Vec<&String> = self
                                .defined
                                .iter()
                                .filter(|d| crate::requirements::edit_distance(d, &r.name) <= 2)
                                .collect();
                            if let Some(n) = near.first() {
                                hint = format!("; did you mean `{{{n}}}`?");
                            } else {
                                hint = "; define it in `vars`, bind it with `{bind: name}` in an earlier expect, or use a profile value `{pixit.name}`".into();
                            }
                        }
                        self.at(
                            &full,
                            false,
                            format!("undefined variable `{{{}}}`{hint}", r.name),
                        );
                    }
                }
            }
        }
    }

    fn check_link(&mut self, name: &str, path: &[Seg]) {
        if !self.links.contains(name) {
            let known: Vec<&str> = self.links.iter().map(String::as_str).collect();
            self.at(
                path,
                false,
                format!(
                    "link {name:?} is not in the topology; expected one of: {}",
                    known.join(", ")
                ),
            );
        }
    }

    fn run(&mut self) {
        let case = &self.lc.case;
        // Requirements.
        if case.requirements.is_empty() {
            self.at(
                &[key("requirements")],
                false,
                "expected at least one requirement ID",
            );
        }
        for (i, id) in case.requirements.iter().enumerate() {
            let p = [key("requirements"), Seg::Index(i)];
            match self.cats.requirements.get(id) {
                None => {
                    let near = self.cats.requirements.similar(id);
                    let hint = if near.is_empty() {
                        "; see cases/requirements.yaml".to_string()
                    } else {
                        format!("; did you mean {}?", near.join(" or "))
                    };
                    self.at(&p, false, format!("unknown requirement ID {id:?}{hint}"));
                }
                Some(r) => {
                    // Every role, not just one: a case of several roles
                    // runs against an IUT of any of them, and its FAIL
                    // names a cited requirement, which must bind that IUT.
                    let unbound: Vec<&str> = case
                        .roles
                        .iter()
                        .filter(|x| !r.roles.contains(x))
                        .map(|x| x.name())
                        .collect();
                    if !unbound.is_empty() {
                        let roles: Vec<&str> = r.roles.iter().map(|x| x.name()).collect();
                        let expected = if case.roles.len() == 1 {
                            format!("expected a requirement that binds {}", case.roles)
                        } else {
                            format!(
                                "a case of several roles can FAIL an IUT of any of them, so expected a requirement that binds each of {} (it does not bind {}), or one case per role",
                                case.roles.join(" and "),
                                unbound.join(", ")
                            )
                        };
                        self.at(
                            &p,
                            false,
                            format!(
                                "{id} binds {}, but this case tests a {}; {expected}",
                                roles.join(" and "),
                                case.roles,
                            ),
                        );
                    }
                    if !r.testable {
                        self.at(
                            &p,
                            false,
                            format!(
                                "{id} is marked untestable in the catalogue ({}); a case cannot check it",
                                r.untestable_because.clone().unwrap_or_default()
                            ),
                        );
                    }
                }
            }
        }
        // Case id shape.
        let id_ok = !case.id.is_empty()
            && case
                .roles
                .iter()
                .any(|r| case.id.starts_with(&format!("{r}.")))
            && case
                .id
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '.' || c == '-');
        if !id_ok {
            let start = if case.roles.len() == 1 {
                format!("the role (`{}.`)", case.roles.first())
            } else {
                let starts: Vec<String> = case.roles.iter().map(|r| format!("`{r}.`")).collect();
                format!("one of its roles ({})", starts.join(" or "))
            };
            self.at(
                &[key("id")],
                false,
                format!(
                    "case id {:?} should start with {start} and use lowercase letters, digits, `.` and `-`",
                    case.id
                ),
            );
        }
        // PICS.
        for name in case.pics.keys() {
            if !self.cats.parameters.pics.contains_key(name) {
                let known: Vec<&str> = self
                    .cats
                    .parameters
                    .pics
                    .keys()
                    .map(String::as_str)
                    .collect();
                self.at(
                    &[key("pics"), key(name)],
                    true,
                    format!(
                        "unknown PICS {name:?}; expected one of: {}",
                        known.join(", ")
                    ),
                );
            }
        }
        // Links.
        let mut links = BTreeSet::new();
        for (i, l) in case.topology.links.iter().enumerate() {
            let p = [key("topology"), key("links"), Seg::Index(i)];
            if let Err(e) = check_ifname(l.name()) {
                self.at(&p, false, e);
            }
            if !links.insert(l.name().to_string()) {
                self.at(&p, false, format!("link {:?} appears twice", l.name()));
            }
        }
        if links.is_empty() {
            self.at(
                &[key("topology"), key("links")],
                false,
                "expected at least one link",
            );
        }
        self.links = links;
        self.defined = case_scope(self.lc, self.cats);
        // Vars, in order.
        for (name, v) in &case.vars {
            let p = [key("vars"), key(name)];
            self.refs(v, &p, &BTreeSet::new());
            self.defined.insert(name.clone());
        }
        // Nodes: variables, links, shape (built with placeholders).
        let node_names: Vec<String> = case.topology.nodes.keys().cloned().collect();
        for name in &node_names {
            let v = case.topology.nodes[name].clone();
            let p = [key("topology"), key("nodes"), key(name)];
            self.refs(&v, &p, &BTreeSet::new());
            let resolved = self.placeholder_scope().resolve_with(&v, &mut placeholder);
            let spec = match resolved {
                Ok(mut r) => {
                    if let Value::Object(m) = &mut r {
                        m.insert("name".into(), json!(name));
                    }
                    match serde_path_to_error::deserialize::<_, NodeSpec>(r).map_err(|e| {
                        let sub = crate::yaml::segs(e.path());
                        let full = with(&p, &sub);
                        let msg = e.inner().to_string();
                        Diagnostic::new(
                            &self.lc.path,
                            self.lc.tree.locate_error(&full, &msg),
                            format!("{}: {msg}", crate::yaml::path_text(&full)),
                        )
                    }) {
                        Ok(s) => Some(s),
                        Err(d) => {
                            self.out.push(d);
                            None
                        }
                    }
                }
                Err(_) => None,
            };
            if let Some(s) = &spec {
                let l = s.link.clone();
                self.check_link(&l, &with(&p, &[key("link")]));
                for (j, itf) in s.interfaces.iter().enumerate() {
                    let l = itf.link.clone();
                    self.check_link(
                        &l,
                        &with(&p, &[key("interfaces"), Seg::Index(j), key("link")]),
                    );
                }
            }
            self.nodes.insert(name.clone(), spec);
        }
        for name in &node_names {
            for f in ["mac", "link_local", "address"] {
                self.defined.insert(format!("node.{name}.{f}"));
            }
        }
        let steps = case.steps.clone();
        if steps.is_empty() {
            self.at(&[key("steps")], false, "expected at least one step");
        }
        self.steps(&steps, &[key("steps")], &BTreeSet::new());
    }

    fn placeholder_scope(&self) -> Scope {
        let mut s = Scope::new();
        for (k, doc) in &self.cats.parameters.pixit {
            if let Some(v) = doc.example.clone().or_else(|| doc.default.clone()) {
                s.set(format!("pixit.{k}"), v);
            }
        }
        // Case variables as the engine resolves them before building the
        // nodes (a node may defend `{rcoa}`).
        for (name, v) in &self.lc.case.vars {
            if let Ok(value) = s.resolve_with(v, &mut placeholder) {
                s.set(name.clone(), value);
            }
        }
        s
    }

    fn steps(&mut self, steps: &[Step], base: &[Seg], extra: &BTreeSet<String>) {
        for (i, step) in steps.iter().enumerate() {
            let p = with(base, &[Seg::Index(i), key(step.kind())]);
            match step {
                Step::Send(s) => self.send(s, &p, extra),
                Step::Expect(e) | Step::ExpectNone(e) => {
                    self.expect(e, &p, extra, matches!(step, Step::Expect(_)))
                }
                Step::Action(a) => {
                    let v = serde_json::to_value(a.args()).unwrap_or(Value::Null);
                    self.refs(&v, &with(&p, &[key("args")]), extra);
                }
                Step::Wait(w) => {
                    self.refs(&w.0, &p, extra);
                    if references_of(&w.0).is_empty() {
                        if let Err(e) = as_duration(&w.0) {
                            self.at(&p, false, format!("wait: {e}"));
                        }
                    }
                }
                Step::Repeat(r) => {
                    let cp = with(&p, &[key("count")]);
                    self.refs(&r.count, &cp, extra);
                    let mut inner = extra.clone();
                    inner.insert("i".into());
                    match as_i64(&r.count) {
                        Some(0) => self.at(&cp, false, "repeat count 0: its steps are unreachable"),
                        Some(n) if n < 0 => self.at(&cp, false, "expected a count of at least 1"),
                        None if references_of(&r.count).is_empty() => {
                            self.at(&cp, false, "expected a count (a number) of at least 1")
                        }
                        _ => {}
                    }
                    if r.steps.is_empty() {
                        self.at(
                            &with(&p, &[key("steps")]),
                            false,
                            "expected at least one step to repeat",
                        );
                    }
                    self.steps(&r.steps, &with(&p, &[key("steps")]), &inner);
                }
            }
        }
    }

    fn send(&mut self, s: &SendStep, p: &[Seg], extra: &BTreeSet<String>) {
        if let Some(from) = &s.from {
            if !self.nodes.contains_key(from) {
                let known: Vec<&str> = self.nodes.keys().map(String::as_str).collect();
                self.at(
                    &with(p, &[key("from")]),
                    false,
                    format!(
                        "no emulated node {from:?} in the topology; expected one of: {}",
                        if known.is_empty() {
                            "(none)".to_string()
                        } else {
                            known.join(", ")
                        }
                    ),
                );
            }
        }
        match (&s.on, &s.from) {
            (Some(on), _) => self.check_link(on, &with(p, &[key("on")])),
            (None, None) => self.at(
                p,
                false,
                "send needs `from` (an emulated node) or `on` (a link)",
            ),
            _ => {}
        }
        let mut desc = serde_json::to_value(s).unwrap_or(Value::Null);
        if let Value::Object(m) = &mut desc {
            for k in ["from", "on", "note"] {
                m.remove(k);
            }
            let sugar = m
                .keys()
                .any(|k| k != "layers" && k != "raw" && k != "truncate");
            let whole = ["layers", "raw"].into_iter().find(|k| m.contains_key(*k));
            if let (Some(whole), true) = (whole, sugar) {
                let keys: Vec<&str> = m
                    .keys()
                    .map(String::as_str)
                    .filter(|k| !["layers", "raw", "truncate"].contains(k))
                    .collect();
                self.at(
                    &with(p, &[key(whole)]),
                    true,
                    format!(
                        "`{whole}` gives the whole frame, so the layer keys ({}) would be ignored; use one form",
                        keys.join(", ")
                    ),
                );
            }
        }
        self.refs(&desc, p, extra);
        let names = self.sa_refs(&desc, p);
        let scope = self.placeholder_scope();
        if let Ok(resolved) = scope.resolve_with(&desc, &mut placeholder) {
            let d = Defaults {
                src_mac: MacAddr([2, 0, 0, 0, 0, 1]),
                unicast_dst_mac: MacAddr([2, 0, 0, 0, 0, 2]),
            };
            // Whether the profile has them is decided at run time
            // (NOT-APPLICABLE otherwise): build with stand-ins.
            let sas = names
                .into_iter()
                .enumerate()
                .map(|(i, name)| Sa {
                    name,
                    spi: 0x100 + i as u32,
                    key: vec![0x11; 32],
                })
                .collect();
            let mut sealer = Sealer::new(SaTable::new(sas), None);
            if let Err(e) = frame_spec::build_with(&resolved, &d, &mut sealer) {
                let full = with(p, &e.path);
                let pos = self.lc.tree.locate_error(&full, &e.message);
                self.out.push(Diagnostic::new(
                    &self.lc.path,
                    pos,
                    format!("cannot build this frame: {e}"),
                ));
            }
        }
    }

    fn expect(&mut self, e: &ExpectStep, p: &[Seg], extra: &BTreeSet<String>, binds: bool) {
        if let Some(on) = &e.on {
            self.check_link(on, &with(p, &[key("on")]));
        }
        if let Some(r) = &e.requirement {
            if !self.lc.case.requirements.contains(r) {
                self.at(
                    &with(p, &[key("requirement")]),
                    false,
                    format!("{r} is not among the case's requirements; list it there too"),
                );
            }
        }
        if let Some(w) = &e.within {
            self.refs(w, &with(p, &[key("within")]), extra);
            if references_of(w).is_empty() {
                match as_duration(w) {
                    Err(m) => self.at(&with(p, &[key("within")]), false, m),
                    Ok(d) if d.is_zero() => self.at(
                        &with(p, &[key("within")]),
                        false,
                        "a deadline of 0 can never be met: the step is unreachable",
                    ),
                    _ => {}
                }
            }
        }
        if let Some(w) = &e.when {
            let wp = with(p, &[key("when")]);
            if !binds {
                self.at(
                    &wp,
                    false,
                    "`when` belongs to expect: an expect_none judges every frame in its window",
                );
            } else if e.on_timeout.is_some() {
                self.at(
                    &wp,
                    false,
                    "`when` and `on_timeout` both say what a missing frame means; keep one",
                );
            }
            self.refs(w, &wp, extra);
            self.pattern_keys(w, &wp, "");
        }
        let mut pat = serde_json::to_value(e).unwrap_or(Value::Null);
        if let Value::Object(m) = &mut pat {
            for k in ["on", "within", "requirement", "on_timeout", "when", "note"] {
                m.remove(k);
            }
            if m.is_empty() {
                self.at(
                    p,
                    false,
                    "an empty pattern matches any frame; name the fields that matter",
                );
            }
        }
        self.refs(&pat, p, extra);
        self.sa_refs(&pat, p);
        self.pattern_keys(&pat, p, "");
        if binds {
            let mut bound = Vec::new();
            collect_binds(&pat, &mut bound);
            for b in bound {
                self.defined.insert(b);
            }
        } else {
            if let Some((at, name)) = first_bind(&pat, &mut Vec::new()) {
                self.at(
                    &with(p, &at),
                    true,
                    format!("expect_none cannot bind variables (`bind: {name}`): nothing it matches may arrive; use `{{any: true}}` or `{{present: true}}`"),
                );
            }
        }
    }

    /// The SA names of `esp: {sa: NAME}` in `v` (a send description or a
    /// pattern at `p`); a name `cases/pics.yaml` does not list gets a
    /// warning (a profile would have to use the same unusual name).
    fn sa_refs(&mut self, v: &Value, p: &[Seg]) -> BTreeSet<String> {
        let mut found = Vec::new();
        esp_sa_values(v, &mut Vec::new(), &mut found);
        let mut names = BTreeSet::new();
        for (at, sa) in found {
            let full = with(p, &at);
            let Value::String(name) = &sa else {
                continue;
            };
            names.insert(name.clone());
            let known = &self.cats.parameters.security_associations;
            if known.contains_key(name) || !references_of(&sa).is_empty() {
                continue;
            }
            let near: Vec<&str> = known
                .keys()
                .filter(|k| crate::requirements::edit_distance(k, name) <= 2)
                .map(String::as_str)
                .collect();
            let hint = if near.is_empty() {
                format!(
                    "the conventional names are {}",
                    known
                        .keys()
                        .map(String::as_str)
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            } else {
                format!("did you mean {}?", near.join(" or "))
            };
            let pos = self.lc.tree.locate(&full, false);
            self.out.push(Diagnostic::warning(
                &self.lc.path,
                pos,
                format!(
                    "security association {name:?} is not a conventional name (cases/pics.yaml, security_associations): only a profile declaring it under that name runs this case; {hint}"
                ),
            ));
        }
        names
    }

    /// Pattern keys must be fields some frame has.
    fn pattern_keys(&mut self, v: &Value, p: &[Seg], vocab_path: &str) {
        let Value::Object(m) = v else {
            if let Value::Array(items) = v {
                for (i, item) in items.iter().enumerate() {
                    self.pattern_keys(item, &with(p, &[Seg::Index(i)]), &format!("{vocab_path}[]"));
                }
            }
            return;
        };
        if is_operator(v) {
            for (k, arg) in m {
                match k.as_str() {
                    "equals" | "not" => self.pattern_keys(arg, &with(p, &[key(k)]), vocab_path),
                    "one_of" | "exactly" => {
                        if let Value::Array(items) = arg {
                            for (i, item) in items.iter().enumerate() {
                                let vp = if k == "exactly" {
                                    format!("{vocab_path}[]")
                                } else {
                                    vocab_path.to_string()
                                };
                                self.pattern_keys(item, &with(p, &[key(k), Seg::Index(i)]), &vp);
                            }
                        }
                    }
                    _ => {}
                }
            }
            return;
        }
        let Some(allowed) = self.vocabulary.get(vocab_path) else {
            // A field that holds one value (not fields) in every frame: a
            // mapping there can only be an operator, so its other keys are
            // misspelt operators, and would never match.
            if !vocab_path.is_empty() && !self.vocabulary.contains_key(&format!("{vocab_path}[]")) {
                for k in m.keys().filter(|k| !OPERATORS.contains(&k.as_str())) {
                    let near: Vec<&str> = OPERATORS
                        .iter()
                        .copied()
                        .filter(|o| crate::requirements::edit_distance(o, k) <= 2)
                        .collect();
                    let hint = if near.is_empty() {
                        format!("expected an operator: {}", OPERATORS.join(", "))
                    } else {
                        format!("did you mean `{}`?", near.join("` or `"))
                    };
                    self.at(
                        &with(p, &[key(k)]),
                        true,
                        format!(
                            "`{k}` is not an operator, and `{vocab_path}` holds a value, not fields; {hint}"
                        ),
                    );
                }
            }
            return;
        };
        let allowed = allowed.clone();
        for (k, sub) in m {
            if !allowed.contains(k) {
                // Near: a small edit, or one name abbreviates the other
                // (`sequence` for `seq`).
                let mut near: Vec<&String> = allowed
                    .iter()
                    .filter(|a| {
                        crate::requirements::edit_distance(a, k) <= 3
                            || (a.len() >= 3 && k.starts_with(a.as_str()))
                            || (k.len() >= 3 && a.starts_with(k.as_str()))
                    })
                    .collect();
                near.truncate(3);
                let hint = if near.is_empty() {
                    let mut all: Vec<&String> = allowed.iter().collect();
                    all.truncate(12);
                    format!(
                        "expected one of: {}",
                        all.iter()
                            .map(|s| s.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    )
                } else {
                    format!(
                        "did you mean {}?",
                        near.iter()
                            .map(|s| s.as_str())
                            .collect::<Vec<_>>()
                            .join(" or ")
                    )
                };
                let looks_op = OPERATORS
                    .iter()
                    .any(|o| crate::requirements::edit_distance(o, k) <= 2);
                let extra_hint = if looks_op {
                    format!(" (operators: {})", OPERATORS.join(", "))
                } else {
                    String::new()
                };
                self.at(
                    &with(p, &[key(k)]),
                    true,
                    format!(
                        "no frame has a field `{k}`{}; {hint}{extra_hint}",
                        if vocab_path.is_empty() {
                            String::new()
                        } else {
                            format!(" in `{vocab_path}`")
                        }
                    ),
                );
                continue;
            }
            let vp = if vocab_path.is_empty() {
                k.clone()
            } else {
                format!("{vocab_path}.{k}")
            };
            self.pattern_keys(sub, &with(p, &[key(k)]), &vp);
        }
    }
}

/// The `sa` values under `esp` keys in a description or pattern, with
/// their paths.
fn esp_sa_values(v: &Value, path: &mut Vec<Seg>, out: &mut Vec<(Vec<Seg>, Value)>) {
    match v {
        Value::Object(m) => {
            for (k, sub) in m {
                path.push(key(k));
                if k == "esp" {
                    if let Some(sa) = sub.get("sa") {
                        out.push((with(path, &[key("sa")]), sa.clone()));
                    }
                }
                esp_sa_values(sub, path, out);
                path.pop();
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                path.push(Seg::Index(i));
                esp_sa_values(item, path, out);
                path.pop();
            }
        }
        _ => {}
    }
}

fn references_of(v: &Value) -> Vec<String> {
    let mut found = Vec::new();
    references_in(v, &mut Vec::new(), &mut found);
    found
        .into_iter()
        .filter_map(|(_, r)| r.ok().map(|r| r.name))
        .collect()
}

/// The names `expect` steps bind, each with the first step binding it.
fn binds_in_steps(steps: &[Step], base: &[Seg], out: &mut BTreeMap<String, Vec<Seg>>) {
    for (i, step) in steps.iter().enumerate() {
        let p = with(base, &[Seg::Index(i), key(step.kind())]);
        match step {
            Step::Expect(e) => {
                let mut names = Vec::new();
                collect_binds(&serde_json::to_value(e).unwrap_or(Value::Null), &mut names);
                for n in names {
                    out.entry(n).or_insert_with(|| p.clone());
                }
            }
            Step::Repeat(r) => binds_in_steps(&r.steps, &with(&p, &[key("steps")]), out),
            _ => {}
        }
    }
}

/// Where the first `bind` in a pattern is (the path of its `bind` key),
/// and the name it binds.
fn first_bind(v: &Value, path: &mut Vec<Seg>) -> Option<(Vec<Seg>, String)> {
    match v {
        Value::Object(m) => {
            if let Some(Value::String(n)) = m.get("bind") {
                return Some((with(path, &[key("bind")]), n.clone()));
            }
            for (k, sub) in m {
                path.push(key(k));
                let found = first_bind(sub, path);
                path.pop();
                if found.is_some() {
                    return found;
                }
            }
            None
        }
        Value::Array(items) => items.iter().enumerate().find_map(|(i, item)| {
            path.push(Seg::Index(i));
            let found = first_bind(item, path);
            path.pop();
            found
        }),
        _ => None,
    }
}

fn collect_binds(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            if let Some(Value::String(n)) = m.get("bind") {
                out.push(n.clone());
            }
            for sub in m.values() {
                collect_binds(sub, out);
            }
        }
        Value::Array(items) => items.iter().for_each(|i| collect_binds(i, out)),
        _ => {}
    }
}

/// A plausible value for a variable only known at run time, from the key
/// that holds it (what `wire` expects there).
fn placeholder(name: &str, key: &str) -> Option<Value> {
    let n = name.rsplit('.').next().unwrap_or(name);
    Some(match (n, key) {
        ("mac", _) => json!("02:00:00:00:00:09"),
        ("link_local", _) => json!("fe80::9"),
        _ if key == "src"
            || key == "dst"
            || key.contains("address")
            || key == "target"
            || key == "prefix"
            || key == "defend"
            || key == "behind" =>
        {
            json!("2001:db8::9")
        }
        _ if key == "data" => json!("00"),
        _ if key == "interval" => json!("1s"),
        _ => json!(1),
    })
}

/// Every field path that occurs in the views of `wire`'s sample frames:
/// what a pattern can name. Paths are dotted, lists as `[]`, tunnels
/// fold onto the outer packet (a tunnelled packet has the same fields).
pub fn vocabulary() -> BTreeMap<String, BTreeSet<String>> {
    let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    fn walk(v: &Value, path: &str, out: &mut BTreeMap<String, BTreeSet<String>>) {
        match v {
            Value::Object(m) => {
                let entry = out.entry(path.to_string()).or_default();
                for k in m.keys() {
                    entry.insert(k.clone());
                }
                for (k, sub) in m {
                    if k == "tunnel" {
                        walk(sub, path, out);
                        // `tunnel` itself holds a packet: same fields.
                        walk(sub, &join(path, "tunnel"), out);
                    } else {
                        walk(sub, &join(path, k), out);
                    }
                }
            }
            Value::Array(items) => {
                for i in items {
                    walk(i, &format!("{path}[]"), out);
                }
            }
            _ => {}
        }
    }
    fn join(a: &str, b: &str) -> String {
        if a.is_empty() {
            b.to_string()
        } else {
            format!("{a}.{b}")
        }
    }
    for s in wire::samples::all() {
        let frame = wire::frame::Frame::decode(&s.frame.emit()).frame;
        let v = frame_spec::view(&frame, &["RULE".to_string()]);
        walk(&v, "", &mut out);
        // Nested tunnels: every packet-level path also under tunnel.*
    }
    // The top level always allows every packet and frame key.
    let top = out.entry(String::new()).or_default();
    for k in PACKET_KEYS.iter().chain(FRAME_KEYS) {
        top.insert((*k).to_string());
    }
    top.insert("trailer".into());
    top.insert("findings".into());
    // An ESP packet of a profile's SA, opened (`esp::open_layers`).
    let esp = out.entry("esp".into()).or_default();
    for k in ["spi", "seq", "data", "sa", "icv_ok", "error"] {
        esp.insert(k.to_string());
    }
    let tunnel = out.entry("tunnel".into()).or_default();
    for k in PACKET_KEYS {
        tunnel.insert((*k).to_string());
    }
    // Tunnel contents at any depth share the outer vocabulary: copy the
    // packet-level paths under `tunnel.`.
    let packet_paths: Vec<(String, BTreeSet<String>)> = out
        .iter()
        .filter(|(k, _)| !k.is_empty() && !k.starts_with("tunnel"))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    for (k, v) in packet_paths {
        out.entry(format!("tunnel.{k}")).or_default().extend(v);
    }
    out
}

/// Lints cases (already loaded) against the catalogues; also finds
/// duplicate case IDs.
pub fn lint_cases(cases: &[LoadedCase], cats: &Catalogues) -> Vec<Diagnostic> {
    let vocab = vocabulary();
    let mut out = Vec::new();
    let mut ids: BTreeMap<&str, &Path> = BTreeMap::new();
    for lc in cases {
        if let Some(first) = ids.insert(&lc.case.id, &lc.path) {
            out.push(Diagnostic::new(
                &lc.path,
                lc.tree.locate(&[key("id")], false),
                format!(
                    "case id {:?} is also used by {}",
                    lc.case.id,
                    first.display()
                ),
            ));
        }
        let mut l = CaseLint {
            lc,
            cats,
            out: Vec::new(),
            defined: BTreeSet::new(),
            links: BTreeSet::new(),
            nodes: BTreeMap::new(),
            vocabulary: &vocab,
            bound_by: BTreeMap::new(),
        };
        binds_in_steps(&lc.case.steps, &[key("steps")], &mut l.bound_by);
        l.run();
        out.extend(l.out);
    }
    out.sort();
    out.dedup();
    out
}

/// Lints a profile.
pub fn lint_profile(lp: &LoadedProfile, cats: &Catalogues) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    let at = |path: &[Seg], key_pos: bool| lp.tree.locate(path, key_pos);
    let p = &lp.profile;
    for name in p.pics.keys() {
        if !cats.parameters.pics.contains_key(name) {
            let known: Vec<&str> = cats.parameters.pics.keys().map(String::as_str).collect();
            out.push(Diagnostic::new(
                &lp.path,
                at(&[key("pics"), key(name)], true),
                format!(
                    "unknown PICS {name:?}; expected one of: {}",
                    known.join(", ")
                ),
            ));
        }
    }
    for (name, v) in &p.pixit {
        match cats.parameters.pixit.get(name) {
            None => {
                let known: Vec<&str> = cats.parameters.pixit.keys().map(String::as_str).collect();
                out.push(Diagnostic::new(
                    &lp.path,
                    at(&[key("pixit"), key(name)], true),
                    format!(
                        "unknown PIXIT {name:?}; expected one of: {}",
                        known.join(", ")
                    ),
                ));
            }
            Some(doc) => {
                if let Err(m) = check_type(&doc.kind, v) {
                    out.push(Diagnostic::new(
                        &lp.path,
                        at(&[key("pixit"), key(name)], false),
                        format!("pixit.{name}: {m}"),
                    ));
                }
            }
        }
    }
    lint_security_associations(lp, &mut out);
    let mut names: BTreeSet<String> = BTreeSet::new();
    for k in cats.parameters.pixit.keys() {
        names.insert(format!("pixit.{k}"));
    }
    for k in cats.parameters.pics.keys() {
        names.insert(format!("pics.{k}"));
    }
    names.insert("case.id".into());
    let check_text = |s: &str, path: Vec<Seg>, allow_args: bool, out: &mut Vec<Diagnostic>| {
        match references(s) {
            Err(e) => out.push(Diagnostic::new(&lp.path, lp.tree.locate(&path, false), e)),
            Ok(refs) => {
                for r in refs {
                    let ok = names.contains(&r.name)
                        || r.name.starts_with("if.")
                        || (allow_args && r.name.starts_with("args."));
                    if !ok {
                        out.push(Diagnostic::new(
                        &lp.path,
                        lp.tree.locate(&path, false),
                        format!(
                            "undefined placeholder `{{{}}}`; expected `{{if.<link>}}`, `{{pixit.<name>}}`, `{{pics.<name>}}`, `{{case.id}}`{}",
                            r.name,
                            if allow_args { " or `{args.<name>}`" } else { "" }
                        ),
                    ));
                    }
                }
            }
        }
    };
    match (&p.launch, &p.attach) {
        (None, None) => out.push(Diagnostic::new(
            &lp.path,
            at(&[], false),
            "expected `launch` (start the IUT in a namespace) or `attach` (host interfaces)",
        )),
        (Some(_), Some(_)) => out.push(Diagnostic::new(
            &lp.path,
            at(&[key("attach")], true),
            "`launch` and `attach` exclude each other; keep one",
        )),
        _ => {}
    }
    if let Some(l) = &p.launch {
        match &l.command {
            Some(cmd) => {
                if cmd.is_empty() {
                    out.push(Diagnostic::new(
                        &lp.path,
                        at(&[key("launch"), key("command")], false),
                        "expected a command and its arguments",
                    ));
                }
                for (i, a) in cmd.iter().enumerate() {
                    check_text(
                        a,
                        vec![key("launch"), key("command"), Seg::Index(i)],
                        false,
                        &mut out,
                    );
                }
            }
            None => {
                if !l.kernel_ipv6 {
                    out.push(Diagnostic::new(
                        &lp.path,
                        at(&[key("launch")], true),
                        "without `command` the IUT is the namespace's kernel, so `kernel_ipv6: true` is needed",
                    ));
                }
                if l.ready.stdout_line.is_some() || l.ready.stderr_line.is_some() {
                    out.push(Diagnostic::new(
                        &lp.path,
                        at(&[key("launch"), key("ready")], true),
                        "a ready line needs a `command` to print it",
                    ));
                }
            }
        }
        for (k, v) in &l.env {
            check_text(v, vec![key("launch"), key("env"), key(k)], false, &mut out);
        }
        if let Some(w) = &l.ready.within {
            if let Err(m) = as_duration(w) {
                out.push(Diagnostic::new(
                    &lp.path,
                    at(&[key("launch"), key("ready"), key("within")], false),
                    m,
                ));
            }
        }
        for (k, v) in &l.sysctls {
            let ok_key = !k.is_empty() && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
            if !ok_key {
                out.push(Diagnostic::new(
                    &lp.path,
                    at(&[key("launch"), key("sysctls"), key(k)], true),
                    format!("{k:?} is not a sysctl name under net/ipv6/conf/<link>/; expected letters, digits and `_`, e.g. accept_ra"),
                ));
            }
            if v.is_object() || v.is_array() {
                out.push(Diagnostic::new(
                    &lp.path,
                    at(&[key("launch"), key("sysctls"), key(k)], false),
                    "expected a number or a string",
                ));
            }
        }
        if l.restart == crate::profile::Restart::PerRun {
            // Launched once for every case: no case is current then.
            let per_case =
                |t: &str| references(t).is_ok_and(|refs| refs.iter().any(|r| r.name == "case.id"));
            let mut at_case_id: Vec<Vec<Seg>> = Vec::new();
            for (i, a) in l.command.iter().flatten().enumerate() {
                if per_case(a) {
                    at_case_id.push(vec![key("launch"), key("command"), Seg::Index(i)]);
                }
            }
            for (k, v) in &l.env {
                if per_case(v) {
                    at_case_id.push(vec![key("launch"), key("env"), key(k)]);
                }
            }
            for path in at_case_id {
                out.push(Diagnostic::new(
                    &lp.path,
                    at(&path, false),
                    "with `restart: per-run` the IUT is launched once for all the cases: `{case.id}` has no value here",
                ));
            }
        }
    }
    if let Some(a) = &p.attach {
        lint_attach(lp, a, &mut out);
    }
    if let Some(r) = &p.reset {
        if r.command.is_empty() {
            out.push(Diagnostic::new(
                &lp.path,
                at(&[key("reset"), key("command")], false),
                "expected a command and its arguments",
            ));
        }
        for (i, a) in r.command.iter().enumerate() {
            check_text(
                a,
                vec![key("reset"), key("command"), Seg::Index(i)],
                false,
                &mut out,
            );
        }
        if let Some(w) = &r.within {
            if let Err(m) = as_duration(w) {
                out.push(Diagnostic::new(
                    &lp.path,
                    at(&[key("reset"), key("within")], false),
                    m,
                ));
            }
        }
    }
    for (name, a) in &p.actions {
        if a.command.is_empty() {
            out.push(Diagnostic::new(
                &lp.path,
                at(&[key("actions"), key(name), key("command")], false),
                "expected a command and its arguments",
            ));
        }
        for (i, s) in a.command.iter().enumerate() {
            check_text(
                s,
                vec![key("actions"), key(name), key("command"), Seg::Index(i)],
                true,
                &mut out,
            );
        }
        if let Some(w) = &a.within {
            if let Err(m) = as_duration(w) {
                out.push(Diagnostic::new(
                    &lp.path,
                    at(&[key("actions"), key(name), key("within")], false),
                    m,
                ));
            }
        }
    }
    out.sort();
    out
}

/// `security_associations` and `protect`: keys that are hex octets and
/// long enough, SPIs that are not reserved and tell the SAs apart, and a
/// `protect` that names a declared SA.
fn lint_security_associations(lp: &LoadedProfile, out: &mut Vec<Diagnostic>) {
    let at = |path: &[Seg], key_pos: bool| lp.tree.locate(path, key_pos);
    let p = &lp.profile;
    let mut by_spi: BTreeMap<u32, &str> = BTreeMap::new();
    for (name, sa) in &p.security_associations {
        let base = [key("security_associations"), key(name)];
        if let Err(m) = sa.key() {
            out.push(Diagnostic::new(
                &lp.path,
                at(&with(&base, &[key("auth_key")]), false),
                format!("security_associations.{name}.auth_key: {m}"),
            ));
        }
        if sa.spi < 256 {
            out.push(Diagnostic::new(
                &lp.path,
                at(&with(&base, &[key("spi")]), false),
                format!(
                    "SPI {} is reserved (RFC 4303 2.1: 1 to 255 for IANA, 0 for local use); expected 256 or more, e.g. 0x1000",
                    sa.spi
                ),
            ));
        }
        if let Some(other) = by_spi.insert(sa.spi, name) {
            out.push(Diagnostic::new(
                &lp.path,
                at(&with(&base, &[key("spi")]), false),
                format!(
                    "SPI {:#x} is also the SPI of {other:?}: a received ESP packet names its SA by SPI, so each needs its own",
                    sa.spi
                ),
            ));
        }
    }
    for (field, name) in p.protect.iter().flat_map(|x| x.named()) {
        if !p.security_associations.contains_key(name) {
            let known: Vec<&str> = p.security_associations.keys().map(String::as_str).collect();
            out.push(Diagnostic::new(
                &lp.path,
                at(&[key("protect"), key(field)], false),
                format!(
                    "protect.{field} names {name:?}, which is not under security_associations; expected one of: {}",
                    if known.is_empty() {
                        "(none declared)".to_string()
                    } else {
                        known.join(", ")
                    }
                ),
            ));
        }
    }
}

/// `attach`: valid link and host interface names, each link on its own
/// interface, and a unicast MAC for every link.
fn lint_attach(lp: &LoadedProfile, a: &crate::profile::Attach, out: &mut Vec<Diagnostic>) {
    let at = |path: &[Seg], key_pos: bool| lp.tree.locate(path, key_pos);
    if a.interfaces.is_empty() {
        out.push(Diagnostic::new(
            &lp.path,
            at(&[key("attach"), key("interfaces")], false),
            "expected at least one `link: host-interface` pair",
        ));
    }
    let mut seen: BTreeMap<&str, &str> = BTreeMap::new();
    for (link, ifname) in &a.interfaces {
        let path = [key("attach"), key("interfaces"), key(link)];
        if let Err(m) = check_ifname(link) {
            out.push(Diagnostic::new(&lp.path, at(&path, true), m));
        }
        if let Err(m) = check_ifname(ifname) {
            out.push(Diagnostic::new(
                &lp.path,
                at(&path, false),
                format!(
                    "host interface: {}",
                    m.replacen("link name", "interface name", 1)
                ),
            ));
        }
        if let Some(other) = seen.insert(ifname, link) {
            out.push(Diagnostic::new(
                &lp.path,
                at(&path, false),
                format!(
                    "links {other:?} and {link:?} are both mapped to host interface {ifname:?}; each link needs its own"
                ),
            ));
        }
        if !a.macs.contains_key(link) {
            out.push(Diagnostic::new(
                &lp.path,
                at(&path, true),
                format!(
                    "no MAC for link {link:?}: add the IUT's MAC on it under attach.macs (unicast frames to the IUT need it)"
                ),
            ));
        }
    }
    for (link, mac) in &a.macs {
        let path = [key("attach"), key("macs"), key(link)];
        if !a.interfaces.contains_key(link) {
            out.push(Diagnostic::new(
                &lp.path,
                at(&path, true),
                format!("link {link:?} is not in attach.interfaces"),
            ));
        }
        match mac.parse::<MacAddr>() {
            Err(e) => out.push(Diagnostic::new(&lp.path, at(&path, false), e.to_string())),
            Ok(m) if m.is_multicast() => out.push(Diagnostic::new(
                &lp.path,
                at(&path, false),
                format!("{m} is a multicast MAC; expected the IUT's unicast MAC on {link}"),
            )),
            Ok(_) => {}
        }
    }
}

fn check_type(kind: &str, v: &Value) -> Result<(), String> {
    let s = v.as_str();
    match kind {
        "bool" => v
            .as_bool()
            .map(|_| ())
            .ok_or_else(|| format!("expected true or false, found {v}")),
        "address" => s
            .and_then(|s| s.parse::<std::net::Ipv6Addr>().ok())
            .map(|_| ())
            .ok_or_else(|| format!("expected an IPv6 address, found {v}")),
        "prefix" => s
            .and_then(|s| s.parse::<crate::topology::node::Ipv6Prefix>().ok())
            .map(|_| ())
            .ok_or_else(|| format!("expected an IPv6 prefix like \"2001:db8::/64\", found {v}")),
        "duration" => as_duration(v).map(|_| ()),
        "number" => v
            .as_f64()
            .map(|_| ())
            .ok_or_else(|| format!("expected a number, found {v}")),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile;

    fn lint_text(text: &str) -> Vec<String> {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../cases");
        let requirements = Catalogue::load(&root.join("requirements.yaml")).unwrap();
        let (parameters, _) = ParameterCatalogue::load(&root.join("pics.yaml")).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.yaml");
        std::fs::write(&path, text).unwrap();
        let lp = profile::load(&path).unwrap();
        let cats = Catalogues {
            requirements: &requirements,
            parameters: &parameters,
        };
        lint_profile(&lp, &cats)
            .into_iter()
            .map(|d| d.to_string())
            .collect()
    }

    const HEAD: &str = "role: host\npixit: {prefix: \"2001:db8:1::\"}\n";

    #[test]
    fn a_complete_attach_profile_is_clean() {
        let d = lint_text(&format!(
            "{HEAD}attach:\n  interfaces: {{access: ext0, core: enp3s0.2}}\n  macs: {{access: \"02:00:00:00:00:01\", core: 00-11-22-33-44-55}}\nreset:\n  command: [ip, -6, addr, flush, dev, \"{{if.access}}\", scope, global]\n  within: 2s\n"
        ));
        assert!(d.is_empty(), "{d:#?}");
    }

    #[test]
    fn attach_needs_valid_names_distinct_interfaces_and_unicast_macs() {
        let d = lint_text(&format!(
            "{HEAD}attach:\n  interfaces: {{access: ext0, core: ext0, \"bad/link\": x, wan: averyveryverylongname}}\n  macs: {{access: \"02:00:00:00:00:01\", core: zz, \"bad/link\": \"01:00:5e:00:00:01\", wan: \"02:00:00:00:00:09\", ghost: \"02:00:00:00:00:02\"}}\n"
        ));
        let all = d.join("\n");
        assert!(
            all.contains("\"access\" and \"core\" are both mapped to host interface \"ext0\""),
            "{all}"
        );
        assert!(all.contains("link name \"bad/link\" may only use"), "{all}");
        assert!(
            all.contains(
                "host interface: interface name \"averyveryverylongname\" must be 1 to 15 bytes"
            ),
            "{all}"
        );
        assert!(all.contains("expected a MAC address like"), "{all}");
        assert!(all.contains("is a multicast MAC"), "{all}");
        assert!(
            all.contains("link \"ghost\" is not in attach.interfaces"),
            "{all}"
        );
        assert_eq!(d.len(), 6, "{all}");
    }

    #[test]
    fn attach_needs_a_mac_for_every_interface() {
        let d = lint_text(&format!(
            "{HEAD}attach:\n  interfaces: {{access: ext0, core: ext1}}\n  macs: {{access: \"02:00:00:00:00:01\"}}\n"
        ));
        assert_eq!(d.len(), 1, "{d:#?}");
        assert!(d[0].contains("no MAC for link \"core\""), "{}", d[0]);
        let d = lint_text(&format!("{HEAD}attach:\n  interfaces: {{}}\n"));
        assert!(d.iter().any(|x| x.contains("at least one")), "{d:#?}");
    }

    #[test]
    fn per_run_is_accepted_but_not_with_the_case_id_in_the_launch() {
        let ok = lint_text(&format!(
            "{HEAD}launch:\n  command: [my-iut, \"{{if.access}}\"]\n  restart: per-run\n"
        ));
        assert!(ok.is_empty(), "{ok:#?}");
        let d = lint_text(&format!(
            "{HEAD}launch:\n  command: [my-iut, \"--log={{case.id}}.log\"]\n  env: {{X: \"{{case.id}}\"}}\n  restart: per-run\n"
        ));
        assert_eq!(d.len(), 2, "{d:#?}");
        assert!(
            d.iter().all(|x| x.contains("`{case.id}` has no value")),
            "{d:#?}"
        );
        // The same launch per case is fine.
        let d = lint_text(&format!(
            "{HEAD}launch:\n  command: [my-iut, \"--log={{case.id}}.log\"]\n"
        ));
        assert!(d.is_empty(), "{d:#?}");
    }

    const LAUNCH: &str = "launch:\n  command: [my-iut]\n";
    const KEY: &str = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";

    #[test]
    fn security_associations_accept_hex_spis_and_keys() {
        let text = format!(
            "{HEAD}{LAUNCH}security_associations:\n  mn_to_map: {{spi: 0x1000, auth_key: \"{KEY}\"}}\n  map_to_mn: {{spi: \"0x2000\", auth_key: \"{KEY}\"}}\n  router_to_map: {{spi: 12288, auth_key: \"{}\"}}\nprotect:\n  mobility_header: mn_to_map\n",
            &KEY[..32]
        );
        assert!(lint_text(&text).is_empty(), "{:#?}", lint_text(&text));
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.yaml");
        std::fs::write(&path, &text).unwrap();
        let lp = profile::load(&path).unwrap();
        let sas = &lp.profile.security_associations;
        assert_eq!(sas["mn_to_map"].spi, 0x1000);
        assert_eq!(sas["map_to_mn"].spi, 0x2000);
        assert_eq!(sas["router_to_map"].spi, 12288);
        assert_eq!(sas["mn_to_map"].key().unwrap().len(), 32);
        let sealer = crate::case::esp::Sealer::from_profile(&lp.profile).unwrap();
        assert_eq!(sealer.protect_mh.as_deref(), Some("mn_to_map"));
        assert_eq!(sealer.sas.by_spi(0x2000).unwrap().name, "map_to_mn");
    }

    #[test]
    fn security_associations_are_checked() {
        let d = lint_text(&format!(
            "{HEAD}{LAUNCH}security_associations:\n  a: {{spi: 0x1000, auth_key: \"xyz1\"}}\n  b: {{spi: 0x1000, auth_key: \"0011\"}}\n  c: {{spi: 3, auth_key: \"{KEY}\"}}\nprotect: {{mobility_header: mn_to_map}}\n"
        ));
        let all = d.join("\n");
        assert!(
            all.contains("a.auth_key: expected hex octets, found 'x' at character 0"),
            "{all}"
        );
        assert!(all.contains("at least 16 octets, this one has 2"), "{all}");
        assert!(all.contains("SPI 0x1000 is also the SPI of \"a\""), "{all}");
        assert!(all.contains("SPI 3 is reserved"), "{all}");
        assert!(
            all.contains("protect.mobility_header names \"mn_to_map\""),
            "{all}"
        );
        assert_eq!(d.len(), 5, "{all}");
        // A bad SPI is a load error, located.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.yaml");
        std::fs::write(
            &path,
            format!("{HEAD}{LAUNCH}security_associations:\n  a: {{spi: 0x1_0000_0000, auth_key: \"{KEY}\"}}\n"),
        )
        .unwrap();
        let e = profile::load(&path).unwrap_err().to_string();
        assert!(e.contains("expected an SPI"), "{e}");
    }

    #[test]
    fn reset_is_checked_like_a_command() {
        let d = lint_text(&format!(
            "{HEAD}launch:\n  kernel_ipv6: true\n  restart: per-run\nreset:\n  command: [flush, \"{{nope}}\"]\n  within: soon\n"
        ));
        assert_eq!(d.len(), 2, "{d:#?}");
        assert!(
            d.iter()
                .any(|x| x.contains("undefined placeholder `{nope}`")),
            "{d:#?}"
        );
        let d = lint_text(&format!(
            "{HEAD}launch:\n  kernel_ipv6: true\nreset:\n  command: []\n"
        ));
        assert!(d.iter().any(|x| x.contains("expected a command")), "{d:#?}");
    }
}
