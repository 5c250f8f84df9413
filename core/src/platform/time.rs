//! India Standard Time: Exotel sends IST wall-clock strings without an offset, and calendar
//! days (filters, reports) are IST days. Caly stores UTC.

use chrono::{DateTime, Datelike, FixedOffset, NaiveDate, NaiveDateTime, TimeZone, Utc};

/// India Standard Time, UTC+05:30.
pub fn ist() -> FixedOffset {
    FixedOffset::east_opt(5 * 3600 + 30 * 60).expect("IST offset is valid")
}

/// Exotel's "no time" marker: epoch 0 in IST.
pub const EXOTEL_UNSET_TIME: &str = "1970-01-01 05:30:00";

/// Parses `YYYY-MM-DD HH:mm:ss` (IST), `Tue, 16 Feb 2016 15:56:26` (IST) or RFC 3339.
/// Exotel's "unset" marker `1970-01-01 05:30:00` (epoch 0), years outside 1971–9999 and
/// unparseable text give `None`.
pub fn parse_exotel_time(raw: &str) -> Option<DateTime<Utc>> {
    let raw = raw.trim();
    if raw.is_empty() {
        return None;
    }
    if let Ok(t) = DateTime::parse_from_rfc3339(raw) {
        return Some(t.with_timezone(&Utc)).filter(|t| (1971..=9999).contains(&t.year()));
    }
    let naive = [
        "%Y-%m-%d %H:%M:%S",
        "%a, %d %b %Y %H:%M:%S",
        "%Y-%m-%dT%H:%M:%S",
    ]
    .iter()
    .find_map(|fmt| NaiveDateTime::parse_from_str(raw, fmt).ok())?;
    if !(1971..=9999).contains(&naive.year()) {
        return None;
    }
    Some(
        ist()
            .from_local_datetime(&naive)
            .single()?
            .with_timezone(&Utc),
    )
}

/// The UTC instant at which an IST calendar date starts.
pub fn ist_day_start(date: NaiveDate) -> DateTime<Utc> {
    let midnight = date.and_hms_opt(0, 0, 0).expect("midnight exists");
    ist()
        .from_local_datetime(&midnight)
        .single()
        .expect("IST has no gaps")
        .with_timezone(&Utc)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ist_strings_become_utc() {
        let t = parse_exotel_time("2024-01-15 14:25:10").unwrap();
        assert_eq!(t.to_rfc3339(), "2024-01-15T08:55:10+00:00");
        let t = parse_exotel_time("Tue, 16 Feb 2016 15:56:26").unwrap();
        assert_eq!(t.to_rfc3339(), "2016-02-16T10:26:26+00:00");
    }

    #[test]
    fn unset_and_garbage_are_none() {
        assert_eq!(parse_exotel_time(EXOTEL_UNSET_TIME), None);
        assert_eq!(parse_exotel_time("yesterday"), None);
        assert_eq!(parse_exotel_time(""), None);
    }
}
