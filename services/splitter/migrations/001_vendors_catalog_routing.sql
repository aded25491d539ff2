CREATE TABLE vendors (
    code        text PRIMARY KEY,
    name        text        NOT NULL,
    kind        text        NOT NULL CHECK (kind IN ('shipstation', 'webhook', 'csv_sftp', 'edi_x12')),
    settings    jsonb       NOT NULL DEFAULT '{}'::jsonb,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE catalog (
    sku         text PRIMARY KEY,
    name        text,
    updated_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE sources (
    sku         text    NOT NULL REFERENCES catalog (sku) ON DELETE CASCADE,
    vendor      text    NOT NULL REFERENCES vendors (code),
    vendor_sku  text,
    cost        numeric(12, 2),
    stock       integer CHECK (stock >= 0),
    priority    integer NOT NULL DEFAULT 100,
    PRIMARY KEY (sku, vendor)
);

-- One row per order the splitter has seen: routed, held (with the reason) or cancelled.
CREATE TABLE routed_orders (
    order_id     text PRIMARY KEY,
    order_number text,
    state        text        NOT NULL CHECK (state IN ('routed', 'held', 'cancelled')),
    hold_reason  text,
    payload      jsonb,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX routed_orders_held ON routed_orders (state) WHERE state = 'held';

CREATE TABLE routing_decisions (
    order_id    text    NOT NULL REFERENCES routed_orders (order_id),
    line_id     text    NOT NULL,
    sku         text    NOT NULL,
    quantity    integer NOT NULL,
    vendor      text,
    reason      text    NOT NULL,
    decided_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (order_id, line_id)
);

CREATE TABLE vendor_orders (
    id            text PRIMARY KEY,
    order_id      text        NOT NULL REFERENCES routed_orders (order_id),
    vendor        text        NOT NULL REFERENCES vendors (code),
    number        text        NOT NULL,
    status        text        NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'cancelled')),
    payload       jsonb       NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    cancelled_at  timestamptz,
    -- The guarantee users care most about: one vendor order per (order, vendor), whatever happens.
    UNIQUE (order_id, vendor)
);
