-- grammar-lacks: CREATE PARTITION FUNCTION, CREATE PARTITION SCHEME
-- sqlfluff-lacks: CREATE PARTITION FUNCTION, CREATE PARTITION SCHEME
-- Step 1 of partitioning dbo.Coupons by CampaignId (the seed: "partition Coupons by CampaignId if
-- > 10M rows"; dbo.sp_GetScaleStatus says when). Not a migration: an operator runs these scripts in
-- order, as dbo, once the decision is made (docs/scaling.md). Re-runnable.
-- RANGE RIGHT: each boundary value starts a partition, so a campaign given a boundary by
-- sp_AddCampaignPartitions begins its own partition (shared only with ids that sort between it and
-- the next boundary). It starts with no boundary: one partition, the table as it is.
-- Azure SQL Database has one filegroup, PRIMARY.
-- The parameter has the partitioning column's type AND collation (dbo.Coupons.CampaignId is
-- Latin1_General_100_BIN2): without COLLATE it takes the database default (case-insensitive on
-- Azure and the 2022 image), building the index on the scheme fails with error 7726, and if it were
-- accepted boundaries would compare case-insensitively while the column does not.
-- packages/db/test/tsql-rules.test.ts checks that the two collations agree.

SET XACT_ABORT ON;
GO
IF NOT EXISTS (SELECT 1 FROM sys.partition_functions WHERE name = N'pf_CouponsByCampaign')
    CREATE PARTITION FUNCTION pf_CouponsByCampaign (nvarchar(100) COLLATE Latin1_General_100_BIN2)
        AS RANGE RIGHT FOR VALUES ();
GO
IF NOT EXISTS (SELECT 1 FROM sys.partition_schemes WHERE name = N'ps_CouponsByCampaign')
    CREATE PARTITION SCHEME ps_CouponsByCampaign AS PARTITION pf_CouponsByCampaign ALL TO ([PRIMARY]);
GO
