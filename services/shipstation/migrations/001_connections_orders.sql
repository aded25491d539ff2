-- One ShipStation connection per ShipStation-kind vendor: what the merchant pasted into ShipStation.
CREATE TABLE connections (
    vendor            text PRIMARY KEY,
    username          text UNIQUE,
    password_hash     text,
    timezone          text        NOT NULL DEFAULT 'UTC',
    status_names      jsonb       NOT NULL DEFAULT '{}'::jsonb,
    page_size         integer     NOT NULL DEFAULT 100 CHECK (page_size BETWEEN 1 AND 500),
    lookback_minutes  integer     NOT NULL DEFAULT 0 CHECK (lookback_minutes BETWEEN 0 AND 10080),
    zone_warning      text,
    zone_warning_at   timestamptz,
    created_at        timestamptz NOT NULL DEFAULT now(),
    credentials_rotated_at timestamptz
);

-- Vendor orders ShipStation may export. last_modified moves only when ShipStation should see a
-- change (status, cancellation), never because an export read the row.
CREATE TABLE vendor_orders (
    id              text PRIMARY KEY,
    vendor          text        NOT NULL,
    order_id        text        NOT NULL,
    number          text        NOT NULL,
    state           text        NOT NULL CHECK (state IN ('unpaid', 'paid', 'on_hold', 'partially_shipped', 'shipped', 'cancelled')),
    payload         jsonb       NOT NULL,
    shipped         jsonb       NOT NULL DEFAULT '{}'::jsonb,
    last_modified   timestamptz NOT NULL DEFAULT now(),
    created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX vendor_orders_export ON vendor_orders (vendor, last_modified, id);
CREATE INDEX vendor_orders_number ON vendor_orders (vendor, number);

CREATE TABLE shipments (
    shipment_id      text PRIMARY KEY,
    vendor           text        NOT NULL,
    vendor_order_id  text        NOT NULL REFERENCES vendor_orders (id),
    payload          jsonb       NOT NULL,
    received_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX shipments_vendor_order ON shipments (vendor_order_id);

-- What ops should look at: orders left out of an export, notices for unknown orders.
CREATE TABLE problems (
    id               bigserial PRIMARY KEY,
    vendor           text        NOT NULL,
    kind             text        NOT NULL,
    vendor_order_id  text,
    detail           text        NOT NULL,
    occurred_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX problems_vendor ON problems (vendor, id DESC);

-- Every export and shipnotify call, without secrets.
CREATE TABLE polls (
    id               bigserial PRIMARY KEY,
    vendor           text        NOT NULL,
    action           text        NOT NULL,
    at               timestamptz NOT NULL DEFAULT now(),
    window_start     timestamptz,
    window_end       timestamptz,
    page             integer,
    orders_returned  integer,
    duration_ms      numeric(10, 2),
    outcome          text        NOT NULL,
    detail           text
);
CREATE INDEX polls_vendor ON polls (vendor, id DESC);
