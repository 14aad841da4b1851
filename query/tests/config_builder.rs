//! The Rust builders make the same structures the compiler writes: a built GroupBy and Join equal
//! the parsed samples (ignoring metaData extras), and `build()` validates.

use std::path::{Path, PathBuf};

use serde_json::Value;
use tilefold_query::config::{
    Aggregation, ConfigError, Derivation, GroupBy, Join, JoinPart, Operation, Source, Window,
};

fn production(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/production")
        .join(path)
}

/// The JSON with every `metaData` reduced to its name.
fn without_meta_extras(value: &Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(key, value)| {
                    let value = if key == "metaData" {
                        serde_json::json!({ "name": value["name"] })
                    } else {
                        without_meta_extras(value)
                    };
                    (key.clone(), value)
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(without_meta_extras).collect()),
        other => other.clone(),
    }
}

fn purchases() -> GroupBy {
    let windows = [Window::days(3), Window::days(14), Window::days(30)];
    let windowed = |operation| {
        windows.iter().fold(
            Aggregation::new(operation, "price"),
            |aggregation, window| aggregation.window(*window),
        )
    };
    GroupBy::builder("shop.purchases.v1")
        .online(true)
        .team("shop")
        .output_namespace("shop")
        .source(
            Source::events("data.purchases")
                .topic("events/purchases")
                .select("user_id", "user_id")
                .select("merchant", "merchant")
                .select("price", "purchase_price * (1 - merchant_fee_percent/100)")
                .where_clause("purchase_price IS NOT NULL OR merchant IS NOT NULL")
                .time_column("ts"),
        )
        .key("user_id")
        .aggregation(windowed(Operation::Sum))
        .aggregation(windowed(Operation::Count))
        .aggregation(windowed(Operation::Average))
        .aggregation(Aggregation::new(Operation::Max, "price").window(Window::days(30)))
        .aggregation(Aggregation::new(Operation::LastK, "price").arg("k", "10"))
        .aggregation(Aggregation::new(Operation::UniqueCount, "merchant").window(Window::days(30)))
        .build()
        .unwrap()
}

fn returns() -> GroupBy {
    GroupBy::builder("shop.returns.v1")
        .source(
            Source::events("data.returns")
                .select("user_id", "user_id")
                .select("refund", "refund_amount")
                .time_column("ts"),
        )
        .key("user_id")
        .aggregation(
            Aggregation::new(Operation::Sum, "refund")
                .window(Window::days(7))
                .window(Window::days(30)),
        )
        .aggregation(Aggregation::new(Operation::Count, "refund").window(Window::days(30)))
        .build()
        .unwrap()
}

#[test]
fn built_group_by_equals_the_compiled_sample() {
    let parsed = GroupBy::from_path(production("group_bys/shop/purchases.v1")).unwrap();
    let built = purchases();
    assert_eq!(
        without_meta_extras(&built.to_json_value()),
        without_meta_extras(&parsed.to_json_value())
    );
    assert_eq!(built.output_columns(), parsed.output_columns());
}

#[test]
fn built_join_equals_the_compiled_sample() {
    let parsed = Join::from_path(production("joins/shop/checkout.with_derivations")).unwrap();
    let built = Join::builder("shop.checkout.with_derivations")
        .left(
            Source::events("data.checkouts")
                .select("user_id", "user_id")
                .select("cart_total", "cart_total")
                .select("ts", "ts")
                .time_column("ts"),
        )
        .part(JoinPart::new(purchases()))
        .part(JoinPart::new(returns()).prefix("r"))
        .derivation(Derivation::star())
        .derivation(Derivation::new(
            "refund_ratio_30d",
            "r_shop_returns_v1_refund_sum_30d / shop_purchases_v1_price_sum_30d",
        ))
        .build()
        .unwrap();
    assert_eq!(
        without_meta_extras(&built.to_json_value()),
        without_meta_extras(&parsed.to_json_value())
    );
    assert_eq!(built.output_columns(), parsed.output_columns());
}

/// `build()` runs the same validation as the loaders (R-AGG-9, R-JOIN-2).
#[test]
fn build_validates() {
    let error = GroupBy::builder("shop.bad.v1")
        .source(
            Source::events("data.purchases")
                .select("user_id", "user_id")
                .time_column("ts"),
        )
        .key("user_id")
        .aggregation(Aggregation::new(Operation::TopK, "user_id"))
        .build()
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        "config shop.bad.v1, aggregations[0].argMap.k: k needs to be specified in the argMap for \
         TOP_K type"
    );

    let error = Join::builder("shop.bad_join.v1")
        .left(
            Source::events("data.checkouts")
                .select("buyer", "user_id")
                .time_column("ts"),
        )
        .part(JoinPart::new(returns()).key_mapping("buyer", "buyer_id"))
        .build()
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        "config shop.bad_join.v1, joinParts[0].keyMapping.buyer: maps to buyer_id, which is not \
         a key of shop.returns.v1 (keys: user_id)"
    );

    let error = Join::builder("shop.no_left.v1").build().unwrap_err();
    assert!(matches!(error, ConfigError::Invalid { .. }));
    assert_eq!(
        error.to_string(),
        "config shop.no_left.v1, left: a Join needs a left source"
    );
}
