-- Witnessing (checkpoints.md §5, c2sp.org/tlog-witness).
--
-- As a witness: the logs this node cosigns (origin, the log's verifier key, who added it:
-- 'operator' or 'mirror'), with the size and root it last cosigned (0 and the empty tree's
-- root until the first cosignature). The old-size check and the update of size and root
-- happen in one transaction, so the witness never rolls back.
CREATE TABLE witnessed_logs (
    origin TEXT PRIMARY KEY NOT NULL,
    verifier_key TEXT NOT NULL,
    source TEXT NOT NULL,
    size BIGINT NOT NULL,
    root BYTEA NOT NULL,
    note TEXT,
    added_at BIGINT NOT NULL,
    cosigned_at BIGINT
);

-- Validly signed checkpoints the witness refused as inconsistent with what it cosigned
-- (a failing consistency proof, or the same size with another root): evidence, kept once
-- per request (`request_hash`: SHA-256 of the request body). `proof` is the request's
-- proof lines, newline-separated base64.
CREATE TABLE witness_evidence (
    origin TEXT NOT NULL,
    request_hash BYTEA NOT NULL,
    note TEXT NOT NULL,
    old_size BIGINT NOT NULL,
    proof TEXT NOT NULL,
    reason TEXT NOT NULL,
    received_at BIGINT NOT NULL,
    PRIMARY KEY (origin, request_hash)
);

-- As a log: the witnesses this node submits its checkpoints to (URL prefix of
-- add-checkpoint, the witness's cosigner verifier key).
CREATE TABLE witnesses (
    url TEXT PRIMARY KEY NOT NULL,
    verifier_key TEXT NOT NULL,
    added_at BIGINT NOT NULL
);

-- Per witness and log: the size the witness last cosigned as far as this node knows (learnt
-- from its 200 or 409), the size of the last cosignature received, the last success and
-- error, and when to try again (backoff after failures). Work is pending when a log's
-- latest checkpoint has another size than `cosigned_size`.
CREATE TABLE witness_submissions (
    witness_url TEXT NOT NULL REFERENCES witnesses (url) ON DELETE CASCADE,
    origin TEXT NOT NULL,
    register_id BIGINT NOT NULL REFERENCES registers (id) ON DELETE CASCADE,
    log_name TEXT NOT NULL,
    witness_size BIGINT NOT NULL,
    cosigned_size BIGINT,
    last_success BIGINT,
    last_error TEXT,
    failures BIGINT NOT NULL,
    next_attempt BIGINT NOT NULL,
    PRIMARY KEY (witness_url, origin)
);

-- Cosignatures of this node's checkpoints (witnesses', and mirrors' in time), served with
-- the checkpoint they sign: one line per cosigner key and checkpoint, the newest kept.
CREATE TABLE cosignatures (
    register_id BIGINT NOT NULL REFERENCES registers (id) ON DELETE CASCADE,
    log_name TEXT NOT NULL,
    origin TEXT NOT NULL,
    size BIGINT NOT NULL,
    cosigner TEXT NOT NULL,
    key_id BIGINT NOT NULL,
    line TEXT NOT NULL,
    signed_at BIGINT NOT NULL,
    received_at BIGINT NOT NULL,
    PRIMARY KEY (register_id, log_name, origin, size, cosigner, key_id)
);
