#!/usr/bin/env python3
"""Check META.json against the PGXN Meta Spec v2 essentials and the build.

Required keys and their forms follow https://pgxn.org/spec/ (v2.0.0):
name, abstract, version (semver), maintainer, license, provides (each with
abstract-free version at least), meta-spec {version: 2.0.0}; prereqs phases
and relations as the spec names them.  Also checks that the version agrees
with aisec.control, the Makefile and provides.aisec, and that every earlier
release kept in src/upgrade/ (aisec--X.sql) has a chain of update scripts
(aisec--X--Y.sql, ...) up to it (doc/upgrading.md).
"""
import glob
import json
import os
import re
import sys

SEMVER = re.compile(r"^\d+\.\d+\.\d+(-[0-9A-Za-z-]+)?$")
LICENSES = {"agpl_3", "apache_1_1", "apache_2_0", "artistic_1", "artistic_2", "bsd",
            "freebsd", "gfdl_1_2", "gfdl_1_3", "gpl_1", "gpl_2", "gpl_3", "lgpl_2_1",
            "lgpl_3_0", "mit", "mozilla_1_0", "mozilla_1_1", "openssl", "perl_5",
            "postgresql", "qpl_1_0", "ssleay", "sun", "zlib", "open_source",
            "restricted", "unrestricted", "unknown"}
PHASES = {"configure", "build", "test", "runtime", "develop"}
RELATIONS = {"requires", "recommends", "suggests", "conflicts"}


def fail(msg):
    print(f"META.json: {msg}")
    sys.exit(1)


def main():
    meta = json.load(open("META.json", encoding="utf-8"))
    for key in ("name", "abstract", "version", "maintainer", "license", "provides", "meta-spec"):
        if key not in meta:
            fail(f"missing required key {key!r}")
    if not re.match(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$", meta["name"]):
        fail("bad name")
    if not SEMVER.match(meta["version"]):
        fail("version is not semver")
    if meta["meta-spec"].get("version") != "2.0.0":
        fail("meta-spec version must be 2.0.0")
    lic = meta["license"]
    if isinstance(lic, str) and lic not in LICENSES:
        fail(f"unknown license {lic!r}")
    if not meta["maintainer"]:
        fail("maintainer is empty")
    for ext, p in meta["provides"].items():
        if "version" not in p or not SEMVER.match(p["version"]):
            fail(f"provides.{ext}.version missing or not semver")
    for phase, rels in meta.get("prereqs", {}).items():
        if phase not in PHASES:
            fail(f"unknown prereqs phase {phase!r}")
        for rel in rels:
            if rel not in RELATIONS:
                fail(f"unknown prereqs relation {rel!r}")
    control = open("aisec.control", encoding="utf-8").read()
    m = re.search(r"default_version\s*=\s*'([^']+)'", control)
    if not m or m.group(1) != meta["version"]:
        fail("version differs from aisec.control default_version")
    mk = open("Makefile", encoding="utf-8").read()
    m = re.search(r"^EXTVERSION\s*=\s*(\S+)", mk, re.M)
    if not m or m.group(1) != meta["version"]:
        fail("version differs from the Makefile's EXTVERSION")
    if meta["provides"].get(meta["name"], {}).get("version") != meta["version"]:
        fail(f"provides.{meta['name']}.version differs from version")
    check_upgrade_paths(meta["name"], meta["version"])
    print(f"META.json: ok ({meta['name']} {meta['version']})")


def check_upgrade_paths(name, version):
    """Every release script in src/upgrade/ must update, step by step, to version."""
    updates = {}
    releases = []
    for path in glob.glob(f"src/upgrade/{name}--*.sql"):
        parts = os.path.basename(path)[len(name) + 2:-len(".sql")].split("--")
        if len(parts) == 2:
            updates.setdefault(parts[0], []).append(parts[1])
        else:
            releases.append(parts[0])
    for release in releases:
        seen, todo = set(), [release]
        while todo:
            v = todo.pop()
            if v not in seen:
                seen.add(v)
                todo.extend(updates.get(v, []))
        if version not in seen:
            fail(f"no update path from {release} (src/upgrade/{name}--{release}.sql) to {version}")


if __name__ == "__main__":
    main()
