//! Records written as JSON, many requests in one transaction (group commit).
//!
//! Each request's records become the RSF lines a load would read and go through the same
//! register-core loader, in strict mode, against the state inside the transaction plus the
//! requests staged before it. A request that fails is left out and the batch is staged again
//! without it: the requests before it are unaffected (they did not depend on it) and the ones
//! after see exactly the state a sequential application would give them, so every request
//! gets the answer it would get alone, in queue order, and one bad request fails no other.

use std::borrow::Cow;
use std::cell::RefCell;
use std::collections::HashMap;

use register_core::write::{add_item_line, append_entry_line, record_key, RecordChange};
use register_core::{
    Digest, Entry, Error, ItemHash, Loader, LogKind, Metadata, Mode, RegisterState, Timestamp,
};

use crate::conn::AnyConnection;
use crate::error::StoreError;
use crate::known::{Known, KnownRegisters};
use crate::load;
use crate::model::NodeKeys;
use crate::registers::{find_register, latest_item_hashes_of, lock_register};
use crate::rows::{digest, to_u64};
use crate::state::DbState;

/// One write request: its changes, applied in order, and the timestamp of its entries.
#[derive(Debug, Clone)]
pub struct AppendRequest {
    /// The records to write or remove.
    pub changes: Vec<RecordChange>,
    /// The entries' timestamp.
    pub timestamp: Timestamp,
}

/// What one request changed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Appended {
    /// The entries it appended, in order.
    pub entries: Vec<Entry>,
    /// Records it left alone because they already had the item: key and current items.
    pub unchanged: Vec<(String, Vec<ItemHash>)>,
}

/// The outcome of a batch: the log after it, and each request's own result, in order.
#[derive(Debug)]
pub struct AppendBatch {
    /// User log size after the batch.
    pub total_entries: u64,
    /// User log root after the batch.
    pub root: Digest,
    /// The checkpoint signed for the log after the batch, when it grew and keys sign.
    pub checkpoint: Option<String>,
    /// One result per request.
    pub results: Vec<Result<Appended, StoreError>>,
}

/// Applies `requests` to the local register `name` in the caller's transaction (see the
/// module). `Err` only when nothing can be applied at all (no such register, a mirror, the
/// database); a request's own problem is its entry in [`AppendBatch::results`].
///
/// `known` is what an earlier batch left ([`KnownRegisters`]); the second value returned is
/// what this one leaves, to remember once the transaction has committed.
pub(crate) fn append(
    conn: &mut AnyConnection,
    name: &str,
    requests: &[AppendRequest],
    keys: Option<&NodeKeys>,
    known: &KnownRegisters,
) -> Result<(AppendBatch, (i64, Known)), StoreError> {
    lock_register(conn, name)?;
    let row =
        find_register(conn, name)?.ok_or_else(|| StoreError::RegisterNotFound(name.to_string()))?;
    load::check_target(name, Some(&row), None)?;
    let mut failed: Vec<Option<Error>> = vec![None; requests.len()];
    let cell = RefCell::new(&mut *conn);
    let known = known.get(&row)?;
    let mut state = match &known {
        Some(known) => Remembering::new(
            DbState::with_metadata(&cell, Some(row.clone()), (*known.metadata).clone()),
            Some([known.user.clone(), known.system.clone()]),
        ),
        None => Remembering::new(DbState::new(&cell, Some(row.clone()))?, None),
    };
    let metadata = state.inner.metadata().map_err(StoreError::Register)?;
    if let AnyConnection::Postgresql(c) = &mut **cell.borrow_mut() {
        state.prefetch(c, row.id, &metadata, requests)?;
    }
    let (staged, changes) = loop {
        let mut loader = Loader::new(&state, Mode::Strict)?;
        let mut batch = Batch {
            metadata: &metadata,
            state: &state,
            current: HashMap::new(),
            next: to_u64(row.user_size) + 1,
            line: 0,
        };
        let mut staged = Vec::with_capacity(requests.len());
        let mut refused = None;
        for (k, request) in requests.iter().enumerate() {
            if failed[k].is_some() {
                staged.push(None);
                continue;
            }
            match batch.stage(&mut loader, request) {
                Ok(appended) => staged.push(Some(appended)),
                Err(e) => {
                    refused = Some((k, e));
                    break;
                }
            }
        }
        if let Some((k, e)) = refused {
            // The loader holds that request's partial lines: stage the batch again without it.
            failed[k] = Some(e);
            continue;
        }
        let changes = loader.finish()?;
        break (staged, changes);
    };
    let had_indexes = state.inner.index_names();
    let had_records = state.had_records(&changes.user.entries);
    drop(state);
    let next = Known {
        user: changes.user.frontier.clone(),
        system: changes.system.frontier.clone(),
        metadata: match known {
            Some(known) if changes.system.entries.is_empty() => {
                std::sync::Arc::clone(&known.metadata)
            }
            _ => std::sync::Arc::new(changes.metadata.clone()),
        },
    };
    let id = row.id;
    let (total_entries, root, checkpoint) = if changes.user.entries.is_empty() {
        (to_u64(row.user_size), digest(&row.user_root)?, None)
    } else {
        let before = load::Before {
            indexes: &had_indexes,
            records: had_records.as_ref(),
        };
        let report = load::commit(conn, name, Some(row), changes, before, None, keys)?;
        (report.total_entries, report.root, report.checkpoint)
    };
    let results = staged
        .into_iter()
        .zip(failed)
        .map(|(appended, failure)| match (appended, failure) {
            (Some(appended), _) => Ok(appended),
            (None, Some(e)) => Err(StoreError::Register(e)),
            (None, None) => Err(StoreError::Invalid("request not staged".into())),
        })
        .collect();
    let batch = AppendBatch {
        total_entries,
        root,
        checkpoint,
        results,
    };
    Ok((batch, (id, next)))
}

/// The requests of a batch staged so far.
struct Batch<'a, S: RegisterState> {
    metadata: &'a Metadata,
    state: &'a S,
    /// The current items of keys written by requests staged in this batch.
    current: HashMap<String, Vec<ItemHash>>,
    /// The number of the next entry.
    next: u64,
    /// Lines fed to the loader (its errors carry them; ours name the record instead).
    line: u64,
}

impl<S: RegisterState> Batch<'_, S> {
    /// Stages one request; on error the loader holds part of it and must be discarded.
    fn stage(
        &mut self,
        loader: &mut Loader<'_, S>,
        request: &AppendRequest,
    ) -> Result<Appended, Error> {
        let mut appended = Appended::default();
        for (index, change) in request.changes.iter().enumerate() {
            self.change(loader, change, request.timestamp, &mut appended)
                .map_err(|e| e.kind().clone().at_record(index))?;
        }
        Ok(appended)
    }

    fn change(
        &mut self,
        loader: &mut Loader<'_, S>,
        change: &RecordChange,
        timestamp: Timestamp,
        appended: &mut Appended,
    ) -> Result<(), Error> {
        let (key, items) = match change {
            RecordChange::Put(item) => {
                let key = record_key(self.metadata, item)?;
                if self.current(&key)?.as_deref() == Some(&[item.hash][..]) {
                    appended.unchanged.push((key, vec![item.hash]));
                    return Ok(());
                }
                self.feed(loader, &add_item_line(item))?;
                (key, vec![item.hash])
            }
            RecordChange::Remove(key) => {
                register_core::entry::check_user_key(key)?;
                if self.current(key)?.is_none_or(|items| items.is_empty()) {
                    return Err(Error::NoSuchRecord(key.clone()));
                }
                (key.clone(), Vec::new())
            }
        };
        self.feed(loader, &append_entry_line(&key, timestamp, &items))?;
        appended.entries.push(Entry {
            entry_number: self.next,
            index_entry_number: self.next,
            timestamp,
            key: key.clone(),
            item_hashes: items.clone(),
        });
        self.next += 1;
        self.current.insert(key, items);
        Ok(())
    }

    fn current(&self, key: &str) -> Result<Option<Vec<ItemHash>>, Error> {
        match self.current.get(key) {
            Some(items) => Ok(Some(items.clone())),
            None => self.state.current_item_hashes(LogKind::User, key),
        }
    }

    fn feed(&mut self, loader: &mut Loader<'_, S>, line: &str) -> Result<(), Error> {
        self.line += 1;
        loader.apply_line(self.line, line)
    }
}

/// A key's current items as read from the state (`None`: the key never had an entry).
type Current = Option<Vec<ItemHash>>;

/// A state that remembers the current records it read: a batch asks for each key twice
/// (its own check, the loader's rule 5) and again when it is staged anew. With `frontiers`
/// (user, system) known from an earlier batch it reads no tree.
struct Remembering<S> {
    inner: S,
    current: RefCell<HashMap<(LogKind, String), Current>>,
    frontiers: Option<[register_core::Frontier; 2]>,
}

/// Keys read ahead per query.
const PREFETCH_CHUNK: usize = 1_000;

impl<S: RegisterState> Remembering<S> {
    fn new(inner: S, frontiers: Option<[register_core::Frontier; 2]>) -> Remembering<S> {
        Remembering {
            inner,
            current: RefCell::default(),
            frontiers,
        }
    }

    /// Which keys of `entries` had a record before the batch, from what staging read (every
    /// key a batch touches is read); `None` if one was not read.
    fn had_records(&self, entries: &[Entry]) -> Option<std::collections::BTreeSet<String>> {
        let current = self.current.borrow();
        let mut had = std::collections::BTreeSet::new();
        for entry in entries {
            let before = current.get(&(LogKind::User, entry.key.clone()))?;
            if before.as_ref().is_some_and(|items| !items.is_empty()) {
                had.insert(entry.key.clone());
            }
        }
        Some(had)
    }

    /// Reads ahead what the batch's records are checked against, the current items of their
    /// keys: on PostgreSQL every query is a round trip, and this makes one per thousand
    /// records instead of one per record.
    fn prefetch(
        &mut self,
        c: &mut diesel::PgConnection,
        register_id: i64,
        metadata: &Metadata,
        requests: &[AppendRequest],
    ) -> Result<(), StoreError> {
        let mut keys = std::collections::BTreeSet::new();
        for change in requests.iter().flat_map(|r| &r.changes) {
            match change {
                // A record without a key fails when staged, with its own message.
                RecordChange::Put(item) => keys.extend(record_key(metadata, item).ok()),
                RecordChange::Remove(key) => {
                    keys.insert(key.clone());
                }
            }
        }
        let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
        let current = self.current.get_mut();
        for chunk in keys.chunks(PREFETCH_CHUNK) {
            let mut found: HashMap<String, Vec<ItemHash>> =
                latest_item_hashes_of(c, register_id, LogKind::User, chunk)?
                    .into_iter()
                    .collect();
            for key in chunk {
                current.insert((LogKind::User, key.to_string()), found.remove(*key));
            }
        }
        Ok(())
    }
}

impl<S: RegisterState> RegisterState for Remembering<S> {
    fn log_size(&self, log: LogKind) -> Result<u64, Error> {
        self.inner.log_size(log)
    }

    fn frontier(&self, log: LogKind) -> Result<register_core::Frontier, Error> {
        match (&self.frontiers, log) {
            (Some([user, _]), LogKind::User) => Ok(user.clone()),
            (Some([_, system]), LogKind::System) => Ok(system.clone()),
            (None, _) => self.inner.frontier(log),
        }
    }

    fn contains_item(&self, _hash: &ItemHash) -> Result<bool, Error> {
        // Asked only to leave out items the register holds already. A write's items are
        // nearly always new (an item holds its key), and items and item references are
        // written with ON CONFLICT DO NOTHING (the register's item count moves by the rows
        // written), so a batch writes them all rather than ask once per item.
        Ok(false)
    }

    fn item_json(&self, hash: &ItemHash) -> Result<Option<Cow<'_, str>>, Error> {
        self.inner.item_json(hash)
    }

    fn current_item_hashes(&self, log: LogKind, key: &str) -> Result<Current, Error> {
        let slot = (log, key.to_string());
        if let Some(found) = self.current.borrow().get(&slot) {
            return Ok(found.clone());
        }
        let found = self.inner.current_item_hashes(log, key)?;
        self.current.borrow_mut().insert(slot, found.clone());
        Ok(found)
    }

    fn metadata(&self) -> Result<Metadata, Error> {
        self.inner.metadata()
    }
}
