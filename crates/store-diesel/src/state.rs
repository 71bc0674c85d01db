//! The register as the loader sees it inside the load transaction.

use std::borrow::Cow;
use std::cell::RefCell;

use diesel::prelude::*;
use register_core::merkle::{Frontier, NodeStore};
use register_core::{
    Digest, Entry, Error, ItemHash, ItemView, LogKind, Metadata, Mode, RegisterState,
};

use crate::conn::{native, AnyConnection};
use crate::error::StoreError;
use crate::rows::{digest, log_code, to_i64, to_u64, EntryRow, RegisterRow};
use crate::schema::{entries, index_merkle_nodes, items, merkle_nodes, records, register_items};

fn state_error(e: impl std::error::Error + Send + Sync + 'static) -> Error {
    Error::State(std::sync::Arc::new(e))
}

/// One stored Merkle tree: a register log's (`merkle_nodes`) or an index log's
/// (`index_merkle_nodes`). Both keep levels >= 1 only and recompute leaves from their entries.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Tree<'a> {
    /// A log of the register with this id.
    Log(i64, LogKind),
    /// The named index log of the register with this id.
    Index(i64, &'a str),
}

impl Tree<'_> {
    /// The stored subtree hash at `level` >= 1, if any.
    pub fn inner_node(
        &self,
        conn: &mut AnyConnection,
        level: u32,
        index: u64,
    ) -> Result<Option<Digest>, StoreError> {
        let hash: Option<Vec<u8>> = match *self {
            Tree::Log(register_id, log) => native!(conn, c => merkle_nodes::table
                .filter(merkle_nodes::register_id.eq(register_id))
                .filter(merkle_nodes::log.eq(log_code(log)))
                .filter(merkle_nodes::level.eq(level as i16))
                .filter(merkle_nodes::idx.eq(to_i64(index)))
                .select(merkle_nodes::hash)
                .first(c)
                .optional()?),
            Tree::Index(register_id, name) => index_merkle_nodes::table
                .filter(index_merkle_nodes::register_id.eq(register_id))
                .filter(index_merkle_nodes::index_name.eq(name))
                .filter(index_merkle_nodes::level.eq(level as i16))
                .filter(index_merkle_nodes::idx.eq(to_i64(index)))
                .select(index_merkle_nodes::hash)
                .first(conn)
                .optional()?,
        };
        hash.map(|bytes| digest(&bytes)).transpose()
    }
}

/// The Merkle nodes of one tree, read through a connection.
pub(crate) struct DbNodes<'c, 't> {
    pub conn: &'c RefCell<&'c mut AnyConnection>,
    pub tree: Tree<'t>,
}

impl NodeStore for DbNodes<'_, '_> {
    fn node(&self, level: u32, index: u64) -> Result<Digest, Error> {
        let mut conn = self.conn.borrow_mut();
        let found = if level == 0 {
            leaves(&mut conn, self.tree, &[index])
                .map_err(state_error)?
                .pop()
                .map(|(_, leaf)| leaf)
        } else {
            self.tree
                .inner_node(&mut conn, level, index)
                .map_err(state_error)?
        };
        found.ok_or(Error::MissingNode { level, index })
    }
}

/// The current records of a log with their entries (`records` joined to `entries`).
#[diesel::dsl::auto_type]
pub(crate) fn current_records(register_id: i64, log: i16) -> _ {
    records::table
        .inner_join(
            entries::table.on(entries::register_id
                .eq(records::register_id)
                .and(entries::log.eq(records::log))
                .and(entries::number.eq(records::entry_number))),
        )
        .filter(records::register_id.eq(register_id))
        .filter(records::log.eq(log))
}

/// The newest entry of `key` in a log: the record.
pub(crate) fn current_entry(
    conn: &mut AnyConnection,
    register_id: i64,
    log: LogKind,
    key: &str,
) -> Result<Option<Entry>, StoreError> {
    let row: Option<EntryRow> = native!(conn, c => current_records(register_id, log_code(log))
        .filter(records::key.eq(key))
        .select(EntryRow::as_select())
        .first(c)
        .optional()?);
    row.map(EntryRow::into_entry).transpose()
}

/// Leaf hashes (level 0 of the tree) of entries `index + 1`, recomputed from the stored
/// entries: storing them would double the node rows a load writes, and a proof needs at most
/// two of them. Index entries hash exactly like user entries (their V1-JSON form).
pub(crate) fn leaves(
    conn: &mut AnyConnection,
    tree: Tree<'_>,
    indexes: &[u64],
) -> Result<Vec<(u64, Digest)>, StoreError> {
    // One fixed statement per leaf: the backends cache it, where an `IN (…)` list of varying
    // length is parsed anew each time (and a proof needs at most two leaves).
    let mut found = Vec::with_capacity(indexes.len());
    let mut scratch = String::new();
    for &index in indexes {
        let entry = match tree {
            Tree::Log(register_id, log) => native!(conn, c => entries::table
                .filter(entries::register_id.eq(register_id))
                .filter(entries::log.eq(log_code(log)))
                .filter(entries::number.eq(to_i64(index + 1)))
                .select(EntryRow::as_select())
                .first(c)
                .optional()?)
            .map(EntryRow::into_entry),
            Tree::Index(register_id, name) => {
                crate::indexes::index_entry(conn, register_id, name, index + 1)?.map(Ok)
            }
        };
        if let Some(entry) = entry.transpose()? {
            found.push((index, entry.leaf_hash(&mut scratch)));
        }
    }
    Ok(found)
}

/// [`RegisterState`] over the open transaction. A register that does not exist yet is empty,
/// and answers without queries (which is also what makes a first bulk load fast).
pub(crate) struct DbState<'c> {
    conn: &'c RefCell<&'c mut AnyConnection>,
    register: Option<RegisterRow>,
    metadata: Metadata,
}

impl<'c> DbState<'c> {
    pub fn new(
        conn: &'c RefCell<&'c mut AnyConnection>,
        register: Option<RegisterRow>,
    ) -> Result<DbState<'c>, StoreError> {
        let metadata = match &register {
            Some(row) => read_metadata(&mut conn.borrow_mut(), row.id)?,
            None => Metadata::default(),
        };
        Ok(DbState {
            conn,
            register,
            metadata,
        })
    }

    /// The indexes declared before the load.
    pub fn index_names(&self) -> std::collections::BTreeSet<String> {
        self.metadata.indexes.keys().cloned().collect()
    }

    fn id(&self) -> Option<i64> {
        self.register.as_ref().map(|r| r.id)
    }
}

/// Metadata from the current system records, applied in entry order.
pub(crate) fn read_metadata(
    conn: &mut AnyConnection,
    register_id: i64,
) -> Result<Metadata, StoreError> {
    let rows: Vec<EntryRow> = current_records(register_id, log_code(LogKind::System))
        .order(entries::number.asc())
        .select(EntryRow::as_select())
        .load(conn)?;
    let mut metadata = Metadata::default();
    for row in rows {
        let entry = row.into_entry()?;
        let mut jsons = Vec::with_capacity(entry.item_hashes.len());
        for hash in &entry.item_hashes {
            let json: String = items::table
                .find(hash.0 .0.to_vec())
                .select(items::canonical)
                .first(conn)?;
            jsons.push(json);
        }
        let views = jsons
            .iter()
            .map(|j| ItemView::parse(j))
            .collect::<Result<Vec<_>, _>>()?;
        // Stored metadata was validated when loaded; relaxed keeps whatever it could describe.
        metadata.apply(&entry.key, &views, Mode::Relaxed)?;
    }
    Ok(metadata)
}

impl RegisterState for DbState<'_> {
    fn log_size(&self, log: LogKind) -> Result<u64, Error> {
        Ok(self.register.as_ref().map_or(0, |r| match log {
            LogKind::User => to_u64(r.user_size),
            LogKind::System => to_u64(r.system_size),
        }))
    }

    fn frontier(&self, log: LogKind) -> Result<Frontier, Error> {
        let Some(register_id) = self.id() else {
            return Ok(Frontier::new());
        };
        let nodes = DbNodes {
            conn: self.conn,
            tree: Tree::Log(register_id, log),
        };
        Frontier::from_store(&nodes, self.log_size(log)?)
    }

    fn contains_item(&self, hash: &ItemHash) -> Result<bool, Error> {
        let Some(register_id) = self.id() else {
            return Ok(false);
        };
        let mut conn = self.conn.borrow_mut();
        let found: Option<i64> = register_items::table
            .filter(register_items::register_id.eq(register_id))
            .filter(register_items::hash.eq(hash.0 .0.to_vec()))
            .select(register_items::register_id)
            .first(&mut **conn)
            .optional()
            .map_err(state_error)?;
        Ok(found.is_some())
    }

    fn item_json(&self, hash: &ItemHash) -> Result<Option<Cow<'_, str>>, Error> {
        let Some(register_id) = self.id() else {
            return Ok(None);
        };
        let mut conn = self.conn.borrow_mut();
        let json: Option<String> = register_items::table
            .inner_join(items::table)
            .filter(register_items::register_id.eq(register_id))
            .filter(register_items::hash.eq(hash.0 .0.to_vec()))
            .select(items::canonical)
            .first(&mut **conn)
            .optional()
            .map_err(state_error)?;
        Ok(json.map(Cow::Owned))
    }

    fn current_item_hashes(&self, log: LogKind, key: &str) -> Result<Option<Vec<ItemHash>>, Error> {
        let Some(register_id) = self.id() else {
            return Ok(None);
        };
        let mut conn = self.conn.borrow_mut();
        current_entry(&mut conn, register_id, log, key)
            .map(|entry| entry.map(|e| e.item_hashes))
            .map_err(state_error)
    }

    fn metadata(&self) -> Result<Metadata, Error> {
        Ok(self.metadata.clone())
    }
}
