//! Witnessing (checkpoints.md §5): this node as a witness of other logs
//! ([`add_checkpoint`], the operator's [`add`], [`remove`]) and as a log that uses witnesses
//! ([`use_witness`], [`drop_witness`], [`submit`] and the background [`spawn`]), over the
//! store; register-sync's [`register_sync::witness`] is the submission algorithm, and the
//! binary brings the HTTP transport.

use std::time::Duration;

use api_types::cli::{EvidenceLine, WitnessLine, WitnessedLogLine};
use register_sync::witness::{self as algorithm, Job, Round, Witness, WitnessLog};
use store_diesel::error::StoreError;
use store_diesel::queries::Source;
use store_diesel::store::{Attempt, Store, WitnessJob, WitnessSource};
use tlog_core::witness::{parse_request, Refusal, RequestError};
use tlog_core::{NoteError, VerifierKey};

/// The most a request to a witness may take (connecting included).
pub const TIMEOUT: Duration = Duration::from_secs(5);
/// How often the background submitter looks for pending work.
pub const POLL: Duration = Duration::from_secs(1);

/// Why `add-checkpoint` was not answered with a cosignature.
#[derive(Debug, thiserror::Error)]
pub enum WitnessError {
    /// A malformed body (400).
    #[error(transparent)]
    Request(#[from] RequestError),
    /// A log this node does not witness (404).
    #[error("this witness does not witness the log '{0}'")]
    UnknownLog(String),
    /// No valid signature by the log's known key (403).
    #[error("the checkpoint has no valid signature by the log's key: {0}")]
    Signature(NoteError),
    /// Verified, but refused: old size above the size (400), not the size last cosigned
    /// (409 with that size), inconsistent (422, kept as evidence).
    #[error(transparent)]
    Refused(#[from] Refusal),
    /// A key given by the operator that cannot be used.
    #[error("{0}")]
    Key(String),
    /// This node has no cosigner key.
    #[error("this node has no cosigner key, so it cannot witness")]
    NoKey,
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The witness's answer to a request body: its cosignature line under
/// `<node origin>/witness`, timestamped `now` (POSIX seconds), once the new state is stored.
pub fn add_checkpoint(store: &Store, body: &[u8], now: u64) -> Result<String, WitnessError> {
    let body = std::str::from_utf8(body)
        .map_err(|_| RequestError::Malformed("the body is not UTF-8".into()))?;
    let request = parse_request(body)?;
    let origin = &request.checkpoint.origin;
    let key = store
        .witnessed_log_key(origin)?
        .ok_or_else(|| WitnessError::UnknownLog(origin.clone()))?;
    let opened = tlog_core::note::open(&request.note, &key).map_err(WitnessError::Signature)?;
    let keys = store.keys().ok_or(WitnessError::NoKey)?;
    let cosigner = keys
        .cosigner
        .renamed(&format!("{}/witness", keys.origin))
        .map_err(|e| WitnessError::Key(e.to_string()))?;
    match store.witness_checkpoint(&request) {
        Ok(Ok(())) => {}
        Ok(Err(refusal)) => return Err(refusal.into()),
        Err(StoreError::NotFound(_)) => return Err(WitnessError::UnknownLog(origin.clone())),
        Err(e) => return Err(e.into()),
    }
    cosigner
        .cosign_line(&opened.note.text, now)
        .map_err(|e| WitnessError::Key(e.to_string()))
}

fn parse_key(text: &str) -> Result<VerifierKey, WitnessError> {
    VerifierKey::parse(text).map_err(|e| WitnessError::Key(format!("the verifier key: {e}")))
}

fn time(at: Option<i64>) -> Option<String> {
    at.and_then(|s| chrono::DateTime::from_timestamp(s, 0))
        .map(crate::views::time)
}

/// `witness add`: witnesses the log `origin` signed by `key` (the operator's).
pub fn add(store: &Store, origin: &str, key: &str) -> Result<WitnessedLogLine, WitnessError> {
    store.add_witnessed_log(origin, &parse_key(key)?, WitnessSource::Operator)?;
    witnessed(store, origin)
}

/// `witness remove`: stops witnessing `origin`.
pub fn remove(store: &Store, origin: &str) -> Result<WitnessedLogLine, WitnessError> {
    let mut line = witnessed(store, origin)?;
    store.remove_witnessed_log(origin)?;
    line.removed = true;
    Ok(line)
}

fn witnessed(store: &Store, origin: &str) -> Result<WitnessedLogLine, WitnessError> {
    store
        .witnessed_logs()?
        .into_iter()
        .find(|log| log.origin == origin)
        .map(|log| WitnessedLogLine {
            witnessed: log.origin,
            key: log.key,
            source: log.source.as_str().to_string(),
            size: log.size,
            cosigned_at: time(log.cosigned_at),
            evidence: log.evidence,
            removed: false,
        })
        .ok_or_else(|| StoreError::NotFound(format!("witnessed log '{origin}'")).into())
}

/// `witness use`: submits this node's checkpoints to the witness at `url` from now on.
pub fn use_witness(store: &Store, url: &str, key: &str) -> Result<WitnessLine, WitnessError> {
    let url = url.trim_end_matches('/');
    if !(url.starts_with("http://") || url.starts_with("https://")) {
        return Err(WitnessError::Key(format!(
            "the witness URL '{url}' must start with http:// or https://"
        )));
    }
    store.use_witness(url, &parse_key(key)?)?;
    Ok(witness_line(url, key.trim()))
}

/// `witness drop`: stops using the witness at `url`.
pub fn drop_witness(store: &Store, url: &str) -> Result<WitnessLine, WitnessError> {
    let url = url.trim_end_matches('/');
    let key = store
        .witnesses()?
        .into_iter()
        .find(|(u, _)| u == url)
        .map(|(_, key)| key)
        .unwrap_or_default();
    store.drop_witness(url)?;
    Ok(WitnessLine {
        dropped: true,
        ..witness_line(url, &key)
    })
}

fn witness_line(url: &str, key: &str) -> WitnessLine {
    WitnessLine {
        witness: url.to_string(),
        key: key.to_string(),
        log: None,
        cosigned_size: None,
        last_success: None,
        last_error: None,
        next_attempt: None,
        dropped: false,
    }
}

/// `witness list`: the logs this node witnesses, the evidence kept (a line per inconsistent
/// checkpoint), then per witness it uses, each log's submission state (a witness not tried
/// yet: one line without a log).
pub fn list(store: &Store) -> Result<Vec<serde_json::Value>, WitnessError> {
    let mut lines = Vec::new();
    for log in store.witnessed_logs()? {
        lines.push(serde_json::to_value(witnessed(store, &log.origin)?).unwrap_or_default());
    }
    for evidence in store.witness_evidence(None)? {
        let line = EvidenceLine {
            evidence: evidence.origin,
            note: evidence.note,
            old_size: evidence.old_size,
            proof: evidence.proof,
            reason: evidence.reason,
            received_at: time(Some(evidence.received_at)).unwrap_or_default(),
        };
        lines.push(serde_json::to_value(line).unwrap_or_default());
    }
    let states = store.witness_submissions()?;
    for (url, key) in store.witnesses()? {
        let mine: Vec<_> = states.iter().filter(|s| s.witness_url == url).collect();
        if mine.is_empty() {
            lines.push(serde_json::to_value(witness_line(&url, &key)).unwrap_or_default());
        }
        for state in mine {
            let line = WitnessLine {
                log: Some(state.origin.clone()),
                cosigned_size: state.cosigned_size,
                last_success: time(state.last_success),
                last_error: state.last_error.clone(),
                next_attempt: time(Some(state.next_attempt).filter(|_| state.failures > 0)),
                ..witness_line(&url, &key)
            };
            lines.push(serde_json::to_value(line).unwrap_or_default());
        }
    }
    Ok(lines)
}

/// The store as register-sync's [`WitnessLog`].
#[derive(Debug, Clone, Copy)]
pub struct Witnessing<'a>(pub &'a Store);

fn job_of(job: &Job) -> WitnessJob {
    WitnessJob {
        witness_url: job.witness_url.clone(),
        witness_key: job.witness_key.clone(),
        log: Source {
            register: job.register.clone(),
            index: job.index.clone(),
        },
        origin: job.origin.clone(),
        size: job.size,
        note: job.note.clone(),
        witness_size: job.witness_size,
        failures: job.failures,
    }
}

impl WitnessLog for Witnessing<'_> {
    type Error = StoreError;

    fn jobs(&self, now: Option<i64>) -> Result<Vec<Job>, StoreError> {
        Ok(self
            .0
            .witness_jobs(now)?
            .into_iter()
            .map(|job| Job {
                witness_url: job.witness_url,
                witness_key: job.witness_key,
                register: job.log.register,
                index: job.log.index,
                origin: job.origin,
                size: job.size,
                note: job.note,
                witness_size: job.witness_size,
                failures: job.failures,
            })
            .collect())
    }

    fn consistency_proof(
        &self,
        job: &Job,
        from: u64,
    ) -> Result<Vec<register_core::Digest>, StoreError> {
        self.0
            .log_consistency_proof(&job_of(job).log, from, job.size)
    }

    fn cosigned(&self, job: &Job, lines: &str) -> Result<(), StoreError> {
        let key = VerifierKey::parse(&job.witness_key)
            .map_err(|e| StoreError::Invalid(format!("the witness key: {e}")))?;
        let job = job_of(job);
        self.0
            .add_cosignature(&job.log, &job.origin, job.size, &key, lines)?;
        self.0
            .record_witness_attempt(&job, &Attempt::Cosigned(job.size))
    }

    fn witness_at(&self, job: &Job, size: u64) -> Result<(), StoreError> {
        self.0
            .record_witness_attempt(&job_of(job), &Attempt::WitnessAt(size))
    }

    fn failed(&self, job: &Job, error: &str, retry_at: i64) -> Result<(), StoreError> {
        let attempt = Attempt::Failed {
            error: error.to_string(),
            retry_at,
        };
        self.0.record_witness_attempt(&job_of(job), &attempt)
    }
}

/// `witness submit`: submits every pending checkpoint now (backoffs ignored); one line per
/// submission.
pub fn submit(store: &Store, witness: &dyn Witness) -> Result<Vec<WitnessLine>, StoreError> {
    let keys: Vec<(String, String)> = store.witnesses()?;
    let round = algorithm::submit(&Witnessing(store), witness, crate::now().timestamp(), false)?;
    let key_of = |url: &str| {
        keys.iter()
            .find(|(u, _)| u == url)
            .map(|(_, k)| k.as_str())
            .unwrap_or_default()
    };
    let mut lines: Vec<WitnessLine> = round
        .cosigned
        .into_iter()
        .map(|(url, origin, size)| WitnessLine {
            log: Some(origin),
            cosigned_size: Some(size),
            ..witness_line(&url, key_of(&url))
        })
        .collect();
    lines.extend(
        round
            .failed
            .into_iter()
            .map(|(url, origin, error)| WitnessLine {
                log: Some(origin),
                last_error: Some(error),
                ..witness_line(&url, key_of(&url))
            }),
    );
    Ok(lines)
}

/// Starts the background submitter: every [`POLL`], one round of the jobs whose backoff has
/// run out. It runs on its own thread, so loads never wait for a witness; the transport
/// bounds each request's time. Store errors are logged and retried next round.
pub fn spawn(
    store: Store,
    witness: Box<dyn Witness + Send>,
) -> std::io::Result<std::thread::JoinHandle<()>> {
    std::thread::Builder::new()
        .name("witness-submitter".into())
        .spawn(move || loop {
            let now = crate::now().timestamp();
            match algorithm::submit(&Witnessing(&store), &*witness, now, true) {
                Ok(Round { cosigned, failed }) => {
                    for (url, origin, size) in cosigned {
                        tracing::info!(witness = %url, %origin, size, "checkpoint cosigned");
                    }
                    for (url, origin, error) in failed {
                        tracing::warn!(witness = %url, %origin, %error, "witness submission failed");
                    }
                }
                Err(e) => tracing::error!(error = %e, "witness submissions"),
            }
            std::thread::sleep(POLL);
        })
}
