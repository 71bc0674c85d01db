ALTER TABLE subscriptions DROP COLUMN primary_size;
