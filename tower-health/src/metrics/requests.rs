//! The requests each health endpoint answered, by status code.

use std::sync::atomic::{AtomicU16, AtomicU64, Ordering};

use http::StatusCode;

use super::RequestSeries;

/// How many distinct status codes one endpoint counts; an endpoint answers a handful (its
/// status mapping, 405), so later ones are dropped rather than grow without bound.
const CODES: usize = 16;

/// The requests one endpoint answered, by status code, without a lock.
pub(crate) struct RequestCounts {
    /// The endpoint's path pattern, the `endpoint` label.
    pub(crate) endpoint: Box<str>,
    /// Status codes (0: a free slot) and their counts.
    slots: [(AtomicU16, AtomicU64); CODES],
}

impl RequestCounts {
    pub(crate) fn new(endpoint: String) -> Self {
        RequestCounts {
            endpoint: endpoint.into_boxed_str(),
            slots: Default::default(),
        }
    }

    pub(crate) fn count(&self, status: StatusCode) {
        let code = status.as_u16();
        #[cfg(feature = "metrics")]
        super::facade::request(&self.endpoint, code);
        for (slot, count) in &self.slots {
            let claimed = match slot.load(Ordering::Acquire) {
                0 => slot
                    .compare_exchange(0, code, Ordering::AcqRel, Ordering::Acquire)
                    .unwrap_or_else(|taken| taken),
                taken => taken,
            };
            // `claimed` is 0 after our claim succeeded: the slot is ours.
            if claimed == code || claimed == 0 {
                count.fetch_add(1, Ordering::Relaxed);
                return;
            }
        }
    }

    pub(crate) fn series(&self) -> impl Iterator<Item = RequestSeries<'_>> {
        self.slots.iter().filter_map(|(slot, count)| {
            let code = slot.load(Ordering::Acquire);
            (code != 0).then(|| RequestSeries {
                endpoint: &self.endpoint,
                code,
                count: count.load(Ordering::Relaxed),
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_counted_in_slots_of_their_own_up_to_a_bound() {
        let counts = RequestCounts::new("/health".to_owned());
        for code in [200, 503, 200, 200] {
            counts.count(StatusCode::from_u16(code).unwrap());
        }
        let seen = |counts: &RequestCounts| -> Vec<(u16, u64)> {
            counts.series().map(|s| (s.code, s.count)).collect()
        };
        assert_eq!(seen(&counts), [(200, 3), (503, 1)]);
        for code in 300..400 {
            counts.count(StatusCode::from_u16(code).unwrap());
        }
        let all = seen(&counts);
        assert_eq!(all.len(), CODES, "codes past the bound are dropped");
        assert_eq!(all[..2], [(200, 3), (503, 1)]);
    }
}
