//! [`Store`]'s reads of registers and index logs, through [`Source`]s (`queries`), and its
//! roots and proofs (`tree`).

use std::io::Write;

use register_core::merkle::{self, NodeStore};
use register_core::{Digest, Entry, ItemHash, Metadata};

use super::Store;
use crate::checkpoints;
use crate::conn::AnyConnection;
use crate::cosigning;
use crate::error::StoreError;
use crate::export::RsfExport;
use crate::queries::{self, Record, RegisterSummary, Source};
use crate::registers::read_metadata;
use crate::rows::to_u64;
use crate::subscriptions;
use crate::tree::{self, Tree};
use tlog_core::TilePath;

impl Store {
    /// Runs a Merkle computation over a log's stored nodes (see [`tree::with_nodes`]); `f`
    /// gets the nodes and the log's size.
    fn with_nodes<T>(
        &self,
        source: &Source,
        f: impl Fn(&dyn NodeStore, u64) -> Result<T, register_core::Error>,
    ) -> Result<T, StoreError> {
        self.read(source, |conn, tree| {
            tree::with_nodes(conn, tree, &self.nodes, f)
        })
    }

    /// Runs `f` on a pooled connection with the tree of `source` (see [`queries::tree`]).
    fn read<T>(
        &self,
        source: &Source,
        f: impl FnOnce(&mut AnyConnection, Tree<'_>) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let mut conn = self.conn()?;
        let tree = queries::tree(&mut conn, &self.ids, source)?;
        f(&mut conn, tree)
    }

    /// Every register, by name.
    pub fn registers(&self) -> Result<Vec<RegisterSummary>, StoreError> {
        queries::registers(&mut *self.conn()?)
    }

    /// The newest checkpoint of each register's user log: (register, size, when signed, in
    /// Unix seconds); registers without one (mirrors) are left out.
    pub fn newest_checkpoints(&self) -> Result<Vec<(String, u64, i64)>, StoreError> {
        checkpoints::newest_per_register(&mut *self.conn()?)
    }

    /// One register's summary.
    pub fn register(&self, name: &str) -> Result<RegisterSummary, StoreError> {
        self.summary(&Source::register(name))
    }

    /// The summary of a log: for an index, its own size, root and counts (`system_entries`
    /// 0, `system_root` the empty tree's), with the register's name and creation time.
    pub fn summary(&self, source: &Source) -> Result<RegisterSummary, StoreError> {
        queries::summary(&mut *self.conn()?, source)
    }

    /// Up to `limit` entries of a log from entry `start` (1-based; index entry number for an
    /// index), in order.
    pub fn log_entries(
        &self,
        source: &Source,
        start: u64,
        limit: u64,
    ) -> Result<Vec<Entry>, StoreError> {
        self.read(source, |conn, tree| queries::page(conn, tree, start, limit))
    }

    /// The current record of a key (an index: of a value; `None` once it has no items).
    pub fn log_record(&self, source: &Source, key: &str) -> Result<Option<Record>, StoreError> {
        self.read(source, |conn, tree| queries::record(conn, tree, key))
    }

    /// A page of current records, newest entry first.
    pub fn log_records(
        &self,
        source: &Source,
        offset: u64,
        limit: u64,
    ) -> Result<Vec<Record>, StoreError> {
        self.read(source, |conn, tree| {
            queries::records(conn, tree, offset, limit)
        })
    }

    /// Every entry of a key, oldest first (an index: every entry of a value, the empty ones
    /// included).
    pub fn log_history(&self, source: &Source, key: &str) -> Result<Vec<Entry>, StoreError> {
        self.read(source, |conn, tree| queries::history(conn, tree, key))
    }

    /// The canonical JSON of an item the log refers to.
    pub fn log_item(&self, source: &Source, hash: &ItemHash) -> Result<Option<String>, StoreError> {
        self.read(source, |conn, tree| queries::item(conn, tree, hash))
    }

    /// The register's metadata (from its system records).
    pub fn metadata(&self, name: &str) -> Result<Metadata, StoreError> {
        let mut conn = self.conn()?;
        let id = self.ids.get(&mut conn, name)?;
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
        f: impl FnMut(&str, &[ItemHash]),
    ) -> Result<Digest, StoreError> {
        self.transaction(|conn| queries::for_each_record(conn, name, f))
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
        if !queries::is_field_name(field) {
            return Ok(Vec::new());
        }
        let keys = {
            let mut conn = self.conn()?;
            let id = self.ids.get(&mut conn, name)?;
            queries::facet_keys(&mut conn, id, field, value, offset, limit)?
        };
        let mut found = Vec::with_capacity(keys.len());
        for key in keys {
            if let Some(record) = self.record(name, &key)? {
                found.push(record);
            }
        }
        Ok(found)
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
    /// its leaves (and roots) differ from the index log's. An index entry with no items (a
    /// value leaving the index) is written with an empty hash field, so the copy drops that
    /// record too.
    pub fn log_export_rsf(
        &self,
        source: &Source,
        from: u64,
        to: Option<u64>,
        out: &mut dyn Write,
    ) -> Result<(), StoreError> {
        let mut export = self.begin_export(source, from, to)?;
        while !export.is_done() {
            self.export_page(&mut export, out)?;
        }
        Ok(())
    }

    /// An export of `source`'s log `from..to` (to its end when `None`) as
    /// [`Store::log_export_rsf`] writes it, to be written a page at a time with
    /// [`Store::export_page`]. The range and its roots are fixed here; errors for a bad
    /// range come now, before anything is written.
    pub fn begin_export(
        &self,
        source: &Source,
        from: u64,
        to: Option<u64>,
    ) -> Result<RsfExport, StoreError> {
        let summary = self.summary(source)?;
        let to = queries::export_end(&summary, from, to)?;
        let roots = if source.index.is_some() {
            None
        } else {
            Some((
                self.log_root_at(source, from)?,
                self.log_root_at(source, to)?,
            ))
        };
        Ok(RsfExport::new(
            source.clone(),
            from,
            to,
            summary.system_entries,
            roots,
        ))
    }

    /// Writes the next page of `export` to `out` on a connection held only meanwhile;
    /// nothing once [`RsfExport::is_done`].
    pub fn export_page(
        &self,
        export: &mut RsfExport,
        out: &mut dyn Write,
    ) -> Result<(), StoreError> {
        let source = export.source.clone();
        self.read(&source, |conn, tree| export.write_page(conn, tree, out))
    }

    /// A log's signed checkpoint: the one at `size`, or the latest (`None`: none signed),
    /// under the log's origin when this store has keys (a node origin that changed leaves
    /// the old checkpoints to their old origin), else the latest signed; followed by every
    /// cosignature kept for it ([`Store::add_cosignature`]), a line each, as signed notes
    /// allow. A mirror never signs: its user log serves the primary's checkpoint it accepted
    /// at `size`, or the largest accepted within what it holds (checkpoints.md §6).
    pub fn checkpoint(
        &self,
        source: &Source,
        size: Option<u64>,
    ) -> Result<Option<String>, StoreError> {
        let origin = self
            .keys
            .as_deref()
            .map(|keys| keys.log_origin(&source.register, source.index.as_deref()));
        self.read(source, |conn, tree| {
            let (id, index) = match tree {
                Tree::Log(id, _) => (id, None),
                Tree::Index(id, index) => (id, Some(index)),
            };
            let origin = origin.as_deref();
            if index.is_none() {
                if let Some(mirrored) = subscriptions::mirror_checkpoint(conn, id, size)? {
                    // The primary's note, then this mirror's own cosignature of it.
                    let Some(mut note) = mirrored else {
                        return Ok(None);
                    };
                    let held = tlog_core::note::parse(&note)
                        .ok()
                        .and_then(|n| tlog_core::Checkpoint::parse_body(&n.text).ok());
                    if let Some(held) = held {
                        let log = (id, "", held.origin.as_str());
                        for line in cosigning::lines(conn, log, held.size)? {
                            note.push_str(&line);
                        }
                    }
                    return Ok(Some(note));
                }
            }
            let found = match size {
                Some(size) => checkpoints::at(conn, id, index, origin, size)?,
                None => checkpoints::latest(conn, id, index, origin)?,
            };
            let Some((origin, size, mut note)) = found else {
                return Ok(None);
            };
            let log = (id, index.unwrap_or_default(), origin.as_str());
            for line in cosigning::lines(conn, log, to_u64(size))? {
                note.push_str(&line);
            }
            Ok(Some(note))
        })
    }

    /// The bytes of a tile or entry bundle of a log (c2sp.org/tlog-tiles). `NotFound` when
    /// the log does not have all of it; `Tile` when an entry is too long for a bundle.
    pub fn log_tile(
        &self,
        source: &Source,
        tile: &TilePath,
    ) -> Result<std::sync::Arc<Vec<u8>>, StoreError> {
        self.read(source, |conn, tree| self.tiles.get(conn, tree, tile))
    }
}
