//! Timestamps as text, in UTC so output does not depend on the machine's zone.

use crate::savefile::Timestamp;

/// `HH:MM:SS.uuuuuu`, as tcpdump prints a packet's time of day.
pub fn time_of_day(ts: Timestamp) -> String {
    let secs_of_day = ts.secs % 86_400;
    format!(
        "{:02}:{:02}:{:02}.{:06}",
        secs_of_day / 3600,
        secs_of_day / 60 % 60,
        secs_of_day % 60,
        ts.nanos / 1000
    )
}

/// RFC 3339, `YYYY-MM-DDTHH:MM:SS.nnnnnnnnnZ`.
pub fn rfc3339(ts: Timestamp) -> String {
    let days = i64::try_from(ts.secs / 86_400).unwrap_or(i64::MAX / 2);
    let (y, m, d) = civil_from_days(days);
    let s = ts.secs % 86_400;
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:09}Z",
        s / 3600,
        s / 60 % 60,
        s % 60,
        ts.nanos
    )
}

/// Gregorian date of a day count since 1970-01-01 (Howard Hinnant's
/// `civil_from_days`, proleptic calendar).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_dates() {
        let ts = Timestamp {
            secs: 1_700_000_000,
            nanos: 5_000,
        };
        assert_eq!(rfc3339(ts), "2023-11-14T22:13:20.000005000Z");
        assert_eq!(time_of_day(ts), "22:13:20.000005");
        assert_eq!(
            rfc3339(Timestamp::default()),
            "1970-01-01T00:00:00.000000000Z"
        );
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
    }
}
