# DROP EXTENSION aisec: refused without CASCADE while tables are tracked;
# with CASCADE (or DROP SCHEMA aisec CASCADE) nothing of a tracked table's
# rows stays in any aisec relation, no aisec_rid column and no capture
# trigger remains; a rollback loses nothing; the extension can be created
# again and track the same and new tables, also after an earlier aisec
# left its history tables behind.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $tmp = PostgreSQL::Test::Utils::tempdir;
system_or_bail('sh', '-c', "umask 077 && openssl rand -out '$tmp/master.key' 32");

my $node = PostgreSQL::Test::Cluster->new('dropext');
$node->init;
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'aisec'\naisec.master_key_file = '$tmp/master.key'\n");
$node->start;

# Tracked tables with committed versions (one in a dataset, one not), a
# masked view, a user's view of aisec_rid, and pending changes.
my $setup = q{
	CREATE EXTENSION aisec;
	CREATE TABLE applicants (id int PRIMARY KEY, email text, income numeric);
	CREATE TABLE scratch (id int, note text);
	INSERT INTO applicants SELECT g, 'a' || g || '@example.org', g FROM generate_series(1, 100) g;
	INSERT INTO scratch SELECT g, 'n' || g FROM generate_series(1, 10) g;
	SELECT aisec.track('applicants');
	SELECT aisec.track('scratch');
	SELECT aisec.create_dataset('credit', ARRAY['applicants'::regclass]);
	SELECT aisec.commit('credit', 'one');
	UPDATE applicants SET income = 0 WHERE id <= 10;
	DELETE FROM applicants WHERE id > 90;
	SELECT aisec.commit('credit', 'two');
	SELECT aisec.set_mask('applicants', 'email', 'email');
	CREATE VIEW rids AS SELECT aisec_rid, id FROM applicants;
	UPDATE applicants SET income = 1 WHERE id = 50;
};

# What of aisec is left: relations in schema aisec with their rows,
# aisec_rid columns, capture triggers, history relations anywhere.
my $leftovers = q{
	SELECT (SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
	         WHERE n.nspname = 'aisec' AND c.relkind <> 'i') || ':' ||
	       (SELECT count(*) FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
	         WHERE a.attname = 'aisec_rid' AND NOT a.attisdropped AND c.relkind = 'r') || ':' ||
	       (SELECT count(*) FROM pg_trigger WHERE tgname LIKE 'aisec\_capture\_%') || ':' ||
	       (SELECT count(*) FROM pg_class WHERE relname ~ '^history_\d+' AND relkind = 'r');
};

sub drop_ok
{
	my ($db, $sql, $what) = @_;
	my ($ret, $out, $err) = $node->psql($db, $sql);
	is($ret, 0, "$what: succeeds");
	like($err, qr/NOTICE:  dropped the history of 2 tracked tables \(4 history tables\), their aisec_rid columns and capture triggers/,
		"$what: says what it dropped");
	is($node->safe_psql($db, $leftovers), '0:0:0:0',
		"$what: no aisec relation, aisec_rid column, capture trigger or history is left");
	is($node->safe_psql($db, q{SELECT count(*) FROM pg_class WHERE relname IN ('rids') OR relnamespace::regnamespace::text = 'aisec_masked'}),
		'0', "$what: views of aisec_rid and masked views went with it");
	is($node->safe_psql($db, q{SELECT count(*) || ':' || sum(income) FROM applicants}), '90:3991',
		"$what: the tables' own rows are untouched");
}

$node->safe_psql('postgres', 'CREATE DATABASE d1');
$node->safe_psql('d1', $setup);
my $before = $node->safe_psql('d1', $leftovers);
like($before, qr/^\d+:2:12:4$/, 'set up: 2 tracked tables with histories');

# Without CASCADE: refused, naming the tables and what CASCADE drops.
my ($ret, $out, $err) = $node->psql('d1', 'DROP EXTENSION aisec');
isnt($ret, 0, 'DROP EXTENSION aisec without CASCADE is refused');
like($err, qr/ERROR:  cannot drop extension "aisec": 2 tables are tracked/, 'with an aisec error');
like($err, qr/DETAIL:  Tracked: public\.applicants, public\.scratch\.  DROP EXTENSION aisec CASCADE would also drop the history of these 2 tables \(every row version, those of all 2 committed versions included\), their aisec_rid columns and capture triggers, and the masked views\./,
	'listing the tracked tables and what CASCADE drops');
($ret, $out, $err) = $node->psql('d1', q{\set VERBOSITY verbose
DROP EXTENSION IF EXISTS aisec});
like($err, qr/ERROR:  2BP01/, 'SQLSTATE 2BP01, also with IF EXISTS');

# The guards still hold: history cannot be dropped, tracked tables say how.
($ret, $out, $err) = $node->psql('d1', 'DROP TABLE aisec.history_1');
like($err, qr/cannot drop history table "aisec.history_1"/, 'dropping a history table is still refused');
($ret, $out, $err) = $node->psql('d1', 'DROP TABLE applicants CASCADE');
like($err, qr/cannot drop table "applicants": it is tracked by aisec and belongs to dataset "credit"/,
	'dropping a tracked table is refused with aisec\'s error');

# With CASCADE in a transaction that rolls back: nothing is lost.
$node->safe_psql('d1', q{BEGIN; DROP EXTENSION aisec CASCADE; ROLLBACK;});
is($node->safe_psql('d1', $leftovers), $before, 'a rolled back DROP EXTENSION CASCADE loses nothing');
is($node->safe_psql('d1', q{SELECT bool_and(ok) || ':' || count(*) FROM aisec.verify('credit')}), 'true:4',
	'and every version still verifies');
is($node->safe_psql('d1', q{SELECT aisec.commit('credit', 'three')}), '3', 'and versioning carries on');

# Several objects in one DROP, IF EXISTS, CASCADE.
drop_ok('d1', 'DROP EXTENSION IF EXISTS no_such_extension, aisec CASCADE', 'DROP EXTENSION IF EXISTS ..., aisec CASCADE');

# Created again: tracking works on the same and on new tables.
$node->safe_psql('d1', 'CREATE EXTENSION aisec; CREATE TABLE fresh (id int, v text)');
is($node->safe_psql('d1', q{SELECT aisec.track('applicants')}), '1', 're-created: the same table is tracked again');
is($node->safe_psql('d1', q{SELECT aisec.track('fresh')}), '2', 're-created: a new table too');
$node->safe_psql('d1', q{
	SELECT aisec.create_dataset('again', ARRAY['applicants', 'fresh']::regclass[]);
	SELECT aisec.commit('again', 'first');
	INSERT INTO fresh VALUES (1, 'x');
	UPDATE applicants SET income = 2 WHERE id = 1;
	SELECT aisec.commit('again', 'second');
});
is($node->safe_psql('d1', q{SELECT count(*) FROM aisec.diff('applicants', 1, 2)}) . ':' .
	$node->safe_psql('d1', q{SELECT count(*) FROM aisec.diff('fresh', 1, 2)}), '1:1',
	're-created: changes are captured and committed');
is($node->safe_psql('d1', q{SELECT bool_and(ok) FROM aisec.verify('again')}), 't', 're-created: versions verify');

# DROP SCHEMA aisec CASCADE: the same.
$node->safe_psql('postgres', 'CREATE DATABASE d2');
$node->safe_psql('d2', $setup);
drop_ok('d2', 'DROP SCHEMA aisec CASCADE', 'DROP SCHEMA aisec CASCADE');

# A non-superuser extension owner, in a session that has not loaded the
# library (no shared_preload_libraries), drops the aisec_rid column of a
# table another role owns, as PostgreSQL's CASCADE drops its triggers.
$node->safe_psql('postgres', q{
	CREATE DATABASE d3;
	CREATE ROLE extowner LOGIN SUPERUSER;
	CREATE ROLE tabowner LOGIN;
});
$node->safe_psql('d3', "SET ROLE extowner; $setup; ALTER TABLE applicants OWNER TO tabowner; ALTER TABLE scratch OWNER TO tabowner;");
$node->safe_psql('postgres', 'ALTER ROLE extowner NOSUPERUSER');
$node->adjust_conf('postgresql.conf', 'shared_preload_libraries', "''");
$node->restart;
is($node->safe_psql('d3', q{SELECT count(*) FROM pg_extension e JOIN pg_roles r ON r.oid = e.extowner
	WHERE e.extname = 'aisec' AND r.rolname = 'extowner' AND NOT r.rolsuper}), '1',
	'aisec is owned by a role that is no superuser');
($ret, $out, $err) = $node->psql('d3', 'DROP EXTENSION aisec CASCADE',
	extra_params => [ '-U', 'tabowner' ]);
like($err, qr/must be owner of extension aisec/, 'another role cannot drop it (PostgreSQL\'s error)');
like($node->safe_psql('d3', $leftovers), qr/^\d+:2:12:4$/, 'and nothing was dropped');
drop_ok('d3', 'SET ROLE extowner; DROP EXTENSION aisec CASCADE', 'non-superuser owner, library not loaded');
$node->adjust_conf('postgresql.conf', 'shared_preload_libraries', "'aisec'");
$node->restart;

# History left behind by an earlier aisec (as if the event trigger had
# not been there): track() skips the taken table numbers, and names what
# to drop where a leftover history holds a table's rows.
$node->safe_psql('postgres', 'CREATE DATABASE d4');
$node->safe_psql('d4', $setup);
$node->safe_psql('d4', 'ALTER EVENT TRIGGER aisec_drop_extension DISABLE; DROP EXTENSION aisec CASCADE');
is($node->safe_psql('d4', $leftovers), '4:2:0:4', 'an earlier aisec left 4 history tables and 2 aisec_rid columns');
$node->safe_psql('d4', 'CREATE EXTENSION aisec; CREATE TABLE newer (id int)');
($ret, $out, $err) = $node->psql('d4', q{SELECT aisec.track('applicants')});
like($err, qr/already has a column named "aisec_rid".*\n.*drop it with ALTER TABLE public\.applicants DROP COLUMN aisec_rid\./,
	'a leftover aisec_rid column is named, with the statement to drop it');
$node->safe_psql('d4', 'ALTER TABLE applicants DROP COLUMN aisec_rid CASCADE');
($ret, $out, $err) = $node->psql('d4', q{SELECT aisec.track('applicants')});
like($err, qr/ERROR:  cannot track table "applicants": column "data" of table aisec\.history_1 stores its rows/,
	'a leftover history holding the table\'s rows is named');
like($err, qr/HINT:  .*DROP TABLE aisec\.history_1, aisec\.history_1_ended;/, 'with the statement to drop it');
is($node->safe_psql('d4', q{SELECT aisec.track('newer')}), '3', 'a new table skips the taken table numbers');
$node->safe_psql('d4', 'DROP TABLE aisec.history_1, aisec.history_1_ended');
is($node->safe_psql('d4', q{SELECT aisec.track('applicants')}), '4', 'and the old table is tracked once its leftover is gone');
($ret, $out, $err) = $node->psql('d4', 'DROP EXTENSION aisec CASCADE');
like($err, qr/NOTICE:  dropped the history of 2 tracked tables \(6 history tables\)/,
	'the leftover histories are counted with the tracked tables\' ones');
is($node->safe_psql('d4', $leftovers), '0:1:0:0',
	'DROP EXTENSION CASCADE drops the leftover histories too (the unregistered aisec_rid column of scratch stays)');

# Dropped with a revert waiting for its commit, and created again, in the
# transaction that wrote the tables: what is written after track() is
# captured under the new table numbers (capture's per-transaction state
# of the old tracking is gone with it).
$node->safe_psql('postgres', 'CREATE DATABASE d5');
$node->safe_psql('d5', $setup);
$node->safe_psql('d5', q{SELECT aisec.revert('credit', 1)});
is($node->safe_psql('d5', q{SELECT count(*) FROM aisec.pending_note}), '1', 'a revert waits for its commit');
($ret, $out, $err) = $node->psql('d5', q{
	BEGIN;
	UPDATE applicants SET income = 5 WHERE id = 1;
	INSERT INTO scratch VALUES (11, 'n11');
	DROP EXTENSION aisec CASCADE;
	CREATE EXTENSION aisec;
	SELECT aisec.track('applicants');
	SELECT aisec.track('scratch');
	INSERT INTO applicants VALUES (1000, 'new@example.org', 1);
	UPDATE applicants SET income = 6 WHERE id = 2;
	DELETE FROM scratch WHERE id = 1;
	INSERT INTO scratch VALUES (12, 'n12');
	SELECT aisec.create_dataset('again', ARRAY['applicants', 'scratch']::regclass[]);
	SELECT aisec.commit('again', 'first');
	UPDATE applicants SET income = 7 WHERE id = 3;
	COMMIT;
});
is($ret, 0, 'dropped, created again and tracked again in the writing transaction: writes go on') or diag($err);
is($node->safe_psql('d5', q{SELECT aisec.commit('again', 'second')}), '2', 'and are committed');
is($node->safe_psql('d5', q{SELECT count(*) FROM aisec.checkout(NULL::applicants, 1)}) . ':' .
	$node->safe_psql('d5', q{SELECT count(*) FROM aisec.checkout(NULL::scratch, 1)}) . ':' .
	$node->safe_psql('d5', q{SELECT string_agg(change, ',') FROM aisec.diff('applicants', 1, 2)}),
	'101:11:changed', 'the versions hold the rows written after track()');
is($node->safe_psql('d5', q{SELECT bool_and(ok) FROM aisec.verify('again')}), 't', 'and verify');
is($node->safe_psql('d5', q{SELECT count(*) FROM aisec.pending_note}), '0', 'no revert note is left from before the drop');

done_testing();
