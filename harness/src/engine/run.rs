//! Running many cases: in parallel, each in its own topology, results in
//! the order of the case list whatever order they finish in; or, when the
//! cases share an IUT (`restart: per-run`, `attach`), one at a time in case
//! order whatever `jobs` says.

use std::sync::Arc;

use tokio::sync::Semaphore;

use super::{run_case, run_case_parts, session, teardown, Context, Mode};
use crate::case::LoadedCase;
use crate::verdict::CaseResult;

/// The default number of cases at once: twice the CPUs. A case spends
/// most of its time waiting (RCU grace periods when sockets close, links
/// coming up, the IUT's timers), not computing, so two per CPU keep the
/// CPUs busy: on 2 CPUs, twenty one-frame cases take 1.54x less time than
/// one at a time with -j2 and 2.08x less with -j4
/// (`cargo bench -p hmip6spec --bench engine`).
pub fn default_jobs() -> usize {
    2 * std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
}

/// How to run.
#[derive(Clone, Copy, Debug)]
pub struct RunOptions {
    /// Cases at once (at least 1); ignored when the profile's [`Mode`] is
    /// serial.
    pub jobs: usize,
}

/// Runs `cases`, at most `jobs` at once; `on_done` sees each result as it
/// comes (for progress output). Returns the results in case order.
pub async fn run_cases(
    cases: Vec<LoadedCase>,
    ctx: Arc<Context>,
    opts: RunOptions,
    mut on_done: impl FnMut(&CaseResult),
) -> Vec<CaseResult> {
    match Mode::of(&ctx.profile.profile) {
        Some(Mode::PerRun) => return session::run_per_run(&cases, &ctx, on_done).await,
        Some(Mode::Attach) => {
            let mut out = Vec::with_capacity(cases.len());
            for lc in &cases {
                let r = run_case(lc, &ctx).await;
                on_done(&r);
                out.push(r);
            }
            return out;
        }
        Some(Mode::PerCase) | None => {}
    }
    let jobs = opts.jobs.max(1);
    let gate = Arc::new(Semaphore::new(jobs));
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<(usize, CaseResult)>();
    let n = cases.len();
    for (i, lc) in cases.into_iter().enumerate() {
        let gate = gate.clone();
        let ctx = ctx.clone();
        let tx = tx.clone();
        tokio::spawn(async move {
            let Ok(_permit) = gate.acquire_owned().await else {
                return;
            };
            let (r, topology) = run_case_parts(&lc, &ctx).await;
            // The verdict is known and the capture complete: report, and
            // let the next case build while this one's teardown runs. The
            // task (and with it `tx`) ends only after the teardown, so the
            // run returns when every topology is gone.
            let _ = tx.send((i, r));
            drop(_permit);
            if let Some(t) = topology {
                teardown(t).await;
            }
        });
    }
    drop(tx);
    let mut out: Vec<Option<CaseResult>> = (0..n).map(|_| None).collect();
    while let Some((i, r)) = rx.recv().await {
        on_done(&r);
        out[i] = Some(r);
    }
    out.into_iter().flatten().collect()
}
