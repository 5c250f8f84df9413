//! Whether the store's people are answering at a given moment, in the store's own time zone.

use super::profile::SupportHours;
use chrono::{DateTime, Datelike, NaiveTime, Utc};
use chrono_tz::Tz;

impl SupportHours {
    /// The time zone, when it is a known IANA zone.
    pub fn zone(&self) -> Option<Tz> {
        self.timezone.trim().parse().ok()
    }

    /// Whether `at` falls within the hours on an open day, in the store's time zone.
    pub fn is_open_at(&self, at: DateTime<Utc>) -> bool {
        let Some(zone) = self.zone() else {
            return false;
        };
        let local = at.with_timezone(&zone);
        let day = local.weekday().to_string().to_lowercase();
        let parse = |t: &str| NaiveTime::parse_from_str(t.trim(), "%H:%M").ok();
        let (Some(open), Some(close)) = (parse(&self.open), parse(&self.close)) else {
            return false;
        };
        let now = local.time();
        self.days.contains(&day) && open <= now && now < close
    }

    /// The hours in words, e.g. `mon, tue, wed 10:00–19:00 (Asia/Kolkata)`.
    pub fn describe(&self) -> String {
        format!(
            "{} {}–{} ({})",
            self.days.join(", "),
            self.open,
            self.close,
            self.timezone
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hours_are_read_in_the_store_time_zone() {
        let hours = SupportHours {
            timezone: "Asia/Kolkata".into(),
            days: vec!["mon".into(), "tue".into()],
            open: "10:00".into(),
            close: "19:00".into(),
        };
        let at = |s: &str| s.parse::<DateTime<Utc>>().unwrap();
        // Monday 2026-11-23: 04:30 UTC is 10:00 IST.
        assert!(hours.is_open_at(at("2026-11-23T04:30:00Z")));
        assert!(!hours.is_open_at(at("2026-11-23T04:29:00Z")));
        assert!(!hours.is_open_at(at("2026-11-23T13:30:00Z")));
        // Sunday is closed.
        assert!(!hours.is_open_at(at("2026-11-22T06:00:00Z")));
        assert_eq!(hours.describe(), "mon, tue 10:00–19:00 (Asia/Kolkata)");
    }
}
