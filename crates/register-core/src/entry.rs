//! Entries: one line of a register's user or system log.

use std::fmt;

use crate::error::Error;
use crate::hash::{Digest, ItemHash};
use crate::item::write_json_string;
use crate::merkle;
use crate::time::Timestamp;

/// Which of a register's two logs an entry belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum LogKind {
    /// The data: feeds records, `total-entries` and the Merkle tree.
    User,
    /// The metadata: name, field and register definitions, custodian, indexes.
    System,
}

impl LogKind {
    /// `user` or `system`, as in RSF.
    pub fn as_str(self) -> &'static str {
        match self {
            LogKind::User => "user",
            LogKind::System => "system",
        }
    }

    /// Parses `user` or `system`.
    pub fn parse(text: &str) -> Result<LogKind, Error> {
        match text {
            "user" => Ok(LogKind::User),
            "system" => Ok(LogKind::System),
            other => Err(Error::InvalidEntryType(other.to_string())),
        }
    }

    /// Checks a key for this log: RFC 0008 for user keys, non-empty free text for system keys.
    pub fn check_key(self, key: &str) -> Result<(), Error> {
        match self {
            LogKind::User => check_user_key(key),
            LogKind::System if key.is_empty() => {
                Err(Error::InvalidKey(String::new(), "keys must not be empty"))
            }
            LogKind::System => Ok(()),
        }
    }
}

impl fmt::Display for LogKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// RFC 0008: `[A-Za-z0-9]` then `[A-Za-z0-9._/-]*`, no two consecutive punctuation characters.
pub fn check_user_key(key: &str) -> Result<(), Error> {
    let invalid = |why| Err(Error::InvalidKey(key.to_string(), why));
    let bytes = key.as_bytes();
    match bytes.first() {
        None => return invalid("keys must not be empty"),
        Some(b) if !b.is_ascii_alphanumeric() => {
            return invalid("a key must start with a letter or digit")
        }
        Some(_) => {}
    }
    let punct = |b: u8| matches!(b, b'-' | b'_' | b'.' | b'/');
    if !bytes.iter().all(|&b| b.is_ascii_alphanumeric() || punct(b)) {
        return invalid("only letters, digits and . _ / - are allowed");
    }
    if bytes.windows(2).any(|w| punct(w[0]) && punct(w[1])) {
        return invalid("two punctuation characters may not follow each other");
    }
    Ok(())
}

/// An entry of a register or index log.
///
/// In a register, `index_entry_number == entry_number`; in an index log, `index_entry_number`
/// is the position in the index and `entry_number` the register entry that caused it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Position in the log (registers) or number of the causing register entry (indexes).
    pub entry_number: u64,
    /// Position in this log.
    pub index_entry_number: u64,
    /// When the entry was minted (whole seconds, UTC).
    pub timestamp: Timestamp,
    /// The record key.
    pub key: String,
    /// The items, in order (ADR-007). Empty when the record left the current set (an index:
    /// the value has no records left).
    pub item_hashes: Vec<ItemHash>,
}

impl Entry {
    /// Appends the V1-JSON Merkle leaf of registers.md §7 to `out`:
    /// `{"index-entry-number":"1","entry-number":"1","entry-timestamp":"…","key":"…","item-hash":[…]}`.
    pub fn write_leaf(&self, out: &mut String) {
        write_leaf(
            out,
            self.index_entry_number,
            self.entry_number,
            self.timestamp,
            &self.key,
            &self.item_hashes,
        );
    }

    /// The Merkle leaf hash of this entry; `scratch` is a reusable buffer.
    pub fn leaf_hash(&self, scratch: &mut String) -> Digest {
        scratch.clear();
        self.write_leaf(scratch);
        merkle::leaf_hash(scratch.as_bytes())
    }
}

/// Appends the V1-JSON Merkle leaf of an entry given by its parts (see [`Entry::write_leaf`]).
pub fn write_leaf(
    out: &mut String,
    index_entry_number: u64,
    entry_number: u64,
    timestamp: Timestamp,
    key: &str,
    item_hashes: &[ItemHash],
) {
    use std::fmt::Write as _;
    let _ = write!(
        out,
        "{{\"index-entry-number\":\"{index_entry_number}\",\"entry-number\":\"{entry_number}\",\"entry-timestamp\":\"{timestamp}\",\"key\":"
    );
    write_json_string(key, out);
    out.push_str(",\"item-hash\":[");
    for (i, hash) in item_hashes.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        let _ = write!(out, "\"{hash}\"");
    }
    out.push_str("]}");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leaf_bytes_match_the_vector() {
        let entry = Entry {
            entry_number: 1,
            index_entry_number: 1,
            timestamp: Timestamp::parse("2016-04-05T13:23:05Z").expect("timestamp"),
            key: "SU".into(),
            item_hashes: vec![ItemHash::parse(
                "sha-256:e94c4a9ab00d951dadde848ee2c9fe51628b22ff2e0a88bff4cca6e4e6086d7a",
            )
            .expect("hash")],
        };
        let mut leaf = String::new();
        entry.write_leaf(&mut leaf);
        assert_eq!(
            leaf,
            r#"{"index-entry-number":"1","entry-number":"1","entry-timestamp":"2016-04-05T13:23:05Z","key":"SU","item-hash":["sha-256:e94c4a9ab00d951dadde848ee2c9fe51628b22ff2e0a88bff4cca6e4e6086d7a"]}"#
        );
        assert_eq!(
            entry.leaf_hash(&mut String::new()).to_hex(),
            "a2002581c7402683e8197faafaefb9ba1f0ca48cee2d6ff461ab086b703472e5",
            "root of country-data.rsf at size 1"
        );
    }

    #[test]
    fn user_keys_follow_rfc_0008() {
        for good in ["GB", "a", "0", "a.b", "a/b-c_d", "E06000001"] {
            assert!(check_user_key(good).is_ok(), "{good}");
        }
        for bad in ["", "-a", ".a", "a--b", "a./b", "a b", "é", "a\tb", "a:b"] {
            assert!(check_user_key(bad).is_err(), "{bad}");
        }
        assert!(LogKind::System.check_key("field:start-date").is_ok());
        assert!(LogKind::System.check_key("").is_err());
    }
}
