//! The live-ingest tables: `head` (recently ingested batches, not yet sealed into segments) and
//! `producers` (the last committed sequence number of each idempotent producer).
//!
//! | table | key | value |
//! |---|---|---|
//! | `head` | commit number (`u64`) | sealed opaque bytes |
//! | `producers` | producer id | last committed sequence number (`u64`) |

use std::ops::RangeInclusive;

use redb::{ReadableTable, TableDefinition};

use super::read::open_optional;
use super::{database_error, ReadTxn, WriteTxn};
use crate::checksum::{sealed, unseal};
use crate::error::{Result, StorageError};

pub(crate) const HEAD: TableDefinition<u64, &[u8]> = TableDefinition::new("head");
pub(crate) const PRODUCERS: TableDefinition<&str, u64> = TableDefinition::new("producers");

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
    /// Every head entry as (number, payload), in number order, checksums verified.
    pub fn head(&self) -> Result<Vec<(u64, Vec<u8>)>> {
        let context = "reading the head";
        let Some(table) = open_optional(&self.txn, HEAD)? else {
            return Ok(Vec::new());
        };
        let mut entries = Vec::new();
        for entry in table.iter().map_err(|err| database_error(context, err))? {
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
