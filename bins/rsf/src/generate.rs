//! `rsf generate`: a deterministic, strict-mode-valid register of any size.

use std::fmt::Write as _;
use std::io::Write;

use register_core::merkle::Frontier;
use register_core::{rsf, Entry, ItemHash, LogKind, Timestamp};

/// Options of `rsf generate`.
#[derive(Debug, clap::Args)]
pub struct Options {
    /// Number of user entries.
    #[arg(long)]
    entries: u64,
    /// Number of distinct keys (the first K entries create them; the rest update random keys).
    #[arg(long, default_value_t = 1000)]
    keys: u64,
    /// Seed of the pseudo-random choice of updated keys and values.
    #[arg(long, default_value_t = 1)]
    seed: u64,
}

const REGISTER: &str = "synthetic";
const START: i64 = 1_577_836_800; // 2020-01-01T00:00:00Z

/// SplitMix64: tiny, fast and good enough to pick keys reproducibly.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

struct Writer<'w, W: Write + ?Sized> {
    out: &'w mut W,
    frontier: Frontier,
    system_size: u64,
    user_size: u64,
    scratch: String,
}

impl<W: Write + ?Sized> Writer<'_, W> {
    fn entry(&mut self, log: LogKind, key: &str, seconds: i64, json: &str) -> anyhow::Result<()> {
        rsf::write_add_item(self.out, json)?;
        let size = match log {
            LogKind::User => &mut self.user_size,
            LogKind::System => &mut self.system_size,
        };
        *size += 1;
        let entry = Entry {
            entry_number: *size,
            index_entry_number: *size,
            timestamp: Timestamp::from_unix_seconds(seconds)
                .ok_or_else(|| anyhow::anyhow!("timestamp out of range"))?,
            key: key.to_string(),
            item_hashes: vec![ItemHash::of_canonical(json.as_bytes())],
        };
        if log == LogKind::User {
            let leaf = entry.leaf_hash(&mut self.scratch);
            self.frontier.append(leaf, |_, _, _| {});
        }
        rsf::write_append_entry(self.out, log, &entry)?;
        Ok(())
    }
}

/// Writes the register to `out`.
pub fn write<W: Write + ?Sized>(options: &Options, out: &mut W) -> anyhow::Result<()> {
    anyhow::ensure!(options.keys > 0, "--keys must be at least 1");
    anyhow::ensure!(
        options.keys <= options.entries || options.entries == 0,
        "--keys ({}) cannot exceed --entries ({})",
        options.keys,
        options.entries
    );
    let mut w = Writer {
        out,
        frontier: Frontier::new(),
        system_size: 0,
        user_size: 0,
        scratch: String::new(),
    };
    rsf::write_assert_root_hash(w.out, &w.frontier.root())?;
    let fields = [
        (REGISTER, "string", "1", "The record's key"),
        ("name", "string", "1", "A readable name"),
        ("size", "integer", "1", "A number"),
        (
            "start-date",
            "datetime",
            "1",
            "When the record became relevant",
        ),
        ("labels", "string", "n", "Free labels"),
    ];
    let system = |w: &mut Writer<'_, W>, key: &str, json: String| {
        w.entry(LogKind::System, key, START, &json)
    };
    system(&mut w, "name", format!("{{\"name\":\"{REGISTER}\"}}"))?;
    system(
        &mut w,
        "register-name",
        "{\"register-name\":\"Synthetic register\"}".into(),
    )?;
    system(&mut w, "custodian", "{\"custodian\":\"Benchmarks\"}".into())?;
    for (field, datatype, cardinality, text) in fields {
        let json = format!(
            "{{\"cardinality\":\"{cardinality}\",\"datatype\":\"{datatype}\",\"field\":\"{field}\",\"text\":\"{text}\"}}"
        );
        system(&mut w, &format!("field:{field}"), json)?;
    }
    let names: Vec<String> = fields.iter().map(|f| format!("\"{}\"", f.0)).collect();
    system(
        &mut w,
        &format!("register:{REGISTER}"),
        format!(
            "{{\"fields\":[{}],\"register\":\"{REGISTER}\",\"text\":\"Generated data\"}}",
            names.join(",")
        ),
    )?;

    let mut rng = Rng(options.seed);
    let mut versions = vec![0u32; options.keys as usize];
    let mut json = String::new();
    let mut key = String::new();
    for i in 0..options.entries {
        let k = if i < options.keys {
            i
        } else {
            rng.below(options.keys)
        };
        let version = versions.get_mut(k as usize).map_or(0, |v| {
            *v += 1;
            *v
        });
        key.clear();
        let _ = write!(key, "K{k:07}");
        let day = rng.below(28) + 1;
        let month = rng.below(12) + 1;
        let year = 1950 + rng.below(70);
        json.clear();
        // Fields in canonical (sorted) order; every value is plain ASCII.
        let _ = write!(
            json,
            "{{\"labels\":[\"l{}\",\"v{version}\"],\"name\":\"Record {key} version {version}\",\"size\":\"{}\",\"start-date\":\"{year}-{month:02}-{day:02}\",\"{REGISTER}\":\"{key}\"}}",
            rng.below(100),
            rng.below(1_000_000),
        );
        w.entry(LogKind::User, &key, START + i as i64, &json)?;
    }
    let root = w.frontier.root();
    rsf::write_assert_root_hash(w.out, &root)?;
    Ok(())
}
