-- 0013: attempts the redeem API's throttle stopped before they reached the store (issue 12), per
-- subject and minute. The API counts them in memory and adds them here in one batched call every
-- few seconds (sp_RecordThrottledAttempts, R__0700_throttle.sql), so a storm of throttled requests
-- costs no database write per request; sp_FraudReport adds them to its offenders. SubjectKind:
-- user (the end user's id), ip (the end user's address, IPv4, or an IPv6 /64 prefix), client (the
-- calling service's API key id). Twin: database/mssql/0013_throttled_attempts.sql.
CREATE TABLE ThrottledAttempts (
    SubjectKind varchar(10)  NOT NULL,
    Minute      timestamptz  NOT NULL,
    Subject     varchar(200) NOT NULL,
    Attempts    bigint       NOT NULL,
    CONSTRAINT PK_ThrottledAttempts PRIMARY KEY (SubjectKind, Minute, Subject),
    CONSTRAINT CK_ThrottledAttempts_Kind CHECK (SubjectKind IN ('user', 'ip', 'client')),
    CONSTRAINT CK_ThrottledAttempts_Attempts CHECK (Attempts > 0)
);
