//! [`AggregationPart`]: one aggregation of a GroupBy over one bucket column (or none), ready to
//! fold values of its input column. Handles the input shapes of SEMANTICS.md §3.1: plain
//! scalars, list flattening (R-AGG-4), per-map-key aggregation (R-AGG-5), whole values
//! (R-AGG-6), elementWise lists (R-AGG-7) and buckets (R-AGG-8); and the NaN rule (R-AGG-3).

use std::collections::BTreeMap;

use super::codec::{self, MergeEncodedError};
use super::kernel::{Kernel, KeyFormat};
use super::moments::Moment;
use super::ordered::Keep;
use super::{AggregationError, DecodeError, Ir, Scalar};
use crate::config::Operation;
use crate::{DataType, Value};

/// How an input value is split into the elements the kernel folds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// A scalar column: the value is the element.
    Plain,
    /// The value itself, as one element (FIRST/LAST/FIRST_K/LAST_K, COUNT of containers).
    Whole,
    /// LIST<scalar>: each non-null element (R-AGG-4).
    Flatten,
    /// MAP<STRING, scalar>: each entry, aggregated per key (R-AGG-5).
    PerKey,
    /// LIST<scalar>, elementWise: each position separately (R-AGG-7).
    ElementWise,
}

/// The parameters of one aggregation part.
#[derive(Debug, Clone, Default)]
pub struct PartArgs {
    /// `argMap.k`, parsed.
    pub k: Option<i64>,
    /// `argMap.percentiles`, parsed.
    pub percentiles: Option<Vec<f64>>,
    pub element_wise: bool,
}

/// One aggregation over one input column, optionally bucketed.
#[derive(Debug, Clone)]
pub struct AggregationPart {
    operation: Operation,
    kernel: Kernel,
    shape: Shape,
    input_column: String,
    input_type: DataType,
    element_type: DataType,
    bucket_column: Option<String>,
    output_type: DataType,
}

impl AggregationPart {
    /// Checks the input type against the operation (SEMANTICS.md §3.2) and resolves parameters.
    pub fn new(
        operation: Operation,
        input_column: &str,
        input_type: &DataType,
        bucket: Option<(&str, &DataType)>,
        args: &PartArgs,
    ) -> Result<Self, AggregationError> {
        let column = || input_column.to_owned();
        let incompatible = |t: &DataType| AggregationError::IncompatibleType {
            column: column(),
            data_type: t.to_string(),
            operation: operation.name(),
        };
        if input_type.contains_temporal() {
            return Err(AggregationError::TemporalInput {
                column: column(),
                data_type: input_type.to_string(),
            });
        }
        if let Some((name, bucket_type)) = bucket {
            if matches!(input_type, DataType::Map(..)) {
                return Err(AggregationError::BucketOverMap { column: column() });
            }
            if *bucket_type != DataType::String {
                return Err(AggregationError::BucketNotString {
                    column: name.to_owned(),
                    data_type: bucket_type.to_string(),
                });
            }
        }
        let (shape, element_type) =
            shape_of(operation, input_type, args.element_wise).map_err(|reason| {
                AggregationError::ElementWise {
                    column: column(),
                    reason,
                }
            })?;
        if args.element_wise && bucket.is_some() {
            return Err(AggregationError::ElementWise {
                column: column(),
                reason: "cannot be combined with buckets",
            });
        }
        let kernel = kernel_for(operation, &element_type, shape, args, input_column)?
            .ok_or_else(|| incompatible(&element_type))?;
        let base = kernel.output_type(&element_type);
        let shaped = match shape {
            Shape::PerKey => DataType::Map(Box::new(DataType::String), Box::new(base)),
            Shape::ElementWise => DataType::List(Box::new(base)),
            _ => base,
        };
        let output_type = match bucket {
            Some(_) => DataType::Map(Box::new(DataType::String), Box::new(shaped)),
            None => shaped,
        };
        Ok(AggregationPart {
            operation,
            kernel,
            shape,
            input_column: input_column.to_owned(),
            input_type: input_type.clone(),
            element_type,
            bucket_column: bucket.map(|(name, _)| name.to_owned()),
            output_type,
        })
    }

    pub fn operation(&self) -> Operation {
        self.operation
    }
    pub fn input_column(&self) -> &str {
        &self.input_column
    }
    pub fn input_type(&self) -> &DataType {
        &self.input_type
    }
    pub fn bucket_column(&self) -> Option<&str> {
        self.bucket_column.as_deref()
    }
    pub fn output_type(&self) -> &DataType {
        &self.output_type
    }
    pub(crate) fn kernel(&self) -> &Kernel {
        &self.kernel
    }
    pub(crate) fn shape(&self) -> Shape {
        self.shape
    }
    pub(crate) fn element_type(&self) -> &DataType {
        &self.element_type
    }

    /// Folds one input value (the row's `ts` decides FIRST/LAST order). A row whose bucket
    /// value is null is ignored (E-15).
    pub fn update(
        &self,
        ir: &mut Ir,
        input: &Value,
        bucket: Option<&str>,
        ts: i64,
    ) -> Result<(), AggregationError> {
        self.apply(ir, input, bucket, ts, false)
    }

    /// Applies a reversal (`is_before`) row: the inverse update for deletable operations, nothing
    /// for the others (R-AGG-10).
    pub fn delete(
        &self,
        ir: &mut Ir,
        input: &Value,
        bucket: Option<&str>,
        ts: i64,
    ) -> Result<(), AggregationError> {
        if !self.kernel.is_deletable() {
            return Ok(());
        }
        self.apply(ir, input, bucket, ts, true)
    }

    fn apply(
        &self,
        ir: &mut Ir,
        input: &Value,
        bucket: Option<&str>,
        ts: i64,
        delete: bool,
    ) -> Result<(), AggregationError> {
        if input.is_null() {
            return Ok(());
        }
        if self.bucket_column.is_none() {
            return self.apply_shaped(ir, input, ts, delete);
        }
        let Some(bucket) = bucket else { return Ok(()) };
        with_keyed_entry(ir, bucket, |inner| {
            self.apply_shaped(inner, input, ts, delete)
        })
    }

    fn apply_shaped(
        &self,
        ir: &mut Ir,
        input: &Value,
        ts: i64,
        delete: bool,
    ) -> Result<(), AggregationError> {
        let kernel = &self.kernel;
        let fold = |ir: &mut Ir, x: Scalar<'_>| -> Result<(), AggregationError> {
            if delete {
                kernel.delete(ir, x);
                Ok(())
            } else {
                kernel.update(ir, x, ts)
            }
        };
        match (self.shape, input) {
            (Shape::Plain, value) => match Scalar::from_value(value) {
                Some(x) => fold(ir, x),
                None => Ok(()),
            },
            (Shape::Whole, value) if delete => match Scalar::from_value(value) {
                Some(x) => fold(ir, x),
                // COUNT of a container: a reversal removes one value.
                None => fold(ir, Scalar::Bool(true)),
            },
            (Shape::Whole, value) => kernel.update_whole(ir, value.clone(), ts),
            (Shape::Flatten, Value::List(items)) => items
                .iter()
                .filter_map(Scalar::from_value)
                .try_for_each(|x| fold(ir, x)),
            (Shape::PerKey, Value::Map(entries)) => {
                for (key, value) in entries {
                    if let (Value::String(key), Some(x)) = (key, Scalar::from_value(value)) {
                        with_keyed_entry(ir, key, |inner| fold(inner, x))?;
                    }
                }
                Ok(())
            }
            (Shape::ElementWise, Value::List(items)) => {
                if items.iter().any(Value::is_null) {
                    return Err(AggregationError::NullInTensor);
                }
                if ir.is_empty() {
                    *ir = Ir::Elements(vec![Ir::Empty; items.len()]);
                }
                let Ir::Elements(states) = ir else {
                    return Ok(());
                };
                if states.len() != items.len() {
                    return Err(AggregationError::TensorDimensions {
                        expected: states.len(),
                        found: items.len(),
                    });
                }
                for (state, item) in states.iter_mut().zip(items) {
                    if let Some(x) = Scalar::from_value(item) {
                        fold(state, x)?;
                    }
                }
                Ok(())
            }
            _ => Ok(()),
        }
    }

    /// Folds one scalar element of a plain, unbucketed column: the allocation-free fast path.
    pub(crate) fn update_scalar(
        &self,
        ir: &mut Ir,
        x: Scalar<'_>,
        ts: i64,
    ) -> Result<(), AggregationError> {
        self.kernel.update(ir, x, ts)
    }

    /// Merges `b` into `a`.
    pub fn merge(&self, a: &mut Ir, b: &Ir) -> Result<(), AggregationError> {
        if self.bucket_column.is_some() {
            return merge_keyed(a, b, |x, y| self.merge_shaped(x, y));
        }
        self.merge_shaped(a, b)
    }

    /// [`Self::merge`], taking `b`: an empty `a` takes `b` itself (what merging into an empty
    /// state gives, for every part).
    pub fn merge_owned(&self, a: &mut Ir, b: Ir) -> Result<(), AggregationError> {
        if a.is_empty() {
            *a = b;
            return Ok(());
        }
        self.merge(a, &b)
    }

    /// For a UNIQUE_COUNT (`Some(None)`) or BOUNDED_UNIQUE_COUNT (`Some(Some(k))`) part whose
    /// states the kernel merges directly (no bucket, no map or elementWise shape): its bound.
    pub(super) fn distinct_bound(&self) -> Option<Option<usize>> {
        let plain = self.bucket_column.is_none()
            && !matches!(self.shape, Shape::PerKey | Shape::ElementWise);
        match &self.kernel {
            Kernel::UniqueCount if plain => Some(None),
            Kernel::BoundedUniqueCount(k) if plain => Some(Some(*k)),
            _ => None,
        }
    }

    /// For a FIRST_K or LAST_K part whose states the kernel merges directly (no bucket, no map
    /// or elementWise shape): its k and the end of the order it keeps.
    pub(super) fn timed_list_bound(&self) -> Option<(usize, Keep)> {
        let plain = self.bucket_column.is_none()
            && !matches!(self.shape, Shape::PerKey | Shape::ElementWise);
        match &self.kernel {
            Kernel::FirstK(k) if plain => Some((*k, Keep::Least)),
            Kernel::LastK(k) if plain => Some((*k, Keep::Greatest)),
            _ => None,
        }
    }

    fn merge_shaped(&self, a: &mut Ir, b: &Ir) -> Result<(), AggregationError> {
        match self.shape {
            Shape::PerKey => merge_keyed(a, b, |x, y| self.kernel.merge(x, y)),
            Shape::ElementWise => match (&mut *a, b) {
                (_, Ir::Empty) => Ok(()),
                (Ir::Empty, _) => {
                    *a = b.clone();
                    Ok(())
                }
                (Ir::Elements(x), Ir::Elements(y)) if x.len() == y.len() => x
                    .iter_mut()
                    .zip(y)
                    .try_for_each(|(p, q)| self.kernel.merge(p, q)),
                (Ir::Elements(x), Ir::Elements(y)) => Err(AggregationError::TensorDimensions {
                    expected: x.len(),
                    found: y.len(),
                }),
                _ => Err(AggregationError::Merge(
                    "expected elementWise states".into(),
                )),
            },
            _ => self.kernel.merge(a, b),
        }
    }

    /// Appends the versioned byte encoding of a state of this part.
    pub fn encode(&self, ir: &Ir, out: &mut Vec<u8>) {
        codec::encode_one(ir, out);
    }

    /// Merges a state written by [`Self::encode`] into `into`: [`Self::decode`] then
    /// [`Self::merge_owned`], without building UNIQUE_COUNT sets. On an error `into` may be
    /// partly merged.
    pub fn merge_encoded(&self, into: &mut Ir, bytes: &[u8]) -> Result<(), MergeEncodedError> {
        codec::merge_one(self, into, bytes)
    }

    /// Decodes a state written by [`Self::encode`]; malformed bytes give an error, never a panic.
    pub fn decode(&self, bytes: &[u8]) -> Result<Ir, DecodeError> {
        codec::decode_one(self, bytes)
    }

    /// The output value: null for no input (R-AGG-1); NaN and ±∞ become null only for direct
    /// scalar outputs (R-AGG-3).
    pub fn finalize(&self, ir: &Ir) -> Value {
        if self.bucket_column.is_some() {
            return finalize_keyed(ir, |inner| self.finalize_shaped(inner));
        }
        let value = self.finalize_shaped(ir);
        match value {
            Value::Double(v)
                if !v.is_finite()
                    && matches!(self.shape, Shape::Plain | Shape::Flatten | Shape::Whole) =>
            {
                Value::Null
            }
            other => other,
        }
    }

    fn finalize_shaped(&self, ir: &Ir) -> Value {
        match (self.shape, ir) {
            (_, Ir::Empty) => Value::Null,
            (Shape::PerKey, ir) => finalize_keyed(ir, |inner| self.kernel.finalize(inner)),
            (Shape::ElementWise, Ir::Elements(states)) => {
                Value::List(states.iter().map(|s| self.kernel.finalize(s)).collect())
            }
            (_, ir) => self.kernel.finalize(ir),
        }
    }
}

/// Runs `f` on the state of `key` inside a keyed state, creating it on demand and dropping it
/// again if `f` left it empty, so outputs hold only keys that received input (R-AGG-8).
fn with_keyed_entry(
    ir: &mut Ir,
    key: &str,
    f: impl FnOnce(&mut Ir) -> Result<(), AggregationError>,
) -> Result<(), AggregationError> {
    if ir.is_empty() {
        *ir = Ir::Keyed(BTreeMap::new());
    }
    let Ir::Keyed(map) = ir else {
        return Err(AggregationError::Merge("expected a keyed state".into()));
    };
    let result = match map.get_mut(key) {
        Some(inner) => f(inner),
        None => {
            let mut inner = Ir::Empty;
            let result = f(&mut inner);
            if !inner.is_empty() {
                map.insert(key.to_owned(), inner);
            }
            result
        }
    };
    if map.is_empty() {
        *ir = Ir::Empty;
    }
    result
}

fn merge_keyed(
    a: &mut Ir,
    b: &Ir,
    merge: impl Fn(&mut Ir, &Ir) -> Result<(), AggregationError>,
) -> Result<(), AggregationError> {
    match (&mut *a, b) {
        (_, Ir::Empty) => Ok(()),
        (Ir::Empty, _) => {
            *a = b.clone();
            Ok(())
        }
        (Ir::Keyed(x), Ir::Keyed(y)) => {
            for (key, state) in y {
                match x.get_mut(key) {
                    Some(existing) => merge(existing, state)?,
                    None => {
                        x.insert(key.clone(), state.clone());
                    }
                }
            }
            Ok(())
        }
        _ => Err(AggregationError::Merge("expected keyed states".into())),
    }
}

fn finalize_keyed(ir: &Ir, finalize: impl Fn(&Ir) -> Value) -> Value {
    match ir {
        Ir::Keyed(map) => Value::map(
            map.iter()
                .map(|(key, state)| (Value::String(key.clone()), finalize(state)))
                .filter(|(_, value)| !value.is_null())
                .collect(),
        ),
        _ => Value::Null,
    }
}

/// How values of `input` type reach the operation.
fn shape_of(
    operation: Operation,
    input: &DataType,
    element_wise: bool,
) -> Result<(Shape, DataType), &'static str> {
    if element_wise {
        return match input {
            _ if !operation.is_simple() => Err("needs a simple operation"),
            DataType::List(element) if element.is_scalar() => {
                Ok((Shape::ElementWise, (**element).clone()))
            }
            _ => Err("needs a list input"),
        };
    }
    Ok(match input {
        _ if !operation.is_simple() => (Shape::Whole, input.clone()),
        DataType::List(element) if element.is_scalar() => (Shape::Flatten, (**element).clone()),
        DataType::Map(key, value) if **key == DataType::String && value.is_scalar() => {
            (Shape::PerKey, (**value).clone())
        }
        t if t.is_scalar() => (Shape::Plain, t.clone()),
        // Containers that are not flattened, BYTE: one value each; only COUNT accepts them.
        t => (Shape::Whole, t.clone()),
    })
}

/// The kernel for `operation` over `element`, or `None` if the type is not accepted.
fn kernel_for(
    operation: Operation,
    element: &DataType,
    shape: Shape,
    args: &PartArgs,
    column: &str,
) -> Result<Option<Kernel>, AggregationError> {
    use DataType as T;
    let numeric = element.is_numeric();
    let argument = |argument: &'static str, reason: String| AggregationError::InvalidArgument {
        column: column.to_owned(),
        operation: operation.name(),
        argument,
        reason,
    };
    let k_in = |default: Option<i64>, min: i64, max: i64| -> Result<i64, AggregationError> {
        let k = args.k.or(default).ok_or_else(|| {
            argument(
                "k",
                format!(
                    "k needs to be specified in the argMap for {} type",
                    operation.name()
                ),
            )
        })?;
        if k < min || k > max {
            return Err(argument("k", format!("{k} is outside {min}..={max}")));
        }
        Ok(k)
    };
    let whole_ok = shape == Shape::Whole && !element.contains_temporal();
    let scalar_only = shape != Shape::Whole;
    const MAX_K: i64 = 1 << 20;
    Ok(Some(match operation {
        Operation::Count => Kernel::Count,
        Operation::Sum => match element {
            T::Int | T::Short | T::Long | T::Boolean if scalar_only => {
                Kernel::Sum { floating: false }
            }
            T::Float | T::Double => Kernel::Sum { floating: true },
            _ => return Ok(None),
        },
        Operation::Average if numeric => Kernel::Average,
        Operation::Variance if numeric => Kernel::Moments(Moment::Variance),
        Operation::Skew if numeric => Kernel::Moments(Moment::Skew),
        Operation::Kurtosis if numeric => Kernel::Moments(Moment::Kurtosis),
        Operation::Min if numeric || *element == T::String => Kernel::Min,
        Operation::Max if numeric || *element == T::String => Kernel::Max,
        Operation::First if whole_ok => Kernel::First,
        Operation::Last if whole_ok => Kernel::Last,
        Operation::FirstK if whole_ok => Kernel::FirstK(k_in(None, 0, MAX_K)? as usize),
        Operation::LastK if whole_ok => Kernel::LastK(k_in(None, 0, MAX_K)? as usize),
        Operation::TopK if numeric || *element == T::String => {
            Kernel::TopK(k_in(None, 0, MAX_K)? as usize)
        }
        Operation::BottomK if numeric || *element == T::String => {
            Kernel::BottomK(k_in(None, 0, MAX_K)? as usize)
        }
        Operation::UniqueCount if numeric || matches!(element, T::String | T::Binary) => {
            Kernel::UniqueCount
        }
        Operation::BoundedUniqueCount if numeric || matches!(element, T::String | T::Binary) => {
            Kernel::BoundedUniqueCount(k_in(Some(8), 0, MAX_K)? as usize)
        }
        Operation::ApproxUniqueCount if numeric || matches!(element, T::String | T::Binary) => {
            Kernel::ApproxUniqueCount {
                lg_k: k_in(Some(8), 4, 26)? as u8,
            }
        }
        Operation::ApproxPercentile if numeric => {
            let percentiles = args.percentiles.clone().unwrap_or_else(|| vec![0.5]);
            if let Some(p) = percentiles.iter().find(|p| !(0.0..=1.0).contains(*p)) {
                return Err(argument("percentiles", format!("{p} is outside [0, 1]")));
            }
            Kernel::ApproxPercentile {
                k: k_in(Some(128), 1, 65_535)? as u16,
                percentiles,
            }
        }
        Operation::Histogram if *element == T::String => {
            Kernel::Histogram(k_in(Some(0), 0, MAX_K)? as usize)
        }
        Operation::ApproxHistogramK if numeric || *element == T::String => {
            let keys = match element {
                T::Float => KeyFormat::Float,
                T::Double => KeyFormat::Double,
                T::String => KeyFormat::String,
                _ => KeyFormat::Integral,
            };
            Kernel::ApproxHistogram {
                k: k_in(Some(8), i64::MIN, MAX_K)?,
                keys,
            }
        }
        _ => return Ok(None),
    }))
}
