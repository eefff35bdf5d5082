# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# Copyright (c) 2026, vbem.enterprise_manager contributors
"""quick_backup and job_start, run by ansible-playbook against the emulator; every claim checked on EM's side.

Usage: python scenarios.py SCRATCH_DIR quick_backup|job_start  (emulator from VEEAM_EM_URL and VEEAM_EM_CA_PATH, started with
--action-duration 3600 and --users operator:op-pw:PortalUser,restorer:re-pw:RestoreOperator)

Runs last until this driver ends them with ``finish_now``, so "parallel across jobs, serial within one" is
proven from the emulator's own action times, never from how long anything took. No wall-clock upper bound.
"""

import json
import os
import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(os.environ['EMULATOR_CONTROL']))
from control import control  # noqa: E402  pylint: disable=wrong-import-position  # the one emulator control client
SCRATCH = sys.argv[1]
MARKER = 'VBEM_QUICK_BACKUP_SCENARIO'
POLL = 0.1


def actions():
    return control('actions')['actions']


def posts():
    """Action POSTs EM received so far (quick backups and job starts; logons are not counted)."""
    requests = control('stats')['requests']
    return sum(count for route, count in requests.items() if route.startswith('POST /api/') and 'sessionMngr' not in route)


def when(text):
    return datetime.strptime(text.replace('Z', '')[:26], '%Y-%m-%dT%H:%M:%S.%f' if '.' in text else '%Y-%m-%dT%H:%M:%S')


def playbook(name, module, args, check_mode=False):
    """Write a one-task playbook that runs ``module`` with ``args`` and saves its result as JSON."""
    out = os.path.join(SCRATCH, name + '.json')
    path = os.path.join(SCRATCH, name + '.yml')
    task = {'name': 'Run ' + module, 'vbem.enterprise_manager.' + module: args, 'register': 'result', 'ignore_errors': True}
    if check_mode:
        task['check_mode'] = True
    play = [{'name': name, 'hosts': 'localhost', 'gather_facts': False, 'tasks': [
        task,
        {'name': 'Save the result', 'ansible.builtin.copy': {'content': '{{ result | to_json }}', 'dest': out, 'mode': '0600'}},
    ]}]
    with open(path, 'w') as handle:
        json.dump(play, handle)
    return path, out


def start(name, module, args, check_mode=False):
    path, out = playbook(name, module, args, check_mode)
    log = open(os.path.join(SCRATCH, name + '.log'), 'w')
    env = dict(os.environ, **{MARKER: name, 'ANSIBLE_PYTHON_INTERPRETER': sys.executable})
    proc = subprocess.Popen(['ansible-playbook', '-v', path], env=env, stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)
    proc.out, proc.log, proc.name = out, log, name
    return proc


def finish(proc):
    """Wait for the playbook (no time limit: the emulator runs end when the driver says) and load its result."""
    rc = proc.wait()
    proc.log.close()
    with open(os.path.join(SCRATCH, proc.name + '.log')) as handle:
        text = handle.read()
    assert rc == 0, 'ansible-playbook %s ended with %s:\n%s' % (proc.name, rc, text[-4000:])
    with open(proc.out) as handle:
        return json.load(handle)


def run(name, module, args, check_mode=False, end_runs=False):
    proc = start(name, module, args, check_mode)
    while end_runs and proc.poll() is None:
        if any(entry['finished'] is None for entry in actions()):
            control('actions', {'finish_now': True})
        time.sleep(POLL)
    return finish(proc)


def statuses(result):
    return dict((key, row['status']) for key, row in result['vms'].items())


def idle_jobs(count, size):
    """``count`` backup jobs with no running session, ``size`` of their VMs each (names without fail/warn)."""
    catalog = control('catalog')
    running = set(row['job_name'] for row in catalog['running'])
    chosen = []
    for job in catalog['jobs']:
        vms = [vm for vm in job['vms'] if 'fail' not in vm.lower() and 'warn' not in vm.lower()]
        if job['type'] == 'Backup' and job['name'] not in running and len(vms) >= size:
            chosen.append((job['name'], vms[:size]))
    assert len(chosen) >= count, 'the emulator has only %d idle backup jobs with %d VMs' % (len(chosen), size)
    return chosen


def newest_points(names):
    """``{folded VM name: time of its newest restore point}`` (restore_point_info); VMs without one are absent.

    The emulator's jobs run on nightly schedules, so how old a VM's newest
    point is depends on the hour the test runs at: it is read, not assumed.
    """
    newest = run('newest_points', 'restore_point_info', {'vm_name': names, 'latest_per_vm': True})
    assert not newest.get('failed'), newest
    return dict((point['vm_name'].lower(), when(point['creation_time'])) for point in newest['points'])


def utcnow():
    return datetime.now(timezone.utc).replace(tzinfo=None)


def without_recent_points(jobs, minutes):
    """The first of ``jobs`` none of whose VMs has a restore point from the last ``minutes``."""
    cutoff = utcnow() - timedelta(minutes=minutes)
    recent = set(name for name, time in newest_points([vm for _job, vms in jobs for vm in vms]).items() if time > cutoff)
    for job, vms in jobs:
        if not recent & set(vm.lower() for vm in vms):
            return job, vms
    raise AssertionError('every idle job has a VM with a restore point from the last %d minutes: %s' % (minutes, sorted(recent)))


def logon_counts():
    stats = control('stats')
    return stats['logons'], stats['logoffs'], stats['active_sessions']


def quick_backup_scenarios():
    # --- 1. several VMs across jobs: parallel across jobs, serial within one, one failing -----------------
    jobs = idle_jobs(3, 3)
    job_a, vms_a = jobs[0]
    # Job B holds the VM whose backup fails; 2. backs it up again under a max_age that its old point must be
    # outside of: B is the job whose VMs' newest points are the oldest (the nightly schedules decide).
    newest = newest_points([vm for _job, vms in jobs[1:] for vm in vms])
    job_b, vms_b = min(jobs[1:], key=lambda job: max(newest.get(vm.lower(), datetime.min) for vm in job[1]))
    old_point = newest.get(vms_b[1].lower(), datetime.min)
    jobs = [job for job in jobs[1:] if job[0] != job_b]
    failing = vms_b[1]
    control('actions', {'outcomes': {failing: 'Failed'}, 'clear_log': True})
    interleaved = [vm for pair in zip(vms_a, vms_b) for vm in pair]
    before = logon_counts()
    proc = start('across_jobs', 'quick_backup', {'vms': interleaved, 'poll_interval': 0.2, 'concurrency': 4})
    # End the runs only when every job that still has work has exactly one run going: each round then proves both.
    while proc.poll() is None:
        log = actions()
        running = [entry for entry in log if entry['finished'] is None]
        jobs_running = set(entry['job_name'] for entry in running)
        done = dict((job, sum(1 for entry in log if entry['job_name'] == job and entry['finished'])) for job in (job_a, job_b))
        waiting_jobs = set(job for job in (job_a, job_b) if done[job] < 3)
        if running and jobs_running == waiting_jobs and len(running) == len(waiting_jobs):
            control('actions', {'finish_now': True})
        time.sleep(POLL)
    result = finish(proc)
    after = logon_counts()
    assert (after[0] - before[0], after[1] - before[1], after[2]) == (1, 1, 0), 'one logon, logged off: %r -> %r' % (before, after)
    assert result['failed'] is True and failing in result['msg'] and '1 of 6 VMs' in result['msg'], result['msg']
    expected = dict((vm, 'failed' if vm == failing else 'created') for vm in interleaved)
    assert statuses(result) == expected, statuses(result)
    log = actions()
    assert sorted(vm for entry in log for vm in entry['vm_names']) == sorted(interleaved), 'each VM backed up once'
    for job, vms in ((job_a, vms_a), (job_b, vms_b)):
        runs = sorted((entry for entry in log if entry['job_name'] == job), key=lambda entry: when(entry['started']))
        assert [entry['vm_names'][0] for entry in runs] == vms, 'input order within the job'
        for first, second in zip(runs, runs[1:]):
            assert when(second['started']) >= when(first['finished']), 'serial within job %s' % job
    runs_a = sorted((entry for entry in log if entry['job_name'] == job_a), key=lambda entry: when(entry['started']))
    runs_b = sorted((entry for entry in log if entry['job_name'] == job_b), key=lambda entry: when(entry['started']))
    for one, two in zip(runs_a, runs_b):
        assert when(one['started']) < when(two['finished']) and when(two['started']) < when(one['finished']), 'parallel across jobs'
    for vm in interleaved:
        row = result['vms'][vm]
        entry = [item for item in log if item['vm_names'] == [vm]][0]
        assert row['task_id'] == entry['task_id'] and row['session_uid'] == entry['session_uid'] and row['job_name'] in (job_a, job_b)
        if vm != failing:
            assert row['result'] == 'Success' and row['message'] == 'Ok' and row['restore_point']['uid'].startswith('urn:veeam:VmRestorePoint:')
            assert when(row['restore_point']['time']) == when(entry['finished']), 'the point is the one this run made'
        else:
            assert row['result'] == 'Failed' and row['restore_point'] is None and row['message']
    assert result['changed'] is True and result['summary']['backups_started'] == 6
    assert len(result['log']) == 6 and all('EM task task-' in line for line in result['log'])
    print('across jobs: 2 jobs x 3 VMs, one logon, serial within a job and parallel across jobs by the emulator clock')

    made_at = min(when(result['vms'][vm]['restore_point']['time']) for vm in interleaved if vm != failing)

    # --- 2. skip when fresh: only the VM whose backup failed runs again -----------------------------------
    # A max_age that the points made in 1. are within and the failing VM's old point is outside of: halfway.
    now = utcnow()
    made_age, old_age = (now - made_at).total_seconds(), min((now - old_point).total_seconds(), 7 * 86400)
    assert old_age - made_age > 180, 'the points of 1. (%d s old) and the old point (%d s) are too close' % (made_age, old_age)
    minutes = int((made_age + old_age) / 2 // 60)
    control('actions', {'outcomes': {failing: None}})
    count = len(actions())
    result = run('fresh', 'quick_backup', {'vms': interleaved, 'max_age': '%dm' % minutes, 'poll_interval': 0.2}, end_runs=True)
    assert statuses(result) == dict((vm, 'created' if vm == failing else 'skipped') for vm in interleaved), statuses(result)
    assert len(actions()) == count + 1 and actions()[-1]['vm_names'] == [failing]
    assert all('within max_age (%d minute' % minutes in result['vms'][vm]['message'] for vm in interleaved if vm != failing)
    result = run('all_fresh', 'quick_backup', {'vms': interleaved, 'max_age': '1h'})
    assert set(statuses(result).values()) == {'skipped'} and result['changed'] is False and len(actions()) == count + 1
    print('max_age: fresh VMs skipped, unchanged; only the VM without a fresh point ran')

    # --- 3. check mode: statuses, changed, and zero POSTs ---------------------------------------------------
    # A max_age that the points made in 1. are within, and VMs whose newest point is well outside it: the
    # emulator's jobs run on nightly schedules, so how old each VM's newest point is depends on the hour.
    minutes = int((utcnow() - made_at).total_seconds() // 60) + 15
    _job_c, vms_c = without_recent_points(jobs, minutes + 15)
    sent = posts()
    result = run('check', 'quick_backup', {'vms': vms_c + [vms_a[0]], 'max_age': '%dm' % minutes}, check_mode=True)
    assert statuses(result) == dict([(vm, 'planned') for vm in vms_c] + [(vms_a[0], 'skipped')]), statuses(result)
    assert result['changed'] is True and posts() == sent, 'check mode sent a POST'
    print('check mode: planned and skipped reported, no POST')

    # --- 4. a name twice (any case, list and dict) is one backup ----------------------------------------------
    count, sent = len(actions()), posts()
    twice = vms_c[0]
    result = run('twice', 'quick_backup', {'vms': {'host-1': twice, 'host-2': twice.upper(), 'host-3': twice}, 'poll_interval': 0.2},
                 end_runs=True)
    assert statuses(result) == {'host-1': 'created', 'host-2': 'created', 'host-3': 'created'}, statuses(result)
    assert len(actions()) == count + 1 and posts() == sent + 1, 'one backup for one VM'
    assert len(set(row['restore_point']['uid'] for row in result['vms'].values())) == 1
    print('a VM named three times (two cases): one backup, one restore point for all keys')

    # --- 5. VMs no job covers, and a name EM does not know: failed, no POST -----------------------------------
    catalog = control('catalog')
    sent = posts()
    result = run('uncovered', 'quick_backup', {'vms': [catalog['retired_vms'][0], 'no-such-vm-17']})
    assert result['failed'] is True and posts() == sent
    assert 'no backup job has processed it' in result['vms'][catalog['retired_vms'][0]]['message']
    assert 'EM knows no VM named' in result['vms']['no-such-vm-17']['message']
    print('retired VM and unknown name: failed with their reasons, no POST')

    # --- 5b. A name two VMs answer to (names differing in case, each its own VmUid): failed, no POST ---------
    for twin in ('qb-twin-01', 'QB-TWIN-01'):
        control('sessions', {'type': 'BackupTaskSession', 'vm_name': twin, 'job_name': 'QB Twins', 'created': '-1h'})
    sent = posts()
    result = run('twins', 'quick_backup', {'vms': ['qb-twin-01']})
    assert result['failed'] is True and posts() == sent, 'no backup for a name that may be another VM'
    message = result['vms']['qb-twin-01']['message']
    assert 'is ambiguous in EM' in message and "'QB-TWIN-01'" in message and "'qb-twin-01'" in message, message
    print('a name two VMs answer to: failed as ambiguous, no POST')

    # --- 6. 403: an account without the role ---------------------------------------------------------------
    count = len(actions())
    result = run('forbidden', 'quick_backup', {'vms': [vms_c[1]], 'username': 'restorer', 'password': 're-pw'})
    message = result['vms'][vms_c[1]]['message']
    assert result['failed'] is True and 'HTTP 403' in message and 'Portal Administrator or Portal User role' in message, message
    assert len(actions()) == count
    print('403: ' + message)

    # --- 7. timeout: the first VM of a job times out, the next of the same job is not started -------------------
    sent = posts()
    result = run('timeout', 'quick_backup', {'vms': vms_c[1:3], 'wait_timeout': 1, 'poll_interval': 0.2})
    assert statuses(result) == {vms_c[1]: 'timeout', vms_c[2]: 'timeout'}, statuses(result)
    assert 'still running after wait_timeout' in result['vms'][vms_c[1]]['message']
    assert 'Not started' in result['vms'][vms_c[2]]['message'] and posts() == sent + 1
    assert result['failed'] is True and actions()[-1]['finished'] is None, 'the run goes on on the backup server'
    control('actions', {'finish_now': True})
    print('timeout: reported, the next VM of the job not started, the run left going')

    # --- 8. cancellation while polling: SIGTERM to the module, SIGINT to the group (Ctrl-C) --------------------------
    for signame in ('SIGTERM', 'SIGINT'):
        while any(entry['finished'] is None for entry in actions()):
            time.sleep(POLL)
        count = len(actions())
        before = logon_counts()
        proc = start('cancel_' + signame, 'quick_backup', {'vms': [vms_a[0]], 'poll_interval': 0.2})
        while len(actions()) == count:
            assert proc.poll() is None, 'the run ended before it started a backup'
            time.sleep(POLL)
        polls = control('stats')['requests'].get('GET /api/tasks/{id}', 0)
        while control('stats')['requests'].get('GET /api/tasks/{id}', 0) == polls:
            time.sleep(POLL)
        if signame == 'SIGTERM':
            pids = []
            for name in os.listdir('/proc'):
                try:
                    with open('/proc/%s/environ' % name, 'rb') as handle:
                        env = handle.read()
                    with open('/proc/%s/cmdline' % name, 'rb') as handle:
                        cmd = handle.read()
                except (OSError, ValueError):
                    continue
                if (MARKER + '=cancel_SIGTERM').encode() + b'\0' in env + b'\0' and b'AnsiballZ_' in cmd and b'python' in cmd.split(b'\0')[0]:
                    pids.append(int(name))
            assert pids, 'the module process was not found'
            os.kill(pids[0], signal.SIGTERM)
        else:
            os.killpg(proc.pid, signal.SIGINT)
        proc.wait()
        proc.log.close()
        with open(os.path.join(SCRATCH, proc.name + '.log')) as handle:
            text = handle.read()
        after = logon_counts()
        assert (after[0] - before[0], after[1] - before[1], after[2]) == (1, 1, 0), '%s: logged off: %r -> %r' % (signame, before, after)
        assert actions()[-1]['finished'] is None, 'the quick backup goes on on the backup server'
        if signame == 'SIGTERM':
            assert 'Interrupted by SIGTERM' in text and 'keep running on their backup servers' in text, text[-3000:]
        control('actions', {'finish_now': True})
        print('%s while polling: logged off, the backup left running' % signame)


def job_start_scenarios():
    # --- 9. job_start: by name, waits, task sessions; check mode; 403 for a Portal User -----------------------------
    (job_a, _vms) = idle_jobs(1, 3)[0]
    sent = posts()
    result = run('job_check', 'job_start', {'job': job_a.upper()}, check_mode=True)
    assert result['status'] == 'planned' and result['changed'] is True and result['job']['name'] == job_a and posts() == sent
    result = run('job_forbidden', 'job_start', {'job': job_a, 'username': 'operator', 'password': 'op-pw'})
    assert result['failed'] is True and 'HTTP 403' in result['msg'] and 'Portal Administrator role' in result['msg'], result['msg']
    count = len(actions())
    result = run('job_start', 'job_start', {'job': job_a, 'poll_interval': 0.2}, end_runs=True)
    assert result['status'] == 'created' and result['changed'] is True, result
    entry = actions()[-1]
    assert len(actions()) == count + 1 and entry['operation'] == 'StartJob' and entry['job_name'] == job_a
    assert result['session']['uid'] == entry['session_uid'] and result['session']['state'] == 'Stopped'
    assert sorted(row['vm_name'] for row in result['session']['task_sessions']) == sorted(entry['vm_names'])
    assert 'triggered to start' in result['message']
    uid = result['job']['uid']
    result = run('job_by_uid', 'job_start', {'job': uid, 'wait': False, 'poll_interval': 0.2})
    assert result['status'] == 'started' and result['job']['name'] == job_a and actions()[-1]['finished'] is None, result
    refused = run('job_running', 'job_start', {'job': uid})
    assert refused['failed'] is True and 'HTTP 409' in refused['msg'] and job_a in refused['msg'], refused['msg']
    control('actions', {'finish_now': True})
    missing = run('job_missing', 'job_start', {'job': 'No Such Job'})
    assert missing['failed'] is True and missing['msg'] == "EM has no job named 'No Such Job'.", missing['msg']
    print('job_start: check mode without POST, 403 sentence, a run followed to its stopped session, by UID without '
          'waiting, 409 while it runs, an unknown job')


if __name__ == '__main__':
    {'quick_backup': quick_backup_scenarios, 'job_start': job_start_scenarios}[sys.argv[2]]()
