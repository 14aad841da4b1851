//! The shop store the fetch and ingest benches read: the sample configs' tables filled with
//! random rows over 100,000 users, ending at a given instant.

use std::sync::Arc;

use arrow::array::{ArrayRef, Float64Array, Int64Array, RecordBatch, StringArray};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use tilefold::Store;

pub const DAY: i64 = 86_400_000;
pub const USERS: u64 = 100_000;

/// xorshift64: deterministic rows and keys.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

pub fn ds(ts: i64) -> String {
    tilefold::query::window::day_name(ts.div_euclid(DAY))
}

/// The columns of `data.purchases` the sample GroupBys read, and its partition column `ds`.
pub fn purchases_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("user_id", DataType::Utf8, true),
        Field::new("merchant", DataType::Utf8, true),
        Field::new("purchase_price", DataType::Float64, true),
        Field::new("merchant_fee_percent", DataType::Float64, true),
        Field::new("ts", DataType::Int64, true),
        Field::new("ds", DataType::Utf8, true),
    ]))
}

/// One purchase of each of `users` at the matching `ts`, with random merchants, prices and fees.
pub fn purchases(rng: &mut Rng, users: &[u64], ts: Vec<i64>) -> RecordBatch {
    let n = users.len();
    let days = StringArray::from_iter_values(ts.iter().map(|&t| ds(t)));
    let columns: Vec<ArrayRef> = vec![
        Arc::new(StringArray::from_iter_values(
            users.iter().map(|u| format!("u{u}")),
        )),
        Arc::new(StringArray::from_iter_values(
            (0..n).map(|_| format!("m{}", rng.below(50))),
        )),
        Arc::new(Float64Array::from_iter_values(
            (0..n).map(|_| (rng.below(20_000) as f64) / 100.0),
        )),
        Arc::new(Float64Array::from_iter_values(
            (0..n).map(|_| rng.below(10) as f64),
        )),
        Arc::new(Int64Array::from(ts)),
        Arc::new(days),
    ];
    RecordBatch::try_new(purchases_schema(), columns).expect("purchases batch")
}

/// Loads `events` purchases over the `days` days before `end` (in chunks of one million rows),
/// a tenth as many returns, and the users snapshots of the last two days into `store`, which
/// has the sample configs applied.
pub fn load_shop(store: &Store, events: usize, days: u64, end: i64) {
    let mut rng = Rng(0x5eed_1234_abcd_0001);
    // Purchases, in chunks of one million rows.
    let mut batches = Vec::new();
    let mut left = events;
    while left > 0 {
        let n = left.min(1_000_000);
        left -= n;
        let ts: Vec<i64> = (0..n)
            .map(|_| end - 1 - rng.below(days * DAY as u64) as i64)
            .collect();
        let users: Vec<u64> = (0..n).map(|_| rng.below(USERS)).collect();
        batches.push(purchases(&mut rng, &users, ts));
    }
    let schema = purchases_schema();
    store
        .load_batches("data.purchases", &schema, &batches)
        .expect("load purchases");
    // Returns: a tenth as many.
    let n = events / 10;
    let schema = Arc::new(Schema::new(vec![
        Field::new("user_id", DataType::Utf8, true),
        Field::new("refund_amount", DataType::Float64, true),
        Field::new("ts", DataType::Int64, true),
        Field::new("ds", DataType::Utf8, true),
    ]));
    let ts: Vec<i64> = (0..n)
        .map(|_| end - 1 - rng.below(30 * DAY as u64) as i64)
        .collect();
    let columns: Vec<ArrayRef> = vec![
        Arc::new(StringArray::from_iter_values(
            (0..n).map(|_| format!("u{}", rng.below(USERS))),
        )),
        Arc::new(Float64Array::from_iter_values(
            (0..n).map(|_| (rng.below(5_000) as f64) / 100.0),
        )),
        Arc::new(Int64Array::from(ts.clone())),
        Arc::new(StringArray::from_iter_values(ts.iter().map(|&t| ds(t)))),
    ];
    let batch = RecordBatch::try_new(schema.clone(), columns).expect("returns batch");
    store
        .load_batches("data.returns", &schema, &[batch])
        .expect("load returns");
    // Users: the snapshots of the last two days.
    let schema = Arc::new(Schema::new(vec![
        Field::new("user_id", DataType::Utf8, true),
        Field::new("account_age_days", DataType::Int64, true),
        Field::new("country", DataType::Utf8, true),
        Field::new("ds", DataType::Utf8, true),
    ]));
    let mut batches = Vec::new();
    for day in [end - 2 * DAY, end - DAY] {
        let columns: Vec<ArrayRef> = vec![
            Arc::new(StringArray::from_iter_values(
                (0..USERS).map(|u| format!("u{u}")),
            )),
            Arc::new(Int64Array::from_iter_values(
                (0..USERS).map(|u| (u % 900) as i64),
            )),
            Arc::new(StringArray::from_iter_values(
                (0..USERS).map(|u| ["DE", "IN", "US"][u as usize % 3]),
            )),
            Arc::new(StringArray::from_iter_values((0..USERS).map(|_| ds(day)))),
        ];
        batches.push(RecordBatch::try_new(schema.clone(), columns).expect("users batch"));
    }
    store
        .load_batches("data.users", &schema, &batches)
        .expect("load users");
}
