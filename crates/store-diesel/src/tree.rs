//! Merkle trees as stored: one tree per register log (`merkle_nodes`) and per index log
//! (`index_merkle_nodes`), each keeping its complete aligned subtrees of level >= 1 and
//! recomputing leaves from the entries.
//!
//! Reads go through register-core's `NodeStore`: [`DbNodes`] reads node by node (SQLite, and
//! the load's frontiers); [`with_nodes`] runs a root or proof computation with the upper
//! nodes cached in memory ([`NodeCache`]) on SQLite, and in two round trips on PostgreSQL.

use std::cell::RefCell;
use std::collections::HashMap;

use diesel::prelude::*;
use register_core::merkle::NodeStore;
use register_core::{Digest, Error, LogKind};

use crate::conn::{native, AnyConnection};
use crate::error::StoreError;
use crate::index_logs;
use crate::rows::{digest, log_code, to_i64, to_u64, EntryRow, NodeRow};
use crate::schema::{
    entries, index_logs as index_logs_table, index_merkle_nodes, merkle_nodes, registers,
};

/// A store error as the register-core error a `NodeStore` or `RegisterState` returns.
pub(crate) fn state_error(e: impl std::error::Error + Send + Sync + 'static) -> Error {
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

/// Leaf hashes (level 0 of the tree) of entries `index + 1`, recomputed from the stored
/// entries: storing them would double the node rows a load writes, and a proof needs at most
/// two of them. Index entries hash exactly like user entries (their V1-JSON form).
fn leaves(
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
                index_logs::index_entry(conn, register_id, name, index + 1)?.map(Ok)
            }
        };
        if let Some(entry) = entry.transpose()? {
            found.push((index, entry.leaf_hash(&mut scratch)));
        }
    }
    Ok(found)
}

/// Records the nodes a computation reads, answering with placeholders.
#[derive(Default)]
struct Recorder {
    wanted: RefCell<Vec<(u32, u64)>>,
}

impl NodeStore for Recorder {
    fn node(&self, level: u32, index: u64) -> Result<Digest, Error> {
        self.wanted.borrow_mut().push((level, index));
        Ok(Digest([0; 32]))
    }
}

/// Subtree hashes at this level and above stay in memory once read. A complete subtree's
/// hash never changes (logs only grow and registers are never deleted), so they need no
/// invalidation, even with other processes writing; there are at most size / 1024 of them per
/// tree (about a thousand at 1M entries), and they are half the reads of a proof.
const CACHED_LEVEL: u32 = 10;

/// A tree in the [`NodeCache`]: register id, log code (-1 for an index), index name.
type TreeKey = (i64, i16, String);

/// One tree's cached nodes: (level, index) → hash.
type TreeNodes = HashMap<(u32, u64), Digest>;

/// The upper Merkle nodes of every tree read so far (see [`CACHED_LEVEL`]).
#[derive(Debug, Default)]
pub(crate) struct NodeCache {
    trees: std::sync::RwLock<HashMap<TreeKey, TreeNodes>>,
}

/// A tree's nodes through the [`NodeCache`].
struct Cached<'a, S> {
    cache: &'a NodeCache,
    key: TreeKey,
    inner: S,
}

impl<S: NodeStore> NodeStore for Cached<'_, S> {
    fn node(&self, level: u32, index: u64) -> Result<Digest, Error> {
        if level < CACHED_LEVEL {
            return self.inner.node(level, index);
        }
        let found = self.cache.trees.read().ok().and_then(|trees| {
            trees
                .get(&self.key)
                .and_then(|nodes| nodes.get(&(level, index)).copied())
        });
        if let Some(hash) = found {
            return Ok(hash);
        }
        let hash = self.inner.node(level, index)?;
        if let Ok(mut trees) = self.cache.trees.write() {
            trees
                .entry(self.key.clone())
                .or_default()
                .insert((level, index), hash);
        }
        Ok(hash)
    }
}

/// Nodes fetched in one query.
struct Fetched(HashMap<(u32, u64), Digest>);

impl NodeStore for Fetched {
    fn node(&self, level: u32, index: u64) -> Result<Digest, Error> {
        self.0
            .get(&(level, index))
            .copied()
            .ok_or(Error::MissingNode { level, index })
    }
}

/// Runs a Merkle computation over a log's stored nodes, given the log's size: on SQLite node
/// by node through cached statements, with the upper nodes from the [`NodeCache`]; on
/// PostgreSQL in two round trips: a dry run records which nodes the computation reads (its
/// access pattern never depends on the hash values), one query fetches them all, and the
/// real run reads from that answer.
pub(crate) fn with_nodes<T>(
    conn: &mut AnyConnection,
    tree: Tree<'_>,
    cache: &NodeCache,
    f: impl Fn(&dyn NodeStore, u64) -> Result<T, Error>,
) -> Result<T, StoreError> {
    let size = log_size(conn, tree)?;
    if let AnyConnection::Sqlite(_) = conn {
        // In-process SQLite has no round trips to save: read node by node through
        // statements it keeps prepared.
        let cell = RefCell::new(&mut *conn);
        let key = match tree {
            Tree::Log(id, log) => (id, log_code(log), String::new()),
            Tree::Index(id, index) => (id, -1, index.to_string()),
        };
        let nodes = Cached {
            cache,
            key,
            inner: DbNodes { conn: &cell, tree },
        };
        return Ok(f(&nodes, size)?);
    }
    let recorder = Recorder::default();
    // Errors of the dry run (a size out of range) are the real run's errors too.
    f(&recorder, size)?;
    let wanted = recorder.wanted.into_inner();
    let mut fetched: HashMap<(u32, u64), Digest> = HashMap::with_capacity(wanted.len());
    type Positions = Vec<(u32, u64)>;
    let (leaf_indexes, inner): (Positions, Positions) =
        wanted.into_iter().partition(|(level, _)| *level == 0);
    let leaf_indexes: Vec<u64> = leaf_indexes.into_iter().map(|(_, i)| i).collect();
    for (index, leaf) in leaves(conn, tree, &leaf_indexes)? {
        fetched.insert((0, index), leaf);
    }
    for chunk in inner.chunks(500) {
        // Only integers are spliced in (the index name is bound); the CTE keeps each
        // lookup on the primary key.
        let mut sql = String::from("WITH w (level, idx) AS (VALUES ");
        for (i, (level, idx)) in chunk.iter().enumerate() {
            if i > 0 {
                sql.push_str(", ");
            }
            sql.push_str(&format!("({level}, {})", to_i64(*idx)));
        }
        let (table, filter, id, index) = match tree {
            Tree::Log(id, log) => ("merkle_nodes", format!("m.log = {}", log_code(log)), id, ""),
            Tree::Index(id, index) => ("index_merkle_nodes", "m.index_name = $1".into(), id, index),
        };
        sql.push_str(&format!(
            ") SELECT m.level, m.idx, m.hash FROM {table} m JOIN w \
             ON m.level = w.level AND m.idx = w.idx \
             WHERE m.register_id = {id} AND {filter}"
        ));
        let rows: Vec<NodeRow> = match (&mut *conn, tree) {
            (AnyConnection::Postgresql(c), Tree::Index(..)) => diesel::sql_query(&sql)
                .bind::<diesel::sql_types::Text, _>(index)
                .load(c)?,
            (AnyConnection::Postgresql(c), Tree::Log(..)) => diesel::sql_query(&sql).load(c)?,
            (AnyConnection::Sqlite(_), _) => unreachable!("SQLite reads nodes one by one"),
        };
        for node in rows {
            fetched.insert((node.level as u32, to_u64(node.idx)), digest(&node.hash)?);
        }
    }
    Ok(f(&Fetched(fetched), size)?)
}

/// The size of a log, as its summary holds it.
pub(crate) fn log_size(conn: &mut AnyConnection, tree: Tree<'_>) -> Result<u64, StoreError> {
    let size: i64 = match tree {
        Tree::Log(id, LogKind::User) => native!(conn, c => registers::table
            .find(id)
            .select(registers::user_size)
            .first(c)?),
        Tree::Log(id, LogKind::System) => registers::table
            .find(id)
            .select(registers::system_size)
            .first(conn)?,
        Tree::Index(id, index) => index_logs_table::table
            .find((id, index))
            .select(index_logs_table::size)
            .first(conn)?,
    };
    Ok(to_u64(size))
}

/// The stored subtree hashes at `level` >= 1 with indexes `first .. first + count`, in order,
/// in one range query (a tile's hashes above level 0). Fewer than `count` when some are not
/// stored (the caller checks the log's size first).
pub(crate) fn node_range(
    conn: &mut AnyConnection,
    tree: Tree<'_>,
    level: u32,
    first: u64,
    count: u64,
) -> Result<Vec<Digest>, StoreError> {
    let (from, to) = (to_i64(first), to_i64(first.saturating_add(count)));
    let level = i16::try_from(level).unwrap_or(i16::MAX);
    let hashes: Vec<Vec<u8>> = match tree {
        Tree::Log(register_id, log) => native!(conn, c => merkle_nodes::table
            .filter(merkle_nodes::register_id.eq(register_id))
            .filter(merkle_nodes::log.eq(log_code(log)))
            .filter(merkle_nodes::level.eq(level))
            .filter(merkle_nodes::idx.ge(from))
            .filter(merkle_nodes::idx.lt(to))
            .order(merkle_nodes::idx.asc())
            .select(merkle_nodes::hash)
            .load(c)?),
        Tree::Index(register_id, name) => index_merkle_nodes::table
            .filter(index_merkle_nodes::register_id.eq(register_id))
            .filter(index_merkle_nodes::index_name.eq(name))
            .filter(index_merkle_nodes::level.eq(level))
            .filter(index_merkle_nodes::idx.ge(from))
            .filter(index_merkle_nodes::idx.lt(to))
            .order(index_merkle_nodes::idx.asc())
            .select(index_merkle_nodes::hash)
            .load(conn)?,
    };
    hashes.iter().map(|h| digest(h)).collect()
}
