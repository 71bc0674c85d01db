//! The write API's group commit: concurrent writes to one register share transactions.
//!
//! Every write joins its register's queue ([`Writes::submit`]). The writer that finds nobody
//! committing gets the [`Lead`] and runs it on a thread that may block: it takes whatever is
//! queued (up to [`MAX_BATCH_RECORDS`] records), applies it in one transaction
//! ([`Store::append_records`]: each request validated on its own, one refused request failing
//! no other), answers every writer of the batch, and goes on with what queued meanwhile until
//! the queue is empty. Waiting writers hold no thread: each awaits its [`Answer`] (the CLI
//! blocks on it). No timer waits: under load a batch is whatever arrived during the previous
//! commit, alone a write commits at once. Order and numbering are the queue's; across
//! processes the store's register lock serialises the batches.

mod answer;

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};

use register_core::write::{parse_items, RecordChange};
use register_core::{Digest, Timestamp};
use store_diesel::error::StoreError;
use store_diesel::queries::Source;
use store_diesel::store::{AppendRequest, Appended, Store};

/// The most records one shared transaction takes (a single larger request still goes alone).
pub const MAX_BATCH_RECORDS: usize = 10_000;

/// One write's answer: its own changes and the log after the batch it was committed in.
#[derive(Debug, Clone)]
pub struct Written {
    /// The register written.
    pub register: String,
    /// What this request appended and left unchanged.
    pub appended: Appended,
    /// The user log's size after the batch.
    pub total_entries: u64,
    /// The user log's root after the batch.
    pub root: Digest,
    /// The signed checkpoint at that size, with its cosignatures (none without keys).
    pub checkpoint: Option<String>,
}

/// A write of the items in `body` (one JSON object or an array of them, see
/// [`register_core::write::parse_items`]) as entries timestamped `at`
/// (`YYYY-MM-DDThh:mm:ssZ`), or now.
pub fn put_request(body: &str, at: Option<&str>) -> Result<AppendRequest, register_core::Error> {
    Ok(AppendRequest {
        changes: parse_items(body)?
            .into_iter()
            .map(RecordChange::Put)
            .collect(),
        timestamp: timestamp(at)?,
    })
}

/// The removal of the record `key`, as an entry timestamped `at` or now.
pub fn remove_request(key: &str, at: Option<&str>) -> Result<AppendRequest, register_core::Error> {
    Ok(AppendRequest {
        changes: vec![RecordChange::Remove(key.to_string())],
        timestamp: timestamp(at)?,
    })
}

fn timestamp(at: Option<&str>) -> Result<Timestamp, register_core::Error> {
    let parsed = match at {
        Some(text) => Timestamp::parse(text),
        None => Timestamp::from_unix_seconds(crate::now().timestamp()),
    };
    parsed.ok_or_else(|| {
        let text: String = at.unwrap_or("now").chars().take(40).collect();
        register_core::Error::InvalidBatch(format!(
            "entry-timestamp '{text}' is not a time like 2024-01-31T12:00:00Z"
        ))
    })
}

/// Group commit over one store (see the module). Share one per process.
#[derive(Debug)]
pub struct Writes {
    store: Store,
    queues: Mutex<HashMap<String, Arc<Queue>>>,
}

#[derive(Debug, Default)]
struct Queue {
    pending: Mutex<Pending>,
}

#[derive(Debug, Default)]
struct Pending {
    jobs: VecDeque<Job>,
    /// Whether a [`Lead`] exists (committing, or handed to a writer to run).
    leading: bool,
}

/// What a write is answered with.
type Outcome = Result<Written, StoreError>;

#[derive(Debug)]
struct Job {
    request: AppendRequest,
    reply: Reply<Outcome>,
}

pub use answer::Answer;
use answer::Reply;

/// A write in its register's queue.
#[derive(Debug)]
pub struct Submitted {
    /// The write's answer; `None` if the commit was interrupted (see [`interrupted`]).
    pub answer: Answer<Outcome>,
    /// When nobody was committing, the commit this write must start: [`Lead::run`] it on a
    /// thread that may block, or nothing queued commits.
    pub lead: Option<Lead>,
}

/// The right, and duty, to commit a register's queue (see the module).
#[derive(Debug)]
pub struct Lead {
    store: Store,
    name: String,
    queue: Arc<Queue>,
    done: bool,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding the lock leaves plain data behind; carry on with it.
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The error of a write whose commit was interrupted (the committing thread panicked or was
/// never run): its fate is unknown.
pub fn interrupted() -> StoreError {
    StoreError::Unavailable("the write was interrupted; read the register before retrying".into())
}

impl Writes {
    /// Group commit over `store`.
    pub fn new(store: Store) -> Writes {
        Writes {
            store,
            queues: Mutex::default(),
        }
    }

    /// The store written to.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Queues `request` for the local register `name`; never blocks. The caller awaits
    /// [`Submitted::answer`] and, given the lead, runs it.
    pub fn submit(&self, name: &str, request: AppendRequest) -> Result<Submitted, StoreError> {
        register_core::entry::check_user_key(name).map_err(StoreError::Register)?;
        let queue = Arc::clone(lock(&self.queues).entry(name.to_string()).or_default());
        let (reply, answer) = answer::pair();
        let lead = {
            let mut pending = lock(&queue.pending);
            pending.jobs.push_back(Job { request, reply });
            !std::mem::replace(&mut pending.leading, true)
        };
        Ok(Submitted {
            answer,
            lead: lead.then(|| Lead {
                store: self.store.clone(),
                name: name.to_string(),
                queue,
                done: false,
            }),
        })
    }

    /// Applies `request` to the local register `name`, in a transaction shared with the
    /// writes queued beside it; blocks until it is committed (or refused).
    pub fn write(&self, name: &str, request: AppendRequest) -> Result<Written, StoreError> {
        let Submitted { answer, lead } = self.submit(name, request)?;
        if let Some(lead) = lead {
            lead.run();
        }
        answer.wait().unwrap_or_else(|| Err(interrupted()))
    }

    /// [`Writes::write`], answered as the write API answers: the entries, the records left
    /// unchanged, the log after the commit, its checkpoint, and with `proofs` each new
    /// entry's inclusion proof in the tree of that size.
    pub fn write_report(
        &self,
        name: &str,
        request: AppendRequest,
        proofs: bool,
    ) -> Result<api_types::WriteReport, StoreError> {
        let written = self.write(name, request)?;
        let mut report = report(&written);
        if proofs {
            report.proofs = Some(self.proofs(&written)?);
        }
        Ok(report)
    }

    /// Each entry of a write's inclusion proof in the tree of the size it was committed at.
    pub fn proofs(&self, written: &Written) -> Result<Vec<api_types::EntryProof>, StoreError> {
        let source = Source::register(&written.register);
        written
            .appended
            .entries
            .iter()
            .map(|entry| {
                let n = entry.entry_number;
                let path = self
                    .store
                    .log_inclusion_proof(&source, n, written.total_entries)?;
                Ok(api_types::EntryProof::new(n, &path))
            })
            .collect()
    }
}

impl Lead {
    /// Commits the register's queue, batch after batch, until it is empty; blocks.
    pub fn run(mut self) {
        loop {
            let jobs = {
                let mut pending = lock(&self.queue.pending);
                if pending.jobs.is_empty() {
                    pending.leading = false;
                    self.done = true;
                    return;
                }
                take_batch(&mut pending)
            };
            let (requests, replies): (Vec<AppendRequest>, Vec<Reply<Outcome>>) =
                jobs.into_iter().map(|job| (job.request, job.reply)).unzip();
            let started = std::time::Instant::now();
            let results = commit(&self.store, &self.name, &requests);
            tracing::debug!(
                register = %self.name,
                requests = requests.len(),
                micros = started.elapsed().as_micros() as u64,
                "group commit"
            );
            for (reply, result) in replies.into_iter().zip(results) {
                reply.send(result);
            }
        }
    }
}

impl Drop for Lead {
    /// A lead dropped unfinished (never run, or its thread panicked) gives the queue up:
    /// the writes in it are answered as interrupted, and the next writer leads anew.
    fn drop(&mut self) {
        if !self.done {
            let mut pending = lock(&self.queue.pending);
            pending.jobs.clear();
            pending.leading = false;
        }
    }
}

/// Commits a batch; one result per request, in order.
fn commit(store: &Store, name: &str, requests: &[AppendRequest]) -> Vec<Outcome> {
    let batch = match store.append_records(name, requests) {
        Ok(batch) => batch,
        Err(e) => return requests.iter().map(|_| Err(e.shared())).collect(),
    };
    // A batch that appended signed its checkpoint in the commit (witnesses cosign later,
    // so it has no cosignatures yet); one that changed nothing serves the stored one.
    let checkpoint = batch.checkpoint.clone().or_else(|| {
        store
            .checkpoint(&Source::register(name), Some(batch.total_entries))
            .ok()
            .flatten()
    });
    batch
        .results
        .into_iter()
        .map(|result| {
            result.map(|appended| Written {
                register: name.to_string(),
                appended,
                total_entries: batch.total_entries,
                root: batch.root,
                checkpoint: checkpoint.clone(),
            })
        })
        .collect()
}

/// The answer of a write (without proofs).
pub fn report(written: &Written) -> api_types::WriteReport {
    api_types::WriteReport {
        register: written.register.clone(),
        entries: written
            .appended
            .entries
            .iter()
            .map(crate::views::entry)
            .collect(),
        unchanged: written
            .appended
            .unchanged
            .iter()
            .map(|(key, items)| api_types::Unchanged {
                key: key.clone(),
                item_hash: items.iter().map(ToString::to_string).collect(),
            })
            .collect(),
        total_entries: written.total_entries,
        root_hash: written.root.to_string(),
        checkpoint: written.checkpoint.clone(),
        proofs: None,
    }
}

/// The jobs of the next batch, from the front: at least one, then more while the batch stays
/// within [`MAX_BATCH_RECORDS`].
fn take_batch(pending: &mut Pending) -> Vec<Job> {
    let mut records = 0;
    let mut batch = Vec::new();
    while let Some(job) = pending.jobs.front() {
        let size = job.request.changes.len();
        if !batch.is_empty() && records + size > MAX_BATCH_RECORDS {
            break;
        }
        records += size;
        batch.extend(pending.jobs.pop_front());
    }
    batch
}

#[cfg(test)]
mod tests {
    use super::*;
    use register_core::{Item, Mode};

    /// A store with a strict register `colour` (one field, `colour`) and no records.
    fn writes() -> (tempfile::TempDir, Writes) {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = dir.path().join("writes.sqlite");
        let store = Store::open(url.to_str().expect("path")).expect("store");
        let mut rsf = String::new();
        for (key, json) in [
            ("name", r#"{"name":"colour"}"#),
            (
                "field:colour",
                r#"{"cardinality":"1","datatype":"string","field":"colour"}"#,
            ),
            (
                "register:colour",
                r#"{"fields":["colour"],"register":"colour"}"#,
            ),
        ] {
            let hash = Item::parse(json).expect("item").hash();
            rsf += &format!(
                "add-item\t{json}\nappend-entry\tsystem\t{key}\t2020-01-01T00:00:00Z\t{hash}\n"
            );
        }
        store
            .load_rsf("colour", rsf.as_bytes(), Mode::Strict)
            .expect("load");
        (dir, Writes::new(store))
    }

    fn put(colour: &str) -> AppendRequest {
        put_request(&format!(r#"{{"colour":"{colour}"}}"#), None).expect("request")
    }

    #[test]
    fn writes_queued_behind_a_lead_share_its_batch() {
        let (_dir, writes) = writes();
        let submitted: Vec<Submitted> = ["red", "green", "blue"]
            .into_iter()
            .map(|c| writes.submit("colour", put(c)).expect("submit"))
            .collect();
        let mut leads = submitted.iter().filter(|s| s.lead.is_some()).count();
        assert_eq!(leads, 1, "the first writer leads, the others wait");
        let mut answers = Vec::new();
        for Submitted { answer, lead } in submitted {
            if let Some(lead) = lead {
                lead.run();
                leads -= 1;
            }
            answers.push(answer.wait().expect("answered").expect("written"));
        }
        assert_eq!(leads, 0);
        let numbers: Vec<u64> = answers
            .iter()
            .map(|w| w.appended.entries[0].entry_number)
            .collect();
        assert_eq!(numbers, vec![1, 2, 3]);
        // One batch: every writer is answered with the log after all three.
        assert!(answers.iter().all(|w| w.total_entries == 3));
    }

    #[test]
    fn a_lead_never_run_answers_its_queue_as_interrupted_and_the_next_writer_leads() {
        let (_dir, writes) = writes();
        let first = writes.submit("colour", put("red")).expect("submit");
        let second = writes.submit("colour", put("green")).expect("submit");
        assert!(first.lead.is_some() && second.lead.is_none());
        drop(first.lead);
        assert!(first.answer.wait().is_none());
        assert!(second.answer.wait().is_none());
        assert!(matches!(
            writes.write("colour", put("blue")),
            Ok(written) if written.appended.entries[0].entry_number == 1
        ));
    }
}
