//! Vectorised evaluation is row-independent: evaluating a whole batch equals evaluating each
//! row as a one-row batch (`RecordBatch::slice(i, 1)`) and concatenating (R-CFG-9). This guards
//! the scalar/array broadcasting, offsets of sliced nested arrays and null handling of every
//! core form.

mod expr_common;

use arrow::array::RecordBatch;
use expr_common::{batch, render, Col};
use proptest::prelude::*;
use tilefold_query::expr::Expression;

/// Expressions over every core form: operators, IN, BETWEEN, LIKE, CASE, CAST, constructors
/// and element access.
const EXPRESSIONS: &[&str] = &[
    "i + j",
    "i * j - l",
    "-i",
    "i / j",
    "i % j",
    "l % i",
    "i DIV j",
    "d * 2 + i",
    "d % d",
    "s + 1",
    "i = j OR d > 1",
    "i < j AND b",
    "NOT b",
    "b IS NOT FALSE",
    "i <=> j",
    "s = i",
    "s < 'b'",
    "d = 0",
    "i IN (1, 2, NULL)",
    "i NOT IN (j, 3)",
    "s IN ('1', 'abc', i)",
    "i BETWEEN j AND 10",
    "s LIKE 'a%'",
    "s LIKE '_'",
    "s LIKE p",
    "s ILIKE 'A%B'",
    "CASE WHEN i > j THEN s WHEN b THEN 'b' END",
    "CASE i WHEN 1 THEN d WHEN 2 THEN l ELSE 0 END",
    "CAST(s AS INT)",
    "CAST(s AS DOUBLE)",
    "CAST(s AS BOOLEAN)",
    "CAST(s AS DATE)",
    "CAST(s AS TIMESTAMP)",
    "CAST(d AS INT)",
    "CAST(d AS SMALLINT)",
    "CAST(l AS TINYINT)",
    "CAST(d AS STRING)",
    "CAST(ts AS STRING)",
    "CAST(dt AS STRING)",
    "CAST(ts AS DATE) = dt",
    "CAST(i AS TIMESTAMP)",
    "arr[i]",
    "arr[0] + arr[1]",
    "m['a']",
    "m[s]",
    "array(i, j, NULL)",
    "array(i, j)[j]",
    "map('x', i, 'y', d)",
    "map('x', s)['x']",
    "dt < ts",
    "ts = TIMESTAMP '1970-01-01 00:00:01'",
];

const WORDS: &[&str] = &[
    "",
    "1",
    " 2 ",
    "1.9",
    "-3",
    "abc",
    "a%b",
    "A_B",
    "aXb",
    "2023-01-01",
    "1970-01-01 00:00:01",
    "true",
    "no",
    "NaN",
    "1e3",
    "x",
    "y",
    "a",
    "\\",
    "%",
];

fn opt<T: std::fmt::Debug + Clone>(
    values: impl Strategy<Value = T>,
) -> impl Strategy<Value = Option<T>> {
    prop_oneof![1 => Just(None), 4 => values.prop_map(Some)]
}

fn word() -> impl Strategy<Value = &'static str> {
    proptest::sample::select(WORDS)
}

fn small_i32() -> impl Strategy<Value = i32> {
    prop_oneof![-5..5i32, Just(i32::MAX), Just(i32::MIN)]
}

fn float() -> impl Strategy<Value = f64> {
    prop_oneof![
        (-100..100i32).prop_map(|v| f64::from(v) / 4.0),
        Just(f64::NAN),
        Just(-0.0),
        Just(f64::INFINITY),
        Just(1e10),
    ]
}

prop_compose! {
    fn random_batch()(rows in 0..12usize)(
        i in prop::collection::vec(opt(small_i32()), rows),
        j in prop::collection::vec(opt(small_i32()), rows),
        l in prop::collection::vec(opt(prop_oneof![-5..5i64, Just(i64::MIN), Just(i64::MAX)]), rows),
        d in prop::collection::vec(opt(float()), rows),
        s in prop::collection::vec(opt(word()), rows),
        p in prop::collection::vec(opt(word()), rows),
        b in prop::collection::vec(opt(any::<bool>()), rows),
        arr in prop::collection::vec(opt(prop::collection::vec(opt(-3..3i64), 0..4)), rows),
        m in prop::collection::vec(opt(prop::collection::vec((word(), opt(-3..3i64)), 0..3)), rows),
        dt in prop::collection::vec(opt(-3..3i32), rows),
        ts in prop::collection::vec(opt(-2000..2000i64), rows),
    ) -> RecordBatch {
        batch(vec![
            ("i", Col::I32(i)),
            ("j", Col::I32(j)),
            ("l", Col::I64(l)),
            ("d", Col::F64(d)),
            ("s", Col::Str(s)),
            ("p", Col::Str(p)),
            ("b", Col::Bool(b)),
            ("arr", Col::ListI64(arr)),
            ("m", Col::MapStrI64(m)),
            ("dt", Col::Date(dt)),
            ("ts", Col::TsMillis(ts)),
        ])
    }
}

/// Each row rendered as Spark prints it.
fn rendered(array: &dyn arrow::array::Array) -> Vec<String> {
    (0..array.len()).map(|row| render(array, row)).collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn whole_batch_equals_row_by_row(batch in random_batch()) {
        for text in EXPRESSIONS {
            let expression = Expression::compile(text, &batch.schema())
                .unwrap_or_else(|e| panic!("{text}: {e}"));
            let whole = expression.evaluate(&batch).unwrap_or_else(|e| panic!("{e}"));
            prop_assert_eq!(whole.len(), batch.num_rows(), "{}", text);
            prop_assert_eq!(whole.data_type(), &expression.data_type(), "{}", text);
            let mut by_row = Vec::with_capacity(batch.num_rows());
            for row in 0..batch.num_rows() {
                let one = expression
                    .evaluate(&batch.slice(row, 1))
                    .unwrap_or_else(|e| panic!("{e}"));
                prop_assert_eq!(one.len(), 1, "{}", text);
                by_row.push(render(&one, 0));
            }
            prop_assert_eq!(rendered(&whole), by_row, "{}", text);
        }
    }
}
