//! Signed checkpoints and tiles in the store, on both backends (checkpoints.md §3–4): one per
//! size a load leaves a log at, none for a failed load, index logs too, identical bytes from
//! every store on one database, and tiles equal to what register-core computes in memory.

mod common;

use common::{backends, data, keys, ORIGIN};
use register_core::{Item, LogKind, Mode, Register};
use sha2::{Digest as _, Sha256};
use store_diesel::error::StoreError;
use store_diesel::queries::Source;
use store_diesel::store::{MirrorOf, Store};
use tlog_core::tile::{hash_tile, TileKind, TilePath};
use tlog_core::verify_checkpoint;

fn checkpoint(store: &Store, source: &Source, size: Option<u64>) -> Option<tlog_core::Checkpoint> {
    let key = keys()
        .checkpoint_key(&source.register, source.index.as_deref())
        .expect("key");
    store
        .checkpoint(source, size)
        .expect("read")
        .map(|note| verify_checkpoint(&note, &key).expect("a valid signature"))
}

fn colour_entry(key: &str, name: &str) -> String {
    let item = Item::parse(&format!(r#"{{"colour":"{key}","name":"{name}"}}"#)).expect("item");
    format!(
        "add-item\t{}\nappend-entry\tuser\t{key}\t2020-01-01T00:00:00Z\t{}\n",
        item.canonical_json(),
        item.hash()
    )
}

#[test]
fn every_load_leaves_a_signed_checkpoint_for_its_size() {
    let colour = Source::register("colour");
    for db in backends() {
        let (store, l) = (&db.store, db.label);
        store
            .load_rsf("colour", &data("colour.rsf")[..], Mode::Strict)
            .expect(l);
        let summary = store.register("colour").expect(l);
        let first = checkpoint(store, &colour, None).expect("signed");
        assert_eq!(first.origin, format!("{ORIGIN}/registers/colour"), "{l}");
        assert_eq!((first.size, first.root), (3, summary.root), "{l}");
        assert_eq!(checkpoint(store, &colour, Some(3)), Some(first.clone()));

        // A failed load signs nothing.
        let bad = colour_entry("purple", "Purple")
            + "assert-root-hash\tsha-256:"
            + &"0".repeat(64)
            + "\n";
        assert!(store
            .load_rsf("colour", bad.as_bytes(), Mode::Strict)
            .is_err());
        assert_eq!(checkpoint(store, &colour, None), Some(first.clone()), "{l}");
        assert_eq!(checkpoint(store, &colour, Some(4)), None, "{l}");

        // Two more entries: a checkpoint at 5; the one at 3 stays, 4 never existed.
        let more = colour_entry("purple", "Purple") + &colour_entry("white", "White");
        store
            .load_rsf("colour", more.as_bytes(), Mode::Strict)
            .expect(l);
        let latest = checkpoint(store, &colour, None).expect("latest");
        assert_eq!(latest.size, 5, "{l}");
        assert_eq!(latest.root, store.register("colour").expect(l).root);
        assert_eq!(checkpoint(store, &colour, Some(3)), Some(first), "{l}");
        assert_eq!(checkpoint(store, &colour, Some(4)), None, "{l}");

        // Another store on the same database serves the same bytes.
        let other = Store::open(&db.url)
            .expect("second store")
            .with_keys(keys());
        assert_eq!(
            other.checkpoint(&colour, None).expect(l),
            store.checkpoint(&colour, None).expect(l),
            "{l}"
        );
        assert_eq!(
            other.sign_missing_checkpoints().expect(l),
            0,
            "{l}: nothing missing"
        );

        // A new node origin signs the same log anew (on start); the old checkpoints stay.
        let renamed =
            Store::open(&db.url)
                .expect("store")
                .with_keys(store_diesel::store::NodeKeys {
                    origin: "other.example".into(),
                    ..keys()
                });
        assert_eq!(renamed.sign_missing_checkpoints().expect(l), 1, "{l}");
        let moved = renamed.checkpoint(&colour, None).expect(l).expect("signed");
        assert!(
            moved.starts_with("other.example/registers/colour\n5\n"),
            "{l}: {moved}"
        );
        assert_eq!(
            checkpoint(store, &colour, None).map(|c| c.size),
            Some(5),
            "{l}"
        );
        assert_eq!(renamed.checkpoint(&colour, Some(3)).expect(l), None, "{l}");

        // The keys never show in a store's Debug form (logs print it).
        let shown = format!("{store:?} {:?}", keys());
        for private in [
            keys().log.to_private_string(),
            keys().cosigner.to_private_string(),
        ] {
            let seed = private.splitn(5, '+').nth(4).expect("the key part");
            assert!(!shown.contains(seed), "{l}: {shown}");
        }
    }
}

#[test]
fn empty_logs_index_logs_and_late_keys() {
    for db in backends() {
        let (store, l) = (&db.store, db.label);
        // Metadata only: the empty user log has a checkpoint at size 0.
        let mut metadata = Vec::new();
        in_memory(&data("colour.rsf"))
            .write_rsf_range(&mut metadata, 0, 0)
            .expect("metadata");
        let metadata = String::from_utf8(metadata).expect("utf-8");
        let report = store
            .load_rsf("colour", metadata.as_bytes(), Mode::Relaxed)
            .expect(l);
        assert_eq!(report.total_entries, 0, "{l}");
        let empty = checkpoint(store, &Source::register("colour"), None).expect("size 0");
        assert_eq!(
            (empty.size, empty.root),
            (0, register_core::merkle::empty_root())
        );

        // An index declared, then data: the index log is signed under its own origin.
        let index = Item::parse(r#"{"field":"name","index":"by-name"}"#).expect("item");
        let declare = format!(
            "add-item\t{}\nappend-entry\tsystem\tindex:by-name\t2020-01-01T00:00:00Z\t{}\n",
            index.canonical_json(),
            index.hash()
        ) + &colour_entry("red", "Red");
        store
            .load_rsf("colour", declare.as_bytes(), Mode::Relaxed)
            .expect(l);
        let by_name = Source::index("colour", "by-name");
        let signed = checkpoint(store, &by_name, None).expect("index checkpoint");
        assert_eq!(
            signed.origin,
            format!("{ORIGIN}/registers/colour/indexes/by-name")
        );
        assert_eq!(
            signed.size,
            store.summary(&by_name).expect(l).total_entries,
            "{l}"
        );
        assert_eq!(signed.root, store.summary(&by_name).expect(l).root, "{l}");

        // A store without keys signs nothing; given keys, it signs what is missing.
        let unsigned = Store::open(&db.url).expect("store");
        unsigned
            .load_rsf(
                "colour",
                colour_entry("blue", "Blue").as_bytes(),
                Mode::Relaxed,
            )
            .expect(l);
        assert_eq!(unsigned.sign_missing_checkpoints().expect(l), 0);
        let size = store.register("colour").expect(l).total_entries;
        assert_eq!(
            store
                .checkpoint(&Source::register("colour"), Some(size))
                .expect(l),
            None
        );
        let signing = unsigned.with_keys(keys());
        assert_eq!(
            signing.sign_missing_checkpoints().expect(l),
            2,
            "{l}: register and index"
        );
        assert_eq!(
            checkpoint(store, &Source::register("colour"), None).map(|c| c.size),
            Some(size)
        );

        // A mirror holds its primary's log: it signs nothing of its own.
        let mirror = MirrorOf {
            partner: "https://partner.example".into(),
            plan: plan_core::PlanId(uuid::Uuid::new_v4()),
            slice: uuid::Uuid::new_v4(),
            target: None,
        };
        store
            .load_mirror_rsf("mirrored", &data("colour.rsf")[..], &mirror)
            .expect(l);
        assert_eq!(
            store
                .checkpoint(&Source::register("mirrored"), None)
                .expect(l),
            None
        );
    }
}

fn in_memory(rsf: &[u8]) -> Register {
    let mut register = Register::new();
    register.load(rsf, Mode::Relaxed).expect("memory");
    register
}

fn hash(level: u8, index: u64, width: u16) -> TilePath {
    TilePath {
        kind: TileKind::Hash(level),
        index,
        width,
    }
}

#[test]
fn tiles_and_bundles_are_the_stored_tree() {
    let country = Source::register("country");
    for db in backends() {
        let (store, l) = (&db.store, db.label);
        store
            .load_rsf("country", &data("country-data.rsf")[..], Mode::Strict)
            .expect(l);
        let tile = store.log_tile(&country, &hash(0, 0, 208)).expect(l);
        assert_eq!(
            hex::encode(Sha256::digest(&tile[..])),
            "fe80c9257834c0697524030419b8cb13c14693b5878aab55c25bcff2067213fb",
            "{l}"
        );
        let bundle = TilePath {
            kind: TileKind::Entries,
            ..hash(0, 0, 208)
        };
        assert_eq!(
            hex::encode(Sha256::digest(
                &store.log_tile(&country, &bundle).expect(l)[..]
            )),
            "92be150c24dbccf35b5de694398927fc2a33bd239d838cf591dab050a112d7a3",
            "{l}"
        );
        // An older width of the partial tile is a prefix; anything beyond the log is absent.
        assert_eq!(
            store.log_tile(&country, &hash(0, 0, 100)).expect(l)[..],
            tile[..3200]
        );
        for beyond in [
            hash(0, 0, 256),
            hash(0, 0, 209),
            hash(1, 0, 1),
            hash(0, 1, 1),
        ] {
            assert!(
                matches!(
                    store.log_tile(&country, &beyond),
                    Err(StoreError::NotFound(_))
                ),
                "{l} {beyond}"
            );
        }

        // 70,000 entries over several loads: every tile equals the in-memory tree's.
        let mut rsf = String::new();
        for i in 0..70_000 {
            rsf += &colour_entry(&format!("c{i}"), "x");
        }
        let everything = rsf.as_bytes();
        store.load_rsf("big", everything, Mode::Relaxed).expect(l);
        let memory = in_memory(everything);
        let big = Source::register("big");
        for tile in tlog_core::tile::tiles_of(70_000)
            .into_iter()
            .filter(|t| t.kind != TileKind::Entries)
            .filter(|t| t.index % 50 == 0 || !t.is_full() || t.kind != TileKind::Hash(0))
        {
            assert_eq!(
                store.log_tile(&big, &tile).expect(l)[..],
                hash_tile(memory.nodes(LogKind::User), &tile).expect("memory")[..],
                "{l} {tile}"
            );
        }
    }
}

#[test]
fn an_entry_too_long_for_a_bundle_is_refused_but_hashed() {
    // One entry naming 1,000 items: its leaf is about 71 KB.
    let mut rsf = String::new();
    let mut hashes = Vec::new();
    for i in 0..1_000 {
        let item = Item::parse(&format!(r#"{{"n":"{i}"}}"#)).expect("item");
        rsf += &format!("add-item\t{}\n", item.canonical_json());
        hashes.push(item.hash().to_string());
    }
    rsf += &format!(
        "append-entry\tuser\tmany\t2020-01-01T00:00:00Z\t{}\n",
        hashes.join(";")
    );
    let source = Source::register("many");
    for db in backends() {
        let (store, l) = (&db.store, db.label);
        store
            .load_rsf("many", rsf.as_bytes(), Mode::Relaxed)
            .expect(l);
        let bundle = TilePath {
            kind: TileKind::Entries,
            ..hash(0, 0, 1)
        };
        match store.log_tile(&source, &bundle) {
            Err(StoreError::Tile(e)) => assert!(e.to_string().contains("entry 0"), "{l}: {e}"),
            other => panic!("{l}: {other:?}"),
        }
        let tile = store.log_tile(&source, &hash(0, 0, 1)).expect(l);
        assert_eq!(tile[..], store.register("many").expect(l).root.0[..], "{l}");
    }
}
