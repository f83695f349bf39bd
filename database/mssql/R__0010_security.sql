-- sqlfluff-lacks: AUTHORIZATION
-- The application's database role, which the GRANTs at the end of every later repeatable file need
-- (twin: database/postgres/R__0010_security.sql). Created by 0004_security.sql already; here too so
-- the repeatable files stand on their own. SQL Server needs no SECURITY DEFINER: procedures reach
-- their tables through ownership chaining (everything is owned by dbo).
-- Repeatable (see docs/mssql.md, "Migrations"): re-applied whenever this file or one before it
-- changes, and after every numbered migration. Edit the definitions here; never in the numbered
-- files. Procedures: CREATE OR ALTER (keeps grants); views: DROP VIEW IF EXISTS + CREATE VIEW (the
-- T-SQL grammar we check with lacks CREATE OR ALTER VIEW).

-- The session settings a procedure, view or function keeps from its CREATE: sqlcmd runs with
-- QUOTED_IDENTIFIER OFF unless -I, and a procedure created so cannot write through a filtered index
-- (error 1934). Set here so the file means the same whichever client applies it.
SET ANSI_NULLS ON;
SET QUOTED_IDENTIFIER ON;
SET XACT_ABORT ON;
GO

IF DATABASE_PRINCIPAL_ID(N'coupon_app') IS NULL
    CREATE ROLE coupon_app AUTHORIZATION dbo;
GO
