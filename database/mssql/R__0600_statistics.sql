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

-- A campaign's attempts per hour or day (@Interval) attempted in [@Since, @Until), from the live
-- history and its archive: one row per bucket start (a whole UTC hour or day), kind (redeemed,
-- refused, reversed) and refusal reason that occurred, with the count. Buckets with nothing are
-- not returned (the engine fills them with zeros). Each table is read by one seek of
-- IX_*_CampaignStats (0016). An unknown campaign is 50404.
CREATE OR ALTER PROCEDURE dbo.sp_GetCampaignStatsSeries
    @CampaignId nvarchar(100), @Interval nvarchar(10), @Since datetime2, @Until datetime2
AS
BEGIN
    SET NOCOUNT ON;
    SET XACT_ABORT ON;
    DECLARE @msg nvarchar(2048);
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
    SELECT b.BucketStart, b.Kind, b.Reason, COUNT_BIG(*) AS N
    FROM (
        SELECT h.AttemptedAt, h.Success, h.FailureReason FROM dbo.RedemptionHistory h
        WHERE h.CampaignId = @CampaignId AND h.AttemptedAt >= @Since AND h.AttemptedAt < @Until
        UNION ALL
        SELECT x.AttemptedAt, x.Success, x.FailureReason FROM dbo.RedemptionHistoryArchive x
        WHERE x.CampaignId = @CampaignId AND x.AttemptedAt >= @Since AND x.AttemptedAt < @Until
    ) a
    CROSS APPLY (
        SELECT CASE WHEN @Interval = N'hour' THEN DATEADD(hour, DATEDIFF(hour, @origin, a.AttemptedAt), @origin)
                    ELSE DATEADD(day, DATEDIFF(day, @origin, a.AttemptedAt), @origin) END AS BucketStart,
               CASE WHEN a.Success = 1 THEN N'redeemed' ELSE N'refused' END AS Kind,
               CASE WHEN a.Success = 1 THEN NULL ELSE a.FailureReason END AS Reason
    ) b
    GROUP BY b.BucketStart, b.Kind, b.Reason
    UNION ALL
    -- LEAD-MERGE: count RedemptionReversals(CampaignId, ReversedAt) here
    SELECT CAST(NULL AS datetime2), N'reversed', CAST(NULL AS nvarchar(50)), CAST(0 AS bigint) WHERE 1 = 0;
END;
GO

GRANT EXECUTE ON dbo.sp_RefreshCampaignCounters TO coupon_app;
GRANT EXECUTE ON dbo.sp_GetCampaignStatsSeries TO coupon_app;
GO
