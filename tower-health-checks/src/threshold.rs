//! Warn and fail thresholds on amounts of bytes, shared by the disk and memory checks.

use tower_health::{CheckResult, Status};

/// An amount of bytes, absolute or as a share of a total, for the disk and memory thresholds.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Amount {
    /// A number of bytes.
    Bytes(u64),
    /// A percentage (0 to 100) of the total.
    Percent(f64),
}

impl Amount {
    /// `n` mebibytes.
    pub const fn mib(n: u64) -> Amount {
        Amount::Bytes(n * 1024 * 1024)
    }

    /// `n` gibibytes.
    pub const fn gib(n: u64) -> Amount {
        Amount::Bytes(n * 1024 * 1024 * 1024)
    }

    /// The amount in bytes, given the total it may be a share of.
    fn bytes_of(self, total: u64) -> f64 {
        match self {
            Amount::Bytes(bytes) => bytes as f64,
            Amount::Percent(percent) => total as f64 * percent / 100.0,
        }
    }
}

/// Which side of a threshold is bad.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(not(all(feature = "disk", feature = "memory")), allow(dead_code))]
pub(super) enum Bad {
    /// Less is worse (free disk space).
    Below,
    /// More is worse (memory used).
    Above,
}

/// Warn and fail thresholds on an amount of bytes out of a total.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) struct Thresholds {
    pub(super) bad: Bad,
    pub(super) warn: Option<Amount>,
    pub(super) fail: Option<Amount>,
}

impl Thresholds {
    /// The status of `value` bytes out of `total`, and the threshold it crossed.
    fn status(&self, value: u64, total: u64) -> (Status, Option<Amount>) {
        let crossed = |amount: Option<Amount>| {
            amount.filter(|amount| {
                let limit = amount.bytes_of(total);
                match self.bad {
                    Bad::Below => (value as f64) < limit,
                    Bad::Above => (value as f64) > limit,
                }
            })
        };
        if let Some(amount) = crossed(self.fail) {
            (Status::Fail, Some(amount))
        } else if let Some(amount) = crossed(self.warn) {
            (Status::Warn, Some(amount))
        } else {
            (Status::Pass, None)
        }
    }

    /// A result for `value` bytes of `what` out of `total`, observed as a percentage, with the
    /// byte counts as data.
    pub(super) fn result(&self, what: &str, value: u64, total: u64) -> CheckResult {
        let percent = percent(value, total);
        let (status, crossed) = self.status(value, total);
        let mut result = CheckResult::new(status)
            .observed(percent, "percent")
            .data("bytes", value)
            .data("totalBytes", total);
        if let Some(amount) = crossed {
            let side = match self.bad {
                Bad::Below => "below",
                Bad::Above => "above",
            };
            let threshold = match amount {
                Amount::Bytes(bytes) => format_bytes(bytes),
                Amount::Percent(p) => format!("{p}%"),
            };
            result = result.message(format!(
                "{what} {} ({percent}%) of {} is {side} the {} threshold of {threshold}",
                format_bytes(value),
                format_bytes(total),
                status.as_str(),
            ));
        }
        result
    }
}

/// `value` as a percentage of `total`, to one decimal place.
fn percent(value: u64, total: u64) -> f64 {
    if total == 0 {
        return 0.0;
    }
    (value as f64 * 1000.0 / total as f64).round() / 10.0
}

/// Bytes in the largest binary unit that keeps the number at least 1, to one decimal place.
fn format_bytes(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thresholds_pick_the_worst_crossed() {
        let free = Thresholds {
            bad: Bad::Below,
            warn: Some(Amount::Percent(20.0)),
            fail: Some(Amount::Bytes(100)),
        };
        assert_eq!(free.status(500, 1000), (Status::Pass, None));
        assert_eq!(
            free.status(150, 1000),
            (Status::Warn, Some(Amount::Percent(20.0)))
        );
        assert_eq!(
            free.status(99, 1000),
            (Status::Fail, Some(Amount::Bytes(100)))
        );
        let used = Thresholds {
            bad: Bad::Above,
            warn: Some(Amount::Percent(80.0)),
            fail: None,
        };
        assert_eq!(used.status(800, 1000), (Status::Pass, None));
        assert_eq!(used.status(801, 1000).0, Status::Warn);
    }

    #[test]
    fn results_observe_a_percentage_and_explain_the_threshold() {
        let used = Thresholds {
            bad: Bad::Above,
            warn: None,
            fail: Some(Amount::Percent(50.0)),
        };
        let result = used.result("memory used", 3 * 1024 * 1024, 4 * 1024 * 1024);
        assert_eq!(result.status, Status::Fail);
        assert_eq!(result.observed_value, Some(75.0.into()));
        assert_eq!(result.observed_unit.as_deref(), Some("percent"));
        assert_eq!(
            result.message.as_deref(),
            Some("memory used 3.0 MiB (75%) of 4.0 MiB is above the fail threshold of 50%")
        );
    }
}
