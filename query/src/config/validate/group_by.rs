//! Checks of a GroupBy and its sources.

use super::aggregation::{check_aggregation, GroupByContext};
use super::{available_columns, check_name, check_unique, list_selects, Checker, FieldPath};
use crate::config::{Accuracy, ConfigError, GroupBy, Source};
use crate::naming::{self, Projected};

pub(super) fn check_group_by(
    checker: &Checker,
    path: &FieldPath,
    group_by: &GroupBy,
) -> Result<(), ConfigError> {
    check_name(checker, path, group_by.meta_data.as_ref())?;
    let sources = group_by.sources();
    if sources.is_empty() {
        return Err(checker.error(
            &path.field("sources"),
            "a GroupBy needs at least one source",
        ));
    }
    if group_by.key_columns().is_empty() {
        return Err(checker.error(
            &path.field("keyColumns"),
            "a GroupBy needs at least one key column",
        ));
    }
    for (index, source) in sources.iter().enumerate() {
        check_source(checker, &path.field("sources").index(index), source)?;
    }
    check_sources_agree(checker, path, sources)?;
    let accuracy = group_by.accuracy();
    if accuracy == Accuracy::Temporal {
        check_time_columns(checker, path, sources)?;
    }

    let query = sources
        .iter()
        .find_map(|source| source.query().filter(|query| query.selects.is_some()));
    let every_source_selects = sources
        .iter()
        .all(|source| source.query().is_some_and(|query| query.selects.is_some()));
    let columns = available_columns(query).filter(|_| every_source_selects);
    let selects = list_selects(query);
    if let Some(columns) = &columns {
        for (index, key) in group_by.key_columns().iter().enumerate() {
            if !columns.contains(key.as_str()) {
                return Err(checker.error(
                    &path.field("keyColumns").index(index),
                    format!("key {key} is not selected by the source (selects: {selects})"),
                ));
            }
        }
    }
    let context = GroupByContext {
        accuracy,
        has_backfill_start_date: group_by.backfill_start_date.is_some(),
        columns: columns.as_ref(),
        selects: &selects,
    };
    for (index, aggregation) in group_by.aggregations().iter().enumerate() {
        let aggregation_path = path.field("aggregations").index(index);
        check_aggregation(checker, &aggregation_path, aggregation, &context)?;
    }
    check_output_names(checker, path, group_by)
}

/// A source's own fields; a JoinSource's parent join is checked in full.
pub(super) fn check_source(
    checker: &Checker,
    path: &FieldPath,
    source: &Source,
) -> Result<(), ConfigError> {
    let variant = path.field(source.variant_name());
    match source {
        Source::Events(events) if events.table.as_deref().is_none_or(str::is_empty) => {
            Err(checker.error(&variant.field("table"), "an events source needs a table"))
        }
        Source::Entities(entities)
            if entities.snapshot_table.as_deref().is_none_or(str::is_empty) =>
        {
            Err(checker.error(
                &variant.field("snapshotTable"),
                "an entities source needs a snapshotTable",
            ))
        }
        Source::JoinSource(join_source) => {
            super::join::check_join(checker, &variant.field("join"), &join_source.join)
        }
        _ => Ok(()),
    }
}

/// Multiple sources: one data model, identical selected columns, one partition column, at most
/// one streaming source (R-SRC-3).
fn check_sources_agree(
    checker: &Checker,
    path: &FieldPath,
    sources: &[Source],
) -> Result<(), ConfigError> {
    let Some((first, rest)) = sources.split_first() else {
        return Ok(());
    };
    let first_model = first.data_model();
    let first_selects = first.query().and_then(|query| query.selected_columns());
    let first_partition = first
        .query()
        .map_or(crate::config::DEFAULT_PARTITION_COLUMN, |query| {
            query.partition_column_or_default()
        });
    let mut streaming = first.topic().map(|_| 0);
    for (offset, source) in rest.iter().enumerate() {
        let index = offset + 1;
        let source_path = path.field("sources").index(index);
        if source.data_model() != first_model {
            return Err(checker.error(
                &source_path,
                format!(
                    "all sources must be events or all entities, but sources[0] is {:?} and this \
                     one is {:?}",
                    first_model,
                    source.data_model()
                ),
            ));
        }
        let selects = source.query().and_then(|query| query.selected_columns());
        if let (Some(first_selects), Some(selects)) = (&first_selects, &selects) {
            let mut expected = first_selects.clone();
            let mut actual = selects.clone();
            expected.sort_unstable();
            actual.sort_unstable();
            if expected != actual {
                return Err(checker.error(
                    &source_path,
                    format!(
                        "sources must select identical columns, but sources[0] selects {} and \
                         this one selects {}",
                        first_selects.join(", "),
                        selects.join(", ")
                    ),
                ));
            }
        }
        let partition = source
            .query()
            .map_or(crate::config::DEFAULT_PARTITION_COLUMN, |query| {
                query.partition_column_or_default()
            });
        if partition != first_partition {
            return Err(checker.error(
                &source_path,
                format!(
                    "sources must share one partition column, but sources[0] uses \
                     {first_partition} and this one uses {partition}"
                ),
            ));
        }
        if source.topic().is_some() {
            if let Some(first_streaming) = streaming {
                return Err(checker.error(
                    &source_path,
                    format!(
                        "at most one source may be streaming, but sources[{first_streaming}] \
                         also has a topic"
                    ),
                ));
            }
            streaming = Some(index);
        }
    }
    Ok(())
}

/// A TEMPORAL GroupBy's events sources need a timeColumn (R-SNAP-2 Decision).
fn check_time_columns(
    checker: &Checker,
    path: &FieldPath,
    sources: &[Source],
) -> Result<(), ConfigError> {
    for (index, source) in sources.iter().enumerate() {
        if let Source::Events(events) = source {
            let time_column = events
                .query
                .as_ref()
                .and_then(|query| query.time_column.as_deref());
            if time_column.is_none_or(str::is_empty) {
                let field = path
                    .field("sources")
                    .index(index)
                    .field("events")
                    .field("query")
                    .field("timeColumn");
                return Err(checker.error(
                    &field,
                    "an events source of a TEMPORAL GroupBy needs a timeColumn",
                ));
            }
        }
    }
    Ok(())
}

/// Output names are unique, before and after derivations (R-NAME-4).
fn check_output_names(
    checker: &Checker,
    path: &FieldPath,
    group_by: &GroupBy,
) -> Result<(), ConfigError> {
    let columns = group_by.output_columns();
    let column_path = |aggregation: Option<usize>| match aggregation {
        Some(index) => path.field("aggregations").index(index),
        None => path.field("sources").index(0),
    };
    check_unique(
        checker,
        columns
            .iter()
            .map(|column| (column.name.as_str(), column_path(column.aggregation))),
    )?;
    let base: Vec<String> = columns.iter().map(|column| column.name.clone()).collect();
    let projection = naming::derivation_projection(&base, group_by.derivations());
    check_unique(
        checker,
        projection.iter().map(|projected| {
            let origin = match projected {
                Projected::Base { index, .. } => {
                    column_path(columns.get(*index).and_then(|column| column.aggregation))
                }
                Projected::Derived { index, .. } => path.field("derivations").index(*index),
            };
            (projected.name(), origin)
        }),
    )
}
