//! Many writers through two server instances on one database, over real sockets, on both
//! backends: the log they leave is gap-free and duplicate-free, and a fresh verification of
//! the RSF the server serves gives exactly the size and root the server states.

mod common;

use common::*;
use register_core::Mode;
use server_actix::tokens::Scope;
use store_diesel::accounts::Role;
use store_diesel::store::Store;

const CLIENTS: usize = 16;
const REQUESTS: usize = 8;
const SHARED: usize = 3;

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into()
}

fn post(agent: &ureq::Agent, url: &str, token: &str, body: &str) -> (u16, serde_json::Value) {
    let mut response = agent
        .post(url)
        .header("Authorization", &format!("Bearer {token}"))
        .header("Content-Type", "application/json")
        .send(body)
        .expect("POST");
    let status = response.status().as_u16();
    let text = response.body_mut().read_to_string().expect("body");
    (status, serde_json::from_str(&text).expect("JSON"))
}

fn get_text(agent: &ureq::Agent, url: &str) -> String {
    let mut response = agent.get(url).call().expect("GET");
    assert_eq!(response.status().as_u16(), 200, "{url}");
    response
        .body_mut()
        .with_config()
        .limit(64 << 20)
        .read_to_string()
        .expect("body")
}

#[test]
fn two_servers_and_many_writers_leave_one_gap_free_log() {
    for db in loaded() {
        let label = db.label;
        db.store
            .add_user("writer", "a long password", Role::Admin)
            .expect(label);
        let user = db.store.user("writer").expect(label).expect(label);
        let token = tokens()
            .issue(&user, Scope::Plans, None, chrono::Utc::now())
            .expect(label)
            .token;
        let second = Store::open(&db.url).expect(label);
        let servers = [
            LoopbackServer::start(db.store.clone()),
            LoopbackServer::start(second),
        ];
        let urls: Vec<String> = servers.iter().map(LoopbackServer::url).collect();
        let appended = std::thread::scope(|scope| {
            let workers: Vec<_> = (0..CLIENTS)
                .map(|client| {
                    let base = urls[client % 2].clone();
                    let token = token.clone();
                    scope.spawn(move || {
                        let agent = agent();
                        let mut appended = 0;
                        for n in 0..REQUESTS {
                            // Two records of this client's own, and one every client sends
                            // identically: only its first writer appends it.
                            let body = format!(
                                r#"[{{"colour":"c{client}-{n}","name":"One"}},{{"colour":"d{client}-{n}","name":"Two"}},{{"colour":"shared-{}","name":"Same"}}]"#,
                                n % SHARED
                            );
                            let url = format!("{base}/registers/colour/records");
                            let (status, body) = post(&agent, &url, &token, &body);
                            assert!(status == 201, "{status}: {body}");
                            appended += body["entries"].as_array().expect("entries").len();
                        }
                        appended
                    })
                })
                .collect();
            workers
                .into_iter()
                .map(|w| w.join().expect("writer"))
                .sum::<usize>()
        });
        // The fixture's 3 entries, two per request, and each shared record once.
        let expected = 3 + CLIENTS * REQUESTS * 2 + SHARED;
        assert_eq!(appended + 3, expected, "{label}");

        let agent = agent();
        let proof: serde_json::Value = serde_json::from_str(&get_text(
            &agent,
            &format!("{}/registers/colour/proof/register/merkle:sha-256", urls[1]),
        ))
        .expect("JSON");
        assert_eq!(proof["total-entries"], expected, "{label}");
        let rsf = get_text(
            &agent,
            &format!("{}/registers/colour/download-rsf", urls[0]),
        );
        let verified = register_core::verify(rsf.as_bytes(), Mode::Strict).expect(label);
        assert_eq!(verified.summary.user_entries, expected as u64, "{label}");
        assert_eq!(
            proof["root-hash"],
            verified.root.to_string(),
            "{label}: the served RSF verifies to the stated root"
        );
        // Entry numbers run 1..=expected without a gap, and no key holds two identical
        // entries in a row.
        let entries: Vec<serde_json::Value> = serde_json::from_str(&get_text(
            &agent,
            &format!("{}/registers/colour/entries?limit=5000", urls[0]),
        ))
        .expect("JSON");
        let numbers: Vec<usize> = entries
            .iter()
            .map(|e| e["entry-number"].as_str().unwrap().parse().unwrap())
            .collect();
        assert_eq!(numbers, (1..=expected).collect::<Vec<_>>(), "{label}");
        let mut last = std::collections::HashMap::new();
        for entry in &entries {
            let previous = last.insert(entry["key"].clone(), entry["item-hash"].clone());
            assert_ne!(
                previous.as_ref(),
                Some(&entry["item-hash"]),
                "{label}: {entry}"
            );
        }
        for server in servers {
            server.stop();
        }
    }
}
