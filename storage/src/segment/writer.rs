//! Sealing a record batch into a segment file.

use std::path::Path;

use arrow::error::ArrowError;
use arrow::ipc::writer::FileWriter;
use arrow::record_batch::RecordBatch;

use super::footer::{encode_trailer, TRAILER_LEN};
use crate::error::{Result, StorageError};
use crate::fs::{write_atomic, FileSystem};

/// Encodes `batch` (one record batch; it may have no rows) as a segment and writes it to `path`
/// with [`write_atomic`]. The parent directory must exist. Returns the file size in bytes.
pub fn write_segment(fs: &dyn FileSystem, path: &Path, batch: &RecordBatch) -> Result<u64> {
    let bytes = encode_segment(batch).map_err(|source| StorageError::Encode {
        path: path.to_path_buf(),
        source,
    })?;
    write_atomic(fs, path, &bytes)?;
    Ok(bytes.len() as u64)
}

/// The bytes of a segment holding `batch`: an Arrow IPC file, then the trailer.
pub(crate) fn encode_segment(batch: &RecordBatch) -> Result<Vec<u8>, ArrowError> {
    let schema = batch.schema();
    let mut writer = FileWriter::try_new(Vec::new(), &schema)?;
    writer.write(batch)?;
    writer.finish()?;
    let mut bytes = writer.into_inner()?;
    bytes.reserve_exact(TRAILER_LEN);
    let trailer = encode_trailer(&bytes);
    bytes.extend_from_slice(&trailer);
    Ok(bytes)
}
