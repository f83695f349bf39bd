-- 0005: the seed's "archive RedemptionHistory quarterly". Twin of database/mssql/0005_history_archive.sql.
-- RedemptionHistoryArchive has the same columns in the same order as RedemptionHistory, so a batch
-- moves with `INSERT ... SELECT *` from the rows a DELETE returned, in one statement and one
-- transaction: a row is in exactly one of the two tables at every moment, whatever is killed when.
-- Its primary key is the history's RedemptionId (no identity): a row can never be archived twice.
-- Audit reads that must see everything use vw_RedemptionHistoryAll.

CREATE TABLE RedemptionHistoryArchive (
    RedemptionId  bigint       NOT NULL,
    CouponCode    varchar(50)  NOT NULL,
    UserId        varchar(100) NOT NULL,
    CampaignId    varchar(100) NULL,
    AttemptedAt   timestamptz  NOT NULL,
    Success       boolean      NOT NULL,
    FailureReason varchar(500) NULL,
    IpAddress     varchar(45)  NULL,
    UserAgent     varchar(500) NULL,
    CONSTRAINT PK_RedemptionHistoryArchive PRIMARY KEY (RedemptionId)
);
-- audit lookups only; the archive is written in batches and read rarely
CREATE INDEX IX_RedemptionHistoryArchive_AttemptedAt ON RedemptionHistoryArchive (AttemptedAt);
CREATE INDEX IX_RedemptionHistoryArchive_UserId ON RedemptionHistoryArchive (UserId);
CREATE INDEX IX_RedemptionHistoryArchive_CouponCode ON RedemptionHistoryArchive (CouponCode);

CREATE VIEW vw_RedemptionHistoryAll AS
SELECT h.RedemptionId, h.CouponCode, h.UserId, h.CampaignId, h.AttemptedAt, h.Success, h.FailureReason,
       h.IpAddress, h.UserAgent, false AS Archived
FROM RedemptionHistory h
UNION ALL
SELECT a.RedemptionId, a.CouponCode, a.UserId, a.CampaignId, a.AttemptedAt, a.Success, a.FailureReason,
       a.IpAddress, a.UserAgent, true AS Archived
FROM RedemptionHistoryArchive a;

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
