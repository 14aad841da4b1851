//! Writing [`Value`]s back into Arrow columns (the inverse of [`super::value_at`]), for output
//! rows computed value by value: fetch responses and backfill feature columns.

use std::sync::Arc;

use arrow::array::{
    make_builder, ArrayBuilder, ArrayRef, BinaryBuilder, BooleanBuilder, Float32Builder,
    Float64Builder, Int16Builder, Int32Builder, Int64Builder, Int8Builder, ListBuilder, MapBuilder,
    StringBuilder, StructBuilder,
};
use arrow::datatypes::DataType as ArrowType;
use arrow::error::ArrowError;

use super::Value;

/// A column of `data_type` holding `values`; a value of another kind than the type is an error.
pub fn values_to_array(values: &[Value], data_type: &ArrowType) -> Result<ArrayRef, ArrowError> {
    let mut builder = make_builder(data_type, values.len());
    for value in values {
        append(builder.as_mut(), data_type, value)?;
    }
    Ok(Arc::new(builder.finish()))
}

fn mismatch(data_type: &ArrowType, value: &Value) -> ArrowError {
    ArrowError::InvalidArgumentError(format!("cannot write {value:?} into a {data_type} column"))
}

fn downcast<'a, B: ArrayBuilder>(
    builder: &'a mut dyn ArrayBuilder,
    data_type: &ArrowType,
) -> Result<&'a mut B, ArrowError> {
    builder
        .as_any_mut()
        .downcast_mut::<B>()
        .ok_or_else(|| ArrowError::InvalidArgumentError(format!("no builder for {data_type}")))
}

fn append(
    builder: &mut dyn ArrayBuilder,
    data_type: &ArrowType,
    value: &Value,
) -> Result<(), ArrowError> {
    macro_rules! primitive {
        ($builder:ty, $get:expr) => {{
            let b = downcast::<$builder>(builder, data_type)?;
            match value {
                Value::Null => b.append_null(),
                v => b.append_value($get(v).ok_or_else(|| mismatch(data_type, v))?),
            }
        }};
    }
    match data_type {
        ArrowType::Null => match value {
            Value::Null => downcast::<arrow::array::NullBuilder>(builder, data_type)?.append_null(),
            v => return Err(mismatch(data_type, v)),
        },
        ArrowType::Boolean => primitive!(BooleanBuilder, |v: &Value| match v {
            Value::Boolean(b) => Some(*b),
            _ => None,
        }),
        ArrowType::Int8 => primitive!(Int8Builder, |v: &Value| v.as_i64().map(|x| x as i8)),
        ArrowType::Int16 => primitive!(Int16Builder, |v: &Value| v.as_i64().map(|x| x as i16)),
        ArrowType::Int32 => primitive!(Int32Builder, |v: &Value| v.as_i64().map(|x| x as i32)),
        ArrowType::Int64 => primitive!(Int64Builder, |v: &Value| v.as_i64()),
        ArrowType::Float32 => primitive!(Float32Builder, |v: &Value| v.as_f64().map(|x| x as f32)),
        ArrowType::Float64 => primitive!(Float64Builder, |v: &Value| v.as_f64()),
        ArrowType::Utf8 => primitive!(StringBuilder, |v: &Value| v.as_str().map(str::to_owned)),
        ArrowType::Binary => primitive!(BinaryBuilder, |v: &Value| match v {
            Value::Binary(b) => Some(b.clone()),
            _ => None,
        }),
        ArrowType::List(field) => {
            let b = downcast::<ListBuilder<Box<dyn ArrayBuilder>>>(builder, data_type)?;
            match value {
                Value::Null => b.append_null(),
                Value::List(items) => {
                    for item in items {
                        append(b.values().as_mut(), field.data_type(), item)?;
                    }
                    b.append(true);
                }
                v => return Err(mismatch(data_type, v)),
            }
        }
        ArrowType::Map(field, _) => {
            let (key_type, value_type) = match field.data_type() {
                ArrowType::Struct(fields) if fields.len() == 2 => {
                    (fields[0].data_type().clone(), fields[1].data_type().clone())
                }
                _ => return Err(mismatch(data_type, value)),
            };
            let b = downcast::<MapBuilder<Box<dyn ArrayBuilder>, Box<dyn ArrayBuilder>>>(
                builder, data_type,
            )?;
            match value {
                Value::Null => b.append(false)?,
                Value::Map(entries) => {
                    for (k, v) in entries {
                        append(b.keys().as_mut(), &key_type, k)?;
                        append(b.values().as_mut(), &value_type, v)?;
                    }
                    b.append(true)?;
                }
                v => return Err(mismatch(data_type, v)),
            }
        }
        ArrowType::Struct(fields) => {
            let b = downcast::<StructBuilder>(builder, data_type)?;
            let items: Vec<Value> = match value {
                Value::Null => vec![Value::Null; fields.len()],
                Value::Struct(items) if items.len() == fields.len() => items.clone(),
                v => return Err(mismatch(data_type, v)),
            };
            for (i, (field, item)) in fields.iter().zip(&items).enumerate() {
                let child = b.field_builders_mut()[i].as_mut();
                append(child, field.data_type(), item)?;
            }
            b.append(!value.is_null());
        }
        other => {
            return Err(ArrowError::NotYetImplemented(format!(
                "writing values into {other} columns"
            )))
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use arrow::datatypes::{DataType as ArrowType, Field};

    use super::*;
    use crate::value::value_at;

    #[test]
    fn values_round_trip_through_arrow() {
        let cases: Vec<(ArrowType, Vec<Value>)> = vec![
            (ArrowType::Int64, vec![Value::Long(3), Value::Null]),
            (ArrowType::Float32, vec![Value::Double(0.5), Value::Null]),
            (
                ArrowType::Utf8,
                vec![Value::String("a".into()), Value::Null],
            ),
            (
                ArrowType::List(Arc::new(Field::new("item", ArrowType::Float64, true))),
                vec![
                    Value::List(vec![Value::Double(1.0), Value::Null]),
                    Value::Null,
                ],
            ),
            (
                crate::DataType::Map(
                    Box::new(crate::DataType::String),
                    Box::new(crate::DataType::Long),
                )
                .to_arrow(),
                vec![
                    Value::map(vec![(Value::String("x".into()), Value::Long(2))]),
                    Value::Null,
                ],
            ),
        ];
        for (data_type, values) in cases {
            let array = values_to_array(&values, &data_type).unwrap();
            assert_eq!(array.data_type(), &data_type);
            let back: Vec<Value> = (0..array.len())
                .map(|r| value_at(&array, r).unwrap())
                .collect();
            assert_eq!(back, values, "{data_type}");
        }
    }
}
