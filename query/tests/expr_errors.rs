//! Bad expressions fail when they are compiled, never when they run (R-CFG-9), and each
//! failure names its reason. One test per class of mistake.

mod expr_common;

use expr_common::{batch, Col};
use tilefold_query::expr::{ExprError, Expression};

fn schema() -> arrow::datatypes::SchemaRef {
    batch(vec![
        ("purchase_price", Col::I64(vec![Some(1)])),
        ("merchant", Col::Str(vec![Some("a")])),
        ("is_refund", Col::Bool(vec![Some(false)])),
        ("items", Col::ListI64(vec![Some(vec![Some(1)])])),
        (
            "attributes",
            Col::MapStrI64(vec![Some(vec![("k", Some(1))])]),
        ),
        ("day", Col::Date(vec![Some(0)])),
    ])
    .schema()
}

fn error(text: &str) -> ExprError {
    match Expression::compile(text, &schema()) {
        Ok(e) => panic!(
            "{:?} compiled to a {:?}",
            &text[..text.len().min(80)],
            e.data_type()
        ),
        Err(e) => {
            assert_eq!(e.expression, text, "the error names its expression");
            e
        }
    }
}

/// Asserts that compiling `text` fails with a reason containing `needle`.
fn fails_with(text: &str, needle: &str) {
    let e = error(text);
    let short: String = text.chars().take(80).collect();
    assert!(
        e.reason.contains(needle),
        "{short:?}: reason {:?} does not mention {needle:?}",
        e.reason
    );
}

#[test]
fn unknown_columns_suggest_the_closest_name() {
    let e = error("purchase_prise * 2");
    assert_eq!(
        e.reason,
        "unknown column purchase_prise (did you mean purchase_price?)"
    );
    fails_with("merchent = 'x'", "did you mean merchant?");
    let e = error("completely_unknown");
    assert_eq!(e.reason, "unknown column completely_unknown");
    fails_with("t.merchant", "qualified name t.merchant");
}

#[test]
fn unknown_functions_are_named() {
    fails_with(
        "no_such_function(merchant)",
        "unsupported function NO_SUCH_FUNCTION",
    );
    fails_with("CURRENT_TIMESTAMP()", "not deterministic");
    fails_with("rand()", "not deterministic");
    fails_with(
        "sum(purchase_price) OVER ()",
        "aggregate and window functions",
    );
    fails_with("count(DISTINCT merchant)", "DISTINCT");
}

#[test]
fn type_errors_name_both_types() {
    fails_with("'a' AND true", "AND needs a BOOLEAN, found STRING");
    fails_with("purchase_price + true", "+ needs a number, found BOOLEAN");
    fails_with("NOT purchase_price", "NOT needs a BOOLEAN, found BIGINT");
    fails_with("is_refund < 1", "cannot compare BOOLEAN with INT");
    fails_with(
        "items = items",
        "comparing ARRAY<BIGINT> values is not supported",
    );
    fails_with("day + 1", "needs a number, found DATE");
    fails_with("purchase_price IN (1, true)", "IN needs values of one type");
    fails_with("CASE WHEN is_refund THEN 1 ELSE true END", "no common type");
    fails_with(
        "CASE WHEN merchant THEN 1 END",
        "CASE WHEN needs a BOOLEAN, found STRING",
    );
    fails_with("-merchant_missing", "unknown column");
    fails_with("1.5 DIV 2", "DIV needs integral operands, found DOUBLE");
    fails_with(
        "is_refund IS TRUE AND merchant IS TRUE",
        "IS TRUE/FALSE needs a BOOLEAN",
    );
}

#[test]
fn impossible_casts_are_rejected() {
    fails_with(
        "CAST(day AS INT) + CAST(is_refund AS DATE)",
        "cannot cast BOOLEAN to DATE",
    );
    fails_with(
        "CAST(items AS STRING)",
        "cannot cast ARRAY<BIGINT> to STRING",
    );
    fails_with("CAST(merchant AS INTERVAL)", "unsupported type");
    fails_with("CAST(merchant AS STRING FORMAT 'x')", "FORMAT");
}

#[test]
fn element_access_needs_fitting_indexes() {
    fails_with("merchant[0]", "cannot subscript a STRING");
    fails_with(
        "items[true]",
        "an ARRAY index must be an integer, found BOOLEAN",
    );
    fails_with(
        "attributes[items]",
        "key cannot look up a MAP<STRING,BIGINT>",
    );
    fails_with("items[1:2]", "slices are not supported");
    fails_with("map('a', 1, 'a', 2)", "duplicate map key a");
    fails_with("map(NULL, 1)", "map keys");
    fails_with("map(merchant, 1)", "map keys must be constants");
    fails_with("map('a')", "key, value pairs");
}

#[test]
fn invalid_literals_and_patterns_fail_at_compile_time() {
    fails_with("DATE '2023-02-30'", "invalid DATE literal");
    fails_with(
        "TIMESTAMP '2023-01-01 00:00:00 Europe/Paris'",
        "TIMESTAMP literal",
    );
    fails_with(
        "merchant LIKE 'a\\\\b'",
        "escape character is not allowed to precede 'b'",
    );
    fails_with(
        "merchant LIKE 'abc\\\\'",
        "not allowed to end with the escape character",
    );
    fails_with(
        "merchant LIKE 'a' ESCAPE 'xy'",
        "ESCAPE needs a string of one character",
    );
    fails_with("'it''s'", "doubled quote");
    fails_with("merchant RLIKE 'a.*'", "RLIKE");
    fails_with(
        "merchant LIKE ANY ('a', 'b')",
        "LIKE ANY/ALL is not supported",
    );
    fails_with("9223372036854775808L", "out of range for BIGINT");
}

#[test]
fn parse_errors_are_reported() {
    fails_with("purchase_price *", "Expected: an expression");
    fails_with("(purchase_price", "Expected: )");
    fails_with("'unterminated", "Unterminated string literal");
    fails_with("", "Expected: an expression");
}

#[test]
fn trailing_garbage_is_rejected() {
    fails_with("purchase_price purchase_price", "after the expression");
    fails_with("1 2", "unexpected 2 after the expression");
    fails_with("merchant = 'a' 'b'", "after the expression");
    fails_with(
        "purchase_price; DROP TABLE x",
        "unexpected ; after the expression",
    );
}

#[test]
fn unsupported_syntax_is_named() {
    fails_with("EXTRACT(YEAR FROM day)", "unsupported expression Extract");
    fails_with("INTERVAL '1' DAY", "unsupported expression Interval");
    fails_with(
        "purchase_price IN (SELECT 1)",
        "unsupported expression InSubquery",
    );
    fails_with("purchase_price & 1", "unsupported operator &");
    fails_with("CEIL(day TO DAY)", "is not supported");
    fails_with("TRIM(BOTH 'x' FROM merchant)", "TRIM with characters");
}

/// Regression (issue 3): the deepest allowed expression binds and evaluates on a thread with a
/// small stack, whatever the optimisation level (the binder and evaluator grow their stack on
/// demand instead of overflowing).
#[test]
fn the_deepest_allowed_expression_fits_a_small_thread_stack() {
    let handle = std::thread::Builder::new()
        .stack_size(256 * 1024)
        .spawn(|| {
            let deepest = vec!["purchase_price"; 256].join(" + ");
            let b = batch(vec![("purchase_price", Col::I64(vec![Some(1), None]))]);
            let sum = Expression::compile(&deepest, &b.schema()).expect("256 terms compile");
            expr_common::render_all(&sum.evaluate(&b).expect("evaluates"))
        })
        .expect("spawn");
    assert_eq!(handle.join().expect("no stack overflow"), "256 | NULL");
}

#[test]
fn deep_and_huge_inputs_are_refused_without_panicking() {
    let nested = format!("{}1{}", "(".repeat(500), ")".repeat(500));
    assert!(Expression::compile(&nested, &schema()).is_err());
    // A left-deep chain parses without recursion, but binding it would not.
    let chain = vec!["purchase_price"; 300].join(" + ");
    fails_with(&chain, "nested more than 256 levels deep");
    let fits = vec!["purchase_price"; 200].join(" + ");
    let b = batch(vec![("purchase_price", Col::I64(vec![Some(1), None]))]);
    let sum = Expression::compile(&fits, &b.schema()).expect("200 terms compile");
    assert_eq!(
        expr_common::render_all(&sum.evaluate(&b).expect("evaluates")),
        "200 | NULL"
    );
    let deep_inside = format!("EXTRACT(YEAR FROM {})", vec!["day"; 12_000].join("+"));
    fails_with(
        &deep_inside,
        "unsupported expression Extract (EXTRACT(YEAR FROM day + day",
    );
    let long = "1 + ".repeat(20_000) + "1";
    fails_with(&long, "longer than");
}
