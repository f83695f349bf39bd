-- Generation requests can be Cancelled: a worker running one stops at its next batch (bulk insert
-- refuses a request that is not Generating) and keeps what it inserted. Twin: database/mssql/0011.
ALTER TABLE GenerationRequests DROP CONSTRAINT IF EXISTS CK_GenerationRequests_Status;
ALTER TABLE GenerationRequests ADD CONSTRAINT CK_GenerationRequests_Status
    CHECK (Status IN ('Requested', 'Generating', 'Generated', 'Failed', 'Cancelled'));

-- Workers waiting for work (coupons worker) LISTEN on this channel and wake when a request becomes
-- Requested (created, or retried). They poll as well, so a notification that is lost only delays.
-- The trigger and its function are one schema object: the function lives here, not in a repeatable file.
CREATE OR REPLACE FUNCTION fn_NotifyGenerationRequested() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('coupons_generation_requests', NEW.RequestId);
    RETURN NULL;
END $$;
DROP TRIGGER IF EXISTS TR_GenerationRequests_Notify ON GenerationRequests;
CREATE TRIGGER TR_GenerationRequests_Notify AFTER INSERT OR UPDATE OF Status ON GenerationRequests
    FOR EACH ROW WHEN (NEW.Status = 'Requested') EXECUTE FUNCTION fn_NotifyGenerationRequested();
