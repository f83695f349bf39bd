-- Adds a Microsoft Entra managed identity (or any Entra principal) to the coupon_app role created by
-- database/mssql/0004_security.sql. Not a migration: run it once per identity, by hand or from
-- deployment, connected to the coupons database (not master) as a Microsoft Entra admin of the
-- server; SQL logins cannot create users FROM EXTERNAL PROVIDER.
--
-- Before running, replace the two values in the batch below (scripts/deploy/deploy.sh does, with sed):
-- - coupons-app-identity: the database user's name (any name; the name of the identity reads best);
-- - 00000000-0000-0000-0000-000000000000: the identity's principal (object) id, e.g. `az identity show -g <group> -n <name>
--   --query principalId` for a user-assigned identity, or the `identity.principalId` of the
--   resource that owns a system-assigned one (the container group running the generator, the App
--   Service / Container App running the redeem API).
-- The user is created WITH OBJECT_ID: Entra display names need not be unique, and a name that
-- matches two principals is refused or, worse, matches the wrong one; the object id is exact. A
-- user-assigned identity's app sets COUPONS_MSSQL_CLIENT_ID to its client id (see docs/mssql.md).
--
-- The user gets EXECUTE on the store's procedures through the role and no table access. Re-runnable.

SET XACT_ABORT ON;
GO
DECLARE @Name sysname = N'coupons-app-identity';
DECLARE @ObjectId uniqueidentifier = '00000000-0000-0000-0000-000000000000';
DECLARE @sql nvarchar(max);
-- the all-zero id, written so that the replacement above does not change it
IF @ObjectId = CAST(CAST(0 AS binary(16)) AS uniqueidentifier)
BEGIN
    THROW 50400, N'@ObjectId is still the placeholder: put the identity''s principal (object) id there first', 1;
END;
IF DATABASE_PRINCIPAL_ID(@Name) IS NULL
BEGIN
    SET @sql = CONCAT(N'CREATE USER ', QUOTENAME(@Name), N' FROM EXTERNAL PROVIDER WITH OBJECT_ID = ''',
                      CONVERT(nchar(36), @ObjectId), N''';');
    EXEC sys.sp_executesql @sql;
END;
SET @sql = CONCAT(N'ALTER ROLE coupon_app ADD MEMBER ', QUOTENAME(@Name), N';');
EXEC sys.sp_executesql @sql;
GO
