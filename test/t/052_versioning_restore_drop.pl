# Dataset versions through pg_dump -Fd and pg_restore, parallel (-j 4) and
# serial: every version, tag and tracked table comes back, verifies, reads
# back as the original did, and versioning carries on from the old head.
# (Before 0.2.0, foreign keys among aisec's tables made a parallel restore
# refuse the rows of aisec.version, version_table, tracked and tag.)
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use IPC::Run;

my $tmp = PostgreSQL::Test::Utils::tempdir;
system_or_bail('sh', '-c', "umask 077 && openssl rand -out '$tmp/master.key' 32");

my $node = PostgreSQL::Test::Cluster->new('restore');
$node->init;
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'aisec'\naisec.master_key_file = '$tmp/master.key'\n");
$node->start;

# A dataset of two tables, several commits with updates and deletes, a
# tag, a masked view, and a change pending at dump time.
$node->safe_psql('postgres', q{
	CREATE EXTENSION aisec;
	CREATE TABLE applicants (id int PRIMARY KEY, email text, income numeric);
	CREATE TABLE loans (id int PRIMARY KEY, applicant int REFERENCES applicants, amount numeric);
	INSERT INTO applicants SELECT g, 'a' || g || '@example.org', g * 10 FROM generate_series(1, 300) g;
	INSERT INTO loans SELECT g, g, g * 100 FROM generate_series(1, 300) g;
	SELECT aisec.track('applicants');
	SELECT aisec.track('loans');
	SELECT aisec.create_dataset('credit', ARRAY['applicants', 'loans']::regclass[]);
	SELECT aisec.commit('credit', 'one');
	SELECT aisec.tag('credit', 1, 'first');
	UPDATE applicants SET income = income + 1 WHERE id <= 30;
	DELETE FROM loans WHERE id > 280;
	SELECT aisec.commit('credit', 'two');
	INSERT INTO applicants VALUES (1000, 'late@example.org', 5);
	UPDATE loans SET amount = 0 WHERE id BETWEEN 10 AND 19;
	DELETE FROM loans WHERE id = 5;
	SELECT aisec.commit('credit', 'three');
	SELECT aisec.tag('credit', 3, 'third');
	SELECT aisec.set_mask('applicants', 'email', 'email');
	UPDATE applicants SET income = -1 WHERE id = 7;
});

# A second dataset dumped in the middle of its chores: a table removed
# from it (versions 1 and 2 include it), a tag given and taken back, and
# a revert to version 1 waiting for its commit (aisec.pending_note).
$node->safe_psql('postgres', q{
	CREATE TABLE r1 (id int PRIMARY KEY, v text);
	CREATE TABLE r2 (id int PRIMARY KEY, v text);
	INSERT INTO r1 SELECT g, 'r' || g FROM generate_series(1, 50) g;
	INSERT INTO r2 SELECT g, 's' || g FROM generate_series(1, 5) g;
	SELECT aisec.track('r1');
	SELECT aisec.track('r2');
	SELECT aisec.create_dataset('chores', ARRAY['r1', 'r2']::regclass[]);
	SELECT aisec.commit('chores', 'one');
	UPDATE r1 SET v = 'bad' WHERE id <= 10;
	DELETE FROM r1 WHERE id > 45;
	DELETE FROM r2 WHERE id = 1;
	SELECT aisec.commit('chores', 'poisoned');
	SELECT aisec.tag('chores', 2, 'oops');
	SELECT aisec.untag('chores', 'oops');
	SELECT aisec.remove_table('chores', 'r2');
	SELECT aisec.commit('chores', 'without r2');
	SELECT aisec.revert('chores', 1);
});

# A table that had a column dropped before it was tracked: its restored
# copy has no dropped column, so its columns have other numbers there.
$node->safe_psql('postgres', q{
	CREATE TABLE dc (id int PRIMARY KEY, gone text, v text);
	ALTER TABLE dc DROP COLUMN gone;
	INSERT INTO dc SELECT g, 'd' || g FROM generate_series(1, 20) g;
	SELECT aisec.track('dc');
	SELECT aisec.create_dataset('dropped', ARRAY['dc']::regclass[]);
	SELECT aisec.commit('dropped', 'one');
	UPDATE dc SET v = 'changed' WHERE id <= 5;
	DELETE FROM dc WHERE id = 20;
	SELECT aisec.commit('dropped', 'two');
	UPDATE dc SET v = 'pending' WHERE id = 6;
});

my %q = (
	versions => q{SELECT string_agg(version || ':' || coalesce(parent::text, '') || ':' || commit_hash || ':' || array_to_string(tags, '+'), ',' ORDER BY version) FROM aisec.versions WHERE dataset = 'credit'},
	tag1     => q{SELECT md5(string_agg(a::text, ',' ORDER BY id)) FROM aisec.checkout(NULL::applicants, 'first') a},
	tag1l    => q{SELECT md5(string_agg(l::text, ',' ORDER BY id)) FROM aisec.checkout(NULL::loans, 'first') l},
	diff     => q{SELECT md5(string_agg(change || rid || coalesce(before::text, '') || coalesce(after::text, ''), ',' ORDER BY rid, change)) FROM aisec.diff('loans', 1, 3)},
	diffa    => q{SELECT md5(string_agg(change || rid || coalesce(before::text, '') || coalesce(after::text, ''), ',' ORDER BY rid, change)) FROM aisec.diff('applicants', 1, 3)},
	live     => q{SELECT md5(string_agg(a::text, ',' ORDER BY id)) FROM applicants a},
	masked   => q{SELECT string_agg(email, ',' ORDER BY id) FROM aisec_masked.applicants WHERE id <= 3},
	chores   => q{SELECT string_agg(version || ':' || message || ':' || array_to_string(tags, '+'), ',' ORDER BY version) FROM aisec.versions WHERE dataset = 'chores'},
	note     => q{SELECT string_agg(version || ':' || reverted_to, ',') FROM aisec.pending_note},
	status   => q{SELECT string_agg("table" || ':' || inserted || ':' || updated || ':' || deleted, ',') FROM aisec.status('chores')},
	removed  => q{SELECT md5(string_agg(r::text, ',' ORDER BY id)) FROM aisec.checkout(NULL::r2, 2) r},
	dc1      => q{SELECT md5(string_agg(d::text, ',' ORDER BY id)) FROM aisec.checkout(NULL::dc, 1) d},
	dcdiff   => q{SELECT string_agg(change || ':' || coalesce(after->>'v', before->>'v'), ',' ORDER BY rid) FROM aisec.diff('dc', 1, 2)},
	dcstatus => q{SELECT string_agg("table" || ':' || inserted || ':' || updated || ':' || deleted, ',') FROM aisec.status('dropped')},
	tracked  => q{SELECT string_agg(table_no || ':' || rel::text || ':' || pending_version || ':' || coalesce(dataset_id, 0), ',' ORDER BY table_no) FROM aisec.tracked},
);
my %orig = map { $_ => $node->safe_psql('postgres', $q{$_}) } keys %q;
like($orig{versions}, qr/^1::\w+:first,2:1:\w+:,3:2:\w+:third$/, 'three versions and two tags to dump');
is($orig{note}, '4:1', 'a revert to version 1 waits in pending_note at dump time');
is($orig{chores}, '1:one:,2:poisoned:,3:without r2:', 'the untagged version has no tag');

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

	is($node->safe_psql($db, q{SELECT bool_and(ok) || ':' || count(*) FROM aisec.verify('credit')}), 'true:9',
		"$mode: every version verifies");
	is($node->safe_psql($db, $q{$_}), $orig{$_}, "$mode: $_ as in the original")
		for sort keys %q;

	# Versioning carries on: the pending change and new writes are captured
	# and committed as version 4, whose parent is the old head.
	$node->safe_psql($db, q{
		INSERT INTO applicants VALUES (2000, 'after@example.org', 1);
		UPDATE loans SET amount = amount + 1 WHERE id = 100;
		DELETE FROM applicants WHERE id = 2000 - 1000;
	});
	is($node->safe_psql($db, q{SELECT aisec.commit('credit', 'four')}), '4', "$mode: a new commit is version 4");
	is($node->safe_psql($db, q{SELECT parent FROM aisec.versions WHERE dataset = 'credit' AND version = 4}), '3',
		"$mode: its parent is the old head");
	is($node->safe_psql($db, q{SELECT string_agg(change || ':' || coalesce(after->>'email', before->>'email', after->>'amount'), ',' ORDER BY change, rid) FROM aisec.diff('applicants', 3, 4)}),
		'added:after@example.org,changed:a7@example.org,removed:late@example.org',
		"$mode: writes after the restore were captured");
	is($node->safe_psql($db, q{SELECT string_agg(change || ':' || (after->>'amount'), ',') FROM aisec.diff('loans', 3, 4)}),
		'changed:10001', "$mode: on both tables");
	is($node->safe_psql($db, q{SELECT bool_and(ok) || ':' || count(*) FROM aisec.verify('credit')}), 'true:12',
		"$mode: everything verifies at the end");
	is($node->safe_psql($db, q{SELECT (SELECT aisec_rid FROM applicants WHERE id = 2000) > (SELECT max(aisec_rid) FROM applicants WHERE id < 2000)}),
		't', "$mode: row ids continue after the restored ones");
	$node->safe_psql($db, q{CREATE TABLE later (id int)});
	# The revert noted before the dump is recorded by the next commit,
	# which holds version 1's rows again, row ids included.
	is($node->safe_psql($db, q{SELECT aisec.commit('chores', 'back')}), '4', "$mode: the reverted dataset commits");
	is($node->safe_psql($db, q{SELECT message FROM aisec.versions WHERE dataset = 'chores' AND version = 4}),
		'back (reverted to version 1)', "$mode: its message records the revert noted before the dump");
	is($node->safe_psql($db, q{SELECT count(*) FROM aisec.diff('r1', 1, 4)}), '0',
		"$mode: version 4 holds version 1's rows");
	is($node->safe_psql($db, q{SELECT bool_and(ok) || ':' || count(*) FROM aisec.verify('chores')}), 'true:10',
		"$mode: the chores dataset verifies");
	is($node->safe_psql($db, q{SELECT bool_and(ok) || ':' || count(*) FROM aisec.verify('dropped')}), 'true:4',
		"$mode: the table with a dropped column verifies");
	$node->safe_psql($db, q{INSERT INTO dc VALUES (100, 'new'); UPDATE dc SET v = 'again' WHERE id = 7;});
	is($node->safe_psql($db, q{SELECT aisec.commit('dropped', 'three')}), '3', "$mode: and commits");
	is($node->safe_psql($db, q{SELECT string_agg(change || ':' || coalesce(after->>'v', before->>'v'), ',' ORDER BY change, rid) FROM aisec.diff('dc', 2, 3)}),
		'added:new,changed:pending,changed:again', "$mode: its changes after the restore are captured");
	is($node->safe_psql($db, q{SELECT bool_and(ok) || ':' || count(*) FROM aisec.verify('dropped')}), 'true:6',
		"$mode: and everything verifies");
	is($node->safe_psql($db, q{SELECT aisec.track('later')}), '6',
		"$mode: a table tracked after the restore gets the next table number");
}

done_testing();
