//! Each check's recent history, kept once the application asks for it
//! ([`Health::keep_history`](crate::Health::keep_history)): its last results in a ring of a set
//! length, and counts since the history was turned on. Recorded when a run ends, under the
//! check's lock; reading it runs nothing. With the history off, nothing is recorded or allocated.

use std::collections::VecDeque;
use std::time::{Duration, SystemTime};

use super::status::Status;

/// How many results a check keeps when the history is turned on without a length.
pub(crate) const DEFAULT_LEN: usize = 60;

/// One finished run as the history keeps it.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Entry {
    /// The check's own status (thresholds applied; a non-critical failure is still `fail`).
    pub(crate) status: Status,
    pub(crate) time: SystemTime,
    pub(crate) duration: Duration,
    pub(crate) message: Option<Box<str>>,
}

/// See the [module docs](self).
#[derive(Clone, Debug, Default)]
pub(crate) struct History {
    /// Oldest first; at most the history's length.
    entries: VecDeque<Entry>,
    /// Runs recorded.
    pub(crate) runs: u64,
    /// How often the status changed from one run to the next: a flapping check has many.
    pub(crate) transitions: u64,
    /// When the current status began.
    pub(crate) since: Option<SystemTime>,
    pub(crate) last_pass: Option<SystemTime>,
    pub(crate) last_fail: Option<SystemTime>,
}

impl History {
    /// Adds `entry`, keeping the last `len` (at least one).
    pub(crate) fn record(&mut self, len: usize, entry: Entry) {
        let len = len.max(1);
        match self.status() {
            Some(last) if last == entry.status => {}
            Some(_) => {
                self.transitions += 1;
                self.since = Some(entry.time);
            }
            None => self.since = Some(entry.time),
        }
        match entry.status {
            Status::Pass => self.last_pass = Some(entry.time),
            Status::Fail => self.last_fail = Some(entry.time),
            Status::Warn => {}
        }
        self.runs += 1;
        while self.entries.len() >= len {
            self.entries.pop_front();
        }
        if self.entries.capacity() == 0 {
            // One allocation for the ring's life: it never grows past `len`.
            self.entries.reserve_exact(len);
        }
        self.entries.push_back(entry);
    }

    /// The status of the latest run.
    pub(crate) fn status(&self) -> Option<Status> {
        self.entries.back().map(|entry| entry.status)
    }

    /// The results kept, oldest first.
    pub(crate) fn entries(&self) -> impl ExactSizeIterator<Item = &Entry> {
        self.entries.iter()
    }

    /// The message of the latest failure still kept.
    pub(crate) fn last_failure_message(&self) -> Option<&str> {
        self.entries
            .iter()
            .rev()
            .find(|entry| entry.status == Status::Fail)
            .and_then(|entry| entry.message.as_deref())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(seconds: u64, status: Status) -> Entry {
        Entry {
            status,
            time: SystemTime::UNIX_EPOCH + Duration::from_secs(seconds),
            duration: Duration::from_millis(seconds),
            message: (status != Status::Pass).then(|| format!("run {seconds}").into()),
        }
    }

    #[test]
    fn the_ring_keeps_the_last_results_and_counts_all_runs() {
        let mut history = History::default();
        for second in 0..10 {
            history.record(4, at(second, Status::Pass));
        }
        let kept: Vec<u64> = history
            .entries()
            .map(|entry| entry.duration.as_millis() as u64)
            .collect();
        assert_eq!(kept, [6, 7, 8, 9]);
        assert_eq!(history.runs, 10);
        assert_eq!(
            history.entries.capacity(),
            4,
            "allocated once, to the length"
        );
        // A shorter length takes effect at the next run.
        history.record(2, at(10, Status::Pass));
        assert_eq!(history.entries().len(), 2);
    }

    #[test]
    fn transitions_since_and_last_times_follow_the_status() {
        let mut history = History::default();
        let statuses = [
            Status::Pass,
            Status::Pass,
            Status::Fail,
            Status::Pass,
            Status::Warn,
            Status::Warn,
        ];
        for (second, status) in statuses.into_iter().enumerate() {
            history.record(DEFAULT_LEN, at(second as u64, status));
        }
        assert_eq!(history.transitions, 3);
        let time = |seconds| Some(SystemTime::UNIX_EPOCH + Duration::from_secs(seconds));
        assert_eq!(history.since, time(4), "warn since the fifth run");
        assert_eq!(history.last_pass, time(3));
        assert_eq!(history.last_fail, time(2));
        assert_eq!(history.status(), Some(Status::Warn));
        assert_eq!(history.last_failure_message(), Some("run 2"));
    }

    #[test]
    fn an_entry_is_small() {
        // What a check holds at the default length, besides messages: reported in the docs.
        assert!(
            std::mem::size_of::<Entry>() <= 56,
            "{}",
            std::mem::size_of::<Entry>()
        );
    }
}
