-- The units open vendor orders reserve per source, kept as a running total. Routing summed every open
-- line of a SKU per order, and lines stay open until the vendor's next feed counts them: the sum grew
-- with every order taken since (at a few thousand open lines it was most of PostgreSQL's time per order).
--
-- A line reserves what is left of it (ordered less shipped less the larger of withdrawn and rejected)
-- while `reserving`; a vendor order that is cancelled or failed stops its lines reserving, so the total
-- needs only the lines. Triggers on the lines append each statement's change per source to
-- reservation_changes (appended, not updated in place: concurrent orders of one SKU never queue on a
-- row); the splitter folds those into reserved_units every second. What a source reserves is its
-- reserved_units plus its reservation_changes not folded yet.

UPDATE vendor_order_lines l SET reserving = false
FROM vendor_orders v
WHERE v.id = l.vendor_order_id AND l.reserving AND v.status IN ('cancelled', 'failed');

CREATE FUNCTION reserved_by_line(reserving boolean, quantity integer, shipped integer, withdrawn integer, rejected integer)
RETURNS integer LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN reserving THEN greatest(quantity - shipped - greatest(withdrawn, rejected), 0) ELSE 0 END
$$;

CREATE TABLE reserved_units (
    sku    text   NOT NULL,
    vendor text   NOT NULL,
    units  bigint NOT NULL,
    PRIMARY KEY (sku, vendor)
);
INSERT INTO reserved_units (sku, vendor, units)
SELECT sku, vendor, sum(reserved_by_line(reserving, quantity, shipped, withdrawn, rejected))
FROM vendor_order_lines WHERE reserving GROUP BY sku, vendor;

CREATE TABLE reservation_changes (
    id     bigint  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    sku    text    NOT NULL,
    vendor text    NOT NULL,
    units  integer NOT NULL
);
CREATE INDEX reservation_changes_source ON reservation_changes (sku, vendor);

CREATE FUNCTION note_lines_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO reservation_changes (sku, vendor, units)
    SELECT sku, vendor, sum(reserved_by_line(reserving, quantity, shipped, withdrawn, rejected))
    FROM added GROUP BY sku, vendor
    HAVING sum(reserved_by_line(reserving, quantity, shipped, withdrawn, rejected)) <> 0;
    RETURN NULL;
END $$;

CREATE FUNCTION note_lines_updated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO reservation_changes (sku, vendor, units)
    SELECT sku, vendor, sum(units) FROM (
        SELECT sku, vendor, reserved_by_line(reserving, quantity, shipped, withdrawn, rejected) AS units FROM after_rows
        UNION ALL
        SELECT sku, vendor, -reserved_by_line(reserving, quantity, shipped, withdrawn, rejected) FROM before_rows
    ) change
    GROUP BY sku, vendor HAVING sum(units) <> 0;
    RETURN NULL;
END $$;

CREATE FUNCTION note_lines_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO reservation_changes (sku, vendor, units)
    SELECT sku, vendor, -sum(reserved_by_line(reserving, quantity, shipped, withdrawn, rejected))
    FROM removed GROUP BY sku, vendor
    HAVING sum(reserved_by_line(reserving, quantity, shipped, withdrawn, rejected)) <> 0;
    RETURN NULL;
END $$;

CREATE TRIGGER vendor_order_lines_inserted AFTER INSERT ON vendor_order_lines
    REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION note_lines_inserted();
CREATE TRIGGER vendor_order_lines_updated AFTER UPDATE ON vendor_order_lines
    REFERENCING OLD TABLE AS before_rows NEW TABLE AS after_rows FOR EACH STATEMENT EXECUTE FUNCTION note_lines_updated();
CREATE TRIGGER vendor_order_lines_deleted AFTER DELETE ON vendor_order_lines
    REFERENCING OLD TABLE AS removed FOR EACH STATEMENT EXECUTE FUNCTION note_lines_deleted();

CREATE FUNCTION stop_reserving_when_closed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE vendor_order_lines SET reserving = false WHERE vendor_order_id = NEW.id AND reserving;
    RETURN NULL;
END $$;

CREATE TRIGGER vendor_orders_closed AFTER UPDATE OF status ON vendor_orders
    FOR EACH ROW WHEN (NEW.status IN ('cancelled', 'failed') AND OLD.status NOT IN ('cancelled', 'failed'))
    EXECUTE FUNCTION stop_reserving_when_closed();
