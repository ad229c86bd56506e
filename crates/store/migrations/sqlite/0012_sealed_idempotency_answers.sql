-- The answers kept under idempotency keys are sealed from now on (one of them holds a new API
-- token's secret). Keys remembered before are forgotten: they hold answers in the clear and
-- would live a day at most. Keep this file and ../postgres/0013_sealed_idempotency_answers.sql
-- the same.
DELETE FROM idempotency_keys;
