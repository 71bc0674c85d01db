//! An in-memory register: both logs, records, items, Merkle trees, metadata and indexes.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::io::{BufRead, Write};

use crate::entry::{Entry, LogKind};
use crate::error::Error;
use crate::hash::{Digest, ItemHash, ItemMap, ItemSet};
use crate::index::IndexLog;
use crate::item::{Item, ItemView};
use crate::load::{self, Changes, LoadSummary, LogChanges, RegisterState};
use crate::merkle::{self, Frontier, MemoryNodeStore};
use crate::metadata::{Metadata, Mode};
use crate::rsf;

#[derive(Debug, Default, Clone)]
struct Log {
    entries: Vec<Entry>,
    /// key → positions of its entries, oldest first; the last is the record.
    history: HashMap<String, Vec<usize>>,
    nodes: MemoryNodeStore,
    frontier: Frontier,
}

impl Log {
    fn size(&self) -> u64 {
        self.entries.len() as u64
    }

    /// The newest entry of a key, with no items if the record was removed.
    fn latest(&self, key: &str) -> Option<&Entry> {
        let &position = self.history.get(key)?.last()?;
        self.entries.get(position)
    }

    /// The newest entries of the keys that have a record (their newest entry has items).
    fn current(&self) -> impl Iterator<Item = (usize, &Entry)> {
        self.history.values().filter_map(|positions| {
            let &position = positions.last()?;
            let entry = self.entries.get(position)?;
            (!entry.item_hashes.is_empty()).then_some((position, entry))
        })
    }

    fn apply(&mut self, changes: LogChanges) {
        self.nodes.extend(changes.nodes);
        self.frontier =
            Frontier::from_store(&self.nodes, self.size() + changes.entries.len() as u64)
                .unwrap_or_default();
        self.entries.reserve(changes.entries.len());
        for entry in changes.entries {
            let position = self.entries.len();
            match self.history.get_mut(entry.key.as_str()) {
                Some(positions) => positions.push(position),
                None => {
                    self.history.insert(entry.key.clone(), vec![position]);
                }
            }
            self.entries.push(entry);
        }
    }
}

/// A register held in memory.
///
/// Loads are atomic: [`Register::load`] validates the whole file against the current state
/// first and changes nothing unless every line is accepted.
#[derive(Debug, Default, Clone)]
pub struct Register {
    items: ItemMap<Box<str>>,
    user: Log,
    system: Log,
    metadata: Metadata,
    indexes: BTreeMap<String, IndexLog>,
}

impl Register {
    /// An empty register.
    pub fn new() -> Register {
        Register::default()
    }

    /// Loads RSF, atomically.
    pub fn load<R: BufRead + Send>(&mut self, reader: R, mode: Mode) -> Result<LoadSummary, Error> {
        let changes = load::load(reader, &*self, mode)?;
        let summary = changes.summary;
        self.apply(changes);
        Ok(summary)
    }

    /// Commits changes a [`load::Loader`] produced against this register's current state.
    pub fn apply(&mut self, changes: Changes) {
        self.items.reserve(changes.items.len());
        for item in changes.items {
            self.items.insert(item.hash, item.json);
        }
        self.system.apply(changes.system);
        self.metadata = changes.metadata;
        // New index declarations are built from the whole existing user log.
        let declared: Vec<_> = self
            .metadata
            .indexes
            .values()
            .filter(|def| !self.indexes.contains_key(&def.name))
            .cloned()
            .collect();
        for def in declared {
            let mut index = IndexLog::new(def.clone());
            for position in 0..self.user.entries.len() {
                self.feed_index(&mut index, position);
            }
            self.indexes.insert(def.name, index);
        }
        let first_new = self.user.entries.len();
        self.user.apply(changes.user);
        if !self.indexes.is_empty() {
            let mut indexes = std::mem::take(&mut self.indexes);
            for position in first_new..self.user.entries.len() {
                for index in indexes.values_mut() {
                    self.feed_index(index, position);
                }
            }
            self.indexes = indexes;
        }
    }

    /// Feeds the user entry at `position` to an index, with the record it replaced.
    fn feed_index(&self, index: &mut IndexLog, position: usize) {
        let Some(entry) = self.user.entries.get(position) else {
            return;
        };
        let previous = self.user.history.get(&entry.key).and_then(|positions| {
            let at = positions.partition_point(|&p| p < position);
            at.checked_sub(1).and_then(|i| positions.get(i))
        });
        let views = |entry: Option<&Entry>| -> Vec<(ItemHash, ItemView<'_>)> {
            entry
                .map(|e| e.item_hashes.as_slice())
                .unwrap_or_default()
                .iter()
                .filter_map(|h| {
                    let json = self.items.get(h)?;
                    Some((*h, ItemView::parse(json).ok()?))
                })
                .collect()
        };
        let old = views(previous.and_then(|&p| self.user.entries.get(p)));
        let new = views(Some(entry));
        index.on_record_change(entry, &old, &new);
    }

    /// The register's metadata.
    pub fn metadata(&self) -> &Metadata {
        &self.metadata
    }

    /// The register id from the `name` system record.
    pub fn name(&self) -> Option<&str> {
        self.metadata.name.as_deref()
    }

    /// Number of entries in a log.
    pub fn size(&self, log: LogKind) -> u64 {
        self.log(log).size()
    }

    /// Number of distinct items.
    pub fn item_count(&self) -> u64 {
        self.items.len() as u64
    }

    /// Number of user records: keys whose newest entry has items.
    pub fn record_count(&self) -> u64 {
        self.user.current().count() as u64
    }

    fn log(&self, log: LogKind) -> &Log {
        match log {
            LogKind::User => &self.user,
            LogKind::System => &self.system,
        }
    }

    /// Entries of a log, oldest first.
    pub fn entries(&self, log: LogKind) -> &[Entry] {
        &self.log(log).entries
    }

    /// The entry with a 1-based number.
    pub fn entry(&self, log: LogKind, number: u64) -> Option<&Entry> {
        let index = usize::try_from(number.checked_sub(1)?).ok()?;
        self.log(log).entries.get(index)
    }

    /// The current record (newest entry) for a key; `None` if there is none or its newest
    /// entry has no items (the record was removed; its history stays).
    pub fn record(&self, log: LogKind, key: &str) -> Option<&Entry> {
        self.log(log)
            .latest(key)
            .filter(|entry| !entry.item_hashes.is_empty())
    }

    /// Every entry of a key, oldest first.
    pub fn record_history(&self, log: LogKind, key: &str) -> Vec<&Entry> {
        let log = self.log(log);
        log.history
            .get(key)
            .map(|ps| ps.iter().filter_map(|&p| log.entries.get(p)).collect())
            .unwrap_or_default()
    }

    /// Current user records, newest entry first.
    pub fn records(&self) -> Vec<&Entry> {
        let mut positions: Vec<usize> = self.user.current().map(|(p, _)| p).collect();
        positions.sort_unstable_by(|a, b| b.cmp(a));
        positions
            .into_iter()
            .filter_map(|p| self.user.entries.get(p))
            .collect()
    }

    /// The canonical JSON of an item.
    pub fn item_json(&self, hash: &ItemHash) -> Option<&str> {
        self.items.get(hash).map(|j| &**j)
    }

    /// An item.
    pub fn item(&self, hash: &ItemHash) -> Option<Item> {
        self.item_json(hash).and_then(|j| Item::parse(j).ok())
    }

    /// An index by name.
    pub fn index(&self, name: &str) -> Option<&IndexLog> {
        self.indexes.get(name)
    }

    /// The Merkle nodes of a log: every complete subtree, leaves included (for tiles).
    pub fn nodes(&self, log: LogKind) -> &MemoryNodeStore {
        &self.log(log).nodes
    }

    /// The current root of a log.
    pub fn root(&self, log: LogKind) -> Digest {
        self.log(log).frontier.root()
    }

    /// The user log's root when it held `size` entries.
    pub fn root_at(&self, size: u64) -> Result<Digest, Error> {
        self.check_size(size)?;
        merkle::root_at(&self.user.nodes, size)
    }

    fn check_size(&self, size: u64) -> Result<(), Error> {
        let current = self.user.size();
        if size > current {
            return Err(Error::SizeOutOfRange { size, current });
        }
        Ok(())
    }

    /// The audit path of user entry `entry_number` (1-based) in the tree of `size` entries.
    pub fn inclusion_proof(&self, entry_number: u64, size: u64) -> Result<Vec<Digest>, Error> {
        self.check_size(size)?;
        if entry_number == 0 {
            return Err(Error::EntryOutOfRange {
                entry: entry_number,
                size,
            });
        }
        merkle::inclusion_proof(&self.user.nodes, entry_number - 1, size)
    }

    /// The consistency proof between user-log sizes `m` and `n`.
    pub fn consistency_proof(&self, m: u64, n: u64) -> Result<Vec<Digest>, Error> {
        self.check_size(n)?;
        merkle::consistency_proof(&self.user.nodes, m, n)
    }

    /// Writes the full RSF dump (registers.md §6).
    pub fn write_rsf<W: Write + ?Sized>(&self, w: &mut W) -> Result<(), Error> {
        self.write_rsf_range(w, 0, self.user.size())
    }

    /// Writes the ranged dump `from..to` of user entries: `assert-root-hash root(from)`, the
    /// items of entries `from+1..=to` (and the system items and entries when `from == 0`),
    /// those entries, and `assert-root-hash root(to)`.
    pub fn write_rsf_range<W: Write + ?Sized>(
        &self,
        w: &mut W,
        from: u64,
        to: u64,
    ) -> Result<(), Error> {
        if from > to {
            return Err(Error::InvalidRange { from, to });
        }
        self.check_size(to)?;
        let io = |e: std::io::Error| Error::Io(e.to_string());
        let users = self
            .user
            .entries
            .get(from as usize..to as usize)
            .unwrap_or_default();
        let systems: &[Entry] = if from == 0 { &self.system.entries } else { &[] };

        rsf::write_assert_root_hash(w, &self.root_at(from)?).map_err(io)?;
        let mut written = ItemSet::default();
        for entry in systems.iter().chain(users) {
            for hash in &entry.item_hashes {
                if written.insert(*hash) {
                    let json = self.item_json(hash).ok_or(Error::MissingNode {
                        level: 0,
                        index: entry.entry_number,
                    })?;
                    rsf::write_add_item(w, json).map_err(io)?;
                }
            }
        }
        for entry in systems {
            rsf::write_append_entry(w, LogKind::System, entry).map_err(io)?;
        }
        for entry in users {
            rsf::write_append_entry(w, LogKind::User, entry).map_err(io)?;
        }
        rsf::write_assert_root_hash(w, &self.root_at(to)?).map_err(io)?;
        Ok(())
    }
}

impl RegisterState for Register {
    fn log_size(&self, log: LogKind) -> Result<u64, Error> {
        Ok(self.size(log))
    }

    fn frontier(&self, log: LogKind) -> Result<Frontier, Error> {
        Ok(self.log(log).frontier.clone())
    }

    fn contains_item(&self, hash: &ItemHash) -> Result<bool, Error> {
        Ok(self.items.contains_key(hash))
    }

    fn item_json(&self, hash: &ItemHash) -> Result<Option<Cow<'_, str>>, Error> {
        Ok(self.items.get(hash).map(|j| Cow::Borrowed(&**j)))
    }

    fn current_item_hashes(&self, log: LogKind, key: &str) -> Result<Option<Vec<ItemHash>>, Error> {
        // A removed record is `Some([])`: a second removal is "identical" (rule 5).
        Ok(self.log(log).latest(key).map(|e| e.item_hashes.clone()))
    }

    fn metadata(&self) -> Result<Metadata, Error> {
        Ok(self.metadata.clone())
    }
}
