//! The engine: runs one case against the IUT of a profile and gives its
//! verdict (DESIGN.md, "Verdicts", "Time", "Evidence"). It has no per-case
//! code: everything a case does is in its file.
//!
//! For each case: a fresh topology (its own namespaces, links and capture),
//! the emulated nodes started, the IUT launched and waited for, one receiver
//! per link logging every frame the IUT sends, then the steps in order.
//! Every wait is event-driven with a deadline (a frame arriving, the IUT's
//! ready line, a process exiting); the only sleeps are `wait` steps.
//!
//! Expectations look at the frames logged since the last step that was not
//! an expectation began (so a reply that beats the engine to its `expect` is
//! not missed), skipping frames an earlier `expect` already claimed.

mod run;

pub use run::{run_cases, RunOptions};

use std::collections::BTreeMap;
use std::net::Ipv6Addr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{json, Value};
use tokio::sync::Notify;
use tokio::time::Instant;
use wire::frame::Frame as WireFrame;
use wire::MacAddr;

use crate::case::frame_spec::{self, Defaults};
use crate::case::pattern::{self, Outcome};
use crate::case::template::{as_duration, as_i64, Scope};
use crate::case::{ActionStep, Case, ExpectStep, LoadedCase, OnTimeout, SendStep, Step};
use crate::profile::{LoadedProfile, ParameterCatalogue};
use crate::requirements::{Catalogue, Level};
use crate::topology::node::{eui64_address, link_local, NodeSpec};
use crate::topology::{LinkSpec, Nodes, NsChild, Stream, Topology, TopologySpec};
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
    if case.role != p.role {
        return Err(format!(
            "the case tests a {}, the IUT is a {}",
            case.role, p.role
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
    timeout: Duration,
}

/// Runs one case: applicability, topology, IUT, steps, teardown.
pub async fn run_case(lc: &LoadedCase, ctx: &Context) -> CaseResult {
    let started = Instant::now();
    let case = &lc.case;
    let mut result = CaseResult {
        id: case.id.clone(),
        title: case.title.clone(),
        role: case.role,
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
    };
    if let Err(why) = applicability(case, &ctx.profile) {
        result.verdict = Verdict::NotApplicable;
        result.reason = why;
        return result;
    }
    if ctx.profile.profile.launch.is_none() {
        result.verdict = Verdict::Error;
        result.reason = if ctx.profile.profile.attach.is_some() {
            "attached IUTs are not supported yet: give the profile a `launch` section".into()
        } else {
            "the profile has neither `launch` nor `attach`".into()
        };
        return result;
    }
    let capture = ctx.captures_dir.join(format!("{}.pcapng", case.id));
    match run_in_topology(lc, ctx, &capture, started).await {
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
                            .filter(|r| r.status == StepStatus::Ok)
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
                            .or_else(|| case.requirements.first().cloned())
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
                result.capture = Some(capture);
            }
        }
        Err(e) => {
            result.verdict = Verdict::Error;
            result.reason = e;
        }
    }
    result.duration_ms = started.elapsed().as_millis() as u64;
    result
}

type StepsOutcome = (Option<Stop>, Vec<StepRecord>, Option<String>);

async fn run_in_topology(
    lc: &LoadedCase,
    ctx: &Context,
    capture: &Path,
    started: Instant,
) -> Result<StepsOutcome, String> {
    let case = &lc.case;
    let launch = ctx.profile.profile.launch.as_ref().ok_or("no launch")?;
    let mut scope = base_scope(&ctx.profile, &ctx.parameters);
    scope.set("case.id", json!(case.id));
    let mut links = Vec::new();
    for l in &case.topology.links {
        let mut spec = LinkSpec::new(l.name()).iut_kernel_ipv6(launch.kernel_ipv6);
        if let Some(mtu) = l.mtu() {
            spec = spec.mtu(mtu);
        }
        for (k, v) in &launch.sysctls {
            let v = match v {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            spec = spec.iut_sysctl(k, &v);
        }
        links.push(spec);
    }
    let topo = Topology::build(TopologySpec {
        links,
        seed: seed_of(&case.id),
        capture: Some(capture.to_path_buf()),
    })
    .await
    .map_err(|e| format!("cannot build the topology: {e}"))?;
    for l in topo.links() {
        let mac = MacAddr(l.iut_mac);
        scope.set(format!("iut.{}.mac", l.name), json!(mac.to_string()));
        scope.set(
            format!("iut.{}.link_local", l.name),
            json!(link_local(mac).to_string()),
        );
        scope.set(format!("if.{}", l.name), json!(l.name));
    }
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

    let log = Arc::new(RxLog::default());
    let mut receivers = Vec::new();
    for (i, l) in topo.links().iter().enumerate() {
        let sock = topo.tester_link(&l.name).map_err(|e| e.to_string())?;
        let log = log.clone();
        receivers.push(tokio::spawn(async move {
            while let Ok(f) = sock.recv().await {
                let decoded = WireFrame::decode(&f.bytes);
                let findings: Vec<String> = decoded
                    .findings
                    .iter()
                    .map(|x| x.rule.to_string())
                    .collect();
                let view = frame_spec::view(&decoded.frame, &findings);
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
        topo: &topo,
        nodes: &nodes,
        log: log.clone(),
        scope,
        since: 0,
        claimed: Vec::new(),
        records: Vec::new(),
        started,
        iut: None,
        timeout,
    };
    let mut stop = exec.launch(launch).await.err();
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
        let _ = child.kill();
        let err = child.stderr();
        if !err.is_empty() && stop.as_ref().is_some_and(|s| s.verdict == Verdict::Error) {
            stderr = Some(tail(&err));
        }
    }
    let records = std::mem::take(&mut exec.records);
    drop(exec);
    for r in receivers {
        r.abort();
    }
    nodes.shutdown().await;
    topo.close().map_err(|e| format!("teardown: {e}"))?;
    Ok((stop, records, stderr))
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
    fn at_ms(&self) -> u64 {
        self.started.elapsed().as_millis() as u64
    }

    fn record(
        &mut self,
        step: &str,
        kind: &str,
        summary: String,
        status: StepStatus,
        link: Option<String>,
    ) {
        let at_ms = self.at_ms();
        self.records.push(StepRecord {
            step: step.to_string(),
            kind: kind.to_string(),
            summary,
            status,
            at_ms,
            link,
            frame: None,
        });
    }

    async fn launch(&mut self, launch: &crate::profile::Launch) -> Result<(), Stop> {
        let Some(command) = &launch.command else {
            return Ok(());
        };
        let argv: Vec<String> = command
            .iter()
            .map(|a| self.text(a))
            .collect::<Result<_, _>>()?;
        let Some((prog, args)) = argv.split_first() else {
            return Err(Stop::error("launch.command is empty"));
        };
        let mut cmd = std::process::Command::new(prog);
        cmd.args(args);
        for (k, v) in &launch.env {
            cmd.env(k, self.text(v)?);
        }
        let child = self
            .topo
            .spawn_iut(cmd)
            .map_err(|e| Stop::error(format!("cannot start the IUT `{prog}`: {e}")))?;
        let within = match &launch.ready.within {
            Some(v) => as_duration(&self.scope.resolve(v).unwrap_or(v.clone()))
                .map_err(|e| Stop::error(format!("launch.ready.within: {e}")))?,
            None => DEFAULT_READY,
        };
        let deadline = Instant::now() + within;
        let wanted = match (&launch.ready.stdout_line, &launch.ready.stderr_line) {
            (Some(t), _) => Some((Stream::Stdout, t.clone())),
            (None, Some(t)) => Some((Stream::Stderr, t.clone())),
            (None, None) => None,
        };
        let mut child = child;
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
        self.record(
            "0",
            "launch",
            format!("IUT started: {}", argv.join(" ")),
            StepStatus::Ok,
            None,
        );
        self.iut = Some(child);
        Ok(())
    }

    fn text(&self, s: &str) -> Result<String, Stop> {
        match self.scope.resolve(&Value::String(s.to_string())) {
            Ok(Value::String(t)) => Ok(t),
            Ok(other) => Ok(other.to_string()),
            Err(e) => Err(Stop::error(format!("{s:?}: {}", e.message))),
        }
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
                    let kind = step.kind();
                    let status = StepStatus::Failed;
                    self.record(&number, kind, stop.reason.clone(), status, None);
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
        let built = frame_spec::build(&desc, &defaults)
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
        let control = ["on", "within", "requirement", "on_timeout", "note"];
        let pat = body(e, &control, &self.scope)?;
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
                        drop(frames);
                        if none {
                            let stop = Stop {
                                verdict: Verdict::Fail,
                                reason: format!(
                                    "step {number}: a frame matching {summary} arrived on {link_name} {} ms into the case, where none may",
                                    at.duration_since(self.started).as_millis()
                                ),
                                violated: e.requirement.clone(),
                                diff: Vec::new(),
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
        let argv: Vec<String> = spec
            .command
            .iter()
            .map(|s| match scope.resolve(&Value::String(s.clone())) {
                Ok(Value::String(t)) => Ok(t),
                Ok(other) => Ok(other.to_string()),
                Err(e) => Err(Stop::error(format!("action {name}: {}", e.message))),
            })
            .collect::<Result<_, _>>()?;
        let Some((prog, args)) = argv.split_first() else {
            return Err(Stop::error(format!("action {name}: empty command")));
        };
        let mut cmd = std::process::Command::new(prog);
        cmd.args(args);
        let mut child = self
            .topo
            .spawn_iut(cmd)
            .map_err(|e| Stop::error(format!("action {name}: cannot start `{prog}`: {e}")))?;
        let summary = format!("action {name}: {}", argv.join(" "));
        if spec.wait {
            let within = match &spec.within {
                Some(v) => as_duration(v)
                    .map_err(|e| Stop::error(format!("action {name}: within: {e}")))?,
                None => DEFAULT_READY,
            };
            match child.wait_until(Instant::now() + within).await {
                Ok(Some(st)) if st.success() => {}
                Ok(Some(st)) => {
                    return Err(Stop::error(format!(
                        "step {number}: action {name} failed ({st}): {}",
                        tail(&child.stderr()).trim_end()
                    )))
                }
                Ok(None) => {
                    let _ = child.kill();
                    return Err(Stop::error(format!(
                        "step {number}: action {name} did not finish within {}",
                        humantime::format_duration(within)
                    )));
                }
                Err(e) => return Err(Stop::error(format!("action {name}: {e}"))),
            }
        } else {
            // Runs on; killed with the topology.
            std::mem::forget(child);
        }
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

/// The EUI-64 address the IUT forms from `prefix` on `link` (a kernel IUT
/// with `addr_gen_mode` 0): handy for cases and tests.
pub fn iut_eui64(topo: &Topology, link: usize, prefix: Ipv6Addr) -> Ipv6Addr {
    eui64_address(prefix, MacAddr(topo.links()[link].iut_mac))
}

/// Requirement IDs a set of results cites, with the worst verdict each got.
pub fn by_requirement(results: &[CaseResult]) -> BTreeMap<String, Verdict> {
    let mut m: BTreeMap<String, Verdict> = BTreeMap::new();
    for r in results {
        for id in &r.requirements {
            let e = m.entry(id.clone()).or_insert(r.verdict);
            *e = e.worst(r.verdict);
        }
    }
    m
}
