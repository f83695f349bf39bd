-- sqlfluff-lacks: NEXT USED
-- Step 3 (and then on a schedule, or before a large generation request): give each large campaign a
-- partition of its own. A campaign is large when its coupons plus its open generation requests reach
-- @MinCoupons. Splitting an EMPTY range is metadata only; splitting a populated one moves the rows
-- that sort after the new boundary (fully logged), so run this when a large request is created,
-- before its codes are generated. Not a migration (it needs the scheme of
-- 01_partition_function_scheme.sql); not granted to coupon_app (run it as dbo).
-- The T-SQL grammar we check with accepts ALTER PARTITION SCHEME ... NEXT USED, so this file is
-- checked in full (SPLIT RANGE with a variable runs through sp_executesql, see below).

-- The session settings a procedure, view or function keeps from its CREATE: sqlcmd runs with
-- QUOTED_IDENTIFIER OFF unless -I, and a procedure created so cannot write through a filtered index
-- (error 1934). Set here so the file means the same whichever client applies it.
SET ANSI_NULLS ON;
SET QUOTED_IDENTIFIER ON;
SET XACT_ABORT ON;
GO
CREATE OR ALTER PROCEDURE dbo.sp_AddCampaignPartitions
    @MinCoupons bigint = 1000000,
    @CampaignId nvarchar(100) = NULL
AS
BEGIN
    SET NOCOUNT ON;
    SET XACT_ABORT ON;
    DECLARE @next nvarchar(100), @added int = 0;
    DECLARE @large TABLE (CampaignId nvarchar(100) COLLATE Latin1_General_100_BIN2 PRIMARY KEY);

    INSERT INTO @large (CampaignId)
    SELECT c.CampaignId
    FROM dbo.Campaigns c
    WHERE (@CampaignId IS NULL OR c.CampaignId = @CampaignId)
      AND (SELECT COUNT_BIG(*) FROM dbo.Coupons x WHERE x.CampaignId = c.CampaignId)
        + (SELECT ISNULL(SUM(CAST(g.RequestedAmount - g.GeneratedAmount AS bigint)), 0)
           FROM dbo.GenerationRequests g
           WHERE g.CampaignId = c.CampaignId AND g.Status IN (N'Requested', N'Generating')) >= @MinCoupons
      AND NOT EXISTS (
          SELECT 1
          FROM sys.partition_range_values v
          JOIN sys.partition_functions f ON f.function_id = v.function_id
          WHERE f.name = N'pf_CouponsByCampaign' AND CAST(v.[value] AS nvarchar(100)) = c.CampaignId);

    WHILE 1 = 1
    BEGIN
        SET @next = NULL;
        SELECT TOP (1) @next = l.CampaignId FROM @large l ORDER BY l.CampaignId;
        IF @next IS NULL BREAK;
        ALTER PARTITION SCHEME ps_CouponsByCampaign NEXT USED [PRIMARY];
        -- a variable boundary through sp_executesql: the grammar we check with takes only literals there
        EXEC sys.sp_executesql N'ALTER PARTITION FUNCTION pf_CouponsByCampaign() SPLIT RANGE (@boundary);',
            N'@boundary nvarchar(100)', @boundary = @next;
        DELETE FROM @large WHERE CampaignId = @next;
        SET @added = @added + 1;
    END;
    SELECT @added AS partitionsAdded;
END;
GO
