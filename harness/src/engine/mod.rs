//! The engine: runs one case against the IUT of a profile and gives its
//! verdict (DESIGN.md, "Verdicts", "Time", "Evidence"). It has no per-case
//! code: everything a case does is in its file.
//!
//! For each case: a fresh topology (its own namespaces, links and capture),
//! the emulated nodes started, the IUT launched and waited for, one receiver
//! per link logging every frame the IUT sends, then the steps in order.
//! The profile's [`Mode`] varies only where the topology and the IUT come
//! from: with `restart: per-run` one topology and one IUT serve every case
//! of the run (module `session`), each case with its own capture; with
//! `attach` the topology is made of host interfaces wired to an external
//! IUT ([`Topology::attach`]). Both run cases one at a time, each after the
//! profile's `reset`. The steps run the same way in every mode.
//! Every wait is event-driven with a deadline (a frame arriving, the IUT's
//! ready line, a process exiting); the only sleeps are `wait` steps.
//!
//! Expectations look at the frames logged since the last step that was not
//! an expectation began (so a reply that beats the engine to its `expect` is
//! not missed), skipping frames an earlier `expect` already claimed.

mod run;
mod session;

pub use run::{default_jobs, run_cases, RunOptions};

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{json, Value};
use tokio::sync::Notify;
use tokio::time::Instant;
use wire::frame::Frame as WireFrame;
use wire::MacAddr;

use crate::case::esp::Sealer;
use crate::case::frame_spec::{self, Defaults};
use crate::case::pattern::{self, Outcome};
use crate::case::template::{as_duration, as_i64, Scope};
use crate::case::{ActionStep, Case, ExpectStep, LoadedCase, OnTimeout, SendStep, Step};
use crate::profile::{Launch, LoadedProfile, ParameterCatalogue, Profile, Restart};
use crate::requirements::{Catalogue, Level};
use crate::topology::node::{link_local, NodeSpec};
use crate::topology::{
    AttachLink, AttachSpec, LinkSpec, Nodes, NsChild, Stream, Topology, TopologySpec,
};
use crate::verdict::{CaseResult, FieldDiff, StepRecord, StepStatus, Verdict};

/// Default deadline of `expect` and window of `expect_none` when neither
/// the step nor the PIXIT `timeout` says.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(2);
/// Default deadline for the IUT's readiness and for actions.
pub const DEFAULT_READY: Duration = Duration::from_secs(5);
/// How much of the IUT's stderr a result keeps.
const STDERR_TAIL: usize = 4000;

/// What every case of a run shares.
pub struct Context {
    pub profile: LoadedProfile,
    pub catalogue: Catalogue,
    pub parameters: ParameterCatalogue,
    /// Where this run's captures go (`captures/<run-id>/`).
    pub captures_dir: PathBuf,
}

/// Whether the case applies to the profile; `Err` holds the reason it is
/// NOT-APPLICABLE.
pub fn applicability(case: &Case, profile: &LoadedProfile) -> Result<(), String> {
    let p = &profile.profile;
    if !case.roles.contains(p.role) {
        return Err(format!(
            "the case tests a {}, the IUT is a {}",
            case.roles, p.role
        ));
    }
    for (name, want) in &case.pics {
        let have = p.pics.get(name).cloned().unwrap_or(Value::Bool(false));
        let ok = match want {
            Value::Array(alts) => alts.iter().any(|a| pattern::scalar_eq(a, &have)),
            w => pattern::scalar_eq(w, &have),
        };
        if !ok {
            return Err(format!(
                "needs PICS {name} = {}, the profile claims {}",
                want, have
            ));
        }
    }
    let missing: Vec<String> = crate::case::esp::sa_names(case)
        .into_iter()
        .filter(|n| !p.security_associations.contains_key(n))
        .collect();
    if !missing.is_empty() {
        return Err(format!(
            "the case uses the security association{} {}, which the profile does not declare (security_associations)",
            if missing.len() > 1 { "s" } else { "" },
            missing
                .iter()
                .map(|n| format!("{n:?}"))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    if let Some(a) = &p.attach {
        if let Some(l) = case
            .topology
            .links
            .iter()
            .find(|l| !a.interfaces.contains_key(l.name()))
        {
            return Err(format!(
                "the case needs link {:?}, which attach.interfaces does not map to a host interface",
                l.name()
            ));
        }
    }
    Ok(())
}

/// The scope every case starts from: `pixit.*` (catalogue defaults, then
/// the profile's values) and `pics.*`.
pub fn base_scope(profile: &LoadedProfile, parameters: &ParameterCatalogue) -> Scope {
    let mut s = Scope::new();
    for (k, doc) in &parameters.pixit {
        if let Some(d) = &doc.default {
            s.set(format!("pixit.{k}"), d.clone());
        }
    }
    s.set_all("pixit", &profile.profile.pixit);
    s.set_all("pics", &profile.profile.pics);
    s
}

/// A frame the IUT sent, as logged.
struct Rx {
    link: usize,
    at: Instant,
    view: Value,
}

/// Frames from the IUT on every link, in arrival order.
#[derive(Default)]
struct RxLog {
    frames: Mutex<Vec<Rx>>,
    arrived: Notify,
}

/// How a step ended the case early.
struct Stop {
    verdict: Verdict,
    reason: String,
    violated: Option<String>,
    diff: Vec<FieldDiff>,
}

impl Stop {
    fn error(reason: impl Into<String>) -> Stop {
        Stop {
            verdict: Verdict::Error,
            reason: reason.into(),
            violated: None,
            diff: Vec::new(),
        }
    }
    fn inconclusive(reason: impl Into<String>) -> Stop {
        Stop {
            verdict: Verdict::Inconclusive,
            reason: reason.into(),
            violated: None,
            diff: Vec::new(),
        }
    }
}

/// The state of a case while its steps run.
struct Exec<'a> {
    ctx: &'a Context,
    topo: &'a Topology,
    nodes: &'a Nodes<'a>,
    log: Arc<RxLog>,
    scope: Scope,
    /// Frames before this index are not looked at by expectations.
    since: usize,
    /// Frames an expectation claimed.
    claimed: Vec<bool>,
    records: Vec<StepRecord>,
    started: Instant,
    iut: Option<NsChild>,
    /// Actions started without waiting (`wait: false`); dropping an
    /// `NsChild` kills it.
    background: Vec<NsChild>,
    timeout: Duration,
    /// The profile's security associations and the case's ESP sequence
    /// numbers.
    sealer: Sealer,
}

/// How the profile puts the IUT on the links (DESIGN.md, "Topologies").
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// `launch` with `restart: per-case`: a fresh topology and IUT for
    /// every case; cases may run in parallel.
    PerCase,
    /// `launch` with `restart: per-run`: one topology and one IUT for the
    /// whole run; cases run one at a time, each preceded by the `reset`.
    PerRun,
    /// `attach`: an external IUT on host interfaces; cases run one at a
    /// time, each preceded by the `reset`.
    Attach,
}

impl Mode {
    /// The profile's mode; `None` when it has neither `launch` nor `attach`.
    pub fn of(profile: &Profile) -> Option<Mode> {
        match (&profile.launch, &profile.attach) {
            (Some(l), _) if l.restart == Restart::PerRun => Some(Mode::PerRun),
            (Some(_), _) => Some(Mode::PerCase),
            (None, Some(_)) => Some(Mode::Attach),
            (None, None) => None,
        }
    }

    /// Whether the cases share one IUT, and so run one at a time.
    pub fn serial(self) -> bool {
        self != Mode::PerCase
    }

    /// In words, for the run's header line.
    pub fn describe(self) -> &'static str {
        match self {
            Mode::PerCase => "restart: per-case, a fresh IUT for every case",
            Mode::PerRun => "restart: per-run, one IUT for the whole run",
            Mode::Attach => "attach, an external IUT",
        }
    }
}

/// A result with the case's identity and nothing decided yet.
fn new_result(lc: &LoadedCase) -> CaseResult {
    let case = &lc.case;
    CaseResult {
        id: case.id.clone(),
        title: case.title.clone(),
        roles: case.roles.clone(),
        file: lc.path.clone(),
        requirements: case.requirements.clone(),
        verdict: Verdict::Pass,
        violated: None,
        level: None,
        reason: String::new(),
        diff: Vec::new(),
        steps: Vec::new(),
        iut_stderr: None,
        capture: None,
        duration_ms: 0,
    }
}

/// Fills `result` in from how the case ran.
fn conclude(
    result: &mut CaseResult,
    outcome: Result<StepsOutcome, String>,
    capture: &Path,
    ctx: &Context,
) {
    match outcome {
        Ok((stop, records, stderr)) => {
            result.steps = records;
            result.iut_stderr = stderr;
            match stop {
                None => {
                    result.reason = format!(
                        "all {} steps held",
                        result
                            .steps
                            .iter()
                            .filter(|r| r.status == StepStatus::Ok && is_case_step(&r.kind))
                            .count()
                    );
                }
                Some(s) => {
                    result.verdict = s.verdict;
                    result.reason = s.reason;
                    result.diff = s.diff;
                    if s.verdict == Verdict::Fail {
                        let id = s
                            .violated
                            .or_else(|| result.requirements.first().cloned())
                            .unwrap_or_default();
                        result.level = ctx
                            .catalogue
                            .get(&id)
                            .map(|r| r.level)
                            .or(Some(Level::Must));
                        result.violated = Some(id);
                    }
                }
            }
            if capture.exists() {
                result.capture = Some(capture.to_path_buf());
            }
        }
        Err(e) => {
            result.verdict = Verdict::Error;
            result.reason = e;
        }
    }
}

/// Whether a record is one of the case's own steps (not the harness's
/// `launch` or `reset` before them).
fn is_case_step(kind: &str) -> bool {
    !matches!(kind, "launch" | "reset")
}

/// Runs one case: applicability, topology, IUT, steps, teardown. With
/// `restart: per-run` the case gets a run of its own (one topology, one
/// launch); [`run_cases`] shares them between the cases of a run.
pub async fn run_case(lc: &LoadedCase, ctx: &Context) -> CaseResult {
    let (result, topology) = run_case_parts(lc, ctx).await;
    if let Some(t) = topology {
        teardown(t).await;
    }
    result
}

/// Closes a case's topology on the blocking pool: closing its sockets waits
/// for RCU grace periods, which must not hold up a runtime thread.
pub(crate) async fn teardown(topology: Topology) {
    let _ = tokio::task::spawn_blocking(move || drop(topology)).await;
}

/// [`run_case`], returning the case's topology (its capture finished)
/// instead of closing it: the caller gives the verdict and lets the next
/// case start while the teardown runs.
pub(crate) async fn run_case_parts(
    lc: &LoadedCase,
    ctx: &Context,
) -> (CaseResult, Option<Topology>) {
    if Mode::of(&ctx.profile.profile) == Some(Mode::PerRun) {
        let mut rs = session::run_per_run(std::slice::from_ref(lc), ctx, |_| {}).await;
        if let Some(r) = rs.pop() {
            return (r, None);
        }
    }
    let started = Instant::now();
    let mut result = new_result(lc);
    if let Err(why) = applicability(&lc.case, &ctx.profile) {
        result.verdict = Verdict::NotApplicable;
        result.reason = why;
        return (result, None);
    }
    let capture = ctx.captures_dir.join(format!("{}.pcapng", lc.case.id));
    let (outcome, topology) = match Mode::of(&ctx.profile.profile) {
        None => (
            Err("the profile has neither `launch` nor `attach`".to_string()),
            None,
        ),
        Some(Mode::Attach) => attached_case(lc, ctx, &capture, started).await,
        Some(_) => launched_case(lc, ctx, &capture, started).await,
    };
    conclude(&mut result, outcome, &capture, ctx);
    result.duration_ms = started.elapsed().as_millis() as u64;
    (result, topology)
}

/// What a case on its own topology ends with: its outcome, and the
/// topology (capture finished) when it was built.
type CaseEnd = (Result<StepsOutcome, String>, Option<Topology>);

/// Finishes the capture (so the file is complete before the verdict) and
/// hands the topology back for teardown.
fn end_case(topo: Topology, outcome: Result<StepsOutcome, String>) -> CaseEnd {
    let closed = topo.finish_capture_deferring_close();
    let outcome = match (outcome, closed) {
        (Ok(_), Err(e)) => Err(format!("teardown: {e}")),
        (o, _) => o,
    };
    (outcome, Some(topo))
}

type StepsOutcome = (Option<Stop>, Vec<StepRecord>, Option<String>);

/// The IUT's link settings from the profile, for link `name`.
fn link_spec(name: &str, mtu: Option<u32>, launch: &Launch) -> LinkSpec {
    let mut spec = LinkSpec::new(name).iut_kernel_ipv6(launch.kernel_ipv6);
    if let Some(mtu) = mtu {
        spec = spec.mtu(mtu);
    }
    for (k, v) in &launch.sysctls {
        let v = match v {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        spec = spec.iut_sysctl(k, &v);
    }
    spec
}

/// `restart: per-case`: a fresh topology, the IUT launched in it.
async fn launched_case(
    lc: &LoadedCase,
    ctx: &Context,
    capture: &Path,
    started: Instant,
) -> CaseEnd {
    let case = &lc.case;
    let Some(launch) = ctx.profile.profile.launch.as_ref() else {
        return (Err("no launch".into()), None);
    };
    let links = case
        .topology
        .links
        .iter()
        .map(|l| link_spec(l.name(), l.mtu(), launch))
        .collect();
    let topo = match Topology::build(TopologySpec {
        links,
        seed: seed_of(&case.id),
        capture: Some(capture.to_path_buf()),
    })
    .await
    {
        Ok(t) => t,
        Err(e) => return (Err(format!("cannot build the topology: {e}")), None),
    };
    let mut iut = IutSlot::Launch(launch);
    let outcome = in_topology(lc, ctx, &topo, &mut iut, None, started).await;
    end_case(topo, outcome)
}

/// `attach`: the tester on the host interfaces wired to the external IUT.
/// (Its teardown is only closing sockets on the host: done here.)
async fn attached_case(
    lc: &LoadedCase,
    ctx: &Context,
    capture: &Path,
    started: Instant,
) -> CaseEnd {
    (attached_steps(lc, ctx, capture, started).await, None)
}

async fn attached_steps(
    lc: &LoadedCase,
    ctx: &Context,
    capture: &Path,
    started: Instant,
) -> Result<StepsOutcome, String> {
    let case = &lc.case;
    let attach = ctx.profile.profile.attach.as_ref().ok_or("no attach")?;
    let mut links = Vec::new();
    for l in &case.topology.links {
        let name = l.name();
        let ifname = attach
            .interfaces
            .get(name)
            .ok_or_else(|| format!("attach.interfaces maps no host interface to link {name:?}"))?;
        let mac: MacAddr = attach
            .macs
            .get(name)
            .ok_or_else(|| format!("attach.macs gives no MAC for link {name:?}"))?
            .parse()
            .map_err(|e| format!("attach.macs.{name}: {e}"))?;
        links.push(AttachLink {
            name: name.to_string(),
            ifname: ifname.clone(),
            iut_mac: mac.0,
        });
    }
    let topo = Topology::attach(AttachSpec {
        links,
        seed: seed_of(&case.id),
        capture: Some(capture.to_path_buf()),
    })
    .await
    .map_err(|e| format!("cannot attach to the IUT's interfaces: {e}"))?;
    for (l, info) in case.topology.links.iter().zip(topo.links()) {
        if let Some(mtu) = l.mtu().filter(|m| *m != info.mtu) {
            return Err(format!(
                "the case needs MTU {mtu} on link {}, host interface {} has MTU {} (the harness does not change host interfaces)",
                info.name, info.ifname, info.mtu
            ));
        }
    }
    let mut iut = IutSlot::External;
    let outcome = in_topology(lc, ctx, &topo, &mut iut, None, started).await?;
    topo.close().map_err(|e| format!("teardown: {e}"))?;
    Ok(outcome)
}

/// The IUT process as a case starts.
enum IutSlot<'a> {
    /// Launch `launch.command` (if any) for this case; kill it after.
    Launch(&'a Launch),
    /// Shared with other cases (`restart: per-run`): the running process
    /// (none for a kernel IUT) and a line for the case's records. The
    /// process is put back after the case, unless it exited.
    Shared {
        child: Option<NsChild>,
        note: Option<String>,
    },
    /// An external IUT: nothing to start or watch.
    External,
}

/// The IUT's link facts: `iut.<link>.mac`, `iut.<link>.link_local` (the
/// EUI-64 one, as a kernel forms it) and `if.<link>` (the interface name:
/// the IUT's in a built topology, the host's in an attached one).
fn link_facts(scope: &mut Scope, topo: &Topology) {
    for l in topo.links() {
        let mac = MacAddr(l.iut_mac);
        scope.set(format!("iut.{}.mac", l.name), json!(mac.to_string()));
        scope.set(
            format!("iut.{}.link_local", l.name),
            json!(link_local(mac).to_string()),
        );
        scope.set(format!("if.{}", l.name), json!(l.ifname));
    }
}

fn record_at(started: Instant, step: &str, kind: &str, summary: String) -> StepRecord {
    StepRecord {
        step: step.to_string(),
        kind: kind.to_string(),
        summary,
        status: StepStatus::Ok,
        at_ms: started.elapsed().as_millis() as u64,
        link: None,
        frame: None,
    }
}

/// One case in a topology: the one code path of every mode. With a shared
/// IUT the profile's `reset` runs first; with `capture`, the topology is
/// shared between cases: what is queued on its sockets is dropped and the
/// case gets a capture of its own links.
async fn in_topology(
    lc: &LoadedCase,
    ctx: &Context,
    topo: &Topology,
    iut: &mut IutSlot<'_>,
    capture: Option<&Path>,
    started: Instant,
) -> Result<StepsOutcome, String> {
    let case = &lc.case;
    let mut scope = base_scope(&ctx.profile, &ctx.parameters);
    scope.set("case.id", json!(case.id));
    link_facts(&mut scope, topo);
    let mut records = Vec::new();
    if !matches!(iut, IutSlot::Launch(_)) {
        if let Some(reset) = &ctx.profile.profile.reset {
            match run_command(topo, &scope, "reset", &reset.command, reset.within.as_ref()).await {
                Ok(argv) => {
                    records.push(record_at(started, "0", "reset", format!("reset: {argv}")))
                }
                Err(stop) => {
                    let mut r = record_at(started, "0", "reset", stop.reason.clone());
                    r.status = StepStatus::Failed;
                    return Ok((Some(stop), vec![r], None));
                }
            }
        }
    }
    let Some(path) = capture else {
        return case_steps(lc, ctx, topo, iut, scope, records, started).await;
    };
    // Frames of earlier cases (or of the reset) never reach this one.
    topo.drain();
    let names: Vec<&str> = case.topology.links.iter().map(|l| l.name()).collect();
    topo.start_capture(path, &names)
        .map_err(|e| format!("cannot start the capture: {e}"))?;
    let out = case_steps(lc, ctx, topo, iut, scope, records, started).await;
    let finished = topo.finish_capture();
    match (out, finished) {
        (Ok(_), Err(e)) => Err(format!("capture: {e}")),
        (out, _) => out,
    }
}

/// Variables, emulated nodes, receivers, the IUT, the steps; then the
/// nodes and receivers stop (the topology stays).
async fn case_steps(
    lc: &LoadedCase,
    ctx: &Context,
    topo: &Topology,
    iut: &mut IutSlot<'_>,
    mut scope: Scope,
    records: Vec<StepRecord>,
    started: Instant,
) -> Result<StepsOutcome, String> {
    let case = &lc.case;
    // Case variables may use the profile and the IUT's link facts; nodes
    // may use case variables.
    for (name, v) in &case.vars {
        let value = scope
            .resolve(v)
            .map_err(|e| format!("vars.{name}: {}", e.message))?;
        scope.set(name.clone(), value);
    }
    let mut specs = Vec::new();
    for (name, v) in &case.topology.nodes {
        let mut v = scope
            .resolve(v)
            .map_err(|e| format!("topology.nodes.{name}: {}", e.message))?;
        if let Value::Object(m) = &mut v {
            m.insert("name".into(), json!(name));
        }
        let spec: NodeSpec =
            serde_json::from_value(v).map_err(|e| format!("topology.nodes.{name}: {e}"))?;
        specs.push(spec);
    }
    let nodes = topo
        .start_nodes(&specs)
        .map_err(|e| format!("cannot start the emulated nodes: {e}"))?;
    for n in nodes.nodes() {
        scope.set(format!("node.{}.mac", n.name()), json!(n.mac().to_string()));
        scope.set(
            format!("node.{}.link_local", n.name()),
            json!(n.link_local().to_string()),
        );
        if let Some(a) = n.interfaces().first().and_then(|i| i.addresses().first()) {
            scope.set(format!("node.{}.address", n.name()), json!(a.to_string()));
        }
    }

    let sealer = Sealer::from_profile(&ctx.profile.profile)?;
    let sas = Arc::new(sealer.sas.clone());
    // One receiver per link of the case (a shared topology may have more).
    let log = Arc::new(RxLog::default());
    let mut receivers = Vec::new();
    for l in &case.topology.links {
        let i = topo.link_index(l.name()).map_err(|e| e.to_string())?;
        let sock = topo.tester_link(l.name()).map_err(|e| e.to_string())?;
        let log = log.clone();
        let sas = sas.clone();
        receivers.push(tokio::spawn(async move {
            while let Ok(f) = sock.recv().await {
                let decoded = WireFrame::decode(&f.bytes);
                let findings: Vec<String> = decoded
                    .findings
                    .iter()
                    .map(|x| x.rule.to_string())
                    .collect();
                let view = frame_spec::view_with(&decoded.frame, &findings, &sas);
                log.frames
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .push(Rx {
                        link: i,
                        at: Instant::now(),
                        view,
                    });
                log.arrived.notify_waiters();
            }
        }));
    }

    let timeout = match scope.get("pixit.timeout") {
        Some(v) => as_duration(v).map_err(|e| format!("pixit.timeout: {e}"))?,
        None => DEFAULT_TIMEOUT,
    };
    let mut exec = Exec {
        ctx,
        topo,
        nodes: &nodes,
        log: log.clone(),
        scope,
        since: 0,
        claimed: Vec::new(),
        records,
        started,
        iut: None,
        background: Vec::new(),
        timeout,
        sealer,
    };
    let mut stop = None;
    let mut shared = false;
    match iut {
        IutSlot::Launch(launch) => stop = exec.launch(launch).await.err(),
        IutSlot::Shared { child, note } => {
            shared = true;
            exec.iut = child.take();
            if let Some(n) = note.take() {
                exec.record("0", "launch", n, StepStatus::Ok, None);
            }
        }
        IutSlot::External => {}
    }
    if stop.is_none() {
        stop = exec.steps(&case.steps, "").await.err();
    }
    // A crash shows as an ERROR even when the steps passed: the evidence
    // of a dying IUT cannot be trusted.
    let mut stderr = None;
    if let Some(mut child) = exec.iut.take() {
        let exited = child.try_wait().ok().flatten();
        if let Some(st) = exited {
            // Exited: let the readers drain its pipes (EOF is near).
            let _ = child
                .wait_until(Instant::now() + Duration::from_millis(500))
                .await;
            if stop.as_ref().is_none_or(|s| s.verdict != Verdict::Error) {
                stop = Some(Stop::error(format!(
                    "the IUT exited during the case ({st})"
                )));
            }
        }
        let err = child.stderr();
        if !err.is_empty() && stop.as_ref().is_some_and(|s| s.verdict == Verdict::Error) {
            stderr = Some(tail(&err));
        }
        match iut {
            // Still running: the next case uses it.
            IutSlot::Shared { child: slot, .. } if shared && exited.is_none() => {
                *slot = Some(child)
            }
            _ => {
                let _ = child.kill();
            }
        }
    }
    let records = std::mem::take(&mut exec.records);
    drop(exec);
    for r in receivers {
        r.abort();
    }
    nodes.shutdown().await;
    Ok((stop, records, stderr))
}

/// Resolves a command line's placeholders.
fn argv_of(scope: &Scope, what: &str, command: &[String]) -> Result<Vec<String>, Stop> {
    command
        .iter()
        .map(|s| match scope.resolve(&Value::String(s.clone())) {
            Ok(Value::String(t)) => Ok(t),
            Ok(other) => Ok(other.to_string()),
            Err(e) => Err(Stop::error(format!("{what}: {s:?}: {}", e.message))),
        })
        .collect()
}

/// Runs a command where the IUT's commands run ([`Topology::spawn_iut`])
/// and waits for it to exit 0 within `within` (default [`DEFAULT_READY`]).
/// Returns the command line, resolved.
async fn run_command(
    topo: &Topology,
    scope: &Scope,
    what: &str,
    command: &[String],
    within: Option<&Value>,
) -> Result<String, Stop> {
    let argv = argv_of(scope, what, command)?;
    let Some((prog, args)) = argv.split_first() else {
        return Err(Stop::error(format!("{what}: empty command")));
    };
    let within = match within {
        Some(v) => as_duration(v).map_err(|e| Stop::error(format!("{what}: within: {e}")))?,
        None => DEFAULT_READY,
    };
    let mut cmd = std::process::Command::new(prog);
    cmd.args(args);
    let mut child = topo
        .spawn_iut(cmd)
        .map_err(|e| Stop::error(format!("{what}: cannot start `{prog}`: {e}")))?;
    match child.wait_until(Instant::now() + within).await {
        Ok(Some(st)) if st.success() => Ok(argv.join(" ")),
        Ok(Some(st)) => Err(Stop::error(format!(
            "{what} failed ({st}): {}",
            tail(&child.stderr()).trim_end()
        ))),
        Ok(None) => {
            let _ = child.kill();
            Err(Stop::error(format!(
                "{what} did not finish within {}",
                humantime::format_duration(within)
            )))
        }
        Err(e) => Err(Stop::error(format!("{what}: {e}"))),
    }
}

/// Starts the IUT's command in the topology's IUT namespace and waits
/// until it is ready; returns it and its command line.
async fn launch_iut(
    topo: &Topology,
    scope: &Scope,
    launch: &Launch,
    command: &[String],
) -> Result<(NsChild, String), Stop> {
    let argv = argv_of(scope, "launch.command", command)?;
    let Some((prog, args)) = argv.split_first() else {
        return Err(Stop::error("launch.command is empty"));
    };
    let mut cmd = std::process::Command::new(prog);
    cmd.args(args);
    for (k, v) in &launch.env {
        let v = argv_of(scope, &format!("launch.env.{k}"), std::slice::from_ref(v))?;
        cmd.env(k, v.concat());
    }
    let mut child = topo
        .spawn_iut(cmd)
        .map_err(|e| Stop::error(format!("cannot start the IUT `{prog}`: {e}")))?;
    let within = match &launch.ready.within {
        Some(v) => as_duration(&scope.resolve(v).unwrap_or(v.clone()))
            .map_err(|e| Stop::error(format!("launch.ready.within: {e}")))?,
        None => DEFAULT_READY,
    };
    let deadline = Instant::now() + within;
    let wanted = match (&launch.ready.stdout_line, &launch.ready.stderr_line) {
        (Some(t), _) => Some((Stream::Stdout, t.clone())),
        (None, Some(t)) => Some((Stream::Stderr, t.clone())),
        (None, None) => None,
    };
    if let Some((stream, text)) = wanted {
        let line = child
            .wait_for_line(stream, deadline, |l| l.contains(text.as_str()))
            .await;
        if line.is_none() {
            // The stream ended or the deadline passed. If the process
            // is exiting, wait (event-driven, briefly) for its status
            // and the rest of its stderr, so the reason is exact.
            let exited = child
                .wait_until(Instant::now() + Duration::from_millis(500))
                .await
                .ok()
                .flatten();
            let why = match exited {
                Some(st) => {
                    format!("the IUT exited ({st}) before printing its ready line {text:?}")
                }
                None => format!(
                    "the IUT did not print its ready line {text:?} within {}",
                    humantime::format_duration(within)
                ),
            };
            let err = child.stderr();
            let _ = child.kill();
            let mut s = Stop::error(why);
            if !err.is_empty() {
                s.reason
                    .push_str(&format!("; its stderr ends: {}", tail(&err).trim_end()));
            }
            return Err(s);
        }
    } else if let Ok(Some(st)) = child.try_wait() {
        return Err(Stop::error(format!("the IUT exited at once ({st})")));
    }
    Ok((child, argv.join(" ")))
}

fn tail(s: &str) -> String {
    if s.len() <= STDERR_TAIL {
        return s.to_string();
    }
    let mut start = s.len() - STDERR_TAIL;
    while !s.is_char_boundary(start) {
        start += 1;
    }
    format!("...{}", &s[start..])
}

/// A stable seed per case id (FNV-1a), so a case's MACs are the same in
/// every run and its captures compare.
pub fn seed_of(id: &str) -> u64 {
    id.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    })
}

/// The JSON of a step's fields without the control keys, resolved.
fn body(v: &impl serde::Serialize, control: &[&str], scope: &Scope) -> Result<Value, Stop> {
    let mut v = serde_json::to_value(v).map_err(|e| Stop::error(e.to_string()))?;
    if let Value::Object(m) = &mut v {
        for k in control {
            m.remove(*k);
        }
    }
    scope.resolve(&v).map_err(|e| {
        Stop::error(format!(
            "{}: {}",
            crate::yaml::path_text(&e.path),
            e.message
        ))
    })
}

impl Exec<'_> {
    fn record(
        &mut self,
        step: &str,
        kind: &str,
        summary: String,
        status: StepStatus,
        link: Option<String>,
    ) {
        self.records.push(StepRecord {
            status,
            link,
            ..record_at(self.started, step, kind, summary)
        });
    }

    async fn launch(&mut self, launch: &Launch) -> Result<(), Stop> {
        let Some(command) = &launch.command else {
            return Ok(());
        };
        let (child, argv) = launch_iut(self.topo, &self.scope, launch, command).await?;
        self.record(
            "0",
            "launch",
            format!("IUT started: {argv}"),
            StepStatus::Ok,
            None,
        );
        self.iut = Some(child);
        Ok(())
    }

    fn iut_alive(&mut self) -> Result<(), Stop> {
        if let Some(child) = &mut self.iut {
            if let Ok(Some(st)) = child.try_wait() {
                return Err(Stop::error(format!(
                    "the IUT exited during the case ({st})"
                )));
            }
        }
        Ok(())
    }

    fn steps<'s>(
        &'s mut self,
        steps: &'s [Step],
        prefix: &'s str,
    ) -> futures::future::BoxFuture<'s, Result<(), Stop>> {
        Box::pin(async move {
            for (i, step) in steps.iter().enumerate() {
                let number = format!("{prefix}{}", i + 1);
                self.iut_alive()?;
                if !matches!(step, Step::Expect(_) | Step::ExpectNone(_)) {
                    self.since = self
                        .log
                        .frames
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .len();
                }
                let r = match step {
                    Step::Send(s) => self.send(s, &number).await,
                    Step::Expect(e) => self.expect(e, &number, false).await,
                    Step::ExpectNone(e) => self.expect(e, &number, true).await,
                    Step::Action(a) => self.action(a, &number).await,
                    Step::Wait(w) => {
                        let d = self
                            .scope
                            .resolve(&w.0)
                            .map_err(|e| Stop::error(e.message))
                            .and_then(|v| as_duration(&v).map_err(Stop::error))?;
                        tokio::time::sleep(d).await;
                        self.record(
                            &number,
                            "wait",
                            format!("waited {}", humantime::format_duration(d)),
                            StepStatus::Ok,
                            None,
                        );
                        Ok(())
                    }
                    Step::Repeat(r) => {
                        let count = self
                            .scope
                            .resolve(&r.count)
                            .ok()
                            .as_ref()
                            .and_then(as_i64)
                            .filter(|n| *n >= 0)
                            .ok_or_else(|| {
                                Stop::error(format!(
                                    "step {number}: repeat.count must be a number of times"
                                ))
                            })?;
                        for it in 0..count {
                            self.scope.set("i", json!(it));
                            self.steps(&r.steps, &format!("{number}.{}.", it + 1))
                                .await?;
                        }
                        Ok(())
                    }
                };
                if let Err(stop) = r {
                    // A repeat block's failing step has its own record.
                    if !matches!(step, Step::Repeat(_)) {
                        self.record(
                            &number,
                            step.kind(),
                            stop.reason.clone(),
                            StepStatus::Failed,
                            None,
                        );
                    }
                    return Err(stop);
                }
            }
            Ok(())
        })
    }

    fn link_of_send(&self, s: &SendStep) -> Result<(String, MacAddr), Stop> {
        let node =
            match &s.from {
                Some(n) => Some(self.nodes.node(n).ok_or_else(|| {
                    Stop::error(format!("send.from: no emulated node named {n:?}"))
                })?),
                None => None,
            };
        let link = match (&s.on, node) {
            (Some(l), _) => l.clone(),
            (None, Some(n)) => n.interfaces()[0].link().to_string(),
            (None, None) => return Err(Stop::error("send needs `from` (a node) or `on` (a link)")),
        };
        let idx = self
            .topo
            .link_index(&link)
            .map_err(|e| Stop::error(e.to_string()))?;
        let mac = match node {
            Some(n) => n.interface(&link).map(|i| i.mac()).ok_or_else(|| {
                Stop::error(format!("node {} has no interface on {link}", n.name()))
            })?,
            None => MacAddr(self.topo.links()[idx].tester_mac),
        };
        Ok((link, mac))
    }

    async fn send(&mut self, s: &SendStep, number: &str) -> Result<(), Stop> {
        let (link, src_mac) = self.link_of_send(s)?;
        let idx = self
            .topo
            .link_index(&link)
            .map_err(|e| Stop::error(e.to_string()))?;
        let desc = body(s, &["from", "on", "note"], &self.scope)?;
        let defaults = Defaults {
            src_mac,
            unicast_dst_mac: MacAddr(self.topo.links()[idx].iut_mac),
        };
        let built = frame_spec::build_with(&desc, &defaults, &mut self.sealer)
            .map_err(|e| Stop::error(format!("step {number}: cannot build the frame: {e}")))?;
        let bytes = built.bytes();
        let summary = s.note.clone().unwrap_or_else(|| summarize(&desc));
        let _ = self
            .topo
            .annotate(&link, &format!("step {number}: send {summary}"));
        let sent = if s.from.is_some() {
            self.nodes
                .send(&link, &bytes)
                .await
                .map_err(|e| e.to_string())
        } else {
            let sock = self
                .topo
                .tester_link(&link)
                .map_err(|e| Stop::error(e.to_string()))?;
            sock.send(&bytes).await.map_err(|e| e.to_string())
        };
        sent.map_err(|e| Stop::error(format!("step {number}: cannot send on {link}: {e}")))?;
        self.record(number, "send", summary, StepStatus::Ok, Some(link));
        Ok(())
    }

    async fn expect(&mut self, e: &ExpectStep, number: &str, none: bool) -> Result<(), Stop> {
        let kind = if none { "expect_none" } else { "expect" };
        let control = ["on", "within", "requirement", "on_timeout", "when", "note"];
        let pat = body(e, &control, &self.scope)?;
        // `when`: the frames this expectation judges (see ExpectStep::when).
        let when = match &e.when {
            Some(w) => Some(
                self.scope
                    .resolve(w)
                    .map_err(|x| Stop::error(format!("step {number}: when: {}", x.message)))?,
            ),
            None => None,
        };
        let mut judged: Option<(usize, Outcome)> = None;
        let within = match &e.within {
            Some(v) => self
                .scope
                .resolve(v)
                .map_err(|x| Stop::error(x.message))
                .and_then(|v| {
                    as_duration(&v).map_err(|m| Stop::error(format!("step {number}: within: {m}")))
                })?,
            None => self.timeout,
        };
        let link = match &e.on {
            Some(l) => Some(
                self.topo
                    .link_index(l)
                    .map_err(|x| Stop::error(x.to_string()))?,
            ),
            None => None,
        };
        let link_name = e.on.clone();
        let summary = e.note.clone().unwrap_or_else(|| summarize(&pat));
        if let Some(l) = &link_name {
            let _ = self
                .topo
                .annotate(l, &format!("step {number}: {kind} {summary}"));
        }
        let deadline = Instant::now() + within;
        let mut best: Option<(usize, Outcome)> = None;
        let mut scanned = self.since;
        let log = self.log.clone();
        loop {
            let notified = log.arrived.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            {
                let frames = log.frames.lock().unwrap_or_else(|p| p.into_inner());
                if self.claimed.len() < frames.len() {
                    self.claimed.resize(frames.len(), false);
                }
                for (ix, rx) in frames.iter().enumerate().skip(scanned) {
                    if self.claimed[ix] || link.is_some_and(|l| l != rx.link) {
                        continue;
                    }
                    let o = pattern::match_frame(&pat, &rx.view);
                    if o.matched() {
                        let at = rx.at;
                        let link_name = self.topo.links()[rx.link].name.clone();
                        let observed = summarize(&rx.view);
                        drop(frames);
                        if none {
                            let stop = Stop {
                                verdict: Verdict::Fail,
                                reason: format!(
                                    "step {number}: a frame matching {summary} arrived on {link_name} {} ms into the case, where none may",
                                    at.duration_since(self.started).as_millis()
                                ),
                                violated: e.requirement.clone(),
                                diff: vec![FieldDiff {
                                    field: "(frame)".into(),
                                    expected: format!("none matching {summary}"),
                                    observed,
                                }],
                            };
                            return Err(stop);
                        }
                        self.claimed[ix] = true;
                        for (name, v) in o.bindings {
                            self.scope.set(name, v);
                        }
                        self.record(number, kind, summary, StepStatus::Ok, Some(link_name));
                        return Ok(());
                    }
                    let in_scope = when
                        .as_ref()
                        .is_some_and(|w| pattern::match_frame(w, &rx.view).matched());
                    if in_scope && judged.as_ref().is_none_or(|(_, b)| o.held > b.held) {
                        judged = Some((ix, o.clone()));
                    }
                    if best.as_ref().is_none_or(|(_, b)| o.held > b.held) {
                        best = Some((ix, o));
                    }
                }
                scanned = frames.len();
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                break;
            }
        }
        if none {
            self.record(number, kind, summary, StepStatus::Ok, link_name);
            return Ok(());
        }
        let where_ = link_name
            .as_deref()
            .map(|l| format!(" on {l}"))
            .unwrap_or_default();
        let waited = humantime::format_duration(within);
        if let Some(w) = &when {
            // The judged frame is what a FAIL shows; without one, the
            // message itself never came: a precondition, not this rule.
            match judged {
                Some((_, o)) => {
                    return Err(Stop {
                        verdict: Verdict::Fail,
                        reason: format!("step {number}: no frame matching {summary} arrived{where_} within {waited}; the frame judged (matching `when`) differs as shown"),
                        violated: e.requirement.clone(),
                        diff: o.diffs,
                    });
                }
                None => {
                    return Err(Stop {
                        verdict: Verdict::Inconclusive,
                        reason: format!(
                            "step {number}: no frame matching `when` ({}) arrived{where_} within {waited}, so {summary} could not be judged",
                            summarize(w)
                        ),
                        violated: e.requirement.clone(),
                        diff: Vec::new(),
                    });
                }
            }
        }
        let (reason, diff) = match best {
            Some((_, o)) => (
                format!("step {number}: no frame matching {summary} arrived{where_} within {waited}; the closest differs as shown"),
                o.diffs,
            ),
            None => (
                format!("step {number}: no frame{where_} at all within {waited} (expected {summary})"),
                vec![FieldDiff {
                    field: "(frame)".into(),
                    expected: summary.clone(),
                    observed: "nothing".into(),
                }],
            ),
        };
        let verdict = match e.on_timeout.unwrap_or_default() {
            OnTimeout::Fail => Verdict::Fail,
            OnTimeout::Inconclusive => Verdict::Inconclusive,
        };
        Err(Stop {
            verdict,
            reason,
            violated: e.requirement.clone(),
            diff,
        })
    }

    async fn action(&mut self, a: &ActionStep, number: &str) -> Result<(), Stop> {
        let name = a.name();
        let Some(spec) = self.ctx.profile.profile.actions.get(name).cloned() else {
            return Err(Stop::inconclusive(format!(
                "step {number}: the case needs the action `{name}`, which the profile does not offer"
            )));
        };
        let mut scope = self.scope.clone();
        for (k, v) in a.args() {
            let v = self.scope.resolve(&v).map_err(|e| Stop::error(e.message))?;
            scope.set(format!("args.{k}"), v);
        }
        let what = format!("step {number}: action {name}");
        let argv = if spec.wait {
            run_command(
                self.topo,
                &scope,
                &what,
                &spec.command,
                spec.within.as_ref(),
            )
            .await?
        } else {
            let argv = argv_of(&scope, &what, &spec.command)?;
            let Some((prog, args)) = argv.split_first() else {
                return Err(Stop::error(format!("{what}: empty command")));
            };
            let mut cmd = std::process::Command::new(prog);
            cmd.args(args);
            let child = self
                .topo
                .spawn_iut(cmd)
                .map_err(|e| Stop::error(format!("{what}: cannot start `{prog}`: {e}")))?;
            // Runs on; killed when the case ends.
            self.background.push(child);
            argv.join(" ")
        };
        let summary = format!("action {name}: {argv}");
        self.record(number, "action", summary, StepStatus::Ok, None);
        Ok(())
    }
}

/// One line for a frame description or pattern: its layers and message.
pub fn summarize(desc: &Value) -> String {
    let mut parts = Vec::new();
    let mut cur = Some(desc);
    while let Some(Value::Object(m)) = cur {
        if let Some(ip) = m.get("ipv6").and_then(Value::as_object) {
            let src = ip.get("src").map(short).unwrap_or_else(|| "*".into());
            let dst = ip.get("dst").map(short).unwrap_or_else(|| "*".into());
            parts.push(format!("{src} -> {dst}"));
        }
        if let Some(sa) = m.get("esp").and_then(|e| e.get("sa")) {
            parts.push(format!("ESP({})", short(sa)));
        }
        for key in ["icmpv6", "mh"] {
            if let Some(Value::Object(msg)) = m.get(key) {
                if let Some(k) = msg.keys().find(|k| {
                    ![
                        "code",
                        "checksum",
                        "options",
                        "header_len",
                        "payload_proto",
                        "reserved",
                    ]
                    .contains(&k.as_str())
                }) {
                    parts.push(k.clone());
                }
            }
        }
        if m.contains_key("routing") {
            parts.push("RH".into());
        }
        cur = m.get("tunnel");
        if cur.is_some() {
            parts.push("tunnelling".into());
        }
    }
    if parts.is_empty() {
        "a frame".into()
    } else {
        parts.join(" ")
    }
}

fn short(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Object(_) => pattern::describe(v),
        other => other.to_string(),
    }
}
