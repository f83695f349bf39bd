-- Adds a Microsoft Entra managed identity (or any Entra principal) to the roles of the process it
-- runs (database/mssql/0014_least_privilege.sql; which procedures each may execute:
-- database/mssql/R__0900_grants.sql). Not a migration: run it once per identity, by hand or from
-- deployment, connected to the coupons database (not master) as a Microsoft Entra admin of the
-- server; SQL logins cannot create users FROM EXTERNAL PROVIDER.
--
-- Before running, replace the three values in the batch below (scripts/deploy/deploy.sh does, with sed):
-- - coupons-app-identity: the database user's name (any name; the name of the identity reads best);
-- - 00000000-0000-0000-0000-000000000000: the identity's principal (object) id, e.g. `az identity show -g <group> -n <name>
--   --query principalId` for a user-assigned identity, or the `identity.principalId` of the
--   resource that owns a system-assigned one (the container group running the generator, the App
--   Service / Container App running the redeem API);
-- - coupons-app-roles: the roles, separated by spaces, of coupon_api (the redeem API),
--   coupon_generator (generation worker and jobs), coupon_ops (archive, fraud report, key purge,
--   the operator's commands).
-- The user is created WITH OBJECT_ID: Entra display names need not be unique, and a name that
-- matches two principals is refused or, worse, matches the wrong one; the object id is exact. A
-- user-assigned identity's app sets COUPONS_MSSQL_CLIENT_ID to its client id (see docs/mssql.md).
--
-- The user gets EXECUTE on its processes' procedures through the roles and no table access. It
-- leaves coupon_app, the single role of deployments made before 0014, if it was a member: running
-- this script again with the roles moves an existing identity over. Re-runnable.

SET XACT_ABORT ON;
GO
DECLARE @Name sysname = N'coupons-app-identity';
DECLARE @ObjectId uniqueidentifier = '00000000-0000-0000-0000-000000000000';
DECLARE @Roles nvarchar(400) = N'coupons-app-roles';
DECLARE @sql nvarchar(max);
DECLARE @msg nvarchar(2048);
-- the all-zero id, written so that the replacement above does not change it
IF @ObjectId = CAST(CAST(0 AS binary(16)) AS uniqueidentifier)
BEGIN
    THROW 50400, N'@ObjectId is still the placeholder: put the identity''s principal (object) id there first', 1;
END;
SELECT TOP (1) @msg = CONCAT(N'@Roles names ', r.value, N', which is not one of coupon_api, coupon_generator, coupon_ops')
FROM STRING_SPLIT(@Roles, N' ') AS r
WHERE r.value <> N'' AND r.value NOT IN (N'coupon_api', N'coupon_generator', N'coupon_ops');
IF @msg IS NOT NULL
BEGIN
    THROW 50400, @msg, 1;
END;
IF DATABASE_PRINCIPAL_ID(@Name) IS NULL
BEGIN
    SET @sql = CONCAT(N'CREATE USER ', QUOTENAME(@Name), N' FROM EXTERNAL PROVIDER WITH OBJECT_ID = ''',
                      CONVERT(nchar(36), @ObjectId), N''';');
    EXEC sys.sp_executesql @sql;
END;
SET @sql = N'';
SELECT @sql = @sql + CONCAT(N'ALTER ROLE ', QUOTENAME(r.value), N' ADD MEMBER ', QUOTENAME(@Name), N'; ')
FROM STRING_SPLIT(@Roles, N' ') AS r
WHERE r.value <> N'';
IF EXISTS (SELECT 1 FROM sys.database_role_members
           WHERE role_principal_id = DATABASE_PRINCIPAL_ID(N'coupon_app') AND member_principal_id = DATABASE_PRINCIPAL_ID(@Name))
    SET @sql = CONCAT(@sql, N'ALTER ROLE coupon_app DROP MEMBER ', QUOTENAME(@Name), N';');
EXEC sys.sp_executesql @sql;
GO
