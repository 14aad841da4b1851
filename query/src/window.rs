//! Time, windows and tiles (SEMANTICS.md §1, §4.1): the tail hop, the sawtooth window start, the
//! day arithmetic of partitions, and how a time range splits into aligned tiles plus raw events.
//!
//! Every reader of aggregated data (fetch and backfill alike) asks [`cover`] which tiles and
//! which raw event ranges make up `[start, end)`; the answer depends only on the range and on
//! which tile levels are kept, never on who asks.

use std::ops::Range;

/// 5 minutes, the finest tile (R-TIME-2).
pub const FIVE_MINUTES: i64 = 300_000;
pub const HOUR: i64 = 3_600_000;
pub const DAY: i64 = 86_400_000;

/// Number of tile levels.
pub const LEVELS: usize = 5;

/// A tile size. Stored as its index (`0` … `4`) in tile keys. Chronon's hops (5 minutes, 1 hour,
/// 1 day) plus two coarser aligned levels (4 and 16 days since the epoch) so that a long window
/// reads O(log W) tiles instead of one per day (DESIGN.md "On disk").
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Level {
    FiveMinutes = 0,
    Hour = 1,
    Day = 2,
    FourDays = 3,
    SixteenDays = 4,
}

impl Level {
    /// Finest first.
    pub const ALL: [Level; LEVELS] = [
        Level::FiveMinutes,
        Level::Hour,
        Level::Day,
        Level::FourDays,
        Level::SixteenDays,
    ];

    pub const fn millis(self) -> i64 {
        match self {
            Level::FiveMinutes => FIVE_MINUTES,
            Level::Hour => HOUR,
            Level::Day => DAY,
            Level::FourDays => 4 * DAY,
            Level::SixteenDays => 16 * DAY,
        }
    }

    pub const fn index(self) -> usize {
        self as usize
    }

    pub fn from_index(index: u8) -> Option<Level> {
        Level::ALL.get(index as usize).copied()
    }

    /// `5m`, `1h` or `1d`, for messages.
    pub const fn label(self) -> &'static str {
        match self {
            Level::FiveMinutes => "5m",
            Level::Hour => "1h",
            Level::Day => "1d",
            Level::FourDays => "4d",
            Level::SixteenDays => "16d",
        }
    }
}

/// The mathematical floor of `x` to a multiple of `h` (R-TIME-7).
pub fn floor(x: i64, h: i64) -> i64 {
    x.div_euclid(h).saturating_mul(h)
}

/// `tailHop(W)` (R-WIN-2): 1 day from 12 days, 1 hour from 12 hours, else 5 minutes.
pub fn tail_hop(window: i64) -> i64 {
    if window >= 12 * DAY {
        DAY
    } else if window >= 12 * HOUR {
        HOUR
    } else {
        FIVE_MINUTES
    }
}

/// The first instant of TEMPORAL window `window` at query time `t` (R-WIN-3):
/// `floor(t − W, tailHop(W))`.
pub fn window_start(t: i64, window: i64) -> i64 {
    floor(t.saturating_sub(window), tail_hop(window))
}

/// The day number (days since 1970-01-01) of instant `t` (R-TIME-5).
pub fn day_of(t: i64) -> i64 {
    t.div_euclid(DAY)
}

/// `start(D)` of day number `day` (R-TIME-4).
pub fn day_start(day: i64) -> i64 {
    day.saturating_mul(DAY)
}

/// The day number of a `yyyy-MM-dd` partition name (R-TIME-4), `None` if it is not one.
pub fn parse_day(name: &str) -> Option<i64> {
    let b = name.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let digits = |r: Range<usize>| {
        let part = name.get(r)?;
        part.bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| part.parse::<i64>().ok())?
    };
    crate::expr::functions::calendar::date_to_days(digits(0..4)?, digits(5..7)?, digits(8..10)?)
}

/// The `yyyy-MM-dd` name of day number `day`.
pub fn day_name(day: i64) -> String {
    let (y, m, d) = crate::expr::functions::calendar::civil_from_days(day);
    format!("{y:04}-{m:02}-{d:02}")
}

/// One piece of a covered range: a run of stored tiles or raw events.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece {
    /// Tiles of `level` whose starts lie in `starts` (each tile spans `level.millis()`).
    Tiles { level: Level, starts: Range<i64> },
    /// Raw events with `ts` in the range.
    Events(Range<i64>),
}

/// The starts of the tiles of `level` that lie wholly in `tiled`, the time its stored tiles
/// cover (see [`cover`]): a tile counts only if it ends by `tiled.end`.
pub fn whole_tiles(level: Level, tiled: &Range<i64>) -> Range<i64> {
    tiled.start..floor(tiled.end, level.millis())
}

/// Splits `[start, end)` into runs of aligned tiles, largest first where alignment allows, and
/// raw event ranges for what no stored tile covers. `tiled[level]` is the time the stored tiles
/// of each level cover: from the first tile start kept (finer tiles are kept only for recent
/// time, DESIGN.md "Measured floor"; day and coarser tiles for all history, `i64::MIN`) to the
/// end of the tiles written (a live GroupBy writes a tile once it has ended; `i64::MAX` when
/// every tile is). A tile is read only if it lies wholly in that time.
///
/// `partial_day`, where a live store keeps one, is the time the current day's partial tile
/// covers (its day's start to the end of its last hour tile written): a range that runs from
/// that day's start to at least its end reads that one tile, as
/// `Piece::Tiles { level: Day, starts: partial_day }`, instead of the day's hour tiles.
pub fn cover(
    start: i64,
    end: i64,
    tiled: &[Range<i64>; LEVELS],
    partial_day: Option<&Range<i64>>,
) -> Vec<Piece> {
    let mut pieces = Vec::new();
    if start >= end {
        return pieces;
    }
    let mut at = start;
    // `to`, or the end of the last whole tile of `level` written if that comes first.
    let upto = |level: Level, to: i64| to.min(whole_tiles(level, &tiled[level.index()]).end);
    let push = |pieces: &mut Vec<Piece>, level: Level, from: i64, to: i64| {
        if from >= to {
            return;
        }
        let kept = tiled[level.index()].start.clamp(from, to);
        let kept =
            from + (kept - from + level.millis() - 1).div_euclid(level.millis()) * level.millis();
        let kept = kept.min(to);
        push_events(pieces, from..kept);
        if kept < to {
            match pieces.last_mut() {
                Some(Piece::Tiles { level: l, starts }) if *l == level && starts.end == kept => {
                    starts.end = to;
                }
                _ => pieces.push(Piece::Tiles {
                    level,
                    starts: kept..to,
                }),
            }
        }
    };
    // An unaligned head (only when `start` is not on a 5-minute boundary).
    let aligned = floor(start, FIVE_MINUTES);
    if aligned != start {
        let head_end = (aligned + FIVE_MINUTES).min(end);
        push_events(&mut pieces, start..head_end);
        at = head_end;
    }
    // Ascending: each level up to the next coarser level's boundary.
    for pair in Level::ALL.windows(2) {
        let (level, next) = (pair[0], pair[1].millis());
        if at % level.millis() != 0 {
            continue;
        }
        let next_boundary = floor(at, next) + if at % next == 0 { 0 } else { next };
        let to = upto(level, next_boundary.min(floor(end, level.millis())));
        if to > at {
            push(&mut pieces, level, at, to);
            at = to;
        }
    }
    // Descending: the coarsest level, then finer ones down to five minutes.
    for level in Level::ALL.into_iter().rev() {
        if at % level.millis() != 0 {
            continue;
        }
        let to = upto(level, floor(end, level.millis()));
        if to > at {
            push(&mut pieces, level, at, to);
            at = to;
        }
        if level == Level::Day {
            if let Some(partial) = partial_day.filter(|p| p.start == at && p.end <= end) {
                push(&mut pieces, level, at, partial.end);
                at = partial.end;
            }
        }
    }
    push_events(&mut pieces, at..end);
    pieces
}

fn push_events(pieces: &mut Vec<Piece>, range: Range<i64>) {
    if range.start >= range.end {
        return;
    }
    if let Some(Piece::Events(last)) = pieces.last_mut() {
        if last.end == range.start {
            last.end = range.end;
            return;
        }
    }
    pieces.push(Piece::Events(range));
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every tile of every level stored.
    const ALL_TILED: [Range<i64>; LEVELS] = [const { i64::MIN..i64::MAX }; LEVELS];

    /// Tiles kept from `kept` per level, written up to `written` (floored to each level).
    fn tiled(kept: [i64; LEVELS], written: i64) -> [Range<i64>; LEVELS] {
        std::array::from_fn(|l| kept[l]..written)
    }

    /// Replays a cover tile by tile: the pieces must tile `[start, end)` exactly, in order; a
    /// day piece may end with `partial_day`.
    fn covered(pieces: &[Piece], partial_day: Option<&Range<i64>>) -> Vec<Range<i64>> {
        let mut out: Vec<Range<i64>> = Vec::new();
        for piece in pieces {
            let range = match piece {
                Piece::Tiles { level, starts } => {
                    assert_eq!(starts.start % level.millis(), 0, "{piece:?}");
                    let partial =
                        *level == Level::Day && partial_day.is_some_and(|p| p.end == starts.end);
                    if !partial {
                        assert_eq!((starts.end - starts.start) % level.millis(), 0, "{piece:?}");
                    }
                    starts.clone()
                }
                Piece::Events(r) => r.clone(),
            };
            if let Some(last) = out.last_mut() {
                assert_eq!(last.end, range.start, "{pieces:?}");
                last.end = range.end;
            } else {
                out.push(range);
            }
        }
        out
    }

    #[test]
    fn e03_tail_hops() {
        assert_eq!(tail_hop(12 * DAY), DAY);
        assert_eq!(tail_hop(11 * DAY), HOUR);
        assert_eq!(tail_hop(12 * HOUR), HOUR);
        assert_eq!(tail_hop(11 * HOUR), FIVE_MINUTES);
        assert_eq!(tail_hop(288 * HOUR), DAY);
        assert_eq!(tail_hop(24 * HOUR), HOUR);
    }

    /// The R-WIN-4 table.
    #[test]
    fn r_win_4_window_starts() {
        let t = 1_703_073_661_923; // 2023-12-20T12:01:01.923Z
        assert_eq!(window_start(t, 10 * DAY), 1_702_209_600_000); // 12-10T12:00Z
        assert_eq!(window_start(t, 30 * DAY), 1_700_438_400_000); // 11-20T00:00Z
        assert_eq!(window_start(1_703_073_780_000, HOUR), 1_703_070_000_000); // 12:03 → 11:00
        assert_eq!(
            window_start(1_703_075_696_789, 12 * HOUR),
            1_703_030_400_000
        );
        assert_eq!(
            window_start(1_703_070_000_000, 300 * HOUR),
            1_701_907_200_000
        );
    }

    #[test]
    fn r_time_4_and_5_days() {
        assert_eq!(day_start(day_of(1_703_073_661_923)), 1_703_030_400_000);
        assert_eq!(day_of(1_703_030_399_999), day_of(1_703_030_400_000) - 1);
        assert_eq!(floor(-1, DAY), -DAY);
    }

    /// R-TIME-4: start(2023-12-20) = 1703030400000.
    #[test]
    fn r_time_4_partition_names() {
        assert_eq!(
            parse_day("2023-12-20").map(day_start),
            Some(1_703_030_400_000)
        );
        assert_eq!(day_name(parse_day("2024-02-29").unwrap()), "2024-02-29");
        assert_eq!(parse_day("2023-02-29"), None);
        assert_eq!(parse_day("2023-1-01"), None);
        assert_eq!(parse_day("+023-01-01"), None);
        for day in -800..30_000 {
            assert_eq!(parse_day(&day_name(day)), Some(day));
        }
    }

    #[test]
    fn cover_uses_largest_aligned_tiles() {
        let start = 10 * DAY + 3 * HOUR; // hour-aligned
        let end = 13 * DAY + 2 * HOUR + 7 * FIVE_MINUTES + 1234;
        let pieces = cover(start, end, &ALL_TILED, None);
        assert_eq!(
            pieces,
            vec![
                Piece::Tiles {
                    level: Level::Hour,
                    starts: start..11 * DAY
                },
                Piece::Tiles {
                    level: Level::Day,
                    starts: 11 * DAY..13 * DAY
                },
                Piece::Tiles {
                    level: Level::Hour,
                    starts: 13 * DAY..13 * DAY + 2 * HOUR
                },
                Piece::Tiles {
                    level: Level::FiveMinutes,
                    starts: 13 * DAY + 2 * HOUR..13 * DAY + 2 * HOUR + 7 * FIVE_MINUTES
                },
                Piece::Events(13 * DAY + 2 * HOUR + 7 * FIVE_MINUTES..end),
            ]
        );
    }

    #[test]
    fn cover_falls_back_to_events_where_fine_tiles_are_not_kept() {
        let start = 10 * DAY + 3 * HOUR;
        let end = 12 * DAY + 2 * HOUR + 30 * 60_000;
        // Hour tiles kept only from day 12; five-minute tiles not at all.
        let kept = [i64::MAX, 12 * DAY, i64::MIN, i64::MIN, i64::MIN];
        let pieces = cover(start, end, &tiled(kept, i64::MAX), None);
        assert_eq!(
            pieces,
            vec![
                Piece::Events(start..11 * DAY),
                Piece::Tiles {
                    level: Level::Day,
                    starts: 11 * DAY..12 * DAY
                },
                Piece::Tiles {
                    level: Level::Hour,
                    starts: 12 * DAY..12 * DAY + 2 * HOUR
                },
                Piece::Events(12 * DAY + 2 * HOUR..end),
            ]
        );
    }

    /// A live GroupBy whose tiles are written up to 13d 01:20 (each level up to its last tile
    /// ended by then): the day after, hour 13d 01:00 and the 5-minute tiles after it are
    /// read finer, and the rows from 01:20 on raw.
    #[test]
    fn cover_reads_finer_tiles_and_events_past_the_written_tiles() {
        let start = 10 * DAY + 3 * HOUR;
        let written = 13 * DAY + HOUR + 4 * FIVE_MINUTES;
        let end = 13 * DAY + 2 * HOUR + 7 * FIVE_MINUTES + 1234;
        let pieces = cover(start, end, &tiled([i64::MIN; LEVELS], written), None);
        // Up to day 13 as with every tile written (the hours to day 11, then days).
        assert_eq!(pieces[..2], cover(start, end, &ALL_TILED, None)[..2]);
        assert_eq!(
            pieces[2..],
            [
                Piece::Tiles {
                    level: Level::Hour,
                    starts: 13 * DAY..13 * DAY + HOUR
                },
                Piece::Tiles {
                    level: Level::FiveMinutes,
                    starts: 13 * DAY + HOUR..written
                },
                Piece::Events(written..end),
            ]
        );
        // Written up to the day's start: the whole of day 13 from hour tiles on.
        let pieces = cover(start, end, &tiled([i64::MIN; LEVELS], 13 * DAY), None);
        assert_eq!(pieces[2..], [Piece::Events(13 * DAY..end)]);
    }

    #[test]
    fn cover_tiles_every_range_exactly() {
        // Written up to 13:40 of day 10: its tiles hold 00:00-13:00 in hour tiles and in the
        // partial day tile, 13:00-13:35 in five-minute tiles.
        const MINUTE: i64 = 60_000;
        let written = 10 * DAY + 13 * HOUR + 40 * MINUTE;
        let partial = 10 * DAY..10 * DAY + 13 * HOUR;
        let stored = tiled([i64::MIN; LEVELS], written);
        let (start, end) = (7 * DAY + 5 * HOUR, 10 * DAY + 13 * HOUR + 38 * MINUTE);
        let pieces = cover(start, end, &stored, Some(&partial));
        let expected = vec![
            Piece::Tiles {
                level: Level::Hour,
                starts: 7 * DAY + 5 * HOUR..8 * DAY,
            },
            Piece::Tiles {
                level: Level::Day,
                starts: 8 * DAY..10 * DAY + 13 * HOUR,
            },
            Piece::Tiles {
                level: Level::FiveMinutes,
                starts: partial.end..partial.end + 35 * MINUTE,
            },
            Piece::Events(partial.end + 35 * MINUTE..end),
        ];
        assert_eq!(pieces, expected);
        // Ending before the partial tile does, or starting within its day: hour tiles.
        let pieces = cover(10 * DAY, 10 * DAY + 12 * HOUR, &stored, Some(&partial));
        assert_eq!(
            pieces,
            vec![Piece::Tiles {
                level: Level::Hour,
                starts: 10 * DAY..10 * DAY + 12 * HOUR
            }]
        );
        let pieces = cover(10 * DAY + HOUR, end, &stored, Some(&partial));
        assert!(
            matches!(
                pieces[0],
                Piece::Tiles {
                    level: Level::Hour,
                    ..
                }
            ),
            "{pieces:?}"
        );

        let mut seed = 0x9e37_79b9_7f4a_7c15_u64;
        let mut next = |m: i64| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % m as u64) as i64
        };
        for _ in 0..20_000 {
            let start = next(40 * DAY) - 20 * DAY;
            let start = match next(4) {
                0 => floor(start, DAY * (1 + 3 * (next(2) == 0) as i64)),
                1 => floor(start, HOUR),
                2 => floor(start, FIVE_MINUTES),
                _ => start,
            };
            let end = start + next(60 * DAY);
            let kept = [
                next(40 * DAY) - 20 * DAY,
                next(40 * DAY) - 20 * DAY,
                i64::MIN,
                i64::MIN,
                i64::MIN,
            ];
            // Written: everything, up to an instant (each level to its last ended tile, as
            // stores keep them), or up to unrelated instants per level.
            let written = next(80 * DAY) - 20 * DAY;
            let tiled = match next(3) {
                0 => tiled(kept, i64::MAX),
                1 => tiled(kept, written),
                _ => std::array::from_fn(|l| kept[l]..next(80 * DAY) - 20 * DAY),
            };
            // A live store's partial day, where its tiles are written up to an instant.
            let partial = (floor(written, HOUR) > floor(written, DAY) && next(2) == 0)
                .then(|| floor(written, DAY)..floor(written, HOUR))
                .filter(|_| tiled == self::tiled(kept, written));
            let pieces = cover(start, end, &tiled, partial.as_ref());
            if let Some(p) = &partial {
                // The day's hour tiles are never read where the partial tile serves.
                let hours = pieces.iter().any(|piece| {
                    matches!(piece, Piece::Tiles { level: Level::Hour, starts } if starts.start == p.start)
                });
                assert!(!hours || p.end > end, "{start} {end} {p:?} {pieces:?}");
            }
            if start < end {
                assert_eq!(
                    covered(&pieces, partial.as_ref()),
                    vec![start..end],
                    "{start} {end} {tiled:?}"
                );
            } else {
                assert!(pieces.is_empty());
            }
            for piece in &pieces {
                if let Piece::Tiles { level, starts } = piece {
                    let stored = &tiled[level.index()];
                    assert!(starts.start >= stored.start, "{piece:?} {tiled:?}");
                    assert!(starts.end <= stored.end, "{piece:?} {tiled:?}");
                }
            }
        }
    }
}
