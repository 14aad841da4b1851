//! Spark's implicit type coercion (`TypeCoercion`, non-ANSI) for the supported types.
//!
//! Three rules, as in Spark 3:
//! - [`tightest_common_type`] (`findTightestCommonType`): equal types, NULL, numeric widening,
//!   DATE with TIMESTAMP;
//! - [`wider_type`] (`findWiderTypeForTwo`): the tightest type, else STRING with any other atomic
//!   type except BOOLEAN and BINARY ("string promotion"), else arrays and maps of wider types. Used
//!   where values meet in one result: CASE branches, IN lists, `array(...)`, COALESCE, IF;
//! - [`comparison_type`] (`findCommonTypeForBinaryComparison`): the tightest type, else a STRING
//!   compared with another atomic type is cast to that type.

use std::sync::Arc;

use arrow::datatypes::{DataType as ArrowType, Field, TimeUnit};

/// The timestamp type CAST and typed literals produce: Spark's microseconds, as an instant.
pub fn timestamp_type() -> ArrowType {
    ArrowType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()))
}

/// Numeric types in Spark's widening order: BYTE < SHORT < INT < BIGINT < FLOAT < DOUBLE.
fn numeric_rank(t: &ArrowType) -> Option<u8> {
    Some(match t {
        ArrowType::Int8 => 1,
        ArrowType::Int16 => 2,
        ArrowType::Int32 => 3,
        ArrowType::Int64 => 4,
        ArrowType::Float32 => 5,
        ArrowType::Float64 => 6,
        _ => return None,
    })
}

pub fn is_numeric(t: &ArrowType) -> bool {
    numeric_rank(t).is_some()
}

pub fn is_integral(t: &ArrowType) -> bool {
    matches!(
        t,
        ArrowType::Int8 | ArrowType::Int16 | ArrowType::Int32 | ArrowType::Int64
    )
}

pub fn is_floating(t: &ArrowType) -> bool {
    matches!(t, ArrowType::Float32 | ArrowType::Float64)
}

pub fn is_string(t: &ArrowType) -> bool {
    matches!(
        t,
        ArrowType::Utf8 | ArrowType::LargeUtf8 | ArrowType::Utf8View
    )
}

/// Spark's atomic (non-nested) types among the supported ones.
pub fn is_atomic(t: &ArrowType) -> bool {
    is_numeric(t)
        || is_string(t)
        || matches!(
            t,
            ArrowType::Boolean
                | ArrowType::Date32
                | ArrowType::Timestamp(..)
                | ArrowType::Binary
                | ArrowType::LargeBinary
        )
}

/// The wider of two numeric types; NULL widens to anything.
pub fn wider_numeric(a: &ArrowType, b: &ArrowType) -> Option<ArrowType> {
    match (a, b) {
        (ArrowType::Null, t) | (t, ArrowType::Null) if is_numeric(t) => Some(t.clone()),
        _ => {
            let (ra, rb) = (numeric_rank(a)?, numeric_rank(b)?);
            Some(if ra >= rb { a.clone() } else { b.clone() })
        }
    }
}

/// Spark's `findTightestCommonType`. Different string or timestamp encodings meet in `Utf8` and
/// [`timestamp_type`].
pub fn tightest_common_type(a: &ArrowType, b: &ArrowType) -> Option<ArrowType> {
    match (a, b) {
        _ if a == b => Some(a.clone()),
        (ArrowType::Null, t) | (t, ArrowType::Null) => Some(t.clone()),
        _ if is_string(a) && is_string(b) => Some(ArrowType::Utf8),
        (ArrowType::Timestamp(..), ArrowType::Timestamp(..))
        | (ArrowType::Date32, ArrowType::Timestamp(..))
        | (ArrowType::Timestamp(..), ArrowType::Date32) => Some(timestamp_type()),
        _ if is_numeric(a) && is_numeric(b) => wider_numeric(a, b),
        _ => complex(a, b, tightest_common_type),
    }
}

/// Spark's `findWiderTypeForTwo`: [`tightest_common_type`], then string promotion, then nested
/// types of wider element types.
pub fn wider_type(a: &ArrowType, b: &ArrowType) -> Option<ArrowType> {
    tightest_common_type(a, b)
        .or_else(|| string_promotion(a, b))
        .or_else(|| complex(a, b, wider_type))
}

/// Spark's `findWiderTypeWithoutStringPromotionForTwo` (GREATEST, LEAST).
pub fn wider_type_without_string_promotion(a: &ArrowType, b: &ArrowType) -> Option<ArrowType> {
    tightest_common_type(a, b).or_else(|| complex(a, b, wider_type_without_string_promotion))
}

fn string_promotion(a: &ArrowType, b: &ArrowType) -> Option<ArrowType> {
    let promotes = |t: &ArrowType| {
        is_atomic(t)
            && !matches!(
                t,
                ArrowType::Boolean | ArrowType::Binary | ArrowType::LargeBinary
            )
    };
    ((is_string(a) && promotes(b)) || (is_string(b) && promotes(a))).then_some(ArrowType::Utf8)
}

/// Arrays and maps whose element types have a common type under `rule`.
fn complex(
    a: &ArrowType,
    b: &ArrowType,
    rule: fn(&ArrowType, &ArrowType) -> Option<ArrowType>,
) -> Option<ArrowType> {
    match (a, b) {
        (ArrowType::List(x), ArrowType::List(y)) => {
            Some(list_type(rule(x.data_type(), y.data_type())?))
        }
        (ArrowType::Map(..), ArrowType::Map(..)) => {
            let ((ka, va), (kb, vb)) = (map_types(a)?, map_types(b)?);
            Some(map_type(rule(&ka, &kb)?, rule(&va, &vb)?))
        }
        _ => None,
    }
}

/// The common type of values that meet in one result (CASE branches, COALESCE, IN lists, IF,
/// `array(...)`): [`wider_type`] folded over `types`; VOID when `types` is empty or all NULL.
pub fn common_type(types: &[ArrowType]) -> Option<ArrowType> {
    types
        .iter()
        .try_fold(ArrowType::Null, |out, t| wider_type(&out, t))
}

/// [`common_type`] without string promotion (GREATEST, LEAST).
pub fn common_type_without_string_promotion(types: &[ArrowType]) -> Option<ArrowType> {
    types.iter().try_fold(ArrowType::Null, |out, t| {
        wider_type_without_string_promotion(&out, t)
    })
}

/// The type both sides of a comparison are cast to (Spark 3 `findCommonTypeForBinaryComparison`):
/// the tightest common type; else a STRING compared with another atomic type (numbers, BOOLEAN,
/// DATE, TIMESTAMP) is cast to that type.
pub fn comparison_type(a: &ArrowType, b: &ArrowType) -> Option<ArrowType> {
    tightest_common_type(a, b).or_else(|| match (a, b) {
        (s, t) | (t, s) if is_string(s) && !is_string(t) && is_atomic(t) => Some(t.clone()),
        _ => None,
    })
}

/// Whether Spark casts `from` to `to` implicitly where an operand of type `to` is expected
/// (`ImplicitTypeCasts.implicitCast`, non-ANSI): numbers to numbers; STRING to numbers, DATE,
/// TIMESTAMP and BINARY; atomic types to STRING; DATE and TIMESTAMP to each other; NULL to all.
pub fn implicit_cast(from: &ArrowType, to: &ArrowType) -> bool {
    let datetime = |t: &ArrowType| matches!(t, ArrowType::Date32 | ArrowType::Timestamp(..));
    from == to
        || *from == ArrowType::Null
        || (is_numeric(from) && is_numeric(to))
        || (is_string(from) && (is_numeric(to) || datetime(to) || matches!(to, ArrowType::Binary)))
        || (is_string(to) && is_atomic(from))
        || (datetime(from) && datetime(to))
}

/// A list type with Arrow's conventional nullable `item` field.
pub fn list_type(element: ArrowType) -> ArrowType {
    ArrowType::List(Arc::new(Field::new("item", element, true)))
}

/// A map type laid out as `DataType::to_arrow` does: `entries` of a non-null `key` and a `value`.
pub fn map_type(key: ArrowType, value: ArrowType) -> ArrowType {
    let entries = ArrowType::Struct(
        vec![
            Field::new("key", key, false),
            Field::new("value", value, true),
        ]
        .into(),
    );
    ArrowType::Map(Arc::new(Field::new("entries", entries, false)), false)
}

/// The key and value types of a map type.
pub fn map_types(t: &ArrowType) -> Option<(ArrowType, ArrowType)> {
    match t {
        ArrowType::Map(entries, _) => match entries.data_type() {
            ArrowType::Struct(fields) if fields.len() == 2 => {
                Some((fields[0].data_type().clone(), fields[1].data_type().clone()))
            }
            _ => None,
        },
        _ => None,
    }
}

/// Spark's SQL name of a type, for error messages.
pub fn type_name(t: &ArrowType) -> String {
    match t {
        ArrowType::Null => "VOID".into(),
        ArrowType::Boolean => "BOOLEAN".into(),
        ArrowType::Int8 => "TINYINT".into(),
        ArrowType::Int16 => "SMALLINT".into(),
        ArrowType::Int32 => "INT".into(),
        ArrowType::Int64 => "BIGINT".into(),
        ArrowType::Float32 => "FLOAT".into(),
        ArrowType::Float64 => "DOUBLE".into(),
        t if is_string(t) => "STRING".into(),
        ArrowType::Binary | ArrowType::LargeBinary => "BINARY".into(),
        ArrowType::Date32 => "DATE".into(),
        ArrowType::Timestamp(..) => "TIMESTAMP".into(),
        ArrowType::List(f) | ArrowType::LargeList(f) => {
            format!("ARRAY<{}>", type_name(f.data_type()))
        }
        ArrowType::Map(..) => match map_types(t) {
            Some((k, v)) => format!("MAP<{},{}>", type_name(&k), type_name(&v)),
            None => "MAP".into(),
        },
        ArrowType::Struct(fields) => {
            let fields: Vec<String> = fields
                .iter()
                .map(|f| format!("{}:{}", f.name(), type_name(f.data_type())))
                .collect();
            format!("STRUCT<{}>", fields.join(","))
        }
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ArrowType::*;

    #[test]
    fn spark_coercion_rules() {
        assert_eq!(common_type(&[Int32, Int64, Null]), Some(Int64));
        assert_eq!(common_type(&[Int32, Utf8]), Some(Utf8));
        assert_eq!(common_type(&[Boolean, Utf8]), None);
        assert_eq!(common_type(&[Int64, Float32]), Some(Float32));
        assert_eq!(common_type(&[]), Some(Null));
        assert_eq!(common_type_without_string_promotion(&[Int32, Utf8]), None);
        assert_eq!(comparison_type(&Utf8, &Int32), Some(Int32));
        assert_eq!(comparison_type(&Boolean, &Utf8), Some(Boolean));
        assert_eq!(comparison_type(&Boolean, &Int32), None);
        assert_eq!(
            comparison_type(&Date32, &Timestamp(TimeUnit::Millisecond, None)),
            Some(timestamp_type())
        );
        assert_eq!(
            common_type(&[list_type(Int32), list_type(Int64)]),
            Some(list_type(Int64))
        );
    }
}
