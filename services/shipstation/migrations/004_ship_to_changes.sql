-- When the vendor order's ship-to last changed (vendor_order.ship_to_changed): an older change that
-- arrives late is not applied over a newer one.
ALTER TABLE vendor_orders ADD COLUMN ship_to_changed_at timestamptz;
