-- Idempotency keys of the JSON API (issue 20): a POST sent again with the same `Idempotency-Key`
-- by the same user gets the first answer again instead of doing the work twice. Kept 24 hours;
-- not copied by `herald migrate` (a retry spans seconds, not a move of the installation).
CREATE TABLE idempotency_keys (
    user_email   TEXT NOT NULL,
    idem_key     TEXT NOT NULL,
    request_hash TEXT NOT NULL,  -- SHA-256 of the method, path, query and body
    status       INTEGER,        -- null while the first request runs
    body         TEXT,
    created_at   INTEGER NOT NULL,
    PRIMARY KEY (user_email, idem_key)
);
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);
