-- Registers, their logs, Merkle nodes, accounts, plans and sync state.
-- Timestamps are Unix seconds (UTC); hashes are 32 raw bytes; an entry's item list is the
-- concatenation of its item hashes, in order.

CREATE TABLE registers (
    id BIGINT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    user_size BIGINT NOT NULL DEFAULT 0,
    system_size BIGINT NOT NULL DEFAULT 0,
    record_count BIGINT NOT NULL DEFAULT 0,
    item_count BIGINT NOT NULL DEFAULT 0,
    user_root BLOB NOT NULL,
    system_root BLOB NOT NULL,
    mirror_partner TEXT,
    mirror_plan TEXT,
    mirror_slice TEXT
);

CREATE TABLE items (
    hash BLOB PRIMARY KEY NOT NULL,
    canonical TEXT NOT NULL
);

CREATE TABLE register_items (
    register_id BIGINT NOT NULL REFERENCES registers (id) ON DELETE CASCADE,
    hash BLOB NOT NULL REFERENCES items (hash),
    PRIMARY KEY (register_id, hash)
);

CREATE TABLE entries (
    register_id BIGINT NOT NULL REFERENCES registers (id) ON DELETE CASCADE,
    log SMALLINT NOT NULL,
    number BIGINT NOT NULL,
    timestamp BIGINT NOT NULL,
    key TEXT NOT NULL,
    item_hashes BLOB NOT NULL,
    PRIMARY KEY (register_id, log, number)
);
CREATE INDEX entries_by_key ON entries (register_id, log, key, number);

CREATE TABLE records (
    register_id BIGINT NOT NULL REFERENCES registers (id) ON DELETE CASCADE,
    log SMALLINT NOT NULL,
    key TEXT NOT NULL,
    entry_number BIGINT NOT NULL,
    PRIMARY KEY (register_id, log, key)
);
CREATE INDEX records_by_entry ON records (register_id, log, entry_number);

-- The items of each current user record, for facets (records whose field has a value).
CREATE TABLE record_items (
    register_id BIGINT NOT NULL REFERENCES registers (id) ON DELETE CASCADE,
    key TEXT NOT NULL,
    position SMALLINT NOT NULL,
    hash BLOB NOT NULL,
    PRIMARY KEY (register_id, key, position)
);
CREATE INDEX record_items_by_hash ON record_items (hash);

CREATE TABLE merkle_nodes (
    register_id BIGINT NOT NULL REFERENCES registers (id) ON DELETE CASCADE,
    log SMALLINT NOT NULL,
    level SMALLINT NOT NULL,
    idx BIGINT NOT NULL,
    hash BLOB NOT NULL,
    PRIMARY KEY (register_id, log, level, idx)
);

CREATE TABLE index_entries (
    register_id BIGINT NOT NULL REFERENCES registers (id) ON DELETE CASCADE,
    index_name TEXT NOT NULL,
    index_entry_number BIGINT NOT NULL,
    entry_number BIGINT NOT NULL,
    timestamp BIGINT NOT NULL,
    key TEXT NOT NULL,
    item_hashes BLOB NOT NULL,
    PRIMARY KEY (register_id, index_name, index_entry_number)
);
CREATE INDEX index_entries_by_key ON index_entries (register_id, index_name, key, index_entry_number);

CREATE TABLE users (
    name TEXT PRIMARY KEY NOT NULL,
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE plans (
    uuid TEXT PRIMARY KEY NOT NULL,
    replaces_uuid TEXT,
    owner TEXT NOT NULL REFERENCES users (name),
    initiator_role TEXT NOT NULL,
    status TEXT NOT NULL,
    status_message TEXT,
    status_on BIGINT NOT NULL,
    document TEXT NOT NULL,
    primary_approved_on BIGINT,
    secondary_approved_on BIGINT,
    created_at BIGINT NOT NULL
);

CREATE TABLE plan_transitions (
    plan_uuid TEXT NOT NULL REFERENCES plans (uuid) ON DELETE CASCADE,
    seq BIGINT NOT NULL,
    status TEXT NOT NULL,
    status_message TEXT,
    actor TEXT NOT NULL,
    at BIGINT NOT NULL,
    PRIMARY KEY (plan_uuid, seq)
);

CREATE TABLE subscriptions (
    plan_uuid TEXT NOT NULL,
    slice_uuid TEXT NOT NULL,
    remote TEXT NOT NULL,
    register_name TEXT NOT NULL,
    last_size BIGINT NOT NULL DEFAULT 0,
    last_root BLOB,
    last_success BIGINT,
    last_error TEXT,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (plan_uuid, slice_uuid)
);
