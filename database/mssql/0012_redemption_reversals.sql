-- 0012: reversal of a redemption, as a ledger (issue 14). Twin of database/postgres/0012_redemption_reversals.sql.
-- Which calling service made each attempt (the API key id, or an Entra ID caller's app id; NULL for
-- the CLI): on the history and on its archive (sp_ArchiveRedemptionHistory moves it).
-- One row per reversal in dbo.RedemptionReversals; the redemption's history row is never edited.
-- RedemptionId is unique with no foreign key: history rows move to the archive.
-- Re-runnable: every object is created only when it is missing.

SET XACT_ABORT ON;
GO
IF COL_LENGTH(N'dbo.RedemptionHistory', N'ClientId') IS NULL
    ALTER TABLE dbo.RedemptionHistory ADD ClientId nvarchar(100) COLLATE Latin1_General_100_BIN2 NULL;
GO
IF COL_LENGTH(N'dbo.RedemptionHistoryArchive', N'ClientId') IS NULL
    ALTER TABLE dbo.RedemptionHistoryArchive ADD ClientId nvarchar(100) COLLATE Latin1_General_100_BIN2 NULL;
GO
IF OBJECT_ID(N'dbo.RedemptionReversals', N'U') IS NULL
CREATE TABLE dbo.RedemptionReversals (
    ReversalId   bigint IDENTITY(1,1) NOT NULL,
    RedemptionId bigint        NOT NULL,
    CampaignId   nvarchar(100) COLLATE Latin1_General_100_BIN2 NOT NULL,
    CouponCode   nvarchar(50)  COLLATE Latin1_General_100_BIN2 NOT NULL,
    UserId       nvarchar(100) COLLATE Latin1_General_100_BIN2 NOT NULL,
    ReversedAt   datetime2     NOT NULL CONSTRAINT DF_RedemptionReversals_ReversedAt DEFAULT SYSUTCDATETIME(),
    ReversedBy   nvarchar(100) COLLATE Latin1_General_100_BIN2 NULL,
    Reason       nvarchar(500) NULL,
    IpAddress    nvarchar(45)  NULL,
    UserAgent    nvarchar(500) NULL,
    -- the highest RedemptionHistory id when the reversal was written: places it among the attempts of
    -- the same instant in a user's history
    HistorySeq   bigint        NOT NULL,
    CONSTRAINT PK_RedemptionReversals PRIMARY KEY CLUSTERED (ReversalId),
    CONSTRAINT UQ_RedemptionReversals_RedemptionId UNIQUE (RedemptionId)
);
GO
IF INDEXPROPERTY(OBJECT_ID(N'dbo.RedemptionReversals'), N'IX_RedemptionReversals_Campaign', 'IndexID') IS NULL
    CREATE INDEX IX_RedemptionReversals_Campaign ON dbo.RedemptionReversals (CampaignId, ReversedAt);
GO
IF INDEXPROPERTY(OBJECT_ID(N'dbo.RedemptionReversals'), N'IX_RedemptionReversals_UserId', 'IndexID') IS NULL
    CREATE INDEX IX_RedemptionReversals_UserId ON dbo.RedemptionReversals (UserId, ReversedAt);
GO
