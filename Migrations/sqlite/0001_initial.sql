-- permid schema, version 1.
--
-- One row per PermID ever accepted, keyed by the PermID's binary form. The row holds exactly the
-- signed fields and the signature, so a served record is byte-for-byte what its owner signed.
-- When a record expires the sweeper clears endpoints and signature: the row becomes a tombstone that
-- serves nothing but keeps the highest accepted seq forever, so older announcements stay refused.
CREATE TABLE records (
    permid     BLOB    NOT NULL PRIMARY KEY,
    sig_alg    INTEGER NOT NULL,          -- scheme code of PROTOCOL-v1 §2
    seq        INTEGER NOT NULL,
    issued_at  INTEGER NOT NULL,          -- Unix seconds
    expires_at INTEGER NOT NULL,          -- Unix seconds
    endpoints  BLOB,                      -- (family u8, address, port u16)*; NULL in a tombstone
    signature  BLOB                       -- raw signature; NULL in a tombstone
) WITHOUT ROWID;

-- The sweeper finds expired records that still carry a signature.
CREATE INDEX records_by_expiry ON records (expires_at) WHERE signature IS NOT NULL;

-- Listing by IP address: one row per (address, PermID) of every non-tombstone record.
CREATE TABLE record_addresses (
    address BLOB NOT NULL,                -- 4 or 16 bytes, network order
    permid  BLOB NOT NULL,
    PRIMARY KEY (address, permid)
) WITHOUT ROWID;
