# Erasure after a restore (issue 18 item 8, doc/erasure.md "After a
# restore"): a dump taken before an erasure brings the erased rows back;
# with the newer register loaded next to it, aisec.reapply_erasures()
# erases them again from the row ids alone, and the post-check passes.
#
# - Alice's request RA-1 is registered before the dump and executed after
#   it; Carol's RA-0 is executed before the dump (nothing to do for it).
# - The restored database gets the old dump, then the register of the
#   newer state (pg_dump --data-only --inserts --on-conflict-do-nothing of
#   the register's tables), as the doc's procedure says.
# - A DELETE trigger a table owner wrote refuses the reapply (0A000).
# - reapply_erasures() deletes Alice's live rows and redacts her history;
#   the untracked contact log is reported (NULL counts); a second call
#   finds nothing; every version verifies; a new request erases the
#   untracked row with the subject; the subject's e-mail is in no dump.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $tmp = PostgreSQL::Test::Utils::tempdir;
system_or_bail('sh', '-c', "umask 077 && openssl rand -out '$tmp/master.key' 32");

my $node = PostgreSQL::Test::Cluster->new('erasure_reapply');
$node->init;
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'aisec'\naisec.master_key_file = '$tmp/master.key'\n");
$node->start;
$node->safe_psql('postgres', q{
	CREATE EXTENSION aisec;
	CREATE ROLE dpo IN ROLE aisec_dpo;
	CREATE ROLE tab_owner;
	CREATE TABLE customers (id int PRIMARY KEY, email text, name text);
	CREATE INDEX ON customers (email);
	CREATE TABLE orders (order_id int PRIMARY KEY, email text, amount numeric);
	CREATE TABLE contact_log (email text, note text);
	INSERT INTO customers VALUES (1, 'alice@example.com', 'Alice'), (2, 'bob@example.com', 'Bob'),
		(3, 'carol@example.com', 'Carol');
	INSERT INTO orders VALUES (10, 'alice@example.com', 100), (11, 'alice@example.com', 250),
		(12, 'bob@example.com', 75), (13, 'carol@example.com', 5);
	INSERT INTO contact_log VALUES ('alice@example.com', 'called'), ('bob@example.com', 'wrote');
	SELECT aisec.track('customers'), aisec.track('orders');
	SELECT aisec.create_dataset('crm', ARRAY['customers', 'orders']::regclass[]);
	SELECT aisec.commit('crm', 'v1');
	UPDATE customers SET name = 'Alice A.' WHERE id = 1;
	SELECT aisec.commit('crm', 'v2');
	SELECT aisec.declare_subject('customers', 'email');
	SELECT aisec.declare_subject('orders', 'email');
	SELECT aisec.declare_subject('contact_log', 'email');
	SET SESSION AUTHORIZATION dpo;
	SELECT aisec.request_erasure('carol@example.com', 'RA-0');
	SELECT aisec.erase('RA-0', 'carol@example.com');
	SELECT aisec.request_erasure('alice@example.com', 'RA-1');
});

# The backup, taken before Alice's erasure.
my $old = "$tmp/old.sql";
$node->command_ok([ 'pg_dump', '-d', $node->connstr('postgres'), '-f', $old ], 'pg_dump before the erasure');
like(slurp_file($old), qr/alice\@example\.com/, 'the old dump holds the subject');

# The erasure, and a commit after it.
is($node->safe_psql('postgres', q{
	SET SESSION AUTHORIZATION dpo;
	SELECT (aisec.erase('RA-1', 'alice@example.com'))->>'live_rows_deleted';
	RESET SESSION AUTHORIZATION;
	SELECT aisec.commit('crm', 'v3 after erasure');}), "4\n3", 'Alice erased: 4 live rows (one in the untracked log); v3 committed');

# The register of the newer state, as the doc's procedure dumps it.
my $register = "$tmp/register.sql";
$node->command_ok([ 'pg_dump', '-d', $node->connstr('postgres'), '--data-only', '--inserts',
	'--on-conflict-do-nothing', '-t', 'aisec.erasure_request', '-t', 'aisec.erasure_row',
	'-t', 'aisec.erasure_subject', '-t', 'aisec.erasure_request_seq', '-f', $register ],
	'pg_dump of the register');
my $regtext = slurp_file($register);
like($regtext, qr/INSERT INTO aisec\.erasure_row .*ON CONFLICT DO NOTHING/, 'the register dump holds the erased row ids');
unlike($regtext, qr/alice|carol/i, 'and no subject');

# The restore of the older dump into a new database, then the register.
$node->safe_psql('postgres', 'CREATE DATABASE restored');
$node->command_ok([ 'psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', $node->connstr('restored'), '-f', $old ],
	'restore the old dump');
my $alice = q{SELECT (SELECT count(*) FROM customers WHERE email = 'alice@example.com') || ':' ||
	(SELECT count(*) FROM orders WHERE email = 'alice@example.com') || ':' ||
	(SELECT count(*) FROM contact_log WHERE email = 'alice@example.com')};
is($node->safe_psql('restored', $alice), '1:2:1', 'the restore brought Alice\'s rows back');
$node->command_ok([ 'psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', $node->connstr('restored'), '-f', $register ],
	'load the newer register next to it');
is($node->safe_psql('restored', q{SELECT string_agg(reference || ':' || status, ',' ORDER BY reference) FROM aisec.erasure_requests}),
	'RA-0:executed,RA-1:requested', 'RA-1 shows as the backup had it');
my $hist_c = $node->safe_psql('restored', q{SELECT history FROM aisec.tracked WHERE rel = 'customers'::regclass});
my $hist_o = $node->safe_psql('restored', q{SELECT history FROM aisec.tracked WHERE rel = 'orders'::regclass});
my $erased_data = qq{SELECT count(*) FROM (SELECT rid, data::text AS d, salt FROM $hist_c UNION ALL
	SELECT rid, data::text, salt FROM $hist_o) h
	WHERE h.rid IN (SELECT rid FROM aisec.erasure_row) AND (h.d IS NOT NULL OR h.salt IS NOT NULL)};
my $erased_live = q{SELECT count(*) FROM (SELECT aisec_rid FROM customers UNION ALL SELECT aisec_rid FROM orders) l
	WHERE aisec_rid IN (SELECT rid FROM aisec.erasure_row)};
is($node->safe_psql('restored', $erased_live), '3', 'three live rows hold erased row ids');
is($node->safe_psql('restored', $erased_data), '4', 'four history records of them hold data');

# A DELETE trigger a table owner wrote would run with the extension
# owner's rights: refused, nothing changed.
$node->safe_psql('restored', q{
	CREATE FUNCTION orders_del() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN RETURN OLD; END$$;
	ALTER FUNCTION orders_del() OWNER TO tab_owner;
	CREATE TRIGGER orders_del BEFORE DELETE ON orders FOR EACH ROW EXECUTE FUNCTION orders_del();});
my ($rc, $out, $err) = $node->psql('restored', q{SET SESSION AUTHORIZATION dpo; SELECT * FROM aisec.reapply_erasures()});
like($err, qr/cannot erase from table public\.orders: trigger orders_del would run in the DELETE/, 'a table owner\'s DELETE trigger: refused');
is($node->safe_psql('restored', $erased_live), '3', 'nothing changed');
$node->safe_psql('restored', q{DROP TRIGGER orders_del ON orders});

# Reapply.
is($node->safe_psql('restored', q{SET SESSION AUTHORIZATION dpo;
	SELECT reference, rel, live_rows_deleted, history_records_redacted FROM aisec.reapply_erasures()}),
	"RA-1|customers|1|2\nRA-1|orders|2|2\nRA-0|contact_log||\nRA-1|contact_log||",
	'reapply: Alice\'s live rows deleted, her history redacted; the untracked log reported for both requests');
is($node->safe_psql('restored', $erased_live), '0', 'post-check: no live row holds an erased row id');
is($node->safe_psql('restored', $erased_data), '0', 'post-check: no history record of one holds data');
is($node->safe_psql('restored', q{SELECT string_agg(reference || ':' || status, ',' ORDER BY reference) FROM aisec.erasure_requests}),
	'RA-0:executed,RA-1:executed', 'RA-1 is marked executed');
is($node->safe_psql('restored', q{SET SESSION AUTHORIZATION dpo;
	SELECT reference, rel, live_rows_deleted FROM aisec.reapply_erasures()}),
	"RA-0|contact_log|\nRA-1|contact_log|", 'a second call finds nothing (only the untracked log, reported again)');
is($node->safe_psql('restored', q{SELECT bool_and(ok) FROM aisec.verify('crm')}), 't', 'every version verifies');
is($node->safe_psql('restored', q{SET SESSION AUTHORIZATION dpo;
	SELECT string_agg(rel || ':' || live_rows || ':' || coalesce(history_records::text, '-'), ',' ORDER BY rel::text)
	FROM aisec.erasure_preview('RA-1', 'alice@example.com')}),
	'contact_log:1:-,customers:0:0,orders:0:0', 'the preview finds only the untracked log\'s row');

# The untracked row needs a new request, erased with the subject.
is($node->safe_psql('restored', q{SET SESSION AUTHORIZATION dpo;
	SELECT aisec.request_erasure('alice@example.com', 'RA-1-after-restore') > 0;
	SELECT (aisec.erase('RA-1-after-restore', 'alice@example.com'))->>'live_rows_deleted'}), "t\n1",
	'a new request erases the untracked row');
is($node->safe_psql('restored', $alice), '0:0:0', 'Alice is in no live table');
is($node->safe_psql('restored', q{SELECT aisec.commit('crm', 'after reapply')}), '3',
	'the deletions commit (as version 3 of the restored database: the old dump had 2)');
is($node->safe_psql('restored', q{SELECT bool_and(ok) FROM aisec.verify('crm')}), 't', 'and verify');
is($node->safe_psql('restored', q{SELECT count(*) FROM aisec.audit_log WHERE action = 'erasure.reapply'}), '2',
	'each call is audited (the refused one\'s entry rolled back with it)');
is($node->safe_psql('restored', q{SELECT count(*) FROM aisec.audit_log WHERE detail::text ILIKE '%alice%' OR object ILIKE '%alice%'}),
	'0', 'no audit entry names the subject');
is($node->safe_psql('restored', q{SELECT bool_and(ok) FROM aisec.audit_verify()}), 't', 'the audit chain verifies');
# Row ids of tables no longer tracked here (untracked, dropped, or a
# backup older than their tracking) cannot be found: a NOTICE counts them.
# Dropping the dataset with its history untracks both tables: Alice's and
# Carol's customer rows and their three orders.
$node->safe_psql('restored', q{SELECT aisec.drop_dataset('crm', keep_history => false); DROP TABLE orders;});
($rc, $out, $err) = $node->psql('restored', q{SET SESSION AUTHORIZATION dpo; SELECT count(*) FROM aisec.reapply_erasures() WHERE live_rows_deleted IS NOT NULL});
is($out, '0', 'nothing found once the tables are untracked');
like($err, qr/NOTICE:  5 erased row ids belong to tables not tracked in this database/, 'a NOTICE counts their ids');
my $new = "$tmp/new.sql";
$node->command_ok([ 'pg_dump', '-d', $node->connstr('restored'), '-f', $new ], 'pg_dump after reapply');
unlike(slurp_file($new), qr/alice\@example\.com/, 'the dump no longer holds the subject');

done_testing();
