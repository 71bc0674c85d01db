//! Offline checkpoint checks (checkpoints.md §2–§3): a checkpoint note verified against a log's
//! verifier key, and an RSF file held against the checkpoint.
//!
//! Keys are taken as plain strings and parsed here, never by clap: clap's errors quote the
//! value, and a private key given by mistake must not be echoed. No message here quotes a key
//! the user gave (only the parsed verifier key, which is public).

use std::fs::File;
use std::io::{self, Read};
use std::path::Path;

use anyhow::{anyhow, bail, Context as _};
use register_core::Digest;
use tlog_core::note::{NoteError, VerifierKey, MAX_NOTE_BYTES};
use tlog_core::{verify_checkpoint, Checkpoint, CheckpointError};

/// The verifier key of `--key`: the key string itself, or `@FILE` holding it.
pub fn read_key(arg: &str) -> anyhow::Result<VerifierKey> {
    let text = match arg.strip_prefix('@') {
        Some(path) => std::fs::read_to_string(path)
            .with_context(|| format!("cannot read the key file {path}"))?,
        None => arg.to_owned(),
    };
    VerifierKey::parse(&text).map_err(|e| anyhow!("bad verifier key: {e}"))
}

/// At most `limit` + 1 bytes of the file at `path`, or of standard input for `-`.
fn read_at_most(path: &Path, limit: u64) -> anyhow::Result<Vec<u8>> {
    let reader: Box<dyn Read> = if path == Path::new("-") {
        Box::new(io::stdin())
    } else {
        Box::new(File::open(path).with_context(|| format!("cannot open {}", path.display()))?)
    };
    let mut bytes = Vec::new();
    reader
        .take(limit + 1)
        .read_to_end(&mut bytes)
        .with_context(|| format!("cannot read {}", path.display()))?;
    Ok(bytes)
}

/// The checkpoint note at `path`, or on standard input for `-`.
pub fn read_note(path: &Path) -> anyhow::Result<String> {
    // A note is a few hundred bytes; read one byte past the limit so `open` refuses the rest.
    let bytes = read_at_most(path, MAX_NOTE_BYTES as u64)?;
    String::from_utf8(bytes).map_err(|_| anyhow!("bad checkpoint note: it is not UTF-8"))
}

/// Verifies `note` as a checkpoint signed by `key` for the log `key` names.
pub fn verify(note: &str, key: &VerifierKey) -> anyhow::Result<Checkpoint> {
    verify_checkpoint(note, key).map_err(|e| match e {
        CheckpointError::Note(NoteError::UnverifiedNote(_) | NoteError::InvalidSignature(_))
        | CheckpointError::OriginMismatch { .. } => {
            anyhow!("the checkpoint does not verify: {e}")
        }
        CheckpointError::Note(_) | CheckpointError::Malformed(_) => {
            anyhow!("bad checkpoint note: {e}")
        }
    })
}

/// The most of an evidence file read: two notes and a proof are a few kilobytes.
const MAX_EVIDENCE_BYTES: u64 = 1 << 20;

/// Verifies the split-view evidence file at `path` (or standard input for `-`) against
/// `key`; returns the line to print.
pub fn verify_evidence(path: &Path, key: &VerifierKey) -> anyhow::Result<String> {
    let bytes = read_at_most(path, MAX_EVIDENCE_BYTES)?;
    if bytes.len() as u64 > MAX_EVIDENCE_BYTES {
        bail!("evidence refused: the file is larger than {MAX_EVIDENCE_BYTES} bytes");
    }
    let text = String::from_utf8(bytes).map_err(|_| anyhow!("evidence refused: not UTF-8"))?;
    let how =
        tlog_core::verify_evidence(&text, key).map_err(|e| anyhow!("evidence refused: {e}"))?;
    Ok(format!(
        "evidence verified: two checkpoints signed by {} cannot both be true: {how}",
        key.name()
    ))
}

/// The `checkpoint verify` line: origin, size and root.
pub fn summary_line(checkpoint: &Checkpoint) -> anyhow::Result<String> {
    Ok(format!(
        "{{\"origin\":{},\"size\":{},\"root-hash\":\"{}\"}}",
        serde_json::to_string(&checkpoint.origin)?,
        checkpoint.size,
        checkpoint.root,
    ))
}

/// Refuses a file whose user log (`size` entries, root `root`) is not the checkpoint's.
pub fn check_file(checkpoint: &Checkpoint, size: u64, root: &Digest) -> anyhow::Result<()> {
    if size != checkpoint.size || *root != checkpoint.root {
        bail!(
            "the file has {size} entries and root {root}, the checkpoint says {} and {}",
            checkpoint.size,
            checkpoint.root
        );
    }
    Ok(())
}
