//! What a case costs beyond its own protocol timers, and how much running
//! cases in parallel saves (issue [3], "Performance"). Needs root.
//!
//! `cargo bench -p hmip6spec --bench engine` prints:
//! - the per-case overhead (topology build, emulated nodes, IUT launch to
//!   ready, teardown) of a case whose only step sends one frame, for the
//!   kernel as IUT and for a launched IUT process: the latency of a run of
//!   that one case (teardown included), median of 30; and the cost per case
//!   in a run of 20 such cases at -j1 (where a case's teardown overlaps the
//!   next one's build), median of 5 runs;
//! - the wall time of the whole case corpus against profiles/linux-host.yaml
//!   at -j1 and at the default -j (twice the number of CPUs), median of 5 runs
//!   (the speed-up is bounded by the corpus's longest case, whose time is
//!   protocol timers), and the same for the twenty one-frame cases.
//!
//! A plain binary (harness = false), not criterion: one iteration is a
//! whole topology, and the numbers wanted are medians of wall times.

use std::time::{Duration, Instant};

use hmip6spec::case::LoadedCase;
use hmip6spec::engine::{run_cases, RunOptions};
use hmip6spec::verdict::Verdict;

// The engine tests' helpers: the repository's suite and the Linux-host
// profile with edits.
#[path = "../tests/common/engine.rs"]
#[allow(dead_code)]
mod common;
use common::{context, linux_host, suite, with_command};

/// A case whose one step sends an echo request: everything else it costs is
/// overhead.
const TRIVIAL_CASE: &str = r#"
id: host.bench.trivial
title: one frame, to measure the engine's overhead
requirements: [RFC4861-6.1.2-RA-IGNORE-UNRECOGNIZED]
role: host
topology:
  links: [access]
  nodes:
    ar: {link: access, router: true}
steps:
  - send:
      from: ar
      ipv6: {src: "{node.ar.link_local}", dst: "ff02::1"}
      icmpv6: {echo_request: {ident: 1, seq: 1}}
"#;

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

/// The median wall time of 5 runs of `cases` at `-j jobs`; every case must
/// pass.
fn median_wall(
    rt: &tokio::runtime::Runtime,
    cases: &[LoadedCase],
    ctx: &std::sync::Arc<hmip6spec::engine::Context>,
    jobs: usize,
) -> Duration {
    let mut times = Vec::new();
    for _ in 0..5 {
        let t = Instant::now();
        let rs = rt.block_on(run_cases(
            cases.to_vec(),
            ctx.clone(),
            RunOptions { jobs },
            |_| {},
        ));
        times.push(t.elapsed());
        assert!(rs.iter().all(|r| r.verdict == Verdict::Pass), "{rs:?}");
    }
    median(times)
}

fn main() {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        eprintln!("engine bench: skipped: needs root (network namespaces)");
        return;
    }
    let suite = suite();
    let tmp = tempfile::tempdir().unwrap();
    let case_path = tmp.path().join("host/trivial.yaml");
    std::fs::create_dir_all(case_path.parent().unwrap()).unwrap();
    std::fs::write(&case_path, TRIVIAL_CASE).unwrap();
    let trivial: LoadedCase = hmip6spec::case::load(&case_path).unwrap();
    // Twenty copies under their own IDs (one capture each).
    let twenty: Vec<LoadedCase> = (0..20)
        .map(|i| {
            let mut c = trivial.clone();
            c.case.id = format!("host.bench.trivial-{i:02}");
            c
        })
        .collect();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();

    let kernel = context(
        &suite,
        linux_host(&suite, tmp.path(), "kernel", |t| t),
        tmp.path(),
    );
    let launched = context(
        &suite,
        linux_host(
            &suite,
            tmp.path(),
            "launched",
            with_command("echo ready; exec sleep 600", "{stdout_line: ready}"),
        ),
        tmp.path(),
    );
    for (what, ctx) in [("kernel IUT", &kernel), ("launched IUT", &launched)] {
        let mut times = Vec::new();
        // Warm-up, then measured runs.
        for i in 0..35 {
            let t = Instant::now();
            let r = rt.block_on(run_cases(
                vec![trivial.clone()],
                ctx.clone(),
                RunOptions { jobs: 1 },
                |_| {},
            ));
            let d = t.elapsed();
            assert_eq!(r[0].verdict, Verdict::Pass, "{}", r[0].reason);
            if i >= 5 {
                times.push(d);
            }
        }
        let m = median(times.clone());
        let max = times.iter().max().copied().unwrap_or_default();
        println!(
            "per-case overhead, {what}, a run of one case: median {:.1} ms (max {:.1} ms, 30 runs)",
            m.as_secs_f64() * 1e3,
            max.as_secs_f64() * 1e3
        );
        let per_case = median_wall(&rt, &twenty, ctx, 1) / twenty.len() as u32;
        println!(
            "per-case overhead, {what}, in a run of {} cases at -j1: median {:.1} ms per case (5 runs)",
            twenty.len(),
            per_case.as_secs_f64() * 1e3
        );
    }

    let cases: Vec<LoadedCase> = suite
        .cases
        .iter()
        .filter(|c| c.case.roles.contains(hmip6spec::requirements::Role::Host))
        .cloned()
        .collect();
    let default = hmip6spec::engine::default_jobs();
    let cpus = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    let mut walls = Vec::new();
    for jobs in [1, default] {
        let m = median_wall(&rt, &cases, &kernel, jobs);
        println!(
            "corpus ({} cases) at -j{jobs}: median wall time {:.2} s (5 runs)",
            cases.len(),
            m.as_secs_f64()
        );
        walls.push(m);
    }
    println!(
        "speed-up of the default -j{default} over -j1: {:.2}x (bounded by the longest case)",
        walls[0].as_secs_f64() / walls[1].as_secs_f64()
    );
    // The engine's own parallelism, without protocol timers: the twenty
    // one-frame cases.
    let walls: Vec<Duration> = [1, cpus, default]
        .into_iter()
        .map(|jobs| median_wall(&rt, &twenty, &kernel, jobs))
        .collect();
    println!(
        "{} one-frame cases: -j1 {:.0} ms, -j{cpus} {:.0} ms: {:.2}x",
        twenty.len(),
        walls[0].as_secs_f64() * 1e3,
        walls[1].as_secs_f64() * 1e3,
        walls[0].as_secs_f64() / walls[1].as_secs_f64()
    );
    println!(
        "{} one-frame cases at the default -j{}: {:.0} ms: {:.2}x",
        twenty.len(),
        default,
        walls[2].as_secs_f64() * 1e3,
        walls[0].as_secs_f64() / walls[2].as_secs_f64()
    );
}
