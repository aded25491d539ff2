-- The console's own tables: sessions (shared by every console instance) and the audit log of actions.
-- Nothing else: every figure the pages show belongs to another service and is read through its API.

CREATE TABLE sessions (
    token_sha256    text        PRIMARY KEY,     -- the cookie's token is never stored, only its digest
    who             text        NOT NULL,        -- the name given at sign-in, for the audit log
    csrf            text        NOT NULL,        -- every form of the session carries it
    address         text        NOT NULL,        -- where it signed in from
    created_at      timestamptz NOT NULL DEFAULT now(),
    last_seen_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX sessions_last_seen ON sessions (last_seen_at);

CREATE TABLE audit_log (
    id              bigserial   PRIMARY KEY,
    who             text        NOT NULL,
    action          text        NOT NULL,        -- signin, release, cancel, replay, discard, accept_feed, …
    target          text        NOT NULL DEFAULT '',
    detail          jsonb       NOT NULL DEFAULT '{}',
    outcome         text        NOT NULL,        -- ok, or what went wrong
    at              timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX audit_log_at ON audit_log (at DESC, id DESC);
