//! Spark's implicit type coercion for the supported types.

use arrow::datatypes::DataType as ArrowType;

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

pub fn is_string(t: &ArrowType) -> bool {
    matches!(
        t,
        ArrowType::Utf8 | ArrowType::LargeUtf8 | ArrowType::Utf8View
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

/// The type both sides of a comparison are cast to (Spark 3): numbers widen; a string compared
/// with another atomic type is cast to that type; NULL takes the other side's type.
pub fn comparison_type(a: &ArrowType, b: &ArrowType) -> Option<ArrowType> {
    if a == b {
        return Some(a.clone());
    }
    match (a, b) {
        (ArrowType::Null, t) | (t, ArrowType::Null) => Some(t.clone()),
        (s, t) | (t, s) if is_string(s) && !is_string(t) && is_atomic(t) => Some(t.clone()),
        (s, t) if is_string(s) && is_string(t) => Some(ArrowType::Utf8),
        _ => wider_numeric(a, b),
    }
}

#[expect(dead_code, reason = "used by CASE, COALESCE and IN, which bind next")]
/// The common type of values that meet in one result (CASE branches, COALESCE, IN lists, IF).
pub fn common_type(types: &[ArrowType]) -> Option<ArrowType> {
    let mut out = ArrowType::Null;
    for t in types {
        out = match (&out, t) {
            (ArrowType::Null, t) => t.clone(),
            (o, ArrowType::Null) => o.clone(),
            (o, t) if o == t => o.clone(),
            (o, t) if is_string(o) && is_string(t) => ArrowType::Utf8,
            (o, t) => wider_numeric(o, t)?,
        };
    }
    Some(out)
}

fn is_atomic(t: &ArrowType) -> bool {
    is_numeric(t)
        || matches!(
            t,
            ArrowType::Boolean | ArrowType::Date32 | ArrowType::Timestamp(..)
        )
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
        ArrowType::Map(entries, _) => match entries.data_type() {
            ArrowType::Struct(fields) if fields.len() == 2 => format!(
                "MAP<{},{}>",
                type_name(fields[0].data_type()),
                type_name(fields[1].data_type())
            ),
            _ => "MAP".into(),
        },
        other => other.to_string(),
    }
}
