//! The status page (`{prefix}/ui`): one HTML answer rendered here, with no script, no style
//! sheet and nothing fetched, so that it works under `Content-Security-Policy: default-src
//! 'none'`, which the answer itself sends. It refreshes itself with a `<meta http-equiv>`.
//! Colours are SVG `fill` attributes, which that policy allows. Every string that comes from a
//! check is escaped.

use std::fmt::Write;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use super::health_json::rfc3339;
use crate::health::{Check, Exposure, History, Lifecycle, Status};

/// What the page's answer sends as its `Content-Security-Policy`: nothing may load or run.
pub(crate) const CONTENT_SECURITY_POLICY: &str =
    "default-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// Seconds between the page's own reloads.
const REFRESH_SECONDS: u32 = 5;

/// What the page shows.
pub(crate) struct Page<'a> {
    /// The aggregate of the checks' latest results.
    pub(crate) status: Option<Status>,
    pub(crate) lifecycle: Lifecycle,
    pub(crate) maintenance: bool,
    /// Each group the checks join, with the aggregate of its checks' latest results.
    pub(crate) groups: &'a [(Arc<str>, Option<Status>)],
    pub(crate) checks: &'a [(Check, History)],
    pub(crate) exposure: Exposure,
    pub(crate) now: SystemTime,
}

/// The whole HTML document.
pub(crate) fn status_page(page: &Page<'_>) -> String {
    let status = page.status.map_or("unknown", Status::as_str);
    let mut html = String::with_capacity(4096 + 2048 * page.checks.len());
    let _ = write!(
        html,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta http-equiv=\"refresh\" content=\"{REFRESH_SECONDS}\">\
         <meta name=\"viewport\" content=\"width=device-width\">\
         <title>Health: {status}</title></head><body>\n\
         <h1 id=\"status\" data-status=\"{status}\">Health: {dot} {status}</h1>\n\
         <p id=\"lifecycle\">Lifecycle: {lifecycle}; maintenance {maintenance}.</p>\n",
        dot = dot(page.status),
        lifecycle = page.lifecycle,
        maintenance = if page.maintenance { "on" } else { "off" },
    );
    if page.exposure >= Exposure::Names {
        groups(&mut html, page.groups);
        checks(&mut html, page);
    }
    let _ = write!(
        html,
        "<p><small>As of {}; refreshes every {REFRESH_SECONDS} s. Reading this page runs no \
         check.</small></p>\n</body></html>\n",
        rfc3339(&page.now)
    );
    html
}

fn groups(html: &mut String, groups: &[(Arc<str>, Option<Status>)]) {
    html.push_str(
        "<h2>Groups</h2>\n<p><small>Each group's checks' latest results; the probes also apply \
         the group's gate.</small></p>\n<table id=\"groups\" border=\"1\" cellpadding=\"4\">\
         <tr><th>group</th><th>status</th></tr>\n",
    );
    for (name, status) in groups {
        let status_name = status.map_or("unknown", Status::as_str);
        let _ = writeln!(
            html,
            "<tr class=\"group\" data-name=\"{name}\" data-status=\"{status_name}\"><td>{name}</td>\
             <td>{} {status_name}</td></tr>",
            dot(*status),
            name = escape(name),
        );
    }
    html.push_str("</table>\n");
}

fn checks(html: &mut String, page: &Page<'_>) {
    html.push_str(
        "<h2>Checks</h2>\n<table id=\"checks\" border=\"1\" cellpadding=\"4\"><tr><th>check</th>\
         <th>status</th><th>last results, oldest first</th><th>duration</th>\
         <th>in this status</th><th>runs, changes</th>",
    );
    if page.exposure >= Exposure::Messages {
        html.push_str("<th>last failure</th>");
    }
    html.push_str("</tr>\n");
    for (check, history) in page.checks {
        let status = history.status();
        let _ = write!(
            html,
            "<tr class=\"check\" data-name=\"{name}\" data-status=\"{}\" data-results=\"{}\">\
             <td>{name}{critical}</td><td>{} {}</td><td>",
            status.map_or("unknown", Status::as_str),
            history.entries().len(),
            dot(status),
            status.map_or("no run yet", Status::as_str),
            name = escape(check.name()),
            critical = if check.critical {
                ""
            } else {
                " <small>(non-critical)</small>"
            },
        );
        strip(html, history);
        html.push_str("</td><td>");
        trend(html, history);
        let in_status = history
            .since
            .and_then(|since| page.now.duration_since(since).ok())
            .map_or_else(|| "-".to_owned(), round);
        let _ = write!(
            html,
            "</td><td>{in_status}</td><td>{} runs, {} changes</td>",
            history.runs, history.transitions
        );
        if page.exposure >= Exposure::Messages {
            let failure = match (history.last_fail, history.last_failure_message()) {
                (Some(time), message) => format!(
                    "{}: {}",
                    rfc3339(&time),
                    escape(message.unwrap_or("no message"))
                ),
                (None, _) => "none".to_owned(),
            };
            let _ = write!(html, "<td class=\"failure\">{failure}</td>");
        }
        html.push_str("</tr>\n");
    }
    html.push_str("</table>\n");
}

/// One coloured cell per kept result, each titled with its status and time.
fn strip(html: &mut String, history: &History) {
    const CELL: usize = 10;
    let width = (history.entries().len() * CELL).max(CELL);
    let _ = write!(
        html,
        "<svg class=\"strip\" width=\"{width}\" height=\"16\" role=\"img\" aria-label=\"last results\">"
    );
    for (i, entry) in history.entries().enumerate() {
        let _ = write!(
            html,
            "<rect class=\"result\" data-status=\"{status}\" x=\"{}\" y=\"0\" width=\"{}\" \
             height=\"16\" fill=\"{}\"><title>{status} at {}</title></rect>",
            i * CELL,
            CELL - 1,
            colour(Some(entry.status)),
            rfc3339(&entry.time),
            status = entry.status.as_str(),
        );
    }
    html.push_str("</svg>");
}

/// The runs' durations as a line, scaled to the slowest kept.
fn trend(html: &mut String, history: &History) {
    const WIDTH: f64 = 120.0;
    const HEIGHT: f64 = 16.0;
    let durations: Vec<f64> = history
        .entries()
        .map(|entry| entry.duration.as_secs_f64() * 1000.0)
        .collect();
    let slowest = durations.iter().copied().fold(0.0_f64, f64::max);
    let step = WIDTH / (durations.len().max(2) - 1) as f64;
    let mut points = String::new();
    for (i, millis) in durations.iter().enumerate() {
        let y = if slowest > 0.0 {
            HEIGHT - millis / slowest * HEIGHT
        } else {
            HEIGHT
        };
        let _ = write!(points, "{:.1},{:.1} ", i as f64 * step, y);
    }
    let _ = write!(
        html,
        "<svg class=\"trend\" width=\"{WIDTH}\" height=\"{HEIGHT}\" role=\"img\" \
         aria-label=\"durations\"><polyline points=\"{}\" fill=\"none\" stroke=\"#455a64\" \
         stroke-width=\"1.5\"/></svg> <small>max {slowest:.1} ms</small>",
        points.trim_end()
    );
}

/// A status as a coloured dot.
fn dot(status: Option<Status>) -> String {
    format!(
        "<svg width=\"12\" height=\"12\" aria-hidden=\"true\"><circle cx=\"6\" cy=\"6\" r=\"5\" \
         fill=\"{}\"/></svg>",
        colour(status)
    )
}

fn colour(status: Option<Status>) -> &'static str {
    match status {
        Some(Status::Pass) => "#2e7d32",
        Some(Status::Warn) => "#f9a825",
        Some(Status::Fail) => "#c62828",
        None => "#9e9e9e",
    }
}

fn round(elapsed: Duration) -> String {
    let seconds = elapsed.as_secs();
    match seconds {
        0..60 => format!("{seconds} s"),
        60..3600 => format!("{} min", seconds / 60),
        _ => format!("{} h {} min", seconds / 3600, seconds / 60 % 60),
    }
}

/// `text` with the characters that could end an element or an attribute escaped.
fn escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#39;"),
            c => escaped.push(c),
        }
    }
    escaped
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_leaves_no_markup() {
        let hostile = r#"<img src=x onerror="alert(1)"></script>'&"#;
        let escaped = escape(hostile);
        assert_eq!(
            escaped,
            "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;&lt;/script&gt;&#39;&amp;"
        );
        assert!(!escaped.contains(['<', '>', '"', '\'']));
    }
}
