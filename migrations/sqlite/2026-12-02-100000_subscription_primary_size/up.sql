-- The primary's size as the last sync run saw it (its slice state on a pull, the local
-- register on a push), so operators see how far a mirror is behind: primary_size - last_size.
-- NULL until a run has seen it.
ALTER TABLE subscriptions ADD COLUMN primary_size BIGINT;
