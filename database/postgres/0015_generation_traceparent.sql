-- A generation request remembers the W3C traceparent of the operation that created it (an API
-- request, when traced), so that the worker generating it continues that trace. Null when none was
-- traced. Twin: database/mssql/0015.
ALTER TABLE GenerationRequests ADD COLUMN IF NOT EXISTS Traceparent varchar(55) NULL;
