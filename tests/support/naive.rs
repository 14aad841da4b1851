//! A naive oracle for events GroupBys, written from SEMANTICS.md directly: it scans the raw event
//! list for every query, with no tiles, no hop IRs and no store.
//!
//! What is independent of the store: which events are included (R-SRC-1 null `ts` dropped,
//! R-SRC-2 null keys dropped, R-SRC-4 inclusion by `ts` alone whatever the partition, R-WIN-1..3
//! TEMPORAL windows, R-ACC-2 SNAPSHOT windows), the output naming and order (R-NAME-1, R-NAME-2),
//! and the calendar (R-TIME-4/5). The per-operation math reuses
//! [`tilefold::query::aggregate::AggregationPart`] (tested on its own elsewhere), folding the
//! selected events in `ts` order with no merges.

use tilefold::query::aggregate::{AggregationPart, Ir, PartArgs};
use tilefold::query::config::Operation;
use tilefold::{DataType, Value};

pub const FIVE_MINUTES: i64 = 300_000;
pub const HOUR: i64 = 3_600_000;
pub const DAY: i64 = 86_400_000;

/// One raw row of table `data.ev`.
#[derive(Debug, Clone)]
pub struct Event {
    pub k: Option<String>,
    pub v: Option<i64>,
    pub x: Option<f64>,
    pub s: Option<String>,
    pub b: Option<String>,
    pub ts: Option<i64>,
    /// The partition the row is stored in: `ts`'s UTC date, or a later one (a late event).
    pub ds: String,
}

impl Event {
    /// The value of a selected column.
    pub fn column(&self, name: &str) -> Value {
        match name {
            "k" => self.k.clone().map_or(Value::Null, Value::String),
            "v" => self.v.map_or(Value::Null, Value::Long),
            "x" => self.x.map_or(Value::Null, Value::Double),
            "s" => self.s.clone().map_or(Value::Null, Value::String),
            "b" => self.b.clone().map_or(Value::Null, Value::String),
            other => panic!("no column {other}"),
        }
    }
}

/// The Arrow type of an input column (`v` LONG, `x` DOUBLE, the others STRING).
pub fn column_type(name: &str) -> DataType {
    match name {
        "v" => DataType::Long,
        "x" => DataType::Double,
        _ => DataType::String,
    }
}

/// A window: `(length, unit)` with unit 0 = HOURS, 1 = DAYS (R-TIME-2).
pub type WindowSpec = (i32, u8);

/// One aggregation of the generated GroupBy.
#[derive(Debug, Clone)]
pub struct AggSpec {
    /// The Chronon operation id (SEMANTICS.md §2.3 / §3.2).
    pub op: u8,
    pub input: &'static str,
    /// `argMap.k`, as written.
    pub k: Option<i64>,
    /// `argMap.percentiles`, as written.
    pub percentiles: Option<Vec<f64>>,
    /// Empty = one unbounded window (R-WIN-1).
    pub windows: Vec<WindowSpec>,
    /// `buckets: ["b"]`.
    pub bucket: bool,
}

/// Lower-case operation names by id (R-NAME-1), before the `<k>` rewrite.
const OP_NAMES: [&str; 20] = [
    "min",
    "max",
    "first",
    "last",
    "unique_count",
    "approx_unique_count",
    "count",
    "sum",
    "average",
    "variance",
    "skew",
    "kurtosis",
    "approx_percentile",
    "last_k",
    "first_k",
    "top_k",
    "bottom_k",
    "histogram",
    "approx_histogram_k",
    "bounded_unique_count",
];

pub const APPROX_UNIQUE_COUNT: u8 = 5;
pub const APPROX_PERCENTILE: u8 = 12;
pub const APPROX_HISTOGRAM_K: u8 = 18;
pub const UNIQUE_COUNT: u8 = 4;
pub const COUNT: u8 = 6;

impl AggSpec {
    /// `<op>` of R-NAME-1: `last<k>`, `first<k>`, `top<k>`, `bottom<k>` for the k operations.
    pub fn op_name(&self) -> String {
        let k = self.k.unwrap_or(0);
        match self.op {
            13 => format!("last{k}"),
            14 => format!("first{k}"),
            15 => format!("top{k}"),
            16 => format!("bottom{k}"),
            op => OP_NAMES[op as usize].to_owned(),
        }
    }

    /// The output columns of this aggregation in order (R-NAME-2: per bucket, per window).
    pub fn column_names(&self) -> Vec<String> {
        let bucket = if self.bucket { "_by_b" } else { "" };
        let windows: Vec<Option<WindowSpec>> = if self.windows.is_empty() {
            vec![None]
        } else {
            self.windows.iter().copied().map(Some).collect()
        };
        windows
            .into_iter()
            .map(|w| {
                let window = match w {
                    None => String::new(),
                    Some((n, 0)) => format!("_{n}h"),
                    Some((n, _)) => format!("_{n}d"),
                };
                format!("{}_{}{window}{bucket}", self.input, self.op_name())
            })
            .collect()
    }

    fn part(&self, op: u8) -> AggregationPart {
        let bucket_type = DataType::String;
        AggregationPart::new(
            Operation::from_id(i64::from(op)).expect("operation id"),
            self.input,
            &column_type(self.input),
            self.bucket.then_some(("b", &bucket_type)),
            &PartArgs {
                k: if op == self.op { self.k } else { None },
                percentiles: self.percentiles.clone(),
                element_wise: false,
            },
        )
        .expect("a valid aggregation")
    }
}

/// Window length in ms (R-TIME-2).
pub fn window_millis((length, unit): WindowSpec) -> i64 {
    i64::from(length) * if unit == 0 { HOUR } else { DAY }
}

/// R-TIME-7: the mathematical floor.
pub fn floor(x: i64, h: i64) -> i64 {
    x.div_euclid(h) * h
}

/// R-WIN-2.
pub fn tail_hop(w: i64) -> i64 {
    if w >= 12 * DAY {
        DAY
    } else if w >= 12 * HOUR {
        HOUR
    } else {
        FIVE_MINUTES
    }
}

/// R-TIME-5: the UTC date `yyyy-MM-dd` of a day number (days since 1970-01-01), by the civil
/// calendar algorithm.
pub fn day_name(day: i64) -> String {
    let z = day + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}

/// `ts_ds(t)`.
pub fn ts_ds(t: i64) -> String {
    day_name(t.div_euclid(DAY))
}

/// The half-open `ts` range a window covers at query time `t`.
/// TEMPORAL: R-WIN-3 `[floor(T − W, tailHop(W)), T)`, unbounded `ts < T` (R-WIN-1, R-WIN-5).
/// SNAPSHOT (events left, R-ACC-2): `[start(D) − W, start(D))` with D = ts_ds(T).
pub fn window_range(window: Option<WindowSpec>, t: i64, snapshot: bool) -> (i64, i64) {
    let end = if snapshot { floor(t, DAY) } else { t };
    match window {
        None => (i64::MIN, end),
        Some(w) => {
            let w = window_millis(w);
            if snapshot {
                (end - w, end)
            } else {
                (floor(t - w, tail_hop(w)), end)
            }
        }
    }
}

/// One output column of the oracle.
#[derive(Debug, Clone)]
pub struct Column {
    pub name: String,
    /// The operation id.
    pub op: u8,
    pub value: Value,
    /// Whether the output is a map of buckets (R-AGG-8).
    pub bucketed: bool,
    /// `argMap.k` as written.
    pub k: Option<i64>,
    /// For the approximate operations, an exact statistic over the same rows and bucket that
    /// decides how far the sketch may be from the oracle's when it is not bit-identical:
    /// APPROX_UNIQUE_COUNT and APPROX_HISTOGRAM_K: the distinct count (UNIQUE_COUNT),
    /// APPROX_PERCENTILE: the input count (COUNT).
    pub shadow: Option<Value>,
}

/// Every output column (nulls included) of the GroupBy for key `key` at query time `t`.
pub fn evaluate(
    aggs: &[AggSpec],
    snapshot: bool,
    events: &[Event],
    key: &str,
    t: i64,
) -> Vec<Column> {
    // R-SRC-1 and R-SRC-2: rows with a null ts or a null key are dropped; the fetch key matches
    // the row key exactly. R-SRC-4: the partition does not matter.
    let mut rows: Vec<&Event> = events
        .iter()
        .filter(|e| e.ts.is_some() && e.k.as_deref() == Some(key))
        .collect();
    rows.sort_by_key(|e| e.ts);
    let mut out = Vec::new();
    for agg in aggs {
        let part = agg.part(agg.op);
        let shadow = match agg.op {
            APPROX_UNIQUE_COUNT | APPROX_HISTOGRAM_K => Some(agg.part(UNIQUE_COUNT)),
            APPROX_PERCENTILE => Some(agg.part(COUNT)),
            _ => None,
        };
        let windows: Vec<Option<WindowSpec>> = if agg.windows.is_empty() {
            vec![None]
        } else {
            agg.windows.iter().copied().map(Some).collect()
        };
        for (window, name) in windows.into_iter().zip(agg.column_names()) {
            let (start, end) = window_range(window, t, snapshot);
            let mut state = Ir::Empty;
            let mut shadow_state = Ir::Empty;
            for e in &rows {
                let ts = e.ts.expect("filtered");
                if ts < start || ts >= end {
                    continue;
                }
                let input = e.column(agg.input);
                let bucket = if agg.bucket { e.b.as_deref() } else { None };
                part.update(&mut state, &input, bucket, ts).expect("update");
                if let Some(shadow) = &shadow {
                    shadow
                        .update(&mut shadow_state, &input, bucket, ts)
                        .expect("update");
                }
            }
            out.push(Column {
                name,
                op: agg.op,
                value: part.finalize(&state),
                bucketed: agg.bucket,
                k: agg.k,
                shadow: shadow.as_ref().map(|p| p.finalize(&shadow_state)),
            });
        }
    }
    out
}
