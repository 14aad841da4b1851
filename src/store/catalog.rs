//! The catalog: what the store holds, as JSON entries in redb's `catalog` table (sealed with a
//! checksum by the storage crate). File paths are relative to the store directory.

use std::collections::BTreeMap;
use std::ops::Range;

use serde::{Deserialize, Serialize};
use tilefold_query::window::{floor, Level, DAY, HOUR, LEVELS};
use tilefold_storage::Layout;

/// `table/<name>`: a loaded source table, one raw segment per partition.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct TableEntry {
    /// Partition name → its raw rows, in input order.
    pub partitions: BTreeMap<String, FileEntry>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct FileEntry {
    pub file: String,
    pub rows: u64,
}

/// `group_by/<name>`: a GroupBy's prepared rows and tile bounds.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct GroupByEntry {
    pub segments: Vec<SegmentEntry>,
    /// Earliest and latest event `ts` (events GroupBys).
    pub earliest: Option<i64>,
    pub watermark: Option<i64>,
    /// First tile start kept per level (five minutes, hour, day, 4 days, 16 days).
    pub kept_from: [i64; 5],
    /// The source that also reads a topic, if any (lambda semantics).
    #[serde(default)]
    pub stream_source: Option<usize>,
    /// The end of the last loaded partition of that source's table: its rows count before it,
    /// streamed rows from it on.
    #[serde(default)]
    pub batch_end: Option<i64>,
    /// Live GroupBys write a tile once it has ended: the tiles of each level hold the counted
    /// sealed rows before the last boundary of that level at or before this instant (a
    /// five-minute boundary, five minutes before the newest sealed row's), and no tile after it
    /// is read; later sealed rows are read raw until a seal moves it on. `None`: every tile is
    /// written (loaded tables, rebuilt tiles).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tiled_to: Option<i64>,
    /// Set by live seals: hour tiles from this start on are stored start first (the seal at
    /// each hour's end writes every active key's, neighbours), and so is the day so far (see
    /// [`GroupByEntry::partial_day`]). At each day's end the day's hour tiles move key first,
    /// next to each key's older ones, where a window's ends read them in one range scan.
    /// `None`: every hour and day tile is key first (loaded tables, rebuilt tiles).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hours_start_first_from: Option<i64>,
}

impl GroupByEntry {
    /// An entry without segments or tiles (a GroupBy with unsealed live rows only).
    pub fn empty() -> GroupByEntry {
        GroupByEntry {
            kept_from: [i64::MAX; 5],
            ..GroupByEntry::default()
        }
    }

    /// The `ts` range of `segment`'s rows that count (lambda semantics: a table's rows before
    /// the batch end, streamed rows from it on).
    pub fn counted(&self, segment: &SegmentEntry) -> Range<i64> {
        let end = self.batch_end.unwrap_or(i64::MIN);
        if segment.stream {
            end..i64::MAX
        } else if segment.role == RoleName::Events && Some(segment.source) == self.stream_source {
            i64::MIN..self.batch_end.unwrap_or(i64::MAX)
        } else {
            i64::MIN..i64::MAX
        }
    }

    /// The time the stored tiles of each level cover: from the first kept tile to
    /// [`GroupByEntry::tiled_to`] (floored to the level by the reader).
    pub fn tiled(&self) -> [Range<i64>; LEVELS] {
        let to = self.tiled_to.unwrap_or(i64::MAX);
        std::array::from_fn(|level| self.kept_from[level]..to)
    }

    /// Where this entry's tiles are stored ([`GroupByEntry::hours_start_first_from`]): hour tiles
    /// start first from that start, day tiles from the current day on (its partial tile).
    pub fn layout(&self) -> Layout {
        let mut layout = Layout::default();
        if let (Some(hours), Some(to)) = (self.hours_start_first_from, self.tiled_to) {
            layout.start_first_from[Level::Hour.index()] = hours;
            layout.start_first_from[Level::Day.index()] = floor(to, DAY);
        }
        layout
    }

    /// The time the current day's partial tile covers, where live seals keep one: from the
    /// day's start to the end of its last hour tile written (the day tile at that start holds
    /// the counted sealed rows in it, the hour tiles' rows merged as each hour ends). A fetch at
    /// now reads it instead of up to 23 hour tiles.
    pub fn partial_day(&self) -> Option<Range<i64>> {
        let (Some(_), Some(to)) = (self.hours_start_first_from, self.tiled_to) else {
            return None;
        };
        let (day, hours) = (floor(to, DAY), floor(to, HOUR));
        (hours > day).then_some(day..hours)
    }

    /// The first `ts` a streamed row counts from.
    pub fn stream_from(&self) -> i64 {
        self.batch_end.unwrap_or(i64::MIN)
    }
}

/// One segment of prepared rows: source `source`'s `role` table, partition `partition`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SegmentEntry {
    pub source: usize,
    pub role: RoleName,
    pub partition: String,
    pub file: String,
    pub rows: u64,
    pub min_ts: i64,
    pub max_ts: i64,
    /// Rows ingested live into a topic (sealed from the head), not loaded from a table.
    #[serde(default)]
    pub stream: bool,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum RoleName {
    Events,
    Snapshot,
    Mutations,
}

impl From<tilefold_ingest::Role> for RoleName {
    fn from(role: tilefold_ingest::Role) -> Self {
        match role {
            tilefold_ingest::Role::Events => RoleName::Events,
            tilefold_ingest::Role::Snapshot => RoleName::Snapshot,
            tilefold_ingest::Role::Mutations => RoleName::Mutations,
        }
    }
}

pub const NEXT_FILE_ID: &str = "next_file_id";

pub fn table_key(name: &str) -> String {
    format!("table/{name}")
}

pub fn group_by_key(name: &str) -> String {
    format!("group_by/{name}")
}
