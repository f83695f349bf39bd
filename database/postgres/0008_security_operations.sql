-- 0008: the operations procedures of 0005-0007 run as their owner too, and coupon_app may execute
-- them (twin of database/mssql/0008_security_operations.sql). The archive is granted because the
-- generator's identity runs it as an ACI job; it only moves rows between two tables.
SELECT fn_SecureProcedures(ARRAY['sp_ArchiveRedemptionHistory', 'sp_ListArchivableHistory', 'sp_FraudReport', 'sp_GetScaleStatus']);
