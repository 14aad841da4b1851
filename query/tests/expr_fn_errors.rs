//! Bind-time errors of the built-in functions: wrong arity, types and literal patterns are
//! reported when the expression is compiled, naming the function and the reason.

mod expr_fn_common;

use expr_fn_common::*;
use tilefold_query::expr::Expression;

#[test]
fn bind_errors_name_the_reason() {
    let errors = [
        ("ABS(1, 2)", "ABS: expects 1 argument, got 2"),
        ("ABS(b)", "ABS: needs a number, found BOOLEAN"),
        ("ABS(dt)", "needs a number, found DATE"),
        ("ROUND(d, i)", "the scale must be an integer literal"),
        ("ROUND(d, 1.5)", "the scale must be an integer literal"),
        ("ROUND(d, 1, 2)", "ROUND: expects 1 or 2 arguments, got 3"),
        ("CEILING(d, 1)", "scale argument"),
        ("POW(2)", "POW: expects 2 arguments, got 1"),
        ("IF(i, 1, 2)", "IF: needs a BOOLEAN condition, found INT"),
        ("IF(b, 1)", "IF: expects 3 arguments, got 2"),
        ("IF(b, dt, 1)", "no common type (DATE, INT)"),
        ("COALESCE()", "COALESCE: expects at least 1 argument, got 0"),
        ("COALESCE(b, i)", "no common type (BOOLEAN, INT)"),
        ("NVL(i)", "NVL: expects 2 arguments, got 1"),
        ("NULLIF(i)", "NULLIF: expects 2 arguments, got 1"),
        (
            "GREATEST(1)",
            "GREATEST: expects at least 2 arguments, got 1",
        ),
        ("GREATEST(i, s)", "no common type (INT, STRING)"),
        ("LENGTH()", "LENGTH: expects 1 argument, got 0"),
        (
            "LOWER(SPLIT(s, ','))",
            "LOWER: needs a STRING, found ARRAY<STRING>",
        ),
        (
            "CONCAT(s, SPLIT(s, ','))",
            "needs a STRING, found ARRAY<STRING>",
        ),
        (
            "LTRIM(s, s)",
            "trimming characters other than spaces is not supported",
        ),
        ("INSTR(s)", "INSTR: expects 2 arguments, got 1"),
        (
            "LOCATE(s, s, s, s)",
            "LOCATE: expects 2 or 3 arguments, got 4",
        ),
        ("SPLIT(s)", "SPLIT: expects 2 or 3 arguments, got 1"),
        ("SPLIT(s, '(?=a)')", "unsupported regex"),
        ("UNIX_TIMESTAMP()", "not deterministic"),
        (
            "UNIX_TIMESTAMP(s, 'yyyy-MM-dd hh:mm')",
            "unsupported pattern letter 'h'",
        ),
        (r#"FROM_UNIXTIME(0, "yyyy-MM-dd'T")"#, "unterminated quote"),
        (
            "FROM_UNIXTIME(b)",
            "FROM_UNIXTIME: needs a number, found BOOLEAN",
        ),
        (
            "DATE_FORMAT(ts, 'yyyy-MM-dd [HH]')",
            "unsupported character '['",
        ),
        ("DATE_FORMAT(ts, 'EEE')", "unsupported pattern letter 'E'"),
        (
            "DATE_FORMAT(i, 'yyyy')",
            "DATE_FORMAT: needs a STRING, DATE or TIMESTAMP, found INT",
        ),
        ("DATE_FORMAT(ts)", "DATE_FORMAT: expects 2 arguments, got 1"),
        ("TO_DATE(s, 'ddd')", "too many pattern letters \"ddd\""),
        (
            "TO_DATE(i)",
            "TO_DATE: needs a STRING, DATE or TIMESTAMP, found INT",
        ),
    ];
    let schema = t().schema();
    let mut failures = Vec::new();
    for (expr, want) in errors {
        match Expression::compile(expr, &schema) {
            Ok(_) => failures.push(format!("{expr}: compiled, want error {want:?}")),
            Err(e) if !e.reason.contains(want) => {
                failures.push(format!("{expr}: error {:?}, want {want:?}", e.reason))
            }
            Err(_) => {}
        }
    }
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
