//! Running many cases: in parallel, each in its own topology, results in
//! the order of the case list whatever order they finish in.

use std::sync::Arc;

use tokio::sync::Semaphore;

use super::{run_case, Context};
use crate::case::LoadedCase;
use crate::verdict::CaseResult;

/// How to run.
#[derive(Clone, Copy, Debug)]
pub struct RunOptions {
    /// Cases at once (at least 1).
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
            let r = run_case(&lc, &ctx).await;
            let _ = tx.send((i, r));
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
