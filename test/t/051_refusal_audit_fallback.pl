# Audited refusals when the audit worker cannot do its job in time: with no
# free background worker slot, and when another session holds the audit
# chain's lock for longer than the refusing backend waits.  Either way the
# refusal's error is unchanged and the server log records it; a worker that
# was started still writes its entry once it can.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $tmp = PostgreSQL::Test::Utils::tempdir;
system_or_bail('sh', '-c', "umask 077 && openssl rand -out '$tmp/master.key' 32");

my $node = PostgreSQL::Test::Cluster->new('refusals');
$node->init;
$node->append_conf('postgresql.conf',
	"shared_preload_libraries = 'aisec'\naisec.master_key_file = '$tmp/master.key'\n"
	  . "max_worker_processes = 0\n");
$node->start;
$node->safe_psql('postgres', q{
	CREATE EXTENSION aisec;
	CREATE TABLE loans (id bigint PRIMARY KEY, name text);
	INSERT INTO loans VALUES (1, 'a'), (2, 'b');
	SELECT aisec.track('loans');
	SELECT aisec.create_dataset('credit', ARRAY['loans'::regclass]);
	SELECT aisec.commit('credit', 'one');
});
my $refusals = q{SELECT count(*) FROM aisec.audit_log WHERE action = 'version.refused'};

# No worker slot: the error as always, the refusal in the server log only.
my $log_offset = -s $node->logfile;
my ($rc, $out, $err) = $node->psql('postgres', q{UPDATE aisec.version SET message = 'x'});
isnt($rc, 0, 'refused without a worker slot');
like($err, qr/ERROR:  UPDATE on table "aisec\.version" is not allowed/, 'the error is unchanged');
unlike($err, qr/audit log/, 'the client sees nothing else');
ok($node->log_contains(
		qr/aisec: refused UPDATE on "aisec\.version" by role "\w+" \(session user "\w+", login "\w+"\) is not in the audit log yet\n.*DETAIL:  No background worker slot was free/,
		$log_offset),
	'the server log records the refusal and why it is not audited');
is($node->safe_psql('postgres', $refusals), '0', 'no audit entry');

# A session holding the audit chain's lock past the wait: the refused
# statement gives up waiting (server log), the worker writes the entry
# once the lock is free.
$node->append_conf('postgresql.conf', "max_worker_processes = 8\n");
$node->restart;
my $holder = $node->background_psql('postgres');
$holder->query_safe(q{BEGIN; SELECT aisec.audit('test.hold', NULL);});
$log_offset = -s $node->logfile;
($rc, $out, $err) = $node->psql('postgres', q{DELETE FROM aisec.history_1});
isnt($rc, 0, 'refused while another session holds the audit lock');
like($err, qr/ERROR:  DELETE on table "aisec\.history_1" is not allowed/, 'the error is unchanged');
ok($node->log_contains(
		qr/aisec: refused DELETE on "aisec\.history_1" .* is not in the audit log yet\n.*DETAIL:  The audit worker did not finish within 10000 ms/,
		$log_offset),
	'the server log records that the worker did not finish in time');
is($node->safe_psql('postgres', $refusals), '0', 'no entry while the lock is held');
$holder->query_safe('COMMIT');
$holder->quit;
ok($node->poll_query_until('postgres', "SELECT ($refusals) = 1"), 'the worker writes the entry afterwards');
is($node->safe_psql('postgres',
		q{SELECT string_agg(action || ' ' || coalesce(object, '-') || ' ' || coalesce(detail->>'operation', '-'), ', ' ORDER BY seq)
		  FROM aisec.audit_log WHERE seq > (SELECT max(seq) FROM aisec.audit_log WHERE action = 'version.commit')}),
	'test.hold - -, version.refused aisec.history_1 DELETE', 'after the lock holder\'s entry');
is($node->safe_psql('postgres', q{SELECT ok FROM aisec.audit_verify()}), 't', 'the chain verifies');

# With a slot free and nothing in the way, the entry is there at once.
$node->psql('postgres', q{TRUNCATE aisec.history_1});
is($node->safe_psql('postgres', $refusals), '2', 'entry written before the refused statement returned');

$node->stop;
done_testing();
