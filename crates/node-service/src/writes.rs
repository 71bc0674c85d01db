//! The write API's group commit: concurrent writes to one register share transactions.
//!
//! Every write joins its register's queue. The first writer to find nobody committing
//! becomes the leader: it takes whatever is queued (up to [`MAX_BATCH_RECORDS`] records),
//! applies it in one transaction ([`Store::append_records`]: each request validated on its
//! own, one refused request failing no other), answers every writer of the batch, and hands
//! the lead to the first writer queued meanwhile. No thread is added and no timer waits:
//! under load a batch is whatever arrived during the previous commit, alone a write commits
//! at once. Order and numbering are the queue's; across processes the store's register lock
//! serialises the batches.

use std::collections::{HashMap, VecDeque};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
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
    /// Whether a writer is committing (or has been handed the lead).
    leading: bool,
}

#[derive(Debug)]
struct Job {
    request: AppendRequest,
    reply: SyncSender<Signal>,
}

#[derive(Debug)]
enum Signal {
    Done(Result<Written, StoreError>),
    Lead,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding the lock leaves plain data behind; carry on with it.
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
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

    /// Applies `request` to the local register `name`, in a transaction shared with the
    /// writes queued beside it; blocks until it is committed (or refused).
    pub fn write(&self, name: &str, request: AppendRequest) -> Result<Written, StoreError> {
        register_core::entry::check_user_key(name).map_err(StoreError::Register)?;
        let queue = Arc::clone(lock(&self.queues).entry(name.to_string()).or_default());
        let (reply, answer) = sync_channel(1);
        let lead = {
            let mut pending = lock(&queue.pending);
            pending.jobs.push_back(Job { request, reply });
            !std::mem::replace(&mut pending.leading, true)
        };
        if !lead {
            match wait(&answer) {
                Signal::Done(result) => return result,
                Signal::Lead => {}
            }
        }
        // Leading: this writer's job is at the front of the queue.
        let handover = Handover(&queue);
        let jobs = take_batch(&mut lock(&queue.pending));
        let (requests, replies): (Vec<AppendRequest>, Vec<SyncSender<Signal>>) =
            jobs.into_iter().map(|job| (job.request, job.reply)).unzip();
        let started = std::time::Instant::now();
        let mut results = self.commit(name, &requests).into_iter();
        tracing::debug!(
            register = name,
            requests = requests.len(),
            micros = started.elapsed().as_micros() as u64,
            "group commit"
        );
        let own = results
            .next()
            .unwrap_or_else(|| Err(StoreError::Invalid("the write was not committed".into())));
        for (reply, result) in replies.iter().skip(1).zip(results) {
            // A writer that went away needs no answer.
            let _ = reply.send(Signal::Done(result));
        }
        drop(handover);
        own
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
            let source = Source::register(name);
            let paths = written
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
                .collect::<Result<Vec<_>, StoreError>>()?;
            report.proofs = Some(paths);
        }
        Ok(report)
    }

    /// Commits a batch; one result per request, in order.
    fn commit(&self, name: &str, requests: &[AppendRequest]) -> Vec<Result<Written, StoreError>> {
        let batch = match self.store.append_records(name, requests) {
            Ok(batch) => batch,
            Err(e) => return requests.iter().map(|_| Err(e.shared())).collect(),
        };
        // A batch that appended signed its checkpoint in the commit (witnesses cosign later,
        // so it has no cosignatures yet); one that changed nothing serves the stored one.
        let checkpoint = batch.checkpoint.clone().or_else(|| {
            self.store
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
}

/// The answer of a write (without proofs).
fn report(written: &Written) -> api_types::WriteReport {
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

fn wait(answer: &Receiver<Signal>) -> Signal {
    answer.recv().unwrap_or_else(|_| {
        // The leader went away without answering (it panicked): the write's fate is unknown.
        Signal::Done(Err(StoreError::Unavailable(
            "the write was interrupted; read the register before retrying".into(),
        )))
    })
}

/// Passes the lead on when the leader is done, even if it panicked: to the first writer
/// still waiting, or to nobody.
struct Handover<'q>(&'q Queue);

impl Drop for Handover<'_> {
    fn drop(&mut self) {
        let mut pending = lock(&self.0.pending);
        while let Some(front) = pending.jobs.front() {
            if front.reply.send(Signal::Lead).is_ok() {
                return;
            }
            pending.jobs.pop_front();
        }
        pending.leading = false;
    }
}
