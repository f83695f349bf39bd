-- 0002: the seed's two views. Twin of database/postgres/0002_views.sql.
-- CurrentRedemptions is the sum of the campaign's counter slots (see 0001), so it is always true.
-- Re-runnable: DROP VIEW IF EXISTS + CREATE VIEW (the T-SQL grammar we check with lacks CREATE OR
-- ALTER VIEW), dependants first.

SET XACT_ABORT ON;
GO
DROP VIEW IF EXISTS dbo.vw_ActiveCampaigns;
GO
DROP VIEW IF EXISTS dbo.vw_RedemptionStats;
GO
DROP VIEW IF EXISTS dbo.vw_CampaignCounters;
GO

CREATE VIEW dbo.vw_CampaignCounters AS
SELECT s.CampaignId, CAST(SUM(s.Redemptions) AS int) AS CurrentRedemptions
FROM dbo.CampaignCounterSlots s
GROUP BY s.CampaignId;
GO

CREATE VIEW dbo.vw_ActiveCampaigns AS
SELECT c.CampaignId, c.Name, c.Description, c.StartDate, c.EndDate,
       c.DiscountPercentage, c.DiscountAmount, c.MaxRedemptionsPerUser, c.MaxTotalRedemptions,
       ISNULL(k.CurrentRedemptions, 0) AS CurrentRedemptions,
       c.IsActive, c.CreatedAt, c.UpdatedAt, c.CreatedBy,
       CASE WHEN c.MaxTotalRedemptions IS NULL THEN NULL
            ELSE CAST(ROUND(ISNULL(k.CurrentRedemptions, 0) * 100.0 / c.MaxTotalRedemptions, 2) AS decimal(9,2))
       END AS RedemptionPercentage
FROM dbo.Campaigns c
LEFT JOIN dbo.vw_CampaignCounters k ON k.CampaignId = c.CampaignId
WHERE c.IsActive = 1
  AND SYSUTCDATETIME() >= c.StartDate
  AND SYSUTCDATETIME() <= c.EndDate;
GO

CREATE VIEW dbo.vw_RedemptionStats AS
SELECT c.CampaignId,
       COUNT(cp.CouponId) AS TotalCoupons,
       COUNT(CASE WHEN cp.IsRedeemed = 1 THEN 1 END) AS RedeemedCoupons,
       COUNT(CASE WHEN cp.IsRedeemed = 0 AND (cp.ExpiresAt IS NULL OR cp.ExpiresAt > SYSUTCDATETIME()) THEN 1 END) AS AvailableCoupons,
       COUNT(CASE WHEN cp.IsRedeemed = 0 AND cp.ExpiresAt <= SYSUTCDATETIME() THEN 1 END) AS ExpiredCoupons
FROM dbo.Campaigns c
LEFT JOIN dbo.Coupons cp ON cp.CampaignId = c.CampaignId
GROUP BY c.CampaignId;
GO
