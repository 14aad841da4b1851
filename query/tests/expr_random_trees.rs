//! Random expression trees over every core form (R-CFG-9): compiling never panics, and an
//! expression that compiles evaluates without error, on a batch and on a slice of it, to one
//! value per row of the announced type. The stable-toolchain companion of the `expr_compile`
//! fuzz target.

mod expr_common;

use arrow::array::RecordBatch;
use expr_common::{batch, Col};
use proptest::prelude::*;
use tilefold_query::expr::Expression;

fn fixture() -> RecordBatch {
    batch(vec![
        ("i", Col::I32(vec![Some(1), None, Some(i32::MAX), Some(-7)])),
        ("l", Col::I64(vec![Some(i64::MIN), Some(0), None, Some(3)])),
        (
            "d",
            Col::F64(vec![Some(2.5), Some(f64::NAN), None, Some(-0.0)]),
        ),
        (
            "s",
            Col::Str(vec![Some("10"), Some("a%_\\"), None, Some("2023-01-01")]),
        ),
        (
            "b",
            Col::Bool(vec![Some(true), None, Some(false), Some(true)]),
        ),
        (
            "arr",
            Col::ListI64(vec![
                Some(vec![Some(1), None]),
                None,
                Some(vec![]),
                Some(vec![Some(4)]),
            ]),
        ),
        (
            "m",
            Col::MapStrI64(vec![
                Some(vec![("a", Some(1))]),
                None,
                Some(vec![]),
                Some(vec![("b", None)]),
            ]),
        ),
        ("dt", Col::Date(vec![Some(19_358), None, Some(-1), Some(0)])),
        (
            "ts",
            Col::TsMillis(vec![None, Some(0), Some(-1), Some(1_672_531_200_500)]),
        ),
    ])
}

const LEAVES: &[&str] = &[
    "i",
    "l",
    "d",
    "s",
    "b",
    "arr",
    "m",
    "dt",
    "ts",
    "NULL",
    "0",
    "1",
    "-1",
    "2147483647",
    "9223372036854775807",
    "2.5",
    "1e10",
    "'10'",
    "'abc'",
    "'a%'",
    "''",
    "true",
    "false",
    "DATE '2023-01-01'",
    "TIMESTAMP '1970-01-01 00:00:01'",
    "'\\\\'",
];

const BINARY: &[&str] = &[
    "+", "-", "*", "/", "%", "DIV", "=", "!=", "<", "<=", ">", ">=", "<=>", "AND", "OR", "LIKE",
    "ILIKE", "NOT LIKE",
];

const TYPES: &[&str] = &[
    "INT",
    "BIGINT",
    "TINYINT",
    "SMALLINT",
    "DOUBLE",
    "FLOAT",
    "STRING",
    "BOOLEAN",
    "DATE",
    "TIMESTAMP",
    "ARRAY<STRING>",
    "DECIMAL(10,2)",
];

fn tree() -> impl Strategy<Value = String> {
    let leaf = proptest::sample::select(LEAVES).prop_map(str::to_owned);
    leaf.prop_recursive(4, 24, 3, |inner| {
        prop_oneof![
            (
                inner.clone(),
                proptest::sample::select(BINARY),
                inner.clone()
            )
                .prop_map(|(a, op, b)| format!("({a} {op} {b})")),
            inner.clone().prop_map(|a| format!("(-{a})")),
            inner.clone().prop_map(|a| format!("(NOT {a})")),
            inner.clone().prop_map(|a| format!("({a} IS NULL)")),
            inner.clone().prop_map(|a| format!("({a} IS NOT TRUE)")),
            (inner.clone(), proptest::sample::select(TYPES))
                .prop_map(|(a, t)| format!("CAST({a} AS {t})")),
            (inner.clone(), inner.clone(), inner.clone())
                .prop_map(|(a, b, c)| format!("({a} IN ({b}, {c}))")),
            (inner.clone(), inner.clone(), inner.clone())
                .prop_map(|(a, b, c)| format!("({a} BETWEEN {b} AND {c})")),
            (inner.clone(), inner.clone(), inner.clone())
                .prop_map(|(a, b, c)| format!("CASE WHEN {a} THEN {b} ELSE {c} END")),
            (inner.clone(), inner.clone(), inner.clone())
                .prop_map(|(a, b, c)| format!("CASE {a} WHEN {b} THEN {c} END")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("array({a}, {b})")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("map('k', {a}, 'j', {b})")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("{a}[{b}]")),
        ]
    })
}

fn check(text: &str, batch: &RecordBatch) -> Result<(), TestCaseError> {
    let Ok(expression) = Expression::compile(text, &batch.schema()) else {
        return Ok(());
    };
    for input in [batch.clone(), batch.slice(1, 2)] {
        let out = expression
            .evaluate(&input)
            .map_err(|e| TestCaseError::fail(format!("{text}: compiled, then {e}")))?;
        prop_assert_eq!(out.len(), input.num_rows(), "{}", text);
        prop_assert_eq!(out.data_type(), &expression.data_type(), "{}", text);
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn compiled_trees_always_evaluate(text in tree()) {
        check(&text, &fixture())?;
    }

    #[test]
    fn token_soup_never_panics(tokens in prop::collection::vec(
        prop_oneof![
            proptest::sample::select(LEAVES),
            proptest::sample::select(BINARY),
            proptest::sample::select(TYPES),
            proptest::sample::select(&["(", ")", ",", "[", "]", "CASE", "WHEN", "THEN", "ELSE",
                "END", "IN", "BETWEEN", "CAST", "AS", "IS", "NOT", "ESCAPE", "array", "map"][..]),
        ],
        0..12,
    )) {
        check(&tokens.join(" "), &fixture())?;
    }
}
