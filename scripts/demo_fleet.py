# -*- coding: utf-8 -*-
# Copyright (c) 2026, vbem.enterprise_manager contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The demo's fleet: an inventory of hosts, the emulator sessions their verdicts call for, and the report.

    python scripts/demo_fleet.py prepare HOSTS WORKDIR   # inventory.json + expected.json; adds sessions
    python scripts/demo_fleet.py finish-running WORKDIR  # finishes the running backup once the gate waits for it
    python scripts/demo_fleet.py report WORKDIR          # the gate's summary from gate.log, checked; EM logons

The emulator comes from VEEAM_EM_URL and VEEAM_EM_CA_PATH (tests/emulator/emulator-env.sh exports them).
Host names mix FQDNs mapped to VMs through backup_gate_vm_name (in another case than EM spells them,
and EM's names with ; , " ( ) = and unicode) with hosts whose inventory_hostname is the VM name in
upper case. Every VM gets a fresh Success backup except: a few Failed, a few Warning, a few stale
(newest backup three days old), a few EM has never heard of (unknown_vm), one of them a misspelt VM name
the gate suggests the right one for, and one backing up while the gate runs.
"""

from __future__ import absolute_import, division, print_function

import json
import os
import re
import ssl
import sys
import time

from urllib.request import Request, urlopen

FAILED, WARNING, STALE, NO_BACKUP = 5, 4, 3, 3
QUIET_SECONDS = 0.5
WAIT_LIMIT_SECONDS = 120


def control(path, body=None):
    """GET (no body) or POST (JSON body) an emulator control endpoint; returns the JSON answer."""
    context = ssl.create_default_context(cafile=os.environ['VEEAM_EM_CA_PATH'])
    data = None if body is None else json.dumps(body).encode('utf-8')
    request = Request(os.environ['VEEAM_EM_URL'] + '/_emulator/' + path, data=data,
                      headers={'Content-Type': 'application/json'}, method='GET' if body is None else 'POST')
    with urlopen(request, context=context, timeout=30) as answer:
        return json.load(answer)


def host_label(vm):
    """A DNS label for a VM name: web;01 -> web-01, sql "prod" -> sql-prod, 数据库-01 -> vm-<hex>-01."""
    label = re.sub(r'[^a-z0-9]+', '-', vm.lower()).strip('-')
    if not label or not label[0].isalpha():
        label = 'vm-' + vm.encode('utf-8').hex()[:8] + ('-' + label if label else '')
    return label


def odd_case(vm, index):
    """The VM name in another case than EM spells it, as inventories tend to."""
    return vm.upper() if index % 2 == 0 else vm.title()


def prepare(count, workdir):
    """Write inventory.json and expected.json for ``count`` hosts, and add the sessions they call for."""
    catalog = control('catalog')
    vms = []
    for job in catalog['jobs']:
        if job['type'] == 'Backup':
            vms.extend(vm for vm in job['vms'] if vm not in vms)
    plain = [vm for vm in vms if re.match(r'^[a-z][a-z0-9-]*$', vm)]
    special = [vm for vm in vms if vm not in plain]
    extra = STALE + NO_BACKUP
    known = special + plain[:max(0, count - extra - len(special))]
    if len(known) + extra != count:
        raise SystemExit('demo: the emulator backs up {0} VMs, too few for {1} hosts'.format(len(vms), count))

    hosts, expected = {}, {'failed': [], 'running': None}
    used = set()
    for index, vm in enumerate(known):
        if vm in plain and index % 4 == 0:
            # The inventory name is the VM name in another case, so no backup_gate_vm_name.
            name, variables = vm.upper(), {}
        else:
            label = host_label(vm)
            # web;01 and web-01 are two VMs: the second one to come gets another host name.
            while label + '.corp.example.com' in used:
                label += '-b'
            name = label + '.corp.example.com'
            variables = {'backup_gate_vm_name': vm if vm in special else odd_case(vm, index)}
        used.add(name)
        hosts[name] = variables

    names = list(hosts)
    plain_hosts = [name for name in names if hosts[name].get('backup_gate_vm_name', name).lower() in plain]
    # Spread the failures through the inventory, as they are in real fleets.
    step = max(1, len(plain_hosts) // (FAILED + WARNING + 1))
    chosen = plain_hosts[step // 2::step]
    outcomes = dict((name, 'Failed') for name in chosen[:FAILED])
    outcomes.update((name, 'Warning') for name in chosen[FAILED:FAILED + WARNING])
    running = chosen[FAILED + WARNING]
    for name in names:
        vm = hosts[name].get('backup_gate_vm_name', name)
        body = {'type': 'BackupTaskSession', 'vm_name': exact_vm(vm, known), 'created': 'now'}
        if name == running:
            body['state'] = 'InProgress'
            expected['running'] = {'host': name, 'vm_name': body['vm_name']}
        else:
            body['result'] = outcomes.get(name, 'Success')
            if name in outcomes:
                expected['failed'].append(name)
        control('sessions', body)

    for number in range(1, STALE + 1):
        name = 'erp-legacy-{0:02d}.corp.example.com'.format(number)
        vm = 'ERP-LEGACY-{0:02d}'.format(number)
        control('sessions', {'type': 'BackupTaskSession', 'vm_name': vm, 'job_name': 'Legacy ERP',
                             'created': '-{0}d'.format(2 + number), 'result': 'Success'})
        hosts[name] = {'backup_gate_vm_name': vm.lower()}
        expected['failed'].append(name)
    for number in range(1, NO_BACKUP):
        name = 'new-app-{0:02d}.corp.example.com'.format(number)
        hosts[name] = {'backup_gate_vm_name': 'new-app-{0:02d}'.format(number)}
        expected['failed'].append(name)
    # A VM name misspelt in the inventory (web01 for web-01): EM knows no such VM and the gate says which it does.
    # One whose misspelling is one edit from it and from no other VM EM has (web01 is also one from web;01).
    every = set(vm for job in catalog['jobs'] for vm in job['vms']) | set(catalog.get('retired_vms', ()))
    meant = next(vm for vm in plain if vm in known and '-' in vm
                 and [other for other in every if one_edit(vm.replace('-', '', 1), other)] == [vm])
    typo = meant.replace('-', '', 1)
    name = typo + '-typo.corp.example.com'
    hosts[name] = {'backup_gate_vm_name': typo}
    expected['failed'].append(name)
    expected['unknown'] = {'host': name, 'line': 'FAILED {0} (VM {1}): EM knows no VM named {1} (did you mean {2}?)'.format(
        name, typo, meant)}

    inventory = {'all': {'vars': {'ansible_connection': 'local', 'ansible_python_interpreter': sys.executable},
                         'children': {'fleet': {'hosts': hosts}}}}
    with open(os.path.join(workdir, 'inventory.json'), 'w') as handle:
        json.dump(inventory, handle, ensure_ascii=False, indent=1)
    with open(os.path.join(workdir, 'expected.json'), 'w') as handle:
        json.dump(expected, handle, ensure_ascii=False)
    print('demo: {0} hosts; {1} VMs Failed, {2} Warning, {3} stale, {4} unknown to EM ({5} misspelt); {6} (VM {7}) is '
          'backing up now'.format(len(hosts), FAILED, WARNING, STALE, NO_BACKUP, typo, running, expected['running']['vm_name']))


def one_edit(left, right):
    """Whether two names differ, case-insensitively, by exactly one inserted, deleted or replaced character."""
    left, right = left.casefold(), right.casefold()
    if left == right or abs(len(left) - len(right)) > 1:
        return False
    if len(left) > len(right):
        left, right = right, left
    start = 0
    while start < len(left) and left[start] == right[start]:
        start += 1
    return left[start + (len(left) == len(right)):] == right[start + 1:]


def exact_vm(name, known):
    """EM's own spelling of a VM named in any case (the control API matches names exactly)."""
    for vm in known:
        if vm.casefold() == name.casefold():
            return vm
    raise SystemExit('demo: no VM named {0!r}'.format(name))


def finish_running(workdir):
    """Once the gate has queried EM and waits (no request for a moment), finish the running backup."""
    with open(os.path.join(workdir, 'expected.json')) as handle:
        running = json.load(handle)['running']
    deadline = time.time() + WAIT_LIMIT_SECONDS
    last, quiet_since = None, None
    while time.time() < deadline:
        stats = control('stats')
        queries = stats['requests'].get('GET /api/query', 0)
        if queries and queries == last:
            if quiet_since is None:
                quiet_since = time.time()
            elif time.time() - quiet_since >= QUIET_SECONDS:
                break
        else:
            last, quiet_since = queries, None
        time.sleep(0.1)
    else:
        raise SystemExit('demo: the gate did not query EM within {0} s'.format(WAIT_LIMIT_SECONDS))
    answer = control('finish', {'vm_names': [running['vm_name']], 'result': 'Success'})
    if not answer['finished']:
        raise SystemExit('demo: the backup of {0} was not running any more'.format(running['vm_name']))
    with open(os.path.join(workdir, 'finished.json'), 'w') as handle:
        json.dump({'queries_before_finish': last}, handle)


def report(workdir):
    """Print the gate's summary as the play showed it, and check it against what the data calls for."""
    with open(os.path.join(workdir, 'gate.log')) as handle:
        lines = handle.read().splitlines()
    with open(os.path.join(workdir, 'expected.json')) as handle:
        expected = json.load(handle)
    start = next(i for i, line in enumerate(lines) if line.startswith('TASK [') and "Show the gate's summary" in line)
    end = next(i for i in range(start + 1, len(lines)) if lines[i].startswith(('TASK [', 'PLAY RECAP')))
    print('\n'.join(lines[start:end]).rstrip())
    stats_line = next(line for line in lines if line.strip().startswith('RUN:'))
    summary = json.loads(stats_line.split('RUN:', 1)[1])['backup_gate_summary']
    running = expected['running']['host']
    if sorted(summary['failed_hosts']) != sorted(expected['failed']) or running not in summary['passed_hosts']:
        raise SystemExit('demo: the gate held back {0}, expected {1} (and {2} to pass after its backup finished)'.format(
            sorted(summary['failed_hosts']), sorted(expected['failed']), running))
    if not any(line.strip().strip('",') == expected['unknown']['line'] for line in lines[start:end]):
        raise SystemExit('demo: the gate did not say {0!r}'.format(expected['unknown']['line']))
    with open(os.path.join(workdir, 'finished.json')) as handle:
        before = json.load(handle)['queries_before_finish']
    stats = control('stats')
    # Queries after the backup finished: the gate had seen it running and looked again.
    if stats['requests'].get('GET /api/query', 0) <= before:
        raise SystemExit('demo: the gate did not look at {0} again after its backup finished'.format(running))
    print('demo: the gate waited for the backup of {0} and passed it once it finished; it held back exactly the {1} '
          'hosts the data calls for; set_stats published backup_gate_summary for AWX workflows'.format(
              running, summary['failed']))
    print('emulator: logons={logons} logoffs={logoffs} active_sessions={active_sessions} after gating {0} hosts'.format(
        summary['total'], **stats))
    if (stats['logons'], stats['logoffs'], stats['active_sessions']) != (1, 1, 0):
        raise SystemExit('demo: the gate should log on once and off again')


def main(argv):
    if len(argv) == 4 and argv[1] == 'prepare':
        prepare(int(argv[2]), argv[3])
    elif len(argv) == 3 and argv[1] == 'finish-running':
        finish_running(argv[2])
    elif len(argv) == 3 and argv[1] == 'report':
        report(argv[2])
    else:
        raise SystemExit(__doc__)


if __name__ == '__main__':
    main(sys.argv)
