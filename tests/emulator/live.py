"""Sessions that change while the emulator runs: running sessions finish, tests add sessions.

Once the server runs, a published row is never modified in place: a change
builds new row dicts and new lists and publishes each list with one
assignment. A query reads ``dataset.rows[kind]`` once, so it always sees a
consistent snapshot (every row wholly before or wholly after a change)
without taking a lock; writers serialise on :attr:`Live.lock`.

Times: the emulator's clock is ``origin + seconds since start``, where origin
is ``--now`` when given (so finish times are reproducible) and the wall clock
at start otherwise (so relative times such as ``-30m`` mean what a client
computing from its own clock expects).
"""

from __future__ import annotations

import heapq
import itertools
import random
import re
import threading
import time
import uuid

from . import points
from .data import GIB, format_name_time, format_utc, pick_reason
from .query import parse_datetime

RESULTS = ('Success', 'Warning', 'Failed')
TASK_PARENTS = {'BackupTaskSession': 'BackupJobSession', 'ReplicaTaskSession': 'ReplicaJobSession',
                'CdpReplicaTaskSession': 'CdpReplicaSession'}
PARENT_TASKS = {parent: task for task, parent in TASK_PARENTS.items()}
FINISHABLE = tuple(TASK_PARENTS) + tuple(PARENT_TASKS) + ('RestoreSession',)
# CDP is continuous (a policy session is a 24-hour window whose tasks carry a live Result), so only these
# finish on a schedule, by VM name or with "all"; a CDP session finishes only when named by UID.
SCHEDULED = ('BackupTaskSession', 'ReplicaTaskSession', 'RestoreSession')
_FINISHABLE_LOWER = {kind.lower(): kind for kind in FINISHABLE}
_JOB_TYPES = {'BackupTaskSession': 'Backup', 'ReplicaTaskSession': 'Replica', 'CdpReplicaTaskSession': 'CDP policy'}
_RELATIVE_RE = re.compile(r'^-(?=\d)(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$')
_TIME_HELP = ('an ISO-8601 time such as "2025-08-15T21:40:00Z", "now", or a time relative to the emulator\'s clock '
              'such as "-2d", "-30m" or "-1h30m"')
_FINISH_KEYS = ('vm_names', 'uids', 'all', 'result', 'reason')
_ADD_KEYS = ('type', 'vm_name', 'job_name', 'state', 'result', 'reason', 'created', 'end', 'finish_after',
             'finish_result', 'finish_reason', 'made_point')
_WORST = {'Success': 0, 'Warning': 1, 'Failed': 2}
_JOB_FAILURE = 'Processing finished with errors for one or more VMs.'
_CDP_FAILURE = 'One or more VMs failed to replicate.'
_RESTORE_FAILURE = 'Restore failed: the datastore is out of space.'


class ControlError(ValueError):
    """A control request that cannot be applied; the message says what was wrong and what is expected."""


def _worst(results):
    return max(results, key=lambda result: _WORST.get(result, -1), default='Success')


def _finish_outcome(rng):
    """Result and reason of a session that finishes without a chosen result: mostly Success."""
    roll = rng.random()
    result = 'Success' if roll < 0.75 else 'Warning' if roll < 0.9 else 'Failed'
    return result, pick_reason(rng, result)


def _running(row):
    return row['end'] is None


def _insert_position(rows, creation):
    """Index after the last row created at or before ``creation`` (rows are in creation order)."""
    low, high = 0, len(rows)
    while low < high:
        middle = (low + high) // 2
        if rows[middle]['creation'] <= creation:
            low = middle + 1
        else:
            high = middle
    return low


class ChildIndex:
    """Parent id -> child ids, built lazily per (kind, key) and rebuilt after rows were added.

    Children are resolved through ``by_id`` so a finished child is seen at once.
    """

    def __init__(self, dataset):
        self.dataset = dataset
        self._lock = threading.Lock()
        self._indexes = {}

    def children(self, kind, key, parent_id):
        """Rows of ``kind`` whose ``key`` points at the parent with ``parent_id``, in creation order."""
        dataset = self.dataset
        with self._lock:
            version = dataset.version
            entry = self._indexes.get((kind, key))
            if entry is None or entry[0] != version:
                index = {}
                for row in dataset.rows[kind]:
                    parent = row.get(key)
                    if parent is not None:  # e.g. only AgentManagement job sessions have a parent session
                        index.setdefault(parent['id'], []).append(row['id'])
                entry = (version, index)
                self._indexes[(kind, key)] = entry
        by_id = dataset.by_id[kind]
        return [by_id[child] for child in entry[1].get(parent_id, ())]


class Live:
    """Finishing running sessions (on a schedule or on request) and adding sessions."""

    def __init__(self, dataset, running_finish_after=None, origin_us=None, clock=time.monotonic):
        self.dataset = dataset
        self.clock = clock
        self.started = clock()
        self.origin_us = dataset.now_us if origin_us is None else origin_us
        self.lock = threading.Lock()
        self.protection = points.attach(dataset, self.lock)
        self.children = ChildIndex(dataset)
        # Called by tick() (cheap when idle): the actions module finishes what quick backups and job starts began.
        self.tickers = []
        self.rng = random.Random('emulator-live:%d' % dataset.seed)
        self._schedule = []
        self._sequence = itertools.count()
        self.next_deadline = float('inf')
        self.finish_at_us = None
        if running_finish_after is not None:
            deadline = self.started + running_finish_after
            self.finish_at_us = self.data_time(deadline)
            # Outcomes are drawn now, in data order, so they do not depend on when requests arrive.
            rng = random.Random('emulator-finish:%d' % dataset.seed)
            for kind in SCHEDULED:
                for row in dataset.rows[kind]:
                    if _running(row):
                        result, reason = _finish_outcome(rng)
                        self._plan(deadline, kind, row['id'], result, reason)

    # -- clock ----------------------------------------------------------------------------

    def data_time(self, moment):
        """The emulator's clock (epoch microseconds) at a ``clock()`` moment."""
        return self.origin_us + int(round((moment - self.started) * 1000000))

    def now_us(self):
        """The emulator's clock now."""
        return self.data_time(self.clock())

    # -- schedule -------------------------------------------------------------------------

    def _plan(self, deadline, kind, row_id, result, reason):
        heapq.heappush(self._schedule, (deadline, next(self._sequence), kind, row_id, result, reason))
        self.next_deadline = self._schedule[0][0]

    def tick(self):
        """Finish what is due; cheap when nothing is (called before every request)."""
        for ticker in self.tickers:
            ticker()
        if self.clock() < self.next_deadline:
            return
        with self.lock:
            now = self.clock()
            while self._schedule and self._schedule[0][0] <= now:
                deadline = self._schedule[0][0]
                targets = []
                while self._schedule and self._schedule[0][0] == deadline:
                    _deadline, _number, kind, row_id, result, reason = heapq.heappop(self._schedule)
                    targets.append((kind, self.dataset.by_id[kind][row_id], result, reason))
                self._finish(targets, self.data_time(deadline))
            self.next_deadline = self._schedule[0][0] if self._schedule else float('inf')

    # -- publishing (callers hold self.lock) ---------------------------------------------

    def _publish(self, changes):
        """Replace rows by id: ``{kind: {id: new_row}}``."""
        dataset = self.dataset
        for kind, new_rows in changes.items():
            dataset.by_id[kind].update(new_rows)
            dataset.rows[kind] = [new_rows.get(row['id'], row) for row in dataset.rows[kind]]

    def _insert(self, kind, row):
        dataset = self.dataset
        rows = list(dataset.rows[kind])
        if 'creation' in row:
            rows.insert(_insert_position(rows, row['creation']), row)
        else:
            rows.append(row)
        dataset.by_id[kind][row['id']] = row
        dataset.rows[kind] = rows
        if kind == 'Job':
            dataset.jobs = rows
        elif kind == 'CdpPolicy':
            dataset.policies = rows
        # Bumped after publishing, so a reader that sees the new version also sees the new rows.
        dataset.version += 1

    def _finish(self, targets, end_us):
        """Finish running rows ``(kind, row, result, reason)``; parents whose tasks are all done finish too.

        ``result`` None keeps a CDP task's live Result. Returns the finished UIDs (tasks, then parents).
        """
        by_id = self.dataset.by_id
        changes = {}
        finished = []
        parents = {}
        for kind, row, result, reason in targets:
            current = changes.get(kind, {}).get(row['id']) or by_id[kind][row['id']]
            if not _running(current):
                continue
            end = max(end_us, current['creation'])
            if kind == 'RestoreSession':
                new = dict(current, end=end, state='Stopped', result=result, progress=100,
                           failure_message=_RESTORE_FAILURE if result == 'Failed' else '')
            else:
                new = dict(current, end=end, state='Completed')
                if result is not None:
                    new.update(result=result, reason=reason)
                parents.setdefault((TASK_PARENTS[kind], current['job_session']['id']), kind)
            changes.setdefault(kind, {})[new['id']] = new
            finished.append(new['uid'])
        for (parent_kind, parent_id), task_kind in parents.items():
            parent = by_id[parent_kind][parent_id]
            if not _running(parent):
                continue
            key = 'job_session'
            tasks = [changes.get(task_kind, {}).get(task['id'], task) for task in self.children.children(task_kind, key, parent_id)]
            running = sum(1 for task in tasks if _running(task))
            if running:
                if parent_kind != 'CdpReplicaSession':
                    changes.setdefault(parent_kind, {})[parent_id] = dict(
                        parent, progress=(len(tasks) - running) * 100 // len(tasks))
                continue
            worst = _worst(task['result'] for task in tasks)
            failure = (_CDP_FAILURE if parent_kind == 'CdpReplicaSession' else _JOB_FAILURE) if worst == 'Failed' else ''
            end = max([end_us, parent['creation']] + [task['end'] for task in tasks])
            new = dict(parent, end=end, state='Stopped', result=worst, progress=100, failure_message=failure)
            changes.setdefault(parent_kind, {})[parent_id] = new
            finished.append(new['uid'])
        self._publish(changes)
        self.protection.sessions_finished({kind: list(rows.values()) for kind, rows in changes.items()})
        return finished

    # -- POST /_emulator/finish -------------------------------------------------------------

    def finish(self, body):
        """Finish running sessions now: ``{"vm_names": [...]}`` | ``{"uids": [...]}`` | ``{"all": true}``."""
        if not isinstance(body, dict):
            raise ControlError('The body must be a JSON object such as {"vm_names": ["web-01"], "result": "Failed"}.')
        unknown = sorted(set(body) - set(_FINISH_KEYS))
        if unknown:
            raise ControlError('Unknown key(s) %s. Known: %s.' % (', '.join(unknown), ', '.join(_FINISH_KEYS)))
        selectors = [key for key in ('vm_names', 'uids', 'all') if key in body]
        if len(selectors) != 1:
            raise ControlError('Give exactly one of "vm_names" (a list of VM names), "uids" (a list of session UIDs) '
                               'or "all": true.')
        result, reason = self._chosen_outcome(body, 'result', 'reason')
        with self.lock:
            targets, not_running = self._select(selectors[0], body[selectors[0]])
            outcomes = []
            for kind, row in targets:
                if result is not None:
                    outcomes.append((kind, row, result, reason if reason is not None else pick_reason(self.rng, result)))
                elif kind == 'CdpReplicaTaskSession':
                    outcomes.append((kind, row, None, None))
                else:
                    outcomes.append((kind, row) + _finish_outcome(self.rng))
            finished = self._finish(outcomes, self.now_us())
        return {'finished': finished, 'not_running': not_running}

    @staticmethod
    def _chosen_outcome(body, result_key, reason_key):
        result = body.get(result_key)
        reason = body.get(reason_key)
        if result is not None:
            canonical = {name.lower(): name for name in RESULTS}.get(result.lower() if isinstance(result, str) else None)
            if canonical is None:
                raise ControlError('%s must be one of %s, not %s.' % (result_key, ', '.join(RESULTS), _show(result)))
            result = canonical
        if reason is not None:
            if not isinstance(reason, str):
                raise ControlError('%s must be a string, not %s.' % (reason_key, _show(reason)))
            if result is None:
                raise ControlError('%s needs %s (Success, Warning or Failed): a reason goes with a chosen result.' % (
                    reason_key, result_key))
        return result, reason

    def _select(self, selector, value):
        """(kind, row) of the running sessions chosen, and the names/UIDs that had none running."""
        dataset = self.dataset
        if selector == 'all':
            if value is not True:
                raise ControlError('"all" must be true (to finish every running backup, replica and restore session).')
            return [(kind, row) for kind in SCHEDULED for row in dataset.rows[kind] if _running(row)], []
        if not isinstance(value, list) or not value or not all(isinstance(item, str) and item for item in value):
            raise ControlError('"%s" must be a non-empty list of non-empty strings.' % selector)
        wanted = list(dict.fromkeys(value))
        targets = []
        if selector == 'vm_names':
            known = self._vm_names()
            unknown = [name for name in wanted if name not in known]
            if unknown:
                raise ControlError('Unknown VM name(s): %s. Names are exact (case-sensitive); see GET /_emulator/catalog.' %
                                   ', '.join(_show(name) for name in unknown))
            names = set(wanted)
            seen = set()
            for kind in ('BackupTaskSession', 'ReplicaTaskSession'):
                for row in dataset.rows[kind]:
                    if _running(row) and row['vm_name'] in names:
                        targets.append((kind, row))
                        seen.add(row['vm_name'])
            return targets, [name for name in wanted if name not in seen]
        rows = []
        for uid in wanted:
            parts = uid.split(':')
            kind = _FINISHABLE_LOWER.get(parts[2].lower()) if len(parts) == 4 and parts[0].lower() == 'urn' else None
            row = dataset.by_id[kind].get(parts[3].lower()) if kind else None
            if row is None:
                raise ControlError('Unknown session UID %s: expected the UID of a task, job, CDP policy or restore session '
                                   'such as "urn:veeam:BackupTaskSession:<guid>".' % _show(uid))
            rows.append((uid, kind, row))
        not_running = []
        for uid, kind, row in rows:
            if kind in PARENT_TASKS:
                tasks = [task for task in self.children.children(PARENT_TASKS[kind], 'job_session', row['id']) if _running(task)]
                targets.extend((PARENT_TASKS[kind], task) for task in tasks)
                running = bool(tasks)
            else:
                running = _running(row)
                if running:
                    targets.append((kind, row))
            if not running:
                not_running.append(uid)
        return targets, not_running

    def _vm_names(self):
        dataset = self.dataset
        return {vm['name'] for owner in list(dataset.jobs) + list(dataset.policies) for vm in owner['vms']}

    # -- POST /_emulator/sessions -------------------------------------------------------------

    def when(self, key, value, now_us):
        """A control body's time value (ISO-8601, now, or relative such as -2d) as epoch microseconds."""
        if not isinstance(value, str) or not value.strip():
            raise ControlError('%s must be %s, not %s.' % (key, _TIME_HELP, _show(value)))
        text = value.strip()
        if text.lower() == 'now':
            return now_us
        match = _RELATIVE_RE.match(text.lower())
        if match:
            weeks, days, hours, minutes, seconds = (int(group or 0) for group in match.groups())
            return now_us - ((((weeks * 7 + days) * 24 + hours) * 60 + minutes) * 60 + seconds) * 1000000
        try:
            moment = parse_datetime(text)
        except (ValueError, OverflowError):
            raise ControlError('%s must be %s, not %s.' % (key, _TIME_HELP, _show(value))) from None
        if moment > now_us:
            raise ControlError('%s %s is later than the emulator\'s clock (%s); sessions cannot start or end in the '
                               'future.' % (key, _show(value), format_utc(now_us)))
        return moment

    def add_session(self, body):
        """Add one task session (and its own parent session); returns what was created."""
        if not isinstance(body, dict):
            raise ControlError('The body must be a JSON object such as {"type": "BackupTaskSession", "vm_name": "web-01", '
                               '"result": "Failed", "created": "-3d"}.')
        unknown = sorted(set(body) - set(_ADD_KEYS))
        if unknown:
            raise ControlError('Unknown key(s) %s. Known: %s.' % (', '.join(unknown), ', '.join(_ADD_KEYS)))
        kind = body.get('type')
        if kind not in TASK_PARENTS:
            raise ControlError('type must be one of %s, not %s.' % (', '.join(TASK_PARENTS), _show(kind)))
        vm_name = body.get('vm_name')
        if not isinstance(vm_name, str) or not vm_name:
            raise ControlError('vm_name must be a non-empty string, not %s.' % _show(vm_name))
        job_name = body.get('job_name')
        if job_name is not None and (not isinstance(job_name, str) or not job_name):
            raise ControlError('job_name must be a non-empty string (an existing job or policy, or a new name), not %s.' %
                               _show(job_name))
        state = body.get('state', 'Completed')
        state = {'completed': 'Completed', 'inprogress': 'InProgress'}.get(state.lower() if isinstance(state, str) else None)
        if state is None:
            raise ControlError('state must be Completed or InProgress, not %s.' % _show(body.get('state')))
        cdp = kind == 'CdpReplicaTaskSession'
        running = state == 'InProgress'
        if running and not cdp:
            if body.get('result') not in (None, 'None'):
                raise ControlError('A running %s has Result None; leave result out (use finish_result for the result it '
                                   'finishes with).' % kind)
            if body.get('reason') is not None:
                raise ControlError('A running %s has no reason; leave reason out (use finish_reason).' % kind)
            result, reason = 'None', ''
        else:
            chosen = dict(body, result='Success') if body.get('result') is None else body
            result, reason = self._chosen_outcome(chosen, 'result', 'reason')
        if running:
            if 'end' in body:
                raise ControlError('A running session has no end; leave end out.')
        elif any(key in body for key in ('finish_after', 'finish_result', 'finish_reason')):
            raise ControlError('finish_after, finish_result and finish_reason apply to running sessions (state InProgress).')
        finish_after = body.get('finish_after')
        if finish_after is not None and (isinstance(finish_after, bool) or not isinstance(finish_after, (int, float))
                                         or finish_after < 0):
            raise ControlError('finish_after must be a number of seconds (0 or more), not %s.' % _show(finish_after))
        if finish_after is None and any(key in body for key in ('finish_result', 'finish_reason')):
            raise ControlError('finish_result and finish_reason need finish_after (seconds until the session finishes).')
        finish_result, finish_reason = self._chosen_outcome(body, 'finish_result', 'finish_reason')
        made_point = body.get('made_point')
        if made_point is not None and (not isinstance(made_point, bool) or kind != 'BackupTaskSession' or running):
            raise ControlError('made_point applies to a completed BackupTaskSession and must be true or false, not %s.' %
                               _show(made_point))
        with self.lock:
            now_us = self.now_us()
            created = self.when('created', body.get('created', 'now'), now_us)
            end = None
            if not running:
                end = self.when('end', body['end'], now_us) if 'end' in body else min(created + 5 * 60 * 1000000, now_us)
                if end < created:
                    raise ControlError('end %s is before created (%s).' % (_show(body['end']), format_utc(created)))
            owner = self._owner(kind, job_name, vm_name)
            vm = self._vm_record(owner, vm_name)
            if reason is None:
                reason = pick_reason(self.rng, result)
            task = self._add_rows(kind, owner, vm, created, end, result, reason, made_point)
            finish_at = None
            if finish_after is not None:
                if finish_result is None and not cdp:
                    finish_result, finish_reason = _finish_outcome(self.rng)
                elif finish_result is not None and finish_reason is None:
                    finish_reason = pick_reason(self.rng, finish_result)
                deadline = self.clock() + finish_after
                self._plan(deadline, kind, task['id'], finish_result, finish_reason)
                finish_at = format_utc(self.data_time(deadline))
        return {'uid': task['uid'], 'type': kind, 'vm_name': vm_name, 'job_name': owner['name'],
                'job_session_uid': task['job_session_uid'], 'created': format_utc(created),
                'end': format_utc(end) if end is not None else None, 'state': state, 'result': task['result'],
                'finish_at': finish_at}

    def _new_id(self):
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def _owner(self, kind, job_name, vm_name):
        """The job (or CDP policy) the new task belongs to, created when ``job_name`` is new."""
        dataset = self.dataset
        cdp = kind == 'CdpReplicaTaskSession'
        wanted_type = _JOB_TYPES[kind]
        if job_name is None:
            owners = dataset.policies if cdp else [job for job in dataset.jobs if job['job_type'] == wanted_type]
            for owner in owners:
                if any(vm['name'] == vm_name for vm in owner['vms']):
                    return owner
            raise ControlError('vm_name %s is in no %s; give job_name (an existing %s or a new name).' % (
                _show(vm_name), wanted_type, wanted_type))
        folded = job_name.casefold()
        for owner in list(dataset.jobs) + list(dataset.policies):
            if owner['name'].casefold() == folded:
                owner_type = owner.get('job_type', 'CDP policy')
                if owner_type != wanted_type:
                    raise ControlError('job_name %s is a %s%s; a %s needs a %s (or a new name).' % (
                        _show(job_name), owner_type, '' if owner_type == 'CDP policy' else ' job', kind,
                        wanted_type if cdp else wanted_type + ' job'))
                return owner
        new_id = self._new_id()
        server = dataset.servers[0]
        if cdp:
            owner = {'id': new_id, 'uid': 'urn:veeam:CdpPolicy:' + new_id, 'name': job_name, 'server': server, 'vms': [],
                     'start_minute': 0}
        else:
            owner = {'id': new_id, 'uid': 'urn:veeam:Job:' + new_id, 'name': job_name, 'job_type': wanted_type,
                     'platform': 'VMware', 'description': 'Created through the emulator control API',
                     'schedule_configured': True, 'schedule_enabled': True, 'server': server, 'vms': [], 'start_minute': 0}
        self._insert('CdpPolicy' if cdp else 'Job', owner)
        return owner

    def _vm_record(self, owner, vm_name):
        """The VM as the owner lists it; added to the owner (same size and UID as elsewhere) when new to it."""
        for vm in owner['vms']:
            if vm['name'] == vm_name:
                return vm
        dataset = self.dataset
        vm = next((dict(vm) for other in list(dataset.jobs) + list(dataset.policies) for vm in other['vms']
                   if vm['name'] == vm_name), None)
        if vm is None:
            vm = {'name': vm_name, 'size': self.rng.choice((16, 32, 40, 60, 80, 100, 127, 200, 500)) * GIB,
                  'uid': 'urn:VMware:Vm:%s.vm-%d' % (owner['server']['hierarchy_root'], self.rng.randint(100000, 999999))}
        # A new list, published with one assignment: the catalog may be reading the old one.
        owner['vms'] = owner['vms'] + [vm]
        return vm

    def _add_rows(self, kind, owner, vm, created, end, result, reason, made_point=None):
        """Build and publish the task row and its own parent session row."""
        server = owner['server']
        cdp = kind == 'CdpReplicaTaskSession'
        running = end is None
        parent_kind = TASK_PARENTS[kind]
        parent_id = self._new_id()
        parent_start = created - (60 if cdp else 10) * 1000000
        parent = {
            'id': parent_id, 'uid': 'urn:veeam:%s:%s' % (parent_kind, parent_id),
            'name': '%s@%s' % (owner['name'], format_name_time(parent_start)), 'creation': parent_start,
            'end': None, 'state': 'Working', 'result': 'None', 'progress': 0, 'failure_message': '', 'is_retry': False,
            'server': server, 'server_uid': server['uid'], 'server_name': server['name'],
        }
        if cdp:
            parent.update(policy=owner, policy_uid=owner['uid'], policy_name=owner['name'], policy_type='CdpReplica')
        else:
            parent.update(job=owner, job_uid=owner['uid'], job_name=owner['name'], job_type=owner['job_type'])
        if not running:
            parent.update(end=min(end + 5 * 1000000, max(end, self.now_us())), state='Stopped', result=result,
                          progress=100)
            if result == 'Failed':
                parent['failure_message'] = _CDP_FAILURE if cdp else _JOB_FAILURE
        task_id = self._new_id()
        task = {
            'id': task_id, 'uid': 'urn:veeam:%s:%s' % (kind, task_id), 'name': '%s@%s' % (vm['name'], format_name_time(created)),
            'vm_name': vm['name'], 'vm_uid': vm['uid'], 'job_session': parent, 'job_session_uid': parent['uid'],
            'job_session_name': parent['name'], 'server': server, 'server_uid': server['uid'], 'server_name': server['name'],
            'creation': created, 'total_size': vm['size'], 'end': end, 'state': 'InProgress' if running else 'Completed',
            'result': result, 'reason': reason,
        }
        if not cdp:
            task.update(job_uid=owner['uid'], job_name=owner['name'])
        if made_point is not None:
            task['made_point'] = made_point  # overrides the result rule (points.made_point)
        self._insert(parent_kind, parent)
        self._insert(kind, task)
        self.protection.sessions_finished({kind: [task]})
        return task

    # -- runs started through the API (quick backup, job start) ----------------------------------

    def add_run(self, owner, vms, created):
        """Publish a running job session of ``owner`` (a Backup or Replica job) with one running task per VM.

        Callers hold :attr:`lock`. Returns ``(parent_kind, parent, task_kind, tasks)``; the tasks finish through
        :meth:`finish_rows` (the actions module decides when and how).
        """
        task_kind = 'BackupTaskSession' if owner['job_type'] == 'Backup' else 'ReplicaTaskSession'
        parent_kind = TASK_PARENTS[task_kind]
        server = owner['server']
        parent_id = self._new_id()
        parent = {
            'id': parent_id, 'uid': 'urn:veeam:%s:%s' % (parent_kind, parent_id),
            'name': '%s@%s' % (owner['name'], format_name_time(created)), 'creation': created,
            'end': None, 'state': 'Working', 'result': 'None', 'progress': 0, 'failure_message': '', 'is_retry': False,
            'server': server, 'server_uid': server['uid'], 'server_name': server['name'], 'job': owner,
            'job_uid': owner['uid'], 'job_name': owner['name'], 'job_type': owner['job_type'],
        }
        self._insert(parent_kind, parent)
        tasks = []
        for number, vm in enumerate(vms):
            task_id = self._new_id()
            start = created + (number + 1) * 1000  # a millisecond apart: even a short run ends after it began
            task = {
                'id': task_id, 'uid': 'urn:veeam:%s:%s' % (task_kind, task_id),
                'name': '%s@%s' % (vm['name'], format_name_time(start)), 'vm_name': vm['name'], 'vm_uid': vm['uid'],
                'job_session': parent, 'job_session_uid': parent['uid'], 'job_session_name': parent['name'],
                'server': server, 'server_uid': server['uid'], 'server_name': server['name'], 'creation': start,
                'total_size': vm['size'], 'end': None, 'state': 'InProgress', 'result': 'None', 'reason': '',
                'job_uid': owner['uid'], 'job_name': owner['name'],
            }
            self._insert(task_kind, task)
            tasks.append(task)
        return parent_kind, parent, task_kind, tasks

    def insert_rows(self, kind, rows):
        """Publish new rows of ``kind`` and the restore points the finished ones made (callers hold :attr:`lock`)."""
        for row in rows:
            self._insert(kind, row)
        self.protection.sessions_finished({kind: rows})

    def finish_rows(self, targets, end_us):
        """Finish ``(kind, row_id, result, reason)`` task rows at ``end_us`` (callers hold :attr:`lock`)."""
        by_id = self.dataset.by_id
        return self._finish([(kind, by_id[kind][row_id], result, reason) for kind, row_id, result, reason in targets], end_us)

    def job_running(self, job):
        """Whether a session of ``job`` is running (generated, added or started through the API)."""
        kind = 'BackupJobSession' if job['job_type'] == 'Backup' else 'ReplicaJobSession'
        return any(row['end'] is None and row.get('job') is job for row in self.dataset.rows[kind])

    # -- GET /_emulator/catalog ---------------------------------------------------------------

    def catalog(self):
        """The data set's catalog (restore points not counted) plus the clock, the running task sessions and protection."""
        data = self.dataset.catalog()
        # Restore points are generated on first use (points.py): counting them here would make every catalog read
        # pay for them, and the counts would depend on whether anybody had asked yet.
        data['counts'] = {kind: count for kind, count in data['counts'].items() if kind not in points.LAZY_KINDS}
        data.update(self.protection.catalog())
        with self.lock:
            planned = {(entry[2], entry[3]): entry[0] for entry in self._schedule}
        running = []
        for kind in TASK_PARENTS:
            for row in self.dataset.rows[kind]:
                if _running(row):
                    deadline = planned.get((kind, row['id']))
                    running.append({
                        'type': kind, 'uid': row['uid'], 'vm_name': row['vm_name'],
                        'job_name': row.get('job_name') or row['job_session']['policy_name'],
                        'created': format_utc(row['creation']),
                        'finish_at': format_utc(self.data_time(deadline)) if deadline is not None else None})
        data.update(clock=format_utc(self.now_us()),
                    running_finish_at=format_utc(self.finish_at_us) if self.finish_at_us is not None else None,
                    running=running)
        return data


def _show(value):
    """A value quoted for an error message, cut short."""
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + '...'
