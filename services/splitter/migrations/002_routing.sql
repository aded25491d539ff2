-- Routing that merchants steer: vendors' routing fields, the merchant's settings, stock with its age,
-- feeds, holds, the vendor order lifecycle per line, and every decision kept as history.

ALTER TABLE vendors DROP CONSTRAINT vendors_kind_check;
ALTER TABLE vendors ADD CONSTRAINT vendors_kind_check
    CHECK (kind IN ('shipstation', 'webhook', 'csv_sftp', 'edi_x12', 'email'));
ALTER TABLE vendors
    ADD COLUMN active                 boolean       NOT NULL DEFAULT true,
    ADD COLUMN countries              text[]        NOT NULL DEFAULT '{}',
    ADD COLUMN accepts_backorders     boolean       NOT NULL DEFAULT false,
    ADD COLUMN handling_fee           numeric(12, 2) NOT NULL DEFAULT 0 CHECK (handling_fee >= 0),
    ADD COLUMN stock_buffer           integer       NOT NULL DEFAULT 0 CHECK (stock_buffer >= 0),
    ADD COLUMN feed_stale_after_hours integer       CHECK (feed_stale_after_hours > 0),
    ADD COLUMN ack_deadline_hours     integer       CHECK (ack_deadline_hours > 0),
    ADD COLUMN min_inventory_rows     integer       CHECK (min_inventory_rows >= 0),
    ADD COLUMN feed_max_drop_ratio    numeric(4, 3) NOT NULL DEFAULT 0.5 CHECK (feed_max_drop_ratio BETWEEN 0 AND 1),
    ADD COLUMN feed_max_zeroed_ratio  numeric(4, 3) NOT NULL DEFAULT 0.5 CHECK (feed_max_zeroed_ratio BETWEEN 0 AND 1),
    ADD COLUMN last_feed_as_of        timestamptz;

-- stock_as_of: when the vendor counted (a feed's as_of) or when ops set it; null with stock null: untracked.
ALTER TABLE sources ADD COLUMN stock_as_of timestamptz;
CREATE INDEX sources_by_vendor ON sources (vendor, sku);
CREATE INDEX sources_by_vendor_sku ON sources (vendor, vendor_sku) WHERE vendor_sku IS NOT NULL;

CREATE TABLE routing_settings (
    singleton                 boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    strategy                  text    NOT NULL DEFAULT 'priority'
        CHECK (strategy IN ('priority', 'lowest_cost', 'lowest_cost_backorder', 'most_stock')),
    prefer_single_vendor      boolean NOT NULL DEFAULT false,
    split_quantities          boolean NOT NULL DEFAULT false,
    hold_unpaid               boolean NOT NULL DEFAULT true,
    max_order_value           numeric(14, 2) CHECK (max_order_value >= 0),
    hold_po_box               boolean NOT NULL DEFAULT false,
    duplicate_window_minutes  integer NOT NULL DEFAULT 60 CHECK (duplicate_window_minutes >= 0),
    updated_at                timestamptz NOT NULL DEFAULT now()
);
INSERT INTO routing_settings DEFAULT VALUES;

-- holds: the current reasons [{code, detail, line_id, since}]; tried: {line_id: [vendor, ...]} already tried.
ALTER TABLE routed_orders
    ADD COLUMN holds         jsonb   NOT NULL DEFAULT '[]'::jsonb,
    ADD COLUMN tried         jsonb   NOT NULL DEFAULT '{}'::jsonb,
    ADD COLUMN fingerprint   text,
    ADD COLUMN next_sequence integer NOT NULL DEFAULT 1;
CREATE INDEX routed_orders_fingerprint ON routed_orders (fingerprint, created_at) WHERE fingerprint IS NOT NULL;
UPDATE routed_orders SET next_sequence = 1 + (SELECT count(*) FROM vendor_orders v WHERE v.order_id = routed_orders.order_id);

-- A channel status that overtook its order (order.updated before order.received).
CREATE TABLE early_updates (
    order_id    text PRIMARY KEY,
    status      text        NOT NULL,
    occurred_at timestamptz NOT NULL
);

-- History: every decision, hold, reroute, release and late shipment, appended, never rewritten.
ALTER TABLE routing_decisions DROP CONSTRAINT routing_decisions_pkey;
ALTER TABLE routing_decisions
    ADD COLUMN seq             bigserial PRIMARY KEY,
    ADD COLUMN kind            text NOT NULL DEFAULT 'routed',
    ADD COLUMN vendor_order_id text,
    ADD COLUMN hold_code       text;
ALTER TABLE routing_decisions ALTER COLUMN line_id DROP NOT NULL;
ALTER TABLE routing_decisions ALTER COLUMN sku DROP NOT NULL;
ALTER TABLE routing_decisions ALTER COLUMN quantity DROP NOT NULL;
CREATE INDEX routing_decisions_by_order ON routing_decisions (order_id, seq);

-- A vendor may get a second vendor order for the same order (a reroute); numbers stay unique per vendor.
ALTER TABLE vendor_orders DROP CONSTRAINT vendor_orders_order_id_vendor_key;
ALTER TABLE vendor_orders ADD CONSTRAINT vendor_orders_vendor_number_key UNIQUE (vendor, number);
CREATE INDEX vendor_orders_by_order ON vendor_orders (order_id);
ALTER TABLE vendor_orders DROP CONSTRAINT vendor_orders_status_check;
ALTER TABLE vendor_orders ADD CONSTRAINT vendor_orders_status_check
    CHECK (status IN ('open', 'acknowledged', 'partially_shipped', 'shipped', 'cancelled', 'failed'));
ALTER TABLE vendor_orders
    ADD COLUMN acknowledged_at      timestamptz,
    ADD COLUMN counted_at           timestamptz,   -- the vendor's acknowledgement or first pickup
    ADD COLUMN ack_due_at           timestamptz,   -- created + the vendor's ack_deadline_hours
    ADD COLUMN failed_reason        text,
    ADD COLUMN shipped_after_cancel boolean NOT NULL DEFAULT false;
CREATE INDEX vendor_orders_ack_due ON vendor_orders (ack_due_at)
    WHERE ack_due_at IS NOT NULL AND acknowledged_at IS NULL AND status = 'open';

-- Per line what was sent and what became of it. reserving: its open units count against the source's
-- stock until the vendor has counted them in a feed.
CREATE TABLE vendor_order_lines (
    vendor_order_id text    NOT NULL REFERENCES vendor_orders (id),
    line_id         text    NOT NULL,
    sku             text    NOT NULL,
    vendor          text    NOT NULL,
    quantity        integer NOT NULL CHECK (quantity > 0),
    accepted        integer NOT NULL DEFAULT 0,
    backordered     integer NOT NULL DEFAULT 0,
    rejected        integer NOT NULL DEFAULT 0,
    shipped         integer NOT NULL DEFAULT 0,
    withdrawn       integer NOT NULL DEFAULT 0,
    reserving       boolean NOT NULL DEFAULT true,
    PRIMARY KEY (vendor_order_id, line_id)
);
CREATE INDEX vendor_order_lines_reserving ON vendor_order_lines (sku, vendor) WHERE reserving;
INSERT INTO vendor_order_lines (vendor_order_id, line_id, sku, vendor, quantity, reserving)
SELECT v.id, li ->> 'line_id', li ->> 'sku', v.vendor, (li ->> 'quantity')::int, false
FROM vendor_orders v, jsonb_array_elements(v.payload -> 'lines') AS li;

CREATE TABLE feeds (
    id          text PRIMARY KEY,
    vendor      text        NOT NULL REFERENCES vendors (code),
    mode        text        NOT NULL CHECK (mode IN ('snapshot', 'delta')),
    source      text        NOT NULL,
    as_of       timestamptz NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now(),
    state       text        NOT NULL CHECK (state IN ('applied', 'ignored', 'quarantined', 'accepted')),
    reason      text        NOT NULL,
    rows        integer     NOT NULL,
    changed     integer     NOT NULL DEFAULT 0,
    unknown     text[]      NOT NULL DEFAULT '{}',
    levels      jsonb,      -- kept while quarantined, so a person can accept it
    decided_at  timestamptz
);
CREATE INDEX feeds_by_vendor ON feeds (vendor, received_at DESC);

-- SKUs whose availability changed and has not been announced yet (inventory.available, coalesced).
CREATE TABLE availability_changes (
    sku        text PRIMARY KEY,
    changed_at timestamptz NOT NULL DEFAULT now()
);
