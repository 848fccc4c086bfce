# Physical removal after erasure (issue 18 item 11, doc/erasure.md
# "Physical removal"): erase deletes the live rows and redacts the history
# by MVCC, so the old tuples' bytes stay in the data files until VACUUM.
# This test looks for the subject's e-mail in pg_dump output and in the
# bytes of the table's, its index's and its history's relation files
# (pg_relation_filepath; a byte search, as `strings | grep` would):
#
# - after erase, before VACUUM: not in pg_dump output (a logical dump
#   reads live rows and current history only); still in the files;
# - after VACUUM of the table and its history (and a CHECKPOINT, so the
#   pages reach the files): the dead tuples are gone, but their bytes are
#   still in the table's and index's files (measured on PostgreSQL 15:
#   table 2, index 1, history 1 occurrences, as before erase: 2, 1, 2),
#   since VACUUM does not zero the space it frees;
# - after VACUUM FULL of both (a rewrite into new files): in none.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $tmp = PostgreSQL::Test::Utils::tempdir;
system_or_bail('sh', '-c', "umask 077 && openssl rand -out '$tmp/master.key' 32");

my $node = PostgreSQL::Test::Cluster->new('erasure_vacuum');
$node->init;
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'aisec'\naisec.master_key_file = '$tmp/master.key'\nautovacuum = off\n");
$node->start;
my $email = 'zoe.vacuum@example.com';
$node->safe_psql('postgres', qq{
	CREATE EXTENSION aisec;
	CREATE ROLE dpo IN ROLE aisec_dpo;
	CREATE TABLE customers (id int PRIMARY KEY, email text, name text);
	CREATE INDEX customers_email ON customers (email);
	INSERT INTO customers SELECT g, 'c' || g || '\@example.com', 'name ' || g FROM generate_series(1, 2000) g;
	UPDATE customers SET email = '$email', name = 'Zoe' WHERE id = 1000;
	SELECT aisec.track('customers');
	SELECT aisec.create_dataset('crm', ARRAY['customers']::regclass[]);
	SELECT aisec.commit('crm', 'v1');
	UPDATE customers SET name = 'Zoe Z.' WHERE id = 1000;
	SELECT aisec.commit('crm', 'v2');
	SELECT aisec.declare_subject('customers', 'email');
	SET SESSION AUTHORIZATION dpo;
	SELECT aisec.request_erasure('$email', 'VAC-1');
});

my $pgdata = $node->data_dir;
my %rel = (
	table   => 'customers',
	index   => 'customers_email',
	history => $node->safe_psql('postgres', q{SELECT history FROM aisec.tracked WHERE rel = 'customers'::regclass}),
);
# How many times the e-mail's bytes occur in each relation's files.
sub occurrences
{
	my %n;
	$node->safe_psql('postgres', 'CHECKPOINT');
	for my $k (sort keys %rel)
	{
		my $path = $node->safe_psql('postgres', qq{SELECT pg_relation_filepath('$rel{$k}')});
		my $count = 0;
		for my $f (glob("$pgdata/$path $pgdata/$path.[0-9]*"))
		{
			my $bytes = slurp_file($f);
			my $pos = 0;
			while (($pos = index($bytes, $email, $pos)) >= 0) { $count++; $pos++; }
		}
		$n{$k} = $count;
	}
	return join(',', map { "$_=$n{$_}" } sort keys %n);
}
sub dump_has
{
	my $file = "$tmp/dump.sql";
	$node->command_ok([ 'pg_dump', '-d', $node->connstr('postgres'), '-f', $file ], 'pg_dump');
	return index(slurp_file($file), $email) >= 0 ? 'yes' : 'no';
}

my $before = occurrences();
note "before erase: $before";
like($before, qr/history=[1-9]\d*,index=[1-9]\d*,table=[1-9]/, 'before erase: the e-mail is in the table, index and history files');
is(dump_has(), 'yes', 'and in pg_dump output');

is($node->safe_psql('postgres', q{SET SESSION AUTHORIZATION dpo;
	SELECT (aisec.erase('VAC-1', 'zoe.vacuum@example.com'))->>'live_rows_deleted'}), '1', 'erased');
is(dump_has(), 'no', 'after erase, before VACUUM: not in pg_dump output');
my $erased = occurrences();
note "after erase, before VACUUM: $erased";
like($erased, qr/history=[1-9]\d*,index=[1-9]\d*,table=[1-9]/,
	'after erase, before VACUUM: still in the files (dead tuples, index entries)');

$node->safe_psql('postgres', qq{VACUUM customers; VACUUM $rel{history};});
my $vacuumed = occurrences();
note "after VACUUM: $vacuumed";
is(dump_has(), 'no', 'after VACUUM: not in pg_dump output');
is($node->safe_psql('postgres', qq{SELECT sum(n_dead_tup) FROM pg_stat_user_tables WHERE relid IN ('customers'::regclass, '$rel{history}'::regclass)}),
	'0', 'VACUUM removed the dead tuples');
# Yet their bytes stay: pruning compacts a page's tuples without zeroing
# the space it frees, and a btree VACUUM likewise, so the bytes remain
# until the space is reused (PostgreSQL 14-17 alike).  This pins what
# doc/erasure.md "Physical removal" says: plain VACUUM is not enough.
like($vacuumed, qr/index=[1-9]\d*,table=[1-9]/, 'after VACUUM: the bytes are still in the table and index files');

$node->safe_psql('postgres', qq{VACUUM FULL customers; VACUUM FULL $rel{history};});
is(occurrences(), 'history=0,index=0,table=0', 'after VACUUM FULL: in no relation file');
is(dump_has(), 'no', 'nor in pg_dump output');
is($node->safe_psql('postgres', q{SELECT bool_and(ok) FROM aisec.verify('crm')}), 't', 'every version verifies');
is($node->safe_psql('postgres', q{SELECT count(*) FROM aisec.checkout(NULL::customers, 1)}), '1999',
	'version 1 checks out without the erased row');

# The WAL still holds the row as inserted, until its segments are recycled.
my $wal = 0;
for my $f (glob("$pgdata/pg_wal/0*"))
{
	$wal++ if index(slurp_file($f), $email) >= 0;
}
ok($wal >= 1, "the WAL still holds the e-mail ($wal segment(s)), until its segments are recycled");

done_testing();
