-- Writer tokens: bearer secrets for data owners' pipelines (api-actix token create). Only the
-- SHA-256 of the secret is kept (a 256-bit random secret needs no slow hash), unique so that
-- checking a token is one indexed lookup. The scope is 'admin' (every register) or
-- 'register' with the one register it may write. A revoked token keeps its row (and name).
-- last_used_at is refreshed at most once a minute, so checks rarely write.
CREATE TABLE writer_tokens (
    id BIGINT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL UNIQUE,
    secret_hash BLOB NOT NULL UNIQUE,
    scope TEXT NOT NULL CHECK (scope IN ('admin', 'register')),
    register_name TEXT,
    created_at BIGINT NOT NULL,
    last_used_at BIGINT,
    revoked_at BIGINT,
    CHECK ((scope = 'admin') = (register_name IS NULL))
);
