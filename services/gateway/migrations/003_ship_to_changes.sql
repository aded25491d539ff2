-- Ship-to changes owed per vendor order (vendor_order.ship_to_changed), numbered like withdrawals: each
-- its own delivery and file name; the time of the latest one, so an older change arriving late is not
-- sent after a newer one.
ALTER TABLE vendor_orders ADD COLUMN ship_to_changes int NOT NULL DEFAULT 0;
ALTER TABLE vendor_orders ADD COLUMN ship_to_changed_at timestamptz;
