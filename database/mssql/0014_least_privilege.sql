-- sqlfluff-lacks: AUTHORIZATION, ADD MEMBER
-- 0014: least privilege (twin: database/postgres/0014_least_privilege.sql). One role per process,
-- each granted EXECUTE on only the procedures it calls (the map: R__0900_grants.sql): coupon_api (the
-- redeem API), coupon_generator (generation worker and job), coupon_ops (operations and the
-- operator's commands). coupon_app, the single role of 0004, stays for deployments made before: it
-- becomes a member of the three (its members keep what they had) and holds no grant of its own;
-- move each identity to its own role (database/mssql/security/add_managed_identity.sql), then
-- remove coupon_app's members. SQL Server needs no SECURITY DEFINER and no owner role: the
-- procedures reach the tables through ownership chaining (everything is owned by dbo), and a role
-- has no CREATE permission unless granted one (PostgreSQL's REVOKE CREATE ON SCHEMA public).
-- Re-runnable: each role is created when missing, each membership added when missing.

SET XACT_ABORT ON;
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
IF DATABASE_PRINCIPAL_ID(N'coupon_app') IS NULL
    CREATE ROLE coupon_app AUTHORIZATION dbo;
GO
IF NOT EXISTS (SELECT 1 FROM sys.database_role_members
               WHERE role_principal_id = DATABASE_PRINCIPAL_ID(N'coupon_api') AND member_principal_id = DATABASE_PRINCIPAL_ID(N'coupon_app'))
    ALTER ROLE coupon_api ADD MEMBER coupon_app;
IF NOT EXISTS (SELECT 1 FROM sys.database_role_members
               WHERE role_principal_id = DATABASE_PRINCIPAL_ID(N'coupon_generator') AND member_principal_id = DATABASE_PRINCIPAL_ID(N'coupon_app'))
    ALTER ROLE coupon_generator ADD MEMBER coupon_app;
IF NOT EXISTS (SELECT 1 FROM sys.database_role_members
               WHERE role_principal_id = DATABASE_PRINCIPAL_ID(N'coupon_ops') AND member_principal_id = DATABASE_PRINCIPAL_ID(N'coupon_app'))
    ALTER ROLE coupon_ops ADD MEMBER coupon_app;
GO
