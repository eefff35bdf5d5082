# -*- coding: utf-8 -*-
# Copyright (c) 2026, vbem.enterprise_manager contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""``make bench``: the collection against its alternatives and its floors, side by side.

Starts the bundled emulator at a fixed seed, size and time, runs every
contender of a scenario in alternating rounds (the order rotates each round,
so drift on a shared machine hits all alike), and prints one table: median
and spread of each contender's time, its ratio to the floor and to ``uri``,
the EM requests and logons it made (from ``/_emulator/stats``) and the peak
RSS of the largest process it ran. The same goes to
``bench/results/bench-<time>.json`` (and ``latest.json``).

    python bench/run.py [--only S1,S2,S3,WAN,LOGON,QB,QR] [--rounds N] [--hosts 200,500]

See bench/README.md for what each scenario measures and the targets.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import argparse
import datetime
import json
import os
import platform
import shutil
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

BENCH = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(BENCH)
PLAYBOOKS = os.path.join(BENCH, 'playbooks')
RESULTS = os.path.join(BENCH, 'results')

SEED = 8
# The data's shape depends on the seed and size only (the same VMs, jobs and
# session counts whatever --now is), but the gate judges ages against the real
# clock (max_age 24h, a 30-day look back), so the data must be recent: today's
# midnight UTC, fixed for the day.
NOW = datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%dT00:00:00Z')
# Seed 8: 10,408 backup task sessions of 500 VMs; and 101,7xx of 3,500 VMs.
SMALL = ['--sessions', '14300', '--vms', '500']
LARGE = ['--sessions', '140000']
WAN_LATENCY_MS = 50
PAGE_SIZE = 1000  # the floor's and uri's page size: what the collection's default page size is
MAX_LOGONS = 600  # room for per-host uri at 500 hosts (it holds up to `forks` logons at once)
# QB: 20 VMs in 4 jobs, each quick backup taking QB_DURATION seconds in the emulator.
QB_JOBS = 4
QB_PER_JOB = 5
QB_DURATION = 5.0
# QR: the remediating gate over QR_HOSTS hosts, QR_JOBS x QR_PER_JOB of them needing a backup, QR_DURATION s each.
QR_HOSTS = 500
QR_JOBS = 4
QR_PER_JOB = 5
QR_DURATION = 5.0
# (remediating - plain gate) / backups' lower bound: the backups dominate when the rest (polls a second
# apart after each of a job's serial backups, the second judgement, Ansible's loop over the batch) stays
# within half of the backups' own time.
QR_OVERHEAD = 1.5
# What an audit of every session needs: the module in S3 also runs with only these keys.
AUDIT_FIELDS = ['vm_name', 'job_name', 'result', 'end_time']


class Emulator(object):
    """The bundled EM emulator in a child process, and its control endpoints."""

    def __init__(self, args, scratch):
        self.log = open(os.path.join(scratch, 'emulator-%d.log' % int(time.time() * 1000)), 'w')
        command = [sys.executable, os.path.join(REPO, 'tests', 'emulator'), '--port', '0', '--seed', str(SEED), '--now', NOW,
                   '--max-logon-sessions', str(MAX_LOGONS)] + list(args)
        self.process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=self.log, universal_newlines=True)
        line = self.process.stdout.readline()
        if not line:
            raise SystemExit('bench: the emulator did not start: ' + ' '.join(command))
        self.info = json.loads(line)
        self.context = ssl.create_default_context(cafile=self.info['ca_file'])
        self.env = {
            'VEEAM_EM_URL': self.info['url'], 'VEEAM_EM_USERNAME': self.info['username'],
            'VEEAM_EM_PASSWORD': self.info['password'], 'VEEAM_EM_CA_PATH': self.info['ca_file'],
        }

    def control(self, path, body=None, method=None):
        data = None if body is None else json.dumps(body).encode('utf-8')
        request = urllib.request.Request(self.info['url'] + '/_emulator/' + path, data=data, method=method,
                                         headers={'Content-Type': 'application/json'})
        with urllib.request.urlopen(request, context=self.context, timeout=30) as answer:
            return json.loads(answer.read().decode('utf-8') or 'null')

    def prepare(self, latency_ms):
        """Forget counters and sessions, then set the scenario's latency."""
        self.control('reset', {}, 'POST')
        if latency_ms:
            self.control('faults', {'latency_ms': latency_ms}, 'POST')

    def stop(self):
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.log.close()


def run_measured(command, env, log_path):
    """Run a command; return (wall seconds, peak RSS in MB of its largest process, exit code).

    ``os.wait4`` reports the maximum RSS over the child and every descendant
    it reaped: Ansible's workers and the module processes they ran.
    """
    with open(log_path, 'w') as log:
        started = time.monotonic()
        process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=BENCH)
        _pid, status, usage = os.wait4(process.pid, 0)
        wall = time.monotonic() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    return wall, usage.ru_maxrss / 1024.0, process.returncode


def read_events(path):
    events = []
    if os.path.exists(path):
        with open(path) as handle:
            events = [json.loads(line) for line in handle if line.strip()]
    return events


def task_spans(events):
    """{task name: seconds from its start to its last result}, plus the play span under None."""
    starts, ends, order = {}, {}, []
    play_start = play_end = None
    for event in events:
        if event['event'] == 'play_start' and play_start is None:
            play_start = event['t']
        elif event['event'] == 'play_end':
            play_end = event['t']
        elif event['event'] == 'task_start':
            starts[event['uuid']] = (event['name'], event['t'])
            order.append(event['uuid'])
        elif event['event'] == 'result':
            ends[event['uuid']] = max(ends.get(event['uuid'], 0), event['t'])
    spans = {}
    for uuid in order:
        name, start = starts[uuid]
        if uuid in ends:
            spans[name] = ends[uuid] - start
    spans[None] = (play_end - play_start) if play_start is not None and play_end is not None else None
    return spans


def report(events):
    for event in events:
        if event.get('data') is not None:
            return event['data']
    return {}


def failed_tasks(events):
    return sorted(set(e['name'] for e in events if e['event'] == 'result' and e['status'] in ('failed', 'unreachable')))


class Bench(object):
    """Runs contenders and keeps every measurement."""

    def __init__(self, scratch, rounds):
        self.scratch = scratch
        self.rounds = rounds
        self.rows = []
        self.collections = os.path.join(scratch, 'collections')
        target = os.path.join(self.collections, 'ansible_collections', 'vbem')
        os.makedirs(target)
        # The working tree as the installed collection: what is measured is what is checked out.
        os.symlink(REPO, os.path.join(target, 'enterprise_manager'))
        self.counter = 0

    def ansible_env(self, emulator):
        env = dict(os.environ)
        env.update(emulator.env)
        env.update({
            'ANSIBLE_COLLECTIONS_PATH': self.collections,
            'ANSIBLE_CALLBACK_PLUGINS': os.path.join(BENCH, 'callback_plugins'),
            'ANSIBLE_CALLBACKS_ENABLED': 'bench_timing',
            'ANSIBLE_HOME': os.path.join(self.scratch, 'ansible-home'),
            'ANSIBLE_LOCAL_TEMP': os.path.join(self.scratch, 'ansible-tmp'),
            'ANSIBLE_RETRY_FILES_ENABLED': 'false',
            'ANSIBLE_LOCALHOST_WARNING': 'false',
            'ANSIBLE_NOCOLOR': 'true',
            'ANSIBLE_PYTHON_INTERPRETER': sys.executable,
            'ANSIBLE_CONFIG': os.path.join(self.scratch, 'none.cfg'),
        })
        env.pop('VEEAM_EM_SESSION_TOKEN', None)
        return env

    def playbook(self, emulator, playbook, inventory=None, extra=None):
        """Run one playbook; returns (wall, rss, rc, events, log path)."""
        self.counter += 1
        events_path = os.path.join(self.scratch, 'events-%d.jsonl' % self.counter)
        log_path = os.path.join(self.scratch, 'run-%d-%s.log' % (self.counter, os.path.splitext(playbook)[0]))
        env = self.ansible_env(emulator)
        env['BENCH_EVENTS'] = events_path
        command = [os.path.join(os.path.dirname(sys.executable), 'ansible-playbook'),
                   '-i', inventory or 'localhost,', '-c', 'local', os.path.join(PLAYBOOKS, playbook)]
        for key, value in sorted((extra or {}).items()):
            command += ['-e', '{0}={1}'.format(key, value) if isinstance(value, str) else json.dumps({key: value})]
        wall, rss, rc = run_measured(command, env, log_path)
        return wall, rss, rc, read_events(events_path), log_path

    def floor(self, emulator):
        self.counter += 1
        log_path = os.path.join(self.scratch, 'run-%d-floor.log' % self.counter)
        wall, rss, rc = run_measured([sys.executable, os.path.join(BENCH, 'floor.py'), str(PAGE_SIZE)], self.ansible_env(emulator), log_path)
        with open(log_path) as handle:
            lines = [line for line in handle.read().splitlines() if line.startswith('{')]
        data = json.loads(lines[-1]) if lines else {}
        return wall, rss, rc, data, log_path

    def scenario(self, name, emulator, contenders, latency_ms=0, floor_name='floor', uri_name='uri', rounds=None):
        """Run every contender ``rounds`` times, alternating, and record one row per contender.

        A contender is ``(name, function, rounds or None)``; the function runs it
        once and returns a dict with ``seconds`` (its measure), ``wall``, ``rss``,
        ``count`` and ``ok``. A contender with its own round count (the slow
        per-host baselines) runs only in the first rounds.
        """
        samples = dict((c[0], []) for c in contenders)
        for index in range(rounds or self.rounds):
            shift = index % len(contenders)
            for contender, function, own_rounds in contenders[shift:] + contenders[:shift]:
                if own_rounds is not None and len(samples[contender]) >= own_rounds:
                    continue
                emulator.prepare(latency_ms)
                measured = function()
                stats = emulator.control('stats')
                measured['requests'] = stats['requests_total']
                measured['logons'] = stats['logons']
                measured['leaked_logons'] = stats['logons'] - stats['logoffs'] - stats['expired_sessions']
                samples[contender].append(measured)
                print('  {0:<6} {1:<22} {2:>8.2f} s  (wall {3:.2f} s{4})'.format(
                    name, contender, measured['seconds'] if measured['seconds'] is not None else float('nan'), measured['wall'],
                    '' if measured['ok'] else ', FAILED: ' + measured.get('error', '')), flush=True)
        medians = dict((c, _median([s['seconds'] for s in runs])) for c, runs in samples.items())
        for contender, _function, _rounds in contenders:
            runs = samples[contender]
            seconds = [s['seconds'] for s in runs if s['seconds'] is not None]
            row = {
                'scenario': name, 'contender': contender, 'latency_ms': latency_ms, 'n': len(runs),
                'median_s': medians[contender], 'min_s': min(seconds) if seconds else None, 'max_s': max(seconds) if seconds else None,
                'wall_median_s': _median([s['wall'] for s in runs]),
                'x_floor': _ratio(medians[contender], medians.get(floor_name)),
                'x_uri': _ratio(medians[contender], medians.get(uri_name)),
                'requests': _median([s['requests'] for s in runs]), 'logons': _median([s['logons'] for s in runs]),
                'leaked_logons': max(s['leaked_logons'] for s in runs),
                'peak_rss_mb': max(s['rss'] for s in runs), 'count': runs[-1].get('count'),
                'ok': all(s['ok'] for s in runs), 'samples': runs,
            }
            self.rows.append(row)
        return dict((row['contender'], row) for row in self.rows if row['scenario'] == name)


def _median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def _ratio(value, base):
    if value is None or not base:
        return None
    return value / base


# -- contenders ---------------------------------------------------------------

def floor_contender(bench, emulator):
    def run():
        wall, rss, rc, data, log = bench.floor(emulator)
        return {'seconds': data.get('seconds'), 'wall': wall, 'rss': rss, 'count': data.get('count'), 'ok': rc == 0, 'log': log,
                'error': '' if rc == 0 else 'see ' + log}
    return run


def lookup_contender(bench, emulator, fields=None):
    def run():
        wall, rss, rc, events, log = bench.playbook(emulator, 'scan_lookup.yml', extra={'bench_options': {'fields': fields}} if fields else None)
        data = report(events)
        spans = task_spans(events)
        return {'seconds': _float(data.get('own')), 'wall': wall, 'rss': rss, 'count': _int(data.get('count')),
                'task_s': spans.get('Scan every backup task session'), 'ok': rc == 0, 'log': log, 'error': _error(rc, events, log)}
    return run


def module_contender(bench, emulator, fields=None):
    def run():
        wall, rss, rc, events, log = bench.playbook(emulator, 'scan_module.yml', extra={'bench_fields': fields} if fields else None)
        spans = task_spans(events)
        task = spans.get('Scan every backup task session')
        empty = min([s for s in (spans.get('Empty module task before'), spans.get('Empty module task after')) if s is not None] or [None])
        own = task - empty if task is not None and empty is not None else None
        return {'seconds': own, 'wall': wall, 'rss': rss, 'count': _int(report(events).get('count')), 'task_s': task,
                'empty_module_s': empty, 'ok': rc == 0, 'log': log, 'error': _error(rc, events, log)}
    return run


def uri_scan_contender(bench, emulator):
    def run():
        wall, rss, rc, events, log = bench.playbook(emulator, 'scan_uri.yml', extra={'bench_page_size': PAGE_SIZE})
        spans = task_spans(events)
        names = ('Log on', 'Read the first page', 'Read the other pages', 'Collect the sessions', 'Log off')
        own = sum(spans.get(n) or 0 for n in names) if all(n in spans for n in names) else None
        return {'seconds': own, 'wall': wall, 'rss': rss, 'count': _int(report(events).get('count')), 'ok': rc == 0, 'log': log,
                'error': _error(rc, events, log)}
    return run


def play_contender(bench, emulator, playbook, inventory=None, extra=None):
    """A per-host play: its measure is the play's span (first task start to the last result)."""
    def run():
        wall, rss, rc, events, log = bench.playbook(emulator, playbook, inventory=inventory, extra=extra)
        spans = task_spans(events)
        data = report(events)
        return {'seconds': spans.get(None), 'wall': wall, 'rss': rss, 'count': _int(data.get('count')), 'report': data,
                'tasks': dict((k, v) for k, v in spans.items() if k is not None), 'ok': rc == 0, 'log': log,
                'error': _error(rc, events, log)}
    return run


def _float(value):
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _int(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _error(rc, events, log):
    if rc == 0:
        return ''
    failed = failed_tasks(events)
    return 'exit {0}, failed: {1}; see {2}'.format(rc, ', '.join(failed) or '-', log)


def write_inventory(path, emulator, hosts):
    """An inventory of ``hosts`` local hosts, each with the name of one VM the emulator backs up."""
    catalog = emulator.control('catalog')
    vms = []
    for job in catalog['jobs']:
        if job['type'] == 'Backup':
            vms.extend(vm for vm in job['vms'] if vm not in vms)
    if len(vms) < hosts:
        raise SystemExit('bench: the emulator backs up {0} VMs, fewer than the {1} hosts asked for'.format(len(vms), hosts))
    inventory = {'bench_hosts': {'hosts': dict(('host%04d' % (i + 1), {'bench_vm': vms[i], 'backup_gate_vm_name': vms[i]})
                                               for i in range(hosts)),
                                 'vars': {'ansible_connection': 'local', 'ansible_python_interpreter': sys.executable}}}
    with open(path, 'w') as handle:
        json.dump(inventory, handle, ensure_ascii=False)
    return [vms[i] for i in range(hosts)]


# -- scenarios ----------------------------------------------------------------

def scan_scenario(bench, emulator, name, latency_ms=0, wan=False, rounds=None):
    """S1, or on the WAN its floor and lookup: the WAN target compares the latency they pay, uri has its LAN row."""
    contenders = [('floor', floor_contender(bench, emulator), None),
                  ('lookup', lookup_contender(bench, emulator), None)]
    if not wan:
        contenders.append(('module', module_contender(bench, emulator), None))
        contenders.append(('uri', uri_scan_contender(bench, emulator), 1))
    return bench.scenario(name, emulator, contenders, latency_ms, rounds=rounds)


ROLE_POINTS = 'role, backup+restore_point'


def gate_scenario(bench, emulator, name, hosts, latency_ms=0, slow_rounds=1, per_host_module=True, with_uri=True, rounds=None):
    """The role against per-host baselines; those run one host task after another for minutes, so only once."""
    inventory = os.path.join(bench.scratch, 'inventory-%d.json' % hosts)
    write_inventory(inventory, emulator, hosts)
    contenders = [('floor', play_contender(bench, emulator, 'gate_floor.yml', inventory), None),
                  ('role', play_contender(bench, emulator, 'gate_role.yml', inventory), None),
                  # Issue 16: sessions and restore points together (one logon, one query more per source and split).
                  (ROLE_POINTS, play_contender(bench, emulator, 'gate_role.yml', inventory,
                                               extra={'backup_gate_sources': ['backup', 'restore_point']}), None)]
    if per_host_module:
        contenders.append(('module per host', play_contender(bench, emulator, 'gate_module.yml', inventory), slow_rounds))
    if with_uri:
        contenders.append(('uri', play_contender(bench, emulator, 'gate_uri.yml', inventory), slow_rounds))
    return bench.scenario(name, emulator, contenders, latency_ms, rounds=rounds)


def quick_backup_scenario(bench, emulator, name, duration, jobs=QB_JOBS, per_job=QB_PER_JOB, rounds=None):
    """``jobs`` x ``per_job`` VMs backed up with quick_backup, each run taking ``duration`` s: measured against that duration."""
    catalog = emulator.control('catalog')
    running = set(row['job_name'] for row in catalog['running'])
    chosen = [job for job in catalog['jobs'] if job['type'] == 'Backup' and job['name'] not in running and len(job['vms']) >= per_job]
    if len(chosen) < jobs:
        raise SystemExit('bench: the emulator has {0} idle backup jobs with {1} VMs, fewer than {2}'.format(len(chosen), per_job, jobs))
    vms = [vm for job in chosen[:jobs] for vm in job['vms'][:per_job]]
    vm_file = os.path.join(bench.scratch, 'quick-backup-vms.json')
    with open(vm_file, 'w') as handle:
        json.dump(vms, handle, ensure_ascii=False)
    # Polls a twentieth of a run apart: the wait after each run ends stays small beside the run itself.
    play = play_contender(bench, emulator, 'quick_backup.yml',
                          extra={'bench_vm_file': vm_file, 'bench_poll_interval': str(duration / 20.0)})

    def run():
        before = len(emulator.control('actions')['actions'])
        measured = play()
        log = emulator.control('actions')['actions'][before:]
        measured['runs'] = len(log)
        measured['ok'] = measured['ok'] and len(log) == len(vms) and measured['count'] == len(vms)
        measured['x_duration'] = measured['seconds'] / duration if measured['seconds'] is not None else None
        return measured
    rows = bench.scenario(name, emulator, [('quick_backup', run, None)], floor_name=None, uri_name=None, rounds=rounds)
    row = rows['quick_backup']
    row['x_duration'] = _ratio(row['median_s'], duration)
    row['duration_s'] = duration
    row['vms'] = len(vms)
    row['jobs'] = jobs
    return rows


def remediate_scenario(bench, emulator, name, duration, hosts=QR_HOSTS, jobs=QR_JOBS, per_job=QR_PER_JOB, rounds=None):
    """The gate over ``hosts`` hosts, ``jobs`` x ``per_job`` of them with a failed latest backup, remediating or not.

    Every other host's VM gets a good backup first, so only the chosen hosts can
    fail. Before each run every chosen VM gets a new failed backup session (newer
    than the quick backup of the run before), so each run judges, backs up and
    judges again the same hosts. The backups' lower bound is ``per_job`` x ``duration``:
    EM runs the VMs of one job one after the other.
    """
    inventory = os.path.join(bench.scratch, 'inventory-qr-%d.json' % hosts)
    names = set(write_inventory(inventory, emulator, hosts))
    catalog = emulator.control('catalog')
    running = set(row['job_name'] for row in catalog['running'])
    taken, chosen = set(), []
    for job in catalog['jobs']:
        if job['type'] != 'Backup' or job['name'] in running:
            continue
        vms = [vm for vm in job['vms'] if vm in names and vm not in taken]
        if len(vms) >= per_job:
            chosen.append((job['name'], vms[:per_job]))
            taken.update(vms[:per_job])
        if len(chosen) == jobs:
            break
    if len(chosen) < jobs:
        raise SystemExit('bench: the emulator has {0} idle backup jobs with {1} of the hosts\' VMs, fewer than {2}'.format(
            len(chosen), per_job, jobs))
    count = jobs * per_job
    # The seeded data holds other failed, old and running backups: a fresh good backup of every other host's
    # VM makes the chosen ones the only hosts a backup can fix, in every run alike (the quick backups would
    # otherwise fix the others in the first remediating run only, and a running job refuses them).
    for vm in sorted(names - taken):
        emulator.control('sessions', {'type': 'BackupTaskSession', 'vm_name': vm, 'result': 'Success', 'created': 'now'})
    remediating = play_contender(bench, emulator, 'gate_remediate.yml', inventory, extra={'bench_remediate': 'quick_backup'})
    plain = play_contender(bench, emulator, 'gate_remediate.yml', inventory, extra={'bench_remediate': 'none'})

    def contender(play, backups):
        def run():
            for job_name, vms in chosen:
                for vm in vms:
                    emulator.control('sessions', {'type': 'BackupTaskSession', 'vm_name': vm, 'job_name': job_name,
                                                  'result': 'Failed', 'created': 'now'})
            before = len(emulator.control('actions')['actions'])
            measured = play()
            measured['runs'] = len(emulator.control('actions')['actions'][before:])
            remediated = _int(measured['report'].get('remediated'))
            # Every host passes after the backups; without them the chosen ones are held back, and no backup runs.
            expected = hosts if backups else hosts - count
            measured['ok'] = measured['ok'] and measured['runs'] == (count if backups else 0) and measured['count'] == expected \
                and remediated == (count if backups else 0)
            if not measured['ok'] and not measured.get('error'):
                measured['error'] = 'backups {0}, passing hosts {1}, remediated {2}: expected {3}, {4}, {5}'.format(
                    measured['runs'], measured['count'], remediated, count if backups else 0, expected, count if backups else 0)
            return measured
        return run
    rows = bench.scenario(name, emulator, [('remediating', contender(remediating, True), None),
                                           ('plain gate', contender(plain, False), None)],
                          floor_name='plain gate', uri_name=None, rounds=rounds)
    bound = per_job * duration
    for row in rows.values():
        row.update({'duration_s': duration, 'hosts': hosts, 'backups': count, 'jobs': jobs, 'bound_s': bound})
    remediating_row, plain_row = rows['remediating'], rows['plain gate']
    if remediating_row['median_s'] is not None and plain_row['median_s'] is not None:
        remediating_row['x_bound'] = (remediating_row['median_s'] - plain_row['median_s']) / bound
    bench.rows.append({'scenario': name, 'contender': 'backups lower bound', 'latency_ms': 0, 'n': 0, 'median_s': bound,
                       'min_s': None, 'max_s': None, 'wall_median_s': None, 'x_floor': _ratio(bound, plain_row['median_s']),
                       'x_uri': None, 'requests': None, 'logons': None, 'leaked_logons': 0, 'peak_rss_mb': None,
                       'count': count, 'ok': True, 'samples': []})
    return rows


def logon_scenario(bench, emulator, name, latency_ms=0, tasks=50, rounds=None):
    vm_file = os.path.join(bench.scratch, 'logon-vms.json')
    with open(vm_file, 'w') as handle:
        json.dump(write_inventory(os.path.join(bench.scratch, 'inventory-logon.json'), emulator, tasks), handle, ensure_ascii=False)
    contenders = [('one token', play_contender(bench, emulator, 'logon_reuse.yml', extra={'bench_reuse': 'true', 'bench_vm_file': vm_file}), None),
                  ('logon each', play_contender(bench, emulator, 'logon_reuse.yml', extra={'bench_reuse': 'false', 'bench_vm_file': vm_file}), None)]
    return bench.scenario(name, emulator, contenders, latency_ms, floor_name='one token', uri_name=None, rounds=rounds)


# -- output -------------------------------------------------------------------

COLUMNS = (('scenario', '{0}'), ('contender', '{0}'), ('n', '{0}'), ('median_s', '{0:.2f}'), ('spread_s', '{0}'),
           ('x_floor', '{0:.2f}'), ('x_uri', '{0:.3f}'), ('requests', '{0:.0f}'), ('logons', '{0:.0f}'),
           ('peak_rss_mb', '{0:.0f}'), ('wall_median_s', '{0:.2f}'))


def table(rows):
    lines = []
    header = ['scenario', 'contender', 'n', 'median s', 'min-max s', 'x floor', 'x uri', 'EM req', 'logons', 'RSS MB', 'wall s']
    body = []
    for row in rows:
        cells = []
        for key, fmt in COLUMNS:
            if key == 'spread_s':
                value = '-' if row['min_s'] is None else '{0:.2f}-{1:.2f}'.format(row['min_s'], row['max_s'])
            else:
                value = row.get(key)
                value = '-' if value is None else fmt.format(value)
            cells.append(value)
        if not row['ok']:
            cells[1] += ' (FAILED)'
        if row['leaked_logons']:
            cells[1] += ' (LEAKED %d)' % row['leaked_logons']
        body.append(cells)
    widths = [max(len(r[i]) for r in [header] + body) for i in range(len(header))]
    for cells in [header] + body:
        lines.append('  '.join(c.ljust(w) if i < 2 else c.rjust(w) for i, (c, w) in enumerate(zip(cells, widths))))
    lines.insert(1, '-' * len(lines[0]))
    return '\n'.join(lines)


def targets(rows):
    """Each target of issue 8 as (text, value, holds)."""
    by = dict(((r['scenario'], r['contender']), r) for r in rows)

    def get(scenario, contender, key='median_s'):
        row = by.get((scenario, contender))
        return row.get(key) if row else None

    checks = []

    def check(text, value, limit, above=False):
        if value is None:
            checks.append((text, None, None))
            return
        checks.append((text, value, value >= limit if above else value <= limit))

    check('S1 lookup own work / floor <= 1.5', get('S1', 'lookup', 'x_floor'), 1.5)
    check('S1 module own work / floor <= 2', get('S1', 'module', 'x_floor'), 2.0)
    check('S1 uri / lookup >= 5', _ratio(get('S1', 'uri'), get('S1', 'lookup')), 5.0, above=True)
    check('S1 uri / module >= 5', _ratio(get('S1', 'uri'), get('S1', 'module')), 5.0, above=True)
    lan_floor, wan_floor = get('S1', 'floor'), get('WAN-S1', 'floor')
    lan_lookup, wan_lookup = get('S1', 'lookup'), get('WAN-S1', 'lookup')
    if None not in (lan_floor, wan_floor, lan_lookup, wan_lookup):
        check('WAN lookup latency paid / floor latency paid <= 0.5', _ratio(wan_lookup - lan_lookup, wan_floor - lan_floor), 0.5)
    for scenario in sorted(set(r['scenario'] for r in rows if r['scenario'].startswith(('S2', 'WAN-S2')))):
        uri, label = get(scenario, 'uri'), '{0} uri / role >= 20'.format(scenario)
        if uri is None and scenario.startswith('WAN-'):
            uri, label = get(scenario[4:], 'uri'), '{0} uri (LAN, a lower bound) / role >= 20'.format(scenario)
        check(label, _ratio(uri, get(scenario, 'role')), 20.0, above=True)
        check('{0} role / Ansible floor <= 2'.format(scenario), get(scenario, 'role', 'x_floor'), 2.0)
        check('{0} role logons == 1'.format(scenario), get(scenario, 'role', 'logons'), 1.0)
        check('{0} {1} / Ansible floor <= 2.5'.format(scenario, ROLE_POINTS), get(scenario, ROLE_POINTS, 'x_floor'), 2.5)
        check('{0} {1} logons == 1'.format(scenario, ROLE_POINTS), get(scenario, ROLE_POINTS, 'logons'), 1.0)
    for contender in ('lookup', 'module', 'module, 4 fields'):
        check('S3 {0} peak RSS MB < 300'.format(contender), get('S3', contender, 'peak_rss_mb'), 300.0 - 1e-9)
        check('S3 {0} own work / floor <= 2'.format(contender), get('S3', contender, 'x_floor'), 2.0)
    qb = by.get(('QB', 'quick_backup'))
    if qb is not None:
        serial = QB_PER_JOB + 1
        check('QB quick_backup {0} VMs in {1} jobs / action duration <= {2}'.format(qb.get('vms'), qb.get('jobs'), serial),
              qb.get('x_duration'), float(serial))
        check('QB quick_backup logons == 1', qb.get('logons'), 1.0)
    qr = by.get(('QR', 'remediating'))
    if qr is not None:
        plain_logons = get('QR', 'plain gate', 'logons')
        check('QR remediating logons == 2 (one a phase)', qr.get('logons'), 2.0)
        check('QR judging logons (plain gate) == 1', plain_logons, 1.0)
        check('QR back up, judge again logons == 1', None if plain_logons is None else qr.get('logons') - plain_logons, 1.0)
        check('QR (remediating - plain gate) / backups bound <= {0:g}'.format(QR_OVERHEAD), qr.get('x_bound'), QR_OVERHEAD)
    check('WAN-LOGON one token: logons == 1', get('WAN-LOGON', 'one token', 'logons'), 1.0)
    check('WAN-LOGON one token / logon each (time)', get('WAN-LOGON', 'logon each', 'x_floor') and 1 / get('WAN-LOGON', 'logon each', 'x_floor'), 1.0)
    return checks


def main():
    parser = argparse.ArgumentParser(description='Benchmark the collection against its floors and uri (issue 8).')
    parser.add_argument('--only', default='S1,S2,S3,WAN,LOGON,QB,QR', help='comma-separated scenarios (default: all)')
    parser.add_argument('--qb-duration', type=float, default=QB_DURATION,
                        help='seconds each quick backup runs in the emulator in QB (default {0:g})'.format(QB_DURATION))
    parser.add_argument('--qr-duration', type=float, default=QR_DURATION,
                        help='seconds each quick backup runs in the emulator in QR (default {0:g})'.format(QR_DURATION))
    parser.add_argument('--rounds', type=int, default=3, help='alternating rounds of S1 (default 3)')
    parser.add_argument('--long-rounds', type=int, default=2,
                        help='rounds of the longer plays: S2 and WAN (default 2); WAN-LOGON and S3 run once')
    parser.add_argument('--hosts', default='200,500', help='S2 inventory sizes (default 200,500)')
    parser.add_argument('--s3-rounds', type=int, default=1, help='rounds of S3, the 100,000-session scan (default 1)')
    parser.add_argument('--no-per-host', action='store_true',
                        help='S2 without the per-host uri baseline (minutes of CPU): the role and the floor only')
    parser.add_argument('--per-host-module', action='store_true',
                        help='S2 at its smallest size also with one module call per host (about a minute more)')
    parser.add_argument('--keep', action='store_true', help='keep the scratch folder (playbook logs) and print its path')
    options = parser.parse_args()
    only = set(s.strip().upper() for s in options.only.split(','))
    hosts = [int(h) for h in options.hosts.split(',') if h.strip()]

    scratch = tempfile.mkdtemp(prefix='vbem-bench.')
    with open(os.path.join(scratch, 'none.cfg'), 'w') as handle:
        handle.write('[defaults]\n')
    bench = Bench(scratch, options.rounds)
    started = time.monotonic()
    emulators = []
    try:
        if only & set(('S1', 'S2', 'WAN', 'LOGON')):
            small = Emulator(SMALL, scratch)
            emulators.append(small)
            if 'S1' in only:
                print('S1: scan of every backup task session (limit=0)', flush=True)
                scan_scenario(bench, small, 'S1')
            if 'S2' in only:
                for count in hosts:
                    print('S2: gate over {0} hosts'.format(count), flush=True)
                    # Per-host module calls (opt-in) cost about a third of what per-host uri costs; at
                    # the smallest size they show the trend, and the time goes to the targets' contenders.
                    gate_scenario(bench, small, 'S2-{0}'.format(count), count, per_host_module=count == min(hosts) and options.per_host_module,
                                  with_uri=not options.no_per_host, rounds=options.long_rounds)
            if 'WAN' in only:
                print('WAN: S1 and S2 with {0} ms per request'.format(WAN_LATENCY_MS), flush=True)
                # The WAN target compares latency paid with the floor's; uri has its LAN row.
                scan_scenario(bench, small, 'WAN-S1', WAN_LATENCY_MS, wan=True, rounds=options.long_rounds)
                # Per-host uri pays three round trips a host where the role pays a handful in all, so
                # its LAN time is a lower bound of its WAN time: the WAN ratio uses it, and the
                # minutes go elsewhere.
                gate_scenario(bench, small, 'WAN-S2-{0}'.format(min(hosts)), min(hosts), WAN_LATENCY_MS, per_host_module=False,
                              with_uri=False, rounds=options.long_rounds)
            if 'LOGON' in only:
                # Over a LAN a logon costs EM a few milliseconds, lost in the noise of 50 module
                # runs; with latency each one costs two round trips.
                print('LOGON: 50 module tasks on one token against 50 logging on each time ({0} ms)'.format(WAN_LATENCY_MS), flush=True)
                logon_scenario(bench, small, 'WAN-LOGON', WAN_LATENCY_MS, rounds=1)
            small.stop()
            emulators.remove(small)
        if 'QB' in only:
            actions_emulator = Emulator(SMALL + ['--action-duration', str(options.qb_duration)], scratch)
            emulators.append(actions_emulator)
            print('QB: quick backup of {0} VMs in {1} jobs, {2:g} s each'.format(QB_JOBS * QB_PER_JOB, QB_JOBS, options.qb_duration),
                  flush=True)
            quick_backup_scenario(bench, actions_emulator, 'QB', options.qb_duration, rounds=options.long_rounds)
            actions_emulator.stop()
            emulators.remove(actions_emulator)
        if 'QR' in only:
            remediate_emulator = Emulator(SMALL + ['--action-duration', str(options.qr_duration)], scratch)
            emulators.append(remediate_emulator)
            print('QR: the gate over {0} hosts, {1} in {2} jobs needing a backup of {3:g} s, remediating or not'.format(
                QR_HOSTS, QR_JOBS * QR_PER_JOB, QR_JOBS, options.qr_duration), flush=True)
            remediate_scenario(bench, remediate_emulator, 'QR', options.qr_duration, rounds=options.long_rounds)
            remediate_emulator.stop()
            emulators.remove(remediate_emulator)
        if 'S3' in only:
            large = Emulator(LARGE, scratch)
            emulators.append(large)
            print('S3: scan of 100,000 task sessions', flush=True)
            bench.scenario('S3', large, [('floor', floor_contender(bench, large), None),
                                         ('lookup', lookup_contender(bench, large), None),
                                         ('module', module_contender(bench, large), None),
                                         ('module, 4 fields', module_contender(bench, large, AUDIT_FIELDS), None)],
                           rounds=options.s3_rounds)
            large.stop()
            emulators.remove(large)
    finally:
        for emulator in emulators:
            emulator.stop()

    elapsed = time.monotonic() - started
    text = table(bench.rows)
    checks = targets(bench.rows)
    lines = [text, '', 'Targets:']
    for label, value, holds in checks:
        lines.append('  {0:<52} {1:>8}  {2}'.format(label, '-' if value is None else '{0:.3f}'.format(value),
                                                    'n/a' if holds is None else ('holds' if holds else 'MISSED')))
    lines.append('')
    lines.append('S1/S3 time: lookup = its own work timed inside its template; module = its task minus an empty module task;')
    lines.append('uri = logon to logoff; floor = bench/floor.py. S2/LOGON time: the play, first task to last result.')
    lines.append('Total bench time {0:.0f} s on {1} ({2} CPUs).'.format(elapsed, platform.node(), os.cpu_count()))
    output = '\n'.join(lines)
    print()
    print(output)

    os.makedirs(RESULTS, exist_ok=True)
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime('%Y%m%dT%H%M%SZ')
    document = {
        'started_utc': stamp, 'seconds': elapsed, 'seed': SEED, 'now': NOW, 'small': SMALL, 'large': LARGE,
        'wan_latency_ms': WAN_LATENCY_MS, 'rounds': options.rounds, 'python': platform.python_version(),
        'cpus': os.cpu_count(), 'rows': bench.rows,
        'targets': [{'target': label, 'value': value, 'holds': holds} for label, value, holds in checks],
        'table': output,
    }
    for name in ('bench-{0}.json'.format(stamp), 'latest.json'):
        with open(os.path.join(RESULTS, name), 'w') as handle:
            json.dump(document, handle, indent=1, default=str)
    print('Results: {0}'.format(os.path.join(RESULTS, 'bench-{0}.json'.format(stamp))))
    if options.keep:
        print('Scratch (playbook logs): {0}'.format(scratch))
    else:
        shutil.rmtree(scratch, ignore_errors=True)
    failed = [r for r in bench.rows if not r['ok'] or r['leaked_logons']]
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
