-- As sqlite/0004: dependencies between runs, each under a role.
CREATE TABLE run_dependencies (
    run_id BIGINT NOT NULL REFERENCES runs(id),
    role   TEXT NOT NULL,
    key    TEXT NOT NULL,
    PRIMARY KEY (run_id, role)
);
INSERT INTO run_dependencies (run_id, role, key)
    SELECT id, 'teacher', teacher_key FROM runs WHERE teacher_key IS NOT NULL;
ALTER TABLE runs DROP COLUMN teacher_key;
