//! `restart: per-run`: one topology and one IUT for every case of a run.
//!
//! The topology has the union (by name) of the links of the applicable
//! cases, each built as the first case that names it asks (MTU) with the
//! profile's IUT settings. The IUT is launched when the first case needs it
//! and kept: a case that sees it die is an ERROR (with its stderr) and the
//! next case launches it again (and waits for it to be ready again); once a
//! launch fails, every remaining case is an ERROR with that reason. Each
//! case runs after the profile's `reset`, on tester sockets emptied of what
//! came before, with a capture of its own links
//! (`captures_dir/<case-id>.pcapng`).

use tokio::time::Instant;

use super::{
    applicability, base_scope, conclude, in_topology, launch_iut, link_facts, link_spec,
    new_result, seed_of, Context, IutSlot, StepsOutcome,
};
use crate::case::template::Scope;
use crate::case::LoadedCase;
use crate::profile::Launch;
use crate::topology::{LinkSpec, NsChild, Topology, TopologySpec};
use crate::verdict::{CaseResult, Verdict};

/// What the cases of a run share.
struct Shared<'c> {
    ctx: &'c Context,
    launch: &'c Launch,
    topo: Topology,
    /// The profile's names and the topology's link facts, for the launch.
    scope: Scope,
    child: Option<NsChild>,
    launches: u32,
    /// Why the IUT cannot be launched: every remaining case is an ERROR.
    broken: Option<String>,
}

/// Runs `cases` in order against one IUT; `on_done` sees each result as it
/// comes. Returns the results in case order.
pub(super) async fn run_per_run(
    cases: &[LoadedCase],
    ctx: &Context,
    mut on_done: impl FnMut(&CaseResult),
) -> Vec<CaseResult> {
    let applies: Vec<Result<(), String>> = cases
        .iter()
        .map(|lc| applicability(&lc.case, &ctx.profile))
        .collect();
    let mut shared = open(cases, &applies, ctx).await;
    let mut out = Vec::with_capacity(cases.len());
    for (lc, applies) in cases.iter().zip(applies) {
        let started = Instant::now();
        let mut result = new_result(lc);
        if let Err(why) = applies {
            result.verdict = Verdict::NotApplicable;
            result.reason = why;
            on_done(&result);
            out.push(result);
            continue;
        }
        let capture = ctx.captures_dir.join(format!("{}.pcapng", lc.case.id));
        let outcome = match &mut shared {
            Ok(s) => s.case(lc, &capture, started).await,
            Err(why) => Err(why.clone()),
        };
        conclude(&mut result, outcome, &capture, ctx);
        result.duration_ms = started.elapsed().as_millis() as u64;
        on_done(&result);
        out.push(result);
    }
    if let Ok(s) = shared {
        drop(s.child);
        let _ = s.topo.close();
    }
    out
}

/// Builds the shared topology (the IUT is launched by the first case).
async fn open<'c>(
    cases: &[LoadedCase],
    applies: &[Result<(), String>],
    ctx: &'c Context,
) -> Result<Shared<'c>, String> {
    let launch = ctx
        .profile
        .profile
        .launch
        .as_ref()
        .ok_or("restart: per-run needs a `launch` section")?;
    let mut links: Vec<LinkSpec> = Vec::new();
    for (lc, _) in cases.iter().zip(applies).filter(|(_, a)| a.is_ok()) {
        for l in &lc.case.topology.links {
            if !links.iter().any(|s| s.name == l.name()) {
                links.push(link_spec(l.name(), l.mtu(), launch));
            }
        }
    }
    if links.is_empty() {
        // No applicable case: nothing is built, nothing will ask.
        return Err("no link to build".into());
    }
    let topo = Topology::build(TopologySpec {
        links,
        seed: seed_of(&format!("per-run {}", ctx.profile.name())),
        capture: None,
    })
    .await
    .map_err(|e| format!("cannot build the run's shared topology (restart: per-run): {e}"))?;
    let mut scope = base_scope(&ctx.profile, &ctx.parameters);
    link_facts(&mut scope, &topo);
    Ok(Shared {
        ctx,
        launch,
        topo,
        scope,
        child: None,
        launches: 0,
        broken: None,
    })
}

impl Shared<'_> {
    /// One case: the IUT running (launched now if it is not), then the
    /// case in the shared topology.
    async fn case(
        &mut self,
        lc: &LoadedCase,
        capture: &std::path::Path,
        started: Instant,
    ) -> Result<StepsOutcome, String> {
        if let Some(why) = &self.broken {
            return Err(why.clone());
        }
        for l in &lc.case.topology.links {
            let info =
                &self.topo.links()[self.topo.link_index(l.name()).map_err(|e| e.to_string())?];
            if let Some(mtu) = l.mtu().filter(|m| *m != info.mtu) {
                return Err(format!(
                    "the case needs MTU {mtu} on link {}, and the run's shared topology (restart: per-run) built it with MTU {} for an earlier case",
                    info.name, info.mtu
                ));
            }
        }
        let mut gone = String::new();
        if let Some(child) = &mut self.child {
            if let Ok(Some(st)) = child.try_wait() {
                gone = format!("the IUT had exited ({st}) after the previous case; ");
                self.child = None;
            }
        }
        let mut note = None;
        if let Some(command) = &self.launch.command {
            if self.child.is_none() {
                match launch_iut(&self.topo, &self.scope, self.launch, command).await {
                    Ok((child, argv)) => {
                        self.launches += 1;
                        self.child = Some(child);
                        note = Some(format!(
                            "{gone}IUT started (launch {} of the run, kept for the cases that follow): {argv}",
                            self.launches
                        ));
                    }
                    Err(stop) => {
                        let why = if self.launches == 0 {
                            format!(
                                "the run's IUT (restart: per-run) could not be launched: {}",
                                stop.reason
                            )
                        } else {
                            format!("{gone}the run's IUT (restart: per-run) could not be launched again: {}", stop.reason)
                        };
                        self.broken = Some(why.clone());
                        return Err(why);
                    }
                }
            } else {
                note = Some(format!(
                    "IUT running since launch {} of the run (restart: per-run)",
                    self.launches
                ));
            }
        }
        let mut iut = IutSlot::Shared {
            child: self.child.take(),
            note,
        };
        let out = in_topology(lc, self.ctx, &self.topo, &mut iut, Some(capture), started).await;
        if let IutSlot::Shared { child, .. } = iut {
            self.child = child;
        }
        out
    }
}
