//! UNIQUE_COUNT (R-OP-UNIQUE), BOUNDED_UNIQUE_COUNT (R-OP-BOUNDED) and APPROX_UNIQUE_COUNT
//! (R-OP-APPROXUNIQUE, a CPC sketch).

use std::hash::{Hash, Hasher};

use datasketches::cpc::{CpcSketch, CpcUnion};

use super::ir::{DistinctRef, DistinctSet};
use super::{AggregationError, Ir, Scalar};
use crate::value::canonical_f64_bits;

impl<'a> DistinctRef<'a> {
    /// Floats by canonical bit pattern: NaNs count once, −0.0 and +0.0 twice (E-18).
    pub fn from_scalar(x: Scalar<'a>) -> Option<Self> {
        Some(match x {
            Scalar::Long(v) => DistinctRef::Long(v),
            Scalar::Double(v) => DistinctRef::Double(canonical_f64_bits(v)),
            Scalar::Str(v) => DistinctRef::Str(v),
            Scalar::Bytes(v) => DistinctRef::Bytes(v),
            Scalar::Bool(_) => return None,
        })
    }
}

/// Adds `item` to `set` unless the set holds k (`bound`) items already; allocates only for an
/// item the set lacks.
pub fn distinct_insert(set: &mut DistinctSet, item: DistinctRef<'_>, bound: Option<usize>) {
    if bound.is_some_and(|k| set.len() >= k) {
        return;
    }
    set.get_or_insert_with(&item, DistinctRef::to_item);
}

/// UNIQUE_COUNT (`bound = None`) or BOUNDED_UNIQUE_COUNT (`bound = Some(k)`): the set stops
/// growing at k, since min(|A ∪ B|, k) = k once either side holds k items.
pub fn distinct_update(ir: &mut Ir, x: Scalar<'_>, bound: Option<usize>) {
    if matches!(ir, Ir::Empty) {
        *ir = Ir::Distinct(DistinctSet::default());
    }
    let Ir::Distinct(set) = ir else { return };
    if let Some(item) = DistinctRef::from_scalar(x) {
        distinct_insert(set, item, bound);
    }
}

pub fn distinct_merge(a: &mut Ir, b: &Ir, bound: Option<usize>) -> bool {
    match (&mut *a, b) {
        (_, Ir::Empty) => {}
        (Ir::Empty, _) => *a = b.clone(),
        (Ir::Distinct(x), Ir::Distinct(y)) => {
            for item in y {
                distinct_insert(x, item.as_ref(), bound);
            }
        }
        _ => return false,
    }
    true
}

/// Feeds bytes to the sketch's hasher unchanged, so the hash is fixed by our encoding alone and
/// not by the standard library's `Hash` impls (which may change between Rust releases).
struct StableBytes<'a>(&'a [u8]);

impl Hash for StableBytes<'_> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write(self.0);
    }
}

/// APPROX_UNIQUE_COUNT: INT and SHORT hash as LONG, FLOAT as DOUBLE (R-OP-APPROXUNIQUE).
pub fn approx_distinct_update(
    ir: &mut Ir,
    x: Scalar<'_>,
    lg_k: u8,
) -> Result<(), AggregationError> {
    if matches!(ir, Ir::Empty) {
        let sketch = CpcSketch::new(lg_k).map_err(|e| AggregationError::Merge(e.to_string()))?;
        *ir = Ir::Cpc(Box::new(sketch));
    }
    let Ir::Cpc(sketch) = ir else { return Ok(()) };
    match x {
        Scalar::Long(v) => sketch.update(StableBytes(&v.to_le_bytes())),
        Scalar::Double(v) => sketch.update(StableBytes(&canonical_f64_bits(v).to_le_bytes())),
        Scalar::Str(v) => sketch.update(StableBytes(v.as_bytes())),
        Scalar::Bytes(v) => sketch.update(StableBytes(v)),
        Scalar::Bool(_) => {}
    }
    Ok(())
}

pub fn approx_distinct_merge(a: &mut Ir, b: &Ir) -> Result<bool, AggregationError> {
    match (&mut *a, b) {
        (_, Ir::Empty) => {}
        (Ir::Empty, _) => *a = b.clone(),
        (Ir::Cpc(x), Ir::Cpc(y)) => {
            let to_error = |e: datasketches::error::Error| AggregationError::Merge(e.to_string());
            let mut union = CpcUnion::new(x.lg_k()).map_err(to_error)?;
            union.update(x).map_err(to_error)?;
            union.update(y).map_err(to_error)?;
            **x = union.to_sketch();
        }
        _ => return Ok(false),
    }
    Ok(true)
}

/// The estimate truncated toward zero.
pub fn approx_distinct_estimate(sketch: &CpcSketch) -> i64 {
    sketch.estimate().trunc() as i64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distinct_floats_e_18() {
        let mut ir = Ir::Empty;
        for x in [f64::NAN, -f64::NAN, 0.0, -0.0, 1.0] {
            distinct_update(&mut ir, Scalar::Double(x), None);
        }
        let Ir::Distinct(set) = &ir else { panic!() };
        assert_eq!(set.len(), 4, "one NaN, +0.0, -0.0, 1.0");
    }

    #[test]
    fn bounded_r_op_bounded() {
        let mut ir = Ir::Empty;
        for x in ["a", "b", "a", "c", "d"] {
            distinct_update(&mut ir, Scalar::Str(x), Some(3));
        }
        let Ir::Distinct(set) = &ir else { panic!() };
        assert_eq!(set.len(), 3);
    }
}
