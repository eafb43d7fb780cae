-- permid schema for PostgreSQL, version 3: sealed records (FRIENDS-v1 part B), as in
-- Migrations/sqlite/0003_sealed_records.sql.
--
-- A sealed record carries boxes instead of endpoints. Its boxes are kept in `sealed` exactly as the
-- signed message lays them out after the count byte ((u16 length ‖ bytes) per box), and its
-- `endpoints` is NULL, so it is never a withdrawal (endpoints = '') and never has addresses in
-- `record_addresses` (the directory cannot read where it points). An open record has `sealed` NULL;
-- a tombstone has `endpoints`, `sealed` and `signature` all NULL. Open and sealed records of one
-- PermID share the row, and so its seq.
ALTER TABLE records ADD COLUMN sealed bytea;
