//! Every compiled sample under `tests/fixtures/production/` loads (R-CFG-1, R-CFG-5), and its
//! output columns are the names derived by hand from R-NAME-1 … R-NAME-3 and R-NAME-6, R-NAME-9.

use std::fs;
use std::path::{Path, PathBuf};

use tilefold_query::config::{
    load_file, load_path, load_production_dir, Accuracy, ConfigKind, ConfigSet,
};

fn production_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/production")
}

fn files_below(directory: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in fs::read_dir(directory).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(files_below(&path));
        } else {
            files.push(path);
        }
    }
    files.sort();
    files
}

fn samples() -> ConfigSet {
    load_production_dir(production_dir()).unwrap()
}

#[test]
fn every_sample_file_loads_as_the_kind_of_its_directory() {
    let files = files_below(&production_dir());
    assert_eq!(files.len(), 10);
    for file in files {
        let config = load_file(&file).unwrap_or_else(|error| panic!("{error}"));
        let directory = file
            .parent()
            .unwrap()
            .parent()
            .unwrap()
            .file_name()
            .unwrap();
        assert_eq!(config.kind().directory(), directory, "{}", file.display());
        // R-CFG-5: the file is production/<kind>/<team>/<rest of name>.
        let team = file
            .parent()
            .unwrap()
            .file_name()
            .unwrap()
            .to_str()
            .unwrap();
        let rest = file.file_name().unwrap().to_str().unwrap();
        assert_eq!(config.name(), format!("{team}.{rest}"));
    }
}

#[test]
fn production_dir_is_keyed_by_name() {
    let set = samples();
    let names = |keys: Vec<&String>| keys.into_iter().cloned().collect::<Vec<_>>();
    assert_eq!(
        names(set.group_bys.keys().collect()),
        [
            "shop.accounts.v1",
            "shop.purchases.by_merchant",
            "shop.purchases.detail",
            "shop.purchases.v1",
            "shop.returns.v1",
            "shop.users.v1",
        ]
    );
    assert_eq!(
        names(set.joins.keys().collect()),
        [
            "shop.checkout.detail",
            "shop.checkout.v1",
            "shop.checkout.with_derivations"
        ]
    );
    assert_eq!(
        names(set.staging_queries.keys().collect()),
        ["shop.daily_spend.v1"]
    );
    assert_eq!(set.len(), 10);
    // load_path on the directory, on a kind directory and on one file.
    assert_eq!(load_path(production_dir()).unwrap(), set);
    assert_eq!(
        load_path(production_dir().join("joins")).unwrap().joins,
        set.joins
    );
    let one = load_path(production_dir().join("group_bys/shop/returns.v1")).unwrap();
    assert_eq!(
        one.group_bys.keys().collect::<Vec<_>>(),
        ["shop.returns.v1"]
    );
}

/// R-CFG-7: joins by request or dotted name; GroupBys by name or cleanName.
#[test]
fn lookups_accept_request_and_clean_names() {
    let set = samples();
    let join = set.join("shop/checkout.v1").unwrap();
    assert_eq!(join.name(), "shop.checkout.v1");
    assert_eq!(join.request_name(), "shop/checkout.v1");
    assert!(set.join("shop.checkout.v1").is_some());
    assert!(set.join("shop/checkout.v2").is_none());
    for name in [
        "shop.purchases.v1",
        "shop_purchases_v1",
        "shop/purchases.v1",
    ] {
        assert_eq!(set.group_by(name).unwrap().name(), "shop.purchases.v1");
    }
    assert!(set.staging_query("shop.daily_spend.v1").is_some());
}

fn group_by_columns(set: &ConfigSet, name: &str) -> Vec<String> {
    let group_by = set.group_by(name).unwrap();
    group_by
        .output_columns()
        .into_iter()
        .map(|c| c.name)
        .collect()
}

/// R-NAME-1, R-NAME-2 (aggregation order, then bucket, then window), R-NAME-3.
#[test]
fn sample_group_by_output_columns() {
    let set = samples();
    let expected: [(&str, &[&str]); 6] = [
        (
            "shop.purchases.v1",
            &[
                "price_sum_3d",
                "price_sum_14d",
                "price_sum_30d",
                "price_count_3d",
                "price_count_14d",
                "price_count_30d",
                "price_average_3d",
                "price_average_14d",
                "price_average_30d",
                "price_max_30d",
                "price_last10",
                "merchant_unique_count_30d",
            ],
        ),
        (
            "shop.purchases.by_merchant",
            &["price_average_30d_by_merchant"],
        ),
        (
            "shop.purchases.detail",
            &[
                "price_approx_percentile_7d",
                "merchant_approx_unique_count_90d",
                "price_top3_12h",
                "merchant_histogram_1h",
                "price_variance",
                "price_last",
                "price_first",
            ],
        ),
        (
            "shop.accounts.v1",
            &["account_id_count", "balance_sum", "balance_sum_7d"],
        ),
        (
            "shop.returns.v1",
            &["refund_sum_7d", "refund_sum_30d", "refund_count_30d"],
        ),
        // No aggregations: the selects minus the key (R-NAME-3).
        ("shop.users.v1", &["account_age_days", "country"]),
    ];
    for (name, columns) in expected {
        assert_eq!(group_by_columns(&set, name), columns, "{name}");
    }
}

/// R-ACC-1: a topic or mutationTopic makes a GroupBy TEMPORAL, else it is SNAPSHOT.
#[test]
fn sample_accuracies_are_inferred() {
    let set = samples();
    for (name, accuracy) in [
        ("shop.purchases.v1", Accuracy::Temporal),
        ("shop.purchases.detail", Accuracy::Temporal),
        ("shop.accounts.v1", Accuracy::Temporal),
        ("shop.returns.v1", Accuracy::Snapshot),
        ("shop.users.v1", Accuracy::Snapshot),
    ] {
        assert_eq!(set.group_by(name).unwrap().accuracy(), accuracy, "{name}");
    }
}

/// R-NAME-6 (fullPrefix) and R-NAME-9 (derivations) over the sample joins.
#[test]
fn sample_join_output_columns() {
    let set = samples();
    let purchases = group_by_columns(&set, "shop.purchases.v1");
    let returns = group_by_columns(&set, "shop.returns.v1");
    let prefixed = |prefix: &str, columns: &[String]| -> Vec<String> {
        columns.iter().map(|c| format!("{prefix}_{c}")).collect()
    };

    let checkout = set.join("shop.checkout.v1").unwrap();
    let mut expected = prefixed("shop_purchases_v1", &purchases);
    expected.extend(prefixed("shop_returns_v1", &returns));
    expected.extend([
        "shop_users_v1_account_age_days".into(),
        "shop_users_v1_country".into(),
    ]);
    assert_eq!(checkout.output_columns(), expected);
    assert_eq!(checkout.online_output_columns(), expected);
    assert_eq!(
        checkout.part_full_prefix(2).as_deref(),
        Some("shop_users_v1")
    );

    let derived = set.join("shop.checkout.with_derivations").unwrap();
    assert_eq!(
        derived.part_full_prefix(1).as_deref(),
        Some("r_shop_returns_v1")
    );
    let mut expected = prefixed("shop_purchases_v1", &purchases);
    expected.extend(prefixed("r_shop_returns_v1", &returns));
    expected.push("refund_ratio_30d".into());
    assert_eq!(derived.output_columns(), expected);

    let detail = set.join("shop.checkout.detail").unwrap();
    let mut expected = prefixed(
        "shop_purchases_detail",
        &group_by_columns(&set, "shop.purchases.detail"),
    );
    expected.push("shop_purchases_by_merchant_price_average_30d_by_merchant".into());
    assert_eq!(detail.output_columns(), expected);
}

#[test]
fn sample_staging_query() {
    let set = samples();
    let staging = set.staging_query("shop.daily_spend.v1").unwrap();
    assert_eq!(
        staging.output_table().as_deref(),
        Some("shop.shop_daily_spend_v1")
    );
    assert!(staging
        .query
        .as_deref()
        .unwrap()
        .contains("{{ start_date }}"));
    assert_eq!(staging.start_partition.as_deref(), Some("2026-08-01"));
    assert_eq!(
        ConfigKind::from_directory("staging_queries"),
        Some(ConfigKind::StagingQuery)
    );
}
