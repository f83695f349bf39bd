-- 0001: the seed's five tables, their keys and indexes, plus what the flows need and the seed leaves
-- implicit (check constraints, counter slots, generation claiming, idempotency). Twin of
-- database/postgres/0001_schema.sql: same tables, columns, constraints and indexes, in the seed's
-- SQL Server types. Re-runnable: every object is created only when it is missing.
--
-- Identifiers (campaign, user, request, coupon codes, idempotency keys) use a binary collation
-- (Latin1_General_100_BIN2), so they compare exactly as on PostgreSQL: 'alice' is not 'ALICE'. Codes
-- are stored upper-case and trimmed (CK_Coupons_CodeNormalised), and every procedure normalises its
-- input the same way, so code lookups are case-insensitive for callers.
--
-- Counters: a campaign's redemption count lives in CampaignCounterSlots (16 rows per campaign), not
-- in one hot row; see the postgres twin for the design. MaxTotalRedemptions is split into per-slot
-- budgets whose sum is always the cap, so the cap holds exactly (see sp_RedeemCoupon).

SET XACT_ABORT ON;
GO

IF OBJECT_ID(N'dbo.Campaigns', N'U') IS NULL
CREATE TABLE dbo.Campaigns (
    CampaignId            nvarchar(100)  COLLATE Latin1_General_100_BIN2 NOT NULL,
    Name                  nvarchar(200)  NOT NULL,
    Description           nvarchar(1000) NULL,
    StartDate             datetime2      NOT NULL,
    EndDate               datetime2      NOT NULL,
    DiscountPercentage    decimal(5,2)   NULL,
    DiscountAmount        decimal(10,2)  NULL,
    MaxRedemptionsPerUser int            NULL,
    MaxTotalRedemptions   int            NULL,
    CurrentRedemptions    int            NOT NULL CONSTRAINT DF_Campaigns_CurrentRedemptions DEFAULT 0,
    IsActive              bit            NOT NULL CONSTRAINT DF_Campaigns_IsActive DEFAULT 1,
    CreatedAt             datetime2      NOT NULL CONSTRAINT DF_Campaigns_CreatedAt DEFAULT SYSUTCDATETIME(),
    UpdatedAt             datetime2      NOT NULL CONSTRAINT DF_Campaigns_UpdatedAt DEFAULT SYSUTCDATETIME(),
    CreatedBy             nvarchar(100)  NULL,
    CONSTRAINT PK_Campaigns PRIMARY KEY CLUSTERED (CampaignId),
    CONSTRAINT CK_Campaigns_Id CHECK (LEN(LTRIM(CampaignId)) > 0),
    CONSTRAINT CK_Campaigns_Dates CHECK (EndDate > StartDate),
    CONSTRAINT CK_Campaigns_OneDiscount CHECK ((DiscountPercentage IS NULL AND DiscountAmount IS NOT NULL)
                                            OR (DiscountPercentage IS NOT NULL AND DiscountAmount IS NULL)),
    CONSTRAINT CK_Campaigns_Percentage CHECK (DiscountPercentage > 0 AND DiscountPercentage <= 100),
    CONSTRAINT CK_Campaigns_Amount CHECK (DiscountAmount > 0),
    CONSTRAINT CK_Campaigns_MaxPerUser CHECK (MaxRedemptionsPerUser > 0),
    CONSTRAINT CK_Campaigns_MaxTotal CHECK (MaxTotalRedemptions > 0),
    CONSTRAINT CK_Campaigns_Current CHECK (CurrentRedemptions >= 0)
);
GO
IF INDEXPROPERTY(OBJECT_ID(N'dbo.Campaigns'), N'IX_Campaigns_IsActive', 'IndexID') IS NULL
    CREATE INDEX IX_Campaigns_IsActive ON dbo.Campaigns (IsActive);
GO
IF INDEXPROPERTY(OBJECT_ID(N'dbo.Campaigns'), N'IX_Campaigns_StartDate_EndDate', 'IndexID') IS NULL
    CREATE INDEX IX_Campaigns_StartDate_EndDate ON dbo.Campaigns (StartDate, EndDate);
GO

IF OBJECT_ID(N'dbo.CampaignCounterSlots', N'U') IS NULL
CREATE TABLE dbo.CampaignCounterSlots (
    CampaignId  nvarchar(100) COLLATE Latin1_General_100_BIN2 NOT NULL,
    Slot        smallint      NOT NULL,
    Redemptions int           NOT NULL CONSTRAINT DF_CampaignCounterSlots_Redemptions DEFAULT 0,
    Budget      int           NULL, -- NULL: campaign has no total limit
    CONSTRAINT PK_CampaignCounterSlots PRIMARY KEY CLUSTERED (CampaignId, Slot),
    CONSTRAINT FK_CampaignCounterSlots_Campaigns FOREIGN KEY (CampaignId)
        REFERENCES dbo.Campaigns (CampaignId) ON DELETE CASCADE,
    CONSTRAINT CK_CampaignCounterSlots_Budget CHECK (Redemptions >= 0 AND (Budget IS NULL OR Redemptions <= Budget))
);
GO

IF OBJECT_ID(N'dbo.Coupons', N'U') IS NULL
CREATE TABLE dbo.Coupons (
    CouponId          bigint IDENTITY(1,1) NOT NULL,
    CouponCode        nvarchar(50)  COLLATE Latin1_General_100_BIN2 NOT NULL,
    CampaignId        nvarchar(100) COLLATE Latin1_General_100_BIN2 NOT NULL,
    IsRedeemed        bit           NOT NULL CONSTRAINT DF_Coupons_IsRedeemed DEFAULT 0,
    RedeemedAt        datetime2     NULL,
    RedeemedBy        nvarchar(100) COLLATE Latin1_General_100_BIN2 NULL,
    ExpiresAt         datetime2     NULL,
    AssignedTo        nvarchar(100) COLLATE Latin1_General_100_BIN2 NULL,
    GenerationBatchId nvarchar(100) COLLATE Latin1_General_100_BIN2 NULL,
    CreatedAt         datetime2     NOT NULL CONSTRAINT DF_Coupons_CreatedAt DEFAULT SYSUTCDATETIME(),
    CONSTRAINT PK_Coupons PRIMARY KEY CLUSTERED (CouponId),
    CONSTRAINT UQ_Coupons_CouponCode UNIQUE (CouponCode),
    CONSTRAINT FK_Coupons_Campaigns FOREIGN KEY (CampaignId)
        REFERENCES dbo.Campaigns (CampaignId) ON DELETE CASCADE,
    -- codes are stored normalised (upper case, no surrounding spaces) so the unique key is
    -- case-insensitive for callers; DATALENGTH catches trailing spaces, which = ignores
    CONSTRAINT CK_Coupons_CodeNormalised CHECK (CouponCode = UPPER(CouponCode) AND LEN(CouponCode) > 0
                                                AND DATALENGTH(CouponCode) = 2 * LEN(LTRIM(CouponCode))),
    CONSTRAINT CK_Coupons_Redeemed CHECK ((IsRedeemed = 1 AND RedeemedAt IS NOT NULL) OR (IsRedeemed = 0 AND RedeemedAt IS NULL))
);
GO
-- Covering for vw_RedemptionStats (the seed's per-campaign counts read only this index).
IF INDEXPROPERTY(OBJECT_ID(N'dbo.Coupons'), N'IX_Coupons_CampaignId', 'IndexID') IS NULL
    CREATE INDEX IX_Coupons_CampaignId ON dbo.Coupons (CampaignId, CouponId) INCLUDE (IsRedeemed, ExpiresAt);
GO
-- Filtered: new coupons are never redeemed, so bulk inserts do not pay for these two.
IF INDEXPROPERTY(OBJECT_ID(N'dbo.Coupons'), N'IX_Coupons_IsRedeemed', 'IndexID') IS NULL
    CREATE INDEX IX_Coupons_IsRedeemed ON dbo.Coupons (CampaignId, CouponId) WHERE IsRedeemed = 1;
GO
IF INDEXPROPERTY(OBJECT_ID(N'dbo.Coupons'), N'IX_Coupons_ExpiresAt', 'IndexID') IS NULL
    CREATE INDEX IX_Coupons_ExpiresAt ON dbo.Coupons (ExpiresAt, CouponId);
GO
IF INDEXPROPERTY(OBJECT_ID(N'dbo.Coupons'), N'IX_Coupons_RedeemedBy', 'IndexID') IS NULL
    CREATE INDEX IX_Coupons_RedeemedBy ON dbo.Coupons (RedeemedBy) INCLUDE (RedeemedAt) WHERE RedeemedBy IS NOT NULL;
GO
IF INDEXPROPERTY(OBJECT_ID(N'dbo.Coupons'), N'IX_Coupons_GenerationBatchId', 'IndexID') IS NULL
    CREATE INDEX IX_Coupons_GenerationBatchId ON dbo.Coupons (GenerationBatchId, CouponId);
GO

-- No foreign key on purpose: attempts with unknown codes are logged too (fraud analysis).
IF OBJECT_ID(N'dbo.RedemptionHistory', N'U') IS NULL
CREATE TABLE dbo.RedemptionHistory (
    RedemptionId  bigint IDENTITY(1,1) NOT NULL,
    CouponCode    nvarchar(50)  COLLATE Latin1_General_100_BIN2 NOT NULL,
    UserId        nvarchar(100) COLLATE Latin1_General_100_BIN2 NOT NULL,
    CampaignId    nvarchar(100) COLLATE Latin1_General_100_BIN2 NULL,
    AttemptedAt   datetime2     NOT NULL CONSTRAINT DF_RedemptionHistory_AttemptedAt DEFAULT SYSUTCDATETIME(),
    Success       bit           NOT NULL,
    FailureReason nvarchar(500) NULL,
    IpAddress     nvarchar(45)  NULL,
    UserAgent     nvarchar(500) NULL,
    CONSTRAINT PK_RedemptionHistory PRIMARY KEY CLUSTERED (RedemptionId),
    CONSTRAINT CK_RedemptionHistory_Reason CHECK ((Success = 1 AND FailureReason IS NULL) OR (Success = 0 AND FailureReason IS NOT NULL))
);
GO
IF INDEXPROPERTY(OBJECT_ID(N'dbo.RedemptionHistory'), N'IX_RedemptionHistory_UserId', 'IndexID') IS NULL
    CREATE INDEX IX_RedemptionHistory_UserId ON dbo.RedemptionHistory (UserId, AttemptedAt);
GO
IF INDEXPROPERTY(OBJECT_ID(N'dbo.RedemptionHistory'), N'IX_RedemptionHistory_CouponCode', 'IndexID') IS NULL
    CREATE INDEX IX_RedemptionHistory_CouponCode ON dbo.RedemptionHistory (CouponCode);
GO
IF INDEXPROPERTY(OBJECT_ID(N'dbo.RedemptionHistory'), N'IX_RedemptionHistory_AttemptedAt', 'IndexID') IS NULL
    CREATE INDEX IX_RedemptionHistory_AttemptedAt ON dbo.RedemptionHistory (AttemptedAt);
GO
IF INDEXPROPERTY(OBJECT_ID(N'dbo.RedemptionHistory'), N'IX_RedemptionHistory_Success', 'IndexID') IS NULL
    CREATE INDEX IX_RedemptionHistory_Success ON dbo.RedemptionHistory (Success, AttemptedAt);
GO

IF OBJECT_ID(N'dbo.GenerationRequests', N'U') IS NULL
CREATE TABLE dbo.GenerationRequests (
    RequestId       nvarchar(100)  COLLATE Latin1_General_100_BIN2 NOT NULL,
    CampaignId      nvarchar(100)  COLLATE Latin1_General_100_BIN2 NOT NULL,
    RequestedAmount int            NOT NULL,
    GeneratedAmount int            NOT NULL CONSTRAINT DF_GenerationRequests_GeneratedAmount DEFAULT 0,
    Prefix          nvarchar(20)   COLLATE Latin1_General_100_BIN2 NOT NULL CONSTRAINT DF_GenerationRequests_Prefix DEFAULT N'',
    ExpirationDate  datetime2      NULL,
    Status          nvarchar(20)   COLLATE Latin1_General_100_BIN2 NOT NULL CONSTRAINT DF_GenerationRequests_Status DEFAULT N'Requested',
    StartedAt       datetime2      NULL,
    CompletedAt     datetime2      NULL,
    FailureReason   nvarchar(1000) NULL,
    RequestedBy     nvarchar(100)  NULL,
    CreatedAt       datetime2      NOT NULL CONSTRAINT DF_GenerationRequests_CreatedAt DEFAULT SYSUTCDATETIME(),
    -- not in the seed: what generation needs
    CodeLength      int            NOT NULL CONSTRAINT DF_GenerationRequests_CodeLength DEFAULT 12,
    WorkerId        nvarchar(100)  NULL,
    UpdatedAt       datetime2      NOT NULL CONSTRAINT DF_GenerationRequests_UpdatedAt DEFAULT SYSUTCDATETIME(),
    CONSTRAINT PK_GenerationRequests PRIMARY KEY CLUSTERED (RequestId),
    CONSTRAINT FK_GenerationRequests_Campaigns FOREIGN KEY (CampaignId)
        REFERENCES dbo.Campaigns (CampaignId) ON DELETE CASCADE,
    CONSTRAINT CK_GenerationRequests_Status CHECK (Status IN (N'Requested', N'Generating', N'Generated', N'Failed')),
    CONSTRAINT CK_GenerationRequests_Amount CHECK (RequestedAmount > 0),
    CONSTRAINT CK_GenerationRequests_Generated CHECK (GeneratedAmount >= 0 AND GeneratedAmount <= RequestedAmount),
    CONSTRAINT CK_GenerationRequests_Prefix CHECK (Prefix = UPPER(Prefix)),
    CONSTRAINT CK_GenerationRequests_CodeLength CHECK (CodeLength >= 4 AND CodeLength + LEN(Prefix) <= 50),
    CONSTRAINT CK_GenerationRequests_Done CHECK (Status <> N'Generated' OR GeneratedAmount = RequestedAmount),
    CONSTRAINT CK_GenerationRequests_Failed CHECK (Status <> N'Failed' OR FailureReason IS NOT NULL)
);
GO
IF INDEXPROPERTY(OBJECT_ID(N'dbo.GenerationRequests'), N'IX_GenerationRequests_Status', 'IndexID') IS NULL
    CREATE INDEX IX_GenerationRequests_Status ON dbo.GenerationRequests (Status);
GO
IF INDEXPROPERTY(OBJECT_ID(N'dbo.GenerationRequests'), N'IX_GenerationRequests_CampaignId', 'IndexID') IS NULL
    CREATE INDEX IX_GenerationRequests_CampaignId ON dbo.GenerationRequests (CampaignId);
GO

IF OBJECT_ID(N'dbo.UserRedemptions', N'U') IS NULL
CREATE TABLE dbo.UserRedemptions (
    UserRedemptionId bigint IDENTITY(1,1) NOT NULL,
    UserId           nvarchar(100) COLLATE Latin1_General_100_BIN2 NOT NULL,
    CampaignId       nvarchar(100) COLLATE Latin1_General_100_BIN2 NOT NULL,
    RedemptionCount  int           NOT NULL CONSTRAINT DF_UserRedemptions_RedemptionCount DEFAULT 0,
    LastRedeemedAt   datetime2     NULL,
    CONSTRAINT PK_UserRedemptions PRIMARY KEY CLUSTERED (UserRedemptionId),
    CONSTRAINT UQ_UserRedemptions_Campaign_User UNIQUE (CampaignId, UserId),
    -- PostgreSQL's twin cascades by trigger instead: its foreign-key check locks the campaign row
    -- (KEY SHARE) on every insert, which queued a busy campaign's redemptions; SQL Server's does not.
    CONSTRAINT FK_UserRedemptions_Campaigns FOREIGN KEY (CampaignId)
        REFERENCES dbo.Campaigns (CampaignId) ON DELETE CASCADE,
    CONSTRAINT CK_UserRedemptions_Count CHECK (RedemptionCount >= 0)
);
GO
IF INDEXPROPERTY(OBJECT_ID(N'dbo.UserRedemptions'), N'IX_UserRedemptions_UserId', 'IndexID') IS NULL
    CREATE INDEX IX_UserRedemptions_UserId ON dbo.UserRedemptions (UserId);
GO

-- Idempotency keys of the redeem API, written in the redemption's own transaction.
IF OBJECT_ID(N'dbo.IdempotencyKeys', N'U') IS NULL
CREATE TABLE dbo.IdempotencyKeys (
    IdempotencyKey nvarchar(200) COLLATE Latin1_General_100_BIN2 NOT NULL,
    RequestHash    nvarchar(128) COLLATE Latin1_General_100_BIN2 NOT NULL,
    Response       nvarchar(max) NOT NULL,
    CreatedAt      datetime2     NOT NULL CONSTRAINT DF_IdempotencyKeys_CreatedAt DEFAULT SYSUTCDATETIME(),
    CONSTRAINT PK_IdempotencyKeys PRIMARY KEY CLUSTERED (IdempotencyKey),
    CONSTRAINT CK_IdempotencyKeys_Response CHECK (ISJSON(Response) = 1)
);
GO
IF INDEXPROPERTY(OBJECT_ID(N'dbo.IdempotencyKeys'), N'IX_IdempotencyKeys_CreatedAt', 'IndexID') IS NULL
    CREATE INDEX IX_IdempotencyKeys_CreatedAt ON dbo.IdempotencyKeys (CreatedAt);
GO
