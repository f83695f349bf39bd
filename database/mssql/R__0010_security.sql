-- sqlfluff-lacks: AUTHORIZATION
-- The database roles the GRANTs of the later repeatable files need (twin:
-- database/postgres/R__0010_security.sql): coupon_app (0004, legacy) and one per process (0014:
-- coupon_api, coupon_generator, coupon_ops). Created by the numbered files already; here too so the
-- repeatable files stand on their own. Which role may EXECUTE which procedure is in ONE place: the
-- map of R__0900_grants.sql, the last repeatable file (it revokes what the area files' GRANTs to
-- coupon_app give). SQL Server needs no SECURITY DEFINER: procedures reach their tables through
-- ownership chaining (everything is owned by dbo).
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
IF DATABASE_PRINCIPAL_ID(N'coupon_api') IS NULL
    CREATE ROLE coupon_api AUTHORIZATION dbo;
GO
IF DATABASE_PRINCIPAL_ID(N'coupon_generator') IS NULL
    CREATE ROLE coupon_generator AUTHORIZATION dbo;
GO
IF DATABASE_PRINCIPAL_ID(N'coupon_ops') IS NULL
    CREATE ROLE coupon_ops AUTHORIZATION dbo;
GO
