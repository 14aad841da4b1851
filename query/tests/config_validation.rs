//! Every load-time validation rule has a failing fixture under `tests/fixtures/invalid/`, and the
//! error names the config, the field path and the reason (SEMANTICS.md §2, rule IDs per row).

use std::collections::BTreeSet;
use std::fs;
use std::path::Path;

use tilefold_query::config::{Config, ConfigError, ConfigKind};

/// (rule IDs, fixture, kind, expected error text).
const CASES: &[(&str, &str, ConfigKind, &str)] = &[
    ("R-CFG-2", "unknown_operation.json", ConfigKind::GroupBy, "config shop.bad.v1, aggregations[0].operation: unknown Operation value 99"),
    ("R-CFG-2", "unknown_operation_name.json", ConfigKind::GroupBy, "config shop.bad.v1, aggregations[0].operation: unknown Operation name \"MEDIAN\""),
    ("R-CFG-2", "unknown_time_unit.json", ConfigKind::GroupBy, "config shop.bad.v1, aggregations[0].windows[0].timeUnit: unknown TimeUnit value 2"),
    ("R-CFG-2", "unknown_accuracy.json", ConfigKind::GroupBy, "config shop.bad.v1, accuracy: unknown Accuracy value 5"),
    ("R-CFG-2", "boolean_not_0_or_1.json", ConfigKind::GroupBy, "config shop.bad.v1, metaData.online: a boolean must be 0, 1, true or false, got 2"),
    ("R-AGG-9", "last_k_without_k.json", ConfigKind::GroupBy, "config shop.purchases.v1, aggregations[4].argMap.k: k needs to be specified in the argMap for LAST_K type"),
    ("R-AGG-9", "top_k_k_not_an_integer.json", ConfigKind::GroupBy, "config shop.bad.v1, aggregations[0].argMap.k: k must be a decimal integer, got \"ten\""),
    ("R-AGG-9", "first_k_negative_k.json", ConfigKind::GroupBy, "config shop.bad.v1, aggregations[0].argMap.k: k must not be negative for FIRST_K, got -1"),
    ("R-AGG-9", "histogram_negative_k.json", ConfigKind::GroupBy, "config shop.bad.v1, aggregations[0].argMap.k: k must not be negative for HISTOGRAM, got -2"),
    ("R-AGG-9", "approx_unique_count_lg_k.json", ConfigKind::GroupBy, "config shop.bad.v1, aggregations[0].argMap.k: k is the sketch's lgK for APPROX_UNIQUE_COUNT and must be within 4..=26, got 30"),
    ("R-AGG-9", "percentiles_not_a_list.json", ConfigKind::GroupBy, "config shop.bad.v1, aggregations[0].argMap.percentiles: percentiles must be a JSON list of numbers, got \"[0.5,\""),
    ("R-AGG-9", "percentile_out_of_range.json", ConfigKind::GroupBy, "config shop.bad.v1, aggregations[0].argMap.percentiles: percentile 1.5 (entry 1) is outside [0, 1]"),
    ("R-WIN-1 E-36", "window_length_zero.json", ConfigKind::GroupBy, "config shop.bad.v1, aggregations[0].windows[0].length: a window length must be positive, got 0"),
    ("R-WIN-1", "window_length_negative.json", ConfigKind::GroupBy, "config shop.bad.v1, aggregations[0].windows[1].length: a window length must be positive, got -3"),
    ("R-WIN-6 R-ACC-1 E-35", "hours_window_inferred_snapshot.json", ConfigKind::GroupBy, "config shop.bad.v1, aggregations[0].windows[0]: an HOURS window needs a TEMPORAL GroupBy, but this GroupBy is SNAPSHOT (Window can only be multiples of 1d or the operation needs to be un-windowed.)"),
    ("R-WIN-6 E-35", "hours_window_explicit_snapshot.json", ConfigKind::GroupBy, "config shop.bad.v1, aggregations[0].windows[0]: an HOURS window needs a TEMPORAL GroupBy, but this GroupBy is SNAPSHOT (Window can only be multiples of 1d or the operation needs to be un-windowed.)"),
    ("R-WIN-6", "hours_window_backfill_start_date.json", ConfigKind::GroupBy, "config shop.bad.v1, aggregations[0].windows[0]: an HOURS window cannot be used with backfillStartDate (Window can only be multiples of 1d or the operation needs to be un-windowed.)"),
    ("R-CFG-8", "source_with_two_variants.json", ConfigKind::GroupBy, "config shop.bad.v1, sources[0]: a Source must set exactly one of events, entities or joinSource, but it sets events and entities"),
    ("R-CFG-8", "source_with_no_variant.json", ConfigKind::GroupBy, "config shop.bad.v1, sources[0]: a Source must set exactly one of events, entities or joinSource, but it sets none"),
    ("R-SNAP-2", "temporal_events_without_time_column.json", ConfigKind::GroupBy, "config shop.bad.v1, sources[0].events.query.timeColumn: an events source of a TEMPORAL GroupBy needs a timeColumn"),
    ("R-AGG-7", "element_wise_with_buckets.json", ConfigKind::GroupBy, "config shop.bad.v1, aggregations[0].elementWise: elementWise cannot be combined with buckets"),
    ("R-NAME-4", "duplicate_output_column.json", ConfigKind::GroupBy, "config shop.bad.v1, aggregations[2]: output column price_sum_3d is produced twice (also by aggregations[0])"),
    ("R-NAME-4 R-NAME-9", "duplicate_derived_column.json", ConfigKind::GroupBy, "config shop.bad.v1, derivations[1]: output column price_sum_3d is produced twice (also by aggregations[0])"),
    ("R-SRC-3", "sources_select_different_columns.json", ConfigKind::GroupBy, "config shop.bad.v1, sources[1]: sources must select identical columns, but sources[0] selects user_id, price, merchant and this one selects user_id, price"),
    ("R-SRC-3", "two_streaming_sources.json", ConfigKind::GroupBy, "config shop.bad.v1, sources[1]: at most one source may be streaming, but sources[0] also has a topic"),
    ("R-SRC-3", "sources_with_different_partition_columns.json", ConfigKind::GroupBy, "config shop.bad.v1, sources[1]: sources must share one partition column, but sources[0] uses ds and this one uses date"),
    ("R-SRC-3", "sources_mix_events_and_entities.json", ConfigKind::GroupBy, "config shop.bad.v1, sources[1]: all sources must be events or all entities, but sources[0] is Events and this one is Entities"),
    ("R-SRC-1", "input_column_not_selected.json", ConfigKind::GroupBy, "config shop.bad.v1, aggregations[0].inputColumn: amount is not selected by the source (selects: user_id, price, merchant)"),
    ("R-AGG-8 R-SRC-1", "bucket_not_selected.json", ConfigKind::GroupBy, "config shop.bad.v1, aggregations[0].buckets[0]: card_type is not selected by the source (selects: user_id, price, merchant)"),
    ("R-SRC-1", "key_not_selected.json", ConfigKind::GroupBy, "config shop.bad.v1, keyColumns[0]: key buyer is not selected by the source (selects: user_id, price, merchant)"),
    ("§2.2", "no_key_columns.json", ConfigKind::GroupBy, "config shop.bad.v1, keyColumns: a GroupBy needs at least one key column"),
    ("§2.2", "no_sources.json", ConfigKind::GroupBy, "config shop.bad.v1, sources: a GroupBy needs at least one source"),
    ("R-CFG-5", "group_by_without_name.json", ConfigKind::GroupBy, "config <unnamed GroupBy>, metaData.name: a name is required"),
    ("§2.2", "events_source_without_table.json", ConfigKind::GroupBy, "config shop.bad.v1, sources[0].events.table: an events source needs a table"),
    ("R-CFG-1", "window_without_time_unit.json", ConfigKind::GroupBy, "config shop.bad.v1, aggregations[0].windows[0]: missing field `timeUnit`"),
    ("R-CFG-1", "not_an_object.json", ConfigKind::GroupBy, "config <unnamed GroupBy>: a GroupBy must be a JSON object"),
    ("R-CFG-1", "syntax_error.json", ConfigKind::GroupBy, "invalid JSON at line 3, column 1: trailing comma"),
    ("R-CFG-9", "join_with_model_transforms.json", ConfigKind::Join, "config shop.bad_join.v1, modelTransforms: Joins with modelTransforms are not supported"),
    ("R-JOIN-6", "join_left_without_time_column.json", ConfigKind::Join, "config shop.bad_join.v1, left.events.query.timeColumn: an Events left needs a timeColumn"),
    ("R-JOIN-6 R-SRC-5", "join_left_cumulative.json", ConfigKind::Join, "config shop.bad_join.v1, left.events.isCumulative: a cumulative source cannot be a join's left"),
    ("R-JOIN-6 R-SRC-7", "join_left_join_source.json", ConfigKind::Join, "config shop.bad_join.v1, left.joinSource: a JoinSource cannot be a join's left"),
    ("R-JOIN-2", "join_key_mapping_to_non_key.json", ConfigKind::Join, "config shop.bad_join.v1, joinParts[0].keyMapping.buyer: maps to user, which is not a key of shop.returns.v1 (keys: user_id)"),
    ("R-JOIN-2", "join_key_not_on_left.json", ConfigKind::Join, "config shop.bad_join.v1, joinParts[0].keyMapping: key user_id of shop.returns.v1 is neither mapped by keyMapping nor a column of the left (left selects: buyer, ts)"),
    ("R-JOIN-2", "join_key_mapping_from_missing_column.json", ConfigKind::Join, "config shop.bad_join.v1, joinParts[0].keyMapping.customer: customer is not a column of the left (left selects: buyer, ts)"),
    ("R-NAME-4 R-NAME-6", "join_duplicate_part_columns.json", ConfigKind::Join, "config shop.bad_join.v1, joinParts[1]: output column shop_returns_v1_refund_sum_7d is produced twice (also by joinParts[0])"),
    ("R-NAME-4 R-NAME-9", "join_duplicate_derived_column.json", ConfigKind::Join, "config shop.bad_join.v1, derivations[1]: output column shop_returns_v1_refund_sum_7d is produced twice (also by joinParts[0])"),
    ("R-AGG-9", "join_part_group_by_invalid.json", ConfigKind::Join, "config shop.bad_join.v1, joinParts[0].groupBy.aggregations[0].argMap.k: k needs to be specified in the argMap for BOTTOM_K type"),
    ("R-LABEL-1", "label_start_before_end.json", ConfigKind::Join, "config shop.bad_join.v1, labelPart.leftStartOffset: leftStartOffset (10) must be at least leftEndOffset (30)"),
    ("R-LABEL-1", "label_with_two_aggregations.json", ConfigKind::Join, "config shop.bad_join.v1, labelPart.labels[0].groupBy.aggregations: an aggregated label GroupBy needs exactly one aggregation, found 2"),
    ("R-LABEL-1", "label_with_two_windows.json", ConfigKind::Join, "config shop.bad_join.v1, labelPart.labels[0].groupBy.aggregations[0].windows: an aggregated label GroupBy needs exactly one DAYS window"),
    ("R-LABEL-1", "label_without_aggregations_reading_events.json", ConfigKind::Join, "config shop.bad_join.v1, labelPart.labels[0].groupBy.sources[0]: a label GroupBy without aggregations must read entities"),
    ("R-LABEL-1", "label_aggregated_reading_entities.json", ConfigKind::Join, "config shop.bad_join.v1, labelPart.labels[0].groupBy.sources[0]: an aggregated label GroupBy must read events"),
    ("R-LABEL-1", "label_on_entities_left.json", ConfigKind::Join, "config shop.bad_join.v1, labelPart: label parts need an Events left"),
    ("R-NAME-7 R-EXT-1", "external_source_without_name.json", ConfigKind::Join, "config shop.bad_join.v1, onlineExternalParts[0].source.metadata.name: an external source needs a name"),
    ("R-CFG-1", "external_schema_struct_without_name.json", ConfigKind::Join, "config shop.bad_join.v1, onlineExternalParts[0].source.keySchema.name: a STRUCT needs a name"),
    ("R-CFG-1", "join_without_left.json", ConfigKind::Join, "config shop.bad_join.v1: missing field `left`"),
    ("R-CFG-1", "staging_query_without_query.json", ConfigKind::StagingQuery, "config shop.bad_staging.v1, query: a StagingQuery needs a query"),
];

fn fixture_dir() -> &'static Path {
    Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/invalid"
    ))
}

#[test]
fn every_invalid_fixture_fails_with_its_expected_error() {
    let mut failures = Vec::new();
    for (rules, file, kind, expected) in CASES {
        let text = fs::read_to_string(fixture_dir().join(file)).unwrap();
        match Config::from_json_str(&text, Some(*kind)) {
            Ok(_) => failures.push(format!("{file} ({rules}): accepted")),
            Err(error) if error.to_string() != *expected => failures.push(format!(
                "{file} ({rules}):\n  expected {expected}\n  got      {error}"
            )),
            Err(_) => {}
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn every_invalid_fixture_is_in_the_table() {
    let listed: BTreeSet<&str> = CASES.iter().map(|(_, file, _, _)| *file).collect();
    assert_eq!(listed.len(), CASES.len(), "a fixture is listed twice");
    for entry in fs::read_dir(fixture_dir()).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        assert!(
            listed.contains(name.as_str()),
            "{name} has no expected error"
        );
    }
}

/// Loading the file names it before the error (and infers the kind from the JSON shape).
#[test]
fn file_errors_name_the_file() {
    let path = fixture_dir().join("last_k_without_k.json");
    let error = tilefold_query::config::load_file(&path).unwrap_err();
    assert!(matches!(error, ConfigError::File { .. }));
    assert_eq!(
        error.to_string(),
        format!(
            "{}: config shop.purchases.v1, aggregations[4].argMap.k: k needs to be specified in \
             the argMap for LAST_K type",
            path.display()
        )
    );
}

/// JSON syntax errors give line and column.
#[test]
fn syntax_errors_give_line_and_column() {
    let error = Config::from_json_str("{\"metaData\": {\"name\": 1}", None).unwrap_err();
    match error {
        ConfigError::Syntax { line, column, .. } => assert_eq!((line, column), (1, 24)),
        other => panic!("expected a syntax error, got {other}"),
    }
}

/// R-WIN-1: length 2147483647 is the unbounded window, valid even in HOURS on a SNAPSHOT GroupBy,
/// and named without a window suffix.
#[test]
fn explicit_unbounded_window_is_accepted() {
    let text = r#"{"metaData": {"name": "shop.unbounded.v1"},
        "sources": [{"events": {"table": "data.returns", "query": {"timeColumn": "ts"}}}],
        "keyColumns": ["user_id"],
        "aggregations": [
            {"inputColumn": "refund", "operation": 7, "windows": [{"length": 2147483647, "timeUnit": 0}]},
            {"inputColumn": "refund", "operation": 6, "windows": [{"length": 2147483647, "timeUnit": 1}]}]}"#;
    let Config::GroupBy(group_by) = Config::from_json_str(text, None).unwrap() else {
        panic!("expected a GroupBy");
    };
    assert_eq!(group_by.aggregations()[0].output_windows(), [None]);
    assert_eq!(group_by.aggregations()[1].output_windows(), [None]);
    let names: Vec<String> = group_by
        .output_columns()
        .into_iter()
        .map(|c| c.name)
        .collect();
    assert_eq!(names, ["refund_sum", "refund_count"]);
}
