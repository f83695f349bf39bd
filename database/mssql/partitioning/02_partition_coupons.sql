-- grammar-lacks: ON ps_CouponsByCampaign(, DROP CONSTRAINT PK_Coupons WITH (ONLINE = ON)
-- sqlfluff-lacks: DROP CONSTRAINT PK_Coupons WITH (ONLINE = ON)
-- Step 2: dbo.Coupons onto ps_CouponsByCampaign. Every index is rebuilt in place: no row is copied
-- to another table, so none can be lost or doubled (the runner, packages/db/src/engines/
-- mssql-partition.ts, fingerprints the rows before and after). The clustered index becomes
-- (CampaignId, CouponId) on the scheme, aligned, with the campaign's indexes; the keys that must stay
-- unique across campaigns stay NON-aligned on PRIMARY:
--   PK_Coupons (CouponId)              nonclustered, non-aligned
--   UQ_Coupons_CouponCode (CouponCode) nonclustered, non-aligned: global uniqueness of codes. It is
--                                      on PRIMARY already and rebuilt by the clustered index change
--                                      anyway: no step of its own.
-- Decision and its costs: docs/scaling.md ("Keeping CouponCode unique"). A non-aligned index
-- forbids ALTER TABLE ... SWITCH PARTITION on Coupons; nothing here needs it (campaigns are removed
-- by the cascade delete, not by switching out).
--
-- Resumable: each step below is guarded by its own check of the catalog, so a run stopped anywhere
-- (killed, or a step refused) is finished by running the script again, and the last batch fails the
-- run unless the table has its primary key, its clustered index on the scheme and its unique code
-- index. The one step that removes the primary key adds it back in the same transaction: if the ADD
-- fails (ONLINE refused on an edition without online index operations, a lock timeout, a full log),
-- XACT_ABORT rolls the DROP back too and the key stays clustered. Costs: that transaction holds a
-- schema-modification lock from the DROP to its COMMIT (the table is briefly a heap and every
-- nonclustered index is rebuilt for it, and again when the clustered index arrives); run it as dbo
-- in a maintenance window of low write traffic. The later steps are ONLINE and take short schema
-- locks only at their start and end.

SET XACT_ABORT ON;
GO
-- 2a. The primary key becomes nonclustered, so the clustered index can carry the partition column.
-- Guard: the key is still clustered.
IF EXISTS (SELECT 1 FROM sys.indexes WHERE object_id = OBJECT_ID(N'dbo.Coupons') AND name = N'PK_Coupons' AND type = 1)
BEGIN
    BEGIN TRANSACTION;
    ALTER TABLE dbo.Coupons DROP CONSTRAINT PK_Coupons WITH (ONLINE = ON);
    ALTER TABLE dbo.Coupons ADD CONSTRAINT PK_Coupons PRIMARY KEY NONCLUSTERED (CouponId) WITH (ONLINE = ON) ON [PRIMARY];
    COMMIT TRANSACTION;
END;
GO
-- 2b. The clustered index, on the scheme. Guard: the table has no clustered index (after 2a it is a
-- heap; a run stopped between 2a and 2b resumes here).
IF NOT EXISTS (SELECT 1 FROM sys.indexes WHERE object_id = OBJECT_ID(N'dbo.Coupons') AND type = 1)
    CREATE CLUSTERED INDEX CX_Coupons_Campaign ON dbo.Coupons (CampaignId, CouponId)
        WITH (ONLINE = ON) ON ps_CouponsByCampaign(CampaignId);
GO
-- 2c. Aligned: the per-campaign reads (stats, export, redeemed lists) touch one partition. Guard: the
-- index is not on the scheme yet.
IF EXISTS (SELECT 1 FROM sys.indexes i
           WHERE i.object_id = OBJECT_ID(N'dbo.Coupons') AND i.name = N'IX_Coupons_CampaignId'
             AND i.data_space_id <> (SELECT s.data_space_id FROM sys.partition_schemes s WHERE s.name = N'ps_CouponsByCampaign'))
    CREATE INDEX IX_Coupons_CampaignId ON dbo.Coupons (CampaignId, CouponId) INCLUDE (IsRedeemed, ExpiresAt)
        WITH (DROP_EXISTING = ON, ONLINE = ON) ON ps_CouponsByCampaign(CampaignId);
GO
-- 2d. The check: whatever happened above, the run succeeds only with every key in place.
DECLARE @scheme int = (SELECT s.data_space_id FROM sys.partition_schemes s WHERE s.name = N'ps_CouponsByCampaign');
IF NOT EXISTS (SELECT 1 FROM sys.indexes WHERE object_id = OBJECT_ID(N'dbo.Coupons') AND name = N'PK_Coupons'
                                            AND is_primary_key = 1 AND type = 2)
BEGIN
    THROW 50500, N'dbo.Coupons has no nonclustered primary key PK_Coupons: run this script again to finish the conversion', 1;
END;
IF NOT EXISTS (SELECT 1 FROM sys.indexes WHERE object_id = OBJECT_ID(N'dbo.Coupons') AND name = N'CX_Coupons_Campaign'
                                            AND type = 1 AND data_space_id = @scheme)
BEGIN
    THROW 50500, N'dbo.Coupons has no clustered index CX_Coupons_Campaign on ps_CouponsByCampaign: run this script again', 1;
END;
IF NOT EXISTS (SELECT 1 FROM sys.indexes WHERE object_id = OBJECT_ID(N'dbo.Coupons') AND name = N'UQ_Coupons_CouponCode'
                                            AND is_unique = 1)
BEGIN
    THROW 50500, N'dbo.Coupons has no unique index UQ_Coupons_CouponCode', 1;
END;
GO
