-- The redeem API's throttle (issue 12): the stored outcome of an idempotent redemption, read before
-- the throttle so that a replay is answered even while its user or address is locked out, and the
-- batched record of throttled attempts (0013_throttled_attempts.sql) that sp_FraudReport reports.
-- Twin: database/mssql/R__0700_throttle.sql.
-- Repeatable (see docs/database.md, "Migrations"): re-applied whenever this file or one before it
-- changes, and after every numbered migration. Edit the definitions here; never in the numbered
-- files. CREATE OR REPLACE keeps grants; a change of signature, return type or view columns needs a
-- DROP ... IF EXISTS before the CREATE (CASCADE is safe: every later repeatable file is re-applied).
--
-- Errors raised here carry our own SQLSTATEs, mapped once in packages/db/src/errors.ts:
--   CP400 invalid input, CP422 idempotency key reused with another request.

-- The outcome sp_RedeemCoupon stored for the key, as its replay returns it (replayed: true), or
-- NULL when the key has no finished outcome (unknown, or its redemption has not committed yet: that
-- one is not visible here, and the caller goes on to sp_RedeemCoupon, which waits for it). The key
-- with another request hash is refused as sp_RedeemCoupon refuses it. Reads one row by its key.
CREATE OR REPLACE FUNCTION sp_GetIdempotentOutcome(p_IdempotencyKey text, p_RequestHash text)
RETURNS jsonb LANGUAGE plpgsql STABLE AS $$
DECLARE
    v_stored IdempotencyKeys%ROWTYPE;
BEGIN
    IF p_IdempotencyKey IS NULL OR length(p_IdempotencyKey) = 0 OR length(p_IdempotencyKey) > 200 THEN
        RAISE EXCEPTION 'idempotencyKey must be a non-empty string of at most 200 characters' USING ERRCODE = 'CP400';
    END IF;
    SELECT * INTO v_stored FROM IdempotencyKeys WHERE IdempotencyKey = p_IdempotencyKey;
    IF NOT FOUND OR v_stored.Response = '{}'::jsonb THEN
        RETURN NULL;
    END IF;
    IF v_stored.RequestHash <> coalesce(p_RequestHash, '') THEN
        RAISE EXCEPTION 'idempotency key % was used with a different request', p_IdempotencyKey USING ERRCODE = 'CP422';
    END IF;
    RETURN v_stored.Response || jsonb_build_object('replayed', true);
END $$;

-- Adds a batch of per-minute counts, a JSON array of {minute, subjectKind, subject, attempts}:
-- each row's attempts are added to its (subjectKind, minute truncated to the minute, subject) row,
-- created if absent. Rows of the batch with the same key are summed first; the upsert takes rows in
-- key order, so two replicas flushing at once cannot deadlock. Returns the rows written.
CREATE OR REPLACE FUNCTION sp_RecordThrottledAttempts(p_Rows json)
RETURNS int LANGUAGE plpgsql AS $$
DECLARE
    v_n int;
BEGIN
    IF p_Rows IS NULL OR json_typeof(p_Rows) <> 'array' THEN
        RAISE EXCEPTION 'rows must be a JSON array of {minute, subjectKind, subject, attempts}' USING ERRCODE = 'CP400';
    END IF;
    IF EXISTS (SELECT 1 FROM json_to_recordset(p_Rows) AS r(minute timestamptz, "subjectKind" text, subject text, attempts bigint)
               WHERE r.minute IS NULL OR r."subjectKind" IS NULL OR r."subjectKind" NOT IN ('user', 'ip', 'client')
                  OR r.subject IS NULL OR length(r.subject) = 0 OR length(r.subject) > 200
                  OR r.attempts IS NULL OR r.attempts < 1) THEN
        RAISE EXCEPTION 'every row needs a minute, a subjectKind of user, ip or client, a subject of 1-200 characters and attempts of at least 1'
            USING ERRCODE = 'CP400';
    END IF;
    INSERT INTO ThrottledAttempts AS t (SubjectKind, Minute, Subject, Attempts)
    SELECT r."subjectKind", date_trunc('minute', r.minute AT TIME ZONE 'UTC') AT TIME ZONE 'UTC', r.subject, sum(r.attempts)
    FROM json_to_recordset(p_Rows) AS r(minute timestamptz, "subjectKind" text, subject text, attempts bigint)
    GROUP BY 1, 2, 3
    ORDER BY 1, 2, 3
    ON CONFLICT (SubjectKind, Minute, Subject) DO UPDATE SET Attempts = t.Attempts + EXCLUDED.Attempts;
    GET DIAGNOSTICS v_n = ROW_COUNT;
    RETURN v_n;
END $$;

SELECT fn_SecureProcedures(ARRAY['sp_GetIdempotentOutcome', 'sp_RecordThrottledAttempts']);
