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

-- Every campaign with its live count and its state, by CampaignId; @After (a CampaignId, the last of
-- the page before) gives the next page. States: ended (past EndDate), else paused (not IsActive),
-- else upcoming (before StartDate), else active.
CREATE OR ALTER PROCEDURE dbo.sp_ListCampaigns @State nvarchar(20), @Limit int, @After nvarchar(100)
AS
BEGIN
    SET NOCOUNT ON;
    SET XACT_ABORT ON;
    DECLARE @n int = CASE WHEN @Limit IS NULL THEN 100 WHEN @Limit < 1 THEN 1 WHEN @Limit > 1000 THEN 1000 ELSE @Limit END;
    SELECT TOP (@n) x.CampaignId, x.Name, x.Description, x.StartDate, x.EndDate, x.DiscountPercentage, x.DiscountAmount,
           x.MaxRedemptionsPerUser, x.MaxTotalRedemptions, x.CurrentRedemptions, x.IsActive, x.CreatedAt, x.UpdatedAt,
           x.CreatedBy, x.RedemptionPercentage, x.State
    FROM (
        SELECT c.CampaignId, c.Name, c.Description, c.StartDate, c.EndDate, c.DiscountPercentage, c.DiscountAmount,
               c.MaxRedemptionsPerUser, c.MaxTotalRedemptions, ISNULL(k.CurrentRedemptions, 0) AS CurrentRedemptions,
               c.IsActive, c.CreatedAt, c.UpdatedAt, c.CreatedBy,
               CASE WHEN c.MaxTotalRedemptions IS NULL THEN NULL
                    ELSE CAST(ROUND(ISNULL(k.CurrentRedemptions, 0) * 100.0 / c.MaxTotalRedemptions, 2) AS decimal(10,2))
               END AS RedemptionPercentage,
               CASE WHEN SYSUTCDATETIME() > c.EndDate THEN N'ended' WHEN c.IsActive = 0 THEN N'paused'
                    WHEN SYSUTCDATETIME() < c.StartDate THEN N'upcoming' ELSE N'active' END AS State
        FROM dbo.Campaigns c
        LEFT JOIN dbo.vw_CampaignCounters k ON k.CampaignId = c.CampaignId
        WHERE @After IS NULL OR c.CampaignId > @After
    ) x
    WHERE @State IS NULL OR x.State = @State
    ORDER BY x.CampaignId;
END;
GO

-- Replaces a campaign's editable fields (the store merges a patch over the current values). Under
-- the campaign's row lock and all 16 counter slots' locks (as the redemption slow path takes them),
-- so the count cannot move meanwhile: a total limit below it is refused, and a changed limit
-- re-spreads the slot budgets so that they add up to the new cap (NULL: no budgets).
CREATE OR ALTER PROCEDURE dbo.sp_UpdateCampaign
    @CampaignId nvarchar(100), @Name nvarchar(200), @Description nvarchar(1000), @StartDate datetime2,
    @EndDate datetime2, @DiscountPercentage decimal(5,2), @DiscountAmount decimal(10,2),
    @MaxRedemptionsPerUser int, @MaxTotalRedemptions int, @IsActive bit
AS
BEGIN
    SET NOCOUNT ON;
    SET XACT_ABORT ON;
    DECLARE @msg nvarchar(2048), @oldCap int, @found bit = 0, @total int, @left int;
    BEGIN TRY
        BEGIN TRANSACTION;
        SELECT @found = 1, @oldCap = MaxTotalRedemptions
        FROM dbo.Campaigns WITH (UPDLOCK, ROWLOCK) WHERE CampaignId = @CampaignId;
        IF @found = 0
        BEGIN
            SET @msg = CONCAT(N'campaign ', @CampaignId, N' does not exist');
            THROW 50404, @msg, 1;
        END;
        IF @EndDate <= @StartDate
        BEGIN
            THROW 50400, N'endDate must be after startDate', 1;
        END;
        IF (CASE WHEN @DiscountPercentage IS NULL THEN 0 ELSE 1 END) + (CASE WHEN @DiscountAmount IS NULL THEN 0 ELSE 1 END) <> 1
        BEGIN
            THROW 50400, N'exactly one of discountPercentage and discountAmount must be given', 1;
        END;
        SELECT @total = ISNULL(SUM(Redemptions), 0)
        FROM dbo.CampaignCounterSlots WITH (UPDLOCK, ROWLOCK) WHERE CampaignId = @CampaignId;
        IF @MaxTotalRedemptions IS NOT NULL AND @MaxTotalRedemptions < @total
        BEGIN
            SET @msg = CONCAT(N'maxTotalRedemptions ', @MaxTotalRedemptions, N' is below the ', @total,
                              N' redemptions campaign ', @CampaignId, N' has already made');
            THROW 50409, @msg, 1;
        END;
        UPDATE dbo.Campaigns
        SET Name = @Name, Description = @Description, StartDate = @StartDate, EndDate = @EndDate,
            DiscountPercentage = @DiscountPercentage, DiscountAmount = @DiscountAmount,
            MaxRedemptionsPerUser = @MaxRedemptionsPerUser, MaxTotalRedemptions = @MaxTotalRedemptions,
            IsActive = @IsActive, UpdatedAt = SYSUTCDATETIME()
        WHERE CampaignId = @CampaignId;
        IF (@MaxTotalRedemptions IS NULL AND @oldCap IS NOT NULL) OR (@MaxTotalRedemptions IS NOT NULL AND @oldCap IS NULL)
           OR @MaxTotalRedemptions <> @oldCap
        BEGIN
            SET @left = @MaxTotalRedemptions - @total;
            UPDATE dbo.CampaignCounterSlots WITH (ROWLOCK)
            SET Budget = CASE WHEN @MaxTotalRedemptions IS NULL THEN NULL
                              ELSE Redemptions + @left / 16 + CASE WHEN Slot < @left % 16 THEN 1 ELSE 0 END END
            WHERE CampaignId = @CampaignId;
        END;
        COMMIT TRANSACTION;
    END TRY
    BEGIN CATCH
        IF @@TRANCOUNT > 0 ROLLBACK TRANSACTION;
        THROW;
    END CATCH;
    SELECT 1 AS updated;
END;
GO

-- Deletes a campaign with its coupons, generation requests, counter slots and per-user counts (the
-- seed's cascade; RedemptionHistory keeps its rows). Refused (50409) while a worker holds one of its
-- requests: each request's application lock (the claim's, see sp_ClaimGenerationRequest) is taken
-- for the transaction, so no worker can claim one meanwhile. Refused while it has redemptions
-- unless @Force. Returns the numbers of coupons and requests deleted.
CREATE OR ALTER PROCEDURE dbo.sp_DeleteCampaign @CampaignId nvarchar(100), @Force bit
AS
BEGIN
    SET NOCOUNT ON;
    SET XACT_ABORT ON;
    DECLARE @msg nvarchar(2048), @found bit = 0, @total int, @rc int, @requestId nvarchar(100), @worker nvarchar(100);
    DECLARE @resource nvarchar(255), @coupons int, @requests int;
    DECLARE @reqs TABLE (RequestId nvarchar(100) NOT NULL PRIMARY KEY, WorkerId nvarchar(100) NULL);
    BEGIN TRY
        BEGIN TRANSACTION;
        SELECT @found = 1 FROM dbo.Campaigns WITH (UPDLOCK, ROWLOCK) WHERE CampaignId = @CampaignId;
        IF @found = 0
        BEGIN
            SET @msg = CONCAT(N'campaign ', @CampaignId, N' does not exist');
            THROW 50404, @msg, 1;
        END;
        INSERT INTO @reqs (RequestId, WorkerId)
        SELECT RequestId, WorkerId FROM dbo.GenerationRequests WHERE CampaignId = @CampaignId;
        SELECT @requestId = MIN(RequestId) FROM @reqs;
        WHILE @requestId IS NOT NULL
        BEGIN
            SET @resource = CONCAT(N'coupons.generation:', @requestId);
            EXEC @rc = sys.sp_getapplock @Resource = @resource, @LockMode = 'Exclusive', @LockOwner = 'Transaction', @LockTimeout = 0;
            IF @rc < 0
            BEGIN
                SELECT @worker = WorkerId FROM @reqs WHERE RequestId = @requestId;
                SET @msg = CONCAT(N'campaign ', @CampaignId, N' is being generated: request ', @requestId, N' is worked by ',
                                  ISNULL(@worker, N'a worker'), N'; cancel it or wait');
                THROW 50409, @msg, 1;
            END;
            SELECT @requestId = MIN(RequestId) FROM @reqs WHERE RequestId > @requestId;
        END;
        SELECT @total = ISNULL(SUM(Redemptions), 0) FROM dbo.CampaignCounterSlots WHERE CampaignId = @CampaignId;
        IF @total > 0 AND ISNULL(@Force, 0) = 0
        BEGIN
            SET @msg = CONCAT(N'campaign ', @CampaignId, N' has ', @total, N' redemptions; delete it with force to delete them too');
            THROW 50409, @msg, 1;
        END;
        SELECT @coupons = COUNT(*) FROM dbo.Coupons WHERE CampaignId = @CampaignId;
        SELECT @requests = COUNT(*) FROM @reqs;
        DELETE FROM dbo.Campaigns WHERE CampaignId = @CampaignId;
        COMMIT TRANSACTION;
    END TRY
    BEGIN CATCH
        IF @@TRANCOUNT > 0 ROLLBACK TRANSACTION;
        THROW;
    END CATCH;
    SELECT @coupons AS DeletedCoupons, @requests AS DeletedRequests;
END;
GO

-- Expires now the unredeemed, unexpired coupons of one code, one generation request or one campaign
-- (exactly one argument): ExpiresAt = now. Redeemed and already expired coupons are left as they
-- are. Returns how many were expired; 50404 when the code, request or campaign does not exist.
CREATE OR ALTER PROCEDURE dbo.sp_ExpireCoupons @CouponCode nvarchar(200), @RequestId nvarchar(100), @CampaignId nvarchar(100)
AS
BEGIN
    SET NOCOUNT ON;
    SET XACT_ABORT ON;
    DECLARE @msg nvarchar(2048), @now datetime2 = SYSUTCDATETIME(), @count int;
    IF (CASE WHEN @CouponCode IS NULL THEN 0 ELSE 1 END) + (CASE WHEN @RequestId IS NULL THEN 0 ELSE 1 END)
       + (CASE WHEN @CampaignId IS NULL THEN 0 ELSE 1 END) <> 1
    BEGIN
        THROW 50400, N'exactly one of code, requestId and campaignId must be given', 1;
    END;
    IF @CouponCode IS NOT NULL AND NOT EXISTS (SELECT 1 FROM dbo.Coupons WHERE CouponCode = @CouponCode)
    BEGIN
        SET @msg = CONCAT(N'coupon ', @CouponCode, N' does not exist');
        THROW 50404, @msg, 1;
    END;
    IF @RequestId IS NOT NULL AND NOT EXISTS (SELECT 1 FROM dbo.GenerationRequests WHERE RequestId = @RequestId)
    BEGIN
        SET @msg = CONCAT(N'generation request ', @RequestId, N' does not exist');
        THROW 50404, @msg, 1;
    END;
    IF @CampaignId IS NOT NULL AND NOT EXISTS (SELECT 1 FROM dbo.Campaigns WHERE CampaignId = @CampaignId)
    BEGIN
        SET @msg = CONCAT(N'campaign ', @CampaignId, N' does not exist');
        THROW 50404, @msg, 1;
    END;
    UPDATE dbo.Coupons WITH (ROWLOCK)
    SET ExpiresAt = @now
    WHERE IsRedeemed = 0 AND (ExpiresAt IS NULL OR ExpiresAt > @now)
      AND (@CouponCode IS NULL OR CouponCode = @CouponCode)
      AND (@RequestId IS NULL OR GenerationBatchId = @RequestId)
      AND (@CampaignId IS NULL OR CampaignId = @CampaignId);
    SET @count = @@ROWCOUNT;
    SELECT @count AS expired;
END;
GO

GRANT EXECUTE ON dbo.sp_ListCampaigns TO coupon_app;
GRANT EXECUTE ON dbo.sp_UpdateCampaign TO coupon_app;
GRANT EXECUTE ON dbo.sp_DeleteCampaign TO coupon_app;
GRANT EXECUTE ON dbo.sp_ExpireCoupons TO coupon_app;
GRANT EXECUTE ON dbo.sp_CreateCampaign TO coupon_app;
GRANT EXECUTE ON dbo.sp_GetCampaign TO coupon_app;
GRANT EXECUTE ON dbo.sp_GetActiveCampaigns TO coupon_app;
GRANT EXECUTE ON dbo.sp_GetRedemptionStats TO coupon_app;
GO
