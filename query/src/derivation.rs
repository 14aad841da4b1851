//! Derivations (SEMANTICS.md R-NAME-9, R-DER-1, R-DER-4): expressions over a GroupBy's or Join's
//! base value columns, projected in derivation order with `*` expanding to the base columns.
//!
//! The same compiled [`Derivations`] runs over a batch of backfill rows and over the one row of
//! a fetch. A derivation that only renames a column is a column pick, never an evaluation; when
//! every derivation is a rename (or `*`) the whole projection evaluates nothing.

use std::sync::Arc;

use arrow::array::{ArrayRef, RecordBatch};
use arrow::datatypes::{Field, Schema, SchemaRef};

use crate::config::{ConfigError, Derivation};
use crate::expr::{ExprError, Expression};
use crate::naming::{derivation_projection, Projected};

#[derive(Debug, Clone)]
enum Output {
    /// A column of the input batch, by index.
    Pick(usize),
    Compute(Expression),
}

/// Compiled derivations over one input schema.
#[derive(Debug, Clone)]
pub struct Derivations {
    outputs: Vec<Output>,
    schema: SchemaRef,
}

impl Derivations {
    /// Binds `derivations` over `base` (the value columns, in order) within `input`, the schema of
    /// the rows they run over (values plus keys, `ts`, `ds` and, offline, left columns).
    pub fn compile(
        config: &str,
        field: &str,
        derivations: &[Derivation],
        base: &[String],
        input: &Schema,
    ) -> Result<Self, ConfigError> {
        let invalid = |i: usize, reason: String| ConfigError::Invalid {
            config: config.to_owned(),
            field: format!("{field}[{i}]"),
            reason,
        };
        let mut outputs = Vec::new();
        let mut fields = Vec::new();
        for column in derivation_projection(base, derivations) {
            match column {
                Projected::Base { name, .. } => {
                    let index = input.index_of(name).map_err(|_| {
                        invalid(0, format!("base column {name} is not in the input"))
                    })?;
                    fields.push(Field::new(
                        name,
                        input.field(index).data_type().clone(),
                        true,
                    ));
                    outputs.push(Output::Pick(index));
                }
                Projected::Derived {
                    index,
                    name,
                    expression,
                } => {
                    let expr = Expression::compile(expression, input)
                        .map_err(|e: ExprError| invalid(index, e.reason))?;
                    fields.push(Field::new(name, expr.data_type(), true));
                    let output = match expr.as_column().and_then(|c| input.index_of(c).ok()) {
                        Some(i) => Output::Pick(i),
                        None => Output::Compute(expr),
                    };
                    outputs.push(output);
                }
            }
        }
        Ok(Derivations {
            outputs,
            schema: Arc::new(Schema::new(fields)),
        })
    }

    /// True when applying evaluates no expression: every output is a column pick (R-DER-4).
    pub fn is_rename_only(&self) -> bool {
        self.outputs.iter().all(|o| matches!(o, Output::Pick(_)))
    }

    pub fn output_schema(&self) -> &SchemaRef {
        &self.schema
    }

    /// The derived columns of `input` (a batch of the compile-time input schema).
    pub fn apply(&self, input: &RecordBatch) -> Result<RecordBatch, ExprError> {
        let arrays = self
            .outputs
            .iter()
            .map(|output| match output {
                Output::Pick(i) => Ok(input.column(*i).clone()),
                Output::Compute(expr) => expr.evaluate(input),
            })
            .collect::<Result<Vec<ArrayRef>, _>>()?;
        RecordBatch::try_new(self.schema.clone(), arrays)
            .map_err(|e| ExprError::new("", e.to_string()))
    }
}
