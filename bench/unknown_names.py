#!/usr/bin/env python
# Copyright (c) 2026, vbem.enterprise_manager contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""What unknown names cost (issue 16): the suggestion search, and the gate's peak RSS over 5,000 names.

    python bench/unknown_names.py [--no-rss]

1. Suggestions: 5,000 unknown names against 5,000 known ones shaped like the
   emulator's (web-01 ... k8s-node-417, a dense estate), in three shapes
   (one typo and a case change; a suffix; random strings). For each: the trie
   rows ``suggest.NameIndex`` computed (its unit of work; ``ROW_BUDGET``
   bounds it), the names served before the budget ran out, the CPU seconds,
   and the ratio of the index's CPU to comparing every pair (measured on the
   first 200 names with ``suggest.distance``, bounded, and scaled): a ratio
   of two measurements of one run, never a time limit.
2. RSS: the bundled emulator (bench/run.py's S2 data set: 500 VMs backed
   up) and one ``vm_protection_info`` call over 5,000 names (the 500 VMs,
   then 4,500 names EM does not know, half of them a typo away from a VM)
   with ``sources: [backup, restore_point]`` and with ``[backup]``: the peak
   RSS of the largest process Ansible ran (``wait4``), EM requests and logons.
   Target: under 300 MB.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import argparse
import json
import os
import random
import shutil
import sys
import tempfile
import time

BENCH = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(BENCH), 'plugins', 'module_utils'))
sys.path.insert(0, BENCH)

import suggest  # noqa: E402  pylint: disable=wrong-import-position
import run  # noqa: E402  pylint: disable=wrong-import-position

PREFIXES = ('web', 'app', 'db', 'sql', 'fs', 'dc', 'exch', 'k8s-node', 'proxy', 'erp', 'crm', 'mon')
SAMPLE = 200


def typo(rng, name):
    i = rng.randrange(len(name))
    char = rng.choice('abcdefghijklmnopqrstuvwxyz0123456789-')
    return (name[:i] + char + name[i + 1:], name[:i] + name[i + 1:], name[:i] + char + name[i:])[rng.randrange(3)]


def suggestion_cost():
    rng = random.Random(16)
    known = ['%s-%02d' % (PREFIXES[i % 12], i // 12 + 1) for i in range(5000)]
    shapes = [
        ('typo, upper case', [typo(rng, name).upper() for name in known]),
        ('suffix z', [name + 'z' for name in known]),
        ('random', [''.join(rng.choice('abcdefghijklmnopqrstuvwxyz-0123456789') for _unused in range(rng.randint(5, 20)))
                    for _unused in range(5000)]),
    ]
    rows = []
    for label, unknown in shapes:
        unknown = [name for name in unknown if name not in set(known)]
        index = suggest.NameIndex(known)
        started = time.process_time()
        answers = [index.suggest(name) for name in unknown]
        spent = time.process_time() - started
        served = sum(1 for answer in answers if answer is not None)
        # Every pair, for the first SAMPLE names, scaled to the names the index served.
        started = time.process_time()
        folded = [k.casefold() for k in known]
        for name in unknown[:SAMPLE]:
            target = name.casefold()
            for other in folded:
                suggest.distance(target, other, suggest.max_distance(name))
        pairs = (time.process_time() - started) / SAMPLE * served
        rows.append({'shape': label, 'unknown': len(unknown), 'known': len(known), 'rows': index.rows,
                     'rows_per_served_name': round(index.rows / max(served, 1), 1), 'served': served,
                     'with_suggestions': sum(1 for answer in answers if answer), 'cpu_s': round(spent, 3),
                     'every_pair_cpu_s_est': round(pairs, 2), 'index_over_every_pair': round(spent / pairs, 4) if pairs else None})
    return rows


def gate_rss(scratch):
    emulator = run.Emulator(run.SMALL, scratch)
    bench = run.Bench(scratch, 1)
    try:
        catalog = emulator.control('catalog')
        vms = []
        for job in catalog['jobs']:
            if job['type'] == 'Backup':
                vms.extend(vm for vm in job['vms'] if vm not in vms)
        rng = random.Random(8)
        names = list(vms)
        while len(names) < 5000:
            source = rng.choice(vms)
            candidate = (typo(rng, source) if len(names) % 2 else 'absent-{0:05d}.corp.example.com'.format(len(names)))
            if candidate.casefold() not in set(n.casefold() for n in names[-50:]) and candidate not in vms:
                names.append(candidate)
        names_file = os.path.join(scratch, 'names.json')
        with open(names_file, 'w') as handle:
            json.dump(names, handle)
        rows = []
        for sources in (['backup', 'restore_point'], ['backup']):
            emulator.prepare(0)
            wall, rss, rc, events, log = bench.playbook(emulator, 'gate_names.yml', extra={
                'names_file': names_file, 'gate_sources': sources})
            stats = emulator.control('stats')
            with open(log) as handle:
                text = handle.read()
            summary = text[text.find('"msg": {'):][:400] if rc == 0 else text[-2000:]
            rows.append({'sources': sources, 'names': len(names), 'peak_rss_mb': round(rss, 1), 'wall_s': round(wall, 1),
                         'rc': rc, 'em_requests': stats['requests_total'], 'logons': stats['logons'],
                         'summary': ' '.join(summary.split())})
        return rows
    finally:
        emulator.stop()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--no-rss', action='store_true', help='only the suggestion search (no emulator, no Ansible)')
    options = parser.parse_args()
    print('suggestions: 5,000 unknown names against 5,000 known (row budget {0})'.format(suggest.ROW_BUDGET))
    for row in suggestion_cost():
        print('  ' + json.dumps(row))
    if not options.no_rss:
        scratch = tempfile.mkdtemp(prefix='vbem-bench-unknown.')
        try:
            print('gate over 5,000 names, peak RSS (target < 300 MB)')
            for row in gate_rss(scratch):
                print('  ' + json.dumps(row))
        finally:
            shutil.rmtree(scratch, ignore_errors=True)


if __name__ == '__main__':
    main()
