--
-- Keys on every node (issue 19, item 2; doc/scale-out.md "Keys").
--
-- Keys created, imported, rotated or dropped on the coordinator reach
-- every worker at commit, wrapped as they are (all nodes share the master
-- key file), so keyed masks give the coordinator's output on every shard;
-- a rolled-back change reaches no worker; workers refuse key changes; a
-- worker added later gets the keys from aisec.citus_sync_keys(); a worker
-- without the master key gives aisec's clear error, never a value.
--
SET citus.shard_count = 8;
-- Errors from workers name their node (a port that changes): no context.
\set SHOW_CONTEXT never
SET citus.next_shard_id = 1930000;
\getenv host AISEC_CITUS_HOST
\getenv db AISEC_CITUS_DB
\getenv coordinator_port AISEC_CITUS_COORDINATOR_PORT
\getenv worker1_port AISEC_CITUS_WORKER1_PORT
\getenv worker3_port AISEC_CITUS_WORKER3_PORT
\getenv nokey_port AISEC_CITUS_NOKEY_PORT

-- The keys each worker holds, as one line per worker (no ports).
CREATE FUNCTION worker_keys() RETURNS SETOF text
LANGUAGE sql
AS $$
SELECT coalesce(nullif(result, ''), '(none)')
FROM run_command_on_workers($q$SELECT string_agg(name || ' v' || version || ' ' || purpose, ', ' ORDER BY name, version) FROM aisec.keys WHERE name !~ '^\$'$q$)
ORDER BY 1
$$;

-- Rows on a distributed table and the same rows in a local table.
CREATE TABLE people (id bigint, email text, card text, income float8);
SELECT create_distributed_table('people', 'id');
INSERT INTO people
SELECT i, 'user' || i || '@example.org', lpad(((i::bigint * 7919) % 10000000000)::text, 10, '0'), 1000 + i * 3.5
FROM generate_series(1, 2000) i;
CREATE TABLE people_local AS SELECT * FROM people;

-- 1. Keys made on the coordinator reach both workers when the
--    transaction commits.
SELECT aisec.create_key('mail_key', 'hmac');
SELECT aisec.create_key('card_key', 'ff1');
SELECT aisec.import_key('noise_key', '\x000102030405060708090a0b0c0d0e0f'::bytea, 'hmac');
SELECT * FROM worker_keys();

-- 2. Keyed masks run on the workers (the worker query calls them) and give
--    the coordinator's output on every shard: the same values as over the
--    local copy, computed on the coordinator.
SELECT worker_query($$SELECT id, aisec.pseudonymize(email, 'mail_key'), aisec.ff1_encrypt(card, 'card_key'), aisec.sticky_noise(income, 'noise_key', 0.1) FROM people$$) ~ 'aisec\.pseudonymize.*aisec\.ff1_encrypt.*aisec\.sticky_noise' AS masks_run_on_workers;
WITH d AS MATERIALIZED (
    SELECT id, aisec.pseudonymize(email, 'mail_key') AS p, aisec.ff1_encrypt(card, 'card_key') AS f,
           aisec.sticky_noise(income, 'noise_key', 0.1) AS n
    FROM people),
l AS (
    SELECT id, aisec.pseudonymize(email, 'mail_key') AS p, aisec.ff1_encrypt(card, 'card_key') AS f,
           aisec.sticky_noise(income, 'noise_key', 0.1) AS n
    FROM people_local)
SELECT count(*) AS rows,
       count(*) FILTER (WHERE d.p = l.p) AS same_pseudonym,
       count(*) FILTER (WHERE d.f = l.f) AS same_token,
       count(*) FILTER (WHERE d.n = l.n) AS same_noise
FROM d JOIN l USING (id);

-- 3. A rolled-back rotation reaches no worker; a committed one does, and
--    the masks follow it (version 2 is current everywhere).
BEGIN;
SELECT aisec.rotate_key('mail_key');
ROLLBACK;
SELECT * FROM worker_keys();
SELECT aisec.rotate_key('mail_key');
SELECT * FROM worker_keys();
WITH d AS MATERIALIZED (SELECT id, aisec.pseudonymize(email, 'mail_key') AS p FROM people)
SELECT count(*) FILTER (WHERE d.p = aisec.pseudonymize(l.email, 'mail_key')) AS same_pseudonym,
       count(*) FILTER (WHERE d.p LIKE 'v2:%') AS version_2
FROM d JOIN people_local l USING (id);

-- A savepoint rolled back after a change sends the key as it is at commit.
BEGIN;
SAVEPOINT s;
SELECT aisec.rotate_key('card_key');
ROLLBACK TO SAVEPOINT s;
COMMIT;
SELECT * FROM worker_keys();

-- A prepared transaction cannot carry a key change: the workers would get
-- it before the outcome is known.
BEGIN;
SELECT aisec.create_key('prepared_key', 'hmac');
PREPARE TRANSACTION 'aisec_key_change';
SELECT * FROM worker_keys();

-- 4. A dropped key goes from every worker.
SELECT aisec.drop_key('noise_key');
SELECT * FROM worker_keys();

-- 5. On a worker, keys are copies: changes are refused, and a missing key
--    says where keys come from.
\c :db - :host :worker1_port
SELECT aisec.create_key('worker_key', 'hmac');
SELECT aisec.rotate_key('mail_key');
SELECT aisec.drop_key('mail_key');
SELECT aisec.pseudonymize('x', 'no_such_key');
SELECT aisec.citus_sync_keys();
-- Receiving is for aisec_admin, and only what a coordinator sends: a
-- reserved name, a bad purpose or a secret the master key does not
-- unwrap is refused, changing nothing.
SELECT aisec.citus_receive_keys(convert_to('[{"name": "$signing", "version": 9, "purpose": "hmac", "created": "2026-01-01", "created_by": "x", "public_key": null, "wrapped": "00"}]', 'UTF8'), NULL);
SELECT aisec.citus_receive_keys(convert_to('[{"name": "fake", "version": 1, "purpose": "rsa", "created": "2026-01-01", "created_by": "x", "public_key": null, "wrapped": "00"}]', 'UTF8'), NULL);
SELECT aisec.citus_receive_keys(convert_to('[{"name": "fake", "version": 1, "purpose": "hmac", "created": "2026-01-01", "created_by": "x", "public_key": null, "wrapped": "' || repeat('ab', 60) || '"}]', 'UTF8'), NULL);
SELECT aisec.citus_receive_keys(convert_to('[{"name": "other", "version": 1, "purpose": "hmac", "created": "2026-01-01", "created_by": "x", "public_key": null, "wrapped": "00"}]', 'UTF8'), 'mail_key');
SELECT aisec.citus_receive_keys('\x7b', NULL);
CREATE ROLE citus_key_engineer IN ROLE aisec_engineer;
SET ROLE citus_key_engineer;
SELECT aisec.citus_receive_keys(convert_to('[]', 'UTF8'), NULL);
RESET ROLE;
DROP ROLE citus_key_engineer;
SELECT string_agg(name || ' v' || version, ', ' ORDER BY name, version) AS keys
FROM aisec.keys WHERE name !~ '^\$';
-- What the worker recorded: key.sync entries naming keys and versions,
-- never a secret or a wrapped blob.
SELECT action, object, detail
FROM aisec.audit_log WHERE action = 'key.sync' ORDER BY seq;
\c :db - :host :coordinator_port

-- 6. A worker added later has no keys until aisec.citus_sync_keys() sends
--    them (to that node, or to all); later changes reach it at commit.
SELECT 1 FROM citus_add_node(:'host', :worker3_port::int);
SELECT * FROM worker_keys();
SELECT aisec.citus_sync_keys(:'host', :worker3_port::int) AS nodes;
SELECT * FROM worker_keys();
SELECT aisec.create_key('late_key', 'hmac');
SELECT * FROM worker_keys();
SELECT aisec.citus_sync_keys() AS nodes;
SELECT aisec.citus_sync_keys(:'host', 1) AS nodes;

-- 7. A worker without the master key: it stores the keys it is sent (it
--    cannot check them), and a keyed mask on a shard there gives aisec's
--    clear error, not a value.
SELECT 1 FROM citus_add_node(:'host', :nokey_port::int);
SELECT aisec.citus_sync_keys() AS nodes;
CREATE TABLE on_nokey (id bigint, email text);
SELECT create_distributed_table('on_nokey', 'id', shard_count := 8, colocate_with := 'none');
INSERT INTO on_nokey SELECT i, 'u' || i FROM generate_series(1, 100) i;
SELECT count(DISTINCT nodeport) AS nodes_with_shards,
       count(*) FILTER (WHERE nodeport = :nokey_port::int) AS shards_on_nokey
FROM citus_shards WHERE table_name = 'on_nokey'::regclass;
SELECT aisec.pseudonymize(email, 'mail_key') FROM on_nokey;
DROP TABLE on_nokey;
SELECT 1 FROM citus_remove_node(:'host', :nokey_port::int);

-- The coordinator's audit log: every change and sync, no secrets.
SELECT action, object, detail::text ~ '[0-9a-f]{40}' AS holds_hex
FROM aisec.audit_log WHERE action LIKE 'key.%' ORDER BY seq;

DROP TABLE people, people_local;
DROP FUNCTION worker_keys();
