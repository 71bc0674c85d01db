-- Signed checkpoints (checkpoints.md §3): every one a log was ever signed at, kept. A log
-- is a register's user log (log_name '') or one of its index logs (the index's name), under
-- the origin it was signed for (a new node origin starts new checkpoints; the old stay). The
-- note is the whole signed checkpoint; Ed25519 is deterministic, so every instance signing
-- the same origin, size and root writes the same bytes.
CREATE TABLE checkpoints (
    register_id BIGINT NOT NULL REFERENCES registers (id) ON DELETE CASCADE,
    log_name TEXT NOT NULL,
    origin TEXT NOT NULL,
    size BIGINT NOT NULL,
    root BLOB NOT NULL,
    note TEXT NOT NULL,
    signed_at BIGINT NOT NULL,
    PRIMARY KEY (register_id, log_name, origin, size)
);
