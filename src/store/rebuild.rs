//! Preparing a GroupBy's rows and tiles from loaded tables, inside one write transaction.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;
use std::path::PathBuf;

use arrow::array::{AsArray, RecordBatch};
use arrow::datatypes::{Int64Type, Schema};

use tilefold_ingest::{kept_from, par_map, Role, RowCounts, SourceRows};
use tilefold_query::config::{ConfigError, GroupBy, Source};
use tilefold_query::evaluate::{GroupByEvaluator, MUTATION_TIME_COLUMN, REVERSAL_COLUMN};
use tilefold_query::key::KeyCodec;
use tilefold_query::naming::clean_name;
use tilefold_query::source_query::TIME_COLUMN;
use tilefold_query::window::parse_day;
use tilefold_query::DataType;
use tilefold_storage::{write_segment, Segment, WriteTxn};

use super::catalog::{
    group_by_key, table_key, GroupByEntry, RoleName, SegmentEntry, TableEntry, NEXT_FILE_ID,
};
use super::tile_write::{write_tiles, TileWrite};
use super::{State, Store};
use crate::{Error, Result};

/// New catalog entries per GroupBy (`None`: it has no rows any more).
pub(super) type Entries = BTreeMap<String, Option<GroupByEntry>>;

/// The changes of one commit: new files, replaced files, new catalog entries.
pub(super) struct Work<'a> {
    store: &'a Store,
    state: &'a State,
    txn: &'a mut WriteTxn,
    next_id: u64,
    pub tables: BTreeMap<String, TableEntry>,
    /// Partitions loaded by this change, still in memory.
    pub raw: BTreeMap<(String, String), RecordBatch>,
    pub entries: BTreeMap<String, Option<GroupByEntry>>,
    pub counts: BTreeMap<String, RowCounts>,
    pub obsolete: Vec<PathBuf>,
    /// GroupBys whose streamed rows no longer fit their sources: dropped when rebuilt.
    pub forget_streams: BTreeSet<String>,
}

impl<'a> Work<'a> {
    pub fn new(store: &'a Store, state: &'a State, txn: &'a mut WriteTxn) -> Result<Self> {
        let next_id = match state.read.catalog(NEXT_FILE_ID)? {
            Some(bytes) if bytes.len() == 8 => {
                u64::from_le_bytes(bytes.as_slice().try_into().unwrap_or([0; 8]))
            }
            _ => 1,
        };
        Ok(Work {
            store,
            state,
            txn,
            next_id,
            tables: BTreeMap::clone(&state.tables),
            raw: BTreeMap::new(),
            entries: BTreeMap::new(),
            counts: BTreeMap::new(),
            obsolete: Vec::new(),
            forget_streams: BTreeSet::new(),
        })
    }

    /// The store's directory, which catalog file names are relative to.
    pub fn dir(&self) -> &std::path::Path {
        &self.store.inner.dir
    }

    /// A new file name under `segments/<kind>/<name>/`: (relative, absolute).
    pub fn new_file(&mut self, kind: &str, name: &str) -> (String, PathBuf) {
        let id = self.next_id;
        self.next_id += 1;
        let relative = format!("segments/{kind}/{}/{id:08}.arrow", clean_name(name));
        let absolute = self.store.inner.dir.join(&relative);
        (relative, absolute)
    }

    pub fn write(&mut self, absolute: &std::path::Path, batch: &RecordBatch) -> Result<()> {
        self.make_parent(absolute)?;
        write_segment(self.store.inner.fs.as_ref(), absolute, batch)?;
        Ok(())
    }

    /// Writes each batch to its file (whose directories exist), spread over the cores.
    pub fn write_all(&self, files: &[(&std::path::Path, &RecordBatch)]) -> Result<()> {
        let fs = self.store.inner.fs.as_ref();
        par_map(files, |(absolute, batch)| {
            write_segment(fs, absolute, batch)
        })
        .into_iter()
        .collect::<Result<Vec<_>, _>>()?;
        Ok(())
    }

    /// Creates the directory of `absolute` if need be, durably: a new directory's entry must
    /// be durable before a commit refers to files in it.
    pub fn make_parent(&self, absolute: &std::path::Path) -> Result<()> {
        let fs = self.store.inner.fs.as_ref();
        let Some(parent) = absolute.parent() else {
            return Ok(());
        };
        if fs.is_dir(parent) {
            return Ok(());
        }
        fs.create_dir_all(parent).map_err(Error::io(parent))?;
        let mut dir = parent;
        while let Some(up) = dir.parent() {
            fs.sync_dir(up).map_err(Error::io(up))?;
            if up == self.store.inner.dir {
                break;
            }
            dir = up;
        }
        Ok(())
    }

    fn raw_batch(&self, table: &str, partition: &str) -> Result<Option<RecordBatch>> {
        if let Some(batch) = self.raw.get(&(table.to_owned(), partition.to_owned())) {
            return Ok(Some(batch.clone()));
        }
        let Some(file) = self
            .tables
            .get(table)
            .and_then(|t| t.partitions.get(partition))
        else {
            return Ok(None);
        };
        let segment = Segment::open(&self.store.inner.dir.join(&file.file))?;
        Ok(Some(segment.batch().clone()))
    }

    /// Prepares `group_by` again: from every loaded partition of its tables (`only` = None), or
    /// only from the given partitions of one table, keeping its other rows.
    pub fn rebuild(
        &mut self,
        group_by: &GroupBy,
        only: Option<(&str, &BTreeSet<String>)>,
    ) -> Result<()> {
        let name = group_by.name().to_owned();
        let old = match self.entries.get(&name) {
            Some(entry) => entry.clone(),
            None => self.state.bound.get(&name).map(|b| b.entry.clone()),
        };
        let mut segments = Vec::new();
        for segment in old.map(|e| e.segments).unwrap_or_default() {
            let table = source_table(group_by.sources(), segment.source, segment.role);
            let replaced = match only {
                // Streamed rows are kept unless the GroupBy's sources changed.
                _ if segment.stream => self.forget_streams.contains(&name),
                Some((t, partitions)) => {
                    table.as_deref() == Some(t) && partitions.contains(&segment.partition)
                }
                None => true,
            };
            if replaced {
                self.obsolete.push(self.store.inner.dir.join(&segment.file));
            } else {
                segments.push(segment);
            }
        }
        let mut counts = RowCounts::default();
        for (index, source) in group_by.sources().iter().enumerate() {
            for role in [Role::Events, Role::Snapshot, Role::Mutations] {
                let Some(table) = source_table(group_by.sources(), index, role.into()) else {
                    continue;
                };
                if only.is_some_and(|(t, _)| t != table) {
                    continue;
                }
                let partitions: Vec<String> = match (only, self.tables.get(&table)) {
                    (Some((_, partitions)), _) => partitions.iter().cloned().collect(),
                    (None, Some(entry)) => entry.partitions.keys().cloned().collect(),
                    (None, None) => continue,
                };
                let query = source.query();
                let first = query.and_then(|q| q.start_partition.clone());
                let last = query.and_then(|q| q.end_partition.clone());
                let mut jobs = Vec::new();
                for partition in partitions {
                    // R-SRC-4: partitions within the source's range.
                    if first.as_ref().is_some_and(|f| partition < *f)
                        || last.as_ref().is_some_and(|l| partition > *l)
                    {
                        continue;
                    }
                    let Some(day) = parse_day(&partition) else {
                        continue;
                    };
                    let Some(raw) = self.raw_batch(&table, &partition)? else {
                        continue;
                    };
                    let file = self.new_file("group_bys", &name);
                    jobs.push((partition, day, raw, file));
                }
                let Some((_, _, raw, (_, absolute))) = jobs.first() else {
                    continue;
                };
                let rows = SourceRows::new(group_by, index, role, &raw.schema())?;
                self.make_parent(absolute)?;
                // Each partition's rows prepared and written on their own, over the cores.
                let fs = self.store.inner.fs.as_ref();
                let prepared = par_map(&jobs, |(partition, day, raw, (_, absolute))| {
                    let (prepared, c) = rows.prepare(&table, partition, *day, raw)?;
                    if prepared.num_rows() > 0 {
                        write_segment(fs, absolute, &prepared)?;
                    }
                    Ok::<_, Error>((prepared.num_rows() as u64, ts_range(&prepared), c))
                });
                for ((partition, _, _, (relative, _)), prepared) in jobs.into_iter().zip(prepared) {
                    let (kept, (min_ts, max_ts), c) = prepared?;
                    counts += c;
                    if kept == 0 {
                        continue;
                    }
                    segments.push(SegmentEntry {
                        source: index,
                        role: role.into(),
                        partition,
                        file: relative,
                        rows: kept,
                        min_ts,
                        max_ts,
                        stream: false,
                    });
                }
            }
            // R-SRC-5: a cumulative source reads only its latest partition.
            if source.is_cumulative() {
                let latest = segments
                    .iter()
                    .filter(|s| s.source == index)
                    .map(|s| s.partition.clone())
                    .max();
                segments.retain(|s| s.source != index || Some(&s.partition) == latest.as_ref());
            }
        }
        segments.sort_by(|a, b| {
            (a.role, a.source, &a.partition).cmp(&(b.role, b.source, &b.partition))
        });
        self.counts.insert(name.clone(), counts);
        if segments.is_empty() {
            self.txn.clear_tiles(&name)?;
            self.entries.insert(name, None);
            return Ok(());
        }
        let mut opened = segments
            .iter()
            .map(|s| Segment::open(&self.store.inner.dir.join(&s.file)))
            .collect::<Result<Vec<_>, _>>()?;
        self.conform_streams(group_by, &mut segments, &mut opened)?;
        check_schemas(group_by, &segments, &opened)?;
        let mut entry = GroupByEntry {
            stream_source: super::topic::stream_source(group_by).map(|(i, _)| i),
            ..GroupByEntry::default()
        };
        entry.batch_end = entry
            .stream_source
            .and_then(|i| super::topic::batch_end(group_by, i, &self.tables));
        let mut events: Vec<RecordBatch> = Vec::new();
        for (segment, opened) in segments.iter().zip(&opened) {
            if segment.role == RoleName::Events {
                events.extend(counted_rows(
                    opened.batch(),
                    segment,
                    entry.counted(segment),
                )?);
            }
        }
        let earliest = segments
            .iter()
            .filter(|s| s.role == RoleName::Events)
            .map(|s| s.min_ts)
            .min();
        let watermark = segments
            .iter()
            .filter(|s| s.role == RoleName::Events)
            .map(|s| s.max_ts)
            .max();
        // Every tile is written (`tiled_to` None): ended or not.
        let entry = GroupByEntry {
            segments,
            earliest,
            watermark,
            kept_from: kept_from(watermark),
            ..entry
        };
        self.txn.clear_tiles(&name)?;
        if !events.is_empty() && !group_by.aggregations().is_empty() {
            let evaluator = GroupByEvaluator::new(group_by, &events[0].schema())?;
            if let Some(aggregator) = evaluator.aggregator() {
                let tiled = entry.tiled();
                let layout = entry.layout();
                write_tiles(
                    self.txn,
                    (&name, &layout),
                    aggregator,
                    &events,
                    &tiled,
                    TileWrite::Put,
                )?;
            }
        }
        self.entries.insert(name, Some(entry));
        Ok(())
    }

    /// Rewrites sealed live rows whose schema differs from the loaded tables' rows (live rows
    /// sealed before the table was loaded) to that schema, so every segment has one schema.
    fn conform_streams(
        &mut self,
        group_by: &GroupBy,
        segments: &mut [SegmentEntry],
        opened: &mut [Segment],
    ) -> Result<()> {
        let Some(table) = segments.iter().position(|s| !s.stream) else {
            return Ok(());
        };
        let schema = opened[table].batch().schema();
        let partition = super::conform::partition_column(group_by);
        for i in 0..segments.len() {
            if !segments[i].stream || opened[i].batch().schema().fields() == schema.fields() {
                continue;
            }
            let rows = super::conform::conform(opened[i].batch(), &schema, &partition).map_err(
                |reason| {
                    Error::Config(ConfigError::Invalid {
                        config: group_by.name().to_owned(),
                        field: format!("sources[{}]", segments[i].source),
                        reason: format!("live rows sealed before this load: {reason}"),
                    })
                },
            )?;
            let (relative, absolute) = self.new_file("group_bys", group_by.name());
            self.write(&absolute, &rows)?;
            self.obsolete
                .push(self.store.inner.dir.join(&segments[i].file));
            segments[i].file = relative;
            opened[i] = Segment::open(&absolute)?;
        }
        Ok(())
    }

    /// The write transaction of this change.
    pub fn txn(&mut self) -> &mut WriteTxn {
        self.txn
    }

    /// Writes the catalog entries; returns them and the files they no longer reference.
    pub fn finish(self) -> Result<(Entries, Vec<PathBuf>)> {
        for (name, entry) in &self.entries {
            match entry {
                Some(entry) => self.txn.put_catalog(
                    &group_by_key(name),
                    &serde_json::to_vec(entry).unwrap_or_default(),
                )?,
                None => self.txn.remove_catalog(&group_by_key(name))?,
            }
        }
        for (name, table) in &self.tables {
            if self.state.tables.get(name) != Some(table) {
                self.txn.put_catalog(
                    &table_key(name),
                    &serde_json::to_vec(table).unwrap_or_default(),
                )?;
            }
        }
        self.txn
            .put_catalog(NEXT_FILE_ID, &self.next_id.to_le_bytes())?;
        Ok((self.entries, self.obsolete))
    }
}

/// The table a source reads in `role`, without `/k=v` filters.
fn source_table(sources: &[Source], index: usize, role: RoleName) -> Option<String> {
    let table = match (sources.get(index)?, role) {
        (Source::Events(e), RoleName::Events) => e.table.clone(),
        (Source::Entities(e), RoleName::Snapshot) => e.snapshot_table.clone(),
        (Source::Entities(e), RoleName::Mutations) => e.mutation_table.clone(),
        _ => None,
    }?;
    Some(table.split('/').next().unwrap_or_default().to_owned())
}

/// The sources of `group_by` that read `table` in some role.
fn sources_reading<'a>(group_by: &'a GroupBy, table: &'a str) -> impl Iterator<Item = &'a Source> {
    group_by
        .sources()
        .iter()
        .enumerate()
        .filter_map(move |(i, source)| {
            [RoleName::Events, RoleName::Snapshot, RoleName::Mutations]
                .into_iter()
                .any(|role| source_table(group_by.sources(), i, role).as_deref() == Some(table))
                .then_some(source)
        })
}

/// Whether `group_by` reads `table` in any role.
pub(super) fn reads_table(group_by: &GroupBy, table: &str) -> bool {
    sources_reading(group_by, table).next().is_some()
}

/// The partition column of `table` as the GroupBys reading it name it (default `ds`).
pub(super) fn partition_column(group_bys: &[&GroupBy], table: &str) -> String {
    group_bys
        .iter()
        .flat_map(|group_by| sources_reading(group_by, table))
        .find_map(|source| source.query())
        .map_or("ds", |q| q.partition_column_or_default())
        .to_owned()
}

/// The rows of a segment with `ts` in `counted`; `None` if there are none.
pub(super) fn counted_rows(
    batch: &RecordBatch,
    segment: &SegmentEntry,
    counted: std::ops::Range<i64>,
) -> Result<Option<RecordBatch>> {
    if counted.start <= segment.min_ts && segment.max_ts < counted.end {
        return Ok(Some(batch.clone()));
    }
    if counted.start > segment.max_ts || counted.end <= segment.min_ts {
        return Ok(None);
    }
    rows_within(batch, &counted, &segment.file)
}

/// The rows of `batch` (stored rows, from `what`) with `ts` in `range`, in their order; `None`
/// if there are none.
pub(super) fn rows_within(
    batch: &RecordBatch,
    range: &Range<i64>,
    what: &str,
) -> Result<Option<RecordBatch>> {
    let Some(ts) = batch.column_by_name(TIME_COLUMN) else {
        return Ok(None);
    };
    let keep: arrow::array::BooleanArray = ts
        .as_primitive::<Int64Type>()
        .values()
        .iter()
        .map(|t| Some(range.contains(t)))
        .collect();
    let rows = arrow::compute::filter_record_batch(batch, &keep)
        .map_err(|e| Error::Request(format!("filtering {what}: {e}")))?;
    Ok((rows.num_rows() > 0).then_some(rows))
}

pub(super) fn ts_range(batch: &RecordBatch) -> (i64, i64) {
    let Some(ts) = batch.column_by_name(TIME_COLUMN) else {
        return (0, 0);
    };
    let ts = ts.as_primitive::<Int64Type>().values();
    let min = ts.iter().copied().min().unwrap_or(0);
    let max = ts.iter().copied().max().unwrap_or(0);
    (min, max)
}

/// Every partition must give rows of one schema (a column whose type changed is an error).
fn check_schemas(group_by: &GroupBy, entries: &[SegmentEntry], opened: &[Segment]) -> Result<()> {
    let base = |s: &Schema| -> Vec<(String, arrow::datatypes::DataType)> {
        s.fields()
            .iter()
            .filter(|f| ![MUTATION_TIME_COLUMN, REVERSAL_COLUMN].contains(&f.name().as_str()))
            .map(|f| (f.name().clone(), f.data_type().clone()))
            .collect()
    };
    let first = base(&opened[0].batch().schema());
    for (entry, segment) in entries.iter().zip(opened).skip(1) {
        let fields = base(&segment.batch().schema());
        if fields != first {
            let differs = fields
                .iter()
                .zip(&first)
                .find(|(a, b)| a != b)
                .map(|(a, b)| {
                    format!(
                        "column {} is {} here but {} in other partitions",
                        a.0, a.1, b.1
                    )
                })
                .unwrap_or_else(|| "the columns differ from other partitions".into());
            return Err(Error::Config(ConfigError::Invalid {
                config: group_by.name().to_owned(),
                field: format!("sources[{}]", entry.source),
                reason: format!("partition {}: {differs}", entry.partition),
            }));
        }
    }
    Ok(())
}

/// The key codec of `group_by` over its stored rows.
pub(super) fn key_codec(group_by: &GroupBy, schema: &Schema) -> Result<KeyCodec> {
    let mut columns = Vec::new();
    for key in group_by.key_columns() {
        let data_type = tilefold_ingest::key_column_type(schema, key)
            .and_then(|t| DataType::from_arrow(&t))
            .unwrap_or(DataType::Binary);
        columns.push((key.clone(), data_type));
    }
    KeyCodec::new(columns).ok_or_else(|| {
        Error::Config(ConfigError::Invalid {
            config: group_by.name().to_owned(),
            field: "keyColumns".into(),
            reason: "key columns must be numbers, strings, booleans or binaries".into(),
        })
    })
}
