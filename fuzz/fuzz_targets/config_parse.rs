//! Arbitrary bytes through the config parser and validation (DESIGN.md I4): never a panic, and
//! every accepted config writes back to JSON that parses to the same config.

#![no_main]

use libfuzzer_sys::fuzz_target;
use tilefold_query::config::{Config, ConfigKind};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let kinds = [
        None,
        Some(ConfigKind::GroupBy),
        Some(ConfigKind::Join),
        Some(ConfigKind::StagingQuery),
    ];
    for kind in kinds {
        let Ok(config) = Config::from_json_str(text, kind) else {
            continue;
        };
        match &config {
            Config::GroupBy(group_by) => {
                let _ = (group_by.accuracy(), group_by.value_columns());
                for aggregation in group_by.aggregations() {
                    let _ = (aggregation.k(), aggregation.percentiles());
                }
            }
            Config::Join(join) => {
                let _ = (join.output_columns(), join.online_output_columns());
                let _ = (join.label_columns(), join.request_name());
            }
            Config::StagingQuery(staging_query) => {
                let _ = staging_query.output_table();
            }
        }
        let written = config.to_json_string();
        let reread = Config::from_json_str(&written, Some(config.kind()))
            .expect("a written config parses again");
        assert_eq!(reread, config, "a written config reads back equal");
    }
});
