//! A range of IST calendar days, both ends included, and the period before it.

use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use serde::Serialize;

/// The longest range analytics will sum (two years and a day).
pub const MAX_DAYS: i64 = 731;
/// The range a dashboard shows when none is asked for.
pub const DEFAULT_DAYS: i64 = 30;

/// IST days `from..=to`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct DayRange {
    /// First day.
    pub from: NaiveDate,
    /// Last day (included).
    pub to: NaiveDate,
}

/// Why a range was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RangeError {
    /// `from` is after `to`.
    Backwards,
    /// More than [`MAX_DAYS`] days.
    TooLong,
}

impl std::fmt::Display for RangeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RangeError::Backwards => f.write_str("'from' must be on or before 'to'."),
            RangeError::TooLong => write!(f, "A range can cover at most {MAX_DAYS} days."),
        }
    }
}

/// Today in IST.
pub fn ist_today(now: DateTime<Utc>) -> NaiveDate {
    crate::platform::time::ist_date(now)
}

impl DayRange {
    /// The range `from..=to`, if it is the right way round and not too long.
    pub fn new(from: NaiveDate, to: NaiveDate) -> Result<Self, RangeError> {
        if from > to {
            return Err(RangeError::Backwards);
        }
        if (to - from).num_days() + 1 > MAX_DAYS {
            return Err(RangeError::TooLong);
        }
        Ok(DayRange { from, to })
    }

    /// The range asked for, filling what is missing: `to` is today (IST), `from` is
    /// [`DEFAULT_DAYS`] days up to `to`.
    pub fn asked(
        from: Option<NaiveDate>,
        to: Option<NaiveDate>,
        now: DateTime<Utc>,
    ) -> Result<Self, RangeError> {
        let to = to.unwrap_or_else(|| ist_today(now).max(from.unwrap_or(NaiveDate::MIN)));
        let from = from.unwrap_or_else(|| to - Duration::days(DEFAULT_DAYS - 1));
        DayRange::new(from, to)
    }

    /// How many days it covers.
    pub fn days(&self) -> i64 {
        (self.to - self.from).num_days() + 1
    }

    /// The same number of days just before it.
    pub fn previous(&self) -> DayRange {
        let to = self.from - Duration::days(1);
        DayRange {
            from: to - Duration::days(self.days() - 1),
            to,
        }
    }

    /// Every day in it, in order.
    pub fn each_day(&self) -> impl Iterator<Item = NaiveDate> + use<> {
        let from = self.from;
        (0..self.days()).map(move |i| from + Duration::days(i))
    }

    /// `2026-11-01 – 2026-11-30`.
    pub fn label(&self) -> String {
        if self.from == self.to {
            return self.from.format("%-d %b %Y").to_string();
        }
        let start = if self.from.year() == self.to.year() {
            self.from.format("%-d %b")
        } else {
            self.from.format("%-d %b %Y")
        };
        format!("{start} – {}", self.to.format("%-d %b %Y"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn day(text: &str) -> NaiveDate {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn the_previous_period_has_the_same_length_and_crosses_months() {
        let range = DayRange::new(day("2026-12-01"), day("2026-12-10")).unwrap();
        assert_eq!(range.days(), 10);
        let before = range.previous();
        assert_eq!(
            (before.from, before.to),
            (day("2026-11-21"), day("2026-11-30"))
        );
        let march = DayRange::new(day("2028-03-01"), day("2028-03-02"))
            .unwrap()
            .previous();
        assert_eq!(
            (march.from, march.to),
            (day("2028-02-28"), day("2028-02-29"))
        );
    }

    #[test]
    fn defaults_are_the_last_thirty_ist_days() {
        // 20:00 UTC on 30 Nov is 01:30 IST on 1 Dec.
        let now = Utc.with_ymd_and_hms(2026, 11, 30, 20, 0, 0).unwrap();
        let range = DayRange::asked(None, None, now).unwrap();
        assert_eq!(
            (range.from, range.to),
            (day("2026-11-02"), day("2026-12-01"))
        );
        let only_from = DayRange::asked(Some(day("2026-11-20")), None, now).unwrap();
        assert_eq!(only_from.to, day("2026-12-01"));
        assert_eq!(
            DayRange::asked(Some(day("2026-12-05")), Some(day("2026-12-01")), now),
            Err(RangeError::Backwards)
        );
        assert_eq!(
            DayRange::new(day("2024-01-01"), day("2026-12-01")),
            Err(RangeError::TooLong)
        );
        assert_eq!(range.each_day().count(), 30);
    }
}
