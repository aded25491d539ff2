-- The gateway's own tables: vendor connections, its copy of each vendor order, deliveries and their
-- attempts, files picked up, and what each vendor has reported shipped.

CREATE TABLE connections (
    vendor          text        PRIMARY KEY,
    kind            text        NOT NULL,
    transport       text        NOT NULL CHECK (transport IN ('webhook', 'sftp', 'email')),
    format          text        NOT NULL CHECK (format IN ('json', 'csv', 'x12')),
    settings        jsonb       NOT NULL,             -- the request without its secrets
    sealed_secrets  text        NOT NULL,             -- ConnectionSecrets as JSON, sealed (shared/secrets.py)
    api_key_hash    text        UNIQUE,               -- SHA-256 of the vendor API key
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    -- Inbound folders (SFTP): when the next poll is due; a poll leases the row by moving it forward.
    next_poll_at    timestamptz NOT NULL DEFAULT now(),
    last_polled_at  timestamptz,
    last_poll_error text
);

-- What the vendor was sent (the vendor_order.created data), so shipments and acknowledgements from
-- files and the vendor API resolve through the vendor order, and cancellations repeat its columns.
CREATE TABLE vendor_orders (
    vendor_order_id     text        PRIMARY KEY,
    vendor              text        NOT NULL,
    vendor_order_number text        NOT NULL,
    order_id            text        NOT NULL,
    data                jsonb       NOT NULL,
    withdrawals         int         NOT NULL DEFAULT 0,  -- lines_cancelled received: numbers the cancel files
    cancelled_at        timestamptz,
    received_at         timestamptz NOT NULL DEFAULT now(),
    UNIQUE (vendor, vendor_order_number)
);

-- One row per vendor order and event to send; sent in seq order per vendor order (a cancel never
-- overtakes its order). A round leases rows by moving next_attempt_at past the lease.
CREATE TABLE deliveries (
    seq             bigserial   PRIMARY KEY,
    delivery_id     text        NOT NULL UNIQUE,
    vendor_order_id text        NOT NULL,
    vendor          text        NOT NULL,
    event           text        NOT NULL,
    payload         jsonb       NOT NULL,             -- the event's data
    state           text        NOT NULL DEFAULT 'pending'
                                CHECK (state IN ('pending', 'sent', 'acknowledged', 'failed', 'cancelled')),
    attempts        int         NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    last_error      text,
    receipt         text,
    file_name       text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    sent_at         timestamptz,
    acknowledged_at timestamptz,
    failed_at       timestamptz
);
CREATE INDEX deliveries_due ON deliveries (next_attempt_at) WHERE state = 'pending';
CREATE INDEX deliveries_vendor_order ON deliveries (vendor_order_id, seq);
CREATE INDEX deliveries_vendor_state ON deliveries (vendor, state, seq);

CREATE TABLE delivery_attempts (
    delivery_id text        NOT NULL,
    attempt     int         NOT NULL,
    at          timestamptz NOT NULL DEFAULT now(),
    ok          boolean     NOT NULL,
    status      int,
    detail      text        NOT NULL,
    PRIMARY KEY (delivery_id, attempt)
);

CREATE FUNCTION gateway_delivery_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('deliveries_' || TG_TABLE_SCHEMA, '');
    RETURN NULL;
END;
$$;
CREATE TRIGGER gateway_delivery_inserted AFTER INSERT ON deliveries
    FOR EACH STATEMENT EXECUTE FUNCTION gateway_delivery_notify();

-- Every inbound file read: applied once, remembered by name, size and digest.
CREATE TABLE pickups (
    id          bigserial   PRIMARY KEY,
    vendor      text        NOT NULL,
    kind        text        NOT NULL,
    name        text        NOT NULL,
    size        bigint      NOT NULL,
    digest      text        NOT NULL,
    state       text        NOT NULL CHECK (state IN ('applied', 'partly_applied', 'rejected')),
    rows        int         NOT NULL DEFAULT 0,
    applied     int         NOT NULL DEFAULT 0,
    errors      jsonb       NOT NULL DEFAULT '[]',
    picked_at   timestamptz NOT NULL DEFAULT now(),
    put_away    boolean     NOT NULL DEFAULT false,  -- archived or deleted on the server
    UNIQUE (vendor, name, size, digest)
);
CREATE INDEX pickups_vendor ON pickups (vendor, id DESC);

-- Packages the vendor reported, by shipment id: a re-sent tracking file changes nothing, and
-- "no lines = all remaining" knows what remains.
CREATE TABLE shipments (
    shipment_id     text        PRIMARY KEY,
    vendor_order_id text        NOT NULL,
    lines           jsonb       NOT NULL,             -- [{line_id, quantity}]
    reported_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX shipments_vendor_order ON shipments (vendor_order_id);

-- Acknowledgements published, by content digest: the same answer twice changes nothing.
CREATE TABLE acknowledgements (
    vendor_order_id text        NOT NULL,
    digest          text        NOT NULL,
    received_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (vendor_order_id, digest)
);
