-- Generation requests can be Cancelled: a worker running one stops at its next batch (bulk insert
-- refuses a request that is not Generating) and keeps what it inserted. Twin: database/postgres/0011.
-- SQL Server has no LISTEN/NOTIFY: workers poll with backoff and jitter (coupons worker).
-- Re-runnable: each step checks what is there first.
IF EXISTS (SELECT 1 FROM sys.check_constraints
           WHERE name = N'CK_GenerationRequests_Status' AND parent_object_id = OBJECT_ID(N'dbo.GenerationRequests')
             AND definition NOT LIKE N'%Cancelled%')
    ALTER TABLE dbo.GenerationRequests DROP CONSTRAINT CK_GenerationRequests_Status;
GO
IF NOT EXISTS (SELECT 1 FROM sys.check_constraints
               WHERE name = N'CK_GenerationRequests_Status' AND parent_object_id = OBJECT_ID(N'dbo.GenerationRequests'))
    ALTER TABLE dbo.GenerationRequests ADD CONSTRAINT CK_GenerationRequests_Status
        CHECK (Status IN (N'Requested', N'Generating', N'Generated', N'Failed', N'Cancelled'));
GO
