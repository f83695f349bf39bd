-- 0004: the application's database role. Its members may EXECUTE the procedures the store calls and
-- nothing else: no SELECT, INSERT, UPDATE or DELETE on any table or view (the seed's security model:
-- managed identity, execute permissions on procedures only, least privilege). Procedures reach their
-- tables through ownership chaining (everything is owned by dbo), so no table grant is needed; the
-- internal helpers (fn_CheckRedemption, fn_TakeCampaignUnit) and the maintenance procedure
-- sp_SyncCampaignCounters are deliberately not granted.
-- Twin: database/postgres/0004_security.sql (SECURITY DEFINER procedures and the same role).
-- Members are added by database/mssql/security/add_managed_identity.sql, which is not a migration.
-- Re-runnable: the role is created when missing; GRANT is idempotent.

SET XACT_ABORT ON;
GO
IF DATABASE_PRINCIPAL_ID(N'coupon_app') IS NULL
    CREATE ROLE coupon_app AUTHORIZATION dbo;
GO
GRANT EXECUTE ON dbo.sp_CreateCampaign TO coupon_app;
GRANT EXECUTE ON dbo.sp_GetCampaign TO coupon_app;
GRANT EXECUTE ON dbo.sp_GetActiveCampaigns TO coupon_app;
GRANT EXECUTE ON dbo.sp_GetRedemptionStats TO coupon_app;
GRANT EXECUTE ON dbo.sp_GetCouponDetails TO coupon_app;
GRANT EXECUTE ON dbo.sp_RedeemCoupon TO coupon_app;
GRANT EXECUTE ON dbo.sp_ValidateCoupon TO coupon_app;
GRANT EXECUTE ON dbo.sp_AssignCoupon TO coupon_app;
GRANT EXECUTE ON dbo.sp_ListRedemptionAttempts TO coupon_app;
GRANT EXECUTE ON dbo.sp_CreateGenerationRequest TO coupon_app;
GRANT EXECUTE ON dbo.sp_GetGenerationRequest TO coupon_app;
GRANT EXECUTE ON dbo.sp_ListGenerationRequests TO coupon_app;
GRANT EXECUTE ON dbo.sp_ClaimGenerationRequest TO coupon_app;
GRANT EXECUTE ON dbo.sp_ReleaseGenerationRequest TO coupon_app;
GRANT EXECUTE ON dbo.sp_UpdateGenerationRequest TO coupon_app;
GRANT EXECUTE ON dbo.sp_BulkInsertCoupons TO coupon_app;
GRANT EXECUTE ON dbo.sp_CountCouponsWithPrefix TO coupon_app;
GRANT EXECUTE ON dbo.sp_ExportCoupons TO coupon_app;
GO
