-- The orders listing for ops (GET /v1/orders, services/intake/listing.py): newest first by
-- (received_at, id), optionally of one channel or one status, and searched by order number or external id
-- (prefix, any letter case) or by the customer's name or e-mail (substring, any letter case). Each page
-- walks one of these indexes, so it costs the same with 100,000 orders as with 100.
CREATE INDEX orders_received ON orders (received_at DESC, id DESC);
CREATE INDEX orders_channel_received ON orders (channel, received_at DESC, id DESC);
CREATE INDEX orders_status_received ON orders (status, received_at DESC, id DESC);
-- text_pattern_ops compares byte by byte, which is what a prefix range (~>=~ and ~<~) needs whatever the
-- database's collation.
CREATE INDEX orders_order_number_prefix ON orders (lower(order_number) text_pattern_ops);
CREATE INDEX orders_external_id_prefix ON orders (lower(external_id) text_pattern_ops);

-- The customer's name and e-mail (the ship-to's when the channel sent no customer), lower-cased, one line
-- each: what a substring search reads, kept beside the row rather than dug out of the payload per row.
ALTER TABLE orders ADD COLUMN search_text text GENERATED ALWAYS AS (
    lower(
        coalesce(nullif(payload #>> '{customer,name}', ''), nullif(payload #>> '{ship_to,name}', ''), '')
        || E'\n'
        || coalesce(nullif(payload #>> '{customer,email}', ''), nullif(payload #>> '{ship_to,email}', ''), '')
    )
) STORED;

-- A substring search is fast only with a trigram index (pg_trgm, shipped with PostgreSQL and trusted since
-- 13: the database owner may create it). Where it cannot be created (no contrib package, or a role without
-- the CREATE privilege on the database) the migration still succeeds and the search scans the orders
-- newest first instead: correct, only slower once there are many. Creating the extension later and then
-- the index below by hand (with the extension's schema) brings the speed back.
DO $$
DECLARE
    trgm_schema name;
BEGIN
    BEGIN
        CREATE EXTENSION IF NOT EXISTS pg_trgm;
    EXCEPTION WHEN insufficient_privilege OR undefined_file OR feature_not_supported THEN
        RAISE NOTICE 'pg_trgm is not available (%); the order search by name or e-mail scans the orders', SQLERRM;
        RETURN;
    END;
    -- Installed before by someone else, the extension may live in another schema than this service's.
    SELECT n.nspname INTO trgm_schema
        FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'pg_trgm';
    EXECUTE format('CREATE INDEX orders_search_text ON orders USING gin (search_text %I.gin_trgm_ops)', trgm_schema);
END;
$$;
