-- Refused writes to history and version records are audited.  The refusal
-- is an error that rolls back its transaction, so a background worker
-- writes the version.refused entry in a transaction of its own; the
-- refused statement returns once the entry is committed (doc/versioning.md,
-- "Rules").  The error itself is unchanged.

CREATE TABLE refused_t (id int PRIMARY KEY, v text);
INSERT INTO refused_t VALUES (1, 'a'), (2, 'b');
SELECT aisec.track('refused_t') > 0 AS tracked;
SELECT history AS hist, ended AS hist_ended
FROM aisec.tracked WHERE rel = 'refused_t'::regclass \gset
SELECT aisec.create_dataset('refused', ARRAY['refused_t'::regclass]) > 0 AS created;
SELECT aisec.commit('refused', 'one') AS version;
SELECT max(seq) AS seq0 FROM aisec.audit_log \gset

-- The entries written since a given seq, with who did what.
CREATE FUNCTION pg_temp.refusals(after bigint)
RETURNS TABLE (n bigint, actor_is_me boolean, actor text, login_is_me boolean,
               object text, operation text, current_user_is_me boolean, "current_user" text)
LANGUAGE sql AS $$
    SELECT seq - after, actor = session_user, CASE WHEN actor <> session_user THEN actor END,
           login = session_user, object, detail->>'operation',
           detail->>'current_user' = session_user,
           CASE WHEN detail->>'current_user' <> session_user THEN detail->>'current_user' END
    FROM aisec.audit_log
    WHERE seq > after AND action = 'version.refused' ORDER BY seq
$$;
-- Wait (up to a minute) until n refusals after a given seq are in the log:
-- for entries written only after the refused transaction ended.
CREATE FUNCTION pg_temp.await_refusals(after bigint, n int) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    c bigint;
BEGIN
    FOR i IN 1..6000 LOOP
        SELECT count(*) INTO c FROM aisec.audit_log
        WHERE seq > after AND action = 'version.refused';
        EXIT WHEN c >= n;
        PERFORM pg_sleep(0.01);
    END LOOP;
    RETURN c;
END
$$;

-- 1. The extension owner (a superuser here): every kind of write to a
--    history table, its ended-records table and the commit records.
UPDATE :hist SET valid_from = 1;
DELETE FROM :hist;
TRUNCATE :hist;
INSERT INTO :hist (rid, valid_from, hash) VALUES (1, 1, '\x00');
DELETE FROM :hist_ended;
UPDATE aisec.version SET message = 'x';
DELETE FROM aisec.version;
-- (TRUNCATE must name the tables whose foreign keys point at it, or
-- PostgreSQL refuses it before any trigger runs.)
TRUNCATE aisec.version, aisec.version_table, aisec.tag;
-- Statement-level: a write that matches no row is refused too.
UPDATE aisec.version SET message = 'x' WHERE false;
-- One entry per refused statement, already there: the refused statement
-- waited for it.  object is the table, detail the operation and the
-- current_user; actor and login say who, as in every entry.
SELECT * FROM pg_temp.refusals(:seq0);
SELECT max(seq) AS seq1 FROM aisec.audit_log \gset

-- 2. A role that is not the owner but was granted the privileges (so the
--    write gets past PostgreSQL's own checks to aisec's trigger).
CREATE ROLE refused_writer;
GRANT USAGE ON SCHEMA aisec TO refused_writer;
GRANT UPDATE, DELETE, TRUNCATE ON :hist, aisec.version, aisec.version_table, aisec.tag
    TO refused_writer;
SET ROLE refused_writer;
UPDATE :hist SET valid_from = 1;
DELETE FROM aisec.version;
TRUNCATE aisec.version, aisec.version_table, aisec.tag;
RESET ROLE;
-- After SET SESSION AUTHORIZATION the actor (session user) changes too;
-- login stays the role that logged in.
SET SESSION AUTHORIZATION refused_writer;
DELETE FROM :hist;
UPDATE aisec.version SET message = 'x';
TRUNCATE :hist;
RESET SESSION AUTHORIZATION;
SELECT * FROM pg_temp.refusals(:seq1);
SELECT max(seq) AS seq2 FROM aisec.audit_log \gset
-- A role without the privileges is stopped by PostgreSQL before aisec's
-- trigger runs: that is permission denied, and not an aisec refusal.
CREATE ROLE refused_nobody;
SET ROLE refused_nobody;
UPDATE aisec.version SET message = 'x';
RESET ROLE;
SELECT count(*) AS new_refusals FROM pg_temp.refusals(:seq2);

-- 3. A transaction that appended an audit entry holds the audit chain's
--    lock until it ends, so the worker cannot append before then: the
--    refused statement does not wait for it (the statement_timeout shows
--    it returns at once), and the entry follows the transaction's end.
BEGIN;
SET LOCAL statement_timeout = '5s';
SELECT aisec.audit('test.before_refusal', 'refused', '{}') > 0 AS appended;
UPDATE aisec.version SET message = 'x';
ROLLBACK;
SELECT pg_temp.await_refusals(:seq2, 1) AS refusals;
-- The rolled-back entry is gone; the refusal is there, next in the chain.
SELECT seq - :seq2 AS n, action FROM aisec.audit_log WHERE seq > :seq2 ORDER BY seq;
SELECT * FROM pg_temp.refusals(:seq2);
SELECT max(seq) AS seq3 FROM aisec.audit_log \gset

-- The same, with the refusal caught by a savepoint and the transaction
-- committed: its own entry comes first, the refusal right after it.
BEGIN;
SET LOCAL statement_timeout = '5s';
SELECT aisec.audit('test.before_refusal', 'refused', '{}') > 0 AS appended;
SAVEPOINT s;
DELETE FROM :hist_ended;
ROLLBACK TO SAVEPOINT s;
SELECT count(*) AS refusals_seen_inside FROM pg_temp.refusals(:seq3);
COMMIT;
SELECT pg_temp.await_refusals(:seq3, 1) AS refusals;
SELECT seq - :seq3 AS n, action, object FROM aisec.audit_log WHERE seq > :seq3 ORDER BY seq;
SELECT max(seq) AS seq4 FROM aisec.audit_log \gset

-- A lock on the audit log that blocks appends has the same effect.
BEGIN;
SET LOCAL statement_timeout = '5s';
LOCK TABLE aisec.audit_log IN SHARE MODE;
TRUNCATE aisec.version, aisec.version_table, aisec.tag;
ROLLBACK;
SELECT pg_temp.await_refusals(:seq4, 1) AS refusals;
SELECT * FROM pg_temp.refusals(:seq4);

-- 4. Refused writes changed nothing, and the chain is intact: the hashes of
--    the worker's entries follow the documented encoding (doc/audit.md).
SELECT count(*) AS history_rows FROM :hist;
SELECT bool_and(ok) AS all_ok FROM aisec.verify('refused');
CREATE FUNCTION pg_temp.field(t text) RETURNS bytea LANGUAGE sql AS $$
    SELECT CASE WHEN t IS NULL THEN '\xffffffff'::bytea
                ELSE int4send(octet_length(convert_to(t, 'UTF8'))) || convert_to(t, 'UTF8') END
$$;
SELECT count(*) AS refusals,
       bool_and(hash = sha256(prev_hash || convert_to('aisec.audit.v2', 'UTF8')
                              || int8send(seq)
                              || int8send((extract(epoch FROM at) * 1000000)::bigint)
                              || pg_temp.field(actor) || pg_temp.field(login)
                              || pg_temp.field(action) || pg_temp.field(object)
                              || sha256(convert_to(detail::text, 'UTF8')))) AS hashes_match
FROM aisec.audit_log WHERE action = 'version.refused';
SELECT ok FROM aisec.audit_verify();

-- Clean up.
REVOKE ALL ON :hist, aisec.version, aisec.version_table, aisec.tag FROM refused_writer;
REVOKE USAGE ON SCHEMA aisec FROM refused_writer;
DROP ROLE refused_writer;
DROP ROLE refused_nobody;
