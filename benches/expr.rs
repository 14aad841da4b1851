//! Expression throughput: the purchases.v1 source query (3 selects, 1 where, a time column) over
//! 1M rows, and the latency of evaluating one derivation on one row (a fetch's shape).
//!
//! cargo bench --bench expr -- --warm-up-time 1 --measurement-time 3

use std::sync::Arc;

use arrow::array::{ArrayRef, Float64Array, Int64Array, RecordBatch, StringArray};
use arrow::datatypes::{DataType, Field, Schema};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use tilefold::query::config::{Derivation, GroupBy};
use tilefold::query::derivation::Derivations;
use tilefold::query::source_query::SourceQuery;

#[path = "support/shop.rs"]
#[allow(dead_code, reason = "this bench takes only the purchases schema")]
mod shop;

const PURCHASES: &str =
    include_str!("../query/tests/fixtures/production/group_bys/shop/purchases.v1");

fn purchases(rows: usize) -> RecordBatch {
    let users: Vec<String> = (0..1000).map(|i| format!("u{i}")).collect();
    let merchants: Vec<String> = (0..50).map(|i| format!("m{i}")).collect();
    let columns: Vec<ArrayRef> = vec![
        Arc::new(StringArray::from_iter_values(
            (0..rows).map(|i| &users[i * 7919 % 1000]),
        )),
        Arc::new(StringArray::from_iter_values(
            (0..rows).map(|i| &merchants[i % 50]),
        )),
        Arc::new(Float64Array::from_iter(
            (0..rows).map(|i| (i % 100 != 0).then_some((i % 997) as f64 * 0.37)),
        )),
        Arc::new(Float64Array::from_iter_values(
            (0..rows).map(|i| (i % 10) as f64),
        )),
        Arc::new(Int64Array::from_iter_values(
            (0..rows).map(|i| 1_790_000_000_000 + i as i64 * 1000),
        )),
        Arc::new(StringArray::from_iter_values(
            (0..rows).map(|_| "2026-10-01"),
        )),
    ];
    RecordBatch::try_new(shop::purchases_schema(), columns).expect("batch")
}

fn source_query(c: &mut Criterion) {
    let group_by = GroupBy::from_json_str(PURCHASES).expect("config");
    let source = &group_by.sources()[0];
    let batch = purchases(1_000_000);
    let query = SourceQuery::compile(
        group_by.name(),
        "query",
        source.query().expect("query"),
        group_by.key_columns(),
        true,
        &batch.schema(),
    )
    .expect("binds");
    let mut group = c.benchmark_group("source_query");
    group.throughput(Throughput::Elements(batch.num_rows() as u64));
    group.sample_size(20);
    group.bench_function("purchases_v1_1M_rows_one_batch", |b| {
        b.iter(|| query.apply(&batch).expect("applies"))
    });
    let chunks: Vec<RecordBatch> = (0..batch.num_rows())
        .step_by(8192)
        .map(|o| batch.slice(o, 8192.min(batch.num_rows() - o)))
        .collect();
    group.bench_function("purchases_v1_1M_rows_8k_batches", |b| {
        b.iter(|| {
            chunks
                .iter()
                .map(|c| query.apply(c).expect("applies").batch.num_rows())
                .sum::<usize>()
        })
    });
    group.finish();
}

fn one_row_derivation(c: &mut Criterion) {
    let schema = Arc::new(Schema::new(vec![
        Field::new("r_shop_returns_v1_refund_sum_30d", DataType::Float64, true),
        Field::new("shop_purchases_v1_price_sum_30d", DataType::Float64, true),
    ]));
    let base: Vec<String> = schema.fields().iter().map(|f| f.name().clone()).collect();
    let row = RecordBatch::try_new(
        schema.clone(),
        vec![
            Arc::new(Float64Array::from(vec![12.5])),
            Arc::new(Float64Array::from(vec![250.0])),
        ],
    )
    .expect("row");
    let ratio = [
        Derivation::star(),
        Derivation::new(
            "refund_ratio_30d",
            "r_shop_returns_v1_refund_sum_30d / shop_purchases_v1_price_sum_30d",
        ),
    ];
    let ratio =
        Derivations::compile("bench", "derivations", &ratio, &base, &schema).expect("binds");
    let rename = [
        Derivation::star(),
        Derivation::new("spend_30d", "shop_purchases_v1_price_sum_30d"),
    ];
    let rename =
        Derivations::compile("bench", "derivations", &rename, &base, &schema).expect("binds");
    let mut group = c.benchmark_group("derivation_one_row");
    group.bench_function("ratio", |b| b.iter(|| ratio.apply(&row).expect("applies")));
    group.bench_function("rename_only", |b| {
        b.iter(|| rename.apply(&row).expect("applies"))
    });
    group.finish();
}

criterion_group!(benches, source_query, one_row_derivation);
criterion_main!(benches);
