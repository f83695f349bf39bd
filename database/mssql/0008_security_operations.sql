-- 0008: EXECUTE for coupon_app on the operations procedures of 0005-0007 (as 0004 does for the
-- rest; GRANT is idempotent). The archive is granted because the generator's identity runs it as an
-- ACI job; it only moves rows between two tables, it deletes nothing. Twin: database/postgres/0008.

SET XACT_ABORT ON;
GO
GRANT EXECUTE ON dbo.sp_ArchiveRedemptionHistory TO coupon_app;
GRANT EXECUTE ON dbo.sp_ListArchivableHistory TO coupon_app;
GRANT EXECUTE ON dbo.sp_FraudReport TO coupon_app;
GRANT EXECUTE ON dbo.sp_GetScaleStatus TO coupon_app;
GO
