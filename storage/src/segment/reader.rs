//! Opening a segment: map the file, verify its trailer, decode the Arrow IPC file in place.
//!
//! Segment bytes are untrusted: every offset and length read from the file is checked against
//! the mapped bytes before it is used, and any decode failure is reported as
//! [`StorageError::Corrupted`] naming the file.

use std::fs::File;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow::buffer::Buffer;
use arrow::compute::concat_batches;
use arrow::ipc::convert::try_fb_to_schema;
use arrow::ipc::reader::{read_footer_length, FileDecoder};
use arrow::ipc::{root_as_footer, root_as_message, Block, MessageHeader};
use arrow::record_batch::RecordBatch;

use super::footer::{verify_trailer, TRAILER_LEN};
use super::mmap::map_segment;
use crate::error::{Result, StorageError};

/// `ARROW1` and two bytes of padding open an Arrow IPC file.
const IPC_HEADER_LEN: usize = 8;
/// The footer length (`i32`) and `ARROW1` close it.
const IPC_TAIL_LEN: usize = 10;
const ARROW_MAGIC: &[u8; 6] = b"ARROW1";

/// An opened, verified, memory-mapped segment. Cloning is cheap; the mapping lives until the
/// last clone, and any array sliced from [`Segment::batch`], is dropped.
#[derive(Clone, Debug)]
pub struct Segment {
    inner: Arc<Opened>,
}

#[derive(Debug)]
struct Opened {
    path: PathBuf,
    batch: RecordBatch,
    file_size: u64,
}

impl Segment {
    /// Maps the file at `path`, verifies its trailer (magic, length, CRC-32) and decodes its
    /// record batch without copying aligned column data.
    ///
    /// A truncated, flipped or otherwise undecodable file is [`StorageError::Corrupted`] with
    /// `what` = `segment <path>`.
    pub fn open(path: &Path) -> Result<Segment> {
        let io_error = |err| StorageError::io(path, err);
        let corrupted =
            |detail: String| StorageError::corrupted(format!("segment {}", path.display()), detail);
        let file = File::open(path).map_err(io_error)?;
        let file_size = file.metadata().map_err(io_error)?.len();
        if file_size < TRAILER_LEN as u64 {
            return Err(corrupted(format!(
                "truncated: {file_size} bytes, shorter than the {TRAILER_LEN}-byte trailer"
            )));
        }
        let map = map_segment(&file).map_err(io_error)?;
        let bytes = Buffer::from(bytes::Bytes::from_owner(map));
        let ipc_len = verify_trailer(bytes.as_slice()).map_err(corrupted)?;
        let batch = decode(&bytes.slice_with_length(0, ipc_len)).map_err(corrupted)?;
        Ok(Segment {
            inner: Arc::new(Opened {
                path: path.to_path_buf(),
                batch,
                file_size,
            }),
        })
    }

    /// The segment's rows.
    pub fn batch(&self) -> &RecordBatch {
        &self.inner.batch
    }

    /// The path the segment was opened from.
    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// The size of the segment file in bytes, trailer included.
    pub fn file_size(&self) -> u64 {
        self.inner.file_size
    }
}

/// Decodes the Arrow IPC file `ipc` into one record batch.
///
/// The bounds checks below cover what arrow-ipc indexes without checking; arrow's decoder is
/// not documented as panic-free on hostile input, so a panic inside it is caught and reported
/// as corruption rather than unwinding into the caller.
fn decode(ipc: &Buffer) -> Result<RecordBatch, String> {
    catch_unwind(AssertUnwindSafe(|| decode_checked(ipc)))
        .unwrap_or_else(|_| Err("the Arrow IPC decoder failed on these bytes".to_string()))
}

fn decode_checked(ipc: &Buffer) -> Result<RecordBatch, String> {
    let arrow_error = |err: arrow::error::ArrowError| format!("Arrow IPC: {err}");
    let len = ipc.len();
    if len < IPC_HEADER_LEN + IPC_TAIL_LEN || &ipc[..ARROW_MAGIC.len()] != ARROW_MAGIC {
        return Err(format!("not an Arrow IPC file ({len} bytes)"));
    }
    let footer_end = len - IPC_TAIL_LEN;
    let mut tail = [0u8; IPC_TAIL_LEN];
    tail.copy_from_slice(&ipc[footer_end..]);
    let footer_len = read_footer_length(tail).map_err(arrow_error)?;
    let footer_start = footer_end
        .checked_sub(footer_len)
        .filter(|start| *start >= IPC_HEADER_LEN)
        .ok_or_else(|| format!("IPC footer length {footer_len} exceeds the file"))?;
    let footer = root_as_footer(&ipc[footer_start..footer_end])
        .map_err(|err| format!("IPC footer: {err}"))?;
    let fb_schema = footer.schema().ok_or("IPC footer has no schema")?;
    if !fb_schema.endianness().equals_to_target_endianness() {
        return Err("IPC file has the other byte order".to_string());
    }
    let schema = Arc::new(try_fb_to_schema(fb_schema).map_err(arrow_error)?);
    let mut decoder = FileDecoder::new(Arc::clone(&schema), footer.version());
    for block in footer.dictionaries().iter().flatten() {
        let data = block_bytes(ipc, block, footer_start)?;
        decoder.read_dictionary(block, &data).map_err(arrow_error)?;
    }
    let mut batches = Vec::new();
    for block in footer.recordBatches().iter().flatten() {
        let data = block_bytes(ipc, block, footer_start)?;
        if let Some(batch) = decoder
            .read_record_batch(block, &data)
            .map_err(arrow_error)?
        {
            batches.push(batch);
        }
    }
    match batches.len() {
        0 => Ok(RecordBatch::new_empty(schema)),
        1 => Ok(batches.swap_remove(0)),
        _ => concat_batches(&schema, &batches).map_err(arrow_error),
    }
}

/// The bytes of `block` (message metadata, then body), after checking that the block lies
/// within `ipc[..limit]` and that every buffer its message names lies within its body.
fn block_bytes(ipc: &Buffer, block: &Block, limit: usize) -> Result<Buffer, String> {
    let out_of_bounds = || {
        format!(
            "IPC block at offset {} (metadata {} bytes, body {} bytes) is outside the file",
            block.offset(),
            block.metaDataLength(),
            block.bodyLength()
        )
    };
    let offset = usize::try_from(block.offset()).map_err(|_| out_of_bounds())?;
    let metadata_len = usize::try_from(block.metaDataLength()).map_err(|_| out_of_bounds())?;
    let body_len = usize::try_from(block.bodyLength()).map_err(|_| out_of_bounds())?;
    let block_len = metadata_len
        .checked_add(body_len)
        .ok_or_else(out_of_bounds)?;
    let end = offset.checked_add(block_len).ok_or_else(out_of_bounds)?;
    if offset < IPC_HEADER_LEN || end > limit || metadata_len < 8 {
        return Err(out_of_bounds());
    }
    check_message(&ipc[offset..offset + metadata_len], body_len)?;
    Ok(ipc.slice_with_length(offset, block_len))
}

/// Checks the counts, offsets and lengths of an encapsulated IPC message against its body.
fn check_message(metadata: &[u8], body_len: usize) -> Result<(), String> {
    // An encapsulated message: [0xFFFFFFFF continuation] · length:i32 · flatbuffer · padding.
    let flatbuffer = if metadata[..4] == [0xFF; 4] {
        &metadata[8..]
    } else {
        &metadata[4..]
    };
    let message = root_as_message(flatbuffer).map_err(|err| format!("IPC message: {err}"))?;
    let batch = match message.header_type() {
        MessageHeader::RecordBatch => message.header_as_record_batch(),
        MessageHeader::DictionaryBatch => message
            .header_as_dictionary_batch()
            .and_then(|dictionary| dictionary.data()),
        // Anything else is rejected by arrow's decoder with its own message.
        _ => None,
    };
    let Some(batch) = batch else {
        return Ok(());
    };
    if batch.length() < 0 {
        return Err(format!("IPC batch has {} rows", batch.length()));
    }
    for node in batch.nodes().iter().flatten() {
        if node.length() < 0 || node.null_count() < 0 || node.null_count() > node.length() {
            return Err(format!(
                "IPC field node has length {} and null count {}",
                node.length(),
                node.null_count()
            ));
        }
    }
    for buffer in batch.buffers().iter().flatten() {
        let fits = usize::try_from(buffer.offset())
            .ok()
            .zip(usize::try_from(buffer.length()).ok())
            .and_then(|(offset, length)| offset.checked_add(length))
            .is_some_and(|end| end <= body_len);
        if !fits {
            return Err(format!(
                "IPC buffer at offset {} of length {} is outside the {body_len}-byte body",
                buffer.offset(),
                buffer.length()
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::segment::writer::encode_segment;
    use arrow::array::{Array, Int64Array, StringArray};

    /// Aligned input (a page-aligned mapping in `Segment::open`) decodes without copying: the
    /// column buffers point into the input bytes.
    #[test]
    fn decoding_aligned_bytes_does_not_copy_columns() {
        let batch = RecordBatch::try_from_iter([
            ("ts", Arc::new(Int64Array::from(vec![1, 2, 3])) as _),
            (
                "key",
                Arc::new(StringArray::from(vec!["a", "bb", "ccc"])) as _,
            ),
        ])
        .unwrap();
        let encoded = encode_segment(&batch).unwrap();
        let bytes = Buffer::from(arrow::buffer::MutableBuffer::from(encoded));
        let ipc_len = verify_trailer(bytes.as_slice()).unwrap();
        let decoded = decode(&bytes.slice_with_length(0, ipc_len)).unwrap();
        assert_eq!(decoded, batch);
        let inside = bytes.as_ptr() as usize..bytes.as_ptr() as usize + bytes.len();
        for column in decoded.columns() {
            for buffer in column.to_data().buffers() {
                assert!(inside.contains(&(buffer.as_ptr() as usize)));
            }
        }
    }
}
