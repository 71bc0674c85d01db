//! [`Store`]'s witnessing: this node as a witness (`witness`), and as a log that uses
//! witnesses, with the cosignatures of its checkpoints (`cosigning`).

use tlog_core::witness::{AddCheckpoint, Cosignature, Refusal};
use tlog_core::VerifierKey;

use super::Store;
use crate::cosigning;
use crate::error::StoreError;
use crate::model::{
    Attempt, Evidence, Source, SubmissionState, WitnessJob, WitnessSource, WitnessedLog,
};
use crate::queries;
use crate::tree::Tree;
use crate::witness;

impl Store {
    /// Witnesses the log `origin`, whose checkpoints `key` signs (one call whoever adds it:
    /// the operator, or a plan under which this node mirrors the log). Adding it again
    /// changes its key and keeps its state; a log the operator added stays the operator's.
    pub fn add_witnessed_log(
        &self,
        origin: &str,
        key: &VerifierKey,
        source: WitnessSource,
    ) -> Result<(), StoreError> {
        if !tlog_core::note::is_valid_name(origin) {
            return Err(StoreError::Invalid(format!(
                "origin '{origin}' is not valid: it must be non-empty, without spaces or '+'"
            )));
        }
        if key.key_type() != tlog_core::note::ED25519 {
            return Err(StoreError::Invalid(
                "a log's verifier key is an Ed25519 note key (type 0x01), not a cosigner key"
                    .into(),
            ));
        }
        self.transaction(|conn| witness::add(conn, origin, &key.to_string(), source))
    }

    /// Stops witnessing `origin` (its evidence stays); `NotFound` when not witnessed.
    pub fn remove_witnessed_log(&self, origin: &str) -> Result<(), StoreError> {
        witness::remove(&mut *self.conn()?, origin)
    }

    /// The verifier key of a witnessed log; `None` when this node does not witness it.
    pub fn witnessed_log_key(&self, origin: &str) -> Result<Option<VerifierKey>, StoreError> {
        witness::key(&mut *self.conn()?, origin)?
            .map(|key| {
                VerifierKey::parse(&key)
                    .map_err(|e| StoreError::Corrupt(format!("the key of '{origin}': {e}")))
            })
            .transpose()
    }

    /// Every log this node witnesses, by origin.
    pub fn witnessed_logs(&self) -> Result<Vec<WitnessedLog>, StoreError> {
        witness::list(&mut *self.conn()?)
    }

    /// The inconsistent checkpoints kept as evidence, of one log or all, oldest first.
    pub fn witness_evidence(&self, origin: Option<&str>) -> Result<Vec<Evidence>, StoreError> {
        witness::evidence(&mut *self.conn()?, origin)
    }

    /// The witness's step for a request whose checkpoint signature was verified: in one
    /// transaction, the old size is checked against the size last cosigned and the new
    /// state stored (`Ok(Ok(()))`: cosign it), or the refusal returned; an inconsistent
    /// checkpoint is kept as evidence. `NotFound` when the log is not witnessed.
    pub fn witness_checkpoint(
        &self,
        request: &AddCheckpoint,
    ) -> Result<Result<(), Refusal>, StoreError> {
        self.transaction(|conn| witness::advance(conn, request))
    }

    /// Submits this node's checkpoints to the witness at `url` (its add-checkpoint URL
    /// prefix), whose cosignatures `key` verifies; again: changes its key.
    pub fn use_witness(&self, url: &str, key: &VerifierKey) -> Result<(), StoreError> {
        if key.key_type() != tlog_core::note::COSIGNATURE_V1 {
            return Err(StoreError::Invalid(
                "a witness's verifier key is a cosigner key (type 0x04)".into(),
            ));
        }
        cosigning::use_witness(&mut *self.conn()?, url, key)
    }

    /// Stops using the witness at `url`; `NotFound` when it is not used.
    pub fn drop_witness(&self, url: &str) -> Result<(), StoreError> {
        self.transaction(|conn| cosigning::drop_witness(conn, url))
    }

    /// The witnesses this node uses: (URL, verifier key), by URL.
    pub fn witnesses(&self) -> Result<Vec<(String, String)>, StoreError> {
        cosigning::witnesses(&mut *self.conn()?)
    }

    /// The state of submissions per witness and log.
    pub fn witness_submissions(&self) -> Result<Vec<SubmissionState>, StoreError> {
        cosigning::states(&mut *self.conn()?)
    }

    /// The pending submissions: per witness, each local log whose latest checkpoint it has
    /// not cosigned, unless a backoff runs past `now` (Unix seconds; `None` ignores it).
    /// Nothing without keys (this node signs no checkpoints).
    pub fn witness_jobs(&self, now: Option<i64>) -> Result<Vec<WitnessJob>, StoreError> {
        match self.keys.as_deref() {
            Some(keys) => cosigning::jobs(&mut *self.conn()?, keys, now),
            None => Ok(Vec::new()),
        }
    }

    /// Records an attempt to submit `job`; ignored when its witness is no longer used.
    pub fn record_witness_attempt(
        &self,
        job: &WitnessJob,
        attempt: &Attempt,
    ) -> Result<(), StoreError> {
        let id = self.log_id(&job.log)?.0;
        self.transaction(|conn| cosigning::record(conn, job, id, attempt))
    }

    /// Keeps a cosignature of the checkpoint of `log` at `size` under `origin`: the line by
    /// `cosigner` among `lines` (signature lines, e.g. a witness's response) must verify over
    /// that stored checkpoint (`Invalid` otherwise; `NotFound` without the checkpoint). One
    /// line is kept per checkpoint and cosigner key (the newest), and served after the
    /// checkpoint by [`Store::checkpoint`]. Returns the line and its timestamp.
    pub fn add_cosignature(
        &self,
        log: &Source,
        origin: &str,
        size: u64,
        cosigner: &VerifierKey,
        lines: &str,
    ) -> Result<Cosignature, StoreError> {
        let (id, index) = self.log_id(log)?;
        self.transaction(|conn| cosigning::add(conn, (id, &index, origin), size, cosigner, lines))
    }

    /// Keeps this node's own cosignature `line` (signed at `time` by `cosigner`) of the
    /// primary's checkpoint of `origin` at `size` that its mirror `register` accepted, so
    /// the mirror's checkpoint carries it (checkpoints.md §6). The caller signed it: it is
    /// not verified again.
    pub fn keep_own_cosignature(
        &self,
        register: &str,
        origin: &str,
        size: u64,
        cosigner: &VerifierKey,
        line: &str,
        time: u64,
    ) -> Result<(), StoreError> {
        let (id, _) = self.log_id(&Source::register(register))?;
        cosigning::upsert(
            &mut *self.conn()?,
            (id, "", origin),
            size,
            cosigner,
            &Cosignature {
                line: line.to_string(),
                time,
            },
        )
    }

    /// The largest size of `register`'s log that `cosigner` cosigned, as kept here (a
    /// mirror's own cosignatures, or those a primary received); `None` before any.
    pub fn cosigned_size(
        &self,
        register: &str,
        cosigner: &VerifierKey,
    ) -> Result<Option<u64>, StoreError> {
        let (id, _) = self.log_id(&Source::register(register))?;
        cosigning::cosigned_size(&mut *self.conn()?, id, cosigner)
    }

    /// The register id and `log_name` ('' for the user log) of a log.
    fn log_id(&self, log: &Source) -> Result<(i64, String), StoreError> {
        let mut conn = self.conn()?;
        Ok(match queries::tree(&mut conn, &self.ids, log)? {
            Tree::Log(id, _) => (id, String::new()),
            Tree::Index(id, index) => (id, index.to_string()),
        })
    }
}
