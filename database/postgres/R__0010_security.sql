-- Security helper of every repeatable file after this one (twin: database/mssql/R__0010_security.sql).
-- The role coupon_app and the revocations from PUBLIC are schema, in 0004_security.sql; each area
-- file ends by calling fn_SecureProcedures with the procedures it grants, in its own transaction,
-- because CREATE OR REPLACE FUNCTION resets SECURITY DEFINER and search_path.
-- Repeatable (see docs/database.md, "Migrations"): re-applied whenever this file or one before it
-- changes, and after every numbered migration. Edit the definitions here; never in the numbered
-- files. CREATE OR REPLACE keeps grants; a change of signature, return type or view columns needs a
-- DROP ... IF EXISTS before the CREATE (CASCADE is safe: every later repeatable file is re-applied).

-- Makes every sp_ procedure run as its owner with a fixed search_path, and grants EXECUTE on the
-- named ones to coupon_app. Every repeatable area file calls it at its end.
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
