# Keys and the audit log across restarts, crashes, dump/restore, and a
# missing, exposed or wrong master key.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $tmp = PostgreSQL::Test::Utils::tempdir;
system_or_bail('sh', '-c', "umask 077 && openssl rand -out '$tmp/master.key' 32");
system_or_bail('sh', '-c', "umask 077 && openssl rand -hex 32 > '$tmp/master.hex'");
system_or_bail('sh', '-c', "umask 077 && openssl rand -out '$tmp/other.key' 32");

my $node = PostgreSQL::Test::Cluster->new('keys');
$node->init;
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'aisec'\naisec.master_key_file = '$tmp/master.key'\n");
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION aisec');
$node->safe_psql('postgres', q{SELECT aisec.audit('before.restart', NULL)});
my $pem = $node->safe_psql('postgres', 'SELECT aisec.signing_public_key()');
like($pem, qr/^-----BEGIN PUBLIC KEY-----\n[A-Za-z0-9+\/=]+\n-----END PUBLIC KEY-----$/, 'public key is PEM');
my $digest = $node->safe_psql('postgres', 'SELECT aisec.audit_digest()');

# The setting is postmaster-level and hidden from non-superusers.
$node->safe_psql('postgres', 'CREATE ROLE plain LOGIN');
is($node->safe_psql('postgres', q{SELECT context FROM pg_settings WHERE name = 'aisec.master_key_file'}),
	'postmaster', 'aisec.master_key_file is a postmaster-level setting');
my ($rc, $out, $err) = $node->psql('postgres', 'SHOW aisec.master_key_file', extra_params => [ '-U', 'plain' ]);
like($err, qr/must be superuser|permission denied|pg_read_all_settings/, 'non-superusers cannot read the key file path');

# Restart: same signing key, the old digest still verifies.
$node->restart;
is($node->safe_psql('postgres', 'SELECT aisec.signing_public_key()'), $pem, 'signing key survives a restart');
is($node->safe_psql('postgres', qq{SELECT aisec.audit_verify_digest('$digest')}), 't', 'digest verifies after restart');

# Crash with appends in flight: after recovery the chain is intact and the
# in-flight entry is gone without a trace.
my $bg = $node->background_psql('postgres');
$bg->query_safe(q{BEGIN; SELECT aisec.audit('in.flight', NULL);});
$node->stop('immediate');
$bg->quit;
$node->start;
# Entries so far: before.restart, and key.create from the signing key.
is($node->safe_psql('postgres', 'SELECT ok, entries FROM aisec.audit_verify()'), 't|2',
	'chain intact after a crash; the uncommitted entry is gone');
is($node->safe_psql('postgres', q{SELECT aisec.audit('after.crash', NULL)}), '3', 'appends continue at seq 3');

# dump/restore: log and key store travel with pg_dump; the restored log
# verifies and old digests verify against it.
$node->safe_psql('postgres', 'CREATE DATABASE restored');
my $dump = "$tmp/dump.sql";
$node->command_ok([ 'pg_dump', '-d', $node->connstr('postgres'), '-f', $dump ], 'pg_dump');
$node->command_ok([ 'psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', $node->connstr('restored'), '-f', $dump ],
	'restore into a new database');
is($node->safe_psql('restored', 'SELECT ok, entries FROM aisec.audit_verify()'), 't|3', 'restored log verifies');
is($node->safe_psql('restored', qq{SELECT aisec.audit_verify_digest('$digest')}), 't', 'old digest verifies against the restored log');
is($node->safe_psql('restored', 'SELECT aisec.signing_public_key()'), $pem, 'restored signing key is the same');
is($node->safe_psql('restored', q{SELECT aisec.audit('after.restore', NULL)}), '4', 'restored log keeps appending');

# A hex-encoded master key file works too; keys wrapped under another master
# key do not unwrap, and nothing of the key shows in the error.
$node->append_conf('postgresql.conf', "aisec.master_key_file = '$tmp/other.key'\n");
$node->restart;
($rc, $out, $err) = $node->psql('postgres', 'SELECT aisec.audit_digest()');
like($err, qr/aisec key "\$signing" version 1 cannot be unwrapped/, 'wrong master key: clear error');
like($err, qr/HINT:  Check that aisec.master_key_file names the right file/, 'wrong master key: hint');

$node->append_conf('postgresql.conf', "aisec.master_key_file = '$tmp/master.hex'\n");
$node->restart;
$node->safe_psql('postgres', 'CREATE DATABASE fresh');
$node->safe_psql('fresh', 'CREATE EXTENSION aisec');
isnt($node->safe_psql('fresh', 'SELECT aisec.audit_digest()'), '', 'hex master key works (new database, new signing key)');
isnt($node->safe_psql('fresh', 'SELECT aisec.signing_public_key()'), $pem, 'each database has its own signing key');

# A key file readable by others is refused.
system_or_bail('chmod', '0644', "$tmp/master.hex");
$node->restart;
$node->safe_psql('postgres', 'CREATE DATABASE fresh2');
$node->safe_psql('fresh2', 'CREATE EXTENSION aisec');
($rc, $out, $err) = $node->psql('fresh2', 'SELECT aisec.audit_digest()');
like($err, qr/aisec master key file is unusable\nDETAIL:  The file is accessible to group or others\./, 'exposed key file refused');
system_or_bail('chmod', '0600', "$tmp/master.hex");

# A key file of the wrong size is refused.
system_or_bail('sh', '-c', "umask 077 && printf 'short' > '$tmp/short.key'");
$node->append_conf('postgresql.conf', "aisec.master_key_file = '$tmp/short.key'\n");
$node->restart;
($rc, $out, $err) = $node->psql('fresh2', 'SELECT aisec.audit_digest()');
like($err, qr/aisec master key file is unusable\nDETAIL:  The file does not hold exactly 32 bytes or 64 hexadecimal digits\./, 'short key file refused');

# No master key configured: a clear error and a hint; nothing half-done.
$node->append_conf('postgresql.conf', "aisec.master_key_file = ''\n");
$node->restart;
($rc, $out, $err) = $node->psql('fresh2', 'SELECT aisec.audit_digest()');
like($err, qr/aisec master key is not configured/, 'missing master key: clear error');
like($err, qr/HINT:  Create a key file outside the data directory/, 'missing master key: hint');
is($node->safe_psql('fresh2', q{SELECT count(*) FROM aisec.key_store}), '0', 'no half-created signing key');
is($node->safe_psql('fresh2', q{SELECT count(*) FROM aisec.audit_log}), '0', 'no audit entry from the failed call');
# The audit log itself needs no key.
is($node->safe_psql('fresh2', q{SELECT aisec.audit('no.key.needed', NULL)}), '1', 'audit works without a master key');

# Without shared_preload_libraries the library loads on first use and the
# postmaster-level setting still takes effect.
$node->append_conf('postgresql.conf', "shared_preload_libraries = ''\naisec.master_key_file = '$tmp/master.key'\n");
$node->restart;
is($node->safe_psql('postgres', qq{SELECT aisec.audit_verify_digest('$digest')}), 't',
	'works when loaded on demand, not preloaded');
isnt($node->safe_psql('postgres', 'SELECT aisec.audit_digest()'), '', 'signing works when loaded on demand');

# DROP EXTENSION removes aisec's objects; the cluster-wide roles stay (other
# databases may use them) and a new CREATE EXTENSION reuses them.
$node->safe_psql('fresh', 'DROP EXTENSION aisec');
# (PostgreSQL created the schema named in aisec.control before running the
# install script, so the emptied schema itself stays.)
is($node->safe_psql('fresh', q{SELECT (SELECT count(*) FROM pg_class WHERE relnamespace = 'aisec'::regnamespace)
	+ (SELECT count(*) FROM pg_proc WHERE pronamespace = 'aisec'::regnamespace)}), '0',
	'DROP EXTENSION removes every aisec table and function');
is($node->safe_psql('fresh', q{SELECT count(*) FROM pg_roles WHERE rolname LIKE 'aisec\\_%'}), '5', 'roles survive DROP EXTENSION (four governance roles and aisec_masked_reader)');
$node->safe_psql('fresh', 'CREATE EXTENSION aisec');
is($node->safe_psql('fresh', q{SELECT aisec.audit('recreated', NULL)}), '1', 'a re-created extension starts a new chain');

$node->stop;
done_testing();
