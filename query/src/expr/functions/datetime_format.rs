//! Java `DateTimeFormatter` patterns as Spark 3 uses them (`spark.sql.legacy.timeParserPolicy`
//! not LEGACY), for the supported letters:
//!
//! | letters | formats as | parses |
//! |---|---|---|
//! | `y`, `yyy` | year, padded to the count | 1 (3) or more digits |
//! | `yy` | last two digits | two digits, 2000–2099 |
//! | `yyyy`…`yyyyyy` | year padded to the count (`+` beyond it) | exactly the count of digits |
//! | `M`/`L`, `d`, `H`, `m`, `s` | unpadded number | one or more digits |
//! | `MM`/`LL`, `dd`, `HH`, `mm`, `ss` | two digits | exactly two digits |
//! | `MMM`, `MMMM` | `Jan`, `January` | the same, any case |
//! | `S`…`SSSSSSSSS` | that many fraction digits | 1 to that many digits |
//!
//! Text in single quotes is literal (`''` is a quote); other non-letters are literal. Any other
//! letter, `[`/`]` optional sections and `{`, `}`, `#` are errors. Parsing is strict and whole:
//! the text must match entirely; missing fields default to 1970-01-01 00:00:00; literals match
//! case-insensitively. Adjacent numbers (`yyyyMMdd`) parse as Java's adjacent value parsing does.

use super::calendar::{civil_from_days, date_to_days, micros_of, MICROS_PER_DAY};

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    Year,
    Month,
    Day,
    Hour,
    Minute,
    Second,
}

#[derive(Debug, Clone)]
enum Item {
    Literal(String),
    /// A number; `reserved` digits are left for the fixed-width numbers right after it.
    Number {
        field: Field,
        count: usize,
        reserved: usize,
    },
    MonthText {
        full: bool,
    },
    Fraction(usize),
}

/// A compiled datetime pattern.
#[derive(Debug, Clone)]
pub(crate) struct Pattern {
    items: Vec<Item>,
}

/// Spark's default pattern for `UNIX_TIMESTAMP` and `FROM_UNIXTIME`.
pub(crate) const DEFAULT_PATTERN: &str = "yyyy-MM-dd HH:mm:ss";

impl Pattern {
    /// Compiles `format`, or names what is not supported in it.
    pub(crate) fn compile(format: &str) -> Result<Pattern, String> {
        let mut items: Vec<Item> = Vec::new();
        let literal = |items: &mut Vec<Item>, c: char| match items.last_mut() {
            Some(Item::Literal(text)) => text.push(c),
            _ => items.push(Item::Literal(c.to_string())),
        };
        let chars: Vec<char> = format.chars().collect();
        let mut i = 0;
        while i < chars.len() {
            let c = chars[i];
            if c == '\'' {
                let mut j = i + 1;
                if chars.get(j) == Some(&'\'') {
                    literal(&mut items, '\'');
                    i = j + 1;
                    continue;
                }
                loop {
                    match (chars.get(j), chars.get(j + 1)) {
                        (None, _) => {
                            return Err(format!("unterminated quote in format {format:?}"))
                        }
                        (Some('\''), Some('\'')) => {
                            literal(&mut items, '\'');
                            j += 2;
                        }
                        (Some('\''), _) => break,
                        (Some(&q), _) => {
                            literal(&mut items, q);
                            j += 1;
                        }
                    }
                }
                i = j + 1;
                continue;
            }
            if matches!(c, '[' | ']' | '{' | '}' | '#') {
                return Err(format!("unsupported character {c:?} in format {format:?}"));
            }
            if !c.is_ascii_alphabetic() {
                literal(&mut items, c);
                i += 1;
                continue;
            }
            let count = chars[i..].iter().take_while(|&&d| d == c).count();
            let run: String = chars[i..i + count].iter().collect();
            let too_many = || format!("too many pattern letters {run:?} in format {format:?}");
            let number = |field, max: usize| {
                if count <= max {
                    Ok(Item::Number {
                        field,
                        count,
                        reserved: 0,
                    })
                } else {
                    Err(too_many())
                }
            };
            items.push(match c {
                'y' => number(Field::Year, 6)?,
                'M' | 'L' if count <= 2 => number(Field::Month, 2)?,
                'M' | 'L' if count <= 4 => Item::MonthText { full: count == 4 },
                'M' | 'L' => return Err(too_many()),
                'd' => number(Field::Day, 2)?,
                'H' => number(Field::Hour, 2)?,
                'm' => number(Field::Minute, 2)?,
                's' => number(Field::Second, 2)?,
                'S' if count <= 9 => Item::Fraction(count),
                'S' => return Err(too_many()),
                other => {
                    return Err(format!(
                        "unsupported pattern letter {other:?} in format {format:?}"
                    ))
                }
            });
            i += count;
        }
        reserve_adjacent_widths(&mut items);
        Ok(Pattern { items })
    }

    /// `micros` since the epoch as UTC text.
    pub(crate) fn format(&self, micros: i64, out: &mut String) {
        use std::fmt::Write;
        let (days, in_day) = (
            micros.div_euclid(MICROS_PER_DAY),
            micros.rem_euclid(MICROS_PER_DAY),
        );
        let (year, month, day) = civil_from_days(days);
        let seconds = in_day / 1_000_000;
        for item in &self.items {
            // Writing to a String cannot fail.
            let _ = match item {
                Item::Literal(text) => out.write_str(text),
                Item::Number {
                    field: Field::Year,
                    count,
                    ..
                } => write_year(out, year, *count),
                Item::Number { field, count, .. } => {
                    let value = match field {
                        Field::Month => i64::from(month),
                        Field::Day => i64::from(day),
                        Field::Hour => seconds / 3600,
                        Field::Minute => seconds / 60 % 60,
                        _ => seconds % 60,
                    };
                    write!(out, "{value:0count$}")
                }
                Item::MonthText { full } => {
                    let name = MONTHS[(month as usize).saturating_sub(1) % 12];
                    out.write_str(if *full { name } else { &name[..3] })
                }
                Item::Fraction(count) => {
                    let nanos = format!("{:09}", in_day % 1_000_000 * 1000);
                    out.write_str(&nanos[..(*count).min(9)])
                }
            };
        }
    }

    /// Microseconds since the epoch of `text` read as UTC, or `None` if it does not match.
    pub(crate) fn parse(&self, text: &str) -> Option<i64> {
        let mut rest = text;
        let mut fields = [None::<i64>; 6];
        let mut nanos = 0;
        for item in &self.items {
            match item {
                Item::Literal(literal) => {
                    for want in literal.chars() {
                        let mut chars = rest.chars();
                        let got = chars.next()?;
                        if !(got == want || got.to_lowercase().eq(want.to_lowercase())) {
                            return None;
                        }
                        rest = chars.as_str();
                    }
                }
                Item::Number {
                    field,
                    count,
                    reserved,
                } => {
                    let (value, after) = parse_number(rest, *field, *count, *reserved)?;
                    fields[*field as usize] = Some(value);
                    rest = after;
                }
                Item::MonthText { full } => {
                    let (index, length) = MONTHS.iter().enumerate().find_map(|(i, name)| {
                        let name = if *full { name } else { &name[..3] };
                        let head = rest.get(..name.len())?;
                        head.eq_ignore_ascii_case(name).then_some((i, name.len()))
                    })?;
                    fields[Field::Month as usize] = Some(index as i64 + 1);
                    rest = &rest[length..];
                }
                Item::Fraction(count) => {
                    let digits = leading_digits(rest).min(*count);
                    if digits == 0 {
                        return None;
                    }
                    let value: i64 = rest[..digits].parse().ok()?;
                    nanos = value * 10_i64.pow(9 - digits as u32);
                    rest = &rest[digits..];
                }
            }
        }
        if !rest.is_empty() {
            return None;
        }
        let get = |f: Field, default| fields[f as usize].unwrap_or(default);
        let days = date_to_days(
            get(Field::Year, 1970),
            get(Field::Month, 1),
            get(Field::Day, 1),
        )?;
        let (h, m, s) = (
            get(Field::Hour, 0),
            get(Field::Minute, 0),
            get(Field::Second, 0),
        );
        micros_of(days, h, m, s, nanos / 1000)
    }
}

/// Java's year printing: `yy` the last two digits; otherwise padded to the count, with a `-`
/// for negative years and, from four letters on, a `+` when the year has more digits than that.
fn write_year(out: &mut String, year: i64, count: usize) -> std::fmt::Result {
    use std::fmt::Write;
    if count == 2 {
        return write!(out, "{:02}", year.rem_euclid(100));
    }
    let digits = year.unsigned_abs().to_string();
    if year < 0 {
        out.push('-');
    } else if count >= 4 && digits.len() > count {
        out.push('+');
    }
    write!(out, "{digits:0>count$}")
}

/// The (minimum, maximum) digits a number takes when parsed, and whether more than the minimum
/// needs a sign (Java's `SignStyle.EXCEEDS_PAD`, which this parser treats as no match).
fn widths(field: Field, count: usize) -> (usize, usize, bool) {
    match (field, count) {
        (Field::Year, 2) => (2, 2, false),
        (Field::Year, c) if c >= 4 => (c, 19, true),
        (_, 2) => (2, 2, false),
        (_, c) => (c, 19, false),
    }
}

/// Java's adjacent value parsing: a number directly followed by fixed-width numbers leaves
/// their digits to them (`yyyyMMdd`, `Hmmss`).
fn reserve_adjacent_widths(items: &mut [Item]) {
    let mut base: Option<usize> = None;
    for i in 0..items.len() {
        let Item::Number { field, count, .. } = items[i] else {
            base = None;
            continue;
        };
        let (min, max, _) = widths(field, count);
        match base {
            Some(b) if min == max => {
                if let Item::Number { reserved, .. } = &mut items[b] {
                    *reserved += min;
                }
            }
            _ => base = Some(i),
        }
    }
}

fn leading_digits(text: &str) -> usize {
    text.bytes().take_while(u8::is_ascii_digit).count()
}

/// Reads a number at the start of `text`: its value and the text after it.
fn parse_number(text: &str, field: Field, count: usize, reserved: usize) -> Option<(i64, &str)> {
    let (min, max, exceeds_pad) = widths(field, count);
    let available = leading_digits(text).min(max + reserved);
    let taken = if reserved > 0 {
        available.saturating_sub(reserved).max(min)
    } else {
        available
    };
    if taken < min || taken > available || (exceeds_pad && taken > min) {
        return None;
    }
    let value = text[..taken].bytes().try_fold(0_i64, |n, d| {
        n.checked_mul(10)?.checked_add(i64::from(d - b'0'))
    })?;
    let value = if (field, count) == (Field::Year, 2) {
        2000 + value
    } else {
        value
    };
    Some((value, &text[taken..]))
}
