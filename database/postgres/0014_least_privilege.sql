-- 0014: least privilege (twin: database/mssql/0014_least_privilege.sql). One NOLOGIN role per
-- process, each granted EXECUTE on only the procedures it calls (the map: R__0900_grants.sql):
-- coupon_api (the redeem API), coupon_generator (generation worker and job), coupon_ops (operations
-- and the operator's commands). coupon_app, the single role of 0004, stays for deployments made
-- before: it becomes a member of the three (its members keep what they had) and holds no grant of
-- its own; move each service's login to its own role, then drop coupon_app's members.
-- The SECURITY DEFINER procedures are owned by coupon_owner: NOLOGIN, not a superuser, DML on the
-- tables only (fn_SecureProcedures in R__0010_security.sql hands them over), so a procedure runs
-- with no more right than that, whoever migrated. No login may create objects in schema public.
-- Roles belong to the whole server (another database may have made them): created when missing.
-- The migrating user must be a superuser or have CREATEROLE (Azure Database for PostgreSQL: the
-- server admin has it), or an administrator creates the roles first; it is then made a member of
-- coupon_owner, which it needs to hand its functions over and to replace them later.
DO $$
DECLARE
    v_super boolean;
    v_createrole boolean;
    v_can_set boolean;
    v_role text;
    v_missing text[] := '{}';
BEGIN
    SELECT rolsuper, rolcreaterole INTO v_super, v_createrole FROM pg_roles WHERE rolname = current_user;
    FOREACH v_role IN ARRAY ARRAY['coupon_owner', 'coupon_api', 'coupon_generator', 'coupon_ops', 'coupon_app'] LOOP
        CONTINUE WHEN to_regrole(v_role) IS NOT NULL;
        IF NOT v_super AND NOT v_createrole THEN
            v_missing := v_missing || v_role;
            CONTINUE;
        END IF;
        BEGIN
            EXECUTE format('CREATE ROLE %I NOLOGIN', v_role);
        EXCEPTION WHEN duplicate_object OR unique_violation THEN
            NULL; -- another database's migration made it just now
        END;
    END LOOP;
    IF cardinality(v_missing) > 0 THEN
        RAISE EXCEPTION 'migration 0014 needs the roles % and % may not create them (neither superuser nor CREATEROLE): migrate as a user with CREATEROLE (Azure: the server admin), or have one run: % GRANT coupon_owner TO %;',
            array_to_string(v_missing, ', '), current_user,
            (SELECT string_agg(format('CREATE ROLE %I NOLOGIN;', m), ' ') FROM unnest(v_missing) m), quote_ident(current_user)
            USING ERRCODE = '42501';
    END IF;
    IF (SELECT rolsuper OR rolcanlogin FROM pg_roles WHERE rolname = 'coupon_owner') THEN
        RAISE EXCEPTION 'role coupon_owner exists and is a superuser or may log in; the procedures must run as a NOLOGIN role without superuser: ALTER ROLE coupon_owner NOSUPERUSER NOLOGIN'
            USING ERRCODE = '42501';
    END IF;
    -- A superuser hands objects to any role; anyone else must be able to SET ROLE coupon_owner.
    -- (PostgreSQL 16+: a CREATEROLE user holds the roles it creates WITH ADMIN but not SET.)
    IF current_setting('server_version_num')::int >= 160000 THEN
        EXECUTE 'SELECT pg_has_role(current_user, ''coupon_owner'', ''SET'')' INTO v_can_set;
    ELSE
        v_can_set := pg_has_role(current_user, 'coupon_owner', 'MEMBER');
    END IF;
    IF NOT v_super AND NOT v_can_set THEN
        BEGIN
            EXECUTE format('GRANT coupon_owner TO %I', current_user);
        EXCEPTION WHEN insufficient_privilege OR invalid_grant_operation THEN
            RAISE EXCEPTION 'migration 0014: % must be a member of coupon_owner, which owns the procedures, and may not make itself one: migrate as a user with CREATEROLE (Azure: the server admin), or have one run: GRANT coupon_owner TO %;',
                current_user, quote_ident(current_user) USING ERRCODE = '42501';
        END;
    END IF;
    -- coupon_app (0004) gets the three roles: the logins in it keep working until they are moved.
    FOREACH v_role IN ARRAY ARRAY['coupon_api', 'coupon_generator', 'coupon_ops'] LOOP
        CONTINUE WHEN pg_has_role('coupon_app', v_role, 'MEMBER');
        BEGIN
            EXECUTE format('GRANT %I TO coupon_app', v_role);
        EXCEPTION WHEN unique_violation OR duplicate_object THEN
            NULL; -- granted by another database's migration just now
        END;
    END LOOP;
END $$;

-- Nobody creates objects in public but its owner (on PostgreSQL 14 and older PUBLIC could, and a
-- planted operator or function would then run inside the procedures). Only the schema's owner or
-- a superuser can revoke; anyone else gets a warning, and PostgreSQL 15+ has it so already.
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
GRANT USAGE ON SCHEMA public TO coupon_api, coupon_generator, coupon_ops, coupon_owner;
