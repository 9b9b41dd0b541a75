-- Runs are claimed from a queue by workers (`anolab worker`, and the local worker of
-- `anolab sweep`). Every claim is an attempt with its own number; a worker renews the
-- lease of its attempt while it trains, and every write of an attempt is fenced by its
-- number, so a worker that lost its lease cannot overwrite a newer attempt. An expired
-- lease puts the run back in the queue, until the attempts run out.
ALTER TABLE runs ADD COLUMN attempt BIGINT NOT NULL DEFAULT 0; -- the latest attempt's number
ALTER TABLE runs ADD COLUMN lease_until TEXT;                   -- UTC, by the store's clock

CREATE TABLE attempts (
    run_id     BIGINT NOT NULL REFERENCES runs(id),
    attempt    BIGINT NOT NULL,
    owner      TEXT NOT NULL,            -- host:pid of the worker
    device     TEXT NOT NULL,
    started_at TEXT NOT NULL,
    ended_at   TEXT,
    outcome    TEXT,                     -- done | failed | expired | interrupted | released
    error      TEXT,
    PRIMARY KEY (run_id, attempt)
);
CREATE INDEX runs_queue ON runs(status, id);
