-- 0016: campaign statistics over time (dbo.sp_GetCampaignStatsSeries, R__0600_statistics.sql) read
-- one campaign's attempts of a window by a seek on (CampaignId, AttemptedAt) that carries the two
-- columns the counts need, so the read is one index range, not a scan or key lookups. It replaces
-- 0006's IX_RedemptionHistory_CampaignId (same key; the fraud report's per-campaign attempt counts
-- seek this one), so a redemption still writes one index for it. Not filtered: a filtered index is
-- not matched to a parameterised seek (CampaignId = @CampaignId) in a cached plan. The archive gets
-- the same index: a window reaching back past the last archive run reads both tables.
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
