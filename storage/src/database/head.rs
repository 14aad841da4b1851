//! The live-ingest tables: `head` (recently ingested batches, not yet sealed into segments) and
//! `producers` (the last committed sequence number of each idempotent producer). They live in
//! their own database, `<store>/head.redb` ([`HEAD_DATABASE_FILE_NAME`]), so that live ingest
//! commits while a seal writes tiles to `tilefold.redb` (redb runs one write transaction at a
//! time per database). A seal records in `tilefold.redb`'s `meta` table the last head entry
//! its commit holds (`sealed_through`); head entries up to it are garbage, removed after the
//! seal and ignored by every read.
//!
//! | table | key | value |
//! |---|---|---|
//! | `head` | commit number (`u64`) | sealed opaque bytes |
//! | `producers` | producer id | last committed sequence number (`u64`) |
//!
//! Stores written before the split keep their head entries and producers in `tilefold.redb`;
//! they are read from both databases.

use std::ops::RangeInclusive;

use redb::{ReadableTable, TableDefinition};

use super::read::open_optional;
use super::{database_error, ReadTxn, WriteTxn, META};
use crate::checksum::{sealed, unseal};
use crate::error::{Result, StorageError};

pub(crate) const HEAD: TableDefinition<u64, &[u8]> = TableDefinition::new("head");
pub(crate) const PRODUCERS: TableDefinition<&str, u64> = TableDefinition::new("producers");

/// The head database's file name inside a store directory.
pub const HEAD_DATABASE_FILE_NAME: &str = "head.redb";

const SEALED_THROUGH_KEY: &str = "sealed_through";

impl WriteTxn {
    /// Stores head entry `number`, sealed with a checksum.
    pub fn put_head(&mut self, number: u64, bytes: &[u8]) -> Result<()> {
        let context = || format!("writing head entry {number}");
        let stored = sealed(bytes);
        let mut table = self.table(HEAD, &context)?;
        table
            .insert(number, stored.as_slice())
            .map_err(|err| database_error(&context(), err))?;
        Ok(())
    }

    /// Records that every head entry up to `number` is sealed (in the tiles database).
    pub fn put_sealed_through(&mut self, number: u64) -> Result<()> {
        let context = || "writing the last sealed head entry".to_owned();
        let mut meta = self.table(META, &context)?;
        meta.insert(SEALED_THROUGH_KEY, number.to_le_bytes().as_slice())
            .map_err(|err| database_error(&context(), err))?;
        Ok(())
    }

    /// Removes the head entries numbered in `numbers` (sealed into segments).
    pub fn remove_head(&mut self, numbers: RangeInclusive<u64>) -> Result<()> {
        let context = || format!("removing head entries {numbers:?}");
        let mut table = self.table(HEAD, &context)?;
        table
            .retain_in(numbers.clone(), |_, _| false)
            .map_err(|err| database_error(&context(), err))?;
        Ok(())
    }

    /// Records `sequence` as producer `id`'s last committed sequence number.
    pub fn put_producer(&mut self, id: &str, sequence: u64) -> Result<()> {
        let context = || format!("writing producer {id}");
        let mut table = self.table(PRODUCERS, &context)?;
        table
            .insert(id, sequence)
            .map_err(|err| database_error(&context(), err))?;
        Ok(())
    }
}

impl ReadTxn {
    /// The last head entry a seal holds (recorded by [`WriteTxn::put_sealed_through`]); 0 if
    /// none.
    pub fn sealed_through(&self) -> Result<u64> {
        Ok(self
            .meta::<8>(SEALED_THROUGH_KEY)?
            .map_or(0, u64::from_le_bytes))
    }

    /// Every head entry numbered after `after` as (number, payload), in number order,
    /// checksums verified.
    pub fn head(&self, after: u64) -> Result<Vec<(u64, Vec<u8>)>> {
        let context = "reading the head";
        let Some(table) = open_optional(&self.txn, HEAD)? else {
            return Ok(Vec::new());
        };
        let Some(first) = after.checked_add(1) else {
            return Ok(Vec::new());
        };
        let mut entries = Vec::new();
        for entry in table
            .range(first..)
            .map_err(|err| database_error(context, err))?
        {
            let (number, sealed) = entry.map_err(|err| database_error(context, err))?;
            let number = number.value();
            let payload = unseal(sealed.value()).map_err(|err| {
                StorageError::corrupted(format!("head entry {number}"), err.to_string())
            })?;
            entries.push((number, payload.to_vec()));
        }
        Ok(entries)
    }

    /// Every producer's last committed sequence number, by producer id.
    pub fn producers(&self) -> Result<Vec<(String, u64)>> {
        let context = "reading producers";
        let Some(table) = open_optional(&self.txn, PRODUCERS)? else {
            return Ok(Vec::new());
        };
        let mut producers = Vec::new();
        for entry in table.iter().map_err(|err| database_error(context, err))? {
            let (id, sequence) = entry.map_err(|err| database_error(context, err))?;
            producers.push((id.value().to_owned(), sequence.value()));
        }
        Ok(producers)
    }
}
