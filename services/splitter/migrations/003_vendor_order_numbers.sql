-- Orders of two channels may share a number ("1001"): the next vendor order number of an order is
-- found by prefix (number LIKE '1001-%'), which this index answers without reading every vendor order.
CREATE INDEX vendor_orders_number_prefix ON vendor_orders (number text_pattern_ops);
