-- When a pending item was claimed, NULL once it is done, failed or retried later: tells a lease
-- (someone is working on the item) from a retry delay, so abandoned leases can be taken back.
ALTER TABLE outbox ADD COLUMN claimed_at TEXT;
