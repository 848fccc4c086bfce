# Dataset versions across a crash and a dump/restore: committed versions
# survive and verify, an in-flight writer's changes vanish with it, and
# versioning carries on in the restored database.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $tmp = PostgreSQL::Test::Utils::tempdir;
system_or_bail('sh', '-c', "umask 077 && openssl rand -out '$tmp/master.key' 32");

my $node = PostgreSQL::Test::Cluster->new('versions');
$node->init;
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'aisec'\naisec.master_key_file = '$tmp/master.key'\n");
$node->start;
$node->safe_psql('postgres', q{
	CREATE EXTENSION aisec;
	CREATE TABLE loans (id bigint PRIMARY KEY, name text, income numeric);
	INSERT INTO loans SELECT g, 'n' || g, g * 1000 FROM generate_series(1, 100) g;
	SELECT aisec.track('loans');
	SELECT aisec.create_dataset('credit', ARRAY['loans'::regclass]);
	SELECT aisec.commit('credit', 'one');
	UPDATE loans SET income = income + 1 WHERE id <= 10;
	DELETE FROM loans WHERE id > 95;
	SELECT aisec.commit('credit', 'two');
	SELECT aisec.tag('credit', 1, 'first');
});
# User-defined types inside arrays and composites: their send forms carry
# type OIDs, which a restore changes; row hashes must not.
$node->safe_psql('postgres', q{
	CREATE TYPE mood AS ENUM ('sad', 'fine');
	CREATE DOMAIN score AS numeric CHECK (VALUE >= 0);
	CREATE TYPE reading AS (m mood, s score, tags text[]);
	CREATE TABLE typed (id int PRIMARY KEY, moods mood[], r reading, rs reading[]);
	INSERT INTO typed VALUES
		(1, '{sad,fine}', '(sad,1.5,"{a,b}")', ARRAY['(fine,2,{c})'::reading, NULL]),
		(2, NULL, NULL, '{}'), (3, '{{sad},{NULL}}', '(,,)', NULL);
	SELECT aisec.track('typed');
	SELECT aisec.create_dataset('typed', ARRAY['typed'::regclass]);
	SELECT aisec.commit('typed', 'one');
});

# Crash with a writer in flight: its changes never reach a version.
my $bg = $node->background_psql('postgres');
$bg->query_safe(q{BEGIN; INSERT INTO loans VALUES (1000, 'ghost', 1);});
$node->stop('immediate');
$bg->quit;
$node->start;
is($node->safe_psql('postgres', q{SELECT bool_and(ok) FROM aisec.verify('credit')}), 't',
	'versions verify after a crash');
is($node->safe_psql('postgres', q{SELECT aisec.commit('credit', 'after crash')}), '2',
	'the crashed writer left nothing to commit');
is($node->safe_psql('postgres', q{SELECT count(*) FROM aisec.checkout(NULL::loans, 'first')}), '100',
	'tagged version reads back after a crash');

# A change pending at dump time travels with the dump, through a crash:
# an update, which as the table's first change since the commit (and
# larger than its history) leaves ending the old records to the commit,
# and inserts, whose noted ctids mean nothing in the restored table
# (commit finds such rows by scanning it).
$node->safe_psql('postgres', q{UPDATE loans SET name = 'renamed' WHERE id BETWEEN 50 AND 54});
is($node->safe_psql('postgres', q{SELECT string_agg(chr(get_byte(entries, 5)), '') FROM aisec.pending_row}),
	'e', 'the update left ending its rows\' old records to the commit');
$node->safe_psql('postgres', q{INSERT INTO loans VALUES (3000, 'pending insert', 3), (3001, 'gone again', 3)});
$node->safe_psql('postgres', q{DELETE FROM loans WHERE id = 3001});
$node->stop('immediate');
$node->start;
$node->safe_psql('postgres', 'CREATE DATABASE restored');
my $dump = "$tmp/dump.sql";
$node->command_ok([ 'pg_dump', '-d', $node->connstr('postgres'), '-f', $dump ], 'pg_dump');
$node->command_ok([ 'psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', $node->connstr('restored'), '-f', $dump ],
	'restore into a new database');
is($node->safe_psql('restored', q{SELECT bool_and(ok), count(*) FROM aisec.verify('credit')}), 't|4',
	'restored versions verify');
is($node->safe_psql('restored', q{SELECT string_agg(version || ':' || commit_hash, ',' ORDER BY version) FROM aisec.versions WHERE dataset = 'credit'}),
	$node->safe_psql('postgres', q{SELECT string_agg(version || ':' || commit_hash, ',' ORDER BY version) FROM aisec.versions WHERE dataset = 'credit'}),
	'restored commit hashes are the originals');
isnt($node->safe_psql('restored', q{SELECT 'mood'::regtype::oid}), $node->safe_psql('postgres', q{SELECT 'mood'::regtype::oid}),
	'the restored enum type has another OID');
is($node->safe_psql('restored', q{SELECT bool_and(ok), count(*) FROM aisec.verify('typed')}), 't|2',
	'rows with user-defined types in arrays and composites still verify');
is($node->safe_psql('restored', q{SELECT count(*) FROM aisec.checkout(NULL::loans, 2)}), '95',
	'version 2 reads back from the restored history');
is($node->safe_psql('restored', q{SELECT aisec.commit('credit', 'three')}), '3',
	'the pending change is committed in the restored database');
is($node->safe_psql('restored', q{SELECT string_agg(change || ':' || (after->>'name'), ',' ORDER BY rid) FROM aisec.diff('loans', 2, 3)}),
	'changed:renamed,changed:renamed,changed:renamed,changed:renamed,changed:renamed,added:pending insert',
	'and diff shows it');
is($node->safe_psql('restored', q{SELECT count(*) FROM aisec.pending_row}), '0',
	'the commit used up the pending entries');
$node->safe_psql('restored', q{INSERT INTO loans (id, name) VALUES (2000, 'new')});
is($node->safe_psql('restored', q{SELECT (SELECT aisec_rid FROM loans WHERE id = 2000) > (SELECT max(aisec_rid) FROM loans WHERE id < 2000)}),
	't', 'row ids continue after the restored ones');
is($node->safe_psql('restored', q{SELECT bool_and(ok) FROM aisec.verify('credit')}), 't',
	'everything verifies at the end');

done_testing();
