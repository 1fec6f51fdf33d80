//! The data behind a [`Health`](crate::Health) handle: checks, groups, lifecycle state,
//! maintenance mode, defaults and change records. It calls nothing out: running and evaluating
//! read it from above.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use tokio::sync::{Semaphore, watch};

use super::changes::{Changes, Seen};
use super::check::Check;
use super::history::History;
use super::stats::{CheckStats, Stats};
use super::status::{Gate, Group, Lifecycle, Subject};

/// See the [module docs](self).
pub(crate) struct Registry {
    checks: RwLock<Registered>,
    /// Declared groups, the built-in ones first.
    groups: RwLock<Arc<[Group]>>,
    state: watch::Sender<Lifecycle>,
    reached_working: AtomicBool,
    /// Whether the state is shutting down, read on every pass-through request without a lock.
    shutting_down: AtomicBool,
    maintenance: AtomicBool,
    maintenance_file: RwLock<Option<PathBuf>>,
    default_timeout_micros: AtomicU64,
    default_cache_micros: AtomicU64,
    /// At most this many runs at once, when set (see `Health::set_max_concurrent_runs`).
    run_slots: RwLock<Option<Arc<Semaphore>>>,
    /// How many results each check keeps in its history (0: none).
    history_len: AtomicUsize,
    /// Runs longer than this log a warning (`u64::MAX`: never).
    slow_threshold_micros: AtomicU64,
    pub(crate) changes: Changes,
    /// Bumped whenever anything an evaluation reads may have changed: a stored result, the
    /// registry, a group, the state, maintenance, the defaults. A plain counter for whatever
    /// keeps what it made of the registry: what was made at one generation holds while the
    /// generation does (and its results are fresh).
    generation: AtomicU64,
}

/// The registered checks, and the same checks by name: a run looks up the others of its name
/// without going through every check. Replaced whole, so the two always agree.
#[derive(Clone, Default)]
struct Registered {
    all: Arc<[Check]>,
    by_name: Arc<HashMap<Arc<str>, Named>>,
}

/// The registered checks of one name, in registration order, and the status last recorded for
/// the name.
#[derive(Default)]
pub(crate) struct Named {
    pub(crate) checks: Vec<Check>,
    pub(crate) recorded: Seen,
}

fn read<T: Clone>(lock: &RwLock<T>) -> T {
    lock.read().unwrap_or_else(|e| e.into_inner()).clone()
}

fn update<T: Clone>(lock: &RwLock<Arc<[T]>>, f: impl FnOnce(&mut Vec<T>)) {
    let mut guard = lock.write().unwrap_or_else(|e| e.into_inner());
    let mut items = guard.to_vec();
    f(&mut items);
    *guard = Arc::from(items);
}

impl Registry {
    pub(crate) fn new(
        default_timeout: Duration,
        default_cache_ttl: Duration,
        slow_threshold: Duration,
    ) -> Self {
        Registry {
            checks: RwLock::default(),
            groups: RwLock::new(Arc::from(Group::built_in().to_vec())),
            state: watch::Sender::new(Lifecycle::Unknown),
            reached_working: AtomicBool::new(false),
            shutting_down: AtomicBool::new(false),
            maintenance: AtomicBool::new(false),
            maintenance_file: RwLock::new(None),
            default_timeout_micros: AtomicU64::new(default_timeout.as_micros() as u64),
            default_cache_micros: AtomicU64::new(default_cache_ttl.as_micros() as u64),
            run_slots: RwLock::new(None),
            slow_threshold_micros: AtomicU64::new(slow_threshold.as_micros() as u64),
            history_len: AtomicUsize::new(0),
            changes: Changes::new(),
            generation: AtomicU64::new(0),
        }
    }

    pub(crate) fn checks(&self) -> Arc<[Check]> {
        read(&self.checks).all
    }

    pub(crate) fn update_checks(&self, f: impl FnOnce(&mut Vec<Check>)) {
        let mut registered = self.checks.write().unwrap_or_else(|e| e.into_inner());
        let mut checks = registered.all.to_vec();
        f(&mut checks);
        let mut by_name: HashMap<Arc<str>, Named> = HashMap::new();
        for check in &checks {
            by_name
                .entry(check.name.clone())
                .or_default()
                .checks
                .push(check.clone());
        }
        *registered = Registered {
            all: Arc::from(checks),
            by_name: Arc::new(by_name),
        };
        drop(registered);
        self.changed();
    }

    /// The registered checks by name.
    pub(crate) fn checks_by_name(&self) -> Arc<HashMap<Arc<str>, Named>> {
        read(&self.checks).by_name
    }

    /// The current generation (see [`Registry::changed`]).
    pub(crate) fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// Marks that something an answer is made of has changed.
    pub(crate) fn changed(&self) {
        self.generation.fetch_add(1, Ordering::AcqRel);
    }

    pub(crate) fn is_registered(&self, state: &Arc<super::state::CheckState>) -> bool {
        self.checks()
            .iter()
            .any(|check| Arc::ptr_eq(&check.state, state))
    }

    /// Declares `group`, replacing a declaration of the same name.
    pub(crate) fn add_group(&self, group: Group) {
        update(&self.groups, |groups| {
            match groups.iter_mut().find(|known| known.name == group.name) {
                Some(known) => *known = group,
                None => groups.push(group),
            }
        });
        self.changed();
    }

    /// Whether the group `name` exists: declared (the built-in ones always are) or joined by a
    /// registered check.
    pub(crate) fn has_group(&self, name: &str) -> bool {
        self.existing_group(name).is_some()
    }

    /// The name of the group `name`, shared, if the group exists.
    pub(crate) fn existing_group(&self, name: &str) -> Option<Arc<str>> {
        let declared = self.groups.read().unwrap_or_else(|e| e.into_inner());
        if let Some(group) = declared.iter().find(|group| *group.name == *name) {
            return Some(group.name.clone());
        }
        drop(declared);
        self.checks()
            .iter()
            .find_map(|check| check.group_named(name).cloned())
    }

    /// Every name a subject can be asked for by: the declared groups, the groups registered
    /// checks join, and the checks' names; sorted, each once.
    #[cfg_attr(not(feature = "grpc"), allow(dead_code))]
    pub(crate) fn names(&self) -> BTreeSet<Box<str>> {
        let mut names: BTreeSet<Box<str>> = read(&self.groups)
            .iter()
            .map(|group| group.name.as_ref().into())
            .collect();
        for check in self.checks().iter() {
            names.insert(check.name().into());
            names.extend(check.groups().map(Box::from));
        }
        names
    }

    /// How `subject` is gated, and whether maintenance mode answers it.
    pub(crate) fn gate_of(&self, subject: &Subject) -> (Gate, bool) {
        match subject {
            Subject::Service => (Gate::Ready, true),
            Subject::Group(name) => {
                let groups = self.groups.read().unwrap_or_else(|e| e.into_inner());
                match groups.iter().find(|group| *group.name == **name) {
                    Some(group) => (group.gate, group.maintenance),
                    // As `Group::new` declares one.
                    None => (Gate::None, false),
                }
            }
            Subject::Check(_) => (Gate::None, false),
        }
    }

    pub(crate) fn lifecycle(&self) -> Lifecycle {
        *self.state.borrow()
    }

    /// Sets the state; returns the one before.
    pub(crate) fn replace_lifecycle(&self, state: Lifecycle) -> Lifecycle {
        if state == Lifecycle::Working {
            self.reached_working.store(true, Ordering::Relaxed);
        }
        self.shutting_down
            .store(state == Lifecycle::ShuttingDown, Ordering::Relaxed);
        let old = self.state.send_replace(state);
        self.changed();
        old
    }

    /// Whether the state is [`Lifecycle::ShuttingDown`], without taking the state's lock.
    pub(crate) fn is_shutting_down(&self) -> bool {
        self.shutting_down.load(Ordering::Relaxed)
    }

    pub(crate) fn watch_lifecycle(&self) -> watch::Receiver<Lifecycle> {
        self.state.subscribe()
    }

    pub(crate) fn has_started(&self) -> bool {
        self.reached_working.load(Ordering::Relaxed)
    }

    pub(crate) fn set_maintenance(&self, on: bool) {
        self.maintenance.store(on, Ordering::Relaxed);
        self.changed();
    }

    pub(crate) fn set_maintenance_file(&self, path: Option<PathBuf>) {
        *self
            .maintenance_file
            .write()
            .unwrap_or_else(|e| e.into_inner()) = path;
        self.changed();
    }

    pub(crate) fn in_maintenance(&self) -> bool {
        if self.maintenance.load(Ordering::Relaxed) {
            return true;
        }
        let file = self
            .maintenance_file
            .read()
            .unwrap_or_else(|e| e.into_inner());
        file.as_deref().is_some_and(|path| path.exists())
    }

    pub(crate) fn set_default_timeout(&self, timeout: Duration) {
        self.default_timeout_micros
            .store(timeout.as_micros() as u64, Ordering::Relaxed);
        self.changed();
    }

    pub(crate) fn default_timeout(&self) -> Duration {
        Duration::from_micros(self.default_timeout_micros.load(Ordering::Relaxed))
    }

    pub(crate) fn set_default_cache_ttl(&self, ttl: Duration) {
        self.default_cache_micros
            .store(ttl.as_micros() as u64, Ordering::Relaxed);
        self.changed();
    }

    pub(crate) fn default_cache_ttl(&self) -> Duration {
        Duration::from_micros(self.default_cache_micros.load(Ordering::Relaxed))
    }

    /// Caps the runs at once at `max` (at least one); `None` lifts the cap. Runs already waiting
    /// keep waiting on the cap they started under.
    pub(crate) fn set_max_concurrent_runs(&self, max: Option<usize>) {
        let slots = max.map(|max| Arc::new(Semaphore::new(max.clamp(1, Semaphore::MAX_PERMITS))));
        *self.run_slots.write().unwrap_or_else(|e| e.into_inner()) = slots;
    }

    /// The slots every run takes one of, when runs are capped.
    pub(crate) fn run_slots(&self) -> Option<Arc<Semaphore>> {
        read(&self.run_slots)
    }

    pub(crate) fn set_slow_threshold(&self, threshold: Option<Duration>) {
        let micros = threshold.map_or(u64::MAX, |threshold| {
            u64::try_from(threshold.as_micros()).unwrap_or(u64::MAX)
        });
        self.slow_threshold_micros.store(micros, Ordering::Relaxed);
    }

    pub(crate) fn slow_threshold(&self) -> Option<Duration> {
        match self.slow_threshold_micros.load(Ordering::Relaxed) {
            u64::MAX => None,
            micros => Some(Duration::from_micros(micros)),
        }
    }

    /// The cache time-to-live of `check`.
    pub(crate) fn cache_ttl(&self, check: &Check) -> Duration {
        check
            .policy
            .cache
            .unwrap_or_else(|| self.default_cache_ttl())
    }

    pub(crate) fn history_len(&self) -> usize {
        self.history_len.load(Ordering::Relaxed)
    }

    pub(crate) fn set_history_len(&self, len: usize) {
        self.history_len.store(len, Ordering::Relaxed);
    }

    /// Each registered check with a copy of its history, in registration order.
    pub(crate) fn histories(&self) -> Vec<(Check, History)> {
        self.checks()
            .iter()
            .map(|check| (check.clone(), check.state.lock().history.clone()))
            .collect()
    }

    /// The counts of the registered checks, and the recorded statuses of the groups and the
    /// service.
    pub(crate) fn stats(&self) -> Stats {
        let mut checks: BTreeMap<Arc<str>, CheckStats> = BTreeMap::new();
        for check in self.checks().iter() {
            let stats = checks
                .entry(check.name.clone())
                .or_insert_with(|| CheckStats {
                    name: check.name.clone(),
                    ..CheckStats::default()
                });
            check.state.stats.add_to(stats);
            for group in check.groups() {
                if !stats.groups.iter().any(|known| **known == *group) {
                    stats.groups.push(group.into());
                }
            }
        }
        let mut stats = Stats::default();
        for (subject, status) in self.changes.recorded() {
            match subject {
                Subject::Service => stats.service = Some(status),
                // A group is recorded once evaluated; it goes with its last check.
                Subject::Group(name) if self.has_group(&name) => stats.groups.push((name, status)),
                Subject::Group(_) => {}
                Subject::Check(name) => {
                    if let Some(check) = checks.get_mut(&name) {
                        check.status = Some(status);
                    }
                }
            }
        }
        stats.groups.sort();
        stats.checks = checks.into_values().collect();
        for check in &mut stats.checks {
            check.groups.sort();
        }
        stats
    }
}
