-- 0016: campaign statistics over time (sp_GetCampaignStatsSeries, R__0600_statistics.sql) read one
-- campaign's attempts of a window by an index range on (CampaignId, AttemptedAt) that carries the
-- two columns the counts need, so the read is an index-only scan, not a walk of the heap. It
-- replaces 0006's IX_RedemptionHistory_CampaignId (same key, same filter; the fraud report's
-- per-campaign attempt counts use this one), so a redemption still writes one index for it. The
-- archive gets the same index: a window reaching back past the last archive run reads both tables.
-- vw_RedemptionStats counts a campaign's expired coupons by a range of IX_Coupons_Unredeemed_ExpiresAt
-- instead of reading every coupon of the campaign (a redemption leaves the index: no write for it).
-- Twin: database/mssql/0016_campaign_statistics.sql.
CREATE INDEX IF NOT EXISTS IX_RedemptionHistory_CampaignStats
    ON RedemptionHistory (CampaignId, AttemptedAt) INCLUDE (Success, FailureReason) WHERE CampaignId IS NOT NULL;
DROP INDEX IF EXISTS IX_RedemptionHistory_CampaignId;
CREATE INDEX IF NOT EXISTS IX_RedemptionHistoryArchive_CampaignStats
    ON RedemptionHistoryArchive (CampaignId, AttemptedAt) INCLUDE (Success, FailureReason) WHERE CampaignId IS NOT NULL;
CREATE INDEX IF NOT EXISTS IX_Coupons_Unredeemed_ExpiresAt
    ON Coupons (CampaignId, ExpiresAt) WHERE NOT IsRedeemed AND ExpiresAt IS NOT NULL;

-- The series' rollup: attempts per campaign, hour, outcome and reason, for the whole hours in
-- [RolledUpFrom, RolledUpTo) of CampaignStatsRollup (one row), added by sp_RollupCampaignStats
-- (the API's counter sync timer calls it) once an hour is closed. The series reads these hours from
-- here (a few rows per hour instead of every attempt) and only the rest from the history. It starts
-- at the first hour of the live history; older (archived) hours are read from the archive.
CREATE TABLE IF NOT EXISTS CampaignStatsHourly (
    CampaignId varchar(100) NOT NULL,
    HourStart  timestamptz  NOT NULL,
    Success    boolean      NOT NULL,
    Reason     varchar(50)  NOT NULL, -- '' for accepted attempts
    Attempts   int          NOT NULL,
    CONSTRAINT PK_CampaignStatsHourly PRIMARY KEY (CampaignId, HourStart, Success, Reason),
    CONSTRAINT CK_CampaignStatsHourly_Attempts CHECK (Attempts > 0)
);
CREATE TABLE IF NOT EXISTS CampaignStatsRollup (
    Id           int         NOT NULL,
    RolledUpFrom timestamptz NOT NULL,
    RolledUpTo   timestamptz NOT NULL,
    CONSTRAINT PK_CampaignStatsRollup PRIMARY KEY (Id),
    CONSTRAINT CK_CampaignStatsRollup_One CHECK (Id = 1),
    CONSTRAINT CK_CampaignStatsRollup_Range CHECK (RolledUpFrom <= RolledUpTo)
);
INSERT INTO CampaignStatsRollup (Id, RolledUpFrom, RolledUpTo)
SELECT 1, m.t, m.t
FROM (SELECT coalesce(date_trunc('hour', min(AttemptedAt), 'UTC'), date_trunc('hour', now(), 'UTC')) AS t FROM RedemptionHistory) m
ON CONFLICT (Id) DO NOTHING;
