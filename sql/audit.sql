-- smoke
SELECT aisec.audit('test.smoke', 'nothing', '{"a": 1}');
SELECT * FROM aisec.audit_verify();
