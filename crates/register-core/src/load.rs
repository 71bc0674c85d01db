//! Applying RSF to a register, atomically.
//!
//! The [`Loader`] validates every command against a read-only [`RegisterState`] (the register
//! as it was before the file) plus what the file itself has staged so far, and collects the
//! result in [`Changes`]. Nothing is written until the whole file has been accepted: the caller
//! commits `Changes` (in memory with [`crate::Register::apply`], or inside a database
//! transaction), so a failed file leaves the register exactly as it was.

use std::borrow::Cow;
use std::collections::HashMap;
use std::io::BufRead;

use crate::entry::{write_leaf, Entry, LogKind};
use crate::error::Error;
use crate::hash::{Digest, ItemHash, ItemMap};
use crate::item::{check_canonical, ItemView};
use crate::merkle::{self, Frontier, NodeBatch};
use crate::metadata::{Metadata, Mode};
use crate::rsf::{parse_command, Command, LineReader};
use crate::time::Timestamp;

/// What the loader needs to know about the register it loads into.
///
/// [`crate::Register`] implements it in memory; a database store implements it over the open
/// transaction, so asserts and rules are checked against exactly the state being extended.
pub trait RegisterState {
    /// Number of entries in a log.
    fn log_size(&self, log: LogKind) -> Result<u64, Error>;
    /// The Merkle frontier of a log (see [`Frontier::from_store`]: O(log n) reads).
    fn frontier(&self, log: LogKind) -> Result<Frontier, Error>;
    /// Whether an item is stored.
    fn contains_item(&self, hash: &ItemHash) -> Result<bool, Error>;
    /// The canonical JSON of a stored item.
    fn item_json(&self, hash: &ItemHash) -> Result<Option<Cow<'_, str>>, Error>;
    /// The item hashes of the current record for `key` in a log.
    fn current_item_hashes(&self, log: LogKind, key: &str) -> Result<Option<Vec<ItemHash>>, Error>;
    /// The register's current metadata.
    fn metadata(&self) -> Result<Metadata, Error>;
}

/// A new item to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewItem {
    /// Its hash.
    pub hash: ItemHash,
    /// Its canonical JSON.
    pub json: Box<str>,
}

/// The entries and Merkle nodes staged for one log.
#[derive(Debug, Clone)]
pub struct LogChanges {
    /// Size of the log before these changes.
    pub base_size: u64,
    /// New entries, numbered from `base_size + 1`.
    pub entries: Vec<Entry>,
    /// Merkle nodes completed by the new entries (see [`NodeBatch::nodes`]).
    pub nodes: NodeBatch,
    /// The root after the new entries.
    pub root: Digest,
    /// The frontier after the new entries: a store that keeps it appends the next batch
    /// without reading the tree again.
    pub frontier: Frontier,
}

impl Default for LogChanges {
    fn default() -> LogChanges {
        LogChanges {
            base_size: 0,
            entries: Vec::new(),
            nodes: NodeBatch::default(),
            root: crate::merkle::empty_root(),
            frontier: Frontier::new(),
        }
    }
}

/// Counts reported after a load.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LoadSummary {
    /// `add-item` lines.
    pub add_item_lines: u64,
    /// Items not stored before.
    pub new_items: u64,
    /// User entries appended.
    pub user_entries: u64,
    /// System entries appended.
    pub system_entries: u64,
    /// `assert-root-hash` lines, all of which held.
    pub asserts: u64,
    /// Items of the file no entry refers to, kept in relaxed mode (strict mode refuses them).
    pub unreferenced_items: u64,
}

/// Everything an accepted RSF file adds to a register.
#[derive(Debug, Clone, Default)]
pub struct Changes {
    /// Items not stored before, in no particular order.
    pub items: Vec<NewItem>,
    /// Items of the file no entry refers to (relaxed mode), stored or new, in file order:
    /// the register keeps them although no entry names them.
    pub unreferenced: Vec<ItemHash>,
    /// The user log's additions.
    pub user: LogChanges,
    /// The system log's additions.
    pub system: LogChanges,
    /// The metadata after the system entries.
    pub metadata: Metadata,
    /// Counts.
    pub summary: LoadSummary,
}

struct FileItem {
    line: u64,
    /// Where the canonical JSON sits in the loader's arena, when the item is not stored yet.
    json: Option<(usize, u32)>,
    referenced: bool,
}

struct StagedLog {
    kind: LogKind,
    changes: LogChanges,
    frontier: Frontier,
    /// Current item hashes of keys appended to in this file.
    current: HashMap<String, Vec<ItemHash>>,
}

impl StagedLog {
    fn new<S: RegisterState + ?Sized>(state: &S, kind: LogKind) -> Result<StagedLog, Error> {
        let frontier = state.frontier(kind)?;
        Ok(StagedLog {
            kind,
            changes: LogChanges {
                base_size: state.log_size(kind)?,
                root: frontier.root(),
                ..LogChanges::default()
            },
            frontier,
            current: HashMap::new(),
        })
    }
}

/// Validates RSF commands against a register state and stages their effect.
pub struct Loader<'s, S: RegisterState + ?Sized> {
    state: &'s S,
    mode: Mode,
    line: u64,
    file_items: ItemMap<FileItem>,
    /// The JSON of new items, back to back: no allocation per item, no fragmentation.
    arena: String,
    unreferenced: usize,
    keep_entries: bool,
    user: StagedLog,
    system: StagedLog,
    metadata: Metadata,
    summary: LoadSummary,
    scratch: String,
}

impl<S: RegisterState + ?Sized> std::fmt::Debug for Loader<'_, S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Loader")
            .field("mode", &self.mode)
            .field("line", &self.line)
            .field("summary", &self.summary)
            .finish_non_exhaustive()
    }
}

impl<'s, S: RegisterState + ?Sized> Loader<'s, S> {
    /// Starts a load into `state`.
    pub fn new(state: &'s S, mode: Mode) -> Result<Loader<'s, S>, Error> {
        Ok(Loader {
            state,
            mode,
            line: 0,
            file_items: ItemMap::default(),
            arena: String::new(),
            unreferenced: 0,
            keep_entries: true,
            user: StagedLog::new(state, LogKind::User)?,
            system: StagedLog::new(state, LogKind::System)?,
            metadata: state.metadata()?,
            summary: LoadSummary::default(),
            scratch: String::new(),
        })
    }

    /// Checks without collecting: entries and Merkle nodes are counted and hashed into the
    /// roots but not kept, so [`Loader::finish`] returns no entries. For verifying large files
    /// in bounded memory.
    pub fn without_entries(mut self) -> Loader<'s, S> {
        self.keep_entries = false;
        self
    }

    /// Applies one RSF line (without its line ending). Errors carry the line number.
    pub fn apply_line(&mut self, line_number: u64, line: &str) -> Result<(), Error> {
        self.line = line_number;
        self.apply_command(line).map_err(|e| e.at_line(line_number))
    }

    /// Reads and applies every line of `reader`.
    ///
    /// A second thread reads ahead: it splits lines, checks UTF-8 and hashes and checks each
    /// `add-item`, which is half the work of a load and needs no register state. This thread
    /// applies the lines strictly in order, so errors and their line numbers are exactly those
    /// of a sequential load.
    pub fn apply_reader<R: BufRead + Send>(&mut self, reader: R) -> Result<(), Error> {
        let (sender, receiver) = std::sync::mpsc::sync_channel::<Batch>(4);
        // Spent batches go back to the reader: no fresh pages for every batch.
        let (recycle, recycled) = std::sync::mpsc::channel::<Batch>();
        std::thread::scope(|scope| {
            let sizes = (self.user.changes.base_size, self.system.changes.base_size);
            scope.spawn(move || read_batches(reader, sizes, &sender, &recycled));
            for mut batch in receiver {
                for line in batch.lines.drain(..) {
                    let text = batch.text.get(line.range).unwrap_or_default();
                    self.line = line.number;
                    let applied = match line.checked {
                        Checked::Item(Ok(hash)) => {
                            let json = text.strip_prefix("add-item\t").unwrap_or_default();
                            self.add_checked_item(json, hash)
                        }
                        Checked::Item(Err(e)) | Checked::Entry(Err(e)) => Err(e),
                        Checked::Entry(Ok(entry)) => {
                            let key = text.get(entry.key).unwrap_or_default();
                            let PreEntry {
                                log,
                                timestamp,
                                item_hashes,
                                leaf,
                                ..
                            } = entry;
                            self.append_entry(log, key, timestamp, item_hashes, Some(leaf))
                        }
                        Checked::Other => self.apply_command(text),
                        Checked::Unreadable(e) => return Err(e),
                    };
                    applied.map_err(|e| e.at_line(line.number))?;
                }
                let _ = recycle.send(batch);
            }
            Ok(())
            // Returning drops the receiver, which stops the reader thread at its next send.
        })
    }

    /// The user log's root after the lines applied so far.
    pub fn user_root(&self) -> Digest {
        self.user.frontier.root()
    }

    /// Ends the file: checks that every added item was referenced (strict mode; relaxed mode
    /// keeps the others and counts them) and returns the changes.
    pub fn finish(self) -> Result<Changes, Error> {
        let mut unreferenced = Vec::new();
        if self.unreferenced > 0 {
            let mut orphans: Vec<(u64, ItemHash)> = self
                .file_items
                .iter()
                .filter(|(_, item)| !item.referenced)
                .map(|(hash, item)| (item.line, *hash))
                .collect();
            orphans.sort_unstable();
            if self.mode == Mode::Strict {
                if let Some(&(line, hash)) = orphans.first() {
                    return Err(Error::OrphanAddItem(hash).at_line(line));
                }
            }
            unreferenced = orphans.into_iter().map(|(_, hash)| hash).collect();
        }
        let mut summary = self.summary;
        summary.unreferenced_items = unreferenced.len() as u64;
        let items: Vec<NewItem> = if self.keep_entries {
            let arena = &self.arena;
            self.file_items
                .into_iter()
                .filter_map(|(hash, item)| {
                    let json = arena_str(arena, item.json?)?;
                    Some(NewItem {
                        hash,
                        json: json.into(),
                    })
                })
                .collect()
        } else {
            summary.new_items = self
                .file_items
                .values()
                .filter(|i| i.json.is_some())
                .count() as u64;
            Vec::new()
        };
        summary.new_items = summary.new_items.max(items.len() as u64);
        let close = |mut log: StagedLog| {
            log.changes.root = log.frontier.root();
            log.changes.frontier = log.frontier;
            log.changes
        };
        Ok(Changes {
            items,
            unreferenced,
            user: close(self.user),
            system: close(self.system),
            metadata: self.metadata,
            summary,
        })
    }

    fn apply_command(&mut self, line: &str) -> Result<(), Error> {
        match parse_command(line)? {
            Command::AddItem(json) => self.add_item(json),
            Command::AppendEntry {
                log,
                key,
                timestamp,
                item_hashes,
            } => {
                log.check_key(key)?;
                self.append_entry(log, key, timestamp, item_hashes, None)
            }
            Command::AssertRootHash(expected) => {
                let actual = self.user.frontier.root();
                if actual != expected {
                    return Err(Error::RootHashMismatch { expected, actual });
                }
                self.summary.asserts += 1;
                Ok(())
            }
        }
    }

    fn add_item(&mut self, json: &str) -> Result<(), Error> {
        check_canonical(json)?;
        self.add_checked_item(json, ItemHash::of_canonical(json.as_bytes()))
    }

    /// Adds an item already checked canonical, with its hash.
    fn add_checked_item(&mut self, json: &str, hash: ItemHash) -> Result<(), Error> {
        self.summary.add_item_lines += 1;
        let slot = match self.file_items.entry(hash) {
            std::collections::hash_map::Entry::Occupied(_) => return Ok(()),
            std::collections::hash_map::Entry::Vacant(slot) => slot,
        };
        let json = if self.state.contains_item(&hash)? {
            None
        } else {
            let start = self.arena.len();
            self.arena.push_str(json);
            Some((start, json.len() as u32))
        };
        slot.insert(FileItem {
            line: self.line,
            referenced: false,
            json,
        });
        self.unreferenced += 1;
        Ok(())
    }

    fn append_entry(
        &mut self,
        log: LogKind,
        key: &str,
        timestamp: Timestamp,
        item_hashes: Vec<ItemHash>,
        leaf: Option<Digest>,
    ) -> Result<(), Error> {
        // Resolve every item first: the file's own, then the store's.
        let mut stored: Vec<Option<Cow<'s, str>>> = Vec::with_capacity(item_hashes.len());
        for hash in &item_hashes {
            match self.file_items.get_mut(hash) {
                Some(item) => {
                    if !item.referenced {
                        item.referenced = true;
                        self.unreferenced -= 1;
                    }
                    if item.json.is_some() {
                        stored.push(None);
                    } else {
                        // Added again in this file, but the state already had it: read it there.
                        match self.state.item_json(hash)? {
                            Some(json) => stored.push(Some(json)),
                            None => return Err(Error::OrphanAppendEntry(*hash)),
                        }
                    }
                }
                None => match self.state.item_json(hash)? {
                    Some(json) => stored.push(Some(json)),
                    None => return Err(Error::OrphanAppendEntry(*hash)),
                },
            }
        }

        let strict = self.mode == Mode::Strict;
        let staged = match log {
            LogKind::User => &self.user,
            LogKind::System => &self.system,
        };
        if strict {
            let current = match staged.current.get(key) {
                Some(current) => Some(Cow::Borrowed(current.as_slice())),
                None => self
                    .state
                    .current_item_hashes(log, key)?
                    .map(Cow::<[ItemHash]>::Owned),
            };
            if current.as_deref() == Some(item_hashes.as_slice()) {
                return Err(Error::IdenticalEntry(key.to_string()));
            }
        }

        let needs_items =
            log == LogKind::System || strict || self.metadata.register_definition().is_some();
        if needs_items {
            let mut views = Vec::with_capacity(item_hashes.len());
            for (hash, from_store) in item_hashes.iter().zip(&stored) {
                let json: &str = match from_store {
                    Some(json) => json,
                    None => self
                        .file_items
                        .get(hash)
                        .and_then(|item| arena_str(&self.arena, item.json?))
                        .ok_or(Error::OrphanAppendEntry(*hash))?,
                };
                views.push(ItemView::parse(json)?);
            }
            match log {
                LogKind::User => self.metadata.validate_user_entry(key, &views, self.mode)?,
                LogKind::System => self.metadata.apply(key, &views, self.mode)?,
            }
        }

        let staged = match log {
            LogKind::User => &mut self.user,
            LogKind::System => &mut self.system,
        };
        let count = match log {
            LogKind::User => &mut self.summary.user_entries,
            LogKind::System => &mut self.summary.system_entries,
        };
        *count += 1;
        let number = staged.changes.base_size + *count;
        let leaf = match leaf {
            Some(leaf) => leaf,
            None => leaf_hash(&mut self.scratch, number, timestamp, key, &item_hashes),
        };
        match staged.current.get_mut(key) {
            Some(current) => current.clone_from(&item_hashes),
            None => {
                staged.current.insert(key.to_string(), item_hashes.clone());
            }
        }
        if self.keep_entries {
            let nodes = &mut staged.changes.nodes;
            staged
                .frontier
                .append(leaf, |level, _, hash| nodes.push(level, hash));
            staged.changes.entries.push(Entry {
                entry_number: number,
                index_entry_number: number,
                timestamp,
                key: key.to_string(),
                item_hashes,
            });
        } else {
            staged.frontier.append(leaf, |_, _, _| {});
        }
        debug_assert_eq!(staged.kind, log);
        Ok(())
    }
}

/// Lines read ahead by [`read_batches`], with the work done on them so far.
struct Batch {
    text: String,
    lines: Vec<BatchLine>,
}

struct BatchLine {
    number: u64,
    range: std::ops::Range<usize>,
    checked: Checked,
}

enum Checked {
    /// An `add-item` line: its hash, or why it is not a canonical item.
    Item(Result<ItemHash, Error>),
    /// An `append-entry` line, parsed, with its Merkle leaf.
    Entry(Result<PreEntry, Error>),
    /// Any other command, parsed in order by the loader.
    Other,
    /// The line could not be read (I/O, UTF-8, length); the error carries its line number.
    Unreadable(Error),
}

/// An `append-entry` parsed ahead. Its leaf hash assumes the entry gets the next number of its
/// log, which holds for every entry the loader accepts: the first rejected line ends the load.
struct PreEntry {
    log: LogKind,
    /// The key's byte range within its line.
    key: std::ops::Range<usize>,
    timestamp: Timestamp,
    item_hashes: Vec<ItemHash>,
    leaf: Digest,
}

fn leaf_hash(
    scratch: &mut String,
    number: u64,
    timestamp: Timestamp,
    key: &str,
    item_hashes: &[ItemHash],
) -> Digest {
    scratch.clear();
    write_leaf(scratch, number, number, timestamp, key, item_hashes);
    merkle::leaf_hash(scratch.as_bytes())
}

const BATCH_LINES: usize = 4096;

fn read_batches<R: BufRead>(
    reader: R,
    (mut user_size, mut system_size): (u64, u64),
    sender: &std::sync::mpsc::SyncSender<Batch>,
    recycled: &std::sync::mpsc::Receiver<Batch>,
) {
    let mut lines = LineReader::new(reader);
    let mut scratch = String::new();
    loop {
        let mut batch = match recycled.try_recv() {
            Ok(mut batch) => {
                batch.text.clear();
                batch.lines.clear();
                batch
            }
            Err(_) => Batch {
                text: String::with_capacity(BATCH_LINES * 128),
                lines: Vec::with_capacity(BATCH_LINES),
            },
        };
        let mut finished = false;
        while batch.lines.len() < BATCH_LINES {
            match lines.next_line() {
                None => {
                    finished = true;
                    break;
                }
                Some(Err(e)) => {
                    batch.lines.push(BatchLine {
                        number: e.line().unwrap_or_default(),
                        range: 0..0,
                        checked: Checked::Unreadable(e),
                    });
                    finished = true;
                    break;
                }
                Some(Ok((number, line))) => {
                    let start = batch.text.len();
                    batch.text.push_str(line);
                    let checked = if let Some(json) = line.strip_prefix("add-item\t") {
                        if json.contains('\t') {
                            // An argument-count error: the parser words it.
                            Checked::Other
                        } else {
                            Checked::Item(
                                check_canonical(json)
                                    .map(|()| ItemHash::of_canonical(json.as_bytes())),
                            )
                        }
                    } else if line.starts_with("append-entry\t") {
                        let entry = match parse_command(line) {
                            Ok(Command::AppendEntry {
                                log,
                                key,
                                timestamp,
                                item_hashes,
                            }) => log.check_key(key).map(|()| {
                                let size = match log {
                                    LogKind::User => &mut user_size,
                                    LogKind::System => &mut system_size,
                                };
                                *size += 1;
                                let leaf =
                                    leaf_hash(&mut scratch, *size, timestamp, key, &item_hashes);
                                // Where the key sits within its line.
                                let offset = key.as_ptr() as usize - line.as_ptr() as usize;
                                PreEntry {
                                    log,
                                    key: offset..offset + key.len(),
                                    timestamp,
                                    item_hashes,
                                    leaf,
                                }
                            }),
                            Ok(_) => Err(Error::UnknownCommand(String::new())),
                            Err(e) => Err(e),
                        };
                        Checked::Entry(entry)
                    } else {
                        Checked::Other
                    };
                    batch.lines.push(BatchLine {
                        number,
                        range: start..batch.text.len(),
                        checked,
                    });
                }
            }
        }
        if sender.send(batch).is_err() || finished {
            return;
        }
    }
}

fn arena_str(arena: &str, (start, len): (usize, u32)) -> Option<&str> {
    arena.get(start..start + len as usize)
}

/// Validates all of `reader` against `state` and returns the changes to commit.
pub fn load<R: BufRead + Send, S: RegisterState + ?Sized>(
    reader: R,
    state: &S,
    mode: Mode,
) -> Result<Changes, Error> {
    let mut loader = Loader::new(state, mode)?;
    loader.apply_reader(reader)?;
    loader.finish()
}

/// What [`verify`] reports about a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verification {
    /// Counts; `new_items` is the number of distinct items.
    pub summary: LoadSummary,
    /// The user log's root after the file.
    pub root: Digest,
    /// The system log's root after the file.
    pub system_root: Digest,
}

/// Checks a whole RSF file as a load into an empty register would, without keeping entries:
/// memory holds only what validation must remember (items, current records, metadata).
pub fn verify<R: BufRead + Send>(reader: R, mode: Mode) -> Result<Verification, Error> {
    let empty = crate::Register::new();
    let mut loader = Loader::new(&empty, mode)?.without_entries();
    loader.apply_reader(reader)?;
    let changes = loader.finish()?;
    Ok(Verification {
        summary: changes.summary,
        root: changes.user.root,
        system_root: changes.system.root,
    })
}
