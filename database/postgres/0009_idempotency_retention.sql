-- 0009: idempotency keys expire. Twin of database/mssql/0009_idempotency_retention.sql.
-- IdempotencyKeys grows by one row per keyed redemption; a retry comes within minutes, so keys
-- older than the retention (the API purges at 7 days by default) are deleted in batches. A retry
-- after that is a new request: it is refused as ALREADY_REDEEMED if the first one redeemed.
CREATE OR REPLACE FUNCTION sp_PurgeIdempotencyKeys(p_Before timestamptz, p_BatchSize int)
RETURNS int LANGUAGE plpgsql AS $$
DECLARE
    v_deleted int;
BEGIN
    IF p_Before IS NULL OR p_BatchSize IS NULL OR p_BatchSize < 1 OR p_BatchSize > 100000 THEN
        RAISE EXCEPTION 'before must be a time and batchSize an integer from 1 to 100000' USING ERRCODE = 'CP400';
    END IF;
    DELETE FROM IdempotencyKeys k
    WHERE k.IdempotencyKey IN (
        SELECT IdempotencyKey FROM IdempotencyKeys WHERE CreatedAt < p_Before
        ORDER BY CreatedAt LIMIT p_BatchSize FOR UPDATE SKIP LOCKED);
    GET DIAGNOSTICS v_deleted = ROW_COUNT;
    RETURN v_deleted;
END $$;

SELECT fn_SecureProcedures(ARRAY['sp_PurgeIdempotencyKeys']);
