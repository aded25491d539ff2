-- When the order's last ship-to change was made (order.ship_to_changed): an older change arriving late
-- is not applied over a newer one.
ALTER TABLE routed_orders ADD COLUMN ship_to_changed_at timestamptz;
