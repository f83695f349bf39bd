-- A generation request remembers the W3C traceparent of the operation that created it (an API
-- request, when traced), so that the worker generating it continues that trace. Null when none was
-- traced. Twin: database/postgres/0015. Re-runnable: the column is added when it is not there.
IF COL_LENGTH(N'dbo.GenerationRequests', N'Traceparent') IS NULL
    ALTER TABLE dbo.GenerationRequests ADD Traceparent varchar(55) NULL;
GO
