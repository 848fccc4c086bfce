# Row lineage through pg_dump -Fd and pg_restore, parallel (-j 4) and
# serial: every transform and edge comes back, lineage_up/lineage_down
# answer as in the original, untracked sources come back by name (one
# dropped before the dump names nothing), the restored tables still refuse
# changes, and lineage recorded after the restore gets the next transform id.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use IPC::Run;

my $tmp = PostgreSQL::Test::Utils::tempdir;
system_or_bail('sh', '-c', "umask 077 && openssl rand -out '$tmp/master.key' 32");

my $node = PostgreSQL::Test::Cluster->new('lineage');
$node->init;
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'aisec'\naisec.master_key_file = '$tmp/master.key'\n");
$node->start;

# raw -> clean (explicit, many parents per child, two row-id blocks) ->
# a materialized, tracked copy of clean.
$node->safe_psql('postgres', q{
	CREATE EXTENSION aisec;
	CREATE TABLE raw (id int, v int);
	INSERT INTO raw SELECT g, g FROM generate_series(1, 270000) g;
	CREATE TABLE clean (id int, total bigint);
	INSERT INTO clean SELECT g, 0 FROM generate_series(1, 10) g;
	SELECT aisec.track('raw');
	SELECT aisec.track('clean');
	SELECT aisec.create_dataset('ds', ARRAY['raw', 'clean']::regclass[]);
	SELECT aisec.commit('ds', 'one');
	SET aisec.transform = 'sum_by_bucket';
	SELECT aisec.record_lineage(array_agg(c.aisec_rid), array_agg(r.aisec_rid))
	  FROM raw r JOIN clean c ON c.id = r.id % 10 + 1;
	SELECT aisec.materialize('clean', 1, 'clean_copy');
	SELECT aisec.track('clean_copy');
	-- Untracked sources, one of them dropped before the dump: recorded
	-- by name, so the restore names the restored table and no other.
	CREATE TABLE side (id int, v bigint);
	INSERT INTO side VALUES (1, 10), (2, 20);
	CREATE TABLE gone (id int);
	INSERT INTO gone VALUES (1);
	INSERT INTO clean SELECT r.id + 1000, s.v FROM raw r JOIN side s ON s.id = r.id JOIN gone g ON g.id = s.id;
	DROP TABLE gone;
});

my %q = (
	transforms => q{SELECT string_agg(id || ':' || kind || ':' || coalesce(name, '') || ':' || level || ':' || edges || ':' || coalesce(target_rel::text, ''), ',' ORDER BY id) FROM aisec.lineage_transform},
	edges      => q{SELECT count(*) || ':' || md5(string_agg(child || ':' || child_from || ':' || parent_lo || ':' || parent_hi || ':' || encode(parents, 'hex') || ':' || transform, ',' ORDER BY child, parent_lo)) FROM aisec.lineage_edge},
	up         => q{SELECT count(*) || ':' || max(depth) || ':' || md5(string_agg(rid::text, ',' ORDER BY rid)) FROM clean_copy c, aisec.lineage_up(c.aisec_rid) u WHERE c.id = 3},
	down       => q{SELECT string_agg(depth || ':' || rel::text, ',' ORDER BY depth, rid) FROM raw r, aisec.lineage_down(r.aisec_rid) d WHERE r.id = 262145},
	untracked  => q{SELECT string_agg(coalesce(source::text, '-') || '<' || source_name || ':' || target::text, ',' ORDER BY source_name) FROM aisec.lineage_graph WHERE NOT source_tracked},
);
my %orig = map { $_ => $node->safe_psql('postgres', $q{$_}) } keys %q;
# 10 children x 2 blocks of 262,144 ids, 10 copied rows, 1 joined row.
like($orig{edges}, qr/^31:/, 'edges of 270,000 parents packed into a few dozen rows');
is($orig{up}, '27001:2:' . $node->safe_psql('postgres', q{SELECT md5(string_agg(rid::text, ',' ORDER BY rid)) FROM (SELECT aisec_rid AS rid FROM clean WHERE id = 3 UNION ALL SELECT aisec_rid FROM raw WHERE id % 10 + 1 = 3) s}),
	'up from a copy: its clean row, then that row\'s 27,000 raw rows');
is($orig{down}, '1:clean,2:clean_copy', 'down from a raw row: clean, then the copy');
is($orig{untracked}, '-<public.gone:clean,side<public.side:clean', 'untracked sources, one dropped');

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
	is($node->safe_psql($db, $q{$_}), $orig{$_}, "$mode: $_ as in the original")
		for sort keys %q;

	my ($rc, $out, $err) = $node->psql($db, q{DELETE FROM aisec.lineage_edge});
	like($err, qr/DELETE on table "aisec.lineage_edge" is not allowed/, "$mode: restored edges refuse DELETE");

	is($node->safe_psql($db, q{
		SELECT aisec.record_lineage(ARRAY[(SELECT aisec_rid FROM clean WHERE id = 1)],
		                            ARRAY[(SELECT aisec_rid FROM raw WHERE id = 1)], 'after') >
		       (SELECT max(id) FROM aisec.lineage_transform WHERE name IS DISTINCT FROM 'after')}),
		't', "$mode: a transform recorded after the restore gets a new id");
}

done_testing();
