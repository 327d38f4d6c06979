#!/usr/bin/env python3
"""test_layers.py LIB.a... : the files of the libraries call each other one way.

Reads each object file's defined and undefined symbols (nm), draws an edge
from a file to every file whose symbol it uses, and fails on
  - a call cycle among files (a strongly connected set of two or more:
    then neither file can be read, tested or owned without the other), and
  - an upward call: a library given earlier (a lower layer: runtime before
    http) using a symbol of one given later.
Prints each cycle with its edges.
"""
import subprocess, sys, collections
libs = sys.argv[1:]
defs = {}; uses = collections.defaultdict(set); lib_of = {}
for lib in libs:
    out = subprocess.run(["nm", "-A", "--format=posix", lib], capture_output=True, text=True).stdout
    for line in out.splitlines():
        # "lib.a[obj.o]: name T value size"
        head, _, rest = line.partition(": ")
        if "[" not in head:
            continue
        obj = head[head.index("[") + 1:-1]
        lib_of[obj] = lib
        uses.setdefault(obj, set())
        f = rest.split()
        if len(f) < 2:
            continue
        name, t = f[0], f[1]
        if t == "U":
            uses[obj].add(name)
        elif t.isupper():
            defs[name] = obj
graph = {o: sorted({defs[s] for s in us if s in defs and defs[s] != o}) for o, us in uses.items()}
for o in lib_of: graph.setdefault(o, [])
# Tarjan
idx = {}; low = {}; st = []; on = set(); sccs = []; n = [0]
sys.setrecursionlimit(10000)  # one frame per file: plenty
def sc(v):
    idx[v] = low[v] = n[0]; n[0] += 1; st.append(v); on.add(v)
    for w in graph[v]:
        if w not in idx: sc(w); low[v] = min(low[v], low[w])
        elif w in on: low[v] = min(low[v], idx[w])
    if low[v] == idx[v]:
        comp = []
        while True:
            w = st.pop(); on.discard(w); comp.append(w)
            if w == v: break
        sccs.append(comp)
for v in sorted(graph):
    if v not in idx: sc(v)
bad = 0
for comp in sccs:
    if len(comp) > 1:
        bad = 1
        print("call cycle among:", " ".join(sorted(comp)))
        for a in sorted(comp):
            print("  ", a, "->", ", ".join(b for b in graph[a] if b in comp))
for o in sorted(graph):
    for t in graph[o]:
        if lib_of[o] != lib_of[t] and libs.index(lib_of[t]) > libs.index(lib_of[o]):
            print(f"upward call: {o} ({lib_of[o]}) -> {t} ({lib_of[t]})"); bad = 1
print(len(graph), "objects,", sum(len(v) for v in graph.values()), "file-to-file calls,", sum(1 for c in sccs if len(c) > 1), "cycles")
sys.exit(bad)
