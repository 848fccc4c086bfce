# Erasure is all or nothing across a crash (issue 18, doc/erasure.md):
# the backend running aisec.erase() is killed with SIGKILL in the middle,
# after it has deleted and redacted in one table and while it waits in a
# DELETE trigger of the next (held by an advisory lock another session
# holds).  After crash recovery nothing of the erasure is left: every
# live row, every history record's data, the request open, no erased row
# id, no audit entry; versions and the audit chain verify.  Erased again,
# it all goes.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use IPC::Run;

my $tmp = PostgreSQL::Test::Utils::tempdir;
system_or_bail('sh', '-c', "umask 077 && openssl rand -out '$tmp/master.key' 32");

my $node = PostgreSQL::Test::Cluster->new('erasure_crash');
$node->init;
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'aisec'\naisec.master_key_file = '$tmp/master.key'\nrestart_after_crash = on\n");
$node->start;
# a_customers is erased first (tables go in schema and name order), then
# b_orders, whose DELETE trigger (a superuser's, so erase runs it) waits
# for advisory lock 4711.
$node->safe_psql('postgres', q{
	CREATE EXTENSION aisec;
	CREATE ROLE dpo IN ROLE aisec_dpo;
	CREATE TABLE a_customers (id int PRIMARY KEY, email text, name text);
	CREATE TABLE b_orders (order_id int PRIMARY KEY, email text, amount numeric);
	INSERT INTO a_customers VALUES (1, 'alice@example.com', 'Alice'), (2, 'bob@example.com', 'Bob');
	INSERT INTO b_orders VALUES (10, 'alice@example.com', 100), (11, 'alice@example.com', 250),
		(12, 'bob@example.com', 75);
	SELECT aisec.track('a_customers'), aisec.track('b_orders');
	SELECT aisec.create_dataset('crm', ARRAY['a_customers', 'b_orders']::regclass[]);
	SELECT aisec.commit('crm', 'v1');
	UPDATE a_customers SET name = 'Alice A.' WHERE id = 1;
	SELECT aisec.commit('crm', 'v2');
	SELECT aisec.declare_subject('a_customers', 'email');
	SELECT aisec.declare_subject('b_orders', 'email');
	CREATE FUNCTION b_orders_wait() RETURNS trigger LANGUAGE plpgsql
		AS $$BEGIN PERFORM pg_advisory_lock(4711); PERFORM pg_advisory_unlock(4711); RETURN OLD; END$$;
	CREATE TRIGGER b_orders_wait BEFORE DELETE ON b_orders FOR EACH ROW EXECUTE FUNCTION b_orders_wait();
	SET SESSION AUTHORIZATION dpo;
	SELECT aisec.request_erasure('alice@example.com', 'CR-1');
});
my $hist_a = $node->safe_psql('postgres', q{SELECT history FROM aisec.tracked WHERE rel = 'a_customers'::regclass});
my $hist_b = $node->safe_psql('postgres', q{SELECT history FROM aisec.tracked WHERE rel = 'b_orders'::regclass});
my $state = qq{SELECT (SELECT count(*) FROM a_customers WHERE email = 'alice\@example.com') || ':' ||
	(SELECT count(*) FROM b_orders WHERE email = 'alice\@example.com') || ':' ||
	(SELECT count(*) FROM $hist_a WHERE data::text LIKE '%alice\@%') || ':' ||
	(SELECT count(*) FROM $hist_b WHERE data::text LIKE '%alice\@%') || ':' ||
	(SELECT status FROM aisec.erasure_requests WHERE reference = 'CR-1') || ':' ||
	(SELECT count(*) FROM aisec.erasure_row) || ':' ||
	(SELECT count(*) FROM aisec.audit_log WHERE action = 'erasure.execute')};
my $before = $node->safe_psql('postgres', $state);
is($before, '1:2:2:2:requested:0:0', 'before: Alice\'s rows, her history records with data, the request open');

# Hold the lock, start the erasure, wait until it waits in b_orders' trigger.
my $holder = $node->background_psql('postgres');
$holder->query_safe(q{SELECT pg_advisory_lock(4711)});
my ($out, $err) = ('', '');
my $h = IPC::Run::start(
	[ 'psql', '-X', '-d', $node->connstr('postgres'), '-c',
	  q{SET SESSION AUTHORIZATION dpo; SELECT aisec.erase('CR-1', 'alice@example.com')} ],
	'>', \$out, '2>', \$err);
$node->poll_query_until('postgres',
	q{SELECT count(*) = 1 FROM pg_stat_activity WHERE wait_event = 'advisory' AND query LIKE '%aisec.erase%'})
  or die 'the erasure did not reach b_orders\' trigger';
# By now a_customers' row is deleted and its history redacted (not yet
# committed): the erasure holds both tables in SHARE ROW EXCLUSIVE mode.
is($node->safe_psql('postgres', q{SELECT string_agg(c.relname || ':' || l.mode, ',' ORDER BY c.relname)
	FROM pg_locks l JOIN pg_class c ON c.oid = l.relation JOIN pg_stat_activity a ON a.pid = l.pid
	WHERE a.query LIKE '%aisec.erase%' AND c.relname IN ('a_customers', 'b_orders') AND l.mode = 'ShareRowExclusiveLock'}),
	'a_customers:ShareRowExclusiveLock,b_orders:ShareRowExclusiveLock', 'the erasure holds both tables, in the middle');
my $pid = $node->safe_psql('postgres', q{SELECT pid FROM pg_stat_activity WHERE wait_event = 'advisory' AND query LIKE '%aisec.erase%'});
# Its changes to a_customers are made, not committed: the deleted row and
# the redacted history records carry its transaction id as xmax.
my $xid = $node->safe_psql('postgres', qq{SELECT transactionid FROM pg_locks WHERE pid = $pid AND locktype = 'transactionid'});
is($node->safe_psql('postgres', qq{SELECT (SELECT count(*) FROM a_customers WHERE xmax::text = '$xid') || ':' ||
	(SELECT count(*) FROM $hist_a WHERE xmax::text = '$xid')}), '1:2',
	'a_customers\' row deleted and its two history records redacted by the erasure in flight');
kill 'KILL', $pid;
$h->finish;
like($err, qr/server closed the connection|terminating connection|connection to server was lost/, 'the erasure died with its backend');
$holder->quit;
$node->poll_query_until('postgres', 'SELECT true') or die 'the server did not come back';
like(slurp_file($node->logfile), qr/all server processes terminated; reinitializing/, 'the server went through crash recovery');

is($node->safe_psql('postgres', $state), $before, 'after recovery: nothing of the erasure is left');
is($node->safe_psql('postgres', q{SELECT bool_and(ok) FROM aisec.verify('crm')}), 't', 'every version verifies');
is($node->safe_psql('postgres', q{SELECT bool_and(ok) FROM aisec.audit_verify()}), 't', 'the audit chain verifies');

# Erased again (nothing holds the lock now): all of it goes.
is($node->safe_psql('postgres', q{SET SESSION AUTHORIZATION dpo;
	SELECT (aisec.erase('CR-1', 'alice@example.com'))->>'live_rows_deleted'}), '3', 'erased again');
is($node->safe_psql('postgres', $state), '0:0:0:0:executed:3:1', 'after: no row, no history data, the request executed');
is($node->safe_psql('postgres', q{SELECT bool_and(ok) FROM aisec.verify('crm')}), 't', 'every version verifies');
is($node->safe_psql('postgres', q{SELECT bool_and(ok) FROM aisec.audit_verify()}), 't', 'the audit chain verifies');

# Killed once more, after the erasure committed (immediate stop): it stays.
$node->stop('immediate');
$node->start;
is($node->safe_psql('postgres', $state), '0:0:0:0:executed:3:1', 'a committed erasure survives a crash');
is($node->safe_psql('postgres', q{SELECT bool_and(ok) FROM aisec.verify('crm')}), 't', 'and verifies');

done_testing();
