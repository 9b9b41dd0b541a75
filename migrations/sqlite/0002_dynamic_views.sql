-- `run_summary` and `sweep_summary` are no longer fixed here: the store recreates them
-- (src/store/views.rs) whenever it is opened for writing and whenever a sweep is planned,
-- with one typed column per parameter name present in `params` (`model.nz` → model_nz).
DROP VIEW run_summary;
