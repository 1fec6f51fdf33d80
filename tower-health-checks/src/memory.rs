//! The memory check: the process's resident memory against the limit it will be held to.

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use tower_health::{Check, CheckResult, HealthCheck};

use crate::{Amount, Bad, OneAtATime, SYSTEM, Thresholds, ready_made};

/// Checks the process's resident memory (`VmRSS`) against its cgroup's memory limit when it has
/// one (a container's limit: cgroup v2 `memory.max`, v1 `memory.limit_in_bytes`, the lowest on
/// the way up the hierarchy), else against the machine's memory (`MemTotal`): warns above 80%
/// and fails above 95% unless told otherwise.
///
/// Linux only: it reads `/proc` and `/sys/fs/cgroup` (elsewhere every run fails, saying so).
/// Observes the used share in `percent`, with `bytes`, `totalBytes` and `limit` (`cgroup v2`,
/// `cgroup v1` or `machine`) as data. Component type `system`, default timeout 250 ms.
///
/// ```
/// use tower_health::Health;
/// use tower_health_checks::{Amount, Memory};
///
/// Health::new().register(
///     Memory::new()
///         .warn_above(Amount::Percent(75.0))
///         .fail_above(None)
///         .into_check("memory")
///         .non_critical(),
/// );
/// ```
#[derive(Clone, Debug)]
pub struct Memory {
    thresholds: Thresholds,
    proc_root: PathBuf,
    cgroup_root: PathBuf,
    reads: OneAtATime,
}

impl Default for Memory {
    fn default() -> Self {
        Self::new()
    }
}

/// Where a memory limit comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MemoryLimit {
    /// A cgroup v2 `memory.max`.
    CgroupV2,
    /// A cgroup v1 `memory.limit_in_bytes`.
    CgroupV1,
    /// No cgroup limit: the machine's memory.
    Machine,
}

impl fmt::Display for MemoryLimit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            MemoryLimit::CgroupV2 => "cgroup v2",
            MemoryLimit::CgroupV1 => "cgroup v1",
            MemoryLimit::Machine => "machine",
        })
    }
}

/// The process's memory and the limit it is measured against.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MemoryUsage {
    /// Resident memory of the process, in bytes.
    pub used: u64,
    /// The limit, in bytes.
    pub limit: u64,
    /// Where the limit comes from.
    pub limited_by: MemoryLimit,
}

impl Memory {
    /// The default timeout of [`into_check`](Self::into_check).
    pub const DEFAULT_TIMEOUT: Duration = Duration::from_millis(250);

    /// A check of this process, reading `/proc` and `/sys/fs/cgroup`.
    pub fn new() -> Self {
        Memory {
            thresholds: Thresholds {
                bad: Bad::Above,
                warn: Some(Amount::Percent(80.0)),
                fail: Some(Amount::Percent(95.0)),
            },
            proc_root: PathBuf::from("/proc"),
            cgroup_root: PathBuf::from("/sys/fs/cgroup"),
            reads: OneAtATime::default(),
        }
    }

    /// Warns when more than `amount` is used (default 80%; `None` never warns).
    #[must_use]
    pub fn warn_above(mut self, amount: impl Into<Option<Amount>>) -> Self {
        self.thresholds.warn = amount.into();
        self
    }

    /// Fails when more than `amount` is used (default 95%; `None` never fails).
    #[must_use]
    pub fn fail_above(mut self, amount: impl Into<Option<Amount>>) -> Self {
        self.thresholds.fail = amount.into();
        self
    }

    /// Reads `self/status`, `self/cgroup` and `meminfo` under `root` instead of `/proc`.
    #[must_use]
    pub fn proc_root(mut self, root: impl Into<PathBuf>) -> Self {
        self.proc_root = root.into();
        self
    }

    /// Reads cgroup limits under `root` instead of `/sys/fs/cgroup` (v1 controllers are in
    /// subdirectories such as `memory/`).
    #[must_use]
    pub fn cgroup_root(mut self, root: impl Into<PathBuf>) -> Self {
        self.cgroup_root = root.into();
        self
    }

    /// The check named `name`, with component type `system` and a 250 ms timeout.
    #[must_use]
    pub fn into_check(self, name: impl Into<Arc<str>>) -> Check {
        ready_made(name, self, SYSTEM, Self::DEFAULT_TIMEOUT)
    }

    /// Reads the process's memory and its limit now.
    pub fn usage(&self) -> io::Result<MemoryUsage> {
        let read = |path: &str| std::fs::read_to_string(self.proc_root.join(path));
        let used = kib_field(&read("self/status")?, "VmRSS:")
            .ok_or_else(|| invalid("no VmRSS in self/status"))?;
        let machine = kib_field(&read("meminfo")?, "MemTotal:")
            .ok_or_else(|| invalid("no MemTotal in meminfo"))?;
        // A process outside any cgroup hierarchy (or on a system without one) has the machine.
        let cgroup = read("self/cgroup").unwrap_or_default();
        let (limit, limited_by) = match self.cgroup_limit(&cgroup) {
            // An "unlimited" v1 cgroup reports a huge number: the machine is the real limit.
            Some((limit, source)) if limit < machine => (limit, source),
            _ => (machine, MemoryLimit::Machine),
        };
        Ok(MemoryUsage {
            used,
            limit,
            limited_by,
        })
    }

    /// The lowest memory limit of the process's cgroup and its ancestors, if any.
    fn cgroup_limit(&self, proc_cgroup: &str) -> Option<(u64, MemoryLimit)> {
        let (path, root, file, source) = match cgroup_paths(proc_cgroup) {
            CgroupPath::V1(path) => (
                path,
                self.cgroup_root.join("memory"),
                "memory.limit_in_bytes",
                MemoryLimit::CgroupV1,
            ),
            CgroupPath::V2(path) => (
                path,
                self.cgroup_root.clone(),
                "memory.max",
                MemoryLimit::CgroupV2,
            ),
            CgroupPath::None => return None,
        };
        let mut dir = root.join(path.trim_start_matches('/'));
        // In a container without its own cgroup namespace the path names the host's view;
        // the container sees its own cgroup at the root.
        if !dir.is_dir() {
            dir = root.clone();
        }
        let limits = dir
            .ancestors()
            .take_while(|ancestor| ancestor.starts_with(&root))
            .filter_map(|ancestor| limit_in(ancestor, file));
        limits.min().map(|limit| (limit, source))
    }
}

impl HealthCheck for Memory {
    async fn check(&self) -> CheckResult {
        // Reading /proc does not block, but files under another root may (a FIFO, a hung
        // mount): off the async threads, the timeout still applies.
        let this = self.clone();
        let usage = self
            .reads
            .run("read", move || this.usage())
            .await
            .unwrap_or_else(|why| Err(io::Error::other(why)));
        match usage {
            Ok(usage) => self
                .thresholds
                .result(
                    &format!("resident memory (limit: {})", usage.limited_by),
                    usage.used,
                    usage.limit,
                )
                .data("limit", usage.limited_by.to_string()),
            Err(e) => CheckResult::fail(format!("cannot read the process's memory: {e}")),
        }
    }
}

/// The process's memory cgroup, from `/proc/self/cgroup`.
#[derive(Debug, PartialEq, Eq)]
enum CgroupPath<'a> {
    /// The v1 `memory` controller's path.
    V1(&'a str),
    /// The v2 unified hierarchy's path.
    V2(&'a str),
    None,
}

/// Finds the memory cgroup in `/proc/self/cgroup` text: a v1 `memory` controller line wins (on
/// hybrid systems the unified hierarchy has no memory controller), else the v2 `0::` line.
fn cgroup_paths(text: &str) -> CgroupPath<'_> {
    let mut v2 = None;
    for line in text.lines() {
        let mut fields = line.splitn(3, ':');
        let (Some(id), Some(controllers), Some(path)) =
            (fields.next(), fields.next(), fields.next())
        else {
            continue;
        };
        if controllers.split(',').any(|c| c == "memory") {
            return CgroupPath::V1(path);
        }
        if id == "0" && controllers.is_empty() {
            v2 = Some(path);
        }
    }
    v2.map_or(CgroupPath::None, CgroupPath::V2)
}

/// The limit in a cgroup directory's limit file; `None` when absent or `max`.
fn limit_in(dir: &Path, file: &str) -> Option<u64> {
    std::fs::read_to_string(dir.join(file))
        .ok()?
        .trim()
        .parse()
        .ok()
}

/// A `Name:   1234 kB` field of `/proc` text, in bytes.
fn kib_field(text: &str, name: &str) -> Option<u64> {
    let line = text.lines().find(|line| line.starts_with(name))?;
    let kib: u64 = line[name.len()..]
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kib * 1024)
}

fn invalid(message: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, message)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_proc_fields_in_bytes() {
        let status = "Name:\tserver\nVmPeak:\t  9000 kB\nVmRSS:\t    2168 kB\n";
        assert_eq!(kib_field(status, "VmRSS:"), Some(2168 * 1024));
        assert_eq!(kib_field(status, "VmSwap:"), None);
        assert_eq!(
            kib_field("MemTotal:       24684092 kB\n", "MemTotal:"),
            Some(24684092 * 1024)
        );
    }

    #[test]
    fn finds_the_memory_cgroup() {
        let hybrid = "9:name=systemd:/\n4:memory:/pods/abc\n1:cpu:/\n0::/\n";
        assert_eq!(cgroup_paths(hybrid), CgroupPath::V1("/pods/abc"));
        let joined = "5:cpu,memory:/x\n";
        assert_eq!(cgroup_paths(joined), CgroupPath::V1("/x"));
        assert_eq!(
            cgroup_paths("0::/system.slice/app.service\n"),
            CgroupPath::V2("/system.slice/app.service")
        );
        assert_eq!(cgroup_paths(""), CgroupPath::None);
    }
}
