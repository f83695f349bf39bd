-- The redeem API's throttle (issue 12): the stored outcome of an idempotent redemption, read before
-- the throttle so that a replay is answered even while its user or address is locked out, and the
-- batched record of throttled attempts (0013_throttled_attempts.sql) that sp_FraudReport reports.
-- Twin: database/postgres/R__0700_throttle.sql.
-- Repeatable (see docs/mssql.md, "Migrations"): re-applied whenever this file or one before it
-- changes, and after every numbered migration. Edit the definitions here; never in the numbered
-- files. Procedures: CREATE OR ALTER (keeps grants).
--
-- Errors raised here carry our own numbers, mapped once in packages/db/src/engines/mssql-errors.ts:
--   50400 invalid input, 50422 idempotency key reused with another request.
-- Every procedure runs with SET XACT_ABORT ON, so any error rolls its transaction back whole.

SET ANSI_NULLS ON;
SET QUOTED_IDENTIFIER ON;
SET XACT_ABORT ON;
GO

-- The outcome sp_RedeemCoupon stored for the key, as its replay returns it (replayed: true), in one
-- row, one column `result`; no row when the key has no finished outcome (unknown, or its redemption
-- has not committed yet: READPAST skips that row, and the caller goes on to sp_RedeemCoupon, which
-- waits for it). The key with another request hash is refused as sp_RedeemCoupon refuses it.
CREATE OR ALTER PROCEDURE dbo.sp_GetIdempotentOutcome
    @IdempotencyKey nvarchar(4000), @RequestHash nvarchar(4000)
AS
BEGIN
    SET NOCOUNT ON;
    SET XACT_ABORT ON;
    DECLARE @storedHash nvarchar(128), @stored nvarchar(max), @msg nvarchar(2048);
    IF @IdempotencyKey IS NULL OR LEN(@IdempotencyKey) = 0 OR DATALENGTH(@IdempotencyKey) > 400
    BEGIN
        THROW 50400, N'idempotencyKey must be a non-empty string of at most 200 characters', 1;
    END;
    SELECT @storedHash = k.RequestHash, @stored = k.Response
    FROM dbo.IdempotencyKeys k WITH (READPAST)
    WHERE k.IdempotencyKey = @IdempotencyKey;
    IF @stored IS NULL OR @stored = N'{}'
        RETURN;
    IF @storedHash <> ISNULL(@RequestHash, N'') COLLATE Latin1_General_100_BIN2
    BEGIN
        SET @msg = CONCAT(N'idempotency key ', @IdempotencyKey, N' was used with a different request');
        THROW 50422, @msg, 1;
    END;
    -- a bit is written as JSON true (see sp_RedeemCoupon's replay)
    SELECT JSON_MODIFY(@stored, N'$.replayed', CAST(1 AS bit)) AS result;
END;
GO

-- Adds a batch of per-minute counts, a JSON array of {minute, subjectKind, subject, attempts}
-- (minute: UTC, ISO 8601 without zone): each row's attempts are added to its (subjectKind, minute
-- truncated to the minute, subject) row, created if absent. Rows of the batch with the same key are
-- summed first. Returns the rows written.
CREATE OR ALTER PROCEDURE dbo.sp_RecordThrottledAttempts
    @Rows nvarchar(max)
AS
BEGIN
    SET NOCOUNT ON;
    SET XACT_ABORT ON;
    DECLARE @n int;
    IF @Rows IS NULL OR ISJSON(@Rows) = 0 OR LEFT(LTRIM(@Rows), 1) <> N'['
    BEGIN
        THROW 50400, N'rows must be a JSON array of {minute, subjectKind, subject, attempts}', 1;
    END;
    SELECT TRY_CAST(JSON_VALUE(j.[value], N'$.minute') AS datetime2) AS Minute,
           JSON_VALUE(j.[value], N'$.subjectKind') AS SubjectKind,
           JSON_VALUE(j.[value], N'$.subject') AS Subject,
           TRY_CAST(JSON_VALUE(j.[value], N'$.attempts') AS bigint) AS Attempts
    INTO #given
    FROM OPENJSON(@Rows) j;
    IF EXISTS (SELECT 1 FROM #given g
               WHERE g.Minute IS NULL OR g.SubjectKind IS NULL OR g.SubjectKind NOT IN (N'user', N'ip', N'client')
                  OR g.Subject IS NULL OR LEN(g.Subject) = 0 OR LEN(g.Subject) > 200
                  OR g.Attempts IS NULL OR g.Attempts < 1)
    BEGIN
        THROW 50400, N'every row needs a minute, a subjectKind of user, ip or client, a subject of 1-200 characters and attempts of at least 1', 1;
    END;
    SELECT CAST(g.SubjectKind AS nvarchar(10)) COLLATE Latin1_General_100_BIN2 AS SubjectKind,
           DATEADD(minute, DATEDIFF(minute, CAST('2000-01-01' AS datetime2), g.Minute), CAST('2000-01-01' AS datetime2)) AS Minute,
           CAST(g.Subject AS nvarchar(200)) COLLATE Latin1_General_100_BIN2 AS Subject,
           SUM(g.Attempts) AS Attempts
    INTO #batch
    FROM #given g
    GROUP BY g.SubjectKind, DATEADD(minute, DATEDIFF(minute, CAST('2000-01-01' AS datetime2), g.Minute), CAST('2000-01-01' AS datetime2)),
             g.Subject;

    BEGIN TRANSACTION;
    -- one flush at a time (every few seconds per replica): the update and the insert of a key
    -- cannot interleave with another replica's
    DECLARE @rc int;
    EXEC @rc = sys.sp_getapplock @Resource = N'coupons.ThrottledAttempts', @LockMode = 'Exclusive', @LockOwner = 'Transaction',
        @LockTimeout = 30000;
    IF @rc < 0
    BEGIN
        THROW 50500, N'the record of throttled attempts is busy; the API keeps the counts and flushes them again', 1;
    END;
    UPDATE t SET t.Attempts = t.Attempts + b.Attempts
    FROM dbo.ThrottledAttempts t
    JOIN #batch b ON b.SubjectKind = t.SubjectKind AND b.Minute = t.Minute AND b.Subject = t.Subject;
    SET @n = @@ROWCOUNT;
    INSERT INTO dbo.ThrottledAttempts (SubjectKind, Minute, Subject, Attempts)
    SELECT b.SubjectKind, b.Minute, b.Subject, b.Attempts
    FROM #batch b
    WHERE NOT EXISTS (SELECT 1 FROM dbo.ThrottledAttempts t
                      WHERE t.SubjectKind = b.SubjectKind AND t.Minute = b.Minute AND t.Subject = b.Subject);
    SET @n = @n + @@ROWCOUNT;
    COMMIT TRANSACTION;
    SELECT @n AS n;
END;
GO

GRANT EXECUTE ON dbo.sp_GetIdempotentOutcome TO coupon_app;
GRANT EXECUTE ON dbo.sp_RecordThrottledAttempts TO coupon_app;
GO
