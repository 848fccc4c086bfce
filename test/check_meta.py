#!/usr/bin/env python3
"""Check META.json against the PGXN Meta Spec v2 essentials and the build.

Required keys and their forms follow https://pgxn.org/spec/ (v2.0.0):
name, abstract, version (semver), maintainer, license, provides (each with
abstract-free version at least), meta-spec {version: 2.0.0}; prereqs phases
and relations as the spec names them.  Also checks that the version agrees
with aisec.control and the Makefile.
"""
import json
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
    print(f"META.json: ok ({meta['name']} {meta['version']})")


if __name__ == "__main__":
    main()
