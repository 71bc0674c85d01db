//! Tiles and entry bundles (c2sp.org/tlog-tiles): their paths, which stored hashes they hold,
//! and the bundle encoding.
//!
//! Hash `i` of tile `N` at level `L` is the root of the complete subtree of `256^L` leaves
//! starting at leaf `(N·256 + i)·256^L`: the node at Merkle level `8·L`, index `N·256 + i`,
//! which register-core's node stores keep for every complete subtree. Level 0 holds leaf
//! hashes, which stores recompute from their entries.

use std::fmt;

use register_core::merkle::NodeStore;

/// Hashes in a full tile.
pub const WIDTH: u64 = 256;
/// Merkle levels per tile level.
pub const HEIGHT: u32 = 8;
/// The largest tile level a path may name (tlog-tiles: 0 to 63).
pub const MAX_LEVEL: u8 = 63;
/// The longest entry a bundle can hold (its length is a `uint16`).
pub const MAX_BUNDLE_ENTRY: usize = u16::MAX as usize;
/// `Content-Type` of tiles and bundles.
pub const MEDIA_TYPE: &str = "application/octet-stream";

/// Why a tile path or bundle was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TileError {
    /// Not a tile path in the canonical form.
    #[error(
        "malformed tile path '{0}': expected tile/<L>/<N>[.p/<W>] or tile/entries/<N>[.p/<W>]"
    )]
    MalformedPath(String),
    /// An entry too long for a bundle's `uint16` length.
    #[error(
        "entry {entry} is {len} bytes, more than an entry bundle can hold ({MAX_BUNDLE_ENTRY})"
    )]
    EntryTooLong {
        /// Its 0-based index in the log.
        entry: u64,
        /// Its length.
        len: usize,
    },
    /// A bundle whose lengths do not add up.
    #[error("malformed entry bundle")]
    MalformedBundle,
}

/// What a tile holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TileKind {
    /// Hashes of level `L` (0: leaf hashes).
    Hash(u8),
    /// An entry bundle (the leaves of the level-0 tile of the same index and width).
    Entries,
}

/// A tile or bundle: kind, index and width (256 for a full one, 1–255 for a partial one).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TilePath {
    /// Hash tile of a level, or entry bundle.
    pub kind: TileKind,
    /// `N`.
    pub index: u64,
    /// Number of hashes or entries.
    pub width: u16,
}

impl TilePath {
    /// Parses the part of a URL after `<prefix>/tile/`, e.g. `0/x001/234.p/17` or
    /// `entries/000`. Only the canonical spelling is accepted.
    pub fn parse(rest: &str) -> Result<TilePath, TileError> {
        let bad = || TileError::MalformedPath(excerpt(rest));
        if rest.len() > 64 {
            return Err(bad());
        }
        let (kind, tail) = rest.split_once('/').ok_or_else(bad)?;
        let kind = match kind {
            "entries" => TileKind::Entries,
            level => TileKind::Hash(
                canonical_decimal(level)
                    .and_then(|l| u8::try_from(l).ok())
                    .filter(|&l| l <= MAX_LEVEL)
                    .ok_or_else(bad)?,
            ),
        };
        let (index_part, width) = match tail.split_once(".p/") {
            Some((index, width)) => {
                let width = canonical_decimal(width)
                    .filter(|w| (1..WIDTH).contains(w))
                    .ok_or_else(bad)?;
                (index, width as u16)
            }
            None => (tail, WIDTH as u16),
        };
        let mut index: u64 = 0;
        let groups: Vec<&str> = index_part.split('/').collect();
        for (i, group) in groups.iter().enumerate() {
            let digits = if i + 1 < groups.len() {
                group.strip_prefix('x').ok_or_else(bad)?
            } else {
                group
            };
            if digits.len() != 3 || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return Err(bad());
            }
            let value: u64 = digits.parse().map_err(|_| bad())?;
            index = index
                .checked_mul(1000)
                .and_then(|n| n.checked_add(value))
                .ok_or_else(bad)?;
        }
        let tile = TilePath { kind, index, width };
        // One spelling per tile: `x000/001` is not `001`.
        if tile.path_after_tile() != rest {
            return Err(bad());
        }
        Ok(tile)
    }

    /// The path from the log's prefix: `tile/<L>/<N>[.p/<W>]` or `tile/entries/<N>[.p/<W>]`.
    pub fn path(&self) -> String {
        format!("tile/{}", self.path_after_tile())
    }

    fn path_after_tile(&self) -> String {
        let kind = match self.kind {
            TileKind::Hash(level) => level.to_string(),
            TileKind::Entries => "entries".to_string(),
        };
        let mut path = format!("{kind}/{}", format_index(self.index));
        if !self.is_full() {
            path.push_str(&format!(".p/{}", self.width));
        }
        path
    }

    /// Whether it is a full tile (256 wide): full tiles never change.
    pub fn is_full(&self) -> bool {
        u64::from(self.width) == WIDTH
    }

    /// The Merkle level of its hashes (`8·L`; 0 for a bundle).
    pub fn node_level(&self) -> u32 {
        match self.kind {
            TileKind::Hash(level) => u32::from(level) * HEIGHT,
            TileKind::Entries => 0,
        }
    }

    /// The index, at [`TilePath::node_level`], of its first hash (or the 0-based index of
    /// its first entry); `None` when it is beyond any tree.
    pub fn first(&self) -> Option<u64> {
        self.index.checked_mul(WIDTH)
    }

    /// Whether a tree of `size` entries has every hash (or entry) of this tile.
    pub fn exists_in(&self, size: u64) -> bool {
        let available = size.checked_shr(self.node_level()).unwrap_or(0);
        self.first()
            .and_then(|first| first.checked_add(u64::from(self.width)))
            .is_some_and(|end| end <= available)
    }
}

impl fmt::Display for TilePath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.path())
    }
}

/// `N` as zero-padded 3-digit groups, all but the last prefixed with `x`.
pub fn format_index(mut index: u64) -> String {
    let mut groups = vec![format!("{:03}", index % 1000)];
    index /= 1000;
    while index > 0 {
        groups.push(format!("x{:03}", index % 1000));
        index /= 1000;
    }
    groups.reverse();
    groups.join("/")
}

/// A decimal number without leading zeros (`0` itself allowed).
fn canonical_decimal(text: &str) -> Option<u64> {
    let canonical = !text.is_empty()
        && text.bytes().all(|b| b.is_ascii_digit())
        && (text == "0" || !text.starts_with('0'));
    canonical.then(|| text.parse().ok()).flatten()
}

fn excerpt(text: &str) -> String {
    text.chars().take(80).collect()
}

/// Every tile and bundle a tree of `size` entries has (full ones, and the partial one at
/// each level that has one), in level order: what a static copy must hold.
pub fn tiles_of(size: u64) -> Vec<TilePath> {
    let mut tiles = Vec::new();
    let mut level: u8 = 0;
    loop {
        let count = size.checked_shr(u32::from(level) * HEIGHT).unwrap_or(0);
        if count == 0 {
            break;
        }
        for index in 0..count / WIDTH {
            tiles.push(TilePath {
                kind: TileKind::Hash(level),
                index,
                width: WIDTH as u16,
            });
        }
        if count % WIDTH > 0 {
            tiles.push(TilePath {
                kind: TileKind::Hash(level),
                index: count / WIDTH,
                width: (count % WIDTH) as u16,
            });
        }
        level += 1;
    }
    let bundles: Vec<TilePath> = tiles
        .iter()
        .filter(|t| t.kind == TileKind::Hash(0))
        .map(|t| TilePath {
            kind: TileKind::Entries,
            ..*t
        })
        .collect();
    tiles.extend(bundles);
    tiles
}

/// The bytes of a hash tile: its hashes read from `nodes`, concatenated.
pub fn hash_tile<S: NodeStore + ?Sized>(
    nodes: &S,
    tile: &TilePath,
) -> Result<Vec<u8>, register_core::Error> {
    let first = tile.first().ok_or(register_core::Error::MissingNode {
        level: tile.node_level(),
        index: u64::MAX,
    })?;
    let mut bytes = Vec::with_capacity(usize::from(tile.width) * 32);
    for i in 0..u64::from(tile.width) {
        bytes.extend_from_slice(&nodes.node(tile.node_level(), first + i)?.0);
    }
    Ok(bytes)
}

/// Appends one entry to a bundle: its length as a big-endian `uint16`, then its bytes.
/// `entry` is its 0-based index, for the error.
pub fn push_bundle_entry(bundle: &mut Vec<u8>, entry: u64, leaf: &[u8]) -> Result<(), TileError> {
    let len = u16::try_from(leaf.len()).map_err(|_| TileError::EntryTooLong {
        entry,
        len: leaf.len(),
    })?;
    bundle.extend_from_slice(&len.to_be_bytes());
    bundle.extend_from_slice(leaf);
    Ok(())
}

/// Splits a bundle into its entries.
pub fn bundle_entries(bundle: &[u8]) -> Result<Vec<&[u8]>, TileError> {
    let mut entries = Vec::new();
    let mut rest = bundle;
    while !rest.is_empty() {
        let (len, tail) = rest.split_at_checked(2).ok_or(TileError::MalformedBundle)?;
        let len = usize::from(u16::from_be_bytes([len[0], len[1]]));
        let (entry, tail) = tail
            .split_at_checked(len)
            .ok_or(TileError::MalformedBundle)?;
        entries.push(entry);
        rest = tail;
    }
    Ok(entries)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hash(level: u8, index: u64, width: u16) -> TilePath {
        TilePath {
            kind: TileKind::Hash(level),
            index,
            width,
        }
    }

    #[test]
    fn paths_follow_the_specification() {
        assert_eq!(format_index(1_234_067), "x001/x234/067");
        assert_eq!(format_index(0), "000");
        assert_eq!(hash(0, 0, 208).path(), "tile/0/000.p/208");
        assert_eq!(hash(2, 1_234_067, 256).path(), "tile/2/x001/x234/067");
        let entries = TilePath {
            kind: TileKind::Entries,
            index: 5,
            width: 1,
        };
        assert_eq!(entries.path(), "tile/entries/005.p/1");
        for tile in [
            hash(0, 0, 208),
            hash(2, 1_234_067, 256),
            entries,
            hash(63, u64::MAX, 255),
        ] {
            let rest = tile.path();
            assert_eq!(TilePath::parse(&rest["tile/".len()..]), Ok(tile), "{rest}");
        }
    }

    #[test]
    fn malformed_paths_are_refused() {
        for bad in [
            "",
            "0",
            "0/",
            "00/000",
            "64/000",
            "-1/000",
            "0/00",
            "0/0000",
            "0/x000/001",
            "0/001/002",
            "0/x001",
            "0/000.p/0",
            "0/000.p/256",
            "0/000.p/08",
            "0/000.p/",
            "0/000/",
            "entries/",
            "entry/000",
            "0/x999/x999/x999/x999/x999/x999/x999/999",
            "0/abc",
        ] {
            assert!(TilePath::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn which_tiles_a_tree_has() {
        // tlog-tiles' own example: 70,000 entries.
        let tiles = tiles_of(70_000);
        let hashes: Vec<&TilePath> = tiles
            .iter()
            .filter(|t| t.kind != TileKind::Entries)
            .collect();
        assert_eq!(hashes.len(), 273 + 1 + 1 + 1 + 1);
        assert!(tiles.contains(&hash(0, 273, 112)));
        assert!(tiles.contains(&hash(1, 0, 256)));
        assert!(tiles.contains(&hash(1, 1, 17)));
        assert!(tiles.contains(&hash(2, 0, 1)));
        // A tree of 256: a full level-0 tile and a level-1 tile of width 1.
        let tiles = tiles_of(256);
        assert!(tiles.contains(&hash(0, 0, 256)) && tiles.contains(&hash(1, 0, 1)));
        assert!(tiles_of(0).is_empty());
        assert!(hash(1, 1, 17).exists_in(70_000));
        assert!(!hash(1, 1, 18).exists_in(70_000));
        assert!(hash(1, 1, 16).exists_in(70_000), "an older partial width");
        assert!(!hash(63, u64::MAX, 255).exists_in(u64::MAX));
    }

    #[test]
    fn bundles_round_trip_and_refuse_long_entries() {
        let mut bundle = Vec::new();
        push_bundle_entry(&mut bundle, 0, b"one").expect("short");
        push_bundle_entry(&mut bundle, 1, b"").expect("empty");
        assert_eq!(bundle, b"\x00\x03one\x00\x00");
        assert_eq!(bundle_entries(&bundle), Ok(vec![&b"one"[..], &b""[..]]));
        assert_eq!(
            push_bundle_entry(&mut bundle, 7, &vec![b'a'; 65_536]),
            Err(TileError::EntryTooLong {
                entry: 7,
                len: 65_536
            })
        );
        assert_eq!(
            bundle_entries(b"\x00\x05ab"),
            Err(TileError::MalformedBundle)
        );
    }
}
