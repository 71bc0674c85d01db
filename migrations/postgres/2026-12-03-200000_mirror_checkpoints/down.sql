DROP TABLE mirror_checkpoints;
ALTER TABLE subscriptions DROP COLUMN cosigner_key;
ALTER TABLE subscriptions DROP COLUMN checkpoint_key;
