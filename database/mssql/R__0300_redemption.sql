-- Over 350 lines: sp_RedeemCoupon alone is 135, and the area reads best in one file.
-- sqlfluff-lacks: INCLUDE_NULL_VALUES
-- Redemption: the checks shared by redeem and validate, the campaign budget, sp_RedeemCoupon and the
-- coupon reads. Twin: database/postgres/R__0300_redemption.sql. Two PL/pgSQL helpers have T-SQL
-- shapes of their own: fn_CheckRedemption is an inline table-valued function, fn_TakeCampaignUnit a
-- procedure (T-SQL functions cannot write); fn_CheckInput is written out in the two procedures that
-- call it (a T-SQL function cannot THROW). The helpers and sp_SyncCampaignCounters are not granted.
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

-- The seed's checks 1-6 in order (exists, campaign active, not redeemed, not expired, assigned user,
-- per-user limit); with @CheckTotal also check 7 (total limit) read-only. Always one row; Reason is
-- NULL when every check passes. Redeem locks the coupon before it reads this.
CREATE OR ALTER FUNCTION dbo.fn_CheckRedemption(@Code nvarchar(200), @UserId nvarchar(100), @CheckTotal bit)
RETURNS TABLE
AS
RETURN
SELECT CASE
           WHEN cp.CouponId IS NULL THEN N'COUPON_NOT_FOUND'
           WHEN c.IsActive = 0 OR n.Now < c.StartDate OR n.Now > c.EndDate THEN N'CAMPAIGN_INACTIVE'
           WHEN cp.IsRedeemed = 1 THEN N'ALREADY_REDEEMED'
           WHEN cp.ExpiresAt IS NOT NULL AND cp.ExpiresAt <= n.Now THEN N'COUPON_EXPIRED'
           WHEN cp.AssignedTo IS NOT NULL AND cp.AssignedTo <> @UserId THEN N'NOT_ASSIGNED_TO_USER'
           WHEN c.MaxRedemptionsPerUser IS NOT NULL AND ISNULL(u.RedemptionCount, 0) >= c.MaxRedemptionsPerUser
               THEN N'USER_LIMIT_REACHED'
           WHEN @CheckTotal = 1 AND c.MaxTotalRedemptions IS NOT NULL AND ISNULL(t.Total, 0) >= c.MaxTotalRedemptions
               THEN N'CAMPAIGN_LIMIT_REACHED'
       END AS Reason,
       cp.CouponId, cp.CampaignId, c.DiscountPercentage, c.DiscountAmount,
       c.MaxRedemptionsPerUser AS MaxPerUser, c.MaxTotalRedemptions AS MaxTotal
FROM (SELECT SYSUTCDATETIME() AS Now) n
LEFT JOIN dbo.Coupons cp ON cp.CouponCode = @Code
LEFT JOIN dbo.Campaigns c ON c.CampaignId = cp.CampaignId
OUTER APPLY (SELECT x.RedemptionCount FROM dbo.UserRedemptions x
             WHERE x.UserId = @UserId AND x.CampaignId = cp.CampaignId) u
OUTER APPLY (SELECT SUM(s.Redemptions) AS Total FROM dbo.CampaignCounterSlots s
             WHERE s.CampaignId = cp.CampaignId AND @CheckTotal = 1) t;
GO

-- Whether the campaign's committed redemptions (the slot sum) have reached its cap, read without
-- holding a lock: a sold-out campaign refuses at read speed, so no attempt on it waits for another
-- (under READ_COMMITTED_SNAPSHOT OFF the read's shared locks last only while each row is read, and
-- are compatible with the rebalancer's update locks). Safe to refuse on: at the moment of this
-- read the cap was reached; a unit given back later (a reversal, a rolled-back redemption) is seen
-- by the next attempt, which goes on to the locking path and takes it. Never used to accept.
CREATE OR ALTER FUNCTION dbo.fn_CampaignSoldOut(@CampaignId nvarchar(100))
RETURNS TABLE
AS
RETURN
SELECT CAST(CASE WHEN c.MaxTotalRedemptions <= ISNULL(t.Total, 0) THEN 1 ELSE 0 END AS bit) AS SoldOut
FROM dbo.Campaigns c
OUTER APPLY (SELECT SUM(s.Redemptions) AS Total FROM dbo.CampaignCounterSlots s
             WHERE s.CampaignId = c.CampaignId) t
WHERE c.CampaignId = @CampaignId;
GO

-- Takes one unit of the campaign's total budget on the coupon's slot. (Unlike PostgreSQL, whose
-- twin gives up with CP503 and is called again with p_Slow: a failed conditional UPDATE here
-- releases its U lock, so the rebalance can run in the same transaction without holding a slot.)
-- When that slot's budget is spent and the campaign is not sold out (fn_CampaignSoldOut, a read),
-- locks all 16 slots (one forward seek of the clustered key: slot order, so two rebalancers
-- cannot deadlock) and either refuses (cap reached) or spreads what is left of the cap over the
-- slots, favouring this one. Invariant: the budgets always add up to the cap and no slot passes its
-- budget, so the sum of Redemptions never passes MaxTotalRedemptions, whatever the concurrency.
-- Called inside sp_RedeemCoupon's transaction.
CREATE OR ALTER PROCEDURE dbo.fn_TakeCampaignUnit
    @CampaignId nvarchar(100), @Slot smallint, @Cap int, @Taken bit OUTPUT
AS
BEGIN
    SET NOCOUNT ON;
    SET XACT_ABORT ON;
    DECLARE @total int, @left int, @msg nvarchar(2048);
    SET @Taken = 0;
    UPDATE dbo.CampaignCounterSlots WITH (ROWLOCK)
    SET Redemptions = Redemptions + 1
    WHERE CampaignId = @CampaignId AND Slot = @Slot AND (Budget IS NULL OR Redemptions < Budget);
    IF @@ROWCOUNT = 1
    BEGIN
        SET @Taken = 1;
        RETURN;
    END;
    IF NOT EXISTS (SELECT 1 FROM dbo.CampaignCounterSlots WHERE CampaignId = @CampaignId AND Slot = @Slot)
    BEGIN
        SET @msg = CONCAT(N'counter slot ', @Slot, N'/16 of campaign ', @CampaignId, N' is missing');
        THROW 50500, @msg, 1;
    END;
    -- Sold out: refused on a read (fn_CampaignSoldOut), without locking the slots.
    IF EXISTS (SELECT 1 FROM dbo.fn_CampaignSoldOut(@CampaignId) WHERE SoldOut = 1) RETURN;
    -- UPDLOCK holds each slot's lock to the end of the transaction; the rows are fixed (16 per
    -- campaign, never inserted later), so no range lock is needed.
    SELECT @total = SUM(Redemptions)
    FROM dbo.CampaignCounterSlots WITH (UPDLOCK, ROWLOCK)
    WHERE CampaignId = @CampaignId;
    IF @total IS NULL
    BEGIN
        SET @msg = CONCAT(N'counter slots of campaign ', @CampaignId, N' are missing');
        THROW 50500, @msg, 1;
    END;
    -- The cap as it is now: sp_UpdateCampaign changes it under these same locks.
    SELECT @Cap = MaxTotalRedemptions FROM dbo.Campaigns WHERE CampaignId = @CampaignId;
    IF @Cap IS NULL
    BEGIN
        UPDATE dbo.CampaignCounterSlots WITH (ROWLOCK)
        SET Redemptions = Redemptions + 1
        WHERE CampaignId = @CampaignId AND Slot = @Slot;
        SET @Taken = 1;
        RETURN;
    END;
    SET @left = @Cap - @total;
    IF @left <= 0 RETURN;
    UPDATE dbo.CampaignCounterSlots WITH (ROWLOCK)
    SET Budget = Redemptions + @left / 16 + CASE WHEN (Slot - @Slot + 16) % 16 < @left % 16 THEN 1 ELSE 0 END
    WHERE CampaignId = @CampaignId;
    UPDATE dbo.CampaignCounterSlots WITH (ROWLOCK)
    SET Redemptions = Redemptions + 1
    WHERE CampaignId = @CampaignId AND Slot = @Slot;
    SET @Taken = 1;
END;
GO

-- Claims an idempotency key inside the caller's transaction (twin: fn_ClaimIdempotencyKey in
-- database/postgres/R__0300_redemption.sql): @Stored NULL when there is no key or this call now holds
-- it (the caller stores its outcome with UPDATE dbo.IdempotencyKeys before it commits); else the
-- stored outcome as a replay (`replayed` true). UPDLOCK + HOLDLOCK: a concurrent call with the same
-- key waits here for the first to commit. The same key with another hash is THROW 50422. Used by
-- sp_RedeemCoupon and sp_ReverseRedemption; an error rolls back in their CATCH.
CREATE OR ALTER PROCEDURE dbo.fn_ClaimIdempotencyKey
    @IdempotencyKey nvarchar(4000), @RequestHash nvarchar(4000), @Stored nvarchar(max) OUTPUT
AS
BEGIN
    SET NOCOUNT ON;
    SET XACT_ABORT ON;
    DECLARE @Hash nvarchar(4000) = ISNULL(@RequestHash, N''), @storedHash nvarchar(128), @msg nvarchar(2048);
    SET @Stored = NULL;
    IF @IdempotencyKey IS NULL RETURN;
    SELECT @storedHash = RequestHash, @Stored = Response
    FROM dbo.IdempotencyKeys WITH (UPDLOCK, HOLDLOCK)
    WHERE IdempotencyKey = @IdempotencyKey;
    IF @Stored IS NULL
    BEGIN
        INSERT INTO dbo.IdempotencyKeys (IdempotencyKey, RequestHash, Response)
        VALUES (@IdempotencyKey, @Hash, N'{}');
        RETURN;
    END;
    IF @storedHash <> @Hash COLLATE Latin1_General_100_BIN2
    BEGIN
        SET @msg = CONCAT(N'idempotency key ', @IdempotencyKey, N' was used with a different request');
        THROW 50422, @msg, 1;
    END;
    -- a bit is written as JSON true (JSON_QUERY of a scalar is NULL in lax mode, and a NULL value
    -- deletes the key instead)
    SET @Stored = JSON_MODIFY(@Stored, N'$.replayed', CAST(1 AS bit));
END;
GO

-- ---------------------------------------------------------------------------------------------
-- sp_RedeemCoupon: one call, one transaction, the seed's check order. Every attempt, accepted or
-- refused, is written to RedemptionHistory; a refusal changes nothing else. Lock order is always
-- idempotency key -> coupon -> one counter slot (or all, in slot order) -> the user's counter row,
-- so concurrent redemptions cannot deadlock. Returns one row, one column `result`: a JSON document
-- (also what an idempotent replay returns). An unexpected error (a deadlock victim included) is
-- rolled back whole and rethrown, and writes no history row, as on PostgreSQL: RedemptionHistory
-- holds attempts that got an answer, so its FailureReason is always one of the refusal codes.
-- The text parameters are wider than their columns and checked here (a value passed to a narrower
-- parameter would be cut to it silently: a 101-character user id would become another user).
CREATE OR ALTER PROCEDURE dbo.sp_RedeemCoupon
    @CouponCode nvarchar(200), @UserId nvarchar(4000), @IpAddress nvarchar(200) = NULL,
    @UserAgent nvarchar(4000) = NULL, @IdempotencyKey nvarchar(4000) = NULL, @RequestHash nvarchar(4000) = NULL,
    @ClientId nvarchar(4000) = NULL
AS
BEGIN
    SET NOCOUNT ON;
    SET XACT_ABORT ON;
    DECLARE @Code nvarchar(200) = UPPER(LTRIM(RTRIM(@CouponCode)));
    DECLARE @now datetime2 = SYSUTCDATETIME();
    DECLARE @msg nvarchar(2048), @result nvarchar(max), @stored nvarchar(max);
    DECLARE @reason nvarchar(50), @couponId bigint, @campaignId nvarchar(100), @pct decimal(5,2),
            @amount decimal(10,2), @maxPerUser int, @maxTotal int, @slot smallint, @taken bit,
            @userCount int, @lockedId bigint, @assignedTo nvarchar(100), @id bigint;

    -- fn_CheckInput (DATALENGTH, not LEN: LEN ignores trailing spaces; nvarchar(n) holds n UTF-16
    -- code units, 2 bytes each)
    IF @CouponCode IS NULL OR LEN(LTRIM(@CouponCode)) = 0
    BEGIN
        THROW 50400, N'code must be a non-empty string', 1;
    END;
    IF @UserId IS NULL OR LEN(LTRIM(@UserId)) = 0 OR DATALENGTH(@UserId) > 200
    BEGIN
        THROW 50400, N'userId must be a non-empty string of at most 100 characters', 1;
    END;
    IF DATALENGTH(@IdempotencyKey) > 400
    BEGIN
        THROW 50400, N'idempotencyKey must be at most 200 characters', 1;
    END;
    IF DATALENGTH(@RequestHash) > 256
    BEGIN
        THROW 50400, N'requestHash must be at most 128 characters', 1;
    END;
    IF DATALENGTH(@ClientId) > 200
    BEGIN
        THROW 50400, N'clientId must be at most 100 characters', 1;
    END;

    BEGIN TRY
        BEGIN TRANSACTION;
        EXEC dbo.fn_ClaimIdempotencyKey @IdempotencyKey = @IdempotencyKey, @RequestHash = @RequestHash,
            @Stored = @stored OUTPUT;
        IF @stored IS NOT NULL
        BEGIN
            COMMIT TRANSACTION;
            SELECT @stored AS result;
            RETURN;
        END;

        -- Every check is read first without the coupon's lock, the total limit included: a refusal is
        -- a true answer as of that read and is given at read speed, so a storm on a redeemed coupon or
        -- on a sold-out campaign never queues on row locks. Only an attempt that passes them all takes
        -- the coupon's lock (the code's unique key and, through the lookup of AssignedTo, which that
        -- index does not cover, its clustered row) and checks again: a concurrent redemption or a
        -- reversal (sp_ReverseRedemption) may have changed it since.
        SELECT @reason = Reason, @couponId = CouponId, @campaignId = CampaignId, @pct = DiscountPercentage,
               @amount = DiscountAmount, @maxPerUser = MaxPerUser, @maxTotal = MaxTotal
        FROM dbo.fn_CheckRedemption(@Code, @UserId, 1);
        IF @reason IS NULL
        BEGIN
            SELECT @lockedId = CouponId, @assignedTo = AssignedTo
            FROM dbo.Coupons WITH (UPDLOCK, ROWLOCK)
            WHERE CouponCode = @Code;
            SELECT @reason = Reason, @couponId = CouponId, @campaignId = CampaignId, @pct = DiscountPercentage,
                   @amount = DiscountAmount, @maxPerUser = MaxPerUser, @maxTotal = MaxTotal
            FROM dbo.fn_CheckRedemption(@Code, @UserId, 0);
        END;

        IF @reason IS NULL
        BEGIN
            -- check 7 (total limit) takes a unit of the campaign's budget
            SET @slot = CAST(@couponId % 16 AS smallint);
            EXEC dbo.fn_TakeCampaignUnit @CampaignId = @campaignId, @Slot = @slot, @Cap = @maxTotal, @Taken = @taken OUTPUT;
            IF @taken = 0 SET @reason = N'CAMPAIGN_LIMIT_REACHED';
        END;

        IF @reason IS NULL
        BEGIN
            -- check 6 again, now under the user's row lock (or its key range, for a first
            -- redemption): a concurrent redemption by the same user may have taken the last unit.
            SELECT @userCount = RedemptionCount
            FROM dbo.UserRedemptions WITH (UPDLOCK, HOLDLOCK)
            WHERE UserId = @UserId AND CampaignId = @campaignId;
            IF @userCount IS NULL
                INSERT INTO dbo.UserRedemptions (UserId, CampaignId, RedemptionCount, LastRedeemedAt)
                VALUES (@UserId, @campaignId, 1, @now);
            ELSE IF @maxPerUser IS NULL OR @userCount < @maxPerUser
                UPDATE dbo.UserRedemptions
                SET RedemptionCount = RedemptionCount + 1, LastRedeemedAt = @now
                WHERE UserId = @UserId AND CampaignId = @campaignId;
            ELSE
            BEGIN
                SET @reason = N'USER_LIMIT_REACHED';
                -- give back the unit taken above; this row is locked by us, so this restores it exactly
                UPDATE dbo.CampaignCounterSlots WITH (ROWLOCK)
                SET Redemptions = Redemptions - 1
                WHERE CampaignId = @campaignId AND Slot = @slot;
            END;
        END;

        IF @reason IS NULL
        BEGIN
            UPDATE dbo.Coupons
            SET IsRedeemed = 1, RedeemedAt = @now, RedeemedBy = @UserId
            WHERE CouponId = @couponId;
            SET @result = (SELECT CAST(1 AS bit) AS ok, CAST(@couponId AS nvarchar(20)) AS couponId, @Code AS couponCode,
                                  @campaignId AS campaignId, TODATETIMEOFFSET(@now, 0) AS redeemedAt,
                                  @pct AS discountPercentage, @amount AS discountAmount
                           FOR JSON PATH, INCLUDE_NULL_VALUES, WITHOUT_ARRAY_WRAPPER);
        END
        ELSE
            SET @result = (SELECT CAST(0 AS bit) AS ok, @reason AS reason, LEFT(@Code, 50) AS couponCode,
                                  @campaignId AS campaignId
                           FOR JSON PATH, INCLUDE_NULL_VALUES, WITHOUT_ARRAY_WRAPPER);

        INSERT INTO dbo.RedemptionHistory (CouponCode, UserId, CampaignId, AttemptedAt, Success, FailureReason, IpAddress, UserAgent,
                                           ClientId)
        VALUES (LEFT(@Code, 50), @UserId, @campaignId, @now, CASE WHEN @reason IS NULL THEN 1 ELSE 0 END, @reason,
                LEFT(@IpAddress, 45), LEFT(@UserAgent, 500), @ClientId);
        -- the attempt's id, accepted or refused: what a reversal names (an idempotent replay returns it too)
        SET @id = SCOPE_IDENTITY();
        SET @result = JSON_MODIFY(@result, N'$.redemptionId', CAST(@id AS nvarchar(20)));

        IF @IdempotencyKey IS NOT NULL
            UPDATE dbo.IdempotencyKeys SET Response = @result WHERE IdempotencyKey = @IdempotencyKey;
        COMMIT TRANSACTION;
    END TRY
    BEGIN CATCH
        IF @@TRANCOUNT > 0 ROLLBACK TRANSACTION;
        THROW;
    END CATCH;
    SELECT @result AS result;
END;
GO

-- The same checks as sp_RedeemCoupon, changing and logging nothing.
CREATE OR ALTER PROCEDURE dbo.sp_ValidateCoupon @CouponCode nvarchar(200), @UserId nvarchar(4000)
AS
BEGIN
    SET NOCOUNT ON;
    SET XACT_ABORT ON;
    DECLARE @Code nvarchar(200) = UPPER(LTRIM(RTRIM(@CouponCode)));
    IF @CouponCode IS NULL OR LEN(LTRIM(@CouponCode)) = 0
    BEGIN
        THROW 50400, N'code must be a non-empty string', 1;
    END;
    IF @UserId IS NULL OR LEN(LTRIM(@UserId)) = 0 OR DATALENGTH(@UserId) > 200
    BEGIN
        THROW 50400, N'userId must be a non-empty string of at most 100 characters', 1;
    END;
    SELECT CASE WHEN k.Reason IS NULL
                THEN (SELECT CAST(1 AS bit) AS ok, @Code AS couponCode, k.CampaignId AS campaignId,
                             k.DiscountPercentage AS discountPercentage, k.DiscountAmount AS discountAmount
                      FOR JSON PATH, INCLUDE_NULL_VALUES, WITHOUT_ARRAY_WRAPPER)
                ELSE (SELECT CAST(0 AS bit) AS ok, k.Reason AS reason, LEFT(@Code, 50) AS couponCode,
                             k.CampaignId AS campaignId
                      FOR JSON PATH, INCLUDE_NULL_VALUES, WITHOUT_ARRAY_WRAPPER)
           END AS result
    FROM dbo.fn_CheckRedemption(@Code, @UserId, 1) k;
END;
GO

-- sp_GetCouponDetails: coupon + campaign + computed status.
-- Status precedence: redeemed, expired, campaign_inactive, assigned, available.
-- CampaignJson carries the sp_GetCampaign row; its dates as datetimeoffset, so the JSON says UTC.
CREATE OR ALTER PROCEDURE dbo.sp_GetCouponDetails @CouponCode nvarchar(200)
AS
BEGIN
    SET NOCOUNT ON;
    SET XACT_ABORT ON;
    DECLARE @now datetime2 = SYSUTCDATETIME();
    SELECT cp.CouponId, cp.CouponCode, cp.CampaignId, cp.IsRedeemed, cp.RedeemedAt, cp.RedeemedBy, cp.ExpiresAt,
           cp.AssignedTo, cp.GenerationBatchId, cp.CreatedAt,
           CASE WHEN cp.IsRedeemed = 1 THEN N'redeemed'
                WHEN cp.ExpiresAt IS NOT NULL AND cp.ExpiresAt <= @now THEN N'expired'
                WHEN c.IsActive = 0 OR @now < c.StartDate OR @now > c.EndDate THEN N'campaign_inactive'
                WHEN cp.AssignedTo IS NOT NULL THEN N'assigned'
                ELSE N'available' END AS Status,
           (SELECT c.CampaignId, c.Name, c.Description, TODATETIMEOFFSET(c.StartDate, 0) AS StartDate,
                   TODATETIMEOFFSET(c.EndDate, 0) AS EndDate, c.DiscountPercentage, c.DiscountAmount,
                   c.MaxRedemptionsPerUser, c.MaxTotalRedemptions,
                   (SELECT ISNULL(SUM(s.Redemptions), 0) FROM dbo.CampaignCounterSlots s
                    WHERE s.CampaignId = c.CampaignId) AS CurrentRedemptions,
                   c.IsActive, TODATETIMEOFFSET(c.CreatedAt, 0) AS CreatedAt,
                   TODATETIMEOFFSET(c.UpdatedAt, 0) AS UpdatedAt, c.CreatedBy
            FOR JSON PATH, INCLUDE_NULL_VALUES, WITHOUT_ARRAY_WRAPPER) AS CampaignJson
    FROM dbo.Coupons cp
    JOIN dbo.Campaigns c ON c.CampaignId = cp.CampaignId
    WHERE cp.CouponCode = UPPER(LTRIM(RTRIM(@CouponCode)));
END;
GO

-- Assigns the coupon to a user, or unassigns it when @UserId is NULL.
CREATE OR ALTER PROCEDURE dbo.sp_AssignCoupon @CouponCode nvarchar(200), @UserId nvarchar(4000)
AS
BEGIN
    SET NOCOUNT ON;
    SET XACT_ABORT ON;
    DECLARE @Code nvarchar(200) = UPPER(LTRIM(RTRIM(@CouponCode)));
    DECLARE @msg nvarchar(2048), @couponId bigint, @isRedeemed bit, @assignedTo nvarchar(100);
    IF @UserId IS NOT NULL AND (LEN(LTRIM(@UserId)) = 0 OR DATALENGTH(@UserId) > 200)
    BEGIN
        THROW 50400, N'userId must be a non-empty string of at most 100 characters', 1;
    END;
    BEGIN TRY
        BEGIN TRANSACTION;
        SELECT @couponId = CouponId, @isRedeemed = IsRedeemed, @assignedTo = AssignedTo
        FROM dbo.Coupons WITH (UPDLOCK, ROWLOCK)
        WHERE CouponCode = @Code;
        IF @couponId IS NULL
        BEGIN
            SET @msg = CONCAT(N'coupon ', @Code, N' does not exist');
            THROW 50404, @msg, 1;
        END;
        IF @isRedeemed = 1
        BEGIN
            SET @msg = CONCAT(N'coupon ', @Code, N' is redeemed; its assignment cannot change');
            THROW 50409, @msg, 1;
        END;
        IF @UserId IS NOT NULL AND @assignedTo IS NOT NULL AND @assignedTo <> @UserId
        BEGIN
            SET @msg = CONCAT(N'coupon ', @Code, N' is assigned to another user; unassign it first');
            THROW 50409, @msg, 1;
        END;
        UPDATE dbo.Coupons SET AssignedTo = @UserId WHERE CouponId = @couponId;
        COMMIT TRANSACTION;
    END TRY
    BEGIN CATCH
        IF @@TRANCOUNT > 0 ROLLBACK TRANSACTION;
        THROW;
    END CATCH;
END;
GO

-- @UserId is wider than the column so that a longer id matches nobody (cut to 100 characters it
-- could match another user), as on PostgreSQL.
CREATE OR ALTER PROCEDURE dbo.sp_ListRedemptionAttempts @CouponCode nvarchar(200), @UserId nvarchar(4000), @Limit int
AS
BEGIN
    SET NOCOUNT ON;
    SET XACT_ABORT ON;
    DECLARE @n int = CASE WHEN @Limit IS NULL THEN 100 WHEN @Limit < 1 THEN 1 WHEN @Limit > 1000 THEN 1000 ELSE @Limit END;
    SELECT TOP (@n) h.RedemptionId, h.CouponCode, h.UserId, h.CampaignId, h.AttemptedAt, h.Success,
           h.FailureReason, h.IpAddress, h.UserAgent
    FROM dbo.RedemptionHistory h
    WHERE (@CouponCode IS NULL OR h.CouponCode = UPPER(LTRIM(RTRIM(@CouponCode))))
      AND (@UserId IS NULL OR h.UserId = @UserId)
    ORDER BY h.RedemptionId DESC
    OPTION (RECOMPILE);
END;
GO

GRANT EXECUTE ON dbo.sp_GetCouponDetails TO coupon_app;
GRANT EXECUTE ON dbo.sp_RedeemCoupon TO coupon_app;
GRANT EXECUTE ON dbo.sp_ValidateCoupon TO coupon_app;
GRANT EXECUTE ON dbo.sp_AssignCoupon TO coupon_app;
GRANT EXECUTE ON dbo.sp_ListRedemptionAttempts TO coupon_app;
GO
