# -*- coding: utf-8 -*-
# Copyright (c) 2026, vbem.enterprise_manager contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""What the backup_gate targets need besides Ansible: emulator data, counters and the play's output.

    gatecheck.py sessions FILE.json          POST each body of the list to /_emulator/sessions
    gatecheck.py logons N                    the emulator saw N logons, all logged off; then reset the counters
    gatecheck.py requests MAX                at most MAX query requests besides one logon and one logoff
    gatecheck.py recap LOG HOST,... | -      exactly these hosts have failed=1 in the PLAY RECAP of LOG
    gatecheck.py stats LOG                   print the set_stats data (ANSIBLE_SHOW_CUSTOM_STATS) of LOG as JSON
    gatecheck.py inventory N FILE            an inventory of N local hosts named after the emulator's VMs
    gatecheck.py finish VM                   finish the running backup of VM now, with Success

The emulator comes from VEEAM_EM_URL and VEEAM_EM_CA_PATH.  Every check
prints what it found when it fails and exits non-zero.
"""

from __future__ import absolute_import, division, print_function

import json
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.environ['EMULATOR_CONTROL']))
from control import control  # noqa: E402  pylint: disable=wrong-import-position  # the one emulator control client


def sessions(path):
    with open(path) as handle:
        for body in json.load(handle):
            control('sessions', body)


def logons(expected):
    stats = control('stats')
    if stats['logons'] != expected or stats['logoffs'] != expected or stats['active_sessions'] != 0:
        raise SystemExit('gatecheck: expected {0} logon(s), all logged off; the emulator saw logons={1} logoffs={2} '
                         'active_sessions={3}'.format(expected, stats['logons'], stats['logoffs'], stats['active_sessions']))
    control('reset', {})


def requests(most):
    stats = control('stats')
    queries = stats['requests'].get('GET /api/query', 0)
    print('gatecheck: EM requests {0}'.format(json.dumps(stats['requests'], sort_keys=True)))
    if stats['logons'] != 1 or stats['logoffs'] != 1 or queries > most or stats['requests_total'] != queries + 2:
        raise SystemExit('gatecheck: expected 1 logon, at most {0} queries and 1 logoff; the emulator saw logons={1} '
                         'logoffs={2} and requests {3}'.format(most, stats['logons'], stats['logoffs'], stats['requests']))


def recap(log, hosts):
    expected = set() if hosts == '-' else set(hosts.split(','))
    with open(log) as handle:
        text = handle.read()
    rows = re.findall(r'^(\S+)\s+:\s+ok=\d+\s+changed=\d+\s+unreachable=\d+\s+failed=(\d+)', text, re.MULTILINE)
    if not rows:
        raise SystemExit('gatecheck: no PLAY RECAP in {0}'.format(log))
    failed = set(host for host, count in rows if count != '0')
    if failed != expected:
        raise SystemExit('gatecheck: failed hosts {0}, expected {1}'.format(sorted(failed), sorted(expected)))


def stats(log):
    with open(log) as handle:
        line = next((line for line in handle if line.strip().startswith('RUN:')), None)
    if line is None:
        raise SystemExit('gatecheck: no CUSTOM STATS in {0}'.format(log))
    print(json.dumps(json.loads(line.split('RUN:', 1)[1])))


def inventory(count, path):
    catalog = control('catalog')
    vms = []
    for job in catalog['jobs']:
        if job['type'] == 'Backup':
            vms.extend(vm for vm in job['vms'] if vm not in vms)
    if len(vms) < count:
        raise SystemExit('gatecheck: the emulator backs up {0} VMs, fewer than {1}'.format(len(vms), count))
    hosts = dict(('host{0:04d}.corp.example.com'.format(index), {'backup_gate_vm_name': vm.upper()})
                 for index, vm in enumerate(vms[:count]))
    with open(path, 'w') as handle:
        json.dump({'all': {'vars': {'ansible_connection': 'local', 'ansible_python_interpreter': sys.executable},
                           'children': {'fleet': {'hosts': hosts}}}}, handle, ensure_ascii=False)


def main(argv):
    commands = {'sessions': (sessions, 1), 'logons': (lambda n: logons(int(n)), 1),
                'requests': (lambda n: requests(int(n)), 1), 'recap': (recap, 2),
                'stats': (stats, 1),
                'finish': (lambda name: control('finish', {'vm_names': [name], 'result': 'Success'}), 1),
                'inventory': (lambda n, path: inventory(int(n), path), 2)}
    if len(argv) < 2 or argv[1] not in commands or len(argv) - 2 != commands[argv[1]][1]:
        raise SystemExit(__doc__)
    commands[argv[1]][0](*argv[2:])


if __name__ == '__main__':
    main(sys.argv)
