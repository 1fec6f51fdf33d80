//! What a check keeps across runs: its latest result, the run in flight, the threshold counters
//! and its background task. Shared by every clone of the check.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime};

use futures_util::future::{BoxFuture, Shared};
use tokio::task::AbortHandle;
// Tokio's clock, like the timeouts and intervals: tests that pause and advance it see results go
// stale (it is the system's monotonic clock otherwise).
use tokio::time::Instant;

use super::history::{Entry, History};
use super::report::RunEnd;
use super::result::CheckResult;
use super::stats::RunStats;
use super::status::Status;
use super::thresholds::{Counters, Thresholds};

/// One finished run of a check: its result as reported (thresholds applied), and when and how
/// it ran.
#[derive(Debug)]
pub(crate) struct FinishedRun {
    pub(crate) result: CheckResult,
    pub(crate) time: SystemTime,
    finished: Instant,
    pub(crate) duration: Duration,
    pub(crate) end: RunEnd,
}

impl FinishedRun {
    pub(crate) fn new(
        result: CheckResult,
        time: SystemTime,
        duration: Duration,
        end: RunEnd,
    ) -> Self {
        FinishedRun {
            result,
            time,
            finished: Instant::now(),
            duration,
            end,
        }
    }

    /// What the result adds to an aggregate: a non-critical failure only warns.
    pub(crate) fn contribution(&self, critical: bool) -> Status {
        match self.result.status {
            Status::Fail if !critical => Status::Warn,
            status => status,
        }
    }

    /// Until when the result is fresh for `ttl`.
    pub(crate) fn fresh_until(&self, ttl: Duration) -> Instant {
        self.finished + ttl
    }

    /// Whether the result is younger than `ttl` at `now` (a result finished after `now` is).
    pub(crate) fn fresh_at(&self, now: Instant, ttl: Duration) -> bool {
        now.saturating_duration_since(self.finished) < ttl
    }
}

/// A run in flight, awaited by every requester that wants it (single-flight).
pub(crate) type SharedRun = Shared<BoxFuture<'static, Arc<FinishedRun>>>;

/// The run of a check under way.
pub(crate) enum Flight {
    /// A requester polls a new run for the first time: a moment, never across an await.
    Starting,
    /// A run that waits, in a task of its own.
    Shared(SharedRun),
}

/// See the [module docs](self).
#[derive(Default)]
pub(crate) struct CheckState {
    inner: Mutex<Inner>,
    /// The runs' counts, outside the lock.
    pub(crate) stats: RunStats,
}

#[derive(Default)]
pub(crate) struct Inner {
    pub(crate) latest: Option<Arc<FinishedRun>>,
    pub(crate) in_flight: Option<Flight>,
    counters: Counters,
    pub(crate) task: Option<AbortHandle>,
    pub(crate) history: History,
}

impl CheckState {
    pub(crate) fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn latest(&self) -> Option<Arc<FinishedRun>> {
        self.lock().latest.clone()
    }

    /// Applies `thresholds` to a run that just ended and keeps it as the latest result, and in
    /// the history when it keeps `history` results (0: no history).
    pub(crate) fn store(
        &self,
        thresholds: &Thresholds,
        raw: FinishedRun,
        history: usize,
    ) -> Arc<FinishedRun> {
        let mut inner = self.lock();
        let result = inner.counters.apply(thresholds, raw.result, raw.finished);
        let run = Arc::new(FinishedRun { result, ..raw });
        if history > 0 {
            inner.history.record(
                history,
                Entry {
                    status: run.result.status,
                    time: run.time,
                    duration: run.duration,
                    message: run.result.message.as_deref().map(Box::from),
                },
            );
        }
        inner.latest = Some(run.clone());
        inner.in_flight = None;
        run
    }

    /// Whether the background task runs.
    pub(crate) fn has_task(&self) -> bool {
        self.lock()
            .task
            .as_ref()
            .is_some_and(|task| !task.is_finished())
    }
}

impl Drop for CheckState {
    fn drop(&mut self) {
        if let Some(task) = self.lock().task.take() {
            task.abort();
        }
    }
}
