-- sqlfluff-lacks: FOR JSON PATH
-- Generation requests, their claim, bulk insert of codes, prefix count and export.
-- Twin: database/postgres/R__0400_generation.sql.
-- Repeatable (see docs/mssql.md, "Migrations"): re-applied whenever this file or one before it
-- changes, and after every numbered migration. Edit the definitions here; never in the numbered
-- files. Procedures: CREATE OR ALTER (keeps grants); views: DROP VIEW IF EXISTS + CREATE VIEW (the
-- T-SQL grammar we check with lacks CREATE OR ALTER VIEW).
--
-- Errors raised here carry our own numbers, mapped once in packages/db/src/engines/mssql-errors.ts:
--   50400 invalid input, 50404 not found, 50409 conflict / wrong state, 50413 request cap exceeded,
--   50422 idempotency key reused with another request, 50423 generation request held by a worker.
-- Every procedure runs with SET XACT_ABORT ON, so any error rolls its transaction back whole.

-- The session settings a procedure, view or function keeps from its CREATE: sqlcmd runs with
-- QUOTED_IDENTIFIER OFF unless -I, and a procedure created so cannot write through a filtered index
-- (error 1934). Set here so the file means the same whichever client applies it.
SET ANSI_NULLS ON;
SET QUOTED_IDENTIFIER ON;
SET XACT_ABORT ON;
GO

CREATE OR ALTER PROCEDURE dbo.sp_CreateGenerationRequest
    @RequestId nvarchar(100), @CampaignId nvarchar(100), @RequestedAmount int, @Prefix nvarchar(20),
    @ExpirationDate datetime2, @RequestedBy nvarchar(100), @CodeLength int, @Traceparent varchar(55) = NULL
AS
BEGIN
    SET NOCOUNT ON;
    SET XACT_ABORT ON;
    DECLARE @msg nvarchar(2048), @status nvarchar(20), @campaign nvarchar(100), @generated int, @prefix nvarchar(20),
            @length int, @expires datetime2;
    BEGIN TRY
        BEGIN TRANSACTION;
        IF NOT EXISTS (SELECT 1 FROM dbo.Campaigns WHERE CampaignId = @CampaignId)
        BEGIN
            SET @msg = CONCAT(N'campaign ', @CampaignId, N' does not exist');
            THROW 50404, @msg, 1;
        END;
        SELECT @status = Status, @campaign = CampaignId, @generated = GeneratedAmount, @prefix = Prefix, @length = CodeLength,
               @expires = ExpirationDate
        FROM dbo.GenerationRequests WITH (UPDLOCK, HOLDLOCK) WHERE RequestId = @RequestId;
        IF @status IS NOT NULL
        BEGIN
            -- A Failed or Cancelled request is resubmitted by creating it again: edited, then Requested.
            -- Codes made already keep their shape, so with codes the prefix, length and expiry stay.
            IF @status NOT IN (N'Failed', N'Cancelled') OR @campaign <> @CampaignId
            BEGIN
                SET @msg = CONCAT(N'generation request ', @RequestId, N' exists already (', @status, N', campaign ', @campaign,
                                  N'); only a Failed or Cancelled request of the same campaign is resubmitted');
                THROW 50409, @msg, 1;
            END;
            IF @RequestedAmount < @generated
            BEGIN
                SET @msg = CONCAT(N'generation request ', @RequestId, N' has ', @generated, N' codes already; the amount cannot go below that');
                THROW 50409, @msg, 1;
            END;
            IF @generated > 0 AND (UPPER(ISNULL(@Prefix, N'')) <> @prefix OR ISNULL(@CodeLength, 12) <> @length
                OR ISNULL(@ExpirationDate, '0001-01-01') <> ISNULL(@expires, '0001-01-01'))
            BEGIN
                SET @msg = CONCAT(N'generation request ', @RequestId, N' has ', @generated,
                                  N' codes already; only its amount can change (create a new request for another prefix, length or expiry)');
                THROW 50409, @msg, 1;
            END;
            UPDATE dbo.GenerationRequests WITH (ROWLOCK)
            SET RequestedAmount = @RequestedAmount, Prefix = UPPER(ISNULL(@Prefix, N'')), CodeLength = ISNULL(@CodeLength, 12),
                ExpirationDate = @ExpirationDate, RequestedBy = ISNULL(@RequestedBy, RequestedBy), Status = N'Requested',
                FailureReason = NULL, CompletedAt = NULL, UpdatedAt = SYSUTCDATETIME(), Traceparent = @Traceparent
            WHERE RequestId = @RequestId;
            COMMIT TRANSACTION;
            EXEC dbo.sp_GetGenerationRequest @RequestId = @RequestId;
            RETURN;
        END;
        INSERT INTO dbo.GenerationRequests (RequestId, CampaignId, RequestedAmount, Prefix, ExpirationDate, RequestedBy, CodeLength,
                                            Traceparent)
        VALUES (@RequestId, @CampaignId, @RequestedAmount, UPPER(ISNULL(@Prefix, N'')), @ExpirationDate,
                @RequestedBy, ISNULL(@CodeLength, 12), @Traceparent);
        COMMIT TRANSACTION;
    END TRY
    BEGIN CATCH
        IF @@TRANCOUNT > 0 ROLLBACK TRANSACTION;
        THROW;
    END CATCH;
    EXEC dbo.sp_GetGenerationRequest @RequestId = @RequestId;
END;
GO

CREATE OR ALTER PROCEDURE dbo.sp_GetGenerationRequest @RequestId nvarchar(100)
AS
BEGIN
    SET NOCOUNT ON;
    SET XACT_ABORT ON;
    SELECT RequestId, CampaignId, RequestedAmount, GeneratedAmount, Prefix, ExpirationDate, Status, StartedAt,
           CompletedAt, FailureReason, RequestedBy, CreatedAt, CodeLength, WorkerId, UpdatedAt, Traceparent
    FROM dbo.GenerationRequests WHERE RequestId = @RequestId;
END;
GO

-- Newest first, in keyset pages: @AfterRequestId is the last request of the page before (its
-- CreatedAt is read here, at the database's precision, so no request is skipped or repeated).
CREATE OR ALTER PROCEDURE dbo.sp_ListGenerationRequests
    @CampaignId nvarchar(100), @Status nvarchar(20), @Limit int, @AfterRequestId nvarchar(100)
AS
BEGIN
    SET NOCOUNT ON;
    SET XACT_ABORT ON;
    DECLARE @n int = CASE WHEN @Limit IS NULL THEN 100 WHEN @Limit < 1 THEN 1 WHEN @Limit > 1000 THEN 1000 ELSE @Limit END;
    DECLARE @afterCreated datetime2 = NULL;
    IF @AfterRequestId IS NOT NULL
    BEGIN
        SELECT @afterCreated = CreatedAt FROM dbo.GenerationRequests WHERE RequestId = @AfterRequestId;
        IF @afterCreated IS NULL RETURN; -- the cursor's request is gone: nothing after it can be told
    END;
    SELECT TOP (@n) RequestId, CampaignId, RequestedAmount, GeneratedAmount, Prefix, ExpirationDate, Status, StartedAt,
           CompletedAt, FailureReason, RequestedBy, CreatedAt, CodeLength, WorkerId, UpdatedAt, Traceparent
    FROM dbo.GenerationRequests
    WHERE (@CampaignId IS NULL OR CampaignId = @CampaignId) AND (@Status IS NULL OR Status = @Status)
      AND (@AfterRequestId IS NULL OR CreatedAt < @afterCreated OR (CreatedAt = @afterCreated AND RequestId < @AfterRequestId))
    ORDER BY CreatedAt DESC, RequestId DESC
    OPTION (RECOMPILE);
END;
GO

-- Claims the request for one worker. The claim is a session-owned application lock: it lives
-- exactly as long as the worker's connection, so a crashed worker's request is free for the next one
-- at once. The caller keeps this connection open while it works and calls
-- sp_ReleaseGenerationRequest (or closes the connection) at the end.
CREATE OR ALTER PROCEDURE dbo.sp_ClaimGenerationRequest @RequestId nvarchar(100), @WorkerId nvarchar(100)
AS
BEGIN
    SET NOCOUNT ON;
    SET XACT_ABORT ON;
    DECLARE @msg nvarchar(2048), @status nvarchar(20), @holder nvarchar(100), @rc int;
    DECLARE @resource nvarchar(255) = CONCAT(N'coupons.generation:', @RequestId);
    SELECT @status = Status, @holder = WorkerId FROM dbo.GenerationRequests WHERE RequestId = @RequestId;
    IF @status IS NULL
    BEGIN
        SET @msg = CONCAT(N'generation request ', @RequestId, N' does not exist');
        THROW 50404, @msg, 1;
    END;
    EXEC @rc = sys.sp_getapplock @Resource = @resource, @LockMode = 'Exclusive', @LockOwner = 'Session', @LockTimeout = 0;
    IF @rc < 0
    BEGIN
        SET @msg = CONCAT(N'generation request ', @RequestId, N' is being worked by ', ISNULL(@holder, N'another worker'));
        THROW 50423, @msg, 1;
    END;
    IF @status = N'Cancelled'
    BEGIN
        EXEC sys.sp_releaseapplock @Resource = @resource, @LockOwner = 'Session';
        SET @msg = CONCAT(N'generation request ', @RequestId, N' is Cancelled; retry it to run it again');
        THROW 50409, @msg, 1;
    END;
    BEGIN TRY
        IF @status <> N'Generated'
            UPDATE dbo.GenerationRequests
            SET Status = N'Generating', WorkerId = @WorkerId, StartedAt = ISNULL(StartedAt, SYSUTCDATETIME()),
                FailureReason = NULL, CompletedAt = NULL, UpdatedAt = SYSUTCDATETIME()
            WHERE RequestId = @RequestId;
    END TRY
    BEGIN CATCH
        EXEC sys.sp_releaseapplock @Resource = @resource, @LockOwner = 'Session';
        THROW;
    END CATCH;
    EXEC dbo.sp_GetGenerationRequest @RequestId = @RequestId;
END;
GO

CREATE OR ALTER PROCEDURE dbo.sp_ReleaseGenerationRequest @RequestId nvarchar(100)
AS
BEGIN
    SET NOCOUNT ON;
    SET XACT_ABORT ON;
    DECLARE @rc int = -999;
    DECLARE @resource nvarchar(255) = CONCAT(N'coupons.generation:', @RequestId);
    BEGIN TRY
        EXEC @rc = sys.sp_releaseapplock @Resource = @resource, @LockOwner = 'Session';
    END TRY
    BEGIN CATCH
        -- not held by this session: nothing to release (pg_advisory_unlock returns false likewise)
        SET @rc = -999;
    END CATCH;
    SELECT CAST(CASE WHEN @rc = 0 THEN 1 ELSE 0 END AS bit) AS released;
END;
GO

-- sp_UpdateGenerationRequest: status with its timestamps. Generated needs every code inserted;
-- Failed needs a reason a person can act on; Generated is final.
CREATE OR ALTER PROCEDURE dbo.sp_UpdateGenerationRequest
    @RequestId nvarchar(100), @Status nvarchar(20), @FailureReason nvarchar(max)
AS
BEGIN
    SET NOCOUNT ON;
    SET XACT_ABORT ON;
    DECLARE @msg nvarchar(2048), @current nvarchar(20), @generated int, @requested int;
    BEGIN TRY
        BEGIN TRANSACTION;
        SELECT @current = Status, @generated = GeneratedAmount, @requested = RequestedAmount
        FROM dbo.GenerationRequests WITH (UPDLOCK, ROWLOCK)
        WHERE RequestId = @RequestId;
        IF @current IS NULL
        BEGIN
            SET @msg = CONCAT(N'generation request ', @RequestId, N' does not exist');
            THROW 50404, @msg, 1;
        END;
        IF @Status IS NULL OR @Status COLLATE Latin1_General_100_BIN2 NOT IN (N'Requested', N'Generating', N'Generated', N'Failed')
        BEGIN
            SET @msg = CONCAT(N'status must be one of Requested, Generating, Generated, Failed (got ', @Status, N')');
            THROW 50400, @msg, 1;
        END;
        IF @current = N'Generated' AND @Status <> N'Generated'
        BEGIN
            SET @msg = CONCAT(N'generation request ', @RequestId, N' is Generated; it cannot become ', @Status);
            THROW 50409, @msg, 1;
        END;
        IF @current = N'Cancelled' AND @Status NOT IN (N'Requested', N'Cancelled')
        BEGIN
            SET @msg = CONCAT(N'generation request ', @RequestId, N' is Cancelled; it can only be retried (Requested), not become ', @Status);
            THROW 50409, @msg, 1;
        END;
        IF @Status = N'Generated' AND @generated <> @requested
        BEGIN
            SET @msg = CONCAT(N'generation request ', @RequestId, N' has ', @generated, N' of ', @requested,
                              N' codes; it cannot be Generated yet');
            THROW 50409, @msg, 1;
        END;
        IF @Status = N'Failed' AND (@FailureReason IS NULL OR LEN(LTRIM(@FailureReason)) = 0)
        BEGIN
            THROW 50400, N'a Failed status needs a failure reason', 1;
        END;
        UPDATE dbo.GenerationRequests
        SET Status = @Status,
            StartedAt = CASE WHEN @Status = N'Generating' THEN ISNULL(StartedAt, SYSUTCDATETIME()) ELSE StartedAt END,
            CompletedAt = CASE WHEN @Status = N'Generated' THEN ISNULL(CompletedAt, SYSUTCDATETIME()) ELSE NULL END,
            FailureReason = CASE WHEN @Status = N'Failed' THEN LEFT(@FailureReason, 1000) ELSE NULL END,
            UpdatedAt = SYSUTCDATETIME()
        WHERE RequestId = @RequestId;
        COMMIT TRANSACTION;
    END TRY
    BEGIN CATCH
        IF @@TRANCOUNT > 0 ROLLBACK TRANSACTION;
        THROW;
    END CATCH;
    EXEC dbo.sp_GetGenerationRequest @RequestId = @RequestId;
END;
GO

-- sp_BulkInsertCoupons: one JSON array of codes, one transaction. Inserts the codes that do not
-- exist yet, adds the number inserted to GeneratedAmount (never past RequestedAmount: the whole
-- batch is refused with 50413 instead) and returns the codes that existed already, as a JSON array
-- of {"code": ...} objects in the column `existing` (NULL when none). The request row is touched
-- last, so concurrent batches of one request overlap their inserts and serialize only on that short
-- update. CouponIds follow the order of the array (a code given twice counts at its first place), as
-- on PostgreSQL: INSERT ... SELECT ... ORDER BY assigns IDENTITY values in that order.
-- A concurrent batch inserting the same new code: the existence probe takes no range locks (they
-- would serialize concurrent batches), so the insert waits for the other batch and fails with a
-- duplicate key once it commits. The batch is then rolled back and run again, and the probe now sees
-- that code as existing: the outcome of PostgreSQL's ON CONFLICT DO NOTHING, never an error. Each
-- retry follows a commit that made at least one more of the batch's codes exist, so there are at
-- most as many retries as codes.
CREATE OR ALTER PROCEDURE dbo.sp_BulkInsertCoupons @RequestId nvarchar(100), @Codes nvarchar(max)
AS
BEGIN
    SET NOCOUNT ON;
    SET XACT_ABORT ON;
    DECLARE @msg nvarchar(2048), @status nvarchar(20), @campaignId nvarchar(100), @expiresAt datetime2,
            @requested int, @generated int, @inserted int, @attempt int = 0, @codeCount int;
    DECLARE @batch TABLE (CouponCode nvarchar(50) COLLATE Latin1_General_100_BIN2 NOT NULL PRIMARY KEY, Ord int NOT NULL);
    DECLARE @new TABLE (CouponCode nvarchar(50) COLLATE Latin1_General_100_BIN2 NOT NULL PRIMARY KEY);

    SELECT @status = Status, @campaignId = CampaignId, @expiresAt = ExpirationDate, @requested = RequestedAmount
    FROM dbo.GenerationRequests WHERE RequestId = @RequestId;
    IF @status IS NULL
    BEGIN
        SET @msg = CONCAT(N'generation request ', @RequestId, N' does not exist');
        THROW 50404, @msg, 1;
    END;
    IF @status <> N'Generating'
    BEGIN
        SET @msg = CONCAT(N'generation request ', @RequestId, N' is ', @status, N', not Generating; claim it first');
        THROW 50409, @msg, 1;
    END;
    IF @Codes IS NULL OR ISJSON(@Codes) = 0 OR LEFT(LTRIM(@Codes), 1) <> N'['
    BEGIN
        THROW 50400, N'codes must be a JSON array of strings', 1;
    END;
    -- a code longer than 50 characters fails here (truncation error, mapped to invalid input);
    -- GROUP BY compares binary, as the column does (a case- or width-insensitive one would merge
    -- codes that are different coupons); Ord is the code's first index in the array (OPENJSON's key)
    INSERT INTO @batch (CouponCode, Ord)
    SELECT x.CouponCode, MIN(x.Ord)
    FROM (SELECT UPPER(LTRIM(RTRIM(j.[value]))) COLLATE Latin1_General_100_BIN2 AS CouponCode,
                 CAST(j.[key] AS int) AS Ord
          FROM OPENJSON(@Codes) j) x
    GROUP BY x.CouponCode;
    SET @codeCount = @@ROWCOUNT;

    WHILE 1 = 1
    BEGIN
        BEGIN TRY
            DELETE FROM @new; -- table variables keep their rows across a rollback
            BEGIN TRANSACTION;
            INSERT INTO dbo.Coupons (CouponCode, CampaignId, ExpiresAt, GenerationBatchId)
            OUTPUT inserted.CouponCode INTO @new (CouponCode)
            SELECT b.CouponCode, @campaignId, @expiresAt, @RequestId
            FROM @batch b
            WHERE NOT EXISTS (SELECT 1 FROM dbo.Coupons c WHERE c.CouponCode = b.CouponCode)
            ORDER BY b.Ord;
            SET @inserted = @@ROWCOUNT;

            UPDATE dbo.GenerationRequests
            SET GeneratedAmount = GeneratedAmount + @inserted, UpdatedAt = SYSUTCDATETIME()
            WHERE RequestId = @RequestId AND GeneratedAmount + @inserted <= RequestedAmount;
            IF @@ROWCOUNT = 0
            BEGIN
                SET @msg = CONCAT(N'batch of ', @inserted, N' codes would pass RequestedAmount ', @requested,
                                  N' of generation request ', @RequestId);
                THROW 50413, @msg, 1;
            END;
            SELECT @generated = GeneratedAmount, @requested = RequestedAmount
            FROM dbo.GenerationRequests WHERE RequestId = @RequestId;
            COMMIT TRANSACTION;
            BREAK;
        END TRY
        BEGIN CATCH
            IF @@TRANCOUNT > 0 ROLLBACK TRANSACTION;
            IF ERROR_NUMBER() IN (2601, 2627) AND @attempt < @codeCount
            BEGIN
                SET @attempt = @attempt + 1;
                CONTINUE;
            END;
            THROW;
        END CATCH;
    END;

    SELECT @inserted AS inserted,
           (SELECT b.CouponCode AS code FROM @batch b
            WHERE NOT EXISTS (SELECT 1 FROM @new n WHERE n.CouponCode = b.CouponCode)
            ORDER BY b.Ord
            FOR JSON PATH) AS existing,
           @generated AS generatedAmount, @requested AS requestedAmount;
END;
GO

CREATE OR ALTER PROCEDURE dbo.sp_CountCouponsWithPrefix @Prefix nvarchar(400)
AS
BEGIN
    SET NOCOUNT ON;
    SET XACT_ABORT ON;
    -- LIKE's own characters (\ % _ [) are escaped, so the prefix is taken literally.
    DECLARE @p nvarchar(2000) = REPLACE(REPLACE(REPLACE(REPLACE(UPPER(ISNULL(@Prefix, N'')),
        N'\', N'\\'), N'%', N'\%'), N'_', N'\_'), N'[', N'\[');
    SELECT COUNT_BIG(*) AS n FROM dbo.Coupons WHERE CouponCode LIKE @p + N'%' ESCAPE N'\';
END;
GO

-- Keyset pages of codes for export (constant memory on every engine).
CREATE OR ALTER PROCEDURE dbo.sp_ExportCoupons
    @CampaignId nvarchar(100), @RequestId nvarchar(100), @AfterCouponId bigint, @Limit int
AS
BEGIN
    SET NOCOUNT ON;
    SET XACT_ABORT ON;
    SELECT TOP (@Limit) c.CouponId, c.CouponCode, c.CampaignId, c.ExpiresAt, c.GenerationBatchId, c.CreatedAt
    FROM dbo.Coupons c
    WHERE (@CampaignId IS NULL OR c.CampaignId = @CampaignId)
      AND (@RequestId IS NULL OR c.GenerationBatchId = @RequestId)
      AND c.CouponId > ISNULL(@AfterCouponId, 0)
    ORDER BY c.CouponId
    OPTION (RECOMPILE);
END;
GO

-- sp_CancelGenerationRequest: Requested, Generating or Failed -> Cancelled. A worker holding it stops
-- at its next batch (sp_BulkInsertCoupons refuses a request that is not Generating) and keeps what
-- it inserted. Cancelling a Cancelled request changes nothing; a Generated one is refused.
CREATE OR ALTER PROCEDURE dbo.sp_CancelGenerationRequest @RequestId nvarchar(100)
AS
BEGIN
    SET NOCOUNT ON;
    SET XACT_ABORT ON;
    DECLARE @msg nvarchar(2048), @current nvarchar(20);
    BEGIN TRY
        BEGIN TRANSACTION;
        SELECT @current = Status FROM dbo.GenerationRequests WITH (UPDLOCK, ROWLOCK) WHERE RequestId = @RequestId;
        IF @current IS NULL
        BEGIN
            SET @msg = CONCAT(N'generation request ', @RequestId, N' does not exist');
            THROW 50404, @msg, 1;
        END;
        IF @current = N'Generated'
        BEGIN
            SET @msg = CONCAT(N'generation request ', @RequestId, N' is Generated; there is nothing left to cancel');
            THROW 50409, @msg, 1;
        END;
        IF @current <> N'Cancelled'
            UPDATE dbo.GenerationRequests WITH (ROWLOCK)
            SET Status = N'Cancelled', FailureReason = NULL, UpdatedAt = SYSUTCDATETIME()
            WHERE RequestId = @RequestId;
        COMMIT TRANSACTION;
    END TRY
    BEGIN CATCH
        IF @@TRANCOUNT > 0 ROLLBACK TRANSACTION;
        THROW;
    END CATCH;
    EXEC dbo.sp_GetGenerationRequest @RequestId = @RequestId;
END;
GO

GRANT EXECUTE ON dbo.sp_CreateGenerationRequest TO coupon_app;
GRANT EXECUTE ON dbo.sp_GetGenerationRequest TO coupon_app;
GRANT EXECUTE ON dbo.sp_ListGenerationRequests TO coupon_app;
GRANT EXECUTE ON dbo.sp_ClaimGenerationRequest TO coupon_app;
GRANT EXECUTE ON dbo.sp_ReleaseGenerationRequest TO coupon_app;
GRANT EXECUTE ON dbo.sp_UpdateGenerationRequest TO coupon_app;
GRANT EXECUTE ON dbo.sp_BulkInsertCoupons TO coupon_app;
GRANT EXECUTE ON dbo.sp_CountCouponsWithPrefix TO coupon_app;
GRANT EXECUTE ON dbo.sp_ExportCoupons TO coupon_app;
GRANT EXECUTE ON dbo.sp_CancelGenerationRequest TO coupon_app;
GO
