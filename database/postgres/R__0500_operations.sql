-- Operations: the history archive (0005), the fraud report (0006), the scale status (0007) and the
-- idempotency key purge (0009). Twin: database/mssql/R__0500_operations.sql. The archive is granted
-- because the generator's identity runs it as an ACI job; it only moves rows between two tables.
-- Repeatable (see docs/database.md, "Migrations"): re-applied whenever this file or one before it
-- changes, and after every numbered migration. Edit the definitions here; never in the numbered
-- files. CREATE OR REPLACE keeps grants; a change of signature, return type or view columns needs a
-- DROP ... IF EXISTS before the CREATE (CASCADE is safe: every later repeatable file is re-applied).
--
-- Errors raised here carry our own SQLSTATEs, mapped once in packages/db/src/errors.ts:
--   CP400 invalid input, CP404 not found, CP409 conflict / wrong state, CP413 request cap exceeded,
--   CP422 idempotency key reused with another request, CP423 generation request held by a worker.

-- Moves one batch, oldest first, in one statement: the rows attempted before p_Before, or (p_Ids
-- given) exactly those ids whatever their time: the rows a file archive wrote out before deleting
-- them. SKIP LOCKED: two archivers at once take different rows instead of queueing. Returns the
-- number moved and the highest id moved; fewer than p_BatchSize moved means nothing is left.
CREATE OR REPLACE FUNCTION sp_ArchiveRedemptionHistory(p_Before timestamptz, p_BatchSize int, p_Ids bigint[] DEFAULT NULL,
    OUT moved int, OUT lastid bigint)
LANGUAGE plpgsql AS $$
BEGIN
    IF p_Before IS NULL AND p_Ids IS NULL THEN
        RAISE EXCEPTION 'before must be a time (the archive moves rows attempted before it)' USING ERRCODE = 'CP400';
    END IF;
    IF p_BatchSize IS NULL OR p_BatchSize < 1 OR p_BatchSize > 100000 THEN
        RAISE EXCEPTION 'batchSize must be an integer from 1 to 100000 (got %)', p_BatchSize USING ERRCODE = 'CP400';
    END IF;
    WITH batch AS (
        SELECT h.RedemptionId FROM RedemptionHistory h
        WHERE CASE WHEN p_Ids IS NULL THEN h.AttemptedAt < p_Before ELSE h.RedemptionId = ANY (p_Ids) END
        ORDER BY h.RedemptionId
        LIMIT p_BatchSize
        FOR UPDATE SKIP LOCKED
    ), gone AS (
        DELETE FROM RedemptionHistory h USING batch b WHERE h.RedemptionId = b.RedemptionId
        RETURNING h.*
    ), kept AS (
        INSERT INTO RedemptionHistoryArchive SELECT * FROM gone RETURNING RedemptionId
    )
    SELECT count(*)::int, max(k.RedemptionId) INTO moved, lastid FROM kept k;
END $$;

-- The next rows a file archive will write out before it moves them (oldest first).
CREATE OR REPLACE FUNCTION sp_ListArchivableHistory(p_Before timestamptz, p_Limit int)
RETURNS SETOF RedemptionHistory LANGUAGE sql STABLE AS $$
    SELECT * FROM RedemptionHistory h
    WHERE h.AttemptedAt < p_Before
    ORDER BY h.RedemptionId
    LIMIT greatest(1, least(coalesce(p_Limit, 1000), 100000))
$$;

-- Offenders by ip, user or campaign: refused attempts (RedemptionHistory) and, for ip and user,
-- the attempts the API's throttle stopped before the store (ThrottledAttempts, counted per minute:
-- a minute counts when it starts inside the window). Ranked by refusals plus throttled attempts;
-- first and last seen cover both (throttled ones to the minute). A campaign has no throttled count.
DROP FUNCTION IF EXISTS sp_FraudReport(timestamptz, timestamptz, text, int);
CREATE OR REPLACE FUNCTION sp_FraudReport(p_Since timestamptz, p_Until timestamptz, p_By text, p_Top int)
RETURNS TABLE (Subject varchar, Attempts bigint, Refusals bigint, DistinctCodes bigint, Reasons jsonb,
               FirstSeen timestamptz, LastSeen timestamptz, Throttled bigint)
LANGUAGE plpgsql STABLE AS $$
BEGIN
    IF p_By IS NULL OR p_By NOT IN ('ip', 'user', 'campaign') THEN
        RAISE EXCEPTION 'by must be ip, user or campaign (got %)', p_By USING ERRCODE = 'CP400';
    END IF;
    IF p_Since IS NULL OR p_Until IS NULL OR p_Until <= p_Since THEN
        RAISE EXCEPTION 'the window must have since before until' USING ERRCODE = 'CP400';
    END IF;
    IF p_Top IS NULL OR p_Top < 1 OR p_Top > 1000 THEN
        RAISE EXCEPTION 'top must be an integer from 1 to 1000 (got %)', p_Top USING ERRCODE = 'CP400';
    END IF;
    RETURN QUERY
    WITH refused AS MATERIALIZED (
        SELECT f.Subject, f.CouponCode, f.FailureReason, f.AttemptedAt
        FROM vw_FraudSignals f
        WHERE f.Dimension = p_By AND f.AttemptedAt >= p_Since AND f.AttemptedAt < p_Until
    ), per AS (
        SELECT r.Subject, count(*) AS Refusals, count(DISTINCT r.CouponCode) AS DistinctCodes,
               min(r.AttemptedAt) AS FirstSeen, max(r.AttemptedAt) AS LastSeen
        FROM refused r GROUP BY r.Subject
    ), stopped AS (
        SELECT a.Subject::varchar(200) AS Subject, sum(a.Attempts)::bigint AS Throttled,
               min(a.Minute) AS FirstSeen, max(a.Minute) AS LastSeen
        FROM ThrottledAttempts a
        WHERE a.SubjectKind = p_By AND a.Minute >= p_Since AND a.Minute < p_Until
        GROUP BY a.Subject
    ), ranked AS (
        SELECT coalesce(p.Subject, s.Subject)::varchar AS Subject, coalesce(p.Refusals, 0) AS Refusals,
               coalesce(p.DistinctCodes, 0) AS DistinctCodes, coalesce(s.Throttled, 0) AS Throttled,
               least(p.FirstSeen, s.FirstSeen) AS FirstSeen, greatest(p.LastSeen, s.LastSeen) AS LastSeen
        FROM per p FULL JOIN stopped s ON s.Subject = p.Subject
        ORDER BY coalesce(p.Refusals, 0) + coalesce(s.Throttled, 0) DESC, 1
        LIMIT p_Top
    )
    SELECT t.Subject,
           CASE p_By
               WHEN 'ip' THEN (SELECT count(*) FROM RedemptionHistory h
                               WHERE h.IpAddress = t.Subject AND h.AttemptedAt >= p_Since AND h.AttemptedAt < p_Until)
               WHEN 'user' THEN (SELECT count(*) FROM RedemptionHistory h
                                 WHERE h.UserId = t.Subject AND h.AttemptedAt >= p_Since AND h.AttemptedAt < p_Until)
               ELSE (SELECT count(*) FROM RedemptionHistory h
                     WHERE h.CampaignId = t.Subject AND h.AttemptedAt >= p_Since AND h.AttemptedAt < p_Until)
           END,
           t.Refusals, t.DistinctCodes,
           coalesce((SELECT jsonb_agg(jsonb_build_object('reason', x.FailureReason, 'n', x.n) ORDER BY x.n DESC, x.FailureReason)
                     FROM (SELECT r.FailureReason, count(*) AS n FROM refused r WHERE r.Subject = t.Subject
                           GROUP BY r.FailureReason) x), '[]'::jsonb),
           t.FirstSeen, t.LastSeen, t.Throttled
    FROM ranked t
    ORDER BY t.Refusals + t.Throttled DESC, t.Subject;
END $$;

CREATE OR REPLACE FUNCTION sp_GetScaleStatus(p_ArchiveBefore timestamptz,
    OUT couponstotal bigint, OUT campaigns bigint, OUT largestcampaignid varchar, OUT largestcampaigncoupons bigint,
    OUT historyrows bigint, OUT historyrowstoarchive bigint, OUT archiverows bigint, OUT oldesthistoryat timestamptz)
LANGUAGE plpgsql STABLE AS $$
BEGIN
    SELECT count(*) INTO couponstotal FROM Coupons;
    SELECT count(*) INTO campaigns FROM Campaigns;
    SELECT c.CampaignId, count(*) INTO largestcampaignid, largestcampaigncoupons
    FROM Coupons c GROUP BY c.CampaignId ORDER BY count(*) DESC, c.CampaignId LIMIT 1;
    largestcampaigncoupons := coalesce(largestcampaigncoupons, 0);
    SELECT count(*) INTO historyrows FROM RedemptionHistory;
    SELECT count(*) INTO historyrowstoarchive FROM RedemptionHistory h WHERE h.AttemptedAt < p_ArchiveBefore;
    SELECT count(*) INTO archiverows FROM RedemptionHistoryArchive;
    SELECT min(h.AttemptedAt) INTO oldesthistoryat FROM RedemptionHistory h;
END $$;

CREATE OR REPLACE FUNCTION sp_PurgeIdempotencyKeys(p_Before timestamptz, p_BatchSize int)
RETURNS int LANGUAGE plpgsql AS $$
DECLARE
    v_deleted int;
BEGIN
    IF p_Before IS NULL OR p_BatchSize IS NULL OR p_BatchSize < 1 OR p_BatchSize > 100000 THEN
        RAISE EXCEPTION 'before must be a time and batchSize an integer from 1 to 100000' USING ERRCODE = 'CP400';
    END IF;
    DELETE FROM IdempotencyKeys k
    WHERE k.IdempotencyKey IN (
        SELECT IdempotencyKey FROM IdempotencyKeys WHERE CreatedAt < p_Before
        ORDER BY CreatedAt LIMIT p_BatchSize FOR UPDATE SKIP LOCKED);
    GET DIAGNOSTICS v_deleted = ROW_COUNT;
    RETURN v_deleted;
END $$;

SELECT fn_SecureProcedures(ARRAY['sp_ArchiveRedemptionHistory', 'sp_ListArchivableHistory', 'sp_FraudReport', 'sp_GetScaleStatus',
    'sp_PurgeIdempotencyKeys']);
