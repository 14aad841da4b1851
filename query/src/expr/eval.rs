//! Vectorised evaluation of the operators: arithmetic, comparison, boolean logic.

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, BooleanArray, RecordBatch, Scalar};
use arrow::compute::kernels::{boolean, cmp, numeric, zip::zip};
use arrow::datatypes::{DataType as ArrowType, Float32Type, Float64Type};

use super::bound::{ArithmeticOp, Bound, Columnar, CompareOp};
use super::cast::spark_cast;
use super::coerce::is_integral;

fn arrow_err(e: arrow::error::ArrowError) -> String {
    e.to_string()
}

/// `+ - * / % DIV` over operands already cast to one type.
pub fn arithmetic(
    op: ArithmeticOp,
    l: Columnar,
    r: Columnar,
    batch: &RecordBatch,
) -> Result<Columnar, String> {
    if matches!(
        op,
        ArithmeticOp::Divide | ArithmeticOp::Remainder | ArithmeticOp::IntegralDivide
    ) {
        return divide(op, l, r, batch.num_rows());
    }
    let scalar = l.is_scalar() && r.is_scalar();
    let (ld, rd) = (l.datum(), r.datum());
    let (ld, rd) = (ld.as_ref(), rd.as_ref());
    let out = match op {
        ArithmeticOp::Add => numeric::add_wrapping(ld, rd),
        ArithmeticOp::Subtract => numeric::sub_wrapping(ld, rd),
        _ => numeric::mul_wrapping(ld, rd),
    }
    .map_err(arrow_err)?;
    Ok(Columnar::wrap(out, scalar))
}

/// Unary minus; integers wrap (`-(-2147483648)` is −2147483648).
pub fn negate(v: Columnar) -> Result<Columnar, String> {
    v.map(|a| numeric::neg_wrapping(a).map_err(arrow_err))
}

/// A one-element array of type `t` holding the small integer `v`.
fn constant(v: i8, t: &ArrowType) -> Result<ArrayRef, String> {
    spark_cast(
        &(Arc::new(arrow::array::Int8Array::from(vec![v])) as ArrayRef),
        t,
    )
}

/// `/`, `%` and `DIV`: a zero divisor gives null (Spark, non-ANSI), also for floating point
/// (`1.0 / 0.0` is null, not infinity). Integer `%` follows the dividend's sign, as on the JVM;
/// `x % -1` is 0 and `x DIV -1` is `-x` (wrapping), without overflow at the minimum.
fn divide(op: ArithmeticOp, l: Columnar, r: Columnar, rows: usize) -> Result<Columnar, String> {
    let scalar = l.is_scalar() && r.is_scalar();
    let rows = if scalar { 1 } else { rows };
    let (l, r) = (l.into_array(rows)?, r.into_array(rows)?);
    if op == ArithmeticOp::Divide {
        // `/` binds as DOUBLE: one pass, null where the divisor is ±0.0 or either side is null.
        if let (Some(a), Some(b)) = (
            l.as_primitive_opt::<Float64Type>(),
            r.as_primitive_opt::<Float64Type>(),
        ) {
            let out: arrow::array::Float64Array = a
                .iter()
                .zip(b.iter())
                .map(|(x, y)| match (x, y) {
                    (Some(x), Some(y)) if y != 0.0 => Some(x / y),
                    _ => None,
                })
                .collect();
            return Ok(Columnar::wrap(Arc::new(out), scalar));
        }
    }
    let r = normalize_floats(&r)?;
    let t = r.data_type().clone();
    let is_zero = cmp::eq(&r, &Scalar::new(constant(0, &t)?)).map_err(arrow_err)?;
    let minus_one = if is_integral(&t) {
        Some(cmp::eq(&r, &Scalar::new(constant(-1, &t)?)).map_err(arrow_err)?)
    } else {
        None
    };
    // Zero and −1 divisors become one so the kernel never fails; those rows are fixed after.
    let replace = match &minus_one {
        Some(minus_one) => boolean::or(&is_zero, minus_one).map_err(arrow_err)?,
        None => is_zero.clone(),
    };
    let one = Scalar::new(constant(1, &t)?);
    let safe_r = zip(&replace, &one, &r).map_err(arrow_err)?;
    let mut out = match op {
        ArithmeticOp::Remainder => numeric::rem(&l, &safe_r),
        _ => numeric::div(&l, &safe_r),
    }
    .map_err(arrow_err)?;
    if let (Some(minus_one), ArithmeticOp::IntegralDivide) = (&minus_one, op) {
        let negated = numeric::neg_wrapping(&l).map_err(arrow_err)?;
        out = zip(minus_one, &negated, &out).map_err(arrow_err)?;
    }
    let out = arrow::compute::nullif(&out, &is_zero).map_err(arrow_err)?;
    Ok(Columnar::wrap(out, scalar))
}

/// Floating-point values as Spark compares them: `-0.0` equals `0.0` and every NaN is one
/// value greater than all others. Arrow compares by IEEE total order, so zeros and NaNs are
/// made canonical first.
pub fn normalize_floats(a: &ArrayRef) -> Result<ArrayRef, String> {
    Ok(match a.data_type() {
        ArrowType::Float64 => Arc::new(
            a.as_primitive::<Float64Type>()
                .unary::<_, Float64Type>(|v| if v.is_nan() { f64::NAN } else { v + 0.0 }),
        ),
        ArrowType::Float32 => Arc::new(
            a.as_primitive::<Float32Type>()
                .unary::<_, Float32Type>(|v| if v.is_nan() { f32::NAN } else { v + 0.0 }),
        ),
        _ => a.clone(),
    })
}

/// A comparison of operands already cast to one atomic type.
pub fn compare(op: CompareOp, l: Columnar, r: Columnar) -> Result<Columnar, String> {
    let scalar = l.is_scalar() && r.is_scalar();
    let (l, r) = (l.map(normalize_floats)?, r.map(normalize_floats)?);
    let (ld, rd) = (l.datum(), r.datum());
    let (ld, rd) = (ld.as_ref(), rd.as_ref());
    let out = match op {
        CompareOp::Eq => cmp::eq(ld, rd),
        CompareOp::NotEq => cmp::neq(ld, rd),
        CompareOp::Lt => cmp::lt(ld, rd),
        CompareOp::LtEq => cmp::lt_eq(ld, rd),
        CompareOp::Gt => cmp::gt(ld, rd),
        CompareOp::GtEq => cmp::gt_eq(ld, rd),
        CompareOp::NullSafeEq => cmp::not_distinct(ld, rd),
    }
    .map_err(arrow_err)?;
    Ok(Columnar::wrap(Arc::new(out), scalar))
}

/// The values of a BOOLEAN array.
pub fn as_boolean(a: &ArrayRef) -> Result<&BooleanArray, String> {
    a.as_boolean_opt()
        .ok_or_else(|| format!("expected BOOLEAN, found {}", a.data_type()))
}

/// Three-valued AND (`is_and`) or OR.
pub fn and_or(
    is_and: bool,
    left: &Bound,
    right: &Bound,
    batch: &RecordBatch,
) -> Result<Columnar, String> {
    let (l, r) = (left.evaluate(batch)?, right.evaluate(batch)?);
    let (l, r) = (as_boolean(&l)?, as_boolean(&r)?);
    let out = if is_and {
        boolean::and_kleene(l, r)
    } else {
        boolean::or_kleene(l, r)
    }
    .map_err(arrow_err)?;
    Ok(Columnar::Array(Arc::new(out)))
}

pub fn not(v: Columnar) -> Result<Columnar, String> {
    v.map(|a| Ok(Arc::new(boolean::not(as_boolean(a)?).map_err(arrow_err)?)))
}

pub fn is_null(v: Columnar, negated: bool) -> Result<Columnar, String> {
    v.map(|a| {
        let out = if negated {
            boolean::is_not_null(a)
        } else {
            boolean::is_null(a)
        };
        Ok(Arc::new(out.map_err(arrow_err)?))
    })
}

/// `IS [NOT] TRUE|FALSE`: null counts as neither.
pub fn is_boolean(v: Columnar, value: bool, negated: bool) -> Result<Columnar, String> {
    v.map(|a| {
        let out: BooleanArray = as_boolean(a)?
            .iter()
            .map(|b| Some((b == Some(value)) != negated))
            .collect();
        Ok(Arc::new(out))
    })
}
