"""The splitter's tables, one module per area; every function takes the connection of the transaction
it belongs to. :mod:`.vendors` (vendors and their routing fields), :mod:`.catalog` (SKUs and sources with
their stock and reservations), :mod:`.settings` (the merchant's routing settings), :mod:`.orders` (orders
seen, holds, decisions, vendor orders and their lines), :mod:`.stock` (feeds and availability)."""
