-- masking_rules: rules per column, masked views, masked roles, exports.
CREATE ROLE regress_mr_admin NOLOGIN IN ROLE aisec_admin;
CREATE ROLE regress_mr_engineer NOLOGIN IN ROLE aisec_engineer;
CREATE ROLE regress_mr_analyst NOLOGIN;
CREATE ROLE regress_mr_team NOLOGIN;

CREATE TABLE customers (id bigint, name text, email text, card text, income numeric,
                        age int, birth date, city text, score float8, note varchar(20));
INSERT INTO customers VALUES
  (1, 'Jonathan Smith', 'jon.smith@example.com', '4111111111111111', 52345.67, 37, '1987-06-05', 'Paris', 0.72, 'vip'),
  (2, 'Ada Lovelace', 'ada@analytical.org', '5500005555555559', 81000, 36, '1988-12-10', 'London', 0.91, NULL),
  (3, 'Zoë Ångström', 'zoe@exämple.se', '340000000000009', 12000.5, 52, '1972-01-30', 'Paris', 0.15, 'new'),
  (4, 'Bob', 'not-an-email', '6011000000000004', NULL, 33, NULL, 'Paris', NULL, '');
GRANT SELECT, INSERT ON customers TO regress_mr_analyst;
-- Masking a table needs its ownership (masking_threats tests who else may).
ALTER TABLE customers OWNER TO regress_mr_admin;

SET ROLE regress_mr_admin;
SELECT aisec.create_key('mr_customer', 'hmac');
SELECT aisec.import_key('mr_card', '\x2b7e151628aed2a6abf7158809cf4f3c', 'ff1');
SELECT aisec.create_key('mr_noise', 'hmac');

-- Set rules; each comes back in canonical form.
SELECT aisec.set_mask('customers', 'name', 'partial(1,2)');
SELECT aisec.set_mask('customers', 'email', 'EMAIL');
SELECT aisec.set_mask('customers', 'card', ' ff1( mr_card ) ');
SELECT aisec.set_mask('customers', 'income', 'generalize(10000)');
SELECT aisec.set_mask('customers', 'age', 'generalize(10)');
SELECT aisec.set_mask('customers', 'birth', 'generalize(''year'')');
SELECT aisec.set_mask('customers', 'score', 'noise(mr_noise, 0.1)');
SELECT aisec.set_mask('customers', 'id', 'pseudonym(mr_customer)');
SELECT aisec.set_mask('customers', 'note', 'redact');
SELECT relation, "column", rule, key_name, column_type, has_view FROM aisec.masks ORDER BY "column";

-- The masked view: ruled columns masked, city passed through.
SELECT left(id, 3) AS id, name, email, card, income, age, birth, city, note FROM aisec_masked.customers ORDER BY card;
RESET ROLE;
SELECT bool_and(abs(m.score - c.score) <= 0.1 * c.score) AS noise_within_ratio,
       bool_and(m.id = aisec.pseudonymize(c.id::text, 'mr_customer')) AS pseudonyms,
       count(*) AS joined_by_decrypted_card
  FROM aisec_masked.customers m JOIN customers c ON c.card = aisec.ff1_decrypt(m.card, 'mr_card');
SET ROLE regress_mr_admin;
-- Column types: same type, except text results of pseudonym on a bigint.
SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute
 WHERE attrelid = 'aisec_masked.customers'::regclass AND attnum > 0 ORDER BY attnum;

-- Changing a rule refreshes the view; so does dropping one.
SELECT aisec.set_mask('customers', 'name', 'partial(0, 0, ''#'')');
SELECT name FROM aisec_masked.customers ORDER BY card LIMIT 1;
SELECT aisec.drop_mask('customers', 'note');
SELECT aisec.drop_mask('customers', 'note');
SELECT note FROM aisec_masked.customers ORDER BY card LIMIT 1;
SELECT aisec.masked_view('customers');

-- Rules that do not parse or fit: clear errors, nothing stored.
SELECT aisec.set_mask('customers', 'name', 'shuffle');
SELECT aisec.set_mask('customers', 'name', 'partial(1)');
SELECT aisec.set_mask('customers', 'name', 'partial(1, -2)');
SELECT aisec.set_mask('customers', 'name', 'partial(1, 2, 3)');
SELECT aisec.set_mask('customers', 'name', 'partial(1, 99999999999)');
SELECT aisec.set_mask('customers', 'name', 'partial(1, 2');
SELECT aisec.set_mask('customers', 'name', 'partial(1, 2) x');
SELECT aisec.set_mask('customers', 'name', 'partial(1, 2, ''*)');
SELECT aisec.set_mask('customers', 'name', 'email(1)');
SELECT aisec.set_mask('customers', 'name', '');
SELECT aisec.set_mask('customers', 'name', repeat('x', 300));
SELECT aisec.set_mask('customers', 'age', 'email');
SELECT aisec.set_mask('customers', 'age', 'generalize(''month'')');
SELECT aisec.set_mask('customers', 'age', 'generalize(0)');
SELECT aisec.set_mask('customers', 'age', 'generalize(2.5)');
SELECT aisec.set_mask('customers', 'birth', 'generalize(''hour'')');
SELECT aisec.set_mask('customers', 'birth', 'generalize(10)');
SELECT aisec.set_mask('customers', 'income', 'generalize(-5.5)');
SELECT aisec.set_mask('customers', 'income', 'generalize(0.00)');
SELECT aisec.set_mask('customers', 'name', 'pseudonym(no_such_key)');
SELECT aisec.set_mask('customers', 'name', 'pseudonym(mr_card)');
SELECT aisec.set_mask('customers', 'card', 'ff1(mr_customer)');
SELECT aisec.set_mask('customers', 'name', 'noise(mr_noise, 0.1)');
SELECT aisec.set_mask('customers', 'score', 'noise(mr_noise, -0.1)');
SELECT aisec.set_mask('customers', 'age', 'redact');
SELECT aisec.set_mask('customers', 'nope', 'email');
SELECT aisec.set_mask('customers', 'name', NULL);
SELECT aisec.set_mask(NULL, 'name', 'email');
SELECT aisec.set_mask('aisec.key_store', 'name', 'email');
SELECT aisec.set_mask('aisec_masked.customers', 'name', 'email');
SELECT aisec.set_mask('pg_catalog.pg_authid', 'rolname', 'email');
SELECT aisec.masked_view('aisec.keys');
SELECT count(*) AS rules_unchanged FROM aisec.masks WHERE relation = 'customers'::regclass;

-- A key used by a rule cannot be dropped.
SELECT aisec.drop_key('mr_noise');
RESET ROLE;

-- mask_role: privileges on the base table are revoked, and proven gone.
SET ROLE regress_mr_analyst;
SELECT count(*) FROM customers;
RESET ROLE;
SET ROLE regress_mr_admin;
SELECT aisec.mask_role('regress_mr_analyst');
RESET ROLE;
SET ROLE regress_mr_analyst;
SELECT count(*) FROM customers;
INSERT INTO customers (id) VALUES (99);
SELECT name, email, card, city FROM aisec_masked.customers ORDER BY card;
SELECT count(*) AS pseudonyms_ok FROM aisec_masked.customers WHERE id LIKE 'v1:%';
-- ff1_decrypt stays out of reach.
SELECT aisec.ff1_decrypt(card, 'mr_card') FROM aisec_masked.customers;
RESET ROLE;
-- Privileges through PUBLIC or membership are refused, not silently kept.
GRANT SELECT (city) ON customers TO PUBLIC;
SET ROLE regress_mr_admin;
SELECT aisec.mask_role('regress_mr_analyst');
RESET ROLE;
REVOKE SELECT (city) ON customers FROM PUBLIC;
GRANT REFERENCES ON customers TO regress_mr_team;
GRANT regress_mr_team TO regress_mr_analyst;
SET ROLE regress_mr_admin;
SELECT aisec.mask_role('regress_mr_analyst');
RESET ROLE;
REVOKE regress_mr_team FROM regress_mr_analyst;
-- A new governed table revokes the masked roles' privileges on it too.
CREATE TABLE patients (mrn text, diagnosis text);
INSERT INTO patients VALUES ('MRN-0001', 'flu');
GRANT SELECT ON patients TO regress_mr_analyst;
ALTER TABLE patients OWNER TO regress_mr_admin;
SET ROLE regress_mr_admin;
SELECT aisec.set_mask('patients', 'mrn', 'partial(0, 2)');
RESET ROLE;
SET ROLE regress_mr_analyst;
SELECT * FROM patients;
SELECT * FROM aisec_masked.patients;
RESET ROLE;
-- Who cannot be masked: superusers, admins, table owners.
SET ROLE regress_mr_admin;
SELECT aisec.mask_role('postgres');
SELECT aisec.mask_role('regress_mr_admin');
SELECT aisec.mask_role('no_such_role');
RESET ROLE;
ALTER TABLE patients OWNER TO regress_mr_team;
SET ROLE regress_mr_admin;
SELECT aisec.mask_role('regress_mr_team');
RESET ROLE;
ALTER TABLE patients OWNER TO regress_mr_admin;

-- Renames: of the column, the table and the role; the rules follow.
ALTER TABLE customers RENAME COLUMN email TO mail;
ALTER TABLE customers RENAME TO clients;
ALTER ROLE regress_mr_analyst RENAME TO regress_mr_analyst2;
SELECT relation, "column", rule FROM aisec.masks WHERE relation = 'clients'::regclass AND rule = 'email';
SELECT col FROM aisec.mask_rule WHERE rule = 'email';
SET ROLE regress_mr_admin;
SELECT aisec.masked_view('clients');
RESET ROLE;
SELECT to_regclass('aisec_masked.customers') AS old_view, to_regclass('aisec_masked.clients') AS new_view;
SET ROLE regress_mr_analyst2;
SELECT mail FROM aisec_masked.clients ORDER BY card LIMIT 1;
RESET ROLE;
SELECT role FROM aisec.masked_role;

-- export_masked: a statically masked copy, with small classes suppressed.
CREATE SCHEMA mr_export;
GRANT CREATE, USAGE ON SCHEMA mr_export TO regress_mr_admin, regress_mr_engineer;
SET ROLE regress_mr_admin;
SET search_path = mr_export, public;
SELECT * FROM aisec.export_masked('clients', 'clients_all');
SELECT * FROM aisec.export_masked('clients', 'clients_k2', 2, ARRAY['city', 'age']);
SELECT name, mail, city, age FROM clients_k2 ORDER BY card;
SELECT aisec.k_anonymity('clients_k2', ARRAY['city', 'age']) AS k_of_export;
SELECT * FROM aisec.export_masked('clients', 'clients_k2', 2, ARRAY['city']);
SELECT * FROM aisec.export_masked('clients', 'clients_x', 0, ARRAY['city']);
SELECT * FROM aisec.export_masked('clients', 'clients_x', 2);
SELECT * FROM aisec.export_masked('clients', 'clients_x', NULL, ARRAY['city']);
SELECT * FROM aisec.export_masked('clients', 'clients_x', 2, ARRAY['no_col']);
SELECT * FROM aisec.export_masked('clients', 'clients_x', 2, ARRAY['city', 'city']);
SELECT * FROM aisec.export_masked('clients', 'clients"; DROP TABLE clients; --');
SELECT * FROM aisec.export_masked('clients', 'clients_all');
SELECT * FROM aisec.export_masked('clients', NULL);
SELECT count(*) FROM "clients""; DROP TABLE clients; --";
RESET search_path;
RESET ROLE;
CREATE TABLE plain (a int);
SET ROLE regress_mr_engineer;
SET search_path = mr_export, public;
SELECT * FROM aisec.export_masked('clients', 'eng_copy');
SELECT * FROM aisec.export_masked('plain', 'eng_copy2');
RESET search_path;
RESET ROLE;

-- Unmask: the role leaves masking, its masked-view grants go.
SET ROLE regress_mr_admin;
SELECT aisec.unmask_role('regress_mr_analyst2');
SELECT aisec.unmask_role('regress_mr_analyst2');
RESET ROLE;
SET ROLE regress_mr_analyst2;
SELECT count(*) FROM aisec_masked.clients;
RESET ROLE;

-- Every rule, role and export change is in the audit log.
SELECT action, object, detail FROM aisec.audit_log WHERE action LIKE 'mask.%' ORDER BY seq;

-- Engineers read masked views but cannot change rules.
SET ROLE regress_mr_engineer;
SELECT count(*) FROM aisec_masked.clients;
SELECT aisec.set_mask('clients', 'city', 'null');
RESET ROLE;
GRANT EXECUTE ON FUNCTION aisec.set_mask(regclass, name, text), aisec.mask_role(name) TO regress_mr_engineer;
SET ROLE regress_mr_engineer;
SELECT aisec.set_mask('clients', 'city', 'null');
SELECT aisec.mask_role('regress_mr_team');
RESET ROLE;
REVOKE EXECUTE ON FUNCTION aisec.set_mask(regclass, name, text), aisec.mask_role(name) FROM regress_mr_engineer;

-- Dropping the last rule drops the view.
SET ROLE regress_mr_admin;
SELECT aisec.drop_mask('patients', 'mrn');
RESET ROLE;
SELECT to_regclass('aisec_masked.patients') AS patients_view;

-- Clean up.
SET ROLE regress_mr_admin;
SELECT aisec.drop_mask('clients', c) FROM unnest(ARRAY['id', 'name', 'mail', 'card', 'income', 'age', 'birth', 'score']) c;
RESET ROLE;
DROP SCHEMA mr_export CASCADE;
DROP TABLE clients, patients, plain;
SELECT count(*) AS leftover_views FROM pg_class WHERE relnamespace = 'aisec_masked'::regnamespace;
DROP ROLE regress_mr_admin, regress_mr_engineer, regress_mr_analyst2, regress_mr_team;
