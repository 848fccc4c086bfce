-- test/fuzz/lib.sql: the fuzz engine, shared by the bounded fuzz test
-- (sql/fuzz.sql, part of `make test`) and the long one (`make fuzz`,
-- test/fuzz/run.sh).  Everything lives in schema aisec_fuzz, dropped at the
-- end of a run.
--
-- Each case runs in its own subtransaction and records one row in
-- aisec_fuzz.result: its family, the stage it reached ('ok', 'input' when
-- the value was rejected, 'consume' when a consumer of an accepted value
-- failed, 'cross' for consumers that compare it with another valid value)
-- and the SQLSTATE.  A crash ends the session, which is what the callers
-- look for; an error outside the SQLSTATE classes a family allows counts as
-- unexpected.  Mutations are deterministic: by byte or character position,
-- and with setseed() for the random ones, so a seed replays a run.
--
-- Invariants that are checked beyond "no crash" raise SQLSTATE XF001
-- (always unexpected): an FF1 token must decrypt to the value; a rejected
-- rule must leave no rule behind; no fuzzed key may be left.  An accepted
-- state must print as JSON and come back the same through its text and its
-- binary form: XF002 (stage 'roundtrip') where it does not.

SET client_min_messages = warning;
DROP SCHEMA IF EXISTS aisec_fuzz CASCADE;
CREATE SCHEMA aisec_fuzz;
CREATE UNLOGGED TABLE aisec_fuzz.result (family text, stage text, state text);

-- Record a case's outcome.
CREATE FUNCTION aisec_fuzz.note(family text, stage text, state text) RETURNS void
LANGUAGE sql AS $$ INSERT INTO aisec_fuzz.result VALUES (family, stage, state) $$;

-- Fail an invariant check.
CREATE FUNCTION aisec_fuzz.fail(what text) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'fuzz invariant broken: %', what USING ERRCODE = 'XF001';
END
$$;

-- The SQLSTATE classes a family may end with: 22 (data exception) always,
-- 42 (bad rule, unknown key or column), 54 (program limit) where input
-- sizes are fuzzed, 23502 for a NULL where a key name or rule is required;
-- XF002, a value that does not come back the same from its text form, for
-- the known cases listed in sql/fuzz.sql (their counts are in its output).
CREATE FUNCTION aisec_fuzz.expected(family text, state text) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
    SELECT state IN ('ok', 'XF002')
        OR left(state, 2) = '22'
        OR (left(state, 2) IN ('42', '54') AND family ~ '^(mask|rule|key|ff1|pseudonym|noise|agg)')
        OR (state = '23502' AND family ~ '^(rule|key)')
$$;

-- One row a family: cases, how many were accepted, the SQLSTATEs of the
-- rest with their counts, and the unexpected ones (must be 0).
CREATE FUNCTION aisec_fuzz.summary()
RETURNS TABLE (family text, cases bigint, ok bigint, errors text, unexpected bigint)
LANGUAGE sql AS $$
    WITH s AS (
        SELECT r.family, r.stage, r.state, count(*) AS n
          FROM aisec_fuzz.result r GROUP BY 1, 2, 3)
    SELECT s.family, sum(n)::bigint,
           coalesce(sum(n) FILTER (WHERE s.state = 'ok'), 0)::bigint,
           coalesce(string_agg(s.stage || ':' || s.state || '=' || n, ' ' ORDER BY s.stage, s.state)
                    FILTER (WHERE s.state <> 'ok'), ''),
           coalesce(sum(n) FILTER (WHERE NOT aisec_fuzz.expected(s.family, s.state)), 0)::bigint
      FROM s GROUP BY s.family ORDER BY s.family
$$;

-- The unexpected outcomes, for a report.
CREATE FUNCTION aisec_fuzz.unexpected()
RETURNS TABLE (family text, stage text, state text, n bigint)
LANGUAGE sql AS $$
    SELECT r.family, r.stage, r.state, count(*) FROM aisec_fuzz.result r
     WHERE NOT aisec_fuzz.expected(r.family, r.state) GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
$$;

-- ==== Special values ========================================================

-- Floats at and beyond every edge: zeros, subnormals, the largest finite,
-- the infinities, NaN.
CREATE FUNCTION aisec_fuzz.floats() RETURNS SETOF float8
LANGUAGE sql IMMUTABLE AS $$
    SELECT unnest(ARRAY[0, '-0', 1e-320, -1e-320, 2.2250738585072014e-308,
                        1.7976931348623157e308, -1.7976931348623157e308,
                        'Infinity', '-Infinity', 'NaN', 9e307, -9e307,
                        1, -1, 0.5, 1e-300]::float8[])
$$;

-- The same as little-endian IEEE 754 bytes, to plant in binary values.
CREATE FUNCTION aisec_fuzz.float_bytes() RETURNS SETOF bytea
LANGUAGE sql IMMUTABLE AS $$
    SELECT unnest(ARRAY['\x000000000000f87f', '\x000000000000f07f', '\x000000000000f0ff',
                        '\x0000000000000080', '\xffffffffffffef7f', '\x0100000000000000',
                        '\x000000000000f0bf']::bytea[])
$$;

-- Integers at the edges of 16, 32 and 64 bits.
CREATE FUNCTION aisec_fuzz.ints() RETURNS SETOF bigint
LANGUAGE sql IMMUTABLE AS $$
    SELECT unnest(ARRAY[0, 1, -1, 2, 7, 32767, -32768, 2147483647, -2147483648,
                        9223372036854775807, -9223372036854775808]::bigint[])
$$;

-- Odd text: empty, one byte, multi-byte and astral characters, combining
-- marks, zero-width and bidi controls, separators, quotes, long values.
CREATE FUNCTION aisec_fuzz.texts() RETURNS SETOF text
LANGUAGE sql IMMUTABLE AS $$
    SELECT unnest(ARRAY[
        '', 'a', ' ', '@', '-', '0', '1234', 'é', 'e' || U&'\0301', U&'\+01F600',
        U&'\+01F469\200D\+01F4BB', U&'\200B\200E\202E', U&'\FEFF', U&'\FFFD',
        'x' || U&'\00FF' || 'y', E'tab\tnew\nline\r', '''";\\--', '%s%n%x',
        'jane.doe@example.com', '4111-1111-1111-1111', repeat('9', 1000),
        repeat(U&'\+01F600', 1000), repeat('ab', 100000)])
$$;

-- ==== Byte and text mutations ===============================================

-- Mutated copies of v: every byte set to a few values, every truncation,
-- extensions, 32-bit and 64-bit words planted at every offset (lengths,
-- counts, IEEE specials), and nrandom multi-byte random edits from seed.
CREATE FUNCTION aisec_fuzz.byte_mutations(v bytea, seed float8, nrandom int,
                                          word_step int DEFAULT 1)
RETURNS TABLE (kind text, m bytea)
LANGUAGE plpgsql AS $$
DECLARE
    len int := length(v);
    w bytea;
    r bytea;
    k int;
    pos int;
BEGIN
    FOR i IN 0 .. len - 1 LOOP
        FOREACH k IN ARRAY ARRAY[0, 1, 127, 128, 255, get_byte(v, i) # 1] LOOP
            kind := 'byte'; m := set_byte(v, i, k); RETURN NEXT;
        END LOOP;
    END LOOP;
    FOR n IN 0 .. len - 1 LOOP
        kind := 'truncate'; m := substr(v, 1, n); RETURN NEXT;
    END LOOP;
    FOREACH w IN ARRAY ARRAY['\x00', '\xff', '\x00000000', '\xffffffffffffffff']::bytea[] LOOP
        kind := 'extend'; m := v || w; RETURN NEXT;
    END LOOP;
    kind := 'extend'; m := v || v; RETURN NEXT;
    FOR i IN 0 .. len - 4 BY word_step LOOP
        FOREACH w IN ARRAY ARRAY['\xffffffff', '\xffffff7f', '\x00000080', '\x00000000',
                                 '\x01000000']::bytea[] LOOP
            kind := 'word32'; m := overlay(v PLACING w FROM i + 1); RETURN NEXT;
        END LOOP;
    END LOOP;
    FOR i IN 0 .. len - 8 BY word_step LOOP
        FOR w IN SELECT aisec_fuzz.float_bytes() UNION ALL SELECT '\xffffffffffffff7f'::bytea LOOP
            kind := 'word64'; m := overlay(v PLACING w FROM i + 1); RETURN NEXT;
        END LOOP;
    END LOOP;
    PERFORM setseed(seed);
    FOR c IN 1 .. nrandom LOOP
        r := v;
        FOR e IN 1 .. 1 + floor(random() * 8)::int LOOP
            pos := floor(random() * (length(r) + 1))::int;
            CASE floor(random() * 5)::int
            WHEN 0 THEN      -- set a byte
                IF pos < length(r) THEN
                    r := set_byte(r, pos, floor(random() * 256)::int);
                END IF;
            WHEN 1 THEN      -- insert a byte
                r := substr(r, 1, pos) || set_byte('\x00', 0, floor(random() * 256)::int) || substr(r, pos + 1);
            WHEN 2 THEN      -- delete a run of bytes
                r := substr(r, 1, pos) || substr(r, pos + 2 + floor(random() * 8)::int);
            WHEN 3 THEN      -- duplicate a run of bytes
                r := substr(r, 1, pos) || substr(r, pos + 1, 1 + floor(random() * 16)::int) || substr(r, pos + 1);
            ELSE             -- plant a word from the value elsewhere
                r := overlay(r PLACING substr(v, 1 + floor(random() * length(v))::int, 4) FROM pos + 1);
            END CASE;
        END LOOP;
        kind := 'random'; m := r; RETURN NEXT;
    END LOOP;
END
$$;

-- Mutated copies of a JSON text t: every character deleted or replaced by a
-- few JSON metacharacters, every truncation, every number replaced by
-- extremes, and nrandom random edits from seed.
CREATE FUNCTION aisec_fuzz.text_mutations(t text, seed float8, nrandom int)
RETURNS TABLE (kind text, m text)
LANGUAGE plpgsql AS $$
DECLARE
    len int := length(t);
    c text;
    r text;
    pos int;
    nums text[];
    alphabet text := '{}[]",:-+.0123456789eEnulltruefalse \\/u';
BEGIN
    FOR i IN 1 .. len LOOP
        FOREACH c IN ARRAY ARRAY['', '"', '}', '-', '9'] LOOP
            kind := 'char'; m := overlay(t PLACING c FROM i FOR 1); RETURN NEXT;
        END LOOP;
    END LOOP;
    FOR n IN 0 .. len - 1 LOOP
        kind := 'truncate'; m := left(t, n); RETURN NEXT;
    END LOOP;
    -- each number (by occurrence) replaced by an extreme
    nums := ARRAY(SELECT (regexp_matches(t, '-?[0-9][0-9.eE+-]*', 'g'))[1]);
    FOR i IN 1 .. coalesce(array_length(nums, 1), 0) LOOP
        FOREACH c IN ARRAY ARRAY['1e309', '-1', '-0', '1e-320', '0.5', '9223372036854775807',
                                 '9223372036854775808', '-9223372036854775809', '4294967297',
                                 'NaN', '"1"', 'null', 'true', '[]', '{}', '1000001',
                                 '179769313486231570000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000'] LOOP
            kind := 'number';
            m := regexp_replace(t, '((?:[^0-9-]*-?[0-9][0-9.eE+-]*){' || (i - 1) || '}[^0-9-]*)-?[0-9][0-9.eE+-]*', '\1' || c);
            RETURN NEXT;
        END LOOP;
    END LOOP;
    PERFORM setseed(seed);
    FOR k IN 1 .. nrandom LOOP
        r := t;
        FOR e IN 1 .. 1 + floor(random() * 6)::int LOOP
            pos := floor(random() * (length(r) + 1))::int;
            c := substr(alphabet, 1 + floor(random() * length(alphabet))::int, 1);
            CASE floor(random() * 4)::int
            WHEN 0 THEN r := overlay(r PLACING c FROM pos + 1 FOR 1);
            WHEN 1 THEN r := substr(r, 1, pos) || c || substr(r, pos + 1);
            WHEN 2 THEN r := substr(r, 1, pos) || substr(r, pos + 2 + floor(random() * 6)::int);
            ELSE r := substr(r, 1, pos) || substr(r, pos + 1, 1 + floor(random() * 30)::int) || substr(r, pos + 1);
            END CASE;
        END LOOP;
        kind := 'random'; m := r; RETURN NEXT;
    END LOOP;
END
$$;

-- Hand-made hostile JSON documents, for every type's text input.
CREATE FUNCTION aisec_fuzz.hostile_json() RETURNS SETOF text
LANGUAGE sql IMMUTABLE AS $$
    SELECT unnest(ARRAY[
        '', ' ', 'null', 'true', '0', '"x"', '[]', '{}', '{', '}', '[', '"', '\',
        repeat('[', 10000) || repeat(']', 10000),
        repeat('{"a":', 5000) || '1' || repeat('}', 5000),
        '{"version": 1, "groups": [' || repeat('{"group": "g", "rows": 1, "weight": 1, "cells": []},', 200) || '{}]}',
        '{"version": 1, "version": 2, "groups": []}',
        '{"version": 1, "groups": [{"group": "\u0000", "rows": 1, "weight": 1, "cells": []}]}',
        '{"version": 1, "groups": [{"group": "\ud800", "rows": 1, "weight": 1, "cells": []}]}',
        '{"n": 1, "counts": {"\u0000": 1}}', '{"n": 1, "counts": {"\ud83d": 1}}',
        '{"n": 2, "counts": {"a": 1, "a": 1}}',
        '{"n": 0, "counts": {}}',
        '{"n": 1, "lower": 0, "upper": 1, "bins": 0, "underflow": 0, "counts": [], "overflow": 1}',
        '{"n": 1, "lower": 1, "upper": 0, "bins": 1, "underflow": 0, "counts": [1], "overflow": 0}',
        '{"n": 1, "lower": 0, "upper": 1e309, "bins": 1, "underflow": 0, "counts": [1], "overflow": 0}',
        '{"n": 1, "lower": 0, "upper": 1, "bins": 2147483647, "underflow": 0, "counts": [1], "overflow": 0}',
        '{"n": 1, "rows": ["a"], "columns": ["x"], "counts": [[1, 2]]}',
        '{"n": 1, "rows": ["a", "a"], "columns": ["x"], "counts": [[1], [0]]}',
        '{"n": 1, "rows": [], "columns": [], "counts": []}',
        '{"n": 3, "rows": ["a"], "columns": ["x"], "counts": [[9223372036854775807]]}',
        '{"n": 3, "rows": ["a", "b"], "columns": ["x"], "counts": [[9223372036854775807], [9223372036854775807]]}',
        '{"n": 18446744073709551614, "counts": {"a": 9223372036854775807, "b": 9223372036854775807}}'])
$$;

-- ==== Consumers of each state type ==========================================

-- Check that an accepted value prints as JSON and comes back unchanged
-- through its text and binary forms; SQLSTATE XF002 if not.
CREATE FUNCTION aisec_fuzz.round_trip(typ text, t text) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    via_text text;
    via_bytes text;
BEGIN
    PERFORM t::jsonb;
    BEGIN
        EXECUTE format('SELECT $1::aisec.%1$I::text, $1::aisec.%1$I::bytea::aisec.%1$I::text', typ || '_stats')
           INTO via_text, via_bytes USING t;
    EXCEPTION WHEN OTHERS THEN
        RAISE EXCEPTION 'fuzz: % output not accepted back: %', typ, SQLERRM USING ERRCODE = 'XF002';
    END;
    IF via_text IS DISTINCT FROM t OR via_bytes IS DISTINCT FROM t THEN
        RAISE EXCEPTION 'fuzz: % round trip changed the value', typ USING ERRCODE = 'XF002';
    END IF;
END
$$;

-- Every consumer of aisec.fairness_stats, on one value.
CREATE FUNCTION aisec_fuzz.consume_fairness(s aisec.fairness_stats) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    t text := s::text;
    g text;
    groups text[];
BEGIN
    groups := ARRAY(SELECT e->>'group' FROM jsonb_array_elements(t::jsonb->'groups') e);
    FOREACH g IN ARRAY groups LOOP
        PERFORM aisec.selection_rate(s, g), aisec.base_rate(s, g),
                aisec.true_positive_rate(s, g), aisec.false_positive_rate(s, g),
                aisec.false_negative_rate(s, g), aisec.true_negative_rate(s, g),
                aisec.positive_predictive_value(s, g), aisec.negative_predictive_value(s, g),
                aisec.false_discovery_rate(s, g), aisec.false_omission_rate(s, g),
                aisec.accuracy(s, g), aisec.error_rate(s, g),
                aisec.disparate_impact(s, g, groups[1]),
                aisec.statistical_parity_difference(s, groups[1], g),
                aisec.average_odds_difference(s, g, groups[1]),
                aisec.average_abs_odds_difference(s, groups[1], g),
                aisec.equal_opportunity_difference(s, g, groups[1]);
    END LOOP;
    PERFORM aisec.demographic_parity_difference(s), aisec.demographic_parity_ratio(s),
            aisec.equalized_odds_difference(s), aisec.equalized_odds_ratio(s),
            aisec.equal_opportunity_difference(s), aisec.equal_opportunity_ratio(s),
            aisec.fairness_svg(s), aisec.fairness_svg(s, groups[1], 0.5);
    PERFORM count(*) FROM aisec.fairness_report(s);
    PERFORM count(*) FROM aisec.fairness_report(s, groups[1], 0.999);
    PERFORM count(*) FROM aisec.reweighing(s);
    PERFORM aisec.fairness_merge(x)::text FROM (VALUES (s), (s), (NULL)) v(x);
END
$$;

-- Every consumer of aisec.histogram_stats, on one value.
CREATE FUNCTION aisec_fuzz.consume_histogram(h aisec.histogram_stats) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM count(*), sum(proportion) FROM aisec.histogram_bins(h);
    PERFORM aisec.psi(h, h), aisec.psi(h, h, 0), aisec.kl_divergence(h, h),
            aisec.kl_divergence(h, h, 0), aisec.js_divergence(h, h), aisec.ks_statistic(h, h);
    PERFORM aisec.histogram_merge(x)::text FROM (VALUES (h), (h), (NULL)) v(x);
END
$$;

-- Every consumer of aisec.category_stats, on one value.
CREATE FUNCTION aisec_fuzz.consume_category(c aisec.category_stats) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM count(*), sum(proportion) FROM aisec.category_frequencies(c);
    PERFORM aisec.class_imbalance(c);
    PERFORM aisec.psi(c, c), aisec.psi(c, c, 0), aisec.kl_divergence(c, c),
            aisec.kl_divergence(c, c, 0), aisec.js_divergence(c, c);
    PERFORM aisec.category_counts_merge(x)::text FROM (VALUES (c), (c), (NULL)) v(x);
END
$$;

-- Every consumer of aisec.contingency_stats, on one value.
CREATE FUNCTION aisec_fuzz.consume_contingency(c aisec.contingency_stats) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM aisec.chi2_test(c), aisec.cramers_v(c);
    PERFORM count(*), sum(expected) FROM aisec.contingency_cells(c);
    PERFORM aisec.contingency_merge(x)::text FROM (VALUES (c), (c), (NULL)) v(x);
END
$$;

-- Consumers that compare a value with another, valid one of the same type
-- (its reference): they may refuse values that do not match (other bins).
CREATE FUNCTION aisec_fuzz.cross(typ text, v text, ref text) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    CASE typ
    WHEN 'fairness' THEN
        PERFORM aisec.fairness_merge(x)::text
           FROM (VALUES (v::aisec.fairness_stats), (ref::aisec.fairness_stats)) x(x);
    WHEN 'histogram' THEN
        PERFORM aisec.psi(v::aisec.histogram_stats, ref::aisec.histogram_stats),
                aisec.kl_divergence(ref::aisec.histogram_stats, v::aisec.histogram_stats),
                aisec.js_divergence(v::aisec.histogram_stats, ref::aisec.histogram_stats),
                aisec.ks_statistic(ref::aisec.histogram_stats, v::aisec.histogram_stats);
        PERFORM aisec.histogram_merge(x)::text
           FROM (VALUES (v::aisec.histogram_stats), (ref::aisec.histogram_stats)) x(x);
    WHEN 'category' THEN
        PERFORM aisec.psi(v::aisec.category_stats, ref::aisec.category_stats),
                aisec.kl_divergence(ref::aisec.category_stats, v::aisec.category_stats),
                aisec.js_divergence(v::aisec.category_stats, ref::aisec.category_stats);
        PERFORM aisec.category_counts_merge(x)::text
           FROM (VALUES (v::aisec.category_stats), (ref::aisec.category_stats)) x(x);
    WHEN 'contingency' THEN
        PERFORM aisec.contingency_merge(x)::text
           FROM (VALUES (v::aisec.contingency_stats), (ref::aisec.contingency_stats)) x(x);
    END CASE;
END
$$;

-- Run one candidate value of type typ (given as bytes or as text) through
-- input and every consumer; record the outcome under family.
CREATE FUNCTION aisec_fuzz.try_state(family text, typ text, b bytea, t text, ref text)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    stage text := 'input';
    out text;
    st text;
BEGIN
    BEGIN
        CASE typ
        WHEN 'fairness' THEN
            DECLARE s aisec.fairness_stats := coalesce(b::aisec.fairness_stats, t::aisec.fairness_stats);
            BEGIN stage := 'consume'; PERFORM aisec_fuzz.consume_fairness(s); out := s::text; END;
        WHEN 'histogram' THEN
            DECLARE s aisec.histogram_stats := coalesce(b::aisec.histogram_stats, t::aisec.histogram_stats);
            BEGIN stage := 'consume'; PERFORM aisec_fuzz.consume_histogram(s); out := s::text; END;
        WHEN 'category' THEN
            DECLARE s aisec.category_stats := coalesce(b::aisec.category_stats, t::aisec.category_stats);
            BEGIN stage := 'consume'; PERFORM aisec_fuzz.consume_category(s); out := s::text; END;
        WHEN 'contingency' THEN
            DECLARE s aisec.contingency_stats := coalesce(b::aisec.contingency_stats, t::aisec.contingency_stats);
            BEGIN stage := 'consume'; PERFORM aisec_fuzz.consume_contingency(s); out := s::text; END;
        END CASE;
    EXCEPTION WHEN OTHERS THEN
        GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE;
        PERFORM aisec_fuzz.note(family, stage, st);
        RETURN;
    END;
    BEGIN
        PERFORM aisec_fuzz.round_trip(typ, out);
    EXCEPTION WHEN OTHERS THEN
        GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE;
        PERFORM aisec_fuzz.note(family, 'roundtrip', st);
        RETURN;
    END;
    PERFORM aisec_fuzz.note(family, 'ok', 'ok');
    IF ref IS NOT NULL THEN
        BEGIN
            PERFORM aisec_fuzz.cross(typ, out, ref);
        EXCEPTION WHEN OTHERS THEN
            GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE;
            PERFORM aisec_fuzz.note(family || ' cross', 'cross', st);
            RETURN;
        END;
        PERFORM aisec_fuzz.note(family || ' cross', 'ok', 'ok');
    END IF;
END
$$;

-- Valid seed values of each type, built by the aggregates: labels with
-- NULLs and multi-byte characters, weights, under- and overflow.
CREATE FUNCTION aisec_fuzz.seed_value(typ text) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    r text;
BEGIN
    CASE typ
    WHEN 'fairness' THEN
        SELECT aisec.fairness(g, t, p, w)::text INTO r
          FROM (VALUES ('a', true, false, 1.5::float8), ('a', true, true, 3), (NULL, NULL, true, 0.25),
                       ('é', false, NULL, 2), ('é', false, false, 1)) v(g, t, p, w);
    WHEN 'histogram' THEN
        SELECT aisec.histogram(x, -1, 10, 4)::text INTO r
          FROM (VALUES (-5::float8), (0), (2.5), (2.5), (9.999), (10), (1e300)) v(x);
    WHEN 'category' THEN
        SELECT aisec.category_counts(x)::text INTO r
          FROM (VALUES ('a'), ('b'), ('b'), (''), ('é'), (U&'\+01F600')) v(x);
    WHEN 'contingency' THEN
        SELECT aisec.contingency(a, b)::text INTO r
          FROM (VALUES ('a', 'x'), ('b', 'y'), ('b', 'x'), ('', U&'\+01F600')) v(a, b);
    END CASE;
    RETURN r;
END
$$;

-- Fuzz the four state types: mutated binary values (cast from bytea) and
-- mutated JSON (text input), each accepted one through every consumer.
-- word_step spaces the planted 32- and 64-bit words (1: every offset).
CREATE FUNCTION aisec_fuzz.states(seed float8, nrandom int, word_step int DEFAULT 1)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    typ text;
    ref text;
    b bytea;
    mu record;
BEGIN
    FOREACH typ IN ARRAY ARRAY['fairness', 'histogram', 'category', 'contingency'] LOOP
        ref := aisec_fuzz.seed_value(typ);
        EXECUTE format('SELECT %L::aisec.%I::bytea', ref, typ || '_stats') INTO b;
        FOR mu IN SELECT * FROM aisec_fuzz.byte_mutations(b, seed, nrandom, word_step) LOOP
            PERFORM aisec_fuzz.try_state(typ || ' binary ' || mu.kind, typ, mu.m, NULL, ref);
        END LOOP;
        FOR mu IN SELECT * FROM aisec_fuzz.text_mutations(ref, seed, nrandom) LOOP
            PERFORM aisec_fuzz.try_state(typ || ' json ' || mu.kind, typ, NULL, mu.m, ref);
        END LOOP;
        FOR mu IN SELECT 'hostile' AS kind, h AS m FROM aisec_fuzz.hostile_json() h LOOP
            PERFORM aisec_fuzz.try_state(typ || ' json hostile', typ, NULL, mu.m, ref);
        END LOOP;
    END LOOP;
END
$$;

-- Binary input proper (the types' receive functions) through binary COPY:
-- every truncation and a sample of mutations of each type's value, each
-- COPY one row from a file written by the server.
CREATE FUNCTION aisec_fuzz.recv(seed float8, nrandom int, path text)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    typ text;
    b bytea;
    mu record;
    st text;
BEGIN
    CREATE TEMP TABLE fuzz_recv_src (v bytea);
    FOREACH typ IN ARRAY ARRAY['fairness', 'histogram', 'category', 'contingency'] LOOP
        EXECUTE format('SELECT %L::aisec.%I::bytea', aisec_fuzz.seed_value(typ), typ || '_stats') INTO b;
        EXECUTE format('CREATE TEMP TABLE fuzz_recv_dst (v aisec.%I)', typ || '_stats');
        FOR mu IN SELECT kind, m FROM (SELECT *, row_number() OVER () AS i
                                         FROM aisec_fuzz.byte_mutations(b, seed, nrandom, 8)) x
                   WHERE kind IN ('truncate', 'extend', 'random') OR i % 7 = 0 LOOP
            TRUNCATE fuzz_recv_src;
            INSERT INTO fuzz_recv_src VALUES (mu.m);
            EXECUTE format('COPY fuzz_recv_src TO %L (FORMAT binary)', path);
            BEGIN
                EXECUTE format('COPY fuzz_recv_dst FROM %L (FORMAT binary)', path);
                EXECUTE format('SELECT aisec_fuzz.consume_%s(v) FROM fuzz_recv_dst', typ);
                TRUNCATE fuzz_recv_dst;
                PERFORM aisec_fuzz.note(typ || ' recv', 'ok', 'ok');
            EXCEPTION WHEN OTHERS THEN
                GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE;
                PERFORM aisec_fuzz.note(typ || ' recv', 'input', st);
            END;
        END LOOP;
        DROP TABLE fuzz_recv_dst;
    END LOOP;
    DROP TABLE fuzz_recv_src;
END
$$;

-- ==== Functions and aggregates on extreme arguments =========================

-- Run one statement (its arguments already quoted into it); record the
-- outcome under family.
CREATE FUNCTION aisec_fuzz.try_sql(family text, q text) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    st text;
BEGIN
    BEGIN
        EXECUTE q;
    EXCEPTION WHEN OTHERS THEN
        GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE;
        PERFORM aisec_fuzz.note(family, 'run', st);
        RETURN;
    END;
    PERFORM aisec_fuzz.note(family, 'ok', 'ok');
END
$$;

-- Extreme floats (and bounds, bin counts, alphas, epsilons, degrees of
-- freedom) through every aggregate and statistic; each result through
-- every consumer of its type.
CREATE FUNCTION aisec_fuzz.aggregates() RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    a float8;
    b float8;
    t text;
    k bigint;
    fl float8[] := ARRAY(SELECT aisec_fuzz.floats());
    tx text[] := ARRAY(SELECT aisec_fuzz.texts());
BEGIN
    -- fairness weights: every pair of extremes in one aggregate
    FOREACH a IN ARRAY fl LOOP
        FOREACH b IN ARRAY fl LOOP
            PERFORM aisec_fuzz.try_sql('agg fairness weights', format(
                'SELECT aisec_fuzz.consume_fairness(aisec.fairness(g, t, p, w)) FROM (VALUES
                   (''a'', true, true, %1$L::float8), (''a'', false, false, %2$L), (''b'', true, false, %1$L),
                   (''b'', false, true, %2$L), (NULL, NULL, true, %2$L)) v(g, t, p, w)', a, b));
        END LOOP;
    END LOOP;
    -- histograms: every (lower, upper) pair of extremes, every extreme as a value
    FOREACH a IN ARRAY fl LOOP
        FOREACH b IN ARRAY fl LOOP
            FOREACH k IN ARRAY ARRAY[1, 3] LOOP
                PERFORM aisec_fuzz.try_sql('agg histogram bounds', format(
                    'SELECT aisec_fuzz.consume_histogram(aisec.histogram(x, %L, %L, %s))
                       FROM aisec_fuzz.floats() x', a, b, k));
            END LOOP;
        END LOOP;
    END LOOP;
    FOREACH k IN ARRAY ARRAY[0, -1, 1000000, 1000001, 2147483647, -2147483648] LOOP
        PERFORM aisec_fuzz.try_sql('agg histogram bins', format(
            'SELECT aisec_fuzz.consume_histogram(aisec.histogram(x, 0, 1, %s)) FROM aisec_fuzz.floats() x', k));
    END LOOP;
    PERFORM aisec_fuzz.try_sql('agg histogram bins',
        'SELECT aisec_fuzz.consume_histogram(aisec.histogram(x, 0, x + 1, 2)) FROM generate_series(1, 3) x');
    PERFORM aisec_fuzz.try_sql('agg histogram bins',
        'SELECT aisec_fuzz.consume_histogram(aisec.histogram(x, NULL, 1, NULL)) FROM aisec_fuzz.floats() x');
    -- inequality indexes: every alpha, on data with every benefit
    FOREACH a IN ARRAY fl LOOP
        PERFORM aisec_fuzz.try_sql('agg inequality', format(
            'SELECT aisec.generalized_entropy_index(t, p, %L) FROM (VALUES (true, true), (true, false),
               (false, true), (false, false), (NULL, true)) v(t, p)', a));
        PERFORM aisec_fuzz.try_sql('agg inequality', format(
            'SELECT aisec.generalized_entropy_index(t, p, %L) FROM (VALUES (true, false)) v(t, p)', a));
    END LOOP;
    PERFORM aisec_fuzz.try_sql('agg inequality',
        'SELECT aisec.theil_index(t, p), aisec.generalized_entropy_index(t, p, 2)
           FROM (VALUES (true, false), (NULL, NULL)) v(t, p)');
    PERFORM aisec_fuzz.try_sql('agg inequality',
        'SELECT aisec.theil_index(t, p) FROM (VALUES (true, true)) v(t, p) WHERE false');
    -- categories and contingency tables of odd labels
    PERFORM aisec_fuzz.try_sql('agg category labels',
        'SELECT aisec_fuzz.consume_category(aisec.category_counts(x)) FROM aisec_fuzz.texts() x');
    PERFORM aisec_fuzz.try_sql('agg contingency labels',
        'SELECT aisec_fuzz.consume_contingency(aisec.contingency(a, b))
           FROM aisec_fuzz.texts() a, aisec_fuzz.texts() b');
    FOREACH t IN ARRAY tx LOOP
        PERFORM aisec_fuzz.try_sql('agg category labels', format(
            'SELECT aisec_fuzz.consume_category(aisec.category_counts(x)) FROM (VALUES (%L), (%L), (''a'')) v(x)', t, t));
        PERFORM aisec_fuzz.try_sql('agg contingency labels', format(
            'SELECT aisec_fuzz.consume_contingency(aisec.contingency(a, b))
               FROM (VALUES (%1$L, %1$L), (%1$L, ''b''), (''a'', %1$L)) v(a, b)', t));
        PERFORM aisec_fuzz.try_sql('agg fairness labels', format(
            'SELECT aisec_fuzz.consume_fairness(aisec.fairness(g, t, p))
               FROM (VALUES (%1$L, true, false), (%1$L, NULL, true), (''a'', true, true)) v(g, t, p)', t));
        PERFORM aisec_fuzz.try_sql('agg fairness labels', format(
            'SELECT aisec.disparate_impact(s, %1$L, ''a''), aisec.selection_rate(s, %1$L)
               FROM (SELECT aisec.fairness(g, t, p) s
                       FROM (VALUES (%1$L, true, false), (''a'', true, true)) v(g, t, p)) x', t));
    END LOOP;
    -- drift measures: every epsilon, on histograms and category counts
    FOREACH a IN ARRAY fl LOOP
        PERFORM aisec_fuzz.try_sql('agg drift epsilon', format(
            'SELECT aisec.psi(p, q, %1$L), aisec.kl_divergence(p, q, %1$L), aisec.js_divergence(p, q),
                    aisec.ks_statistic(p, q)
               FROM (SELECT aisec.histogram(x, 0, 10, 5) FILTER (WHERE x < 5) p,
                            aisec.histogram(x, 0, 10, 5) q FROM generate_series(0, 9) x) s', a));
        PERFORM aisec_fuzz.try_sql('agg drift epsilon', format(
            'SELECT aisec.psi(p, q, %1$L), aisec.kl_divergence(q, p, %1$L), aisec.js_divergence(p, q)
               FROM (SELECT aisec.category_counts(x::text) FILTER (WHERE x < 2) p,
                            aisec.category_counts(x::text) q FROM generate_series(0, 3) x) s', a));
        PERFORM aisec_fuzz.try_sql('agg drift ks values', format(
            'SELECT aisec.ks_statistic(ARRAY(SELECT aisec_fuzz.floats()), ARRAY[%1$L::float8, NULL, 1]),
                    aisec.ks_statistic(ARRAY[%1$L::float8], ARRAY[]::float8[]),
                    aisec.ks_statistic(ARRAY[%1$L::float8], ARRAY[%1$L::float8])', a));
    END LOOP;
    -- chi-squared: every statistic and degrees of freedom
    FOREACH a IN ARRAY fl LOOP
        FOREACH k IN ARRAY ARRAY[0, 1, 2, -1, 1000000, 2147483647, -2147483648] LOOP
            PERFORM aisec_fuzz.try_sql('agg chi2 p value', format('SELECT aisec.chi2_p_value(%L, %s)', a, k));
        END LOOP;
    END LOOP;
    -- fairness reports: every confidence level
    FOREACH a IN ARRAY fl LOOP
        PERFORM aisec_fuzz.try_sql('agg fairness report confidence', format(
            'SELECT (SELECT count(*) FROM aisec.fairness_report(s, ''b'', %1$L)), aisec.fairness_svg(s, NULL, %1$L)
               FROM (SELECT aisec.fairness(g, t, p) s
                       FROM (VALUES (''a'', true, true), (''b'', false, true)) v(g, t, p)) x', a));
    END LOOP;
END
$$;

-- The masking functions on odd text, extreme numbers, dates and times,
-- keys that are missing or of the wrong kind; FF1 tokens must decrypt back.
CREATE FUNCTION aisec_fuzz.masks(slow boolean) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    t text;
    u text;
    p text;
    a float8;
    b float8;
    i bigint;
    j bigint;
    n text;
    m text;
    tx text[] := ARRAY(SELECT aisec_fuzz.texts()) || ARRAY[repeat('x', 1048576)];
    fl float8[] := ARRAY(SELECT aisec_fuzz.floats());
    i4 bigint[] := ARRAY[0, 1, -1, 7, 2147483647, -2147483648];
    pads text[] := ARRAY['*', '', U&'\+01F600', 'ab', U&'\0301'];
    units text[] := ARRAY['minute', 'hour', 'day', 'week', 'month', 'quarter', 'year', 'decade',
                          'century', 'millennium', 'second', '', 'DAY', ' day', 'x', repeat('y', 100000)];
    keys text[] := ARRAY['fuzz_hmac', 'fuzz_ff1', 'fuzz_missing', '', '$signing', repeat('k', 1000)];
BEGIN
    FOREACH t IN ARRAY tx LOOP
        FOREACH i IN ARRAY i4 LOOP
            FOREACH j IN ARRAY i4 LOOP
                FOREACH p IN ARRAY pads LOOP
                    PERFORM aisec_fuzz.try_sql('mask partial', format(
                        'SELECT aisec.mask_partial(%L, %s, %s, %L)', t, i, j, p));
                END LOOP;
            END LOOP;
            FOREACH p IN ARRAY pads LOOP
                PERFORM aisec_fuzz.try_sql('mask digits', format('SELECT aisec.mask_digits(%L, %s, %L)', t, i, p));
            END LOOP;
        END LOOP;
        PERFORM aisec_fuzz.try_sql('mask email', format('SELECT aisec.mask_email(%L)', t));
        PERFORM aisec_fuzz.try_sql('mask email', format('SELECT aisec.mask_email(%L)', t || '@' || t || '.' || t));
        PERFORM aisec_fuzz.try_sql('mask email', format('SELECT aisec.mask_email(%L)', '@' || t || '@'));
        FOREACH u IN ARRAY keys LOOP
            PERFORM aisec_fuzz.try_sql('pseudonym', format('SELECT aisec.pseudonymize(%L, %L)', t, u));
        END LOOP;
    END LOOP;
    FOREACH t IN ARRAY ARRAY['@', '@@', 'a@', '@b', 'a@b@c', 'a@.', '.@.', 'a@b.', 'a@.b', U&'\00E4@\00F6.\00FC',
                             repeat('a', 100000) || '@b.c', 'a@' || repeat('b.', 50000)] LOOP
        PERFORM aisec_fuzz.try_sql('mask email', format('SELECT aisec.mask_email(%L)', t));
    END LOOP;
    -- generalize: integers at every edge, numerics beyond float range
    FOREACH i IN ARRAY ARRAY(SELECT aisec_fuzz.ints()) LOOP
        FOREACH j IN ARRAY ARRAY(SELECT aisec_fuzz.ints()) LOOP
            PERFORM aisec_fuzz.try_sql('mask generalize int8', format('SELECT aisec.generalize(%s::int8, %s::int8)', i, j));
            IF i BETWEEN -2147483648 AND 2147483647 AND j BETWEEN -2147483648 AND 2147483647 THEN
                PERFORM aisec_fuzz.try_sql('mask generalize int4', format('SELECT aisec.generalize(%s::int4, %s::int4)', i, j));
            END IF;
            IF i BETWEEN -32768 AND 32767 AND j BETWEEN -32768 AND 32767 THEN
                PERFORM aisec_fuzz.try_sql('mask generalize int2', format('SELECT aisec.generalize(%s::int2, %s::int2)', i, j));
            END IF;
        END LOOP;
    END LOOP;
    FOREACH n IN ARRAY ARRAY['0', '-0.5', '123.456', 'NaN', 'Infinity', '-Infinity', '1e100000', '-1e100000',
                             '1e-16383', '-9223372036854775809', '0.' || repeat('9', 16383)] LOOP
        FOREACH m IN ARRAY ARRAY['0', '1', '-1', '0.001', '1e100000', '1e-16383', 'NaN', 'Infinity', '-Infinity',
                                 '3'] LOOP
            PERFORM aisec_fuzz.try_sql('mask generalize numeric', format(
                'SELECT aisec.generalize(%L::numeric, %L::numeric)', n, m));
        END LOOP;
    END LOOP;
    -- generalize: dates and times at their ends, every unit and odd ones
    FOREACH u IN ARRAY units LOOP
        FOREACH n IN ARRAY ARRAY['infinity', '-infinity', '4713-11-24 BC', '4714-11-24 00:00 BC', '1970-01-01',
                                 '2000-02-29 23:59:59.999999', '294276-12-31 23:59:59.999999', '5874897-12-31'] LOOP
            PERFORM aisec_fuzz.try_sql('mask generalize date', format('SELECT aisec.generalize(%L::date, %L)', n, u));
            PERFORM aisec_fuzz.try_sql('mask generalize timestamp', format('SELECT aisec.generalize(%L::timestamp, %L)', n, u));
            PERFORM aisec_fuzz.try_sql('mask generalize timestamptz', format('SELECT aisec.generalize(%L::timestamptz, %L)', n, u));
        END LOOP;
    END LOOP;
    -- sticky noise: every value and ratio, keys of every kind
    FOREACH a IN ARRAY fl LOOP
        FOREACH b IN ARRAY fl LOOP
            FOREACH u IN ARRAY keys[1:3] LOOP
                PERFORM aisec_fuzz.try_sql('noise', format('SELECT aisec.sticky_noise(%L, %L, %L)', a, u, b));
            END LOOP;
        END LOOP;
    END LOOP;
    PERFORM aisec_fuzz.ff1(slow);
END
$$;

-- FF1 on odd alphabets (too small, repeated characters, combining marks,
-- astral characters, the largest radix and one more), lengths around the
-- domain limits, tweaks up to and past the limit; every token decrypts back.
-- The largest radix (65536) costs seconds a call, so only the long fuzz
-- (slow) tries it.
CREATE FUNCTION aisec_fuzz.ff1(slow boolean) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    alpha text;
    v text;
    tw bytea;
    n int;
    k text;
    big text := (SELECT string_agg(chr(c), '' ORDER BY c) FROM generate_series(256, 256 + 65536 + 4096) c
                  WHERE c NOT BETWEEN 55296 AND 57343);
BEGIN
    FOREACH alpha IN ARRAY ARRAY['0123456789', '01', 'ab', 'a', '', 'aa', '0123456789a0', U&'0\00E9',
                                 U&'\+01F600\+01F601\+01F602\+01F603', U&'e\0301a', 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789',
                                 left(big, 4096), left(big, 65537)]
                              || CASE WHEN slow THEN ARRAY[left(big, 65536)] ELSE ARRAY[]::text[] END LOOP
        FOREACH n IN ARRAY ARRAY[0, 1, 2, 5, 6, 19, 20, 21, 100, 1023, 1024, 1025, 1048576] LOOP
            -- a value of n characters drawn from the alphabet (cycling)
            v := CASE WHEN alpha = '' THEN repeat('0', n)
                      ELSE left(repeat(reverse(alpha) || alpha, n / (2 * length(alpha)) + 1), n) END;
            FOREACH tw IN ARRAY ARRAY['\x'::bytea, '\x00'::bytea, decode(repeat('ff', 1024), 'hex'),
                                      decode(repeat('ab', 1025), 'hex')] LOOP
                FOREACH k IN ARRAY ARRAY['fuzz_ff1', 'fuzz_ff1_128', 'fuzz_hmac', 'fuzz_missing'] LOOP
                    -- every token must decrypt back to the value
                    PERFORM aisec_fuzz.try_sql('ff1', format(
                        'SELECT CASE WHEN aisec.ff1_decrypt(e, %2$L, %3$L, %4$L) = %1$L THEN NULL
                                     ELSE aisec_fuzz.fail(''FF1 round trip'') END
                           FROM aisec.ff1_encrypt(%1$L, %2$L, %3$L, %4$L) e', coalesce(v, ''), k, alpha, tw));
                    EXIT WHEN n > 100 OR length(alpha) > 100;  -- long ones with one key only
                END LOOP;
                EXIT WHEN n > 100 OR length(alpha) > 100;      -- and one tweak
            END LOOP;
        END LOOP;
        -- a character outside the alphabet
        PERFORM aisec_fuzz.try_sql('ff1', format('SELECT aisec.ff1_encrypt(%L, ''fuzz_ff1'', %L)',
                                                 repeat(U&'\+01F4A9', 8), alpha));
    END LOOP;
    PERFORM aisec_fuzz.try_sql('ff1', 'SELECT aisec.ff1_decrypt(''123456'', ''fuzz_ff1'', ''0123456789'', '''', -1)');
    PERFORM aisec_fuzz.try_sql('ff1', 'SELECT aisec.ff1_decrypt(''123456'', ''fuzz_ff1'', ''0123456789'', '''', 2147483647)');
END
$$;

-- ==== Masking rules and keys ================================================

-- set_mask with mutated rules: every character of valid rules deleted or
-- replaced, every truncation, hostile rules, nrandom random ones.  A rule
-- that is refused must leave the column without a rule; one that is
-- accepted is dropped again.
CREATE FUNCTION aisec_fuzz.rules(seed float8, nrandom int) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    base record;
    r text;
    c text;
    st text;
    printable text := (SELECT string_agg(chr(g), '') FROM generate_series(32, 126) g) || U&'\00E9\+01F600';
BEGIN
    CREATE TABLE aisec_fuzz.ruled (t text, n numeric, d date, f float8, i int);
    CREATE TEMP TABLE fuzz_rules (col text, rule text);
    -- valid rules, each for a column it fits
    INSERT INTO fuzz_rules VALUES
        ('t', 'partial(1, 2, ''#'')'), ('t', 'email'), ('t', 'digits(4, ''*'')'), ('t', 'pseudonym(fuzz_hmac)'),
        ('t', 'ff1(fuzz_ff1, ''0123456789'')'), ('n', 'generalize(10000)'), ('d', 'generalize(''month'')'),
        ('f', 'noise(fuzz_hmac, 0.1)'), ('i', 'null'), ('t', 'redact');
    -- mutations of them
    FOR base IN SELECT * FROM fuzz_rules LOOP
        FOR i IN 1 .. length(base.rule) LOOP
            FOREACH c IN ARRAY ARRAY['', '(', ')', '''', ',', '9', '-', 'x', ' '] LOOP
                INSERT INTO fuzz_rules VALUES (base.col, overlay(base.rule PLACING c FROM i FOR 1));
            END LOOP;
            INSERT INTO fuzz_rules VALUES (base.col, left(base.rule, i - 1));
        END LOOP;
    END LOOP;
    -- hostile ones, for every column
    INSERT INTO fuzz_rules
    SELECT col, h FROM unnest(ARRAY['t', 'n', 'd', 'f', 'i']) col, unnest(ARRAY[
        '', ' ', '(', ')', '()', '''', '''''', '"', 'partial(', 'partial)', 'partial(()',
        repeat('(', 10000), repeat('partial(', 1000) || repeat(')', 1000), repeat('a', 100000),
        'partial(1, 2, ''' || repeat('#', 100000) || ''')', 'partial(1, 2, ''''''#'')', 'partial(1, 2, ''a''''b'')',
        'partial(1, 2, ''#'') ; DROP TABLE aisec_fuzz.ruled', 'partial(1, 2, ''#'')--', 'email /* x */',
        'generalize(1e1000000)', 'generalize(-1)', 'generalize(0)', 'generalize(NaN)', 'generalize(''Infinity'')',
        'generalize(''' || repeat('month', 30) || ''')', 'noise(fuzz_hmac, 1e308)', 'noise(fuzz_hmac, -0)',
        'noise(fuzz_hmac, NaN)', 'noise(fuzz_ff1, 0.1)', 'pseudonym(fuzz_missing)', 'pseudonym($signing)',
        'pseudonym("fuzz_hmac")', 'pseudonym(' || repeat('k', 100) || ')', 'ff1(fuzz_ff1, '''')',
        'ff1(fuzz_ff1, ''aa'')', 'digits(2147483648)', 'digits(-2147483649)', 'partial(0x10, 1)',
        U&'partial(\FF11, 2)', U&'email\00A0', U&'\FEFFemail', 'EMAIL', 'Email()', 'null()', 'redact(1)']) h;
    -- random printable garbage, and random edits of valid rules
    PERFORM setseed(seed);
    FOR k IN 1 .. nrandom LOOP
        r := '';
        FOR e IN 1 .. 1 + floor(random() * 40)::int LOOP
            r := r || substr(printable, 1 + floor(random() * length(printable))::int, 1);
        END LOOP;
        INSERT INTO fuzz_rules VALUES ((ARRAY['t', 'n', 'd', 'f', 'i'])[1 + floor(random() * 5)::int], r);
        SELECT * INTO base FROM fuzz_rules ORDER BY col, rule LIMIT 1 OFFSET floor(random() * 10)::int;
        r := base.rule;
        FOR e IN 1 .. 1 + floor(random() * 4)::int LOOP
            r := overlay(r PLACING substr(printable, 1 + floor(random() * length(printable))::int, 1)
                         FROM 1 + floor(random() * length(r))::int FOR floor(random() * 2)::int);
        END LOOP;
        INSERT INTO fuzz_rules VALUES (base.col, r);
    END LOOP;
    FOR base IN SELECT DISTINCT * FROM fuzz_rules ORDER BY col, rule LOOP
        BEGIN
            PERFORM aisec.set_mask('aisec_fuzz.ruled', base.col, base.rule);
        EXCEPTION WHEN OTHERS THEN
            GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE;
            PERFORM aisec_fuzz.note('rule set_mask', 'run', st);
            IF EXISTS (SELECT FROM aisec.masks WHERE relation = 'aisec_fuzz.ruled'::regclass) THEN
                PERFORM aisec_fuzz.note('rule set_mask', 'left behind', 'XF001');
            END IF;
            CONTINUE;
        END;
        PERFORM aisec_fuzz.note('rule set_mask', 'ok', 'ok');
        PERFORM aisec.drop_mask('aisec_fuzz.ruled', base.col);
    END LOOP;
    IF EXISTS (SELECT FROM aisec.masks WHERE relation = 'aisec_fuzz.ruled'::regclass) THEN
        PERFORM aisec_fuzz.note('rule set_mask', 'left behind', 'XF001');
    END IF;
    DROP TABLE fuzz_rules;
    DROP TABLE aisec_fuzz.ruled;
END
$$;

-- create_key and import_key with hostile names, purposes and secrets; each
-- key made is dropped again, and none is left.
CREATE FUNCTION aisec_fuzz.keys() RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    n text;
    p text;
    s bytea;
    names text[] := ARRAY['', ' ', 'fuzz_k', 'fuzz_' || repeat('k', 58), 'fuzz_' || repeat('k', 59),
                          '$signing', 'Fuzz_k', 'fuzz-k', 'fuzz k', '0fuzz', '_fuzz', U&'fuzz_\00E9',
                          'fuzz_k''); DROP TABLE aisec.key_store; --', 'fuzz_k"', 'fuzz_k;', repeat('k', 1048576), NULL];
    purposes text[] := ARRAY['hmac', 'ff1', 'HMAC', '', 'signing', 'hmac ', repeat('p', 100000), NULL];
BEGIN
    FOREACH n IN ARRAY names LOOP
        FOREACH p IN ARRAY purposes LOOP
            PERFORM aisec_fuzz.try_sql('key create', format('SELECT aisec.create_key(%L, %L)', n, p));
            PERFORM aisec_fuzz.try_sql('key create', format('SELECT aisec.drop_key(%L)', n))
               WHERE n IN (SELECT name FROM aisec.keys);
        END LOOP;
        FOREACH s IN ARRAY ARRAY['\x'::bytea, '\x00'::bytea, decode(repeat('00', 15), 'hex'), decode(repeat('01', 16), 'hex'),
                                 decode(repeat('02', 24), 'hex'), decode(repeat('03', 32), 'hex'), decode(repeat('04', 33), 'hex'),
                                 decode(repeat('05', 64), 'hex'), decode(repeat('06', 65), 'hex'),
                                 decode(repeat('ff', 1048576), 'hex'), NULL] LOOP
            FOREACH p IN ARRAY purposes[1:4] LOOP
                PERFORM aisec_fuzz.try_sql('key import', format('SELECT aisec.import_key(%L, %L::bytea, %L)', n, s, p));
                PERFORM aisec_fuzz.try_sql('key import', format('SELECT aisec.drop_key(%L)', n))
                   WHERE n IN (SELECT name FROM aisec.keys);
            END LOOP;
        END LOOP;
        PERFORM aisec_fuzz.try_sql('key rotate drop', format('SELECT aisec.rotate_key(%L)', n));
        PERFORM aisec_fuzz.try_sql('key rotate drop', format('SELECT aisec.drop_key(%L)', n));
    END LOOP;
    IF EXISTS (SELECT FROM aisec.keys WHERE name = ANY (names)) THEN
        PERFORM aisec_fuzz.note('key left behind', 'left behind', 'XF001');
    END IF;
END
$$;

-- The keys the fuzz uses, and the ones it expects to be missing.
CREATE FUNCTION aisec_fuzz.setup() RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM aisec.create_key('fuzz_hmac', 'hmac') WHERE NOT EXISTS (SELECT FROM aisec.keys WHERE name = 'fuzz_hmac');
    PERFORM aisec.create_key('fuzz_ff1', 'ff1') WHERE NOT EXISTS (SELECT FROM aisec.keys WHERE name = 'fuzz_ff1');
    PERFORM aisec.import_key('fuzz_ff1_128', '\x2b7e151628aed2a6abf7158809cf4f3c', 'ff1')
      WHERE NOT EXISTS (SELECT FROM aisec.keys WHERE name = 'fuzz_ff1_128');
END
$$;

-- Drop the keys setup() made.
CREATE FUNCTION aisec_fuzz.teardown() RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM aisec.drop_key(name) FROM (SELECT DISTINCT name FROM aisec.keys
                                        WHERE name IN ('fuzz_hmac', 'fuzz_ff1', 'fuzz_ff1_128')) k;
END
$$;
