-- 0007: the row counts that tell an operator when to partition Coupons (the seed: "if > 10M rows")
-- and when to archive RedemptionHistory. Twin of database/mssql/0007_scale_status.sql. Exact
-- counts (index-only scans): a few seconds at tens of millions of rows, for an operator command.
CREATE OR REPLACE FUNCTION sp_GetScaleStatus(p_ArchiveBefore timestamptz,
    OUT couponstotal bigint, OUT campaigns bigint, OUT largestcampaignid varchar, OUT largestcampaigncoupons bigint,
    OUT historyrows bigint, OUT historyrowstoarchive bigint, OUT archiverows bigint, OUT oldesthistoryat timestamptz)
LANGUAGE plpgsql STABLE AS $$
BEGIN
    SELECT count(*) INTO couponstotal FROM Coupons;
    SELECT count(*) INTO campaigns FROM Campaigns;
    SELECT c.CampaignId, count(*) INTO largestcampaignid, largestcampaigncoupons
    FROM Coupons c GROUP BY c.CampaignId ORDER BY count(*) DESC, c.CampaignId LIMIT 1;
    largestcampaigncoupons := coalesce(largestcampaigncoupons, 0);
    SELECT count(*) INTO historyrows FROM RedemptionHistory;
    SELECT count(*) INTO historyrowstoarchive FROM RedemptionHistory h WHERE h.AttemptedAt < p_ArchiveBefore;
    SELECT count(*) INTO archiverows FROM RedemptionHistoryArchive;
    SELECT min(h.AttemptedAt) INTO oldesthistoryat FROM RedemptionHistory h;
END $$;
