-- sqlfluff-lacks: FOR JSON PATH
-- Operations: the history archive (0005), the fraud report (0006), the scale status (0007) and the
-- idempotency key purge (0009). Twin: database/postgres/R__0500_operations.sql. The archive is
-- granted because the generator's identity runs it as an ACI job; it only moves rows between two
-- tables, it deletes nothing.
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

-- Moves one batch, oldest first (lowest RedemptionId, as on PostgreSQL): up to @BatchSize rows
-- attempted before @Before, or (@Ids given, a JSON array of ids) exactly those rows whatever their
-- time: the rows a file archive wrote out before deleting. The batch is a TOP ... ORDER BY in a CTE,
-- deleted through it (DELETE TOP (n) alone takes whichever rows the plan meets first).
--
-- Why a batched DELETE TOP (n) ... OUTPUT DELETED.* INTO and not a partition switch: a switch
-- moves a whole partition as metadata, but it needs RedemptionHistory partitioned by AttemptedAt on
-- quarter boundaries, every index aligned (its nonclustered indexes would all have to carry the
-- partition column) and an archive table of identical structure on the same filegroup, and it takes
-- a schema-modification lock that waits for every running redemption. The batched move needs none
-- of that: each batch is a short transaction that locks only the rows it moves (READPAST lets a
-- second archiver take other rows), the log grows by one batch at a time, redemptions keep writing
-- new rows beside it, and a kill loses at most one uncommitted batch, which rolls back whole. On a
-- table of hundreds of millions of rows it takes longer than a switch, but it runs online, needs no
-- change to the hot table, and can be stopped and resumed at any batch.
CREATE OR ALTER PROCEDURE dbo.sp_ArchiveRedemptionHistory
    @Before datetime2 = NULL,
    @BatchSize int,
    @Ids nvarchar(max) = NULL
AS
BEGIN
    SET NOCOUNT ON;
    SET XACT_ABORT ON;
    DECLARE @moved int;
    IF @Before IS NULL AND @Ids IS NULL
    BEGIN
        THROW 50400, N'before must be a time (the archive moves rows attempted before it)', 1;
    END
    IF @BatchSize IS NULL OR @BatchSize < 1 OR @BatchSize > 100000
    BEGIN
        THROW 50400, N'batchSize must be an integer from 1 to 100000', 1;
    END
    IF @Ids IS NULL
    BEGIN
        WITH batch AS (
            SELECT TOP (@BatchSize) h.*
            FROM dbo.RedemptionHistory h WITH (ROWLOCK, READPAST)
            WHERE h.AttemptedAt < @Before
            ORDER BY h.RedemptionId)
        DELETE FROM batch
        OUTPUT DELETED.RedemptionId, DELETED.CouponCode, DELETED.UserId, DELETED.CampaignId, DELETED.AttemptedAt,
               DELETED.Success, DELETED.FailureReason, DELETED.IpAddress, DELETED.UserAgent, DELETED.ClientId
        INTO dbo.RedemptionHistoryArchive (RedemptionId, CouponCode, UserId, CampaignId, AttemptedAt, Success,
                                           FailureReason, IpAddress, UserAgent, ClientId);
        SET @moved = @@ROWCOUNT;
    END
    ELSE
    BEGIN
        IF ISJSON(@Ids) = 0
        BEGIN
            THROW 50400, N'ids must be a JSON array of history ids', 1;
        END;
        WITH batch AS (
            SELECT TOP (@BatchSize) h.*
            FROM dbo.RedemptionHistory h WITH (ROWLOCK, READPAST)
            WHERE h.RedemptionId IN (SELECT CAST(j.[value] AS bigint) FROM OPENJSON(@Ids) j)
            ORDER BY h.RedemptionId)
        DELETE FROM batch
        OUTPUT DELETED.RedemptionId, DELETED.CouponCode, DELETED.UserId, DELETED.CampaignId, DELETED.AttemptedAt,
               DELETED.Success, DELETED.FailureReason, DELETED.IpAddress, DELETED.UserAgent, DELETED.ClientId
        INTO dbo.RedemptionHistoryArchive (RedemptionId, CouponCode, UserId, CampaignId, AttemptedAt, Success,
                                           FailureReason, IpAddress, UserAgent, ClientId);
        SET @moved = @@ROWCOUNT;
    END
    SELECT @moved AS moved;
END;
GO

-- The next rows a file archive will write out before it moves them (oldest first).
CREATE OR ALTER PROCEDURE dbo.sp_ListArchivableHistory
    @Before datetime2,
    @Limit int
AS
BEGIN
    SET NOCOUNT ON;
    DECLARE @n int = CASE WHEN @Limit IS NULL THEN 1000 WHEN @Limit < 1 THEN 1 WHEN @Limit > 100000 THEN 100000 ELSE @Limit END;
    SELECT TOP (@n) h.RedemptionId, h.CouponCode, h.UserId, h.CampaignId,
           CAST(h.AttemptedAt AS datetimeoffset) AS AttemptedAt, h.Success, h.FailureReason, h.IpAddress, h.UserAgent
    FROM dbo.RedemptionHistory h
    WHERE h.AttemptedAt < @Before
    ORDER BY h.RedemptionId;
END;
GO

-- Offenders by ip, user or campaign: refused attempts (RedemptionHistory) and, for ip and user,
-- the attempts the API's throttle stopped before the store (ThrottledAttempts, counted per minute:
-- a minute counts when it starts inside the window). Ranked by refusals plus throttled attempts;
-- first and last seen cover both (throttled ones to the minute). A campaign has no throttled count.
CREATE OR ALTER PROCEDURE dbo.sp_FraudReport
    @Since datetime2,
    @Until datetime2,
    @By nvarchar(20),
    @Top int
AS
BEGIN
    SET NOCOUNT ON;
    IF @By IS NULL OR @By NOT IN (N'ip', N'user', N'campaign')
    BEGIN
        THROW 50400, N'by must be ip, user or campaign', 1;
    END
    IF @Since IS NULL OR @Until IS NULL OR @Until <= @Since
    BEGIN
        THROW 50400, N'the window must have since before until', 1;
    END
    IF @Top IS NULL OR @Top < 1 OR @Top > 1000
    BEGIN
        THROW 50400, N'top must be an integer from 1 to 1000', 1;
    END

    SELECT f.Subject, f.CouponCode, f.FailureReason, f.AttemptedAt
    INTO #refused
    FROM dbo.vw_FraudSignals f
    WHERE f.Dimension = @By AND f.AttemptedAt >= @Since AND f.AttemptedAt < @Until;

    SELECT r.Subject, COUNT_BIG(*) AS Refusals, COUNT_BIG(DISTINCT r.CouponCode) AS DistinctCodes,
           MIN(r.AttemptedAt) AS FirstSeen, MAX(r.AttemptedAt) AS LastSeen
    INTO #per
    FROM #refused r
    GROUP BY r.Subject;

    SELECT CAST(a.Subject AS nvarchar(200)) COLLATE Latin1_General_100_BIN2 AS Subject, SUM(a.Attempts) AS Throttled,
           MIN(a.Minute) AS FirstSeen, MAX(a.Minute) AS LastSeen
    INTO #stopped
    FROM dbo.ThrottledAttempts a
    WHERE a.SubjectKind = @By AND a.Minute >= @Since AND a.Minute < @Until
    GROUP BY a.Subject;

    SELECT TOP (@Top) CAST(COALESCE(p.Subject, s.Subject) AS nvarchar(200)) COLLATE Latin1_General_100_BIN2 AS Subject,
           ISNULL(p.Refusals, 0) AS Refusals, ISNULL(p.DistinctCodes, 0) AS DistinctCodes,
           ISNULL(s.Throttled, 0) AS Throttled,
           CASE WHEN s.FirstSeen IS NULL OR p.FirstSeen < s.FirstSeen THEN p.FirstSeen ELSE s.FirstSeen END AS FirstSeen,
           CASE WHEN s.LastSeen IS NULL OR p.LastSeen > s.LastSeen THEN p.LastSeen ELSE s.LastSeen END AS LastSeen
    INTO #ranked
    FROM #per p
    FULL JOIN #stopped s ON s.Subject = p.Subject
    ORDER BY ISNULL(p.Refusals, 0) + ISNULL(s.Throttled, 0) DESC, COALESCE(p.Subject, s.Subject);

    SELECT t.Subject,
           CASE @By
               WHEN N'ip' THEN (SELECT COUNT_BIG(*) FROM dbo.RedemptionHistory h
                                WHERE h.IpAddress = t.Subject COLLATE DATABASE_DEFAULT
                                  AND h.AttemptedAt >= @Since AND h.AttemptedAt < @Until)
               WHEN N'user' THEN (SELECT COUNT_BIG(*) FROM dbo.RedemptionHistory h
                                  WHERE h.UserId = t.Subject AND h.AttemptedAt >= @Since AND h.AttemptedAt < @Until)
               ELSE (SELECT COUNT_BIG(*) FROM dbo.RedemptionHistory h
                     WHERE h.CampaignId = t.Subject AND h.AttemptedAt >= @Since AND h.AttemptedAt < @Until)
           END AS Attempts,
           t.Refusals, t.DistinctCodes,
           ISNULL((SELECT x.FailureReason AS reason, x.n
                   FROM (SELECT r.FailureReason, COUNT_BIG(*) AS n FROM #refused r WHERE r.Subject = t.Subject
                         GROUP BY r.FailureReason) x
                   ORDER BY x.n DESC, x.FailureReason
                   FOR JSON PATH), N'[]') AS Reasons,
           CAST(t.FirstSeen AS datetimeoffset) AS FirstSeen, CAST(t.LastSeen AS datetimeoffset) AS LastSeen,
           t.Throttled
    FROM #ranked t
    ORDER BY t.Refusals + t.Throttled DESC, t.Subject;
END;
GO

CREATE OR ALTER PROCEDURE dbo.sp_GetScaleStatus
    @ArchiveBefore datetime2
AS
BEGIN
    SET NOCOUNT ON;
    DECLARE @largestId nvarchar(100), @largest bigint = 0;
    SELECT TOP (1) @largestId = c.CampaignId, @largest = COUNT_BIG(*)
    FROM dbo.Coupons c
    GROUP BY c.CampaignId
    ORDER BY COUNT_BIG(*) DESC, c.CampaignId;
    SELECT (SELECT COUNT_BIG(*) FROM dbo.Coupons) AS couponsTotal,
           (SELECT COUNT_BIG(*) FROM dbo.Campaigns) AS campaigns,
           @largestId AS largestCampaignId,
           @largest AS largestCampaignCoupons,
           (SELECT COUNT_BIG(*) FROM dbo.RedemptionHistory) AS historyRows,
           (SELECT COUNT_BIG(*) FROM dbo.RedemptionHistory h WHERE h.AttemptedAt < @ArchiveBefore) AS historyRowsToArchive,
           (SELECT COUNT_BIG(*) FROM dbo.RedemptionHistoryArchive) AS archiveRows,
           (SELECT CAST(MIN(h.AttemptedAt) AS datetimeoffset) FROM dbo.RedemptionHistory h) AS oldestHistoryAt;
END;
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
    -- oldest first, as on PostgreSQL; READPAST: keys a redemption holds right now are left for the
    -- next batch
    WITH batch AS (
        SELECT TOP (@BatchSize) k.IdempotencyKey
        FROM dbo.IdempotencyKeys k WITH (ROWLOCK, READPAST)
        WHERE k.CreatedAt < @Before
        ORDER BY k.CreatedAt)
    DELETE FROM batch;
    SELECT @@ROWCOUNT AS n;
END;
GO

GRANT EXECUTE ON dbo.sp_ArchiveRedemptionHistory TO coupon_app;
GRANT EXECUTE ON dbo.sp_ListArchivableHistory TO coupon_app;
GRANT EXECUTE ON dbo.sp_FraudReport TO coupon_app;
GRANT EXECUTE ON dbo.sp_GetScaleStatus TO coupon_app;
GRANT EXECUTE ON dbo.sp_PurgeIdempotencyKeys TO coupon_app;
GO
