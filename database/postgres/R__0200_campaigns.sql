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

SELECT fn_SecureProcedures(ARRAY['sp_CreateCampaign', 'sp_GetCampaign', 'sp_GetActiveCampaigns', 'sp_GetRedemptionStats']);
