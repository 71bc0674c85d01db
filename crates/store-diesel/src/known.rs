//! What the write path remembers of a register between its batches: the frontiers of its two
//! logs and its metadata. Rebuilding them costs a batch a dozen reads (the system records and
//! their items, the frontier's nodes and leaves), which is most of what a batch of one record
//! reads. They are kept for the sizes and roots a committed batch left, and used only while the
//! register's row, read under its lock, still has exactly those sizes and roots: a load, or a
//! write by another process on the same database, moves them, and the next batch reads afresh.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use register_core::merkle::Frontier;
use register_core::Metadata;

use crate::error::StoreError;
use crate::rows::{digest, to_u64, RegisterRow};

/// Registers remembered at most; past it the memory starts over (a node has few registers).
const MAX_REGISTERS: usize = 1_024;

/// A register's logs and metadata at the sizes its frontiers give.
#[derive(Debug, Clone)]
pub(crate) struct Known {
    /// The user log's frontier.
    pub user: Frontier,
    /// The system log's frontier.
    pub system: Frontier,
    /// The metadata the system log gives at that size.
    pub metadata: Arc<Metadata>,
}

impl Known {
    /// Whether `row` (read under the register's lock) is the state this describes.
    fn describes(&self, row: &RegisterRow) -> Result<bool, StoreError> {
        Ok(self.user.size() == to_u64(row.user_size)
            && self.system.size() == to_u64(row.system_size)
            && self.user.root() == digest(&row.user_root)?
            && self.system.root() == digest(&row.system_root)?)
    }
}

/// [`Known`] states by register id, shared by the store's clones.
#[derive(Debug, Default)]
pub(crate) struct KnownRegisters(Mutex<HashMap<i64, Arc<Known>>>);

impl KnownRegisters {
    /// What is known of the register in `row`, if it still describes it.
    pub fn get(&self, row: &RegisterRow) -> Result<Option<Arc<Known>>, StoreError> {
        let found = self.lock().get(&row.id).cloned();
        match found {
            Some(known) if known.describes(row)? => Ok(Some(known)),
            _ => Ok(None),
        }
    }

    /// Remembers the register `id` as a committed batch left it.
    pub fn put(&self, id: i64, known: Known) {
        let mut map = self.lock();
        if map.len() >= MAX_REGISTERS && !map.contains_key(&id) {
            map.clear();
        }
        map.insert(id, Arc::new(known));
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<i64, Arc<Known>>> {
        // Plain data: a panic elsewhere leaves nothing half-written worth refusing.
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }
}
