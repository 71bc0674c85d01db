//! RSF exports as a cursor: each [`Store::export_page`] call checks a connection out, writes
//! one page of RSF and gives the connection back. A server streaming a download to a slow
//! client therefore holds no connection (and no thread) while the client reads; a log is
//! append-only, so pages read in separate transactions still make one consistent dump of
//! the range fixed when the export began.
//!
//! [`Store::export_page`]: crate::store::Store::export_page

use std::io::Write;

use register_core::hash::ItemSet;
use register_core::{rsf, Digest, ItemHash, LogKind};

use crate::conn::AnyConnection;
use crate::error::StoreError;
use crate::model::Source;
use crate::queries::{item_jsons, page, EXPORT_PAGE};
use crate::tree::Tree;

/// Where an export is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    /// The starting `assert-root-hash`, if any.
    Start,
    /// Pass 1: the items of the entries from `next` of range `range`, each once.
    Items {
        range: usize,
        next: u64,
    },
    /// Pass 2: the entries from `next` of range `range`.
    Entries {
        range: usize,
        next: u64,
    },
    /// The closing `assert-root-hash`, if any.
    End,
    Done,
}

/// A ranged RSF dump being written a page at a time ([`crate::store::Store::begin_export`]).
#[derive(Debug)]
pub struct RsfExport {
    pub(crate) source: Source,
    /// `(log, first, last)`: the system log (a register's dump from 0 only), then the range.
    ranges: [(LogKind, u64, u64); 2],
    roots: Option<(Digest, Digest)>,
    step: Step,
    /// Entries per page.
    page: u64,
    /// Items already written: memory grows with the distinct items of the range.
    written: ItemSet,
}

fn io(e: std::io::Error) -> StoreError {
    StoreError::Register(register_core::Error::Io(e.to_string()))
}

impl RsfExport {
    /// The dump of the entries `from + 1 ..= to` of `source`'s log (those with no items
    /// included): the system log first when `from` is 0 (`system_entries` of them; an index
    /// has none), every item once before the entries, and around it all the
    /// `assert-root-hash` lines of `roots` (start, end) if given.
    pub(crate) fn new(
        source: Source,
        from: u64,
        to: u64,
        system_entries: u64,
        roots: Option<(Digest, Digest)>,
    ) -> RsfExport {
        let system_size = if from == 0 && source.index.is_none() {
            system_entries
        } else {
            0
        };
        RsfExport {
            source,
            ranges: [
                (LogKind::System, 1, system_size),
                (LogKind::User, from + 1, to),
            ],
            roots,
            step: Step::Start,
            page: EXPORT_PAGE,
            written: ItemSet::default(),
        }
    }

    /// This export written `entries` entries' worth a page (at least 1; 10,000 by default):
    /// smaller pages make shorter store calls, for servers sharing the store among clients.
    pub fn with_page_size(mut self, entries: u64) -> RsfExport {
        self.page = entries.max(1);
        self
    }

    /// Whether the whole dump has been written.
    pub fn is_done(&self) -> bool {
        self.step == Step::Done
    }

    /// The tree a range reads: the register's log of that kind, or the index log (which
    /// has no system range).
    fn source_tree<'t>(tree: Tree<'t>, log: LogKind) -> Option<Tree<'t>> {
        match (tree, log) {
            (Tree::Log(id, _), log) => Some(Tree::Log(id, log)),
            (Tree::Index(..), LogKind::User) => Some(tree),
            (Tree::Index(..), LogKind::System) => None,
        }
    }

    /// Writes the next page of the dump to `out` (at most a page size of entries' worth);
    /// nothing once [`RsfExport::is_done`].
    pub(crate) fn write_page(
        &mut self,
        conn: &mut AnyConnection,
        tree: Tree<'_>,
        out: &mut dyn Write,
    ) -> Result<(), StoreError> {
        match self.step {
            Step::Start => {
                if let Some((start, _)) = &self.roots {
                    rsf::write_assert_root_hash(out, start).map_err(io)?;
                }
                self.step = self.first(true);
            }
            Step::Items { range, next } | Step::Entries { range, next } => {
                let items = matches!(self.step, Step::Items { .. });
                let (log, _, last) = self.ranges[range];
                let entries = match Self::source_tree(tree, log) {
                    Some(source) => page(conn, source, next, (last - next + 1).min(self.page))?,
                    None => Vec::new(),
                };
                if items {
                    let wanted: Vec<ItemHash> = entries
                        .iter()
                        .flat_map(|e| e.item_hashes.iter().copied())
                        .filter(|h| self.written.insert(*h))
                        .collect();
                    let jsons = item_jsons(conn, &wanted)?;
                    for hash in &wanted {
                        let json = jsons.get(hash).ok_or_else(|| {
                            StoreError::Corrupt(format!("item {hash} is missing"))
                        })?;
                        rsf::write_add_item(out, json).map_err(io)?;
                    }
                } else {
                    for entry in &entries {
                        rsf::write_append_entry(out, log, entry).map_err(io)?;
                    }
                }
                self.step = match entries.last().map(|e| e.index_entry_number) {
                    Some(end) if end < last => {
                        let next = end + 1;
                        if items {
                            Step::Items { range, next }
                        } else {
                            Step::Entries { range, next }
                        }
                    }
                    // The range is over (or ran out of stored entries): the next one.
                    _ => self.after(range, items),
                };
            }
            Step::End => {
                if let Some((_, end)) = &self.roots {
                    rsf::write_assert_root_hash(out, end).map_err(io)?;
                }
                self.step = Step::Done;
            }
            Step::Done => {}
        }
        Ok(())
    }

    /// The first non-empty range of a pass, or what follows the pass.
    fn first(&self, items: bool) -> Step {
        self.step_at(0, items)
    }

    /// What follows range `range` of a pass.
    fn after(&self, range: usize, items: bool) -> Step {
        self.step_at(range + 1, items)
    }

    fn step_at(&self, start: usize, items: bool) -> Step {
        for (range, &(_, first, last)) in self.ranges.iter().enumerate().skip(start) {
            if first <= last {
                let next = first;
                return if items {
                    Step::Items { range, next }
                } else {
                    Step::Entries { range, next }
                };
            }
        }
        if items {
            self.step_at(0, false)
        } else {
            Step::End
        }
    }
}
