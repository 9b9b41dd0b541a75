-- Dependencies between runs are generic: a run may need several others done first (a
-- distillation student its teacher today), each under a role. Replaces runs.teacher_key.
CREATE TABLE run_dependencies (
    run_id INTEGER NOT NULL REFERENCES runs(id),
    role   TEXT NOT NULL,                   -- teacher, ...
    key    TEXT NOT NULL,                   -- the key of the run depended on
    PRIMARY KEY (run_id, role)
);
INSERT INTO run_dependencies (run_id, role, key)
    SELECT id, 'teacher', teacher_key FROM runs WHERE teacher_key IS NOT NULL;
ALTER TABLE runs DROP COLUMN teacher_key;
