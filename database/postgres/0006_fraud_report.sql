-- 0006: the seed's "failed attempts recorded for fraud analysis" as a report. Twin of
-- database/mssql/0006_fraud_report.sql.
--
-- vw_FraudSignals: every refused attempt once per dimension (ip, user, campaign), so one query shape
-- serves all three. sp_FraudReport: over a window [since, until), the top N subjects of a dimension
-- by refusals, with their attempts (accepted too), distinct codes tried, refusal reasons with counts,
-- and first and last refusal seen.
--
-- Indexes, for millions of history rows: the ranking reads only refused rows of the window, from a
-- partial index that carries every column it needs (an index-only scan; accepted attempts, the vast
-- majority, are not in it and cost it nothing). Attempts are then counted for the N subjects only,
-- by one range scan each on (subject, AttemptedAt).

CREATE INDEX IX_RedemptionHistory_Refused ON RedemptionHistory (AttemptedAt)
    INCLUDE (IpAddress, UserId, CampaignId, CouponCode, FailureReason) WHERE NOT Success;
CREATE INDEX IX_RedemptionHistory_IpAddress ON RedemptionHistory (IpAddress, AttemptedAt) WHERE IpAddress IS NOT NULL;
CREATE INDEX IX_RedemptionHistory_CampaignId ON RedemptionHistory (CampaignId, AttemptedAt) WHERE CampaignId IS NOT NULL;
-- per user: IX_RedemptionHistory_UserId (UserId, AttemptedAt) of 0001 serves it

CREATE VIEW vw_FraudSignals AS
SELECT 'ip'::text AS Dimension, h.IpAddress::varchar(100) AS Subject, h.RedemptionId, h.AttemptedAt, h.CouponCode,
       h.UserId, h.CampaignId, h.IpAddress, h.FailureReason
FROM RedemptionHistory h WHERE NOT h.Success AND h.IpAddress IS NOT NULL
UNION ALL
SELECT 'user'::text, h.UserId, h.RedemptionId, h.AttemptedAt, h.CouponCode, h.UserId, h.CampaignId, h.IpAddress, h.FailureReason
FROM RedemptionHistory h WHERE NOT h.Success
UNION ALL
SELECT 'campaign'::text, h.CampaignId, h.RedemptionId, h.AttemptedAt, h.CouponCode, h.UserId, h.CampaignId, h.IpAddress,
       h.FailureReason
FROM RedemptionHistory h WHERE NOT h.Success AND h.CampaignId IS NOT NULL;

CREATE OR REPLACE FUNCTION sp_FraudReport(p_Since timestamptz, p_Until timestamptz, p_By text, p_Top int)
RETURNS TABLE (Subject varchar, Attempts bigint, Refusals bigint, DistinctCodes bigint, Reasons jsonb,
               FirstSeen timestamptz, LastSeen timestamptz)
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
    ), ranked AS (
        SELECT r.Subject, count(*) AS Refusals, count(DISTINCT r.CouponCode) AS DistinctCodes,
               min(r.AttemptedAt) AS FirstSeen, max(r.AttemptedAt) AS LastSeen
        FROM refused r GROUP BY r.Subject
        ORDER BY count(*) DESC, r.Subject
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
           (SELECT jsonb_agg(jsonb_build_object('reason', x.FailureReason, 'n', x.n) ORDER BY x.n DESC, x.FailureReason)
            FROM (SELECT r.FailureReason, count(*) AS n FROM refused r WHERE r.Subject = t.Subject GROUP BY r.FailureReason) x),
           t.FirstSeen, t.LastSeen
    FROM ranked t
    ORDER BY t.Refusals DESC, t.Subject;
END $$;
