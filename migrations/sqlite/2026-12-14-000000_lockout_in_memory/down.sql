CREATE TABLE login_failures (
    user_name TEXT PRIMARY KEY NOT NULL REFERENCES users (name) ON DELETE CASCADE,
    failures BIGINT NOT NULL,
    locked_until BIGINT
);
