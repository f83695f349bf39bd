-- 0007: the row counts that tell an operator when to partition dbo.Coupons (the seed: "if > 10M
-- rows"; see database/mssql/partitioning/) and when to archive dbo.RedemptionHistory. Twin of
-- database/postgres/0007_scale_status.sql. Exact counts: the app's role has no VIEW DATABASE STATE,
-- so sys.dm_db_partition_stats is not an option inside its procedures.

SET XACT_ABORT ON;
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
