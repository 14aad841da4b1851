//! Every expression in the sample configs binds against the sample tables and evaluates on
//! every sample row (issue: "Every expression in production/ binds and evaluates on the sample
//! data"): sources' selects, wheres and time columns, joins' left queries, and join derivations
//! over the base columns the parts produce, fed with values folded from the sample events.

use std::collections::BTreeMap;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow::array::{new_null_array, ArrayRef, Float64Array, Int64Array, RecordBatch};
use arrow::datatypes::{DataType, Field, Schema};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use tilefold_query::aggregate::RowAggregator;
use tilefold_query::config::{load_path, ConfigSet, GroupBy, Source};
use tilefold_query::derivation::Derivations;
use tilefold_query::source_query::SourceQuery;
use tilefold_query::Value;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

fn configs() -> ConfigSet {
    load_path(fixtures().join("production")).unwrap()
}

/// `data.purchases` → the rows of `purchases.parquet`.
fn table(name: &str) -> Vec<RecordBatch> {
    let file = name.strip_prefix("data.").unwrap_or(name);
    let path = fixtures().join("data").join(format!("{file}.parquet"));
    let reader = ParquetRecordBatchReaderBuilder::try_new(File::open(&path).unwrap())
        .unwrap()
        .build()
        .unwrap();
    reader.collect::<Result<Vec<_>, _>>().unwrap()
}

fn source_query(
    config: &str,
    source: &Source,
    keys: &[String],
    batches: &[RecordBatch],
) -> SourceQuery {
    let query = source.query().unwrap();
    let events = matches!(source, Source::Events(_));
    SourceQuery::compile(
        config,
        "source.query",
        query,
        keys,
        events,
        &batches[0].schema(),
    )
    .unwrap_or_else(|e| panic!("{e}"))
}

/// Applies a GroupBy's first source query to its whole table.
fn applied(group_by: &GroupBy) -> Vec<RecordBatch> {
    let source = &group_by.sources()[0];
    let batches = table(source.table().unwrap());
    let q = source_query(group_by.name(), source, group_by.key_columns(), &batches);
    batches.iter().map(|b| q.apply(b).unwrap().batch).collect()
}

#[test]
fn every_group_by_source_query_runs_on_its_sample_table() {
    for (name, group_by) in &configs().group_bys {
        let rows: usize = applied(group_by).iter().map(RecordBatch::num_rows).sum();
        assert!(rows > 0, "{name}: no rows survived its query");
        if group_by.is_aggregated() {
            let batches = applied(group_by);
            RowAggregator::new(group_by, &batches[0].schema())
                .unwrap_or_else(|e| panic!("{name}: {e}"));
        }
    }
}

#[test]
fn every_join_left_query_runs_on_the_checkouts() {
    for (name, join) in &configs().joins {
        let batches = table(join.left.table().unwrap());
        let q = source_query(name, &join.left, &[], &batches);
        let rows: usize = batches
            .iter()
            .map(|b| q.apply(b).unwrap().batch.num_rows())
            .sum();
        assert_eq!(
            rows,
            batches.iter().map(RecordBatch::num_rows).sum::<usize>(),
            "{name}: the left keeps every row"
        );
    }
}

/// One value per user: every event of the user folded into one state and finalized (windows
/// ignored: this feeds derivations realistic values, it does not test windows).
fn folded_features(group_by: &GroupBy) -> (Vec<Field>, BTreeMap<String, Vec<Value>>) {
    let batches = applied(group_by);
    let agg = RowAggregator::new(group_by, &batches[0].schema()).unwrap();
    let key = batches[0]
        .schema()
        .index_of(&group_by.key_columns()[0])
        .unwrap();
    let ts = batches[0].schema().index_of("ts").unwrap();
    let mut users: BTreeMap<String, usize> = BTreeMap::new();
    let mut states = Vec::new();
    for b in &batches {
        let keys = b
            .column(key)
            .as_any()
            .downcast_ref::<arrow::array::StringArray>()
            .unwrap();
        let slots: Vec<usize> = (0..b.num_rows())
            .map(|i| {
                let next = users.len();
                *users.entry(keys.value(i).to_owned()).or_insert(next)
            })
            .collect();
        states.resize_with(users.len(), || agg.new_irs());
        let ts = b
            .column(ts)
            .as_any()
            .downcast_ref::<Int64Array>()
            .unwrap()
            .values()
            .to_vec();
        agg.update_batch(b, &ts, &slots, None, &mut states).unwrap();
    }
    let values = users
        .into_iter()
        .map(|(user, slot)| {
            let per_window = vec![states[slot].as_slice(); agg.windows().len()];
            (user, agg.finalize(&per_window))
        })
        .collect();
    (agg.output_fields(), values)
}

#[test]
fn join_derivations_evaluate_on_features_folded_from_the_samples() {
    let configs = configs();
    let join = &configs.joins["shop.checkout.with_derivations"];
    // The base columns and their values, part by part, for the users both parts know.
    let mut fields = Vec::new();
    let mut columns: Vec<Vec<Value>> = Vec::new();
    let mut users: Option<Vec<String>> = None;
    let parts: Vec<_> = join
        .join_parts
        .iter()
        .map(|p| (p.full_prefix(), folded_features(&p.group_by)))
        .collect();
    for (_, (_, values)) in &parts {
        let mine: Vec<String> = values.keys().cloned().collect();
        users = Some(match users {
            None => mine,
            Some(u) => u.into_iter().filter(|x| values.contains_key(x)).collect(),
        });
    }
    let users = users.unwrap();
    assert!(
        users.len() > 10,
        "the samples share users between purchases and returns"
    );
    for (prefix, (part_fields, values)) in &parts {
        for (i, f) in part_fields.iter().enumerate() {
            fields.push(Field::new(
                format!("{prefix}_{}", f.name()),
                f.data_type().clone(),
                true,
            ));
            columns.push(users.iter().map(|u| values[u][i].clone()).collect());
        }
    }
    let base: Vec<String> = fields.iter().map(|f| f.name().clone()).collect();
    assert_eq!(
        base,
        join.base_columns(tilefold_query::config::Serving::Offline)
            .into_iter()
            .map(|c| c.name)
            .collect::<Vec<_>>()
    );
    let arrays: Vec<ArrayRef> = fields
        .iter()
        .zip(&columns)
        .map(|(f, values)| -> ArrayRef {
            match f.data_type() {
                DataType::Float64 => {
                    Arc::new(values.iter().map(Value::as_f64).collect::<Float64Array>())
                }
                DataType::Int64 => {
                    Arc::new(values.iter().map(Value::as_i64).collect::<Int64Array>())
                }
                other => new_null_array(other, values.len()),
            }
        })
        .collect();
    let schema = Arc::new(Schema::new(fields));
    let batch = RecordBatch::try_new(schema.clone(), arrays).unwrap();
    let d = Derivations::compile(
        join.name(),
        "derivations",
        join.derivations(),
        &base,
        &schema,
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let out = d.apply(&batch).unwrap();
    let names: Vec<String> = out
        .schema()
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .collect();
    assert_eq!(names, join.output_columns());
    // refund_ratio_30d = refunds / purchases, checked against the inputs row by row.
    let ratio = out
        .column(out.num_columns() - 1)
        .as_any()
        .downcast_ref::<Float64Array>()
        .unwrap();
    let refunds = schema.index_of("r_shop_returns_v1_refund_sum_30d").unwrap();
    let spend = schema.index_of("shop_purchases_v1_price_sum_30d").unwrap();
    let pairs = columns[refunds].iter().zip(&columns[spend]);
    for (row, (r, s)) in pairs.enumerate() {
        match (r.as_f64(), s.as_f64()) {
            (Some(r), Some(s)) if s != 0.0 => assert_eq!(ratio.value(row), r / s),
            _ => assert!(arrow::array::Array::is_null(ratio, row)),
        }
    }
}
