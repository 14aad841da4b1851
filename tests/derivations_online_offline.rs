//! Join derivations (R-NAME-9, R-DER-2, R-DER-4) on the sample `shop.checkout.with_derivations`:
//! `*` keeps every base column and `refund_ratio_30d` is the ratio of two of them; fetch (with
//! the derivations compiled once per store state) equals the backfill row.

use std::collections::BTreeMap;

use arrow::array::RecordBatch;
use tilefold::query::value::value_at;
use tilefold::{load_path, BackfillOptions, Left, Store, Value};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-12 || (a - b).abs() <= 1e-9 * a.abs().max(b.abs())
}

fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Double(x), Value::Double(y)) => close(*x, *y),
        (Value::List(x), Value::List(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same(a, b))
        }
        _ => a == b,
    }
}

#[test]
fn derived_ratio_online_equals_offline() {
    let dir = std::env::temp_dir().join(format!("tilefold-derivations-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let store = Store::open(&dir).unwrap();
    store
        .apply(&load_path(format!("{ROOT}/query/tests/fixtures/production")).unwrap())
        .unwrap();
    for table in ["purchases", "checkouts", "returns"] {
        let file = format!("{ROOT}/query/tests/fixtures/data/{table}.parquet");
        store
            .load_parquet(&format!("data.{table}"), &[file])
            .unwrap();
    }
    let batches: Vec<RecordBatch> = store
        .backfill(
            "shop/checkout.with_derivations",
            Left::Table,
            &BackfillOptions::default(),
        )
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let schema = batches[0].schema();
    let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
    assert_eq!(&names[..4], ["user_id", "cart_total", "ts", "ds"]);
    assert_eq!(names.last(), Some(&"refund_ratio_30d"));
    assert!(
        names.contains(&"r_shop_returns_v1_refund_sum_30d"),
        "{names:?}"
    );
    let column = |name: &str| schema.index_of(name).unwrap();
    let (ratio, refunds, spend) = (
        column("refund_ratio_30d"),
        column("r_shop_returns_v1_refund_sum_30d"),
        column("shop_purchases_v1_price_sum_30d"),
    );
    let (mut ratios, mut fetched) = (0, 0);
    for batch in &batches {
        for row in (0..batch.num_rows()).step_by(37) {
            let cell = |c: usize| value_at(batch.column(c).as_ref(), row).unwrap();
            // Spark: `/` is DOUBLE division; a null operand gives null.
            let expected = match (cell(refunds), cell(spend)) {
                (Value::Double(r), Value::Double(s)) if s != 0.0 => Value::Double(r / s),
                _ => Value::Null,
            };
            assert!(
                same(&cell(ratio), &expected),
                "row {row}: {:?} vs {expected:?}",
                cell(ratio)
            );
            ratios += usize::from(!expected.is_null());
            let Value::String(user) = cell(0) else {
                continue;
            };
            let Value::Long(t) = cell(2) else { continue };
            let keys = BTreeMap::from([("user_id".to_owned(), Value::String(user))]);
            let features = store
                .fetch_join("shop/checkout.with_derivations", &keys, Some(t))
                .unwrap();
            let offline: Vec<(String, Value)> = (4..batch.num_columns())
                .map(|c| (names[c].to_owned(), cell(c)))
                .filter(|(_, v)| !v.is_null())
                .collect();
            assert_eq!(
                features.values.len(),
                offline.len(),
                "{features:?} vs {offline:?}"
            );
            for ((n, v), (m, w)) in features.values.iter().zip(&offline) {
                assert!(n == m && same(v, w), "{n}: {v:?} vs {m}: {w:?}");
            }
            fetched += 1;
        }
    }
    assert!(
        ratios > 10 && fetched > 40,
        "{ratios} ratios, {fetched} fetches"
    );
    drop(store);
    let _ = std::fs::remove_dir_all(&dir);
}
