-- Cross-node change notification for waiting resolves (GET /v1/peers/{permid}?wait=).
--
-- Every accepted record (a new row, or a higher seq replacing one) sends the PermID, in hex, on the
-- channel `permid_records`. PostgreSQL delivers notifications only when the transaction commits, so
-- a node listening there hears of a record exactly when it is durable, whichever node stored it.
-- Sweeping (signature set to NULL) sends nothing.
CREATE FUNCTION record_stored_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('permid_records', encode(NEW.permid, 'hex'));
    RETURN NULL;
END
$$;

CREATE TRIGGER records_notify AFTER INSERT OR UPDATE OF seq ON records
    FOR EACH ROW WHEN (NEW.signature IS NOT NULL) EXECUTE FUNCTION record_stored_notify();
