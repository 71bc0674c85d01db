DROP TABLE index_items;
DROP TABLE index_merkle_nodes;
DROP TABLE index_logs;
