//! The figures in the Prometheus text exposition format (version 0.0.4) or in OpenMetrics 1.0.0,
//! whichever the scraper asks for.

use std::fmt::Write;

use super::status_value;
use crate::format::content_type;
use crate::health::{BUCKETS, CheckStats, RunOutcome, Stats};

/// Which text format to write.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Exposition {
    /// `text/plain; version=0.0.4`: what every Prometheus reads, the default.
    Text,
    /// `application/openmetrics-text; version=1.0.0`: when the `Accept` header prefers it.
    OpenMetrics,
}

impl Exposition {
    pub(crate) fn content_type(self) -> &'static str {
        match self {
            Exposition::Text => content_type::PROMETHEUS_TEXT,
            Exposition::OpenMetrics => content_type::OPEN_METRICS,
        }
    }

    /// OpenMetrics when `accept` ranks it above the text format, as Prometheus's scrape header
    /// does (`application/openmetrics-text;version=1.0.0,...,text/plain;version=0.0.4;q=0.5`);
    /// the text format otherwise, and for a missing or malformed header.
    pub(crate) fn negotiate(accept: Option<&str>) -> Self {
        let (mut open_metrics, mut text) = (0.0_f32, 0.0_f32);
        for range in accept.unwrap_or("").split(',') {
            let mut parts = range.split(';').map(str::trim);
            let media_type = parts.next().unwrap_or("").to_ascii_lowercase();
            let mut quality = 1.0_f32;
            let mut version = None;
            for parameter in parts {
                let Some((name, value)) = parameter.split_once('=') else {
                    continue;
                };
                match name.trim().to_ascii_lowercase().as_str() {
                    "q" => quality = value.trim().parse().unwrap_or(0.0),
                    "version" => version = Some(value.trim().to_owned()),
                    _ => {}
                }
            }
            if !quality.is_finite() {
                continue;
            }
            match media_type.as_str() {
                // Only the version written here; 0.0.1 was a draft.
                "application/openmetrics-text"
                    if version.as_deref().is_none_or(|v| v.starts_with("1.")) =>
                {
                    open_metrics = open_metrics.max(quality);
                }
                "text/plain" | "*/*" | "text/*" => text = text.max(quality),
                _ => {}
            }
        }
        if open_metrics > 0.0 && open_metrics > text {
            Exposition::OpenMetrics
        } else {
            Exposition::Text
        }
    }
}

/// One series of requests answered by a health endpoint.
#[derive(Debug)]
pub(crate) struct RequestSeries<'a> {
    pub(crate) endpoint: &'a str,
    pub(crate) code: u16,
    pub(crate) count: u64,
}

/// Writes every family: the checks', the groups', the service's and the requests'.
pub(crate) fn write(
    stats: &Stats,
    requests: &[RequestSeries<'_>],
    exposition: Exposition,
) -> String {
    let mut out = Writer {
        out: String::with_capacity(1024 + 1024 * stats.checks.len()),
        exposition,
    };
    out.family(
        "tower_health_check_status",
        "gauge",
        "The status of each check in each of its groups: 0 pass, 1 warn, 2 fail.",
    );
    for check in &stats.checks {
        let Some(status) = check.status else {
            continue;
        };
        for group in &check.groups {
            out.sample(
                "tower_health_check_status",
                &[("check", &check.name), ("group", group)],
                status_value(status),
            );
        }
    }
    out.family(
        "tower_health_check_runs_total",
        "counter",
        "Runs of each check by outcome: pass, warn, fail, timeout, panic.",
    );
    for check in &stats.checks {
        for outcome in RunOutcome::ALL {
            out.sample(
                "tower_health_check_runs_total",
                &[("check", &check.name), ("outcome", outcome.as_str())],
                check.runs[outcome as usize],
            );
        }
    }
    out.family(
        "tower_health_check_duration_seconds",
        "histogram",
        "How long each check's runs took.",
    );
    for check in &stats.checks {
        out.histogram(check);
    }
    out.family(
        "tower_health_group_status",
        "gauge",
        "The status of each group at its last complete evaluation: 0 pass, 1 warn, 2 fail.",
    );
    for (group, status) in &stats.groups {
        out.sample(
            "tower_health_group_status",
            &[("group", group)],
            status_value(*status),
        );
    }
    out.family(
        "tower_health_service_status",
        "gauge",
        "The status of the whole service at its last complete evaluation: 0 pass, 1 warn, 2 fail.",
    );
    if let Some(status) = stats.service {
        out.sample("tower_health_service_status", &[], status_value(status));
    }
    out.family(
        "tower_health_requests_total",
        "counter",
        "Requests answered by each health endpoint, by HTTP status code.",
    );
    for series in requests {
        let code = series.code.to_string();
        out.sample(
            "tower_health_requests_total",
            &[("endpoint", series.endpoint), ("code", &code)],
            series.count,
        );
    }
    if exposition == Exposition::OpenMetrics {
        out.out.push_str("# EOF\n");
    }
    out.out
}

struct Writer {
    out: String,
    exposition: Exposition,
}

impl Writer {
    fn family(&mut self, name: &str, kind: &str, help: &str) {
        // OpenMetrics names a counter's family without the `_total` of its samples.
        let name = match (self.exposition, kind) {
            (Exposition::OpenMetrics, "counter") => name.trim_end_matches("_total"),
            _ => name,
        };
        let _ = writeln!(self.out, "# HELP {name} {help}\n# TYPE {name} {kind}");
        if name.ends_with("_seconds") && self.exposition == Exposition::OpenMetrics {
            let _ = writeln!(self.out, "# UNIT {name} seconds");
        }
    }

    fn sample(&mut self, name: &str, labels: &[(&str, &str)], value: impl std::fmt::Display) {
        self.out.push_str(name);
        if !labels.is_empty() {
            self.out.push('{');
            for (index, (label, value)) in labels.iter().enumerate() {
                if index > 0 {
                    self.out.push(',');
                }
                self.out.push_str(label);
                self.out.push_str("=\"");
                escape_into(&mut self.out, value);
                self.out.push('"');
            }
            self.out.push('}');
        }
        let _ = writeln!(self.out, " {value}");
    }

    fn histogram(&mut self, check: &CheckStats) {
        const NAME: &str = "tower_health_check_duration_seconds";
        let mut cumulative = 0;
        // `{:?}` writes `1.0`, not `1`: OpenMetrics wants canonical floats in `le`.
        let bounds = BUCKETS.iter().map(|bound| format!("{bound:?}"));
        for (count, bound) in check.buckets.iter().zip(bounds.chain(["+Inf".to_owned()])) {
            cumulative += count;
            self.sample(
                &format!("{NAME}_bucket"),
                &[("check", &check.name), ("le", &bound)],
                cumulative,
            );
        }
        self.sample(
            &format!("{NAME}_sum"),
            &[("check", &check.name)],
            check.sum_seconds,
        );
        self.sample(
            &format!("{NAME}_count"),
            &[("check", &check.name)],
            check.count(),
        );
    }
}

/// A label value as both formats quote it: backslash, double quote and line feed escaped.
fn escape_into(out: &mut String, value: &str) {
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::health::Status;

    #[test]
    fn the_scrape_header_of_prometheus_gets_open_metrics() {
        let prometheus = "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";
        assert_eq!(
            Exposition::negotiate(Some(prometheus)),
            Exposition::OpenMetrics
        );
        for text in [
            None,
            Some(""),
            Some("*/*"),
            Some("text/plain;version=0.0.4"),
            Some("application/openmetrics-text;q=0.4, text/plain;q=0.5"),
            Some("application/openmetrics-text;version=0.0.1"),
            Some("application/openmetrics-text;q=0"),
            Some("application/openmetrics-text;q=nan"),
            Some(";;;,,=;q=="),
            Some("application/json"),
        ] {
            assert_eq!(Exposition::negotiate(text), Exposition::Text, "{text:?}");
        }
        assert_eq!(
            Exposition::negotiate(Some(
                "Application/OpenMetrics-Text; q=0.9, text/plain; q=0.5"
            )),
            Exposition::OpenMetrics
        );
    }

    #[test]
    fn families_are_written_with_escaped_labels() {
        let stats = Stats {
            checks: vec![CheckStats {
                name: Arc::from("a \"b\"\\\n"),
                groups: vec![Arc::from("ready")],
                status: Some(Status::Warn),
                runs: [1, 2, 0, 0, 0],
                buckets: [1, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
                sum_seconds: 0.25,
            }],
            groups: vec![(Arc::from("ready"), Status::Pass)],
            service: None,
        };
        let requests = [RequestSeries {
            endpoint: "/health/{group}",
            code: 503,
            count: 4,
        }];
        let text = write(&stats, &requests, Exposition::Text);
        for line in [
            r#"tower_health_check_status{check="a \"b\"\\\n",group="ready"} 1"#,
            r#"tower_health_check_runs_total{check="a \"b\"\\\n",outcome="warn"} 2"#,
            r#"tower_health_check_duration_seconds_bucket{check="a \"b\"\\\n",le="0.0025"} 3"#,
            r#"tower_health_check_duration_seconds_bucket{check="a \"b\"\\\n",le="+Inf"} 3"#,
            r#"tower_health_check_duration_seconds_count{check="a \"b\"\\\n"} 3"#,
            r#"tower_health_group_status{group="ready"} 0"#,
            r#"tower_health_requests_total{endpoint="/health/{group}",code="503"} 4"#,
            "# TYPE tower_health_requests_total counter",
        ] {
            assert!(text.lines().any(|l| l == line), "{line} in\n{text}");
        }
        assert!(
            !text
                .lines()
                .any(|l| l.starts_with("tower_health_service_status")),
            "no sample before the service is evaluated"
        );
        assert!(!text.contains("# EOF"));
        let open = write(&stats, &requests, Exposition::OpenMetrics);
        assert!(open.ends_with("# EOF\n"));
        assert!(open.contains("# TYPE tower_health_requests counter\n"));
        assert!(open.contains("# UNIT tower_health_check_duration_seconds seconds\n"));
    }
}
