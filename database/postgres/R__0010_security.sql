-- Security helpers of every repeatable file after this one (twin: database/mssql/R__0010_security.sql).
-- The roles are schema: coupon_app and the revocations from PUBLIC in 0004_security.sql; the roles of
-- each process (coupon_api, coupon_generator, coupon_ops) and the owner of the procedures
-- (coupon_owner) in 0014_least_privilege.sql. Which role may EXECUTE which procedure is in ONE
-- place: the map of R__0900_grants.sql, the last repeatable file, which calls fn_GrantProcedures.
-- Repeatable (see docs/database.md, "Migrations"): re-applied whenever this file or one before it
-- changes, and after every numbered migration. Edit the definitions here; never in the numbered
-- files. CREATE OR REPLACE keeps grants; a change of signature, return type or view columns needs a
-- DROP ... IF EXISTS before the CREATE (CASCADE is safe: every later repeatable file is re-applied).

-- Makes every sp_ procedure run as its owner with a fixed search_path (pg_catalog is searched first
-- when the path does not name it, pg_temp last), and hands the procedures, helpers and trigger
-- functions to coupon_owner: a NOLOGIN role that is not a superuser and holds only DML on the
-- tables, so a procedure can do no more than that whoever migrated. Every repeatable area file
-- calls it at its end, because CREATE OR REPLACE FUNCTION resets SECURITY DEFINER and search_path.
-- p_Granted is no longer used (grants: R__0900_grants.sql); the area files still name their
-- procedures there, as a reader's list. Before 0014 has run (a numbered file of an upgrade that
-- calls this) there is no coupon_owner yet: the procedures stay with their creator until it has.
CREATE OR REPLACE FUNCTION fn_SecureProcedures(p_Granted text[]) RETURNS int LANGUAGE plpgsql AS $$
DECLARE
    v_fn record;
    v_owner oid := to_regrole('coupon_owner');
    v_secured int := 0;
BEGIN
    IF v_owner IS NOT NULL THEN
        GRANT USAGE ON SCHEMA public TO coupon_owner;
        GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO coupon_owner;
        GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public TO coupon_owner;
        REVOKE ALL ON SchemaMigrations FROM coupon_owner;
        IF to_regclass('SchemaRepeatables') IS NOT NULL THEN
            REVOKE ALL ON SchemaRepeatables FROM coupon_owner;
        END IF;
    END IF;
    -- A user that is not a superuser may hand an object only to a role that could create it: CREATE
    -- on public is lent to coupon_owner for the hand-over and taken back before the transaction ends.
    IF v_owner IS NOT NULL AND NOT (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) THEN
        GRANT CREATE ON SCHEMA public TO coupon_owner;
    END IF;
    FOR v_fn IN
        SELECT p.oid::regprocedure AS sig, p.proname, p.proowner, p.prokind
        FROM pg_proc p
        WHERE p.pronamespace = 'public'::regnamespace
          AND (p.proname LIKE 'sp\_%' OR p.proname LIKE 'fn\_%' OR p.proname LIKE 'trg\_%')
          AND p.proname NOT IN ('fn_secureprocedures', 'fn_grantprocedures')
    LOOP
        IF v_owner IS NOT NULL AND v_fn.proowner <> v_owner THEN
            BEGIN
                EXECUTE format('ALTER %s %s OWNER TO coupon_owner', CASE v_fn.prokind WHEN 'p' THEN 'PROCEDURE' ELSE 'FUNCTION' END, v_fn.sig);
            EXCEPTION WHEN insufficient_privilege THEN
                RAISE EXCEPTION 'cannot hand % to coupon_owner (%): the migrating user % must own the database (its schema public) and be a member of coupon_owner, or be a superuser',
                    v_fn.sig, SQLERRM, current_user USING ERRCODE = '42501';
            END;
        END IF;
        IF v_fn.proname LIKE 'sp\_%' THEN
            EXECUTE format('ALTER FUNCTION %s SECURITY DEFINER SET search_path = public, pg_temp', v_fn.sig);
            v_secured := v_secured + 1;
        END IF;
    END LOOP;
    IF v_owner IS NOT NULL THEN
        REVOKE CREATE ON SCHEMA public FROM coupon_owner;
    END IF;
    RETURN v_secured;
END $$;
REVOKE EXECUTE ON FUNCTION fn_SecureProcedures(text[]) FROM PUBLIC;

-- The grants of R__0900_grants.sql: p_Map holds one line per sp_ procedure, its name then the roles
-- that may EXECUTE it ('sp_RedeemCoupon coupon_api'; a name alone: no role may). The map is the
-- whole truth: every EXECUTE grant on an sp_ procedure that it does not list is revoked (from the
-- three roles, from the legacy coupon_app, which holds them through membership since 0014, and from
-- PUBLIC). A line naming a procedure that does not exist, a role that is not one of the three, or a
-- procedure twice is refused; a procedure with no line is left callable by no one (the map test in
-- packages/db/test/grants-map.test.ts names the line to add).
CREATE OR REPLACE FUNCTION fn_GrantProcedures(p_Map text[]) RETURNS int LANGUAGE plpgsql AS $$
DECLARE
    v_roles constant text[] := ARRAY['coupon_api', 'coupon_generator', 'coupon_ops'];
    v_line text;
    v_words text[];
    v_proc text;
    v_role text;
    v_seen text[] := '{}';
    v_fn record;
    v_granted int := 0;
BEGIN
    PERFORM fn_SecureProcedures(NULL);
    REVOKE EXECUTE ON ALL FUNCTIONS IN SCHEMA public FROM PUBLIC;
    FOR v_fn IN
        SELECT p.oid::regprocedure AS sig FROM pg_proc p
        WHERE p.pronamespace = 'public'::regnamespace AND p.proname LIKE 'sp\_%'
    LOOP
        EXECUTE format('REVOKE EXECUTE ON FUNCTION %s FROM coupon_api, coupon_generator, coupon_ops, coupon_app', v_fn.sig);
    END LOOP;
    FOREACH v_line IN ARRAY p_Map LOOP
        v_words := regexp_split_to_array(btrim(v_line), '\s+');
        v_proc := lower(v_words[1]);
        IF v_proc !~ '^sp_[a-z0-9_]+$' THEN
            RAISE EXCEPTION 'grants map line "%" does not start with an sp_ procedure name', v_line USING ERRCODE = 'XX000';
        END IF;
        IF v_proc = ANY (v_seen) THEN
            RAISE EXCEPTION 'grants map lists procedure % twice; give each procedure one line', v_words[1] USING ERRCODE = 'XX000';
        END IF;
        v_seen := v_seen || v_proc;
        IF NOT EXISTS (SELECT 1 FROM pg_proc p WHERE p.pronamespace = 'public'::regnamespace AND p.proname = v_proc) THEN
            RAISE EXCEPTION 'grants map names procedure %, which does not exist; remove its line or define it', v_words[1]
                USING ERRCODE = 'XX000';
        END IF;
        FOREACH v_role IN ARRAY v_words[2:] LOOP
            IF NOT v_role = ANY (v_roles) THEN
                RAISE EXCEPTION 'grants map line "%" names role %, which is not one of %', v_line, v_role, v_roles USING ERRCODE = 'XX000';
            END IF;
            FOR v_fn IN
                SELECT p.oid::regprocedure AS sig FROM pg_proc p
                WHERE p.pronamespace = 'public'::regnamespace AND p.proname = v_proc
            LOOP
                EXECUTE format('GRANT EXECUTE ON FUNCTION %s TO %I', v_fn.sig, v_role);
                v_granted := v_granted + 1;
            END LOOP;
        END LOOP;
    END LOOP;
    RETURN v_granted;
END $$;
REVOKE EXECUTE ON FUNCTION fn_GrantProcedures(text[]) FROM PUBLIC;
