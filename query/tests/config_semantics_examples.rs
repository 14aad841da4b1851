//! The JSON examples of SEMANTICS.md §2.4 (fixtures under `tests/fixtures/semantics/`) load and
//! give the names and accuracies the document states.

use std::path::{Path, PathBuf};

use tilefold_query::config::{
    load_production_dir, Accuracy, ColumnOrigin, ConfigSet, DataModel, Operation, Serving,
};

fn examples_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/semantics/production")
}

fn examples() -> ConfigSet {
    load_production_dir(examples_dir()).unwrap()
}

#[test]
fn events_group_by_outputs() {
    let set = examples();
    let group_by = set.group_by("payments.merchant_txn.v1").unwrap();
    let names: Vec<String> = group_by
        .output_columns()
        .into_iter()
        .map(|c| c.name)
        .collect();
    assert_eq!(
        names,
        [
            "amount_cents_sum_7d",
            "amount_cents_sum_12h",
            "amount_cents_average_30d_by_card_type",
            "amount_cents_last3",
            "amount_cents_approx_percentile",
        ]
    );
    assert_eq!(group_by.accuracy(), Accuracy::Temporal);
    let percentile = &group_by.aggregations()[3];
    assert_eq!(percentile.operation, Operation::ApproxPercentile);
    assert_eq!(percentile.k(), Ok(Some(128)));
    assert_eq!(percentile.percentiles(), Some(vec![0.5, 0.9]));
    assert_eq!(group_by.aggregations()[2].k(), Ok(Some(3)));
    assert_eq!(
        group_by.output_table().as_deref(),
        Some("features.payments_merchant_txn_v1")
    );
}

/// R-ACC-1: the entity source with a mutationTopic makes its GroupBy TEMPORAL.
#[test]
fn entity_source_with_mutations_is_temporal() {
    let set = examples();
    let group_by = set.group_by("payments.merchants.v1").unwrap();
    assert!(group_by.accuracy.is_none());
    assert_eq!(group_by.accuracy(), Accuracy::Temporal);
    let source = &group_by.sources()[0];
    assert_eq!(source.data_model(), DataModel::Entities);
    assert_eq!(source.topic(), Some("merchants_cdc"));
    let query = source.query().unwrap();
    assert_eq!(query.mutation_time_column_or_default(), "mutated_at_ms");
    assert_eq!(query.reversal_column_or_default(), "is_before");
    assert_eq!(query.partition_column_or_default(), "ds");
}

#[test]
fn join_outputs() {
    let set = examples();
    let join = set.join("payments/checkout_model.v2").unwrap();
    assert_eq!(join.request_name(), "payments/checkout_model.v2");
    assert_eq!(
        join.part_full_prefix(0).as_deref(),
        Some("m_payments_merchant_txn_count_v1")
    );
    assert_eq!(
        join.external_full_name(0).as_deref(),
        Some("ext_contextual")
    );
    assert!(join.external_parts()[0].source.is_contextual());
    // Offline: the contextual column is dropped (R-EXT-3).
    assert_eq!(
        join.output_columns(),
        [
            "m_payments_merchant_txn_count_v1_txn_id_count_1d",
            "txn_1d_capped"
        ]
    );
    // Online it is served.
    assert_eq!(
        join.online_output_columns(),
        [
            "m_payments_merchant_txn_count_v1_txn_id_count_1d",
            "ext_contextual_device",
            "txn_1d_capped",
        ]
    );
    let base = join.base_columns(Serving::Online);
    assert_eq!(
        base[1].origin,
        ColumnOrigin::External {
            part: 0,
            column: "device".to_owned()
        }
    );
    assert_eq!(
        join.label_columns(),
        ["label_payments_chargebacks_v1_is_cb"]
    );
    assert_eq!(join.row_ids(), ["request_id"]);
    assert_eq!(join.bootstrap_parts().len(), 1);
    let label_part = join.label_part.as_ref().unwrap();
    assert_eq!(
        (label_part.left_start_offset, label_part.left_end_offset),
        (Some(30), Some(30))
    );
}

/// R-SRC-7: a chained GroupBy counts as its parent's left (events without a topic: SNAPSHOT).
#[test]
fn chained_group_by() {
    let set = examples();
    let group_by = set.group_by("payments.merchant_capped.v1").unwrap();
    let source = &group_by.sources()[0];
    assert_eq!(source.variant_name(), "joinSource");
    assert_eq!(source.data_model(), DataModel::Events);
    assert_eq!(source.topic(), None);
    assert_eq!(group_by.accuracy(), Accuracy::Snapshot);
    assert_eq!(group_by.output_columns()[0].name, "capped_sum_7d");
}

#[test]
fn staging_query() {
    let set = examples();
    let staging = set.staging_query("payments.daily_stats.v1").unwrap();
    assert_eq!(
        staging.output_table().as_deref(),
        Some("features.payments_daily_stats_v1")
    );
    assert_eq!(staging.setups.as_deref(), Some(&[][..]));
}
