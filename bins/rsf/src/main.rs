//! `rsf`: a small database-free tool for Register Serialisation Format files, including
//! turning tabular snapshots into RSF patches (`rsf patch`).
//!
//! Its output formats are a contract other tools depend on (see `rsf --help`).

use std::fs::File;
use std::io::{self, BufRead, BufReader, BufWriter, Seek, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context as _;
use clap::{Parser, Subcommand};
use register_core::{
    canonicalise, diff_register, Error, Format, ImportOptions, Item, LogKind, Mode, Register,
    Timestamp,
};

mod checkpoint;
mod generate;

/// Verify, hash, prove, emit and generate RSF registers, without a database.
#[derive(Debug, Parser)]
#[command(name = "rsf", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Load a file (or `-` for stdin) into an empty register, checking every rule and assert.
    ///
    /// Prints one JSON line with counts and roots and exits 0; on error prints
    /// `line N: message` to stderr and exits 1.
    ///
    /// With `--checkpoint` and `--key`, the checkpoint must also verify and the file's user
    /// log must have exactly its size and root; the output is the same JSON line.
    Verify {
        /// Skip rules 3 and 5 and accept entries before metadata (real production files).
        #[arg(long)]
        relaxed: bool,
        /// A checkpoint note (file, or `-` for standard input) the file must match.
        #[arg(long, value_name = "NOTE", requires = "key")]
        checkpoint: Option<PathBuf>,
        /// The log's verifier key (`name+id+key`), or `@FILE` to read it from a file.
        #[arg(long, value_name = "VKEY", requires = "checkpoint")]
        key: Option<String>,
        /// The RSF file, or `-` for standard input.
        file: PathBuf,
    },
    /// Print the item hash of an item given as JSON (canonicalised first).
    HashItem {
        /// The item's JSON.
        json: String,
    },
    /// Print the canonical form of an item given as JSON.
    Canonical {
        /// The item's JSON.
        json: String,
    },
    /// Check signed checkpoints offline.
    Checkpoint {
        #[command(subcommand)]
        checkpoint: CheckpointCommand,
    },
    /// Check split-view evidence offline (written by `api-actix sync` on exit 2).
    Evidence {
        #[command(subcommand)]
        evidence: EvidenceCommand,
    },
    /// Print a Merkle proof as the register API's JSON body.
    Proof {
        #[command(subcommand)]
        proof: ProofCommand,
    },
    /// Print a full dump, or the ranged dump of user entries FROM+1..=TO.
    Emit {
        /// The RSF file, or `-` for standard input.
        file: PathBuf,
        /// Size the receiver already holds (0 includes metadata).
        #[arg(long, default_value_t = 0)]
        from: u64,
        /// Size after the dump (default: all entries).
        #[arg(long)]
        to: Option<u64>,
        /// Load the file in relaxed mode.
        #[arg(long)]
        relaxed: bool,
    },
    /// Rewrite a file of any published dialect (the 2016–2017 three-argument entries
    /// included) in the current one, line for line: same entries, same roots.
    ///
    /// Checks the whole file as `verify` does first. Writes the upgraded file to stdout
    /// (adding a final `assert-root-hash` when the file lacks one) and a JSON line to stderr,
    /// and exits 0; on error prints `line N: message`, writes nothing to stdout and exits 1.
    Upgrade {
        /// Check in relaxed mode (files without a system log, such as every 2016 dump).
        #[arg(long)]
        relaxed: bool,
        /// The RSF file, or `-` for standard input.
        file: PathBuf,
    },
    /// Write a valid strict-mode register to stdout, for benchmarks and tests.
    Generate(generate::Options),
    /// Turn a tabular snapshot (CSV, TSV or JSON Lines) into an RSF patch against a register.
    ///
    /// Writes the patch to stdout: `assert-root-hash` of the base register, then `add-item`
    /// and `append-entry` for each new or changed row (and, with `--end-missing`, for each
    /// record absent from the snapshot). Prints a JSON summary line to stderr and exits 0; on
    /// a bad snapshot prints `row N (line L), column C 'field': message`, writes no patch and
    /// exits 1.
    Patch(PatchArgs),
}

/// Options of `rsf patch`.
#[derive(Debug, clap::Args)]
struct PatchArgs {
    /// The register the patch applies to (RSF file).
    #[arg(long)]
    base: PathBuf,
    /// The snapshot, or `-` for standard input.
    file: PathBuf,
    /// Timestamp of the new entries, `YYYY-MM-DDThh:mm:ssZ` (default: now).
    #[arg(long)]
    timestamp: Option<Timestamp>,
    /// `csv`, `tsv` or `jsonl` (default: from the file's extension, else csv).
    #[arg(long)]
    format: Option<Format>,
    /// Columns to leave out (repeat, or separate with commas).
    #[arg(long, value_delimiter = ',')]
    ignore: Vec<String>,
    /// Give records absent from the snapshot an entry setting `end-date` to the snapshot date.
    #[arg(long)]
    end_missing: bool,
    /// Load the base register in relaxed mode.
    #[arg(long)]
    relaxed: bool,
}

#[derive(Debug, Subcommand)]
enum EvidenceCommand {
    /// Verify that an evidence file holds two checkpoints validly signed by the log's key
    /// that cannot both be true (same size with different roots, or a failing consistency
    /// proof).
    ///
    /// Prints `evidence verified: …` and exits 0; otherwise prints `error: message` (what
    /// is wrong) to stderr and exits 1.
    Verify {
        /// The evidence file (JSON, format `split-view/v1`), or `-` for standard input.
        file: PathBuf,
        /// The log's verifier key (`name+id+key`), or `@FILE` to read it from a file.
        #[arg(long, value_name = "VKEY")]
        key: String,
    },
}

#[derive(Debug, Subcommand)]
enum CheckpointCommand {
    /// Verify a checkpoint note's signature by a log's key (its name must be the origin).
    ///
    /// Prints `{"origin":…,"size":N,"root-hash":"sha-256:…"}` and exits 0; on error prints
    /// `error: message` to stderr and exits 1.
    Verify {
        /// The checkpoint note, or `-` for standard input.
        note: PathBuf,
        /// The log's verifier key (`name+id+key`), or `@FILE` to read it from a file.
        #[arg(long, value_name = "VKEY")]
        key: String,
    },
}

#[derive(Debug, Subcommand)]
enum ProofCommand {
    /// Audit path of entry N in the tree of SIZE entries.
    Entry {
        /// The RSF file, or `-` for standard input.
        file: PathBuf,
        /// Entry number (1-based).
        n: u64,
        /// Tree size.
        size: u64,
        /// Load the file in relaxed mode.
        #[arg(long)]
        relaxed: bool,
    },
    /// Consistency proof from size M to size N.
    Consistency {
        /// The RSF file, or `-` for standard input.
        file: PathBuf,
        /// Older size.
        m: u64,
        /// Newer size.
        n: u64,
        /// Load the file in relaxed mode.
        #[arg(long)]
        relaxed: bool,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli.command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            // RSF errors already read `line N: message`; keep that line bare for scripts.
            match err.downcast_ref::<Error>() {
                Some(e) => eprintln!("{e}"),
                None => eprintln!("error: {err:#}"),
            }
            ExitCode::FAILURE
        }
    }
}

fn run(command: Command) -> anyhow::Result<()> {
    let stdout = io::stdout();
    let mut out = BufWriter::with_capacity(1 << 16, stdout.lock());
    match command {
        Command::Verify {
            relaxed,
            checkpoint,
            key,
            file,
        } => {
            // The checkpoint is checked first (it is small), the file against it last; stdout
            // gets the line only when everything holds.
            let checkpoint = match (checkpoint, key) {
                (Some(note), Some(key)) => {
                    if note == Path::new("-") && file == Path::new("-") {
                        anyhow::bail!("the file and the checkpoint cannot both be standard input");
                    }
                    let key = checkpoint::read_key(&key)?;
                    Some(checkpoint::verify(&checkpoint::read_note(&note)?, &key)?)
                }
                _ => None,
            };
            let verified = register_core::verify(open(&file)?, mode(relaxed))?;
            let summary = verified.summary;
            if let Some(checkpoint) = &checkpoint {
                checkpoint::check_file(checkpoint, summary.user_entries, &verified.root)?;
            }
            writeln!(
                out,
                "{{\"items\":{},\"user-entries\":{},\"system-entries\":{},\"asserts\":{},\"unreferenced-items\":{},\"root-hash\":\"{}\",\"system-root-hash\":\"{}\"}}",
                summary.new_items,
                summary.user_entries,
                summary.system_entries,
                summary.asserts,
                summary.unreferenced_items,
                verified.root,
                verified.system_root,
            )?;
        }
        Command::HashItem { json } => {
            let item = Item::parse(&json)?;
            writeln!(out, "{}", item.hash())?;
        }
        Command::Canonical { json } => writeln!(out, "{}", canonicalise(&json)?)?,
        Command::Checkpoint {
            checkpoint: CheckpointCommand::Verify { note, key },
        } => {
            let key = checkpoint::read_key(&key)?;
            let checkpoint = checkpoint::verify(&checkpoint::read_note(&note)?, &key)?;
            writeln!(out, "{}", checkpoint::summary_line(&checkpoint)?)?;
        }
        Command::Evidence {
            evidence: EvidenceCommand::Verify { file, key },
        } => {
            let key = checkpoint::read_key(&key)?;
            writeln!(out, "{}", checkpoint::verify_evidence(&file, &key)?)?;
        }
        Command::Proof { proof } => match proof {
            ProofCommand::Entry {
                file,
                n,
                size,
                relaxed,
            } => {
                let register = load(&file, relaxed)?;
                let path = register.inclusion_proof(n, size)?;
                let body = api_types::EntryProof::new(n, &path);
                writeln!(out, "{}", serde_json::to_string(&body)?)?;
            }
            ProofCommand::Consistency {
                file,
                m,
                n,
                relaxed,
            } => {
                let register = load(&file, relaxed)?;
                let nodes = register.consistency_proof(m, n)?;
                let body = api_types::ConsistencyProof::new(&nodes);
                writeln!(out, "{}", serde_json::to_string(&body)?)?;
            }
        },
        Command::Emit {
            file,
            from,
            to,
            relaxed,
        } => {
            let register = load(&file, relaxed)?;
            let to = to.unwrap_or(register.size(LogKind::User));
            register.write_rsf_range(&mut out, from, to)?;
        }
        Command::Upgrade { relaxed, file } => upgrade(&file, relaxed, &mut out)?,
        Command::Generate(options) => generate::write(&options, &mut out)?,
        Command::Patch(args) => patch(args, &mut out)?,
    }
    out.flush()?;
    Ok(())
}

fn patch(args: PatchArgs, out: &mut dyn Write) -> anyhow::Result<()> {
    let timestamp = match args.timestamp {
        Some(timestamp) => timestamp,
        None => now()?,
    };
    let format = args
        .format
        .unwrap_or_else(|| Format::from_file_name(&args.file.to_string_lossy()));
    let register = load(&args.base, args.relaxed)?;
    let options = ImportOptions {
        format,
        timestamp,
        ignore: args.ignore,
        end_missing: args.end_missing,
        base_root: None,
    };
    // The patch waits in a temporary file: a bad row further down must not leave half a patch
    // on stdout, and the file, unlike memory, does not grow with the snapshot.
    let mut staged =
        BufWriter::new(tempfile::tempfile().context("cannot create a temporary file")?);
    let summary = diff_register(&register, options, open(&args.file)?, &mut staged)?;
    let mut staged = staged.into_inner().map_err(|e| e.into_error())?;
    staged.seek(io::SeekFrom::Start(0))?;
    io::copy(&mut staged, out)?;
    eprintln!("{}", serde_json::to_string(&summary)?);
    Ok(())
}

fn upgrade(file: &Path, relaxed: bool, out: &mut dyn Write) -> anyhow::Result<()> {
    // As for `patch`: a file that fails halfway must leave nothing on stdout.
    let mut staged =
        BufWriter::new(tempfile::tempfile().context("cannot create a temporary file")?);
    let done = register_core::upgrade(open(file)?, mode(relaxed), &mut staged)?;
    let mut staged = staged.into_inner().map_err(|e| e.into_error())?;
    staged.seek(io::SeekFrom::Start(0))?;
    io::copy(&mut staged, out)?;
    let verified = done.verification;
    eprintln!(
        "{{\"user-entries\":{},\"system-entries\":{},\"legacy-entries\":{},\"asserts\":{},\"final-assert-added\":{},\"root-hash\":\"{}\"}}",
        verified.summary.user_entries,
        verified.summary.system_entries,
        done.legacy_entries,
        verified.summary.asserts,
        done.final_assert_added,
        verified.root,
    );
    Ok(())
}

/// The current time as an entry timestamp.
fn now() -> anyhow::Result<Timestamp> {
    let seconds = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .context("the clock is before 1970")?
        .as_secs();
    i64::try_from(seconds)
        .ok()
        .and_then(Timestamp::from_unix_seconds)
        .context("the clock is past 9999")
}

fn mode(relaxed: bool) -> Mode {
    if relaxed {
        Mode::Relaxed
    } else {
        Mode::Strict
    }
}

fn open(path: &Path) -> anyhow::Result<Box<dyn BufRead + Send>> {
    if path == Path::new("-") {
        return Ok(Box::new(BufReader::with_capacity(1 << 20, io::stdin())));
    }
    let file = File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    Ok(Box::new(BufReader::with_capacity(1 << 20, file)))
}

fn load(path: &Path, relaxed: bool) -> anyhow::Result<Register> {
    let mut register = Register::new();
    register.load(open(path)?, mode(relaxed))?;
    Ok(register)
}
