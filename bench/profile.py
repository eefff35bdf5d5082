# -*- coding: utf-8 -*-
# Copyright (c) 2026, vbem.enterprise_manager contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Profile a full scan with pyinstrument (pinned in requirements-dev.txt).

    python bench/profile.py [--module] [--fields vm_name,result] [--sessions 14300]

Starts the emulator like ``make bench`` does and profiles, in this process:
the client's scan (logon, every page, parsing, normalisation, logoff), or
with ``--module`` the whole backup_task_session_info module run, including
``exit_json`` (Ansible's no_log scrubbing and JSON encoding of the result).
Prints pyinstrument's call tree and the CPU and wall time.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import argparse
import io
import os
import shutil
import sys
import tempfile
import time

BENCH = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, BENCH)

import run  # noqa: E402  pylint: disable=wrong-import-position


def main():
    parser = argparse.ArgumentParser(description='Profile one full scan with pyinstrument.')
    parser.add_argument('--module', action='store_true', help='profile the module run, exit_json included')
    parser.add_argument('--fields', help='comma-separated session keys to return')
    parser.add_argument('--sessions', default=run.SMALL[1], help='emulator --sessions (default: S1 size)')
    parser.add_argument('--interval', type=float, default=0.001, help='sampling interval in seconds')
    parser.add_argument('--concurrency', type=int, default=1,
                        help='pages in flight (default 1: pyinstrument samples only the main thread, so pages read in '
                             'other threads would not show)')
    options = parser.parse_args()
    from pyinstrument import Profiler

    scratch = tempfile.mkdtemp(prefix='vbem-profile.')
    emulator = run.Emulator(['--sessions', options.sessions], scratch)
    try:
        # Import the working tree as the collection, as run.py does for ansible-playbook.
        bench = run.Bench(scratch, 1)
        sys.path.insert(0, bench.collections)
        params = {'limit': 0, 'concurrency': options.concurrency}
        if options.fields:
            params['fields'] = options.fields.split(',')
        connection = {'url': emulator.info['url'], 'username': emulator.info['username'],
                      'password': emulator.info['password'], 'ca_path': emulator.info['ca_file']}
        profiler = Profiler(interval=options.interval)
        started, cpu = time.perf_counter(), time.process_time()
        if options.module:
            count = profile_module(profiler, dict(connection, **params))
        else:
            count = profile_client(profiler, connection, params)
        wall, cpu = time.perf_counter() - started, time.process_time() - cpu
    finally:
        emulator.stop()
        shutil.rmtree(scratch, ignore_errors=True)
    print(profiler.output_text(unicode=False, color=False))
    print('{0} sessions; wall {1:.2f} s, CPU {2:.2f} s (under the profiler)'.format(count, wall, cpu))


def profile_client(profiler, connection, params):
    from ansible_collections.vbem.enterprise_manager.plugins.module_utils import client, info, options
    profiler.start()
    try:
        with client.get_client(options.EmOptionAdapter.from_dict(connection)) as em:
            result = info.run_session_query(em, 'backup_task', params)
    finally:
        profiler.stop()
    return len(result['sessions'])


def profile_module(profiler, args):
    import json
    from ansible.module_utils.testing import patch_module_args
    from ansible_collections.vbem.enterprise_manager.plugins.modules import backup_task_session_info
    output, stdout = io.StringIO(), sys.stdout
    with patch_module_args(args):
        sys.stdout = output
        profiler.start()
        try:
            backup_task_session_info.main()
        except SystemExit:
            pass
        finally:
            profiler.stop()
            sys.stdout = stdout
    return len(json.loads(output.getvalue())['sessions'])


if __name__ == '__main__':
    main()
