#!/usr/bin/env python3
"""Recompute aisec's audit hash chain outside the database.

Export the log (doc/audit.md, "Checking the chain outside the database"):

    psql -XAt -c "SELECT json_build_object(
        'seq', seq, 'at_us', (extract(epoch FROM at) * 1000000)::bigint,
        'actor', actor, 'login', login, 'action', action, 'object', object,
        'detail', detail::text, 'prev_hash', encode(prev_hash, 'hex'),
        'hash', encode(hash, 'hex'),
        'detail_sha256', encode(detail_sha256, 'hex'), 'redacted_in', redacted_in)
      FROM aisec.audit_log ORDER BY seq" > audit.jsonl

then:

    python3 audit_chain.py audit.jsonl [digest.json]

Prints "ok: N entries, head <seq> <hash>" and exits 0 when every entry links
to the one before and matches its hash; otherwise names the first bad entry
and exits 1.  Entries with detail_sha256 (aisec 0.2.0 on) use encoding v2,
which covers SHA-256 of the detail's text; entries without it (written by
0.1.0, or exported without that column) use v1, which covers the text.  A
redacted entry (detail null, v2 only) must name, in redacted_in, a later
audit.redact entry whose detail's seq is its own.  With a digest (the JSON
aisec.audit_digest() returned), also checks that the chain passes through
the digest's seq and hash.  The signature itself is checked with openssl
(doc/audit.md, "Digests").
"""
import hashlib
import json
import struct
import sys

TAG_V1 = b"aisec.audit.v1"
TAG_V2 = b"aisec.audit.v2"


def field(value):
    """Length-prefixed UTF-8 bytes; NULL is the length 0xFFFFFFFF alone."""
    if value is None:
        return b"\xff\xff\xff\xff"
    data = value.encode("utf-8")
    return struct.pack(">I", len(data)) + data


def encode(entry):
    """The canonical encoding of one entry (v1 or v2), as doc/audit.md specifies."""
    head = (struct.pack(">q", entry["seq"]) + struct.pack(">q", entry["at_us"])
            + field(entry["actor"]) + field(entry["login"]) + field(entry["action"])
            + field(entry["object"]))
    if entry.get("detail_sha256") is None:
        return TAG_V1 + head + field(entry["detail"])
    return TAG_V2 + head + bytes.fromhex(entry["detail_sha256"])


def entry_problem(e, by_seq):
    """What is wrong with entry e on its own (not its link), or None."""
    seq = e["seq"]
    sha = e.get("detail_sha256")
    redacted_in = e.get("redacted_in")
    if sha is None:
        if e["detail"] is None or redacted_in is not None:
            return "has no detail, or is marked redacted, under encoding v1"
    elif len(bytes.fromhex(sha)) != 32:
        return "does not match its hash"
    if e["detail"] is not None and sha is not None:
        if hashlib.sha256(e["detail"].encode("utf-8")).hexdigest() != sha:
            return "does not match its hash"
    digest = hashlib.sha256(bytes.fromhex(e["prev_hash"]) + encode(e)).digest()
    if digest != bytes.fromhex(e["hash"]):
        return "does not match its hash"
    if e["detail"] is not None:
        return None if redacted_in is None else "is marked redacted but keeps its detail"
    record = by_seq.get(redacted_in) if redacted_in is not None else None
    if (record is None or redacted_in <= seq or record["action"] != "audit.redact"
            or not names_seq(record["detail"], seq)
            or entry_problem(record, {}) is not None):
        return "lacks its detail, but no audit.redact entry records its redaction"
    return None


def names_seq(detail, seq):
    """Is detail (JSON text or None) an object whose "seq" is the integer seq?"""
    try:
        obj = json.loads(detail) if detail is not None else None
    except ValueError:
        return False
    return isinstance(obj, dict) and type(obj.get("seq")) is int and obj["seq"] == seq


def check(entries):
    """Return (ok, message, head_seq, head_hash)."""
    by_seq = {e["seq"]: e for e in entries}
    prev = bytes(32)
    last_seq = 0
    for e in entries:
        seq = e["seq"]
        if seq != last_seq + 1:
            return False, f"entry {last_seq + 1}: missing or out of order (found {seq})", last_seq, prev
        stored_prev = bytes.fromhex(e["prev_hash"])
        if stored_prev != prev:
            return False, f"entry {seq}: does not link to entry {last_seq}", last_seq, prev
        problem = entry_problem(e, by_seq)
        if problem is not None:
            return False, f"entry {seq}: {problem}", last_seq, prev
        prev, last_seq = bytes.fromhex(e["hash"]), seq
    return True, f"{last_seq} entries", last_seq, prev


def main(argv):
    if len(argv) not in (2, 3):
        print(__doc__, file=sys.stderr)
        return 2
    with open(argv[1], encoding="utf-8") as f:
        entries = [json.loads(line) for line in f if line.strip()]
    ok, message, head_seq, head_hash = check(entries)
    if not ok:
        print(f"BAD: {message}")
        return 1
    if len(argv) == 3:
        with open(argv[2], encoding="utf-8") as f:
            digest = json.load(f)
        seq = int(digest["seq"])
        found = [e for e in entries if e["seq"] == seq]
        if seq == 0 and digest["hash"] == "00" * 32:
            pass
        elif not found or found[0]["hash"] != digest["hash"]:
            print(f"BAD: the chain does not pass through the digest (seq {seq})")
            return 1
    print(f"ok: {message}, head {head_seq} {head_hash.hex()}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
