-- The plan API: this node's identity, the registers it offers as slices, and failed logins.

-- Settings of this node, one row per name: its UUIDs in plan documents ("node_uuid",
-- "instance_uuid", "controller_uuid", "pool_uuid"), its description, and the generated
-- token secret of an embedded (SQLite) installation.
CREATE TABLE node_settings (
    name TEXT PRIMARY KEY NOT NULL,
    value TEXT NOT NULL
);

-- Registers offered to partners: each is a slice of this node's Primary pool.
CREATE TABLE offers (
    register_name TEXT PRIMARY KEY NOT NULL,
    slice_uuid TEXT NOT NULL UNIQUE,
    description TEXT NOT NULL,
    offered_at BIGINT NOT NULL
);

-- Consecutive failed logins per account; a run of them locks the account for a while.
CREATE TABLE login_failures (
    user_name TEXT PRIMARY KEY NOT NULL REFERENCES users (name) ON DELETE CASCADE,
    failures BIGINT NOT NULL,
    locked_until BIGINT
);
