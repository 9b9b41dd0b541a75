-- As sqlite/0003 (replaced by run_dependencies in 0004).
ALTER TABLE runs ADD COLUMN teacher_key TEXT;
