-- EDI X12 trading partners: control numbers per partner, every interchange sent and received with its
-- bytes, and the 997 state of what we sent.

CREATE TABLE x12_counters (
    vendor      text   PRIMARY KEY,
    interchange bigint NOT NULL DEFAULT 0,   -- the last ISA13 reserved (1..999999999, then round again)
    grp         bigint NOT NULL DEFAULT 0,   -- the last GS06
    txn         bigint NOT NULL DEFAULT 0    -- the last ST02
);

-- One row per interchange. Outbound rows are written, with their numbers reserved, before the file is
-- uploaded, so a retry sends the same bytes under the same <ISA13>.x12; inbound rows remember what
-- was applied (a repeat of the same ISA13 from the same sender is not applied twice).
CREATE TABLE x12_interchanges (
    id              bigserial   PRIMARY KEY,
    vendor          text        NOT NULL,
    direction       text        NOT NULL CHECK (direction IN ('out', 'in')),
    kind            text        NOT NULL,             -- 850, 860, 997, TA1; in: the sets it held (855, 856 …)
    sender_id       text        NOT NULL,
    control_number  bigint      NOT NULL,             -- ISA13
    group_number    bigint,                            -- GS06 (outbound)
    set_number      bigint,                            -- ST02 (outbound)
    delivery_id     text        UNIQUE,               -- outbound 850/860: the delivery it belongs to
    vendor_order_id text,
    po_number       text,
    file_name       text        NOT NULL,
    folder          text,
    content         bytea       NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    sent_at         timestamptz,                      -- outbound: uploaded
    ack_state       text        CHECK (ack_state IN ('awaiting', 'accepted', 'accepted_with_errors', 'rejected',
                                                     'not_requested')),
    ack_due_at      timestamptz,
    acknowledged_at timestamptz,
    summary         jsonb       NOT NULL DEFAULT '{}'  -- what was in it (sets, errors, invoice totals)
);
CREATE UNIQUE INDEX x12_interchanges_received_once ON x12_interchanges (vendor, sender_id, control_number)
    WHERE direction = 'in';
CREATE INDEX x12_interchanges_vendor ON x12_interchanges (vendor, id DESC);
CREATE INDEX x12_interchanges_group ON x12_interchanges (vendor, group_number) WHERE direction = 'out';
CREATE INDEX x12_interchanges_unsent ON x12_interchanges (vendor) WHERE direction = 'out' AND sent_at IS NULL;
CREATE INDEX x12_interchanges_ack_due ON x12_interchanges (ack_due_at) WHERE ack_state = 'awaiting';
