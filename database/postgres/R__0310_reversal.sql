-- Reversal of a redemption as a ledger (issue 14): sp_ReverseRedemption writes one RedemptionReversals
-- row per reversal and never edits the redemption's history row; sp_ListUserRedemptions reads a
-- user's redemptions and reversals newest first. Twin: database/mssql/R__0310_reversal.sql.
-- Repeatable (see docs/database.md, "Migrations"): re-applied whenever this file or one before it
-- changes, and after every numbered migration. Edit the definitions here; never in the numbered
-- files. CREATE OR REPLACE keeps grants; a change of signature, return type or view columns needs a
-- DROP ... IF EXISTS before the CREATE (CASCADE is safe: every later repeatable file is re-applied).
--
-- Errors raised here carry our own SQLSTATEs, mapped once in packages/db/src/errors.ts:
--   CP400 invalid input, CP404 not found, CP409 conflict / wrong state, CP422 idempotency key reused
--   with another request.

-- sp_ReverseRedemption: one call, one transaction. The coupon becomes redeemable again, the user's
-- count and the campaign's counter slot (CouponId % 16) go down by one, and a RedemptionReversals row
-- records who (p_ClientId), when, why, from where. Lock order is sp_RedeemCoupon's: idempotency key
-- -> coupon -> that one counter slot -> the user's counter row, so a reversal and redemptions racing
-- it cannot deadlock; it never locks a second slot. On a sold-out campaign the slot's Redemptions
-- falls below its Budget, so exactly one later redemption gets the unit back (on that slot's fast
-- path, or through fn_TakeCampaignUnit's rebalance from the slot sums).
-- Refusals: CP404 an unknown id, or a redemption made by another client (a caller with a client id
-- only sees its own service's redemptions; a caller without one, the CLI, sees all); CP409 a refused
-- attempt, or a coupon that is no longer redeemed by this redemption (deleted, or redeemed again).
-- A second reversal of the same redemption changes nothing and returns the first one's outcome with
-- replayed: true. With an idempotency key the outcome is stored as sp_RedeemCoupon stores its own.
CREATE OR REPLACE FUNCTION sp_ReverseRedemption(
    p_RedemptionId bigint, p_ClientId text DEFAULT NULL, p_Reason text DEFAULT NULL, p_IpAddress text DEFAULT NULL,
    p_UserAgent text DEFAULT NULL, p_IdempotencyKey text DEFAULT NULL, p_RequestHash text DEFAULT NULL)
RETURNS jsonb LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
    v_h record;
    v_coupon Coupons%ROWTYPE;
    v_rev RedemptionReversals%ROWTYPE;
    v_later bigint;
    v_result jsonb;
BEGIN
    IF p_RedemptionId IS NULL OR p_RedemptionId < 1 THEN
        RAISE EXCEPTION 'redemptionId must be a positive integer' USING ERRCODE = 'CP400';
    END IF;
    IF length(p_ClientId) > 100 THEN
        RAISE EXCEPTION 'clientId must be at most 100 characters' USING ERRCODE = 'CP400';
    END IF;
    IF length(p_Reason) > 500 THEN
        RAISE EXCEPTION 'reason must be at most 500 characters' USING ERRCODE = 'CP400';
    END IF;
    IF length(p_IpAddress) > 45 THEN
        RAISE EXCEPTION 'ipAddress must be at most 45 characters' USING ERRCODE = 'CP400';
    END IF;
    IF length(p_IdempotencyKey) > 200 THEN
        RAISE EXCEPTION 'idempotencyKey must be at most 200 characters' USING ERRCODE = 'CP400';
    END IF;
    IF length(p_RequestHash) > 128 THEN
        RAISE EXCEPTION 'requestHash must be at most 128 characters' USING ERRCODE = 'CP400';
    END IF;
    v_result := fn_ClaimIdempotencyKey(p_IdempotencyKey, p_RequestHash);
    IF v_result IS NOT NULL THEN RETURN v_result; END IF;

    -- the redemption: in the history, or (archived since) in the archive
    SELECT h.CouponCode, h.UserId, h.CampaignId, h.Success, h.FailureReason, h.ClientId INTO v_h
    FROM RedemptionHistory h WHERE h.RedemptionId = p_RedemptionId;
    IF NOT FOUND THEN
        SELECT a.CouponCode, a.UserId, a.CampaignId, a.Success, a.FailureReason, a.ClientId INTO v_h
        FROM RedemptionHistoryArchive a WHERE a.RedemptionId = p_RedemptionId;
    END IF;
    IF NOT FOUND OR (p_ClientId IS NOT NULL AND v_h.ClientId IS DISTINCT FROM p_ClientId) THEN
        RAISE EXCEPTION 'redemption % does not exist (or was made by another client)', p_RedemptionId USING ERRCODE = 'CP404';
    END IF;
    IF NOT v_h.Success THEN
        RAISE EXCEPTION 'redemption % is a refused attempt (%); there is nothing to reverse', p_RedemptionId, v_h.FailureReason
            USING ERRCODE = 'CP409';
    END IF;

    SELECT * INTO v_rev FROM RedemptionReversals r WHERE r.RedemptionId = p_RedemptionId;
    IF NOT FOUND THEN
        SELECT * INTO v_coupon FROM Coupons c WHERE c.CouponCode = v_h.CouponCode FOR UPDATE;
        -- under the coupon's lock: a reversal of the same redemption that committed meanwhile is seen
        SELECT * INTO v_rev FROM RedemptionReversals r WHERE r.RedemptionId = p_RedemptionId;
    END IF;
    IF v_rev.ReversalId IS NULL THEN
        IF v_coupon.CouponId IS NULL OR v_coupon.CampaignId IS DISTINCT FROM v_h.CampaignId THEN
            RAISE EXCEPTION 'coupon % of redemption % no longer exists in campaign % (deleted); nothing was reversed',
                v_h.CouponCode, p_RedemptionId, v_h.CampaignId USING ERRCODE = 'CP409';
        END IF;
        SELECT max(h.RedemptionId) INTO v_later FROM RedemptionHistory h
        WHERE h.CouponCode = v_h.CouponCode AND h.Success AND h.RedemptionId > p_RedemptionId;
        IF v_later IS NOT NULL THEN
            RAISE EXCEPTION 'coupon % was redeemed again by redemption % since redemption %; reverse that one',
                v_h.CouponCode, v_later, p_RedemptionId USING ERRCODE = 'CP409';
        END IF;
        IF NOT v_coupon.IsRedeemed OR v_coupon.RedeemedBy IS DISTINCT FROM v_h.UserId THEN
            RAISE EXCEPTION 'coupon % is not redeemed by redemption %; nothing was reversed', v_h.CouponCode, p_RedemptionId
                USING ERRCODE = 'CP409';
        END IF;

        UPDATE Coupons c SET IsRedeemed = false, RedeemedAt = NULL, RedeemedBy = NULL WHERE c.CouponId = v_coupon.CouponId;
        UPDATE CampaignCounterSlots s SET Redemptions = s.Redemptions - 1
        WHERE s.CampaignId = v_coupon.CampaignId AND s.Slot = (v_coupon.CouponId % 16)::int;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'counter slot % of campaign % is missing', v_coupon.CouponId % 16, v_coupon.CampaignId
                USING ERRCODE = 'XX000';
        END IF;
        UPDATE UserRedemptions u SET RedemptionCount = u.RedemptionCount - 1
        WHERE u.CampaignId = v_h.CampaignId AND u.UserId = v_h.UserId;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'the count of user % in campaign % is missing', v_h.UserId, v_h.CampaignId USING ERRCODE = 'XX000';
        END IF;
        INSERT INTO RedemptionReversals (RedemptionId, CampaignId, CouponCode, UserId, ReversedAt, ReversedBy, Reason,
                                         IpAddress, UserAgent, HistorySeq)
        VALUES (p_RedemptionId, v_h.CampaignId, v_h.CouponCode, v_h.UserId, now(), p_ClientId, p_Reason,
                p_IpAddress, left(p_UserAgent, 500),
                greatest(p_RedemptionId, (SELECT max(h.RedemptionId) FROM RedemptionHistory h)))
        RETURNING * INTO v_rev;
        v_result := jsonb_build_object('replayed', false);
    ELSE
        v_result := jsonb_build_object('replayed', true);
    END IF;

    v_result := v_result || jsonb_build_object('reversalId', v_rev.ReversalId::text, 'redemptionId', v_rev.RedemptionId::text,
        'couponCode', v_rev.CouponCode, 'campaignId', v_rev.CampaignId, 'userId', v_rev.UserId,
        'reversedAt', v_rev.ReversedAt, 'reversedBy', v_rev.ReversedBy, 'reason', v_rev.Reason);
    IF p_IdempotencyKey IS NOT NULL THEN
        UPDATE IdempotencyKeys k SET Response = v_result WHERE k.IdempotencyKey = p_IdempotencyKey;
    END IF;
    RETURN v_result;
END $$;

-- A user's redemptions and reversals (and with p_IncludeAttempts their refused attempts), newest
-- first: by time, then (same instant) by history id, a reversal counting as just after the history
-- rows written before it (HistorySeq), then by id. p_After is the
-- ItemCursor of the last item of the page before ('h' + history id or 'v' + reversal id). Each
-- branch reads its table's (UserId, time) index and stops after one page.
CREATE OR REPLACE FUNCTION sp_ListUserRedemptions(p_UserId text, p_Limit int, p_After text DEFAULT NULL,
    p_IncludeAttempts boolean DEFAULT false)
RETURNS TABLE (Kind text, ItemCursor text, OccurredAt timestamptz, RedemptionId bigint, ReversalId bigint,
               CouponCode varchar, CampaignId varchar, FailureReason varchar, Reversed boolean, Reason varchar)
LANGUAGE plpgsql STABLE AS $$
#variable_conflict use_column
DECLARE
    v_n int := greatest(1, least(coalesce(p_Limit, 100), 1000));
    v_all boolean := coalesce(p_IncludeAttempts, false);
    v_at timestamptz;
    v_seq bigint;
    v_rank int;
    v_id bigint;
BEGIN
    IF p_UserId IS NULL OR length(btrim(p_UserId)) = 0 THEN
        RAISE EXCEPTION 'userId must be a non-empty string' USING ERRCODE = 'CP400';
    END IF;
    IF p_After IS NOT NULL THEN
        IF p_After !~ '^[hv][0-9]{1,18}$' THEN
            RAISE EXCEPTION 'after must be the cursor of an item of the page before' USING ERRCODE = 'CP400';
        END IF;
        v_id := substr(p_After, 2)::bigint;
        IF left(p_After, 1) = 'h' THEN
            v_rank := 0;
            v_seq := v_id;
            SELECT h.AttemptedAt INTO v_at FROM RedemptionHistory h WHERE h.RedemptionId = v_id AND h.UserId = p_UserId;
            IF v_at IS NULL THEN
                SELECT a.AttemptedAt INTO v_at FROM RedemptionHistoryArchive a WHERE a.RedemptionId = v_id AND a.UserId = p_UserId;
            END IF;
        ELSE
            v_rank := 1;
            SELECT r.ReversedAt, r.HistorySeq INTO v_at, v_seq FROM RedemptionReversals r
            WHERE r.ReversalId = v_id AND r.UserId = p_UserId;
        END IF;
        IF v_at IS NULL THEN
            RAISE EXCEPTION 'after % is not an item of the history of user %', p_After, p_UserId USING ERRCODE = 'CP400';
        END IF;
    END IF;
    RETURN QUERY
    SELECT i.Kind, i.ItemCursor, i.OccurredAt, i.RedemptionId, i.ReversalId, i.CouponCode, i.CampaignId, i.FailureReason,
           i.Reversed, i.Reason
    FROM (
        (SELECT CASE WHEN h.Success THEN 'redemption' ELSE 'attempt' END AS Kind, 'h' || h.RedemptionId AS ItemCursor,
                h.AttemptedAt AS OccurredAt, h.RedemptionId AS Seq, 0 AS Rnk, h.RedemptionId AS ItemId, h.RedemptionId, NULL::bigint AS ReversalId,
                h.CouponCode, h.CampaignId, h.FailureReason,
                EXISTS (SELECT 1 FROM RedemptionReversals r WHERE r.RedemptionId = h.RedemptionId) AS Reversed,
                NULL::varchar AS Reason
         FROM RedemptionHistory h
         WHERE h.UserId = p_UserId AND (h.Success OR v_all)
           AND (v_at IS NULL OR (h.AttemptedAt, h.RedemptionId, 0, h.RedemptionId) < (v_at, v_seq, v_rank, v_id))
         ORDER BY h.AttemptedAt DESC, h.RedemptionId DESC LIMIT v_n)
        UNION ALL
        (SELECT CASE WHEN a.Success THEN 'redemption' ELSE 'attempt' END, 'h' || a.RedemptionId,
                a.AttemptedAt, a.RedemptionId, 0, a.RedemptionId, a.RedemptionId, NULL::bigint,
                a.CouponCode, a.CampaignId, a.FailureReason,
                EXISTS (SELECT 1 FROM RedemptionReversals r WHERE r.RedemptionId = a.RedemptionId),
                NULL::varchar
         FROM RedemptionHistoryArchive a
         WHERE a.UserId = p_UserId AND (a.Success OR v_all)
           AND (v_at IS NULL OR (a.AttemptedAt, a.RedemptionId, 0, a.RedemptionId) < (v_at, v_seq, v_rank, v_id))
         ORDER BY a.AttemptedAt DESC, a.RedemptionId DESC LIMIT v_n)
        UNION ALL
        (SELECT 'reversal', 'v' || r.ReversalId, r.ReversedAt, r.HistorySeq, 1, r.ReversalId, r.RedemptionId, r.ReversalId,
                r.CouponCode, r.CampaignId, NULL::varchar, true, r.Reason
         FROM RedemptionReversals r
         WHERE r.UserId = p_UserId
           AND (v_at IS NULL OR (r.ReversedAt, r.HistorySeq, 1, r.ReversalId) < (v_at, v_seq, v_rank, v_id))
         ORDER BY r.ReversedAt DESC, r.HistorySeq DESC, r.ReversalId DESC LIMIT v_n)
    ) i
    ORDER BY i.OccurredAt DESC, i.Seq DESC, i.Rnk DESC, i.ItemId DESC
    LIMIT v_n;
END $$;

SELECT fn_SecureProcedures(ARRAY['sp_ReverseRedemption', 'sp_ListUserRedemptions']);
