//! [`Kernel`]: one operation over one element type, with its parameters resolved. Dispatches
//! update, delete, merge and finalize to the operation families.

use std::cmp::Ordering;

use super::moments::{Moment, Moments};
use super::ordered::Keep;
use super::{distinct, histogram, numeric, ordered, percentile};
use super::{AggregationError, Ir, Scalar};
use crate::value::{jvm_double_string, jvm_float_string};
use crate::{DataType, Value};

/// How APPROX_HISTOGRAM_K prints an element as a map key (R-OP-APPROXHIST).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyFormat {
    Integral,
    Float,
    Double,
    String,
}

/// An operation ready to fold elements of one type.
#[derive(Debug, Clone, PartialEq)]
pub enum Kernel {
    Count,
    Sum { floating: bool },
    Average,
    Moments(Moment),
    Min,
    Max,
    First,
    Last,
    FirstK(usize),
    LastK(usize),
    TopK(usize),
    BottomK(usize),
    UniqueCount,
    BoundedUniqueCount(usize),
    ApproxUniqueCount { lg_k: u8 },
    ApproxPercentile { k: u16, percentiles: Vec<f64> },
    Histogram(usize),
    ApproxHistogram { k: i64, keys: KeyFormat },
}

impl Kernel {
    pub fn is_deletable(&self) -> bool {
        matches!(
            self,
            Kernel::Count | Kernel::Sum { .. } | Kernel::Average | Kernel::Histogram(_)
        )
    }

    /// Folds one non-null scalar element.
    pub fn update(&self, ir: &mut Ir, x: Scalar<'_>, ts: i64) -> Result<(), AggregationError> {
        match self {
            Kernel::Count => numeric::count_update(ir, 1),
            Kernel::Sum { floating } => numeric::sum_update(ir, x, *floating, 1),
            Kernel::Average => numeric::average_update(ir, x, 1),
            Kernel::Moments(_) => {
                if let Some(v) = x.as_f64() {
                    match ir {
                        Ir::Empty => *ir = Ir::Moments(Moments::of(v)),
                        Ir::Moments(m) => m.update(v),
                        _ => {}
                    }
                }
            }
            Kernel::Min => numeric::extreme_update(ir, x, Ordering::Less),
            Kernel::Max => numeric::extreme_update(ir, x, Ordering::Greater),
            Kernel::First | Kernel::Last | Kernel::FirstK(_) | Kernel::LastK(_) => {
                self.update_whole(ir, x.to_value(), ts)?
            }
            Kernel::TopK(k) => ordered::ranked_update(ir, x, *k, Keep::Greatest),
            Kernel::BottomK(k) => ordered::ranked_update(ir, x, *k, Keep::Least),
            Kernel::UniqueCount => distinct::distinct_update(ir, x, None),
            Kernel::BoundedUniqueCount(k) => distinct::distinct_update(ir, x, Some(*k)),
            Kernel::ApproxUniqueCount { lg_k } => distinct::approx_distinct_update(ir, x, *lg_k)?,
            Kernel::ApproxPercentile { k, .. } => {
                if let Some(v) = x.as_f64() {
                    percentile::update(ir, v as f32, *k)?;
                }
            }
            Kernel::Histogram(_) => {
                if let Scalar::Str(s) = x {
                    histogram::histogram_update(ir, s, 1);
                }
            }
            Kernel::ApproxHistogram { k, keys } => {
                let key = approx_histogram_key(x, *keys);
                histogram::approx_histogram_update(ir, &key, *k);
            }
        }
        Ok(())
    }

    /// Folds one non-null whole value (FIRST, LAST, FIRST_K, LAST_K; COUNT of any value).
    pub fn update_whole(&self, ir: &mut Ir, value: Value, ts: i64) -> Result<(), AggregationError> {
        match self {
            Kernel::First => ordered::timed_update(ir, value, ts, Keep::Least),
            Kernel::Last => ordered::timed_update(ir, value, ts, Keep::Greatest),
            Kernel::FirstK(k) => ordered::timed_list_update(ir, value, ts, *k, Keep::Least),
            Kernel::LastK(k) => ordered::timed_list_update(ir, value, ts, *k, Keep::Greatest),
            Kernel::Count => numeric::count_update(ir, 1),
            _ => {
                if let Some(x) = Scalar::from_value(&value) {
                    self.update(ir, x, ts)?;
                }
            }
        }
        Ok(())
    }

    /// Applies the inverse of an update (R-AGG-10); a no-op for non-deletable operations.
    pub fn delete(&self, ir: &mut Ir, x: Scalar<'_>) {
        match self {
            Kernel::Count => numeric::count_update(ir, -1),
            Kernel::Sum { floating } => numeric::sum_update(ir, x, *floating, -1),
            Kernel::Average => numeric::average_update(ir, x, -1),
            Kernel::Histogram(_) => {
                if let Scalar::Str(s) = x {
                    histogram::histogram_update(ir, s, -1);
                }
            }
            _ => {}
        }
    }

    /// Merges `b` into `a`.
    pub fn merge(&self, a: &mut Ir, b: &Ir) -> Result<(), AggregationError> {
        let merged = match self {
            Kernel::Count | Kernel::Sum { .. } | Kernel::Average => numeric::merge(a, b, None),
            Kernel::Min => numeric::merge(a, b, Some(Ordering::Less)),
            Kernel::Max => numeric::merge(a, b, Some(Ordering::Greater)),
            Kernel::Moments(_) => match (&mut *a, b) {
                (_, Ir::Empty) => true,
                (Ir::Empty, _) => {
                    *a = b.clone();
                    true
                }
                (Ir::Moments(x), Ir::Moments(y)) => {
                    x.merge(y);
                    true
                }
                _ => false,
            },
            Kernel::First => ordered::merge(a, b, 1, Keep::Least),
            Kernel::Last => ordered::merge(a, b, 1, Keep::Greatest),
            Kernel::FirstK(k) | Kernel::BottomK(k) => ordered::merge(a, b, *k, Keep::Least),
            Kernel::LastK(k) | Kernel::TopK(k) => ordered::merge(a, b, *k, Keep::Greatest),
            Kernel::UniqueCount => distinct::distinct_merge(a, b, None),
            Kernel::BoundedUniqueCount(k) => distinct::distinct_merge(a, b, Some(*k)),
            Kernel::ApproxUniqueCount { .. } => distinct::approx_distinct_merge(a, b)?,
            Kernel::ApproxPercentile { k, .. } => percentile::merge(a, b, *k)?,
            Kernel::Histogram(_) => histogram::histogram_merge(a, b),
            Kernel::ApproxHistogram { k, .. } => histogram::approx_histogram_merge(a, b, *k),
        };
        if merged {
            Ok(())
        } else {
            Err(AggregationError::Merge(format!(
                "{a:?} and {b:?} are different kinds of state"
            )))
        }
    }

    /// The output value of a state; null for an empty one (R-AGG-1). Undefined numeric results
    /// are NaN here; the caller applies the NaN rule (R-AGG-3) where it holds.
    pub fn finalize(&self, ir: &Ir) -> Value {
        match (self, ir) {
            (_, Ir::Empty) => Value::Null,
            (_, Ir::Long(v)) => Value::Long(*v),
            (_, Ir::Double(v)) => Value::Double(*v),
            (_, Ir::Str(v)) => Value::String(v.clone()),
            (_, Ir::Average { sum, count }) => Value::Double(*sum / *count as f64),
            (Kernel::Moments(moment), Ir::Moments(m)) => Value::Double(m.finalize(*moment)),
            (_, Ir::Timed { value, .. }) => value.clone(),
            (_, Ir::TimedList(list)) => Value::List(list.iter().map(|(_, v)| v.clone()).collect()),
            (_, Ir::Ranked(list)) => Value::List(list.clone()),
            (Kernel::BoundedUniqueCount(k), Ir::Distinct(set)) => {
                Value::Long(set.len().min(*k) as i64)
            }
            (_, Ir::Distinct(set)) => Value::Long(set.len() as i64),
            (_, Ir::Cpc(sketch)) => Value::Long(distinct::approx_distinct_estimate(sketch)),
            (Kernel::ApproxPercentile { percentiles, .. }, ir) => {
                percentile::finalize(ir, percentiles)
            }
            (Kernel::Histogram(k), Ir::Counts(counts)) => histogram::histogram_finalize(counts, *k),
            (Kernel::ApproxHistogram { k, .. }, ir) => histogram::approx_histogram_finalize(ir, *k),
            _ => Value::Null,
        }
    }

    /// The output type for elements of `element` type (SEMANTICS.md §3.2).
    pub fn output_type(&self, element: &DataType) -> DataType {
        match self {
            Kernel::Count
            | Kernel::UniqueCount
            | Kernel::BoundedUniqueCount(_)
            | Kernel::ApproxUniqueCount { .. } => DataType::Long,
            Kernel::Sum { floating: true } => DataType::Double,
            Kernel::Sum { floating: false } => DataType::Long,
            Kernel::Average | Kernel::Moments(_) => DataType::Double,
            Kernel::Min | Kernel::Max | Kernel::First | Kernel::Last => element.clone(),
            Kernel::FirstK(_) | Kernel::LastK(_) | Kernel::TopK(_) | Kernel::BottomK(_) => {
                DataType::List(Box::new(element.clone()))
            }
            Kernel::ApproxPercentile { .. } => DataType::List(Box::new(DataType::Float)),
            Kernel::Histogram(_) => {
                DataType::Map(Box::new(DataType::String), Box::new(DataType::Int))
            }
            Kernel::ApproxHistogram { .. } => {
                DataType::Map(Box::new(DataType::String), Box::new(DataType::Long))
            }
        }
    }
}

/// An element as APPROX_HISTOGRAM_K's key: decimal integers, JVM-printed floats (E-23).
fn approx_histogram_key(x: Scalar<'_>, keys: KeyFormat) -> String {
    match (x, keys) {
        (Scalar::Long(v), _) => v.to_string(),
        (Scalar::Double(v), KeyFormat::Float) => jvm_float_string(v as f32),
        (Scalar::Double(v), _) => jvm_double_string(v),
        (Scalar::Str(s), _) => s.to_owned(),
        (Scalar::Bool(b), _) => b.to_string(),
        (Scalar::Bytes(b), _) => String::from_utf8_lossy(b).into_owned(),
    }
}
