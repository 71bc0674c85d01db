//! Loads an RSF file into a fresh store and times proofs at the final size.
//!
//! `cargo run --release -p store-diesel --example bench_load -- DATABASE_URL FILE [signed]`
//! The database must be new (an empty SQLite path or an empty PostgreSQL database). With
//! `signed`, the store signs the load's checkpoints (fixed benchmark keys), as a server does.

use std::fs::File;
use std::io::BufReader;
use std::time::Instant;

use register_core::Mode;
use store_diesel::queries::Source;
use store_diesel::store::{NodeKeys, Store};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let (Some(url), Some(path)) = (args.next(), args.next()) else {
        return Err("usage: bench_load DATABASE_URL FILE".into());
    };
    let mut store = Store::open(&url)?;
    let signed = args.next().as_deref() == Some("signed");
    if signed {
        let key = |name: &str, key_type: u8, byte: u8| {
            tlog_core::PrivateKey::from_seed(name, key_type, [byte; 32])
        };
        store = store.with_keys(NodeKeys {
            origin: "bench.example".into(),
            log: key("log", tlog_core::note::ED25519, 1)?,
            cosigner: key("cosigner", tlog_core::note::COSIGNATURE_V1, 2)?,
        });
    }
    let file = BufReader::with_capacity(1 << 20, File::open(&path)?);
    let started = Instant::now();
    let report = store.load_rsf("synthetic", file, Mode::Strict)?;
    let load = started.elapsed().as_secs_f64();
    let n = report.total_entries;
    println!(
        "load{}: {} user entries in {load:.2} s ({:.0} entries/s), root {}",
        if signed { " (signed)" } else { "" },
        n,
        n as f64 / load,
        report.root
    );
    if signed {
        let note = store
            .checkpoint(&Source::register("synthetic"), Some(n))?
            .ok_or("no checkpoint was signed")?;
        println!("checkpoint signed at size {n}: {} bytes", note.len());
    }

    let log = Source::register("synthetic");
    let mut inclusion = Vec::new();
    let mut consistency = Vec::new();
    for i in 0..21u64 {
        let entry = 1 + (i * 7919) % n.max(1);
        let t = Instant::now();
        store.log_inclusion_proof(&log, entry, n)?;
        inclusion.push(t.elapsed().as_secs_f64() * 1000.0);
        let m = 1 + (i * 104_729) % n.max(1);
        let t = Instant::now();
        store.log_consistency_proof(&log, m, n)?;
        consistency.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    inclusion.sort_by(f64::total_cmp);
    consistency.sort_by(f64::total_cmp);
    println!(
        "inclusion proof at size {n}: median {:.2} ms (max {:.2})",
        inclusion[inclusion.len() / 2],
        inclusion[inclusion.len() - 1]
    );
    println!(
        "consistency proof to size {n}: median {:.2} ms (max {:.2})",
        consistency[consistency.len() / 2],
        consistency[consistency.len() - 1]
    );
    Ok(())
}
