//! String functions, table-driven (see `expr_functions.rs`): expected values worked out by hand
//! from Spark's documentation ("doc" marks its examples).

mod expr_fn_common;

use expr_fn_common::*;

fn string_cases() -> Vec<Case> {
    vec![
        case("POSITION('bar', 'foobarbar')", one(), i32s(&[Some(4)])), // doc
        case("POSITION('bar', 'foobarbar', 5)", one(), i32s(&[Some(7)])), // doc
        case("LOCATE('bar', 'foobarbar')", one(), i32s(&[Some(4)])),   // doc
        case("LOCATE('bar', 'foobarbar', 5)", one(), i32s(&[Some(7)])), // doc
        case("LOCATE('bar', 'foobarbar', 0)", one(), i32s(&[Some(0)])),
        case("INSTR('SparkSQL', 'SQL')", one(), i32s(&[Some(6)])), // doc
        case("LOCATE('', 'abc')", one(), i32s(&[Some(1)])),
        case(
            "LOCATE('ö', s)",
            t(),
            i32s(&[Some(0), None, Some(8), Some(0)]),
        ),
        case(
            "LOCATE('a', s, NULL)",
            t(),
            i32s(&[Some(0), Some(0), Some(0), Some(0)]),
        ),
        case("INSTR(s, NULL)", t(), i32s(&[None, None, None, None])),
        case("LOWER('SparkSql')", one(), strs(&[Some("sparksql")])), // doc
        case("UPPER('SparkSql')", one(), strs(&[Some("SPARKSQL")])), // doc
        case(
            "UPPER(s)",
            t(),
            strs(&[Some("SPARK SQL"), None, Some("HÉLLO WÖRLD"), Some("")]),
        ),
        case(
            "LCASE(s)",
            t(),
            strs(&[Some("spark sql"), None, Some("héllo wörld"), Some("")]),
        ),
        case(
            "UCASE(i)",
            t(),
            strs(&[Some("1"), Some("-7"), None, Some("-2147483648")]),
        ),
        case("LENGTH('Spark SQL ')", one(), i32s(&[Some(10)])), // doc
        case("LENGTH(s)", t(), i32s(&[Some(9), None, Some(11), Some(0)])),
        case("CHAR_LENGTH('日本語')", one(), i32s(&[Some(3)])),
        case(
            "CHARACTER_LENGTH(i)",
            t(),
            i32s(&[Some(1), Some(2), None, Some(11)]),
        ),
        case("CONCAT('Spark', 'SQL')", one(), strs(&[Some("SparkSQL")])), // doc
        case(
            "CONCAT(s, '!', i)",
            t(),
            strs(&[Some("Spark SQL!1"), None, None, Some("!-2147483648")]),
        ),
        case("CONCAT(s, NULL)", t(), strs(&[None, None, None, None])),
        case("CONCAT()", one(), strs(&[Some("")])),
        case(
            "LTRIM('    SparkSQL   ')",
            one(),
            strs(&[Some("SparkSQL   ")]),
        ), // doc
        case(
            "RTRIM('    SparkSQL   ')",
            one(),
            strs(&[Some("    SparkSQL")]),
        ), // doc
        case(
            "RTRIM(w)",
            t(),
            strs(&[Some("\ta b \t"), Some("  x"), None, Some("")]),
        ),
        case(
            "LTRIM(w)",
            t(),
            strs(&[Some("\ta b \t"), Some("x  "), None, Some("")]),
        ),
        case(
            "SPLIT('oneAtwoBthreeC', '[ABC]')",
            one(),
            lists(&[Some(&["one", "two", "three", ""])]),
        ), // doc
        case(
            "SPLIT('oneAtwoBthreeC', '[ABC]', -1)",
            one(),
            lists(&[Some(&["one", "two", "three", ""])]),
        ), // doc
        case(
            "SPLIT('oneAtwoBthreeC', '[ABC]', 2)",
            one(),
            lists(&[Some(&["one", "twoBthreeC"])]),
        ), // doc
        case(
            "SPLIT('a,b,,', ',')",
            one(),
            lists(&[Some(&["a", "b", "", ""])]),
        ),
        case("SPLIT(',a,', ',')", one(), lists(&[Some(&["", "a", ""])])),
        case("SPLIT('', ',')", one(), lists(&[Some(&[""])])),
        case("SPLIT('abc', '')", one(), lists(&[Some(&["a", "b", "c"])])),
        case(
            "SPLIT('a.b', '.')",
            one(),
            lists(&[Some(&["", "", "", ""])]),
        ),
        case("SPLIT('a|b', '[|]')", one(), lists(&[Some(&["a", "b"])])),
        case(
            "SPLIT('a1b22c', '[0-9]+')",
            one(),
            lists(&[Some(&["a", "b", "c"])]),
        ),
        case(
            "SPLIT('abc', 'x*')",
            one(),
            lists(&[Some(&["a", "b", "c", ""])]),
        ),
        case(
            "SPLIT('a,b,c', ',', 0)",
            one(),
            lists(&[Some(&["a", "b", "c"])]),
        ),
        case("SPLIT('a,b,c', ',', 1)", one(), lists(&[Some(&["a,b,c"])])),
        case(
            "SPLIT(s, ' ')",
            t(),
            lists(&[
                Some(&["Spark", "SQL"]),
                None,
                Some(&["héllo", "wörld"]),
                Some(&[""]),
            ]),
        ),
        case("SPLIT(NULL, ',')", one(), lists(&[None])),
        case("SPLIT('a,b', NULL)", one(), lists(&[None])),
    ]
}

/// Spark's special syntax forms, which the binder routes to the registry.
fn special_syntax_cases() -> Vec<Case> {
    vec![
        case("POSITION('bar' IN 'foobarbar')", one(), i32s(&[Some(4)])), // doc
        case("FLOOR(-0.1)", one(), i64s(&[Some(-1)])),                   // doc
        case("FLOOR(5)", one(), i64s(&[Some(5)])),                       // doc
        case("CEIL(-0.1)", one(), i64s(&[Some(0)])),                     // doc
        case("FLOOR(d)", t(), i64s(&[Some(2), Some(-3), None, Some(0)])),
        case("SUBSTR('Spark SQL', 5)", one(), strs(&[Some("k SQL")])), // doc
        case("SUBSTR('Spark SQL', -3)", one(), strs(&[Some("SQL")])),  // doc
        case("SUBSTR('Spark SQL', 5, 1)", one(), strs(&[Some("k")])),  // doc
        case(
            "SUBSTRING('Spark SQL' FROM 5 FOR 1)",
            one(),
            strs(&[Some("k")]),
        ), // doc
        case("SUBSTRING('Spark SQL', 0, 2)", one(), strs(&[Some("Sp")])),
        case("SUBSTRING('abc', -5, 3)", one(), strs(&[Some("a")])),
        case("SUBSTRING('abc', 2, 0)", one(), strs(&[Some("")])),
        case("SUBSTRING('abc', 2, -1)", one(), strs(&[Some("")])),
        case("SUBSTRING('abc', 4)", one(), strs(&[Some("")])),
        case("SUBSTRING('héllo', -4, 2)", one(), strs(&[Some("él")])),
        case(
            "SUBSTRING(s, 2, 4)",
            t(),
            strs(&[Some("park"), None, Some("éllo"), Some("")]),
        ),
        case(
            "SUBSTRING(s, i)",
            t(),
            strs(&[Some("Spark SQL"), None, None, Some("")]),
        ),
        case("SUBSTRING('abc', NULL)", one(), strs(&[None])),
        case("TRIM('    SparkSQL   ')", one(), strs(&[Some("SparkSQL")])), // doc
        case(
            "TRIM(w)",
            t(),
            strs(&[Some("\ta b \t"), Some("x"), None, Some("")]),
        ),
    ]
}

#[test]
fn string_functions() {
    run(string_cases());
}

#[test]
fn special_syntax_forms() {
    run(special_syntax_cases());
}

#[test]
fn regex_from_a_column_is_checked_when_evaluated() {
    let batch = batch(vec![("p", strs(&[Some(","), Some("(?=a)")]))]);
    let err = eval("SPLIT('a,b', p)", &batch).expect_err("look-ahead is not supported");
    assert!(err.contains("unsupported regex"), "{err}");
}
