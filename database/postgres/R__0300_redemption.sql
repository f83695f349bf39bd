-- Redemption: the checks shared by redeem and validate, the campaign budget, sp_RedeemCoupon and the
-- coupon reads. Twin: database/mssql/R__0300_redemption.sql. Internal helpers (fn_*) and
-- sp_SyncCampaignCounters are not granted.
-- Repeatable (see docs/database.md, "Migrations"): re-applied whenever this file or one before it
-- changes, and after every numbered migration. Edit the definitions here; never in the numbered
-- files. CREATE OR REPLACE keeps grants; a change of signature, return type or view columns needs a
-- DROP ... IF EXISTS before the CREATE (CASCADE is safe: every later repeatable file is re-applied).
--
-- Errors raised here carry our own SQLSTATEs, mapped once in packages/db/src/errors.ts:
--   CP400 invalid input, CP404 not found, CP409 conflict / wrong state, CP413 request cap exceeded,
--   CP422 idempotency key reused with another request, CP423 generation request held by a worker.

-- Signatures of the first checkout (before the slow path): a database it migrated still has them.
DROP FUNCTION IF EXISTS sp_RedeemCoupon(text, text, text, text, text, text);
DROP FUNCTION IF EXISTS fn_TakeCampaignUnit(text, int, int);
-- and the one before p_ClientId (0012)
DROP FUNCTION IF EXISTS sp_RedeemCoupon(text, text, text, text, text, text, boolean);

-- The seed's checks 1-6 in order (exists, campaign active, not redeemed, not expired, assigned user,
-- per-user limit); with p_CheckTotal also check 7 (total limit) read-only. Returns NULL reason when
-- every check passes. Redeem takes the coupon's row lock before calling it.
CREATE OR REPLACE FUNCTION fn_CheckRedemption(p_Code text, p_UserId text, p_CheckTotal boolean,
    OUT reason text, OUT couponid bigint, OUT campaignid varchar,
    OUT discountpercentage numeric, OUT discountamount numeric,
    OUT maxperuser int, OUT maxtotal int)
LANGUAGE plpgsql STABLE AS $$
DECLARE
    v_coupon Coupons%ROWTYPE;
    v_campaign Campaigns%ROWTYPE;
    v_count int;
BEGIN
    SELECT * INTO v_coupon FROM Coupons WHERE CouponCode = p_Code;
    IF NOT FOUND THEN reason := 'COUPON_NOT_FOUND'; RETURN; END IF;
    couponid := v_coupon.CouponId;
    campaignid := v_coupon.CampaignId;
    SELECT * INTO v_campaign FROM Campaigns WHERE Campaigns.CampaignId = v_coupon.CampaignId;
    discountpercentage := v_campaign.DiscountPercentage;
    discountamount := v_campaign.DiscountAmount;
    maxperuser := v_campaign.MaxRedemptionsPerUser;
    maxtotal := v_campaign.MaxTotalRedemptions;
    IF NOT v_campaign.IsActive OR now() < v_campaign.StartDate OR now() > v_campaign.EndDate THEN
        reason := 'CAMPAIGN_INACTIVE'; RETURN;
    END IF;
    IF v_coupon.IsRedeemed THEN reason := 'ALREADY_REDEEMED'; RETURN; END IF;
    IF v_coupon.ExpiresAt IS NOT NULL AND v_coupon.ExpiresAt <= now() THEN reason := 'COUPON_EXPIRED'; RETURN; END IF;
    IF v_coupon.AssignedTo IS NOT NULL AND v_coupon.AssignedTo <> p_UserId THEN
        reason := 'NOT_ASSIGNED_TO_USER'; RETURN;
    END IF;
    IF maxperuser IS NOT NULL THEN
        SELECT u.RedemptionCount INTO v_count FROM UserRedemptions u
        WHERE u.UserId = p_UserId AND u.CampaignId = v_coupon.CampaignId;
        IF coalesce(v_count, 0) >= maxperuser THEN reason := 'USER_LIMIT_REACHED'; RETURN; END IF;
    END IF;
    IF p_CheckTotal AND maxtotal IS NOT NULL THEN
        SELECT coalesce(sum(s.Redemptions), 0) INTO v_count FROM CampaignCounterSlots s
        WHERE s.CampaignId = v_coupon.CampaignId;
        IF v_count >= maxtotal THEN reason := 'CAMPAIGN_LIMIT_REACHED'; RETURN; END IF;
    END IF;
END $$;

CREATE OR REPLACE FUNCTION fn_CheckInput(p_Code text, p_UserId text) RETURNS void
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
    IF p_Code IS NULL OR length(btrim(p_Code)) = 0 THEN
        RAISE EXCEPTION 'code must be a non-empty string' USING ERRCODE = 'CP400';
    END IF;
    IF p_UserId IS NULL OR length(btrim(p_UserId)) = 0 OR length(p_UserId) > 100 THEN
        RAISE EXCEPTION 'userId must be a non-empty string of at most 100 characters' USING ERRCODE = 'CP400';
    END IF;
END $$;

-- Whether the campaign's committed redemptions (the slot sum) have reached its cap, read now without
-- a lock: a sold-out campaign refuses at read speed, so no attempt on it waits for another. Safe to
-- refuse on: at the moment of this read the cap was reached (a unit given back later, by a
-- reversal or a rolled-back redemption, is seen by the next attempt, which goes on to the locking
-- path and takes it). Never used to accept: acceptance stays under the slot locks.
CREATE OR REPLACE FUNCTION fn_CampaignSoldOut(p_CampaignId text) RETURNS boolean
LANGUAGE sql VOLATILE AS $$
    SELECT coalesce(c.MaxTotalRedemptions <= (SELECT coalesce(sum(s.Redemptions), 0) FROM CampaignCounterSlots s
                                              WHERE s.CampaignId = c.CampaignId), false)
    FROM Campaigns c WHERE c.CampaignId = p_CampaignId
$$;

-- Takes one unit of the campaign's total budget on the coupon's slot (check 7).
-- Fast path: one conditional UPDATE of that slot. When the slot's budget is spent, the fast path
-- gives up with CP503 instead of rebalancing: a failed conditional UPDATE can keep the row locked
-- (READ COMMITTED re-check), and a transaction that holds one slot must not go on to lock the
-- others, or two of them deadlock. The caller rolls back and calls again with p_Slow, which locks
-- all 16 slots in slot order before touching any, then refuses (cap reached) or spreads what is
-- left of the cap over the slots, favouring this one. Both paths first read whether the campaign is
-- sold out (fn_CampaignSoldOut) and refuse without the retry or a lock when it is; the CP503's
-- DETAIL is the campaign id, so the engine can bound the slow calls in flight per campaign.
-- Invariant: the budgets always add up to the cap and no slot passes its budget (a CHECK), so the
-- sum of Redemptions never passes MaxTotalRedemptions, whatever the concurrency.
CREATE OR REPLACE FUNCTION fn_TakeCampaignUnit(p_CampaignId text, p_Slot int, p_Cap int, p_Slow boolean)
RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE
    v_total int;
    v_left int;
BEGIN
    IF NOT p_Slow THEN
        UPDATE CampaignCounterSlots SET Redemptions = Redemptions + 1
        WHERE CampaignId = p_CampaignId AND Slot = p_Slot AND (Budget IS NULL OR Redemptions < Budget);
        IF FOUND THEN RETURN true; END IF;
        IF NOT EXISTS (SELECT 1 FROM CampaignCounterSlots WHERE CampaignId = p_CampaignId AND Slot = p_Slot) THEN
            RAISE EXCEPTION 'counter slot % of campaign % is missing', p_Slot, p_CampaignId USING ERRCODE = 'XX000';
        END IF;
        -- Sold out: refused on a read, without the retry and without a lock (see below).
        IF fn_CampaignSoldOut(p_CampaignId) THEN RETURN false; END IF;
        RAISE EXCEPTION 'counter slot % of campaign % is spent; retry with rebalancing', p_Slot, p_CampaignId
            USING ERRCODE = 'CP503', DETAIL = p_CampaignId;
    END IF;
    IF fn_CampaignSoldOut(p_CampaignId) THEN RETURN false; END IF;
    PERFORM 1 FROM CampaignCounterSlots WHERE CampaignId = p_CampaignId ORDER BY Slot FOR UPDATE;
    -- The cap as it is now: sp_UpdateCampaign changes it under these same locks.
    SELECT MaxTotalRedemptions INTO p_Cap FROM Campaigns WHERE CampaignId = p_CampaignId;
    IF p_Cap IS NULL THEN
        UPDATE CampaignCounterSlots SET Redemptions = Redemptions + 1 WHERE CampaignId = p_CampaignId AND Slot = p_Slot;
        RETURN true;
    END IF;
    SELECT sum(Redemptions) INTO v_total FROM CampaignCounterSlots WHERE CampaignId = p_CampaignId;
    IF v_total IS NULL THEN
        RAISE EXCEPTION 'counter slots of campaign % are missing', p_CampaignId USING ERRCODE = 'XX000';
    END IF;
    v_left := p_Cap - v_total;
    IF v_left <= 0 THEN RETURN false; END IF;
    UPDATE CampaignCounterSlots
    SET Budget = Redemptions + v_left / 16 + CASE WHEN (Slot - p_Slot + 16) % 16 < v_left % 16 THEN 1 ELSE 0 END
    WHERE CampaignId = p_CampaignId;
    UPDATE CampaignCounterSlots SET Redemptions = Redemptions + 1
    WHERE CampaignId = p_CampaignId AND Slot = p_Slot;
    RETURN true;
END $$;

-- Claims an idempotency key for the calling transaction: NULL when there is no key or this call now
-- holds it (the caller stores its outcome with UPDATE IdempotencyKeys before it commits); else the
-- stored outcome as a replay. A concurrent call with the same key waits on the INSERT for the first
-- to commit. The same key with another hash is CP422. Used by sp_RedeemCoupon and sp_ReverseRedemption.
CREATE OR REPLACE FUNCTION fn_ClaimIdempotencyKey(p_IdempotencyKey text, p_RequestHash text)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
    v_stored IdempotencyKeys%ROWTYPE;
BEGIN
    IF p_IdempotencyKey IS NULL THEN RETURN NULL; END IF;
    INSERT INTO IdempotencyKeys (IdempotencyKey, RequestHash, Response)
    VALUES (p_IdempotencyKey, coalesce(p_RequestHash, ''), '{}'::jsonb)
    ON CONFLICT (IdempotencyKey) DO NOTHING;
    IF FOUND THEN RETURN NULL; END IF;
    SELECT * INTO v_stored FROM IdempotencyKeys k WHERE k.IdempotencyKey = p_IdempotencyKey;
    IF v_stored.RequestHash <> coalesce(p_RequestHash, '') THEN
        RAISE EXCEPTION 'idempotency key % was used with a different request', p_IdempotencyKey
            USING ERRCODE = 'CP422';
    END IF;
    RETURN v_stored.Response || jsonb_build_object('replayed', true);
END $$;

-- ---------------------------------------------------------------------------------------------
-- sp_RedeemCoupon: one call, one transaction, the seed's check order. Every attempt, accepted or
-- refused, is written to RedemptionHistory; a refusal changes nothing else. Lock order is always
-- idempotency key -> coupon -> one counter slot (or all, in order) -> the user's counter row, so
-- concurrent redemptions cannot deadlock. A CP503 error means "call again with p_Slow" (see
-- fn_TakeCampaignUnit); the engines do that. Returns a JSON document (also what an idempotent replay
-- returns). An unexpected error rolls the whole call back and writes no history row (as on SQL
-- Server): RedemptionHistory holds attempts that got an answer, so its FailureReason is always one
-- of the refusal codes. The key and hash are checked against their columns here, with the same
-- messages as the T-SQL twin.
CREATE OR REPLACE FUNCTION sp_RedeemCoupon(
    p_CouponCode text, p_UserId text, p_IpAddress text DEFAULT NULL, p_UserAgent text DEFAULT NULL,
    p_IdempotencyKey text DEFAULT NULL, p_RequestHash text DEFAULT NULL, p_Slow boolean DEFAULT false,
    p_ClientId text DEFAULT NULL)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
    v_code text := upper(btrim(p_CouponCode));
    v_check record;
    v_reason text;
    v_result jsonb;
    v_count int;
    v_id bigint;
BEGIN
    PERFORM fn_CheckInput(p_CouponCode, p_UserId);
    IF length(p_ClientId) > 100 THEN
        RAISE EXCEPTION 'clientId must be at most 100 characters' USING ERRCODE = 'CP400';
    END IF;
    IF length(p_IdempotencyKey) > 200 THEN
        RAISE EXCEPTION 'idempotencyKey must be at most 200 characters' USING ERRCODE = 'CP400';
    END IF;
    IF length(p_RequestHash) > 128 THEN
        RAISE EXCEPTION 'requestHash must be at most 128 characters' USING ERRCODE = 'CP400';
    END IF;
    v_result := fn_ClaimIdempotencyKey(p_IdempotencyKey, p_RequestHash);
    IF v_result IS NOT NULL THEN RETURN v_result; END IF;

    -- Every check is read first without the coupon's lock, the total limit included: a refusal is a
    -- true answer as of that read and is given at read speed, so a storm on a redeemed coupon or on a
    -- sold-out campaign never queues on row locks. Only an attempt that passes them all takes the
    -- coupon's lock and checks again: a concurrent redemption or a reversal (sp_ReverseRedemption)
    -- may have changed it since.
    v_check := fn_CheckRedemption(v_code, p_UserId, true);
    v_reason := v_check.reason;
    IF v_reason IS NULL THEN
        PERFORM 1 FROM Coupons WHERE CouponCode = v_code FOR UPDATE;
        v_check := fn_CheckRedemption(v_code, p_UserId, false);
        v_reason := v_check.reason;
    END IF;

    IF v_reason IS NULL THEN
        -- check 7 (total limit) takes a unit of the campaign's budget
        IF NOT fn_TakeCampaignUnit(v_check.campaignid, (v_check.couponid % 16)::int, v_check.maxtotal, p_Slow) THEN
            v_reason := 'CAMPAIGN_LIMIT_REACHED';
        END IF;
    END IF;

    IF v_reason IS NULL THEN
        -- check 6 again, now under the user's row lock: a concurrent redemption by the same user may
        -- have taken the last unit since the read in fn_CheckRedemption.
        INSERT INTO UserRedemptions AS u (UserId, CampaignId, RedemptionCount, LastRedeemedAt)
        VALUES (p_UserId, v_check.campaignid, 1, now())
        ON CONFLICT (CampaignId, UserId) DO UPDATE
            SET RedemptionCount = u.RedemptionCount + 1, LastRedeemedAt = now()
            WHERE v_check.maxperuser IS NULL OR u.RedemptionCount < v_check.maxperuser
        RETURNING u.RedemptionCount INTO v_count;
        IF NOT FOUND THEN
            v_reason := 'USER_LIMIT_REACHED';
            -- give back the unit taken above; this row is locked by us, so this restores it exactly
            UPDATE CampaignCounterSlots SET Redemptions = Redemptions - 1
            WHERE CampaignId = v_check.campaignid AND Slot = (v_check.couponid % 16)::int;
        END IF;
    END IF;

    IF v_reason IS NULL THEN
        UPDATE Coupons SET IsRedeemed = true, RedeemedAt = now(), RedeemedBy = p_UserId
        WHERE CouponId = v_check.couponid;
        v_result := jsonb_build_object('ok', true, 'couponId', v_check.couponid::text, 'couponCode', v_code,
            'campaignId', v_check.campaignid, 'redeemedAt', now(),
            'discountPercentage', v_check.discountpercentage, 'discountAmount', v_check.discountamount);
    ELSE
        v_result := jsonb_build_object('ok', false, 'reason', v_reason, 'couponCode', left(v_code, 50),
            'campaignId', v_check.campaignid);
    END IF;

    INSERT INTO RedemptionHistory (CouponCode, UserId, CampaignId, AttemptedAt, Success, FailureReason, IpAddress, UserAgent,
                                   ClientId)
    VALUES (left(v_code, 50), p_UserId, v_check.campaignid, now(), v_reason IS NULL, v_reason,
            left(p_IpAddress, 45), left(p_UserAgent, 500), p_ClientId)
    RETURNING RedemptionId INTO v_id;
    -- the attempt's id, accepted or refused: what a reversal names (an idempotent replay returns it too)
    v_result := v_result || jsonb_build_object('redemptionId', v_id::text);

    IF p_IdempotencyKey IS NOT NULL THEN
        UPDATE IdempotencyKeys SET Response = v_result WHERE IdempotencyKey = p_IdempotencyKey;
    END IF;
    RETURN v_result;
END $$;

-- The same checks as sp_RedeemCoupon, changing and logging nothing.
CREATE OR REPLACE FUNCTION sp_ValidateCoupon(p_CouponCode text, p_UserId text)
RETURNS jsonb LANGUAGE plpgsql STABLE AS $$
DECLARE
    v_code text := upper(btrim(p_CouponCode));
    v_check record;
BEGIN
    PERFORM fn_CheckInput(p_CouponCode, p_UserId);
    v_check := fn_CheckRedemption(v_code, p_UserId, true);
    IF v_check.reason IS NULL THEN
        RETURN jsonb_build_object('ok', true, 'couponCode', v_code, 'campaignId', v_check.campaignid,
            'discountPercentage', v_check.discountpercentage, 'discountAmount', v_check.discountamount);
    END IF;
    RETURN jsonb_build_object('ok', false, 'reason', v_check.reason, 'couponCode', left(v_code, 50),
        'campaignId', v_check.campaignid);
END $$;

-- sp_GetCouponDetails: coupon + campaign + computed status.
-- Status precedence: redeemed, expired, campaign_inactive, assigned, available.
CREATE OR REPLACE FUNCTION sp_GetCouponDetails(p_CouponCode text)
RETURNS TABLE (CouponId bigint, CouponCode varchar, CampaignId varchar, IsRedeemed boolean, RedeemedAt timestamptz,
               RedeemedBy varchar, ExpiresAt timestamptz, AssignedTo varchar, GenerationBatchId varchar,
               CreatedAt timestamptz, Status text, CampaignJson jsonb)
LANGUAGE sql STABLE AS $$
    SELECT cp.CouponId, cp.CouponCode, cp.CampaignId, cp.IsRedeemed, cp.RedeemedAt, cp.RedeemedBy, cp.ExpiresAt,
           cp.AssignedTo, cp.GenerationBatchId, cp.CreatedAt,
           CASE WHEN cp.IsRedeemed THEN 'redeemed'
                WHEN cp.ExpiresAt IS NOT NULL AND cp.ExpiresAt <= now() THEN 'expired'
                WHEN NOT c.IsActive OR now() < c.StartDate OR now() > c.EndDate THEN 'campaign_inactive'
                WHEN cp.AssignedTo IS NOT NULL THEN 'assigned'
                ELSE 'available' END,
           (SELECT to_jsonb(g) FROM sp_GetCampaign(cp.CampaignId) g)
    FROM Coupons cp
    JOIN Campaigns c ON c.CampaignId = cp.CampaignId
    WHERE cp.CouponCode = upper(btrim(p_CouponCode))
$$;

-- Assigns the coupon to a user, or unassigns it when p_UserId is NULL.
CREATE OR REPLACE FUNCTION sp_AssignCoupon(p_CouponCode text, p_UserId text)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    v_coupon Coupons%ROWTYPE;
BEGIN
    IF p_UserId IS NOT NULL AND (length(btrim(p_UserId)) = 0 OR length(p_UserId) > 100) THEN
        RAISE EXCEPTION 'userId must be a non-empty string of at most 100 characters' USING ERRCODE = 'CP400';
    END IF;
    SELECT * INTO v_coupon FROM Coupons WHERE CouponCode = upper(btrim(p_CouponCode)) FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'coupon % does not exist', upper(btrim(p_CouponCode)) USING ERRCODE = 'CP404';
    END IF;
    IF v_coupon.IsRedeemed THEN
        RAISE EXCEPTION 'coupon % is redeemed; its assignment cannot change', v_coupon.CouponCode USING ERRCODE = 'CP409';
    END IF;
    IF p_UserId IS NOT NULL AND v_coupon.AssignedTo IS NOT NULL AND v_coupon.AssignedTo <> p_UserId THEN
        RAISE EXCEPTION 'coupon % is assigned to another user; unassign it first', v_coupon.CouponCode USING ERRCODE = 'CP409';
    END IF;
    UPDATE Coupons SET AssignedTo = p_UserId WHERE CouponId = v_coupon.CouponId;
END $$;

CREATE OR REPLACE FUNCTION sp_ListRedemptionAttempts(p_CouponCode text, p_UserId text, p_Limit int)
RETURNS SETOF RedemptionHistory LANGUAGE sql STABLE AS $$
    SELECT * FROM RedemptionHistory h
    WHERE (p_CouponCode IS NULL OR h.CouponCode = upper(btrim(p_CouponCode)))
      AND (p_UserId IS NULL OR h.UserId = p_UserId)
    ORDER BY h.RedemptionId DESC
    LIMIT greatest(1, least(coalesce(p_Limit, 100), 1000))
$$;

SELECT fn_SecureProcedures(ARRAY['sp_GetCouponDetails', 'sp_RedeemCoupon', 'sp_ValidateCoupon', 'sp_AssignCoupon',
    'sp_ListRedemptionAttempts']);
