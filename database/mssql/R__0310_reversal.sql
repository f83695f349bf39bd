-- sqlfluff-lacks: INCLUDE_NULL_VALUES
-- Reversal of a redemption as a ledger (issue 14): sp_ReverseRedemption writes one RedemptionReversals
-- row per reversal and never edits the redemption's history row; sp_ListUserRedemptions reads a
-- user's redemptions and reversals newest first. Twin: database/postgres/R__0310_reversal.sql.
-- Repeatable (see docs/mssql.md, "Migrations"): re-applied whenever this file or one before it
-- changes, and after every numbered migration. Edit the definitions here; never in the numbered
-- files. Procedures: CREATE OR ALTER (keeps grants).
--
-- Errors raised here carry our own numbers, mapped once in packages/db/src/engines/mssql-errors.ts:
--   50400 invalid input, 50404 not found, 50409 conflict / wrong state, 50422 idempotency key reused
--   with another request; 50500 an internal invariant broken.
-- Every procedure runs with SET XACT_ABORT ON, so any error rolls its transaction back whole.

SET ANSI_NULLS ON;
SET QUOTED_IDENTIFIER ON;
SET XACT_ABORT ON;
GO

-- sp_ReverseRedemption: one call, one transaction. The coupon becomes redeemable again, the user's
-- count and the campaign's counter slot (CouponId % 16) go down by one, and a RedemptionReversals row
-- records who (@ClientId), when, why, from where. Lock order is sp_RedeemCoupon's: idempotency key
-- -> coupon -> that one counter slot -> the user's counter row, so a reversal and redemptions racing
-- it cannot deadlock; it never locks a second slot. On a sold-out campaign the slot's Redemptions
-- falls below its Budget, so exactly one later redemption gets the unit back.
-- Refusals: 50404 an unknown id, or a redemption made by another client (a caller with a client id
-- only sees its own service's redemptions; a caller without one, the CLI, sees all); 50409 a refused
-- attempt, or a coupon that is no longer redeemed by this redemption (deleted, or redeemed again).
-- A second reversal of the same redemption changes nothing and returns the first one's outcome with
-- replayed: true. With an idempotency key the outcome is stored as sp_RedeemCoupon stores its own.
-- The text parameters are wider than their columns and checked here (a narrower parameter would cut
-- a value silently).
CREATE OR ALTER PROCEDURE dbo.sp_ReverseRedemption
    @RedemptionId bigint, @ClientId nvarchar(4000) = NULL, @Reason nvarchar(4000) = NULL, @IpAddress nvarchar(200) = NULL,
    @UserAgent nvarchar(4000) = NULL, @IdempotencyKey nvarchar(4000) = NULL, @RequestHash nvarchar(4000) = NULL
AS
BEGIN
    SET NOCOUNT ON;
    SET XACT_ABORT ON;
    DECLARE @now datetime2 = SYSUTCDATETIME();
    DECLARE @msg nvarchar(2048), @result nvarchar(max), @stored nvarchar(max);
    DECLARE @found bit = 0, @code nvarchar(50), @userId nvarchar(100), @campaignId nvarchar(100), @success bit,
            @failure nvarchar(500), @owner nvarchar(100), @couponId bigint, @couponCampaign nvarchar(100),
            @isRedeemed bit, @redeemedBy nvarchar(100), @later bigint, @reversalId bigint, @slot smallint,
            @replayed bit = 1, @seq bigint;

    IF @RedemptionId IS NULL OR @RedemptionId < 1
    BEGIN
        THROW 50400, N'redemptionId must be a positive integer', 1;
    END;
    IF DATALENGTH(@ClientId) > 200
    BEGIN
        THROW 50400, N'clientId must be at most 100 characters', 1;
    END;
    IF DATALENGTH(@Reason) > 1000
    BEGIN
        THROW 50400, N'reason must be at most 500 characters', 1;
    END;
    IF DATALENGTH(@IpAddress) > 90
    BEGIN
        THROW 50400, N'ipAddress must be at most 45 characters', 1;
    END;
    IF DATALENGTH(@IdempotencyKey) > 400
    BEGIN
        THROW 50400, N'idempotencyKey must be at most 200 characters', 1;
    END;
    IF DATALENGTH(@RequestHash) > 256
    BEGIN
        THROW 50400, N'requestHash must be at most 128 characters', 1;
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

        -- the redemption: in the history, or (archived since) in the archive
        SELECT @found = 1, @code = CouponCode, @userId = UserId, @campaignId = CampaignId, @success = Success,
               @failure = FailureReason, @owner = ClientId
        FROM dbo.RedemptionHistory
        WHERE RedemptionId = @RedemptionId;
        IF @found = 0
            SELECT @found = 1, @code = CouponCode, @userId = UserId, @campaignId = CampaignId, @success = Success,
                   @failure = FailureReason, @owner = ClientId
            FROM dbo.RedemptionHistoryArchive
            WHERE RedemptionId = @RedemptionId;
        IF @found = 0 OR (@ClientId IS NOT NULL AND (@owner IS NULL OR @owner <> @ClientId))
        BEGIN
            SET @msg = CONCAT(N'redemption ', @RedemptionId, N' does not exist (or was made by another client)');
            THROW 50404, @msg, 1;
        END;
        IF @success = 0
        BEGIN
            SET @msg = CONCAT(N'redemption ', @RedemptionId, N' is a refused attempt (', @failure, N'); there is nothing to reverse');
            THROW 50409, @msg, 1;
        END;

        SELECT @reversalId = ReversalId FROM dbo.RedemptionReversals WHERE RedemptionId = @RedemptionId;
        IF @reversalId IS NULL
        BEGIN
            SELECT @couponId = CouponId, @couponCampaign = CampaignId, @isRedeemed = IsRedeemed, @redeemedBy = RedeemedBy
            FROM dbo.Coupons WITH (UPDLOCK, ROWLOCK)
            WHERE CouponCode = @code;
            -- under the coupon's lock: a reversal of the same redemption that committed meanwhile is seen
            SELECT @reversalId = ReversalId FROM dbo.RedemptionReversals WHERE RedemptionId = @RedemptionId;
        END;
        IF @reversalId IS NULL
        BEGIN
            SET @replayed = 0;
            IF @couponId IS NULL OR @couponCampaign <> @campaignId
            BEGIN
                SET @msg = CONCAT(N'coupon ', @code, N' of redemption ', @RedemptionId, N' no longer exists in campaign ',
                                  @campaignId, N' (deleted); nothing was reversed');
                THROW 50409, @msg, 1;
            END;
            SELECT @later = MAX(RedemptionId) FROM dbo.RedemptionHistory
            WHERE CouponCode = @code AND Success = 1 AND RedemptionId > @RedemptionId;
            IF @later IS NOT NULL
            BEGIN
                SET @msg = CONCAT(N'coupon ', @code, N' was redeemed again by redemption ', @later, N' since redemption ',
                                  @RedemptionId, N'; reverse that one');
                THROW 50409, @msg, 1;
            END;
            IF @isRedeemed = 0 OR @redeemedBy IS NULL OR @redeemedBy <> @userId
            BEGIN
                SET @msg = CONCAT(N'coupon ', @code, N' is not redeemed by redemption ', @RedemptionId, N'; nothing was reversed');
                THROW 50409, @msg, 1;
            END;

            UPDATE dbo.Coupons SET IsRedeemed = 0, RedeemedAt = NULL, RedeemedBy = NULL WHERE CouponId = @couponId;
            SET @slot = CAST(@couponId % 16 AS smallint);
            UPDATE dbo.CampaignCounterSlots WITH (ROWLOCK)
            SET Redemptions = Redemptions - 1
            WHERE CampaignId = @couponCampaign AND Slot = @slot;
            IF @@ROWCOUNT <> 1
            BEGIN
                SET @msg = CONCAT(N'counter slot ', @slot, N'/16 of campaign ', @couponCampaign, N' is missing');
                THROW 50500, @msg, 1;
            END;
            UPDATE dbo.UserRedemptions
            SET RedemptionCount = RedemptionCount - 1
            WHERE UserId = @userId AND CampaignId = @campaignId;
            IF @@ROWCOUNT <> 1
            BEGIN
                SET @msg = CONCAT(N'the count of user ', @userId, N' in campaign ', @campaignId, N' is missing');
                THROW 50500, @msg, 1;
            END;
            -- READPAST: a tie-breaker needs no wait for redemptions in flight
            SELECT @seq = MAX(RedemptionId) FROM dbo.RedemptionHistory WITH (READPAST);
            IF @seq IS NULL OR @seq < @RedemptionId SET @seq = @RedemptionId;
            INSERT INTO dbo.RedemptionReversals (RedemptionId, CampaignId, CouponCode, UserId, ReversedAt, ReversedBy, Reason,
                                                 IpAddress, UserAgent, HistorySeq)
            VALUES (@RedemptionId, @campaignId, @code, @userId, @now, @ClientId, @Reason, @IpAddress, LEFT(@UserAgent, 500),
                    @seq);
            SET @reversalId = SCOPE_IDENTITY();
        END;

        SET @result = (SELECT CAST(@replayed AS bit) AS replayed, CAST(r.ReversalId AS nvarchar(20)) AS reversalId,
                              CAST(r.RedemptionId AS nvarchar(20)) AS redemptionId, r.CouponCode AS couponCode,
                              r.CampaignId AS campaignId, r.UserId AS userId, TODATETIMEOFFSET(r.ReversedAt, 0) AS reversedAt,
                              r.ReversedBy AS reversedBy, r.Reason AS reason
                       FROM dbo.RedemptionReversals r
                       WHERE r.ReversalId = @reversalId
                       FOR JSON PATH, INCLUDE_NULL_VALUES, WITHOUT_ARRAY_WRAPPER);
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

-- A user's redemptions and reversals (and with @IncludeAttempts their refused attempts), newest
-- first: by time, then (same instant) by history id, a reversal counting as just after the history
-- rows written before it (HistorySeq), then by id. @After is the
-- ItemCursor of the last item of the page before ('h' + history id or 'v' + reversal id). Each
-- branch reads its table's (UserId, time) index and stops after one page. @UserId is wider than the
-- column so that a longer id matches nobody.
CREATE OR ALTER PROCEDURE dbo.sp_ListUserRedemptions
    @UserId nvarchar(4000), @Limit int, @After nvarchar(4000) = NULL, @IncludeAttempts bit = 0
AS
BEGIN
    SET NOCOUNT ON;
    SET XACT_ABORT ON;
    DECLARE @n int = CASE WHEN @Limit IS NULL THEN 100 WHEN @Limit < 1 THEN 1 WHEN @Limit > 1000 THEN 1000 ELSE @Limit END;
    DECLARE @all bit = ISNULL(@IncludeAttempts, 0);
    DECLARE @at datetime2, @seq bigint, @rank int = 0, @id bigint, @msg nvarchar(2048);
    IF @UserId IS NULL OR LEN(LTRIM(@UserId)) = 0
    BEGIN
        THROW 50400, N'userId must be a non-empty string', 1;
    END;
    IF @After IS NOT NULL
    BEGIN
        IF LEN(@After) < 2 OR LEN(@After) > 19 OR LEFT(@After, 1) COLLATE Latin1_General_100_BIN2 NOT IN (N'h', N'v')
           OR SUBSTRING(@After, 2, 18) LIKE N'%[^0-9]%'
        BEGIN
            THROW 50400, N'after must be the cursor of an item of the page before', 1;
        END;
        SET @id = CAST(SUBSTRING(@After, 2, 18) AS bigint);
        IF LEFT(@After, 1) COLLATE Latin1_General_100_BIN2 = N'h'
        BEGIN
            SET @seq = @id;
            SELECT @at = AttemptedAt FROM dbo.RedemptionHistory WHERE RedemptionId = @id AND UserId = @UserId;
            IF @at IS NULL
                SELECT @at = AttemptedAt FROM dbo.RedemptionHistoryArchive WHERE RedemptionId = @id AND UserId = @UserId;
        END
        ELSE
        BEGIN
            SET @rank = 1;
            SELECT @at = ReversedAt, @seq = HistorySeq FROM dbo.RedemptionReversals WHERE ReversalId = @id AND UserId = @UserId;
        END;
        IF @at IS NULL
        BEGIN
            SET @msg = CONCAT(N'after ', @After, N' is not an item of the history of user ', @UserId);
            THROW 50400, @msg, 1;
        END;
    END;

    SELECT TOP (@n) i.Kind, i.ItemCursor, CAST(i.OccurredAt AS datetimeoffset) AS OccurredAt, i.RedemptionId, i.ReversalId,
           i.CouponCode, i.CampaignId, i.FailureReason, i.Reversed, i.Reason
    FROM (
        SELECT * FROM (
            SELECT TOP (@n) CASE WHEN h.Success = 1 THEN N'redemption' ELSE N'attempt' END AS Kind,
                   CONCAT(N'h', h.RedemptionId) AS ItemCursor, h.AttemptedAt AS OccurredAt, h.RedemptionId AS Seq, 0 AS Rnk,
                   h.RedemptionId AS ItemId,
                   h.RedemptionId, CAST(NULL AS bigint) AS ReversalId, h.CouponCode, h.CampaignId, h.FailureReason,
                   CAST(CASE WHEN EXISTS (SELECT 1 FROM dbo.RedemptionReversals r WHERE r.RedemptionId = h.RedemptionId)
                             THEN 1 ELSE 0 END AS bit) AS Reversed,
                   CAST(NULL AS nvarchar(500)) AS Reason
            FROM dbo.RedemptionHistory h
            WHERE h.UserId = @UserId AND (h.Success = 1 OR @all = 1)
              AND (@at IS NULL OR h.AttemptedAt < @at
                   OR (h.AttemptedAt = @at AND (h.RedemptionId < @seq OR (h.RedemptionId = @seq AND @rank > 0))))
            ORDER BY h.AttemptedAt DESC, h.RedemptionId DESC
        ) hist
        UNION ALL
        SELECT * FROM (
            SELECT TOP (@n) CASE WHEN a.Success = 1 THEN N'redemption' ELSE N'attempt' END AS Kind,
                   CONCAT(N'h', a.RedemptionId) AS ItemCursor, a.AttemptedAt AS OccurredAt, a.RedemptionId AS Seq, 0 AS Rnk,
                   a.RedemptionId AS ItemId,
                   a.RedemptionId, CAST(NULL AS bigint) AS ReversalId, a.CouponCode, a.CampaignId, a.FailureReason,
                   CAST(CASE WHEN EXISTS (SELECT 1 FROM dbo.RedemptionReversals r WHERE r.RedemptionId = a.RedemptionId)
                             THEN 1 ELSE 0 END AS bit) AS Reversed,
                   CAST(NULL AS nvarchar(500)) AS Reason
            FROM dbo.RedemptionHistoryArchive a
            WHERE a.UserId = @UserId AND (a.Success = 1 OR @all = 1)
              AND (@at IS NULL OR a.AttemptedAt < @at
                   OR (a.AttemptedAt = @at AND (a.RedemptionId < @seq OR (a.RedemptionId = @seq AND @rank > 0))))
            ORDER BY a.AttemptedAt DESC, a.RedemptionId DESC
        ) arch
        UNION ALL
        SELECT * FROM (
            SELECT TOP (@n) N'reversal' AS Kind, CONCAT(N'v', r.ReversalId) AS ItemCursor, r.ReversedAt AS OccurredAt,
                   r.HistorySeq AS Seq, 1 AS Rnk, r.ReversalId AS ItemId, r.RedemptionId, r.ReversalId, r.CouponCode, r.CampaignId,
                   CAST(NULL AS nvarchar(500)) AS FailureReason, CAST(1 AS bit) AS Reversed, r.Reason
            FROM dbo.RedemptionReversals r
            WHERE r.UserId = @UserId
              AND (@at IS NULL OR r.ReversedAt < @at
                   OR (r.ReversedAt = @at AND (r.HistorySeq < @seq
                                               OR (r.HistorySeq = @seq AND @rank = 1 AND r.ReversalId < @id))))
            ORDER BY r.ReversedAt DESC, r.HistorySeq DESC, r.ReversalId DESC
        ) rev
    ) i
    ORDER BY i.OccurredAt DESC, i.Seq DESC, i.Rnk DESC, i.ItemId DESC
    OPTION (RECOMPILE);
END;
GO

GRANT EXECUTE ON dbo.sp_ReverseRedemption TO coupon_app;
GRANT EXECUTE ON dbo.sp_ListUserRedemptions TO coupon_app;
GO
