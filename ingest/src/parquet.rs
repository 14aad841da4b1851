//! Reading Parquet files into Arrow batches, with errors that name the file.

use std::fs::File;
use std::path::Path;

use arrow::array::RecordBatch;
use arrow::datatypes::SchemaRef;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

use crate::IngestError;

/// Rows per batch read from Parquet.
pub const BATCH_ROWS: usize = 64 * 1024;

/// Every row of `path`, as batches of one schema.
pub fn read_parquet(path: &Path) -> Result<(SchemaRef, Vec<RecordBatch>), IngestError> {
    let (schema, batches) = parquet_batches(path, BATCH_ROWS)?;
    Ok((schema, batches.collect::<Result<Vec<_>, _>>()?))
}

/// Streams `path` batch by batch (for left inputs that may not fit in memory).
pub fn parquet_batches(
    path: &Path,
    batch_rows: usize,
) -> Result<
    (
        SchemaRef,
        impl Iterator<Item = Result<RecordBatch, IngestError>>,
    ),
    IngestError,
> {
    let owned = path.to_owned();
    let error = move |reason: String| IngestError::Parquet {
        file: owned.clone(),
        reason,
    };
    let file = File::open(path).map_err(|e| error(e.to_string()))?;
    let builder =
        ParquetRecordBatchReaderBuilder::try_new(file).map_err(|e| error(e.to_string()))?;
    let schema = builder.schema().clone();
    let reader = builder
        .with_batch_size(batch_rows.max(1))
        .build()
        .map_err(|e| error(e.to_string()))?;
    Ok((
        schema,
        reader.map(move |b| b.map_err(|e| error(e.to_string()))),
    ))
}
