# The audit chain checked outside the database: the shipped script
# (test/audit_chain.py) recomputes the chain from an export, and openssl
# verifies a digest's Ed25519 signature with aisec.signing_public_key().
# Also: eight concurrent appenders (pgbench) keep one gap-free chain.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use File::Basename qw(dirname);
use Cwd qw(abs_path);

my $testdir = dirname(abs_path(__FILE__));
my $script = "$testdir/../audit_chain.py";
my $tmp = PostgreSQL::Test::Utils::tempdir;

my $node = PostgreSQL::Test::Cluster->new('offline');
$node->init;
system_or_bail('sh', '-c', "umask 077 && openssl rand -out '$tmp/master.key' 32");
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'aisec'\naisec.master_key_file = '$tmp/master.key'\n");
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION aisec');

# Entries with awkward content: non-ASCII, NULL object, empty object,
# nested detail, quotes and backslashes.
$node->safe_psql('postgres', q{
	SELECT aisec.audit('dataset.register', 'public.loans', '{"rows": 5000}');
	SELECT aisec.audit('note', NULL);
	SELECT aisec.audit('note', '', '{"k": "v"}');
	SELECT aisec.audit('mask.set', 'public.kunden.straße', '{"rule": "email", "n": [1, 2.5, null, true], "q": "\"x\\\\y\""}');
	SELECT aisec.audit('unicode', 'ünïcødé ✓', '{"emoji": "🙂"}');
});
my $digest = $node->safe_psql('postgres', 'SELECT aisec.audit_digest()');
$node->safe_psql('postgres', q{SELECT aisec.audit('after.digest', NULL)});
# A detail naming a person, redacted after the digest (entry 9 records it).
$node->safe_psql('postgres', q{
	SELECT aisec.audit('support.note', 'ticket 1', '{"who": "dana.doe@example.com"}');
	SELECT aisec.redact_audit(8, 'GDPR request ER-1');
});

my $export = q{SELECT json_build_object(
	'seq', seq, 'at_us', (extract(epoch FROM at) * 1000000)::bigint,
	'actor', actor, 'login', login, 'action', action, 'object', object,
	'detail', detail::text, 'prev_hash', encode(prev_hash, 'hex'),
	'hash', encode(hash, 'hex'),
	'detail_sha256', encode(detail_sha256, 'hex'), 'redacted_in', redacted_in)
  FROM aisec.audit_log ORDER BY seq};

sub export_log
{
	my ($file) = @_;
	my $out = $node->safe_psql('postgres', $export);
	open my $fh, '>:raw', $file or die "cannot write $file: $!";
	print $fh $out, "\n";
	close $fh;
}

sub write_file
{
	my ($file, $data) = @_;
	open my $fh, '>:raw', $file or die "cannot write $file: $!";
	print $fh $data;
	close $fh;
}

export_log("$tmp/log.jsonl");
write_file("$tmp/digest.json", $digest);
my ($out, $err);
IPC::Run::run([ 'python3', $script, "$tmp/log.jsonl", "$tmp/digest.json" ], '>', \$out, '2>', \$err);
is($?, 0, 'outside script accepts the intact chain, a redacted entry and an earlier digest');
like($out, qr/^ok: 9 entries, head 9 [0-9a-f]{64}$/m, 'outside script counts every entry');
my $head = $node->safe_psql('postgres', q{SELECT encode(hash, 'hex') FROM aisec.audit_log ORDER BY seq DESC LIMIT 1});
like($out, qr/head 9 $head/, 'outside script computes the same head hash as the database');
unlike(slurp_file("$tmp/log.jsonl"), qr/dana\.doe/, 'the export holds no redacted text');

# Redaction behind aisec's back (no audit.redact record), or pointing at
# another entry's record: the outside script and audit_verify() name it.
foreach my $case (
	[ 'detail = NULL, redacted_in = NULL', 'no record' ],
	[ 'detail = NULL, redacted_in = 9', 'another entry\'s record' ])
{
	my ($set, $name) = @$case;
	my $bad = $node->safe_psql('postgres', qq{
		BEGIN;
		ALTER TABLE aisec.audit_log DISABLE TRIGGER ALL;
		UPDATE aisec.audit_log SET $set WHERE seq = 7;
		SELECT first_bad_seq FROM aisec.audit_verify();
		$export;
		ROLLBACK;
	});
	my @lines = split /\n/, $bad;
	is(shift @lines, '7', "audit_verify names a redaction with $name");
	write_file("$tmp/redacted.jsonl", join("\n", @lines) . "\n");
	IPC::Run::run([ 'python3', $script, "$tmp/redacted.jsonl" ], '>', \$out, '2>', \$err);
	like($out, qr/BAD: entry 7: lacks its detail/, "outside script names a redaction with $name");
}

# The digest's signature, checked with openssl and the exported public key.
my $pem = $node->safe_psql('postgres', 'SELECT aisec.signing_public_key()');
write_file("$tmp/pub.pem", "$pem\n");
my ($dseq, $dhash, $dat, $dsig) = split /\|/, $node->safe_psql('postgres',
	"SELECT d->>'seq', d->>'hash', d->>'at', d->>'signature' FROM (SELECT '$digest'::jsonb AS d) s");
write_file("$tmp/msg", "aisec-audit-digest-v1\n$dseq\n$dhash\n$dat");
system_or_bail('sh', '-c', "printf '%s' '$dsig' | openssl base64 -d -A > '$tmp/sig'");
IPC::Run::run([ 'openssl', 'pkeyutl', '-verify', '-pubin', '-inkey', "$tmp/pub.pem",
	'-rawin', '-in', "$tmp/msg", '-sigfile', "$tmp/sig" ], '>', \$out, '2>', \$err);
like($out, qr/Signature Verified Successfully/, 'openssl verifies the digest signature');
write_file("$tmp/msg", "aisec-audit-digest-v1\n$dseq\n$dhash\n$dat.");
IPC::Run::run([ 'openssl', 'pkeyutl', '-verify', '-pubin', '-inkey', "$tmp/pub.pem",
	'-rawin', '-in', "$tmp/msg", '-sigfile', "$tmp/sig" ], '>', \$out, '2>', \$err);
unlike($out, qr/Signature Verified Successfully/, 'openssl rejects a changed message');

# Tampering (triggers disabled by a superuser) is found by the outside
# script at the same entry as by audit_verify().
$node->safe_psql('postgres', q{
	ALTER TABLE aisec.audit_log DISABLE TRIGGER ALL;
	UPDATE aisec.audit_log SET object = 'public.kunden' WHERE seq = 4;
	ALTER TABLE aisec.audit_log ENABLE ALWAYS TRIGGER audit_log_no_update_delete;
	ALTER TABLE aisec.audit_log ENABLE ALWAYS TRIGGER audit_log_no_truncate;
});
export_log("$tmp/tampered.jsonl");
IPC::Run::run([ 'python3', $script, "$tmp/tampered.jsonl" ], '>', \$out, '2>', \$err);
is($? >> 8, 1, 'outside script rejects the tampered chain');
like($out, qr/BAD: entry 4: does not match its hash/, 'outside script names entry 4');
is($node->safe_psql('postgres', 'SELECT first_bad_seq FROM aisec.audit_verify()'), '4',
	'audit_verify names entry 4 too');
is($node->safe_psql('postgres', qq{SELECT aisec.audit_verify_digest('$digest')}), 'f',
	'the earlier digest no longer verifies');

# Both encodings in one chain, as after the update from 0.1.0: entries
# written under v1 (here inserted by the owner, with hashes computed in
# SQL as 0.1.0 did), then v2 entries appended by today's code.  Both
# verifiers accept the chain; a v1 entry cannot be redacted, a v2 one can;
# a v1 entry changed is caught by both.
$node->safe_psql('postgres', 'CREATE DATABASE mixed');
$node->safe_psql('mixed', 'CREATE EXTENSION aisec');
$node->safe_psql('mixed', q{
	CREATE FUNCTION pg_temp.field(t text) RETURNS bytea LANGUAGE sql AS $$
	    SELECT CASE WHEN t IS NULL THEN '\xffffffff'::bytea
	                ELSE int4send(octet_length(convert_to(t, 'UTF8'))) || convert_to(t, 'UTF8') END
	$$;
	DO $$
	DECLARE
	    prev bytea := decode(repeat('00', 32), 'hex');
	    h bytea;
	    t timestamptz;
	BEGIN
	    FOR i IN 1..3 LOOP
	        t := date_trunc('milliseconds', clock_timestamp());
	        h := sha256(prev || convert_to('aisec.audit.v1', 'UTF8') || int8send(i::bigint)
	                    || int8send((extract(epoch FROM t) * 1000000)::bigint)
	                    || pg_temp.field('old') || pg_temp.field('old')
	                    || pg_temp.field('legacy.note') || pg_temp.field(CASE WHEN i = 2 THEN NULL ELSE 'ünï' END)
	                    || pg_temp.field(format('{"i": %s}', i)::jsonb::text));
	        INSERT INTO aisec.audit_log (seq, at, actor, login, action, object, detail, prev_hash, hash)
	        VALUES (i, t, 'old', 'old', 'legacy.note', CASE WHEN i = 2 THEN NULL ELSE 'ünï' END,
	                format('{"i": %s}', i)::jsonb, prev, h);
	        prev := h;
	    END LOOP;
	END
	$$;
	SELECT aisec.audit('new.note', NULL, '{"who": "erin@example.com"}');
	SELECT aisec.redact_audit(4, 'GDPR request ER-2');
});
is($node->safe_psql('mixed', 'SELECT ok, entries FROM aisec.audit_verify()'), 't|5',
	'a chain of v1 and v2 entries, one redacted, verifies');
my ($rc, $stdout, $stderr) = $node->psql('mixed', q{SELECT aisec.redact_audit(1, 'x')});
like($stderr, qr/entry 1 cannot be redacted: it was written before aisec 0.2.0/, 'a v1 entry cannot be redacted');
my $mixed = $node->safe_psql('mixed', $export);
write_file("$tmp/mixed.jsonl", "$mixed\n");
IPC::Run::run([ 'python3', $script, "$tmp/mixed.jsonl" ], '>', \$out, '2>', \$err);
like($out, qr/^ok: 5 entries, head 5 [0-9a-f]{64}$/m, 'outside script accepts v1 and v2 entries');
# pg_dump keeps both encodings and the redaction: the restored log
# verifies, and so does a digest taken before the dump.
my $mdigest = $node->safe_psql('mixed', 'SELECT aisec.audit_digest()');
$node->safe_psql('postgres', 'CREATE DATABASE mixed_restored');
$node->command_ok([ 'pg_dump', '-d', $node->connstr('mixed'), '-f', "$tmp/mixed.sql" ], 'pg_dump of the mixed log');
$node->command_ok([ 'psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', $node->connstr('mixed_restored'),
	'-f', "$tmp/mixed.sql" ], 'restore of the mixed log');
is($node->safe_psql('mixed_restored', q{
	SELECT (SELECT ok FROM aisec.audit_verify()), count(*), count(detail_sha256),
	       string_agg(seq::text, ',') FILTER (WHERE detail IS NULL), max(redacted_in)
	FROM aisec.audit_log}), 't|6|3|4|5', 'the restored log verifies, redaction included');
is($node->safe_psql('mixed_restored', qq{SELECT aisec.audit_verify_digest('$mdigest')}), 't',
	'a digest taken before the dump verifies on the restored log');
unlike(slurp_file("$tmp/mixed.sql"), qr/erin\@example/, 'the dump holds no redacted text');

$mixed = $node->safe_psql('mixed', qq{
	BEGIN;
	ALTER TABLE aisec.audit_log DISABLE TRIGGER ALL;
	UPDATE aisec.audit_log SET detail = '{"i": 9}' WHERE seq = 2;
	SELECT first_bad_seq FROM aisec.audit_verify();
	$export;
	ROLLBACK;
});
my @mixed = split /\n/, $mixed;
is(shift @mixed, '2', 'audit_verify names a changed v1 entry');
write_file("$tmp/mixed.jsonl", join("\n", @mixed) . "\n");
IPC::Run::run([ 'python3', $script, "$tmp/mixed.jsonl" ], '>', \$out, '2>', \$err);
like($out, qr/BAD: entry 2: does not match its hash/, 'outside script names a changed v1 entry');

# Eight concurrent appenders, 100 appends each: one linear, gap-free chain.
my $node2 = PostgreSQL::Test::Cluster->new('concurrent');
$node2->init;
$node2->append_conf('postgresql.conf', "shared_preload_libraries = 'aisec'\naisec.master_key_file = '$tmp/master.key'\n");
$node2->start;
$node2->safe_psql('postgres', 'CREATE EXTENSION aisec');
$node2->pgbench('--no-vacuum --client=8 --jobs=8 --transactions=100',
	0, [qr{processed: 800/800}], [qr{^$}], 'eight concurrent appenders',
	{ 'audit_append' => q{SELECT aisec.audit('bench.append', 'client ' || :client_id, '{"n": 1}');} });
is($node2->safe_psql('postgres', 'SELECT count(*), min(seq), max(seq) FROM aisec.audit_log'),
	'800|1|800', '800 entries, numbered 1..800');
is($node2->safe_psql('postgres', 'SELECT ok FROM aisec.audit_verify()'), 't',
	'the concurrent chain verifies');

$node->stop;
$node2->stop;
done_testing();
