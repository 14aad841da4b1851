//! APPROX_PERCENTILE (R-OP-PCTL): inputs as 32-bit floats; exact while at most k values, then a
//! t-digest with compression k.
//!
//! The t-digest of Apache DataSketches is deterministic: the same inputs and merges in the same
//! order give the same state, so a fetch and a backfill that fold the same tiles agree. (The
//! crate's KLL draws its compaction coin from a per-thread random seed, which would not.)

use datasketches::tdigest::TDigestMut;

use super::{AggregationError, Ir};
use crate::Value;

/// The most values one state may summarise: far beyond any real window, and small enough that
/// adding two weights never overflows (the crate asserts on that).
pub const MAX_WEIGHT: u64 = 1 << 53;

fn too_heavy(a: u64, b: u64) -> Result<(), AggregationError> {
    if a.saturating_add(b) > MAX_WEIGHT {
        return Err(AggregationError::Merge(format!(
            "percentile states of {a} and {b} values exceed {MAX_WEIGHT}"
        )));
    }
    Ok(())
}

fn digest(k: u16) -> Result<TDigestMut, AggregationError> {
    TDigestMut::new(k.max(10)).map_err(|e| AggregationError::Merge(e.to_string()))
}

/// Folds one value. NaN inputs are skipped (the reference's sketch ignores them too).
pub fn update(ir: &mut Ir, x: f32, k: u16) -> Result<(), AggregationError> {
    if x.is_nan() {
        return Ok(());
    }
    match ir {
        Ir::Empty => *ir = Ir::Exact(vec![x]),
        Ir::Exact(values) => {
            values.push(x);
            if values.len() > usize::from(k) {
                let mut d = digest(k)?;
                values.iter().for_each(|v| d.update(f64::from(*v)));
                *ir = Ir::Digest(Box::new(d));
            }
        }
        Ir::Digest(d) => {
            too_heavy(d.total_weight(), 1)?;
            d.update(f64::from(x));
        }
        _ => {}
    }
    Ok(())
}

pub fn merge(a: &mut Ir, b: &Ir, k: u16) -> Result<bool, AggregationError> {
    match (&mut *a, b) {
        (_, Ir::Empty) => {}
        (Ir::Empty, _) => *a = b.clone(),
        (Ir::Exact(x), Ir::Exact(y)) if x.len() + y.len() <= usize::from(k) => {
            x.extend_from_slice(y)
        }
        (Ir::Exact(x), Ir::Exact(y)) => {
            let mut d = digest(k)?;
            x.iter().chain(y).for_each(|v| d.update(f64::from(*v)));
            *a = Ir::Digest(Box::new(d));
        }
        (Ir::Exact(x), Ir::Digest(y)) => {
            too_heavy(x.len() as u64, y.total_weight())?;
            let mut d = digest(k)?;
            x.iter().for_each(|v| d.update(f64::from(*v)));
            d.merge(y);
            *a = Ir::Digest(Box::new(d));
        }
        (Ir::Digest(x), Ir::Exact(y)) => {
            too_heavy(x.total_weight(), y.len() as u64)?;
            y.iter().for_each(|v| x.update(f64::from(*v)));
        }
        (Ir::Digest(x), Ir::Digest(y)) => {
            too_heavy(x.total_weight(), y.total_weight())?;
            x.merge(y);
        }
        _ => return Ok(false),
    }
    Ok(true)
}

/// One value per requested percentile: exact `sorted[min(⌊φn⌋, n−1)]`, or the digest's estimate.
pub fn finalize(ir: &Ir, percentiles: &[f64]) -> Value {
    match ir {
        Ir::Exact(values) if !values.is_empty() => {
            let mut sorted = values.clone();
            sorted.sort_by(f32::total_cmp);
            let n = sorted.len();
            let pick = |p: f64| {
                let i = ((p * n as f64).floor() as usize).min(n - 1);
                Value::Double(f64::from(sorted[i]))
            };
            Value::List(percentiles.iter().map(|p| pick(*p)).collect())
        }
        Ir::Digest(d) => {
            let frozen = (**d).clone().freeze();
            let pick = |p: f64| match frozen.quantile(p) {
                Ok(Some(q)) => Value::Double(f64::from(q as f32)),
                _ => Value::Null,
            };
            Value::List(percentiles.iter().map(|p| pick(*p)).collect())
        }
        _ => Value::Null,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(xs: &[f32], ps: &[f64]) -> Value {
        let mut ir = Ir::Empty;
        xs.iter().for_each(|x| update(&mut ir, *x, 128).unwrap());
        finalize(&ir, ps)
    }

    /// R-OP-PCTL worked examples.
    #[test]
    fn exact_r_op_pctl() {
        assert_eq!(
            run(&[1.0, 2.0, 3.0, 4.0], &[0.5]),
            Value::List(vec![3.0.into()])
        );
        let got = run(&[5.0, 1.0, 4.0, 2.0, 3.0], &[0.5, 0.95]);
        assert_eq!(got, Value::List(vec![3.0.into(), 5.0.into()]));
        // 16777217 is not a float: it becomes 16777216.0.
        assert_eq!(
            run(&[16_777_217.0], &[0.5]),
            Value::List(vec![16_777_216.0.into()])
        );
    }
}
