//! Applying one delta to a mirror: the receiver's half of sync, shared by pulls and pushes.

use register_core::rsf::{parse_command, Command, LineReader};
use register_core::Digest;

use crate::error::{ApplyError, Divergence};
use crate::traits::{MirrorStore, Origin};

/// The most of a refused first line an error quotes, in characters.
const SHOWN_CHARS: usize = 100;

/// The root the RSF line asserts, if it is an `assert-root-hash` line.
fn asserted_root(line: &[u8]) -> Option<Digest> {
    let mut reader = LineReader::new(line);
    let (_, text) = reader.next_line()?.ok()?;
    match parse_command(text) {
        Ok(Command::AssertRootHash(root)) => Some(root),
        _ => None,
    }
}

/// The first line, for an error message.
fn shown_first_line(delta: &[u8]) -> String {
    let mut reader = LineReader::new(delta);
    match reader.next_line() {
        Some(Ok((_, text))) => text.trim_end().chars().take(SHOWN_CHARS).collect(),
        _ => String::from_utf8_lossy(delta.split(|b| *b == b'\n').next().unwrap_or_default())
            .chars()
            .take(SHOWN_CHARS)
            .collect(),
    }
}

/// The bytes of the delta's last line (the delta without its final line ending).
fn last_line(delta: &[u8]) -> &[u8] {
    let body = delta.strip_suffix(b"\n").unwrap_or(delta);
    let start = body
        .iter()
        .rposition(|b| *b == b'\n')
        .map_or(0, |at| at + 1);
    &body[start..]
}

/// The root the delta's last line asserts (the root it leads to), if it ends with an
/// `assert-root-hash` line.
pub fn final_root(delta: &[u8]) -> Option<Digest> {
    asserted_root(last_line(delta))
}

/// Applies one delta (a ranged RSF dump, whole in memory: a bounded chunk) to the mirror
/// `name`, atomically. It must start by asserting the mirror's current root and end by
/// asserting the root it leads to, so a truncated delta is never applied. With a `target`
/// (size and root of the primary's verified checkpoint) the load may not go past it, nor
/// reach its size with another root. Returns the mirror's size and root after it.
pub fn apply_delta<S: MirrorStore>(
    store: &S,
    name: &str,
    origin: &Origin,
    delta: &[u8],
    target: Option<(u64, Digest)>,
) -> Result<(u64, Digest), ApplyError<S::Error>> {
    let (size, root) = store.state(name).map_err(ApplyError::Store)?;
    let first = delta
        .split_inclusive(|b| *b == b'\n')
        .next()
        .unwrap_or_default();
    if asserted_root(first) != Some(root) {
        return Err(ApplyError::Diverged(Divergence::UnexpectedStart {
            mirror: name.to_string(),
            size,
            root,
            found: shown_first_line(delta),
        }));
    }
    if asserted_root(last_line(delta)).is_none() {
        return Err(ApplyError::Incomplete);
    }
    store
        .load_mirror(name, delta, origin, target)
        .map_err(ApplyError::Store)
}

#[cfg(test)]
mod tests {
    use super::*;

    const ROOT: &str = "sha-256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    #[test]
    fn first_and_last_lines_are_read_as_rsf() {
        let delta =
            format!("assert-root-hash\t{ROOT}\r\nadd-item\t{{}}\nassert-root-hash\t{ROOT}\n");
        let root = Digest::parse_prefixed(ROOT);
        let first = delta
            .as_bytes()
            .split_inclusive(|b| *b == b'\n')
            .next()
            .unwrap();
        assert_eq!(asserted_root(first), root);
        assert_eq!(asserted_root(last_line(delta.as_bytes())), root);
        assert_eq!(asserted_root(last_line(b"add-item\t{}\n")), None);
        assert_eq!(asserted_root(b"assert-root-hash\tsha-256:00"), None);
        assert_eq!(asserted_root(b""), None);
        assert_eq!(
            shown_first_line(b"append-entry\tuser\n"),
            "append-entry\tuser"
        );
    }
}
