//! `hmip6spec coverage`: which requirements the case files cover, computed
//! from what the cases cite (never declared).

use std::collections::BTreeMap;
use std::fmt::Write;

use serde::Serialize;

use crate::case::LoadedCase;
use crate::requirements::{Catalogue, Level, Role};

#[derive(Clone, Debug, Serialize)]
pub struct Covered {
    pub id: String,
    pub level: Level,
    pub cases: Vec<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Uncovered {
    pub id: String,
    pub level: Level,
    pub section: String,
    pub roles: Vec<Role>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Untestable {
    pub id: String,
    pub level: Level,
    pub because: String,
}

/// The coverage of a catalogue (optionally one role's part of it) by a set
/// of cases.
#[derive(Clone, Debug, Serialize)]
pub struct Coverage {
    pub role: Option<Role>,
    pub covered: Vec<Covered>,
    /// Testable, and no case cites it.
    pub uncovered: Vec<Uncovered>,
    pub untestable: Vec<Untestable>,
    /// Cited by a case but not in the catalogue (lint reports these too).
    pub unknown: Vec<String>,
}

impl Coverage {
    pub fn compute(cat: &Catalogue, cases: &[LoadedCase], role: Option<Role>) -> Coverage {
        let mut citing: BTreeMap<&str, Vec<String>> = BTreeMap::new();
        let mut unknown = Vec::new();
        for c in cases {
            if role.is_some_and(|r| !c.case.roles.contains(r)) {
                continue;
            }
            for id in &c.case.requirements {
                if cat.get(id).is_none() {
                    unknown.push(id.clone());
                }
                citing
                    .entry(id.as_str())
                    .or_default()
                    .push(c.case.id.clone());
            }
        }
        unknown.sort();
        unknown.dedup();
        let mut cov = Coverage {
            role,
            covered: Vec::new(),
            uncovered: Vec::new(),
            untestable: Vec::new(),
            unknown,
        };
        for r in cat.iter() {
            if role.is_some_and(|x| !r.roles.contains(&x)) {
                continue;
            }
            if !r.testable {
                cov.untestable.push(Untestable {
                    id: r.id.clone(),
                    level: r.level,
                    because: r.untestable_because.clone().unwrap_or_default(),
                });
            } else if let Some(cs) = citing.get(r.id.as_str()) {
                let mut cases = cs.clone();
                cases.sort();
                cov.covered.push(Covered {
                    id: r.id.clone(),
                    level: r.level,
                    cases,
                });
            } else {
                cov.uncovered.push(Uncovered {
                    id: r.id.clone(),
                    level: r.level,
                    section: r.section.clone(),
                    roles: r.roles.clone(),
                });
            }
        }
        cov
    }

    /// The text report.
    pub fn render(&self) -> String {
        let mut s = String::new();
        let testable = self.covered.len() + self.uncovered.len();
        let scope = self
            .role
            .map(|r| format!(" binding {r}"))
            .unwrap_or_default();
        let _ = writeln!(
            s,
            "Requirements{scope}: {} testable, {} covered, {} not covered; {} untestable",
            testable,
            self.covered.len(),
            self.uncovered.len(),
            self.untestable.len()
        );
        let _ = writeln!(s, "\nCovered:");
        for c in &self.covered {
            let _ = writeln!(
                s,
                "  {:<44} {:<11} {}",
                c.id,
                c.level.keyword(),
                c.cases.join(", ")
            );
        }
        let _ = writeln!(s, "\nNot covered (testable, no case cites it):");
        if self.uncovered.is_empty() {
            let _ = writeln!(s, "  (none)");
        }
        for u in &self.uncovered {
            let roles: Vec<&str> = u.roles.iter().map(|r| r.name()).collect();
            let _ = writeln!(
                s,
                "  {:<44} {:<11} section {}, binds {}",
                u.id,
                u.level.keyword(),
                u.section,
                roles.join(", ")
            );
        }
        let _ = writeln!(s, "\nUntestable:");
        for u in &self.untestable {
            let _ = writeln!(s, "  {:<44} {:<11} {}", u.id, u.level.keyword(), u.because);
        }
        if !self.unknown.is_empty() {
            let _ = writeln!(
                s,
                "\nCited but not in the catalogue: {}",
                self.unknown.join(", ")
            );
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::suite::test_case as case;

    fn ids(v: &[Covered]) -> Vec<(&str, Vec<&str>)> {
        v.iter()
            .map(|c| (c.id.as_str(), c.cases.iter().map(String::as_str).collect()))
            .collect()
    }

    /// A case of several roles covers what it cites for each of them, and
    /// only for them.
    #[test]
    fn a_case_of_several_roles_counts_for_each() {
        let cat = Catalogue::from_text(
            Path::new("requirements.yaml"),
            "requirements:\n\
             - {id: RFC4140-7-A, section: '7', level: MUST, text: a, roles: [map, ar], testable: true}\n\
             - {id: RFC4140-7-B, section: '7', level: MUST, text: b, roles: [map, ar, mn], testable: true}\n\
             - {id: RFC4140-8-C, section: '8', level: MUST, text: c, roles: [mn], testable: true}\n",
        )
        .unwrap();
        let cases = vec![
            case("map.d.both", "[map, ar]", "RFC4140-7-A"),
            case("mn.d.one", "mn", "RFC4140-7-B"),
        ];
        let ar = Coverage::compute(&cat, &cases, Some(Role::Ar));
        assert_eq!(ids(&ar.covered), [("RFC4140-7-A", vec!["map.d.both"])]);
        let uncovered: Vec<&str> = ar.uncovered.iter().map(|u| u.id.as_str()).collect();
        assert_eq!(
            uncovered,
            ["RFC4140-7-B"],
            "the mn case does not cover it for an ar"
        );
        let map = Coverage::compute(&cat, &cases, Some(Role::Map));
        assert_eq!(ids(&map.covered), [("RFC4140-7-A", vec!["map.d.both"])]);
        let mn = Coverage::compute(&cat, &cases, Some(Role::Mn));
        assert_eq!(ids(&mn.covered), [("RFC4140-7-B", vec!["mn.d.one"])]);
        let all = Coverage::compute(&cat, &cases, None);
        assert_eq!(all.covered.len(), 2);
    }
}
