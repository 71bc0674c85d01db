//! Read queries: what the API serves. Each opens its own pooled connection.
//!
//! Every log the API serves is a [`Source`]: a register's user log, or one of its index logs
//! (registers.md §5). Both are read through the same methods (`summary`, `log_*`), which
//! dispatch on the tables only where the two are stored differently.

use std::cell::RefCell;
use std::collections::HashMap;
use std::io::Write;

use diesel::prelude::*;
use register_core::hash::{ItemMap, ItemSet};
use register_core::merkle::{self, NodeStore};
use register_core::{rsf, Digest, Entry, ItemHash, LogKind, Metadata};

use crate::conn::{native, AnyConnection};
use crate::error::StoreError;
use crate::indexes;
use crate::rows::{decode_hashes, digest, log_code, to_i64, to_u64, EntryRow, RegisterRow};
use crate::schema::{entries, index_items, index_logs, items, records, register_items, registers};
use crate::state::{current_entry, current_records, leaves, read_metadata, Tree};
use crate::store::{find_register, Store};

/// The log a read serves: a register's user log, or one of its index logs.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Source {
    /// The register.
    pub register: String,
    /// The index of the register, or `None` for its user log.
    pub index: Option<String>,
}

impl Source {
    /// The user log of a register.
    pub fn register(name: &str) -> Source {
        Source {
            register: name.to_string(),
            index: None,
        }
    }

    /// An index log of a register.
    pub fn index(name: &str, index: &str) -> Source {
        Source {
            register: name.to_string(),
            index: Some(index.to_string()),
        }
    }
}

impl std::fmt::Display for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.index {
            None => write!(f, "register '{}'", self.register),
            Some(index) => write!(f, "index '{index}' of register '{}'", self.register),
        }
    }
}

/// A register's summary: counts, roots, timestamps, and whether it mirrors a partner's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegisterSummary {
    /// Register name.
    pub name: String,
    /// User-log size (`total-entries`).
    pub total_entries: u64,
    /// System-log size.
    pub system_entries: u64,
    /// Distinct user keys (`total-records`).
    pub total_records: u64,
    /// Distinct items the register refers to (`total-items`).
    pub total_items: u64,
    /// User-log root.
    pub root: Digest,
    /// System-log root.
    pub system_root: Digest,
    /// Created, Unix seconds.
    pub created_at: i64,
    /// Last load, Unix seconds.
    pub updated_at: i64,
    /// Set when the register is a mirror: (partner, plan, slice).
    pub mirror_of: Option<(String, String, String)>,
}

impl RegisterSummary {
    fn from_row(row: RegisterRow) -> Result<RegisterSummary, StoreError> {
        let mirror_of = match (row.mirror_partner, row.mirror_plan, row.mirror_slice) {
            (Some(partner), Some(plan), Some(slice)) => Some((partner, plan, slice)),
            _ => None,
        };
        Ok(RegisterSummary {
            name: row.name,
            total_entries: to_u64(row.user_size),
            system_entries: to_u64(row.system_size),
            total_records: to_u64(row.record_count),
            total_items: to_u64(row.item_count),
            root: digest(&row.user_root)?,
            system_root: digest(&row.system_root)?,
            created_at: row.created_at,
            updated_at: row.updated_at,
            mirror_of,
        })
    }
}

/// A record: its newest entry and that entry's items (canonical JSON, in entry order).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// The newest entry of the key.
    pub entry: Entry,
    /// Its items.
    pub items: Vec<(ItemHash, String)>,
}

/// Entries per page while streaming an export.
const EXPORT_PAGE: u64 = 10_000;

/// Records the nodes a computation reads, answering with placeholders.
#[derive(Default)]
struct Recorder {
    wanted: RefCell<Vec<(u32, u64)>>,
}

impl NodeStore for Recorder {
    fn node(&self, level: u32, index: u64) -> Result<Digest, register_core::Error> {
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
    fn node(&self, level: u32, index: u64) -> Result<Digest, register_core::Error> {
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
    fn node(&self, level: u32, index: u64) -> Result<Digest, register_core::Error> {
        self.0
            .get(&(level, index))
            .copied()
            .ok_or(register_core::Error::MissingNode { level, index })
    }
}

impl Store {
    fn register_row(
        &self,
        conn: &mut AnyConnection,
        name: &str,
    ) -> Result<RegisterRow, StoreError> {
        find_register(conn, name)?.ok_or_else(|| StoreError::RegisterNotFound(name.to_string()))
    }

    /// Every register, by name.
    pub fn registers(&self) -> Result<Vec<RegisterSummary>, StoreError> {
        let mut conn = self.conn()?;
        let rows: Vec<RegisterRow> = registers::table
            .order(registers::name.asc())
            .select(RegisterRow::as_select())
            .load(&mut *conn)?;
        rows.into_iter().map(RegisterSummary::from_row).collect()
    }

    /// One register's summary.
    pub fn register(&self, name: &str) -> Result<RegisterSummary, StoreError> {
        self.summary(&Source::register(name))
    }

    /// The summary of a log: for an index, its own size, root and counts (`system_entries`
    /// 0, `system_root` the empty tree's), with the register's name and creation time.
    pub fn summary(&self, source: &Source) -> Result<RegisterSummary, StoreError> {
        let mut conn = self.conn()?;
        let row = self.register_row(&mut conn, &source.register)?;
        let Some(index) = &source.index else {
            return RegisterSummary::from_row(row);
        };
        let log = indexes::summary_row(&mut conn, row.id, index)?
            .ok_or_else(|| StoreError::NotFound(source.to_string()))?;
        Ok(RegisterSummary {
            name: row.name,
            total_entries: to_u64(log.size),
            system_entries: 0,
            total_records: to_u64(log.record_count),
            total_items: to_u64(log.item_count),
            root: digest(&log.root)?,
            system_root: merkle::empty_root(),
            created_at: row.created_at,
            updated_at: log.updated_at,
            mirror_of: None,
        })
    }

    /// The tree of a log: the register id from the cache, and for an index a check that it
    /// is declared (it has a summary row).
    fn tree<'s>(
        &self,
        conn: &mut AnyConnection,
        source: &'s Source,
    ) -> Result<Tree<'s>, StoreError> {
        let id = self.register_id(conn, &source.register)?;
        let Some(index) = source.index.as_deref() else {
            return Ok(Tree::Log(id, LogKind::User));
        };
        let found: Option<i64> = index_logs::table
            .find((id, index))
            .select(index_logs::size)
            .first(conn)
            .optional()?;
        match found {
            Some(_) => Ok(Tree::Index(id, index)),
            None => Err(StoreError::NotFound(source.to_string())),
        }
    }

    /// Up to `limit` entries of a log from entry `start` (1-based; index entry number for an
    /// index), in order.
    pub fn log_entries(
        &self,
        source: &Source,
        start: u64,
        limit: u64,
    ) -> Result<Vec<Entry>, StoreError> {
        let mut conn = self.conn()?;
        let tree = self.tree(&mut conn, source)?;
        page(&mut conn, tree, start, limit)
    }

    /// The current record of a key (an index: of a value; `None` once it has no items).
    pub fn log_record(&self, source: &Source, key: &str) -> Result<Option<Record>, StoreError> {
        let mut conn = self.conn()?;
        let entry = match self.tree(&mut conn, source)? {
            Tree::Log(id, log) => current_entry(&mut conn, id, log, key)?,
            Tree::Index(id, index) => indexes::latest_entry(&mut conn, id, index, key)?
                .filter(|e| !e.item_hashes.is_empty()),
        };
        match entry {
            Some(entry) => Ok(with_items(&mut conn, vec![entry])?.pop()),
            None => Ok(None),
        }
    }

    /// A page of current records, newest entry first.
    pub fn log_records(
        &self,
        source: &Source,
        offset: u64,
        limit: u64,
    ) -> Result<Vec<Record>, StoreError> {
        let mut conn = self.conn()?;
        let entries = match self.tree(&mut conn, source)? {
            Tree::Log(id, log) => {
                let rows: Vec<EntryRow> = current_records(id, log_code(log))
                    .order(records::entry_number.desc())
                    .offset(to_i64(offset))
                    .limit(to_i64(limit))
                    .select(EntryRow::as_select())
                    .load(&mut *conn)?;
                rows.into_iter()
                    .map(EntryRow::into_entry)
                    .collect::<Result<Vec<_>, _>>()?
            }
            Tree::Index(id, index) => indexes::records_page(&mut conn, id, index, offset, limit)?,
        };
        with_items(&mut conn, entries)
    }

    /// Every entry of a key, oldest first (an index: every entry of a value, the empty ones
    /// included).
    pub fn log_history(&self, source: &Source, key: &str) -> Result<Vec<Entry>, StoreError> {
        let mut conn = self.conn()?;
        match self.tree(&mut conn, source)? {
            Tree::Log(id, log) => {
                let rows: Vec<EntryRow> = entries::table
                    .filter(entries::register_id.eq(id))
                    .filter(entries::log.eq(log_code(log)))
                    .filter(entries::key.eq(key))
                    .order(entries::number.asc())
                    .select(EntryRow::as_select())
                    .load(&mut *conn)?;
                rows.into_iter().map(EntryRow::into_entry).collect()
            }
            Tree::Index(id, index) => indexes::history(&mut conn, id, index, key),
        }
    }

    /// The canonical JSON of an item the log refers to.
    pub fn log_item(&self, source: &Source, hash: &ItemHash) -> Result<Option<String>, StoreError> {
        let mut conn = self.conn()?;
        let key = hash.0 .0.to_vec();
        Ok(match self.tree(&mut conn, source)? {
            Tree::Log(id, _) => register_items::table
                .inner_join(items::table)
                .filter(register_items::register_id.eq(id))
                .filter(register_items::hash.eq(key))
                .select(items::canonical)
                .first(&mut *conn)
                .optional()?,
            Tree::Index(id, index) => index_items::table
                .inner_join(items::table)
                .filter(index_items::register_id.eq(id))
                .filter(index_items::index_name.eq(index))
                .filter(index_items::hash.eq(key))
                .select(items::canonical)
                .first(&mut *conn)
                .optional()?,
        })
    }

    /// The register's metadata (from its system records).
    pub fn metadata(&self, name: &str) -> Result<Metadata, StoreError> {
        let mut conn = self.conn()?;
        let id = self.register_id(&mut conn, name)?;
        read_metadata(&mut conn, id)
    }

    /// The current record of a user key.
    pub fn record(&self, name: &str, key: &str) -> Result<Option<Record>, StoreError> {
        self.log_record(&Source::register(name), key)
    }

    /// Calls `f` with the key and item hashes of every current user record, in entry order,
    /// reading a page at a time inside one read transaction (repeatable read on PostgreSQL) so
    /// the records all belong to the user-log root it returns. Memory holds one page.
    pub fn for_each_record(
        &self,
        name: &str,
        mut f: impl FnMut(&str, &[ItemHash]),
    ) -> Result<Digest, StoreError> {
        let mut pooled = self.conn()?;
        let conn: &mut AnyConnection = &mut pooled;
        conn.transaction::<_, StoreError, _>(|conn| {
            if let AnyConnection::Postgresql(c) = conn {
                diesel::sql_query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ").execute(c)?;
            }
            let row = self.register_row(conn, name)?;
            let mut after = 0i64;
            loop {
                let rows: Vec<EntryRow> = current_records(row.id, log_code(LogKind::User))
                    .filter(records::entry_number.gt(after))
                    .order(records::entry_number.asc())
                    .limit(to_i64(EXPORT_PAGE))
                    .select(EntryRow::as_select())
                    .load(conn)?;
                let Some(last) = rows.last().map(|r| r.number) else {
                    break;
                };
                for entry in rows {
                    f(&entry.key, &decode_hashes(&entry.item_hashes)?);
                }
                after = last;
            }
            digest(&row.user_root)
        })
    }

    /// Current user records with an item whose `field` equals `value` (or, for a list field,
    /// contains it), newest first.
    pub fn facet(
        &self,
        name: &str,
        field: &str,
        value: &str,
        offset: u64,
        limit: u64,
    ) -> Result<Vec<Record>, StoreError> {
        let valid_field = field.bytes().next().is_some_and(|b| b.is_ascii_lowercase())
            && field
                .bytes()
                .all(|b| matches!(b, b'a'..=b'z' | b'0'..=b'9' | b'-'));
        if !valid_field {
            return Ok(Vec::new());
        }
        let mut conn = self.conn()?;
        let id = self.register_id(&mut conn, name)?;
        use diesel::sql_types::{BigInt, Text};
        #[derive(QueryableByName)]
        struct Key {
            #[diesel(sql_type = Text)]
            key: String,
        }
        let keys: Vec<Key> = match &mut *conn {
            AnyConnection::Postgresql(c) => diesel::sql_query(
                "SELECT r.key FROM records r WHERE r.register_id = $1 AND r.log = 0 AND EXISTS ( \
                   SELECT 1 FROM record_items ri JOIN items i ON i.hash = ri.hash \
                   WHERE ri.register_id = r.register_id AND ri.key = r.key AND ( \
                     i.canonical::jsonb @> jsonb_build_object($2::text, $3::text) OR \
                     i.canonical::jsonb @> jsonb_build_object($2::text, jsonb_build_array($3::text)))) \
                 ORDER BY r.entry_number DESC OFFSET $4 LIMIT $5",
            )
            .bind::<BigInt, _>(id)
            .bind::<Text, _>(field)
            .bind::<Text, _>(value)
            .bind::<BigInt, _>(to_i64(offset))
            .bind::<BigInt, _>(to_i64(limit))
            .load(c)?,
            AnyConnection::Sqlite(c) => diesel::sql_query(
                "SELECT r.key FROM records r WHERE r.register_id = ? AND r.log = 0 AND EXISTS ( \
                   SELECT 1 FROM record_items ri JOIN items i ON i.hash = ri.hash \
                   WHERE ri.register_id = r.register_id AND ri.key = r.key AND ( \
                     json_extract(i.canonical, ?) = ? OR EXISTS ( \
                       SELECT 1 FROM json_each(i.canonical, ?) j \
                       WHERE json_type(i.canonical, ?) = 'array' AND j.value = ?))) \
                 ORDER BY r.entry_number DESC LIMIT ? OFFSET ?",
            )
            .bind::<BigInt, _>(id)
            .bind::<Text, _>(format!("$.\"{field}\""))
            .bind::<Text, _>(value)
            .bind::<Text, _>(format!("$.\"{field}\""))
            .bind::<Text, _>(format!("$.\"{field}\""))
            .bind::<Text, _>(value)
            .bind::<BigInt, _>(to_i64(limit))
            .bind::<BigInt, _>(to_i64(offset))
            .load(c)?,
        };
        drop(conn);
        let mut found = Vec::with_capacity(keys.len());
        for key in keys {
            if let Some(record) = self.record(name, &key.key)? {
                found.push(record);
            }
        }
        Ok(found)
    }

    /// Runs a Merkle computation over a log's stored nodes in two round trips: a dry run
    /// records which nodes the computation reads (its access pattern never depends on the
    /// hash values), one query fetches them all, and the real run reads from that answer.
    fn with_nodes<T>(
        &self,
        source: &Source,
        f: impl Fn(&dyn NodeStore, u64) -> Result<T, register_core::Error>,
    ) -> Result<T, StoreError> {
        let mut conn = self.conn()?;
        let tree = self.tree(&mut conn, source)?;
        let size = log_size(&mut conn, tree)?;
        if let AnyConnection::Sqlite(_) = &*conn {
            // In-process SQLite has no round trips to save: read node by node through
            // statements it keeps prepared.
            let conn: &mut AnyConnection = &mut conn;
            let cell = RefCell::new(conn);
            let key = match tree {
                Tree::Log(id, log) => (id, log_code(log), String::new()),
                Tree::Index(id, index) => (id, -1, index.to_string()),
            };
            let nodes = Cached {
                cache: self.node_cache(),
                key,
                inner: crate::state::DbNodes { conn: &cell, tree },
            };
            return Ok(f(&nodes, size)?);
        }
        let recorder = Recorder::default();
        // Errors of the dry run (a size out of range) are the real run's errors too.
        f(&recorder, size)?;
        let wanted = recorder.wanted.into_inner();
        let mut fetched: HashMap<(u32, u64), Digest> = HashMap::with_capacity(wanted.len());
        #[derive(QueryableByName)]
        struct NodeRow {
            #[diesel(sql_type = diesel::sql_types::SmallInt)]
            level: i16,
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            idx: i64,
            #[diesel(sql_type = diesel::sql_types::Binary)]
            hash: Vec<u8>,
        }
        type Positions = Vec<(u32, u64)>;
        let (leaf_indexes, inner): (Positions, Positions) =
            wanted.into_iter().partition(|(level, _)| *level == 0);
        let leaf_indexes: Vec<u64> = leaf_indexes.into_iter().map(|(_, i)| i).collect();
        for (index, leaf) in leaves(&mut conn, tree, &leaf_indexes)? {
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
                Tree::Log(id, log) => {
                    ("merkle_nodes", format!("m.log = {}", log_code(log)), id, "")
                }
                Tree::Index(id, index) => {
                    ("index_merkle_nodes", "m.index_name = $1".into(), id, index)
                }
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

    /// The user-log root when the register held `size` entries (O(log n) reads).
    pub fn root_at(&self, name: &str, size: u64) -> Result<Digest, StoreError> {
        self.log_root_at(&Source::register(name), size)
    }

    /// A log's root when it held `size` entries (O(log n) reads).
    pub(crate) fn log_root_at(&self, source: &Source, size: u64) -> Result<Digest, StoreError> {
        self.with_nodes(source, |nodes, current| {
            if size > current {
                return Err(register_core::Error::SizeOutOfRange { size, current });
            }
            merkle::root_at(nodes, size)
        })
    }

    /// The audit path of entry `entry_number` (1-based; the index entry number for an index)
    /// in the log's tree of `size` entries.
    pub fn log_inclusion_proof(
        &self,
        source: &Source,
        entry_number: u64,
        size: u64,
    ) -> Result<Vec<Digest>, StoreError> {
        self.with_nodes(source, |nodes, current| {
            if size > current {
                return Err(register_core::Error::SizeOutOfRange { size, current });
            }
            if entry_number == 0 {
                return Err(register_core::Error::EntryOutOfRange { entry: 0, size });
            }
            merkle::inclusion_proof(nodes, entry_number - 1, size)
        })
    }

    /// The consistency proof between a log's sizes `m` and `n`.
    pub fn log_consistency_proof(
        &self,
        source: &Source,
        m: u64,
        n: u64,
    ) -> Result<Vec<Digest>, StoreError> {
        self.with_nodes(source, |nodes, current| {
            if n > current {
                return Err(register_core::Error::SizeOutOfRange { size: n, current });
            }
            merkle::consistency_proof(nodes, m, n)
        })
    }

    /// Streams the ranged RSF dump `from..to` (registers.md §6) a page of entries at a time;
    /// memory holds one page and the set of item hashes already written.
    pub fn export_rsf(
        &self,
        name: &str,
        from: u64,
        to: Option<u64>,
        out: &mut dyn Write,
    ) -> Result<(), StoreError> {
        self.log_export_rsf(&Source::register(name), from, to, out)
    }

    /// [`Store::export_rsf`] of any log. An index's dump is the RSF that self-hosts it (§5):
    /// its entries in the range as `append-entry user <value> …` with the items they name,
    /// no system log, and no `assert-root-hash` lines — a copy numbers its entries itself, so
    /// its leaves (and roots) differ from the index log's. Index entries with no items (a
    /// value leaving the index) have no RSF form and are left out.
    pub fn log_export_rsf(
        &self,
        source: &Source,
        from: u64,
        to: Option<u64>,
        out: &mut dyn Write,
    ) -> Result<(), StoreError> {
        let summary = self.summary(source)?;
        let to = to.unwrap_or(summary.total_entries);
        if from > to {
            return Err(register_core::Error::InvalidRange { from, to }.into());
        }
        if to > summary.total_entries {
            return Err(register_core::Error::SizeOutOfRange {
                size: to,
                current: summary.total_entries,
            }
            .into());
        }
        let io = |e: std::io::Error| StoreError::Register(register_core::Error::Io(e.to_string()));
        let is_index = source.index.is_some();
        let roots = if is_index {
            None
        } else {
            Some((
                self.log_root_at(source, from)?,
                self.log_root_at(source, to)?,
            ))
        };
        let mut conn = self.conn()?;
        let tree = self.tree(&mut conn, source)?;
        if let Some((start_root, _)) = &roots {
            rsf::write_assert_root_hash(out, start_root).map_err(io)?;
        }

        // The system log only in a register's dump from 0, then the entries of the range.
        let system_size = if from == 0 { summary.system_entries } else { 0 };
        let ranges = [
            (LogKind::System, 1, system_size),
            (LogKind::User, from + 1, to),
        ];
        // Pass 1: the items, system ones first, each once. Pass 2: the entries.
        let mut written = ItemSet::default();
        for_each_page(&mut conn, tree, &ranges, |conn, _, page| {
            let wanted: Vec<ItemHash> = page
                .iter()
                .flat_map(|e| e.item_hashes.iter().copied())
                .filter(|h| written.insert(*h))
                .collect();
            let jsons = item_jsons(conn, &wanted)?;
            for hash in &wanted {
                let json = jsons
                    .get(hash)
                    .ok_or_else(|| StoreError::Corrupt(format!("item {hash} is missing")))?;
                rsf::write_add_item(out, json).map_err(io)?;
            }
            Ok(())
        })?;
        for_each_page(&mut conn, tree, &ranges, |_, log, page| {
            for entry in page.iter().filter(|e| !e.item_hashes.is_empty()) {
                rsf::write_append_entry(out, log, entry).map_err(io)?;
            }
            Ok(())
        })?;
        if let Some((_, end_root)) = &roots {
            rsf::write_assert_root_hash(out, end_root).map_err(io)?;
        }
        Ok(())
    }
}

/// The size of a log, as its summary holds it.
fn log_size(conn: &mut AnyConnection, tree: Tree<'_>) -> Result<u64, StoreError> {
    let size: i64 = match tree {
        Tree::Log(id, LogKind::User) => native!(conn, c => registers::table
            .find(id)
            .select(registers::user_size)
            .first(c)?),
        Tree::Log(id, LogKind::System) => registers::table
            .find(id)
            .select(registers::system_size)
            .first(conn)?,
        Tree::Index(id, index) => index_logs::table
            .find((id, index))
            .select(index_logs::size)
            .first(conn)?,
    };
    Ok(to_u64(size))
}

/// Up to `limit` entries of a tree's log from `start` (1-based).
fn page(
    conn: &mut AnyConnection,
    tree: Tree<'_>,
    start: u64,
    limit: u64,
) -> Result<Vec<Entry>, StoreError> {
    match tree {
        Tree::Log(id, log) => entries_page(conn, id, log, start, limit),
        Tree::Index(id, index) => indexes::entries_page(conn, id, index, start, limit),
    }
}

/// Calls `f` with pages of the entries `first..=last` of each `(log, first, last)` range:
/// a register's logs, or for an index tree its log as the user range.
fn for_each_page(
    conn: &mut AnyConnection,
    tree: Tree<'_>,
    ranges: &[(LogKind, u64, u64)],
    mut f: impl FnMut(&mut AnyConnection, LogKind, &[Entry]) -> Result<(), StoreError>,
) -> Result<(), StoreError> {
    for &(log, first, last) in ranges {
        let source = match (tree, log) {
            (Tree::Log(id, _), log) => Tree::Log(id, log),
            (Tree::Index(..), LogKind::User) => tree,
            (Tree::Index(..), LogKind::System) => continue,
        };
        let mut next = first;
        while next <= last {
            let limit = (last - next + 1).min(EXPORT_PAGE);
            let entries = page(conn, source, next, limit)?;
            let Some(end) = entries.last().map(|e| e.index_entry_number) else {
                break;
            };
            f(conn, log, &entries)?;
            next = end + 1;
        }
    }
    Ok(())
}

fn entries_page(
    conn: &mut AnyConnection,
    register_id: i64,
    log: LogKind,
    start: u64,
    limit: u64,
) -> Result<Vec<Entry>, StoreError> {
    let rows: Vec<EntryRow> = native!(conn, c => entries::table
        .filter(entries::register_id.eq(register_id))
        .filter(entries::log.eq(log_code(log)))
        .filter(entries::number.ge(to_i64(start)))
        .order(entries::number.asc())
        .limit(to_i64(limit))
        .select(EntryRow::as_select())
        .load(c)?);
    rows.into_iter().map(EntryRow::into_entry).collect()
}

fn item_jsons(
    conn: &mut AnyConnection,
    hashes: &[ItemHash],
) -> Result<ItemMap<String>, StoreError> {
    let mut found = ItemMap::default();
    if hashes.len() <= 4 {
        // The common record has one item: a cached single-key statement beats an `IN` list.
        for hash in hashes {
            let json: Option<String> = native!(conn, c => items::table
                .find(hash.0 .0.to_vec())
                .select(items::canonical)
                .first(c)
                .optional()?);
            if let Some(json) = json {
                found.insert(*hash, json);
            }
        }
        return Ok(found);
    }
    for chunk in hashes.chunks(500) {
        let keys: Vec<Vec<u8>> = chunk.iter().map(|h| h.0 .0.to_vec()).collect();
        let rows: Vec<(Vec<u8>, String)> = items::table
            .filter(items::hash.eq_any(keys))
            .select((items::hash, items::canonical))
            .load(conn)?;
        for (hash, json) in rows {
            found.insert(ItemHash(digest(&hash)?), json);
        }
    }
    Ok(found)
}

fn with_items(conn: &mut AnyConnection, entries: Vec<Entry>) -> Result<Vec<Record>, StoreError> {
    let hashes: Vec<ItemHash> = entries
        .iter()
        .flat_map(|e| e.item_hashes.iter().copied())
        .collect();
    let jsons = item_jsons(conn, &hashes)?;
    entries
        .into_iter()
        .map(|entry| {
            let items = entry
                .item_hashes
                .iter()
                .map(|h| {
                    jsons
                        .get(h)
                        .map(|j| (*h, j.clone()))
                        .ok_or_else(|| StoreError::Corrupt(format!("item {h} is missing")))
                })
                .collect::<Result<Vec<_>, _>>()?;
            Ok(Record { entry, items })
        })
        .collect()
}
