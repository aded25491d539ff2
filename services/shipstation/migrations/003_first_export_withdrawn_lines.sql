-- first_exported_at: when an export answer first carried the vendor order. Setting it (only while it
-- is NULL) is what makes that export the vendor order's one acknowledgement, however many adapter
-- instances or polls serve it.
-- withdrawn: units per line the splitter withdrew (vendor_order.lines_cancelled); the payload stays
-- the vendor order as created, the export shows what stands.
ALTER TABLE vendor_orders
    ADD COLUMN first_exported_at  timestamptz,
    ADD COLUMN withdrawn          jsonb NOT NULL DEFAULT '{}'::jsonb;
