-- 0016: campaign statistics over time (sp_GetCampaignStatsSeries, R__0600_statistics.sql) read one
-- campaign's attempts of a window by an index range on (CampaignId, AttemptedAt) that carries the
-- two columns the counts need, so the read is an index-only scan, not a walk of the heap. It
-- replaces 0006's IX_RedemptionHistory_CampaignId (same key, same filter; the fraud report's
-- per-campaign attempt counts use this one), so a redemption still writes one index for it. The
-- archive gets the same index: a window reaching back past the last archive run reads both tables.
-- Twin: database/mssql/0016_campaign_statistics.sql.
CREATE INDEX IF NOT EXISTS IX_RedemptionHistory_CampaignStats
    ON RedemptionHistory (CampaignId, AttemptedAt) INCLUDE (Success, FailureReason) WHERE CampaignId IS NOT NULL;
DROP INDEX IF EXISTS IX_RedemptionHistory_CampaignId;
CREATE INDEX IF NOT EXISTS IX_RedemptionHistoryArchive_CampaignStats
    ON RedemptionHistoryArchive (CampaignId, AttemptedAt) INCLUDE (Success, FailureReason) WHERE CampaignId IS NOT NULL;
