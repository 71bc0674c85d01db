//! Indexes (registers.md §5): derived logs keyed by the value of one register field.
//!
//! An index is a pure function of the register's user log and the index definition: replaying
//! the user log from entry 1 rebuilds it exactly. That is also how an index declared after data
//! exists is built, so its content never depends on when it was declared.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use crate::entry::Entry;
use crate::hash::ItemHash;
use crate::item::ItemView;
use crate::metadata::IndexDef;

/// The values of `field` in an item: one for a string, each element for a list.
pub fn values_of(item: &ItemView<'_>, field: &str) -> Vec<String> {
    item.get(field)
        .map(|v| v.strings().map(str::to_string).collect())
        .unwrap_or_default()
}

/// One index log held in memory.
#[derive(Debug, Clone)]
pub struct IndexLog {
    def: IndexDef,
    /// Index entries before `entries` (held elsewhere, e.g. in a database).
    base: u64,
    entries: Vec<Entry>,
    /// value → register key → that record's items having the value, in record order.
    members: BTreeMap<String, BTreeMap<String, Vec<ItemHash>>>,
    /// value → position of its latest index entry.
    records: HashMap<String, usize>,
}

impl IndexLog {
    /// An empty index.
    pub fn new(def: IndexDef) -> IndexLog {
        IndexLog::resume(def, 0, BTreeMap::new())
    }

    /// Continues an index whose first `base` entries are stored elsewhere. `members` must hold,
    /// for every value the coming changes touch, the current items of each register key with
    /// that value (values not given are taken to have no records).
    pub fn resume(
        def: IndexDef,
        base: u64,
        members: BTreeMap<String, BTreeMap<String, Vec<ItemHash>>>,
    ) -> IndexLog {
        IndexLog {
            def,
            base,
            entries: Vec::new(),
            members,
            records: HashMap::new(),
        }
    }

    /// The definition.
    pub fn def(&self) -> &IndexDef {
        &self.def
    }

    /// Entries in index order; `entries()[i].index_entry_number == base + i + 1` (`base` is 0
    /// unless the log was resumed).
    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// The latest index entry for a value.
    pub fn record(&self, value: &str) -> Option<&Entry> {
        self.records.get(value).and_then(|&i| self.entries.get(i))
    }

    /// Values with a record, in value order.
    pub fn values(&self) -> impl Iterator<Item = &str> {
        let mut values: Vec<&str> = self.records.keys().map(String::as_str).collect();
        values.sort_unstable();
        values.into_iter()
    }

    /// Follows a register record changing from `old` to `new` items (each with its parsed
    /// view), appending one index entry per value whose item list changed: values the record
    /// left first, then values it has now, each group in value order.
    pub fn on_record_change(
        &mut self,
        register_entry: &Entry,
        old: &[(ItemHash, ItemView<'_>)],
        new: &[(ItemHash, ItemView<'_>)],
    ) {
        let field = self.def.field.as_str();
        let by_value = |items: &[(ItemHash, ItemView<'_>)]| {
            let mut map: BTreeMap<String, Vec<ItemHash>> = BTreeMap::new();
            for (hash, view) in items {
                for value in values_of(view, field) {
                    let list = map.entry(value).or_default();
                    if !list.contains(hash) {
                        list.push(*hash);
                    }
                }
            }
            map
        };
        let old_values = by_value(old);
        let new_values = by_value(new);
        let key = &register_entry.key;
        let left: BTreeSet<&String> = old_values
            .keys()
            .filter(|v| !new_values.contains_key(*v))
            .collect();
        for value in left {
            if let Some(members) = self.members.get_mut(value) {
                members.remove(key);
            }
            self.append(register_entry, value);
        }
        for (value, hashes) in &new_values {
            if old_values.get(value) == Some(hashes) {
                continue;
            }
            self.members
                .entry(value.clone())
                .or_default()
                .insert(key.clone(), hashes.clone());
            self.append(register_entry, value);
        }
    }

    fn append(&mut self, register_entry: &Entry, value: &str) {
        let item_hashes: Vec<ItemHash> = self
            .members
            .get(value)
            .map(|m| m.values().flatten().copied().collect())
            .unwrap_or_default();
        if item_hashes.is_empty() {
            self.members.remove(value);
        }
        let entry = Entry {
            entry_number: register_entry.entry_number,
            index_entry_number: self.base + self.entries.len() as u64 + 1,
            timestamp: register_entry.timestamp,
            key: value.to_string(),
            item_hashes,
        };
        self.records.insert(value.to_string(), self.entries.len());
        self.entries.push(entry);
    }
}
