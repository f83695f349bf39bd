-- 0009: idempotency keys expire. Twin of database/postgres/0009_idempotency_retention.sql.
-- IdempotencyKeys grows by one row per keyed redemption; a retry comes within minutes, so keys
-- older than the retention (the API purges at 7 days by default) are deleted in batches. A retry
-- after that is a new request: it is refused as ALREADY_REDEEMED if the first one redeemed.
-- Re-runnable: CREATE OR ALTER; GRANT is idempotent.

SET XACT_ABORT ON;
GO
CREATE OR ALTER PROCEDURE dbo.sp_PurgeIdempotencyKeys @Before datetime2, @BatchSize int
AS
BEGIN
    SET NOCOUNT ON;
    SET XACT_ABORT ON;
    IF @Before IS NULL OR @BatchSize IS NULL OR @BatchSize < 1 OR @BatchSize > 100000
    BEGIN
        ;THROW 50400, N'before must be a time and batchSize an integer from 1 to 100000', 1;
    END;
    -- READPAST: keys a redemption holds right now are left for the next batch
    DELETE TOP (@BatchSize) FROM dbo.IdempotencyKeys WITH (ROWLOCK, READPAST)
    WHERE CreatedAt < @Before;
    SELECT @@ROWCOUNT AS n;
END;
GO
GRANT EXECUTE ON dbo.sp_PurgeIdempotencyKeys TO coupon_app;
GO
