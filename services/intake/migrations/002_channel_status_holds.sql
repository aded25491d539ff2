-- The channel's own status of an order (paid, unpaid, on_hold), which the channel may change after it
-- sent the order (POST /v1/orders/{id}/status); the order as first sent stays in payload.
ALTER TABLE orders ADD COLUMN channel_status text;
UPDATE orders SET channel_status = coalesce(payload ->> 'status', 'paid');
ALTER TABLE orders ALTER COLUMN channel_status SET NOT NULL;

-- The splitter's holds on the order, as the last order.held told them: [{code, detail, line_id, since}].
-- holds_as_of is when the splitter decided what holds stands (the occurred_at of the last order.held
-- or order.released applied), so an event older than that, arriving late, changes nothing.
ALTER TABLE orders ADD COLUMN holds jsonb NOT NULL DEFAULT '[]';
ALTER TABLE orders ADD COLUMN holds_as_of timestamptz;
