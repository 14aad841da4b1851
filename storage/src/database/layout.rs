//! Where a group-by's tiles lie: key first (`tiles/<group-by>`, one range scan reads a key's
//! tiles of several levels) or start first (one table per level, where the tiles of one start
//! are neighbours for every key).

use std::ops::Range;

/// The levels that may be stored start first: five minutes, hour and day (levels 0, 1 and 2).
pub const START_FIRST_LEVELS: usize = 3;

/// The length of a tile of each level that may be stored start first, in milliseconds. Their
/// starts are multiples of it (epoch based): reads look tiles up at those starts.
pub const START_FIRST_MILLIS: [i64; START_FIRST_LEVELS] = [5 * 60_000, 3_600_000, 86_400_000];

/// The prefixes of the start-first tables' names, per level.
const TABLE_PREFIXES: [&str; START_FIRST_LEVELS] = ["fine/", "hours/", "days/"];

/// Which tiles of a group-by are stored start first: those of a level up to
/// [`START_FIRST_LEVELS`] whose start is at or after that level's `start_first_from`; every
/// other tile is stored key first. The caller keeps the layout (the store, in its catalog) and
/// gives it to every read and write of the group-by's tiles; [`crate::WriteTxn::move_to_key_first`]
/// moves tiles when it changes.
///
/// A tile stored in the other table than the layout says is never read: [`crate::ReadTxn`]
/// reads each range where the layout puts it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Layout {
    pub start_first_from: [i64; START_FIRST_LEVELS],
}

impl Default for Layout {
    /// Five-minute tiles start first, every other level key first.
    fn default() -> Self {
        Layout {
            start_first_from: [i64::MIN, i64::MAX, i64::MAX],
        }
    }
}

impl Layout {
    /// Whether the tile of `level` at `start` is stored start first.
    pub fn start_first(&self, level: u8, start: i64) -> bool {
        start >= self.from(level)
    }

    /// The first start of `level` stored start first (`i64::MAX`: none).
    fn from(&self, level: u8) -> i64 {
        self.start_first_from
            .get(usize::from(level))
            .copied()
            .unwrap_or(i64::MAX)
    }

    /// `starts` of `level` cut where the start-first tiles begin: (key first, start first).
    pub(super) fn split(&self, level: u8, starts: &Range<i64>) -> (Range<i64>, Range<i64>) {
        let end = starts.end.max(starts.start);
        let cut = self.from(level).clamp(starts.start, end);
        (starts.start..cut, cut..end)
    }
}

/// The name of the table holding `group_by`'s start-first tiles of `level`.
pub(crate) fn start_first_table_name(group_by: &str, level: u8) -> String {
    let prefix = TABLE_PREFIXES[usize::from(level).min(START_FIRST_LEVELS - 1)];
    format!("{prefix}{group_by}")
}

/// The length of a tile of `level` if it may be stored start first.
pub(crate) fn start_first_millis(level: u8) -> Option<i64> {
    START_FIRST_MILLIS.get(usize::from(level)).copied()
}

/// The first tile start of start-first `level` (length `millis`) at or after `at`, `None` past
/// the last one.
pub(crate) fn start_from(millis: i64, at: i64) -> Option<i64> {
    match at.rem_euclid(millis) {
        0 => Some(at),
        past => at.checked_add(millis - past),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_cuts_at_the_first_start_first_start() {
        let layout = Layout {
            start_first_from: [i64::MIN, 100, i64::MAX],
        };
        assert_eq!(layout.split(0, &(5..50)), (5..5, 5..50));
        assert_eq!(layout.split(1, &(5..50)), (5..50, 50..50));
        assert_eq!(layout.split(1, &(50..150)), (50..100, 100..150));
        assert_eq!(layout.split(1, &(150..200)), (150..150, 150..200));
        assert_eq!(
            layout.split(2, &(0..i64::MAX)),
            (0..i64::MAX, i64::MAX..i64::MAX)
        );
        assert_eq!(layout.split(4, &(0..10)), (0..10, 10..10));
        assert!(layout.start_first(1, 100) && !layout.start_first(1, 99));
        assert!(!layout.start_first(3, i64::MAX - 1));
        assert_eq!(start_from(10, 11), Some(20));
        assert_eq!(start_from(10, -11), Some(-10));
        assert_eq!(start_from(10, i64::MAX), None);
    }
}
