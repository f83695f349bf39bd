-- Statistics: the seed's Campaigns.CurrentRedemptions kept near the truth, and a campaign's attempts
-- over time. Twin: database/mssql/R__0600_statistics.sql.
-- Repeatable (see docs/database.md, "Migrations"): re-applied whenever this file or one before it
-- changes, and after every numbered migration. Edit the definitions here; never in the numbered
-- files. CREATE OR REPLACE keeps grants; a change of signature, return type or view columns needs a
-- DROP ... IF EXISTS before the CREATE (CASCADE is safe: every later repeatable file is re-applied).

-- Copies each campaign's exact count (the sum of its counter slots) into the seed's
-- Campaigns.CurrentRedemptions where the two differ, and returns how many campaigns changed. The API
-- calls it every few seconds (COUPONS_COUNTER_SYNC_SECONDS), so the column is as stale as that at
-- most; redemptions never write Campaigns, so no hot row comes back on their path. Rows that agree
-- are not written (no lock, no new row version), so replicas calling it at once cost a read each.
-- UpdatedAt is left alone: it says when the campaign was edited, not when it was counted.
CREATE OR REPLACE FUNCTION sp_RefreshCampaignCounters()
RETURNS int LANGUAGE plpgsql AS $$
DECLARE
    v_changed int;
BEGIN
    UPDATE Campaigns c
    SET CurrentRedemptions = k.CurrentRedemptions
    FROM vw_CampaignCounters k
    WHERE k.CampaignId = c.CampaignId AND c.CurrentRedemptions <> k.CurrentRedemptions;
    GET DIAGNOSTICS v_changed = ROW_COUNT;
    RETURN v_changed;
END $$;

-- A campaign's attempts per hour or day (p_Interval) attempted in [p_Since, p_Until), from the live
-- history and its archive: one row per bucket start (a whole UTC hour or day), kind ('redeemed',
-- 'refused', 'reversed') and refusal reason that occurred, with the count. Buckets with nothing are
-- not returned (the engine fills them with zeros). Each table is read by one range of
-- IX_*_CampaignStats (0016), index-only. An unknown campaign is CP404.
DROP FUNCTION IF EXISTS sp_GetCampaignStatsSeries(text, text, timestamptz, timestamptz);
CREATE OR REPLACE FUNCTION sp_GetCampaignStatsSeries(p_CampaignId text, p_Interval text, p_Since timestamptz,
    p_Until timestamptz)
RETURNS TABLE (BucketStart timestamptz, Kind text, Reason varchar, N int)
LANGUAGE plpgsql STABLE AS $$
BEGIN
    IF p_Interval IS NULL OR p_Interval NOT IN ('hour', 'day') THEN
        RAISE EXCEPTION 'interval must be one of hour, day' USING ERRCODE = 'CP400';
    END IF;
    IF p_Since IS NULL OR p_Until IS NULL OR p_Since >= p_Until THEN
        RAISE EXCEPTION 'since must be a time before until' USING ERRCODE = 'CP400';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM Campaigns c WHERE c.CampaignId = p_CampaignId) THEN
        RAISE EXCEPTION 'campaign % does not exist', p_CampaignId USING ERRCODE = 'CP404';
    END IF;
    RETURN QUERY
    SELECT date_trunc(p_Interval, a.AttemptedAt, 'UTC'),
           CASE WHEN a.Success THEN 'redeemed' ELSE 'refused' END,
           CASE WHEN a.Success THEN NULL ELSE a.FailureReason END,
           count(*)::int
    FROM (
        SELECT h.AttemptedAt, h.Success, h.FailureReason FROM RedemptionHistory h
        WHERE h.CampaignId = p_CampaignId AND h.AttemptedAt >= p_Since AND h.AttemptedAt < p_Until
        UNION ALL
        SELECT x.AttemptedAt, x.Success, x.FailureReason FROM RedemptionHistoryArchive x
        WHERE x.CampaignId = p_CampaignId AND x.AttemptedAt >= p_Since AND x.AttemptedAt < p_Until
    ) a
    GROUP BY 1, 2, 3
    UNION ALL
    -- LEAD-MERGE: count RedemptionReversals(CampaignId, ReversedAt) here
    SELECT NULL::timestamptz, 'reversed', NULL::varchar, 0 WHERE false;
END $$;

SELECT fn_SecureProcedures(ARRAY['sp_RefreshCampaignCounters', 'sp_GetCampaignStatsSeries']);
