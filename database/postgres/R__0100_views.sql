-- Every view (twin: database/mssql/R__0100_views.sql). CurrentRedemptions is the sum of the
-- campaign's counter slots (see 0001_schema.sql), so it is always true. vw_RedemptionHistoryAll is
-- what audit reads that must see archived rows use; vw_FraudSignals lists every refused attempt once
-- per dimension (ip, user, campaign) for sp_FraudReport. No role may read a view (0004_security.sql).
-- Repeatable (see docs/database.md, "Migrations"): re-applied whenever this file or one before it
-- changes, and after every numbered migration. Edit the definitions here; never in the numbered
-- files. CREATE OR REPLACE keeps grants; a change of signature, return type or view columns needs a
-- DROP ... IF EXISTS before the CREATE (CASCADE is safe: every later repeatable file is re-applied).

CREATE OR REPLACE VIEW vw_CampaignCounters AS
SELECT s.CampaignId, sum(s.Redemptions)::int AS CurrentRedemptions
FROM CampaignCounterSlots s
GROUP BY s.CampaignId;

CREATE OR REPLACE VIEW vw_ActiveCampaigns AS
SELECT c.CampaignId, c.Name, c.Description, c.StartDate, c.EndDate,
       c.DiscountPercentage, c.DiscountAmount, c.MaxRedemptionsPerUser, c.MaxTotalRedemptions,
       coalesce(k.CurrentRedemptions, 0) AS CurrentRedemptions,
       c.IsActive, c.CreatedAt, c.UpdatedAt, c.CreatedBy,
       CASE WHEN c.MaxTotalRedemptions IS NULL THEN NULL
            ELSE round(coalesce(k.CurrentRedemptions, 0) * 100.0 / c.MaxTotalRedemptions, 2)
       END AS RedemptionPercentage
FROM Campaigns c
LEFT JOIN vw_CampaignCounters k ON k.CampaignId = c.CampaignId
WHERE c.IsActive
  AND now() >= c.StartDate
  AND now() <= c.EndDate;

-- A campaign's coupons counted without reading them all (a campaign may have tens of millions):
-- total = the codes its generation requests inserted (GeneratedAmount, kept by sp_BulkInsertCoupons;
-- coupons are only ever inserted there and only deleted with their campaign), redeemed = the slot sum
-- (the same number as the coupons marked redeemed: they change in one transaction), expired = an
-- index range of the unredeemed coupons with a past expiry (IX_Coupons_Unredeemed_ExpiresAt, 0016),
-- available = the rest. Exact, like the count it replaces; measured by scripts/bench-campaign-page.ts.
CREATE OR REPLACE VIEW vw_RedemptionStats AS
SELECT c.CampaignId,
       coalesce(g.Generated, 0)::int AS TotalCoupons,
       coalesce(k.CurrentRedemptions, 0) AS RedeemedCoupons,
       (coalesce(g.Generated, 0) - coalesce(k.CurrentRedemptions, 0) - x.Expired)::int AS AvailableCoupons,
       x.Expired::int AS ExpiredCoupons
FROM Campaigns c
LEFT JOIN (SELECT r.CampaignId, sum(r.GeneratedAmount) AS Generated FROM GenerationRequests r GROUP BY r.CampaignId) g
    ON g.CampaignId = c.CampaignId
LEFT JOIN vw_CampaignCounters k ON k.CampaignId = c.CampaignId
CROSS JOIN LATERAL (SELECT count(*) AS Expired FROM Coupons cp
                    WHERE cp.CampaignId = c.CampaignId AND NOT cp.IsRedeemed
                      AND cp.ExpiresAt IS NOT NULL AND cp.ExpiresAt <= now()) x;

CREATE OR REPLACE VIEW vw_RedemptionHistoryAll AS
SELECT h.RedemptionId, h.CouponCode, h.UserId, h.CampaignId, h.AttemptedAt, h.Success, h.FailureReason,
       h.IpAddress, h.UserAgent, false AS Archived
FROM RedemptionHistory h
UNION ALL
SELECT a.RedemptionId, a.CouponCode, a.UserId, a.CampaignId, a.AttemptedAt, a.Success, a.FailureReason,
       a.IpAddress, a.UserAgent, true AS Archived
FROM RedemptionHistoryArchive a;

CREATE OR REPLACE VIEW vw_FraudSignals AS
SELECT 'ip'::text AS Dimension, h.IpAddress::varchar(100) AS Subject, h.RedemptionId, h.AttemptedAt, h.CouponCode,
       h.UserId, h.CampaignId, h.IpAddress, h.FailureReason
FROM RedemptionHistory h WHERE NOT h.Success AND h.IpAddress IS NOT NULL
UNION ALL
SELECT 'user'::text, h.UserId, h.RedemptionId, h.AttemptedAt, h.CouponCode, h.UserId, h.CampaignId, h.IpAddress, h.FailureReason
FROM RedemptionHistory h WHERE NOT h.Success
UNION ALL
SELECT 'campaign'::text, h.CampaignId, h.RedemptionId, h.AttemptedAt, h.CouponCode, h.UserId, h.CampaignId, h.IpAddress,
       h.FailureReason
FROM RedemptionHistory h WHERE NOT h.Success AND h.CampaignId IS NOT NULL;
