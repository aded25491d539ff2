-- The outbox's NOTIFY is for writers outside the service's own process (an operator's SQL, another
-- tool). A service's own connections set dropship.relay_in_process = on: every commit of theirs that
-- wrote outbox rows wakes the relay in the same process directly. Their NOTIFY would be a second
-- wake-up for rows the first round already took (a round that finds nothing), and a NOTIFY costs
-- the commit a database-wide lock that PostgreSQL holds until the commit's WAL is flushed, so
-- concurrent commits that notify cannot share one flush.
CREATE OR REPLACE FUNCTION outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('dropship.relay_in_process', true) IS DISTINCT FROM 'on' THEN
        PERFORM pg_notify('outbox_' || TG_TABLE_SCHEMA, '');
    END IF;
    RETURN NULL;
END;
$$;
