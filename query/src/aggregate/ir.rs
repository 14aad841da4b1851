//! Intermediate representations (IRs): the mergeable state of one aggregation part.
//!
//! Numeric states are inline (no heap allocation on update or merge); collections and sketches
//! live on the heap. Every state starts as [`Ir::Empty`], which finalizes to null (R-AGG-1).

use std::collections::BTreeMap;
use std::fmt;
use std::hash::{Hash, Hasher};

use datasketches::cpc::CpcSketch;
use datasketches::tdigest::TDigestMut;

use super::moments::Moments;
use crate::Value;

/// The state of one aggregation part for one key and one time range.
#[derive(Clone, Default)]
pub enum Ir {
    /// No input yet.
    #[default]
    Empty,
    /// COUNT, LONG SUM, MIN/MAX over integral inputs.
    Long(i64),
    /// DOUBLE SUM, MIN/MAX over floating inputs.
    Double(f64),
    /// MIN/MAX over strings.
    Str(String),
    /// AVERAGE: (sum, count).
    Average { sum: f64, count: i64 },
    /// VARIANCE, SKEW, KURTOSIS.
    Moments(Moments),
    /// FIRST, LAST: the chosen value and its `ts`.
    Timed { ts: i64, value: Value },
    /// FIRST_K, LAST_K: at most k (ts, value) pairs, best first.
    TimedList(Vec<(i64, Value)>),
    /// TOP_K, BOTTOM_K: at most k values, best first.
    Ranked(Vec<Value>),
    /// UNIQUE_COUNT, BOUNDED_UNIQUE_COUNT.
    Distinct(DistinctSet),
    /// APPROX_UNIQUE_COUNT.
    Cpc(Box<CpcSketch>),
    /// APPROX_PERCENTILE while it holds at most k values.
    Exact(Vec<f32>),
    /// APPROX_PERCENTILE beyond k values.
    Digest(Box<TDigestMut>),
    /// HISTOGRAM: exact counts.
    Counts(BTreeMap<String, i64>),
    /// APPROX_HISTOGRAM_K: a Misra–Gries summary, its counters and their total decrement.
    Frequent {
        counts: BTreeMap<String, i64>,
        offset: i64,
    },
    /// One state per bucket value (R-AGG-8) or per map key (R-AGG-5).
    Keyed(BTreeMap<String, Ir>),
    /// One state per list position (R-AGG-7, elementWise).
    Elements(Vec<Ir>),
}

/// The set behind UNIQUE_COUNT states: hashed with foldhash (seeded per process, several times
/// faster than std's SipHash on these short items; tile reads rebuild such sets constantly).
/// hashbrown's set, for lookups by [`DistinctRef`]: an item already present costs no allocation.
pub type DistinctSet = hashbrown::HashSet<DistinctItem, foldhash::fast::RandomState>;

/// A value as distinct counting sees it (R-OP-UNIQUE): floats by canonical bit pattern, binaries
/// by content.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum DistinctItem {
    Long(i64),
    Double(u64),
    Str(Box<str>),
    Bytes(Box<[u8]>),
}

/// A [`DistinctItem`] borrowed from an input column or from tile bytes. It hashes and compares
/// as the item it stands for, so sets are searched without building the item first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DistinctRef<'a> {
    Long(i64),
    Double(u64),
    Str(&'a str),
    Bytes(&'a [u8]),
}

impl DistinctItem {
    pub fn as_ref(&self) -> DistinctRef<'_> {
        match self {
            DistinctItem::Long(v) => DistinctRef::Long(*v),
            DistinctItem::Double(v) => DistinctRef::Double(*v),
            DistinctItem::Str(v) => DistinctRef::Str(v),
            DistinctItem::Bytes(v) => DistinctRef::Bytes(v),
        }
    }
}

impl DistinctRef<'_> {
    pub fn to_item(&self) -> DistinctItem {
        match *self {
            DistinctRef::Long(v) => DistinctItem::Long(v),
            DistinctRef::Double(v) => DistinctItem::Double(v),
            DistinctRef::Str(v) => DistinctItem::Str(v.into()),
            DistinctRef::Bytes(v) => DistinctItem::Bytes(v.into()),
        }
    }
}

/// One hash for an item and its borrowed form (hashbrown's `Equivalent` contract).
impl Hash for DistinctRef<'_> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        match self {
            DistinctRef::Long(v) => {
                state.write_u8(0);
                v.hash(state);
            }
            DistinctRef::Double(v) => {
                state.write_u8(1);
                v.hash(state);
            }
            DistinctRef::Str(v) => {
                state.write_u8(2);
                v.hash(state);
            }
            DistinctRef::Bytes(v) => {
                state.write_u8(3);
                v.hash(state);
            }
        }
    }
}

impl Hash for DistinctItem {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.as_ref().hash(state);
    }
}

impl hashbrown::Equivalent<DistinctItem> for DistinctRef<'_> {
    fn equivalent(&self, key: &DistinctItem) -> bool {
        *self == key.as_ref()
    }
}

impl Ir {
    pub fn is_empty(&self) -> bool {
        matches!(self, Ir::Empty)
    }
}

impl fmt::Debug for Ir {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Ir::Empty => f.write_str("Empty"),
            Ir::Long(v) => write!(f, "Long({v})"),
            Ir::Double(v) => write!(f, "Double({v})"),
            Ir::Str(v) => write!(f, "Str({v:?})"),
            Ir::Average { sum, count } => write!(f, "Average({sum}, {count})"),
            Ir::Moments(m) => write!(f, "{m:?}"),
            Ir::Timed { ts, value } => write!(f, "Timed({ts}, {value:?})"),
            Ir::TimedList(v) => write!(f, "TimedList({v:?})"),
            Ir::Ranked(v) => write!(f, "Ranked({v:?})"),
            Ir::Distinct(v) => write!(f, "Distinct({} items)", v.len()),
            Ir::Cpc(s) => write!(f, "Cpc(estimate {})", s.estimate()),
            Ir::Exact(v) => write!(f, "Exact({v:?})"),
            Ir::Digest(d) => write!(f, "Digest(n = {})", d.total_weight()),
            Ir::Counts(v) => write!(f, "Counts({v:?})"),
            Ir::Frequent { counts, offset } => write!(f, "Frequent({counts:?}, offset {offset})"),
            Ir::Keyed(v) => f.debug_map().entries(v.iter()).finish(),
            Ir::Elements(v) => f.debug_list().entries(v.iter()).finish(),
        }
    }
}
