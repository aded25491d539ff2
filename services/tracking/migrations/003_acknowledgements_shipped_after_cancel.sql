-- What each vendor answered per line (vendor_order.acknowledged): the latest answer per vendor order
-- and line, with its entries (status, quantity, expected ship date), which may split a line's units
-- (some accepted, some backordered). Kept apart from fulfilment: an answer never moves the status.
-- Stored whether or not order.received has arrived yet (they travel on the same queue but may be
-- redelivered out of order).
CREATE TABLE acknowledgements (
    vendor_order_id      text        NOT NULL,
    line_id              text        NOT NULL,
    order_id             text        NOT NULL,
    vendor               text        NOT NULL,
    vendor_order_number  text        NOT NULL,
    entries              jsonb       NOT NULL,
    acknowledged_at      timestamptz NOT NULL,
    PRIMARY KEY (vendor_order_id, line_id)
);
CREATE INDEX acknowledgements_order ON acknowledgements (order_id);

-- A vendor shipped after the order was cancelled: the shipment wins (the status follows it) and ops
-- see that it happened.
ALTER TABLE orders ADD COLUMN shipped_after_cancel boolean NOT NULL DEFAULT false;
