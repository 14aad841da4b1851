//! `ROUND(x[, d])`: Spark's HALF_UP rounding to `d` decimal places (default 0; negative `d`
//! rounds to tens, hundreds, ...). The result has `x`'s type.
//!
//! Spark rounds a DOUBLE through `BigDecimal(x)`, i.e. the decimal text of the double
//! (`Double.toString`), not its exact binary value: `ROUND(2.675, 2)` is 2.68 although the double
//! nearest 2.675 is slightly below it. This module does the same with Rust's shortest
//! round-trip text. FLOAT rounds through the double it widens to (`f.toDouble`), as Spark does.

use std::sync::Arc;

use arrow::array::{new_null_array, Array, ArrayRef, Int32Array};
use arrow::datatypes::{
    DataType as ArrowType, Float32Type, Float64Type, Int16Type, Int32Type, Int64Type, Int8Type,
};

use super::{check_arity, literal_int, numeric_arg, primitives, Signature};
use crate::expr::bound::Bound;

/// Binds `[x, scale]`; the scale must be an integer literal (Spark requires a foldable INT).
pub(super) fn bind_round(args: Vec<Bound>) -> Signature {
    check_arity(&args, 1, 2)?;
    let mut args = args.into_iter();
    let x = args.next().ok_or("missing argument")?;
    let x = numeric_arg(x)?;
    let scale = match args.next() {
        None => Some(0),
        Some(d) => match literal_int(&d) {
            Some(None) => None,
            Some(Some(v)) => {
                Some(i32::try_from(v).map_err(|_| format!("the scale {v} does not fit an INT"))?)
            }
            None => return Err("the scale must be an integer literal".into()),
        },
    };
    let t = x.data_type();
    let scale = Bound::Literal(Arc::new(Int32Array::from(vec![scale])));
    Ok((vec![x, scale], t))
}

pub(super) fn eval_round(
    args: &[ArrayRef],
    rows: usize,
    t: &ArrowType,
) -> Result<ArrayRef, String> {
    let scale = primitives::<Int32Type>(args, 1)?;
    if rows == 0 || scale.is_null(0) {
        return Ok(new_null_array(t, rows));
    }
    let scale = scale.value(0);
    if t.is_integer() && scale >= 0 {
        return Ok(args[0].clone());
    }
    // For integers, `-scale` is the number of trailing digits zeroed; the result wraps into the
    // type as Scala's `BigDecimal.toInt` (and friends) do.
    let digits = scale.unsigned_abs();
    Ok(match t {
        ArrowType::Int8 => Arc::new(
            primitives::<Int8Type>(args, 0)?
                .unary::<_, Int8Type>(|v| round_integer(v.into(), digits) as i8),
        ),
        ArrowType::Int16 => Arc::new(
            primitives::<Int16Type>(args, 0)?
                .unary::<_, Int16Type>(|v| round_integer(v.into(), digits) as i16),
        ),
        ArrowType::Int32 => Arc::new(
            primitives::<Int32Type>(args, 0)?
                .unary::<_, Int32Type>(|v| round_integer(v.into(), digits) as i32),
        ),
        ArrowType::Int64 => Arc::new(
            primitives::<Int64Type>(args, 0)?
                .unary::<_, Int64Type>(|v| round_integer(v.into(), digits) as i64),
        ),
        ArrowType::Float32 => Arc::new(
            primitives::<Float32Type>(args, 0)?
                .unary::<_, Float32Type>(|v| round_half_up(f64::from(v), scale) as f32),
        ),
        _ => Arc::new(
            primitives::<Float64Type>(args, 0)?
                .unary::<_, Float64Type>(|v| round_half_up(v, scale)),
        ),
    })
}

/// `v` rounded HALF_UP to a multiple of `10^digits`.
pub(crate) fn round_integer(v: i128, digits: u32) -> i128 {
    // |v| < 2^63 < 10^19, so from 20 digits on every value rounds to zero.
    if digits >= 20 {
        return 0;
    }
    let unit = 10_i128.pow(digits);
    let (q, r) = (v / unit, v % unit);
    let q = if r.abs() * 2 >= unit {
        q + v.signum()
    } else {
        q
    };
    q * unit
}

/// `v` rounded HALF_UP (ties away from zero) to `scale` decimal places of its shortest decimal
/// text; NaN and infinities pass through and a zero result is +0.0 (BigDecimal has no −0).
pub(crate) fn round_half_up(v: f64, scale: i32) -> f64 {
    if !v.is_finite() {
        return v;
    }
    if v == 0.0 {
        return 0.0;
    }
    // `{:e}` is the shortest text that reads back as `v`: "d.ddddde±x".
    let text = format!("{:e}", v.abs());
    let Some((mantissa, exponent)) = text.split_once('e') else {
        return v;
    };
    let Ok(exponent) = exponent.parse::<i64>() else {
        return v;
    };
    let digits: Vec<u8> = mantissa.bytes().filter(u8::is_ascii_digit).collect();
    // v = int(digits) × 10^lowest
    let lowest = exponent - (digits.len() as i64 - 1);
    let scale = i64::from(scale);
    if lowest >= -scale {
        return v; // no digit beyond the scale: exact
    }
    let dropped = -scale - lowest; // > 0
    let kept_len = (digits.len() as i64 - dropped).max(0) as usize;
    let kept = digits[..kept_len]
        .iter()
        .fold(0_u64, |n, d| n * 10 + u64::from(d - b'0'));
    let next = if dropped <= digits.len() as i64 {
        digits[kept_len]
    } else {
        b'0'
    };
    let rounded = kept + u64::from(next >= b'5');
    if rounded == 0 {
        return 0.0;
    }
    // Parsing decimal text is correctly rounded, as `BigDecimal.doubleValue` is.
    let magnitude: f64 = format!("{rounded}e{}", -scale).parse().unwrap_or(f64::NAN);
    magnitude.copysign(v)
}
