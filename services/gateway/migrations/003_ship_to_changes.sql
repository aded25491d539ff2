-- Ship-to changes owed per vendor order (vendor_order.ship_to_changed), numbered like withdrawals: each
-- its own delivery and file name.
ALTER TABLE vendor_orders ADD COLUMN ship_to_changes int NOT NULL DEFAULT 0;
