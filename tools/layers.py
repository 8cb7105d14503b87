#!/usr/bin/env python3
"""layers.py - check that libpfi's dependencies point one way.

    tools/layers.py SRCDIR [LIBDIR]

Reads two graphs of lib/: the includes of every lib/*.c and lib/*.h
(from SRCDIR), and, when LIBDIR (a build's lib/ directory) is given, the
calls between the objects of libpfi-core.a (from `nm`: the file that uses
a symbol calls the file that defines it).  Every file belongs to one layer
below; an edge may only go to a lower layer or stay within one, the write
side and the read side never reach each other, and neither graph may have
a cycle of files.  A file missing from LAYERS is an error too, so a new
file is placed deliberately.  Prints what is wrong and exits 1, or says
how many edges it checked and exits 0.
"""
import os
import re
import subprocess
import sys

# The pipeline, bottom up.  The write side and the read side share rank 6
# and may not reach each other; both sit on the store layer.
LAYERS = {
    'base': (0, 'pfi.h pfi-int.h error.c buf.c addr.c version.c time.c '
                'scan.h hash.h htab.h htab.c smap.h smap.c'),
    'read': (1, 'read-int.h read-source.c read.c read-gzip.c read-zstd.c '
                'read-xz.c read-bz2.c read-journal.h read-journal.c'),
    'syslog': (2, 'syslog.c'),
    'postfix': (3, 'postfix.c postfix-kv.c problems.c verdict.c'),
    'correlate': (4, 'correlate.h correlate.c'),
    'store': (5, 'store.h store.c store-open.c store-cols.h store-cols.c '
                 'store-schema.h store-schema.c store-lines.h store-lines.c '
                 'counted.h counted.c'),
    'write': (6, 'write.h write.c write-messages.c write-chunks.c write-counts.c '
                 'write-sessions.c write-verdicts.c write-links.c write-merge.c write-rollup.c '
                 'write-schema.c write-overlap.h write-overlap.c write-runs.h write-runs.c '
                 'index.h index.c index-journal.c prune.c'),
    'query': (6, 'filter.c search.c trace.c verdicts.h verdicts.c info.c stats-int.h stats.c '
                 'stats-more.c stats-verdicts.c metrics.c complete.c sql.c'),
    'api': (7, 'open.c output.c'),
}
SIDES = ('write', 'query')


def layer_of():
    out = {}
    for name, (rank, files) in LAYERS.items():
        for f in files.split():
            out[f] = (name, rank)
    return out


def include_edges(libdir):
    edges = []
    for f in sorted(os.listdir(libdir)):
        if not f.endswith(('.c', '.h')):
            continue
        with open(os.path.join(libdir, f), encoding='utf-8') as fp:
            for line in fp:
                m = re.match(r'\s*#\s*include\s+"([^"]+)"', line)
                if m and m.group(1) != 'config.h':
                    edges.append((f, m.group(1), 'includes'))
    return edges


def call_edges(builddir):
    archive = os.path.join(builddir, '.libs', 'libpfi-core.a')
    members = subprocess.run(['ar', 't', archive], capture_output=True,
                             text=True, check=True).stdout.split()
    defs, uses = {}, {}
    for mem in members:
        src = re.sub(r'^libpfi_core_la-', '', mem)[:-2] + '.c'
        nm = subprocess.run(['nm', os.path.join(builddir, '.libs', mem)],
                            capture_output=True, text=True, check=True)
        uses[src] = set()
        for line in nm.stdout.splitlines():
            p = line.split()
            if len(p) == 3 and p[1] in 'TDRB':
                defs[p[2]] = src
            elif len(p) == 2 and p[0] == 'U':
                uses[src].add(p[1])
    edges = []
    for src, syms in uses.items():
        for s in sorted(syms):
            if s in defs and defs[s] != src:
                edges.append((src, defs[s], 'calls ' + s))
    return edges


def check(edges, where, layers):
    errors = []
    graph = {}
    for a, b, why in edges:
        for f in (a, b):
            if f not in layers:
                errors.append('%s: %s has no layer in tools/layers.py'
                              % (where, f))
                layers[f] = ('?', -1)
        (la, ra), (lb, rb) = layers[a], layers[b]
        if rb > ra or (la != lb and {la, lb} == set(SIDES)):
            errors.append('%s: %s (%s) %s in %s (%s): against the layers'
                          % (where, a, la, why, b, lb))
        graph.setdefault(a, set()).add(b)
    errors += cycles(graph, where)
    return errors


def cycles(graph, where):
    """Each cycle of files, once, found by depth-first search."""
    errors, state, stack = [], {}, []

    def visit(n):
        state[n] = 1
        stack.append(n)
        for m in sorted(graph.get(n, ())):
            if state.get(m) == 1:
                loop = stack[stack.index(m):] + [m]
                errors.append('%s: cycle %s' % (where, ' -> '.join(loop)))
            elif m not in state:
                visit(m)
        stack.pop()
        state[n] = 2

    for n in sorted(graph):
        if n not in state:
            visit(n)
    return errors


def main(argv):
    if len(argv) not in (2, 3):
        sys.stderr.write('usage: layers.py SRCDIR [BUILD-LIBDIR]\n')
        return 2
    layers = layer_of()
    edges = include_edges(os.path.join(argv[1], 'lib'))
    errors = check(edges, 'includes', layers)
    n = len(edges)
    if len(argv) == 3:
        calls = call_edges(argv[2])
        errors += check(calls, 'calls', layers)
        n += len(calls)
    for e in errors:
        print(e)
    if errors:
        return 1
    print('layers: %d include and call edges, all downward, no cycle' % n)
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
