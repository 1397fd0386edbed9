//! Matching a pattern from an `expect` step against the JSON view of a
//! received frame (see [`super::frame_spec::view`]).
//!
//! A pattern is a JSON tree. A mapping matches a mapping whose named keys
//! match (other keys are "don't care"); a list matches a list that holds a
//! distinct match for every pattern item, in any order; a scalar matches an
//! equal scalar (addresses compare as addresses, MACs and hex without
//! regard to case, numbers as numbers even when one side is text). A mapping
//! whose keys are all operators is an operator; the string `absent` is one
//! too. Every mismatch becomes a [`FieldDiff`] so a FAIL shows expected
//! against observed, field by field.

use std::net::Ipv6Addr;

use serde_json::Value;

use crate::topology::node::Ipv6Prefix;
use crate::verdict::FieldDiff;

/// The operator keys; a mapping with only these keys is an operator.
pub const OPERATORS: &[&str] = &[
    "any",
    "absent",
    "present",
    "equals",
    "one_of",
    "not",
    "below",
    "above",
    "at_most",
    "at_least",
    "range",
    "in_prefix",
    "bind",
    "exactly",
];

/// The outcome of matching one frame.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Outcome {
    /// Empty: the frame matches.
    pub diffs: Vec<FieldDiff>,
    /// `bind` operators: name -> observed value.
    pub bindings: Vec<(String, Value)>,
    /// Constraints that held (how close a non-matching frame came).
    pub held: usize,
}

impl Outcome {
    pub fn matched(&self) -> bool {
        self.diffs.is_empty()
    }
}

/// Whether `v` is an operator mapping.
pub fn is_operator(v: &Value) -> bool {
    match v {
        Value::Object(m) => !m.is_empty() && m.keys().all(|k| OPERATORS.contains(&k.as_str())),
        Value::String(s) => s == "absent",
        _ => false,
    }
}

/// Matches `pattern` against `observed` (the view of a frame).
pub fn match_frame(pattern: &Value, observed: &Value) -> Outcome {
    let mut out = Outcome::default();
    matches(pattern, Some(observed), "", &mut out);
    out
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

fn show(v: Option<&Value>) -> String {
    match v {
        None => "absent".to_string(),
        Some(Value::String(s)) => s.clone(),
        Some(v) => v.to_string(),
    }
}

fn fail(out: &mut Outcome, path: &str, expected: String, observed: Option<&Value>) {
    out.diffs.push(FieldDiff {
        field: if path.is_empty() {
            "(frame)".into()
        } else {
            path.to_string()
        },
        expected,
        observed: show(observed),
    });
}

/// A short text of a pattern, for the "expected" column.
pub fn describe(p: &Value) -> String {
    match p {
        Value::String(s) if s == "absent" => "absent".into(),
        Value::String(s) => s.clone(),
        Value::Object(m) if is_operator(p) => m
            .iter()
            .map(|(k, v)| match k.as_str() {
                "any" => "anything".to_string(),
                "absent" => "absent".to_string(),
                "present" => "present".to_string(),
                "equals" => describe(v),
                "one_of" => format!(
                    "one of [{}]",
                    v.as_array()
                        .map(|a| a.iter().map(describe).collect::<Vec<_>>().join(", "))
                        .unwrap_or_default()
                ),
                "not" => format!("not {}", describe(v)),
                "below" => format!("< {}", describe(v)),
                "above" => format!("> {}", describe(v)),
                "at_most" => format!("<= {}", describe(v)),
                "at_least" => format!(">= {}", describe(v)),
                "range" => format!("in {}", v),
                "in_prefix" => format!("in {}", describe(v)),
                "bind" => format!("(bound to {{{}}})", describe(v)),
                "exactly" => format!("exactly {}", v),
                _ => k.clone(),
            })
            .filter(|s| !s.starts_with("(bound"))
            .collect::<Vec<_>>()
            .join(" and "),
        other => other.to_string(),
    }
}

fn matches(p: &Value, o: Option<&Value>, path: &str, out: &mut Outcome) {
    if is_operator(p) {
        return operator(p, o, path, out);
    }
    match (p, o) {
        (Value::Object(pm), Some(Value::Object(om))) => {
            for (k, sub) in pm {
                matches(sub, om.get(k), &join(path, k), out);
            }
        }
        (Value::Array(items), Some(Value::Array(obs))) => contains(items, obs, path, out),
        (_, None) => fail(out, path, describe(p), None),
        (Value::Object(_), Some(other)) | (Value::Array(_), Some(other)) => {
            fail(out, path, describe(p), Some(other))
        }
        (_, Some(ov)) => {
            if scalar_eq(p, ov) {
                out.held += 1;
            } else {
                fail(out, path, describe(p), Some(ov));
            }
        }
    }
}

/// Each pattern item needs its own observed element (first fit).
fn contains(items: &[Value], obs: &[Value], path: &str, out: &mut Outcome) {
    let mut used = vec![false; obs.len()];
    for item in items {
        let mut found = None;
        for (i, o) in obs.iter().enumerate() {
            if used[i] {
                continue;
            }
            let mut trial = Outcome::default();
            matches(item, Some(o), path, &mut trial);
            if trial.matched() {
                found = Some((i, trial));
                break;
            }
        }
        match found {
            Some((i, trial)) => {
                used[i] = true;
                out.held += trial.held.max(1);
                out.bindings.extend(trial.bindings);
            }
            None => fail(
                out,
                path,
                format!("a list holding {}", compact(item)),
                Some(&Value::Array(obs.to_vec())),
            ),
        }
    }
}

fn compact(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn operator(p: &Value, o: Option<&Value>, path: &str, out: &mut Outcome) {
    let map = match p {
        Value::String(_) => {
            // `absent`
            return match o {
                None => out.held += 1,
                Some(v) => fail(out, path, "absent".into(), Some(v)),
            };
        }
        Value::Object(m) => m,
        _ => return,
    };
    let before = out.diffs.len();
    for (k, arg) in map {
        match k.as_str() {
            "bind" => {}
            "any" => {}
            "absent" if o.is_some() => fail(out, path, "absent".into(), o),
            "present" if o.is_none() => fail(out, path, "present".into(), o),
            "absent" | "present" => {}
            "equals" => matches(arg, o, path, out),
            "one_of" => {
                let alts = arg.as_array().cloned().unwrap_or_default();
                let any = alts.iter().any(|a| {
                    let mut t = Outcome::default();
                    matches(a, o, path, &mut t);
                    t.matched()
                });
                if !any {
                    fail(out, path, describe(p), o)
                }
            }
            "not" => {
                let mut t = Outcome::default();
                matches(arg, o, path, &mut t);
                if t.matched() {
                    fail(out, path, format!("not {}", describe(arg)), o)
                }
            }
            "below" | "above" | "at_most" | "at_least" => {
                let ok = match (o.and_then(number), number(arg)) {
                    (Some(x), Some(b)) => match k.as_str() {
                        "below" => x < b,
                        "above" => x > b,
                        "at_most" => x <= b,
                        _ => x >= b,
                    },
                    _ => false,
                };
                if !ok {
                    fail(out, path, describe(p), o)
                }
            }
            "range" => {
                let bounds = arg
                    .as_array()
                    .map(|a| (a.first().and_then(number), a.get(1).and_then(number)));
                let ok = match (o.and_then(number), bounds) {
                    (Some(x), Some((Some(lo), Some(hi)))) => lo <= x && x <= hi,
                    _ => false,
                };
                if !ok {
                    fail(out, path, describe(p), o)
                }
            }
            "in_prefix" => {
                let prefix = arg.as_str().and_then(|s| s.parse::<Ipv6Prefix>().ok());
                let addr = o
                    .and_then(Value::as_str)
                    .and_then(|s| s.parse::<Ipv6Addr>().ok());
                let ok = matches!((prefix, addr), (Some(p), Some(a)) if p.contains(&a));
                if !ok {
                    fail(out, path, describe(p), o)
                }
            }
            "exactly" => match (arg.as_array(), o.and_then(Value::as_array)) {
                (Some(ps), Some(os)) if ps.len() == os.len() => {
                    for (i, (pi, oi)) in ps.iter().zip(os).enumerate() {
                        matches(pi, Some(oi), &format!("{path}[{i}]"), out);
                    }
                }
                _ => fail(out, path, describe(p), o),
            },
            _ => {}
        }
    }
    if out.diffs.len() == before {
        out.held += 1;
        if let (Some(Value::String(name)), Some(v)) = (map.get("bind"), o) {
            out.bindings.push((name.clone(), v.clone()));
        }
    }
}

fn number(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// Scalar equality with the conversions a case author expects.
pub fn scalar_eq(p: &Value, o: &Value) -> bool {
    match (p, o) {
        (Value::Number(a), Value::Number(b)) => a.as_f64() == b.as_f64(),
        (Value::String(_), Value::Number(_)) | (Value::Number(_), Value::String(_)) => {
            matches!((number(p), number(o)), (Some(a), Some(b)) if a == b)
        }
        (Value::String(a), Value::String(b)) => {
            if a == b {
                return true;
            }
            if let (Ok(x), Ok(y)) = (a.parse::<Ipv6Addr>(), b.parse::<Ipv6Addr>()) {
                return x == y;
            }
            a.eq_ignore_ascii_case(b) && a.chars().all(|c| c.is_ascii_hexdigit() || c == ':')
        }
        (Value::Bool(a), Value::Bool(b)) => a == b,
        (Value::Null, Value::Null) => true,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ba() -> Value {
        json!({
            "ipv6": {"src": "2001:db8:ffff::1", "dst": "2001:db8:1::2", "hop_limit": 64},
            "routing": {"type": 2, "segments_left": 1, "home_address": "2001:db8:ffff::2:2"},
            "mh": {"binding_ack": {"status": 0, "seq": 100, "lifetime": 15, "k_flag": false},
                   "options": [{"pad_n": {"len": 2}}]},
        })
    }

    #[test]
    fn equal_fields_match_and_others_are_dont_care() {
        let p = json!({"ipv6": {"dst": "2001:DB8:1:0::2"}, "mh": {"binding_ack": {"seq": "100"}}});
        let o = match_frame(&p, &ba());
        assert!(o.matched(), "{:?}", o.diffs);
        assert_eq!(o.held, 2);
    }

    #[test]
    fn a_mismatch_is_reported_field_by_field() {
        let p = json!({"routing": {"home_address": "2001:db8:1::2"},
                       "mh": {"binding_ack": {"status": {"below": 128}, "lifetime": {"at_most": 10}}}});
        let o = match_frame(&p, &ba());
        assert_eq!(
            o.diffs,
            vec![
                FieldDiff {
                    field: "routing.home_address".into(),
                    expected: "2001:db8:1::2".into(),
                    observed: "2001:db8:ffff::2:2".into()
                },
                FieldDiff {
                    field: "mh.binding_ack.lifetime".into(),
                    expected: "<= 10".into(),
                    observed: "15".into()
                },
            ]
        );
        assert_eq!(o.held, 1);
    }

    #[test]
    fn absent_present_and_missing_layers() {
        assert!(match_frame(&json!({"hop_by_hop": "absent"}), &ba()).matched());
        assert!(!match_frame(&json!({"routing": "absent"}), &ba()).matched());
        assert!(match_frame(&json!({"routing": {"present": true}}), &ba()).matched());
        let o = match_frame(&json!({"icmpv6": {"echo_reply": {}}}), &ba());
        assert_eq!(o.diffs[0].field, "icmpv6");
        assert_eq!(o.diffs[0].observed, "absent");
    }

    #[test]
    fn operators() {
        let cases = [
            (json!({"one_of": [1, 2, 100]}), true),
            (json!({"one_of": [1, 2]}), false),
            (json!({"not": 100}), false),
            (json!({"not": 101}), true),
            (json!({"range": [90, 110]}), true),
            (json!({"range": [101, 110]}), false),
            (json!({"above": 99, "below": 101}), true),
            (json!({"any": true}), true),
            (json!({"at_least": "{x}"}), false),
        ];
        for (p, want) in cases {
            let got =
                match_frame(&json!({"mh": {"binding_ack": {"seq": p.clone()}}}), &ba()).matched();
            assert_eq!(got, want, "{p}");
        }
        assert!(match_frame(
            &json!({"ipv6": {"dst": {"in_prefix": "2001:db8:1::/64"}}}),
            &ba()
        )
        .matched());
        assert!(!match_frame(
            &json!({"ipv6": {"dst": {"in_prefix": "2001:db8:2::/64"}}}),
            &ba()
        )
        .matched());
    }

    #[test]
    fn bind_records_the_observed_value_only_on_a_match() {
        let o = match_frame(
            &json!({"mh": {"binding_ack": {"seq": {"bind": "s"}}}}),
            &ba(),
        );
        assert_eq!(o.bindings, vec![("s".to_string(), json!(100))]);
        let o = match_frame(
            &json!({"mh": {"binding_ack": {"seq": {"bind": "s", "below": 10}}}}),
            &ba(),
        );
        assert!(o.bindings.is_empty());
        assert!(!o.matched());
    }

    #[test]
    fn lists_contain_in_any_order_or_exactly() {
        let o = json!({"opts": [{"pad_n": {"len": 2}}, {"home_address": {"address": "::1"}}]});
        assert!(match_frame(
            &json!({"opts": [{"home_address": {"address": "0::1"}}]}),
            &o
        )
        .matched());
        assert!(!match_frame(
            &json!({"opts": [{"home_address": {}}, {"home_address": {}}]}),
            &o
        )
        .matched());
        assert!(!match_frame(&json!({"opts": {"exactly": [{"home_address": {}}]}}), &o).matched());
        assert!(match_frame(
            &json!({"opts": {"exactly": [{"pad_n": {}}, {"home_address": {}}]}}),
            &o
        )
        .matched());
    }

    #[test]
    fn scalars() {
        assert!(scalar_eq(
            &json!("02:AA:00:00:00:01"),
            &json!("02:aa:00:00:00:01")
        ));
        assert!(scalar_eq(&json!("0AFF"), &json!("0aff")));
        assert!(!scalar_eq(&json!("MUST"), &json!("must")));
        assert!(scalar_eq(&json!(true), &json!(true)));
        assert!(!scalar_eq(&json!(true), &json!("true")));
    }
}
