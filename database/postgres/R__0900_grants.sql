-- Which role may EXECUTE which procedure: the ONE place (twin: database/mssql/R__0900_grants.sql,
-- which must list the same lines; packages/db/test/grants-map.test.ts compares them and fails when
-- an sp_ procedure of either dialect has no line here). The last repeatable file, so it runs after
-- every file that (re)defines a procedure. fn_GrantProcedures (R__0010_security.sql) revokes every
-- EXECUTE grant on an sp_ procedure and grants exactly these; coupon_app, the role of deployments
-- made before 0014, is a member of all three roles (see 0014_least_privilege.sql).
-- One line per procedure: its name, then the roles of the processes that call it:
--   coupon_api        the redeem API (apps/redeem-api); its embedded worker runs only on the
--                     embedded engine, which has no roles, so it needs no generator grants
--   coupon_generator  the generation worker and job: coupons worker | run | generate | dispatch | export
--   coupon_ops        operations: coupons-ops archive | fraud-report | status | purge-idempotency-keys
--                     and the operator's commands (campaign, request, expire, export)
-- A name alone: no role may call it. Adding a procedure = adding its line here and in the twin.
SELECT fn_GrantProcedures(ARRAY[
    'sp_CreateCampaign               coupon_api coupon_ops',
    'sp_GetCampaign                  coupon_api coupon_generator coupon_ops',
    'sp_GetActiveCampaigns           coupon_api coupon_ops',
    'sp_GetRedemptionStats           coupon_api coupon_ops',
    'sp_ListCampaigns                coupon_api coupon_ops',
    'sp_UpdateCampaign               coupon_api coupon_ops',
    'sp_DeleteCampaign               coupon_api coupon_ops',
    'sp_ExpireCoupons                coupon_api coupon_ops',
    'sp_SyncCampaignCounters',
    'sp_GetCouponDetails             coupon_api',
    'sp_RedeemCoupon                 coupon_api',
    'sp_ValidateCoupon               coupon_api',
    'sp_AssignCoupon                 coupon_api',
    'sp_ListRedemptionAttempts       coupon_ops',
    'sp_CreateGenerationRequest      coupon_api coupon_generator coupon_ops',
    'sp_GetGenerationRequest         coupon_api coupon_generator coupon_ops',
    'sp_ListGenerationRequests       coupon_api coupon_generator coupon_ops',
    'sp_CountCouponsWithPrefix       coupon_api coupon_generator coupon_ops',
    'sp_CancelGenerationRequest      coupon_api coupon_ops',
    'sp_ClaimGenerationRequest       coupon_generator',
    'sp_ReleaseGenerationRequest     coupon_generator',
    'sp_UpdateGenerationRequest      coupon_generator coupon_ops',
    'sp_BulkInsertCoupons            coupon_generator',
    'sp_ExportCoupons                coupon_generator coupon_ops',
    'sp_ArchiveRedemptionHistory     coupon_ops',
    'sp_ListArchivableHistory        coupon_ops',
    'sp_FraudReport                  coupon_api coupon_ops',
    'sp_GetScaleStatus               coupon_ops',
    'sp_PurgeIdempotencyKeys         coupon_ops',
    'sp_ReverseRedemption             coupon_api',
    'sp_ListUserRedemptions           coupon_api',
    'sp_GetIdempotentOutcome          coupon_api',
    'sp_RecordThrottledAttempts       coupon_api',
    'sp_RefreshCampaignCounters       coupon_api',
    'sp_RollupCampaignStats           coupon_api',
    'sp_GetCampaignStatsSeries        coupon_api coupon_ops'
]);
