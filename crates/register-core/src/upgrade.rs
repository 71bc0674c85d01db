//! Rewriting RSF of any published dialect in the current one (registers.md §6.1).

use std::io::{BufRead, Write};

use crate::error::Error;
use crate::load::{Loader, Verification};
use crate::metadata::Mode;
use crate::rsf::{self, parse_command, Command, LineReader};

/// What [`upgrade`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Upgrade {
    /// The file's counts and final roots, as [`crate::verify`] reports them.
    pub verification: Verification,
    /// `append-entry` lines that were in a three-argument form.
    pub legacy_entries: u64,
    /// Whether a final `assert-root-hash` was added (the file did not end with one).
    pub final_assert_added: bool,
}

/// Checks `reader` as [`crate::verify`] does and writes it to `out` in the current dialect:
/// the same lines in the same order, each `append-entry` in the five-field form, so every
/// entry, leaf and root is unchanged. A file that does not end with an `assert-root-hash`
/// gets one for its final root. Memory is what verification needs, not the file's size.
///
/// On error `out` holds the lines before the failing one: write to a temporary file when a
/// partial output must not be seen.
pub fn upgrade<R: BufRead, W: Write + ?Sized>(
    reader: R,
    mode: Mode,
    out: &mut W,
) -> Result<Upgrade, Error> {
    let empty = crate::Register::new();
    let mut loader = Loader::new(&empty, mode)?.without_entries();
    let mut lines = LineReader::new(reader);
    let mut legacy_entries = 0;
    let mut ends_with_assert = false;
    let mut last_line = 0;
    while let Some(line) = lines.next_line() {
        let (number, text) = line?;
        last_line = number;
        loader.apply_line(number, text)?;
        let written = match parse_command(text).map_err(|e| e.at_line(number))? {
            Command::AppendEntry {
                log,
                key,
                timestamp,
                item_hashes,
            } => {
                if text.bytes().filter(|&b| b == b'\t').count() == 3 {
                    legacy_entries += 1;
                }
                ends_with_assert = false;
                rsf::write_append_entry_parts(out, log, key, timestamp, &item_hashes)
            }
            Command::AddItem(_) => {
                ends_with_assert = false;
                writeln!(out, "{text}")
            }
            Command::AssertRootHash(_) => {
                ends_with_assert = true;
                writeln!(out, "{text}")
            }
        };
        written.map_err(|e| Error::Io(e.to_string()).at_line(number))?;
    }
    let root = loader.user_root();
    let final_assert_added = !ends_with_assert;
    if final_assert_added {
        rsf::write_assert_root_hash(out, &root)
            .map_err(|e| Error::Io(e.to_string()).at_line(last_line + 1))?;
    }
    let changes = loader.finish()?;
    Ok(Upgrade {
        verification: Verification {
            summary: changes.summary,
            root: changes.user.root,
            system_root: changes.system.root,
        },
        legacy_entries,
        final_assert_added,
    })
}
