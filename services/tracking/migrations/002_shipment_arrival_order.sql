-- Several shipments can now be stored in one transaction (consumers apply waiting messages
-- together), where now() is the same for all of them: the moment each row was written keeps the
-- order in which they arrived.
ALTER TABLE shipments ALTER COLUMN reported_at SET DEFAULT clock_timestamp();
