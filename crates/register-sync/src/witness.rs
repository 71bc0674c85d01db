//! Submitting this node's checkpoints to its witnesses (checkpoints.md §5,
//! c2sp.org/tlog-witness), over two traits like sync: [`WitnessLog`] (the pending work,
//! proofs and the state kept per witness and log) and [`Witness`] (the transport).
//!
//! For each pending job the request starts from the size the witness is known to hold
//! (0 when unknown), with the consistency proof from there; a 409 tells the witness's size,
//! which is recorded and the request retried once from it. A cosignature is verified with
//! the witness's key before it is kept. Any failure is recorded with a time to try again
//! ([`backoff`]); nothing here blocks a load, which only leaves a new checkpoint behind.

use register_core::Digest;
use tlog_core::witness::{request_body, verify_cosignature};
use tlog_core::VerifierKey;

/// One checkpoint to submit to one witness.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Job {
    /// The witness's URL prefix (`<url>/add-checkpoint`).
    pub witness_url: String,
    /// The witness's cosigner verifier key.
    pub witness_key: String,
    /// The register whose log it is.
    pub register: String,
    /// The index, for an index log.
    pub index: Option<String>,
    /// The log's origin.
    pub origin: String,
    /// The checkpoint's size.
    pub size: u64,
    /// The checkpoint, signed by the log.
    pub note: String,
    /// The size the witness holds, as far as is known (0: unknown).
    pub witness_size: u64,
    /// Failures in a row so far (for the backoff).
    pub failures: u64,
}

/// A witness's answer to `add-checkpoint`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// 200: the cosignature line(s).
    Cosigned(String),
    /// 409: the size the witness last cosigned.
    Conflict(u64),
    /// Any other status, with what the witness said.
    Refused {
        /// The HTTP status.
        status: u16,
        /// The body, or its error message.
        message: String,
    },
}

/// The transport to witnesses: one `add-checkpoint` request, with a bounded time.
pub trait Witness {
    /// POSTs `body` to `<url>/add-checkpoint`; `Err` when no answer came (connection
    /// refused, timeout), with the reason.
    fn add_checkpoint(&self, url: &str, body: &str) -> Result<Answer, String>;
}

/// The log's side: pending work, proofs, and the state per witness and log.
pub trait WitnessLog {
    /// The store's own error.
    type Error: std::error::Error + Send + Sync + 'static;

    /// The pending jobs; with `now`, leaving out those whose backoff runs past it.
    fn jobs(&self, now: Option<i64>) -> Result<Vec<Job>, Self::Error>;

    /// The consistency proof of the job's log from `from` entries to the job's size.
    fn consistency_proof(&self, job: &Job, from: u64) -> Result<Vec<Digest>, Self::Error>;

    /// Keeps the witness's cosignature (among `lines`) of the job's checkpoint, and records
    /// the success.
    fn cosigned(&self, job: &Job, lines: &str) -> Result<(), Self::Error>;

    /// Records the size the witness says it holds (its 409).
    fn witness_at(&self, job: &Job, size: u64) -> Result<(), Self::Error>;

    /// Records a failure, to try again at `retry_at` (Unix seconds).
    fn failed(&self, job: &Job, error: &str, retry_at: i64) -> Result<(), Self::Error>;
}

/// Seconds to wait after `failures` failures in a row: 2, 4, 8, … up to 5 minutes.
pub fn backoff(failures: u64) -> i64 {
    let exponent = u32::try_from(failures.saturating_add(1)).unwrap_or(u32::MAX);
    2i64.saturating_pow(exponent.min(20)).min(300)
}

/// What one round of submissions did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Round {
    /// (witness URL, origin, size) cosigned.
    pub cosigned: Vec<(String, String, u64)>,
    /// (witness URL, origin, error) that failed.
    pub failed: Vec<(String, String, String)>,
}

/// Submits every pending job once (`respect_backoff`: only those whose backoff has run out
/// at `now`), recording each outcome. Only the store's errors stop the round.
pub fn submit<S: WitnessLog, W: Witness + ?Sized>(
    store: &S,
    witness: &W,
    now: i64,
    respect_backoff: bool,
) -> Result<Round, S::Error> {
    let mut round = Round::default();
    for job in store.jobs(respect_backoff.then_some(now))? {
        match submit_one(store, witness, &job)? {
            Ok(()) => round
                .cosigned
                .push((job.witness_url.clone(), job.origin.clone(), job.size)),
            Err(error) => {
                store.failed(&job, &error, now + backoff(job.failures))?;
                round
                    .failed
                    .push((job.witness_url.clone(), job.origin.clone(), error));
            }
        }
    }
    Ok(round)
}

/// One job: the inner `Err` is the failure to record.
fn submit_one<S: WitnessLog, W: Witness + ?Sized>(
    store: &S,
    witness: &W,
    job: &Job,
) -> Result<Result<(), String>, S::Error> {
    let key = match VerifierKey::parse(&job.witness_key) {
        Ok(key) => key,
        Err(e) => return Ok(Err(format!("the witness key is not usable: {e}"))),
    };
    let mut old = job.witness_size;
    // The first request, and one more from the size a 409 tells.
    for _ in 0..2 {
        if old > job.size {
            return Ok(Err(format!(
                "the witness holds size {old} of this log, more than this node's {}",
                job.size
            )));
        }
        let proof = if old == 0 || old == job.size {
            Vec::new()
        } else {
            store.consistency_proof(job, old)?
        };
        let body = request_body(old, &proof, &job.note);
        match witness.add_checkpoint(&job.witness_url, &body) {
            Ok(Answer::Cosigned(lines)) => {
                if let Err(e) = verify_cosignature(&job.note, &lines, &key) {
                    return Ok(Err(format!("the witness's cosignature is refused: {e}")));
                }
                store.cosigned(job, &lines)?;
                return Ok(Ok(()));
            }
            Ok(Answer::Conflict(size)) => {
                store.witness_at(job, size)?;
                if size == old {
                    return Ok(Err(format!("the witness answered 409 with our size {old}")));
                }
                old = size;
            }
            Ok(Answer::Refused { status, message }) => {
                return Ok(Err(format!("the witness refused ({status}): {message}")))
            }
            Err(e) => return Ok(Err(e)),
        }
    }
    Ok(Err(format!(
        "the witness's size changed again (now {old}); will retry"
    )))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::RefCell;

    #[test]
    fn backoff_doubles_up_to_five_minutes() {
        assert_eq!(
            (0..10).map(backoff).collect::<Vec<_>>(),
            [2, 4, 8, 16, 32, 64, 128, 256, 300, 300]
        );
        assert_eq!(backoff(u64::MAX), 300);
    }

    #[derive(Default)]
    struct Log {
        events: RefCell<Vec<String>>,
    }

    impl WitnessLog for Log {
        type Error = std::io::Error;
        fn jobs(&self, _: Option<i64>) -> Result<Vec<Job>, Self::Error> {
            Ok(vec![Job {
                witness_url: "http://w".into(),
                witness_key: "w.example/witness+00000000+BAAA".into(),
                register: "r".into(),
                index: None,
                origin: "o".into(),
                size: 5,
                note: String::new(),
                witness_size: 0,
                failures: 3,
            }])
        }
        fn consistency_proof(&self, _: &Job, from: u64) -> Result<Vec<Digest>, Self::Error> {
            self.events.borrow_mut().push(format!("proof from {from}"));
            Ok(vec![])
        }
        fn cosigned(&self, _: &Job, _: &str) -> Result<(), Self::Error> {
            Ok(())
        }
        fn witness_at(&self, _: &Job, size: u64) -> Result<(), Self::Error> {
            self.events.borrow_mut().push(format!("witness at {size}"));
            Ok(())
        }
        fn failed(&self, _: &Job, error: &str, at: i64) -> Result<(), Self::Error> {
            self.events
                .borrow_mut()
                .push(format!("failed at {at}: {error}"));
            Ok(())
        }
    }

    struct Down;
    impl Witness for Down {
        fn add_checkpoint(&self, _: &str, _: &str) -> Result<Answer, String> {
            Err("connection refused".into())
        }
    }

    #[test]
    fn an_unusable_key_or_a_down_witness_is_recorded_with_a_backoff() {
        let log = Log::default();
        let round = submit(&log, &Down, 1000, true).expect("round");
        assert_eq!(round.failed.len(), 1);
        assert!(round.failed[0].2.contains("the witness key is not usable"));
        assert!(log.events.borrow()[0].starts_with("failed at 1016: "));
    }
}
