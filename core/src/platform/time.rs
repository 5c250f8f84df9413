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

/// Parses a point in time given by a person: RFC 3339 (`2026-11-22T10:00:00Z`), an IST day
/// (`2026-11-22`, its midnight), or a span before `now` (`90m`, `6h`, `2d`).
pub fn parse_since(text: &str, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let text = text.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Some(t.with_timezone(&Utc));
    }
    if let Ok(day) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        return (1971..=9999)
            .contains(&day.year())
            .then(|| ist_day_start(day));
    }
    let (number, unit) = text.split_at(text.find(|c: char| !c.is_ascii_digit())?);
    let n: i64 = number.parse().ok()?;
    let span = match unit {
        "s" => chrono::Duration::try_seconds(n)?,
        "m" => chrono::Duration::try_minutes(n)?,
        "h" => chrono::Duration::try_hours(n)?,
        "d" => chrono::Duration::try_days(n)?,
        _ => return None,
    };
    now.checked_sub_signed(span)
        .filter(|t| (1971..=9999).contains(&t.year()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn since_takes_instants_days_and_spans() {
        let now = Utc.with_ymd_and_hms(2026, 11, 22, 12, 0, 0).unwrap();
        assert_eq!(
            parse_since("2026-11-22T10:00:00Z", now),
            Some(Utc.with_ymd_and_hms(2026, 11, 22, 10, 0, 0).unwrap())
        );
        assert_eq!(
            parse_since("2026-11-22", now),
            Some(Utc.with_ymd_and_hms(2026, 11, 21, 18, 30, 0).unwrap())
        );
        assert_eq!(
            parse_since("90m", now),
            Some(Utc.with_ymd_and_hms(2026, 11, 22, 10, 30, 0).unwrap())
        );
        assert_eq!(parse_since("2d", now).unwrap().day(), 20);
        for bad in [
            "",
            "yesterday",
            "5w",
            "m",
            "99999999999999999999d",
            "3000000d",
        ] {
            assert_eq!(parse_since(bad, now), None, "{bad}");
        }
    }

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

/// The IST calendar day a moment falls on.
pub fn ist_date(at: DateTime<Utc>) -> NaiveDate {
    at.with_timezone(&ist()).date_naive()
}

/// A moment as a person in India reads it: `3 Dec 2026, 14:05 IST`.
pub fn ist_text(at: DateTime<Utc>) -> String {
    at.with_timezone(&ist())
        .format("%-d %b %Y, %H:%M IST")
        .to_string()
}

/// A moment's IST time of day with seconds: `14:05:09`.
pub fn ist_clock(at: DateTime<Utc>) -> String {
    at.with_timezone(&ist()).format("%H:%M:%S").to_string()
}

#[cfg(test)]
mod ist_text_tests {
    use super::*;

    #[test]
    fn moments_read_in_ist() {
        let at = DateTime::parse_from_rfc3339("2026-12-03T18:35:09Z")
            .unwrap()
            .to_utc();
        assert_eq!(ist_text(at), "4 Dec 2026, 00:05 IST");
        assert_eq!(ist_clock(at), "00:05:09");
    }
}
