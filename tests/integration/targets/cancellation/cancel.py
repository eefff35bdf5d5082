# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# Copyright (c) 2026, vbem.enterprise_manager contributors
"""Cancel runs the ways users, CI systems and AWX do, and prove no EM logon is left open.

Usage: python cancel.py RESULTS_JSON  (emulator from VEEAM_EM_URL and VEEAM_EM_CA_PATH)

Each scenario starts ansible-playbook (or ansible-runner) on a module that
waits or a lookup that pages, waits until it is talking to EM, sends one
signal to one process, then measures the seconds until every logon is logged
off and checks that EM receives no further request. It prints a table and
fails if a logon stays open or the logoff takes 10 seconds or more. "after
end" is the time from the end of ansible-playbook to the logoff (negative when
the logoff came first).
"""

import json
import os
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(os.environ['EMULATOR_CONTROL']))
from control import control  # noqa: E402  pylint: disable=wrong-import-position  # the one emulator control client
LIMIT = 10.0
QUIET = 2.0
MARKER = 'VBEM_CANCEL_SCENARIO'


def processes_with(marker_value):
    """Pids of the processes (any session) that carry this scenario's marker in their environment."""
    found = []
    needle = ('%s=%s' % (MARKER, marker_value)).encode() + b'\0'
    for name in os.listdir('/proc'):
        if not name.isdigit() or int(name) == os.getpid():
            continue
        try:
            with open('/proc/%s/environ' % name, 'rb') as handle:
                if needle in handle.read() + b'\0':
                    found.append(int(name))
        except OSError:
            continue
    return found


def cmdline(pid):
    try:
        with open('/proc/%d/cmdline' % pid, 'rb') as handle:
            return [part.decode('utf-8', 'replace') for part in handle.read().split(b'\0') if part]
    except OSError:
        return []


def module_process(marker_value):
    """The Python process running the AnsiballZ module (not the /bin/sh around it)."""
    for pid in processes_with(marker_value):
        args = cmdline(pid)
        if args and 'python' in os.path.basename(args[0]) and any('AnsiballZ_' in arg for arg in args[1:]):
            return pid
    return None


def playbook_process(marker_value, top):
    """The ansible-playbook main process: ``top`` itself, or the one ansible-runner started."""
    if 'ansible_runner' not in ' '.join(cmdline(top.pid)):
        return top.pid
    for pid in processes_with(marker_value):
        args = cmdline(pid)
        if any(os.path.basename(arg) == 'ansible-playbook' for arg in args[:2]):
            with open('/proc/%d/stat' % pid) as handle:
                fields = handle.read().rsplit(')', 1)[1].split()
            if int(fields[1]) == top.pid:
                return pid
    return None


def alive(pid):
    """True while pid runs (a zombie, killed but not yet reaped, counts as ended)."""
    try:
        with open('/proc/%d/stat' % pid) as handle:
            return handle.read().rsplit(')', 1)[1].split()[0] not in ('Z', 'X')
    except OSError:
        return False


def wait_until(predicate, seconds, step=0.05):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(step)
    return predicate()


def runner_dir(playbook):
    folder = tempfile.mkdtemp(prefix='runner-', dir=os.environ.get('EMULATOR_DIR'))
    os.makedirs(os.path.join(folder, 'project'))
    os.makedirs(os.path.join(folder, 'inventory'))
    with open(os.path.join(HERE, playbook)) as source, open(os.path.join(folder, 'project', playbook), 'w') as target:
        target.write(source.read())
    with open(os.path.join(folder, 'inventory', 'hosts'), 'w') as hosts:
        hosts.write('localhost ansible_connection=local ansible_python_interpreter=%s\n' % sys.executable)
    return folder


def run(number, signame, target, activity):
    """One scenario; returns its row for the table."""
    playbook = 'module_waits.yml' if activity == 'module waits' else 'lookup_pages.yml'
    control('reset', {})
    control('faults', {'clear': True, 'latency_ms': 150 if activity == 'lookup pages' else 0})
    marker = '%d-%d' % (os.getpid(), number)
    env = dict(os.environ, **{MARKER: marker})
    log = open(os.path.join(os.environ.get('EMULATOR_DIR', '.'), 'scenario-%d.log' % number), 'w')
    if target.startswith('ansible-runner'):
        command = [sys.executable, '-m', 'ansible_runner', 'run', runner_dir(playbook), '-p', playbook]
    else:
        command = ['ansible-playbook', '-vvvv', '-i', os.path.join(HERE, '..', '..', 'inventory'), os.path.join(HERE, playbook)]
    # A session of its own, as a terminal or CI job gives it: signals reach only what we aim at.
    top = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    if activity == 'module waits':
        started = wait_until(lambda: control('stats')['requests'].get('GET /api/query', 0) >= 2 and module_process(marker), 60)
    else:
        started = wait_until(lambda: control('stats')['requests'].get('GET /api/query', 0) >= 8, 60)
    if not started:
        top.kill()
        raise SystemExit('scenario %d: the %s never started talking to EM (see scenario-%d.log)' % (number, activity, number))
    playbook = playbook_process(marker, top)
    signum = getattr(signal, signame)
    if target == 'module process':
        os.kill(module_process(marker), signum)
    elif target == 'process group':
        os.killpg(top.pid, signum)
    else:
        os.kill(top.pid, signum)
    sent = time.monotonic()

    playbook_ended = []

    def closed():
        if not playbook_ended and playbook and not alive(playbook):
            playbook_ended.append(time.monotonic())
        stats = control('stats')
        return stats if stats['logons'] >= 1 and stats['active_sessions'] == 0 and stats['logons'] == stats['logoffs'] else None

    stats = wait_until(closed, LIMIT + 5)
    logged_off = time.monotonic()
    seconds = logged_off - sent
    wait_until(lambda: playbook is None or not alive(playbook), 10)
    if not playbook_ended and playbook and not alive(playbook):
        playbook_ended.append(time.monotonic())
    quiet_from = control('stats')['requests_total']
    time.sleep(QUIET)
    final = control('stats')
    further = final['requests_total'] - quiet_from
    # Whatever of the run is left (an orphaned worker, for example) is ours to end.
    try:
        top.wait(10)
    except subprocess.TimeoutExpired:
        pass
    leftovers = processes_with(marker)
    for pid in leftovers:
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
    if top.poll() is None:
        top.kill()
        top.wait()
    log.close()
    with open(log.name, encoding='utf-8', errors='replace') as handle:
        said = [line.strip() for line in handle if 'Interrupted by SIG' in line or 'Stopped because the process' in line]
    return {
        'message': said[0][:300] if said else None,
        'scenario': number, 'signal': signame, 'target': target, 'activity': activity,
        'seconds_to_logoff': round(seconds, 2) if stats else None,
        # When ansible-runner cancels, most of the wait is its own (it polls for the cancel every few seconds).
        'seconds_after_playbook_ended': round(logged_off - playbook_ended[0], 2) if stats and playbook_ended else None,
        'logons': final['logons'], 'logoffs': final['logoffs'],
        'open_logons_after': final['active_sessions'], 'requests_after_logoff': further,
        'processes_left': len(leftovers), 'exit_status': top.returncode,
    }


SCENARIOS = [
    ('SIGINT', 'ansible-playbook', 'module waits'),
    ('SIGTERM', 'ansible-playbook', 'module waits'),
    ('SIGINT', 'ansible-playbook', 'lookup pages'),
    ('SIGTERM', 'ansible-playbook', 'lookup pages'),
    ('SIGINT', 'process group', 'module waits'),
    ('SIGTERM', 'module process', 'module waits'),
    ('SIGINT', 'module process', 'module waits'),
    ('SIGKILL', 'ansible-playbook', 'module waits'),
    ('SIGKILL', 'ansible-playbook', 'lookup pages'),
    ('SIGINT', 'ansible-runner', 'module waits'),
    ('SIGTERM', 'ansible-runner', 'module waits'),
    ('SIGINT', 'ansible-runner', 'lookup pages'),
]


def main():
    rows = [run(number, *scenario) for number, scenario in enumerate(SCENARIOS, 1)]
    control('faults', {'clear': True})
    print('%-3s %-8s %-17s %-13s %8s %10s %6s %8s %6s' % (
        '#', 'signal', 'target', 'activity', 'logoff s', 'after end', 'open', 'requests', 'procs'))
    failures = []
    for row in rows:
        print('%-3d %-8s %-17s %-13s %8s %10s %6d %8d %6d' % (
            row['scenario'], row['signal'], row['target'], row['activity'],
            '-' if row['seconds_to_logoff'] is None else '%.2f' % row['seconds_to_logoff'],
            '-' if row['seconds_after_playbook_ended'] is None else '%.2f' % row['seconds_after_playbook_ended'],
            row['open_logons_after'], row['requests_after_logoff'], row['processes_left']))
        if row['seconds_to_logoff'] is None or row['seconds_to_logoff'] >= LIMIT:
            failures.append('scenario %d: no logoff within %d s' % (row['scenario'], LIMIT))
        if row['open_logons_after'] or row['logons'] != row['logoffs']:
            failures.append('scenario %d: %d logons, %d logoffs' % (row['scenario'], row['logons'], row['logoffs']))
        if row['target'] == 'module process' and 'logged off from Enterprise Manager.' not in (row['message'] or ''):
            failures.append('scenario %d: the module did not fail with its one sentence' % row['scenario'])
        if row['requests_after_logoff']:
            failures.append('scenario %d: EM got %d requests after the logoff' % (row['scenario'], row['requests_after_logoff']))
    for row in rows:
        if row['message']:
            print('%-3d %s' % (row['scenario'], row['message']))
    with open(sys.argv[1], 'w') as handle:
        json.dump(rows, handle, indent=2)
    for failure in failures:
        print('FAILED ' + failure, file=sys.stderr)
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main())
