//! Hostile clients against a real server over real sockets (the served configuration:
//! timeouts, caps, the lockout). While 64 connections of each kind misbehave, a well-behaved
//! client's `GET /registers` and record reads keep answering within 1 s (p99), every one of
//! them 200, and nothing stored changes.

mod common;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use common::*;
use register_core::{rsf, Entry, ItemHash, LogKind, Mode, Timestamp};
use store_diesel::accounts::Role;
use store_diesel::testing::TestDb;

const HOSTILE: usize = 64;
const REGISTER: &str = "colour";
/// User entries of the served register: its RSF (~5 MB) is more than loopback buffers take.
const ENTRIES: u64 = 25_000;
const PASSWORD: &str = "correct horse battery";

/// The colour register's system entries, then `ENTRIES` records with ~150-byte items.
fn big_rsf() -> Vec<u8> {
    let colour = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../register-core/tests/data/colour.rsf"
    ))
    .expect("colour.rsf");
    let mut out: Vec<u8> = colour
        .lines()
        .take_while(|l| !l.contains("\tuser\t"))
        .filter(|l| !l.starts_with("add-item\t{\"colour\""))
        .flat_map(|l| format!("{l}\n").into_bytes())
        .collect();
    let padding = "x".repeat(120);
    for n in 1..=ENTRIES {
        let json = format!(r#"{{"colour":"c{n}","name":"Colour {n} {padding}"}}"#);
        rsf::write_add_item(&mut out, &json).expect("item");
        let entry = Entry {
            entry_number: n,
            index_entry_number: n,
            timestamp: Timestamp::from_unix_seconds(1_600_000_000).expect("time"),
            key: format!("c{n}"),
            item_hashes: vec![ItemHash::of_canonical(json.as_bytes())],
        };
        rsf::write_append_entry(&mut out, LogKind::User, &entry).expect("entry");
    }
    out
}

/// A loaded server, an admin account and a writer token of the register.
struct Target {
    db: TestDb,
    server: LoopbackServer,
    token: String,
}

impl Target {
    fn new(db: TestDb) -> Target {
        db.store
            .load_rsf(REGISTER, &big_rsf()[..], Mode::Strict)
            .expect("load");
        db.store
            .add_user("alice", PASSWORD, Role::Admin)
            .expect("alice");
        db.store
            .add_user("bob", PASSWORD, Role::Partner)
            .expect("bob");
        let (_, secret) = node_service::writer_tokens::create(
            &db.store,
            "pipeline",
            &store_diesel::writer_tokens::WriterScope::Register(REGISTER.into()),
        )
        .expect("create token");
        let server = LoopbackServer::start(db.store.clone());
        Target {
            db,
            server,
            token: secret.expose().to_string(),
        }
    }

    fn address(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.server.port))
    }

    /// What a hostile client could change: the register's size and root, accounts, plans.
    fn stored(&self) -> String {
        let summary = self.db.store.register(REGISTER).expect("summary");
        format!(
            "{} {} {} {:?} {}",
            summary.total_entries,
            summary.root,
            summary.total_records,
            ["alice", "bob", "nobody"].map(|n| self.db.store.user(n).expect("user").is_some()),
            self.db.store.plans().expect("plans").len()
        )
    }
}

/// A well-behaved client reading until told to stop: every latency, and any non-200.
fn good_client(
    base: String,
    stop: Arc<AtomicBool>,
) -> thread::JoinHandle<(Vec<Duration>, Vec<String>)> {
    thread::spawn(move || {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(10)))
            .build()
            .into();
        let (mut latencies, mut failures) = (Vec::new(), Vec::new());
        let mut n = 0u64;
        while !stop.load(Ordering::Relaxed) {
            n += 1;
            let path = if n % 2 == 0 {
                "/registers".to_string()
            } else {
                format!("/registers/{REGISTER}/records/c{}", 1 + n % ENTRIES)
            };
            let started = Instant::now();
            match agent.get(&format!("{base}{path}")).call() {
                Ok(mut response) => {
                    let status = response.status().as_u16();
                    let _ = response.body_mut().read_to_vec();
                    if status != 200 {
                        failures.push(format!("{path}: {status}"));
                    }
                }
                Err(e) => failures.push(format!("{path}: {e}")),
            }
            latencies.push(started.elapsed());
            thread::sleep(Duration::from_millis(20));
        }
        (latencies, failures)
    })
}

/// Runs `hostile` (which starts its connections and returns them to keep open) for
/// `seconds` beside a good client; asserts the good client's p99 and that nothing changed.
fn beside_good_client<T>(target: &Target, seconds: u64, hostile: impl FnOnce() -> T) -> T {
    let before = target.stored();
    let stop = Arc::new(AtomicBool::new(false));
    let good = good_client(target.server.url(), stop.clone());
    let kept = hostile();
    thread::sleep(Duration::from_secs(seconds));
    stop.store(true, Ordering::Relaxed);
    let (mut latencies, failures) = good.join().expect("good client");
    latencies.sort();
    assert!(
        latencies.len() >= 20,
        "the good client got {} answers",
        latencies.len()
    );
    let p99 = latencies[(latencies.len() * 99 / 100).min(latencies.len() - 1)];
    assert!(
        p99 < Duration::from_secs(1),
        "good client p99 {p99:?} over {} requests",
        latencies.len()
    );
    assert!(failures.is_empty(), "good client failures: {failures:?}");
    assert_eq!(target.stored(), before, "nothing stored changes");
    kept
}

fn connect(address: SocketAddr) -> TcpStream {
    let stream = TcpStream::connect(address).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .expect("timeout");
    stream
}

/// The status of the response on `stream`, or `None` if it closed or timed out first.
fn status_of(stream: &mut TcpStream) -> Option<u16> {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n") {
        match stream.read(&mut byte) {
            Ok(1) => head.push(byte[0]),
            _ => return None,
        }
    }
    let line = String::from_utf8_lossy(&head);
    line.split(' ').nth(1)?.parse().ok()
}

/// Whether the server has closed `stream` (reads end) within `within`.
fn closed_within(stream: &mut TcpStream, within: Duration) -> bool {
    stream.set_read_timeout(Some(within)).expect("timeout");
    let mut sink = [0u8; 8192];
    loop {
        match stream.read(&mut sink) {
            Ok(0) => return true,
            Ok(_) => continue,
            Err(e) => {
                return matches!(
                    e.kind(),
                    std::io::ErrorKind::ConnectionReset | std::io::ErrorKind::BrokenPipe
                )
            }
        }
    }
}

#[test]
fn slow_readers_of_downloads_starve_no_one() {
    for db in backends() {
        let target = Target::new(db);
        let address = target.address();
        let readers = beside_good_client(&target, 6, || {
            (0..HOSTILE)
                .map(|_| {
                    let mut stream = connect(address);
                    write!(
                        stream,
                        "GET /registers/{REGISTER}/download-rsf HTTP/1.1\r\nHost: x\r\n\r\n"
                    )
                    .expect("request");
                    // Never read.
                    stream
                })
                .collect::<Vec<_>>()
        });
        drop(readers);
        // Downloads still work for a client that reads.
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .build()
            .into();
        let mut response = agent
            .get(&format!(
                "{}/registers/{REGISTER}/download-rsf",
                target.server.url()
            ))
            .call()
            .expect("download");
        assert_eq!(response.status().as_u16(), 200);
        let body = response
            .body_mut()
            .with_config()
            .limit(64 << 20)
            .read_to_vec()
            .expect("body");
        let verified = register_core::verify(&body[..], Mode::Strict).expect("verifies");
        assert_eq!(
            verified.summary.user_entries, ENTRIES,
            "{}",
            target.db.label
        );
    }
}

#[test]
fn slow_and_huge_bodies_are_cut_off_and_strangers_are_refused_before_any_body() {
    for db in backends() {
        let target = Target::new(db);
        let address = target.address();
        let token = target.token.clone();
        let (trickles, strangers) = beside_good_client(&target, 3, || {
            // Authorised writers that declare a body and send it a byte a second.
            let trickles: Vec<_> = (0..HOSTILE)
                .map(|_| {
                    let token = token.clone();
                    thread::spawn(move || {
                        let mut stream = connect(address);
                        write!(
                            stream,
                            "POST /registers/{REGISTER}/records HTTP/1.1\r\nHost: x\r\n\
                             Authorization: Bearer {token}\r\nContent-Type: application/json\r\n\
                             Content-Length: 1000000\r\n\r\n"
                        )
                        .expect("head");
                        let started = Instant::now();
                        for _ in 0..60 {
                            if stream.write_all(b" ").is_err() {
                                break;
                            }
                            stream
                                .set_read_timeout(Some(Duration::from_secs(1)))
                                .expect("t");
                            let mut peek = [0u8; 1];
                            if stream.peek(&mut peek).is_ok_and(|n| n > 0) {
                                break;
                            }
                        }
                        stream
                            .set_read_timeout(Some(Duration::from_secs(5)))
                            .expect("t");
                        (status_of(&mut stream), started.elapsed())
                    })
                })
                .collect();
            // Strangers declaring a 100 MB upload: refused at once, before it is read.
            let strangers: Vec<_> = (0..HOSTILE)
                .map(|_| {
                    thread::spawn(move || {
                        let mut stream = connect(address);
                        write!(
                            stream,
                            "POST /registers/{REGISTER}/load-rsf HTTP/1.1\r\nHost: x\r\n\
                             Content-Type: application/uk-gov-rsf\r\nContent-Length: 100000000\r\n\r\n"
                        )
                        .expect("head");
                        let _ = stream.write_all(&[b'a'; 4096]);
                        let started = Instant::now();
                        let status = status_of(&mut stream);
                        (status, started.elapsed(), closed_within(&mut stream, Duration::from_secs(5)))
                    })
                })
                .collect();
            (trickles, strangers)
        });
        for stranger in strangers {
            let (status, took, closed) = stranger.join().expect("stranger");
            assert_eq!(status, Some(401), "a stranger's upload is refused unread");
            assert!(
                took < Duration::from_secs(5),
                "refused at once, took {took:?}"
            );
            assert!(closed, "and its connection closed, not drained");
        }
        for trickle in trickles {
            let (status, took) = trickle.join().expect("trickle");
            assert_eq!(status, Some(408), "a trickled body is cut off");
            assert!(
                took < Duration::from_secs(40),
                "within the limits, took {took:?}"
            );
        }
    }
}

#[test]
fn idle_and_half_sent_connections_are_closed_without_harm() {
    let target = Target::new(store_diesel::testing::sqlite());
    let address = target.address();
    let held = beside_good_client(&target, 3, || {
        (0..HOSTILE * 4)
            .map(|n| {
                let mut stream = connect(address);
                if n % 2 == 0 {
                    // Half a request head, never finished.
                    stream
                        .write_all(b"GET /registers HTTP/1.1\r\nHost: x\r\nX-Slow: ")
                        .expect("head");
                }
                stream
            })
            .collect::<Vec<_>>()
    });
    for mut stream in held {
        assert!(
            closed_within(&mut stream, Duration::from_secs(15)),
            "the server closes a connection that never finishes its head"
        );
    }
}

/// `POST /v1/login` from `from` (an address on the loopback network), raw; the status.
fn login_from(from: [u8; 4], address: SocketAddr, user: &str, password: &str) -> Option<u16> {
    let socket =
        socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).expect("socket");
    socket
        .bind(&SocketAddr::from((from, 0)).into())
        .expect("bind the client address");
    socket.connect(&address.into()).expect("connect");
    let mut stream: TcpStream = socket.into();
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .expect("timeout");
    let body = serde_json::json!({"username": user, "password": password}).to_string();
    write!(
        stream,
        "POST /v1/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .expect("request");
    status_of(&mut stream)
}

/// A load-rsf with HTTP Basic from 127.0.0.1; the status (the body is empty RSF).
fn basic_load(address: SocketAddr, user: &str, password: &str) -> Option<u16> {
    let mut stream = connect(address);
    let (_, credentials) = basic(user, password);
    write!(
        stream,
        "POST /registers/{REGISTER}/load-rsf HTTP/1.1\r\nHost: x\r\nAuthorization: {credentials}\r\n\
         Content-Type: application/uk-gov-rsf\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    )
    .expect("request");
    status_of(&mut stream)
}

#[test]
fn password_bursts_get_one_budget_for_login_and_basic_and_lock_out_only_the_guesser() {
    for db in backends() {
        let target = Target::new(db);
        let address = target.address();
        let started = Instant::now();
        let statuses = beside_good_client(&target, 2, || {
            let guesses: Vec<_> = (0..HOSTILE)
                .map(|n| {
                    thread::spawn(move || {
                        if n % 2 == 0 {
                            login_from([127, 0, 0, 1], address, "alice", &format!("guess {n}"))
                        } else {
                            basic_load(address, "alice", &format!("guess {n}"))
                        }
                    })
                })
                .collect();
            guesses
                .into_iter()
                .map(|g| g.join().expect("guess"))
                .collect::<Vec<_>>()
        });
        assert!(statuses.iter().all(|s| *s == Some(401)), "{statuses:?}");
        // 64 guesses, at most 5 of them checked: far less than 64 argon2 checks' time.
        assert!(started.elapsed() < Duration::from_secs(20));
        // The guesser's address is locked for login and Basic alike, the right password too.
        assert_eq!(
            login_from([127, 0, 0, 1], address, "alice", PASSWORD),
            Some(401)
        );
        assert_eq!(basic_load(address, "alice", PASSWORD), Some(401));
        // The same answers as for a name that is no account.
        assert_eq!(
            login_from([127, 0, 0, 1], address, "nobody", "x"),
            Some(401)
        );
        // Alice, from her own address, is not locked out by the stranger.
        assert_eq!(
            login_from([127, 0, 0, 2], address, "alice", PASSWORD),
            Some(200)
        );
    }
}

#[test]
fn a_held_sqlite_write_lock_fails_writers_with_503_and_nothing_else() {
    use diesel::connection::SimpleConnection;
    use diesel::Connection;
    let target = Target::new(store_diesel::testing::sqlite());
    let base = target.server.url();
    // Another process's long load, as SQLite sees it: the write lock, held.
    let mut holder = diesel::sqlite::SqliteConnection::establish(&target.db.url).expect("open");
    holder
        .batch_execute("BEGIN IMMEDIATE")
        .expect("take the write lock");
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    // Reads answer.
    let read = agent
        .get(&format!("{base}/registers/{REGISTER}/records/c7"))
        .call()
        .expect("read");
    assert_eq!(read.status().as_u16(), 200);
    // A wrong password of an account and an unknown name: the same 401, not a 500.
    let answer = |user: &str| {
        let mut response = agent
            .post(&format!("{base}/v1/login"))
            .header("Content-Type", "application/json")
            .send(serde_json::json!({"username": user, "password": "wrong"}).to_string())
            .expect("login");
        let status = response.status().as_u16();
        let body: serde_json::Value =
            serde_json::from_str(&response.body_mut().read_to_string().expect("body"))
                .expect("json");
        (
            status,
            body["message_text"].clone(),
            body["message_code"].clone(),
        )
    };
    assert_eq!(answer("alice").0, 401);
    assert_eq!(answer("alice"), answer("nobody"));
    // A writer waits briefly, then gets 503 with Retry-After.
    let started = Instant::now();
    let mut response = agent
        .post(&format!("{base}/registers/{REGISTER}/records"))
        .header("Authorization", &format!("Bearer {}", target.token))
        .header("Content-Type", "application/json")
        .send(r#"{"colour":"new","name":"New"}"#)
        .expect("write");
    assert_eq!(response.status().as_u16(), 503);
    assert_eq!(
        response
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok()),
        Some("5")
    );
    let body = response.body_mut().read_to_string().expect("body");
    assert!(body.contains("busy"), "{body}");
    assert!(started.elapsed() < Duration::from_secs(15));
    holder.batch_execute("ROLLBACK").expect("release");
    // Once the lock is gone, the same write goes through.
    let response = agent
        .post(&format!("{base}/registers/{REGISTER}/records"))
        .header("Authorization", &format!("Bearer {}", target.token))
        .header("Content-Type", "application/json")
        .send(r#"{"colour":"new","name":"New"}"#)
        .expect("write");
    assert_eq!(response.status().as_u16(), 201);
}

/// The whole answer on `stream` (the server closes it): status and JSON body.
fn answer(stream: &mut TcpStream) -> (Option<u16>, serde_json::Value) {
    let mut all = Vec::new();
    let _ = stream.read_to_end(&mut all);
    let text = String::from_utf8_lossy(&all);
    let status = text.split(' ').nth(1).and_then(|s| s.parse().ok());
    let body = text
        .split_once("\r\n\r\n")
        .and_then(|(_, body)| serde_json::from_str(body).ok())
        .unwrap_or(serde_json::Value::Null);
    (status, body)
}

#[test]
fn refusals_made_before_any_request_exists_carry_the_envelope() {
    let db = store_diesel::testing::sqlite();
    let server = LoopbackServer::start(db.store.clone());
    let address = SocketAddr::from(([127, 0, 0, 1], server.port));
    let cases: [(&str, Vec<u8>, u16); 4] = [
        (
            "a header flood",
            format!(
                "GET /registers HTTP/1.1\r\nHost: x\r\n{}\r\n",
                (0..200)
                    .map(|i| format!("X-H{i}: v\r\n"))
                    .collect::<String>()
            )
            .into_bytes(),
            431,
        ),
        (
            "an over-long URI",
            format!(
                "GET /registers?{} HTTP/1.1\r\nHost: x\r\n\r\n",
                "a".repeat(200_000)
            )
            .into_bytes(),
            431,
        ),
        (
            "a head that is not HTTP",
            b"HELLO THERE\r\n\r\n".to_vec(),
            400,
        ),
        (
            "half a head, never finished",
            b"GET /registers HTTP/1.1\r\nHost: x".to_vec(),
            408,
        ),
    ];
    for (what, bytes, status) in cases {
        let mut stream = connect(address);
        let _ = stream.write_all(&bytes);
        let (got, body) = answer(&mut stream);
        assert_eq!(got, Some(status), "{what}: {body}");
        assert_eq!(
            body["message_code"],
            1000 + u64::from(status),
            "{what}: {body}"
        );
        assert!(body["request_id"].is_string(), "{what}: {body}");
        assert!(body["message_text"].is_string(), "{what}: {body}");
    }
    // The server still answers well-formed requests.
    let mut stream = connect(address);
    stream
        .write_all(b"GET /registers HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .expect("request");
    assert_eq!(answer(&mut stream).0, Some(200));
}
