CREATE TABLE channels (
    code            text PRIMARY KEY,
    name            text        NOT NULL,
    webhook_url     text,
    webhook_secret  text        NOT NULL,
    api_key_hash    text        NOT NULL UNIQUE,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE orders (
    id              text PRIMARY KEY,
    channel         text        NOT NULL REFERENCES channels (code),
    external_id     text        NOT NULL,
    order_number    text        NOT NULL,
    status          text        NOT NULL DEFAULT 'received',
    payload         jsonb       NOT NULL,
    received_at     timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    cancelled_at    timestamptz,
    UNIQUE (channel, external_id)
);

CREATE TABLE order_status_history (
    id              bigserial PRIMARY KEY,
    order_id        text        NOT NULL REFERENCES orders (id),
    status          text        NOT NULL,
    cause           text        NOT NULL,
    changed_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX order_status_history_order ON order_status_history (order_id, id);

-- Signed webhooks to the channel: kept until the channel answers 2xx, sent in order per order.
CREATE TABLE upstream_deliveries (
    seq             bigserial PRIMARY KEY,
    delivery_id     text        NOT NULL UNIQUE,
    order_id        text        NOT NULL REFERENCES orders (id),
    channel         text        NOT NULL REFERENCES channels (code),
    event_type      text        NOT NULL,
    body            jsonb       NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    attempts        integer     NOT NULL DEFAULT 0,
    delivered_at    timestamptz,
    last_status     integer,
    last_error      text
);
CREATE INDEX upstream_deliveries_due ON upstream_deliveries (next_attempt_at) WHERE delivered_at IS NULL;
CREATE INDEX upstream_deliveries_order ON upstream_deliveries (order_id, seq) WHERE delivered_at IS NULL;

CREATE FUNCTION upstream_delivery_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('upstream_' || TG_TABLE_SCHEMA, '');
    RETURN NULL;
END;
$$;
CREATE TRIGGER upstream_delivery_inserted AFTER INSERT ON upstream_deliveries
    FOR EACH STATEMENT EXECUTE FUNCTION upstream_delivery_notify();
