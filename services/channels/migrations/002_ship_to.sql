-- The ship-to each platform order had when it was last applied (a digest of intake's ship_to), so a
-- change of address is told apart from a change of payment status in the same update.
ALTER TABLE platform_orders ADD COLUMN ship_to_digest text;
