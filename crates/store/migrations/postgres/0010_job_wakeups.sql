-- Wake-ups across processes: a job that becomes claimable (inserted, or put back in line by a
-- retry or a person) notifies the `trestle_jobs` channel, which idle workers of every
-- `trestle serve` process listen on (see src/wakeups.rs). NOTIFY is delivered at commit, so a
-- woken worker finds the job there. A coalesced enqueue inserts nothing and notifies nothing:
-- the job it joined already did. SQLite has no counterpart: one process serves it, and wakes
-- its own workers.
CREATE FUNCTION trestle_wake_workers() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('trestle_jobs', '');
    RETURN NULL;
END
$$;
CREATE TRIGGER jobs_wake_on_insert AFTER INSERT ON jobs
    FOR EACH ROW EXECUTE FUNCTION trestle_wake_workers();
CREATE TRIGGER jobs_wake_on_pending AFTER UPDATE OF state ON jobs
    FOR EACH ROW WHEN (OLD.state <> 'pending' AND NEW.state = 'pending')
    EXECUTE FUNCTION trestle_wake_workers();
