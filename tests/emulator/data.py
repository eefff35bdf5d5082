"""Deterministic, realistic EM data: servers, jobs, CDP policies and their sessions.

Everything derives from one ``random.Random(seed)`` and an anchor time, so the
same ``--seed``/``--now`` always yield byte-identical answers. Rows are plain
dicts (cheap to build by the hundred thousand); times are integer
microseconds since the Unix epoch so filters and sorts compare ints.
"""

from __future__ import annotations

import datetime
import random
import uuid

HOUR_US = 3600 * 1000000
DAY_US = 24 * HOUR_US
MINUTE_US = 60 * 1000000
GIB = 1024 ** 3
EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)

# Names that exercise the filter grammar and encodings; the most recent session
# of each of them is forced to a known mix of results (see _FORCED_RESULTS).
SPECIAL_VMS = (
    'web;01', 'db,02', 'sql "prod"', 'app (old)', 'a==b', 'file server 01',
    'B\u00fccher-DB', '\u6570\u636e\u5e93-01', 'exchange&mail', 'lab<test>',
)
_FORCED_RESULTS = ('running', 'Success', 'Warning', 'Failed')
_PLAIN_VM_PREFIXES = ('web', 'app', 'db', 'sql', 'fs', 'dc', 'exch', 'k8s-node', 'proxy', 'erp', 'crm', 'mon')
_BACKUP_JOB_NAMES = ('SQL Daily', 'File Servers', 'Exchange Backup', 'Web Farm', 'Domain Controllers', 'Prod "Tier-1"; critical')
_REPLICA_JOB_NAMES = ('DR Replica - SQL', 'Replication Job 1', 'Replication Job 2')
_WARNING_REASONS = (
    'Changed block tracking cannot be enabled: one or more snapshots present.',
    'Unable to truncate Microsoft SQL Server transaction logs. Details: Failed to call RPC function.',
    'VM is powered off, guest processing was skipped.',
    'Free disk space on the repository is below 10%.',
)
_FAILED_REASONS = (
    'Failed to create VM snapshot. Error: An error occurred while saving the snapshot: Failed to quiesce the virtual machine.',
    'Error: Access is denied. --tr:Failed to open VDDK disk.',
    'Error: The network path was not found. Failed to connect to the backup repository.',
    'Processing failed: Timed out waiting for the guest agent to respond.',
)


def us_from_datetime(value):
    """Microseconds since the epoch for an aware or naive-UTC datetime."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=datetime.timezone.utc)
    delta = value - EPOCH
    return (delta.days * 86400 + delta.seconds) * 1000000 + delta.microseconds


def format_utc(us):
    """EM's timestamp form: ISO-8601 UTC with 'Z' and trailing fractional zeros trimmed."""
    moment = EPOCH + datetime.timedelta(microseconds=us)
    text = moment.strftime('%Y-%m-%dT%H:%M:%S')
    if moment.microsecond:
        text += ('.%06d' % moment.microsecond).rstrip('0')
    return text + 'Z'


def format_name_time(us):
    """Timestamp form used in session names: ``yyyy-MM-dd HH:mm:ss``."""
    return (EPOCH + datetime.timedelta(microseconds=us)).strftime('%Y-%m-%d %H:%M:%S')


def pick_result(rng, latest=False):
    """A realistic result: mostly Success; the newest runs of the data set fail more often (they are the interesting ones)."""
    roll = rng.random()
    if latest:
        return 'Success' if roll < 0.55 else 'Warning' if roll < 0.78 else 'Failed'
    return 'Success' if roll < 0.86 else 'Warning' if roll < 0.94 else 'Failed'


def pick_reason(rng, result):
    """A realistic EM ``Reason`` for a result ('' for Success)."""
    if result == 'Warning':
        return rng.choice(_WARNING_REASONS)
    if result == 'Failed':
        return rng.choice(_FAILED_REASONS)
    return ''


def data_anchor(now_us=None, lag_hours=0.0):
    """The generated data's anchor (epoch microseconds): ``now_us`` (None: now, truncated to the hour) minus ``lag_hours``."""
    if now_us is None:
        now_us = us_from_datetime(datetime.datetime.now(datetime.timezone.utc).replace(minute=0, second=0, microsecond=0))
    return now_us - int(round(lag_hours * HOUR_US))


class Dataset:
    """All generated objects, plus id indexes per resource kind."""

    def __init__(self, seed=1, sessions=2000, now_us=None, vms=None):
        self.seed = seed
        self.rng = random.Random(seed)
        self.now_us = data_anchor(now_us)
        self.servers = []
        self.jobs = []
        self.policies = []
        self.rows = {kind: [] for kind in (
            'BackupJobSession', 'BackupTaskSession', 'ReplicaJobSession', 'ReplicaTaskSession',
            'CdpReplicaSession', 'CdpReplicaTaskSession', 'RestoreSession')}
        self._generate(max(1, int(sessions)), vms)
        self.rows['BackupServer'] = self.servers
        self.rows['Job'] = self.jobs
        self.rows['CdpPolicy'] = self.policies
        self.by_id = {kind: {row['id']: row for row in rows} for kind, rows in self.rows.items()}
        # Bumped whenever rows are added at run time (see live.py), so derived indexes know to rebuild.
        self.version = 0

    # -- helpers -----------------------------------------------------------------

    def new_id(self):
        """A deterministic random (version 4) GUID string."""
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def _vm_names(self, count):
        names = list(SPECIAL_VMS)
        index = 0
        while len(names) < count:
            prefix = _PLAIN_VM_PREFIXES[index % len(_PLAIN_VM_PREFIXES)]
            names.append('%s-%02d' % (prefix, index // len(_PLAIN_VM_PREFIXES) + 1))
            index += 1
        return names[:max(count, len(SPECIAL_VMS))]

    def _vm_record(self, name, server):
        return {
            'name': name,
            'size': self.rng.choice((16, 32, 40, 60, 80, 100, 127, 200, 500)) * GIB,
            'uid': 'urn:VMware:Vm:%s.vm-%d' % (server['hierarchy_root'], self.rng.randint(1000, 99999)),
        }

    # -- generation --------------------------------------------------------------

    def _generate(self, wanted, vms=None):
        rng = self.rng
        if vms:
            # 70 % of the slots are backup VMs, and every VM is backed up: size the slots for exactly ``vms``
            # VMs and let ``wanted`` decide how many nights of history that buys.
            slots = (max(int(vms), len(SPECIAL_VMS)) * 100 + 69) // 70
            days = max(3, min(28, wanted // slots))
        else:
            days = max(3, min(28, wanted // 40))
            slots = max(len(SPECIAL_VMS) * 2, wanted // days)
        for index, host in enumerate(('vbr01.corp.example.com', 'vbr02.corp.example.com', 'vbr-dr.corp.example.com')):
            if index == 2 and wanted < 500:
                break
            sid = self.new_id()
            self.servers.append({
                'id': sid, 'uid': 'urn:veeam:BackupServer:' + sid, 'name': host, 'description': 'Backup server %s' % host,
                'ip_or_dns_name': host, 'port': 9392, 'version': '13.0.1.1071', 'hierarchy_root': self.new_id(),
            })
        backup_slots = max(len(SPECIAL_VMS), slots * 70 // 100)
        replica_slots = max(3, slots * 20 // 100)
        cdp_slots = max(2, slots - backup_slots - replica_slots)
        vm_names = self._vm_names(backup_slots)
        self._make_jobs('Backup', _BACKUP_JOB_NAMES, 'Backup Job %d', vm_names)
        self._make_jobs('Replica', _REPLICA_JOB_NAMES, 'Replication Job %d', vm_names[len(SPECIAL_VMS):][:replica_slots]
                        or vm_names[:replica_slots])
        self._make_policies(vm_names[:cdp_slots][::-1])
        forced = 0
        for job in self.jobs:
            forced = self._job_sessions(job, days, forced)
        for policy in self.policies:
            self._cdp_sessions(policy, days)
        self._restore_sessions(max(3, wanted // 200), days)
        for rows in self.rows.values():
            rows.sort(key=lambda row: row['creation'])
        del rng

    def _make_jobs(self, job_type, names, fallback, vm_names):
        rng = self.rng
        position = 0
        number = 0
        while position < len(vm_names):
            size = rng.randint(3, 12)
            name = names[number] if number < len(names) else fallback % (number + 1)
            jid = self.new_id()
            server = self.servers[number % len(self.servers)]
            vms = [self._vm_record(vm, server) for vm in vm_names[position:position + size]]
            self.jobs.append({
                'id': jid, 'uid': 'urn:veeam:Job:' + jid, 'name': name, 'job_type': job_type,
                'platform': 'VMware', 'description': 'Created by emulator', 'schedule_configured': True,
                'schedule_enabled': number % 7 != 6, 'server': server, 'vms': vms,
                'start_minute': 20 * 60 + rng.randint(0, 200),
            })
            position += size
            number += 1

    def _make_policies(self, vm_names):
        rng = self.rng
        position = 0
        number = 0
        while position < len(vm_names):
            size = rng.randint(2, 8)
            pid = self.new_id()
            server = self.servers[number % len(self.servers)]
            self.policies.append({
                'id': pid, 'uid': 'urn:veeam:CdpPolicy:' + pid, 'name': 'CDP Policy %d' % (number + 1),
                'server': server, 'vms': [self._vm_record(vm, server) for vm in vm_names[position:position + size]],
                'start_minute': rng.randint(0, 23 * 60),
            })
            position += size
            number += 1

    def _pick_result(self, latest):
        return pick_result(self.rng, latest)

    def _reason(self, result):
        return pick_reason(self.rng, result)

    def _job_sessions(self, job, days, forced):
        """Nightly sessions; the newest may still run; failed ones are sometimes retried."""
        rng = self.rng
        today = self.now_us - self.now_us % DAY_US
        running_latest = job['job_type'] == 'Backup' and self.jobs.index(job) % 4 == 0
        starts = []
        for back in range(days, -1, -1):
            start = today - back * DAY_US + job['start_minute'] * MINUTE_US + rng.randint(0, 59999999)
            if back == 0 and running_latest:
                start = self.now_us - rng.randint(5, 50) * MINUTE_US - rng.randint(0, 59999999)
            if start <= self.now_us:
                starts.append(start)
        for number, start in enumerate(starts):
            latest = number == len(starts) - 1
            running = latest and running_latest
            outcomes = []
            for index, vm in enumerate(job['vms']):
                if latest and vm['name'] in SPECIAL_VMS and job['job_type'] == 'Backup':
                    outcome = _FORCED_RESULTS[forced % len(_FORCED_RESULTS)]
                    forced += 1
                    if outcome == 'running' and not running:
                        outcome = 'Failed'
                elif running and index % 2:
                    outcome = 'running'
                else:
                    outcome = self._pick_result(latest)
                outcomes.append(outcome)
            session = self._job_session_rows(job, start, job['vms'], outcomes, False)
            if session['result'] == 'Failed' and not latest and rng.random() < 0.5:
                retry_start = session['end'] + rng.randint(10, 30) * MINUTE_US
                failed = [vm for vm, outcome in zip(job['vms'], outcomes) if outcome == 'Failed']
                if retry_start + 3 * HOUR_US < starts[number + 1] and failed:
                    retry_outcomes = [self._pick_result(False) for _vm in failed]
                    self._job_session_rows(job, retry_start, failed, retry_outcomes, True)
        return forced

    def _job_session_rows(self, job, start, vms, outcomes, is_retry):
        rng = self.rng
        backup = job['job_type'] == 'Backup'
        kind = 'BackupJobSession' if backup else 'ReplicaJobSession'
        sid = self.new_id()
        server = job['server']
        session = {
            'id': sid, 'uid': 'urn:veeam:%s:%s' % (kind, sid), 'name': '%s@%s' % (job['name'], format_name_time(start)),
            'job': job, 'job_uid': job['uid'], 'job_name': job['name'], 'job_type': job['job_type'],
            'creation': start, 'end': None, 'state': 'Working', 'result': 'None', 'progress': 0,
            'failure_message': '', 'is_retry': is_retry, 'server': server,
            'server_uid': server['uid'], 'server_name': server['name'],
        }
        task_kind = 'BackupTaskSession' if backup else 'ReplicaTaskSession'
        cursor = start + rng.randint(5, 20) * 1000000
        last_end = cursor
        worst = 'Success'
        running = False
        done = 0
        for vm, outcome in zip(vms, outcomes):
            tid = self.new_id()
            task_start = cursor
            cursor += rng.randint(3, 60) * 1000000 + rng.randint(0, 999) * 1000
            task = {
                'id': tid, 'uid': 'urn:veeam:%s:%s' % (task_kind, tid), 'name': '%s@%s' % (vm['name'], format_name_time(task_start)),
                'vm_name': vm['name'], 'vm_uid': vm['uid'], 'job_session': session, 'job_session_uid': session['uid'],
                'job_session_name': session['name'], 'job_uid': job['uid'], 'job_name': job['name'],
                'server': server, 'server_uid': server['uid'], 'server_name': server['name'],
                'creation': task_start, 'total_size': vm['size'],
            }
            if outcome == 'running' or task_start > self.now_us:
                task.update(end=None, state='InProgress', result='None', reason='')
                running = True
            else:
                end = task_start + rng.randint(1, 40) * MINUTE_US + rng.randint(0, 59999999)
                if end >= self.now_us and task_start < self.now_us - 2 * MINUTE_US:
                    # A task of a still-running job that was asked to finish: it finished just now.
                    end = self.now_us - rng.randint(1, 60) * 1000000
                if end >= self.now_us:
                    task.update(end=None, state='InProgress', result='None', reason='')
                    running = True
                else:
                    task.update(end=end, state='Completed', result=outcome, reason=self._reason(outcome))
                    last_end = max(last_end, end)
                    worst = max(worst, outcome, key=('Success', 'Warning', 'Failed').index)
                    done += 1
            self.rows[task_kind].append(task)
        if running:
            session['progress'] = done * 100 // max(1, len(vms))
        else:
            session.update(end=last_end + rng.randint(2, 15) * 1000000, state='Stopped', result=worst, progress=100)
            if worst == 'Failed':
                session['failure_message'] = 'Processing finished with errors for one or more VMs.'
        self.rows[kind].append(session)
        return session

    def _cdp_sessions(self, policy, days):
        """A CDP policy session lasts 24 hours; a new one starts when the previous one ends."""
        rng = self.rng
        first = self.now_us - self.now_us % DAY_US - days * DAY_US + policy['start_minute'] * MINUTE_US
        server = policy['server']
        start = first
        while start <= self.now_us:
            sid = self.new_id()
            end = start + DAY_US - rng.randint(1, 9) * 1000000
            running = end > self.now_us
            session = {
                'id': sid, 'uid': 'urn:veeam:CdpReplicaSession:' + sid, 'name': '%s@%s' % (policy['name'], format_name_time(start)),
                'policy': policy, 'policy_uid': policy['uid'], 'policy_name': policy['name'], 'policy_type': 'CdpReplica',
                'creation': start, 'end': None if running else end, 'state': 'Working' if running else 'Stopped',
                'result': 'None', 'progress': 0 if running else 100, 'failure_message': '', 'is_retry': False,
                'server': server, 'server_uid': server['uid'], 'server_name': server['name'],
            }
            worst = 'Success'
            for vm in policy['vms']:
                tid = self.new_id()
                task_start = start + rng.randint(5, 120) * 1000000
                outcome = self._pick_result(running)
                task = {
                    'id': tid, 'uid': 'urn:veeam:CdpReplicaTaskSession:' + tid,
                    'name': '%s@%s' % (vm['name'], format_name_time(task_start)), 'vm_name': vm['name'], 'vm_uid': vm['uid'],
                    'job_session': session, 'job_session_uid': session['uid'], 'job_session_name': session['name'],
                    'server': server, 'server_uid': server['uid'], 'server_name': server['name'],
                    'creation': task_start, 'total_size': vm['size'], 'result': outcome, 'reason': self._reason(outcome),
                    'end': None if running else end - rng.randint(1, 5) * 1000000,
                    'state': 'InProgress' if running else 'Completed',
                }
                worst = max(worst, outcome, key=('Success', 'Warning', 'Failed').index)
                self.rows['CdpReplicaTaskSession'].append(task)
            if not running:
                session['result'] = worst
                if worst == 'Failed':
                    session['failure_message'] = 'One or more VMs failed to replicate.'
            self.rows['CdpReplicaSession'].append(session)
            start = end + rng.randint(1, 5) * 1000000

    def _restore_sessions(self, count, days):
        rng = self.rng
        jobs = [job for job in self.jobs if job['job_type'] == 'Backup']
        for _number in range(count):
            job = rng.choice(jobs)
            vm = rng.choice(job['vms'])
            restore_type = rng.choice(('RestoreVm', 'FileLevelRestore'))
            start = self.now_us - rng.randint(HOUR_US, days * DAY_US)
            end = start + rng.randint(2, 90) * MINUTE_US
            sid = self.new_id()
            result = self._pick_result(False)
            self.rows['RestoreSession'].append({
                'id': sid, 'uid': 'urn:veeam:RestoreSession:' + sid, 'name': '%s@%s' % (restore_type, format_name_time(start)),
                'job_uid': job['uid'], 'job_name': job['name'], 'job_type': restore_type, 'restore_type': restore_type,
                'creation': start, 'end': end if end < self.now_us else None,
                'state': 'Stopped' if end < self.now_us else 'Working',
                'result': result if end < self.now_us else 'None', 'progress': 100 if end < self.now_us else 50,
                'failure_message': '' if result != 'Failed' else 'Restore failed: the datastore is out of space.',
                'vm_name': vm['name'], 'server': job['server'], 'server_uid': job['server']['uid'],
                'server_name': job['server']['name'],
            })

    def catalog(self):
        """A JSON-able summary for tests and demos: names they can query by."""
        return {
            'seed': self.seed,
            'now': format_utc(self.now_us),
            'backup_servers': [{'name': s['name'], 'uid': s['uid']} for s in self.servers],
            'jobs': [{'name': j['name'], 'type': j['job_type'], 'uid': j['uid'], 'backup_server': j['server']['name'],
                      'vms': [vm['name'] for vm in j['vms']]} for j in self.jobs],
            'cdp_policies': [{'name': p['name'], 'uid': p['uid'], 'backup_server': p['server']['name'],
                              'vms': [vm['name'] for vm in p['vms']]} for p in self.policies],
            'special_vm_names': list(SPECIAL_VMS),
            'vm_count': len({vm['name'] for owner in self.jobs + self.policies for vm in owner['vms']}),
            'counts': {kind: len(rows) for kind, rows in self.rows.items()},
        }
