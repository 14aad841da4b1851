//! Output naming: every example of SEMANTICS.md §5, R-CFG-6, R-CFG-7 and E-36, E-27.

use tilefold_query::config::{Aggregation, Derivation, GroupBy, Operation, Source, Window};
use tilefold_query::naming::{self, TableSuffix};

/// R-CFG-6.
#[test]
fn clean_name_replaces_other_characters_with_underscores() {
    assert_eq!(
        naming::clean_name("payments.merchant_txn.v1"),
        "payments_merchant_txn_v1"
    );
    assert_eq!(naming::clean_name("a-b c/d.É9"), "a_b_c_d__9");
}

/// R-CFG-7, with the dotted form accepted (Decision).
#[test]
fn request_names() {
    assert_eq!(
        naming::request_name("payments.checkout_model.v2"),
        "payments/checkout_model.v2"
    );
    assert_eq!(
        naming::join_name_from_request("payments/checkout_model.v2"),
        "payments.checkout_model.v2"
    );
    assert_eq!(
        naming::join_name_from_request("payments.checkout_model.v2"),
        "payments.checkout_model.v2"
    );
}

/// R-NAME-1 examples.
#[test]
fn column_names_of_r_name_1() {
    let day7 = Window::days(7);
    let hour1 = Window::hours(1);
    let cases = [
        (
            naming::column_name("event", Operation::Sum, None, Some(&day7), None),
            "event_sum_7d",
        ),
        (
            naming::column_name("event", Operation::Sum, None, None, None),
            "event_sum",
        ),
        (
            naming::column_name("event", Operation::ApproxPercentile, Some(128), None, None),
            "event_approx_percentile",
        ),
        (
            naming::column_name("view", Operation::LastK, Some(30), None, None),
            "view_last30",
        ),
        (
            naming::column_name(
                "price",
                Operation::Average,
                None,
                Some(&hour1),
                Some("card_type"),
            ),
            "price_average_1h_by_card_type",
        ),
        (
            naming::column_name("x", Operation::FirstK, Some(2), None, None),
            "x_first2",
        ),
        (
            naming::column_name("x", Operation::TopK, Some(3), None, None),
            "x_top3",
        ),
        (
            naming::column_name("x", Operation::BottomK, Some(4), None, None),
            "x_bottom4",
        ),
        (
            naming::column_name("x", Operation::BoundedUniqueCount, Some(8), None, None),
            "x_bounded_unique_count",
        ),
        (
            naming::column_name("x", Operation::Sum, None, Some(&Window::unbounded()), None),
            "x_sum",
        ),
    ];
    for (actual, expected) in cases {
        assert_eq!(actual, expected);
    }
}

/// E-36: a 24-HOURS window is named as written, `_24h`, not `_1d`.
#[test]
fn hours_are_named_as_written() {
    assert_eq!(naming::window_suffix(Some(&Window::hours(24))), "_24h");
    assert_eq!(naming::window_suffix(Some(&Window::days(1))), "_1d");
    assert_eq!(naming::window_suffix(None), "");
}

/// R-NAME-2: aggregation order, then for each bucket, for each window.
#[test]
fn columns_follow_aggregation_bucket_window_order() {
    let group_by = GroupBy::builder("shop.order.v1")
        .source(
            Source::events("data.purchases")
                .select("user_id", "user_id")
                .select("price", "price")
                .select("merchant", "merchant")
                .select("country", "country")
                .time_column("ts")
                .topic("events/purchases"),
        )
        .key("user_id")
        .aggregation(
            Aggregation::new(Operation::Sum, "price")
                .bucket("merchant")
                .bucket("country")
                .window(Window::days(1))
                .window(Window::hours(24)),
        )
        .aggregation(Aggregation::new(Operation::Count, "price"))
        .build()
        .unwrap();
    let names: Vec<String> = group_by
        .output_columns()
        .into_iter()
        .map(|c| c.name)
        .collect();
    assert_eq!(
        names,
        [
            "price_sum_1d_by_merchant",
            "price_sum_24h_by_merchant",
            "price_sum_1d_by_country",
            "price_sum_24h_by_country",
            "price_count",
        ]
    );
    let first = &group_by.output_columns()[1];
    assert_eq!(first.aggregation, Some(0));
    assert_eq!(first.window, Some(Window::hours(24)));
    assert_eq!(first.bucket.as_deref(), Some("merchant"));
    assert_eq!(first.operation, Some(Operation::Sum));
}

/// R-NAME-5 tables.
#[test]
fn table_names() {
    let table = naming::output_table("features", "payments.merchant_txn.v1");
    assert_eq!(table, "features.payments_merchant_txn_v1");
    let suffixes = [
        (TableSuffix::Upload, "_upload"),
        (TableSuffix::Logged, "_logged"),
        (TableSuffix::Bootstrap, "_bootstrap"),
        (TableSuffix::Consistency, "_consistency"),
        (TableSuffix::Comparison, "_comparison"),
        (TableSuffix::Labels, "_labels"),
        (TableSuffix::Labeled, "_labeled"),
        (TableSuffix::LabeledLatest, "_labeled_latest"),
        (TableSuffix::DailyStats, "_daily_stats"),
        (TableSuffix::DailyInc, "_daily_inc"),
    ];
    for (suffix, text) in suffixes {
        assert_eq!(
            naming::related_table(&table, suffix),
            format!("{table}{text}")
        );
    }
    assert_eq!(
        naming::join_part_table(
            "features.payments_checkout_model_v2",
            Some("m"),
            "payments.txn.v1"
        ),
        "features.payments_checkout_model_v2_m_payments_txn_v1"
    );
    assert_eq!(
        naming::join_part_table("features.checkout", None, "payments.txn.v1"),
        "features.checkout_payments_txn_v1"
    );
    assert_eq!(
        naming::batch_dataset("payments.txn.v1"),
        "PAYMENTS_TXN_V1_BATCH"
    );
    assert_eq!(
        naming::streaming_dataset("payments.txn.v1"),
        "PAYMENTS_TXN_V1_STREAMING"
    );
}

/// R-NAME-6, R-NAME-7, R-NAME-8.
#[test]
fn prefixes() {
    let full_prefix = naming::full_prefix(None, "payments.merchant_txn.v1");
    assert_eq!(
        naming::prefixed(&full_prefix, "amount_cents_sum_7d"),
        "payments_merchant_txn_v1_amount_cents_sum_7d"
    );
    assert_eq!(
        naming::full_prefix(Some("m"), "payments.merchant_txn.v1"),
        "m_payments_merchant_txn_v1"
    );
    let contextual = naming::external_full_name(None, "contextual");
    assert_eq!(
        naming::prefixed(&contextual, "device"),
        "ext_contextual_device"
    );
    assert_eq!(
        naming::external_full_name(Some("p"), "risk.score"),
        "ext_p_risk_score"
    );
    assert_eq!(
        naming::label_column("payments_chargebacks_v1_is_cb"),
        "label_payments_chargebacks_v1_is_cb"
    );
}

/// R-NAME-9 and E-27: a rename replaces its source under `*`, an expression does not; without
/// `*` only derivations appear.
#[test]
fn derivation_projection() {
    let base = vec!["x".to_owned(), "z".to_owned()];
    let rename = [Derivation::star(), Derivation::new("x2", "x")];
    assert_eq!(naming::derivation_names(&base, &rename), ["z", "x2"]);
    let expression = [Derivation::star(), Derivation::new("y", "x * 2")];
    assert_eq!(
        naming::derivation_names(&base, &expression),
        ["x", "z", "y"]
    );
    let no_star = [Derivation::new("y", "x * 2")];
    assert_eq!(naming::derivation_names(&base, &no_star), ["y"]);
    let star_last = [Derivation::new("y", "x * 2"), Derivation::star()];
    assert_eq!(naming::derivation_names(&base, &star_last), ["y", "x", "z"]);
    assert_eq!(naming::derivation_names(&base, &[]), ["x", "z"]);
}
