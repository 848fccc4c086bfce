-- versioning_with_masks: a version records the masking rules in force when
-- it was committed, and its manifest lists them (doc/versioning.md).
SET client_min_messages = warning;
CREATE TABLE vm_people (id bigint PRIMARY KEY, name text, email text, score int);
INSERT INTO vm_people VALUES (1, 'Ann', 'ann@example.com', 10), (2, 'Bo', 'bo@example.com', 20);
SELECT aisec.track('vm_people') > 0 AS tracked;
SELECT aisec.create_dataset('vm_set', ARRAY['vm_people'::regclass]) > 0 AS created;

-- Rules set before the first commit are part of version 1.
SELECT aisec.set_mask('vm_people', 'email', 'email');
SELECT aisec.set_mask('vm_people', 'name', 'partial(1, 1)');
SELECT aisec.commit('vm_set', 'with masks');
SELECT jsonb_pretty(aisec.manifest('vm_set', 1)->'masking_rules');
SELECT c->>'name' AS column, c->>'mask' AS mask
FROM jsonb_array_elements(aisec.manifest('vm_set', 1)#>'{tables,0,columns}') c;

-- A later rule change does not alter version 1; the next version has it.
SELECT aisec.set_mask('vm_people', 'name', 'redact');
SELECT aisec.drop_mask('vm_people', 'email');
UPDATE vm_people SET score = score + 1 WHERE id = 1;
SELECT aisec.commit('vm_set', 'masks changed');
SELECT v, aisec.manifest('vm_set', v)->'masking_rules' AS rules FROM generate_series(1, 2) v;

-- No rules: an empty list, not NULL.
SELECT aisec.drop_mask('vm_people', 'name');
UPDATE vm_people SET score = score + 1 WHERE id = 2;
SELECT aisec.commit('vm_set', 'no masks');
SELECT aisec.manifest('vm_set', 3)->'masking_rules' AS rules;

-- The rules are covered by the commit hash: verify recomputes it from the
-- stored column lists, and a forged rule in a stored list is caught.
SELECT version, "table" IS NULL AS commit_row, ok FROM aisec.verify('vm_set') ORDER BY 1, 2;
ALTER TABLE aisec.version_table DISABLE TRIGGER version_table_refuse_change;
UPDATE aisec.version_table t SET columns = jsonb_set(columns, '{1,mask}', '"generalize(10)"')
FROM aisec.dataset d WHERE d.id = t.dataset_id AND d.name = 'vm_set' AND t.version = 1;
ALTER TABLE aisec.version_table ENABLE ALWAYS TRIGGER version_table_refuse_change;
SELECT version, "table" IS NULL AS commit_row, ok FROM aisec.verify('vm_set') ORDER BY 1, 2;
