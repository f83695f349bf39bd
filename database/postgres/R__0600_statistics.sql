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

-- Adds the closed hours since CampaignStatsRollup.RolledUpTo to CampaignStatsHourly (at most 31
-- days per call, so a first run over a long history is spread over several), and returns the rows
-- added. An hour is closed 5 minutes after its end, and not before every transaction that started in
-- it has ended (an attempt's AttemptedAt is its transaction's start; pg_stat_activity tells, where
-- the owner may read it): no attempt lands in an hour already rolled up. Reads the history and its
-- archive in one snapshot, so a concurrent archive batch counts once. One caller at a time: another
-- finds the state row locked and returns 0 at once. The API calls it with the counter sync.
CREATE OR REPLACE FUNCTION sp_RollupCampaignStats()
RETURNS int LANGUAGE plpgsql AS $$
DECLARE
    v_from timestamptz;
    v_to timestamptz := date_trunc('hour', now() - interval '5 minutes', 'UTC');
    v_oldest timestamptz;
    v_rows int;
BEGIN
    SELECT r.RolledUpTo INTO v_from FROM CampaignStatsRollup r WHERE r.Id = 1 FOR UPDATE SKIP LOCKED;
    IF NOT FOUND THEN RETURN 0; END IF;
    SELECT min(a.xact_start) INTO v_oldest FROM pg_stat_activity a
    WHERE a.pid <> pg_backend_pid() AND a.datname = current_database() AND a.xact_start IS NOT NULL;
    IF v_oldest IS NOT NULL THEN v_to := least(v_to, date_trunc('hour', v_oldest, 'UTC')); END IF;
    v_to := least(v_to, v_from + interval '31 days');
    IF v_to <= v_from THEN RETURN 0; END IF;
    INSERT INTO CampaignStatsHourly (CampaignId, HourStart, Success, Reason, Attempts)
    SELECT a.CampaignId, date_trunc('hour', a.AttemptedAt, 'UTC'), a.Success, coalesce(left(a.FailureReason, 50), ''), count(*)
    FROM (
        SELECT h.CampaignId, h.AttemptedAt, h.Success, h.FailureReason FROM RedemptionHistory h
        WHERE h.AttemptedAt >= v_from AND h.AttemptedAt < v_to AND h.CampaignId IS NOT NULL
        UNION ALL
        SELECT x.CampaignId, x.AttemptedAt, x.Success, x.FailureReason FROM RedemptionHistoryArchive x
        WHERE x.AttemptedAt >= v_from AND x.AttemptedAt < v_to AND x.CampaignId IS NOT NULL
    ) a
    GROUP BY 1, 2, 3, 4;
    GET DIAGNOSTICS v_rows = ROW_COUNT;
    UPDATE CampaignStatsRollup SET RolledUpTo = v_to WHERE Id = 1;
    RETURN v_rows;
END $$;

-- A campaign's attempts per hour or day (p_Interval) attempted in [p_Since, p_Until): one row per
-- bucket start (a whole UTC hour or day), kind ('redeemed', 'refused', 'reversed') and refusal
-- reason that occurred, with the count. Buckets with nothing are not returned (the engine fills them
-- with zeros). The whole hours of the window that CampaignStatsRollup covers come from
-- CampaignStatsHourly; the rest (a partial first and last hour, the hours not rolled up yet, hours
-- before the rollup's start) from one range each of IX_*_CampaignStats (0016) of the history and its
-- archive. An unknown campaign is CP404.
DROP FUNCTION IF EXISTS sp_GetCampaignStatsSeries(text, text, timestamptz, timestamptz);
CREATE OR REPLACE FUNCTION sp_GetCampaignStatsSeries(p_CampaignId text, p_Interval text, p_Since timestamptz,
    p_Until timestamptz)
RETURNS TABLE (BucketStart timestamptz, Kind text, Reason varchar, N int)
LANGUAGE plpgsql STABLE AS $$
DECLARE
    v_lo timestamptz;
    v_hi timestamptz;
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
    -- [v_lo, v_hi): the whole hours of the window the rollup holds; empty: everything is read live
    SELECT greatest(r.RolledUpFrom, date_trunc('hour', p_Since, 'UTC')
                        + CASE WHEN date_trunc('hour', p_Since, 'UTC') < p_Since THEN interval '1 hour' ELSE interval '0' END),
           least(r.RolledUpTo, date_trunc('hour', p_Until, 'UTC'))
    INTO v_lo, v_hi
    FROM CampaignStatsRollup r WHERE r.Id = 1;
    IF v_lo IS NULL OR v_hi IS NULL OR v_lo >= v_hi THEN
        v_lo := p_Until;
        v_hi := p_Until;
    END IF;
    RETURN QUERY
    SELECT date_trunc(p_Interval, a.T, 'UTC'), a.Kind, a.Reason, sum(a.N)::int
    FROM (
        SELECT r.HourStart AS T, CASE WHEN r.Success THEN 'redeemed' ELSE 'refused' END AS Kind,
               nullif(r.Reason, '')::varchar AS Reason, r.Attempts AS N
        FROM CampaignStatsHourly r
        WHERE r.CampaignId = p_CampaignId AND r.HourStart >= v_lo AND r.HourStart < v_hi
        UNION ALL
        SELECT h.AttemptedAt, CASE WHEN h.Success THEN 'redeemed' ELSE 'refused' END, h.FailureReason, 1
        FROM RedemptionHistory h
        WHERE h.CampaignId = p_CampaignId AND h.AttemptedAt >= p_Since AND h.AttemptedAt < v_lo
        UNION ALL
        SELECT h.AttemptedAt, CASE WHEN h.Success THEN 'redeemed' ELSE 'refused' END, h.FailureReason, 1
        FROM RedemptionHistory h
        WHERE h.CampaignId = p_CampaignId AND h.AttemptedAt >= v_hi AND h.AttemptedAt < p_Until
        UNION ALL
        SELECT x.AttemptedAt, CASE WHEN x.Success THEN 'redeemed' ELSE 'refused' END, x.FailureReason, 1
        FROM RedemptionHistoryArchive x
        WHERE x.CampaignId = p_CampaignId AND x.AttemptedAt >= p_Since AND x.AttemptedAt < v_lo
        UNION ALL
        SELECT x.AttemptedAt, CASE WHEN x.Success THEN 'redeemed' ELSE 'refused' END, x.FailureReason, 1
        FROM RedemptionHistoryArchive x
        WHERE x.CampaignId = p_CampaignId AND x.AttemptedAt >= v_hi AND x.AttemptedAt < p_Until
    ) a
    GROUP BY 1, 2, 3
    UNION ALL
    -- reversals: a range of IX (CampaignId, ReversedAt) on the ledger (0012)
    SELECT date_trunc(p_Interval, v.ReversedAt, 'UTC'), 'reversed'::text, NULL::varchar, count(*)::int
    FROM RedemptionReversals v
    WHERE v.CampaignId = p_CampaignId AND v.ReversedAt >= p_Since AND v.ReversedAt < p_Until
    GROUP BY 1;
END $$;

SELECT fn_SecureProcedures(ARRAY['sp_RefreshCampaignCounters', 'sp_RollupCampaignStats', 'sp_GetCampaignStatsSeries']);
