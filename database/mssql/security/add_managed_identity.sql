-- Adds a Microsoft Entra managed identity (or any Entra principal) to the coupon_app role created by
-- database/mssql/0004_security.sql. Not a migration: run it once per identity, by hand or from
-- deployment, connected to the coupons database (not master) as a Microsoft Entra admin of the
-- server; SQL logins cannot create users FROM EXTERNAL PROVIDER.
--
-- Before running, replace coupons-app-identity (three places) with the identity's name:
-- - system-assigned identity: the name of the resource that owns it (the container group running the
--   generator, the App Service / Container App running the redeem API);
-- - user-assigned identity: the identity resource's name. The app then sets COUPONS_MSSQL_CLIENT_ID to
--   that identity's client id, so it asks for a token as that identity (see docs/mssql.md).
--
-- The user gets EXECUTE on the store's procedures through the role and no table access. Re-runnable.

IF DATABASE_PRINCIPAL_ID(N'coupons-app-identity') IS NULL
    CREATE USER [coupons-app-identity] FROM EXTERNAL PROVIDER;
GO
ALTER ROLE coupon_app ADD MEMBER [coupons-app-identity];
GO
