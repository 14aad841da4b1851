//! The sample join end to end (issue: "backfill of `shop.checkout.v1` on the sample data checked
//! against values computed independently — every column, every row").
//!
//! The store is opened in a fresh temp directory, the production sample configs are applied, the
//! four sample tables are loaded, and `shop.checkout.v1` is backfilled over its left table. Every
//! column of every output row is compared with a naive oracle written in this file straight from
//! SEMANTICS.md, reading the Parquet files into plain structs and never calling tilefold's
//! expression, aggregation or evaluation code:
//!
//! - left columns and row order: R-JOIN-1 (one row per left row, in left input order: partitions
//!   in `ds` order, rows in file order);
//! - `shop.purchases.v1` (events with a topic → TEMPORAL, R-ACC-1): the `price` select computed in
//!   f64 as Spark does, the `wheres` clause with three-valued logic, null-`ts` rows dropped
//!   (R-SRC-1), the point-in-time rule `floor(T − W, tailHop(W)) ≤ ts < T` (R-WIN-2, R-WIN-3,
//!   R-WIN-5), SUM/COUNT/AVERAGE/MAX/LAST_K/UNIQUE_COUNT (R-AGG-1, R-AGG-3, R-OP-COUNT/SUM,
//!   R-OP-AVG, R-OP-MINMAX, R-OP-KLIST, R-OP-UNIQUE), unbounded LAST_K over `ts < T` (R-WIN-1);
//! - `shop.returns.v1` (events without a topic → SNAPSHOT): events in `[start(D) − W, start(D))`
//!   with D = ts_ds(T) taken from the row's `ts` (R-ACC-2);
//! - `shop.users.v1` (entities without aggregations → SNAPSHOT): the selected columns of
//!   snapshot partition D−1 (R-ACC-2, R-SNAP-3, R-SNAP-4);
//! - null keys give null parts (R-JOIN-4), keys without data give nulls (R-JOIN-5);
//! - output naming `<fullPrefix>_<input>_<op><window>` (R-NAME-1, R-NAME-2, R-NAME-3, R-NAME-6).
//!
//! Doubles compare with relative tolerance 1e-9 (absolute 1e-12 near zero), R-AGG-12.
//!
//! A second test fetches the join online (`fetch_join`) at the time of ~50 sample checkout rows
//! and checks the response equals the backfill row's non-null feature columns (R-ONL-2, R-ONL-3,
//! R-ONL-6, R-ONL-9; null keys: R-JOIN-4 / R-ONL-4).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fs::File;
use std::path::{Path, PathBuf};

use arrow::array::{Array, AsArray, RecordBatch};
use arrow::datatypes::{
    DataType, Float32Type, Float64Type, Int16Type, Int32Type, Int64Type, Int8Type,
};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use tilefold::{BackfillOptions, Left, Store, Value};

/// Snapshot rows per (day, user): (account_age_days, country).
type UsersByDay = HashMap<(i64, String), Vec<(Option<i64>, Option<String>)>>;

const MINUTE: i64 = 60_000;
const HOUR: i64 = 3_600_000;
const DAY: i64 = 86_400_000;

const JOIN: &str = "shop.checkout.v1";

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn data_file(name: &str) -> PathBuf {
    root()
        .join("query/tests/fixtures/data")
        .join(format!("{name}.parquet"))
}

// ---------------------------------------------------------------------------------------------
// Reading the sample tables into plain structs.
// ---------------------------------------------------------------------------------------------

fn read_batches(path: &Path) -> Vec<RecordBatch> {
    let file = File::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    ParquetRecordBatchReaderBuilder::try_new(file)
        .unwrap()
        .build()
        .unwrap()
        .collect::<Result<Vec<_>, _>>()
        .unwrap()
}

fn column<'a>(batch: &'a RecordBatch, name: &str) -> &'a dyn Array {
    batch
        .column_by_name(name)
        .unwrap_or_else(|| panic!("no column {name} in {:?}", batch.schema()))
        .as_ref()
}

fn strings(batch: &RecordBatch, name: &str) -> Vec<Option<String>> {
    let a = column(batch, name);
    (0..a.len())
        .map(|i| {
            if a.is_null(i) {
                return None;
            }
            Some(match a.data_type() {
                DataType::Utf8 => a.as_string::<i32>().value(i).to_owned(),
                DataType::LargeUtf8 => a.as_string::<i64>().value(i).to_owned(),
                DataType::Utf8View => a.as_string_view().value(i).to_owned(),
                other => panic!("{name}: expected a string column, found {other}"),
            })
        })
        .collect()
}

fn doubles(batch: &RecordBatch, name: &str) -> Vec<Option<f64>> {
    let a = column(batch, name);
    (0..a.len())
        .map(|i| {
            if a.is_null(i) {
                return None;
            }
            Some(match a.data_type() {
                DataType::Float64 => a.as_primitive::<Float64Type>().value(i),
                other => panic!("{name}: expected a DOUBLE column, found {other}"),
            })
        })
        .collect()
}

fn longs(batch: &RecordBatch, name: &str) -> Vec<Option<i64>> {
    let a = column(batch, name);
    (0..a.len())
        .map(|i| {
            if a.is_null(i) {
                return None;
            }
            Some(match a.data_type() {
                DataType::Int64 => a.as_primitive::<Int64Type>().value(i),
                other => panic!("{name}: expected a LONG column, found {other}"),
            })
        })
        .collect()
}

struct Purchase {
    user: Option<String>,
    merchant: Option<String>,
    purchase_price: Option<f64>,
    fee_percent: Option<f64>,
    ts: Option<i64>,
    ds: String,
}

struct Checkout {
    user: Option<String>,
    cart_total: Option<f64>,
    ts: Option<i64>,
    ds: String,
}

struct Return {
    user: Option<String>,
    refund: Option<f64>,
    ts: Option<i64>,
}

struct UserRow {
    user: Option<String>,
    account_age_days: Option<i64>,
    country: Option<String>,
    ds: String,
}

fn purchases() -> Vec<Purchase> {
    let mut out = Vec::new();
    for b in read_batches(&data_file("purchases")) {
        let (u, m, p, f, t, d) = (
            strings(&b, "user_id"),
            strings(&b, "merchant"),
            doubles(&b, "purchase_price"),
            doubles(&b, "merchant_fee_percent"),
            longs(&b, "ts"),
            strings(&b, "ds"),
        );
        for i in 0..b.num_rows() {
            out.push(Purchase {
                user: u[i].clone(),
                merchant: m[i].clone(),
                purchase_price: p[i],
                fee_percent: f[i],
                ts: t[i],
                ds: d[i].clone().expect("purchases: null ds"),
            });
        }
    }
    out
}

fn checkouts() -> Vec<Checkout> {
    let mut out = Vec::new();
    for b in read_batches(&data_file("checkouts")) {
        let (u, c, t, d) = (
            strings(&b, "user_id"),
            doubles(&b, "cart_total"),
            longs(&b, "ts"),
            strings(&b, "ds"),
        );
        for i in 0..b.num_rows() {
            out.push(Checkout {
                user: u[i].clone(),
                cart_total: c[i],
                ts: t[i],
                ds: d[i].clone().expect("checkouts: null ds"),
            });
        }
    }
    out
}

fn returns() -> Vec<Return> {
    let mut out = Vec::new();
    for b in read_batches(&data_file("returns")) {
        let (u, r, t) = (
            strings(&b, "user_id"),
            doubles(&b, "refund_amount"),
            longs(&b, "ts"),
        );
        for i in 0..b.num_rows() {
            out.push(Return {
                user: u[i].clone(),
                refund: r[i],
                ts: t[i],
            });
        }
    }
    out
}

fn users() -> Vec<UserRow> {
    let mut out = Vec::new();
    for b in read_batches(&data_file("users")) {
        let (u, a, c, d) = (
            strings(&b, "user_id"),
            longs(&b, "account_age_days"),
            strings(&b, "country"),
            strings(&b, "ds"),
        );
        for i in 0..b.num_rows() {
            out.push(UserRow {
                user: u[i].clone(),
                account_age_days: a[i],
                country: c[i].clone(),
                ds: d[i].clone().expect("users: null ds"),
            });
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Time (R-TIME-1..5, R-TIME-7, R-WIN-2).
// ---------------------------------------------------------------------------------------------

/// Days since 1970-01-01 of a `yyyy-MM-dd` partition name (proleptic Gregorian, UTC).
fn day_number(ds: &str) -> i64 {
    let y: i64 = ds[0..4].parse().unwrap();
    let m: i64 = ds[5..7].parse().unwrap();
    let d: i64 = ds[8..10].parse().unwrap();
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The mathematical floor of `x` to a multiple of `h` (R-TIME-7).
fn floor(x: i64, h: i64) -> i64 {
    x.div_euclid(h) * h
}

/// R-WIN-2.
fn tail_hop(w: i64) -> i64 {
    if w >= 12 * DAY {
        DAY
    } else if w >= 12 * HOUR {
        HOUR
    } else {
        5 * MINUTE
    }
}

// ---------------------------------------------------------------------------------------------
// Values and comparison.
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq)]
enum V {
    Null,
    Long(i64),
    Double(f64),
    Str(String),
    List(Vec<V>),
    /// Anything the sample join should never produce, kept for the failure message.
    Other(String),
}

impl V {
    fn is_null(&self) -> bool {
        matches!(self, V::Null)
    }
}

/// A finalized scalar DOUBLE output: NaN and ±∞ become null (R-AGG-3).
fn finite(x: f64) -> V {
    if x.is_finite() {
        V::Double(x)
    } else {
        V::Null
    }
}

/// R-AGG-12: relative tolerance 1e-9, absolute 1e-12 near zero.
fn close(x: f64, y: f64) -> bool {
    if x.is_nan() || y.is_nan() {
        return x.is_nan() && y.is_nan();
    }
    if x == y {
        return true;
    }
    let d = (x - y).abs();
    d <= 1e-12 || d <= 1e-9 * x.abs().max(y.abs())
}

fn same(e: &V, a: &V) -> bool {
    match (e, a) {
        (V::Null, V::Null) => true,
        (V::Long(x), V::Long(y)) => x == y,
        (V::Double(x), V::Double(y)) => close(*x, *y),
        (V::Str(x), V::Str(y)) => x == y,
        (V::List(x), V::List(y)) => x.len() == y.len() && x.iter().zip(y).all(|(p, q)| same(p, q)),
        _ => false,
    }
}

/// One cell of an Arrow output column.
fn cell(a: &dyn Array, i: usize) -> V {
    if a.is_null(i) {
        return V::Null;
    }
    match a.data_type() {
        DataType::Int64 => V::Long(a.as_primitive::<Int64Type>().value(i)),
        DataType::Int32 => V::Long(a.as_primitive::<Int32Type>().value(i).into()),
        DataType::Int16 => V::Long(a.as_primitive::<Int16Type>().value(i).into()),
        DataType::Int8 => V::Long(a.as_primitive::<Int8Type>().value(i).into()),
        DataType::Float64 => V::Double(a.as_primitive::<Float64Type>().value(i)),
        DataType::Float32 => V::Double(a.as_primitive::<Float32Type>().value(i).into()),
        DataType::Utf8 => V::Str(a.as_string::<i32>().value(i).to_owned()),
        DataType::LargeUtf8 => V::Str(a.as_string::<i64>().value(i).to_owned()),
        DataType::Utf8View => V::Str(a.as_string_view().value(i).to_owned()),
        DataType::List(_) => {
            let l = a.as_list::<i32>().value(i);
            V::List((0..l.len()).map(|j| cell(l.as_ref(), j)).collect())
        }
        DataType::LargeList(_) => {
            let l = a.as_list::<i64>().value(i);
            V::List((0..l.len()).map(|j| cell(l.as_ref(), j)).collect())
        }
        other => V::Other(format!("unexpected Arrow type {other}")),
    }
}

fn from_value(v: &Value) -> V {
    match v {
        Value::Null => V::Null,
        Value::Long(x) => V::Long(*x),
        Value::Double(x) => V::Double(*x),
        Value::String(s) => V::Str(s.clone()),
        Value::List(l) => V::List(l.iter().map(from_value).collect()),
        other => V::Other(format!("{other:?}")),
    }
}

// ---------------------------------------------------------------------------------------------
// The oracle.
// ---------------------------------------------------------------------------------------------

/// The join's output columns, derived by hand from the configs (R-NAME-1/2/3/6, R-JOIN-1).
fn expected_columns() -> Vec<String> {
    let mut names: Vec<String> = ["user_id", "cart_total", "ts", "ds"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let p = "shop_purchases_v1";
    for op in ["sum", "count", "average"] {
        for w in ["3d", "14d", "30d"] {
            names.push(format!("{p}_price_{op}_{w}"));
        }
    }
    names.push(format!("{p}_price_max_30d"));
    names.push(format!("{p}_price_last10"));
    names.push(format!("{p}_merchant_unique_count_30d"));
    let r = "shop_returns_v1";
    names.push(format!("{r}_refund_sum_7d"));
    names.push(format!("{r}_refund_sum_30d"));
    names.push(format!("{r}_refund_count_30d"));
    names.push("shop_users_v1_account_age_days".into());
    names.push("shop_users_v1_country".into());
    names
}

/// A purchases.v1 input row after its source query: (ts, price, merchant).
struct PurchaseEvent {
    ts: i64,
    price: Option<f64>,
    merchant: Option<String>,
}

struct Oracle {
    /// purchases.v1 input rows per user.
    purchases: HashMap<String, Vec<PurchaseEvent>>,
    /// returns.v1 input rows per user: (ts, refund).
    returns: HashMap<String, Vec<(i64, Option<f64>)>>,
    /// users.v1 rows per (partition day, user).
    users: UsersByDay,
    /// Notes on the data found while building the oracle (printed, never asserted).
    notes: Vec<String>,
}

impl Oracle {
    fn new() -> Oracle {
        let mut notes = Vec::new();
        let mut purchases_by_user: HashMap<String, Vec<PurchaseEvent>> = HashMap::new();
        let (mut filtered, mut null_ts, mut null_price, mut late) = (0, 0, 0, 0);
        let all = purchases();
        for p in &all {
            // wheres: `purchase_price IS NOT NULL OR merchant IS NOT NULL`. IS NOT NULL is never
            // null, so the three-valued OR is an ordinary boolean OR here.
            if !(p.purchase_price.is_some() || p.merchant.is_some()) {
                filtered += 1;
                continue;
            }
            // R-SRC-1: events rows with a null time value are dropped.
            let Some(ts) = p.ts else {
                null_ts += 1;
                continue;
            };
            // R-SRC-2: rows whose keys are all null are dropped (and never match a join).
            let Some(user) = &p.user else { continue };
            // `purchase_price * (1 - merchant_fee_percent/100)`: `/` is DOUBLE division, the
            // INT literals widen to DOUBLE, and a null operand makes the result null.
            let price = match (p.purchase_price, p.fee_percent) {
                (Some(pp), Some(f)) => Some(pp * (1.0 - f / 100.0)),
                _ => None,
            };
            if price.is_none() {
                null_price += 1;
            }
            if ts.div_euclid(DAY) != day_number(&p.ds) {
                late += 1;
            }
            purchases_by_user
                .entry(user.clone())
                .or_default()
                .push(PurchaseEvent {
                    ts,
                    price,
                    merchant: p.merchant.clone(),
                });
        }
        notes.push(format!(
            "purchases: {} rows, {filtered} removed by the where clause, {null_ts} with null ts, \
             {null_price} kept with a null price, {late} stored outside partition ts_ds(ts)",
            all.len()
        ));

        let mut returns_by_user: HashMap<String, Vec<(i64, Option<f64>)>> = HashMap::new();
        let all = returns();
        let mut null_ts = 0;
        for r in &all {
            let Some(ts) = r.ts else {
                null_ts += 1;
                continue;
            };
            let Some(user) = &r.user else { continue };
            returns_by_user
                .entry(user.clone())
                .or_default()
                .push((ts, r.refund));
        }
        notes.push(format!(
            "returns: {} rows, {null_ts} with null ts",
            all.len()
        ));

        let mut users_by_day: UsersByDay = HashMap::new();
        let all = users();
        for u in &all {
            let Some(user) = &u.user else { continue };
            users_by_day
                .entry((day_number(&u.ds), user.clone()))
                .or_default()
                .push((u.account_age_days, u.country.clone()));
        }
        let duplicated = users_by_day.values().filter(|v| v.len() > 1).count();
        notes.push(format!(
            "users: {} rows, {duplicated} (partition, user) pairs with more than one row",
            all.len()
        ));

        Oracle {
            purchases: purchases_by_user,
            returns: returns_by_user,
            users: users_by_day,
            notes,
        }
    }

    /// The feature values (every column after the left ones) of a left row.
    fn features(&self, user: Option<&str>, t: i64) -> Vec<V> {
        let mut out = Vec::new();
        let Some(user) = user else {
            // R-JOIN-4: a null key makes every part null.
            return vec![V::Null; expected_columns().len() - 4];
        };
        self.purchases_v1(user, t, &mut out);
        self.returns_v1(user, t, &mut out);
        self.users_v1(user, t, &mut out);
        out
    }

    /// TEMPORAL events (R-WIN-3): floor(T − W, tailHop(W)) ≤ ts < T.
    fn purchases_v1(&self, user: &str, t: i64, out: &mut Vec<V>) {
        let empty = Vec::new();
        let events = self.purchases.get(user).unwrap_or(&empty);
        let windows = [3 * DAY, 14 * DAY, 30 * DAY];
        let in_window = |w: i64| {
            let start = floor(t - w, tail_hop(w));
            events.iter().filter(move |e| start <= e.ts && e.ts < t)
        };
        let prices = |w: i64| -> Vec<(i64, f64)> {
            let mut v: Vec<(i64, f64)> = in_window(w)
                .filter_map(|e| e.price.map(|p| (e.ts, p)))
                .collect();
            v.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.total_cmp(&b.1)));
            v
        };
        // SUM (R-OP-COUNT/SUM, R-AGG-1: null without input, R-AGG-3).
        for w in windows {
            let p = prices(w);
            out.push(if p.is_empty() {
                V::Null
            } else {
                finite(p.iter().map(|x| x.1).sum())
            });
        }
        // COUNT: null, not 0, without input (R-AGG-1).
        for w in windows {
            let n = prices(w).len() as i64;
            out.push(if n == 0 { V::Null } else { V::Long(n) });
        }
        // AVERAGE = sum / count (R-OP-AVG).
        for w in windows {
            let p = prices(w);
            out.push(if p.is_empty() {
                V::Null
            } else {
                finite(p.iter().map(|x| x.1).sum::<f64>() / p.len() as f64)
            });
        }
        // MAX over 30 d: a NaN makes it null (R-OP-MINMAX); +0.0 > −0.0 (IEEE total order).
        let p = prices(30 * DAY);
        out.push(if p.is_empty() || p.iter().any(|x| x.1.is_nan()) {
            V::Null
        } else {
            finite(p.iter().map(|x| x.1).max_by(|a, b| a.total_cmp(b)).unwrap())
        });
        // LAST_K k=10, unbounded (R-WIN-1: every ts < T): newest first, ties by value
        // descending (R-OP-KLIST); list elements keep non-finite values (R-AGG-3).
        let mut all: Vec<(i64, f64)> = events
            .iter()
            .filter(|e| e.ts < t)
            .filter_map(|e| e.price.map(|p| (e.ts, p)))
            .collect();
        all.sort_by(|a, b| b.0.cmp(&a.0).then(b.1.total_cmp(&a.1)));
        out.push(if all.is_empty() {
            V::Null
        } else {
            V::List(all.iter().take(10).map(|x| V::Double(x.1)).collect())
        });
        // UNIQUE_COUNT of merchant over 30 d (R-OP-UNIQUE).
        let merchants: BTreeSet<&str> = in_window(30 * DAY)
            .filter_map(|e| e.merchant.as_deref())
            .collect();
        out.push(if merchants.is_empty() {
            V::Null
        } else {
            V::Long(merchants.len() as i64)
        });
    }

    /// SNAPSHOT events (R-ACC-2): events in [start(D) − W, start(D)), D = ts_ds(T).
    fn returns_v1(&self, user: &str, t: i64, out: &mut Vec<V>) {
        let empty = Vec::new();
        let events = self.returns.get(user).unwrap_or(&empty);
        let start_d = floor(t, DAY);
        let refunds = |w: i64| -> Vec<(i64, f64)> {
            let mut v: Vec<(i64, f64)> = events
                .iter()
                .filter(|(ts, _)| start_d - w <= *ts && *ts < start_d)
                .filter_map(|(ts, r)| r.map(|r| (*ts, r)))
                .collect();
            v.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.total_cmp(&b.1)));
            v
        };
        for w in [7 * DAY, 30 * DAY] {
            let r = refunds(w);
            out.push(if r.is_empty() {
                V::Null
            } else {
                finite(r.iter().map(|x| x.1).sum())
            });
        }
        let n = refunds(30 * DAY).len() as i64;
        out.push(if n == 0 { V::Null } else { V::Long(n) });
    }

    /// SNAPSHOT entities without aggregations (R-SNAP-3/4): the selected columns of snapshot
    /// partition D−1. Several rows for one key: all share one ts (no timeColumn), so the largest
    /// under R-AGG-11, compared field by field with nulls first.
    fn users_v1(&self, user: &str, t: i64, out: &mut Vec<V>) {
        let d = t.div_euclid(DAY);
        match self.users.get(&(d - 1, user.to_owned())) {
            None => {
                out.push(V::Null);
                out.push(V::Null);
            }
            Some(rows) => {
                let best = rows
                    .iter()
                    .max_by(|a, b| {
                        a.0.cmp(&b.0).then_with(|| {
                            // Option's order puts None first; UTF-16 order equals byte order
                            // for the sample's ASCII country codes, checked below.
                            a.1.cmp(&b.1)
                        })
                    })
                    .unwrap();
                if let Some(c) = &best.1 {
                    assert!(
                        c.is_ascii(),
                        "non-ASCII country {c:?}: compare UTF-16 units"
                    );
                }
                out.push(best.0.map_or(V::Null, V::Long));
                out.push(best.1.clone().map_or(V::Null, V::Str));
            }
        }
    }
}

/// The left rows in the order the join outputs them: partitions in `ds` order, rows within a
/// partition in file order (R-JOIN-1).
fn left_rows() -> Vec<Checkout> {
    let mut rows = checkouts();
    rows.sort_by(|a, b| a.ds.cmp(&b.ds));
    rows
}

fn expected_rows(oracle: &Oracle, left: &[Checkout]) -> Vec<Vec<V>> {
    left.iter()
        .map(|c| {
            let mut row = vec![
                c.user.clone().map_or(V::Null, V::Str),
                c.cart_total.map_or(V::Null, V::Double),
                c.ts.map_or(V::Null, V::Long),
                V::Str(c.ds.clone()),
            ];
            let t = c.ts.expect("checkouts: a left row with a null ts");
            row.extend(oracle.features(c.user.as_deref(), t));
            row
        })
        .collect()
}

/// How many rows would change if one rule were replaced by a plausible wrong one.
fn rule_sensitivity(
    oracle: &Oracle,
    left: &[Checkout],
    expected: &[Vec<V>],
) -> Vec<(String, usize)> {
    let columns = expected_columns();
    let col = |name: &str| columns.iter().position(|c| c == name).unwrap();
    let count_3d = col("shop_purchases_v1_price_count_3d");
    let count_14d = col("shop_purchases_v1_price_count_14d");
    let returns_7d = col("shop_returns_v1_refund_sum_7d");
    let age = col("shop_users_v1_account_age_days");
    let mut hop_3d = 0;
    let mut hop_14d = 0;
    let mut returns_temporal = 0;
    let mut users_same_day = 0;
    let non_zero = |n: usize| if n == 0 { V::Null } else { V::Long(n as i64) };
    for (c, row) in left.iter().zip(expected) {
        let (Some(user), Some(t)) = (c.user.as_deref(), c.ts) else {
            continue;
        };
        let events = oracle.purchases.get(user).map_or(&[][..], |v| &v[..]);
        // Windows without the tail hop: T − W ≤ ts < T.
        let plain = |w: i64| {
            non_zero(
                events
                    .iter()
                    .filter(|e| t - w <= e.ts && e.ts < t && e.price.is_some())
                    .count(),
            )
        };
        hop_3d += usize::from(plain(3 * DAY) != row[count_3d]);
        hop_14d += usize::from(plain(14 * DAY) != row[count_14d]);
        // returns.v1 read as TEMPORAL (as if it had a topic, E-40).
        let w = 7 * DAY;
        let start = floor(t - w, tail_hop(w));
        let refunds: Vec<f64> = oracle
            .returns
            .get(user)
            .map_or(&[][..], |v| &v[..])
            .iter()
            .filter(|(ts, r)| start <= *ts && *ts < t && r.is_some())
            .map(|(_, r)| r.unwrap())
            .collect();
        let temporal = if refunds.is_empty() {
            V::Null
        } else {
            finite(refunds.iter().sum())
        };
        returns_temporal += usize::from(!same(&temporal, &row[returns_7d]));
        // users.v1 read from partition D rather than D−1.
        let d = t.div_euclid(DAY);
        let same_day = oracle
            .users
            .get(&(d, user.to_owned()))
            .and_then(|rows| rows.iter().filter_map(|r| r.0).max())
            .map_or(V::Null, V::Long);
        users_same_day += usize::from(same_day != row[age]);
    }
    vec![
        ("without the 3 d tail hop (R-WIN-3)".into(), hop_3d),
        ("without the 14 d tail hop (R-WIN-3)".into(), hop_14d),
        (
            "with returns.v1 TEMPORAL (R-ACC-1/2)".into(),
            returns_temporal,
        ),
        (
            "with users.v1 from partition D (R-ACC-2)".into(),
            users_same_day,
        ),
    ]
}

// ---------------------------------------------------------------------------------------------
// The store.
// ---------------------------------------------------------------------------------------------

struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> TempDir {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        let dir = std::env::temp_dir().join(format!(
            "tilefold-backfill-sample-join-{tag}-{}-{nanos}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A store holding the sample configs and tables. Fields drop in order: the store is closed
/// before its directory is removed.
struct Fixture {
    store: Store,
    _dir: TempDir,
}

fn fixture(tag: &str) -> Fixture {
    let dir = TempDir::new(tag);
    let store = Store::open(&dir.0).unwrap();
    let configs = tilefold::load_path(root().join("query/tests/fixtures/production")).unwrap();
    store.apply(&configs).unwrap();
    for table in ["purchases", "checkouts", "returns", "users"] {
        store
            .load_parquet(&format!("data.{table}"), &[data_file(table)])
            .unwrap_or_else(|e| panic!("loading data.{table}: {e}"));
    }
    Fixture { store, _dir: dir }
}

/// The backfill of the sample join: column names and rows of cells.
fn backfill(store: &Store) -> (Vec<String>, Vec<Vec<V>>) {
    backfill_in_batches(store, BackfillOptions::default().batch_rows)
}

fn backfill_in_batches(store: &Store, batch_rows: usize) -> (Vec<String>, Vec<Vec<V>>) {
    let options = BackfillOptions {
        batch_rows,
        ..BackfillOptions::default()
    };
    let batches: Vec<RecordBatch> = store
        .backfill(JOIN, Left::Table, &options)
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert!(!batches.is_empty(), "the backfill produced no batches");
    let schema = batches[0].schema();
    let names: Vec<String> = schema.fields().iter().map(|f| f.name().clone()).collect();
    let mut rows = Vec::new();
    for b in &batches {
        assert_eq!(b.schema().fields(), schema.fields(), "batch schemas differ");
        for i in 0..b.num_rows() {
            rows.push(b.columns().iter().map(|c| cell(c.as_ref(), i)).collect());
        }
    }
    (names, rows)
}

// ---------------------------------------------------------------------------------------------
// Tests.
// ---------------------------------------------------------------------------------------------

#[test]
fn oracle_time_helpers_match_the_worked_examples() {
    // R-TIME-4 and the R-WIN-5 table.
    assert_eq!(day_number("2023-12-20") * DAY, 1_703_030_400_000);
    assert_eq!(day_number("1970-01-01"), 0);
    assert_eq!(day_number("2024-03-01") - day_number("2024-02-28"), 2);
    let t = 1_703_073_661_923; // 2023-12-20T12:01:01.923Z
    assert_eq!(floor(t - 30 * DAY, tail_hop(30 * DAY)), 1_700_438_400_000); // 11-20T00:00Z
    assert_eq!(floor(t - 10 * DAY, tail_hop(10 * DAY)), 1_702_209_600_000); // 12-10T12:00Z
    assert_eq!(tail_hop(3 * DAY), HOUR);
    assert_eq!(tail_hop(14 * DAY), DAY);
    assert_eq!(tail_hop(11 * HOUR), 5 * MINUTE);
}

#[test]
fn backfill_of_the_sample_join_equals_the_oracle_in_every_column_and_row() {
    let fixture = fixture("backfill");
    let (names, actual) = backfill(&fixture.store);
    let columns = expected_columns();
    assert_eq!(names, columns, "output columns (R-JOIN-1, R-NAME-1/2/3/6)");

    let oracle = Oracle::new();
    for note in &oracle.notes {
        eprintln!("note: {note}");
    }
    let left = left_rows();
    let expected = expected_rows(&oracle, &left);
    assert_eq!(
        actual.len(),
        expected.len(),
        "one output row per left row (R-JOIN-1)"
    );
    let null_users = left.iter().filter(|c| c.user.is_none()).count();
    eprintln!(
        "checkouts: {} rows, {null_users} with a null user_id",
        left.len()
    );

    let mut mismatches = Vec::new();
    let mut total = 0usize;
    for (r, (e, a)) in expected.iter().zip(&actual).enumerate() {
        for (c, name) in columns.iter().enumerate() {
            if !same(&e[c], &a[c]) {
                total += 1;
                if mismatches.len() < 20 {
                    mismatches.push(format!(
                        "row {r} (user {:?}, ts {:?}, ds {}) column {name}: expected {:?}, \
                         actual {:?}",
                        left[r].user, left[r].ts, left[r].ds, e[c], a[c]
                    ));
                }
            }
        }
    }
    assert!(
        mismatches.is_empty(),
        "{total} mismatching cells; the first {}:\n{}",
        mismatches.len(),
        mismatches.join("\n")
    );

    // Batches cut elsewhere than the loaded partitions (and than the default) change nothing.
    let (_, small) = backfill_in_batches(&fixture.store, 37);
    assert_eq!(small.len(), actual.len());
    for (r, (a, b)) in actual.iter().zip(&small).enumerate() {
        assert!(
            a.iter().zip(b).all(|(x, y)| same(x, y)),
            "row {r}: batches of 37 rows give {b:?}, the default {a:?}"
        );
    }

    // The sample discriminates the rules: replacing one of them changes many rows, so a store
    // that got it wrong could not pass.
    for (rule, differing) in rule_sensitivity(&oracle, &left, &expected) {
        eprintln!("rows that would differ {rule}: {differing}");
        assert!(differing > 20, "the sample does not exercise: {rule}");
    }

    // Not vacuous: every feature column has many non-null values.
    let mut report = Vec::new();
    for (c, name) in columns.iter().enumerate().skip(4) {
        let non_null = expected.iter().filter(|row| !row[c].is_null()).count();
        report.push(format!("{name}: {non_null}/{}", expected.len()));
        assert!(
            non_null * 10 > expected.len(),
            "{name}: only {non_null} of {} rows are non-null",
            expected.len()
        );
    }
    eprintln!(
        "non-null values per feature column:\n  {}",
        report.join("\n  ")
    );
}

#[test]
fn fetch_join_equals_the_backfill_row_at_its_time() {
    let fixture = fixture("fetch");
    let (names, rows) = backfill(&fixture.store);
    let left = left_rows();
    assert_eq!(rows.len(), left.len());
    let ts_col = names.iter().position(|n| n == "ts").unwrap();
    let user_col = names.iter().position(|n| n == "user_id").unwrap();

    // ~50 rows spread over the whole range, plus one null-key row if the sample has one.
    let step = (rows.len() / 50).max(1);
    let mut sample: Vec<usize> = (0..rows.len()).step_by(step).collect();
    if let Some(i) = rows.iter().position(|r| r[user_col].is_null()) {
        sample.push(i);
    }

    let mut mismatches = Vec::new();
    let mut compared = 0usize;
    for &r in &sample {
        let row = &rows[r];
        let V::Long(t) = row[ts_col] else {
            panic!("row {r}: ts {:?}", row[ts_col])
        };
        let key = match &row[user_col] {
            V::Str(u) => Value::String(u.clone()),
            V::Null => Value::Null,
            other => panic!("row {r}: user_id {other:?}"),
        };
        let keys = BTreeMap::from([("user_id".to_string(), key)]);
        let features = fixture
            .store
            .fetch_join("shop/checkout.v1", &keys, Some(t))
            .unwrap_or_else(|e| panic!("row {r}: fetch failed: {e}"));
        let fetched: BTreeMap<&str, V> = features
            .values
            .iter()
            .map(|(n, v)| (n.as_str(), from_value(v)))
            .collect();
        for (c, name) in names.iter().enumerate().skip(4) {
            let offline = &row[c];
            let online = fetched.get(name.as_str());
            let ok = match (offline, online) {
                // Null values are absent online (R-ONL-6, E-08).
                (V::Null, None) => true,
                (V::Null, Some(_)) | (_, None) => false,
                (o, Some(f)) => same(o, f),
            };
            compared += 1;
            if !ok && mismatches.len() < 20 {
                mismatches.push(format!(
                    "row {r} (keys {keys:?}, T {t}) {name}: backfill {offline:?}, fetch {online:?}"
                ));
            }
        }
        for name in fetched.keys() {
            if !names.iter().skip(4).any(|n| n == name) && mismatches.len() < 20 {
                mismatches.push(format!(
                    "row {r} (keys {keys:?}, T {t}): unexpected fetched value {name} = {:?}",
                    fetched[name]
                ));
            }
        }
    }
    // A null key and a key without data: every part contributes nothing, without an exception
    // (R-JOIN-4, R-ONL-4, R-JOIN-5, R-ONL-6).
    let t = match rows[0][ts_col] {
        V::Long(t) => t,
        ref other => panic!("ts {other:?}"),
    };
    for key in [Value::Null, Value::String("no-such-user".into())] {
        let keys = BTreeMap::from([("user_id".to_string(), key)]);
        let features = fixture
            .store
            .fetch_join("shop/checkout.v1", &keys, Some(t + 30 * DAY))
            .unwrap_or_else(|e| panic!("{keys:?}: fetch failed: {e}"));
        if !features.values.is_empty() {
            mismatches.push(format!(
                "keys {keys:?}: expected no values, fetched {:?}",
                features.values
            ));
        }
    }
    assert!(sample.len() >= 40, "only {} sampled rows", sample.len());
    assert!(
        mismatches.is_empty(),
        "fetch differs from backfill ({compared} values compared):\n{}",
        mismatches.join("\n")
    );
}
