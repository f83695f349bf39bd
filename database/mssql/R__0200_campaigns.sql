-- Campaign procedures. Twin: database/postgres/R__0200_campaigns.sql (which also holds the trigger
-- function PostgreSQL needs to cascade per-user counters; SQL Server keeps the foreign key).
-- Repeatable (see docs/mssql.md, "Migrations"): re-applied whenever this file or one before it
-- changes, and after every numbered migration. Edit the definitions here; never in the numbered
-- files. Procedures: CREATE OR ALTER (keeps grants); views: DROP VIEW IF EXISTS + CREATE VIEW (the
-- T-SQL grammar we check with lacks CREATE OR ALTER VIEW).
--
-- Errors raised here carry our own numbers, mapped once in packages/db/src/engines/mssql-errors.ts:
--   50400 invalid input, 50404 not found, 50409 conflict / wrong state, 50413 request cap exceeded,
--   50422 idempotency key reused with another request, 50423 generation request held by a worker.
-- Every procedure runs with SET XACT_ABORT ON, so any error rolls its transaction back whole.

-- The session settings a procedure, view or function keeps from its CREATE: sqlcmd runs with
-- QUOTED_IDENTIFIER OFF unless -I, and a procedure created so cannot write through a filtered index
-- (error 1934). Set here so the file means the same whichever client applies it.
SET ANSI_NULLS ON;
SET QUOTED_IDENTIFIER ON;
SET XACT_ABORT ON;
GO

CREATE OR ALTER PROCEDURE dbo.sp_CreateCampaign
    @CampaignId nvarchar(100), @Name nvarchar(200), @Description nvarchar(1000), @StartDate datetime2,
    @EndDate datetime2, @DiscountPercentage decimal(5,2), @DiscountAmount decimal(10,2),
    @MaxRedemptionsPerUser int, @MaxTotalRedemptions int, @IsActive bit, @CreatedBy nvarchar(100)
AS
BEGIN
    SET NOCOUNT ON;
    SET XACT_ABORT ON;
    DECLARE @msg nvarchar(2048);
    BEGIN TRY
        BEGIN TRANSACTION;
        -- UPDLOCK + HOLDLOCK locks the key (or its gap) so two creators of one id cannot both pass.
        IF EXISTS (SELECT 1 FROM dbo.Campaigns WITH (UPDLOCK, HOLDLOCK) WHERE CampaignId = @CampaignId)
        BEGIN
            SET @msg = CONCAT(N'campaign ', @CampaignId, N' exists already');
            THROW 50409, @msg, 1;
        END;
        INSERT INTO dbo.Campaigns (CampaignId, Name, Description, StartDate, EndDate, DiscountPercentage,
                                   DiscountAmount, MaxRedemptionsPerUser, MaxTotalRedemptions, IsActive, CreatedBy)
        VALUES (@CampaignId, @Name, @Description, @StartDate, @EndDate, @DiscountPercentage,
                @DiscountAmount, @MaxRedemptionsPerUser, @MaxTotalRedemptions, ISNULL(@IsActive, 1), @CreatedBy);
        -- 16 counter slots; with a total limit, the cap is split into budgets whose sum is the cap.
        INSERT INTO dbo.CampaignCounterSlots (CampaignId, Slot, Redemptions, Budget)
        SELECT @CampaignId, g.n, 0,
               CASE WHEN @MaxTotalRedemptions IS NULL THEN NULL
                    ELSE @MaxTotalRedemptions / 16 + CASE WHEN g.n < @MaxTotalRedemptions % 16 THEN 1 ELSE 0 END
               END
        FROM (VALUES (0), (1), (2), (3), (4), (5), (6), (7), (8), (9), (10), (11), (12), (13), (14), (15)) AS g (n);
        COMMIT TRANSACTION;
    END TRY
    BEGIN CATCH
        IF @@TRANCOUNT > 0 ROLLBACK TRANSACTION;
        THROW;
    END CATCH;
    SELECT CampaignId, Name, Description, StartDate, EndDate, DiscountPercentage, DiscountAmount,
           MaxRedemptionsPerUser, MaxTotalRedemptions, CurrentRedemptions, IsActive, CreatedAt, UpdatedAt, CreatedBy
    FROM dbo.Campaigns WHERE CampaignId = @CampaignId;
END;
GO

CREATE OR ALTER PROCEDURE dbo.sp_GetCampaign @CampaignId nvarchar(100)
AS
BEGIN
    SET NOCOUNT ON;
    SET XACT_ABORT ON;
    SELECT c.CampaignId, c.Name, c.Description, c.StartDate, c.EndDate, c.DiscountPercentage, c.DiscountAmount,
           c.MaxRedemptionsPerUser, c.MaxTotalRedemptions,
           (SELECT ISNULL(SUM(s.Redemptions), 0) FROM dbo.CampaignCounterSlots s WHERE s.CampaignId = c.CampaignId) AS CurrentRedemptions,
           c.IsActive, c.CreatedAt, c.UpdatedAt, c.CreatedBy
    FROM dbo.Campaigns c WHERE c.CampaignId = @CampaignId;
END;
GO

CREATE OR ALTER PROCEDURE dbo.sp_GetActiveCampaigns
AS
BEGIN
    SET NOCOUNT ON;
    SET XACT_ABORT ON;
    SELECT CampaignId, Name, Description, StartDate, EndDate, DiscountPercentage, DiscountAmount,
           MaxRedemptionsPerUser, MaxTotalRedemptions, CurrentRedemptions, IsActive, CreatedAt, UpdatedAt,
           CreatedBy, RedemptionPercentage
    FROM dbo.vw_ActiveCampaigns
    ORDER BY CampaignId;
END;
GO

CREATE OR ALTER PROCEDURE dbo.sp_GetRedemptionStats @CampaignId nvarchar(100)
AS
BEGIN
    SET NOCOUNT ON;
    SET XACT_ABORT ON;
    SELECT CampaignId, TotalCoupons, RedeemedCoupons, AvailableCoupons, ExpiredCoupons
    FROM dbo.vw_RedemptionStats WHERE CampaignId = @CampaignId;
END;
GO

-- Copies the live count (sum of slots) into the seed's Campaigns.CurrentRedemptions column.
CREATE OR ALTER PROCEDURE dbo.sp_SyncCampaignCounters @CampaignId nvarchar(100) = NULL
AS
BEGIN
    SET NOCOUNT ON;
    SET XACT_ABORT ON;
    UPDATE c
    SET CurrentRedemptions = k.CurrentRedemptions, UpdatedAt = SYSUTCDATETIME()
    OUTPUT inserted.CurrentRedemptions
    FROM dbo.Campaigns c
    JOIN dbo.vw_CampaignCounters k ON k.CampaignId = c.CampaignId
    WHERE @CampaignId IS NULL OR c.CampaignId = @CampaignId;
END;
GO

GRANT EXECUTE ON dbo.sp_CreateCampaign TO coupon_app;
GRANT EXECUTE ON dbo.sp_GetCampaign TO coupon_app;
GRANT EXECUTE ON dbo.sp_GetActiveCampaigns TO coupon_app;
GRANT EXECUTE ON dbo.sp_GetRedemptionStats TO coupon_app;
GO
