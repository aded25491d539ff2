-- availability_changes becomes an append-only log of SKUs. Keyed by SKU, every order's transaction
-- inserted into a key a concurrent transaction might hold uncommitted, and an insert (even ON CONFLICT
-- DO NOTHING) waits for that transaction to end: batches of orders sharing SKUs queued behind each
-- other's commits and, taking the SKUs in different orders, deadlocked. The announcing round takes
-- the logged rows and announces each SKU once, however often it was logged.
ALTER TABLE availability_changes DROP CONSTRAINT availability_changes_pkey;
ALTER TABLE availability_changes ADD COLUMN id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY;
