-- 0006: the seed's "failed attempts recorded for fraud analysis" as a report. Twin of
-- database/postgres/0006_fraud_report.sql: dbo.vw_FraudSignals (every refused attempt once per
-- dimension: ip, user, campaign) and dbo.sp_FraudReport (top N subjects of a dimension by refusals
-- over [@Since, @Until), with attempts, distinct codes, reasons with counts, first and last seen).
-- Indexes: a filtered index on the refused rows carries every column the ranking reads (accepted
-- attempts are not in it and cost it nothing); attempts are counted for the N subjects only, by a
-- seek each on (subject, AttemptedAt).
-- Re-runnable: indexes created when missing, the view dropped and created.

SET XACT_ABORT ON;
GO
IF INDEXPROPERTY(OBJECT_ID(N'dbo.RedemptionHistory'), N'IX_RedemptionHistory_Refused', 'IndexID') IS NULL
    CREATE INDEX IX_RedemptionHistory_Refused ON dbo.RedemptionHistory (AttemptedAt)
        INCLUDE (IpAddress, UserId, CampaignId, CouponCode, FailureReason) WHERE Success = 0;
GO
IF INDEXPROPERTY(OBJECT_ID(N'dbo.RedemptionHistory'), N'IX_RedemptionHistory_IpAddress', 'IndexID') IS NULL
    CREATE INDEX IX_RedemptionHistory_IpAddress ON dbo.RedemptionHistory (IpAddress, AttemptedAt) WHERE IpAddress IS NOT NULL;
GO
IF INDEXPROPERTY(OBJECT_ID(N'dbo.RedemptionHistory'), N'IX_RedemptionHistory_CampaignId', 'IndexID') IS NULL
    CREATE INDEX IX_RedemptionHistory_CampaignId ON dbo.RedemptionHistory (CampaignId, AttemptedAt) WHERE CampaignId IS NOT NULL;
-- per user: IX_RedemptionHistory_UserId (UserId, AttemptedAt) of 0001 serves it
GO

DROP VIEW IF EXISTS dbo.vw_FraudSignals;
GO
-- IpAddress has the database's collation, the identifiers a binary one; the union needs one.
CREATE VIEW dbo.vw_FraudSignals AS
SELECT N'ip' AS Dimension, CAST(h.IpAddress AS nvarchar(100)) COLLATE Latin1_General_100_BIN2 AS Subject,
       h.RedemptionId, h.AttemptedAt, h.CouponCode, h.UserId, h.CampaignId, h.IpAddress, h.FailureReason
FROM dbo.RedemptionHistory h WHERE h.Success = 0 AND h.IpAddress IS NOT NULL
UNION ALL
SELECT N'user', h.UserId, h.RedemptionId, h.AttemptedAt, h.CouponCode, h.UserId, h.CampaignId, h.IpAddress, h.FailureReason
FROM dbo.RedemptionHistory h WHERE h.Success = 0
UNION ALL
SELECT N'campaign', h.CampaignId, h.RedemptionId, h.AttemptedAt, h.CouponCode, h.UserId, h.CampaignId, h.IpAddress,
       h.FailureReason
FROM dbo.RedemptionHistory h WHERE h.Success = 0 AND h.CampaignId IS NOT NULL;
GO

CREATE OR ALTER PROCEDURE dbo.sp_FraudReport
    @Since datetime2,
    @Until datetime2,
    @By nvarchar(20),
    @Top int
AS
BEGIN
    SET NOCOUNT ON;
    IF @By IS NULL OR @By NOT IN (N'ip', N'user', N'campaign')
    BEGIN
        THROW 50400, N'by must be ip, user or campaign', 1;
    END
    IF @Since IS NULL OR @Until IS NULL OR @Until <= @Since
    BEGIN
        THROW 50400, N'the window must have since before until', 1;
    END
    IF @Top IS NULL OR @Top < 1 OR @Top > 1000
    BEGIN
        THROW 50400, N'top must be an integer from 1 to 1000', 1;
    END

    SELECT f.Subject, f.CouponCode, f.FailureReason, f.AttemptedAt
    INTO #refused
    FROM dbo.vw_FraudSignals f
    WHERE f.Dimension = @By AND f.AttemptedAt >= @Since AND f.AttemptedAt < @Until;

    SELECT TOP (@Top) r.Subject, COUNT_BIG(*) AS Refusals, COUNT_BIG(DISTINCT r.CouponCode) AS DistinctCodes,
           MIN(r.AttemptedAt) AS FirstSeen, MAX(r.AttemptedAt) AS LastSeen
    INTO #ranked
    FROM #refused r
    GROUP BY r.Subject
    ORDER BY COUNT_BIG(*) DESC, r.Subject;

    SELECT t.Subject,
           CASE @By
               WHEN N'ip' THEN (SELECT COUNT_BIG(*) FROM dbo.RedemptionHistory h
                                WHERE h.IpAddress = t.Subject COLLATE DATABASE_DEFAULT
                                  AND h.AttemptedAt >= @Since AND h.AttemptedAt < @Until)
               WHEN N'user' THEN (SELECT COUNT_BIG(*) FROM dbo.RedemptionHistory h
                                  WHERE h.UserId = t.Subject AND h.AttemptedAt >= @Since AND h.AttemptedAt < @Until)
               ELSE (SELECT COUNT_BIG(*) FROM dbo.RedemptionHistory h
                     WHERE h.CampaignId = t.Subject AND h.AttemptedAt >= @Since AND h.AttemptedAt < @Until)
           END AS Attempts,
           t.Refusals, t.DistinctCodes,
           (SELECT x.FailureReason AS reason, x.n
            FROM (SELECT r.FailureReason, COUNT_BIG(*) AS n FROM #refused r WHERE r.Subject = t.Subject GROUP BY r.FailureReason) x
            ORDER BY x.n DESC, x.FailureReason
            FOR JSON PATH) AS Reasons,
           CAST(t.FirstSeen AS datetimeoffset) AS FirstSeen, CAST(t.LastSeen AS datetimeoffset) AS LastSeen
    FROM #ranked t
    ORDER BY t.Refusals DESC, t.Subject;
END;
GO
