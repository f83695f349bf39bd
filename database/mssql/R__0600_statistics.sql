-- Statistics: the seed's Campaigns.CurrentRedemptions kept near the truth, and a campaign's attempts
-- over time. Twin: database/postgres/R__0600_statistics.sql.
-- Repeatable (see docs/mssql.md, "Migrations"): re-applied whenever this file or one before it
-- changes, and after every numbered migration. Edit the definitions here; never in the numbered
-- files. Procedures: CREATE OR ALTER (keeps grants).
-- Every procedure runs with SET XACT_ABORT ON, so any error rolls its transaction back whole.

SET ANSI_NULLS ON;
SET QUOTED_IDENTIFIER ON;
SET XACT_ABORT ON;
GO

-- Copies each campaign's exact count (the sum of its counter slots) into the seed's
-- Campaigns.CurrentRedemptions where the two differ, and returns how many campaigns changed. The API
-- calls it every few seconds (COUPONS_COUNTER_SYNC_SECONDS), so the column is as stale as that at
-- most; redemptions never write Campaigns, so no hot row comes back on their path. Rows that agree
-- are not written, so replicas calling it at once cost a read each. UpdatedAt is left alone: it
-- says when the campaign was edited, not when it was counted.
CREATE OR ALTER PROCEDURE dbo.sp_RefreshCampaignCounters
AS
BEGIN
    SET NOCOUNT ON;
    SET XACT_ABORT ON;
    UPDATE c
    SET CurrentRedemptions = k.CurrentRedemptions
    FROM dbo.Campaigns c
    JOIN dbo.vw_CampaignCounters k ON k.CampaignId = c.CampaignId
    WHERE c.CurrentRedemptions <> k.CurrentRedemptions;
    SELECT @@ROWCOUNT AS n;
END;
GO

-- Adds the closed hours since dbo.CampaignStatsRollup.RolledUpTo to dbo.CampaignStatsHourly (at
-- most 31 days per call, so a first run over a long history is spread over several), and returns
-- the rows added. An hour is closed 5 minutes after its end: an attempt whose transaction started in
-- an hour and committed more than 5 minutes after its end would be missed (PostgreSQL's twin also
-- waits for such transactions; the app's role here may not read the server's transaction list).
-- Reads the history and its archive in one statement, so a concurrent archive batch counts once.
-- One caller at a time: another skips the locked state row (READPAST) and returns 0 at once.
CREATE OR ALTER PROCEDURE dbo.sp_RollupCampaignStats
AS
BEGIN
    SET NOCOUNT ON;
    SET XACT_ABORT ON;
    DECLARE @origin datetime2 = '2000-01-01T00:00:00';
    DECLARE @from datetime2, @to datetime2, @rows int;
    SET @to = DATEADD(hour, DATEDIFF(hour, @origin, DATEADD(minute, -5, SYSUTCDATETIME())), @origin);
    BEGIN TRANSACTION;
    SELECT @from = r.RolledUpTo FROM dbo.CampaignStatsRollup r WITH (UPDLOCK, ROWLOCK, READPAST) WHERE r.Id = 1;
    IF @from IS NULL OR @to <= @from
    BEGIN
        COMMIT TRANSACTION;
        SELECT 0 AS n;
        RETURN;
    END;
    IF @to > DATEADD(day, 31, @from) SET @to = DATEADD(day, 31, @from);
    INSERT INTO dbo.CampaignStatsHourly (CampaignId, HourStart, Success, Reason, Attempts)
    SELECT a.CampaignId, b.HourStart, a.Success, ISNULL(LEFT(a.FailureReason, 50), N''), COUNT(*)
    FROM (
        SELECT h.CampaignId, h.AttemptedAt, h.Success, h.FailureReason FROM dbo.RedemptionHistory h
        WHERE h.AttemptedAt >= @from AND h.AttemptedAt < @to AND h.CampaignId IS NOT NULL
        UNION ALL
        SELECT x.CampaignId, x.AttemptedAt, x.Success, x.FailureReason FROM dbo.RedemptionHistoryArchive x
        WHERE x.AttemptedAt >= @from AND x.AttemptedAt < @to AND x.CampaignId IS NOT NULL
    ) a
    CROSS APPLY (SELECT DATEADD(hour, DATEDIFF(hour, @origin, a.AttemptedAt), @origin) AS HourStart) b
    GROUP BY a.CampaignId, b.HourStart, a.Success, ISNULL(LEFT(a.FailureReason, 50), N'');
    SET @rows = @@ROWCOUNT;
    UPDATE dbo.CampaignStatsRollup SET RolledUpTo = @to WHERE Id = 1;
    COMMIT TRANSACTION;
    SELECT @rows AS n;
END;
GO

-- A campaign's attempts per hour or day (@Interval) attempted in [@Since, @Until): one row per
-- bucket start (a whole UTC hour or day), kind (redeemed, refused, reversed) and refusal reason that
-- occurred, with the count. Buckets with nothing are not returned (the engine fills them with
-- zeros). The whole hours of the window that dbo.CampaignStatsRollup covers come from
-- dbo.CampaignStatsHourly; the rest (a partial first and last hour, the hours not rolled up yet,
-- hours before the rollup's start) from one seek each of IX_*_CampaignStats (0016) of the history
-- and its archive. An unknown campaign is 50404.
CREATE OR ALTER PROCEDURE dbo.sp_GetCampaignStatsSeries
    @CampaignId nvarchar(100), @Interval nvarchar(10), @Since datetime2, @Until datetime2
AS
BEGIN
    SET NOCOUNT ON;
    SET XACT_ABORT ON;
    DECLARE @msg nvarchar(2048), @lo datetime2, @hi datetime2, @sinceHour datetime2;
    DECLARE @origin datetime2 = '2000-01-01T00:00:00';
    IF @Interval IS NULL OR @Interval NOT IN (N'hour', N'day')
    BEGIN
        THROW 50400, N'interval must be one of hour, day', 1;
    END;
    IF @Since IS NULL OR @Until IS NULL OR @Since >= @Until
    BEGIN
        THROW 50400, N'since must be a time before until', 1;
    END;
    IF NOT EXISTS (SELECT 1 FROM dbo.Campaigns c WHERE c.CampaignId = @CampaignId)
    BEGIN
        SET @msg = CONCAT(N'campaign ', @CampaignId, N' does not exist');
        THROW 50404, @msg, 1;
    END;
    -- [@lo, @hi): the whole hours of the window the rollup holds; empty: everything is read live
    SET @sinceHour = DATEADD(hour, DATEDIFF(hour, @origin, @Since), @origin);
    IF @sinceHour < @Since SET @sinceHour = DATEADD(hour, 1, @sinceHour);
    SELECT @lo = CASE WHEN r.RolledUpFrom > @sinceHour THEN r.RolledUpFrom ELSE @sinceHour END,
           @hi = CASE WHEN r.RolledUpTo < DATEADD(hour, DATEDIFF(hour, @origin, @Until), @origin) THEN r.RolledUpTo
                      ELSE DATEADD(hour, DATEDIFF(hour, @origin, @Until), @origin) END
    FROM dbo.CampaignStatsRollup r WHERE r.Id = 1;
    IF @lo IS NULL OR @hi IS NULL OR @lo >= @hi
    BEGIN
        SET @lo = @Until;
        SET @hi = @Until;
    END;
    SELECT b.BucketStart, a.Kind, a.Reason, CAST(SUM(a.N) AS bigint) AS N
    FROM (
        SELECT r.HourStart AS T, CASE WHEN r.Success = 1 THEN N'redeemed' ELSE N'refused' END AS Kind,
               CAST(NULLIF(r.Reason, N'') AS nvarchar(500)) AS Reason, r.Attempts AS N
        FROM dbo.CampaignStatsHourly r
        WHERE r.CampaignId = @CampaignId AND r.HourStart >= @lo AND r.HourStart < @hi
        UNION ALL
        SELECT h.AttemptedAt, CASE WHEN h.Success = 1 THEN N'redeemed' ELSE N'refused' END, h.FailureReason, 1
        FROM dbo.RedemptionHistory h
        WHERE h.CampaignId = @CampaignId AND h.AttemptedAt >= @Since AND h.AttemptedAt < @lo
        UNION ALL
        SELECT h.AttemptedAt, CASE WHEN h.Success = 1 THEN N'redeemed' ELSE N'refused' END, h.FailureReason, 1
        FROM dbo.RedemptionHistory h
        WHERE h.CampaignId = @CampaignId AND h.AttemptedAt >= @hi AND h.AttemptedAt < @Until
        UNION ALL
        SELECT x.AttemptedAt, CASE WHEN x.Success = 1 THEN N'redeemed' ELSE N'refused' END, x.FailureReason, 1
        FROM dbo.RedemptionHistoryArchive x
        WHERE x.CampaignId = @CampaignId AND x.AttemptedAt >= @Since AND x.AttemptedAt < @lo
        UNION ALL
        SELECT x.AttemptedAt, CASE WHEN x.Success = 1 THEN N'redeemed' ELSE N'refused' END, x.FailureReason, 1
        FROM dbo.RedemptionHistoryArchive x
        WHERE x.CampaignId = @CampaignId AND x.AttemptedAt >= @hi AND x.AttemptedAt < @Until
    ) a
    CROSS APPLY (
        SELECT CASE WHEN @Interval = N'hour' THEN DATEADD(hour, DATEDIFF(hour, @origin, a.T), @origin)
                    ELSE DATEADD(day, DATEDIFF(day, @origin, a.T), @origin) END AS BucketStart
    ) b
    GROUP BY b.BucketStart, a.Kind, a.Reason
    UNION ALL
    -- reversals: a range of IX_RedemptionReversals_Campaign (CampaignId, ReversedAt) on the ledger (0012)
    SELECT rb.BucketStart, N'reversed', CAST(NULL AS nvarchar(500)), CAST(COUNT_BIG(*) AS bigint)
    FROM dbo.RedemptionReversals v
    CROSS APPLY (
        SELECT CASE WHEN @Interval = N'hour' THEN DATEADD(hour, DATEDIFF(hour, @origin, v.ReversedAt), @origin)
                    ELSE DATEADD(day, DATEDIFF(day, @origin, v.ReversedAt), @origin) END AS BucketStart
    ) rb
    WHERE v.CampaignId = @CampaignId AND v.ReversedAt >= @Since AND v.ReversedAt < @Until
    GROUP BY rb.BucketStart;
END;
GO

GRANT EXECUTE ON dbo.sp_RefreshCampaignCounters TO coupon_app;
GRANT EXECUTE ON dbo.sp_RollupCampaignStats TO coupon_app;
GRANT EXECUTE ON dbo.sp_GetCampaignStatsSeries TO coupon_app;
GO
