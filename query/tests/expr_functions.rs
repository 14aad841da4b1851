//! Built-in functions, table-driven: each case is an expression, an input batch and the values
//! Spark 3 (non-ANSI, UTC session time zone) computes, worked out by hand from Spark's
//! documentation (doc examples are marked "doc"). Failures are collected and reported together.
//! Conditional and math functions here; strings, date/time and bind errors in `expr_fn_*.rs`.

mod expr_fn_common;

use arrow::array::{Array, NullArray};
use expr_fn_common::*;

fn conditional_cases() -> Vec<Case> {
    vec![
        case(
            "IF(b, i, l)",
            t(),
            i64s(&[Some(1), None, Some(-3), Some(-2_147_483_648)]),
        ),
        case(
            "IF(i > 0, 'pos', 'neg')",
            t(),
            strs(&[Some("pos"), Some("neg"), Some("neg"), Some("neg")]),
        ),
        case("IF(1 < 2, 'a', 'b')", one(), strs(&[Some("a")])), // doc
        case("IF(NULL, 1, 2)", one(), i32s(&[Some(2)])),
        case(
            "IF(b, s, i)",
            t(),
            strs(&[Some("Spark SQL"), Some("-7"), None, Some("")]),
        ),
        case("IF(b, NULL, NULL)", one(), arc(NullArray::new(1))),
        case("COALESCE(NULL, 1, NULL)", one(), i32s(&[Some(1)])), // doc
        case(
            "COALESCE(i, l)",
            t(),
            i64s(&[Some(1), Some(-7), Some(-3), Some(-2_147_483_648)]),
        ),
        case("COALESCE(NULL, NULL)", one(), arc(NullArray::new(1))),
        case(
            "COALESCE(l)",
            t(),
            i64s(&[Some(10), None, Some(-3), Some(i64::MIN)]),
        ),
        case(
            "COALESCE(s, 'none')",
            t(),
            strs(&[
                Some("Spark SQL"),
                Some("none"),
                Some("héllo wörld"),
                Some(""),
            ]),
        ),
        case(
            "COALESCE(i, n, 5)",
            t(),
            i32s(&[Some(1), Some(-7), Some(5), Some(i32::MIN)]),
        ),
        case(
            "NVL(d, 0)",
            t(),
            f64s(&[Some(2.5), Some(-2.5), Some(0.0), Some(0.125)]),
        ),
        case(
            "IFNULL(i, 0)",
            t(),
            i32s(&[Some(1), Some(-7), Some(0), Some(i32::MIN)]),
        ),
        case("NULLIF(2, 2)", one(), i32s(&[None])), // doc
        case(
            "NULLIF(i, 1)",
            t(),
            i32s(&[None, Some(-7), None, Some(i32::MIN)]),
        ),
        case(
            "NULLIF(s, '')",
            t(),
            strs(&[Some("Spark SQL"), None, Some("héllo wörld"), None]),
        ),
        case("NULLIF(1, '1')", one(), i32s(&[None])),
        case("GREATEST(10, 9, 2, 4, 3)", one(), i32s(&[Some(10)])), // doc
        case("LEAST(10, 9, 2, 4, 3)", one(), i32s(&[Some(2)])),     // doc
        case(
            "GREATEST(i, l)",
            t(),
            i64s(&[Some(10), Some(-7), Some(-3), Some(-2_147_483_648)]),
        ),
        case(
            "LEAST(i, l)",
            t(),
            i64s(&[Some(1), Some(-7), Some(-3), Some(i64::MIN)]),
        ),
        case(
            "GREATEST(i, n)",
            t(),
            i32s(&[Some(1), Some(-7), None, Some(i32::MIN)]),
        ),
        case("GREATEST(NULL, NULL)", one(), arc(NullArray::new(1))),
        case(
            "GREATEST(d, 1)",
            t(),
            f64s(&[Some(2.5), Some(1.0), Some(1.0), Some(1.0)]),
        ),
        case(
            "LEAST(s, 'b')",
            t(),
            strs(&[Some("Spark SQL"), Some("b"), Some("b"), Some("")]),
        ),
        case(
            "GREATEST(b, false)",
            t(),
            bools(&[Some(true), Some(false), Some(false), Some(true)]),
        ),
        case(
            "LEAST(dt, ts)",
            t(),
            tss(&[
                Some(1_703_030_400_000_000),
                None,
                Some(0),
                Some(-86_400_000_000),
            ]),
        ),
        case("LEAST(1.0, SQRT(-1))", one(), f64s(&[Some(1.0)])),
        case("NULLIF(SQRT(-1), SQRT(-1))", one(), f64s(&[None])),
    ]
}

fn math_cases() -> Vec<Case> {
    vec![
        case("ABS(-1)", one(), i32s(&[Some(1)])), // doc
        case(
            "ABS(i)",
            t(),
            i32s(&[Some(1), Some(7), None, Some(i32::MIN)]),
        ),
        case(
            "ABS(l)",
            t(),
            i64s(&[Some(10), None, Some(3), Some(i64::MIN)]),
        ),
        case(
            "ABS(d)",
            t(),
            f64s(&[Some(2.5), Some(2.5), None, Some(0.125)]),
        ),
        case("ABS('-1.5')", one(), f64s(&[Some(1.5)])),
        case("ABS(NULL)", one(), f64s(&[None])),
        case("ROUND(2.5, 0)", one(), f64s(&[Some(3.0)])), // doc
        case("ROUND(-2.5)", one(), f64s(&[Some(-3.0)])),
        case(
            "ROUND(d)",
            t(),
            f64s(&[Some(3.0), Some(-3.0), None, Some(0.0)]),
        ),
        case(
            "ROUND(d, 2)",
            t(),
            f64s(&[Some(2.5), Some(-2.5), None, Some(0.13)]),
        ),
        case("ROUND(2.675, 2)", one(), f64s(&[Some(2.68)])),
        case("ROUND(1.005, 2)", one(), f64s(&[Some(1.01)])),
        case("ROUND(1234.5678, -2)", one(), f64s(&[Some(1200.0)])),
        case("ROUND(25, -1)", one(), i32s(&[Some(30)])), // doc
        case(
            "ROUND(i, -1)",
            t(),
            i32s(&[Some(0), Some(-10), None, Some(2_147_483_646)]),
        ),
        case(
            "ROUND(l, 2)",
            t(),
            i64s(&[Some(10), None, Some(-3), Some(i64::MIN)]),
        ),
        case("ROUND(d, NULL)", t(), f64s(&[None, None, None, None])),
        case("ROUND(NULL)", one(), f64s(&[None])),
        case(
            "ROUND(f, 2)",
            t(),
            f32s(&[Some(1.0), None, Some(2.5), Some(-0.13)]),
        ),
        case("CEILING(-0.1)", one(), i64s(&[Some(0)])), // doc (ceil)
        case("CEILING(5)", one(), i64s(&[Some(5)])),    // doc (ceil)
        case("CEILING(d)", t(), i64s(&[Some(3), Some(-2), None, Some(1)])),
        case(
            "CEILING(l)",
            t(),
            i64s(&[Some(10), None, Some(-3), Some(i64::MIN)]),
        ),
        case("CEILING(SQRT(-1))", one(), i64s(&[Some(0)])),
        case("CEILING(EXP(1000))", one(), i64s(&[Some(i64::MAX)])),
        case("POW(2, 3)", one(), f64s(&[Some(8.0)])), // doc
        case(
            "POWER(i, 2)",
            t(),
            f64s(&[
                Some(1.0),
                Some(49.0),
                None,
                Some(4_611_686_018_427_387_904.0),
            ]),
        ),
        case("SQRT(4)", one(), f64s(&[Some(2.0)])), // doc
        case("SQRT(NULL)", one(), f64s(&[None])),
        case("EXP(0)", one(), f64s(&[Some(1.0)])), // doc
        case("LN(1)", one(), f64s(&[Some(0.0)])),  // doc
        case("LN(i)", t(), f64s(&[Some(0.0), None, None, None])),
        case("LOG(10, 100)", one(), f64s(&[Some(2.0)])), // doc
        case("LOG(1)", one(), f64s(&[Some(0.0)])),
        case("LOG(10, 0)", one(), f64s(&[None])),
        case("LOG(0, 10)", one(), f64s(&[None])),
        case("LOG(-1, 10)", one(), f64s(&[None])),
        case("LOG10(10)", one(), f64s(&[Some(1.0)])), // doc
        case("LOG2(2)", one(), f64s(&[Some(1.0)])),   // doc
        case("LOG10(0)", one(), f64s(&[None])),
    ]
}

#[test]
fn conditional_functions() {
    run(conditional_cases());
}

#[test]
fn math_functions() {
    run(math_cases());
}

#[test]
fn nan_results() {
    // Java: Math.sqrt(-1) is NaN; Math.pow(1, NaN) and pow(-1, ±Infinity) are NaN (C gives 1).
    for expr in [
        "SQRT(-1)",
        "POW(1, SQRT(-1))",
        "POW(-1, EXP(1000))",
        "LN(SQRT(-1))",
        "ROUND(SQRT(-1), 2)",
        "LOG(10, SQRT(-1))",
        // NaN is greater than any other value in Spark's ordering.
        "GREATEST(1.0, SQRT(-1))",
        "LEAST(SQRT(-1), SQRT(-1))",
    ] {
        let out = eval(expr, &one()).unwrap_or_else(|e| panic!("{expr}: {e}"));
        let out = out
            .as_any()
            .downcast_ref::<arrow::array::Float64Array>()
            .expect("DOUBLE");
        assert!(out.is_valid(0) && out.value(0).is_nan(), "{expr}: {out:?}");
    }
}

#[test]
fn empty_batches() {
    let empty = t().slice(0, 0);
    for expr in [
        "ROUND(d, 2)",
        "SPLIT(s, ',')",
        "COALESCE(i, 1)",
        "DATE_FORMAT(ts, 'yyyy')",
        "CONCAT()",
    ] {
        let out = eval(expr, &empty).unwrap_or_else(|e| panic!("{expr}: {e}"));
        assert_eq!(out.len(), 0, "{expr}");
    }
}
