# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# Copyright (c) 2026, vbem.enterprise_manager contributors
"""Check what ansible-runner process wrote for one job, as AWX would read it.

Usage: check_job.py PRIVATE_DATA_DIR EXPECTATIONS.json

EXPECTATIONS: {"status": "successful" | "failed", "rc": 0,
               "ok": [hosts], "failed": [hosts],
               "summary": {key: value, ...}}   (a subset of backup_gate_summary)

Prints the job's events the way a reader of AWX's job output would look for
them (counter, event, host, task), then checks:
* the job's status and return code;
* every host has a runner_on_ok or runner_on_failed event, and the hosts
  expected to fail have a runner_on_failed one while the others have none;
* the playbook_on_stats event carries the set_stats artifact
  backup_gate_summary, as AWX stores it in the job's artifacts;
* neither the job's stdout nor any job event holds the password
  (VEEAM_EM_PASSWORD), a session token or a logon SessionId (the ones the
  emulator's access log in $EMULATOR_DIR/stderr.log names);
* ansible-runner's own command artifact does hold the password: the
  environment it gave the job, which the AWX guide warns about.
"""

import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'setup_emulator'))
from scan_secrets import leaks, session_ids_from_access_log  # noqa: E402  pylint: disable=wrong-import-position


def artifact_dir(private_data_dir):
    """ansible-runner process writes artifacts/ directly; run writes artifacts/<ident>/."""
    base = os.path.join(private_data_dir, 'artifacts')
    if os.path.exists(os.path.join(base, 'status')):
        return base
    for name in sorted(os.listdir(base)):
        if os.path.exists(os.path.join(base, name, 'status')):
            return os.path.join(base, name)
    raise SystemExit('no status file under %s: ansible-runner process wrote no artifacts' % base)


def strings(value):
    """Every string in a JSON document (keys included), decoded."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield str(key)
            yield from strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from strings(item)
    elif isinstance(value, str):
        yield value


def read(path):
    with open(path, encoding='utf-8', errors='replace') as handle:
        return handle.read()


def main():
    private_data_dir, expectations_file = sys.argv[1:]
    expected = json.loads(read(expectations_file))
    password = os.environ['VEEAM_EM_PASSWORD']
    artifacts = artifact_dir(private_data_dir)
    problems = []

    status = read(os.path.join(artifacts, 'status')).strip()
    rc = int(read(os.path.join(artifacts, 'rc')).strip())
    print('job: status=%s rc=%d' % (status, rc))
    if status != expected['status'] or rc != expected['rc']:
        problems.append('status %s rc %d, expected %s rc %d' % (status, rc, expected['status'], expected['rc']))

    events = []
    event_dir = os.path.join(artifacts, 'job_events')
    for name in os.listdir(event_dir):
        events.append(json.loads(read(os.path.join(event_dir, name))))
    events.sort(key=lambda event: event['counter'])
    per_host = {}
    artifact_data = None
    for event in events:
        data = event.get('event_data', {})
        host = data.get('host') or ''
        task = data.get('task') or data.get('play') or ''
        print('event %3d %-22s %-20s %s' % (event['counter'], event['event'], host, task[:60]))
        if event['event'] in ('runner_on_ok', 'runner_on_failed') and host:
            per_host.setdefault(host, set()).add(event['event'])
        if event['event'] == 'playbook_on_stats':
            artifact_data = data.get('artifact_data')

    for host in expected['ok'] + expected['failed']:
        if not per_host.get(host):
            problems.append('no runner_on_ok or runner_on_failed event for %s' % host)
    for host in expected['failed']:
        if 'runner_on_failed' not in per_host.get(host, ()):
            problems.append('%s was expected to fail, but has no runner_on_failed event' % host)
    for host in expected['ok']:
        if 'runner_on_failed' in per_host.get(host, ()):
            problems.append('%s was expected to pass, but has a runner_on_failed event' % host)
    unexpected = set(per_host) - set(expected['ok']) - set(expected['failed'])
    if unexpected:
        problems.append('events for hosts outside the job: %s' % sorted(unexpected))

    summary = (artifact_data or {}).get('backup_gate_summary')
    print('set_stats artifact backup_gate_summary: %s' % json.dumps(summary, sort_keys=True))
    if not isinstance(summary, dict):
        problems.append('playbook_on_stats carries no backup_gate_summary artifact: %r' % (artifact_data,))
    else:
        for key, value in expected['summary'].items():
            if summary.get(key) != value:
                problems.append('backup_gate_summary.%s is %r, expected %r' % (key, summary.get(key), value))

    session_ids = session_ids_from_access_log(os.path.join(os.environ['EMULATOR_DIR'], 'stderr.log'))
    if not session_ids:
        problems.append('the emulator access log names no logon session (start it with --verbose), so SessionIds went unchecked')
    # Events are scanned as the strings they hold: JSON escapes quotes, and
    # the test password has one.
    scanned = [('stdout', read(os.path.join(artifacts, 'stdout')))]
    scanned += [('event %d' % event['counter'], '\n'.join(strings(event))) for event in events]
    for where, text in scanned:
        for leak in leaks(text, password, session_ids):
            problems.append('%s: %s' % (where, leak))
    print('secrets: stdout and %d job events scanned for the password, session tokens and %d logon SessionIds' % (
        len(events), len(session_ids)))
    command = json.loads(read(os.path.join(artifacts, 'command')))
    if command.get('env', {}).get('VEEAM_EM_PASSWORD') != password:
        problems.append('ansible-runner no longer stores the job environment in artifacts/command: update the AWX guide')

    for problem in problems:
        print('awx_runner: ' + problem, file=sys.stderr)
    return 1 if problems else 0


if __name__ == '__main__':
    sys.exit(main())
