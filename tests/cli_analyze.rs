//! `tilefold analyze`: loads the sample configs and prints their output columns; bad input
//! gives a non-zero exit and one clear line on stderr naming what was wrong.

use std::process::Command;

fn tilefold(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_tilefold"))
        .args(args)
        .output()
        .expect("runs")
}

const SAMPLES: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/query/tests/fixtures/production"
);

#[test]
fn analyze_prints_every_sample_config_and_its_columns() {
    let out = tilefold(&["analyze", SAMPLES]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    for name in [
        "shop.purchases.v1",
        "shop.returns.v1",
        "shop.users.v1",
        "shop.accounts.v1",
        "shop.checkout.v1",
        "shop.daily_spend.v1",
    ] {
        assert!(text.contains(name), "{name} missing from\n{text}");
    }
    // R-NAME-1 / R-NAME-6 names, derived by hand from the configs.
    for column in [
        "price_last10",
        "merchant_unique_count_30d",
        "shop_purchases_v1_price_sum_3d",
        "r_shop_returns_v1_refund_sum_30d",
        "refund_ratio_30d",
    ] {
        assert!(text.contains(column), "{column} missing");
    }
}

#[test]
fn analyze_json_is_machine_readable() {
    let out = tilefold(&["analyze", "--json", SAMPLES]);
    assert!(out.status.success());
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let joins = json["joins"].as_array().unwrap();
    let checkout = joins
        .iter()
        .find(|j| j["name"] == "shop.checkout.v1")
        .unwrap();
    assert_eq!(checkout["request_name"], "shop/checkout.v1");
}

#[test]
fn a_bad_config_fails_with_one_line_naming_the_file_and_field() {
    let dir = std::env::temp_dir().join(format!("tilefold-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("bad_group_by");
    let config = r#"{"metaData": {"name": "t.bad.v1"}, "keyColumns": ["k"],
        "sources": [{"events": {"table": "t", "query": {"selects": {"k": "k", "x": "x"}, "timeColumn": "ts"}}}],
        "aggregations": [{"inputColumn": "x", "operation": 13, "argMap": {}}]}"#;
    std::fs::write(&path, config).unwrap();
    let out = tilefold(&["analyze", path.to_str().unwrap()]);
    std::fs::remove_dir_all(&dir).ok();
    assert!(!out.status.success());
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("t.bad.v1") && stderr.contains("k needs to be specified"),
        "{stderr}"
    );

    let missing = tilefold(&["analyze", "/nonexistent/tilefold/path"]);
    assert!(!missing.status.success());
    assert!(String::from_utf8_lossy(&missing.stderr).contains("/nonexistent/tilefold/path"));
}
