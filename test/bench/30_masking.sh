#!/bin/bash
# Masking benchmarks (doc/masking.md): aisec's masking functions, masked
# views and masked exports against the cheapest comparable thing PostgreSQL
# does on the same 1M rows, in the same run, on one core (no parallel query).
# Each figure is the best of three runs, each a fresh session, the
# workloads taking turns (lib.sh: turns).  Run by `make bench` (test/run.sh
# exports PGHOST, PGPORT and PGDATABASE=aisec_bench).
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

ROWS=${AISEC_BENCH_ROWS:-1000000}

# Every run is a fresh session with parallel query off.
SERIAL="SET max_parallel_workers_per_gather = 0"

sql <<SQL
CREATE EXTENSION IF NOT EXISTS aisec;
CREATE EXTENSION IF NOT EXISTS pgcrypto;
DROP TABLE IF EXISTS bench_people, bench_export, bench_ctas;
-- Realistic people: names, e-mail addresses, 16-digit card numbers, incomes.
CREATE TABLE bench_people AS
SELECT g AS id,
       (ARRAY['Jane','John','Ada','Alan','Grace','Linus','Zoë','Émile','Ines','Omar'])[1 + g % 10]
         || ' ' || (ARRAY['Doe','Roe','Lovelace','Turing','Hopper','Torvalds','Ångström','Zola','Sousa','Haddad'])[1 + (g / 10) % 10] AS name,
       lower((ARRAY['jane','john','ada','alan','grace','linus','zoe','emile','ines','omar'])[1 + g % 10])
         || '.' || (ARRAY['doe','roe','lovelace','turing','hopper','torvalds','angstrom','zola','sousa','haddad'])[1 + (g / 10) % 10]
         || g || '@' || (ARRAY['example.com','mail.example.org','corp.example.net','uni.example.edu'])[1 + g % 4] AS email,
       lpad((4000000000000000 + (g::bigint * 7919) % 999999999999999)::text, 16, '0') AS card,
       round((20000 + (g * 37) % 180000)::numeric, 2) AS income
  FROM generate_series(1, $ROWS) g;
ANALYZE bench_people;
DO \$\$ BEGIN
  IF NOT EXISTS (SELECT 1 FROM aisec.keys WHERE name = 'bench_hmac') THEN
    PERFORM aisec.import_key('bench_hmac', '\x000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f', 'hmac');
    PERFORM aisec.create_key('bench_ff1', 'ff1');
  END IF;
END \$\$;
SELECT aisec.set_mask('bench_people', 'email', 'email'),
       aisec.set_mask('bench_people', 'name', 'partial(1, 0)'),
       aisec.set_mask('bench_people', 'income', 'generalize(10000)') \g /dev/null
SQL
# Warm the cache.
sql "SELECT count(*) FROM bench_people" >/dev/null

# pgcrypto's text form, as a user would write it: hmac(text, text, text).
KEY="'bench-hmac-key-of-32-characters!'"
wrap() { echo "SELECT sum(length($1)) FROM bench_people"; }

# The same mask as mask_email, written with regexp_replace.
REGEXP_MASK="regexp_replace(regexp_replace(email, '(?<!^)[^@](?=[^@]*@)', '*', 'g'), '(?<=@[^@]*)[^@](?=[^@]*[.][a-z]+\$)', '*', 'g')"
turns -s "$SERIAL" \
	lower "$(wrap 'lower(email)')" \
	sha "$(wrap 'sha256(email::bytea)')" \
	hmac "$(wrap "encode(hmac(email, $KEY, 'sha256'), 'hex')")" \
	pseudo "$(wrap "aisec.pseudonymize(email, 'bench_hmac')")" \
	email "$(wrap 'aisec.mask_email(email)')" \
	partial "$(wrap 'aisec.mask_partial(email, 1, 2)')" \
	lower_card "$(wrap 'lower(card)')" \
	digits "$(wrap 'aisec.mask_digits(card)')" \
	regexp "$(wrap "$REGEXP_MASK")" \
	ff1 "$(wrap "aisec.ff1_encrypt(card, 'bench_ff1')")"
line "pseudonymize vs pgcrypto hmac+hex (${ROWS} rows)" "${ms[pseudo]}" "${ms[hmac]}" "<= 0.8x"
line "pseudonymize vs built-in sha256()" "${ms[pseudo]}" "${ms[sha]}" "<= 1.3x"
line "mask_email vs lower()" "${ms[email]}" "${ms[lower]}" "<= 1.5x"
line "mask_partial vs lower()" "${ms[partial]}" "${ms[lower]}" "<= 1.5x"
line "mask_digits vs lower() (16-digit cards)" "${ms[digits]}" "${ms[lower_card]}" "<= 1.5x"
line "mask_email vs regexp_replace email mask" "${ms[email]}" "${ms[regexp]}" "<= 0.05x (>= 20x faster)"
line "ff1_encrypt, 16-digit numbers vs lower()" "${ms[ff1]}" "${ms[lower_card]}" \
	">= 200000 values/s: $(per_s "$ROWS" "${ms[ff1]}")/s"

# Reading as a training job does: every row to the client (timed until the
# last row is in, lib.sh).  Then the server side alone (COPY to /dev/null),
# where the masks' own cost shows most.
turns -s "$SERIAL" view "SELECT * FROM aisec_masked.bench_people" base "SELECT * FROM bench_people" \
	view_copy "COPY (SELECT * FROM aisec_masked.bench_people) TO '/dev/null'" \
	base_copy "COPY (SELECT * FROM bench_people) TO '/dev/null'"
line "read masked view (3 rules) vs base, to client" "${ms[view]}" "${ms[base]}" "<= 1.5x"
line "same, server side only (COPY to /dev/null)" "${ms[view_copy]}" "${ms[base_copy]}" "report"

turns -s "$SERIAL" \
	export "DROP TABLE IF EXISTS bench_export; SELECT * FROM aisec.export_masked('bench_people', 'bench_export')" \
	ctas "DROP TABLE IF EXISTS bench_ctas; CREATE TABLE bench_ctas AS SELECT * FROM bench_people"
line "export_masked vs CREATE TABLE AS base" "${ms[export]}" "${ms[ctas]}" "report"

sql "SELECT aisec.drop_mask('bench_people', c) FROM unnest(ARRAY['email', 'name', 'income']) c" >/dev/null
sql "DROP TABLE bench_people, bench_export, bench_ctas" >/dev/null
