-- 0013: attempts the redeem API's throttle stopped before they reached the store (issue 12), per
-- subject and minute. The API counts them in memory and adds them here in one batched call every
-- few seconds (sp_RecordThrottledAttempts, R__0700_throttle.sql), so a storm of throttled requests
-- costs no database write per request; sp_FraudReport adds them to its offenders. SubjectKind:
-- user (the end user's id), ip (the end user's address, IPv4, or an IPv6 /64 prefix), client (the
-- calling service's API key id). Twin: database/postgres/0013_throttled_attempts.sql.

SET XACT_ABORT ON;
GO
IF OBJECT_ID(N'dbo.ThrottledAttempts', N'U') IS NULL
CREATE TABLE dbo.ThrottledAttempts (
    SubjectKind nvarchar(10)  COLLATE Latin1_General_100_BIN2 NOT NULL,
    Minute      datetime2     NOT NULL,
    Subject     nvarchar(200) COLLATE Latin1_General_100_BIN2 NOT NULL,
    Attempts    bigint        NOT NULL,
    CONSTRAINT PK_ThrottledAttempts PRIMARY KEY CLUSTERED (SubjectKind, Minute, Subject),
    CONSTRAINT CK_ThrottledAttempts_Kind CHECK (SubjectKind IN (N'user', N'ip', N'client')),
    CONSTRAINT CK_ThrottledAttempts_Attempts CHECK (Attempts > 0)
);
GO
