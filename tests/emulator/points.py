"""Restore points, backups, backup files, hierarchy roots and Veeam Agent protection.

Consistent with the generated sessions, and generated without touching the
session generator's RNG, so the seeded sessions stay byte-identical:

* at start (cheap): one hierarchy root per backup server, one backup per
  backup job, VMs that only have old points ("retired": no job, no session),
  Veeam Agent backup jobs and their nightly sessions (``BackupJobSession``
  rows with ``JobType`` ``AgentBackup`` and one ``AgentManagement`` child per
  computer);
* on the first request that needs them (:meth:`Protection.materialize`):
  ``RestorePoint``, ``BackupFile``, ``VmRestorePoint``, ``VmReplicaPoint``
  and ``AgentRestorePoint`` rows. A successful (Success or Warning) backup or
  replica task session, or agent child session, made one point; points older
  than the session history follow the jobs' retention (weekly fulls).

A point made by a task session has an id derived from the task's id, so the
task's ``Related`` link is known without the point table (see :func:`point_id`).
"""

from __future__ import annotations

import hashlib
import random
import uuid

from .data import DAY_US, GIB, MINUTE_US, format_name_time, format_utc, pick_reason, pick_result

LAZY_KINDS = ('RestorePoint', 'BackupFile', 'VmRestorePoint', 'VmReplicaPoint', 'AgentRestorePoint')
EAGER_KINDS = ('HierarchyRoot', 'Backup', 'AgentBackupJob')
POINT_RESULTS = ('Success', 'Warning')
_POINT_TYPES = ('VmRestorePoint', 'VmReplicaPoint', 'AgentRestorePoint')
# VMware hierarchy roots get vCenter names in server order.
_VCENTERS = ('vc01.corp.example.com', 'vc02.corp.example.com', 'vc-dr.corp.example.com')
_AGENT_JOBS = (
    ('Physical Servers', 'AgentForWindows', ('PHYS-SQL-01', 'phys-fs-01', 'phys-dc-01', 'phys-exch-01', 'phys-app-01')),
    ('Linux Agents', 'AgentForLinux', ('rhel-app-01', 'ubuntu-db-01', 'sles-erp-01', 'debian-web-01')),
)
_RETIRED_AGENT = 'phys-old-01'
_REPLICA_RETENTION = 7
_MONTHS = ('Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec')


def derived_id(prefix, base_id):
    """A stable GUID derived from another row's id (so links are known before the row exists)."""
    digest = hashlib.md5(('%s:%s' % (prefix, base_id)).encode('utf-8')).hexdigest()  # nosec: an id, not a secret
    # The version 4 GUID uuid.UUID(bytes=..., version=4) would give, built without the object (thousands per second).
    return '%s-%s-4%s-%s%s-%s' % (digest[:8], digest[8:12], digest[13:16], '89ab'[int(digest[16], 16) & 3], digest[17:20],
                                  digest[20:32])


def point_id(task):
    """Id of the VmRestorePoint/VmReplicaPoint/AgentRestorePoint a successful task (or agent child session) made."""
    return derived_id('point', task['id'])


def point_name(name, creation):
    """``<vm or computer>@yyyy-MM-dd HH:mm:ss`` as in the docs' examples."""
    return '%s@%s' % (name, format_name_time(creation))


def made_point(task):
    """Whether a task session (or agent child session) produced a restore point: it completed with Success or Warning.

    A session added with ``made_point`` (``POST /_emulator/sessions``) says so itself: a Failed session that left a
    point (EM's docs are silent on whether one can; the gate must not trust a point its session disowns).
    """
    if task.get('end') is None:
        return False
    if task.get('made_point') is not None:
        return task['made_point']
    return task.get('result') in POINT_RESULTS


def sql_time_name(us):
    """SQL Server's ``Mon dd yyyy hh:mmAM`` form EM uses for RestorePoint names (``Oct  6 2016  1:59PM``)."""
    text = format_utc(us)
    year, month, day = int(text[:4]), int(text[5:7]), int(text[8:10])
    hour, minute = int(text[11:13]), int(text[14:16])
    return '%s %2d %d %2d:%02d%s' % (_MONTHS[month - 1], day, year, (hour % 12) or 12, minute, 'AM' if hour < 12 else 'PM')


def _file_time(us):
    return format_utc(us)[:19].replace(':', '')


def _server_fields(server):
    return {'server': server, 'server_uid': server['uid'], 'server_name': server['name']}


class Protection:
    """Backups and restore points of one data set; see the module docstring for what is eager and what lazy."""

    def __init__(self, dataset, days):
        self.dataset = dataset
        self.days = days
        self.ready = False
        rng = random.Random('emulator-points:%d' % dataset.seed)
        self.rng = rng
        self.lazy_rng = random.Random('emulator-points-lazy:%d' % dataset.seed)
        self.roots = []
        self.backups = []
        self.backup_of = {}
        self.agent_jobs = []
        self.agent_sessions = []
        self.retired_vms = []
        self.retired_computers = [_RETIRED_AGENT]
        self.uncollected = []
        self.chains = set()
        # Only the generated history has points older than its oldest session: jobs, and VMs of a job, added at run time
        # start fresh. Job id -> the names of the VMs it had at start.
        self.history = {job['id']: {vm['name'] for vm in job['vms']} for job in dataset.jobs}
        self._make_roots()
        self._make_backups()
        self._make_retired()
        self._make_agents()
        self.history.update((job['id'], set(job['computers'])) for job in self.agent_jobs)

    def _id(self):
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    # -- eager -------------------------------------------------------------------------------

    def _make_roots(self):
        for index, server in enumerate(self.dataset.servers):
            rid = server['hierarchy_root']
            row = {'id': rid, 'uid': 'urn:veeam:HierarchyRoot:' + rid, 'name': _VCENTERS[index % len(_VCENTERS)],
                   'unique_id': str(uuid.UUID(int=self.rng.getrandbits(128), version=4)).upper(), 'host_type': 'VC'}
            row.update(_server_fields(server))
            self.roots.append(row)

    def new_backup(self, name, server, job=None, platform='VMware', backup_type='Standard'):
        """A Backup row (a job's backup chain, or one left by a deleted job when ``job`` is None)."""
        bid = derived_id('backup', job['id']) if job is not None else self._id()
        repository = derived_id('repository', server['id'])
        row = {'id': bid, 'uid': 'urn:veeam:Backup:' + bid, 'name': name, 'job': job,
               'job_uid': job['uid'] if job else '', 'job_name': job['name'] if job else '', 'platform': platform,
               'backup_type': backup_type, 'repository_id': repository, 'repository_uid': 'urn:veeam:Repository:' + repository,
               'repository_name': 'Default Backup Repository'}
        row.update(_server_fields(server))
        self.backups.append(row)
        if job is not None:
            self.backup_of[job['id']] = row
        return row

    def backup_for(self, job):
        """The backup of a backup or agent job, created on first use (jobs added at run time)."""
        backup = self.backup_of.get(job['id'])
        if backup is None:
            agent = job.get('job_type') == 'AgentBackup'
            backup = self.new_backup(job['name'], job['server'], job, job['platform'] if agent else 'VMware',
                                     'ParentBackup' if agent else 'Standard')
            self.dataset.by_id['Backup'][backup['id']] = backup
            self.dataset.rows['Backup'] = list(self.backups)
        return backup

    def _make_backups(self):
        for job in self.dataset.jobs:
            if job['job_type'] == 'Backup':
                self.new_backup(job['name'], job['server'], job)

    def _make_retired(self):
        """VMs whose job was deleted: points kept by retention, no session in the last 30 days."""
        servers = self.dataset.servers
        count = max(3, len({vm['name'] for job in self.dataset.jobs for vm in job['vms']}) // 40)
        server = servers[0]
        self.legacy_backup = self.new_backup('Legacy Backup (deleted job)', server)
        for number in range(count):
            self.retired_vms.append({
                'name': 'old-app-%02d' % (number + 1),
                'size': self.rng.choice((40, 60, 80, 100)) * GIB,
                'uid': 'urn:VMware:Vm:%s.vm-%d' % (server['hierarchy_root'], self.rng.randint(100000, 199999)),
            })

    def _make_agents(self):
        dataset = self.dataset
        rng = self.rng
        servers = dataset.servers
        for number, (name, platform, pool) in enumerate(_AGENT_JOBS):
            jid = self._id()
            server = servers[number % len(servers)]
            computers = list(pool[:rng.randint(3, len(pool))])
            job = {'id': jid, 'uid': 'urn:veeam:AgentBackupJob:' + jid, 'name': name, 'job_type': 'AgentBackup',
                   'platform': platform, 'description': 'Veeam Agent backup of physical servers',
                   'schedule_configured': True, 'schedule_enabled': True, 'computers': computers,
                   'start_minute': 22 * 60 + rng.randint(0, 90)}
            job.update(_server_fields(server))
            self.agent_jobs.append(job)
            self.new_backup(name, server, job, platform, 'ParentBackup')
        today = dataset.now_us - dataset.now_us % DAY_US
        forced_failed = self.agent_jobs[0]['computers'][-1]
        for job in self.agent_jobs:
            for back in range(self.days, 0, -1):
                start = today - back * DAY_US + job['start_minute'] * MINUTE_US + rng.randint(0, 59999999)
                outcomes = []
                for computer in job['computers']:
                    outcome = pick_result(rng, back == 1)
                    if back == 1 and computer == forced_failed:
                        outcome = 'Failed'
                    outcomes.append(outcome)
                self.add_agent_run(job, start, list(zip(job['computers'], outcomes)), rng)

    def add_agent_run(self, job, start, outcomes, rng, running=False, now_us=None):
        """An AgentBackup session with one AgentManagement child per ``(computer, result)``; returns (parent, children).

        ``running`` leaves every child (and the parent) in progress; no end is later than ``now_us`` (default: the
        data's anchor). Rows are returned, not published.
        """
        now_us = self.dataset.now_us if now_us is None else now_us
        pid = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        parent = self._job_session_row(pid, job, job['name'], 'AgentBackup', start)
        children = []
        cursor = start + rng.randint(5, 30) * 1000000
        last_end = cursor
        for computer, outcome in outcomes:
            cid = str(uuid.UUID(int=rng.getrandbits(128), version=4))
            child = self._job_session_row(cid, job, '%s - %s' % (job['name'], computer), 'AgentManagement', cursor)
            child.update(parent_session=parent, computer_name=computer)
            if not running:
                end = cursor + rng.randint(2, 50) * MINUTE_US + rng.randint(0, 59999999)
                end = min(end, now_us - rng.randint(1, 600) * 1000000) if end >= now_us else end
                end = min(max(end, cursor + 1000000), max(now_us, cursor))
                child.update(end=end, state='Stopped', result=outcome, progress=100,
                             failure_message=pick_reason(rng, outcome) if outcome == 'Failed' else '')
                last_end = max(last_end, end)
            children.append(child)
            cursor += rng.randint(1, 20) * 1000000
        if not running:
            worst = max((outcome for _computer, outcome in outcomes), key=('Success', 'Warning', 'Failed').index)
            parent.update(end=last_end + rng.randint(2, 15) * 1000000, state='Stopped', result=worst, progress=100,
                          failure_message='Processing finished with errors for one or more computers.' if worst == 'Failed'
                          else '')
        self.agent_sessions.append(parent)
        self.agent_sessions.extend(children)
        return parent, children

    @staticmethod
    def _job_session_row(sid, job, job_name, job_type, start):
        row = {'id': sid, 'uid': 'urn:veeam:BackupJobSession:' + sid, 'name': '%s@%s' % (job_name, format_name_time(start)),
               'job': job, 'job_uid': job['uid'], 'job_name': job_name, 'job_type': job_type, 'creation': start, 'end': None,
               'state': 'Working', 'result': 'None', 'progress': 0, 'failure_message': '', 'is_retry': False}
        row.update(_server_fields(job['server']))
        return row

    def install(self):
        """Publish the eager rows into the data set (called once, before the indexes are built)."""
        rows = self.dataset.rows
        rows['HierarchyRoot'] = list(self.roots)
        rows['Backup'] = list(self.backups)
        rows['AgentBackupJob'] = list(self.agent_jobs)
        sessions = rows['BackupJobSession'] + self.agent_sessions
        sessions.sort(key=lambda row: row['creation'])
        rows['BackupJobSession'] = sessions
        for kind in LAZY_KINDS:
            rows[kind] = []

    # -- lookup ------------------------------------------------------------------------------

    def vms_on_root(self, root_id):
        """``{name: vm record}`` of the VMs a hierarchy root holds (backup jobs' records first, then others)."""
        found = {}
        dataset = self.dataset
        owners = ([job for job in dataset.jobs if job['job_type'] == 'Backup'] +
                  [job for job in dataset.jobs if job['job_type'] != 'Backup'] + list(dataset.policies))
        for owner in owners:
            for vm in owner['vms']:
                if vm['uid'].split(':')[3].split('.')[0] == root_id:
                    found.setdefault(vm['name'], vm)
        for vm in self.retired_vms:
            if vm['uid'].split(':')[3].split('.')[0] == root_id:
                found.setdefault(vm['name'], vm)
        return found

    # -- lazy --------------------------------------------------------------------------------

    def materialize(self):
        """Build every restore point, restore point container and backup file (once; callers hold the data lock)."""
        if self.ready:
            return
        dataset = self.dataset
        built = {kind: [] for kind in LAZY_KINDS}
        rng = self.lazy_rng
        self._older_points(built, rng)
        self._session_points(built, rng)
        self._replica_points(built)
        self._agent_points(built, rng)
        for kind, rows in built.items():
            rows.sort(key=lambda row: row['creation'])
            dataset.by_id[kind] = {row['id']: row for row in rows}
            dataset.rows[kind] = rows
        dataset.version += 1
        self.ready = True

    def _container(self, built, backup, creation, owner_id, full, rng, file_stem):
        """A RestorePoint and its BackupFile for one run of ``backup``."""
        rp_id = derived_id('restorepoint', owner_id)
        server = backup['server']
        rp = {'id': rp_id, 'uid': 'urn:veeam:RestorePoint:' + rp_id, 'name': sql_time_name(creation), 'creation': creation,
              'backup': backup, 'backup_uid': backup['uid'], 'backup_name': backup['name']}
        rp.update(_server_fields(server))
        bf_id = derived_id('backupfile', owner_id)
        file_type = 'vbk' if full else 'vib'
        name = '%sD%s.%s' % (file_stem, _file_time(creation), file_type)
        data_size = rng.randint(8, 400) * GIB if full else rng.randint(1, 40) * GIB
        compress = rng.choice((1.4, 1.7, 2.0, 2.3))
        bf = {'id': bf_id, 'uid': 'urn:veeam:BackupFile:' + bf_id, 'name': name, 'creation': creation,
              'file_path': 'D:\\Backups\\%s\\%s' % (backup['name'], name), 'data_size': data_size,
              'backup_size': int(data_size / compress), 'dedup_ratio': rng.choice((1.0, 1.2, 1.5)), 'compress_ratio': compress,
              'file_type': file_type, 'backup': backup, 'backup_uid': backup['uid'], 'backup_name': backup['name'],
              'restore_point': rp}
        bf.update(_server_fields(server))
        rp['backup_file'] = bf
        built['RestorePoint'].append(rp)
        built['BackupFile'].append(bf)
        return rp, bf

    def _vm_point(self, kind, pid, name, creation, vm_name, vm_uid, rp, bf, backup, weekly_full=False):
        chain = (backup['id'], vm_name)
        if chain not in self.chains:
            algorithm, point_type = 'Full', 'Full'
            self.chains.add(chain)
        elif weekly_full:
            algorithm, point_type = 'SyntheticFull', 'Full'
        else:
            algorithm, point_type = 'Incremental', 'Increment'
        row = {'id': pid, 'uid': 'urn:veeam:%s:%s' % (kind, pid), 'name': point_name(name, creation), 'creation': creation,
               'algorithm': algorithm, 'point_type': point_type, 'restore_point': rp, 'restore_point_uid': rp['uid'],
               'restore_point_name': rp['name'], 'backup_file': bf, 'backup_file_uid': bf['uid'],
               'backup_file_name': bf['name'], 'backup': backup, 'backup_uid': backup['uid'], 'backup_name': backup['name']}
        row.update(_server_fields(backup['server']))
        if kind == 'AgentRestorePoint':
            row['computer_name'] = vm_name
        else:
            row.update(vm_name=vm_name, vm_uid=vm_uid)
        return row

    def _older_points(self, built, rng):
        """Weekly fulls kept by retention before the oldest session, and the retired VMs' points."""
        dataset = self.dataset
        oldest = {}
        for session in dataset.rows['BackupJobSession']:
            job = session.get('job')
            if job is not None and session['job_type'] in ('Backup', 'AgentBackup'):
                oldest.setdefault(job['id'], session['creation'])
        for job in list(dataset.jobs) + self.agent_jobs:
            if job['job_type'] not in ('Backup', 'AgentBackup') or job['id'] not in oldest:
                continue
            if job['job_type'] == 'Backup' and job['id'] not in self.history:
                continue
            backup = self.backup_for(job)
            agent = job['job_type'] == 'AgentBackup'
            weeks = rng.randint(2, 8)
            for week in range(weeks, 0, -1):
                creation = oldest[job['id']] - week * 7 * DAY_US - rng.randint(0, 3599) * 1000000
                owner = '%s:week%d' % (job['id'], week)
                rp, bf = self._container(built, backup, creation, owner, True, rng, job['name'])
                members = [name for name in (job['computers'] if agent else [vm['name'] for vm in job['vms']])
                           if name in self.history[job['id']]]
                uids = {} if agent else {vm['name']: vm['uid'] for vm in job['vms']}
                for offset, member in enumerate(members):
                    at = creation + (offset + 1) * rng.randint(20, 300) * 1000000
                    pid = derived_id('older', '%s:%s' % (owner, member))
                    kind = 'AgentRestorePoint' if agent else 'VmRestorePoint'
                    built[kind].append(self._vm_point(kind, pid, member, at, member, uids.get(member), rp, bf, backup, True))
        backup = self.legacy_backup
        for vm in self.retired_vms:
            self._retired_chain(built, rng, backup, vm['name'], vm['uid'], 'VmRestorePoint')
        agent_backup = self.backup_of[self.agent_jobs[0]['id']]
        self._retired_chain(built, rng, agent_backup, _RETIRED_AGENT, None, 'AgentRestorePoint')

    def _retired_chain(self, built, rng, backup, name, uid, kind):
        first = self.dataset.now_us - rng.randint(35, 60) * DAY_US
        weeks = rng.randint(2, 6)
        for week in range(weeks, -1, -1):
            creation = first - week * 7 * DAY_US + rng.randint(0, 3599) * 1000000
            owner = 'retired:%s:%d' % (name, week)
            rp, bf = self._container(built, backup, creation, owner, True, rng, '%s - %s' % (backup['name'], name))
            pid = derived_id('retired', owner)
            built[kind].append(self._vm_point(kind, pid, name, creation + 60000000, name, uid, rp, bf, backup, True))

    def _session_points(self, built, rng):
        dataset = self.dataset
        tasks = {}
        for task in dataset.rows['BackupTaskSession']:
            if made_point(task):
                tasks.setdefault(task['job_session']['id'], []).append(task)
        for session in dataset.rows['BackupJobSession']:
            made = tasks.get(session['id'])
            if made:
                self._run_points(built, rng, session, made)

    def _run_points(self, built, rng, session, tasks):
        job = session['job']
        backup = self.backup_for(job)
        weekly = (session['creation'] // DAY_US + 4) % 7 == 5  # Saturdays: a synthetic full
        rp, bf = self._container(built, backup, session['creation'], session['id'], weekly, rng, job['name'])
        for task in tasks:
            built['VmRestorePoint'].append(self._vm_point('VmRestorePoint', point_id(task), task['vm_name'], task['end'],
                                                          task['vm_name'], task['vm_uid'], rp, bf, backup, weekly))
        return rp

    def _replica_points(self, built):
        newest = {}
        for task in self.dataset.rows['ReplicaTaskSession']:
            if made_point(task):
                newest.setdefault((task['job_uid'], task['vm_name']), []).append(task)
        for tasks in newest.values():
            for number, task in enumerate(tasks[-_REPLICA_RETENTION:]):
                built['VmReplicaPoint'].append(self._replica_point(task, number == 0))

    def _replica_point(self, task, first):
        pid = point_id(task)
        job = task['job_session']['job']
        row = {'id': pid, 'uid': 'urn:veeam:VmReplicaPoint:' + pid, 'name': point_name(task['vm_name'], task['end']),
               'creation': task['end'], 'vm_name': task['vm_name'], 'algorithm': 'Full' if first else 'Incremental',
               'point_type': 'Snapshot', 'replica_id': derived_id('replica', job['id']),
               'replica_uid': 'urn:veeam:Replica:' + derived_id('replica', job['id']), 'replica_name': job['name']}
        row.update(_server_fields(task['server']))
        return row

    def _agent_points(self, built, rng):
        for child in self.dataset.rows['BackupJobSession']:
            if child['job_type'] == 'AgentManagement' and made_point(child):
                self._agent_point(built, rng, child)

    def _agent_point(self, built, rng, child):
        job = child['job']
        backup = self.backup_for(job)
        full = (child['creation'] // DAY_US + 4) % 7 == 5
        rp, bf = self._container(built, backup, child['creation'], child['id'], full, rng, child['job_name'])
        built['AgentRestorePoint'].append(self._vm_point('AgentRestorePoint', point_id(child), child['computer_name'],
                                                         child['end'], child['computer_name'], None, rp, bf, backup, full))

    # -- run time ----------------------------------------------------------------------------

    def sessions_finished(self, rows_by_kind):
        """Add the points that newly completed task sessions made (``{kind: [rows]}``; callers hold the data lock)."""
        if not self.ready:
            return  # materialize() derives them from the rows when it runs
        built = {kind: [] for kind in LAZY_KINDS}
        rng = self.lazy_rng
        by_session = {}
        for task in rows_by_kind.get('BackupTaskSession', ()):
            if made_point(task) and point_id(task) not in self.dataset.by_id['VmRestorePoint']:
                by_session.setdefault(task['job_session']['id'], (task['job_session'], []))[1].append(task)
        for session, tasks in by_session.values():
            self._run_points(built, rng, session, tasks)
        for task in rows_by_kind.get('ReplicaTaskSession', ()):
            if made_point(task) and point_id(task) not in self.dataset.by_id['VmReplicaPoint']:
                known = any(row['vm_name'] == task['vm_name'] for row in self.dataset.rows['VmReplicaPoint'])
                built['VmReplicaPoint'].append(self._replica_point(task, not known))
        for child in rows_by_kind.get('BackupJobSession', ()):
            if child['job_type'] == 'AgentManagement' and made_point(child) and point_id(child) not in self.dataset.by_id['AgentRestorePoint']:
                self._agent_point(built, rng, child)
        self.publish(built)

    def publish(self, built):
        """Insert rows ``{kind: [rows]}`` in creation order (new lists, one assignment each)."""
        dataset = self.dataset
        changed = False
        for kind, new_rows in built.items():
            if not new_rows:
                continue
            rows = sorted(list(dataset.rows[kind]) + new_rows, key=lambda row: row['creation'])
            dataset.by_id[kind].update((row['id'], row) for row in new_rows)
            dataset.rows[kind] = rows
            changed = True
        if changed:
            dataset.version += 1

    def add_point(self, kind, owner, name, uid, creation, point_type=None, collected=True):
        """Add one point without a session (``POST /_emulator/points``); returns the point row.

        With ``collected`` False the point (and its restore point and backup file) stays on the backup server until
        EM collects (``?action=collect``, :meth:`collect`): EM's collection lag.
        """
        built = {key: [] for key in LAZY_KINDS}
        rng = self.lazy_rng
        pid = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        if kind == 'VmReplicaPoint':
            task = {'id': pid, 'vm_name': name, 'end': creation, 'job_session': {'job': owner}, 'server': owner['server']}
            known = any(row['vm_name'] == name for row in self.dataset.rows['VmReplicaPoint'])
            row = self._replica_point(task, not known)
            built[kind].append(row)
        else:
            backup = self.backup_for(owner) if owner is not None else self.legacy_backup
            full = point_type == 'Full'
            stem = '%s - %s' % (backup['name'], name) if kind == 'AgentRestorePoint' else backup['name']
            rp, bf = self._container(built, backup, creation, 'added:' + pid, full, rng, stem)
            row = self._vm_point(kind, pid, name, creation, name, uid, rp, bf, backup, full)
            built[kind].append(row)
        if collected:
            self.publish(built)
        else:
            self.uncollected.append(built)
        return row

    def collect(self):
        """EM collects: every point held back by ``collected: false`` shows (callers hold the data lock); returns how many."""
        held, self.uncollected = self.uncollected, []
        for built in held:
            self.publish(built)
        return sum(len(rows) for built in held for kind, rows in built.items() if kind in _POINT_TYPES)

    def ensure(self):
        """Materialize the restore points if nobody has yet (takes the data lock)."""
        if not self.ready:
            with self.lock:
                self.materialize()

    def has_point(self, backup, vm_name):
        """Whether ``vm_name`` has a restore point in ``backup`` (the full backup quick backup needs)."""
        return any(row['backup'] is backup and row['vm_name'] == vm_name for row in self.dataset.rows['VmRestorePoint'])

    def catalog(self):
        """Catalog entries about protection (all from the eager part: no restore point is generated for it)."""
        return {
            'hierarchy_roots': [{'name': r['name'], 'uid': r['uid'], 'backup_server': r['server_name']} for r in self.roots],
            'agent_jobs': [{'name': j['name'], 'uid': j['uid'], 'platform': j['platform'], 'backup_server': j['server_name'],
                            'computers': list(j['computers'])} for j in self.agent_jobs],
            'retired_vms': [vm['name'] for vm in self.retired_vms],
            'retired_computers': list(self.retired_computers),
        }


def _history_days(dataset):
    """Nights of session history the generator made (3 to 28)."""
    sessions = dataset.rows['BackupJobSession']
    if not sessions:
        return 3
    today = dataset.now_us - dataset.now_us % DAY_US
    oldest = sessions[0]['creation']
    return max(3, min(28, -((oldest - today) // DAY_US)))


def attach(dataset, lock):
    """Give ``dataset`` its :class:`Protection` (once) and publish the eager rows; ``lock`` guards later changes."""
    protection = getattr(dataset, 'protection', None)
    if protection is None:
        protection = Protection(dataset, _history_days(dataset))
        protection.install()
        for kind in EAGER_KINDS + LAZY_KINDS + ('BackupJobSession',):
            dataset.by_id[kind] = {row['id']: row for row in dataset.rows[kind]}
        dataset.protection = protection
    protection.lock = lock
    return protection
