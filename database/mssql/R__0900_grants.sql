-- Which role may EXECUTE which procedure: the ONE place (twin: database/postgres/R__0900_grants.sql,
-- which must list the same lines; packages/db/test/grants-map.test.ts compares them and fails when
-- an sp_ procedure of either dialect has no line here). The last repeatable file, so it runs after
-- every file that (re)defines a procedure: it revokes every EXECUTE grant on a dbo.sp_ procedure
-- (the area files' GRANTs to coupon_app included) and grants exactly these. coupon_app, the role of
-- deployments made before 0014, is a member of all three roles (see 0014_least_privilege.sql).
-- One line per procedure: its name, then the roles of the processes that call it:
--   coupon_api        the redeem API (apps/redeem-api); its embedded worker runs only on the
--                     embedded engine, which has no roles, so it needs no generator grants
--   coupon_generator  the generation worker and job: coupons worker | run | generate | dispatch | export
--   coupon_ops        operations: coupons-ops archive | fraud-report | status | purge-idempotency-keys
--                     and the operator's commands (campaign, request, expire, export)
-- A name alone: no role may call it. Adding a procedure = adding its line here and in the twin.
-- A line naming a procedure that does not exist, a role not among the three, or a procedure twice
-- is refused (error 50500) and nothing of this file is kept.

SET XACT_ABORT ON;
GO
DECLARE @map TABLE (Line nvarchar(400) NOT NULL);
INSERT INTO @map (Line) VALUES
    (N'sp_CreateCampaign               coupon_api coupon_ops'),
    (N'sp_GetCampaign                  coupon_api coupon_generator coupon_ops'),
    (N'sp_GetActiveCampaigns           coupon_api coupon_ops'),
    (N'sp_GetRedemptionStats           coupon_api coupon_ops'),
    (N'sp_ListCampaigns                coupon_api coupon_ops'),
    (N'sp_UpdateCampaign               coupon_api coupon_ops'),
    (N'sp_DeleteCampaign               coupon_api coupon_ops'),
    (N'sp_ExpireCoupons                coupon_api coupon_ops'),
    (N'sp_SyncCampaignCounters'),
    (N'sp_GetCouponDetails             coupon_api'),
    (N'sp_RedeemCoupon                 coupon_api'),
    (N'sp_ValidateCoupon               coupon_api'),
    (N'sp_AssignCoupon                 coupon_api'),
    (N'sp_ListRedemptionAttempts       coupon_ops'),
    (N'sp_CreateGenerationRequest      coupon_api coupon_generator coupon_ops'),
    (N'sp_GetGenerationRequest         coupon_api coupon_generator coupon_ops'),
    (N'sp_ListGenerationRequests       coupon_api coupon_generator coupon_ops'),
    (N'sp_CountCouponsWithPrefix       coupon_api coupon_generator coupon_ops'),
    (N'sp_CancelGenerationRequest      coupon_api coupon_ops'),
    (N'sp_ClaimGenerationRequest       coupon_generator'),
    (N'sp_ReleaseGenerationRequest     coupon_generator'),
    (N'sp_UpdateGenerationRequest      coupon_generator coupon_ops'),
    (N'sp_BulkInsertCoupons            coupon_generator'),
    (N'sp_ExportCoupons                coupon_generator coupon_ops'),
    (N'sp_ArchiveRedemptionHistory     coupon_ops'),
    (N'sp_ListArchivableHistory        coupon_ops'),
    (N'sp_FraudReport                  coupon_api coupon_ops'),
    (N'sp_GetScaleStatus               coupon_ops'),
    (N'sp_PurgeIdempotencyKeys         coupon_ops'),
    (N'sp_ReverseRedemption             coupon_api'),
    (N'sp_ListUserRedemptions           coupon_api'),
    (N'sp_GetIdempotentOutcome          coupon_api'),
    (N'sp_RecordThrottledAttempts       coupon_api'),
    (N'sp_RefreshCampaignCounters       coupon_api'),
    (N'sp_RollupCampaignStats           coupon_api'),
    (N'sp_GetCampaignStatsSeries        coupon_api coupon_ops');

-- each line split into its procedure and its roles (none: one row with no role)
DECLARE @grants TABLE (ProcName sysname NOT NULL, RoleName sysname NULL);
INSERT INTO @grants (ProcName, RoleName)
SELECT p.ProcName, NULLIF(r.value, N'')
FROM @map AS m
CROSS APPLY (SELECT LTRIM(RTRIM(m.Line)) AS Line) AS t
CROSS APPLY (SELECT LEFT(t.Line, CHARINDEX(N' ', t.Line + N' ') - 1) AS ProcName,
                    LTRIM(SUBSTRING(t.Line, CHARINDEX(N' ', t.Line + N' ') + 1, 400)) AS Roles) AS p
OUTER APPLY STRING_SPLIT(p.Roles, N' ') AS r;

DECLARE @msg nvarchar(2048);
SELECT TOP (1) @msg = CONCAT(N'grants map names procedure ', g.ProcName, N', which does not exist; remove its line or define it')
FROM @grants AS g WHERE OBJECT_ID(N'dbo.' + g.ProcName, N'P') IS NULL;
IF @msg IS NOT NULL
BEGIN
    THROW 50500, @msg, 1;
END;
SELECT TOP (1) @msg = CONCAT(N'grants map line of ', g.ProcName, N' names role ', g.RoleName,
                             N', which is not one of coupon_api, coupon_generator, coupon_ops')
FROM @grants AS g WHERE g.RoleName NOT IN (N'coupon_api', N'coupon_generator', N'coupon_ops');
IF @msg IS NOT NULL
BEGIN
    THROW 50500, @msg, 1;
END;
SELECT TOP (1) @msg = CONCAT(N'grants map lists procedure ', d.ProcName, N' twice; give each procedure one line')
FROM (SELECT LEFT(LTRIM(m.Line), CHARINDEX(N' ', LTRIM(m.Line) + N' ') - 1) AS ProcName FROM @map AS m) AS d
GROUP BY d.ProcName HAVING COUNT(*) > 1;
IF @msg IS NOT NULL
BEGIN
    THROW 50500, @msg, 1;
END;

-- the map is the whole truth: revoke every EXECUTE on a dbo.sp_ procedure, then grant the map's
DECLARE @sql nvarchar(max) = N'';
SELECT @sql = @sql + N'REVOKE EXECUTE ON OBJECT::dbo.' + QUOTENAME(o.name) + N' FROM ' + QUOTENAME(pr.name) + N'; '
FROM sys.database_permissions AS dp
INNER JOIN sys.objects AS o ON o.object_id = dp.major_id
INNER JOIN sys.database_principals AS pr ON pr.principal_id = dp.grantee_principal_id
WHERE dp.class = 1 AND dp.permission_name = N'EXECUTE' AND o.schema_id = SCHEMA_ID(N'dbo') AND o.name LIKE N'sp[_]%'
  AND pr.name IN (N'coupon_api', N'coupon_generator', N'coupon_ops', N'coupon_app', N'public');
SELECT @sql = @sql + N'GRANT EXECUTE ON OBJECT::dbo.' + QUOTENAME(g.ProcName) + N' TO ' + QUOTENAME(g.RoleName) + N'; '
FROM @grants AS g WHERE g.RoleName IS NOT NULL;
EXEC sys.sp_executesql @sql;
GO
