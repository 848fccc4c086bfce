-- schema.sql: the aisec schema, the governance roles, and what every other
-- part of the install script relies on.  The Makefile puts this file first.

-- Roles are cluster-wide: create each one only if it is not there yet, so a
-- second database (or a re-install) reuses them.  They cannot log in; people
-- are granted them.
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname OPERATOR(pg_catalog.=) 'aisec_admin') THEN
        CREATE ROLE aisec_admin NOLOGIN;
    END IF;
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname OPERATOR(pg_catalog.=) 'aisec_engineer') THEN
        CREATE ROLE aisec_engineer NOLOGIN;
    END IF;
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname OPERATOR(pg_catalog.=) 'aisec_dpo') THEN
        CREATE ROLE aisec_dpo NOLOGIN;
    END IF;
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname OPERATOR(pg_catalog.=) 'aisec_auditor') THEN
        CREATE ROLE aisec_auditor NOLOGIN;
    END IF;
    -- Not a governance role: aisec.mask_role() makes each masked role a
    -- member, and it holds only what reading masked views takes (USAGE on
    -- schema aisec_masked, EXECUTE on the functions the views call).
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname OPERATOR(pg_catalog.=) 'aisec_masked_reader') THEN
        CREATE ROLE aisec_masked_reader NOLOGIN;
    END IF;
END
$$;

COMMENT ON SCHEMA aisec IS 'aisec: governed machine-learning training data (audit log, keys, masking, dataset versions, row lineage, GDPR erasure, bias and drift statistics)';

-- Nobody but the owner creates objects in aisec's schema; the governance
-- roles may use it.  Every function is revoked from PUBLIC below, one by
-- one, and granted to the roles that need it.
REVOKE ALL ON SCHEMA aisec FROM PUBLIC;
GRANT USAGE ON SCHEMA aisec TO aisec_admin, aisec_engineer, aisec_dpo, aisec_auditor;

-- Every table aisec creates, here and at aisec.track() time, says USING
-- heap: capture, notes and the audit log write some of them with heap
-- functions and read tracked tables' pages as heap pages, so they must not
-- follow a session's default_table_access_method.
