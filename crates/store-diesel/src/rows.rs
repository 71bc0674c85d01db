//! Row types: what the tables hold, kept apart from the core's domain types.

use diesel::prelude::*;
use register_core::{Digest, Entry, ItemHash, LogKind, Timestamp};

use crate::error::StoreError;
use crate::schema::{entries, registers};

/// The stored code of a log.
pub(crate) fn log_code(log: LogKind) -> i16 {
    match log {
        LogKind::User => 0,
        LogKind::System => 1,
    }
}

pub(crate) fn to_i64(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

pub(crate) fn to_u64(n: i64) -> u64 {
    u64::try_from(n).unwrap_or_default()
}

pub(crate) fn digest(bytes: &[u8]) -> Result<Digest, StoreError> {
    <[u8; 32]>::try_from(bytes)
        .map(Digest)
        .map_err(|_| StoreError::Corrupt(format!("a hash of {} bytes", bytes.len())))
}

/// An item list as stored: the hashes back to back.
pub(crate) fn encode_hashes(hashes: &[ItemHash]) -> Vec<u8> {
    hashes.iter().flat_map(|h| h.0 .0).collect()
}

pub(crate) fn decode_hashes(bytes: &[u8]) -> Result<Vec<ItemHash>, StoreError> {
    if bytes.len() % 32 != 0 {
        return Err(StoreError::Corrupt(format!(
            "an item list of {} bytes",
            bytes.len()
        )));
    }
    bytes
        .chunks_exact(32)
        .map(|chunk| digest(chunk).map(ItemHash))
        .collect()
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = registers)]
pub(crate) struct RegisterRow {
    pub id: i64,
    pub name: String,
    pub created_at: i64,
    pub updated_at: i64,
    pub user_size: i64,
    pub system_size: i64,
    pub record_count: i64,
    pub item_count: i64,
    pub user_root: Vec<u8>,
    pub system_root: Vec<u8>,
    pub mirror_partner: Option<String>,
    pub mirror_plan: Option<String>,
    pub mirror_slice: Option<String>,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = registers)]
pub(crate) struct NewRegister<'a> {
    pub id: i64,
    pub name: &'a str,
    pub created_at: i64,
    pub updated_at: i64,
    pub user_root: Vec<u8>,
    pub system_root: Vec<u8>,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = entries)]
pub(crate) struct EntryRow {
    pub number: i64,
    pub timestamp: i64,
    pub key: String,
    pub item_hashes: Vec<u8>,
}

impl EntryRow {
    pub(crate) fn into_entry(self) -> Result<Entry, StoreError> {
        let timestamp = Timestamp::from_unix_seconds(self.timestamp)
            .ok_or_else(|| StoreError::Corrupt(format!("timestamp {}", self.timestamp)))?;
        Ok(Entry {
            entry_number: to_u64(self.number),
            index_entry_number: to_u64(self.number),
            timestamp,
            key: self.key,
            item_hashes: decode_hashes(&self.item_hashes)?,
        })
    }
}
