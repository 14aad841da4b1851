//! Date/time functions, UTC only (R-TIME-1): UNIX_TIMESTAMP/TO_UNIX_TIMESTAMP, FROM_UNIXTIME,
//! TO_DATE, TO_TIMESTAMP, DATE_FORMAT. Patterns are described in `datetime_format.rs`; a literal
//! pattern is checked at bind time, a pattern from a column when evaluated.
//!
//! Text that does not match its pattern gives NULL (Spark 3 raises `SparkUpgradeException`
//! instead when its legacy parser would have accepted the text). Where Spark defines a function
//! through CAST (`TO_DATE(s)`, `TO_TIMESTAMP(s)`, the STRING argument of `DATE_FORMAT`), the
//! binder's CAST is used, so both agree.

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, Int64Array, PrimitiveArray, StringBuilder};
use arrow::datatypes::{DataType as ArrowType, Date32Type, Int64Type, TimestampMicrosecondType};

use super::calendar::{MICROS_PER_DAY, MICROS_PER_SECOND, SECONDS_PER_DAY};
use super::datetime_format::{Pattern, DEFAULT_PATTERN};
use super::{check_arity, literal_str, number_as, primitives, string_arg, strings};
use super::{FunctionDef, Signature};
use crate::expr::bind::cast;
use crate::expr::bound::Bound;
use crate::expr::coerce::{is_string, timestamp_type, type_name};

pub(super) static FUNCTIONS: &[FunctionDef] = &[
    FunctionDef {
        name: "UNIX_TIMESTAMP",
        bind: bind_unix_timestamp,
        evaluate: eval_unix_timestamp,
    },
    FunctionDef {
        name: "TO_UNIX_TIMESTAMP",
        bind: bind_to_unix_timestamp,
        evaluate: eval_unix_timestamp,
    },
    FunctionDef {
        name: "FROM_UNIXTIME",
        bind: bind_from_unixtime,
        evaluate: eval_from_unixtime,
    },
    FunctionDef {
        name: "TO_DATE",
        bind: bind_to_date,
        evaluate: eval_to_date,
    },
    FunctionDef {
        name: "TO_TIMESTAMP",
        bind: bind_to_timestamp,
        evaluate: eval_to_timestamp,
    },
    FunctionDef {
        name: "DATE_FORMAT",
        bind: bind_date_format,
        evaluate: eval_date_format,
    },
];

/// A DATE as it is, a TIMESTAMP as Spark's (microseconds); anything else atomic as STRING
/// (Spark's implicit cast into `(STRING, DATE, TIMESTAMP)`, e.g.
/// `UNIX_TIMESTAMP(20231220, 'yyyyMMdd')`).
fn time_arg(arg: Bound) -> Result<Bound, String> {
    match arg.data_type() {
        ArrowType::Date32 => Ok(arg),
        ArrowType::Timestamp(..) => Ok(cast(arg, &timestamp_type())),
        _ => string_arg(arg),
    }
}

/// A STRING, DATE, TIMESTAMP or NULL cast to `to` (DATE or TIMESTAMP), as Spark's CAST does.
fn cast_time_arg(arg: Bound, to: &ArrowType) -> Result<Bound, String> {
    match arg.data_type() {
        t if is_string(&t)
            || matches!(
                t,
                ArrowType::Null | ArrowType::Date32 | ArrowType::Timestamp(..)
            ) =>
        {
            Ok(cast(arg, to))
        }
        t => Err(format!(
            "needs a STRING, DATE or TIMESTAMP, found {}",
            type_name(&t)
        )),
    }
}

fn as_date(arg: Bound) -> Result<Bound, String> {
    cast_time_arg(arg, &ArrowType::Date32)
}

fn as_timestamp(arg: Bound) -> Result<Bound, String> {
    cast_time_arg(arg, &timestamp_type())
}

/// A pattern argument as STRING, compiled now if it is a literal.
fn pattern_arg(arg: Bound) -> Result<Bound, String> {
    let arg = string_arg(arg)?;
    if let Some(Some(format)) = literal_str(&arg) {
        Pattern::compile(format)?;
    }
    Ok(arg)
}

/// `[value, pattern]` with the pattern checked, or just `[value]`.
fn with_pattern(
    mut args: Vec<Bound>,
    value: fn(Bound) -> Result<Bound, String>,
) -> Result<Vec<Bound>, String> {
    let pattern = (args.len() == 2).then(|| args.pop()).flatten();
    let mut out = vec![value(args.remove(0))?];
    if let Some(p) = pattern {
        out.push(pattern_arg(p)?);
    }
    Ok(out)
}

/// Compiled patterns, recompiled only when a row's pattern differs from the previous row's.
struct Patterns<'a> {
    formats: Option<&'a arrow::array::StringArray>,
    last: Option<(String, Pattern)>,
}

impl<'a> Patterns<'a> {
    fn new(args: &'a [ArrayRef], index: usize) -> Result<Self, String> {
        let formats = if args.len() > index {
            Some(strings(args, index)?)
        } else {
            None
        };
        Ok(Patterns {
            formats,
            last: None,
        })
    }

    /// Row `i`'s pattern; `None` where the pattern is NULL.
    fn get(&mut self, i: usize) -> Result<Option<&Pattern>, String> {
        let format = match self.formats {
            Some(f) if f.is_null(i) => return Ok(None),
            Some(f) => f.value(i),
            None => DEFAULT_PATTERN,
        };
        if !matches!(&self.last, Some((text, _)) if text == format) {
            self.last = Some((format.to_owned(), Pattern::compile(format)?));
        }
        Ok(self.last.as_ref().map(|(_, p)| p))
    }
}

/// Microseconds since the epoch of a DATE or (bound as Spark's) TIMESTAMP array.
fn instants(a: &ArrayRef) -> Result<Int64Array, String> {
    if let Some(days) = a.as_primitive_opt::<Date32Type>() {
        return Ok(days.unary_opt(|d| i64::from(d).checked_mul(MICROS_PER_DAY)));
    }
    let micros = a
        .as_primitive_opt::<TimestampMicrosecondType>()
        .ok_or_else(|| format!("expected a DATE or TIMESTAMP, found {}", a.data_type()))?;
    Ok(micros.reinterpret_cast::<Int64Type>())
}

/// Parses each string with its row's pattern (`args[1]`, default `DEFAULT_PATTERN`) and maps
/// the instant with `then`.
fn parse_rows<T: arrow::datatypes::ArrowPrimitiveType>(
    args: &[ArrayRef],
    then: fn(i64) -> Option<T::Native>,
) -> Result<PrimitiveArray<T>, String> {
    let text = strings(args, 0)?;
    let mut patterns = Patterns::new(args, 1)?;
    let mut out = Vec::with_capacity(text.len());
    for (i, s) in text.iter().enumerate() {
        let value = match (s, patterns.get(i)?) {
            (Some(s), Some(p)) => p.parse(s).and_then(then),
            _ => None,
        };
        out.push(value);
    }
    Ok(out.into_iter().collect())
}

/// `UNIX_TIMESTAMP(s[, fmt])`: BIGINT seconds; a STRING is parsed with `fmt` (default
/// `yyyy-MM-dd HH:mm:ss`), a DATE counts from its midnight, a TIMESTAMP ignores `fmt`.
fn bind_unix_timestamp(args: Vec<Bound>) -> Signature {
    if args.is_empty() {
        return Err(
            "without arguments it reads the clock: not deterministic, not supported".into(),
        );
    }
    bind_to_unix_timestamp(args)
}

fn bind_to_unix_timestamp(args: Vec<Bound>) -> Signature {
    check_arity(&args, 1, 2)?;
    Ok((with_pattern(args, time_arg)?, ArrowType::Int64))
}

fn eval_unix_timestamp(
    args: &[ArrayRef],
    _rows: usize,
    _t: &ArrowType,
) -> Result<ArrayRef, String> {
    if args[0].data_type() == &ArrowType::Utf8 {
        let seconds = |m: i64| Some(m.div_euclid(MICROS_PER_SECOND));
        return Ok(Arc::new(parse_rows::<Int64Type>(args, seconds)?));
    }
    if let Some(days) = args[0].as_primitive_opt::<Date32Type>() {
        return Ok(Arc::new(
            days.unary::<_, Int64Type>(|d| i64::from(d) * SECONDS_PER_DAY),
        ));
    }
    let micros = instants(&args[0])?;
    Ok(Arc::new(micros.unary::<_, Int64Type>(|m| {
        m.div_euclid(MICROS_PER_SECOND)
    })))
}

/// `FROM_UNIXTIME(secs[, fmt])`: STRING, `secs` (BIGINT) formatted in UTC with `fmt` (default
/// `yyyy-MM-dd HH:mm:ss`).
fn bind_from_unixtime(args: Vec<Bound>) -> Signature {
    check_arity(&args, 1, 2)?;
    let to_long = |a| number_as(a, &ArrowType::Int64);
    Ok((with_pattern(args, to_long)?, ArrowType::Utf8))
}

fn eval_from_unixtime(args: &[ArrayRef], _rows: usize, _t: &ArrowType) -> Result<ArrayRef, String> {
    let seconds = primitives::<Int64Type>(args, 0)?;
    let micros = seconds.unary_opt::<_, Int64Type>(|s| s.checked_mul(MICROS_PER_SECOND));
    format_rows(&micros, Patterns::new(args, 1)?)
}

fn format_rows(micros: &Int64Array, mut patterns: Patterns<'_>) -> Result<ArrayRef, String> {
    let mut out = StringBuilder::with_capacity(micros.len(), micros.len() * 19);
    let mut text = String::new();
    for (i, m) in micros.iter().enumerate() {
        match (m, patterns.get(i)?) {
            (Some(m), Some(p)) => {
                text.clear();
                p.format(m, &mut text);
                out.append_value(&text);
            }
            _ => out.append_null(),
        }
    }
    Ok(Arc::new(out.finish()))
}

/// `TO_DATE(x[, fmt])`: DATE. Without `fmt`, `CAST(x AS DATE)`; with `fmt` a STRING is parsed
/// as a timestamp and truncated to its (UTC) day. TIMESTAMPs truncate; DATEs pass.
fn bind_to_date(args: Vec<Bound>) -> Signature {
    check_arity(&args, 1, 2)?;
    let value = if args.len() == 1 { as_date } else { time_arg };
    Ok((with_pattern(args, value)?, ArrowType::Date32))
}

fn eval_to_date(args: &[ArrayRef], _rows: usize, _t: &ArrowType) -> Result<ArrayRef, String> {
    let day = |m: i64| i32::try_from(m.div_euclid(MICROS_PER_DAY)).ok();
    Ok(match args[0].data_type() {
        ArrowType::Date32 => args[0].clone(),
        ArrowType::Utf8 => Arc::new(parse_rows::<Date32Type>(args, day)?),
        _ => Arc::new(instants(&args[0])?.unary_opt::<_, Date32Type>(day)),
    })
}

/// `TO_TIMESTAMP(x[, fmt])`: TIMESTAMP. Without `fmt`, `CAST(x AS TIMESTAMP)`; with `fmt` a
/// STRING is parsed. DATEs start at midnight UTC.
fn bind_to_timestamp(args: Vec<Bound>) -> Signature {
    check_arity(&args, 1, 2)?;
    let value = if args.len() == 1 {
        as_timestamp
    } else {
        time_arg
    };
    Ok((with_pattern(args, value)?, timestamp_type()))
}

fn eval_to_timestamp(args: &[ArrayRef], _rows: usize, t: &ArrowType) -> Result<ArrayRef, String> {
    let micros: Int64Array = match args[0].data_type() {
        ArrowType::Utf8 => parse_rows::<Int64Type>(args, Some)?,
        _ => instants(&args[0])?,
    };
    let out = micros.reinterpret_cast::<TimestampMicrosecondType>();
    Ok(Arc::new(out.with_data_type(t.clone())))
}

/// `DATE_FORMAT(x, fmt)`: STRING, `x` (TIMESTAMP, or a DATE or STRING cast to TIMESTAMP as
/// Spark's implicit cast does) formatted in UTC.
fn bind_date_format(args: Vec<Bound>) -> Signature {
    check_arity(&args, 2, 2)?;
    Ok((with_pattern(args, as_timestamp)?, ArrowType::Utf8))
}

fn eval_date_format(args: &[ArrayRef], _rows: usize, _t: &ArrowType) -> Result<ArrayRef, String> {
    format_rows(&instants(&args[0])?, Patterns::new(args, 1)?)
}
