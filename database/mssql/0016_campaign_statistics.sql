-- 0016: campaign statistics over time (dbo.sp_GetCampaignStatsSeries, R__0600_statistics.sql) read
-- one campaign's attempts of a window by a seek on (CampaignId, AttemptedAt) that carries the two
-- columns the counts need, so the read is one index range, not a scan or key lookups. It replaces
-- 0006's IX_RedemptionHistory_CampaignId (same key; the fraud report's per-campaign attempt counts
-- seek this one), so a redemption still writes one index for it. Not filtered: a filtered index is
-- not matched to a parameterised seek (CampaignId = @CampaignId) in a cached plan. The archive gets
-- the same index: a window reaching back past the last archive run reads both tables.
-- dbo.vw_RedemptionStats counts a campaign's expired coupons by a seek of
-- IX_Coupons_Unredeemed_ExpiresAt instead of reading every coupon of the campaign (a redemption
-- leaves the index; the view's predicate repeats the filter's literals, so the index is matched).
-- Twin: database/postgres/0016_campaign_statistics.sql. Re-runnable: each step checks what is there.
SET XACT_ABORT ON;
GO
IF INDEXPROPERTY(OBJECT_ID(N'dbo.RedemptionHistory'), N'IX_RedemptionHistory_CampaignStats', 'IndexID') IS NULL
    CREATE INDEX IX_RedemptionHistory_CampaignStats ON dbo.RedemptionHistory (CampaignId, AttemptedAt)
        INCLUDE (Success, FailureReason);
GO
IF INDEXPROPERTY(OBJECT_ID(N'dbo.RedemptionHistory'), N'IX_RedemptionHistory_CampaignId', 'IndexID') IS NOT NULL
    DROP INDEX IX_RedemptionHistory_CampaignId ON dbo.RedemptionHistory;
GO
IF INDEXPROPERTY(OBJECT_ID(N'dbo.RedemptionHistoryArchive'), N'IX_RedemptionHistoryArchive_CampaignStats', 'IndexID') IS NULL
    CREATE INDEX IX_RedemptionHistoryArchive_CampaignStats ON dbo.RedemptionHistoryArchive (CampaignId, AttemptedAt)
        INCLUDE (Success, FailureReason);
GO
IF INDEXPROPERTY(OBJECT_ID(N'dbo.Coupons'), N'IX_Coupons_Unredeemed_ExpiresAt', 'IndexID') IS NULL
    CREATE INDEX IX_Coupons_Unredeemed_ExpiresAt ON dbo.Coupons (CampaignId, ExpiresAt)
        WHERE IsRedeemed = 0 AND ExpiresAt IS NOT NULL;
GO

-- The series' rollup: attempts per campaign, hour, outcome and reason, for the whole hours in
-- [RolledUpFrom, RolledUpTo) of dbo.CampaignStatsRollup (one row), added by sp_RollupCampaignStats
-- (the API's counter sync timer calls it) once an hour is closed. The series reads these hours from
-- here (a few rows per hour instead of every attempt) and only the rest from the history. It starts
-- at the first hour of the live history; older (archived) hours are read from the archive.
IF OBJECT_ID(N'dbo.CampaignStatsHourly', N'U') IS NULL
CREATE TABLE dbo.CampaignStatsHourly (
    CampaignId nvarchar(100) COLLATE Latin1_General_100_BIN2 NOT NULL,
    HourStart  datetime2     NOT NULL,
    Success    bit           NOT NULL,
    Reason     nvarchar(50)  NOT NULL, -- N'' for accepted attempts
    Attempts   int           NOT NULL,
    CONSTRAINT PK_CampaignStatsHourly PRIMARY KEY CLUSTERED (CampaignId, HourStart, Success, Reason),
    CONSTRAINT CK_CampaignStatsHourly_Attempts CHECK (Attempts > 0)
);
GO
IF OBJECT_ID(N'dbo.CampaignStatsRollup', N'U') IS NULL
CREATE TABLE dbo.CampaignStatsRollup (
    Id           int       NOT NULL,
    RolledUpFrom datetime2 NOT NULL,
    RolledUpTo   datetime2 NOT NULL,
    CONSTRAINT PK_CampaignStatsRollup PRIMARY KEY CLUSTERED (Id),
    CONSTRAINT CK_CampaignStatsRollup_One CHECK (Id = 1),
    CONSTRAINT CK_CampaignStatsRollup_Range CHECK (RolledUpFrom <= RolledUpTo)
);
GO
IF NOT EXISTS (SELECT 1 FROM dbo.CampaignStatsRollup)
    INSERT INTO dbo.CampaignStatsRollup (Id, RolledUpFrom, RolledUpTo)
    SELECT 1, m.t, m.t
    FROM (SELECT DATEADD(hour, DATEDIFF(hour, CAST('2000-01-01' AS datetime2), ISNULL(MIN(AttemptedAt), SYSUTCDATETIME())),
                         CAST('2000-01-01' AS datetime2)) AS t
          FROM dbo.RedemptionHistory) m;
GO
