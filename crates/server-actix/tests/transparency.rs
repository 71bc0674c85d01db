//! Checkpoints and tiles over HTTP (checkpoints.md §3–4), checked by verifiers we did not
//! write: Cloudflare's `signed_note` opens our checkpoints, and `tlog_tiles` (a port of Go's
//! sumdb `tlog`) authenticates our tiles against them and rebuilds inclusion and
//! consistency proofs that must equal the ones our JSON proof endpoints return.

mod common;

use std::collections::HashMap;

use actix_web::test;
use common::{backends, get, state, Reply};
use register_core::{Item, Mode};
use server_actix::app;
use signed_note::{Note, StandardVerifier, VerifierList};
use tlog_tiles::{prove_record, prove_tree, Hash, Tile, TileHashReader, TileReader};

const BASE: &str = "/registers/synthetic";

/// RSF of entries `from..to` of a register without metadata (loaded relaxed).
fn entries(from: u64, to: u64) -> String {
    let mut rsf = String::new();
    for i in from..to {
        let item = Item::parse(&format!(r#"{{"n":"{i}"}}"#)).expect("item");
        rsf += &format!(
            "add-item\t{}\nappend-entry\tuser\tk{i}\t2020-01-01T00:00:00Z\t{}\n",
            item.canonical_json(),
            item.hash()
        );
    }
    rsf
}

/// Our hash tiles, as fetched: (level, index, width) → bytes.
struct Fetched(HashMap<(u8, u64, u32), Vec<u8>>);

impl TileReader for Fetched {
    fn height(&self) -> u8 {
        8
    }

    fn read_tiles(&self, tiles: &[Tile]) -> Result<Vec<Vec<u8>>, tlog_tiles::tlog::Error> {
        tiles
            .iter()
            .map(|t| {
                self.0
                    .get(&(t.level(), t.level_index(), t.width()))
                    .cloned()
                    .ok_or_else(|| tlog_tiles::tlog::Error::InvalidInput(t.path()))
            })
            .collect()
    }

    fn save_tiles(&self, _: &[Tile], _: &[Vec<u8>]) {}
}

/// The audit path or consistency nodes of one of our JSON proofs, as raw hashes.
fn proof_hashes(reply: &Reply, field: &str) -> Vec<Hash> {
    assert_eq!(reply.status, 200, "{}", reply.text());
    reply.json()[field]
        .as_array()
        .expect("a list")
        .iter()
        .map(|h| {
            let hex = h
                .as_str()
                .and_then(|h| h.strip_prefix("sha-256:"))
                .expect("hash");
            Hash(hex::decode(hex).expect("hex").try_into().expect("32 bytes"))
        })
        .collect()
}

#[actix_web::test]
async fn independent_verifiers_accept_our_checkpoints_and_rebuild_our_proofs_from_tiles() {
    for db in backends() {
        let l = db.label;
        let app = test::init_service(app(state(&db))).await;
        let mut sizes_so_far: Vec<u64> = Vec::new();
        let mut loaded = 0;
        for size in [1u64, 255, 256, 257, 65_536, 70_000] {
            db.store
                .load_rsf("synthetic", entries(loaded, size).as_bytes(), Mode::Relaxed)
                .expect(l);
            loaded = size;

            // The checkpoint opens with signed_note under the key the summary publishes.
            let summary = get(&app, &format!("{BASE}/register")).await.json();
            let key = summary["checkpoint-key"].as_str().expect("checkpoint-key");
            let reply = get(&app, &format!("{BASE}/checkpoint")).await;
            assert_eq!(reply.status, 200, "{l}");
            assert_eq!(reply.header("content-type"), "text/plain; charset=utf-8");
            let note = Note::from_bytes(reply.text().as_bytes()).expect("a note");
            let verifier = StandardVerifier::new(key).expect("verifier key");
            let known = VerifierList::new(vec![Box::new(verifier)]);
            note.verify(&known)
                .expect("signed_note verifies our signature");
            let checkpoint =
                tlog_tiles::Checkpoint::from_bytes(note.text()).expect("a checkpoint body");
            assert_eq!(
                checkpoint.origin(),
                summary["origin"].as_str().expect("origin")
            );
            assert_eq!(checkpoint.size(), size, "{l}");

            // Every hash tile of that size, fetched from us; tlog_tiles checks them against
            // the signed root before it answers from them.
            let mut tiles = HashMap::new();
            for tile in tlog_core::tile::tiles_of(size) {
                if let tlog_core::tile::TileKind::Hash(level) = tile.kind {
                    let reply = get(&app, &format!("{BASE}/{}", tile.path())).await;
                    assert_eq!(reply.status, 200, "{l} {tile}");
                    assert_eq!(reply.header("content-type"), "application/octet-stream");
                    let cache = reply.header("cache-control");
                    assert_eq!(cache.contains("immutable"), tile.is_full(), "{l} {tile}");
                    tiles.insert(
                        (level, tile.index, u32::from(tile.width)),
                        reply.body.to_vec(),
                    );
                }
            }
            let fetched = Fetched(tiles);
            let reader = TileHashReader::new(size, *checkpoint.hash(), &fetched);
            for n in [0, size / 2, size - 1] {
                let theirs = prove_record(size, n, &reader).expect("tlog_tiles proves");
                let ours = get(
                    &app,
                    &format!("{BASE}/proof/entry/{}/{size}/merkle:sha-256", n + 1),
                )
                .await;
                assert_eq!(
                    theirs,
                    proof_hashes(&ours, "merkle-audit-path"),
                    "{l} {n}/{size}"
                );
            }
            for &m in &sizes_so_far {
                let theirs = prove_tree(size, m, &reader).expect("tlog_tiles proves");
                let ours = get(
                    &app,
                    &format!("{BASE}/proof/consistency/{m}/{size}/merkle:sha-256"),
                )
                .await;
                assert_eq!(
                    theirs,
                    proof_hashes(&ours, "merkle-consistency-nodes"),
                    "{l} {m}->{size}"
                );
            }
            sizes_so_far.push(size);
        }

        // A second server instance on the same database serves the same bytes.
        let other = store_diesel::store::Store::open(&db.url)
            .expect("second store")
            .with_keys(store_diesel::testing::keys());
        let second = test::init_service(server_actix::app(server_actix::AppState::new(
            other,
            common::DOMAIN,
            common::tokens(),
        )))
        .await;
        for path in [
            "checkpoint",
            "checkpoint/257",
            "tile/0/273.p/112",
            "tile/1/000",
            "tile/2/000.p/1",
        ] {
            let (a, b) = (
                get(&app, &format!("{BASE}/{path}")).await,
                get(&second, &format!("{BASE}/{path}")).await,
            );
            assert_eq!((a.status, &a.body), (b.status, &b.body), "{l} {path}");
        }

        // Every size a load left the log at has its checkpoint; others never existed.
        for size in [1, 255, 256, 257, 65_536, 70_000] {
            let reply = get(&app, &format!("{BASE}/checkpoint/{size}")).await;
            assert_eq!(reply.status, 200, "{l} {size}");
            assert!(reply.text().contains(&format!("\n{size}\n")), "{l}");
        }
        get(&app, &format!("{BASE}/checkpoint/2"))
            .await
            .assert_error(404, &format!("{l} never checkpointed"));
    }
}

#[actix_web::test]
async fn tiles_and_checkpoints_answer_errors_as_documented() {
    for db in backends() {
        let l = db.label;
        db.store
            .load_rsf("synthetic", entries(0, 300).as_bytes(), Mode::Relaxed)
            .expect(l);
        let app = test::init_service(app(state(&db))).await;

        let full = get(&app, &format!("{BASE}/tile/0/000")).await;
        assert_eq!((full.status.as_u16(), full.body.len()), (200, 8192), "{l}");
        assert_eq!(
            full.header("cache-control"),
            "public, max-age=31536000, immutable"
        );
        let partial = get(&app, &format!("{BASE}/tile/0/001.p/44")).await;
        assert_eq!(
            (partial.status.as_u16(), partial.body.len()),
            (200, 44 * 32),
            "{l}"
        );
        assert_eq!(partial.header("cache-control"), "public, max-age=5");
        // An older width of a partial tile is its prefix.
        let older = get(&app, &format!("{BASE}/tile/0/001.p/10")).await;
        assert_eq!(older.body[..], partial.body[..320], "{l}");
        let bundle = get(&app, &format!("{BASE}/tile/entries/001.p/44")).await;
        let leaves = tlog_core::tile::bundle_entries(&bundle.body).expect("a bundle");
        assert_eq!(leaves.len(), 44, "{l}");
        for (i, leaf) in leaves.iter().enumerate() {
            let hash = register_core::merkle::leaf_hash(leaf);
            assert_eq!(hash.0[..], partial.body[i * 32..(i + 1) * 32], "{l} {i}");
        }

        for (path, status) in [
            ("tile/0/001", 404),
            ("tile/0/001.p/45", 404),
            ("tile/1/000.p/2", 404),
            ("tile/entries/002.p/1", 404),
            ("tile/0/01", 400),
            ("tile/0/x000/001", 400),
            ("tile/0/000.p/256", 400),
            ("tile/64/000", 400),
            ("tile/entries", 400),
            ("tile/", 400),
            ("checkpoint/abc", 400),
            ("checkpoint/299", 404),
        ] {
            get(&app, &format!("{BASE}/{path}"))
                .await
                .assert_error(status, &format!("{l} {path}"));
        }
        let huge = format!("{BASE}/tile/0/{}", "x999/".repeat(200) + "999");
        get(&app, &huge)
            .await
            .assert_error(400, &format!("{l} huge"));
        get(&app, "/registers/nope/checkpoint")
            .await
            .assert_error(404, &format!("{l} unknown register"));
        get(&app, "/registers/nope/tile/0/000")
            .await
            .assert_error(404, &format!("{l} unknown register"));

        // A leaf too long for a bundle: 422, while its hash tile is served.
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
        db.store
            .load_rsf("many", rsf.as_bytes(), Mode::Relaxed)
            .expect(l);
        let refused = get(&app, "/registers/many/tile/entries/000.p/1").await;
        assert_eq!(refused.status, 422, "{l}");
        assert_eq!(refused.json()["message_code"], 1422, "{l}");
        assert!(
            refused.json()["message_text"]
                .as_str()
                .is_some_and(|m| m.contains("entry 0 is 75113 bytes")),
            "{l}: {}",
            refused.text()
        );
        assert_eq!(
            get(&app, "/registers/many/tile/0/000.p/1").await.status,
            200
        );
    }
}

#[actix_web::test]
async fn index_logs_have_their_own_origin_checkpoints_and_tiles() {
    for db in backends() {
        let l = db.label;
        db.store
            .load_rsf("colour", &common::data("colour.rsf")[..], Mode::Strict)
            .expect(l);
        let index = Item::parse(r#"{"field":"name","index":"by-name"}"#).expect("item");
        let declare = format!(
            "add-item\t{}\nappend-entry\tsystem\tindex:by-name\t2020-01-01T00:00:00Z\t{}\n",
            index.canonical_json(),
            index.hash()
        );
        db.store
            .load_rsf("colour", declare.as_bytes(), Mode::Strict)
            .expect(l);
        let app = test::init_service(app(state(&db))).await;
        let prefix = "/registers/colour/indexes/by-name";
        let summary = get(&app, &format!("{prefix}/register")).await.json();
        let key = tlog_core::VerifierKey::parse(summary["checkpoint-key"].as_str().expect("key"))
            .expect("a verifier key");
        assert_eq!(
            summary["origin"],
            format!("{}/registers/colour/indexes/by-name", common::ORIGIN)
        );
        let note = get(&app, &format!("{prefix}/checkpoint")).await;
        let checkpoint = tlog_core::verify_checkpoint(note.text(), &key).expect("verifies");
        let size = summary["total-entries"].as_u64().expect("size");
        assert_eq!(checkpoint.size, size, "{l}");
        let tile = get(&app, &format!("{prefix}/tile/0/000.p/{size}")).await;
        assert_eq!(tile.status, 200, "{l}");
        // The index's bundle hashes to its tile, and the tile to the signed root.
        let bundle = get(&app, &format!("{prefix}/tile/entries/000.p/{size}")).await;
        let leaves = tlog_core::tile::bundle_entries(&bundle.body).expect("a bundle");
        let mut frontier = register_core::Frontier::default();
        for (i, leaf) in leaves.iter().enumerate() {
            let hash = register_core::merkle::leaf_hash(leaf);
            assert_eq!(hash.0[..], tile.body[i * 32..(i + 1) * 32], "{l} {i}");
            frontier.append(hash, |_, _, _| {});
        }
        assert_eq!(frontier.root(), checkpoint.root, "{l}");
        // The index log's root is the root of its own leaves.
        let root = get(&app, &format!("{prefix}/proof/register/merkle:sha-256"))
            .await
            .json();
        assert_eq!(
            root["root-hash"],
            checkpoint.root.to_string(),
            "{l}: the signed root is the index log's"
        );
        // The JSON root proof offers the signed checkpoint.
        let proof = get(&app, &format!("{prefix}/proof/register/merkle:sha-256")).await;
        assert_eq!(
            proof.header("link"),
            format!("<{prefix}/checkpoint>; rel=\"checkpoint\""),
            "{l}"
        );
        // The register's key is another key: a log's checkpoints name its own origin.
        let register_key = get(&app, "/registers/colour/register").await.json()["checkpoint-key"]
            .as_str()
            .map(str::to_string);
        assert_ne!(
            register_key.as_deref(),
            Some(key.to_string().as_str()),
            "{l}"
        );
    }
}
