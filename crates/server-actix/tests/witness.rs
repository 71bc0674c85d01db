//! This node as a witness (checkpoints.md §5, c2sp.org/tlog-witness) over HTTP, on both
//! backends: every status of `POST /witness/add-checkpoint`, the 63-line proof limit, the
//! 1 MiB body limit, evidence of inconsistent checkpoints, and a race of concurrent
//! requests over real sockets that must never roll the witness back.

mod common;

use actix_web::test::{self, TestRequest};
use common::{backends, send, state, LoopbackServer, Reply};
use register_core::merkle::{consistency_proof, leaf_hash, Frontier, MemoryNodeStore};
use register_core::Digest;
use register_sync::witness::{Answer, Witness};
use server_actix::app;
use store_diesel::store::WitnessSource;
use tlog_core::note::{PrivateKey, ED25519};
use tlog_core::witness::{request_body, verify_cosignature};
use tlog_core::Checkpoint;

const ORIGIN: &str = "log.example/registers/things";
const URI: &str = "/witness/add-checkpoint";

/// A log of `n` leaves that signs its own checkpoints.
struct Log {
    key: PrivateKey,
    tree: MemoryNodeStore,
    roots: Vec<Digest>,
}

impl Log {
    fn new(seed: u8, n: u64) -> Log {
        let key = PrivateKey::from_seed(ORIGIN, ED25519, [seed; 32]).expect("key");
        let mut tree = MemoryNodeStore::new();
        let mut frontier = Frontier::new();
        let mut roots = vec![frontier.root()];
        for i in 0..n {
            frontier.append(leaf_hash(&i.to_be_bytes()), |l, idx, h| {
                tree.push(l, idx, h)
            });
            roots.push(frontier.root());
        }
        Log { key, tree, roots }
    }

    fn note(&self, size: u64) -> String {
        let root = self.roots[size as usize];
        Checkpoint {
            origin: ORIGIN.into(),
            size,
            root,
        }
        .sign(&self.key)
        .expect("sign")
    }

    fn proof(&self, old: u64, size: u64) -> Vec<Digest> {
        if old == 0 || old == size {
            return Vec::new();
        }
        consistency_proof(&self.tree, old, size).expect("proof")
    }

    /// The honest request from `old` to `size`.
    fn body(&self, old: u64, size: u64) -> String {
        request_body(old, &self.proof(old, size), &self.note(size))
    }
}

async fn post<S, B>(app: &S, body: impl Into<Vec<u8>>) -> Reply
where
    S: actix_web::dev::Service<
        actix_http::Request,
        Response = actix_web::dev::ServiceResponse<B>,
        Error = actix_web::Error,
    >,
    B: actix_web::body::MessageBody + 'static,
{
    let request = TestRequest::post()
        .uri(URI)
        .insert_header(("content-type", "text/plain"))
        .set_payload(body.into());
    send(app, request).await
}

trait Unprocessable {
    fn assert_unprocessable(&self, l: &str);
}

impl Unprocessable for Reply {
    /// 422 in the JSON envelope (which carries an empty `schema_errors` for every 422).
    fn assert_unprocessable(&self, l: &str) {
        assert_eq!(self.status, 422, "{l}: {}", self.text());
        assert_eq!(self.json()["message_code"], 1422, "{l}");
    }
}

fn witnessed_size(db: &common::TestDb) -> u64 {
    let logs = db.store.witnessed_logs().expect("logs");
    logs.iter()
        .find(|l| l.origin == ORIGIN)
        .expect("witnessed")
        .size
}

#[actix_web::test]
async fn add_checkpoint_answers_every_status_of_the_protocol() {
    let log = Log::new(1, 80);
    for db in backends() {
        let l = db.label;
        let app = test::init_service(app(state(&db))).await;
        let witness_key = db
            .store
            .keys()
            .expect("keys")
            .cosigner_key("witness")
            .expect("witness key");

        // 404: a log this node does not witness.
        post(&app, log.body(0, 4)).await.assert_error(404, l);
        db.store
            .add_witnessed_log(ORIGIN, &log.key.verifier(), WitnessSource::Operator)
            .expect(l);

        // 409 for a log never cosigned: its latest size is 0.
        let reply = post(&app, log.body(3, 4)).await;
        assert_eq!(reply.status, 409, "{l}");
        assert_eq!(reply.header("content-type"), "text/x.tlog.size", "{l}");
        assert_eq!(reply.text(), "0\n", "{l}");

        // 200: the cosignature line, verified with the node's witness key.
        let reply = post(&app, log.body(0, 4)).await;
        assert_eq!(reply.status, 200, "{l}: {}", reply.text());
        let cosigned = verify_cosignature(&log.note(4), reply.text(), &witness_key).expect(l);
        assert!(cosigned.time > 1_700_000_000, "{l}: a real timestamp");
        assert_eq!(witnessed_size(&db), 4, "{l}");

        // 200 again with a consistency proof, then 409 telling the new size.
        let reply = post(&app, log.body(4, 10)).await;
        assert_eq!(reply.status, 200, "{l}: {}", reply.text());
        let reply = post(&app, log.body(4, 12)).await;
        assert_eq!((reply.status.as_u16(), reply.text()), (409, "10\n"), "{l}");
        // The same checkpoint again: cosigned again.
        assert_eq!(post(&app, log.body(10, 10)).await.status, 200, "{l}");

        // 403: signed by another key of the same name, or a known key's signature broken.
        let other = Log::new(2, 80);
        post(&app, other.body(10, 12)).await.assert_error(403, l);
        let note = log.note(12);
        // A byte in the middle of the signature (after the key ID) changed.
        let at = note.len() - 20;
        let flipped = if &note[at..=at] == "A" { "B" } else { "A" };
        let broken = format!("{}{flipped}{}", &note[..at], &note[at + 1..]);
        let body = request_body(10, &log.proof(10, 12), &broken);
        post(&app, body).await.assert_error(403, l);

        // 400: malformed bodies, old size above the size, more than 63 proof lines.
        for body in [
            "".to_string(),
            format!("old 010\n\n{note}"),
            format!("old 10\n{note}"),
            format!("old 10\nnot base64\n\n{note}"),
            format!("old 10\n\n{ORIGIN}\n12\n"),
        ] {
            post(&app, body).await.assert_error(400, l);
        }
        post(&app, vec![0xff, 0xfe, b'\n'])
            .await
            .assert_error(400, l);
        let reply = post(&app, request_body(13, &[], &log.note(11))).await;
        reply.assert_error(400, l);
        assert!(reply.text().contains("above"), "{l}: {}", reply.text());
        let line = "AgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgI=\n";
        let reply = post(&app, format!("old 10\n{}\n{note}", line.repeat(64))).await;
        reply.assert_error(400, l);
        assert!(
            reply.text().contains("more than 63"),
            "{l}: {}",
            reply.text()
        );
        // 63 lines are read; as a proof they fail: 422, kept as evidence.
        let reply = post(&app, format!("old 10\n{}\n{note}", line.repeat(63))).await;
        reply.assert_unprocessable(l);
        assert!(
            reply.text().contains("does not verify"),
            "{l}: {}",
            reply.text()
        );

        // 422: a bad proof, or the same size with another root, validly signed.
        let mut bad = log.proof(10, 12);
        bad[0] = Digest([9; 32]);
        post(&app, request_body(10, &bad, &note))
            .await
            .assert_unprocessable(l);
        let forked = Log::new(1, 0);
        let fork_note = Checkpoint {
            origin: ORIGIN.into(),
            size: 10,
            root: Digest([7; 32]),
        }
        .sign(&forked.key)
        .expect("sign");
        let reply = post(&app, request_body(10, &[], &fork_note)).await;
        reply.assert_unprocessable(l);
        assert!(
            reply.text().contains("another root"),
            "{l}: {}",
            reply.text()
        );
        // From old size 0 a proof must be empty (and so 0 must be the latest: it is not).
        assert_eq!(post(&app, log.body(0, 12)).await.status, 409, "{l}");

        // Nothing refused moved the witness; the evidence is kept, each note once.
        assert_eq!(witnessed_size(&db), 10, "{l}");
        post(&app, request_body(10, &[], &fork_note))
            .await
            .assert_unprocessable(l);
        let evidence = db.store.witness_evidence(Some(ORIGIN)).expect(l);
        assert_eq!(evidence.len(), 3, "{l}: {evidence:?}");
        assert!(evidence.iter().any(|e| e.note == fork_note), "{l}");
        let logs = db.store.witnessed_logs().expect(l);
        assert_eq!(logs[0].evidence, 3, "{l}");
        // The operator sees them in `witness list`: the log's count and each piece.
        let listed = node_service::witness::list(&db.store).expect(l);
        assert_eq!(listed[0]["evidence"], 3, "{l}: {listed:?}");
        let pieces: Vec<_> = listed.iter().filter(|v| v["evidence"] == ORIGIN).collect();
        assert_eq!(pieces.len(), 3, "{l}: {listed:?}");
        assert!(pieces.iter().any(|v| v["reason"]
            .as_str()
            .unwrap_or_default()
            .contains("another root")));

        // 413 over 1 MiB, 405 for GET, and a removed log is 404 again.
        let huge = format!("old 10\n{}\n{note}", "A".repeat(1 << 20));
        post(&app, huge).await.assert_error(413, l);
        let get = send(&app, TestRequest::get().uri(URI)).await;
        get.assert_error(405, l);
        db.store.remove_witnessed_log(ORIGIN).expect(l);
        post(&app, log.body(10, 12)).await.assert_error(404, l);
    }
}

/// Many requests at once, each from the size the witness holds to a different new size, and
/// some from stale sizes: exactly one of each wave wins, the others learn its size from a
/// 409, and the witness's size only ever grows.
#[test]
fn concurrent_requests_never_roll_the_witness_back() {
    let log = std::sync::Arc::new(Log::new(1, 200));
    for db in backends() {
        let l = db.label;
        db.store
            .add_witnessed_log(ORIGIN, &log.key.verifier(), WitnessSource::Operator)
            .expect(l);
        let server = LoopbackServer::start(db.store.clone());
        let url = format!("{}/witness", server.url());
        let mut held = 0u64;
        for wave in 0..4u64 {
            let threads: Vec<_> = (1..=12u64)
                .map(|i| {
                    let (log, url) = (log.clone(), url.clone());
                    // Two of each wave start from a stale size.
                    let old = if i % 6 == 0 {
                        held.saturating_sub(1)
                    } else {
                        held
                    };
                    let size = held + i + wave;
                    std::thread::spawn(move || {
                        let client =
                            api_client::WitnessClient::new(std::time::Duration::from_secs(30));
                        let answer = client.add_checkpoint(&url, &log.body(old, size));
                        (old, size, answer)
                    })
                })
                .collect();
            let answers: Vec<_> = threads
                .into_iter()
                .map(|t| t.join().expect("thread"))
                .collect();
            let winners: Vec<u64> = answers
                .iter()
                .filter(|(_, _, a)| matches!(a, Ok(Answer::Cosigned(_))))
                .map(|(_, size, _)| *size)
                .collect();
            let fresh_winners = answers
                .iter()
                .filter(|(old, _, a)| *old == held && matches!(a, Ok(Answer::Cosigned(_))))
                .count();
            assert_eq!(fresh_winners, 1, "{l}: wave {wave}: {answers:?}");
            let won = winners.iter().copied().max().expect("a winner");
            for (old, size, answer) in &answers {
                match answer {
                    Ok(Answer::Cosigned(_)) => {}
                    // Only the winner's size, or the size held before it, can be told.
                    Ok(Answer::Conflict(told)) => {
                        assert!(*told == won || *told == held, "{l}: {old}->{size}: {told}")
                    }
                    other => panic!("{l}: {old}->{size}: {other:?}"),
                }
            }
            assert_eq!(witnessed_size(&db), won, "{l}: wave {wave}");
            assert!(won > held, "{l}");
            held = won;
        }
        server.stop();
    }
}
