//! The register as the loader sees it inside the load transaction.

use std::borrow::Cow;
use std::cell::RefCell;

use diesel::prelude::*;
use register_core::merkle::Frontier;
use register_core::{Error, ItemHash, LogKind, Metadata, RegisterState};

use crate::conn::AnyConnection;
use crate::error::StoreError;
use crate::registers::{latest_item_hashes, read_metadata};
use crate::rows::{to_u64, RegisterRow};
use crate::schema::{items, register_items};
use crate::tree::{state_error, with_nodes, DbNodes, NodeCache, Tree};

/// [`RegisterState`] over the open transaction. A register that does not exist yet is empty,
/// and answers without queries (which is also what makes a first bulk load fast).
pub(crate) struct DbState<'c> {
    conn: &'c RefCell<&'c mut AnyConnection>,
    register: Option<RegisterRow>,
    metadata: Metadata,
}

impl<'c> DbState<'c> {
    /// The state of `register` (`None`: not created yet), with its metadata read up front.
    pub fn new(
        conn: &'c RefCell<&'c mut AnyConnection>,
        register: Option<RegisterRow>,
    ) -> Result<DbState<'c>, StoreError> {
        let metadata = match &register {
            Some(row) => read_metadata(&mut conn.borrow_mut(), row.id)?,
            None => Metadata::default(),
        };
        Ok(DbState::with_metadata(conn, register, metadata))
    }

    /// The state of `register` whose metadata is known to be `metadata`.
    pub fn with_metadata(
        conn: &'c RefCell<&'c mut AnyConnection>,
        register: Option<RegisterRow>,
        metadata: Metadata,
    ) -> DbState<'c> {
        DbState {
            conn,
            register,
            metadata,
        }
    }

    /// The indexes declared before the load.
    pub fn index_names(&self) -> std::collections::BTreeSet<String> {
        self.metadata.indexes.keys().cloned().collect()
    }

    fn id(&self) -> Option<i64> {
        self.register.as_ref().map(|r| r.id)
    }
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
        let postgres = matches!(&**self.conn.borrow(), AnyConnection::Postgresql(_));
        if postgres {
            // All the frontier's nodes in two round trips rather than one each: a write
            // batch on a large register would otherwise spend ~20 round trips here.
            let size = self.log_size(log)?;
            let mut conn = self.conn.borrow_mut();
            let tree = Tree::Log(register_id, log);
            return with_nodes(&mut conn, tree, &NodeCache::default(), |nodes, _| {
                Frontier::from_store(nodes, size)
            })
            .map_err(state_error);
        }
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
            .inner_join(items::table.on(items::hash.eq(register_items::hash)))
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
        latest_item_hashes(&mut conn, register_id, log, key).map_err(state_error)
    }

    fn metadata(&self) -> Result<Metadata, Error> {
        Ok(self.metadata.clone())
    }
}
