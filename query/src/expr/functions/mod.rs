//! Built-in functions: a registry of [`FunctionDef`]s, each binding its arguments (type check,
//! implicit casts, result type) and evaluating them over arrays.
//!
//! One file per group (conditional, math, string, date/time); this module holds the registry and
//! the helpers they share: arity checks, Spark's implicit argument casts and common types.

pub(crate) mod calendar;
mod conditional;
mod datetime;
mod datetime_format;
mod math;
mod round;
mod split;
mod string;
#[cfg(test)]
mod tests;

use arrow::array::{Array, ArrayRef, AsArray, BooleanArray, StringArray};
use arrow::datatypes::DataType as ArrowType;

use super::bind::cast;
use super::bound::Bound;
use super::coerce::{
    common_type, common_type_without_string_promotion, is_atomic, is_numeric, is_string, type_name,
};

/// Bound arguments (cast as the function needs them) and the result type, or why they do not fit.
pub type Signature = Result<(Vec<Bound>, ArrowType), String>;

/// A built-in function.
pub struct FunctionDef {
    /// Upper-case name as Spark spells it; aliases are separate entries.
    pub name: &'static str,
    /// Checks and casts the arguments; returns them with the result type, or the reason they do
    /// not fit.
    pub bind: fn(Vec<Bound>) -> Signature,
    /// Evaluates over arrays of `rows` values each.
    pub evaluate: fn(&[ArrayRef], usize, &ArrowType) -> Result<ArrayRef, String>,
}

impl std::fmt::Debug for FunctionDef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name)
    }
}

/// Every supported function.
static FUNCTIONS: &[&[FunctionDef]] = &[
    conditional::FUNCTIONS,
    math::FUNCTIONS,
    string::FUNCTIONS,
    datetime::FUNCTIONS,
];

/// The function called `name` (case-insensitive).
pub fn lookup(name: &str) -> Option<&'static FunctionDef> {
    FUNCTIONS
        .iter()
        .flat_map(|group| group.iter())
        .find(|f| f.name.eq_ignore_ascii_case(name))
}

/// Checks that between `min` and `max` arguments were given (`usize::MAX`: no upper bound).
pub(crate) fn check_arity(args: &[Bound], min: usize, max: usize) -> Result<(), String> {
    let n = args.len();
    if (min..=max).contains(&n) {
        return Ok(());
    }
    let (expected, last) = match (min, max) {
        (min, max) if min == max => (min.to_string(), min),
        (min, usize::MAX) => (format!("at least {min}"), min),
        (min, max) if max == min + 1 => (format!("{min} or {max}"), max),
        (min, max) => (format!("{min} to {max}"), max),
    };
    let noun = if last == 1 { "argument" } else { "arguments" };
    Err(format!("expects {expected} {noun}, got {n}"))
}

/// A numeric argument as it is (strings and NULL become DOUBLE, Spark's implicit cast).
pub(crate) fn numeric_arg(arg: Bound) -> Result<Bound, String> {
    match arg.data_type() {
        t if is_numeric(&t) => Ok(arg),
        t if is_string(&t) || t == ArrowType::Null => Ok(cast(arg, &ArrowType::Float64)),
        t => Err(format!("needs a number, found {}", type_name(&t))),
    }
}

/// A number (or string, or NULL) cast to `to`, an integral or floating type.
pub(crate) fn number_as(arg: Bound, to: &ArrowType) -> Result<Bound, String> {
    match arg.data_type() {
        t if is_numeric(&t) || is_string(&t) || t == ArrowType::Null => Ok(cast(arg, to)),
        t => Err(format!("needs a number, found {}", type_name(&t))),
    }
}

/// A string argument: atomic values (numbers, booleans, dates, timestamps, binary) are cast to
/// STRING, as Spark's implicit cast does; nested values are rejected.
pub(crate) fn string_arg(arg: Bound) -> Result<Bound, String> {
    match arg.data_type() {
        ArrowType::Utf8 => Ok(arg),
        t if is_atomic(&t) || t == ArrowType::Null => Ok(cast(arg, &ArrowType::Utf8)),
        t => Err(format!("needs a STRING, found {}", type_name(&t))),
    }
}

/// The value of a literal argument: `Some(None)` for a NULL literal, `None` if not a literal.
pub(crate) fn literal_str(arg: &Bound) -> Option<Option<&str>> {
    match arg {
        Bound::Literal(a) if a.data_type() == &ArrowType::Null || a.is_null(0) => Some(None),
        Bound::Literal(a) => a.as_string_opt::<i32>().map(|s| Some(s.value(0))),
        _ => None,
    }
}

/// The integer value of a literal argument (or a negated one, as Spark folds `-(1)`):
/// `Some(None)` for NULL, `None` if not an integer literal.
pub(crate) fn literal_int(arg: &Bound) -> Option<Option<i64>> {
    use arrow::datatypes::{Int16Type, Int32Type, Int64Type, Int8Type};
    let a = match arg {
        Bound::Literal(a) => a,
        Bound::Negate(inner) => return literal_int(inner).map(|v| v.map(i64::wrapping_neg)),
        _ => return None,
    };
    if a.data_type() == &ArrowType::Null || a.is_null(0) {
        return Some(None);
    }
    let v = match a.data_type() {
        ArrowType::Int8 => i64::from(a.as_primitive::<Int8Type>().value(0)),
        ArrowType::Int16 => i64::from(a.as_primitive::<Int16Type>().value(0)),
        ArrowType::Int32 => i64::from(a.as_primitive::<Int32Type>().value(0)),
        ArrowType::Int64 => a.as_primitive::<Int64Type>().value(0),
        _ => return None,
    };
    Some(Some(v))
}

/// The arguments cast to their common type (Spark's `findWiderCommonType`, strings first, or
/// with `string_promotion` off `findWiderTypeWithoutStringPromotion`), or why they have none.
pub(crate) fn coerce_to_common(
    args: Vec<Bound>,
    string_promotion: bool,
) -> Result<(Vec<Bound>, ArrowType), String> {
    let types: Vec<ArrowType> = args.iter().map(Bound::data_type).collect();
    let common = if string_promotion {
        // Spark folds the string types first: (TIMESTAMP, INT, STRING) meet as STRING.
        let (mut ordered, others): (Vec<ArrowType>, Vec<ArrowType>) =
            types.iter().cloned().partition(is_string);
        ordered.extend(others);
        common_type(&ordered)
    } else {
        common_type_without_string_promotion(&types)
    };
    let common = common.ok_or_else(|| {
        let names: Vec<String> = types.iter().map(type_name).collect();
        format!("arguments have no common type ({})", names.join(", "))
    })?;
    let args = args.into_iter().map(|a| cast(a, &common)).collect();
    Ok((args, common))
}

/// The argument at `i` as a string array (an internal error if binding did not make it one).
pub(crate) fn strings(args: &[ArrayRef], i: usize) -> Result<&StringArray, String> {
    let a = args.get(i).ok_or_else(|| format!("missing argument {i}"))?;
    a.as_string_opt::<i32>()
        .ok_or_else(|| format!("argument {i}: expected STRING, found {}", a.data_type()))
}

/// The argument at `i` as a primitive array of type `T`.
pub(crate) fn primitives<T: arrow::datatypes::ArrowPrimitiveType>(
    args: &[ArrayRef],
    i: usize,
) -> Result<&arrow::array::PrimitiveArray<T>, String> {
    let a = args.get(i).ok_or_else(|| format!("missing argument {i}"))?;
    a.as_primitive_opt::<T>()
        .ok_or_else(|| format!("argument {i}: unexpected type {}", a.data_type()))
}

/// `mask` with nulls read as false.
pub(crate) fn null_as_false(mask: &BooleanArray) -> BooleanArray {
    match mask.nulls() {
        Some(nulls) if nulls.null_count() > 0 => {
            BooleanArray::new(mask.values() & nulls.inner(), None)
        }
        _ => mask.clone(),
    }
}

/// Converts an arrow error to the evaluation error string.
pub(crate) fn arrow_err(e: arrow::error::ArrowError) -> String {
    e.to_string()
}
