# The erasure certificate checked outside the database, exactly as
# doc/erasure.md tells an auditor to: the test runs the doc's shell block
# (marked "erasure-certificate-check") as is, with python3 and openssl,
# over a certificate exported with psql and the database's published key.
# openssl must say "Signature Verified Successfully"; a changed count, a
# changed reference or a changed signature must fail; a certificate that
# went through a client (keys reordered, re-indented, \u escapes) still
# verifies.  A certificate signed with another Ed25519 key (made with
# openssl) fails the doc's key check outside and verify_certificate
# inside, with a NOTICE saying so.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use IPC::Run;
use File::Basename qw(dirname);
use Cwd qw(abs_path);

my $top = dirname(abs_path(__FILE__)) . '/../..';
my $tmp = PostgreSQL::Test::Utils::tempdir;
system_or_bail('sh', '-c', "umask 077 && openssl rand -out '$tmp/master.key' 32");

my $node = PostgreSQL::Test::Cluster->new('certificate');
$node->init(extra => [ '--encoding=UTF8', '--locale=C' ]);
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'aisec'\naisec.master_key_file = '$tmp/master.key'\n");
$node->start;

# A tracked table, two versions, an untracked one; a request whose
# reference and legal basis need escaping in the canonical form
# (non-ASCII, a quote, a backslash, a tab).
$node->safe_psql('postgres', q{
	CREATE EXTENSION aisec;
	CREATE TABLE customers (id int PRIMARY KEY, email text, name text);
	CREATE INDEX ON customers (email);
	CREATE TABLE contact_log (email text, note text);
	INSERT INTO customers VALUES (1, 'alice@example.com', 'Alice'), (2, 'bob@example.com', 'Bob');
	INSERT INTO contact_log VALUES ('alice@example.com', 'called');
	SELECT aisec.track('customers');
	SELECT aisec.create_dataset('ds', ARRAY['customers']::regclass[]);
	SELECT aisec.commit('ds', 'v1');
	UPDATE customers SET name = 'Alice A.' WHERE id = 1;
	SELECT aisec.commit('ds', 'v2');
	SELECT aisec.declare_subject('customers', 'email');
	SELECT aisec.declare_subject('contact_log', 'email');
	CREATE ROLE dpo IN ROLE aisec_dpo;
});
$node->safe_psql('postgres', q{
	SET SESSION AUTHORIZATION dpo;
	SELECT aisec.request_erasure('alice@example.com', 'TICKET-ü"\\1',
		E'GDPR Art. 17(1) – "erase"\\tnow');
	SELECT aisec.erase('TICKET-ü"\\1', 'alice@example.com');
});

sub write_file
{
	my ($file, $data) = @_;
	open my $fh, '>:raw', $file or die "cannot write $file: $!";
	print $fh $data;
	close $fh;
}

sub read_file
{
	my ($file) = @_;
	open my $fh, '<:raw', $file or die "cannot read $file: $!";
	local $/;
	my $data = <$fh>;
	close $fh;
	return $data;
}

# The doc's block, as is.
my $doc = read_file("$top/doc/erasure.md");
my ($block) = $doc =~ /<!-- erasure-certificate-check:[^\n]*-->\n```sh\n(.*?)```\n/s;
ok(defined $block, 'doc/erasure.md has the marked check block');
write_file("$tmp/check.sh", $block);

# Export as the doc says (psql -XAt; safe_psql drops the final newline).
sub export
{
	my ($dir, $sql) = @_;
	return $node->safe_psql('postgres', $sql);
}

# Run the doc's block in dir; return (exit status, stdout + stderr).
sub check
{
	my ($dir) = @_;
	my $out;
	IPC::Run::run([ 'sh', "$tmp/check.sh" ], '>&', \$out, init => sub { chdir $dir or die "chdir $dir: $!" });
	return ($? >> 8, $out);
}

my $cert_sql = q{SELECT aisec.erasure_certificate('TICKET-ü"\\1')};
my $pem = export("$tmp/x", 'SELECT aisec.signing_public_key()');
my $cert = export("$tmp/x", $cert_sql);
like($cert, qr/"format": "aisec-erasure-certificate-v1"/, 'the certificate exports');
unlike($cert, qr/alice/i, 'the certificate does not name the subject');

sub prepare
{
	my ($name, $certificate) = @_;
	my $dir = "$tmp/$name";
	mkdir $dir;
	write_file("$dir/cert.json", $certificate);
	write_file("$dir/published.pem", $pem);
	return $dir;
}

# 1. The certificate as exported verifies.
my ($rc, $out) = check(prepare('good', $cert));
is($rc, 0, 'the doc procedure succeeds on the exported certificate');
like($out, qr/Signed with the database's published key/, 'the key is the database\'s');
like($out, qr/Signature Verified Successfully/, 'openssl verifies the certificate');
# The canonical bytes are the database's own jsonb text.
my $msg = export("$tmp/x", "SELECT ($cert_sql - 'signature')::text");
chomp $msg;
is(read_file("$tmp/good/msg"), $msg, 'the procedure rebuilds the jsonb text byte for byte');

# 2. As a client may pass it on: keys reordered, indented, \u escapes.
my $mangled = export("$tmp/x",
	"SELECT jsonb_pretty(($cert_sql))");
$mangled =~ s/ü/\\u00fc/g;
($rc, $out) = check(prepare('mangled', $mangled));
like($out, qr/Signature Verified Successfully/, 'a re-indented, escaped copy still verifies');

# 3. Tampering: a count, the reference, the signature.
(my $t1 = $cert) =~ s/"live_rows_deleted": 1,/"live_rows_deleted": 0,/;
isnt($t1, $cert, 'a count was changed');
($rc, $out) = check(prepare('count', $t1));
isnt($rc, 0, 'a changed count fails');
unlike($out, qr/Signature Verified Successfully/, 'openssl rejects a changed count');
like($out, qr/Signature Verification Failure/, 'openssl says so');

(my $t2 = $cert) =~ s/"reference": "TICKET-/"reference": "TICKET-X/;
($rc, $out) = check(prepare('reference', $t2));
unlike($out, qr/Signature Verified Successfully/, 'openssl rejects a changed reference');

my ($sigv) = $cert =~ /"value": "([0-9a-f]+)"/;
my $flipped = (substr($sigv, 0, 1) eq '0' ? '1' : '0') . substr($sigv, 1);
(my $t3 = $cert) =~ s/$sigv/$flipped/;
($rc, $out) = check(prepare('signature', $t3));
unlike($out, qr/Signature Verified Successfully/, 'openssl rejects a changed signature');

# 4. Another key: a forger signs the same content with an Ed25519 key of
# their own.  The signature is valid under that key; the doc's key check
# stops it outside, verify_certificate inside.
my $fdir = "$tmp/forger";
mkdir $fdir;
system_or_bail('openssl', 'genpkey', '-algorithm', 'ed25519', '-out', "$fdir/key.pem");
system_or_bail('openssl', 'pkey', '-in', "$fdir/key.pem", '-pubout', '-outform', 'DER', '-out', "$fdir/pub.der");
write_file("$fdir/msg", $msg);
system_or_bail('openssl', 'pkeyutl', '-sign', '-inkey', "$fdir/key.pem", '-rawin', '-in', "$fdir/msg",
	'-out', "$fdir/sig");
my $forged_pub = unpack('H*', substr(read_file("$fdir/pub.der"), 12));
my $forged_sig = unpack('H*', read_file("$fdir/sig"));
my $forged = export("$tmp/x",
	"SELECT jsonb_set(jsonb_set(($cert_sql), '{signature,public_key}', '\"$forged_pub\"'), "
	. "'{signature,value}', '\"$forged_sig\"')");
($rc, $out) = check(prepare('forged', $forged));
isnt($rc, 0, 'the doc procedure fails on another key');
unlike($out, qr/Signed with the database's published key/, 'the key check stops it');
my ($stdout, $stderr) = ('', '');
$node->psql('postgres', "SELECT aisec.verify_certificate('" . ($forged =~ s/'/''/gr) . "')",
	stdout => \$stdout, stderr => \$stderr);
is($stdout, 'f', 'verify_certificate: false for another key');
like($stderr, qr/NOTICE:  the erasure certificate is signed with another key than this database's signing key/,
	'with a NOTICE saying why');
# Under its own key, the forged signature is sound: openssl accepts it
# when the key check is skipped, which is why the doc checks the key.
system_or_bail('openssl', 'pkey', '-pubin', '-inform', 'DER', '-in', "$fdir/pub.der", '-out', "$fdir/pub.pem");
IPC::Run::run([ 'openssl', 'pkeyutl', '-verify', '-pubin', '-inkey', "$fdir/pub.pem", '-rawin',
	'-in', "$fdir/msg", '-sigfile', "$fdir/sig" ], '>&', \$out);
like($out, qr/Signature Verified Successfully/, 'the forged signature is valid under the forger\'s key');

is($node->safe_psql('postgres', "SELECT aisec.verify_certificate(($cert_sql))"), 't',
	'verify_certificate accepts the original');

$node->stop;
done_testing();
