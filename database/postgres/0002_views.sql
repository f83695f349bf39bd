-- 0002: the seed's two views. Twin of database/mssql/0002_views.sql.
-- CurrentRedemptions is the sum of the campaign's counter slots (see 0001), so it is always true.

CREATE VIEW vw_CampaignCounters AS
SELECT s.CampaignId, sum(s.Redemptions)::int AS CurrentRedemptions
FROM CampaignCounterSlots s
GROUP BY s.CampaignId;

CREATE VIEW vw_ActiveCampaigns AS
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

CREATE VIEW vw_RedemptionStats AS
SELECT c.CampaignId,
       count(cp.CouponId)::int AS TotalCoupons,
       (count(*) FILTER (WHERE cp.IsRedeemed))::int AS RedeemedCoupons,
       (count(*) FILTER (WHERE NOT cp.IsRedeemed AND (cp.ExpiresAt IS NULL OR cp.ExpiresAt > now())))::int AS AvailableCoupons,
       (count(*) FILTER (WHERE NOT cp.IsRedeemed AND cp.ExpiresAt <= now()))::int AS ExpiredCoupons
FROM Campaigns c
LEFT JOIN Coupons cp ON cp.CampaignId = c.CampaignId
GROUP BY c.CampaignId;
