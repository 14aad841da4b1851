//! Math functions: ABS, FLOOR, CEIL/CEILING, POW/POWER, SQRT, EXP, LN, LOG, LOG10, LOG2 (ROUND
//! lives in `round.rs`).

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, Float64Array};
use arrow::compute::kernels::arity::binary;
use arrow::datatypes::{
    DataType as ArrowType, Float32Type, Float64Type, Int16Type, Int32Type, Int64Type, Int8Type,
};

use super::round::{bind_round, eval_round};
use super::{check_arity, number_as, numeric_arg, primitives, FunctionDef, Signature};
use crate::expr::bound::Bound;
use crate::expr::coerce::is_integral;

pub(super) static FUNCTIONS: &[FunctionDef] = &[
    FunctionDef {
        name: "ABS",
        bind: bind_abs,
        evaluate: eval_abs,
    },
    FunctionDef {
        name: "ROUND",
        bind: bind_round,
        evaluate: eval_round,
    },
    FunctionDef {
        name: "FLOOR",
        bind: bind_floor_ceil,
        evaluate: eval_floor,
    },
    FunctionDef {
        name: "CEIL",
        bind: bind_floor_ceil,
        evaluate: eval_ceil,
    },
    FunctionDef {
        name: "CEILING",
        bind: bind_floor_ceil,
        evaluate: eval_ceil,
    },
    FunctionDef {
        name: "POW",
        bind: bind_pow,
        evaluate: eval_pow,
    },
    FunctionDef {
        name: "POWER",
        bind: bind_pow,
        evaluate: eval_pow,
    },
    FunctionDef {
        name: "SQRT",
        bind: bind_double,
        evaluate: eval_sqrt,
    },
    FunctionDef {
        name: "EXP",
        bind: bind_double,
        evaluate: eval_exp,
    },
    FunctionDef {
        name: "LN",
        bind: bind_double,
        evaluate: eval_ln,
    },
    FunctionDef {
        name: "LOG",
        bind: bind_log,
        evaluate: eval_log,
    },
    FunctionDef {
        name: "LOG10",
        bind: bind_double,
        evaluate: eval_log10,
    },
    FunctionDef {
        name: "LOG2",
        bind: bind_double,
        evaluate: eval_log2,
    },
];

/// `ABS(x)`: same type as `x` (strings count as DOUBLE); integer ABS of the minimum wraps to the
/// minimum, as on the JVM.
fn bind_abs(mut args: Vec<Bound>) -> Signature {
    check_arity(&args, 1, 1)?;
    let x = numeric_arg(args.remove(0))?;
    let t = x.data_type();
    Ok((vec![x], t))
}

fn eval_abs(args: &[ArrayRef], _rows: usize, t: &ArrowType) -> Result<ArrayRef, String> {
    Ok(match t {
        ArrowType::Int8 => {
            Arc::new(primitives::<Int8Type>(args, 0)?.unary::<_, Int8Type>(i8::wrapping_abs))
        }
        ArrowType::Int16 => {
            Arc::new(primitives::<Int16Type>(args, 0)?.unary::<_, Int16Type>(i16::wrapping_abs))
        }
        ArrowType::Int32 => {
            Arc::new(primitives::<Int32Type>(args, 0)?.unary::<_, Int32Type>(i32::wrapping_abs))
        }
        ArrowType::Int64 => {
            Arc::new(primitives::<Int64Type>(args, 0)?.unary::<_, Int64Type>(i64::wrapping_abs))
        }
        ArrowType::Float32 => {
            Arc::new(primitives::<Float32Type>(args, 0)?.unary::<_, Float32Type>(f32::abs))
        }
        _ => Arc::new(primitives::<Float64Type>(args, 0)?.unary::<_, Float64Type>(f64::abs)),
    })
}

/// `FLOOR(x)`/`CEIL(x)`: BIGINT. Integers pass through; doubles convert as Java's `(long)`
/// does (NaN → 0, out of range saturates).
fn bind_floor_ceil(mut args: Vec<Bound>) -> Signature {
    if args.len() == 2 {
        return Err("the scale argument (FLOOR/CEIL(x, d)) is not supported".into());
    }
    check_arity(&args, 1, 1)?;
    let x = args.remove(0);
    let to = if is_integral(&x.data_type()) {
        ArrowType::Int64
    } else {
        ArrowType::Float64
    };
    Ok((vec![number_as(x, &to)?], ArrowType::Int64))
}

fn floor_ceil(args: &[ArrayRef], op: fn(f64) -> f64) -> Result<ArrayRef, String> {
    if args[0].data_type() == &ArrowType::Int64 {
        return Ok(args[0].clone());
    }
    let x = primitives::<Float64Type>(args, 0)?;
    // `as` saturates and maps NaN to 0, exactly as the JVM's d2l.
    Ok(Arc::new(x.unary::<_, Int64Type>(|v| op(v) as i64)))
}

fn eval_floor(args: &[ArrayRef], _rows: usize, _t: &ArrowType) -> Result<ArrayRef, String> {
    floor_ceil(args, f64::floor)
}

fn eval_ceil(args: &[ArrayRef], _rows: usize, _t: &ArrowType) -> Result<ArrayRef, String> {
    floor_ceil(args, f64::ceil)
}

/// `POW(a, b)`: DOUBLE.
fn bind_pow(args: Vec<Bound>) -> Signature {
    check_arity(&args, 2, 2)?;
    let args = args
        .into_iter()
        .map(|a| number_as(a, &ArrowType::Float64))
        .collect::<Result<Vec<_>, _>>()?;
    Ok((args, ArrowType::Float64))
}

/// `java.lang.Math.pow`, which differs from C's `pow` in two special cases: a NaN exponent
/// always gives NaN (C: `pow(1, NaN) = 1`), and `±1` to an infinite power is NaN (C: 1).
pub(crate) fn java_pow(a: f64, b: f64) -> f64 {
    if b.is_nan() || (a.abs() == 1.0 && b.is_infinite()) {
        f64::NAN
    } else {
        a.powf(b)
    }
}

fn eval_pow(args: &[ArrayRef], _rows: usize, _t: &ArrowType) -> Result<ArrayRef, String> {
    let (a, b) = (
        primitives::<Float64Type>(args, 0)?,
        primitives::<Float64Type>(args, 1)?,
    );
    let out: Float64Array = binary(a, b, java_pow).map_err(super::arrow_err)?;
    Ok(Arc::new(out))
}

/// One numeric argument as DOUBLE; DOUBLE result.
fn bind_double(mut args: Vec<Bound>) -> Signature {
    check_arity(&args, 1, 1)?;
    Ok((
        vec![number_as(args.remove(0), &ArrowType::Float64)?],
        ArrowType::Float64,
    ))
}

fn map_double(args: &[ArrayRef], op: fn(f64) -> f64) -> Result<ArrayRef, String> {
    Ok(Arc::new(
        primitives::<Float64Type>(args, 0)?.unary::<_, Float64Type>(op),
    ))
}

/// Logarithms are NULL for arguments `<= 0` (Spark's `UnaryLogExpression`); NaN stays NaN.
fn map_log(args: &[ArrayRef], op: fn(f64) -> f64) -> Result<ArrayRef, String> {
    let x = primitives::<Float64Type>(args, 0)?;
    Ok(Arc::new(x.unary_opt::<_, Float64Type>(|v| {
        positive_or_nan(v).then(|| op(v))
    })))
}

/// Not `<= 0` (NaN included).
fn positive_or_nan(v: f64) -> bool {
    v.is_nan() || v > 0.0
}

/// Negative arguments give NaN, as `Math.sqrt`.
fn eval_sqrt(args: &[ArrayRef], _rows: usize, _t: &ArrowType) -> Result<ArrayRef, String> {
    map_double(args, f64::sqrt)
}

fn eval_exp(args: &[ArrayRef], _rows: usize, _t: &ArrowType) -> Result<ArrayRef, String> {
    map_double(args, f64::exp)
}

fn eval_ln(args: &[ArrayRef], _rows: usize, _t: &ArrowType) -> Result<ArrayRef, String> {
    map_log(args, f64::ln)
}

fn eval_log10(args: &[ArrayRef], _rows: usize, _t: &ArrowType) -> Result<ArrayRef, String> {
    map_log(args, f64::log10)
}

fn eval_log2(args: &[ArrayRef], _rows: usize, _t: &ArrowType) -> Result<ArrayRef, String> {
    map_log(args, f64::log2)
}

/// `LOG(x)` is `LN(x)`; `LOG(base, x)` is `ln(x) / ln(base)`, NULL when either is `<= 0`.
fn bind_log(args: Vec<Bound>) -> Signature {
    check_arity(&args, 1, 2)?;
    let args = args
        .into_iter()
        .map(|a| number_as(a, &ArrowType::Float64))
        .collect::<Result<Vec<_>, _>>()?;
    Ok((args, ArrowType::Float64))
}

fn eval_log(args: &[ArrayRef], _rows: usize, _t: &ArrowType) -> Result<ArrayRef, String> {
    if args.len() == 1 {
        return map_log(args, f64::ln);
    }
    let (base, x) = (
        primitives::<Float64Type>(args, 0)?,
        primitives::<Float64Type>(args, 1)?,
    );
    let out: Float64Array = base
        .iter()
        .zip(x.iter())
        .map(|(b, x)| match (b, x) {
            // Spark: NULL if `base <= 0.0 || x <= 0.0`; NaN compares false there, so it flows.
            (Some(b), Some(x)) => {
                (positive_or_nan(b) && positive_or_nan(x)).then(|| x.ln() / b.ln())
            }
            _ => None,
        })
        .collect();
    debug_assert_eq!(out.len(), base.len());
    Ok(Arc::new(out))
}
