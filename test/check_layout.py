#!/usr/bin/env python3
"""Check the source layout that doc/architecture.md describes.

- src/ holds one folder per capability; each folder <f> with C code has
  one door, src/<f>/<f>.h, and a file of another folder includes nothing of <f> but
  its door ("<f>/<f>.h").
- No include cycle between folders.  src/module/ (the module's _PG_init)
  is the one folder that may include any other, and none includes it.
- No C file over LONG_LINES lines unless its header comment says why
  ("Longer than 1,200 lines because ...").
- aisec.so (if built) exports no symbol without the aisec_ prefix but the
  two PostgreSQL looks for (Pg_magic_func, _PG_init).

Run from the top of the tree: python3 test/check_layout.py
"""
import glob
import os
import re
import subprocess
import sys

LONG_LINES = 1200
REASON = re.compile(r"Longer than 1,200 lines because", re.I)
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)


def folders():
    return sorted(d for d in os.listdir("src") if os.path.isdir(os.path.join("src", d)))


def main():
    problems = []
    names = folders()
    edges = {f: set() for f in names}

    for f in names:
        has_c = bool(glob.glob(f"src/{f}/*.[ch]"))
        if has_c and f != "module" and not os.path.isfile(f"src/{f}/{f}.h"):
            problems.append(f"src/{f}/ has no door header src/{f}/{f}.h")
        for path in sorted(glob.glob(f"src/{f}/*.[ch]")):
            text = open(path, encoding="utf-8").read()
            for inc in INCLUDE.findall(text):
                if "/" not in inc:
                    if not os.path.isfile(f"src/{f}/{inc}") and inc.split("/")[0] in names:
                        problems.append(f"{path}: includes {inc}, which is not in src/{f}/")
                    continue
                other, header = inc.split("/", 1)
                if other not in names:
                    continue        # a PostgreSQL header such as "utils/rel.h"
                if other == f:
                    problems.append(f"{path}: includes its own folder's {inc} by path; use \"{header}\"")
                    continue
                if header != f"{other}.h":
                    problems.append(f"{path}: includes {inc}, a private header of src/{other}/ (use its door {other}/{other}.h)")
                edges[f].add(other)
            if path.endswith(".c"):
                lines = text.count("\n")
                if lines > LONG_LINES and not REASON.search(text[:4000]):
                    problems.append(f"{path}: {lines} lines, over {LONG_LINES}, and its header does not say why")

    for f, deps in edges.items():
        if "module" in deps:
            problems.append(f"src/{f}/ includes src/module/, which only _PG_init may be")

    # Cycles between folders (module is a sink of nothing: it depends on all).
    state = {}

    def visit(f, stack):
        state[f] = "open"
        for g in sorted(edges[f]):
            if state.get(g) == "open":
                cycle = stack[stack.index(g):] + [g]
                problems.append("include cycle between folders: " + " -> ".join(cycle))
            elif g not in state:
                visit(g, stack + [g])
        state[f] = "done"

    for f in names:
        if f not in state:
            visit(f, [f])

    if os.path.isfile("aisec.so"):
        out = subprocess.run(["nm", "-D", "--defined-only", "aisec.so"],
                             capture_output=True, text=True, check=True).stdout
        for line in out.splitlines():
            sym = line.split()[-1]
            if sym.startswith(("aisec_", "pg_finfo_aisec_")) or sym in ("Pg_magic_func", "_PG_init"):
                continue
            problems.append(f"aisec.so exports {sym}, which has no aisec_ prefix")

    if problems:
        for p in problems:
            print(f"layout: {p}")
        sys.exit(1)
    print("layout: " + ", ".join(names) + "; no cycles, doors only, exports prefixed")


if __name__ == "__main__":
    main()
