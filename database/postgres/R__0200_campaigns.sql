-- Campaign procedures, and the trigger function that deletes a campaign's per-user counters (the
-- trigger itself is schema: 0001_schema.sql). Twin: database/mssql/R__0200_campaigns.sql.
-- Repeatable (see docs/database.md, "Migrations"): re-applied whenever this file or one before it
-- changes, and after every numbered migration. Edit the definitions here; never in the numbered
-- files. CREATE OR REPLACE keeps grants; a change of signature, return type or view columns needs a
-- DROP ... IF EXISTS before the CREATE (CASCADE is safe: every later repeatable file is re-applied).
--
-- Errors raised here carry our own SQLSTATEs, mapped once in packages/db/src/errors.ts:
--   CP400 invalid input, CP404 not found, CP409 conflict / wrong state, CP413 request cap exceeded,
--   CP422 idempotency key reused with another request, CP423 generation request held by a worker.

-- Campaigns -> UserRedemptions cascades by trigger, not by a foreign key: PostgreSQL checks a foreign
-- key on insert by taking a KEY SHARE lock on the campaign row, and with every first redemption of a
-- user inserting here, all redemptions of one busy campaign queued on that one row again (measured:
-- hot/many 0.79x with the key, 0.91x without, npm run bench:redeem-db). Rows are only inserted by
-- sp_RedeemCoupon, for the campaign of a coupon it holds locked, so the campaign exists.
-- (SQL Server's check takes no lasting lock, so database/mssql keeps the foreign key.)
CREATE OR REPLACE FUNCTION trg_Campaigns_DeleteUserRedemptions() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM UserRedemptions u USING old_campaigns o WHERE u.CampaignId = o.CampaignId;
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION sp_CreateCampaign(
    p_CampaignId text, p_Name text, p_Description text, p_StartDate timestamptz, p_EndDate timestamptz,
    p_DiscountPercentage numeric, p_DiscountAmount numeric, p_MaxRedemptionsPerUser int,
    p_MaxTotalRedemptions int, p_IsActive boolean, p_CreatedBy text)
RETURNS SETOF Campaigns LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM Campaigns WHERE CampaignId = p_CampaignId) THEN
        RAISE EXCEPTION 'campaign % exists already', p_CampaignId USING ERRCODE = 'CP409';
    END IF;
    INSERT INTO Campaigns (CampaignId, Name, Description, StartDate, EndDate, DiscountPercentage,
                           DiscountAmount, MaxRedemptionsPerUser, MaxTotalRedemptions, IsActive, CreatedBy)
    VALUES (p_CampaignId, p_Name, p_Description, p_StartDate, p_EndDate, p_DiscountPercentage,
            p_DiscountAmount, p_MaxRedemptionsPerUser, p_MaxTotalRedemptions, coalesce(p_IsActive, true), p_CreatedBy);
    -- 16 counter slots; with a total limit, the cap is split into budgets whose sum is the cap.
    INSERT INTO CampaignCounterSlots (CampaignId, Slot, Redemptions, Budget)
    SELECT p_CampaignId, g, 0,
           CASE WHEN p_MaxTotalRedemptions IS NULL THEN NULL
                ELSE p_MaxTotalRedemptions / 16 + CASE WHEN g < p_MaxTotalRedemptions % 16 THEN 1 ELSE 0 END
           END
    FROM generate_series(0, 15) g;
    RETURN QUERY SELECT * FROM Campaigns WHERE CampaignId = p_CampaignId;
END $$;

CREATE OR REPLACE FUNCTION sp_GetCampaign(p_CampaignId text)
RETURNS TABLE (CampaignId varchar, Name varchar, Description varchar, StartDate timestamptz, EndDate timestamptz,
               DiscountPercentage numeric, DiscountAmount numeric, MaxRedemptionsPerUser int,
               MaxTotalRedemptions int, CurrentRedemptions int, IsActive boolean, CreatedAt timestamptz,
               UpdatedAt timestamptz, CreatedBy varchar)
LANGUAGE sql STABLE AS $$
    SELECT c.CampaignId, c.Name, c.Description, c.StartDate, c.EndDate, c.DiscountPercentage, c.DiscountAmount,
           c.MaxRedemptionsPerUser, c.MaxTotalRedemptions,
           (SELECT coalesce(sum(s.Redemptions), 0)::int FROM CampaignCounterSlots s WHERE s.CampaignId = c.CampaignId),
           c.IsActive, c.CreatedAt, c.UpdatedAt, c.CreatedBy
    FROM Campaigns c WHERE c.CampaignId = p_CampaignId
$$;

CREATE OR REPLACE FUNCTION sp_GetActiveCampaigns()
RETURNS SETOF vw_ActiveCampaigns LANGUAGE sql STABLE AS $$
    SELECT * FROM vw_ActiveCampaigns ORDER BY CampaignId
$$;

CREATE OR REPLACE FUNCTION sp_GetRedemptionStats(p_CampaignId text)
RETURNS SETOF vw_RedemptionStats LANGUAGE sql STABLE AS $$
    SELECT * FROM vw_RedemptionStats WHERE CampaignId = p_CampaignId
$$;

-- Copies the live count (sum of slots) into the seed's Campaigns.CurrentRedemptions column.
CREATE OR REPLACE FUNCTION sp_SyncCampaignCounters(p_CampaignId text)
RETURNS int LANGUAGE sql AS $$
    UPDATE Campaigns c
    SET CurrentRedemptions = k.CurrentRedemptions, UpdatedAt = now()
    FROM vw_CampaignCounters k
    WHERE k.CampaignId = c.CampaignId AND (p_CampaignId IS NULL OR c.CampaignId = p_CampaignId)
    RETURNING c.CurrentRedemptions
$$;

-- Every campaign with its live count and its state, by CampaignId; p_After (a CampaignId, the last
-- of the page before) gives the next page. States: ended (past EndDate), else paused (not IsActive),
-- else upcoming (before StartDate), else active.
CREATE OR REPLACE FUNCTION sp_ListCampaigns(p_State text, p_Limit int, p_After text)
RETURNS TABLE (CampaignId varchar, Name varchar, Description varchar, StartDate timestamptz, EndDate timestamptz,
               DiscountPercentage numeric, DiscountAmount numeric, MaxRedemptionsPerUser int,
               MaxTotalRedemptions int, CurrentRedemptions int, IsActive boolean, CreatedAt timestamptz,
               UpdatedAt timestamptz, CreatedBy varchar, RedemptionPercentage numeric, State text)
LANGUAGE sql STABLE AS $$
    SELECT x.* FROM (
        SELECT c.CampaignId, c.Name, c.Description, c.StartDate, c.EndDate, c.DiscountPercentage, c.DiscountAmount,
               c.MaxRedemptionsPerUser, c.MaxTotalRedemptions, coalesce(k.CurrentRedemptions, 0) AS CurrentRedemptions,
               c.IsActive, c.CreatedAt, c.UpdatedAt, c.CreatedBy,
               CASE WHEN c.MaxTotalRedemptions IS NULL THEN NULL
                    ELSE round(coalesce(k.CurrentRedemptions, 0) * 100.0 / c.MaxTotalRedemptions, 2) END,
               CASE WHEN now() > c.EndDate THEN 'ended' WHEN NOT c.IsActive THEN 'paused'
                    WHEN now() < c.StartDate THEN 'upcoming' ELSE 'active' END AS State
        FROM Campaigns c
        LEFT JOIN vw_CampaignCounters k ON k.CampaignId = c.CampaignId
        WHERE p_After IS NULL OR c.CampaignId > p_After
    ) x
    WHERE p_State IS NULL OR x.State = p_State
    ORDER BY x.CampaignId
    LIMIT greatest(1, least(coalesce(p_Limit, 100), 1000))
$$;

-- Replaces a campaign's editable fields (the store merges a patch over the current values). Under
-- the campaign's row lock and all 16 counter slots' locks (slot order, as the redemption slow path
-- takes them), so the count cannot move meanwhile: a total limit below it is refused, and a changed
-- limit re-spreads the slot budgets so that they add up to the new cap (NULL: no budgets).
CREATE OR REPLACE FUNCTION sp_UpdateCampaign(
    p_CampaignId text, p_Name text, p_Description text, p_StartDate timestamptz, p_EndDate timestamptz,
    p_DiscountPercentage numeric, p_DiscountAmount numeric, p_MaxRedemptionsPerUser int,
    p_MaxTotalRedemptions int, p_IsActive boolean)
RETURNS int LANGUAGE plpgsql AS $$
DECLARE
    v_old Campaigns%ROWTYPE;
    v_total int;
    v_left int;
BEGIN
    SELECT * INTO v_old FROM Campaigns WHERE CampaignId = p_CampaignId FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'campaign % does not exist', p_CampaignId USING ERRCODE = 'CP404';
    END IF;
    IF p_EndDate <= p_StartDate THEN
        RAISE EXCEPTION 'endDate must be after startDate' USING ERRCODE = 'CP400';
    END IF;
    IF (p_DiscountPercentage IS NULL) = (p_DiscountAmount IS NULL) THEN
        RAISE EXCEPTION 'exactly one of discountPercentage and discountAmount must be given' USING ERRCODE = 'CP400';
    END IF;
    PERFORM 1 FROM CampaignCounterSlots WHERE CampaignId = p_CampaignId ORDER BY Slot FOR UPDATE;
    SELECT coalesce(sum(Redemptions), 0) INTO v_total FROM CampaignCounterSlots WHERE CampaignId = p_CampaignId;
    IF p_MaxTotalRedemptions IS NOT NULL AND p_MaxTotalRedemptions < v_total THEN
        RAISE EXCEPTION 'maxTotalRedemptions % is below the % redemptions campaign % has already made',
            p_MaxTotalRedemptions, v_total, p_CampaignId USING ERRCODE = 'CP409';
    END IF;
    UPDATE Campaigns
    SET Name = p_Name, Description = p_Description, StartDate = p_StartDate, EndDate = p_EndDate,
        DiscountPercentage = p_DiscountPercentage, DiscountAmount = p_DiscountAmount,
        MaxRedemptionsPerUser = p_MaxRedemptionsPerUser, MaxTotalRedemptions = p_MaxTotalRedemptions,
        IsActive = p_IsActive, UpdatedAt = now()
    WHERE CampaignId = p_CampaignId;
    IF p_MaxTotalRedemptions IS DISTINCT FROM v_old.MaxTotalRedemptions THEN
        v_left := p_MaxTotalRedemptions - v_total;
        UPDATE CampaignCounterSlots
        SET Budget = CASE WHEN p_MaxTotalRedemptions IS NULL THEN NULL
                          ELSE Redemptions + v_left / 16 + CASE WHEN Slot < v_left % 16 THEN 1 ELSE 0 END END
        WHERE CampaignId = p_CampaignId;
    END IF;
    RETURN 1;
END $$;

-- Deletes a campaign with its coupons, generation requests, counter slots and per-user counts (the
-- seed's cascade; RedemptionHistory keeps its rows). Refused (CP409) while a worker holds one of its
-- requests: each request's advisory lock (the claim's, see sp_ClaimGenerationRequest) is taken for
-- the transaction, so no worker can claim one meanwhile. Refused while it has redemptions unless
-- p_Force. Returns the numbers of coupons and requests deleted.
CREATE OR REPLACE FUNCTION sp_DeleteCampaign(p_CampaignId text, p_Force boolean)
RETURNS TABLE (DeletedCoupons int, DeletedRequests int) LANGUAGE plpgsql AS $$
DECLARE
    v_req record;
    v_total int;
BEGIN
    PERFORM 1 FROM Campaigns WHERE CampaignId = p_CampaignId FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'campaign % does not exist', p_CampaignId USING ERRCODE = 'CP404';
    END IF;
    FOR v_req IN SELECT g.RequestId, g.WorkerId FROM GenerationRequests g WHERE g.CampaignId = p_CampaignId ORDER BY g.RequestId LOOP
        IF NOT pg_try_advisory_xact_lock(hashtext('coupons.generation'), hashtext(v_req.RequestId)) THEN
            RAISE EXCEPTION 'campaign % is being generated: request % is worked by %; cancel it or wait',
                p_CampaignId, v_req.RequestId, coalesce(v_req.WorkerId, 'a worker') USING ERRCODE = 'CP409';
        END IF;
    END LOOP;
    SELECT coalesce(sum(Redemptions), 0) INTO v_total FROM CampaignCounterSlots WHERE CampaignId = p_CampaignId;
    IF v_total > 0 AND NOT coalesce(p_Force, false) THEN
        RAISE EXCEPTION 'campaign % has % redemptions; delete it with force to delete them too', p_CampaignId, v_total
            USING ERRCODE = 'CP409';
    END IF;
    DeletedCoupons := (SELECT count(*) FROM Coupons WHERE CampaignId = p_CampaignId);
    DeletedRequests := (SELECT count(*) FROM GenerationRequests WHERE CampaignId = p_CampaignId);
    DELETE FROM Campaigns WHERE CampaignId = p_CampaignId;
    RETURN NEXT;
END $$;

-- Expires now the unredeemed, unexpired coupons of one code, one generation request or one campaign
-- (exactly one argument): ExpiresAt = now(). Redeemed and already expired coupons are left as they
-- are. Returns how many were expired; CP404 when the code, request or campaign does not exist.
CREATE OR REPLACE FUNCTION sp_ExpireCoupons(p_CouponCode text, p_RequestId text, p_CampaignId text)
RETURNS int LANGUAGE plpgsql AS $$
DECLARE
    v_count int;
BEGIN
    IF (p_CouponCode IS NOT NULL)::int + (p_RequestId IS NOT NULL)::int + (p_CampaignId IS NOT NULL)::int <> 1 THEN
        RAISE EXCEPTION 'exactly one of code, requestId and campaignId must be given' USING ERRCODE = 'CP400';
    END IF;
    IF p_CouponCode IS NOT NULL AND NOT EXISTS (SELECT 1 FROM Coupons WHERE CouponCode = p_CouponCode) THEN
        RAISE EXCEPTION 'coupon % does not exist', p_CouponCode USING ERRCODE = 'CP404';
    END IF;
    IF p_RequestId IS NOT NULL AND NOT EXISTS (SELECT 1 FROM GenerationRequests WHERE RequestId = p_RequestId) THEN
        RAISE EXCEPTION 'generation request % does not exist', p_RequestId USING ERRCODE = 'CP404';
    END IF;
    IF p_CampaignId IS NOT NULL AND NOT EXISTS (SELECT 1 FROM Campaigns WHERE CampaignId = p_CampaignId) THEN
        RAISE EXCEPTION 'campaign % does not exist', p_CampaignId USING ERRCODE = 'CP404';
    END IF;
    UPDATE Coupons SET ExpiresAt = now()
    WHERE NOT IsRedeemed AND (ExpiresAt IS NULL OR ExpiresAt > now())
      AND (p_CouponCode IS NULL OR CouponCode = p_CouponCode)
      AND (p_RequestId IS NULL OR GenerationBatchId = p_RequestId)
      AND (p_CampaignId IS NULL OR CampaignId = p_CampaignId);
    GET DIAGNOSTICS v_count = ROW_COUNT;
    RETURN v_count;
END $$;

SELECT fn_SecureProcedures(ARRAY['sp_CreateCampaign', 'sp_GetCampaign', 'sp_GetActiveCampaigns', 'sp_GetRedemptionStats',
    'sp_ListCampaigns', 'sp_UpdateCampaign', 'sp_DeleteCampaign', 'sp_ExpireCoupons']);
