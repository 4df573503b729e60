//! Time zones of the date functions: `UTC`/`GMT`/`Z`, fixed offsets (`+09:00`,
//! `GMT-5`), and the IANA names Java's `ZoneId` reads (`Asia/Seoul`, `America/New_York`),
//! whose offsets follow daylight saving time.

use chrono::{DateTime, NaiveDateTime, Offset, TimeZone};
use chrono_tz::Tz;

/// A time zone.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) enum Zone {
    /// A fixed offset from UTC, in microseconds.
    Fixed(i64),
    /// A named zone of the IANA database.
    Named(Tz),
}

impl Zone {
    /// The zone a text names; `None` when it names none.
    pub(super) fn parse(text: &str) -> Option<Zone> {
        let z = text.trim();
        if ["utc", "gmt", "z", "uct"]
            .iter()
            .any(|u| z.eq_ignore_ascii_case(u))
        {
            return Some(Zone::Fixed(0));
        }
        let offset = ["UTC", "GMT", "utc", "gmt"]
            .iter()
            .find_map(|p| z.strip_prefix(p))
            .unwrap_or(z);
        if let Some(micros) = fixed_offset(offset) {
            return Some(Zone::Fixed(micros));
        }
        z.parse::<Tz>().ok().map(Zone::Named)
    }

    /// What to add to a UTC instant to get the wall-clock time in this zone.
    pub(super) fn offset_at_utc(self, utc_micros: i64) -> i64 {
        match self {
            Zone::Fixed(o) => o,
            Zone::Named(tz) => DateTime::from_timestamp_micros(utc_micros).map_or(0, |t| {
                seconds(tz.offset_from_utc_datetime(&t.naive_utc()).fix())
            }),
        }
    }

    /// What a wall-clock time in this zone is ahead of UTC. A time that happens twice
    /// (clocks going back) takes the earlier offset; one that never happens (clocks going
    /// forward) the offset before the change, as `java.time` does.
    pub(super) fn offset_at_local(self, local_micros: i64) -> i64 {
        match self {
            Zone::Fixed(o) => o,
            Zone::Named(tz) => {
                let Some(local) = DateTime::from_timestamp_micros(local_micros) else {
                    return 0;
                };
                let local: NaiveDateTime = local.naive_utc();
                match tz.offset_from_local_datetime(&local).earliest() {
                    Some(o) => seconds(o.fix()),
                    // In a gap: the offset in force just before it.
                    None => self.offset_at_utc(local_micros - 86_400_000_000 / 24),
                }
            }
        }
    }
}

fn seconds(o: chrono::FixedOffset) -> i64 {
    i64::from(o.local_minus_utc()) * 1_000_000
}

/// `+09:00`, `-0500`, `+9`: microseconds east of UTC.
fn fixed_offset(text: &str) -> Option<i64> {
    let (sign, rest) = match text.strip_prefix('+') {
        Some(r) => (1, r),
        None => (-1, text.strip_prefix('-')?),
    };
    let (h, m) = match rest.split_once(':') {
        Some(hm) => hm,
        None if rest.len() == 4 => rest.split_at(2),
        None => (rest, "0"),
    };
    let (h, m) = (h.parse::<i64>().ok()?, m.parse::<i64>().ok()?);
    (h <= 18 && m < 60).then_some(sign * (h * 3600 + m * 60) * 1_000_000)
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOUR: i64 = 3_600_000_000;

    #[test]
    fn names_offsets_and_utc_are_read() {
        assert_eq!(Zone::parse("UTC"), Some(Zone::Fixed(0)));
        assert_eq!(Zone::parse("+09:00"), Some(Zone::Fixed(9 * HOUR)));
        assert_eq!(Zone::parse("GMT-5"), Some(Zone::Fixed(-5 * HOUR)));
        assert_eq!(
            Zone::parse("-0330"),
            Some(Zone::Fixed(-(3 * HOUR + HOUR / 2)))
        );
        assert!(matches!(Zone::parse("Asia/Seoul"), Some(Zone::Named(_))));
        assert_eq!(Zone::parse("Mars/Olympus"), None);
    }

    #[test]
    fn named_zones_follow_daylight_saving_time() {
        let ny = Zone::parse("America/New_York").unwrap();
        // 2024-01-15 and 2024-07-15 at noon UTC.
        let (winter, summer) = (1_705_320_000_000_000, 1_721_044_800_000_000);
        assert_eq!(ny.offset_at_utc(winter), -5 * HOUR);
        assert_eq!(ny.offset_at_utc(summer), -4 * HOUR);
        assert_eq!(ny.offset_at_local(summer), -4 * HOUR);
        assert_eq!(
            Zone::parse("Asia/Seoul").unwrap().offset_at_utc(summer),
            9 * HOUR
        );
        // 2024-03-10 02:30 never happens in New York: the offset before the change.
        let gap = 1_710_037_800_000_000;
        assert_eq!(ny.offset_at_local(gap), -5 * HOUR);
    }

    #[test]
    fn date_functions_take_zone_names() {
        use super::super::testing::eval;
        let same = |a: &str, b: &str| assert_eq!(eval(a), eval(b), "{a}");
        same(
            "fromUTC(toTimestamp('2024-07-15 12:00:00'), 'America/New_York')",
            "toTimestamp('2024-07-15 08:00:00')",
        );
        same(
            "toUTC(toTimestamp('2024-01-15 07:00:00'), 'America/New_York')",
            "toTimestamp('2024-01-15 12:00:00')",
        );
        same(
            "toTimestamp('2024-07-15 21:00:00', 'yyyy-MM-dd HH:mm:ss', 'Asia/Seoul')",
            "toTimestamp('2024-07-15 12:00:00')",
        );
        same(
            "hour(toTimestamp('2024-01-15 12:00:00'), 'Asia/Seoul')",
            "21",
        );
        same(
            "fromUTC(toTimestamp('2024-01-15 12:00:00'), 'Nowhere/Else')",
            "null",
        );
    }
}
