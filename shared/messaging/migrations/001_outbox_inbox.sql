-- The outbox: events written in the same transaction as the state change that causes them.
-- The relay publishes unsent rows in id order and stamps published_at once the broker confirmed.
CREATE TABLE outbox (
    id            bigserial PRIMARY KEY,
    message_id    text        NOT NULL UNIQUE,
    routing_key   text        NOT NULL,
    message_type  text        NOT NULL,
    correlation_id text       NOT NULL,
    body          bytea       NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    published_at  timestamptz,
    attempts      integer     NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    last_error    text
);
CREATE INDEX outbox_unpublished ON outbox (id) WHERE published_at IS NULL;

-- Wakes the relay of this schema; the payload is empty on purpose (the relay reads the table).
CREATE FUNCTION outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('outbox_' || TG_TABLE_SCHEMA, '');
    RETURN NULL;
END;
$$;
CREATE TRIGGER outbox_inserted AFTER INSERT ON outbox
    FOR EACH STATEMENT EXECUTE FUNCTION outbox_notify();

-- The inbox: message ids a consumer has applied, written in the same transaction as the effect.
CREATE TABLE inbox (
    consumer      text        NOT NULL,
    message_id    text        NOT NULL,
    message_type  text        NOT NULL,
    processed_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (consumer, message_id)
);
