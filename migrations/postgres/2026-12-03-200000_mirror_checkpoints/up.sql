-- Cosigning mirrors (checkpoints.md §6, docs/plans.md "Keys in plans").
-- The keys a plan binds, pinned on the subscription the first time this node sees them: the
-- primary's checkpoint verifier key of the slice's log, and the secondary's mirror cosigner
-- key. NULL: the plan carries none (a plan negotiated before keys were in plans).
ALTER TABLE subscriptions ADD COLUMN checkpoint_key TEXT;
ALTER TABLE subscriptions ADD COLUMN cosigner_key TEXT;

-- Every checkpoint of the primary this node accepted for a mirror: signed by the pinned key,
-- consistent with the ones before it, and held exactly by the mirror when accepted. Kept
-- for ever: the evidence a later, inconsistent checkpoint is checked against.
CREATE TABLE mirror_checkpoints (
    plan_uuid TEXT NOT NULL,
    slice_uuid TEXT NOT NULL,
    size BIGINT NOT NULL,
    root BYTEA NOT NULL,
    note TEXT NOT NULL,
    accepted_at BIGINT NOT NULL,
    PRIMARY KEY (plan_uuid, slice_uuid, size),
    FOREIGN KEY (plan_uuid, slice_uuid) REFERENCES subscriptions (plan_uuid, slice_uuid)
        ON DELETE CASCADE
);
