ALTER TABLE register_items
    ADD CONSTRAINT register_items_register_id_fkey
        FOREIGN KEY (register_id) REFERENCES registers (id) ON DELETE CASCADE,
    ADD CONSTRAINT register_items_hash_fkey FOREIGN KEY (hash) REFERENCES items (hash);
ALTER TABLE entries ADD CONSTRAINT entries_register_id_fkey
    FOREIGN KEY (register_id) REFERENCES registers (id) ON DELETE CASCADE;
ALTER TABLE records ADD CONSTRAINT records_register_id_fkey
    FOREIGN KEY (register_id) REFERENCES registers (id) ON DELETE CASCADE;
ALTER TABLE record_items ADD CONSTRAINT record_items_register_id_fkey
    FOREIGN KEY (register_id) REFERENCES registers (id) ON DELETE CASCADE;
ALTER TABLE merkle_nodes ADD CONSTRAINT merkle_nodes_register_id_fkey
    FOREIGN KEY (register_id) REFERENCES registers (id) ON DELETE CASCADE;
ALTER TABLE index_entries ADD CONSTRAINT index_entries_register_id_fkey
    FOREIGN KEY (register_id) REFERENCES registers (id) ON DELETE CASCADE;
ALTER TABLE index_logs ADD CONSTRAINT index_logs_register_id_fkey
    FOREIGN KEY (register_id) REFERENCES registers (id) ON DELETE CASCADE;
ALTER TABLE index_merkle_nodes ADD CONSTRAINT index_merkle_nodes_register_id_fkey
    FOREIGN KEY (register_id) REFERENCES registers (id) ON DELETE CASCADE;
ALTER TABLE index_items
    ADD CONSTRAINT index_items_register_id_fkey
        FOREIGN KEY (register_id) REFERENCES registers (id) ON DELETE CASCADE,
    ADD CONSTRAINT index_items_hash_fkey FOREIGN KEY (hash) REFERENCES items (hash);
