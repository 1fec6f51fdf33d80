//! The disk and memory checks on a temporary directory, fixture files and the live system.

#![cfg(any(feature = "disk", feature = "memory"))]

#[cfg(feature = "disk")]
mod disk {
    use tower_health::Status;
    use tower_health_checks::{Amount, Disk};

    use crate::checks::{message, rendered, run};

    #[tokio::test]
    async fn observes_the_available_share_of_the_filesystem() {
        let dir = tempfile::tempdir().unwrap();
        let report = run(Disk::new(dir.path())
            .warn_below(Amount::Bytes(1))
            .fail_below(None)
            .into_check("disk"))
        .await;
        assert_eq!(report.status(), Status::Pass, "{report:?}");
        assert_eq!(report.component_type.as_deref(), Some("system"));
        assert_eq!(report.result.observed_unit.as_deref(), Some("percent"));
        let bytes = report.result.data["bytes"].as_u64().unwrap();
        let total = report.result.data["totalBytes"].as_u64().unwrap();
        assert!(0 < bytes && bytes <= total, "{bytes} of {total}");
        let percent = report
            .result
            .observed_value
            .as_ref()
            .unwrap()
            .as_f64()
            .unwrap();
        assert_eq!(
            percent,
            (bytes as f64 * 1000.0 / total as f64).round() / 10.0
        );
    }

    #[tokio::test]
    async fn warns_and_fails_below_the_thresholds() {
        let dir = tempfile::tempdir().unwrap();
        // A filesystem holding anything has less than all of it available.
        let report = run(Disk::new(dir.path())
            .warn_below(Amount::Percent(100.0))
            .fail_below(None)
            .into_check("disk"))
        .await;
        assert_eq!(report.status(), Status::Warn, "{report:?}");
        assert!(
            message(&report).ends_with("is below the warn threshold of 100%"),
            "{}",
            message(&report)
        );

        let report = run(Disk::new(dir.path())
            .fail_below(Amount::Bytes(u64::MAX))
            .into_check("disk"))
        .await;
        assert_eq!(report.status(), Status::Fail);
        assert!(
            message(&report).starts_with(&format!("space available on {}: ", dir.path().display()))
        );

        let body = rendered(
            Disk::new(dir.path())
                .fail_below(Amount::Bytes(u64::MAX))
                .into_check("disk"),
        )
        .await;
        let entry = &body["checks"]["disk"][0];
        assert_eq!(entry["componentType"], "system");
        assert_eq!(entry["observedUnit"], "percent");
        assert_eq!(entry["status"], "fail");
    }

    #[tokio::test]
    async fn fails_on_a_path_that_does_not_exist() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("missing");
        let report = run(Disk::new(&missing).into_check("disk")).await;
        assert_eq!(report.status(), Status::Fail);
        assert!(
            message(&report).starts_with(&format!(
                "cannot read the filesystem of {}",
                missing.display()
            )),
            "{}",
            message(&report)
        );
    }
}

#[cfg(feature = "memory")]
mod memory {
    use std::fs;
    use std::path::Path;
    use std::time::Duration;

    use tower_health::{RunEnd, Status};
    use tower_health_checks::{Amount, Memory, MemoryLimit, MemoryUsage};

    use crate::checks::{message, rendered, run};

    /// Writes `files` (path, text) under `root`.
    fn fixture(root: &Path, files: &[(&str, &str)]) {
        for (path, text) in files {
            let path = root.join(path);
            fs::create_dir_all(path.parent().unwrap()).unwrap();
            fs::write(path, text).unwrap();
        }
    }

    const STATUS: &str = "Name:\tserver\nVmPeak:\t 900000 kB\nVmRSS:\t  524288 kB\nThreads:\t4\n";
    const MEMINFO: &str = "MemTotal:        4194304 kB\nMemFree:         1000000 kB\n";

    /// A read stuck on a hung file keeps its blocking thread even after the run times out: the
    /// next runs fail at once instead of leaving another stuck thread each.
    #[cfg(target_os = "linux")]
    #[tokio::test]
    async fn a_hung_read_is_not_piled_up_on() {
        use std::io::Write;

        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().to_owned();
        fixture(
            &root,
            &[("proc/meminfo", MEMINFO), ("proc/self/cgroup", "")],
        );
        // Opening a FIFO for reading blocks until a writer opens it: a hung file without a mount.
        let status = root.join("proc/self/status");
        let made = std::process::Command::new("mkfifo").arg(&status).status();
        assert!(made.unwrap().success());
        let check = Memory::new()
            .proc_root(root.join("proc"))
            .cgroup_root(root.join("cgroup"))
            .into_check("memory")
            .timeout(Duration::from_millis(50));

        let first = run(check.clone()).await;
        assert_eq!(first.end, RunEnd::TimedOut, "{first:?}");
        for _ in 0..3 {
            let next = run(check.clone()).await;
            assert_eq!((next.end, next.status()), (RunEnd::Completed, Status::Fail));
            assert!(
                message(&next).contains("still waiting for the previous read"),
                "{next:?}"
            );
        }

        // The stuck read returns (and the file becomes a plain one): runs read again.
        let unblocked = tokio::task::spawn_blocking(move || {
            let mut fifo = fs::OpenOptions::new().write(true).open(&status).unwrap();
            fs::remove_file(&status).unwrap();
            fs::write(&status, STATUS).unwrap();
            fifo.write_all(STATUS.as_bytes()).unwrap();
        });
        unblocked.await.unwrap();
        let recovered = tokio::time::timeout(Duration::from_secs(30), async {
            loop {
                let report = run(check.clone()).await;
                if report.end == RunEnd::Completed && report.status() != Status::Fail {
                    return report;
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        })
        .await
        .expect("the check recovers once the read returns");
        assert_eq!(recovered.result.data["limit"], "machine");
    }

    /// A container on cgroup v2: 512 MiB resident, 1 GiB limit set on the pod, none on the
    /// container itself.
    fn cgroup_v2(root: &Path) -> Memory {
        fixture(
            root,
            &[
                ("proc/self/status", STATUS),
                ("proc/meminfo", MEMINFO),
                ("proc/self/cgroup", "0::/kubepods/pod1/app\n"),
                ("cgroup/kubepods/memory.max", "2147483648\n"),
                ("cgroup/kubepods/pod1/memory.max", "1073741824\n"),
                ("cgroup/kubepods/pod1/app/memory.max", "max\n"),
            ],
        );
        Memory::new()
            .proc_root(root.join("proc"))
            .cgroup_root(root.join("cgroup"))
    }

    #[test]
    fn reads_the_lowest_cgroup_v2_limit_up_the_hierarchy() {
        let dir = tempfile::tempdir().unwrap();
        let usage = cgroup_v2(dir.path()).usage().unwrap();
        assert_eq!(
            usage,
            MemoryUsage {
                used: 512 * 1024 * 1024,
                limit: 1024 * 1024 * 1024,
                limited_by: MemoryLimit::CgroupV2,
            }
        );
    }

    #[test]
    fn reads_a_cgroup_v1_limit_and_treats_an_unlimited_one_as_the_machine() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        fixture(
            root,
            &[
                ("proc/self/status", STATUS),
                ("proc/meminfo", MEMINFO),
                (
                    "proc/self/cgroup",
                    "9:name=systemd:/\n4:memory:/docker/abc\n0::/\n",
                ),
                (
                    "cgroup/memory/memory.limit_in_bytes",
                    "9223372036854771712\n",
                ),
                (
                    "cgroup/memory/docker/abc/memory.limit_in_bytes",
                    "805306368\n",
                ),
            ],
        );
        let memory = Memory::new()
            .proc_root(root.join("proc"))
            .cgroup_root(root.join("cgroup"));
        let usage = memory.usage().unwrap();
        assert_eq!(usage.limit, 768 * 1024 * 1024);
        assert_eq!(usage.limited_by, MemoryLimit::CgroupV1);

        // Inside the container the cgroup is mounted at the root and is unlimited.
        fs::remove_dir_all(root.join("cgroup/memory/docker")).unwrap();
        let usage = memory.usage().unwrap();
        assert_eq!(usage.limit, 4 * 1024 * 1024 * 1024);
        assert_eq!(usage.limited_by, MemoryLimit::Machine);
    }

    #[test]
    fn reads_the_live_process_against_the_machine_or_its_cgroup() {
        let usage = Memory::new().usage().unwrap();
        let status = fs::read_to_string("/proc/self/status").unwrap();
        let rss_kib: u64 = status
            .lines()
            .find_map(|line| line.strip_prefix("VmRSS:"))
            .and_then(|rest| rest.split_whitespace().next()?.parse().ok())
            .unwrap();
        // The process may grow between the two reads; both are of the same order.
        let rss = rss_kib * 1024;
        assert!(
            usage.used > 0 && usage.used / 2 <= rss && rss / 2 <= usage.used,
            "{usage:?} against {rss}"
        );
        let meminfo = fs::read_to_string("/proc/meminfo").unwrap();
        let total_kib: u64 = meminfo
            .lines()
            .find_map(|line| line.strip_prefix("MemTotal:"))
            .and_then(|rest| rest.split_whitespace().next()?.parse().ok())
            .unwrap();
        assert!(usage.limit <= total_kib * 1024);
        if usage.limited_by == MemoryLimit::Machine {
            assert_eq!(usage.limit, total_kib * 1024);
        }
        assert!(usage.used < usage.limit);
    }

    #[tokio::test]
    async fn passes_warns_and_fails_on_the_thresholds() {
        let dir = tempfile::tempdir().unwrap();
        let memory = cgroup_v2(dir.path());

        let report = run(memory.clone().into_check("memory")).await;
        assert_eq!(report.status(), Status::Pass, "{report:?}");
        assert_eq!(report.component_type.as_deref(), Some("system"));
        assert_eq!(report.result.observed_value, Some(50.0.into()));
        assert_eq!(report.result.observed_unit.as_deref(), Some("percent"));
        assert_eq!(report.result.data["limit"], "cgroup v2");

        let report = run(memory
            .clone()
            .warn_above(Amount::Percent(40.0))
            .into_check("memory"))
        .await;
        assert_eq!(report.status(), Status::Warn);
        assert_eq!(
            message(&report),
            "resident memory (limit: cgroup v2) 512.0 MiB (50%) of 1.0 GiB is above the warn \
             threshold of 40%"
        );

        let check = memory.fail_above(Amount::mib(256)).into_check("memory");
        let report = run(check.clone()).await;
        assert_eq!(report.status(), Status::Fail);
        assert!(message(&report).ends_with("above the fail threshold of 256.0 MiB"));
        let body = rendered(check).await;
        assert_eq!(body["checks"]["memory"][0]["observedValue"], 50.0);
        assert_eq!(body["checks"]["memory"][0]["componentType"], "system");
    }

    #[tokio::test]
    async fn fails_when_proc_cannot_be_read() {
        let dir = tempfile::tempdir().unwrap();
        let report = run(Memory::new().proc_root(dir.path()).into_check("memory")).await;
        assert_eq!(report.status(), Status::Fail);
        assert!(
            message(&report).starts_with("cannot read the process's memory: "),
            "{}",
            message(&report)
        );
    }

    #[tokio::test]
    async fn times_out_when_a_read_blocks() {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir_all(dir.path().join("self")).unwrap();
        let fifo = dir.path().join("self/status");
        // Opening a FIFO for reading blocks until a writer comes.
        let made = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap();
        assert!(made.success());
        let report = run(Memory::new()
            .proc_root(dir.path())
            .into_check("memory")
            .timeout(Duration::from_millis(200)))
        .await;
        assert_eq!(report.end, RunEnd::TimedOut, "{report:?}");
        assert_eq!(report.status(), Status::Fail);
        // Release the blocked read so the runtime can shut down.
        drop(fs::OpenOptions::new().write(true).open(&fifo).unwrap());
    }
}
