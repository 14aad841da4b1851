//! Reading one Arrow cell as a [`Value`]: the general (slow) path, used for whole-value
//! aggregations (FIRST, LAST, FIRST_K, LAST_K over nested types) and by tests.

use arrow::array::{
    Array, AsArray, BinaryViewArray, GenericBinaryArray, GenericListArray, GenericStringArray,
    MapArray, StringViewArray, StructArray,
};
use arrow::datatypes::{
    DataType as ArrowType, Float32Type, Float64Type, Int16Type, Int32Type, Int64Type, Int8Type,
};

use super::Value;

/// The value at `row`, or `None` if the column's Arrow type has no Chronon counterpart.
pub fn value_at(array: &dyn Array, row: usize) -> Option<Value> {
    if array.is_null(row) {
        return Some(Value::Null);
    }
    Some(match array.data_type() {
        ArrowType::Boolean => Value::Boolean(array.as_boolean().value(row)),
        ArrowType::Int8 => Value::Long(array.as_primitive::<Int8Type>().value(row).into()),
        ArrowType::Int16 => Value::Long(array.as_primitive::<Int16Type>().value(row).into()),
        ArrowType::Int32 => Value::Long(array.as_primitive::<Int32Type>().value(row).into()),
        ArrowType::Int64 => Value::Long(array.as_primitive::<Int64Type>().value(row)),
        ArrowType::Float32 => Value::Double(array.as_primitive::<Float32Type>().value(row).into()),
        ArrowType::Float64 => Value::Double(array.as_primitive::<Float64Type>().value(row)),
        ArrowType::Utf8 => Value::String(string::<i32>(array, row)?),
        ArrowType::LargeUtf8 => Value::String(string::<i64>(array, row)?),
        ArrowType::Utf8View => Value::String(
            array
                .as_any()
                .downcast_ref::<StringViewArray>()?
                .value(row)
                .to_owned(),
        ),
        ArrowType::Binary => Value::Binary(binary::<i32>(array, row)?),
        ArrowType::LargeBinary => Value::Binary(binary::<i64>(array, row)?),
        ArrowType::BinaryView => Value::Binary(
            array
                .as_any()
                .downcast_ref::<BinaryViewArray>()?
                .value(row)
                .to_vec(),
        ),
        ArrowType::List(_) => list(array.as_any().downcast_ref::<GenericListArray<i32>>()?, row)?,
        ArrowType::LargeList(_) => {
            list(array.as_any().downcast_ref::<GenericListArray<i64>>()?, row)?
        }
        ArrowType::Map(_, _) => {
            let map = array.as_any().downcast_ref::<MapArray>()?;
            let entries = map.value(row);
            let (keys, values) = (entries.column(0), entries.column(1));
            let mut out = Vec::with_capacity(entries.len());
            for i in 0..entries.len() {
                out.push((value_at(keys, i)?, value_at(values, i)?));
            }
            Value::map(out)
        }
        ArrowType::Struct(_) => {
            let s = array.as_any().downcast_ref::<StructArray>()?;
            let fields = s.columns().iter().map(|c| value_at(c, row));
            Value::Struct(fields.collect::<Option<Vec<_>>>()?)
        }
        _ => return None,
    })
}

fn string<O: arrow::array::OffsetSizeTrait>(array: &dyn Array, row: usize) -> Option<String> {
    let a = array.as_any().downcast_ref::<GenericStringArray<O>>()?;
    Some(a.value(row).to_owned())
}

fn binary<O: arrow::array::OffsetSizeTrait>(array: &dyn Array, row: usize) -> Option<Vec<u8>> {
    let a = array.as_any().downcast_ref::<GenericBinaryArray<O>>()?;
    Some(a.value(row).to_vec())
}

fn list<O: arrow::array::OffsetSizeTrait>(a: &GenericListArray<O>, row: usize) -> Option<Value> {
    let items = a.value(row);
    let values = (0..items.len()).map(|i| value_at(&items, i));
    Some(Value::List(values.collect::<Option<Vec<_>>>()?))
}
