//! Aggregation throughput: folding Arrow batches into IR states (events/s) and merging tile
//! states (IR merges/s) for SUM, AVERAGE, LAST_K, APPROX_UNIQUE_COUNT and APPROX_PERCENTILE.
//!
//! ```text
//! cargo bench --bench aggregate -- --warm-up-time 1 --measurement-time 3
//! ```
//!
//! - `update/<op>`: one 100k-row batch folded through `RowAggregator::update_batch` into 1,000
//!   slots (rows spread pseudo-randomly, ~100 events per slot). Throughput = rows.
//! - `update_100_slots/APPROX_PERCENTILE`: the same batch into 100 slots (~1,000 events per slot),
//!   so states pass k = 128 and the t-digest path is measured too.
//! - `merge_<n>_tiles/<op>`: `n` tile states of 50 events each (a 5-minute or 1-hour tile) merged
//!   into one fresh accumulator, as a window read does. Throughput = merges.

use std::hint::black_box;
use std::sync::Arc;

use arrow::array::{ArrayRef, Float64Array, Int64Array, RecordBatch};
use arrow::datatypes::{DataType as ArrowType, Field, Schema};
use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use tilefold::query::config::Source;
use tilefold::{Aggregation, GroupBy, Ir, Operation, RowAggregator};

const ROWS: usize = 100_000;
const SLOTS: usize = 1_000;
const EVENTS_PER_TILE: usize = 50;
const TILE_COUNTS: [usize; 2] = [24, 1_000];

/// One benchmarked aggregation.
struct Case {
    label: &'static str,
    operation: Operation,
    column: &'static str,
    args: &'static [(&'static str, &'static str)],
}

const CASES: [Case; 5] = [
    Case {
        label: "SUM_long",
        operation: Operation::Sum,
        column: "amount_long",
        args: &[],
    },
    Case {
        label: "AVERAGE_double",
        operation: Operation::Average,
        column: "amount_double",
        args: &[],
    },
    Case {
        label: "LAST_K10_double",
        operation: Operation::LastK,
        column: "amount_double",
        args: &[("k", "10")],
    },
    Case {
        label: "APPROX_UNIQUE_COUNT_long",
        operation: Operation::ApproxUniqueCount,
        column: "amount_long",
        args: &[],
    },
    Case {
        label: "APPROX_PERCENTILE_k128_double",
        operation: Operation::ApproxPercentile,
        column: "amount_double",
        args: &[("k", "128"), ("percentiles", "[0.5, 0.9, 0.99]")],
    },
];

fn schema() -> Schema {
    Schema::new(vec![
        Field::new("user", ArrowType::Int64, true),
        Field::new("ts", ArrowType::Int64, true),
        Field::new("amount_long", ArrowType::Int64, true),
        Field::new("amount_double", ArrowType::Float64, true),
    ])
}

fn aggregator(case: &Case) -> RowAggregator {
    let mut aggregation = Aggregation::new(case.operation, case.column);
    for (name, value) in case.args {
        aggregation = aggregation.arg(*name, *value);
    }
    let mut source = Source::events("data.events").time_column("ts");
    for field in schema().fields() {
        source = source.select(field.name().as_str(), field.name().as_str());
    }
    let group_by = GroupBy::builder("bench.aggregate.v1")
        .source(source)
        .key("user")
        .aggregation(aggregation)
        .build()
        .expect("valid GroupBy");
    RowAggregator::new(&group_by, &schema()).expect("aggregator")
}

/// A small deterministic generator (PCG-style LCG) for reproducible data.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 33
    }
}

/// `rows` events: increasing `ts`, longs with many distinct values, doubles in [0, 1000).
fn batch(rows: usize, seed: u64) -> (RecordBatch, Vec<i64>) {
    let mut rng = Lcg(seed);
    let ts: Vec<i64> = (0..rows as i64)
        .map(|i| 1_700_000_000_000 + i * 10)
        .collect();
    let users: Vec<i64> = (0..rows).map(|_| (rng.next() % 10_000) as i64).collect();
    let longs: Vec<i64> = (0..rows).map(|_| (rng.next() % 1_000_000) as i64).collect();
    let doubles: Vec<f64> = (0..rows)
        .map(|_| (rng.next() % 1_000_000) as f64 / 1000.0)
        .collect();
    let columns: Vec<ArrayRef> = vec![
        Arc::new(Int64Array::from(users)),
        Arc::new(Int64Array::from(ts.clone())),
        Arc::new(Int64Array::from(longs)),
        Arc::new(Float64Array::from(doubles)),
    ];
    let batch = RecordBatch::try_new(Arc::new(schema()), columns).expect("batch");
    (batch, ts)
}

/// Pseudo-random slot of each row, in `0..slots`.
fn spread(rows: usize, slots: usize, seed: u64) -> Vec<usize> {
    let mut rng = Lcg(seed);
    (0..rows).map(|_| rng.next() as usize % slots).collect()
}

fn bench_update(c: &mut Criterion) {
    let (batch, ts) = batch(ROWS, 1);
    let mut group = c.benchmark_group("update");
    group.throughput(Throughput::Elements(ROWS as u64));
    for case in &CASES {
        let aggregator = aggregator(case);
        let slots = spread(ROWS, SLOTS, 2);
        group.bench_function(case.label, |b| {
            b.iter_batched_ref(
                || vec![aggregator.new_irs(); SLOTS],
                |states| {
                    aggregator
                        .update_batch(&batch, &ts, &slots, None, states)
                        .expect("update");
                },
                BatchSize::LargeInput,
            )
        });
    }
    group.finish();

    let mut group = c.benchmark_group("update_100_slots");
    group.throughput(Throughput::Elements(ROWS as u64));
    let case = &CASES[4];
    let aggregator = aggregator(case);
    let slots = spread(ROWS, 100, 3);
    group.bench_function(case.label, |b| {
        b.iter_batched_ref(
            || vec![aggregator.new_irs(); 100],
            |states| {
                aggregator
                    .update_batch(&batch, &ts, &slots, None, states)
                    .expect("update");
            },
            BatchSize::LargeInput,
        )
    });
    group.finish();
}

/// `tiles` tile states of [`EVENTS_PER_TILE`] consecutive events each.
fn tile_states(aggregator: &RowAggregator, tiles: usize) -> Vec<Vec<Ir>> {
    let rows = tiles * EVENTS_PER_TILE;
    let (batch, ts) = batch(rows, 4);
    let slots: Vec<usize> = (0..rows).map(|row| row / EVENTS_PER_TILE).collect();
    let mut states = vec![aggregator.new_irs(); tiles];
    aggregator
        .update_batch(&batch, &ts, &slots, None, &mut states)
        .expect("update");
    states
}

fn bench_merge(c: &mut Criterion) {
    for tiles in TILE_COUNTS {
        let mut group = c.benchmark_group(format!("merge_{tiles}_tiles"));
        group.throughput(Throughput::Elements(tiles as u64));
        for case in &CASES {
            let aggregator = aggregator(case);
            let states = tile_states(&aggregator, tiles);
            group.bench_function(case.label, |b| {
                b.iter(|| {
                    let mut accumulator = aggregator.new_irs();
                    for state in &states {
                        aggregator.merge(&mut accumulator, state).expect("merge");
                    }
                    black_box(accumulator)
                })
            });
        }
        group.finish();
    }
}

criterion_group!(benches, bench_update, bench_merge);
criterion_main!(benches);
