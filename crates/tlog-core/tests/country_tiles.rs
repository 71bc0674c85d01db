//! The tile vectors of checkpoints.md §7, from `country-data.rsf` loaded by register-core.

use register_core::{LogKind, Mode, Register};
use sha2::{Digest as _, Sha256};
use tlog_core::tile::{hash_tile, push_bundle_entry, tiles_of, TileKind, TilePath};

fn country() -> Register {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../register-core/tests/data/country-data.rsf"
    );
    let mut register = Register::new();
    register
        .load(
            &std::fs::read(path).expect("country-data.rsf")[..],
            Mode::Strict,
        )
        .expect("load");
    register
}

#[test]
fn the_country_tile_and_bundle_vectors() {
    let register = country();
    let tiles = tiles_of(register.size(LogKind::User));
    let level0 = TilePath {
        kind: TileKind::Hash(0),
        index: 0,
        width: 208,
    };
    assert_eq!(
        tiles,
        [
            level0,
            TilePath {
                kind: TileKind::Entries,
                ..level0
            }
        ]
    );
    let tile = hash_tile(register.nodes(LogKind::User), &level0).expect("tile");
    assert_eq!(tile.len(), 6_656);
    assert_eq!(
        hex::encode(Sha256::digest(&tile)),
        "fe80c9257834c0697524030419b8cb13c14693b5878aab55c25bcff2067213fb"
    );
    assert_eq!(
        hex::encode(&tile[..32]),
        "a2002581c7402683e8197faafaefb9ba1f0ca48cee2d6ff461ab086b703472e5"
    );

    let mut bundle = Vec::new();
    let mut leaf = String::new();
    for (i, entry) in register.entries(LogKind::User).iter().enumerate() {
        leaf.clear();
        entry.write_leaf(&mut leaf);
        push_bundle_entry(&mut bundle, i as u64, leaf.as_bytes()).expect("short leaf");
    }
    assert_eq!(bundle.len(), 39_720);
    assert_eq!(
        hex::encode(Sha256::digest(&bundle)),
        "92be150c24dbccf35b5de694398927fc2a33bd239d838cf591dab050a112d7a3"
    );
}
