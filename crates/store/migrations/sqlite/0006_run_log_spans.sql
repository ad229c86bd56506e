-- A decision a sync makes again, unchanged, in the next run of its integration is not logged
-- again: its entry's last_run_id moves to the new run, so an entry covers the runs from run_id
-- to last_run_id (NULL: run_id alone). The index serves the look-up of the previous run's
-- entries (run_entries_by_run already serves run_id).
ALTER TABLE run_entries ADD COLUMN last_run_id BIGINT;
CREATE INDEX run_entries_by_last_run ON run_entries (last_run_id);
