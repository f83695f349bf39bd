-- 0010: what the procedures need of the server, checked once where it is migrated. Twin of
-- database/mssql/0010_server_requirements.sql (whose check is the database's compatibility level).
-- PostgreSQL 13 or higher: sp_BulkInsertCoupons tells its own rows from older ones with
-- pg_current_xact_id(), which does not exist below 13. PGlite reports the version it is built from.
DO $$
BEGIN
    IF current_setting('server_version_num')::int < 130000 THEN
        RAISE EXCEPTION 'PostgreSQL % is too old: the procedures need 13 or higher (pg_current_xact_id)',
            current_setting('server_version') USING ERRCODE = 'XX000';
    END IF;
END $$;
