-- Each index log as a log of its own: its size, root and counts (one row per declared
-- index, written by every load), its Merkle subtrees (levels >= 1; leaves are recomputed
-- from index_entries, as for merkle_nodes), and the items its entries refer to.
-- Index logs that exist before this migration are filled in when a store opens.

CREATE TABLE index_logs (
    register_id BIGINT NOT NULL REFERENCES registers (id) ON DELETE CASCADE,
    index_name TEXT NOT NULL,
    size BIGINT NOT NULL,
    root BLOB NOT NULL,
    record_count BIGINT NOT NULL,
    item_count BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (register_id, index_name)
);

CREATE TABLE index_merkle_nodes (
    register_id BIGINT NOT NULL REFERENCES registers (id) ON DELETE CASCADE,
    index_name TEXT NOT NULL,
    level SMALLINT NOT NULL,
    idx BIGINT NOT NULL,
    hash BLOB NOT NULL,
    PRIMARY KEY (register_id, index_name, level, idx)
);

CREATE TABLE index_items (
    register_id BIGINT NOT NULL REFERENCES registers (id) ON DELETE CASCADE,
    index_name TEXT NOT NULL,
    hash BLOB NOT NULL REFERENCES items (hash),
    PRIMARY KEY (register_id, index_name, hash)
);
