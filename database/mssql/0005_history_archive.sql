-- 0005: the seed's "archive RedemptionHistory quarterly". Twin of database/postgres/0005_history_archive.sql.
-- dbo.RedemptionHistoryArchive has the history's columns in the same order; a batch moves with one
-- DELETE ... OUTPUT DELETED.* INTO, one statement and so one atomic unit: a row is in exactly one of
-- the two tables at every moment, whatever is killed when. Its primary key is the history's
-- RedemptionId (no IDENTITY), so a row can never be archived twice. It has no CHECK constraint:
-- OUTPUT ... INTO refuses a target with one (the rows come from the checked history table anyway).
-- Audit reads that must see everything use dbo.vw_RedemptionHistoryAll.
-- Re-runnable: every object is created only when it is missing, views dropped and created.

SET XACT_ABORT ON;
GO
IF OBJECT_ID(N'dbo.RedemptionHistoryArchive', N'U') IS NULL
CREATE TABLE dbo.RedemptionHistoryArchive (
    RedemptionId  bigint        NOT NULL,
    CouponCode    nvarchar(50)  COLLATE Latin1_General_100_BIN2 NOT NULL,
    UserId        nvarchar(100) COLLATE Latin1_General_100_BIN2 NOT NULL,
    CampaignId    nvarchar(100) COLLATE Latin1_General_100_BIN2 NULL,
    AttemptedAt   datetime2     NOT NULL,
    Success       bit           NOT NULL,
    FailureReason nvarchar(500) NULL,
    IpAddress     nvarchar(45)  NULL,
    UserAgent     nvarchar(500) NULL,
    CONSTRAINT PK_RedemptionHistoryArchive PRIMARY KEY CLUSTERED (RedemptionId)
);
GO
IF INDEXPROPERTY(OBJECT_ID(N'dbo.RedemptionHistoryArchive'), N'IX_RedemptionHistoryArchive_AttemptedAt', 'IndexID') IS NULL
    CREATE INDEX IX_RedemptionHistoryArchive_AttemptedAt ON dbo.RedemptionHistoryArchive (AttemptedAt);
GO
IF INDEXPROPERTY(OBJECT_ID(N'dbo.RedemptionHistoryArchive'), N'IX_RedemptionHistoryArchive_UserId', 'IndexID') IS NULL
    CREATE INDEX IX_RedemptionHistoryArchive_UserId ON dbo.RedemptionHistoryArchive (UserId);
GO
IF INDEXPROPERTY(OBJECT_ID(N'dbo.RedemptionHistoryArchive'), N'IX_RedemptionHistoryArchive_CouponCode', 'IndexID') IS NULL
    CREATE INDEX IX_RedemptionHistoryArchive_CouponCode ON dbo.RedemptionHistoryArchive (CouponCode);
GO

DROP VIEW IF EXISTS dbo.vw_RedemptionHistoryAll;
GO
CREATE VIEW dbo.vw_RedemptionHistoryAll AS
SELECT h.RedemptionId, h.CouponCode, h.UserId, h.CampaignId, h.AttemptedAt, h.Success, h.FailureReason,
       h.IpAddress, h.UserAgent, CAST(0 AS bit) AS Archived
FROM dbo.RedemptionHistory h
UNION ALL
SELECT a.RedemptionId, a.CouponCode, a.UserId, a.CampaignId, a.AttemptedAt, a.Success, a.FailureReason,
       a.IpAddress, a.UserAgent, CAST(1 AS bit) AS Archived
FROM dbo.RedemptionHistoryArchive a;
GO

-- Moves one batch: up to @BatchSize rows attempted before @Before, or (@Ids given, a JSON array of
-- ids) exactly those rows whatever their time: the rows a file archive wrote out before deleting.
--
-- Why a batched DELETE TOP (n) ... OUTPUT DELETED.* INTO and not a partition switch: a switch
-- moves a whole partition as metadata, but it needs RedemptionHistory partitioned by AttemptedAt on
-- quarter boundaries, every index aligned (its nonclustered indexes would all have to carry the
-- partition column) and an archive table of identical structure on the same filegroup, and it takes
-- a schema-modification lock that waits for every running redemption. The batched move needs none
-- of that: each batch is a short transaction that locks only the rows it moves (READPAST lets a
-- second archiver take other rows), the log grows by one batch at a time, redemptions keep writing
-- new rows beside it, and a kill loses at most one uncommitted batch, which rolls back whole. On a
-- table of hundreds of millions of rows it takes longer than a switch, but it runs online, needs no
-- change to the hot table, and can be stopped and resumed at any batch.
CREATE OR ALTER PROCEDURE dbo.sp_ArchiveRedemptionHistory
    @Before datetime2 = NULL,
    @BatchSize int,
    @Ids nvarchar(max) = NULL
AS
BEGIN
    SET NOCOUNT ON;
    SET XACT_ABORT ON;
    DECLARE @moved int;
    IF @Before IS NULL AND @Ids IS NULL
    BEGIN
        THROW 50400, N'before must be a time (the archive moves rows attempted before it)', 1;
    END
    IF @BatchSize IS NULL OR @BatchSize < 1 OR @BatchSize > 100000
    BEGIN
        THROW 50400, N'batchSize must be an integer from 1 to 100000', 1;
    END
    IF @Ids IS NULL
    BEGIN
        DELETE TOP (@BatchSize) h
        OUTPUT DELETED.RedemptionId, DELETED.CouponCode, DELETED.UserId, DELETED.CampaignId, DELETED.AttemptedAt,
               DELETED.Success, DELETED.FailureReason, DELETED.IpAddress, DELETED.UserAgent
        INTO dbo.RedemptionHistoryArchive (RedemptionId, CouponCode, UserId, CampaignId, AttemptedAt, Success,
                                           FailureReason, IpAddress, UserAgent)
        FROM dbo.RedemptionHistory h WITH (ROWLOCK, READPAST)
        WHERE h.AttemptedAt < @Before;
        SET @moved = @@ROWCOUNT;
    END
    ELSE
    BEGIN
        IF ISJSON(@Ids) = 0
        BEGIN
            THROW 50400, N'ids must be a JSON array of history ids', 1;
        END
        DELETE TOP (@BatchSize) h
        OUTPUT DELETED.RedemptionId, DELETED.CouponCode, DELETED.UserId, DELETED.CampaignId, DELETED.AttemptedAt,
               DELETED.Success, DELETED.FailureReason, DELETED.IpAddress, DELETED.UserAgent
        INTO dbo.RedemptionHistoryArchive (RedemptionId, CouponCode, UserId, CampaignId, AttemptedAt, Success,
                                           FailureReason, IpAddress, UserAgent)
        FROM dbo.RedemptionHistory h WITH (ROWLOCK, READPAST)
        WHERE h.RedemptionId IN (SELECT CAST(j.[value] AS bigint) FROM OPENJSON(@Ids) j);
        SET @moved = @@ROWCOUNT;
    END
    SELECT @moved AS moved;
END;
GO

-- The next rows a file archive will write out before it moves them (oldest first).
CREATE OR ALTER PROCEDURE dbo.sp_ListArchivableHistory
    @Before datetime2,
    @Limit int
AS
BEGIN
    SET NOCOUNT ON;
    DECLARE @n int = CASE WHEN @Limit IS NULL THEN 1000 WHEN @Limit < 1 THEN 1 WHEN @Limit > 100000 THEN 100000 ELSE @Limit END;
    SELECT TOP (@n) h.RedemptionId, h.CouponCode, h.UserId, h.CampaignId,
           CAST(h.AttemptedAt AS datetimeoffset) AS AttemptedAt, h.Success, h.FailureReason, h.IpAddress, h.UserAgent
    FROM dbo.RedemptionHistory h
    WHERE h.AttemptedAt < @Before
    ORDER BY h.RedemptionId;
END;
GO
