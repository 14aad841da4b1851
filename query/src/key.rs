//! Entity keys as bytes: the values of a GroupBy's key columns, cast to the key types
//! (SEMANTICS.md R-ONL-5, R-JOIN-3) and encoded so that equal keys have equal bytes. Segments are
//! sorted by these bytes and tiles are stored under them.
//!
//! ```text
//! key    := column*            one entry per key column, in keyColumns order
//! column := 0x00               null (R-SRC-2: a partially null key is its own group)
//!         | 0x01 u64 BE        integral, the i64 with its sign bit flipped
//!         | 0x02 u64 BE        floating, canonical bits (all NaNs equal)
//!         | 0x03 u32 BE bytes  STRING (UTF-8)
//!         | 0x04 u8            BOOLEAN
//!         | 0x05 u32 BE bytes  BINARY
//! ```

use std::fmt::Write as _;

use arrow::array::{Array, AsArray};
use arrow::datatypes::Int64Type;

use crate::value::{canonical_f64_bits, value_at};
use crate::{DataType, Value};

/// A key value that cannot be cast to its key column's type.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("key {column}: cannot cast {value} to {data_type}")]
pub struct KeyCastError {
    pub column: String,
    pub value: String,
    pub data_type: String,
}

/// The key columns of a GroupBy with their types.
#[derive(Debug, Clone, PartialEq)]
pub struct KeyCodec {
    columns: Vec<(String, DataType)>,
}

impl KeyCodec {
    /// Keys of these types; `None` if a type cannot be a key (lists, maps, structs, dates).
    pub fn new(columns: Vec<(String, DataType)>) -> Option<KeyCodec> {
        let keyable = |t: &DataType| {
            t.is_integral()
                || t.is_floating()
                || matches!(t, DataType::String | DataType::Boolean | DataType::Binary)
        };
        columns
            .iter()
            .all(|(_, t)| keyable(t))
            .then_some(KeyCodec { columns })
    }

    pub fn columns(&self) -> &[(String, DataType)] {
        &self.columns
    }

    /// The bytes of `values` after casting each to its column's type; `Ok(None)` if any value is
    /// null (such a key matches nothing, R-JOIN-4).
    pub fn encode(&self, values: &[Value]) -> Result<Option<Vec<u8>>, KeyCastError> {
        let mut out = Vec::with_capacity(16);
        for ((column, data_type), value) in self.columns.iter().zip(values) {
            if value.is_null() {
                return Ok(None);
            }
            let cast = cast(value, data_type).ok_or_else(|| KeyCastError {
                column: column.clone(),
                value: describe(value),
                data_type: data_type.name(),
            })?;
            push(&cast, &mut out);
        }
        Ok(Some(out))
    }

    /// `values` cast to the key types; `Ok(None)` if any value is null.
    pub fn cast_values(&self, values: &[Value]) -> Result<Option<Vec<Value>>, KeyCastError> {
        let mut out = Vec::with_capacity(values.len());
        for ((column, data_type), value) in self.columns.iter().zip(values) {
            if value.is_null() {
                return Ok(None);
            }
            out.push(cast(value, data_type).ok_or_else(|| KeyCastError {
                column: column.clone(),
                value: describe(value),
                data_type: data_type.name(),
            })?);
        }
        Ok(Some(out))
    }

    /// The bytes of row `row` of `columns` (already of the key types). Nulls are encoded, so rows
    /// with some null keys keep their own group (R-SRC-2).
    pub fn encode_row(&self, columns: &[&dyn Array], row: usize, out: &mut Vec<u8>) {
        out.clear();
        for column in columns {
            push_cell(*column, row, out);
        }
    }
}

/// R-ONL-5: integers widen and floats truncate toward zero into integral keys; numbers widen and
/// strings parse into floating keys; anything prints into STRING keys.
fn cast(value: &Value, data_type: &DataType) -> Option<Value> {
    if data_type.is_integral() {
        return match value {
            Value::Long(v) => Some(Value::Long(*v)),
            Value::Double(v) if v.is_finite() => Some(Value::Long(v.trunc() as i64)),
            Value::String(s) => s.trim().parse::<i64>().ok().map(Value::Long),
            _ => None,
        };
    }
    if data_type.is_floating() {
        return match value {
            Value::Long(v) => Some(Value::Double(*v as f64)),
            Value::Double(v) => Some(Value::Double(*v)),
            Value::String(s) => s.trim().parse::<f64>().ok().map(Value::Double),
            _ => None,
        };
    }
    match (data_type, value) {
        (DataType::String, Value::String(_)) => Some(value.clone()),
        (DataType::String, Value::Long(v)) => Some(Value::String(v.to_string())),
        (DataType::String, Value::Double(v)) => {
            Some(Value::String(crate::value::jvm_double_string(*v)))
        }
        (DataType::String, Value::Boolean(v)) => Some(Value::String(v.to_string())),
        (DataType::Boolean, Value::Boolean(_)) | (DataType::Binary, Value::Binary(_)) => {
            Some(value.clone())
        }
        _ => None,
    }
}

/// Pushes row `row` of `column` as [`push`] pushes its value, without building the value for
/// the common key columns (strings and longs).
fn push_cell(column: &dyn Array, row: usize, out: &mut Vec<u8>) {
    if column.is_null(row) {
        out.push(0);
        return;
    }
    if let Some(strings) = column.as_string_opt::<i32>() {
        push_bytes(3, strings.value(row).as_bytes(), out);
    } else if let Some(longs) = column.as_primitive_opt::<Int64Type>() {
        push_long(longs.value(row), out);
    } else {
        push(&value_at(column, row).unwrap_or(Value::Null), out);
    }
}

fn push_long(v: i64, out: &mut Vec<u8>) {
    out.push(1);
    out.extend_from_slice(&((v as u64) ^ (1 << 63)).to_be_bytes());
}

fn push_bytes(tag: u8, bytes: &[u8], out: &mut Vec<u8>) {
    out.push(tag);
    out.extend_from_slice(&(bytes.len() as u32).to_be_bytes());
    out.extend_from_slice(bytes);
}

fn push(value: &Value, out: &mut Vec<u8>) {
    match value {
        Value::Null => out.push(0),
        Value::Long(v) => push_long(*v, out),
        Value::Double(v) => {
            out.push(2);
            out.extend_from_slice(&canonical_f64_bits(*v).to_be_bytes());
        }
        Value::String(s) => push_bytes(3, s.as_bytes(), out),
        Value::Boolean(b) => out.extend_from_slice(&[4, u8::from(*b)]),
        Value::Binary(b) => push_bytes(5, b, out),
        // Not key types (rejected by `KeyCodec::new`); a distinct tag keeps the bytes unambiguous.
        Value::List(_) | Value::Map(_) | Value::Struct(_) => out.push(0xff),
    }
}

fn describe(value: &Value) -> String {
    match value {
        Value::String(s) => format!("{s:?}"),
        Value::Long(v) => v.to_string(),
        Value::Double(v) => v.to_string(),
        Value::Boolean(v) => v.to_string(),
        other => format!("{other:?}"),
    }
}

/// Key bytes in hex, for messages.
pub fn hex(key: &[u8]) -> String {
    let mut s = String::with_capacity(2 + key.len() * 2);
    s.push_str("0x");
    for b in key {
        let _ = write!(s, "{b:02x}");
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn codec(t: DataType) -> KeyCodec {
        KeyCodec::new(vec![("k".into(), t)]).unwrap()
    }

    /// E-25: an online LONG key "5" casts to 5; "abc" is an error.
    #[test]
    fn e25_string_casts_to_long_key() {
        let c = codec(DataType::Long);
        assert_eq!(
            c.encode(&[Value::String("5".into())]).unwrap(),
            c.encode(&[Value::Long(5)]).unwrap()
        );
        assert_eq!(
            c.encode(&[Value::Double(5.9)]).unwrap(),
            c.encode(&[Value::Long(5)]).unwrap()
        );
        let err = c.encode(&[Value::String("abc".into())]).unwrap_err();
        assert_eq!(err.to_string(), "key k: cannot cast \"abc\" to LONG");
    }

    #[test]
    fn r_onl_5_string_and_double_keys() {
        let s = codec(DataType::String);
        assert_eq!(
            s.encode(&[Value::Long(7)]).unwrap(),
            s.encode(&[Value::String("7".into())]).unwrap()
        );
        let d = codec(DataType::Double);
        assert_eq!(
            d.encode(&[Value::String("2.5".into())]).unwrap(),
            d.encode(&[Value::Double(2.5)]).unwrap()
        );
    }

    #[test]
    fn null_keys_match_nothing() {
        assert_eq!(codec(DataType::Long).encode(&[Value::Null]).unwrap(), None);
    }

    #[test]
    fn row_bytes_equal_value_bytes() {
        let array = arrow::array::Int32Array::from(vec![Some(3), None]);
        let c = codec(DataType::Int);
        let mut out = Vec::new();
        c.encode_row(&[&array], 0, &mut out);
        assert_eq!(Some(out.clone()), c.encode(&[Value::Long(3)]).unwrap());
        c.encode_row(&[&array], 1, &mut out);
        assert_eq!(out, vec![0]);
    }

    /// The columns read without building values (strings, longs) give the values' bytes.
    #[test]
    fn string_and_long_rows_equal_value_bytes() {
        let strings = arrow::array::StringArray::from(vec![Some("u12"), None, Some("")]);
        let longs = arrow::array::Int64Array::from(vec![Some(-5), Some(i64::MAX), None]);
        let c = KeyCodec::new(vec![
            ("s".into(), DataType::String),
            ("l".into(), DataType::Long),
        ])
        .unwrap();
        let mut out = Vec::new();
        for row in 0..3 {
            c.encode_row(&[&strings, &longs], row, &mut out);
            let mut expected = Vec::new();
            for column in [&strings as &dyn Array, &longs] {
                push(&value_at(column, row).unwrap_or(Value::Null), &mut expected);
            }
            assert_eq!(out, expected, "row {row}");
        }
        c.encode_row(&[&strings, &longs], 0, &mut out);
        let values = [Value::String("u12".into()), Value::Long(-5)];
        assert_eq!(Some(out), c.encode(&values).unwrap());
    }

    #[test]
    fn nested_types_are_not_keys() {
        assert!(
            KeyCodec::new(vec![("k".into(), DataType::List(Box::new(DataType::Long)))]).is_none()
        );
    }
}
