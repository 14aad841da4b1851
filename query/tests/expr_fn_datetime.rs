//! Date/time functions, table-driven (see `expr_functions.rs`), in UTC: expected instants
//! worked out by hand (2023-12-20 12:01:01 UTC is 1703073661 s, day 19711) and from Spark's
//! documentation ("doc" marks its examples).

mod expr_fn_common;

use expr_fn_common::*;

const SECOND: i64 = 1_000_000;

fn datetime_cases() -> Vec<Case> {
    vec![
        // doc: 1460098800 in America/Los_Angeles, i.e. 1460073600 (2016-04-08 00:00) in UTC.
        case(
            "UNIX_TIMESTAMP('2016-04-08', 'yyyy-MM-dd')",
            one(),
            i64s(&[Some(1_460_073_600)]),
        ),
        case(
            "UNIX_TIMESTAMP('2023-12-20 12:01:01')",
            one(),
            i64s(&[Some(1_703_073_661)]),
        ),
        case(
            "UNIX_TIMESTAMP('1969-12-31 23:59:59')",
            one(),
            i64s(&[Some(-1)]),
        ),
        case(
            "UNIX_TIMESTAMP('2023/12/20', 'yyyy-MM-dd')",
            one(),
            i64s(&[None]),
        ),
        case(
            "UNIX_TIMESTAMP('2023-02-30', 'yyyy-MM-dd')",
            one(),
            i64s(&[None]),
        ),
        case(
            "UNIX_TIMESTAMP('2023-12-20 24:00:00')",
            one(),
            i64s(&[None]),
        ),
        case(
            "UNIX_TIMESTAMP('20231220', 'yyyyMMdd')",
            one(),
            i64s(&[Some(1_703_030_400)]),
        ),
        case(
            "UNIX_TIMESTAMP(20231220, 'yyyyMMdd')",
            one(),
            i64s(&[Some(1_703_030_400)]),
        ),
        case(
            "UNIX_TIMESTAMP('12/20/23 12:01', 'MM/dd/yy HH:mm')",
            one(),
            i64s(&[Some(1_703_073_660)]),
        ),
        case(
            "UNIX_TIMESTAMP('Dec 20, 2023', 'MMM dd, yyyy')",
            one(),
            i64s(&[Some(1_703_030_400)]),
        ),
        case(
            r#"UNIX_TIMESTAMP('2023-12-20T12:01:01', "yyyy-MM-dd'T'HH:mm:ss")"#,
            one(),
            i64s(&[Some(1_703_073_661)]),
        ),
        case(
            "UNIX_TIMESTAMP('2023-12-20 12:01:01.999', 'yyyy-MM-dd HH:mm:ss.SSS')",
            one(),
            i64s(&[Some(1_703_073_661)]),
        ),
        case("UNIX_TIMESTAMP(NULL, 'yyyy')", one(), i64s(&[None])),
        case(
            "UNIX_TIMESTAMP(ts)",
            t(),
            i64s(&[Some(1_703_073_661), None, Some(0), Some(-1)]),
        ),
        case(
            "UNIX_TIMESTAMP(dt)",
            t(),
            i64s(&[Some(1_703_030_400), None, Some(0), Some(-86_400)]),
        ),
        case(
            "UNIX_TIMESTAMP(text, fmt)",
            formats(),
            i64s(&[Some(1_703_030_400), Some(1_703_030_400), None, None]),
        ),
        case(
            "TO_UNIX_TIMESTAMP('2023-12-20 12:01:01')",
            one(),
            i64s(&[Some(1_703_073_661)]),
        ),
        case(
            "FROM_UNIXTIME(0, 'yyyy-MM-dd HH:mm:ss')",
            one(),
            strs(&[Some("1970-01-01 00:00:00")]),
        ), // doc
        case(
            "FROM_UNIXTIME(0)",
            one(),
            strs(&[Some("1970-01-01 00:00:00")]),
        ), // doc
        case(
            "FROM_UNIXTIME(1703073661)",
            one(),
            strs(&[Some("2023-12-20 12:01:01")]),
        ),
        case(
            "FROM_UNIXTIME(-1)",
            one(),
            strs(&[Some("1969-12-31 23:59:59")]),
        ),
        case(
            "FROM_UNIXTIME(l, 'yyyy')",
            t(),
            strs(&[Some("1970"), None, Some("1969"), None]),
        ),
        case(
            "FROM_UNIXTIME(1703073661, 'd/M/yy H:m:s')",
            one(),
            strs(&[Some("20/12/23 12:1:1")]),
        ),
        case(
            "FROM_UNIXTIME(1703073661, 'MMMM d, yyyy')",
            one(),
            strs(&[Some("December 20, 2023")]),
        ),
        case("FROM_UNIXTIME(NULL)", one(), strs(&[None])),
        case("FROM_UNIXTIME(0, NULL)", one(), strs(&[None])),
        case(
            "FROM_UNIXTIME(UNIX_TIMESTAMP('2023-12-20 12:01:01'))",
            one(),
            strs(&[Some("2023-12-20 12:01:01")]),
        ),
        case(
            "UNIX_TIMESTAMP(FROM_UNIXTIME(1703073661))",
            one(),
            i64s(&[Some(1_703_073_661)]),
        ),
        case(
            "TO_DATE('2016-12-31', 'yyyy-MM-dd')",
            one(),
            dates(&[Some(17_166)]),
        ), // doc
        case(
            "TO_DATE('12/31/2016', 'MM/dd/yyyy')",
            one(),
            dates(&[Some(17_166)]),
        ),
        case("TO_DATE('2016-13-01', 'yyyy-MM-dd')", one(), dates(&[None])),
        case(
            "TO_DATE(20231220, 'yyyyMMdd')",
            one(),
            dates(&[Some(19_711)]),
        ),
        case(
            "TO_DATE(ts)",
            t(),
            dates(&[Some(19_711), None, Some(0), Some(-1)]),
        ),
        case(
            "TO_DATE(dt)",
            t(),
            dates(&[Some(19_711), None, Some(0), Some(-1)]),
        ),
        case(
            "TO_DATE(ts, 'yyyy')",
            t(),
            dates(&[Some(19_711), None, Some(0), Some(-1)]),
        ),
        case(
            "TO_TIMESTAMP('2023-12-20 12:01:01', 'yyyy-MM-dd HH:mm:ss')",
            one(),
            tss(&[Some(1_703_073_661 * SECOND)]),
        ),
        case(
            "TO_TIMESTAMP('2016-12-31', 'yyyy-MM-dd')",
            one(),
            tss(&[Some(1_483_142_400 * SECOND)]),
        ), // doc
        case(
            "TO_TIMESTAMP(dt)",
            t(),
            tss(&[
                Some(1_703_030_400 * SECOND),
                None,
                Some(0),
                Some(-86_400 * SECOND),
            ]),
        ),
        case(
            "DATE_FORMAT(ts, 'yyyy-MM-dd HH:mm:ss.SSS')",
            t(),
            strs(&[
                Some("2023-12-20 12:01:01.000"),
                None,
                Some("1970-01-01 00:00:00.000"),
                Some("1969-12-31 23:59:59.999"),
            ]),
        ),
        case(
            "DATE_FORMAT(dt, 'yyyyMMdd')",
            t(),
            strs(&[Some("20231220"), None, Some("19700101"), Some("19691231")]),
        ),
        case(
            "DATE_FORMAT(ts, 'yy')",
            t(),
            strs(&[Some("23"), None, Some("70"), Some("69")]),
        ),
        case(
            "DATE_FORMAT(ts, 'SSSSSS')",
            t(),
            strs(&[Some("000000"), None, Some("000000"), Some("999999")]),
        ),
        case(
            "DATE_FORMAT(ts, NULL)",
            t(),
            strs(&[None, None, None, None]),
        ),
    ]
}

/// Functions Spark defines through CAST from a string: these follow the binder's CAST.
fn cast_based_cases() -> Vec<Case> {
    vec![
        case(
            "TO_DATE('2009-07-30 04:17:52')",
            one(),
            dates(&[Some(14_455)]),
        ), // doc
        case("TO_DATE('2023-12-20')", one(), dates(&[Some(19_711)])),
        case("TO_DATE('not a date')", one(), dates(&[None])),
        case(
            "TO_TIMESTAMP('2016-12-31 00:12:00')",
            one(),
            tss(&[Some(1_483_143_120 * SECOND)]),
        ), // doc
        case(
            "DATE_FORMAT('2016-04-08', 'y')",
            one(),
            strs(&[Some("2016")]),
        ), // doc
        case(
            "DATE_FORMAT('2023-12-20 12:01:01', 'HH:mm')",
            one(),
            strs(&[Some("12:01")]),
        ),
    ]
}

#[test]
fn datetime_functions() {
    run(datetime_cases());
}

#[test]
fn cast_based_datetime_functions() {
    run(cast_based_cases());
}

#[test]
fn pattern_from_a_column_is_checked_when_evaluated() {
    let batch = batch(vec![("p", strs(&[Some("yyyy"), Some("yyyy-MM-dd hh")]))]);
    let err = eval("FROM_UNIXTIME(0, p)", &batch).expect_err("'h' is not supported");
    assert!(err.contains("unsupported pattern letter 'h'"), "{err}");
}
