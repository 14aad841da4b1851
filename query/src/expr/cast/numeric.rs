//! Numeric to numeric conversions as the JVM performs them (`Cast.castToInt` & co., non-ANSI).

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, Float64Array};
use arrow::datatypes::{
    DataType as ArrowType, Float32Type, Float64Type, Int16Type, Int32Type, Int64Type, Int8Type,
};

use super::arrow_cast;
use crate::expr::coerce::{is_integral, type_name};

/// Numeric to numeric, the JVM's way: integers widen exactly or drop bits when narrowed;
/// floating point to integers truncates toward zero and saturates (NaN → 0) at INT or BIGINT,
/// and TINYINT/SMALLINT take the low bits of that INT; to floating point rounds to nearest.
pub fn numeric(array: &ArrayRef, to: &ArrowType) -> Result<ArrayRef, String> {
    let from = array.data_type();
    if from == to {
        return Ok(array.clone());
    }
    if is_integral(from) {
        let wide = arrow_cast(array, &ArrowType::Int64)?;
        let wide = wide.as_primitive::<Int64Type>();
        return Ok(match to {
            ArrowType::Int8 => Arc::new(wide.unary::<_, Int8Type>(|v| v as i8)),
            ArrowType::Int16 => Arc::new(wide.unary::<_, Int16Type>(|v| v as i16)),
            ArrowType::Int32 => Arc::new(wide.unary::<_, Int32Type>(|v| v as i32)),
            ArrowType::Int64 => Arc::new(wide.clone()),
            ArrowType::Float32 => Arc::new(wide.unary::<_, Float32Type>(|v| v as f32)),
            ArrowType::Float64 => Arc::new(wide.unary::<_, Float64Type>(|v| v as f64)),
            other => return Err(format!("cannot cast to {}", type_name(other))),
        });
    }
    let wide: Float64Array = match from {
        ArrowType::Float32 => array.as_primitive::<Float32Type>().unary(f64::from),
        ArrowType::Float64 => array.as_primitive::<Float64Type>().clone(),
        other => return Err(format!("{} is not a number", type_name(other))),
    };
    Ok(match to {
        ArrowType::Int8 => Arc::new(wide.unary::<_, Int8Type>(|v| v as i32 as i8)),
        ArrowType::Int16 => Arc::new(wide.unary::<_, Int16Type>(|v| v as i32 as i16)),
        ArrowType::Int32 => Arc::new(wide.unary::<_, Int32Type>(|v| v as i32)),
        ArrowType::Int64 => Arc::new(wide.unary::<_, Int64Type>(|v| v as i64)),
        ArrowType::Float32 => Arc::new(wide.unary::<_, Float32Type>(|v| v as f32)),
        ArrowType::Float64 => Arc::new(wide),
        other => return Err(format!("cannot cast to {}", type_name(other))),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::expr::cast::spark_cast;
    use arrow::array::Int64Array;

    fn cast(array: ArrayRef, to: ArrowType) -> ArrayRef {
        spark_cast(&array, &to).expect("castable")
    }

    #[test]
    fn jvm_numeric_conversions() {
        let doubles: ArrayRef = Arc::new(Float64Array::from(vec![
            1.9,
            -1.9,
            f64::NAN,
            1e10,
            -1e10,
            70000.0,
        ]));
        let ints = cast(doubles.clone(), ArrowType::Int32);
        let ints: Vec<i32> = ints.as_primitive::<Int32Type>().values().to_vec();
        assert_eq!(ints, [1, -1, 0, i32::MAX, i32::MIN, 70000]);
        let shorts = cast(doubles, ArrowType::Int16);
        let shorts: Vec<i16> = shorts.as_primitive::<Int16Type>().values().to_vec();
        assert_eq!(shorts, [1, -1, 0, -1, 0, 4464]);
        let longs: ArrayRef = Arc::new(Int64Array::from(vec![4_294_967_297, 128]));
        let ints = cast(longs.clone(), ArrowType::Int32);
        assert_eq!(ints.as_primitive::<Int32Type>().values()[0], 1);
        let bytes = cast(longs, ArrowType::Int8);
        assert_eq!(bytes.as_primitive::<Int8Type>().values()[1], -128);
        let shorts: ArrayRef = Arc::new(arrow::array::Int16Array::from(vec![7]));
        assert_eq!(cast(shorts, ArrowType::Int64).len(), 1);
    }
}
