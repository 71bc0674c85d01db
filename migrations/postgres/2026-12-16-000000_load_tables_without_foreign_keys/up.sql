-- The bulk-loaded tables lose their foreign keys (to registers, and to items for the item
-- references). Checking them cost about a third of a large PostgreSQL load (a trigger per row
-- that looks up and key-share locks the parent). What they guarded holds by construction: no code
-- deletes a register or an item; a load locks and creates its register row before it writes
-- a child row; items are written before the rows that name them, in the same transaction.
-- The small tables (plans, accounts, checkpoints, witnesses, ...) keep theirs.

ALTER TABLE register_items
    DROP CONSTRAINT register_items_register_id_fkey,
    DROP CONSTRAINT register_items_hash_fkey;
ALTER TABLE entries DROP CONSTRAINT entries_register_id_fkey;
ALTER TABLE records DROP CONSTRAINT records_register_id_fkey;
ALTER TABLE record_items DROP CONSTRAINT record_items_register_id_fkey;
ALTER TABLE merkle_nodes DROP CONSTRAINT merkle_nodes_register_id_fkey;
ALTER TABLE index_entries DROP CONSTRAINT index_entries_register_id_fkey;
ALTER TABLE index_logs DROP CONSTRAINT index_logs_register_id_fkey;
ALTER TABLE index_merkle_nodes DROP CONSTRAINT index_merkle_nodes_register_id_fkey;
ALTER TABLE index_items
    DROP CONSTRAINT index_items_register_id_fkey,
    DROP CONSTRAINT index_items_hash_fkey;
