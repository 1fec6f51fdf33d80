//! Support for the style tests: checks whose outcome a test drives, and captured logs.
#![allow(dead_code)]

use std::cell::RefCell;
use std::io::Write;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, Once};
use std::time::Duration;

use tracing_subscriber::fmt::MakeWriter;

/// A switch a test flips to make a check pass or fail, counting the check's runs.
#[derive(Clone, Default)]
pub struct Switch {
    failing: Arc<AtomicBool>,
    runs: Arc<AtomicUsize>,
}

impl Switch {
    pub fn new(failing: bool) -> Self {
        let switch = Switch::default();
        switch.set_failing(failing);
        switch
    }

    pub fn set_failing(&self, failing: bool) {
        self.failing.store(failing, Ordering::SeqCst);
    }

    /// Reads the switch and counts a run: `true` when the check should fail.
    pub fn hit(&self) -> bool {
        self.runs.fetch_add(1, Ordering::SeqCst);
        self.failing.load(Ordering::SeqCst)
    }

    pub fn runs(&self) -> usize {
        self.runs.load(Ordering::SeqCst)
    }
}

/// Log lines written while the guard lives (on this thread: use a current-thread runtime).
#[derive(Clone, Default)]
pub struct Logs(Arc<Mutex<Vec<u8>>>);

impl Logs {
    /// Captures on this thread until the guard drops. One global subscriber routes lines by
    /// thread: per-thread default subscribers race with tracing's callsite interest cache when
    /// tests run in parallel, and then lose events.
    pub fn capture() -> (Logs, LogsGuard) {
        static INSTALL: Once = Once::new();
        INSTALL.call_once(|| {
            let subscriber = tracing_subscriber::fmt()
                .with_writer(ThreadWriter)
                .with_ansi(false)
                .without_time()
                .with_max_level(tracing::Level::TRACE)
                .finish();
            tracing::subscriber::set_global_default(subscriber)
                .expect("no other global subscriber");
        });
        let logs = Logs::default();
        TARGET.with(|target| *target.borrow_mut() = Some(logs.clone()));
        (logs, LogsGuard(()))
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }

    /// The lines containing `needle`, once `count` of them are there or the tasks of this
    /// current-thread runtime have had a hundred turns to log them.
    pub async fn wait_for(&self, needle: &str, count: usize) -> Vec<String> {
        for _ in 0..100 {
            if self.lines_with(needle).len() >= count {
                break;
            }
            tokio::task::yield_now().await;
        }
        self.lines_with(needle)
    }

    /// The lines containing `needle`.
    pub fn lines_with(&self, needle: &str) -> Vec<String> {
        self.text()
            .lines()
            .filter(|line| line.contains(needle))
            .map(str::to_owned)
            .collect()
    }

    pub fn clear(&self) {
        self.0.lock().unwrap().clear();
    }
}

thread_local! {
    static TARGET: RefCell<Option<Logs>> = const { RefCell::new(None) };
}

/// Stops capturing on this thread when dropped.
pub struct LogsGuard(());

impl Drop for LogsGuard {
    fn drop(&mut self) {
        TARGET.with(|target| target.borrow_mut().take());
    }
}

/// Writes to the capture of the current thread, if any.
pub struct ThreadWriter;

impl Write for ThreadWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        TARGET.with(|target| {
            if let Some(logs) = &*target.borrow() {
                logs.0.lock().unwrap().extend_from_slice(buf);
            }
        });
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for ThreadWriter {
    type Writer = ThreadWriter;

    fn make_writer(&'a self) -> ThreadWriter {
        ThreadWriter
    }
}

/// Allowed methods of an `Allow` header, as a sorted list.
pub fn allow(value: Option<&str>) -> Vec<String> {
    let mut methods: Vec<String> = value
        .expect("Allow header")
        .split(',')
        .map(|m| m.trim().to_owned())
        .collect();
    methods.sort();
    methods
}

/// A check that panics on every run.
pub fn panicking(name: &str) -> tower_health::Check {
    tower_health::Check::new(name.to_owned(), || async {
        let panics = true;
        if panics {
            panic!("check exploded");
        }
    })
}

impl Switch {
    /// A check answering `pass` or, while the switch is set, `fail`. Not cached: each request
    /// runs it, sees the latest flip and counts as a run.
    pub fn check(
        &self,
        name: &str,
        pass: tower_health::CheckResult,
        fail: tower_health::CheckResult,
    ) -> tower_health::Check {
        let switch = self.clone();
        tower_health::Check::new(name.to_owned(), move || {
            let result = if switch.hit() { &fail } else { &pass };
            std::future::ready(result.clone())
        })
        .cache(Duration::ZERO)
    }
}

/// Serves `layer` in front of the echo service.
pub async fn serve_layer(layer: tower_health::HealthLayer) -> crate::common::TestServer {
    crate::common::serve_hyper(
        tower::ServiceBuilder::new()
            .layer(layer)
            .service(crate::common::echo_service()),
    )
    .await
}
