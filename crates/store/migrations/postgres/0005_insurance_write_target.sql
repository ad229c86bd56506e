-- Where each insurance record was written (the Procore company, and the project for
-- project-level records), so a record whose party or project is linked elsewhere since can be
-- removed from where it is and written where it belongs. NULL for writes made before.
ALTER TABLE insurance_writes ADD COLUMN procore_vendor_id BIGINT;
ALTER TABLE insurance_writes ADD COLUMN procore_project_id BIGINT;
