-- Generation requests, their claim, bulk insert of codes, prefix count and export.
-- Twin: database/mssql/R__0400_generation.sql.
-- Repeatable (see docs/database.md, "Migrations"): re-applied whenever this file or one before it
-- changes, and after every numbered migration. Edit the definitions here; never in the numbered
-- files. CREATE OR REPLACE keeps grants; a change of signature, return type or view columns needs a
-- DROP ... IF EXISTS before the CREATE (CASCADE is safe: every later repeatable file is re-applied).
--
-- Errors raised here carry our own SQLSTATEs, mapped once in packages/db/src/errors.ts:
--   CP400 invalid input, CP404 not found, CP409 conflict / wrong state, CP413 request cap exceeded,
--   CP422 idempotency key reused with another request, CP423 generation request held by a worker.

DROP FUNCTION IF EXISTS sp_CreateGenerationRequest(text, text, int, text, timestamptz, text, int);
CREATE OR REPLACE FUNCTION sp_CreateGenerationRequest(
    p_RequestId text, p_CampaignId text, p_RequestedAmount int, p_Prefix text,
    p_ExpirationDate timestamptz, p_RequestedBy text, p_CodeLength int, p_Traceparent varchar(55) DEFAULT NULL)
RETURNS SETOF GenerationRequests LANGUAGE plpgsql AS $$
DECLARE
    v_req GenerationRequests%ROWTYPE;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM Campaigns WHERE CampaignId = p_CampaignId) THEN
        RAISE EXCEPTION 'campaign % does not exist', p_CampaignId USING ERRCODE = 'CP404';
    END IF;
    SELECT * INTO v_req FROM GenerationRequests WHERE RequestId = p_RequestId FOR UPDATE;
    IF FOUND THEN
        -- A Failed or Cancelled request is resubmitted by creating it again: edited, then Requested.
        -- Codes made already keep their shape, so with codes the prefix, length and expiry stay.
        IF v_req.Status NOT IN ('Failed', 'Cancelled') OR v_req.CampaignId <> p_CampaignId THEN
            RAISE EXCEPTION 'generation request % exists already (%, campaign %); only a Failed or Cancelled request of the same campaign is resubmitted',
                p_RequestId, v_req.Status, v_req.CampaignId USING ERRCODE = 'CP409';
        END IF;
        IF p_RequestedAmount < v_req.GeneratedAmount THEN
            RAISE EXCEPTION 'generation request % has % codes already; the amount cannot go below that', p_RequestId, v_req.GeneratedAmount
                USING ERRCODE = 'CP409';
        END IF;
        IF v_req.GeneratedAmount > 0 AND (upper(coalesce(p_Prefix, '')) <> v_req.Prefix OR coalesce(p_CodeLength, 12) <> v_req.CodeLength
                OR p_ExpirationDate IS DISTINCT FROM v_req.ExpirationDate) THEN
            RAISE EXCEPTION 'generation request % has % codes already; only its amount can change (create a new request for another prefix, length or expiry)',
                p_RequestId, v_req.GeneratedAmount USING ERRCODE = 'CP409';
        END IF;
        UPDATE GenerationRequests
        SET RequestedAmount = p_RequestedAmount, Prefix = upper(coalesce(p_Prefix, '')), CodeLength = coalesce(p_CodeLength, 12),
            ExpirationDate = p_ExpirationDate, RequestedBy = coalesce(p_RequestedBy, RequestedBy), Status = 'Requested',
            FailureReason = NULL, CompletedAt = NULL, UpdatedAt = now(), Traceparent = p_Traceparent
        WHERE RequestId = p_RequestId;
        RETURN QUERY SELECT * FROM GenerationRequests WHERE RequestId = p_RequestId;
        RETURN;
    END IF;
    INSERT INTO GenerationRequests (RequestId, CampaignId, RequestedAmount, Prefix, ExpirationDate, RequestedBy, CodeLength, Traceparent)
    VALUES (p_RequestId, p_CampaignId, p_RequestedAmount, upper(coalesce(p_Prefix, '')), p_ExpirationDate,
            p_RequestedBy, coalesce(p_CodeLength, 12), p_Traceparent);
    RETURN QUERY SELECT * FROM GenerationRequests WHERE RequestId = p_RequestId;
END $$;

CREATE OR REPLACE FUNCTION sp_GetGenerationRequest(p_RequestId text)
RETURNS SETOF GenerationRequests LANGUAGE sql STABLE AS $$
    SELECT * FROM GenerationRequests WHERE RequestId = p_RequestId
$$;

-- Newest first, in keyset pages: p_AfterRequestId is the last request of the page before (its
-- CreatedAt is read here, at the database's precision, so no request is skipped or repeated).
DROP FUNCTION IF EXISTS sp_ListGenerationRequests(text, text, int);
CREATE OR REPLACE FUNCTION sp_ListGenerationRequests(p_CampaignId text, p_Status text, p_Limit int, p_AfterRequestId text)
RETURNS SETOF GenerationRequests LANGUAGE sql STABLE AS $$
    SELECT * FROM GenerationRequests
    WHERE (p_CampaignId IS NULL OR CampaignId = p_CampaignId) AND (p_Status IS NULL OR Status = p_Status)
      AND (p_AfterRequestId IS NULL
           OR (CreatedAt, RequestId) < (SELECT a.CreatedAt, a.RequestId FROM GenerationRequests a WHERE a.RequestId = p_AfterRequestId))
    ORDER BY CreatedAt DESC, RequestId DESC
    LIMIT greatest(1, least(coalesce(p_Limit, 100), 1000))
$$;

-- Claims the request for one worker. The claim is a session-level advisory lock: it lives exactly
-- as long as the worker's connection, so a crashed worker's request is free for the next one at
-- once. The caller keeps this connection open while it works and calls sp_ReleaseGenerationRequest
-- (or closes the connection) at the end.
CREATE OR REPLACE FUNCTION sp_ClaimGenerationRequest(p_RequestId text, p_WorkerId text)
RETURNS SETOF GenerationRequests LANGUAGE plpgsql AS $$
DECLARE
    v_req GenerationRequests%ROWTYPE;
BEGIN
    SELECT * INTO v_req FROM GenerationRequests WHERE RequestId = p_RequestId;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'generation request % does not exist', p_RequestId USING ERRCODE = 'CP404';
    END IF;
    IF NOT pg_try_advisory_lock(hashtext('coupons.generation'), hashtext(p_RequestId)) THEN
        RAISE EXCEPTION 'generation request % is being worked by %', p_RequestId, coalesce(v_req.WorkerId, 'another worker')
            USING ERRCODE = 'CP423';
    END IF;
    IF v_req.Status = 'Generated' THEN
        RETURN QUERY SELECT * FROM GenerationRequests WHERE RequestId = p_RequestId;
        RETURN;
    END IF;
    IF v_req.Status = 'Cancelled' THEN
        PERFORM pg_advisory_unlock(hashtext('coupons.generation'), hashtext(p_RequestId));
        RAISE EXCEPTION 'generation request % is Cancelled; retry it to run it again', p_RequestId USING ERRCODE = 'CP409';
    END IF;
    UPDATE GenerationRequests
    SET Status = 'Generating', WorkerId = p_WorkerId, StartedAt = coalesce(StartedAt, now()),
        FailureReason = NULL, CompletedAt = NULL, UpdatedAt = now()
    WHERE RequestId = p_RequestId;
    RETURN QUERY SELECT * FROM GenerationRequests WHERE RequestId = p_RequestId;
END $$;

CREATE OR REPLACE FUNCTION sp_ReleaseGenerationRequest(p_RequestId text)
RETURNS boolean LANGUAGE sql AS $$
    SELECT pg_advisory_unlock(hashtext('coupons.generation'), hashtext(p_RequestId))
$$;

-- sp_UpdateGenerationRequest: status with its timestamps. Generated needs every code inserted;
-- Failed needs a reason a person can act on; Generated is final.
CREATE OR REPLACE FUNCTION sp_UpdateGenerationRequest(p_RequestId text, p_Status text, p_FailureReason text)
RETURNS SETOF GenerationRequests LANGUAGE plpgsql AS $$
DECLARE
    v_req GenerationRequests%ROWTYPE;
BEGIN
    SELECT * INTO v_req FROM GenerationRequests WHERE RequestId = p_RequestId FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'generation request % does not exist', p_RequestId USING ERRCODE = 'CP404';
    END IF;
    IF p_Status NOT IN ('Requested', 'Generating', 'Generated', 'Failed') THEN
        RAISE EXCEPTION 'status must be one of Requested, Generating, Generated, Failed (got %)', p_Status USING ERRCODE = 'CP400';
    END IF;
    IF v_req.Status = 'Generated' AND p_Status <> 'Generated' THEN
        RAISE EXCEPTION 'generation request % is Generated; it cannot become %', p_RequestId, p_Status USING ERRCODE = 'CP409';
    END IF;
    IF v_req.Status = 'Cancelled' AND p_Status NOT IN ('Requested', 'Cancelled') THEN
        RAISE EXCEPTION 'generation request % is Cancelled; it can only be retried (Requested), not become %', p_RequestId, p_Status
            USING ERRCODE = 'CP409';
    END IF;
    IF p_Status = 'Generated' AND v_req.GeneratedAmount <> v_req.RequestedAmount THEN
        RAISE EXCEPTION 'generation request % has % of % codes; it cannot be Generated yet',
            p_RequestId, v_req.GeneratedAmount, v_req.RequestedAmount USING ERRCODE = 'CP409';
    END IF;
    IF p_Status = 'Failed' AND (p_FailureReason IS NULL OR length(btrim(p_FailureReason)) = 0) THEN
        RAISE EXCEPTION 'a Failed status needs a failure reason' USING ERRCODE = 'CP400';
    END IF;
    UPDATE GenerationRequests
    SET Status = p_Status,
        StartedAt = CASE WHEN p_Status = 'Generating' THEN coalesce(StartedAt, now()) ELSE StartedAt END,
        CompletedAt = CASE WHEN p_Status = 'Generated' THEN coalesce(CompletedAt, now()) ELSE NULL END,
        FailureReason = CASE WHEN p_Status = 'Failed' THEN left(p_FailureReason, 1000) ELSE NULL END,
        UpdatedAt = now()
    WHERE RequestId = p_RequestId;
    RETURN QUERY SELECT * FROM GenerationRequests WHERE RequestId = p_RequestId;
END $$;

-- sp_BulkInsertCoupons: one JSON array of codes, one transaction. Inserts the codes that do not
-- exist yet, adds the number inserted to GeneratedAmount (never past RequestedAmount: the whole
-- batch is refused with CP413 instead) and returns the codes that existed already. The request row
-- is touched last, so concurrent batches of one request overlap their inserts and serialize only
-- on that short update.
CREATE OR REPLACE FUNCTION sp_BulkInsertCoupons(p_RequestId text, p_Codes json,
    OUT inserted int, OUT existing text[], OUT generatedamount int, OUT requestedamount int)
LANGUAGE plpgsql AS $$
DECLARE
    v_req GenerationRequests%ROWTYPE;
    v_sent int;
BEGIN
    SELECT * INTO v_req FROM GenerationRequests WHERE RequestId = p_RequestId;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'generation request % does not exist', p_RequestId USING ERRCODE = 'CP404';
    END IF;
    IF v_req.Status <> 'Generating' THEN
        RAISE EXCEPTION 'generation request % is %, not Generating; claim it first', p_RequestId, v_req.Status
            USING ERRCODE = 'CP409';
    END IF;
    IF p_Codes IS NULL OR json_typeof(p_Codes) <> 'array' THEN
        RAISE EXCEPTION 'codes must be a JSON array of strings' USING ERRCODE = 'CP400';
    END IF;
    INSERT INTO Coupons (CouponCode, CampaignId, ExpiresAt, GenerationBatchId)
    SELECT upper(btrim(c)), v_req.CampaignId, v_req.ExpirationDate, p_RequestId
    FROM json_array_elements_text(p_Codes) c
    ON CONFLICT (CouponCode) DO NOTHING;
    GET DIAGNOSTICS inserted = ROW_COUNT;

    UPDATE GenerationRequests g
    SET GeneratedAmount = g.GeneratedAmount + inserted, UpdatedAt = now()
    WHERE g.RequestId = p_RequestId AND g.GeneratedAmount + inserted <= g.RequestedAmount
    RETURNING g.GeneratedAmount, g.RequestedAmount INTO generatedamount, requestedamount;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'batch of % codes would pass RequestedAmount % of generation request %',
            inserted, v_req.RequestedAmount, p_RequestId USING ERRCODE = 'CP413';
    END IF;

    v_sent := json_array_length(p_Codes);
    IF inserted < v_sent THEN
        -- rows this transaction did not create existed before it (collisions are rare: only then
        -- is this second pass paid for)
        SELECT coalesce(array_agg(DISTINCT upper(btrim(c))), '{}') INTO existing
        FROM json_array_elements_text(p_Codes) c
        JOIN Coupons x ON x.CouponCode = upper(btrim(c))
        WHERE x.xmin <> pg_current_xact_id()::xid;
    ELSE
        existing := '{}';
    END IF;
END $$;

CREATE OR REPLACE FUNCTION sp_CountCouponsWithPrefix(p_Prefix text)
RETURNS bigint LANGUAGE sql STABLE AS $$
    SELECT count(*) FROM Coupons WHERE CouponCode LIKE replace(replace(replace(upper(coalesce(p_Prefix, '')), '\', '\\'), '%', '\%'), '_', '\_') || '%'
$$;

-- Keyset pages of codes for export (constant memory on every engine).
CREATE OR REPLACE FUNCTION sp_ExportCoupons(p_CampaignId text, p_RequestId text, p_AfterCouponId bigint, p_Limit int)
RETURNS TABLE (CouponId bigint, CouponCode varchar, CampaignId varchar, ExpiresAt timestamptz,
               GenerationBatchId varchar, CreatedAt timestamptz)
LANGUAGE sql STABLE AS $$
    SELECT c.CouponId, c.CouponCode, c.CampaignId, c.ExpiresAt, c.GenerationBatchId, c.CreatedAt
    FROM Coupons c
    WHERE (p_CampaignId IS NULL OR c.CampaignId = p_CampaignId)
      AND (p_RequestId IS NULL OR c.GenerationBatchId = p_RequestId)
      AND c.CouponId > coalesce(p_AfterCouponId, 0)
    ORDER BY c.CouponId
    LIMIT p_Limit
$$;

-- sp_CancelGenerationRequest: Requested, Generating or Failed -> Cancelled. A worker holding it stops
-- at its next batch (sp_BulkInsertCoupons refuses a request that is not Generating) and keeps what
-- it inserted. Cancelling a Cancelled request changes nothing; a Generated one is refused.
CREATE OR REPLACE FUNCTION sp_CancelGenerationRequest(p_RequestId text)
RETURNS SETOF GenerationRequests LANGUAGE plpgsql AS $$
DECLARE
    v_req GenerationRequests%ROWTYPE;
BEGIN
    SELECT * INTO v_req FROM GenerationRequests WHERE RequestId = p_RequestId FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'generation request % does not exist', p_RequestId USING ERRCODE = 'CP404';
    END IF;
    IF v_req.Status = 'Generated' THEN
        RAISE EXCEPTION 'generation request % is Generated; there is nothing left to cancel', p_RequestId USING ERRCODE = 'CP409';
    END IF;
    IF v_req.Status <> 'Cancelled' THEN
        UPDATE GenerationRequests SET Status = 'Cancelled', FailureReason = NULL, UpdatedAt = now()
        WHERE RequestId = p_RequestId;
    END IF;
    RETURN QUERY SELECT * FROM GenerationRequests WHERE RequestId = p_RequestId;
END $$;

SELECT fn_SecureProcedures(ARRAY['sp_CreateGenerationRequest', 'sp_GetGenerationRequest', 'sp_ListGenerationRequests',
    'sp_ClaimGenerationRequest', 'sp_ReleaseGenerationRequest', 'sp_UpdateGenerationRequest', 'sp_BulkInsertCoupons',
    'sp_CountCouponsWithPrefix', 'sp_ExportCoupons', 'sp_CancelGenerationRequest']);
