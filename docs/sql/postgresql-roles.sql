-- Roles for sekap-trust on PostgreSQL (docs/deployment.md §5). Run as a superuser, once, after
-- `sekap-trust db upgrade` has created the tables as sekap_owner; run again after every
-- upgrade that adds tables (the GRANTs are idempotent). psql -v app=sekap_app -v owner=sekap_owner
--
-- sekap_owner owns the schema and runs migrations; it never serves requests.
-- sekap_app is what the application hosts log in as: it reads and writes its tables, but the
-- audit trail is append-only for it (no UPDATE, DELETE or TRUNCATE on audit records and seals).
GRANT USAGE ON SCHEMA public TO :"app";
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO :"app";
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO :"app";
REVOKE UPDATE, DELETE, TRUNCATE ON audit_record, audit_seal FROM :"app";
-- audit_head (the single chain-head row) must stay updatable: every record moves it.
ALTER DEFAULT PRIVILEGES FOR ROLE :"owner" IN SCHEMA public
    GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO :"app";
ALTER DEFAULT PRIVILEGES FOR ROLE :"owner" IN SCHEMA public
    GRANT USAGE, SELECT ON SEQUENCES TO :"app";
