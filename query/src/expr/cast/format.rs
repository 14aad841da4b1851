//! `CAST(x AS STRING)`: Spark's text for each supported type.

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, StringArray};
use arrow::datatypes::{
    DataType as ArrowType, Date32Type, Float32Type, Float64Type, Int64Type,
    TimestampMicrosecondType,
};

use super::datetime::{format_date, format_timestamp};
use super::{arrow_cast, numeric};
use crate::expr::coerce::{is_integral, is_string, type_name};
use crate::value::{jvm_double_string, jvm_float_string};

/// The values of `array` as Spark prints them (timestamps already in microseconds).
pub fn to_string(array: &ArrayRef) -> Result<ArrayRef, String> {
    let text: StringArray = match array.data_type() {
        t if is_string(t) => return arrow_cast(array, &ArrowType::Utf8),
        ArrowType::Boolean => array
            .as_boolean()
            .iter()
            .map(|v| v.map(|b| if b { "true" } else { "false" }))
            .collect(),
        t if is_integral(t) => {
            let wide = numeric(array, &ArrowType::Int64)?;
            wide.as_primitive::<Int64Type>()
                .iter()
                .map(|v| v.map(|v| v.to_string()))
                .collect()
        }
        ArrowType::Float32 => array
            .as_primitive::<Float32Type>()
            .iter()
            .map(|v| v.map(jvm_float_string))
            .collect(),
        ArrowType::Float64 => array
            .as_primitive::<Float64Type>()
            .iter()
            .map(|v| v.map(jvm_double_string))
            .collect(),
        ArrowType::Date32 => array
            .as_primitive::<Date32Type>()
            .iter()
            .map(|v| v.map(format_date))
            .collect(),
        ArrowType::Timestamp(..) => array
            .as_primitive_opt::<TimestampMicrosecondType>()
            .ok_or("expected a microsecond timestamp")?
            .iter()
            .map(|v| v.map(format_timestamp))
            .collect(),
        // Spark keeps the bytes; invalid UTF-8 becomes U+FFFD here.
        ArrowType::Binary => array
            .as_binary::<i32>()
            .iter()
            .map(|v| v.map(|b| String::from_utf8_lossy(b).into_owned()))
            .collect(),
        ArrowType::LargeBinary => array
            .as_binary::<i64>()
            .iter()
            .map(|v| v.map(|b| String::from_utf8_lossy(b).into_owned()))
            .collect(),
        other => return Err(format!("cannot cast {} to STRING", type_name(other))),
    };
    debug_assert_eq!(text.len(), array.len());
    Ok(Arc::new(text))
}
