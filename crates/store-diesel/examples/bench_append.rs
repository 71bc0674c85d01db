//! Times `Store::append_records` on an existing register: batches of one request of one
//! record, then batches of 64 such requests (what group commit makes of 64 writers).
//!
//! `cargo run --release -p store-diesel --example bench_append -- DATABASE_URL NAME [ROUNDS]`
//! NAME must be a register of `rsf generate` (fields synthetic, name, size, start-date,
//! labels). Prints per-batch medians and the records per second each batch size reaches.

use std::time::Instant;

use register_core::write::{parse_items, RecordChange};
use register_core::Timestamp;
use store_diesel::store::{AppendRequest, Store};

fn request(name: &str, key: &str) -> Result<AppendRequest, Box<dyn std::error::Error>> {
    let body = format!(
        r#"{{"{name}":"{key}","name":"Appended","size":"1","start-date":"2024-01-01","labels":["a"]}}"#
    );
    Ok(AppendRequest {
        changes: parse_items(&body)?
            .into_iter()
            .map(RecordChange::Put)
            .collect(),
        timestamp: Timestamp::parse("2024-01-01T00:00:00Z").ok_or("timestamp")?,
    })
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let (Some(url), Some(name)) = (args.next(), args.next()) else {
        return Err("usage: bench_append DATABASE_URL NAME [ROUNDS]".into());
    };
    let rounds: usize = args.next().map_or(Ok(200), |r| r.parse())?;
    let store = Store::open(&url)?;
    let run = std::process::id();
    for batch in [1usize, 64] {
        let mut times = Vec::with_capacity(rounds);
        let started = Instant::now();
        for round in 0..rounds {
            let requests = (0..batch)
                .map(|i| request(&name, &format!("B{run}-{batch}-{round}-{i}")))
                .collect::<Result<Vec<_>, _>>()?;
            let t = Instant::now();
            let outcome = store.append_records(&name, &requests)?;
            times.push(t.elapsed().as_secs_f64() * 1000.0);
            for result in outcome.results {
                result?;
            }
        }
        let total = started.elapsed().as_secs_f64();
        times.sort_by(f64::total_cmp);
        println!(
            "batches of {batch}: median {:.2} ms, p99 {:.2} ms, {:.0} records/s",
            times[times.len() / 2],
            times[times.len() * 99 / 100],
            (batch * rounds) as f64 / total
        );
    }
    Ok(())
}
