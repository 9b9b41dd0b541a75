-- A distillation student names the run of its teacher (NULL for other runs).
ALTER TABLE runs ADD COLUMN teacher_key TEXT;
