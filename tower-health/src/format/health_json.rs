//! `application/health+json`, as in draft-inadarei-api-health-check-06.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use http::{HeaderMap, HeaderValue};
use serde::Serialize;
use serde::ser::{SerializeMap, SerializeSeq, Serializer};
use serde_json::Value;

use super::content_type::HEALTH_JSON;
use super::{Answer, Format, Outcome, Rendered};
use crate::health::CheckRun;
use crate::health::Status;

/// The health+json format (the default).
///
/// `checks` is keyed by check name (name a check `db:responseTime` for a
/// `component:measurement` key); each entry is an array, so checks sharing a name all show.
/// `output` appears only on warn and fail, and only where the exposure policy allows.
///
/// ```
/// use tower_health::format::HealthJson;
/// use tower_health::HealthLayer;
///
/// let layer = HealthLayer::new().format(
///     HealthJson::new().service_id("orders").version("1").release_id(env!("CARGO_PKG_VERSION")),
/// );
/// ```
#[derive(Clone, Debug, Default)]
pub struct HealthJson {
    version: Option<String>,
    release_id: Option<String>,
    service_id: Option<String>,
    description: Option<String>,
    durations: bool,
}

impl HealthJson {
    /// The format with no service fields.
    pub fn new() -> Self {
        Self::default()
    }

    /// The public version of the service (`version`).
    #[must_use]
    pub fn version(mut self, version: impl Into<String>) -> Self {
        self.version = Some(version.into());
        self
    }

    /// The release of the implementation (`releaseId`).
    #[must_use]
    pub fn release_id(mut self, release_id: impl Into<String>) -> Self {
        self.release_id = Some(release_id.into());
        self
    }

    /// The service's identifier (`serviceId`).
    #[must_use]
    pub fn service_id(mut self, service_id: impl Into<String>) -> Self {
        self.service_id = Some(service_id.into());
        self
    }

    /// A human-friendly description of the service (`description`).
    #[must_use]
    pub fn description(mut self, description: impl Into<String>) -> Self {
        self.description = Some(description.into());
        self
    }

    /// Adds each check's last run duration (`duration`, in seconds) to its entry, where the
    /// exposure policy allows.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// use http::Request;
    /// use http_body_util::BodyExt;
    /// use tower::ServiceExt;
    /// use tower_health::format::HealthJson;
    /// use tower_health::{Check, Exposure, Health, HealthLayer};
    ///
    /// let health = Health::new();
    /// health.register(Check::new("database", || async { true }));
    /// let layer = HealthLayer::new().health(health).format(HealthJson::new().durations());
    /// let get = |details| {
    ///     let service = tower::ServiceBuilder::new().layer(layer.clone().exposure(details)).service_fn(
    ///         |_: Request<String>| async { Ok::<_, std::convert::Infallible>(http::Response::new(String::new())) },
    ///     );
    ///     async move {
    ///         let response = service.oneshot(Request::get("/health/ready").body(String::new()).unwrap()).await.unwrap();
    ///         let body = response.into_body().collect().await.unwrap().to_bytes();
    ///         serde_json::from_slice::<serde_json::Value>(&body).unwrap()
    ///     }
    /// };
    /// assert!(get(Exposure::Messages).await["checks"]["database"][0]["duration"].is_f64());
    /// assert!(get(Exposure::Names).await["checks"]["database"][0].get("duration").is_none());
    /// # }
    /// ```
    #[must_use]
    pub fn durations(mut self) -> Self {
        self.durations = true;
        self
    }

    /// The body as a JSON value (the same serialization as the response body).
    pub fn to_value(&self, answer: &Answer<'_>) -> Value {
        // Serializing to a `Value` fails only on non-string map keys, which this body never has.
        serde_json::to_value(Body {
            format: self,
            answer,
        })
        .unwrap_or_default()
    }
}

impl Format for HealthJson {
    fn render(&self, answer: &Answer<'_>) -> Rendered {
        let checks = answer.report().map_or(0, |report| report.checks.len());
        // About what a check entry takes, so that the body is written without regrowing.
        let mut body = Vec::with_capacity(128 + 112 * checks);
        // Writing to memory fails only on non-string map keys, which this body never has.
        let _ = serde_json::to_writer(
            &mut body,
            &Body {
                format: self,
                answer,
            },
        );
        Rendered {
            status: answer.status_code,
            content_type: CONTENT_TYPE.clone(),
            headers: HeaderMap::new(),
            body: body.into(),
        }
    }
}

/// Validated once rather than on every answer.
static CONTENT_TYPE: HeaderValue = HeaderValue::from_static(HEALTH_JSON);

/// The body, written straight from the answer, its keys in the order of the draft's examples:
/// `status` first, what a reader looks for, and the long `checks` last.
struct Body<'a> {
    format: &'a HealthJson,
    answer: &'a Answer<'a>,
}

impl Serialize for Body<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let Body { format, answer } = *self;
        let mut body = serializer.serialize_map(None)?;
        body.serialize_entry("status", answer.status.as_str())?;
        if let Some(version) = &format.version {
            body.serialize_entry("version", version)?;
        }
        if let Some(release_id) = &format.release_id {
            body.serialize_entry("releaseId", release_id)?;
        }
        match answer.outcome {
            Outcome::Report(report) => {
                if let Some((_, why)) = &report.gate {
                    body.serialize_entry("notes", &[why])?;
                }
                if answer.shows_messages() && report.status != Status::Pass {
                    if let Some(output) = report.not_passing() {
                        body.serialize_entry("output", &output)?;
                    }
                }
            }
            Outcome::Maintenance => body.serialize_entry("notes", &["maintenance"])?,
            Outcome::UnknownCheck(name) => {
                body.serialize_entry("output", &format_args!("no check named {name:?}"))?;
            }
        }
        if let Some(service_id) = &format.service_id {
            body.serialize_entry("serviceId", service_id)?;
        }
        if let Some(description) = &format.description {
            body.serialize_entry("description", description)?;
        }
        if let Some(report) = answer.report().filter(|report| !report.checks.is_empty()) {
            body.serialize_entry(
                "checks",
                &ChecksByName {
                    checks: &report.checks,
                    show_messages: answer.shows_messages(),
                    durations: format.durations && answer.shows_messages(),
                },
            )?;
        }
        body.end()
    }
}

/// `checks`: an array of entries per name, names in sorted order, entries in registration order.
struct ChecksByName<'a> {
    checks: &'a [CheckRun],
    show_messages: bool,
    durations: bool,
}

impl Serialize for ChecksByName<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut by_name: Vec<&CheckRun> = self.checks.iter().collect();
        // Stable: checks sharing a name keep their registration order.
        by_name.sort_by(|a, b| a.name.cmp(&b.name));
        let mut checks = serializer.serialize_map(Some(by_name.len()))?;
        for group in by_name.chunk_by(|a, b| a.name == b.name) {
            checks.serialize_entry(
                &*group[0].name,
                &Entries {
                    group,
                    show_messages: self.show_messages,
                    durations: self.durations,
                },
            )?;
        }
        checks.end()
    }
}

struct Entries<'a> {
    group: &'a [&'a CheckRun],
    show_messages: bool,
    durations: bool,
}

impl Serialize for Entries<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut entries = serializer.serialize_seq(Some(self.group.len()))?;
        for check in self.group {
            let mut entry = CheckEntry::new(check, self.show_messages);
            entry.duration = self.durations.then_some(check.duration.as_secs_f64());
            entries.serialize_element(&entry)?;
        }
        entries.end()
    }
}

/// One entry of `checks`; fields in sorted order, absent ones left out.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct CheckEntry<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    component_type: Option<&'a str>,
    /// The last run's duration in seconds, where asked for and the exposure policy allows.
    #[serde(skip_serializing_if = "Option::is_none")]
    duration: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    observed_unit: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    observed_value: Option<&'a Value>,
    /// The message, only on warn and fail and where the exposure policy allows.
    #[serde(skip_serializing_if = "Option::is_none")]
    output: Option<&'a str>,
    status: &'static str,
    #[serde(serialize_with = "rfc3339_millis")]
    time: SystemTime,
}

impl<'a> CheckEntry<'a> {
    fn new(check: &'a CheckRun, show_messages: bool) -> Self {
        let result = &check.result;
        CheckEntry {
            component_type: check.component_type.as_deref(),
            duration: None,
            observed_unit: result.observed_unit.as_deref(),
            observed_value: result.observed_value.as_ref(),
            output: result
                .message
                .as_deref()
                .filter(|_| show_messages && check.status() != Status::Pass),
            status: check.status().as_str(),
            time: check.time,
        }
    }
}

/// RFC 3339 with milliseconds in UTC, as `humantime::format_rfc3339_millis` writes it, from a
/// stack buffer (every entry has a time). humantime panics outside years 1970 to 9999; such a time
/// is written as the nearest one inside.
fn rfc3339_millis<S: Serializer>(time: &SystemTime, serializer: S) -> Result<S::Ok, S::Error> {
    let text = rfc3339_text(time);
    serializer.serialize_str(std::str::from_utf8(&text).unwrap_or_default())
}

/// [`rfc3339_millis`] as a string.
pub(crate) fn rfc3339(time: &SystemTime) -> String {
    String::from_utf8_lossy(&rfc3339_text(time)).into_owned()
}

fn rfc3339_text(time: &SystemTime) -> [u8; 24] {
    /// 9999-12-31T23:59:59.999Z.
    const LAST: Duration = Duration::from_millis(253_402_300_799_999);
    let since = time
        .duration_since(UNIX_EPOCH)
        .unwrap_or(Duration::ZERO)
        .min(LAST);
    let mut text = *b"0000-00-00T00:00:00.000Z";
    let secs = since.as_secs();
    let (year, month, day) = civil_from_days(secs / 86_400);
    let of_day = secs % 86_400;
    put_digits(&mut text[0..4], year);
    put_digits(&mut text[5..7], month);
    put_digits(&mut text[8..10], day);
    put_digits(&mut text[11..13], of_day / 3600);
    put_digits(&mut text[14..16], of_day / 60 % 60);
    put_digits(&mut text[17..19], of_day % 60);
    put_digits(&mut text[20..23], u64::from(since.subsec_millis()));
    text
}

/// Writes the last `digits.len()` decimal digits of `value`.
fn put_digits(digits: &mut [u8], mut value: u64) {
    for digit in digits.iter_mut().rev() {
        *digit = b'0' + (value % 10) as u8;
        value /= 10;
    }
}

/// The (year, month, day) of a count of days since 1970-01-01 (Howard Hinnant's algorithm for the
/// proleptic Gregorian calendar).
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let day_of_era = z % 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let shifted_month = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * shifted_month + 2) / 5 + 1;
    let month = if shifted_month < 10 {
        shifted_month + 3
    } else {
        shifted_month - 9
    };
    let year = year_of_era + era * 400 + u64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use http::StatusCode;

    use super::*;
    use crate::health::{CheckResult, Exposure, Lifecycle, Report, RunEnd};

    fn check(name: &str, result: CheckResult, component_type: Option<&str>) -> CheckRun {
        CheckRun {
            name: name.into(),
            component_type: component_type.map(Arc::from),
            critical: true,
            result,
            time: UNIX_EPOCH + Duration::from_millis(1_700_000_000_123),
            duration: Duration::ZERO,
            end: RunEnd::Completed,
        }
    }

    fn report() -> Report {
        Report {
            status: Status::Fail,
            checks: vec![
                check("redis", CheckResult::fail("refused \"x\""), None),
                check(
                    "disk",
                    CheckResult::warn("nearly full").observed(91, "percent"),
                    Some("system"),
                ),
                check("db", CheckResult::pass(), Some("datastore")),
                check("disk", CheckResult::pass(), None),
            ],
            excluded: Vec::new(),
            unknown_excludes: Vec::new(),
            gate: Some((Status::Fail, "state is warming up".into())),
            state: Lifecycle::WarmingUp,
            fresh_until: None,
        }
    }

    fn answer(outcome: Outcome<'_>, status: Status, show_messages: bool) -> Answer<'_> {
        Answer {
            outcome,
            status,
            status_code: StatusCode::OK,
            state: Lifecycle::Working,
            exposure: if show_messages {
                Exposure::Messages
            } else {
                Exposure::Names
            },
            verbose: false,
        }
    }

    fn formats() -> [HealthJson; 2] {
        [
            HealthJson::new(),
            HealthJson::new()
                .version("1")
                .release_id("1.2.3")
                .service_id("orders")
                .description("the orders service"),
        ]
    }

    #[test]
    fn the_body_is_written_status_first_in_the_drafts_order() {
        let format = &formats()[1];
        let report = report();
        let body = format.render(&answer(Outcome::Report(&report), Status::Fail, true));
        let time = "2023-11-14T22:13:20.123Z";
        let expected = format!(
            concat!(
                r#"{{"status":"fail","version":"1","releaseId":"1.2.3","#,
                r#""notes":["state is warming up"],"output":"state is warming up, redis, disk","#,
                r#""serviceId":"orders","description":"the orders service","checks":{{"#,
                r#""db":[{{"componentType":"datastore","status":"pass","time":"{t}"}}],"#,
                r#""disk":[{{"componentType":"system","observedUnit":"percent","observedValue":91,"output":"nearly full","status":"warn","time":"{t}"}},"#,
                r#"{{"status":"pass","time":"{t}"}}],"#,
                r#""redis":[{{"output":"refused \"x\"","status":"fail","time":"{t}"}}]}}}}"#
            ),
            t = time
        );
        assert_eq!(std::str::from_utf8(&body.body).unwrap(), expected);
        assert_eq!(body.content_type, HEALTH_JSON);
    }

    #[test]
    fn the_body_and_to_value_agree_on_every_outcome() {
        let report = report();
        let passing = Report {
            status: Status::Pass,
            checks: Vec::new(),
            excluded: Vec::new(),
            unknown_excludes: Vec::new(),
            gate: None,
            state: Lifecycle::Working,
            fresh_until: None,
        };
        for format in formats() {
            for show_messages in [false, true] {
                for (outcome, status) in [
                    (Outcome::Report(&report), Status::Fail),
                    (Outcome::Report(&passing), Status::Pass),
                    (Outcome::Maintenance, Status::Warn),
                    (Outcome::UnknownCheck("a\"b"), Status::Fail),
                ] {
                    let answer = answer(outcome, status, show_messages);
                    let written = format.render(&answer).body;
                    let parsed: Value = serde_json::from_slice(&written).unwrap();
                    assert_eq!(
                        parsed,
                        format.to_value(&answer),
                        "{outcome:?}, details {show_messages}"
                    );
                    assert!(written.starts_with(b"{\"status\":"), "status first");
                }
            }
        }
        let hidden =
            HealthJson::new().to_value(&answer(Outcome::Report(&report), Status::Fail, false));
        assert!(hidden["checks"]["redis"][0].get("output").is_none());
        assert!(hidden.get("output").is_none());
        let unknown =
            HealthJson::new().to_value(&answer(Outcome::UnknownCheck("x"), Status::Fail, false));
        assert_eq!(unknown["output"], r#"no check named "x""#);
    }

    #[test]
    fn times_are_written_as_humantime_writes_them() {
        #[derive(Serialize)]
        struct Time(#[serde(serialize_with = "rfc3339_millis")] SystemTime);
        let day = 86_400_000;
        let mut millis: Vec<u64> = vec![
            0,
            999,
            day - 1,
            // 2000-02-28 to 2000-03-01 (a leap day in a century divisible by 400), 1900 is past.
            951_696_000_000,
            951_782_400_000,
            951_868_800_000,
            // 2100-02-28 and 2100-03-01 (no leap day), the last millisecond of 9999.
            4_107_456_000_000,
            4_107_542_400_000,
            253_402_300_799_999,
        ];
        // Every few days over four centuries, at a different time of day each.
        let mut t: u64 = 0;
        while t < 13_000_000_000_000 {
            millis.push(t);
            t += 3 * day + 3_723_456;
        }
        for millis in millis {
            let time = UNIX_EPOCH + Duration::from_millis(millis);
            let expected = format!("\"{}\"", humantime::format_rfc3339_millis(time));
            assert_eq!(
                serde_json::to_string(&Time(time)).unwrap(),
                expected,
                "{millis}"
            );
        }
        // Where humantime would panic: the nearest time it writes.
        let far = UNIX_EPOCH + Duration::from_secs(253_402_300_800 + 86_400);
        assert_eq!(
            serde_json::to_string(&Time(far)).unwrap(),
            r#""9999-12-31T23:59:59.999Z""#
        );
        let before = UNIX_EPOCH - Duration::from_secs(1);
        assert_eq!(
            serde_json::to_string(&Time(before)).unwrap(),
            r#""1970-01-01T00:00:00.000Z""#
        );
    }
}
