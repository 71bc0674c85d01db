CREATE TABLE new_register_items (
    register_id BIGINT NOT NULL REFERENCES registers (id) ON DELETE CASCADE,
    hash BLOB NOT NULL REFERENCES items (hash),
    PRIMARY KEY (register_id, hash)
);
INSERT INTO new_register_items SELECT * FROM register_items;
DROP TABLE register_items;
ALTER TABLE new_register_items RENAME TO register_items;

CREATE TABLE new_entries (
    register_id BIGINT NOT NULL REFERENCES registers (id) ON DELETE CASCADE,
    log SMALLINT NOT NULL,
    number BIGINT NOT NULL,
    timestamp BIGINT NOT NULL,
    key TEXT NOT NULL,
    item_hashes BLOB NOT NULL,
    PRIMARY KEY (register_id, log, number)
);
INSERT INTO new_entries SELECT * FROM entries;
DROP TABLE entries;
ALTER TABLE new_entries RENAME TO entries;
CREATE INDEX entries_by_key ON entries (register_id, log, key, number);

CREATE TABLE new_records (
    register_id BIGINT NOT NULL REFERENCES registers (id) ON DELETE CASCADE,
    log SMALLINT NOT NULL,
    key TEXT NOT NULL,
    entry_number BIGINT NOT NULL,
    PRIMARY KEY (register_id, log, key)
);
INSERT INTO new_records SELECT * FROM records;
DROP TABLE records;
ALTER TABLE new_records RENAME TO records;
CREATE INDEX records_by_entry ON records (register_id, log, entry_number);

CREATE TABLE new_record_items (
    register_id BIGINT NOT NULL REFERENCES registers (id) ON DELETE CASCADE,
    key TEXT NOT NULL,
    position SMALLINT NOT NULL,
    hash BLOB NOT NULL,
    PRIMARY KEY (register_id, key, position)
);
INSERT INTO new_record_items SELECT * FROM record_items;
DROP TABLE record_items;
ALTER TABLE new_record_items RENAME TO record_items;
CREATE INDEX record_items_by_hash ON record_items (hash);

CREATE TABLE new_merkle_nodes (
    register_id BIGINT NOT NULL REFERENCES registers (id) ON DELETE CASCADE,
    log SMALLINT NOT NULL,
    level SMALLINT NOT NULL,
    idx BIGINT NOT NULL,
    hash BLOB NOT NULL,
    PRIMARY KEY (register_id, log, level, idx)
);
INSERT INTO new_merkle_nodes SELECT * FROM merkle_nodes;
DROP TABLE merkle_nodes;
ALTER TABLE new_merkle_nodes RENAME TO merkle_nodes;

CREATE TABLE new_index_entries (
    register_id BIGINT NOT NULL REFERENCES registers (id) ON DELETE CASCADE,
    index_name TEXT NOT NULL,
    index_entry_number BIGINT NOT NULL,
    entry_number BIGINT NOT NULL,
    timestamp BIGINT NOT NULL,
    key TEXT NOT NULL,
    item_hashes BLOB NOT NULL,
    PRIMARY KEY (register_id, index_name, index_entry_number)
);
INSERT INTO new_index_entries SELECT * FROM index_entries;
DROP TABLE index_entries;
ALTER TABLE new_index_entries RENAME TO index_entries;
CREATE INDEX index_entries_by_key
    ON index_entries (register_id, index_name, key, index_entry_number);

CREATE TABLE new_index_logs (
    register_id BIGINT NOT NULL REFERENCES registers (id) ON DELETE CASCADE,
    index_name TEXT NOT NULL,
    size BIGINT NOT NULL,
    root BLOB NOT NULL,
    record_count BIGINT NOT NULL,
    item_count BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (register_id, index_name)
);
INSERT INTO new_index_logs SELECT * FROM index_logs;
DROP TABLE index_logs;
ALTER TABLE new_index_logs RENAME TO index_logs;

CREATE TABLE new_index_merkle_nodes (
    register_id BIGINT NOT NULL REFERENCES registers (id) ON DELETE CASCADE,
    index_name TEXT NOT NULL,
    level SMALLINT NOT NULL,
    idx BIGINT NOT NULL,
    hash BLOB NOT NULL,
    PRIMARY KEY (register_id, index_name, level, idx)
);
INSERT INTO new_index_merkle_nodes SELECT * FROM index_merkle_nodes;
DROP TABLE index_merkle_nodes;
ALTER TABLE new_index_merkle_nodes RENAME TO index_merkle_nodes;

CREATE TABLE new_index_items (
    register_id BIGINT NOT NULL REFERENCES registers (id) ON DELETE CASCADE,
    index_name TEXT NOT NULL,
    hash BLOB NOT NULL REFERENCES items (hash),
    PRIMARY KEY (register_id, index_name, hash)
);
INSERT INTO new_index_items SELECT * FROM index_items;
DROP TABLE index_items;
ALTER TABLE new_index_items RENAME TO index_items;
