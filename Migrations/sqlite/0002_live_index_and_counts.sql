-- permid schema, version 2: listing and counting cost what they return, not what the table holds.
--
-- Tombstones are never deleted and cost a fresh key to make, so `records` can hold far more
-- tombstones than live rows. Version 1 listed by walking the primary key and skipping tombstones,
-- and counted by scanning the whole table.

-- Listing walks only rows that carry a signature (live, or expired and not yet swept), in PermID
-- order; `expires_at` is in the key so expired rows are skipped without reading the table.
CREATE INDEX records_live ON records (permid, expires_at) WHERE signature IS NOT NULL;

-- Live withdrawals that have expired but are not yet swept, counted without reading the table.
CREATE INDEX records_withdrawn_by_expiry ON records (expires_at) WHERE signature IS NOT NULL AND endpoints = x'';

-- One row of counts, kept exact by the triggers below inside every writing transaction:
--   records     rows, tombstones included;
--   signed      rows with a signature (live, or expired and not yet swept);
--   withdrawals rows with a signature and no endpoints.
-- Live counts at a time `now` subtract the signed rows with expires_at <= now, which the sweeper
-- keeps few (records_by_expiry, records_withdrawn_by_expiry).
CREATE TABLE record_counts (
    id          INTEGER NOT NULL PRIMARY KEY CHECK (id = 0),
    records     INTEGER NOT NULL,
    signed      INTEGER NOT NULL,
    withdrawals INTEGER NOT NULL
);

INSERT INTO record_counts (id, records, signed, withdrawals)
SELECT 0, count(*), count(signature), coalesce(sum(signature IS NOT NULL AND endpoints IS x''), 0)
FROM records;

CREATE TRIGGER records_count_insert AFTER INSERT ON records BEGIN
    UPDATE record_counts SET
        records = records + 1,
        signed = signed + (NEW.signature IS NOT NULL),
        withdrawals = withdrawals + (NEW.signature IS NOT NULL AND NEW.endpoints IS x'')
    WHERE id = 0;
END;

CREATE TRIGGER records_count_update AFTER UPDATE OF signature, endpoints ON records BEGIN
    UPDATE record_counts SET
        signed = signed + (NEW.signature IS NOT NULL) - (OLD.signature IS NOT NULL),
        withdrawals = withdrawals + (NEW.signature IS NOT NULL AND NEW.endpoints IS x'')
                                  - (OLD.signature IS NOT NULL AND OLD.endpoints IS x'')
    WHERE id = 0;
END;

CREATE TRIGGER records_count_delete AFTER DELETE ON records BEGIN
    UPDATE record_counts SET
        records = records - 1,
        signed = signed - (OLD.signature IS NOT NULL),
        withdrawals = withdrawals - (OLD.signature IS NOT NULL AND OLD.endpoints IS x'')
    WHERE id = 0;
END;
