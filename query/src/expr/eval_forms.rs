//! Vectorised evaluation of the special forms: IN, CASE, LIKE, `array(...)`, `map(...)`,
//! `array[i]` and `map[k]`.

use std::sync::Arc;

use arrow::array::{
    new_empty_array, new_null_array, Array, ArrayRef, AsArray, BooleanArray, ListArray, MapArray,
    RecordBatch, StructArray, UInt64Array,
};
use arrow::buffer::OffsetBuffer;
use arrow::compute::kernels::{boolean, cmp, zip::zip};
use arrow::compute::{interleave, take};
use arrow::datatypes::{DataType as ArrowType, Field, Int64Type};

use super::bound::{Bound, Columnar, LikeSpec};
use super::eval::{as_boolean, normalize_floats};
use super::like::{like_fixed, like_per_row, Case};

fn arrow_err(e: arrow::error::ArrowError) -> String {
    e.to_string()
}

/// `input IN (list)` by Kleene OR of equalities: true if any is true, else null if any is null.
pub fn in_list(input: &Bound, list: &[Bound], batch: &RecordBatch) -> Result<Columnar, String> {
    let value = normalize_floats(&input.evaluate(batch)?)?;
    let mut found: Option<BooleanArray> = None;
    for item in list {
        let item = normalize_floats(&item.evaluate(batch)?)?;
        let equal = cmp::eq(&value, &item).map_err(arrow_err)?;
        found = Some(match found {
            None => equal,
            Some(found) => boolean::or_kleene(&found, &equal).map_err(arrow_err)?,
        });
    }
    let found = found.unwrap_or_else(|| BooleanArray::from(vec![false; batch.num_rows()]));
    Ok(Columnar::Array(Arc::new(found)))
}

/// CASE: the value of the first branch whose condition is true (null counts as false), else
/// the ELSE value or null. Branches are laid over the result from the last to the first.
pub fn case(
    branches: &[(Bound, Bound)],
    otherwise: Option<&Bound>,
    data_type: &ArrowType,
    batch: &RecordBatch,
) -> Result<Columnar, String> {
    let rows = batch.num_rows();
    let mut out = match otherwise {
        Some(e) => e.evaluate(batch)?,
        None => new_null_array(data_type, rows),
    };
    if *data_type == ArrowType::Null {
        return Ok(Columnar::Array(out));
    }
    for (condition, value) in branches.iter().rev() {
        let condition = condition.evaluate(batch)?;
        let condition = as_boolean(&condition)?;
        // Null conditions count as false.
        let mask = match condition.nulls() {
            Some(nulls) => BooleanArray::new(condition.values() & nulls.inner(), None),
            None => condition.clone(),
        };
        let value = value.evaluate(batch)?;
        out = zip(&mask, &value, &out).map_err(arrow_err)?;
    }
    Ok(Columnar::Array(out))
}

/// `input [I]LIKE pattern`.
pub fn like(
    input: &Bound,
    pattern: &LikeSpec,
    case: Case,
    batch: &RecordBatch,
) -> Result<Columnar, String> {
    let input = input.columnar(batch)?;
    match pattern {
        LikeSpec::Fixed(pattern) => input.map(|a| Ok(like_fixed(a, pattern, case))),
        LikeSpec::PerRow { pattern, escape } => {
            let rows = batch.num_rows();
            let (input, patterns) = (input.into_array(rows)?, pattern.evaluate(batch)?);
            Ok(Columnar::Array(like_per_row(
                &input, &patterns, *escape, case,
            )))
        }
    }
}

/// Interleaves `columns` (each `rows` long) row by row: row 0 of each, then row 1 of each, ...
fn interleave_rows(
    columns: &[ArrayRef],
    element_type: &ArrowType,
    rows: usize,
) -> Result<ArrayRef, String> {
    if columns.is_empty() {
        return Ok(new_empty_array(element_type));
    }
    let arrays: Vec<&dyn Array> = columns.iter().map(|a| a.as_ref()).collect();
    let indices: Vec<(usize, usize)> = (0..rows)
        .flat_map(|row| (0..columns.len()).map(move |column| (column, row)))
        .collect();
    interleave(&arrays, &indices).map_err(arrow_err)
}

/// Offsets of `rows` lists of `width` elements each.
fn fixed_offsets(rows: usize, width: usize) -> Result<OffsetBuffer<i32>, String> {
    let lengths = std::iter::repeat_n(width, rows);
    let total = rows.checked_mul(width).ok_or("array too large")?;
    i32::try_from(total).map_err(|_| "array too large".to_string())?;
    Ok(OffsetBuffer::from_lengths(lengths))
}

/// `array(e1, e2, ...)`: one list per row, never null; null elements stay.
pub fn make_array(
    elements: &[Bound],
    element_type: &ArrowType,
    batch: &RecordBatch,
) -> Result<Columnar, String> {
    let rows = batch.num_rows();
    let columns = elements
        .iter()
        .map(|e| e.evaluate(batch))
        .collect::<Result<Vec<_>, _>>()?;
    let values = interleave_rows(&columns, element_type, rows)?;
    let field = Arc::new(Field::new("item", element_type.clone(), true));
    let list = ListArray::try_new(field, fixed_offsets(rows, columns.len())?, values, None)
        .map_err(arrow_err)?;
    Ok(Columnar::Array(Arc::new(list)))
}

/// `map(k1, v1, ...)`: one map per row, never null.
pub fn make_map(
    keys: &[Bound],
    values: &[Bound],
    data_type: &ArrowType,
    batch: &RecordBatch,
) -> Result<Columnar, String> {
    let rows = batch.num_rows();
    let ArrowType::Map(entries_field, _) = data_type else {
        return Err(format!("internal: map of type {data_type}"));
    };
    let ArrowType::Struct(fields) = entries_field.data_type() else {
        return Err(format!("internal: map of type {data_type}"));
    };
    let (Some(key_field), Some(value_field)) = (fields.first(), fields.get(1)) else {
        return Err(format!("internal: map of type {data_type}"));
    };
    let evaluate = |bounds: &[Bound]| -> Result<Vec<ArrayRef>, String> {
        bounds.iter().map(|b| b.evaluate(batch)).collect()
    };
    let key_column = interleave_rows(&evaluate(keys)?, key_field.data_type(), rows)?;
    let value_column = interleave_rows(&evaluate(values)?, value_field.data_type(), rows)?;
    let entries = StructArray::try_new(fields.clone(), vec![key_column, value_column], None)
        .map_err(arrow_err)?;
    let offsets = fixed_offsets(rows, keys.len())?;
    let map = MapArray::try_new(entries_field.clone(), offsets, entries, None, false)
        .map_err(arrow_err)?;
    Ok(Columnar::Array(Arc::new(map)))
}

/// `array[index]`: 0-based, the BIGINT index truncated to INT (`intValue()`); an index out of
/// range, a null index or a null array gives null (non-ANSI).
pub fn array_element(array: ArrayRef, index: ArrayRef) -> Result<Columnar, String> {
    let list = array
        .as_list_opt::<i32>()
        .ok_or_else(|| format!("expected an ARRAY, found {}", array.data_type()))?;
    let index = index
        .as_primitive_opt::<Int64Type>()
        .ok_or("expected a BIGINT index")?;
    let offsets = list.value_offsets();
    let positions: UInt64Array = (0..list.len())
        .map(|row| {
            if list.is_null(row) || index.is_null(row) {
                return None;
            }
            let i = index.value(row) as i32;
            let (start, end) = (offsets[row], offsets[row + 1]);
            (i >= 0 && i < end - start).then(|| (start + i) as u64)
        })
        .collect();
    let out = take(list.values().as_ref(), &positions, None).map_err(arrow_err)?;
    Ok(Columnar::Array(out))
}

/// `map[key]`: the value of the first entry whose key equals `key`, else null.
pub fn map_value(map: ArrayRef, key: ArrayRef) -> Result<Columnar, String> {
    let map = map
        .as_map_opt()
        .ok_or_else(|| format!("expected a MAP, found {}", map.data_type()))?;
    let offsets = map.value_offsets();
    // For every entry, the key of its row: compared with the entry's own key in one kernel.
    let entry_rows: UInt64Array = (0..map.len())
        .flat_map(|row| {
            let count = (offsets[row + 1] - offsets[row]).max(0) as usize;
            std::iter::repeat_n(Some(row as u64), count)
        })
        .collect();
    let wanted = normalize_floats(&take(key.as_ref(), &entry_rows, None).map_err(arrow_err)?)?;
    let first = offsets.first().copied().unwrap_or(0).max(0) as usize;
    let keys = map.keys().slice(first, entry_rows.len());
    let matches = cmp::eq(&normalize_floats(&keys)?, &wanted).map_err(arrow_err)?;
    let positions: UInt64Array = (0..map.len())
        .map(|row| {
            if map.is_null(row) {
                return None;
            }
            let (start, end) = (offsets[row] as usize, offsets[row + 1] as usize);
            (start..end)
                .find(|&entry| {
                    let local = entry - first;
                    matches.is_valid(local) && matches.value(local)
                })
                .map(|entry| entry as u64)
        })
        .collect();
    let out = take(map.values().as_ref(), &positions, None).map_err(arrow_err)?;
    Ok(Columnar::Array(out))
}
