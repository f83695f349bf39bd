-- 0004: the seed's security model on PostgreSQL, twin of database/mssql/0004_security.sql: a role
-- whose members may EXECUTE the procedures the store calls and nothing else (no table or view
-- access). The procedures run as their owner (SECURITY DEFINER, as SQL Server's ownership chaining
-- does) with a fixed search_path, so a service logged in as a member of coupon_app reaches the
-- tables only through them. Internal helpers (fn_*) and the maintenance procedure
-- sp_SyncCampaignCounters are not granted. Members: CREATE ROLE <service> LOGIN IN ROLE coupon_app.

DO $$
BEGIN
    CREATE ROLE coupon_app NOLOGIN; -- roles belong to the whole server: another database may have made it
EXCEPTION WHEN duplicate_object OR unique_violation THEN
    NULL;
END $$;

-- Functions are executable by PUBLIC unless revoked; tables are not readable by others by default.
REVOKE EXECUTE ON ALL FUNCTIONS IN SCHEMA public FROM PUBLIC;
ALTER DEFAULT PRIVILEGES REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC;
REVOKE ALL ON ALL TABLES IN SCHEMA public FROM PUBLIC;
GRANT USAGE ON SCHEMA public TO coupon_app;

-- Makes every sp_ procedure run as its owner with a fixed search_path, and grants EXECUTE on the
-- named ones to coupon_app. Later migrations that add procedures call it again.
CREATE OR REPLACE FUNCTION fn_SecureProcedures(p_Granted text[]) RETURNS int LANGUAGE plpgsql AS $$
DECLARE
    v_fn record;
    v_granted int := 0;
BEGIN
    FOR v_fn IN
        SELECT p.oid::regprocedure AS sig, p.proname
        FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
        WHERE n.nspname = 'public' AND p.proname LIKE 'sp\_%'
    LOOP
        EXECUTE format('ALTER FUNCTION %s SECURITY DEFINER SET search_path = public, pg_temp', v_fn.sig);
        IF v_fn.proname = ANY (SELECT lower(x) FROM unnest(p_Granted) x) THEN
            EXECUTE format('GRANT EXECUTE ON FUNCTION %s TO coupon_app', v_fn.sig);
            v_granted := v_granted + 1;
        END IF;
    END LOOP;
    RETURN v_granted;
END $$;
REVOKE EXECUTE ON FUNCTION fn_SecureProcedures(text[]) FROM PUBLIC;

SELECT fn_SecureProcedures(ARRAY[
    'sp_CreateCampaign', 'sp_GetCampaign', 'sp_GetActiveCampaigns', 'sp_GetRedemptionStats',
    'sp_GetCouponDetails', 'sp_RedeemCoupon', 'sp_ValidateCoupon', 'sp_AssignCoupon',
    'sp_ListRedemptionAttempts', 'sp_CreateGenerationRequest', 'sp_GetGenerationRequest',
    'sp_ListGenerationRequests', 'sp_ClaimGenerationRequest', 'sp_ReleaseGenerationRequest',
    'sp_UpdateGenerationRequest', 'sp_BulkInsertCoupons', 'sp_CountCouponsWithPrefix', 'sp_ExportCoupons']);
