//! Checks of a Join: left, parts, external parts, labels, output names.

use std::collections::BTreeSet;

use super::group_by::{check_group_by, check_source};
use super::{available_columns, check_name, check_unique, list_selects, Checker, FieldPath};
use crate::config::{
    ColumnOrigin, ConfigError, DataKind, DataModel, Join, JoinPart, Serving, Source, TDataType,
    TimeUnit,
};
use crate::naming::{self, Projected};

/// The columns of the left, for key mapping checks.
struct Left<'a> {
    columns: Option<BTreeSet<&'a str>>,
    selects: String,
}

pub(super) fn check_join(
    checker: &Checker,
    path: &FieldPath,
    join: &Join,
) -> Result<(), ConfigError> {
    check_name(checker, path, join.meta_data.as_ref())?;
    if join.model_transforms.is_some() {
        return Err(checker.error(
            &path.field("modelTransforms"),
            "Joins with modelTransforms are not supported",
        ));
    }
    check_left(checker, &path.field("left"), &join.left)?;
    let left = Left {
        columns: available_columns(join.left.query()),
        selects: list_selects(join.left.query()),
    };
    for (index, part) in join.join_parts.iter().enumerate() {
        check_part(checker, &path.field("joinParts").index(index), part, &left)?;
    }
    for (index, external) in join.external_parts().iter().enumerate() {
        let source_path = path
            .field("onlineExternalParts")
            .index(index)
            .field("source");
        if external.source.name().is_empty() {
            return Err(checker.error(
                &source_path.field("metadata").field("name"),
                "an external source needs a name",
            ));
        }
        for (field, schema) in [
            ("keySchema", &external.source.key_schema),
            ("valueSchema", &external.source.value_schema),
        ] {
            if let Some(schema) = schema {
                check_struct(checker, &source_path.field(field), schema)?;
            }
        }
        if let Some(group_by) = &external.source.offline_group_by {
            check_group_by(checker, &source_path.field("offlineGroupBy"), group_by)?;
        }
    }
    check_labels(checker, path, join, &left)?;
    check_output_names(checker, path, join)
}

/// The left: Events with a timeColumn, not cumulative, not a JoinSource (R-JOIN-6).
fn check_left(checker: &Checker, path: &FieldPath, left: &Source) -> Result<(), ConfigError> {
    match left {
        Source::JoinSource(_) => {
            return Err(checker.error(
                &path.field("joinSource"),
                "a JoinSource cannot be a join's left",
            ));
        }
        Source::Events(events) => {
            let events_path = path.field("events");
            if events.is_cumulative == Some(true) {
                return Err(checker.error(
                    &events_path.field("isCumulative"),
                    "a cumulative source cannot be a join's left",
                ));
            }
            let time_column = events
                .query
                .as_ref()
                .and_then(|query| query.time_column.as_deref());
            if time_column.is_none_or(str::is_empty) {
                return Err(checker.error(
                    &events_path.field("query").field("timeColumn"),
                    "an Events left needs a timeColumn",
                ));
            }
        }
        Source::Entities(_) => {}
    }
    check_source(checker, path, left)
}

/// A part's GroupBy and its key mapping (R-JOIN-2).
fn check_part(
    checker: &Checker,
    path: &FieldPath,
    part: &JoinPart,
    left: &Left<'_>,
) -> Result<(), ConfigError> {
    check_group_by(checker, &path.field("groupBy"), &part.group_by)?;
    let keys = part.group_by.key_columns();
    let mapping_path = path.field("keyMapping");
    for (left_column, key) in part.key_mapping.iter().flat_map(|mapping| mapping.iter()) {
        if !keys.contains(key) {
            return Err(checker.error(
                &mapping_path.field(left_column),
                format!(
                    "maps to {key}, which is not a key of {} (keys: {})",
                    part.group_by.name(),
                    keys.join(", ")
                ),
            ));
        }
        if let Some(columns) = &left.columns {
            if !columns.contains(left_column) {
                return Err(checker.error(
                    &mapping_path.field(left_column),
                    format!(
                        "{left_column} is not a column of the left (left selects: {})",
                        left.selects
                    ),
                ));
            }
        }
    }
    if let Some(columns) = &left.columns {
        for key in keys {
            if part.left_column_for(key) == key && !columns.contains(key.as_str()) {
                return Err(checker.error(
                    &mapping_path,
                    format!(
                        "key {key} of {} is neither mapped by keyMapping nor a column of the left \
                         (left selects: {})",
                        part.group_by.name(),
                        left.selects
                    ),
                ));
            }
        }
    }
    Ok(())
}

/// A STRUCT schema with a name and named, typed fields.
fn check_struct(
    checker: &Checker,
    path: &FieldPath,
    schema: &TDataType,
) -> Result<(), ConfigError> {
    if schema.kind != DataKind::Struct {
        return Err(checker.error(
            &path.field("kind"),
            format!("must be a STRUCT, got {}", schema.kind),
        ));
    }
    if schema.name.as_deref().is_none_or(str::is_empty) {
        return Err(checker.error(&path.field("name"), "a STRUCT needs a name"));
    }
    for (index, field) in schema.params().iter().enumerate() {
        let field_path = path.field("params").index(index);
        if field.name.as_deref().is_none_or(str::is_empty) {
            return Err(checker.error(&field_path.field("name"), "a STRUCT field needs a name"));
        }
        if field.data_type.is_none() {
            return Err(checker.error(
                &field_path.field("dataType"),
                "a STRUCT field needs a dataType",
            ));
        }
    }
    Ok(())
}

/// The label part rules checkable from the config (R-LABEL-1).
fn check_labels(
    checker: &Checker,
    path: &FieldPath,
    join: &Join,
    left: &Left<'_>,
) -> Result<(), ConfigError> {
    let Some(label_part) = &join.label_part else {
        return Ok(());
    };
    let label_path = path.field("labelPart");
    if join.left.data_model() != DataModel::Events {
        return Err(checker.error(&label_path, "label parts need an Events left"));
    }
    if let (Some(start), Some(end)) = (label_part.left_start_offset, label_part.left_end_offset) {
        if start < end {
            return Err(checker.error(
                &label_path.field("leftStartOffset"),
                format!("leftStartOffset ({start}) must be at least leftEndOffset ({end})"),
            ));
        }
    }
    for (index, label) in label_part.labels().iter().enumerate() {
        let part_path = label_path.field("labels").index(index);
        check_part(checker, &part_path, label, left)?;
        let group_by = &label.group_by;
        let group_by_path = part_path.field("groupBy");
        let expected = if group_by.is_aggregated() {
            DataModel::Events
        } else {
            DataModel::Entities
        };
        for (source_index, source) in group_by.sources().iter().enumerate() {
            if source.data_model() != expected {
                let reason = if group_by.is_aggregated() {
                    "an aggregated label GroupBy must read events"
                } else {
                    "a label GroupBy without aggregations must read entities"
                };
                return Err(
                    checker.error(&group_by_path.field("sources").index(source_index), reason)
                );
            }
        }
        if !group_by.is_aggregated() {
            continue;
        }
        let aggregations = group_by.aggregations();
        let [aggregation] = aggregations else {
            return Err(checker.error(
                &group_by_path.field("aggregations"),
                format!(
                    "an aggregated label GroupBy needs exactly one aggregation, found {}",
                    aggregations.len()
                ),
            ));
        };
        match aggregation.windows.as_deref() {
            Some([window]) if window.time_unit == TimeUnit::Days && !window.is_unbounded() => {}
            _ => {
                return Err(checker.error(
                    &group_by_path
                        .field("aggregations")
                        .index(0)
                        .field("windows"),
                    "an aggregated label GroupBy needs exactly one DAYS window",
                ));
            }
        }
    }
    Ok(())
}

/// Output names are unique online and offline, before and after derivations (R-NAME-4).
fn check_output_names(checker: &Checker, path: &FieldPath, join: &Join) -> Result<(), ConfigError> {
    for serving in [Serving::Online, Serving::Offline] {
        let columns = join.base_columns(serving);
        let origin_path = |origin: &ColumnOrigin| match origin {
            ColumnOrigin::Part { part, .. } => path.field("joinParts").index(*part),
            ColumnOrigin::External { part, .. } => path.field("onlineExternalParts").index(*part),
        };
        check_unique(
            checker,
            columns
                .iter()
                .map(|column| (column.name.as_str(), origin_path(&column.origin))),
        )?;
        let base: Vec<String> = columns.iter().map(|column| column.name.clone()).collect();
        let projection = naming::derivation_projection(&base, join.derivations());
        check_unique(
            checker,
            projection.iter().map(|projected| {
                let origin = match projected {
                    Projected::Base { index, .. } => columns
                        .get(*index)
                        .map_or_else(FieldPath::root, |column| origin_path(&column.origin)),
                    Projected::Derived { index, .. } => path.field("derivations").index(*index),
                };
                (projected.name(), origin)
            }),
        )?;
    }
    Ok(())
}
