-- grammar-lacks: ON ps_CouponsByCampaign(
-- Step 2: dbo.Coupons onto ps_CouponsByCampaign. Every index is rebuilt in place (DROP_EXISTING,
-- ONLINE): no row is copied to another table, so none can be lost or doubled, and redemptions go on
-- while it runs. The clustered index becomes (CampaignId, CouponId) on the scheme, aligned, with the
-- campaign's indexes; the keys that must stay unique across campaigns stay NON-aligned on PRIMARY:
--   PK_Coupons (CouponId)              nonclustered, non-aligned
--   UQ_Coupons_CouponCode (CouponCode) nonclustered, non-aligned: global uniqueness of codes
-- Decision and its costs: docs/scaling.md ("Keeping CouponCode unique"). A non-aligned index
-- forbids ALTER TABLE ... SWITCH PARTITION on Coupons; nothing here needs it (campaigns are removed
-- by the cascade delete, not by switching out).
-- Run it as dbo in a maintenance window of low write traffic: an ONLINE rebuild still takes short
-- schema locks at its start and end.

SET XACT_ABORT ON;
GO
-- The primary key becomes nonclustered, so the clustered index can carry the partition column.
IF EXISTS (SELECT 1 FROM sys.indexes WHERE object_id = OBJECT_ID(N'dbo.Coupons') AND name = N'PK_Coupons' AND type = 1)
BEGIN
    ALTER TABLE dbo.Coupons DROP CONSTRAINT PK_Coupons;
    ALTER TABLE dbo.Coupons ADD CONSTRAINT PK_Coupons PRIMARY KEY NONCLUSTERED (CouponId) WITH (ONLINE = ON) ON [PRIMARY];
END;
GO
IF NOT EXISTS (SELECT 1 FROM sys.indexes WHERE object_id = OBJECT_ID(N'dbo.Coupons') AND name = N'CX_Coupons_Campaign')
    CREATE CLUSTERED INDEX CX_Coupons_Campaign ON dbo.Coupons (CampaignId, CouponId)
        WITH (ONLINE = ON) ON ps_CouponsByCampaign(CampaignId);
GO
-- aligned: the per-campaign reads (stats, export, redeemed lists) touch one partition
CREATE INDEX IX_Coupons_CampaignId ON dbo.Coupons (CampaignId, CouponId) INCLUDE (IsRedeemed, ExpiresAt)
    WITH (DROP_EXISTING = ON, ONLINE = ON) ON ps_CouponsByCampaign(CampaignId);
GO
-- non-aligned, on purpose: one seek answers "does this code exist" for every campaign at once
CREATE UNIQUE INDEX UQ_Coupons_CouponCode ON dbo.Coupons (CouponCode)
    WITH (DROP_EXISTING = ON, ONLINE = ON) ON [PRIMARY];
GO
