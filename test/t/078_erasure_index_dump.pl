# Erasure's subject index on a history (doc/erasure.md, "The subject index")
# through pg_dump -Fd and pg_restore, parallel (-j 4) and serial: the index
# comes back (by column name, also for a table whose restored copy has no
# dropped column, so other attribute numbers), capture keeps writing its
# keys, and erase finds through it a row that changed away from the subject.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use IPC::Run;

my $tmp = PostgreSQL::Test::Utils::tempdir;
system_or_bail('sh', '-c', "umask 077 && openssl rand -out '$tmp/master.key' 32");

my $node = PostgreSQL::Test::Cluster->new('erasure_index');
$node->init;
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'aisec'\naisec.master_key_file = '$tmp/master.key'\n");
$node->start;

# A column dropped before tracking: the restored table numbers its columns
# differently.  Person 5 changes e-mail away from the subject after v1.
$node->safe_psql('postgres', q{
	CREATE EXTENSION aisec;
	CREATE TABLE people (id int PRIMARY KEY, gone text, email text, name text);
	ALTER TABLE people DROP COLUMN gone;
	CREATE INDEX ON people (email);
	INSERT INTO people SELECT g, 'p' || g || '@example.com', 'Name ' || g FROM generate_series(1, 500) g;
	SELECT aisec.track('people');
	SELECT aisec.declare_subject('people', 'email');
	SELECT aisec.create_dataset('ds', ARRAY['people']::regclass[]);
	SELECT aisec.commit('ds', 'one');
	UPDATE people SET email = 'p5.new@example.com' WHERE id = 5;
	SELECT aisec.commit('ds', 'two');
});

# The subject index's definition, with the history's number left out.
my $defq = q{
	SELECT string_agg(regexp_replace(pg_get_indexdef(i.indexrelid), 'history_[0-9]+', 'history_N', 'g'), ';')
	FROM pg_index i JOIN aisec.tracked t ON i.indrelid = t.history
	WHERE t.rel = 'people'::regclass AND pg_get_indexdef(i.indexrelid) LIKE '%(data)%'};
my $def = $node->safe_psql('postgres', $defq);
is($def, 'CREATE INDEX history_N_email_idx ON aisec.history_N USING btree (((data).email))',
	'declare_subject built the subject index');

$node->command_ok([ 'pg_dump', '-Fd', '-f', "$tmp/dump", '-d', $node->connstr('postgres') ], 'pg_dump -Fd');

for my $mode ('-j 4', 'serial')
{
	my $db = $mode eq 'serial' ? 'serial' : 'parallel';
	$node->safe_psql('postgres', "CREATE DATABASE $db");
	my @jobs = $mode eq 'serial' ? () : ('-j', '4');
	my ($stdout, $stderr);
	my $ok = IPC::Run::run([ 'pg_restore', @jobs, '-d', $node->connstr($db), "$tmp/dump" ],
		'>', \$stdout, '2>', \$stderr);
	ok($ok, "pg_restore $mode exits 0");
	is($stderr, '', "pg_restore $mode reports no error");

	is($node->safe_psql($db, $defq), $def, "$mode: the subject index came back");
	isnt($node->safe_psql($db, q{SELECT attnum FROM pg_attribute WHERE attrelid = 'people'::regclass AND attname = 'email'}),
		$node->safe_psql('postgres', q{SELECT attnum FROM pg_attribute WHERE attrelid = 'people'::regclass AND attname = 'email'}),
		"$mode: the restored column has another number");

	# Capture writes the index's keys after the restore (an inserted row's
	# record is written by the commit).
	$node->safe_psql($db, q{INSERT INTO people VALUES (501, 'p501@example.com', 'New');
		SELECT aisec.commit('ds', 'three')});
	my $hist = $node->safe_psql($db, q{SELECT history::regclass FROM aisec.tracked WHERE rel = 'people'::regclass});
	my $plan = $node->safe_psql($db, qq{SET enable_seqscan = off;
		EXPLAIN (COSTS OFF) SELECT (h.data).id FROM $hist h WHERE (h.data).email = 'p501\@example.com'});
	like($plan, qr/Index (Only )?Scan using history_\d+_email_idx|Bitmap Index Scan on history_\d+_email_idx/,
		"$mode: the history search uses the subject index");
	is($node->safe_psql($db, qq{SET enable_seqscan = off;
		SELECT string_agg((h.data).id || ':' || h.valid_from, ',' ORDER BY h.valid_from) FROM $hist h
		WHERE (h.data).email IN ('p501\@example.com', 'p5\@example.com')}),
		'5:1,501:3', "$mode: old and new records found by index");

	# Erase finds person 5 by the record of version 1 and erases the row.
	is($node->safe_psql($db, q{
		SELECT aisec.request_erasure('p5@example.com', 'T-1') > 0;
		SELECT (e->'live_rows_deleted')::text || ':' || (e->'history_records_redacted')::text
		FROM aisec.erase('T-1', 'p5@example.com') e}),
		"t\n1:2", "$mode: erase found the row that changed away from the subject");
	is($node->safe_psql($db, q{SELECT count(*) FROM people WHERE id = 5}), '0', "$mode: its live row is gone");
	is($node->safe_psql($db, q{SELECT bool_and(ok) FROM aisec.verify('ds')}), 't', "$mode: every version verifies");
}

done_testing();
