#!/usr/bin/env python3
"""Recompute aisec's audit hash chain outside the database.

Export the log (doc/audit.md, "Checking the chain outside the database"):

    psql -XAt -c "SELECT json_build_object(
        'seq', seq, 'at_us', (extract(epoch FROM at) * 1000000)::bigint,
        'actor', actor, 'login', login, 'action', action, 'object', object,
        'detail', detail::text, 'prev_hash', encode(prev_hash, 'hex'),
        'hash', encode(hash, 'hex'))
      FROM aisec.audit_log ORDER BY seq" > audit.jsonl

then:

    python3 audit_chain.py audit.jsonl [digest.json]

Prints "ok: N entries, head <seq> <hash>" and exits 0 when every entry links
to the one before and matches its hash; otherwise names the first bad entry
and exits 1.  With a digest (the JSON aisec.audit_digest() returned), also
checks that the chain passes through the digest's seq and hash.  The
signature itself is checked with openssl (doc/audit.md, "Digests").
"""
import hashlib
import json
import struct
import sys

TAG = b"aisec.audit.v1"


def field(value):
    """Length-prefixed UTF-8 bytes; NULL is the length 0xFFFFFFFF alone."""
    if value is None:
        return b"\xff\xff\xff\xff"
    data = value.encode("utf-8")
    return struct.pack(">I", len(data)) + data


def encode(entry):
    """The canonical encoding of one entry, as doc/audit.md specifies."""
    return (TAG + struct.pack(">q", entry["seq"]) + struct.pack(">q", entry["at_us"])
            + field(entry["actor"]) + field(entry["login"]) + field(entry["action"])
            + field(entry["object"]) + field(entry["detail"]))


def check(entries):
    """Return (ok, message, head_seq, head_hash)."""
    prev = bytes(32)
    last_seq = 0
    for e in entries:
        seq = e["seq"]
        if seq != last_seq + 1:
            return False, f"entry {last_seq + 1}: missing or out of order (found {seq})", last_seq, prev
        stored_prev = bytes.fromhex(e["prev_hash"])
        if stored_prev != prev:
            return False, f"entry {seq}: does not link to entry {last_seq}", last_seq, prev
        digest = hashlib.sha256(stored_prev + encode(e)).digest()
        if digest != bytes.fromhex(e["hash"]):
            return False, f"entry {seq}: does not match its hash", last_seq, prev
        prev, last_seq = digest, seq
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
