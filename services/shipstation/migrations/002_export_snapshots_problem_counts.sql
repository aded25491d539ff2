-- ShipStation pages by number only (page=2, page=3, … with the same window). A live "ORDER BY
-- last_modified, id OFFSET n" shifts when an order on an earlier page is modified during the walk
-- (it moves to the end), and the order that slides onto the page already fetched is skipped. So
-- page 1 freezes the window's order ids here and later pages of that window read their slice.
CREATE TABLE export_snapshots (
    id            bigserial PRIMARY KEY,
    vendor        text        NOT NULL,
    window_start  timestamptz NOT NULL,
    window_end    timestamptz NOT NULL,
    page_size     integer     NOT NULL CHECK (page_size > 0),
    order_ids     text[]      NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX export_snapshots_window ON export_snapshots (vendor, window_start, window_end, id DESC);
CREATE INDEX export_snapshots_age ON export_snapshots (created_at);

-- The same problem seen again (ShipStation re-polls an invalid order every refresh) is one row that
-- counts, not a new row per poll burying everything else.
ALTER TABLE problems
    ADD COLUMN occurrences   integer     NOT NULL DEFAULT 1,
    ADD COLUMN last_seen_at  timestamptz NOT NULL DEFAULT now();
CREATE UNIQUE INDEX problems_identity ON problems (vendor, kind, coalesce(vendor_order_id, ''), md5(detail));
