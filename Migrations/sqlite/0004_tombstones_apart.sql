-- permid schema, version 4: tombstones in a table of their own.
--
-- Until now a swept record stayed in `records` with its signature, endpoints and sealed boxes set to
-- NULL, and listing needed the partial index `records_live` to walk past such rows. That index cost
-- every announcement a leaf written at a random place in a third B-tree (beside `records` and
-- `record_addresses`), and announcements are limited by the one writer's page writes. Now `records`
-- holds only rows with a signature (live, or expired and not yet swept), so listing walks its primary
-- key; sweeping moves a row's PermID and seq to `tombstones`, and an announcement over a tombstone
-- moves it back.

-- The highest seq ever accepted for a PermID whose record has expired and been swept; a PermID is in
-- `records` or in `tombstones`, never in both.
CREATE TABLE tombstones (
    permid BLOB    NOT NULL PRIMARY KEY,
    seq    INTEGER NOT NULL
) WITHOUT ROWID;

-- `record_counts.records` counts the PermIDs of both tables.
CREATE TRIGGER tombstones_count_insert AFTER INSERT ON tombstones BEGIN
    UPDATE record_counts SET records = records + 1 WHERE id = 0;
END;

CREATE TRIGGER tombstones_count_delete AFTER DELETE ON tombstones BEGIN
    UPDATE record_counts SET records = records - 1 WHERE id = 0;
END;

-- Moving the existing tombstones leaves `records` unchanged: +1 for each row inserted here, -1 for
-- each row deleted there.
INSERT INTO tombstones (permid, seq) SELECT permid, seq FROM records WHERE signature IS NULL;
DELETE FROM records WHERE signature IS NULL;

DROP INDEX records_live;
