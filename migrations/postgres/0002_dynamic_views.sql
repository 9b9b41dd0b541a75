-- The summary views are recreated by the store (src/store/views.rs), as in SQLite; the
-- PostgreSQL history never had the fixed view of sqlite/0001, so this step is empty.
SELECT 1;
