-- The channels service's own tables: shops, the platform's order ids beside ours, the work owed to
-- intake and to the platforms (webhooks received, shipments to push), what was pushed, and stock.

CREATE TABLE shops (
    code                    text        PRIMARY KEY,
    platform                text        NOT NULL CHECK (platform IN ('shopify', 'woocommerce')),
    channel                 text        NOT NULL UNIQUE,     -- the intake channel its orders arrive on
    base_url                text        NOT NULL,
    api_version             text,
    push_stock              boolean     NOT NULL DEFAULT true,
    options                 jsonb       NOT NULL DEFAULT '{}',
    sealed_secrets          text        NOT NULL,            -- platform credentials, webhook secret, channel key
    webhook_topics          text[]      NOT NULL DEFAULT '{}',
    webhooks_registered_at  timestamptz,
    webhook_error           text,
    -- Missed webhooks: the platform is asked for orders changed since the last one seen, on start and hourly.
    seen_through            timestamptz NOT NULL DEFAULT now(),
    reconcile_due_at        timestamptz NOT NULL DEFAULT now(),
    reconciled_at           timestamptz,
    reconcile_error         text,
    created_at              timestamptz NOT NULL DEFAULT now(),
    updated_at              timestamptz NOT NULL DEFAULT now()
);

-- One row per platform order seen: which intake order it became (or why it was skipped), and the
-- fingerprint of what we act on, so an update that changes none of it (our own write echoing back) is ignored.
CREATE TABLE platform_orders (
    shop                text        NOT NULL REFERENCES shops (code) ON DELETE CASCADE,
    platform_order_id   text        NOT NULL,
    order_id            text        UNIQUE,
    order_number        text,
    channel_status      text,
    fingerprint         text        NOT NULL DEFAULT '',
    state               text        NOT NULL CHECK (state IN ('open', 'cancelled', 'skipped')),
    reason              text,
    platform_updated_at timestamptz,                     -- the platform's updated_at last acted on: older news is stale
    recorded_at         timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (shop, platform_order_id)
);

-- Work owed, in order per (shop, lane): a webhook to turn into an intake call ('inbound', lane =
-- the platform order) or a shipment to push ('outbound', lane = the platform order). A round leases
-- rows by moving next_attempt_at forward; done rows stay for the record.
CREATE TABLE tasks (
    seq             bigserial   PRIMARY KEY,
    shop            text        NOT NULL REFERENCES shops (code) ON DELETE CASCADE,
    kind            text        NOT NULL CHECK (kind IN ('webhook', 'shipment')),
    dedupe_key      text        NOT NULL,    -- the platform's webhook id, or the shipment id
    lane            text        NOT NULL,
    topic           text        NOT NULL,
    body            jsonb       NOT NULL,
    state           text        NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'done', 'failed')),
    outcome         text,
    attempts        int         NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    last_error      text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    done_at         timestamptz,
    UNIQUE (shop, kind, dedupe_key)
);
CREATE INDEX tasks_due ON tasks (next_attempt_at) WHERE state = 'pending';
CREATE INDEX tasks_lane ON tasks (shop, kind, lane, seq) WHERE state = 'pending';

-- What each shipment became on the platform: its fulfillment (Shopify) or order note (WooCommerce).
CREATE TABLE pushed_shipments (
    shipment_id         text        PRIMARY KEY,
    shop                text        NOT NULL REFERENCES shops (code) ON DELETE CASCADE,
    platform_order_id   text        NOT NULL,
    vendor              text        NOT NULL,
    remote_id           text        NOT NULL,
    tracking_numbers    text[]      NOT NULL DEFAULT '{}',
    detail              text        NOT NULL DEFAULT '',
    pushed_at           timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX pushed_shipments_order ON pushed_shipments (shop, platform_order_id, pushed_at);

-- What each shop may sell of a SKU (from inventory.available) and what it was last told: a level
-- whose wanted value differs from the pushed one is due.
CREATE TABLE stock_levels (
    shop            text        NOT NULL REFERENCES shops (code) ON DELETE CASCADE,
    sku             text        NOT NULL,
    wanted          int         NOT NULL,
    pushed          int,
    unknown         boolean     NOT NULL DEFAULT false,   -- the shop sells no product with this SKU
    changed_at      timestamptz NOT NULL DEFAULT now(),
    pushed_at       timestamptz,
    attempts        int         NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    last_error      text,
    PRIMARY KEY (shop, sku)
);
CREATE INDEX stock_levels_due ON stock_levels (next_attempt_at) WHERE pushed IS DISTINCT FROM wanted;

CREATE FUNCTION channels_work_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('channel_work_' || TG_TABLE_SCHEMA, '');
    RETURN NULL;
END;
$$;
CREATE TRIGGER channels_task_inserted AFTER INSERT ON tasks
    FOR EACH STATEMENT EXECUTE FUNCTION channels_work_notify();
CREATE TRIGGER channels_stock_changed AFTER INSERT OR UPDATE OF wanted ON stock_levels
    FOR EACH STATEMENT EXECUTE FUNCTION channels_work_notify();
