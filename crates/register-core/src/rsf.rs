//! RSF, the Register Serialisation Format (registers.md §6): line reading, command parsing and
//! writing. Applying commands to a register is [`crate::load`]'s job.

use std::io::{BufRead, Write};

use crate::entry::{Entry, LogKind};
use crate::error::Error;
use crate::hash::{Digest, ItemHash};
use crate::time::Timestamp;

/// The longest line the reader accepts. Items are small; the bound keeps a hostile file from
/// making the reader buffer gigabytes in search of a newline.
pub const MAX_LINE_BYTES: usize = 16 * 1024 * 1024;

/// The media type of RSF.
pub const MEDIA_TYPE: &str = "application/uk-gov-rsf";

/// One RSF command, borrowing from its line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command<'a> {
    /// `add-item<TAB>json`: the JSON text, not yet checked.
    AddItem(&'a str),
    /// `append-entry<TAB>type<TAB>key<TAB>timestamp<TAB>hash[;hash…]`, or one of the two
    /// three-argument forms of 2016–2017 (registers.md §6.1), which are user entries. An
    /// empty hash field is an entry with no items.
    AppendEntry {
        /// User or system log.
        log: LogKind,
        /// Record key (checked by the loader, which knows the log's rules).
        key: &'a str,
        /// Entry timestamp.
        timestamp: Timestamp,
        /// Item hashes, in order; empty when the record left the current set (user log only).
        item_hashes: Vec<ItemHash>,
    },
    /// `assert-root-hash<TAB>sha-256:…`.
    AssertRootHash(Digest),
}

/// Parses one line (without its line ending).
pub fn parse_command(line: &str) -> Result<Command<'_>, Error> {
    if line.is_empty() {
        return Err(Error::EmptyLine);
    }
    let mut parts = line.split('\t');
    let command = parts.next().unwrap_or_default();
    let mut args: [&str; 4] = [""; 4];
    let mut count = 0usize;
    for part in parts {
        if let Some(slot) = args.get_mut(count) {
            *slot = part;
        }
        count += 1;
    }
    let arity = |name: &'static str, expected: usize| {
        if count == expected {
            Ok(())
        } else {
            Err(Error::ArgumentCount {
                command: name,
                expected,
            })
        }
    };
    match command {
        "add-item" => {
            arity("add-item", 1)?;
            Ok(Command::AddItem(args[0]))
        }
        "append-entry" => match count {
            4 => {
                let log = LogKind::parse(args[0])?;
                append_entry(log, args[1], args[2], args[3])
            }
            // The 2016-2017 forms (registers.md §6.1), told apart by which field is a
            // timestamp; a key cannot be one (RFC 0008 keys have no ':').
            3 if Timestamp::parse(args[0]).is_some() => {
                append_entry(LogKind::User, args[2], args[0], args[1])
            }
            3 if Timestamp::parse(args[1]).is_some() => {
                append_entry(LogKind::User, args[0], args[1], args[2])
            }
            3 => Err(Error::LegacyEntryShape),
            _ => Err(Error::ArgumentCount {
                command: "append-entry",
                expected: 4,
            }),
        },
        "assert-root-hash" => {
            arity("assert-root-hash", 1)?;
            Digest::parse_prefixed(args[0])
                .map(Command::AssertRootHash)
                .ok_or_else(|| Error::InvalidHash(excerpt(args[0])))
        }
        other => Err(Error::UnknownCommand(excerpt(other))),
    }
}

/// An `append-entry` from its fields, whatever their order in the line.
fn append_entry<'a>(
    log: LogKind,
    key: &'a str,
    timestamp: &str,
    hashes: &str,
) -> Result<Command<'a>, Error> {
    let timestamp =
        Timestamp::parse(timestamp).ok_or_else(|| Error::InvalidTimestamp(excerpt(timestamp)))?;
    let item_hashes = parse_item_hashes(hashes)?;
    if item_hashes.is_empty() && log == LogKind::System {
        return Err(Error::EmptySystemEntry);
    }
    Ok(Command::AppendEntry {
        log,
        key,
        timestamp,
        item_hashes,
    })
}

/// `h1;h2;…`, or nothing: an entry with no items (the record left the current set). The
/// hashes must be distinct: a record holds each item once, and a repeated hash would only
/// multiply the work of every reader of the entry.
pub fn parse_item_hashes(field: &str) -> Result<Vec<ItemHash>, Error> {
    if field.is_empty() {
        return Ok(Vec::new());
    }
    let hashes = field
        .split(';')
        .map(|h| ItemHash::parse(h).ok_or_else(|| Error::InvalidHash(excerpt(h))))
        .collect::<Result<Vec<ItemHash>, Error>>()?;
    if hashes.len() > 1 {
        let mut seen = std::collections::HashSet::with_capacity(hashes.len());
        if let Some(repeated) = hashes.iter().find(|h| !seen.insert(*h)) {
            return Err(Error::DuplicateItemHash(*repeated));
        }
    }
    Ok(hashes)
}

fn excerpt(text: &str) -> String {
    const MAX_CHARS: usize = 80;
    match text.char_indices().nth(MAX_CHARS) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_string(),
    }
}

/// Reads RSF one line at a time from any [`BufRead`], reusing one buffer.
#[derive(Debug)]
pub struct LineReader<R> {
    reader: R,
    buf: Vec<u8>,
    line: u64,
}

impl<R: BufRead> LineReader<R> {
    /// Wraps a reader.
    pub fn new(reader: R) -> LineReader<R> {
        LineReader {
            reader,
            buf: Vec::with_capacity(256),
            line: 0,
        }
    }

    /// The next line without its `\n` or `\r\n`, with its 1-based number; `None` at the end.
    /// Errors carry the line number.
    pub fn next_line(&mut self) -> Option<Result<(u64, &str), Error>> {
        self.buf.clear();
        self.line += 1;
        let line = self.line;
        let limit = MAX_LINE_BYTES as u64 + 2;
        let read = std::io::Read::take(&mut self.reader, limit).read_until(b'\n', &mut self.buf);
        match read {
            Err(e) => return Some(Err(Error::Io(e.to_string()).at_line(line))),
            Ok(0) => return None,
            Ok(_) => {}
        }
        if self.buf.last() == Some(&b'\n') {
            self.buf.pop();
            if self.buf.last() == Some(&b'\r') {
                self.buf.pop();
            }
        } else if self.buf.len() > MAX_LINE_BYTES {
            return Some(Err(Error::LineTooLong(MAX_LINE_BYTES).at_line(line)));
        }
        if self.buf.len() > MAX_LINE_BYTES {
            return Some(Err(Error::LineTooLong(MAX_LINE_BYTES).at_line(line)));
        }
        match std::str::from_utf8(&self.buf) {
            Ok(text) => Some(Ok((line, text))),
            Err(_) => Some(Err(Error::InvalidUtf8.at_line(line))),
        }
    }
}

/// Writes `add-item<TAB>json\n`. `canonical_json` must be canonical.
pub fn write_add_item<W: Write + ?Sized>(w: &mut W, canonical_json: &str) -> std::io::Result<()> {
    w.write_all(b"add-item\t")?;
    w.write_all(canonical_json.as_bytes())?;
    w.write_all(b"\n")
}

/// Writes `append-entry<TAB>type<TAB>key<TAB>timestamp<TAB>hashes\n` (the hash field is
/// empty for an entry with no items).
pub fn write_append_entry<W: Write + ?Sized>(
    w: &mut W,
    log: LogKind,
    entry: &Entry,
) -> std::io::Result<()> {
    write_append_entry_parts(w, log, &entry.key, entry.timestamp, &entry.item_hashes)
}

/// [`write_append_entry`] from an entry's parts.
pub fn write_append_entry_parts<W: Write + ?Sized>(
    w: &mut W,
    log: LogKind,
    key: &str,
    timestamp: Timestamp,
    item_hashes: &[ItemHash],
) -> std::io::Result<()> {
    write!(w, "append-entry\t{log}\t{key}\t{timestamp}\t")?;
    for (i, hash) in item_hashes.iter().enumerate() {
        if i > 0 {
            w.write_all(b";")?;
        }
        write!(w, "{hash}")?;
    }
    w.write_all(b"\n")
}

/// Writes `assert-root-hash<TAB>sha-256:…\n`.
pub fn write_assert_root_hash<W: Write + ?Sized>(w: &mut W, root: &Digest) -> std::io::Result<()> {
    writeln!(w, "assert-root-hash\t{root}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check_error(line: &str, expected: &str) {
        match parse_command(line) {
            Err(e) => assert_eq!(e.to_string(), expected, "{line:?}"),
            Ok(c) => panic!("{line:?} parsed as {c:?}"),
        }
    }

    #[test]
    fn command_errors_follow_orj_wording() {
        let hash = "sha-256:5dd4fe3b0de91882dae86b223ca531b5c8f2335d9ee3fd0ab18dfdc2871d0c61";
        check_error("", "Empty line");
        check_error("add-itemx\t{}", "Command 'add-itemx' is not recognised");
        check_error("add-item", "add-item must have 1 argument");
        check_error("add-item\t{}\t{}", "add-item must have 1 argument");
        check_error(
            "append-entry\tuser\tGB\t2016-04-05T13:23:05Z",
            "append-entry must have 4 arguments (or 3 in a 2016 form: timestamp, hashes, key or \
             key, timestamp, hashes)",
        );
        check_error(
            "append-entry\tuser\tGB",
            "append-entry must have 4 arguments",
        );
        check_error(
            &format!("append-entry\tusers\tGB\t2016-04-05T13:23:05Z\t{hash}"),
            "Type must be 'user' or 'system', not 'users'",
        );
        check_error(
            &format!("append-entry\tuser\tGB\t2016-04-05T13:23:05.123Z\t{hash}"),
            "Date is not in the correct format: '2016-04-05T13:23:05.123Z'",
        );
        check_error(
            &format!("append-entry\tuser\tGB\t2016-04-05T13:23:05\t{hash}"),
            "Date is not in the correct format: '2016-04-05T13:23:05'",
        );
        check_error(
            "append-entry\tuser\tGB\t2016-04-05T13:23:05Z\tmd5:abc",
            "'md5:abc' was not hashed using sha-256",
        );
        check_error(
            &format!("append-entry\tuser\tGB\t2016-04-05T13:23:05Z\t{hash};"),
            "'' was not hashed using sha-256",
        );
        check_error(
            "assert-root-hash\tsha-256:00",
            "'sha-256:00' was not hashed using sha-256",
        );
        check_error("assert-root-hash", "assert-root-hash must have 1 argument");
    }

    #[test]
    fn old_forms_and_empty_hash_fields_parse() {
        let a = "sha-256:5dd4fe3b0de91882dae86b223ca531b5c8f2335d9ee3fd0ab18dfdc2871d0c61";
        let ts = Timestamp::parse("2016-11-24T17:20:33Z").expect("timestamp");
        let user = |key, item_hashes: Vec<ItemHash>| Command::AppendEntry {
            log: LogKind::User,
            key,
            timestamp: ts,
            item_hashes,
        };
        let one = vec![ItemHash::parse(a).expect("hash")];
        for (line, expected) in [
            (
                format!("append-entry\t{ts}\t{a}\t402175"),
                user("402175", one.clone()),
            ),
            (
                format!("append-entry\t402175\t{ts}\t{a}"),
                user("402175", one),
            ),
            (format!("append-entry\t{ts}\t\tNMD"), user("NMD", vec![])),
            (format!("append-entry\tNMD\t{ts}\t"), user("NMD", vec![])),
            (
                format!("append-entry\tuser\tNMD\t{ts}\t"),
                user("NMD", vec![]),
            ),
        ] {
            assert_eq!(parse_command(&line), Ok(expected), "{line:?}");
        }
    }

    #[test]
    fn multi_item_entries_parse() {
        let a = "sha-256:5dd4fe3b0de91882dae86b223ca531b5c8f2335d9ee3fd0ab18dfdc2871d0c61";
        let b = "sha-256:e94c4a9ab00d951dadde848ee2c9fe51628b22ff2e0a88bff4cca6e4e6086d7a";
        let line = format!("append-entry\tuser\tNMD\t2016-04-05T13:23:05Z\t{a};{b}");
        match parse_command(&line) {
            Ok(Command::AppendEntry { item_hashes, .. }) => assert_eq!(item_hashes.len(), 2),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn an_entry_names_each_item_once() {
        let a = "sha-256:5dd4fe3b0de91882dae86b223ca531b5c8f2335d9ee3fd0ab18dfdc2871d0c61";
        let b = "sha-256:e94c4a9ab00d951dadde848ee2c9fe51628b22ff2e0a88bff4cca6e4e6086d7a";
        let repeated = format!("item hash {a} appears more than once in the entry");
        check_error(
            &format!("append-entry\tuser\tNMD\t2016-04-05T13:23:05Z\t{a};{a}"),
            &repeated,
        );
        check_error(
            &format!("append-entry\tuser\tNMD\t2016-04-05T13:23:05Z\t{a};{b};{a}"),
            &repeated,
        );
        // The 2016 form too.
        check_error(
            &format!("append-entry\t2016-04-05T13:23:05Z\t{a};{b};{b}\tNMD"),
            &format!("item hash {b} appears more than once in the entry"),
        );
        let many = vec![a; 10_000].join(";");
        check_error(
            &format!("append-entry\tuser\tNMD\t2016-04-05T13:23:05Z\t{many}"),
            &repeated,
        );
    }

    #[test]
    fn reader_handles_crlf_utf8_and_numbers_lines() {
        let input: &[u8] = b"a\r\nb\n\xff\nc";
        let mut reader = LineReader::new(input);
        assert_eq!(
            reader
                .next_line()
                .map(|r| r.map(|(n, s)| (n, s.to_string()))),
            Some(Ok((1, "a".into())))
        );
        assert_eq!(
            reader
                .next_line()
                .map(|r| r.map(|(n, s)| (n, s.to_string()))),
            Some(Ok((2, "b".into())))
        );
        match reader.next_line() {
            Some(Err(e)) => assert_eq!(e.to_string(), "line 3: line is not valid UTF-8"),
            other => panic!("{:?}", other.map(|r| r.map(|(n, s)| (n, s.to_string())))),
        }
        assert_eq!(
            reader
                .next_line()
                .map(|r| r.map(|(n, s)| (n, s.to_string()))),
            Some(Ok((4, "c".into())))
        );
        assert!(reader.next_line().is_none());
    }
}
