//! Bulk load: a table's Parquet files → raw partitions → every GroupBy reading the table
//! prepared again for those partitions, tiles rebuilt → one commit.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::Path;

use arrow::array::RecordBatch;
use tilefold_ingest::{read_parquet, split_partitions, IngestError, RowCounts};

use super::catalog::FileEntry;
use super::head::HeadChange;
use super::rebuild::{partition_column, reads_table, Work};
use super::{Change, Store};
use crate::{Error, Result};

/// What a load did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LoadReport {
    pub table: String,
    pub rows: usize,
    /// Partitions written (a partition loaded again replaces the old one).
    pub partitions: Vec<String>,
    /// Rows rejected for a null or malformed partition value.
    pub rejected_partition: usize,
    /// Per GroupBy reading the table: what its source query kept and dropped.
    pub group_bys: BTreeMap<String, RowCounts>,
}

impl fmt::Display for LoadReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "loaded {}: {} rows in {} partitions ({} .. {})",
            self.table,
            self.rows,
            self.partitions.len(),
            self.partitions.first().map_or("-", String::as_str),
            self.partitions.last().map_or("-", String::as_str),
        )?;
        if self.rejected_partition > 0 {
            writeln!(
                f,
                "  rejected {} rows: null or malformed partition value",
                self.rejected_partition
            )?;
        }
        for (name, c) in &self.group_bys {
            write!(f, "  {name}: {} rows kept", c.kept)?;
            let mut dropped = Vec::new();
            if c.filtered > 0 {
                dropped.push(format!("{} filtered by wheres", c.filtered));
            }
            if c.null_time > 0 {
                dropped.push(format!("{} rejected: null time column", c.null_time));
            }
            if c.null_keys > 0 {
                dropped.push(format!("{} dropped: all keys null", c.null_keys));
            }
            if c.null_mutation_time > 0 {
                dropped.push(format!(
                    "{} rejected: null mutation time",
                    c.null_mutation_time
                ));
            }
            if !dropped.is_empty() {
                write!(f, "; {}", dropped.join(", "))?;
            }
            writeln!(f)?;
        }
        Ok(())
    }
}

impl Store {
    /// Loads Parquet files into `table` (e.g. `data.purchases`). Rows carry the partition column
    /// (`ds`); each partition in the files replaces the stored one.
    pub fn load_parquet(&self, table: &str, files: &[impl AsRef<Path>]) -> Result<LoadReport> {
        let mut batches = Vec::new();
        let mut schema = None;
        for file in files {
            let file = file.as_ref();
            let (s, b) = read_parquet(file)?;
            match &schema {
                None => schema = Some(s),
                Some(first) if first.fields() != s.fields() => {
                    return Err(Error::Ingest(IngestError::SchemaMismatch {
                        file: file.to_owned(),
                        reason: format!("expected {first}, found {s}"),
                    }))
                }
                Some(_) => {}
            }
            batches.extend(b);
        }
        let Some(schema) = schema else {
            return Ok(LoadReport {
                table: table.to_owned(),
                ..LoadReport::default()
            });
        };
        self.load(table, &schema, Cow::Owned(batches))
    }

    /// Loads Arrow batches into `table`, as [`Store::load_parquet`] does.
    pub fn load_batches(
        &self,
        table: &str,
        schema: &arrow::datatypes::SchemaRef,
        batches: &[RecordBatch],
    ) -> Result<LoadReport> {
        self.load(table, schema, Cow::Borrowed(batches))
    }

    /// [`Store::load_batches`]; batches it owns are dropped once split into partitions, so a
    /// load holds one copy of the table's rows fewer.
    fn load(
        &self,
        table: &str,
        schema: &arrow::datatypes::SchemaRef,
        batches: Cow<'_, [RecordBatch]>,
    ) -> Result<LoadReport> {
        let _changes = self.changes()?;
        let _writer = self.writer()?;
        // Streamed rows are sealed first: the load may move their GroupBys' batch end.
        self.seal_locked()?;
        let state = self.state();
        let readers: Vec<_> = state
            .group_bys
            .values()
            .filter(|g| reads_table(g, table))
            .collect();
        let column = partition_column(&readers, table);
        let partitions = split_partitions(table, schema, &batches, &column)?;
        let rows = batches.iter().map(RecordBatch::num_rows).sum();
        drop(batches);
        let mut report = LoadReport {
            table: table.to_owned(),
            rows,
            partitions: partitions.batches.keys().cloned().collect(),
            rejected_partition: partitions.rejected,
            group_bys: BTreeMap::new(),
        };
        let mut txn = self.inner.db.begin_write()?;
        let mut work = Work::new(self, &state, &mut txn)?;
        let mut entry = work.tables.get(table).cloned().unwrap_or_default();
        let files: Vec<_> = partitions
            .batches
            .values()
            .map(|_| work.new_file("tables", table))
            .collect();
        if let Some((_, absolute)) = files.first() {
            work.make_parent(absolute)?;
        }
        let writes: Vec<_> = files
            .iter()
            .zip(partitions.batches.values())
            .map(|((_, absolute), batch)| (absolute.as_path(), batch))
            .collect();
        work.write_all(&writes)?;
        for ((partition, batch), (relative, _)) in partitions.batches.iter().zip(files) {
            let old = entry.partitions.insert(
                partition.clone(),
                FileEntry {
                    file: relative,
                    rows: batch.num_rows() as u64,
                },
            );
            if let Some(old) = old {
                work.obsolete.push(self.inner.dir.join(old.file));
            }
            work.raw
                .insert((table.to_owned(), partition.clone()), batch.clone());
        }
        work.tables.insert(table.to_owned(), entry);
        let loaded: BTreeSet<String> = partitions.batches.keys().cloned().collect();
        for group_by in &readers {
            work.rebuild(group_by, Some((table, &loaded)))?;
        }
        report.group_bys = work.counts.clone();
        let tables = work.tables.clone();
        let (entries, obsolete) = work.finish()?;
        self.commit(txn)?;
        self.publish(Change {
            configs: None,
            tables: Some(tables),
            entries,
            heads: HeadChange::Keep,
        })?;
        self.remove_files(&obsolete);
        Ok(report)
    }
}
