//! Unit tests of the functions' pure helpers; the SQL-level suite is `tests/expr_functions.rs`.
//! Expected values follow Spark's (Java's) documented behaviour, worked out by hand.

use super::calendar::{civil_from_days, date_to_days, days_from_civil};
use super::datetime_format::Pattern;
use super::math::java_pow;
use super::round::{round_half_up, round_integer};
use super::split::Splitter;
use super::string::{locate, substring_sql};

#[test]
fn round_half_up_uses_the_decimal_text() {
    assert_eq!(round_half_up(2.5, 0), 3.0);
    assert_eq!(round_half_up(-2.5, 0), -3.0);
    assert_eq!(round_half_up(0.5, 0), 1.0);
    assert_eq!(round_half_up(0.125, 2), 0.13);
    // 2.675 and 1.005 are stored slightly below; Spark rounds their text "2.675", "1.005".
    assert_eq!(round_half_up(2.675, 2), 2.68);
    assert_eq!(round_half_up(1.005, 2), 1.01);
    assert_eq!(round_half_up(0.49999999999999994, 0), 0.0);
    assert_eq!(round_half_up(1234.5678, -2), 1200.0);
    assert_eq!(round_half_up(1250.0, -2), 1300.0);
    assert_eq!(round_half_up(9.5, -1), 10.0);
    assert_eq!(round_half_up(4.9, -1), 0.0);
    assert_eq!(round_half_up(1e300, 2), 1e300);
    assert_eq!(round_half_up(123.456, 10), 123.456);
    assert_eq!(round_half_up(5e-324, 0), 0.0);
    // BigDecimal has no negative zero.
    assert!(round_half_up(-0.001, 2).is_sign_positive());
    assert!(round_half_up(-0.0, 0).is_sign_positive());
    assert!(round_half_up(f64::NAN, 2).is_nan());
    assert_eq!(round_half_up(f64::NEG_INFINITY, 2), f64::NEG_INFINITY);
    // 1.7976931348623157e308 to -308 places: 2e308, beyond DOUBLE: Infinity, as BigDecimal.toDouble.
    assert_eq!(round_half_up(f64::MAX, -308), f64::INFINITY);
}

#[test]
fn round_integer_is_half_up_and_wraps_like_scala() {
    assert_eq!(round_integer(25, 1), 30);
    assert_eq!(round_integer(-25, 1), -30);
    assert_eq!(round_integer(24, 1), 20);
    assert_eq!(round_integer(-7, 1), -10);
    assert_eq!(round_integer(149, 2), 100);
    assert_eq!(round_integer(i128::from(i64::MAX), 40), 0);
    // BigDecimal(Long.MaxValue).setScale(-19, HALF_UP) = 1E+19; .toLong keeps the low 64 bits.
    assert_eq!(
        round_integer(i128::from(i64::MAX), 19) as i64,
        -8_446_744_073_709_551_616
    );
    // 127.toByte rounded to tens: 130, which wraps to -126.
    assert_eq!(round_integer(127, 1) as i8, -126);
}

#[test]
fn java_pow_special_cases() {
    assert_eq!(java_pow(2.0, 10.0), 1024.0);
    assert!(java_pow(1.0, f64::NAN).is_nan());
    assert!(java_pow(-1.0, f64::INFINITY).is_nan());
    assert_eq!(java_pow(f64::NAN, 0.0), 1.0);
    assert_eq!(java_pow(0.0, -1.0), f64::INFINITY);
}

#[test]
fn substring_positions_follow_substring_sql() {
    let s = "Spark SQL";
    assert_eq!(substring_sql(s, 5, i32::MAX), "k SQL");
    assert_eq!(substring_sql(s, -3, i32::MAX), "SQL");
    assert_eq!(substring_sql(s, 5, 1), "k");
    assert_eq!(substring_sql(s, 0, 2), "Sp");
    assert_eq!(substring_sql(s, 1, 2), "Sp");
    assert_eq!(substring_sql("abc", -5, 3), "a");
    assert_eq!(substring_sql("abc", -5, 2), "");
    assert_eq!(substring_sql("abc", 2, 0), "");
    assert_eq!(substring_sql("abc", 2, -1), "");
    assert_eq!(substring_sql("abc", 4, 1), "");
    assert_eq!(substring_sql("abc", i32::MAX, i32::MAX), "");
    assert_eq!(substring_sql("abc", i32::MIN, i32::MAX), "ab");
    assert_eq!(substring_sql("héllo", -4, 2), "él");
    assert_eq!(substring_sql("日本語", 2, 5), "本語");
    assert_eq!(substring_sql("", 1, 1), "");
}

fn split(s: &str, pattern: &str, limit: i32) -> Vec<String> {
    let splitter = Splitter::new(pattern).expect("valid pattern");
    let mut parts = Vec::new();
    splitter.split(s, limit, &mut parts);
    parts.into_iter().map(str::to_owned).collect()
}

#[test]
fn split_follows_java() {
    assert_eq!(split("a,b,,", ",", -1), ["a", "b", "", ""]);
    assert_eq!(split(",a,", ",", -1), ["", "a", ""]);
    assert_eq!(split("", ",", -1), [""]);
    assert_eq!(split("abc", ",", -1), ["abc"]);
    assert_eq!(split("a,b,c", ",", 2), ["a", "b,c"]);
    assert_eq!(split("a,b,c", ",", 1), ["a,b,c"]);
    assert_eq!(split("a,b,c", ",", 5), ["a", "b", "c"]);
    assert_eq!(
        split("oneAtwoBthreeC", "[ABC]", -1),
        ["one", "two", "three", ""]
    );
    assert_eq!(split("a.b", ".", -1), ["", "", "", ""]);
    assert_eq!(split("a|b", "\\|", -1), ["a", "b"]);
    assert_eq!(split("a1b22c", "\\d+", -1), ["a", "b", "c"]);
    assert_eq!(split("a b\tc", "\\s", -1), ["a", "b", "c"]);
    // Java's \d is ASCII-only: the Arabic-Indic digit ٣ is not a separator.
    assert_eq!(split("a٣b", "\\d", -1), ["a٣b"]);
    // Zero-width matches: none at the start gives a leading empty string.
    assert_eq!(split("abc", "x*", -1), ["a", "b", "c", ""]);
    // Matcher.find: an empty match right after a non-empty one is found too.
    assert_eq!(split("baaac", "a*", -1), ["b", "", "c", ""]);
    // Empty pattern: characters, no trailing empty string (Spark 3.4+).
    assert_eq!(split("héllo", "", -1), ["h", "é", "l", "l", "o"]);
    assert_eq!(split("hello", "", 2), ["h", "e"]);
    assert_eq!(split("", "", -1), [""]);
    // Lazy quantifiers are the same in both dialects.
    assert_eq!(split("aaa", "a+?", -1), ["", "", "", ""]);
    // Multi-byte separators.
    assert_eq!(split("a→b→", "→", -1), ["a", "b", ""]);
}

#[test]
fn unsupported_regexes_are_errors() {
    for pattern in ["(?=a)", "(a)\\1", "a*+", "a{2}+", "[a", "\\Qa\\E"] {
        assert!(Splitter::new(pattern).is_err(), "{pattern}");
    }
}

#[test]
fn calendar_round_trips() {
    assert_eq!(days_from_civil(1970, 1, 1), 0);
    assert_eq!(civil_from_days(0), (1970, 1, 1));
    assert_eq!(civil_from_days(-1), (1969, 12, 31));
    assert_eq!(days_from_civil(2023, 12, 20), 19_711);
    assert_eq!(civil_from_days(19_711), (2023, 12, 20));
    assert_eq!(days_from_civil(2000, 2, 29), 11_016);
    assert_eq!(civil_from_days(11_016), (2000, 2, 29));
    assert_eq!(civil_from_days(-719_528), (0, 1, 1));
    for days in (-800_000..800_000).step_by(997) {
        let (y, m, d) = civil_from_days(days);
        assert_eq!(date_to_days(y, m.into(), d.into()), Some(days));
    }
    assert_eq!(date_to_days(2023, 2, 29), None);
    assert_eq!(date_to_days(2024, 2, 29), Some(19_782));
    assert_eq!(date_to_days(1900, 2, 29), None);
    assert_eq!(date_to_days(2023, 13, 1), None);
    assert_eq!(date_to_days(2023, 4, 31), None);
}

fn parse(pattern: &str, text: &str) -> Option<i64> {
    Pattern::compile(pattern).expect("valid").parse(text)
}

fn format(pattern: &str, micros: i64) -> String {
    let mut out = String::new();
    Pattern::compile(pattern)
        .expect("valid")
        .format(micros, &mut out);
    out
}

#[test]
fn patterns_parse_strictly() {
    let second = 1_000_000;
    let default = "yyyy-MM-dd HH:mm:ss";
    assert_eq!(
        parse(default, "2023-12-20 12:01:01"),
        Some(1_703_073_661 * second)
    );
    assert_eq!(parse(default, "2023-12-20 12:01"), None);
    assert_eq!(parse(default, "2023-12-20 12:01:01 "), None);
    assert_eq!(parse(default, "2023-2-20 12:01:01"), None);
    assert_eq!(parse(default, "2023-12-20 24:00:00"), None);
    assert_eq!(parse(default, "2023-12-20 23:60:00"), None);
    assert_eq!(parse(default, "12023-12-20 12:01:01"), None);
    assert_eq!(parse("yyyyMMdd", "20231220"), Some(1_703_030_400 * second));
    assert_eq!(
        parse("yyyyMMddHHmm", "202312201201"),
        Some(1_703_073_660 * second)
    );
    assert_eq!(parse("yyyyMMdd", "2023122"), None);
    assert_eq!(parse("y-M-d", "2023-1-5"), Some(19_362 * 86_400 * second));
    assert_eq!(parse("yy-MM-dd", "23-12-20"), Some(1_703_030_400 * second));
    assert_eq!(
        parse("MMM d, yyyy", "dec 20, 2023"),
        Some(1_703_030_400 * second)
    );
    assert_eq!(
        parse("MMMM d yyyy", "December 20 2023"),
        Some(1_703_030_400 * second)
    );
    assert_eq!(
        parse("yyyy-MM-dd'T'HH:mm", "2023-12-20t12:01"),
        Some(1_703_073_660 * second)
    );
    assert_eq!(parse("MM-dd", "02-01"), Some(31 * 86_400 * second));
    assert_eq!(parse("HH:mm", "01:30"), Some(5_400 * second));
    let millis = "yyyy-MM-dd HH:mm:ss.SSS";
    assert_eq!(parse(millis, "1970-01-01 00:00:00.5"), Some(500_000));
    assert_eq!(parse(millis, "1970-01-01 00:00:00.123"), Some(123_000));
    assert_eq!(parse(millis, "1970-01-01 00:00:00.1234"), None);
    assert_eq!(parse(millis, "1970-01-01 00:00:00."), None);
    assert_eq!(parse("ss.SSSSSSSSS", "00.123456789"), Some(123_456));
}

#[test]
fn patterns_format() {
    let t = 1_703_073_661_000_000; // 2023-12-20 12:01:01 UTC
    assert_eq!(format("yyyy-MM-dd HH:mm:ss", t), "2023-12-20 12:01:01");
    assert_eq!(format("d/M/yy H:m:s", t), "20/12/23 12:1:1");
    assert_eq!(format("MMM d, yyyy", t), "Dec 20, 2023");
    assert_eq!(format("MMMM", t), "December");
    assert_eq!(format("'week''s' yyyy", t), "week's 2023");
    assert_eq!(format("''yy''", t), "'23'");
    assert_eq!(format("y", t), "2023");
    assert_eq!(format("yyyyy", t), "02023");
    assert_eq!(format("ss.SSS", -1), "59.999");
    assert_eq!(format("yyyy-MM-dd", -1), "1969-12-31");
    // Year 10000 with 'yyyy' exceeds the pad width: Java prints a sign.
    let y10k = days_from_civil(10_000, 1, 1) * 86_400_000_000;
    assert_eq!(format("yyyy", y10k), "+10000");
    // Year 0 and -1 (1 BCE and 2 BCE), proleptic.
    let y0 = days_from_civil(0, 6, 1) * 86_400_000_000;
    assert_eq!(format("yyyy", y0), "0000");
    assert_eq!(
        format("yyyy", days_from_civil(-1, 6, 1) * 86_400_000_000),
        "-0001"
    );
}

#[test]
fn pattern_errors_name_the_problem() {
    let err = |p: &str| Pattern::compile(p).expect_err(p);
    assert!(err("yyyy-MM-dd hh").contains("'h'"));
    assert!(err("EEE").contains("'E'"));
    assert!(err("yyyy-MM-dd'T").contains("unterminated quote"));
    assert!(err("yyyy[-MM]").contains("'['"));
    assert!(err("ddd").contains("too many pattern letters \"ddd\""));
    assert!(err("yyyyyyy").contains("too many"));
    assert!(err("MMMMM").contains("too many"));
    assert!(err("SSSSSSSSSS").contains("too many"));
}

#[test]
fn locate_counts_characters() {
    assert_eq!(locate("foobarbar", "bar", 1), 4);
    assert_eq!(locate("foobarbar", "bar", 5), 7);
    assert_eq!(locate("foobarbar", "bar", 8), 0);
    assert_eq!(locate("foobarbar", "bar", 0), 0);
    assert_eq!(locate("foobarbar", "bar", i32::MAX), 0);
    assert_eq!(locate("abc", "", 1), 1);
    assert_eq!(locate("abc", "", 9), 1);
    assert_eq!(locate("héllo wörld", "ö", 1), 8);
    assert_eq!(locate("", "a", 1), 0);
}
