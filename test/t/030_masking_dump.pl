# Masking rules, masked views and masked roles across pg_dump and restore,
# with renamed and renumbered columns (doc/masking.md, "Renames, dump and
# restore").
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $tmp = PostgreSQL::Test::Utils::tempdir;
system_or_bail('sh', '-c', "umask 077 && openssl rand -out '$tmp/master.key' 32");

my $node = PostgreSQL::Test::Cluster->new('masking');
$node->init;
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'aisec'\naisec.master_key_file = '$tmp/master.key'\n");
$node->start;
$node->safe_psql('postgres', q{
CREATE EXTENSION aisec;
CREATE ROLE masked_reader LOGIN;
-- A dropped column: a restored table numbers its columns differently.
CREATE TABLE people (id int, dropme text, name text, email text, card text);
ALTER TABLE people DROP COLUMN dropme;
INSERT INTO people VALUES (1, 'Jonathan Smith', 'jon.smith@example.com', '4111111111111111'),
                          (2, 'Ada Lovelace', 'ada@example.org', '5500005555555559');
GRANT SELECT ON people TO masked_reader;
SELECT aisec.create_key('people_key', 'hmac');
SELECT aisec.import_key('card_key', '\x2b7e151628aed2a6abf7158809cf4f3c', 'ff1');
SELECT aisec.set_mask('people', 'id', 'pseudonym(people_key)');
SELECT aisec.set_mask('people', 'name', 'partial(1, 0)');
SELECT aisec.set_mask('people', 'email', 'email');
SELECT aisec.set_mask('people', 'card', 'ff1(card_key)');
SELECT aisec.mask_role('masked_reader');
-- A rename after the rules were set: the rule follows the column.
ALTER TABLE people RENAME COLUMN email TO mail;
});

my $rules_sql = q{SELECT "column", rule FROM aisec.masks ORDER BY 1};
# The view keeps the column names it was made with until masked_view()
# rebuilds it, so compare its rows by position.
my $view_sql = q{SELECT * FROM aisec_masked.people ORDER BY 4};
my $rules = $node->safe_psql('postgres', $rules_sql);
my $view = $node->safe_psql('postgres', $view_sql);
is($rules, "card|ff1(card_key)\nid|pseudonym(people_key)\nmail|email\nname|partial(1, 0)",
	'rules follow a renamed column');
like($view, qr/^v1:[0-9a-f]{64}\|J\*+\|j\*+\@\*+\.com\|\d{16}$/m, 'masked view masks every ruled column');
is($node->safe_psql('postgres', q{SELECT col FROM aisec.mask_rule WHERE rule = 'email'}), 'mail',
	'the stored column name is kept current');

# Dump and restore into a new database of the same cluster.
$node->safe_psql('postgres', 'CREATE DATABASE restored');
my $dump = "$tmp/dump.sql";
$node->command_ok([ 'pg_dump', '-d', $node->connstr('postgres'), '-f', $dump ], 'pg_dump');
$node->command_ok([ 'psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', $node->connstr('restored'), '-f', $dump ],
	'restore into a new database');

is($node->safe_psql('restored', $rules_sql), $rules, 'rules survive dump and restore');
is($node->safe_psql('restored', q{
	SELECT count(*) FROM aisec.mask_rule m JOIN pg_attribute a
	    ON a.attrelid = m.rel AND a.attnum = m.attnum AND a.attname = m.col}), '4',
	'restored rules point at the right (renumbered) columns');
is($node->safe_psql('restored', $view_sql), $view, 'restored masked view gives the same masked rows');
$node->safe_psql('restored', q{SELECT aisec.masked_view('people')});
is($node->safe_psql('restored', $view_sql), $view, 'rebuilt from the restored rules: same masked rows');
is($node->safe_psql('restored', q{SELECT role FROM aisec.masked_role}), 'masked_reader', 'masked role survives');

my ($rc, $out, $err) = $node->psql('restored', 'SELECT * FROM people', extra_params => [ '-U', 'masked_reader' ]);
like($err, qr/permission denied for table people/, 'restored: the masked role still cannot read the base table');
is($node->safe_psql('restored', q{SELECT count(*) FROM aisec_masked.people WHERE mail LIKE '%*%'},
	extra_params => [ '-U', 'masked_reader' ]), '2', 'restored: the masked role reads the masked view');
is($node->safe_psql('restored', q{SELECT aisec.ff1_decrypt(card, 'card_key') FROM aisec_masked.people ORDER BY 1}),
	"4111111111111111\n5500005555555559", 'restored keys still reverse the tokens');

$node->stop;
done_testing();
