//! `Watch`: one stream per watcher, woken by recorded changes, state changes and shared
//! re-evaluation rounds.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use futures_util::future::join_all;
use tokio::sync::watch;
use tokio::time::{Instant, MissedTickBehavior};
use tonic_health::pb::health_check_response::ServingStatus;

use super::{GrpcHealth, status_of};
use crate::health::{Health, Lifecycle, Status, Subject};

/// The re-evaluation rounds shared by the `Watch` streams of one [`GrpcHealth`].
#[derive(Default)]
pub(super) struct Rounds {
    /// The services open streams watch, with how many streams watch each.
    watched: Mutex<HashMap<Subject, usize>>,
    /// When the last round started; held while a round runs, so concurrent callers wait for it.
    last: tokio::sync::Mutex<Option<Instant>>,
    /// What the last round found for each watched service, for the streams it wakes.
    found: Mutex<HashMap<Subject, Option<ServingStatus>>>,
    /// Bumped after each round, to wake streams whose service changed without a recorded change
    /// (a check registered or removed).
    done: watch::Sender<u64>,
    /// The streams open, whatever they watch.
    open: AtomicUsize,
}

impl Rounds {
    /// Counts one more stream watching `subject`, unless `max` are open already.
    pub(super) fn watch(self: &Arc<Self>, subject: &Subject, max: usize) -> Option<Watching> {
        let admitted = self
            .open
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |open| {
                (open < max).then_some(open + 1)
            })
            .is_ok();
        if !admitted {
            return None;
        }
        *self.lock().entry(subject.clone()).or_default() += 1;
        Some(Watching {
            rounds: self.clone(),
            subject: subject.clone(),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Subject, usize>> {
        self.watched.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Re-evaluates every watched service, unless a round started at or after `since`, or the
    /// service is shutting down (when every status is known without running anything).
    async fn run(&self, health: &Health, since: Option<Instant>) {
        if health.lifecycle() == Lifecycle::ShuttingDown {
            return;
        }
        let mut last = self.last.lock().await;
        if let (Some(last), Some(since)) = (*last, since) {
            if last >= since {
                return;
            }
        }
        *last = Some(Instant::now());
        let services: Vec<Subject> = self.lock().keys().cloned().collect();
        let found = join_all(
            services
                .into_iter()
                .map(|service| async move { (status_of(health, &service).await, service) }),
        )
        .await;
        *self.found.lock().unwrap_or_else(|e| e.into_inner()) = found
            .into_iter()
            .map(|(status, service)| (service, status))
            .collect();
        self.done
            .send_modify(|round| *round = round.wrapping_add(1));
    }
}

/// Counts one stream as open and watching its service while it lives.
pub(super) struct Watching {
    rounds: Arc<Rounds>,
    subject: Subject,
}

impl Drop for Watching {
    fn drop(&mut self) {
        self.rounds.open.fetch_sub(1, Ordering::AcqRel);
        let mut watched = self.rounds.lock();
        if let Some(count) = watched.get_mut(&self.subject) {
            *count -= 1;
            if *count == 0 {
                watched.remove(&self.subject);
            }
        }
    }
}

/// One `Watch` stream: sends the current status, then each change, until shutdown.
pub(super) struct Watcher {
    grpc: GrpcHealth,
    subject: Subject,
    recorded: watch::Receiver<Option<Status>>,
    state: watch::Receiver<Lifecycle>,
    rounds: watch::Receiver<u64>,
    /// Woken by or after a round, which has evaluated the service already.
    after_round: bool,
    ticks: tokio::time::Interval,
    sent: Option<ServingStatus>,
    done: bool,
    _watching: Watching,
}

impl Watcher {
    pub(super) fn new(grpc: GrpcHealth, subject: Subject, watching: Watching) -> Self {
        // Subscribed before the first evaluation, so no change after it is missed.
        let recorded = grpc.health.watch(subject.clone());
        let state = grpc.health.watch_lifecycle();
        let rounds = grpc.rounds.done.subscribe();
        let mut ticks = tokio::time::interval_at(Instant::now() + grpc.interval, grpc.interval);
        ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
        Watcher {
            grpc,
            subject,
            recorded,
            state,
            rounds,
            after_round: false,
            ticks,
            sent: None,
            done: false,
            _watching: watching,
        }
    }

    /// The next status to send; `None` ends the stream.
    pub(super) async fn next(&mut self) -> Option<ServingStatus> {
        loop {
            if self.done {
                return None;
            }
            let current = self.current().await;
            if current == ServingStatus::NotServing && self.shutting_down() {
                self.done = true;
            }
            if self.sent != Some(current) {
                self.sent = Some(current);
                return Some(current);
            }
            if !self.done {
                self.wait().await;
            }
        }
    }

    fn shutting_down(&mut self) -> bool {
        *self.state.borrow_and_update() == Lifecycle::ShuttingDown
    }

    /// The status to report now, evaluated as `Check` evaluates it: a recorded change only says
    /// when to look again, not what to send.
    async fn current(&mut self) -> ServingStatus {
        if self.shutting_down() {
            return ServingStatus::NotServing;
        }
        let found = std::mem::take(&mut self.after_round)
            .then(|| {
                let found = self.grpc.rounds.found.lock();
                found
                    .unwrap_or_else(|e| e.into_inner())
                    .get(&self.subject)
                    .copied()
            })
            .flatten();
        let status = match found {
            Some(status) => status,
            None => self.grpc.status(&self.subject).await,
        };
        // Marked seen after evaluating: a change this evaluation recorded itself (a check run
        // again when it is not cached) must not wake the stream into evaluating again.
        self.recorded.borrow_and_update();
        status.unwrap_or(ServingStatus::ServiceUnknown)
    }

    /// Waits until something may have changed the status.
    async fn wait(&mut self) {
        let health = &self.grpc.health;
        let rounds = &self.grpc.rounds;
        tokio::select! {
            changed = self.recorded.changed() => self.done |= changed.is_err(),
            changed = self.state.changed() => match changed {
                // A state change moves the gates: re-evaluate now (once for all streams).
                Ok(()) => {
                    rounds.run(health, Some(Instant::now())).await;
                    self.after_round = true;
                }
                Err(_) => self.done = true,
            },
            changed = self.rounds.changed() => match changed {
                Ok(()) => self.after_round = true,
                Err(_) => self.done = true,
            },
            _ = self.ticks.tick() => {
                // Skipped when another stream's round ran within most of the interval.
                let since = Instant::now().checked_sub(self.grpc.interval * 3 / 4);
                rounds.run(health, since).await;
                self.after_round = true;
            }
        }
    }
}
