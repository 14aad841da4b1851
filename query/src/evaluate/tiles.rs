//! The tiles of one key at one level as an evaluation reads them: (start, IR bytes) in ascending
//! start order, the bytes of all tiles in one buffer, so reading a window's tiles costs a few
//! buffer growths, not one allocation per tile.

use std::ops::Range;

/// Tiles of one level, in ascending start order.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct LevelTiles {
    starts: Vec<i64>,
    /// `ends[i]`: where tile `i`'s bytes end in `bytes` (they begin where tile `i − 1`'s end).
    ends: Vec<usize>,
    bytes: Vec<u8>,
}

impl LevelTiles {
    /// Appends a tile; `start` must be greater than every start held.
    pub fn push(&mut self, start: i64, bytes: &[u8]) {
        debug_assert!(self.starts.last().is_none_or(|&last| last < start));
        self.bytes.extend_from_slice(bytes);
        self.starts.push(start);
        self.ends.push(self.bytes.len());
    }

    pub fn len(&self) -> usize {
        self.starts.len()
    }

    pub fn is_empty(&self) -> bool {
        self.starts.is_empty()
    }

    /// Forgets every tile, keeping the buffers.
    pub fn clear(&mut self) {
        self.starts.clear();
        self.ends.clear();
        self.bytes.clear();
    }

    /// The tiles whose starts lie in `starts`, in ascending start order.
    pub fn within(&self, starts: &Range<i64>) -> impl Iterator<Item = (i64, &[u8])> + '_ {
        let from = self.starts.partition_point(|s| *s < starts.start);
        let to = self.starts.partition_point(|s| *s < starts.end).max(from);
        (from..to).map(move |i| (self.starts[i], self.bytes(i)))
    }

    /// Every tile, in ascending start order.
    pub fn iter(&self) -> impl Iterator<Item = (i64, &[u8])> + '_ {
        (0..self.len()).map(move |i| (self.starts[i], self.bytes(i)))
    }

    /// Appends the tiles of `other` whose starts lie in `starts`.
    pub fn extend_within(&mut self, other: &LevelTiles, starts: &Range<i64>) {
        for (start, bytes) in other.within(starts) {
            self.push(start, bytes);
        }
    }

    fn bytes(&self, i: usize) -> &[u8] {
        let begin = if i == 0 { 0 } else { self.ends[i - 1] };
        &self.bytes[begin..self.ends[i]]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn within_gives_the_tiles_whose_starts_lie_in_the_range() {
        let mut tiles = LevelTiles::default();
        for (start, bytes) in [(0, &b"a"[..]), (10, b""), (20, b"ccc"), (30, b"dd")] {
            tiles.push(start, bytes);
        }
        let got = |r: Range<i64>| -> Vec<(i64, Vec<u8>)> {
            tiles.within(&r).map(|(s, b)| (s, b.to_vec())).collect()
        };
        assert_eq!(got(0..40).len(), 4);
        assert_eq!(got(10..21), vec![(10, vec![]), (20, b"ccc".to_vec())]);
        assert_eq!(got(21..30), vec![]);
        assert_eq!(got(30..30), vec![]);
        assert_eq!(got(Range { start: 25, end: 5 }), vec![]);
        assert_eq!(got(-5..1), vec![(0, b"a".to_vec())]);
        let mut copy = LevelTiles::default();
        copy.extend_within(&tiles, &(10..31));
        assert_eq!(
            copy.iter().map(|(s, _)| s).collect::<Vec<_>>(),
            vec![10, 20, 30]
        );
        assert_eq!(copy.within(&(30..31)).next(), Some((30, &b"dd"[..])));
        copy.clear();
        assert!(copy.is_empty());
    }
}
