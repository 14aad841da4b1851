//! IR bytes: a versioned little-endian encoding of the states of a GroupBy's parts.
//!
//! ```text
//! row   := version:u8 (=1) · parts:u16 · ir{parts}
//! ir    := tag:u8 · payload          (tags below; the part decides which are allowed where)
//! len   := u32, bounded by the bytes left before anything is allocated
//! ```
//! The caller adds a checksum. Decoding checks every tag against the part's operation and input
//! type, so a decoded state is always one the part itself could have produced.

use std::collections::BTreeMap;

use datasketches::cpc::CpcSketch;
use datasketches::tdigest::TDigestMut;

use super::distinct::distinct_insert;
use super::ir::{DistinctItem, DistinctRef, DistinctSet};
use super::kernel::Kernel;
use super::moments::Moments;
use super::ordered::{timed_list_merge_item, Keep};
use super::part::{AggregationPart, Shape};
use super::{percentile, AggregationError, DecodeError, Ir};
use crate::{DataType, Value};

pub const FORMAT_VERSION: u8 = 1;

const EMPTY: u8 = 0;
const LONG: u8 = 1;
const DOUBLE: u8 = 2;
const STR: u8 = 3;
const AVERAGE: u8 = 4;
const MOMENTS: u8 = 5;
const TIMED: u8 = 6;
const TIMED_LIST: u8 = 7;
const RANKED: u8 = 8;
const DISTINCT: u8 = 9;
const CPC: u8 = 10;
const EXACT: u8 = 11;
const DIGEST: u8 = 12;
const COUNTS: u8 = 13;
const FREQUENT: u8 = 14;
const KEYED: u8 = 15;
const ELEMENTS: u8 = 16;

/// Nesting bound for values inside FIRST/LAST states.
const MAX_VALUE_DEPTH: usize = 32;

/// Appends the row of states of `parts`.
pub fn encode_row(irs: &[Ir], out: &mut Vec<u8>) {
    out.push(FORMAT_VERSION);
    out.extend_from_slice(&(irs.len() as u16).to_le_bytes());
    irs.iter().for_each(|ir| encode_ir(ir, out));
}

/// Decodes a row written by [`encode_row`] for the same parts.
pub fn decode_row(parts: &[AggregationPart], bytes: &[u8]) -> Result<Vec<Ir>, DecodeError> {
    let mut r = row_reader(parts, bytes)?;
    let irs = parts
        .iter()
        .map(|p| decode_part(p, &mut r))
        .collect::<Result<Vec<_>, _>>()?;
    r.finish()?;
    Ok(irs)
}

/// Why [`merge_row`] failed: the bytes, or the merge of what they hold.
#[derive(Debug, thiserror::Error)]
pub enum MergeEncodedError {
    #[error(transparent)]
    Decode(#[from] DecodeError),
    #[error(transparent)]
    Merge(AggregationError),
}

/// Merges a row written by [`encode_row`] for `parts` into `into`: what decoding it and merging
/// each state with [`AggregationPart::merge_owned`] gives, but UNIQUE_COUNT items go from the
/// bytes straight into the set, so no state is built and an item the set holds costs no
/// allocation. On an error `into` may be partly merged; callers drop it.
pub fn merge_row(
    parts: &[AggregationPart],
    into: &mut [Ir],
    bytes: &[u8],
) -> Result<(), MergeEncodedError> {
    let mut r = row_reader(parts, bytes)?;
    for (part, ir) in parts.iter().zip(into.iter_mut()) {
        merge_part(part, &mut r, ir)?;
    }
    r.finish()?;
    Ok(())
}

/// [`merge_row`] for the parts `needed` marks; the others' states are read past, not merged
/// (a window evaluation whose windows that use them are complete).
pub fn merge_row_parts(
    parts: &[AggregationPart],
    into: &mut [Ir],
    bytes: &[u8],
    needed: &[bool],
) -> Result<(), MergeEncodedError> {
    let mut r = row_reader(parts, bytes)?;
    for (i, (part, ir)) in parts.iter().zip(into.iter_mut()).enumerate() {
        if needed.get(i).copied().unwrap_or(true) {
            merge_part(part, &mut r, ir)?;
        } else {
            skip_part(part, &mut r)?;
        }
    }
    r.finish()?;
    Ok(())
}

/// Reads past one part's state, checking it as decoding does; a UNIQUE_COUNT set's items are
/// only read (no set is built).
fn skip_part(part: &AggregationPart, r: &mut Reader<'_>) -> Result<(), DecodeError> {
    if part.distinct_bound().is_none() {
        return decode_part(part, r).map(drop);
    }
    if state_tag(part, r, DISTINCT)? {
        let n = r.len(5)?;
        for _ in 0..n {
            r.distinct_item()?;
        }
    }
    Ok(())
}

/// [`merge_row`] for bytes written by [`encode_one`].
pub fn merge_one(
    part: &AggregationPart,
    into: &mut Ir,
    bytes: &[u8],
) -> Result<(), MergeEncodedError> {
    let mut r = versioned_reader(bytes)?;
    merge_part(part, &mut r, into)?;
    r.finish()?;
    Ok(())
}

fn merge_part(
    part: &AggregationPart,
    r: &mut Reader<'_>,
    ir: &mut Ir,
) -> Result<(), MergeEncodedError> {
    match part.distinct_bound() {
        Some(bound) if matches!(ir, Ir::Empty | Ir::Distinct(_)) => {
            Ok(merge_distinct(part, r, ir, bound)?)
        }
        _ => match part.timed_list_bound() {
            Some((k, keep)) if matches!(ir, Ir::Empty | Ir::TimedList(_)) => {
                Ok(merge_timed_list(part, r, ir, k, keep)?)
            }
            _ => {
                let state = decode_part(part, r)?;
                part.merge_owned(ir, state)
                    .map_err(MergeEncodedError::Merge)
            }
        },
    }
}

/// A FIRST_K / LAST_K state read from `r` into `ir` (empty or a list), item by item: what
/// decoding it and merging gives, without building the decoded list, and an item that cannot
/// enter the list (it is full of better ones) is read but not kept.
fn merge_timed_list(
    part: &AggregationPart,
    r: &mut Reader<'_>,
    ir: &mut Ir,
    k: usize,
    keep: Keep,
) -> Result<(), DecodeError> {
    if !state_tag(part, r, TIMED_LIST)? {
        return Ok(());
    }
    let n = r.len(9)?;
    if ir.is_empty() {
        *ir = Ir::TimedList(Vec::with_capacity(n.min(k)));
    }
    let Ir::TimedList(list) = ir else {
        return Ok(());
    };
    let element = part.element_type();
    let mut from = 0;
    for _ in 0..n {
        let item = (r.i64()?, decode_value(r, element, 0)?);
        if from < k {
            from = timed_list_merge_item(list, from, item, k, keep);
        }
    }
    Ok(())
}

/// A DISTINCT state read from `r` into `ir` (empty or a set), item by item.
fn merge_distinct(
    part: &AggregationPart,
    r: &mut Reader<'_>,
    ir: &mut Ir,
    bound: Option<usize>,
) -> Result<(), DecodeError> {
    if !state_tag(part, r, DISTINCT)? {
        return Ok(());
    }
    distinct_items(r, ir, bound)
}

/// Reads a state's tag: `false` for an empty state, `true` for `expected`; any other tag is an
/// error naming the part's operation.
fn state_tag(
    part: &AggregationPart,
    r: &mut Reader<'_>,
    expected: u8,
) -> Result<bool, DecodeError> {
    let at = r.pos;
    match r.u8()? {
        EMPTY => Ok(false),
        tag if tag == expected => Ok(true),
        tag => Err(DecodeError {
            offset: at,
            reason: format!("tag {tag} is not a state of {}", part.operation()),
        }),
    }
}

/// The items of a DISTINCT state (after its tag) read from `r` into `ir`, an empty state (which
/// becomes a set) or a set; at most `bound` items are kept.
fn distinct_items(
    r: &mut Reader<'_>,
    ir: &mut Ir,
    bound: Option<usize>,
) -> Result<(), DecodeError> {
    let n = r.len(5)?;
    if ir.is_empty() {
        *ir = Ir::Distinct(DistinctSet::with_capacity_and_hasher(n, Default::default()));
    }
    let Ir::Distinct(set) = ir else {
        return Ok(());
    };
    for _ in 0..n {
        let item = r.distinct_item()?;
        distinct_insert(set, item, bound);
    }
    Ok(())
}

/// A reader past the format version byte, which it checks.
fn versioned_reader(bytes: &[u8]) -> Result<Reader<'_>, DecodeError> {
    let mut r = Reader { bytes, pos: 0 };
    let version = r.u8()?;
    if version != FORMAT_VERSION {
        return Err(r.error(format!("unknown format version {version}")));
    }
    Ok(r)
}

/// A reader past a row's header, which it checks against `parts`.
fn row_reader<'a>(parts: &[AggregationPart], bytes: &'a [u8]) -> Result<Reader<'a>, DecodeError> {
    let mut r = versioned_reader(bytes)?;
    let count = usize::from(r.u16()?);
    if count != parts.len() {
        return Err(r.error(format!(
            "{count} states for {} aggregation parts",
            parts.len()
        )));
    }
    Ok(r)
}

/// Appends the versioned encoding of one part's state.
pub fn encode_one(ir: &Ir, out: &mut Vec<u8>) {
    out.push(FORMAT_VERSION);
    encode_ir(ir, out);
}

/// Decodes bytes written by [`encode_one`] for the same part.
pub fn decode_one(part: &AggregationPart, bytes: &[u8]) -> Result<Ir, DecodeError> {
    let mut r = versioned_reader(bytes)?;
    let ir = decode_part(part, &mut r)?;
    r.finish()?;
    Ok(ir)
}

fn encode_ir(ir: &Ir, out: &mut Vec<u8>) {
    match ir {
        Ir::Empty => out.push(EMPTY),
        Ir::Long(v) => {
            out.push(LONG);
            out.extend_from_slice(&v.to_le_bytes());
        }
        Ir::Double(v) => {
            out.push(DOUBLE);
            out.extend_from_slice(&v.to_le_bytes());
        }
        Ir::Str(s) => {
            out.push(STR);
            put_bytes(out, s.as_bytes());
        }
        Ir::Average { sum, count } => {
            out.push(AVERAGE);
            out.extend_from_slice(&sum.to_le_bytes());
            out.extend_from_slice(&count.to_le_bytes());
        }
        Ir::Moments(m) => {
            out.push(MOMENTS);
            for v in [m.n, m.mean, m.m2, m.m3, m.m4] {
                out.extend_from_slice(&v.to_le_bytes());
            }
        }
        Ir::Timed { ts, value } => {
            out.push(TIMED);
            out.extend_from_slice(&ts.to_le_bytes());
            encode_value(value, out);
        }
        Ir::TimedList(list) => {
            out.push(TIMED_LIST);
            put_len(out, list.len());
            for (ts, value) in list {
                out.extend_from_slice(&ts.to_le_bytes());
                encode_value(value, out);
            }
        }
        Ir::Ranked(list) => {
            out.push(RANKED);
            put_len(out, list.len());
            list.iter().for_each(|v| encode_value(v, out));
        }
        Ir::Distinct(set) => {
            out.push(DISTINCT);
            let mut items: Vec<&DistinctItem> = set.iter().collect();
            items.sort_unstable();
            put_len(out, items.len());
            for item in items {
                match item {
                    DistinctItem::Long(v) => {
                        out.push(0);
                        out.extend_from_slice(&v.to_le_bytes());
                    }
                    DistinctItem::Double(bits) => {
                        out.push(1);
                        out.extend_from_slice(&bits.to_le_bytes());
                    }
                    DistinctItem::Str(s) => {
                        out.push(2);
                        put_bytes(out, s.as_bytes());
                    }
                    DistinctItem::Bytes(b) => {
                        out.push(3);
                        put_bytes(out, b);
                    }
                }
            }
        }
        Ir::Cpc(sketch) => {
            out.push(CPC);
            put_bytes(out, &sketch.serialize());
        }
        Ir::Exact(values) => {
            out.push(EXACT);
            put_len(out, values.len());
            values
                .iter()
                .for_each(|v| out.extend_from_slice(&v.to_le_bytes()));
        }
        Ir::Digest(d) => {
            out.push(DIGEST);
            put_bytes(out, &(**d).clone().serialize());
        }
        Ir::Counts(counts) => {
            out.push(COUNTS);
            encode_counts(counts, out);
        }
        Ir::Frequent { counts, offset } => {
            out.push(FREQUENT);
            out.extend_from_slice(&offset.to_le_bytes());
            encode_counts(counts, out);
        }
        Ir::Keyed(map) => {
            out.push(KEYED);
            put_len(out, map.len());
            for (key, inner) in map {
                put_bytes(out, key.as_bytes());
                encode_ir(inner, out);
            }
        }
        Ir::Elements(states) => {
            out.push(ELEMENTS);
            put_len(out, states.len());
            states.iter().for_each(|s| encode_ir(s, out));
        }
    }
}

fn encode_counts(counts: &BTreeMap<String, i64>, out: &mut Vec<u8>) {
    put_len(out, counts.len());
    for (key, count) in counts {
        put_bytes(out, key.as_bytes());
        out.extend_from_slice(&count.to_le_bytes());
    }
}

fn put_len(out: &mut Vec<u8>, len: usize) {
    out.extend_from_slice(&(len as u32).to_le_bytes());
}

fn put_bytes(out: &mut Vec<u8>, bytes: &[u8]) {
    put_len(out, bytes.len());
    out.extend_from_slice(bytes);
}

/// Values inside FIRST/LAST/K-list states: a tag, then the payload.
fn encode_value(value: &Value, out: &mut Vec<u8>) {
    match value {
        Value::Null => out.push(0),
        Value::Boolean(b) => out.extend_from_slice(&[1, u8::from(*b)]),
        Value::Long(v) => {
            out.push(2);
            out.extend_from_slice(&v.to_le_bytes());
        }
        Value::Double(v) => {
            out.push(3);
            out.extend_from_slice(&v.to_le_bytes());
        }
        Value::String(s) => {
            out.push(4);
            put_bytes(out, s.as_bytes());
        }
        Value::Binary(b) => {
            out.push(5);
            put_bytes(out, b);
        }
        Value::List(items) | Value::Struct(items) => {
            out.push(if matches!(value, Value::List(_)) {
                6
            } else {
                8
            });
            put_len(out, items.len());
            items.iter().for_each(|v| encode_value(v, out));
        }
        Value::Map(entries) => {
            out.push(7);
            put_len(out, entries.len());
            for (k, v) in entries {
                encode_value(k, out);
                encode_value(v, out);
            }
        }
    }
}

struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    /// Checks that every byte was read.
    fn finish(&self) -> Result<(), DecodeError> {
        match self.bytes.len() - self.pos {
            0 => Ok(()),
            left => Err(self.error(format!("{left} trailing bytes"))),
        }
    }

    fn error(&self, reason: impl Into<String>) -> DecodeError {
        DecodeError {
            offset: self.pos,
            reason: reason.into(),
        }
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], DecodeError> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|end| *end <= self.bytes.len());
        let end = end.ok_or_else(|| self.error(format!("needs {n} more bytes")))?;
        let slice = &self.bytes[self.pos..end];
        self.pos = end;
        Ok(slice)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], DecodeError> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N)?);
        Ok(out)
    }

    fn u8(&mut self) -> Result<u8, DecodeError> {
        Ok(self.take(1)?[0])
    }
    fn u16(&mut self) -> Result<u16, DecodeError> {
        Ok(u16::from_le_bytes(self.array()?))
    }
    fn i64(&mut self) -> Result<i64, DecodeError> {
        Ok(i64::from_le_bytes(self.array()?))
    }
    fn u64(&mut self) -> Result<u64, DecodeError> {
        Ok(u64::from_le_bytes(self.array()?))
    }
    fn f64(&mut self) -> Result<f64, DecodeError> {
        Ok(f64::from_le_bytes(self.array()?))
    }

    /// A count of items that each take at least `min_size` bytes, bounded by what is left.
    fn len(&mut self, min_size: usize) -> Result<usize, DecodeError> {
        let n = u32::from_le_bytes(self.array()?) as usize;
        let left = self.bytes.len() - self.pos;
        if n.saturating_mul(min_size.max(1)) > left {
            return Err(self.error(format!("length {n} exceeds the {left} bytes left")));
        }
        Ok(n)
    }

    fn bytes(&mut self) -> Result<&'a [u8], DecodeError> {
        let n = self.len(1)?;
        self.take(n)
    }

    fn string(&mut self) -> Result<String, DecodeError> {
        Ok(self.str()?.to_owned())
    }

    fn str(&mut self) -> Result<&'a str, DecodeError> {
        let at = self.pos;
        let bytes = self.bytes()?;
        std::str::from_utf8(bytes).map_err(|_| DecodeError {
            offset: at,
            reason: "invalid UTF-8".into(),
        })
    }

    /// One item of a DISTINCT state, borrowed from the bytes.
    fn distinct_item(&mut self) -> Result<DistinctRef<'a>, DecodeError> {
        let at = self.pos;
        Ok(match self.u8()? {
            0 => DistinctRef::Long(self.i64()?),
            1 => DistinctRef::Double(self.u64()?),
            2 => DistinctRef::Str(self.str()?),
            3 => DistinctRef::Bytes(self.bytes()?),
            t => {
                return Err(DecodeError {
                    offset: at,
                    reason: format!("distinct item tag {t}"),
                })
            }
        })
    }
}

fn decode_part(part: &AggregationPart, r: &mut Reader<'_>) -> Result<Ir, DecodeError> {
    if part.bucket_column().is_some() {
        decode_keyed(r, |r| decode_shaped(part, r))
    } else {
        decode_shaped(part, r)
    }
}

fn decode_shaped(part: &AggregationPart, r: &mut Reader<'_>) -> Result<Ir, DecodeError> {
    match part.shape() {
        Shape::PerKey => decode_keyed(r, |r| decode_leaf(part, r)),
        Shape::ElementWise => {
            let at = r.pos;
            match r.u8()? {
                EMPTY => Ok(Ir::Empty),
                ELEMENTS => {
                    let n = r.len(1)?;
                    let states = (0..n)
                        .map(|_| decode_leaf(part, r))
                        .collect::<Result<_, _>>()?;
                    Ok(Ir::Elements(states))
                }
                tag => Err(DecodeError {
                    offset: at,
                    reason: format!("tag {tag} is not elementWise"),
                }),
            }
        }
        _ => decode_leaf(part, r),
    }
}

fn decode_keyed(
    r: &mut Reader<'_>,
    mut inner: impl FnMut(&mut Reader<'_>) -> Result<Ir, DecodeError>,
) -> Result<Ir, DecodeError> {
    let at = r.pos;
    match r.u8()? {
        EMPTY => Ok(Ir::Empty),
        KEYED => {
            let n = r.len(5)?;
            let mut map = BTreeMap::new();
            for _ in 0..n {
                let key = r.string()?;
                map.insert(key, inner(r)?);
            }
            Ok(Ir::Keyed(map))
        }
        tag => Err(DecodeError {
            offset: at,
            reason: format!("tag {tag} is not a keyed state"),
        }),
    }
}

/// The tags a kernel's states may carry.
fn allowed(kernel: &Kernel, element: &DataType, tag: u8) -> bool {
    match kernel {
        Kernel::Count => tag == LONG,
        Kernel::Sum { floating } => tag == if *floating { DOUBLE } else { LONG },
        Kernel::Average => tag == AVERAGE,
        Kernel::Moments(_) => tag == MOMENTS,
        Kernel::Min | Kernel::Max => {
            tag == match element {
                DataType::String => STR,
                t if t.is_floating() => DOUBLE,
                _ => LONG,
            }
        }
        Kernel::First | Kernel::Last => tag == TIMED,
        Kernel::FirstK(_) | Kernel::LastK(_) => tag == TIMED_LIST,
        Kernel::TopK(_) | Kernel::BottomK(_) => tag == RANKED,
        Kernel::UniqueCount | Kernel::BoundedUniqueCount(_) => tag == DISTINCT,
        Kernel::ApproxUniqueCount { .. } => tag == CPC,
        Kernel::ApproxPercentile { .. } => tag == EXACT || tag == DIGEST,
        Kernel::Histogram(_) => tag == COUNTS,
        Kernel::ApproxHistogram { .. } => tag == FREQUENT,
    }
}

fn decode_leaf(part: &AggregationPart, r: &mut Reader<'_>) -> Result<Ir, DecodeError> {
    let at = r.pos;
    let tag = r.u8()?;
    if tag == EMPTY {
        return Ok(Ir::Empty);
    }
    let kernel = part.kernel();
    let element = part.element_type();
    if !allowed(kernel, element, tag) {
        return Err(DecodeError {
            offset: at,
            reason: format!("tag {tag} is not a state of {}", part.operation()),
        });
    }
    let sketch_error = |e: datasketches::error::Error| DecodeError {
        offset: at,
        reason: e.to_string(),
    };
    Ok(match tag {
        LONG => Ir::Long(r.i64()?),
        DOUBLE => Ir::Double(r.f64()?),
        STR => Ir::Str(r.string()?),
        AVERAGE => Ir::Average {
            sum: r.f64()?,
            count: r.i64()?,
        },
        MOMENTS => Ir::Moments(Moments {
            n: r.f64()?,
            mean: r.f64()?,
            m2: r.f64()?,
            m3: r.f64()?,
            m4: r.f64()?,
        }),
        TIMED => Ir::Timed {
            ts: r.i64()?,
            value: decode_value(r, element, 0)?,
        },
        TIMED_LIST => {
            let n = r.len(9)?;
            let list = (0..n)
                .map(|_| Ok((r.i64()?, decode_value(r, element, 0)?)))
                .collect::<Result<_, DecodeError>>()?;
            Ir::TimedList(list)
        }
        RANKED => {
            let n = r.len(1)?;
            Ir::Ranked(
                (0..n)
                    .map(|_| decode_value(r, element, 0))
                    .collect::<Result<_, _>>()?,
            )
        }
        DISTINCT => {
            let mut ir = Ir::Empty;
            distinct_items(r, &mut ir, None)?;
            ir
        }
        CPC => {
            let sketch = CpcSketch::deserialize(r.bytes()?).map_err(sketch_error)?;
            if let Kernel::ApproxUniqueCount { lg_k } = kernel {
                if sketch.lg_k() != *lg_k {
                    return Err(DecodeError {
                        offset: at,
                        reason: format!("sketch lgK {} is not {lg_k}", sketch.lg_k()),
                    });
                }
            }
            Ir::Cpc(Box::new(sketch))
        }
        EXACT => {
            let n = r.len(4)?;
            Ir::Exact(
                (0..n)
                    .map(|_| Ok(f32::from_le_bytes(r.array()?)))
                    .collect::<Result<_, DecodeError>>()?,
            )
        }
        DIGEST => Ir::Digest(Box::new(decode_digest(kernel, r, at)?)),
        COUNTS => Ir::Counts(decode_counts(r)?),
        FREQUENT => {
            let offset = r.i64()?;
            Ir::Frequent {
                counts: decode_counts(r)?,
                offset,
            }
        }
        _ => {
            return Err(DecodeError {
                offset: at,
                reason: format!("unknown tag {tag}"),
            })
        }
    })
}

/// A t-digest, in the crate's native layout only (preamble longs 1 or 2): its legacy layout
/// sizes a buffer from an unchecked count. Its weight and k must be ones this part can produce.
fn decode_digest(
    kernel: &Kernel,
    r: &mut Reader<'_>,
    at: usize,
) -> Result<TDigestMut, DecodeError> {
    let error = |reason: String| DecodeError { offset: at, reason };
    let bytes = r.bytes()?;
    if !matches!(bytes.first(), Some(1 | 2)) {
        return Err(error("not a native t-digest".into()));
    }
    let digest = TDigestMut::deserialize(bytes).map_err(|e| error(e.to_string()))?;
    if digest.total_weight() > percentile::MAX_WEIGHT {
        return Err(error(format!(
            "t-digest weight {} is implausible",
            digest.total_weight()
        )));
    }
    if let Kernel::ApproxPercentile { k, .. } = kernel {
        if digest.k() != (*k).max(10) {
            return Err(error(format!(
                "t-digest k {} is not {}",
                digest.k(),
                (*k).max(10)
            )));
        }
    }
    Ok(digest)
}

fn decode_counts(r: &mut Reader<'_>) -> Result<BTreeMap<String, i64>, DecodeError> {
    let n = r.len(12)?;
    let mut counts = BTreeMap::new();
    for _ in 0..n {
        let at = r.pos;
        let key = r.string()?;
        if counts.insert(key, r.i64()?).is_some() {
            return Err(DecodeError {
                offset: at,
                reason: "duplicate key".into(),
            });
        }
    }
    Ok(counts)
}

/// Decodes a value that must be of type `t` (or null).
fn decode_value(r: &mut Reader<'_>, t: &DataType, depth: usize) -> Result<Value, DecodeError> {
    let at = r.pos;
    if depth > MAX_VALUE_DEPTH {
        return Err(r.error("values nested too deeply"));
    }
    let mismatch = |tag: u8| DecodeError {
        offset: at,
        reason: format!("value tag {tag} is not a {t}"),
    };
    let tag = r.u8()?;
    Ok(match (tag, t) {
        (0, _) => Value::Null,
        (1, DataType::Boolean) => Value::Boolean(r.u8()? != 0),
        (2, t) if t.is_integral() => Value::Long(r.i64()?),
        (3, t) if t.is_floating() => Value::Double(r.f64()?),
        (4, DataType::String) => Value::String(r.string()?),
        (5, DataType::Binary) => Value::Binary(r.bytes()?.to_vec()),
        (6, DataType::List(element)) => {
            let n = r.len(1)?;
            Value::List(
                (0..n)
                    .map(|_| decode_value(r, element, depth + 1))
                    .collect::<Result<_, _>>()?,
            )
        }
        (7, DataType::Map(key, value)) => {
            let n = r.len(2)?;
            let entries = (0..n)
                .map(|_| {
                    Ok((
                        decode_value(r, key, depth + 1)?,
                        decode_value(r, value, depth + 1)?,
                    ))
                })
                .collect::<Result<_, DecodeError>>()?;
            Value::map(entries)
        }
        (8, DataType::Struct(fields)) => {
            let n = r.len(1)?;
            if n != fields.len() {
                return Err(DecodeError {
                    offset: at,
                    reason: format!("struct of {n} fields, expected {}", fields.len()),
                });
            }
            Value::Struct(
                fields
                    .iter()
                    .map(|(_, ft)| decode_value(r, ft, depth + 1))
                    .collect::<Result<_, _>>()?,
            )
        }
        (tag, _) => return Err(mismatch(tag)),
    })
}
