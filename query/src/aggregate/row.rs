//! [`RowAggregator`]: every aggregation part of one GroupBy, folding Arrow batches column-wise
//! into one IR vector per (key, tile), merging IR vectors, and finalizing them into the
//! GroupBy's named output columns.

use std::ops::Range;

use arrow::array::{Array, BooleanArray, RecordBatch};
use arrow::datatypes::{Field, Schema};

use super::codec::{self, MergeEncodedError};
use super::input::ColumnReader;
use super::part::{AggregationPart, PartArgs, Shape};
use super::{AggregationError, DecodeError, Ir};
use crate::config::{GroupBy, Window};
use crate::{DataType, Value};

/// An output column: which part it finalizes and over which window.
#[derive(Debug, Clone, PartialEq)]
pub struct AggregateColumn {
    pub name: String,
    /// Index into [`RowAggregator::parts`].
    pub part: usize,
    /// Index into [`RowAggregator::windows`].
    pub window: usize,
    pub data_type: DataType,
}

/// All aggregation parts of a GroupBy: one part per (aggregation, bucket).
#[derive(Debug, Clone)]
pub struct RowAggregator {
    parts: Vec<AggregationPart>,
    /// Column indexes into the input schema: (input, bucket) per part.
    inputs: Vec<(usize, Option<usize>)>,
    windows: Vec<Option<Window>>,
    columns: Vec<AggregateColumn>,
}

impl RowAggregator {
    /// Sets up the aggregations of `group_by` over rows of `schema` (the source query's output).
    pub fn new(group_by: &GroupBy, schema: &Schema) -> Result<Self, AggregationError> {
        if group_by.aggregations().is_empty() {
            return Err(AggregationError::NoAggregations(group_by.name().to_owned()));
        }
        let column = |name: &str| -> Result<(usize, DataType), AggregationError> {
            let index = schema
                .index_of(name)
                .map_err(|_| AggregationError::MissingColumn {
                    column: name.to_owned(),
                })?;
            let arrow_type = schema.field(index).data_type();
            let data_type = DataType::from_arrow(arrow_type).ok_or_else(|| {
                AggregationError::UnsupportedArrowType {
                    column: name.to_owned(),
                    data_type: arrow_type.to_string(),
                }
            })?;
            Ok((index, data_type))
        };
        let in_config = |index: usize, source: AggregationError| AggregationError::InConfig {
            config: group_by.name().to_owned(),
            path: format!("aggregations[{index}]"),
            source: Box::new(source),
        };

        let mut parts = Vec::new();
        let mut inputs = Vec::new();
        let mut part_keys: Vec<(usize, Option<String>)> = Vec::new();
        for (index, aggregation) in group_by.aggregations().iter().enumerate() {
            let (input, input_type) =
                column(&aggregation.input_column).map_err(|e| in_config(index, e))?;
            let args = PartArgs {
                k: aggregation.k().ok().flatten(),
                percentiles: aggregation.percentiles(),
                element_wise: aggregation.is_element_wise(),
            };
            let buckets: Vec<Option<&String>> = if aggregation.buckets().is_empty() {
                vec![None]
            } else {
                aggregation.buckets().iter().map(Some).collect()
            };
            for bucket in buckets {
                let bucket_column = match bucket {
                    Some(name) => Some(column(name).map_err(|e| in_config(index, e))?),
                    None => None,
                };
                let part = AggregationPart::new(
                    aggregation.operation,
                    &aggregation.input_column,
                    &input_type,
                    bucket
                        .map(String::as_str)
                        .zip(bucket_column.as_ref().map(|(_, t)| t)),
                    &args,
                )
                .map_err(|e| in_config(index, e))?;
                parts.push(part);
                inputs.push((input, bucket_column.map(|(i, _)| i)));
                part_keys.push((index, bucket.cloned()));
            }
        }

        let mut windows: Vec<Option<Window>> = Vec::new();
        let mut columns = Vec::new();
        for output in group_by.output_columns() {
            let key = (
                output.aggregation.unwrap_or(usize::MAX),
                output.bucket.clone(),
            );
            let Some(part) = part_keys.iter().position(|k| *k == key) else {
                continue;
            };
            let window = match windows.iter().position(|w| *w == output.window) {
                Some(i) => i,
                None => {
                    windows.push(output.window);
                    windows.len() - 1
                }
            };
            let data_type = parts[part].output_type().clone();
            columns.push(AggregateColumn {
                name: output.name,
                part,
                window,
                data_type,
            });
        }
        Ok(RowAggregator {
            parts,
            inputs,
            windows,
            columns,
        })
    }

    pub fn parts(&self) -> &[AggregationPart] {
        &self.parts
    }

    /// The distinct windows of all aggregations (`None` = unbounded).
    pub fn windows(&self) -> &[Option<Window>] {
        &self.windows
    }

    pub fn columns(&self) -> &[AggregateColumn] {
        &self.columns
    }

    /// The Arrow fields of the output columns, in order.
    pub fn output_fields(&self) -> Vec<Field> {
        self.columns
            .iter()
            .map(|c| Field::new(&c.name, c.data_type.to_arrow(), true))
            .collect()
    }

    /// A fresh IR vector: one empty state per part.
    pub fn new_irs(&self) -> Vec<Ir> {
        vec![Ir::Empty; self.parts.len()]
    }

    /// Folds every row of `batch` into `states[slots[row]]`, part by part. `ts` holds each row's
    /// time; `is_before`, when given, marks reversal rows that are deleted instead (R-AGG-10).
    pub fn update_batch(
        &self,
        batch: &RecordBatch,
        ts: &[i64],
        slots: &[usize],
        is_before: Option<&BooleanArray>,
        states: &mut [Vec<Ir>],
    ) -> Result<(), AggregationError> {
        let rows = batch.num_rows().min(ts.len()).min(slots.len());
        self.update_rows(batch, 0..rows, ts, slots, 1, is_before, states)
    }

    /// Folds rows `rows` of `batch` (no slicing: tile folding calls this per key) into several
    /// states each: row `rows.start + i` goes into `states[s]` for every `s` of
    /// `slots[i * stride..(i + 1) * stride]` other than `usize::MAX`, at time `ts[i]`. Each
    /// value is read once, whatever the number of states it goes to; each state takes its rows
    /// in order. `is_before` is indexed like `batch`.
    #[expect(
        clippy::too_many_arguments,
        reason = "update_batch's arguments plus the row range and the slots per row"
    )]
    pub fn update_rows(
        &self,
        batch: &RecordBatch,
        rows: Range<usize>,
        ts: &[i64],
        slots: &[usize],
        stride: usize,
        is_before: Option<&BooleanArray>,
        states: &mut [Vec<Ir>],
    ) -> Result<(), AggregationError> {
        let stride = stride.max(1);
        let rows = rows.start
            ..rows
                .end
                .min(batch.num_rows())
                .min(rows.start + ts.len())
                .min(rows.start + slots.len() / stride);
        for (p, part) in self.parts.iter().enumerate() {
            let (input, bucket) = self.inputs[p];
            let column = batch.column(input);
            let expected = part.input_type().to_arrow();
            if DataType::from_arrow(column.data_type()).as_ref() != Some(part.input_type()) {
                return Err(AggregationError::ColumnTypeChanged {
                    column: part.input_column().to_owned(),
                    expected: expected.to_string(),
                    found: column.data_type().to_string(),
                });
            }
            let reader = ColumnReader::new(column.as_ref());
            let buckets = bucket.map(|b| ColumnReader::new(batch.column(b).as_ref()));
            let fast = part.shape() == Shape::Plain && buckets.is_none() && is_before.is_none();
            for row in rows.clone() {
                let i = row - rows.start;
                let row_slots = &slots[i * stride..(i + 1) * stride];
                if row_slots.iter().all(|&s| s == usize::MAX) {
                    continue;
                }
                let t = ts[i];
                if fast {
                    if let Some(x) = reader.scalar(row) {
                        for &slot in row_slots {
                            if let Some(state) = states.get_mut(slot).and_then(|s| s.get_mut(p)) {
                                part.update_scalar(state, x, t)?;
                            }
                        }
                    }
                    continue;
                }
                let value = reader.value(row);
                let bucket = buckets.as_ref().and_then(|b| b.str(row));
                let delete = is_before.is_some_and(|b| b.is_valid(row) && b.value(row));
                for &slot in row_slots {
                    let Some(state) = states.get_mut(slot).and_then(|s| s.get_mut(p)) else {
                        continue;
                    };
                    if delete {
                        part.delete(state, &value, bucket, t)?;
                    } else {
                        part.update(state, &value, bucket, t)?;
                    }
                }
            }
        }
        Ok(())
    }

    /// Folds one row given as values in input-schema order (the slow, general path).
    pub fn update_row(
        &self,
        row: &[Value],
        ts: i64,
        delete: bool,
        states: &mut [Ir],
    ) -> Result<(), AggregationError> {
        for (p, part) in self.parts.iter().enumerate() {
            let (input, bucket) = self.inputs[p];
            let value = row.get(input).unwrap_or(&Value::Null);
            let bucket = bucket.and_then(|b| row.get(b)).and_then(Value::as_str);
            if delete {
                part.delete(&mut states[p], value, bucket, ts)?;
            } else {
                part.update(&mut states[p], value, bucket, ts)?;
            }
        }
        Ok(())
    }

    /// Merges `other` into `into`, part by part.
    pub fn merge(&self, into: &mut [Ir], other: &[Ir]) -> Result<(), AggregationError> {
        for ((part, a), b) in self.parts.iter().zip(into.iter_mut()).zip(other) {
            part.merge(a, b)?;
        }
        Ok(())
    }

    /// The output values, in column order. `per_window[w]` holds the merged states for window
    /// `w` of [`Self::windows`].
    pub fn finalize(&self, per_window: &[&[Ir]]) -> Vec<Value> {
        self.columns
            .iter()
            .map(
                |c| match per_window.get(c.window).and_then(|irs| irs.get(c.part)) {
                    Some(ir) => self.parts[c.part].finalize(ir),
                    None => Value::Null,
                },
            )
            .collect()
    }

    /// Sets `out[i]` for every output column `i` of window `window`, from `irs`, the merged
    /// states of that window; other entries are left alone. Finalizing each window from one
    /// accumulator as it reaches the window's start needs no copy of the states.
    pub fn finalize_window(&self, window: usize, irs: &[Ir], out: &mut [Value]) {
        for (c, slot) in self.columns.iter().zip(out) {
            if c.window == window {
                if let Some(ir) = irs.get(c.part) {
                    *slot = self.parts[c.part].finalize(ir);
                }
            }
        }
    }

    /// Appends the versioned encoding of `irs`.
    pub fn encode(&self, irs: &[Ir], out: &mut Vec<u8>) {
        codec::encode_row(irs, out);
    }

    /// Merges bytes written by [`Self::encode`] for the same GroupBy into `into`: the same as
    /// [`Self::decode`] then [`AggregationPart::merge_owned`] per part, with less work for
    /// UNIQUE_COUNT sets. On an error `into` may be partly merged.
    pub fn merge_encoded(&self, into: &mut [Ir], bytes: &[u8]) -> Result<(), MergeEncodedError> {
        codec::merge_row(&self.parts, into, bytes)
    }

    /// [`Self::merge_encoded`] for the parts `needed` marks (see [`Self::parts_needed`]); the
    /// others' states are left as they are.
    pub fn merge_encoded_parts(
        &self,
        into: &mut [Ir],
        bytes: &[u8],
        needed: &[bool],
    ) -> Result<(), MergeEncodedError> {
        codec::merge_row_parts(&self.parts, into, bytes, needed)
    }

    /// Per part, whether a column over one of the windows `pending` holds finalizes it.
    pub fn parts_needed(&self, pending: impl Fn(usize) -> bool) -> Vec<bool> {
        let mut needed = vec![false; self.parts.len()];
        for c in &self.columns {
            if pending(c.window) {
                needed[c.part] = true;
            }
        }
        needed
    }

    /// Decodes bytes written by [`Self::encode`] for the same GroupBy.
    pub fn decode(&self, bytes: &[u8]) -> Result<Vec<Ir>, DecodeError> {
        codec::decode_row(&self.parts, bytes)
    }
}
