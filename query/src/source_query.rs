//! A source's query applied to input rows (SEMANTICS.md R-SRC-1, R-SRC-2, R-TIME-3): `wheres`
//! filter (a row passes only when every predicate is true), `selects` compute the columns, the
//! `timeColumn` gives `ts`; rows with a null `ts` (events) or with every key null are dropped
//! and counted.

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, BooleanArray, RecordBatch};
use arrow::compute::kernels::boolean::{and_kleene, is_not_null, or};
use arrow::compute::{cast, filter, filter_record_batch};
use arrow::datatypes::{DataType as ArrowType, Field, Schema, SchemaRef};

use crate::config::{ConfigError, Query};
use crate::expr::{ExprError, Expression};

/// The column the time expression is written to.
pub const TIME_COLUMN: &str = "ts";

/// A compiled source query: bound once against the input schema.
#[derive(Debug, Clone)]
pub struct SourceQuery {
    columns: Vec<(String, Expression)>,
    wheres: Vec<Expression>,
    time: Option<Expression>,
    /// Indexes into `columns` of the key columns.
    keys: Vec<usize>,
    drop_null_time: bool,
    output: SchemaRef,
}

/// What applying a query to a batch gave.
#[derive(Debug, Clone)]
pub struct Applied {
    /// The selected columns, then `ts` if the query has a time column.
    pub batch: RecordBatch,
    /// Rows removed by `wheres`.
    pub filtered: usize,
    /// Rows dropped for a null time value (R-SRC-1).
    pub null_time: usize,
    /// Rows dropped because every key was null (R-SRC-2).
    pub null_keys: usize,
    /// With [`SourceQuery::apply_traced`]: what happened to each input row, in input order. The
    /// output rows are the [`Fate::Kept`] input rows, in input order.
    pub fates: Option<Vec<Fate>>,
}

/// What a query did with one input row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fate {
    Kept,
    /// Removed by `wheres`.
    Filtered,
    /// Dropped for a null time value.
    NullTime,
    /// Dropped because every key was null.
    NullKeys,
}

impl SourceQuery {
    /// Binds `query` against `input`. `field` is the query's path in the config (for errors);
    /// `events` says whether rows with a null time are dropped.
    pub fn compile(
        config: &str,
        field: &str,
        query: &Query,
        key_columns: &[String],
        events: bool,
        input: &Schema,
    ) -> Result<Self, ConfigError> {
        let invalid = |at: String, e: ExprError| ConfigError::Invalid {
            config: config.to_owned(),
            field: format!("{field}.{at}"),
            reason: e.reason,
        };
        let mut columns: Vec<(String, Expression)> = Vec::new();
        match &query.selects {
            Some(selects) => {
                for (name, text) in selects.iter() {
                    let expr = Expression::compile(text, input)
                        .map_err(|e| invalid(format!("selects.{name}"), e))?;
                    columns.push((name.to_owned(), expr));
                }
            }
            None => {
                for f in input.fields() {
                    let expr = Expression::compile(&quote(f.name()), input)
                        .map_err(|e| invalid(format!("selects.{}", f.name()), e))?;
                    columns.push((f.name().clone(), expr));
                }
            }
        }
        // The partition column is always kept (R-SRC-1).
        let partition = query.partition_column_or_default();
        if !columns.iter().any(|(n, _)| n == partition) && input.index_of(partition).is_ok() {
            let expr = Expression::compile(&quote(partition), input)
                .map_err(|e| invalid("partitionColumn".into(), e))?;
            columns.push((partition.to_owned(), expr));
        }
        let wheres = query
            .wheres()
            .iter()
            .enumerate()
            .map(|(i, text)| {
                let expr = Expression::compile(text, input)
                    .map_err(|e| invalid(format!("wheres[{i}]"), e))?;
                match expr.data_type() {
                    ArrowType::Boolean | ArrowType::Null => Ok(expr),
                    other => Err(invalid(
                        format!("wheres[{i}]"),
                        ExprError::new(
                            text,
                            format!("a where clause must be BOOLEAN, found {other}"),
                        ),
                    )),
                }
            })
            .collect::<Result<Vec<_>, _>>()?;
        let time = match &query.time_column {
            Some(text) => {
                let expr = Expression::compile(text, input)
                    .map_err(|e| invalid("timeColumn".into(), e))?;
                if !matches!(
                    expr.data_type(),
                    ArrowType::Int64 | ArrowType::Int32 | ArrowType::Int16 | ArrowType::Int8
                ) {
                    let reason = format!(
                        "the time column must give epoch milliseconds as LONG, found {}",
                        expr.data_type()
                    );
                    return Err(invalid("timeColumn".into(), ExprError::new(text, reason)));
                }
                // The time column replaces a selected `ts`.
                columns.retain(|(name, _)| name != TIME_COLUMN);
                Some(expr)
            }
            None => None,
        };
        let keys = key_columns
            .iter()
            .map(|key| {
                columns
                    .iter()
                    .position(|(name, _)| name == key)
                    .ok_or_else(|| ConfigError::Invalid {
                        config: config.to_owned(),
                        field: field.to_owned(),
                        reason: format!("key column {key} is not selected"),
                    })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let mut fields: Vec<Field> = columns
            .iter()
            .map(|(n, e)| Field::new(n, e.data_type(), true))
            .collect();
        if time.is_some() {
            fields.push(Field::new(TIME_COLUMN, ArrowType::Int64, false));
        }
        Ok(SourceQuery {
            columns,
            wheres,
            time,
            keys,
            drop_null_time: events,
            output: Arc::new(Schema::new(fields)),
        })
    }

    /// The schema of [`Applied::batch`].
    pub fn output_schema(&self) -> &SchemaRef {
        &self.output
    }

    /// Filters and projects one input batch.
    pub fn apply(&self, batch: &RecordBatch) -> Result<Applied, ExprError> {
        self.run(batch, false)
    }

    /// [`SourceQuery::apply`], also telling what happened to each input row (`Applied::fates`),
    /// so that callers that apply the query to several requests at once can count per request.
    pub fn apply_traced(&self, batch: &RecordBatch) -> Result<Applied, ExprError> {
        self.run(batch, true)
    }

    fn run(&self, batch: &RecordBatch, trace: bool) -> Result<Applied, ExprError> {
        let rows = batch.num_rows();
        let arrow_error = |e: arrow::error::ArrowError| ExprError::new("", e.to_string());
        // wheres: a row passes only when every predicate is true (three-valued logic).
        let mut keep: Option<BooleanArray> = None;
        for w in &self.wheres {
            let value = w.evaluate(batch)?;
            let value = cast(&value, &ArrowType::Boolean).map_err(arrow_error)?;
            let value = value.as_boolean().clone();
            keep = Some(match keep {
                Some(k) => and_kleene(&k, &value).map_err(arrow_error)?,
                None => value,
            });
        }
        let input = match &keep {
            Some(k) => filter_record_batch(batch, k).map_err(arrow_error)?,
            None => batch.clone(),
        };
        let filtered = rows - input.num_rows();

        let mut arrays: Vec<ArrayRef> = Vec::with_capacity(self.output.fields().len());
        for (_, expr) in &self.columns {
            arrays.push(expr.evaluate(&input)?);
        }
        if let Some(time) = &self.time {
            let ts = time.evaluate(&input)?;
            arrays.push(cast(&ts, &ArrowType::Int64).map_err(arrow_error)?);
        }

        // Drop rows with a null time (events) and rows whose keys are all null.
        let n = input.num_rows();
        let mut valid = BooleanArray::from(vec![true; n]);
        let mut null_time = 0;
        if self.time.is_some() && self.drop_null_time {
            let ts = &arrays[arrays.len() - 1];
            null_time = ts.null_count();
            valid = is_not_null(ts.as_ref()).map_err(arrow_error)?;
        }
        let mut null_keys = 0;
        if !self.keys.is_empty() {
            let mut any_key = BooleanArray::from(vec![false; n]);
            for &k in &self.keys {
                any_key = or(
                    &any_key,
                    &is_not_null(arrays[k].as_ref()).map_err(arrow_error)?,
                )
                .map_err(arrow_error)?;
            }
            let before = valid.true_count();
            valid = arrow::compute::and(&valid, &any_key).map_err(arrow_error)?;
            null_keys = before - valid.true_count();
        }
        let fates = trace.then(|| {
            let time_nulls = if self.time.is_some() && self.drop_null_time {
                arrays.last().and_then(|ts| ts.logical_nulls())
            } else {
                None
            };
            let mut fates = Vec::with_capacity(rows);
            let mut j = 0;
            for r in 0..rows {
                if keep
                    .as_ref()
                    .is_some_and(|k| !(k.is_valid(r) && k.value(r)))
                {
                    fates.push(Fate::Filtered);
                    continue;
                }
                fates.push(if valid.value(j) {
                    Fate::Kept
                } else if time_nulls.as_ref().is_some_and(|n| n.is_null(j)) {
                    Fate::NullTime
                } else {
                    Fate::NullKeys
                });
                j += 1;
            }
            fates
        });
        if valid.true_count() < n {
            arrays = arrays
                .iter()
                .map(|a| filter(a.as_ref(), &valid))
                .collect::<Result<_, _>>()
                .map_err(arrow_error)?;
        }
        let out = RecordBatch::try_new(self.output.clone(), arrays).map_err(arrow_error)?;
        Ok(Applied {
            batch: out,
            filtered,
            null_time,
            null_keys,
            fates,
        })
    }
}

/// A column name as an identifier expression (backquoted: names may hold any character).
pub fn quote(name: &str) -> String {
    format!("`{}`", name.replace('`', "``"))
}
