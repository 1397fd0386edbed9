//! The suite on disk: the catalogues and case files under a cases
//! directory, loaded and checked together, and the selection a run makes
//! (filters, shards).

use std::path::{Path, PathBuf};

use globset::{Glob, GlobSetBuilder};

use crate::case::{self, LoadedCase};
use crate::lint::{self, Catalogues};
use crate::profile::{self, LoadedProfile, ParameterCatalogue};
use crate::requirements::{Catalogue, Gate, Level, Role};
use crate::yaml::{Diagnostic, Pos};

/// The catalogues and every case file, loaded.
pub struct Suite {
    pub dir: PathBuf,
    pub catalogue: Catalogue,
    pub parameters: ParameterCatalogue,
    pub cases: Vec<LoadedCase>,
    /// What lint warned about (the suite is usable).
    pub warnings: Vec<Diagnostic>,
}

impl Suite {
    /// Loads `dir/requirements.yaml`, `dir/pics.yaml` and every case under
    /// `dir/<role>/`, then lints the cases. Any problem is returned, all of
    /// them, located.
    pub fn load(dir: &Path) -> Result<Suite, Vec<Diagnostic>> {
        let mut diags = Vec::new();
        let catalogue = match Catalogue::load(&dir.join("requirements.yaml")) {
            Ok(c) => c,
            Err(d) => {
                diags.extend(d);
                Catalogue::default()
            }
        };
        let parameters = match ParameterCatalogue::load(&dir.join("pics.yaml")) {
            Ok((p, _)) => p,
            Err(d) => {
                diags.push(d);
                ParameterCatalogue::default()
            }
        };
        let files = case::discover(dir).map_err(|e| {
            vec![Diagnostic::new(
                dir,
                Pos::default(),
                format!("cannot list the cases: {e}"),
            )]
        })?;
        let mut cases = Vec::new();
        for f in files {
            match case::load(&f) {
                Ok(c) => cases.push(c),
                Err(d) => diags.push(d),
            }
        }
        if !crate::yaml::any_error(&diags) {
            diags.extend(lint::lint_cases(
                &cases,
                &Catalogues {
                    requirements: &catalogue,
                    parameters: &parameters,
                },
            ));
        }
        if !crate::yaml::any_error(&diags) {
            Ok(Suite {
                dir: dir.to_path_buf(),
                catalogue,
                parameters,
                cases,
                warnings: diags,
            })
        } else {
            Err(diags)
        }
    }

    /// Loads and lints a profile against this suite's catalogues.
    pub fn load_profile(&self, path: &Path) -> Result<LoadedProfile, Vec<Diagnostic>> {
        let lp = profile::load(path).map_err(|d| vec![d])?;
        let d = lint::lint_profile(
            &lp,
            &Catalogues {
                requirements: &self.catalogue,
                parameters: &self.parameters,
            },
        );
        if !crate::yaml::any_error(&d) {
            print_diagnostics(&d);
            Ok(lp)
        } else {
            Err(d)
        }
    }
}

/// Which cases a run takes.
#[derive(Clone, Debug, Default)]
pub struct Filter {
    pub roles: Vec<Role>,
    /// Globs over case IDs (`map.bu.*`).
    pub ids: Vec<String>,
    /// Requirement IDs (a case is taken if it cites one).
    pub requirements: Vec<String>,
    /// Keep cases citing a requirement of at least this strength:
    /// MUST keeps mandatory ones, SHOULD adds advisory ones, MAY all.
    pub level: Option<Gate>,
    /// `(k, n)`: the k-th (1-based) of n shards.
    pub shard: Option<(usize, usize)>,
}

/// Parses `K/N` (1 <= K <= N).
pub fn parse_shard(s: &str) -> Result<(usize, usize), String> {
    let bad = || format!("expected --shard K/N with 1 <= K <= N, found {s:?}");
    let (k, n) = s.split_once('/').ok_or_else(bad)?;
    let k: usize = k.trim().parse().map_err(|_| bad())?;
    let n: usize = n.trim().parse().map_err(|_| bad())?;
    if k == 0 || n == 0 || k > n {
        return Err(bad());
    }
    Ok((k, n))
}

/// Parses a level filter: MUST, SHOULD or MAY (any keyword of that
/// strength works, e.g. "MUST NOT").
pub fn parse_level(s: &str) -> Result<Gate, String> {
    let l: Level = serde_json::from_value(serde_json::Value::String(s.to_uppercase()))
        .map_err(|_| format!("expected a level: MUST, SHOULD or MAY; found {s:?}"))?;
    Ok(l.gate())
}

impl Filter {
    /// The cases this filter takes, in ID order; shards partition that
    /// order round-robin, so every case lands in exactly one shard and the
    /// shards stay balanced.
    pub fn select<'a>(
        &self,
        cases: &'a [LoadedCase],
        catalogue: &Catalogue,
    ) -> Result<Vec<&'a LoadedCase>, String> {
        let mut b = GlobSetBuilder::new();
        for g in &self.ids {
            b.add(Glob::new(g).map_err(|e| format!("bad case id pattern {g:?}: {e}"))?);
        }
        let globs = b.build().map_err(|e| e.to_string())?;
        let mut out: Vec<&LoadedCase> = cases
            .iter()
            .filter(|c| self.roles.is_empty() || c.case.roles.any_of(&self.roles))
            .filter(|c| self.ids.is_empty() || globs.is_match(&c.case.id))
            .filter(|c| {
                self.requirements.is_empty()
                    || c.case
                        .requirements
                        .iter()
                        .any(|r| self.requirements.contains(r))
            })
            .filter(|c| match self.level {
                None => true,
                Some(max) => c
                    .case
                    .requirements
                    .iter()
                    .filter_map(|r| catalogue.get(r))
                    .any(|r| r.level.gate() <= max),
            })
            .collect();
        out.sort_by(|a, b| a.case.id.cmp(&b.case.id));
        if let Some((k, n)) = self.shard {
            out = out
                .into_iter()
                .enumerate()
                .filter(|(i, _)| i % n == k - 1)
                .map(|(_, c)| c)
                .collect();
        }
        Ok(out)
    }
}

/// Prints diagnostics one per line, as compilers do.
pub fn print_diagnostics(diags: &[Diagnostic]) {
    for d in diags {
        eprintln!("{d}");
    }
}

/// A case file in memory, for unit tests: `role` as written after
/// `role:` (`map`, `[map, ar]`).
#[cfg(test)]
pub(crate) fn test_case(id: &str, role: &str, req: &str) -> LoadedCase {
    let text = format!(
        "id: {id}\ntitle: t\nrequirements: [{req}]\nrole: {role}\ntopology: {{links: [access]}}\nsteps: [{{wait: 1ms}}]\n"
    );
    let path = PathBuf::from(format!("{id}.yaml"));
    let tree = crate::yaml::parse(&path, &text).unwrap();
    LoadedCase {
        case: crate::yaml::typed(&path, &tree).unwrap(),
        tree,
        path,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A catalogue with one requirement per level that gates differently,
    /// and cases citing them.
    fn fixture() -> (Catalogue, Vec<LoadedCase>) {
        let dir = tempfile::tempdir().unwrap();
        let cat = dir.path().join("requirements.yaml");
        std::fs::write(
            &cat,
            "requirements:\n\
             - {id: RFC4140-1-A, section: '1', level: MUST, text: a, roles: [map], testable: true}\n\
             - {id: RFC4140-1-B, section: '1', level: SHOULD, text: b, roles: [map, mn], testable: true}\n\
             - {id: RFC4140-1-C, section: '1', level: MAY, text: c, roles: [mn], testable: true}\n",
        )
        .unwrap();
        let catalogue = Catalogue::load(&cat).unwrap();
        let cases = vec![
            case("mn.c.may", "mn", "RFC4140-1-C"),
            case("map.a.must", "map", "RFC4140-1-A"),
            case("map.b.should", "map", "RFC4140-1-B"),
            case("mn.b.should", "mn", "RFC4140-1-B"),
            case("map.bu.x", "map", "RFC4140-1-A"),
        ];
        (catalogue, cases)
    }

    use super::test_case as case;

    fn ids(f: &Filter) -> Vec<String> {
        let (cat, cases) = fixture();
        f.select(&cases, &cat)
            .unwrap()
            .into_iter()
            .map(|c| c.case.id.clone())
            .collect()
    }

    #[test]
    fn no_filter_takes_everything_in_id_order() {
        assert_eq!(
            ids(&Filter::default()),
            [
                "map.a.must",
                "map.b.should",
                "map.bu.x",
                "mn.b.should",
                "mn.c.may"
            ]
        );
    }

    #[test]
    fn filters_combine_with_and() {
        let f = Filter {
            roles: vec![Role::Map],
            ..Filter::default()
        };
        assert_eq!(ids(&f), ["map.a.must", "map.b.should", "map.bu.x"]);
        let f = Filter {
            ids: vec!["map.b*".into()],
            ..Filter::default()
        };
        assert_eq!(ids(&f), ["map.b.should", "map.bu.x"]);
        let f = Filter {
            requirements: vec!["RFC4140-1-B".into()],
            roles: vec![Role::Mn],
            ..Filter::default()
        };
        assert_eq!(ids(&f), ["mn.b.should"]);
        let f = Filter {
            level: Some(parse_level("must").unwrap()),
            ..Filter::default()
        };
        assert_eq!(ids(&f), ["map.a.must", "map.bu.x"]);
        let f = Filter {
            level: Some(parse_level("SHOULD NOT").unwrap()),
            ..Filter::default()
        };
        assert_eq!(
            ids(&f),
            ["map.a.must", "map.b.should", "map.bu.x", "mn.b.should"]
        );
        let bad = Filter {
            ids: vec!["map.[".into()],
            ..Filter::default()
        };
        let (cat, cases) = fixture();
        assert!(bad.select(&cases, &cat).is_err());
    }

    #[test]
    fn a_case_of_several_roles_is_taken_for_each() {
        let (cat, mut cases) = fixture();
        cases.push(case("map.b.both", "[map, mn]", "RFC4140-1-B"));
        let select = |roles: Vec<Role>| -> Vec<String> {
            Filter {
                roles,
                ..Filter::default()
            }
            .select(&cases, &cat)
            .unwrap()
            .into_iter()
            .map(|c| c.case.id.clone())
            .collect()
        };
        assert_eq!(
            select(vec![Role::Mn]),
            ["map.b.both", "mn.b.should", "mn.c.may"]
        );
        assert_eq!(
            select(vec![Role::Map]),
            ["map.a.must", "map.b.both", "map.b.should", "map.bu.x"]
        );
        // Once, even when the filter names both of its roles.
        assert_eq!(select(vec![Role::Map, Role::Mn]).len(), 6);
        assert!(select(vec![Role::Ar]).is_empty());
    }

    #[test]
    fn shards_partition_round_robin() {
        let all = ids(&Filter::default());
        let mut seen = Vec::new();
        for k in 1..=2 {
            let part = ids(&Filter {
                shard: Some((k, 2)),
                ..Filter::default()
            });
            seen.extend(part);
        }
        seen.sort();
        assert_eq!(seen, all);
        assert_eq!(
            ids(&Filter {
                shard: Some((1, 2)),
                ..Filter::default()
            }),
            ["map.a.must", "map.bu.x", "mn.c.may"]
        );
        assert!(parse_shard("0/2").is_err());
        assert!(parse_shard("3/2").is_err());
        assert!(parse_shard("x").is_err());
        assert_eq!(parse_shard("2/3"), Ok((2, 3)));
        assert!(parse_level("maybe").is_err());
    }
}
