-- Every view (twin: database/postgres/R__0100_views.sql), dropped dependants first and created again.
-- CurrentRedemptions is the sum of the campaign's counter slots (see 0001_schema.sql), so it is
-- always true. vw_RedemptionHistoryAll is what audit reads that must see archived rows use;
-- vw_FraudSignals lists every refused attempt once per dimension (ip, user, campaign) for
-- sp_FraudReport. No role may read a view (0004_security.sql).
-- Repeatable (see docs/mssql.md, "Migrations"): re-applied whenever this file or one before it
-- changes, and after every numbered migration. Edit the definitions here; never in the numbered
-- files. Procedures: CREATE OR ALTER (keeps grants); views: DROP VIEW IF EXISTS + CREATE VIEW (the
-- T-SQL grammar we check with lacks CREATE OR ALTER VIEW).

-- The session settings a procedure, view or function keeps from its CREATE: sqlcmd runs with
-- QUOTED_IDENTIFIER OFF unless -I, and a procedure created so cannot write through a filtered index
-- (error 1934). Set here so the file means the same whichever client applies it.
SET ANSI_NULLS ON;
SET QUOTED_IDENTIFIER ON;
SET XACT_ABORT ON;
GO

DROP VIEW IF EXISTS dbo.vw_ActiveCampaigns;
GO
DROP VIEW IF EXISTS dbo.vw_RedemptionStats;
GO
DROP VIEW IF EXISTS dbo.vw_CampaignCounters;
GO
DROP VIEW IF EXISTS dbo.vw_RedemptionHistoryAll;
GO
DROP VIEW IF EXISTS dbo.vw_FraudSignals;
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

-- A campaign's coupons counted without reading them all (a campaign may have tens of millions):
-- total = the codes its generation requests inserted (GeneratedAmount, kept by sp_BulkInsertCoupons;
-- coupons are only ever inserted there and only deleted with their campaign), redeemed = the slot sum
-- (the same number as the coupons marked redeemed: they change in one transaction), expired = a seek
-- of the unredeemed coupons with a past expiry (IX_Coupons_Unredeemed_ExpiresAt, 0016), available =
-- the rest. Exact, like the count it replaces. Twin: database/postgres/R__0100_views.sql.
CREATE VIEW dbo.vw_RedemptionStats AS
SELECT c.CampaignId,
       CAST(ISNULL(g.Generated, 0) AS int) AS TotalCoupons,
       ISNULL(k.CurrentRedemptions, 0) AS RedeemedCoupons,
       CAST(ISNULL(g.Generated, 0) - ISNULL(k.CurrentRedemptions, 0) - x.Expired AS int) AS AvailableCoupons,
       x.Expired AS ExpiredCoupons
FROM dbo.Campaigns c
LEFT JOIN (SELECT r.CampaignId, SUM(CAST(r.GeneratedAmount AS bigint)) AS Generated
           FROM dbo.GenerationRequests r GROUP BY r.CampaignId) g ON g.CampaignId = c.CampaignId
LEFT JOIN dbo.vw_CampaignCounters k ON k.CampaignId = c.CampaignId
CROSS APPLY (SELECT COUNT(*) AS Expired FROM dbo.Coupons cp
             WHERE cp.CampaignId = c.CampaignId AND cp.IsRedeemed = 0
               AND cp.ExpiresAt IS NOT NULL AND cp.ExpiresAt <= SYSUTCDATETIME()) x;
GO

CREATE VIEW dbo.vw_RedemptionHistoryAll AS
SELECT h.RedemptionId, h.CouponCode, h.UserId, h.CampaignId, h.AttemptedAt, h.Success, h.FailureReason,
       h.IpAddress, h.UserAgent, CAST(0 AS bit) AS Archived
FROM dbo.RedemptionHistory h
UNION ALL
SELECT a.RedemptionId, a.CouponCode, a.UserId, a.CampaignId, a.AttemptedAt, a.Success, a.FailureReason,
       a.IpAddress, a.UserAgent, CAST(1 AS bit) AS Archived
FROM dbo.RedemptionHistoryArchive a;
GO

-- IpAddress has the database's collation, the identifiers a binary one; the union needs one.
CREATE VIEW dbo.vw_FraudSignals AS
SELECT N'ip' AS Dimension, CAST(h.IpAddress AS nvarchar(100)) COLLATE Latin1_General_100_BIN2 AS Subject,
       h.RedemptionId, h.AttemptedAt, h.CouponCode, h.UserId, h.CampaignId, h.IpAddress, h.FailureReason
FROM dbo.RedemptionHistory h WHERE h.Success = 0 AND h.IpAddress IS NOT NULL
UNION ALL
SELECT N'user', h.UserId, h.RedemptionId, h.AttemptedAt, h.CouponCode, h.UserId, h.CampaignId, h.IpAddress, h.FailureReason
FROM dbo.RedemptionHistory h WHERE h.Success = 0
UNION ALL
SELECT N'campaign', h.CampaignId, h.RedemptionId, h.AttemptedAt, h.CouponCode, h.UserId, h.CampaignId, h.IpAddress,
       h.FailureReason
FROM dbo.RedemptionHistory h WHERE h.Success = 0 AND h.CampaignId IS NOT NULL;
GO
