CREATE TABLE orders (
    order_id      text PRIMARY KEY,
    channel       text        NOT NULL,
    external_id   text        NOT NULL,
    order_number  text        NOT NULL,
    status        text,
    cancelled     boolean     NOT NULL DEFAULT false,
    received_at   timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE order_lines (
    order_id  text    NOT NULL REFERENCES orders (order_id),
    line_id   text    NOT NULL,
    sku       text    NOT NULL,
    ordered   integer NOT NULL CHECK (ordered > 0),
    shipped   integer NOT NULL DEFAULT 0 CHECK (shipped >= 0),
    PRIMARY KEY (order_id, line_id)
);

-- Shipments may arrive before their order (events travel on different queues): they wait, unapplied.
CREATE TABLE shipments (
    shipment_id   text PRIMARY KEY,
    order_id      text        NOT NULL,
    vendor        text        NOT NULL,
    vendor_order_id text      NOT NULL,
    payload       jsonb       NOT NULL,
    reported_at   timestamptz NOT NULL DEFAULT now(),
    applied       boolean     NOT NULL DEFAULT false
);
CREATE INDEX shipments_order ON shipments (order_id, reported_at);
