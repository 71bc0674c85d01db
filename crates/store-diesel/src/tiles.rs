//! Tiles and entry bundles (c2sp.org/tlog-tiles) of a stored log, read from what the store
//! already keeps: level-0 hashes and bundles from the entries (leaves are recomputed, as for
//! proofs), higher levels from the stored complete subtrees. No second copy of the tree.
//!
//! Full tiles never change, so [`TileCache`] keeps recently served ones in memory, bounded
//! in bytes; partial ones are always read afresh.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use register_core::LogKind;
use tlog_core::tile::{push_bundle_entry, TileKind, TilePath};

use crate::conn::AnyConnection;
use crate::error::StoreError;
use crate::index_logs;
use crate::registers::entries_page;
use crate::tree::{log_size, node_range, Tree};

/// The bytes of `tile` of a log, or `NotFound` when the log does not have all of it yet.
pub(crate) fn read(
    conn: &mut AnyConnection,
    tree: Tree<'_>,
    tile: &TilePath,
) -> Result<Vec<u8>, StoreError> {
    let size = log_size(conn, tree)?;
    let beyond = || StoreError::NotFound(format!("{tile} (the log has {size} entries)"));
    if !tile.exists_in(size) {
        return Err(beyond());
    }
    let first = tile.first().ok_or_else(beyond)?;
    let width = u64::from(tile.width);
    match tile.kind {
        TileKind::Hash(0) | TileKind::Entries => {
            let entries = match tree {
                Tree::Log(id, log) => entries_page(conn, id, log, first + 1, width)?,
                Tree::Index(id, name) => {
                    index_logs::entries_page(conn, id, name, first + 1, width)?
                }
            };
            if entries.len() as u64 != width {
                return Err(StoreError::Corrupt(format!("{tile}: entries are missing")));
            }
            let mut out = Vec::with_capacity(entries.len() * 32);
            let mut leaf = String::new();
            for (i, entry) in entries.iter().enumerate() {
                if tile.kind == TileKind::Entries {
                    leaf.clear();
                    entry.write_leaf(&mut leaf);
                    push_bundle_entry(&mut out, first + i as u64, leaf.as_bytes())?;
                } else {
                    out.extend_from_slice(&entry.leaf_hash(&mut leaf).0);
                }
            }
            Ok(out)
        }
        TileKind::Hash(_) => {
            let hashes = node_range(conn, tree, tile.node_level(), first, width)?;
            if hashes.len() as u64 != width {
                return Err(StoreError::Corrupt(format!(
                    "{tile}: stored nodes are missing"
                )));
            }
            Ok(hashes.iter().flat_map(|h| h.0).collect())
        }
    }
}

/// A tree and tile, as a cache key.
type TileKey = (i64, i16, String, TilePath);

/// Full tiles served recently, at most [`TileCache::BUDGET`] bytes, oldest evicted first.
#[derive(Debug, Default)]
pub(crate) struct TileCache {
    inner: Mutex<CacheInner>,
}

#[derive(Debug, Default)]
struct CacheInner {
    tiles: HashMap<TileKey, Arc<Vec<u8>>>,
    order: VecDeque<TileKey>,
    bytes: usize,
}

impl TileCache {
    /// 64 MiB: every level-0 tile of a 2M-entry log, or a few thousand entry bundles.
    const BUDGET: usize = 64 << 20;

    fn key(tree: Tree<'_>, tile: &TilePath) -> TileKey {
        match tree {
            Tree::Log(id, log) => (id, i16::from(log == LogKind::System), String::new(), *tile),
            Tree::Index(id, name) => (id, -1, name.to_string(), *tile),
        }
    }

    /// The tile from the cache, or read and (when full) remembered.
    pub(crate) fn get(
        &self,
        conn: &mut AnyConnection,
        tree: Tree<'_>,
        tile: &TilePath,
    ) -> Result<Arc<Vec<u8>>, StoreError> {
        if !tile.is_full() {
            return Ok(Arc::new(read(conn, tree, tile)?));
        }
        let key = TileCache::key(tree, tile);
        if let Some(found) = self
            .inner
            .lock()
            .ok()
            .and_then(|c| c.tiles.get(&key).cloned())
        {
            return Ok(found);
        }
        let bytes = Arc::new(read(conn, tree, tile)?);
        if let Ok(mut cache) = self.inner.lock() {
            if !cache.tiles.contains_key(&key) {
                cache.bytes += bytes.len();
                cache.order.push_back(key.clone());
                cache.tiles.insert(key, bytes.clone());
            }
            while cache.bytes > TileCache::BUDGET {
                let Some(oldest) = cache.order.pop_front() else {
                    break;
                };
                if let Some(evicted) = cache.tiles.remove(&oldest) {
                    cache.bytes -= evicted.len();
                }
            }
        }
        Ok(bytes)
    }
}
