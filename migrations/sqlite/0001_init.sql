-- anolab store, first schema. Times are UTC ISO-8601 text; config_json is the run's
-- canonical resolved config (the run key is a hash of it plus the dataset fingerprint).

CREATE TABLE sweeps (
    id             INTEGER PRIMARY KEY,
    name           TEXT NOT NULL UNIQUE,
    description    TEXT,
    spec_json      TEXT NOT NULL,           -- merged sweep document (file + env + overrides)
    source_file    TEXT,
    created_at     TEXT NOT NULL,
    updated_at     TEXT NOT NULL,
    git_commit     TEXT,
    git_dirty      INTEGER,                 -- 1 when the working tree had uncommitted changes
    host           TEXT,
    anolab_version TEXT NOT NULL
);

CREATE TABLE runs (
    id           INTEGER PRIMARY KEY,
    key          TEXT NOT NULL UNIQUE,
    sweep_id     INTEGER NOT NULL REFERENCES sweeps(id),  -- the sweep that first planned it
    model        TEXT NOT NULL,
    dataset      TEXT NOT NULL,
    seed         INTEGER NOT NULL,
    fold         INTEGER NOT NULL,
    protocol     TEXT NOT NULL,
    config_json  TEXT NOT NULL,
    status       TEXT NOT NULL DEFAULT 'queued'
                 CHECK (status IN ('queued', 'running', 'done', 'failed')),
    error        TEXT,
    device       TEXT,
    owner        TEXT,                      -- host:pid of the process running it
    n_params     INTEGER,
    best_epoch   INTEGER,
    created_at   TEXT NOT NULL,
    started_at   TEXT,
    finished_at  TEXT,
    duration_s   REAL,
    heartbeat_at TEXT
);
CREATE INDEX runs_status ON runs(status);

-- A run can belong to several sweeps (an identical run is shared, never retrained).
CREATE TABLE sweep_runs (
    sweep_id INTEGER NOT NULL REFERENCES sweeps(id),
    run_id   INTEGER NOT NULL REFERENCES runs(id),
    PRIMARY KEY (sweep_id, run_id)
);

CREATE TABLE params (
    run_id     INTEGER NOT NULL REFERENCES runs(id),
    name       TEXT NOT NULL,               -- dotted key, e.g. model.nz
    value_num  REAL,                        -- set when the value is a number (or a bool)
    value_text TEXT,                        -- the value as written (JSON for lists)
    PRIMARY KEY (run_id, name)
);

CREATE TABLE metrics (
    run_id   INTEGER NOT NULL REFERENCES runs(id),
    split    TEXT NOT NULL,                 -- test | val
    name     TEXT NOT NULL,                 -- auc_roc, auc_pr, best_f1, f1, ...
    value    REAL NOT NULL,
    protocol TEXT NOT NULL,                 -- paper | clean: which protocol produced it
    PRIMARY KEY (run_id, split, name)
);

CREATE TABLE epochs (
    run_id INTEGER NOT NULL REFERENCES runs(id),
    epoch  INTEGER NOT NULL,
    name   TEXT NOT NULL,                   -- err_d, err_g, ..., val_auc_roc, val_loss
    value  REAL NOT NULL,
    PRIMARY KEY (run_id, epoch, name)
);

CREATE TABLE scores (
    run_id  INTEGER NOT NULL REFERENCES runs(id),
    split   TEXT NOT NULL,
    labels  BLOB NOT NULL,                  -- one byte per window: 1 = anomalous
    scores  BLOB NOT NULL,                  -- little-endian f64 per window
    classes TEXT NOT NULL,                  -- class names, one per window, comma-separated
    PRIMARY KEY (run_id, split)
);

CREATE TABLE artifacts (
    run_id INTEGER NOT NULL REFERENCES runs(id),
    kind   TEXT NOT NULL,                   -- checkpoint
    path   TEXT NOT NULL,
    PRIMARY KEY (run_id, kind)
);

-- One row per run: identity, the common swept parameters as typed columns, headline
-- test metrics. Other parameters: join `params`.
CREATE VIEW run_summary AS
SELECT
    r.id AS run_id,
    r.key,
    s.name AS sweep,
    r.model,
    r.dataset,
    r.seed,
    r.fold,
    r.protocol,
    r.status,
    (SELECT value_num FROM params p WHERE p.run_id = r.id AND p.name = 'model.nz') AS nz,
    (SELECT value_num FROM params p WHERE p.run_id = r.id AND p.name = 'model.w_adv') AS w_adv,
    (SELECT value_num FROM params p WHERE p.run_id = r.id AND p.name = 'model.ndf') AS ndf,
    (SELECT value_num FROM params p WHERE p.run_id = r.id AND p.name = 'model.ngf') AS ngf,
    (SELECT value_num FROM params p WHERE p.run_id = r.id AND p.name = 'train.epochs') AS epochs,
    (SELECT value FROM metrics m WHERE m.run_id = r.id AND m.split = 'test' AND m.name = 'auc_roc') AS auc_roc,
    (SELECT value FROM metrics m WHERE m.run_id = r.id AND m.split = 'test' AND m.name = 'auc_pr') AS auc_pr,
    (SELECT value FROM metrics m WHERE m.run_id = r.id AND m.split = 'test' AND m.name = 'best_f1') AS best_f1,
    (SELECT value FROM metrics m WHERE m.run_id = r.id AND m.split = 'test' AND m.name = 'f1') AS f1,
    r.best_epoch,
    r.n_params,
    r.duration_s,
    r.error
FROM runs r JOIN sweeps s ON s.id = r.sweep_id;
