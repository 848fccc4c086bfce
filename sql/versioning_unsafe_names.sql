-- versioning_unsafe_names: identifiers and names that would break SQL built by
-- concatenation go through track, commit, checkout, diff, materialize,
-- manifest and verify unharmed, and nothing else is touched.
SET client_min_messages = warning;
CREATE SCHEMA "vh ""schema""";
CREATE TABLE vh_canary (id int);
INSERT INTO vh_canary VALUES (1);
CREATE TABLE "vh ""schema"""."t; DROP TABLE vh_canary; --" (
    "id" bigint PRIMARY KEY,
    "Name With ""Quotes""" text,
    "select" int,
    "ünïcødé" text
);
INSERT INTO "vh ""schema"""."t; DROP TABLE vh_canary; --"
VALUES (1, 'a''b', 1, 'ä'), (2, E'back\\slash', 2, NULL), (3, NULL, NULL, '); DROP TABLE vh_canary; --');
SELECT aisec.track('"vh ""schema"""."t; DROP TABLE vh_canary; --"') > 0 AS tracked;
SELECT aisec.create_dataset(E'ds''); DROP TABLE vh_canary; --\\',
                            ARRAY['"vh ""schema"""."t; DROP TABLE vh_canary; --"'::regclass],
                            E'desc''"; --') > 0 AS created;
SELECT aisec.commit(E'ds''); DROP TABLE vh_canary; --\\', E'msg''); DROP TABLE vh_canary; --');
UPDATE "vh ""schema"""."t; DROP TABLE vh_canary; --" SET "select" = 42 WHERE id = 1;
DELETE FROM "vh ""schema"""."t; DROP TABLE vh_canary; --" WHERE id = 3;
SELECT aisec.commit(E'ds''); DROP TABLE vh_canary; --\\', NULL);
SELECT aisec.tag(E'ds''); DROP TABLE vh_canary; --\\', 1, E'tag''"; DROP TABLE vh_canary; --');

SELECT id, "Name With ""Quotes""", "select", "ünïcødé",
       aisec.rid_table(aisec_rid) = '"vh ""schema"""."t; DROP TABLE vh_canary; --"'::regclass AS own_rid
FROM aisec.checkout(NULL::"vh ""schema"""."t; DROP TABLE vh_canary; --",
                             E'tag''"; DROP TABLE vh_canary; --') ORDER BY id;
SELECT change, before->'id' AS id, before - 'aisec_rid' AS before, after - 'aisec_rid' AS after
FROM aisec.diff('"vh ""schema"""."t; DROP TABLE vh_canary; --"', 1, 2) ORDER BY 2;
SELECT aisec.materialize('"vh ""schema"""."t; DROP TABLE vh_canary; --"', 1,
                         'copy"; DROP TABLE vh_canary; --');
SELECT id, "Name With ""Quotes""", "select", "ünïcødé"
FROM "copy""; DROP TABLE vh_canary; --" ORDER BY id;
SELECT m->>'dataset' AS dataset, m->>'message' AS message, m#>>'{tables,0,table}' AS "table",
       m#>'{tables,0,columns}' AS columns, m->'tags' AS tags
FROM aisec.manifest(E'ds''); DROP TABLE vh_canary; --\\', 1) m;
SELECT version, "table", ok FROM aisec.verify(E'ds''); DROP TABLE vh_canary; --\\') ORDER BY 1, 2;

-- Names that are not accepted: control characters, empty, overlong.
SELECT aisec.create_dataset(E'bad\nname', ARRAY['vh_canary'::regclass]);
SELECT aisec.commit(E'ds\u0001');
SELECT aisec.commit(repeat('x', 1000000));

-- The canary is untouched.
SELECT * FROM vh_canary;
