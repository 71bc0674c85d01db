//! Static publication (checkpoints.md §4): each log's latest checkpoint, and the tiles and
//! entry bundles of exactly that size, as files under `DIR/registers/…` with the paths the
//! server serves, so a plain web server, an object store or a CDN serves the whole
//! read-and-verify path.
//!
//! Incremental: a tile's path names its width, so a file that exists already has the right
//! bytes and is kept; new files are written whole (temporary file, then rename) and the
//! checkpoint last, so a reader never sees a checkpoint whose tiles are missing.

use std::io::Write;
use std::path::Path;

use store_diesel::error::StoreError;
use store_diesel::queries::Source;
use store_diesel::store::Store;
use tlog_core::tile::{tiles_of, TileKind};
use tlog_core::Checkpoint;

/// Why publication stopped.
#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A file could not be written.
    #[error("cannot write {path}: {reason}")]
    Io {
        /// The file.
        path: String,
        /// Why.
        reason: String,
    },
    /// A stored checkpoint that does not parse.
    #[error("the stored checkpoint of {0} is not valid")]
    Corrupt(String),
}

/// What a publication did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Published {
    /// Logs published (registers and index logs with a checkpoint).
    pub logs: u64,
    /// Tile, bundle and checkpoint files written.
    pub written: u64,
    /// Tile and bundle files already there.
    pub kept: u64,
    /// Entry bundles left out: an entry too long for a bundle (its hash tile is published).
    pub unbundled: u64,
}

/// Publishes the named registers (all local ones when `registers` is empty), each with its
/// index logs, under `dir`.
pub fn publish(store: &Store, dir: &Path, registers: &[String]) -> Result<Published, PublishError> {
    let names: Vec<String> = if registers.is_empty() {
        store
            .registers()?
            .into_iter()
            .filter(|r| r.mirror_of.is_none())
            .map(|r| r.name)
            .collect()
    } else {
        registers.to_vec()
    };
    let mut done = Published::default();
    for name in names {
        let metadata = store.metadata(&name)?;
        let mut sources = vec![Source::register(&name)];
        sources.extend(metadata.indexes.keys().map(|i| Source::index(&name, i)));
        for source in sources {
            publish_log(store, dir, &source, &mut done)?;
        }
    }
    Ok(done)
}

fn publish_log(
    store: &Store,
    dir: &Path,
    source: &Source,
    done: &mut Published,
) -> Result<(), PublishError> {
    let Some(note) = store.checkpoint(source, None)? else {
        return Ok(());
    };
    let body = note.split_once("\n\n").map(|(body, _)| format!("{body}\n"));
    let checkpoint = body
        .as_deref()
        .and_then(|body| Checkpoint::parse_body(body).ok())
        .ok_or_else(|| PublishError::Corrupt(source.to_string()))?;
    let prefix = match &source.index {
        None => dir.join("registers").join(&source.register),
        Some(index) => dir
            .join("registers")
            .join(&source.register)
            .join("indexes")
            .join(index),
    };
    for tile in tiles_of(checkpoint.size) {
        let path = prefix.join(tile.path());
        if path.exists() {
            done.kept += 1;
            continue;
        }
        match store.log_tile(source, &tile) {
            Ok(bytes) => write_whole(&path, &bytes)?,
            Err(StoreError::Tile(_)) if tile.kind == TileKind::Entries => {
                done.unbundled += 1;
                continue;
            }
            Err(e) => return Err(e.into()),
        }
        done.written += 1;
    }
    write_whole(&prefix.join("checkpoint"), note.as_bytes())?;
    done.written += 1;
    done.logs += 1;
    Ok(())
}

/// Writes a file whole: into a temporary file beside it, then renamed over it.
fn write_whole(path: &Path, bytes: &[u8]) -> Result<(), PublishError> {
    let io = |e: std::io::Error| PublishError::Io {
        path: path.display().to_string(),
        reason: e.to_string(),
    };
    let parent = path.parent().map(Path::to_path_buf).unwrap_or_default();
    std::fs::create_dir_all(&parent).map_err(io)?;
    let mut file = tempfile::NamedTempFile::new_in(&parent).map_err(io)?;
    file.write_all(bytes).map_err(io)?;
    // Temporary files are private (0600); published ones are for any web server to read.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        file.as_file()
            .set_permissions(std::fs::Permissions::from_mode(0o644))
            .map_err(io)?;
    }
    file.persist(path).map_err(|e| io(e.error))?;
    Ok(())
}
