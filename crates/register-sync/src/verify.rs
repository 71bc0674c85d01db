//! Verifying the primary's signed checkpoint (checkpoints.md §6), for pulls and received
//! pushes alike: the key the plan pins, the note's signature, and the split-view check
//! against the checkpoint the mirror accepted last.

use plan_core::{Plan, PlanId, RegisterSlice};
use register_core::Digest;
use tlog_core::{contradiction, verify_checkpoint, Checkpoint, Evidence, VerifierKey};
use uuid::Uuid;

use crate::error::{Divergence, SplitView, SyncError};
use crate::traits::{Accepted, Keys, MirrorStore};

/// The keys `plan`'s document binds for `slice`: the slice's `checkpoint-key` and the
/// Secondary's `cosigner-key`. On the node that holds the plan (its respondent) the document
/// is frozen from Proposed on, so these are the pinned keys; the initiator pins them on its
/// subscription ([`pinned_key`]).
pub fn plan_keys(plan: &Plan, slice: &RegisterSlice) -> Keys {
    Keys {
        checkpoint_key: slice.checkpoint_key.clone(),
        cosigner_key: plan
            .secondary
            .as_ref()
            .and_then(|s| s.cosigner_key())
            .map(str::to_string),
    }
}

/// The key that verifies `slice`'s checkpoints: the plan's keys (`document`) are pinned on
/// the subscription the first time they are seen; afterwards a document naming another
/// checkpoint key is refused. `None` when the plan binds no checkpoint key (a plan
/// negotiated before plans carried keys, or a primary without signing keys): such a slice
/// syncs unverified, as before.
pub fn pinned_key<S: MirrorStore>(
    store: &S,
    plan: PlanId,
    slice: Uuid,
    document: &Keys,
) -> Result<Option<VerifierKey>, SyncError> {
    let pinned = store
        .pin_keys(plan, slice, document)
        .map_err(SyncError::store)?;
    let Some(key) = pinned.checkpoint_key else {
        return Ok(None);
    };
    if let Some(named) = document.checkpoint_key.as_deref().filter(|k| *k != key) {
        return Err(SyncError::Unverified(format!(
            "plan {plan} now names checkpoint key '{named}' for slice {slice}, but '{key}' was \
             pinned when the plan was approved; nothing was applied"
        )));
    }
    VerifierKey::parse(&key).map(Some).map_err(|e| {
        SyncError::Unverified(format!(
            "the checkpoint key pinned for slice {slice} of plan {plan} is not a verifier key: {e}"
        ))
    })
}

/// Verifies the primary's checkpoint `note` of `slice` with the pinned `key`: a clear
/// message when another key signed it, or it is not a checkpoint of the key's log.
pub fn verify_note(key: &VerifierKey, note: &str, slice: Uuid) -> Result<Accepted, String> {
    let checkpoint = verify_checkpoint(note, key).map_err(|e| {
        format!(
            "the primary's checkpoint of slice {slice} does not verify with the pinned key \
             {key}: {e}; nothing was applied"
        )
    })?;
    Ok(Accepted {
        note: note.to_string(),
        size: checkpoint.size,
        root: checkpoint.root,
    })
}

/// The split view, if `new` contradicts `accepted` given the consistency proof between
/// them (from the smaller to the larger; empty for equal sizes). Both were verified with
/// `key`, so they are checkpoints of its log.
pub fn split_view(
    key: &VerifierKey,
    (slice, mirror): (Uuid, &str),
    accepted: &Accepted,
    new: &Accepted,
    proof: Vec<Digest>,
) -> Result<(), Divergence> {
    let checkpoint = |a: &Accepted| Checkpoint {
        origin: key.name().to_string(),
        size: a.size,
        root: a.root,
    };
    let (old, now) = (checkpoint(accepted), checkpoint(new));
    match contradiction(&old, &now, &proof) {
        None => Ok(()),
        Some(how) => Err(Divergence::SplitView(Box::new(SplitView {
            slice,
            mirror: mirror.to_string(),
            how,
            evidence: Evidence::between((&accepted.note, &old), (&new.note, &now), proof),
        }))),
    }
}

/// The refusal of a checkpoint older than the one accepted (consistent with it, or
/// [`split_view`] would have said so): nothing to do but wait for the primary.
pub fn stale(slice: Uuid, accepted: &Accepted, new: &Accepted) -> String {
    format!(
        "the primary's checkpoint of slice {slice} has {} entries, fewer than the {} of one \
         accepted earlier; nothing was applied",
        new.size, accepted.size
    )
}
