//! Spark's CAST in non-ANSI mode (`Cast.scala`, `spark.sql.ansi.enabled=false`), over the
//! supported types: a value that does not convert becomes null, never an error.
//!
//! Arrow's own cast differs from Spark in many places (out-of-range floats to integers, string
//! parsing, float formatting, booleans from text), so every conversion Spark defines is written
//! out here; arrow's cast is only used for exact re-encodings (string layouts).
//!
//! - string → integral: trimmed decimal text, a fractional part is truncated (`'1.9'` → 1), out
//!   of range or invalid → null;
//! - string → FLOAT/DOUBLE: Java's `parseDouble`, plus `inf`/`nan` in any case;
//! - string → BOOLEAN: `t true y yes 1` / `f false n no 0`, any case, trimmed;
//! - string → DATE/TIMESTAMP: Spark's formats, in UTC;
//! - FLOAT/DOUBLE → integral: the JVM's conversion (toward zero, saturating, NaN → 0), then for
//!   TINYINT/SMALLINT the INT is narrowed by dropping bits, as `toInt.toShort` does;
//! - integral → narrower integral: bits dropped (wraps);
//! - numbers ↔ TIMESTAMP: seconds since the epoch; DATE → numbers and BOOLEAN: null;
//! - → STRING: `true`/`false`, JVM `Double.toString`, `yyyy-MM-dd`, `yyyy-MM-dd HH:mm:ss[.f]`.

mod datetime;
mod format;
mod numeric;
mod parse;

use std::sync::Arc;

use arrow::array::{
    new_null_array, Array, ArrayRef, AsArray, BinaryArray, BooleanArray, Date32Array, Float32Array,
    Float64Array, Int64Array, Int8Array, ListArray, MapArray, PrimitiveArray, StructArray,
};
use arrow::compute::{cast_with_options, CastOptions};
use arrow::datatypes::{
    DataType as ArrowType, Float64Type, Int64Type, TimeUnit, TimestampMicrosecondType,
    TimestampMillisecondType, TimestampNanosecondType, TimestampSecondType,
};

use super::coerce::{is_floating, is_integral, is_numeric, is_string, map_types, type_name};
pub use datetime::{parse_date, parse_timestamp};
use datetime::{MICROS_PER_DAY, MICROS_PER_SECOND};
use numeric::numeric;

/// Whether Spark (non-ANSI) can CAST `from` to `to`, among the supported types.
pub fn can_cast(from: &ArrowType, to: &ArrowType) -> bool {
    use ArrowType as T;
    let scalar = |t: &ArrowType| {
        is_numeric(t) || is_string(t) || matches!(t, T::Boolean | T::Date32 | T::Timestamp(..))
    };
    match (from, to) {
        _ if from == to => true,
        (T::Null, _) => true,
        (f, t) if is_string(t) => scalar(f) || matches!(f, T::Binary | T::LargeBinary),
        (f, T::Binary) => is_string(f),
        (f, t) if is_numeric(t) || *t == T::Boolean => scalar(f),
        (f, T::Date32) => is_string(f) || matches!(f, T::Timestamp(..) | T::Date32),
        (f, T::Timestamp(..)) => scalar(f),
        (T::List(a), T::List(b)) => can_cast(a.data_type(), b.data_type()),
        (T::Map(..), T::Map(..)) => match (map_types(from), map_types(to)) {
            (Some((fk, fv)), Some((tk, tv))) => {
                // Like Spark, keys may not become null.
                let key_ok = fk == tk
                    || is_string(&tk) && scalar(&fk)
                    || is_integral(&fk) && is_numeric(&tk);
                key_ok && can_cast(&fv, &tv)
            }
            _ => false,
        },
        _ => false,
    }
}

/// Spark's non-ANSI CAST of `array` to `to`; the caller checked [`can_cast`].
pub fn spark_cast(array: &ArrayRef, to: &ArrowType) -> Result<ArrayRef, String> {
    let from = array.data_type();
    if from == to {
        return Ok(array.clone());
    }
    if *from == ArrowType::Null {
        return Ok(new_null_array(to, array.len()));
    }
    if matches!(from, ArrowType::LargeUtf8 | ArrowType::Utf8View) {
        return spark_cast(&arrow_cast(array, &ArrowType::Utf8)?, to);
    }
    if let ArrowType::Timestamp(unit, _) = from {
        if *unit != TimeUnit::Microsecond {
            return spark_cast(&to_micros(array, *unit)?, to);
        }
    }
    let len = array.len();
    let out: ArrayRef = match (from, to) {
        (_, t) if is_string(t) => arrow_cast(&format::to_string(array)?, t)?,
        (ArrowType::Utf8, t) => from_string(array, t)?,
        (ArrowType::Date32, ArrowType::Timestamp(..)) => {
            let days = array.as_primitive::<arrow::datatypes::Date32Type>();
            let micros: PrimitiveArray<TimestampMicrosecondType> =
                days.unary_opt(|d| i64::from(d).checked_mul(MICROS_PER_DAY));
            Arc::new(micros)
        }
        (ArrowType::Date32, _) => new_null_array(to, len),
        (ArrowType::Timestamp(..), ArrowType::Date32) => {
            let micros = array.as_primitive::<TimestampMicrosecondType>();
            let days: Date32Array =
                micros.unary_opt(|t| i32::try_from(t.div_euclid(MICROS_PER_DAY)).ok());
            Arc::new(days)
        }
        (ArrowType::Timestamp(..), ArrowType::Boolean) => {
            let micros = array.as_primitive::<TimestampMicrosecondType>();
            Arc::new(
                micros
                    .iter()
                    .map(|t| t.map(|t| t != 0))
                    .collect::<BooleanArray>(),
            )
        }
        (ArrowType::Timestamp(..), t) if is_floating(t) => {
            let micros = array.as_primitive::<TimestampMicrosecondType>();
            let seconds: Float64Array = micros.unary(|t| t as f64 / MICROS_PER_SECOND as f64);
            numeric(&(Arc::new(seconds) as ArrayRef), t)?
        }
        (ArrowType::Timestamp(..), t) if is_integral(t) => {
            let micros = array.as_primitive::<TimestampMicrosecondType>();
            let seconds: Int64Array = micros.unary(|t| t.div_euclid(MICROS_PER_SECOND));
            numeric(&(Arc::new(seconds) as ArrayRef), t)?
        }
        (ArrowType::Timestamp(..), ArrowType::Timestamp(..)) => array.clone(),
        (f, ArrowType::Timestamp(..)) => to_timestamp(array, f)?,
        (ArrowType::Boolean, t) if is_numeric(t) => {
            let flags = array.as_boolean();
            let ints: Int8Array = flags.iter().map(|b| b.map(i8::from)).collect();
            numeric(&(Arc::new(ints) as ArrayRef), t)?
        }
        (f, ArrowType::Boolean) if is_numeric(f) => {
            let values = numeric(array, &ArrowType::Float64)?;
            let values = values.as_primitive::<Float64Type>();
            Arc::new(
                values
                    .iter()
                    .map(|v| v.map(|v| v != 0.0))
                    .collect::<BooleanArray>(),
            )
        }
        (f, t) if is_numeric(f) && is_numeric(t) => numeric(array, t)?,
        (ArrowType::Binary | ArrowType::LargeBinary, _) => {
            return Err(format!("cannot cast BINARY to {}", type_name(to)))
        }
        (ArrowType::List(_), ArrowType::List(field)) => {
            let list = array.as_list::<i32>();
            let values = spark_cast(list.values(), field.data_type())?;
            Arc::new(
                ListArray::try_new(
                    field.clone(),
                    list.offsets().clone(),
                    values,
                    list.nulls().cloned(),
                )
                .map_err(|e| e.to_string())?,
            )
        }
        (ArrowType::Map(..), ArrowType::Map(entries_field, ordered)) => {
            let map = array.as_map();
            let ArrowType::Struct(fields) = entries_field.data_type() else {
                return Err(format!("invalid map type {to}"));
            };
            let (Some(key_field), Some(value_field)) = (fields.first(), fields.get(1)) else {
                return Err(format!("invalid map type {to}"));
            };
            let keys = spark_cast(map.keys(), key_field.data_type())?;
            let values = spark_cast(map.values(), value_field.data_type())?;
            let entries = StructArray::try_new(fields.clone(), vec![keys, values], None)
                .map_err(|e| e.to_string())?;
            Arc::new(
                MapArray::try_new(
                    entries_field.clone(),
                    map.offsets().clone(),
                    entries,
                    map.nulls().cloned(),
                    *ordered,
                )
                .map_err(|e| e.to_string())?,
            )
        }
        _ => {
            return Err(format!(
                "cannot cast {} to {}",
                type_name(from),
                type_name(to)
            ))
        }
    };
    match to {
        ArrowType::Timestamp(unit, tz) => from_micros(&out, *unit, tz.clone()),
        _ => Ok(out),
    }
}

/// Microseconds (any time zone label) as a timestamp array of `unit` labelled `tz`; coarser
/// units round toward negative infinity, finer ones that overflow give null.
fn from_micros(array: &ArrayRef, unit: TimeUnit, tz: Option<Arc<str>>) -> Result<ArrayRef, String> {
    let micros = array
        .as_primitive_opt::<TimestampMicrosecondType>()
        .ok_or_else(|| format!("expected microseconds, found {}", array.data_type()))?;
    Ok(match unit {
        TimeUnit::Second => Arc::new(
            micros
                .unary::<_, TimestampSecondType>(|v| v.div_euclid(MICROS_PER_SECOND))
                .with_timezone_opt(tz),
        ),
        TimeUnit::Millisecond => Arc::new(
            micros
                .unary::<_, TimestampMillisecondType>(|v| v.div_euclid(1000))
                .with_timezone_opt(tz),
        ),
        TimeUnit::Microsecond => Arc::new(micros.clone().with_timezone_opt(tz)),
        TimeUnit::Nanosecond => Arc::new(
            micros
                .unary_opt::<_, TimestampNanosecondType>(|v| v.checked_mul(1000))
                .with_timezone_opt(tz),
        ),
    })
}

/// An exact re-encoding by arrow (string layouts, integer to text).
fn arrow_cast(array: &ArrayRef, to: &ArrowType) -> Result<ArrayRef, String> {
    if array.data_type() == to {
        return Ok(array.clone());
    }
    let options = CastOptions {
        safe: true,
        ..CastOptions::default()
    };
    cast_with_options(array, to, &options).map_err(|e| e.to_string())
}

/// A timestamp array of any unit as microseconds (Spark's precision); out of range → null.
fn to_micros(array: &ArrayRef, unit: TimeUnit) -> Result<ArrayRef, String> {
    let tz = match array.data_type() {
        ArrowType::Timestamp(_, tz) => tz.clone(),
        _ => None,
    };
    let micros: PrimitiveArray<TimestampMicrosecondType> = match unit {
        TimeUnit::Second => array
            .as_primitive::<TimestampSecondType>()
            .unary_opt(|v| v.checked_mul(MICROS_PER_SECOND)),
        TimeUnit::Millisecond => array
            .as_primitive::<TimestampMillisecondType>()
            .unary_opt(|v| v.checked_mul(1000)),
        TimeUnit::Microsecond => array.as_primitive::<TimestampMicrosecondType>().clone(),
        TimeUnit::Nanosecond => array
            .as_primitive::<TimestampNanosecondType>()
            .unary(|v| v.div_euclid(1000)),
    };
    Ok(Arc::new(micros.with_timezone_opt(tz)))
}

/// Numbers and booleans to TIMESTAMP: integral seconds (saturating, as `SECONDS.toMicros`),
/// fractional seconds (`(d * 1e6).toLong`, NaN and infinities → null), `true` → 1 µs.
fn to_timestamp(array: &ArrayRef, from: &ArrowType) -> Result<ArrayRef, String> {
    let micros: PrimitiveArray<TimestampMicrosecondType> = match from {
        ArrowType::Boolean => array
            .as_boolean()
            .iter()
            .map(|b| b.map(i64::from))
            .collect(),
        f if is_integral(f) => {
            let seconds = numeric(array, &ArrowType::Int64)?;
            seconds
                .as_primitive::<Int64Type>()
                .unary(|s| s.saturating_mul(MICROS_PER_SECOND))
        }
        f if is_floating(f) => {
            let seconds = numeric(array, &ArrowType::Float64)?;
            seconds.as_primitive::<Float64Type>().unary_opt(|d| {
                d.is_finite()
                    .then_some((d * MICROS_PER_SECOND as f64) as i64)
            })
        }
        f => return Err(format!("cannot cast {} to TIMESTAMP", type_name(f))),
    };
    Ok(Arc::new(micros.with_timezone("UTC")))
}

/// Parses `Utf8` text as `to`, Spark's way.
fn from_string(array: &ArrayRef, to: &ArrowType) -> Result<ArrayRef, String> {
    let text = array.as_string::<i32>();
    let integral = |min: i64, max: i64| -> Int64Array {
        text.iter()
            .map(|v| v.and_then(|v| parse::parse_integral(v, min, max)))
            .collect()
    };
    let narrow = |wide: Int64Array| numeric(&(Arc::new(wide) as ArrayRef), to);
    Ok(match to {
        ArrowType::Boolean => Arc::new(
            text.iter()
                .map(|v| v.and_then(parse::parse_boolean))
                .collect::<BooleanArray>(),
        ),
        ArrowType::Int8 => narrow(integral(i8::MIN.into(), i8::MAX.into()))?,
        ArrowType::Int16 => narrow(integral(i16::MIN.into(), i16::MAX.into()))?,
        ArrowType::Int32 => narrow(integral(i32::MIN.into(), i32::MAX.into()))?,
        ArrowType::Int64 => Arc::new(integral(i64::MIN, i64::MAX)),
        ArrowType::Float32 => Arc::new(
            text.iter()
                .map(|v| v.and_then(parse::parse_float))
                .collect::<Float32Array>(),
        ),
        ArrowType::Float64 => Arc::new(
            text.iter()
                .map(|v| v.and_then(parse::parse_double))
                .collect::<Float64Array>(),
        ),
        ArrowType::Date32 => Arc::new(
            text.iter()
                .map(|v| v.and_then(parse_date))
                .collect::<Date32Array>(),
        ),
        ArrowType::Timestamp(..) => {
            let micros: PrimitiveArray<TimestampMicrosecondType> =
                text.iter().map(|v| v.and_then(parse_timestamp)).collect();
            Arc::new(micros.with_timezone("UTC"))
        }
        ArrowType::Binary => Arc::new(
            text.iter()
                .map(|v| v.map(str::as_bytes))
                .collect::<BinaryArray>(),
        ),
        other => return Err(format!("cannot cast STRING to {}", type_name(other))),
    })
}
