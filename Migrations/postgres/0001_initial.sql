-- permid schema for PostgreSQL, version 1: the same records as the SQLite schema
-- (Migrations/sqlite/), shared by every permidd node pointed at this database.
--
-- One row per PermID ever accepted, keyed by the PermID's binary form. The row holds exactly the
-- signed fields and the signature, so a served record is byte-for-byte what its owner signed.
-- When a record expires the sweeper clears endpoints and signature: the row becomes a tombstone that
-- serves nothing but keeps the highest accepted seq forever, so older announcements stay refused.
CREATE TABLE records (
    permid     bytea    NOT NULL PRIMARY KEY,  -- bytea orders bytewise, as the listing cursor needs
    sig_alg    smallint NOT NULL,              -- scheme code of PROTOCOL-v1 §2
    seq        bigint   NOT NULL,
    issued_at  bigint   NOT NULL,              -- Unix seconds
    expires_at bigint   NOT NULL,              -- Unix seconds
    endpoints  bytea,                          -- (family u8, address, port u16)*; NULL in a tombstone
    signature  bytea                           -- raw signature; NULL in a tombstone
);

-- The sweeper finds expired records that still carry a signature.
CREATE INDEX records_by_expiry ON records (expires_at) WHERE signature IS NOT NULL;

-- Listing walks only rows that carry a signature, in PermID order, never tombstones; `expires_at` is
-- in the key so expired rows are skipped without reading the table.
CREATE INDEX records_live ON records (permid, expires_at) WHERE signature IS NOT NULL;

-- Live withdrawals that have expired but are not yet swept, counted without reading the table.
CREATE INDEX records_withdrawn_by_expiry ON records (expires_at) WHERE signature IS NOT NULL AND endpoints = ''::bytea;

-- Listing by IP address: one row per (address, PermID) of every non-tombstone record.
CREATE TABLE record_addresses (
    address bytea NOT NULL,                    -- 4 or 16 bytes, network order
    permid  bytea NOT NULL,
    PRIMARY KEY (address, permid)
);

-- Replacing or sweeping a record deletes its addresses by PermID.
CREATE INDEX record_addresses_by_permid ON record_addresses (permid);

-- Counts without a scan. `record_counts` is one row:
--   records     rows, tombstones included;
--   signed      rows with a signature (live, or expired and not yet swept);
--   withdrawals rows with a signature and no endpoints.
-- Writers never update it (one hot row would serialize every node's writes and deadlock batches):
-- a trigger appends each change of those numbers to `record_count_deltas`, and the sweeper folds the
-- deltas into the row. A count is the row plus the unfolded deltas, less the signed rows expired at
-- `now` but not yet swept (found through the partial indexes above, which the sweeper keeps few).
CREATE TABLE record_counts (
    id          smallint NOT NULL PRIMARY KEY CHECK (id = 0),
    records     bigint   NOT NULL,
    signed      bigint   NOT NULL,
    withdrawals bigint   NOT NULL
);

INSERT INTO record_counts (id, records, signed, withdrawals) VALUES (0, 0, 0, 0);

CREATE TABLE record_count_deltas (
    id          bigint  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    records     integer NOT NULL,
    signed      integer NOT NULL,
    withdrawals integer NOT NULL
);

CREATE FUNCTION record_count_delta() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    rows        integer := 0;
    signed      integer := 0;
    withdrawals integer := 0;
BEGIN
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        rows := rows + (TG_OP = 'INSERT')::integer;
        signed := signed + (NEW.signature IS NOT NULL)::integer;
        withdrawals := withdrawals + coalesce(NEW.signature IS NOT NULL AND NEW.endpoints = ''::bytea, false)::integer;
    END IF;
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        rows := rows - (TG_OP = 'DELETE')::integer;
        signed := signed - (OLD.signature IS NOT NULL)::integer;
        withdrawals := withdrawals - coalesce(OLD.signature IS NOT NULL AND OLD.endpoints = ''::bytea, false)::integer;
    END IF;
    -- Replacing a live record by another, the common write, changes nothing here.
    IF rows <> 0 OR signed <> 0 OR withdrawals <> 0 THEN
        INSERT INTO record_count_deltas (records, signed, withdrawals) VALUES (rows, signed, withdrawals);
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER records_count AFTER INSERT OR UPDATE OR DELETE ON records
    FOR EACH ROW EXECUTE FUNCTION record_count_delta();
