//! Spark's DATE and TIMESTAMP text: `DateTimeUtils.stringToDate`, `stringToTimestamp` (session
//! time zone UTC, R-TIME-1) and the formatters `CAST(... AS STRING)` uses. Proleptic Gregorian
//! calendar throughout, as Spark 3.

use super::parse::trim_all;

pub(crate) use crate::expr::functions::calendar::{
    civil_from_days, days_from_civil, MICROS_PER_DAY, MICROS_PER_SECOND,
};

fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        4 | 6 | 9 | 11 => 30,
        2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
        2 => 28,
        _ => 31,
    }
}

/// `LocalDate.of`: the days since the epoch of a valid date.
fn local_date(year: i64, month: i64, day: i64) -> Option<i64> {
    let month = u32::try_from(month).ok().filter(|m| (1..=12).contains(m))?;
    let day = u32::try_from(day).ok()?;
    (day >= 1 && day <= days_in_month(year, month)).then(|| days_from_civil(year, month, day))
}

/// Spark's string → DATE: `[+-]yyyy*`, `[+-]yyyy*-[m]m`, `[+-]yyyy*-[m]m-[d]d`, optionally
/// followed by ` ` or `T` and anything; a year of 4 to 7 digits.
pub fn parse_date(s: &str) -> Option<i32> {
    let bytes = trim_all(s).as_bytes();
    let (sign, mut j) = match bytes.first()? {
        b'-' => (-1, 1),
        b'+' => (1, 1),
        _ => (1, 0),
    };
    let valid = |segment: usize, digits: usize| {
        if segment == 0 {
            (4..=7).contains(&digits)
        } else {
            (1..=2).contains(&digits)
        }
    };
    let mut segments = [1i64; 3];
    let (mut i, mut value, mut digits) = (0usize, 0i64, 0usize);
    while j < bytes.len() && i < 3 && bytes[j] != b' ' && bytes[j] != b'T' {
        let b = bytes[j];
        if i < 2 && b == b'-' {
            if !valid(i, digits) {
                return None;
            }
            segments[i] = value;
            (value, digits) = (0, 0);
            i += 1;
        } else if b.is_ascii_digit() {
            value = value.checked_mul(10)?.checked_add(i64::from(b - b'0'))?;
            digits += 1;
        } else {
            return None;
        }
        j += 1;
    }
    if !valid(i, digits) || (i < 2 && j < bytes.len()) {
        return None;
    }
    segments[i] = value;
    let days = local_date(sign * segments[0], segments[1], segments[2])?;
    i32::try_from(days).ok()
}

/// Spark's string → TIMESTAMP (`parseTimestampString` + `stringToTimestamp`) in microseconds,
/// with UTC as the session time zone: a date as [`parse_date`] accepts, then optionally ` ` or
/// `T`, `[h]h:[m]m:[s]s`, a fraction of up to 6 digits (more are truncated) and a zone: `Z`,
/// `UTC`, `GMT`, `UT` (optionally followed by an offset), `+h`, `+hh:mm`, `+hhmm`, `+hh:mm:ss`.
///
/// Not supported, giving `None`: region zone ids (`Europe/Paris`, needing a time-zone database)
/// and time-only text (`12:00:00`, which Spark places on the current date).
pub fn parse_timestamp(s: &str) -> Option<i64> {
    let bytes = trim_all(s).as_bytes();
    let valid = |segment: usize, digits: usize| match segment {
        0 => (4..=6).contains(&digits),
        6 => true,
        7 => digits <= 2,
        _ => (1..=2).contains(&digits),
    };
    let mut segments = [1i64, 1, 1, 0, 0, 0, 0, 0, 0];
    let (mut i, mut value, mut digits, mut fraction_digits) = (0usize, 0i64, 0usize, 0u32);
    let mut zone: Option<&[u8]> = None;
    let (sign, mut j) = match bytes.first()? {
        b'-' => (-1, 1),
        b'+' => (1, 1),
        _ => (1, 0),
    };
    while j < bytes.len() {
        let b = bytes[j];
        if b.is_ascii_digit() {
            if i == 6 {
                fraction_digits += 1;
            }
            if i != 6 || digits < 6 {
                value = value.checked_mul(10)?.checked_add(i64::from(b - b'0'))?;
            }
            digits += 1;
            j += 1;
            continue;
        }
        let separator_ok = match i {
            _ if j == 0 && b == b'T' => return None, // time only
            0 if b == b':' => return None,           // time only
            0 | 1 => b == b'-',
            2 => b == b' ' || b == b'T',
            3 | 4 => b == b':',
            5 if b == b'.' => true,
            5 | 6 => {
                if !valid(i, digits) {
                    return None;
                }
                segments[i] = value;
                zone = Some(&bytes[j..]);
                i = 7;
                (value, digits) = (0, 0);
                break;
            }
            _ => false,
        };
        if !separator_ok || !valid(i, digits) {
            return None;
        }
        segments[i] = value;
        (value, digits) = (0, 0);
        i += 1;
        j += 1;
    }
    if !valid(i, digits) {
        return None;
    }
    segments[i] = value;
    segments[6] *= 10i64.pow(6u32.saturating_sub(fraction_digits.min(6)));
    let offset_seconds = match zone {
        Some(zone) => zone_offset_seconds(std::str::from_utf8(zone).ok()?.trim())?,
        None => 0,
    };
    let days = local_date(sign * segments[0], segments[1], segments[2])?;
    let (hour, minute, second) = (segments[3], segments[4], segments[5]);
    if hour > 23 || minute > 59 || second > 59 {
        return None;
    }
    let seconds = days * 86_400 + hour * 3600 + minute * 60 + second - offset_seconds;
    seconds
        .checked_mul(MICROS_PER_SECOND)?
        .checked_add(segments[6])
}

/// The offset east of UTC, in seconds, of a zone id Java's `ZoneId.of` reads without a
/// time-zone database (after Spark's `getZoneId` padding of `+h:mm` and `+hh:m`).
fn zone_offset_seconds(zone: &str) -> Option<i64> {
    match zone {
        "Z" | "UTC" | "GMT" | "UT" => return Some(0),
        // Fixed-offset entries of `ZoneId.SHORT_IDS`.
        "EST" => return Some(-5 * 3600),
        "MST" => return Some(-7 * 3600),
        "HST" => return Some(-10 * 3600),
        _ => {}
    }
    let offset = ["UTC", "GMT", "UT"]
        .iter()
        .find_map(|prefix| zone.strip_prefix(prefix))
        .filter(|rest| rest.starts_with(['+', '-']))
        .unwrap_or(zone);
    let (sign, body) = match offset.as_bytes().first()? {
        b'+' => (1, &offset[1..]),
        b'-' => (-1, &offset[1..]),
        _ => return None,
    };
    let number = |t: &str| -> Option<i64> {
        (!t.is_empty() && t.len() <= 2 && t.bytes().all(|b| b.is_ascii_digit()))
            .then(|| t.parse().ok())
            .flatten()
    };
    let parts: Vec<&str> = body.split(':').collect();
    let (h, m, s) = match parts.as_slice() {
        [h] if h.len() <= 2 => (number(h)?, 0, 0),
        [hm] if hm.len() == 4 => (number(&hm[..2])?, number(&hm[2..])?, 0),
        [hms] if hms.len() == 6 => (number(&hms[..2])?, number(&hms[2..4])?, number(&hms[4..])?),
        [h, m] => (number(h)?, number(m)?, 0),
        [h, m, s] => (number(h)?, number(m)?, number(s)?),
        _ => return None,
    };
    if h > 18 || m > 59 || s > 59 || (h == 18 && (m > 0 || s > 0)) {
        return None;
    }
    Some(sign * (h * 3600 + m * 60 + s))
}

/// Spark's year text in `yyyy-MM-dd`: four digits at least, `+` above 9999, `-` below 0.
fn year_text(year: i64) -> String {
    match year {
        y if y > 9999 => format!("+{y}"),
        y if y < 0 => format!("-{:04}", -y),
        y => format!("{y:04}"),
    }
}

/// `CAST(date AS STRING)`: `yyyy-MM-dd`.
pub fn format_date(days: i32) -> String {
    let (y, m, d) = civil_from_days(i64::from(days));
    format!("{}-{m:02}-{d:02}", year_text(y))
}

/// `CAST(timestamp AS STRING)` in UTC: `yyyy-MM-dd HH:mm:ss`, then `.` and the fraction of a
/// second without trailing zeros, if it is not zero.
pub fn format_timestamp(micros: i64) -> String {
    let days = micros.div_euclid(MICROS_PER_DAY);
    let of_day = micros.rem_euclid(MICROS_PER_DAY);
    let (y, m, d) = civil_from_days(days);
    let seconds = of_day / MICROS_PER_SECOND;
    let fraction = of_day % MICROS_PER_SECOND;
    let mut text = format!(
        "{}-{m:02}-{d:02} {:02}:{:02}:{:02}",
        year_text(y),
        seconds / 3600,
        seconds / 60 % 60,
        seconds % 60
    );
    if fraction != 0 {
        let digits = format!("{fraction:06}");
        text.push('.');
        text.push_str(digits.trim_end_matches('0'));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_round_trip() {
        for days in [-719_528, -1, 0, 1, 19_723, 2_932_896] {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
        assert_eq!(days_from_civil(2023, 12, 20), 19_711);
    }

    #[test]
    fn dates() {
        assert_eq!(parse_date("2023-12-20"), Some(19_711));
        assert_eq!(parse_date(" 2023-12-20 12:00:00"), Some(19_711));
        assert_eq!(parse_date("2023-12-20T12"), Some(19_711));
        assert_eq!(
            parse_date("2023-1-2"),
            Some(days_from_civil(2023, 1, 2) as i32)
        );
        assert_eq!(parse_date("2023"), Some(days_from_civil(2023, 1, 1) as i32));
        assert_eq!(
            parse_date("2023-02"),
            Some(days_from_civil(2023, 2, 1) as i32)
        );
        assert_eq!(parse_date("2023-02-29"), None);
        assert_eq!(parse_date("2023-13-01"), None);
        assert_eq!(parse_date("23-01-01"), None);
        assert_eq!(parse_date("2023-01-01x"), None);
        assert_eq!(parse_date("2023/01/01"), None);
        assert_eq!(parse_date(""), None);
        assert_eq!(format_date(19_711), "2023-12-20");
    }

    #[test]
    fn timestamps() {
        let t = |s| parse_timestamp(s);
        let base = 1_703_073_661 * MICROS_PER_SECOND; // 2023-12-20T12:01:01Z
        assert_eq!(t("2023-12-20 12:01:01"), Some(base));
        assert_eq!(t("2023-12-20T12:01:01Z"), Some(base));
        assert_eq!(t("2023-12-20 12:01:01.923"), Some(base + 923_000));
        assert_eq!(t("2023-12-20 12:01:01.1234567"), Some(base + 123_456));
        assert_eq!(t("2023-12-20 13:01:01+01:00"), Some(base));
        assert_eq!(t("2023-12-20 13:01:01 UTC+1"), Some(base));
        assert_eq!(t("2023-12-20"), Some(1_703_030_400 * MICROS_PER_SECOND));
        assert_eq!(t("2023-12-20 12:01"), Some(base - MICROS_PER_SECOND));
        assert_eq!(t("2023-12-20 24:00:00"), None);
        assert_eq!(t("2023-12-20 12:01:01 Europe/Paris"), None);
        assert_eq!(t("12:01:01"), None);
        assert_eq!(t("garbage"), None);
        assert_eq!(format_timestamp(base), "2023-12-20 12:01:01");
        assert_eq!(format_timestamp(base + 500_000), "2023-12-20 12:01:01.5");
        assert_eq!(format_timestamp(-1), "1969-12-31 23:59:59.999999");
    }
}
