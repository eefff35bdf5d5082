"""EM actions and tasks: quick backup, job start, data collection, the lookup service.

``POST /backupServers/{ID}?action=quickbackup`` and ``POST /jobs/{ID}?action=start``
publish a running job session at once; its task sessions finish on the backup
server ``duration`` seconds later (the "server end"), and EM sees the end (the
rows change, the restore points appear) ``collection_lag`` seconds after that,
or at once when ``?action=collect`` runs. The 202 answer is a ``Task`` that
lives only in the logon session that created it (``tasks.md``)::

    QuickBackup: Running -> OperationFinished (server end) -> Finished (collected; Result from the task session)
    StartJob:    Running -> OperationFinished (job triggered) -> Finished ('Job "X" triggered to start.')
    CollectingBackupServer: Finished at once.

Every action is logged with its emulator-clock times (``GET /_emulator/actions``)
so tests can prove what ran in parallel and what ran one after another.
"""

from __future__ import annotations

import itertools
import json
import random
import re
import threading
import xml.etree.ElementTree as ET  # nosec: parses the test client's own request bodies
from xml.sax.saxutils import escape, quoteattr

from . import render
from .data import format_utc, pick_reason
from .live import ControlError, RESULTS, _show
from .resources import ApiError, Response, _find, ensure_rows

# Portal User may run Quick Backup for machines in its restore scope; only Portal Administrators start jobs or collect
# (ug_em_about_accounts_and_roles).
QUICK_BACKUP_ROLES = ('PortalAdministrator', 'PortalUser')
ADMIN_ROLES = ('PortalAdministrator',)
_VM_REF_RE = re.compile(r'^urn:[A-Za-z]+:Vm:([0-9A-Fa-f-]{36})\.(.+)$')
_OUTCOME_RULES = (('fail', 'Failed'), ('warn', 'Warning'))
_LOOKUP_TYPES = ('Vm', 'Host', 'Cluster', 'Template', 'VirtualApp', 'Vc', 'Datacenter', 'Folder', 'Datastore',
                 'ComputeResource', 'ResourcePool', 'Tag', 'Category', 'StoragePod')
_POINT_KINDS = ('VmRestorePoint', 'VmReplicaPoint', 'AgentRestorePoint')
_POINT_KEYS = ('type', 'vm_name', 'computer_name', 'job_name', 'created', 'point_type', 'collected')
_ACTION_KEYS = ('duration', 'collection_lag', 'outcomes', 'clear_log', 'finish_now')
_AGENT_SESSION_KEYS = ('computer_name', 'job_name', 'result', 'created')
_COLLECT_MESSAGE = 'Data collection started. To view results, go to Sessions.'
_STARTJOB_TRIGGER = 1.0


def _local(tag):
    return tag.rsplit('}', 1)[-1]


class _Run:
    """A job session started through the API: what finishes it and when."""

    __slots__ = ('job', 'parent_kind', 'parent', 'targets', 'server_end', 'visible_at', 'applied', 'entry')

    def __init__(self, job, parent_kind, parent, targets, server_end, visible_at, entry):
        self.job = job
        self.parent_kind = parent_kind
        self.parent = parent
        self.targets = targets
        self.server_end = server_end
        self.visible_at = visible_at
        self.applied = False
        self.entry = entry


class _Task:
    """One EM task, owned by one logon session."""

    __slots__ = ('task_id', 'owner', 'operation', 'run', 'tracks', 'done_at', 'visible_at', 'message', 'success')

    def __init__(self, task_id, owner, operation, run=None, tracks=False, done_at=0.0, visible_at=0.0, message=''):
        self.tracks = tracks  # the task's lifecycle follows its run's (QuickBackup), or its own times (StartJob)
        self.success = True
        self.task_id = task_id
        self.owner = owner
        self.operation = operation
        self.run = run
        self.done_at = done_at
        self.visible_at = visible_at
        self.message = message


class Actions:
    """Tasks of every logon session, the runs they started, and the action log."""

    def __init__(self, live, duration=5.0, collection_lag=0.0):
        self.live = live
        self.dataset = live.dataset
        self.duration = float(duration)
        self.collection_lag = float(collection_lag)
        self.outcomes = {}
        self.collections = 0
        self.rng = random.Random('emulator-actions:%d' % live.dataset.seed)
        self._numbers = itertools.count(1)
        self._tasks = {}
        self._pending = []
        self._log = []
        self._lock = threading.Lock()
        live.tickers.append(self.tick)

    # -- time ------------------------------------------------------------------------------

    def tick(self):
        """Apply the runs whose end EM has collected by now (cheap when none is due)."""
        if not self._pending:
            return
        now = self.live.clock()
        with self.live.lock:
            due = sorted((run for run in self._pending if run.visible_at <= now), key=lambda run: run.server_end)
            for run in due:
                self._apply(run)

    def _apply(self, run):
        """Finish a run's task sessions at its server end (callers hold the data lock)."""
        end_us = self.live.data_time(run.server_end)
        self.live.finish_rows(run.targets, end_us)
        run.applied = True
        self._pending.remove(run)
        parent = self.dataset.by_id[run.parent_kind][run.parent['id']]
        run.entry.update(finished=format_utc(end_us), collected=format_utc(self.live.now_us()), result=parent['result'])

    @staticmethod
    def _state(task, now):
        if task.tracks:
            if task.run.applied:
                return 'Finished'
            return 'OperationFinished' if now >= task.run.server_end else 'Running'
        if now >= task.visible_at:
            return 'Finished'
        return 'OperationFinished' if now >= task.done_at else 'Running'

    # -- outcome rules -----------------------------------------------------------------------

    def outcome(self, vm_name):
        """Result and reason of a VM's backup: the control endpoint's choice, else the name rule."""
        result = self.outcomes.get(vm_name)
        if result is None:
            lowered = vm_name.lower()
            result = next((chosen for word, chosen in _OUTCOME_RULES if word in lowered), 'Success')
        return result, pick_reason(self.rng, result)

    # -- /api ---------------------------------------------------------------------------------

    def handle(self, template, req):
        """Route the action and task resources."""
        if template == '/api/tasks':
            return self._tasks_list(req)
        if template == '/api/tasks/{id}':
            return self._task_resource(req)
        if template == '/api/lookup':
            return self._lookup(req)
        return self._post(req)

    def _post(self, req):
        collection = req.segments[0].lower()
        action = req.params.get('action', '').strip().lower()
        if collection not in ('backupservers', 'jobs') or len(req.segments) != 2:
            raise ApiError(405, "Method 'POST' is not allowed for '/api/%s'." % '/'.join(req.segments), {'Allow': 'GET'})
        if collection == 'backupservers':
            server = _find(self.dataset, 'BackupServer', req.segments[1])
            if action == 'quickbackup':
                return self._quick_backup(req, server)
            if action == 'collect':
                return self._collect(req)
            if action == 'veeamzip':
                raise ApiError(501, 'VeeamZIP is not implemented by the emulator.')
            raise ApiError(400, "Unknown action '%s' for a backup server. Supported: quickbackup, collect." %
                           req.params.get('action', ''))
        job = _find(self.dataset, 'Job', req.segments[1])
        if action != 'start':
            raise ApiError(400, "Unknown action '%s' for a job. Supported: start." % req.params.get('action', ''))
        return self._start_job(req, job)

    @staticmethod
    def _require(req, roles, what):
        if req.session.role not in roles:
            raise ApiError(403, "The user '%s' (role %s) has no permission to %s: the %s role is required." % (
                req.session.username, req.session.role, what, ' or '.join(roles)))

    def _quick_backup(self, req, server):
        self._require(req, QUICK_BACKUP_ROLES, 'run Quick Backup')
        vm_ref = self._vm_ref(req)
        job, vm = self._quick_backup_target(server, vm_ref)
        ensure_rows(self.dataset, 'VmRestorePoint')
        protection = self.live.protection
        with self.live.lock:
            if not protection.has_point(protection.backup_for(job), vm['name']):
                raise ApiError(400, 'Job "%s" has no full backup of VM "%s": Quick Backup needs an existing full backup '
                                    'in the repository.' % (job['name'], vm['name']))
            if self.live.job_running(job):
                raise ApiError(409, 'Job "%s" is already running: VMs of the same job cannot have quick backups at the same '
                                    'time. Try again when the job session has finished.' % job['name'])
            run = self._start_run(req, job, [vm], 'QuickBackup')
            task = self._new_task(req, 'QuickBackup', run=run, tracks=True)
        return self._task_response(req, task, 202)

    def _vm_ref(self, req):
        """The VmRef of a QuickBackupStartupSpec body (XML or JSON, as Content-Type says)."""
        content_type = (req.content_type or '').split(';')[0].strip().lower()
        if not content_type:
            raise ApiError(400, 'The request has no Content-Type header: send the QuickBackupStartupSpec with '
                                'Content-Type application/xml or application/json.')
        body = req.body or b''
        try:
            if content_type in ('application/xml', 'text/xml'):
                root = ET.fromstring(body)  # nosec: the emulator parses its own clients' bodies
                if _local(root.tag) != 'QuickBackupStartupSpec':
                    raise ValueError('the root element is %s, not QuickBackupStartupSpec' % _local(root.tag))
                refs = [child.text or '' for child in root if _local(child.tag) == 'VmRef']
            elif content_type == 'application/json':
                data = json.loads(body.decode('utf-8-sig'))
                if not isinstance(data, dict):
                    raise ValueError('the body is not a JSON object')
                refs = [value for key, value in data.items() if key.lower() == 'vmref']
            else:
                raise ApiError(415, "Content-Type '%s' is not supported: use application/xml or application/json." %
                               content_type)
        except (ET.ParseError, ValueError, UnicodeDecodeError) as exc:
            raise ApiError(400, 'The QuickBackupStartupSpec body could not be read (%s).' % exc) from None
        if len(refs) != 1 or not isinstance(refs[0], str) or not _VM_REF_RE.match(refs[0].strip()):
            raise ApiError(400, 'The QuickBackupStartupSpec must hold exactly one VmRef, a HierarchyObjRef such as '
                                'urn:VMware:Vm:<hierarchy root id>.vm-80225.')
        return refs[0].strip()

    def _quick_backup_target(self, server, vm_ref):
        wanted = vm_ref.lower()
        for job in self.dataset.jobs:
            if job['job_type'] == 'Backup' and job['server'] is server:
                for vm in job['vms']:
                    if vm['uid'].lower() == wanted:
                        return job, vm
        raise ApiError(400, 'The VM %s is not processed by any backup job on backup server %s: Quick Backup needs a job '
                            'that backs the VM up.' % (vm_ref, server['name']))

    def _start_job(self, req, job):
        self._require(req, ADMIN_ROLES, 'start jobs')
        if job['job_type'] not in ('Backup', 'Replica'):
            raise ApiError(400, 'Job "%s" is a %s job; the emulator starts Backup and Replica jobs.' % (
                job['name'], job['job_type']))
        if not job['vms']:
            raise ApiError(400, 'Job "%s" processes no VMs.' % job['name'])
        with self.live.lock:
            if self.live.job_running(job):
                raise ApiError(409, 'Job "%s" is already running.' % job['name'])
            run = self._start_run(req, job, list(job['vms']), 'StartJob')
            now = self.live.clock()
            done = now + min(_STARTJOB_TRIGGER, self.duration)
            task = self._new_task(req, 'StartJob', run=run, done_at=done, visible_at=done + self.collection_lag,
                                  message='Job "%s" triggered to start.' % job['name'])
        return self._task_response(req, task, 202)

    def _collect(self, req):
        self._require(req, ADMIN_ROLES, 'collect data from backup servers')
        now = self.live.clock()
        with self.live.lock:
            # One data collection covers every backup server (ug_collecting_data_from_backup_servers).
            for run in sorted((run for run in self._pending if run.server_end <= now), key=lambda run: run.server_end):
                self._apply(run)
            with self._lock:
                tasks = list(self._tasks.values())
            for task in tasks:
                if not task.tracks and task.done_at <= now < task.visible_at:
                    task.visible_at = now
            self.live.protection.collect()
            task = self._new_task(req, 'CollectingBackupServer', done_at=now, visible_at=now, message=_COLLECT_MESSAGE)
        with self._lock:
            self.collections += 1
        return self._task_response(req, task, 202)

    def _start_run(self, req, job, vms, operation):
        """Publish the running session, plan its end, log it (callers hold the data lock)."""
        live = self.live
        now = live.clock()
        created = live.data_time(now)
        parent_kind, parent, task_kind, tasks = live.add_run(job, vms, created)
        targets = [(task_kind, task['id']) + self.outcome(task['vm_name']) for task in tasks]
        server_end = now + self.duration
        entry = {'operation': operation, 'user': req.session.username, 'job_name': job['name'], 'job_uid': job['uid'],
                 'backup_server': job['server']['name'], 'vm_names': [vm['name'] for vm in vms],
                 'session_uid': parent['uid'], 'task_session_uids': [task['uid'] for task in tasks],
                 'started': format_utc(created), 'server_end': format_utc(live.data_time(server_end)),
                 'finished': None, 'collected': None, 'result': None}
        run = _Run(job, parent_kind, parent, targets, server_end, server_end + self.collection_lag, entry)
        self._pending.append(run)
        with self._lock:
            self._log.append(entry)
        return run

    def _new_task(self, req, operation, run=None, tracks=False, done_at=0.0, visible_at=0.0, message=''):
        task = _Task('task-%d' % next(self._numbers), req.session.session_id, operation, run, tracks, done_at, visible_at,
                     message)
        if run is not None:
            run.entry['task_id'] = task.task_id
        with self._lock:
            self._tasks[task.task_id] = task
        return task

    # -- tasks ----------------------------------------------------------------------------------

    def _own_task(self, req):
        task_id = req.segments[1]
        with self._lock:
            task = self._tasks.get(task_id.lower())
        if task is None or task.owner != req.session.session_id:
            # Tasks exist only in the logon session that created them (tasks.md): another session sees nothing.
            raise ApiError(404, "Task '%s' was not found." % task_id)
        return task

    def _task_resource(self, req):
        task = self._own_task(req)
        if req.method == 'DELETE':
            with self._lock:
                del self._tasks[task.task_id]
            return Response(204)
        return self._task_response(req, task, 200)

    def _tasks_list(self, req):
        with self._lock:
            tasks = [task for task in self._tasks.values() if task.owner == req.session.session_id]
        now = self.live.clock()
        views = [self._task_view(req.ctx, task, now) for task in tasks]
        if req.json:
            return Response(data={'Tasks': [_task_json(view) for view in views]})
        return Response(xml=render.xml_list('Tasks', [_task_xml(view, '  ') for view in views]))

    def _task_response(self, req, task, status):
        view = self._task_view(req.ctx, task, self.live.clock(), fresh=status == 202)
        if req.json:
            return Response(status, data=_task_json(view))
        return Response(status, xml=render.xml_document(_task_xml(view, '', root=True)))

    def _task_view(self, ctx, task, now, fresh=False):
        """``(task, state, links, result or None, href)``; the 202 answer always shows the task Running."""
        state = 'Running' if fresh else self._state(task, now)
        href = ctx.url('tasks/' + task.task_id)
        links = [render.Link('Delete', href, 'Task')]
        run = task.run
        if state == 'Finished' and run is not None:
            path = render.KINDS[run.parent_kind]['path']
            links.append(render.Link('Related', ctx.url('%s/%s?format=Entity' % (path, run.parent['id'])), run.parent_kind))
        result = None
        if state == 'OperationFinished':
            result = (task.success if not task.tracks else run.targets[0][2] != 'Failed', 'OperationFinished')
        elif state == 'Finished':
            result = (task.success, task.message)
            if task.tracks:
                outcome, reason = run.targets[0][2], run.targets[0][3]
                result = (outcome != 'Failed', 'Ok' if outcome == 'Success' else reason)
        return task, state, links, result, href

    # -- lookup ----------------------------------------------------------------------------------

    def _lookup(self, req):
        params = req.params
        protection = self.live.protection
        if params.get('hierarchyref', '').strip():
            ref = params['hierarchyref'].strip()
            match = _VM_REF_RE.match(ref)
            found = protection.vms_on_root(match.group(1).lower()) if match else {}
            items = [vm for vm in found.values() if vm['uid'].lower() == ref.lower()]
            if not items:
                raise ApiError(404, "No virtual infrastructure object has the reference '%s'." % ref)
        else:
            missing = [name for name in ('host', 'name', 'type') if not params.get(name, '').strip()]
            if missing:
                raise ApiError(400, "The lookup needs 'host', 'name' and 'type' (or 'hierarchyRef'); missing: %s." %
                               ', '.join(missing))
            host = params['host'].strip()
            root_id = host.split(':')[-1].lower()
            root = self.dataset.by_id['HierarchyRoot'].get(root_id)
            if root is None or (':' in host and host.lower() != root['uid'].lower()):
                raise ApiError(404, "Hierarchy root '%s' was not found. Use the UID of a /hierarchyRoots entry." % host)
            kinds = {kind.lower(): kind for kind in _LOOKUP_TYPES}
            object_type = kinds.get(params['type'].strip().lower())
            if object_type is None:
                raise ApiError(400, "Unknown object type '%s'. Possible values: %s." % (params['type'], ', '.join(_LOOKUP_TYPES)))
            wanted = params['name'].strip().casefold()
            items = [] if object_type != 'Vm' else [
                vm for name, vm in protection.vms_on_root(root_id).items() if name.casefold() == wanted]
        if req.json:
            return Response(data={'HierarchyItems': [
                {'ObjectRef': vm['uid'], 'ObjectType': 'Vm', 'ObjectName': vm['name'], 'Type': 'HierarchyItem'}
                for vm in items]})
        template = ('  <HierarchyItem Type="HierarchyItem">\n    <ObjectRef>%s</ObjectRef>\n    <ObjectType>Vm</ObjectType>\n'
                    '    <ObjectName>%s</ObjectName>\n  </HierarchyItem>\n')
        body = ''.join(template % (escape(vm['uid']), escape(vm['name'])) for vm in items)
        return Response(xml=render.xml_list('HierarchyItems', [body] if body else []))

    # -- control endpoints ---------------------------------------------------------------------------

    def control(self, name, method, payload):
        """``GET|POST /_emulator/actions`` and ``POST /_emulator/points``."""
        if name == 'points':
            return self.add_point(payload)
        if name == 'agent_sessions':
            return self.add_agent_session(payload)
        if method == 'POST':
            self._configure(payload)
        with self._lock:
            log = [dict(entry) for entry in self._log]
        return {'duration': self.duration, 'collection_lag': self.collection_lag, 'outcomes': dict(self.outcomes),
                'collections': self.collections, 'actions': log}

    def _configure(self, body):
        if not isinstance(body, dict):
            raise ControlError('The body must be a JSON object such as {"duration": 5, "outcomes": {"web-01": "Failed"}}.')
        unknown = sorted(set(body) - set(_ACTION_KEYS))
        if unknown:
            raise ControlError('Unknown key(s) %s. Known: %s.' % (', '.join(unknown), ', '.join(_ACTION_KEYS)))
        for key in ('duration', 'collection_lag'):
            value = body.get(key)
            if key in body and (isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value < 86400):
                raise ControlError('%s must be a number of seconds from 0 to 86400, not %s.' % (key, _show(value)))
        if 'finish_now' in body and not isinstance(body['finish_now'], bool):
            raise ControlError('finish_now must be true or false, not %s.' % _show(body['finish_now']))
        outcomes = body.get('outcomes', {})
        if not isinstance(outcomes, dict) or not all(isinstance(name, str) and name for name in outcomes):
            raise ControlError('outcomes must be an object {"<VM name>": "Success"|"Warning"|"Failed"|null}.')
        chosen = {}
        for vm_name, result in outcomes.items():
            if result is not None and result not in RESULTS:
                raise ControlError('The outcome of %s must be Success, Warning, Failed or null, not %s.' % (
                    _show(vm_name), _show(result)))
            chosen[vm_name] = result
        for key in ('duration', 'collection_lag'):
            if key in body:
                setattr(self, key, float(body[key]))
        for vm_name, result in chosen.items():
            if result is None:
                self.outcomes.pop(vm_name, None)
            else:
                self.outcomes[vm_name] = result
        if body.get('clear_log'):
            with self._lock:
                self._log = []
        if body.get('finish_now'):
            self._finish_now()

    def _finish_now(self):
        """End every run still going on the backup server now (EM collects it after the current lag)."""
        live = self.live
        with live.lock:
            now = live.clock()
            for run in self._pending:
                if run.server_end > now:
                    run.server_end = now
                    run.visible_at = now + self.collection_lag
                    run.entry['server_end'] = format_utc(live.data_time(now))

    def add_point(self, body):
        """``POST /_emulator/points``: one restore point without a session (e.g. older than the session window)."""
        if not isinstance(body, dict):
            raise ControlError('The body must be a JSON object such as {"type": "VmRestorePoint", "vm_name": "web-01", '
                               '"created": "-40d"}.')
        unknown = sorted(set(body) - set(_POINT_KEYS))
        if unknown:
            raise ControlError('Unknown key(s) %s. Known: %s.' % (', '.join(unknown), ', '.join(_POINT_KEYS)))
        kind = body.get('type')
        if kind not in _POINT_KINDS:
            raise ControlError('type must be one of %s, not %s.' % (', '.join(_POINT_KINDS), _show(kind)))
        name_key = 'computer_name' if kind == 'AgentRestorePoint' else 'vm_name'
        other = 'vm_name' if name_key == 'computer_name' else 'computer_name'
        name = body.get(name_key)
        if other in body or not isinstance(name, str) or not name:
            raise ControlError('A %s needs %s (a non-empty string) and no %s.' % (kind, name_key, other))
        point_type = body.get('point_type', 'Increment')
        if point_type not in ('Full', 'Increment'):
            raise ControlError('point_type must be Full or Increment, not %s.' % _show(point_type))
        collected = body.get('collected', True)
        if not isinstance(collected, bool):
            raise ControlError('collected must be true or false, not %s.' % _show(collected))
        ensure_rows(self.dataset, kind)
        live = self.live
        with live.lock:
            created = live.when('created', body.get('created', 'now'), live.now_us())
            owner, uid = self._point_owner(kind, body.get('job_name'), name)
            row = live.protection.add_point(kind, owner, name, uid, created, point_type, collected)
        return {'uid': row['uid'], 'type': kind, name_key: name, 'created': format_utc(created),
                'backup': row.get('backup_name') or row.get('replica_name'), 'collected': collected}

    def add_agent_session(self, body):
        """``POST /_emulator/agent_sessions``: one finished AgentBackup run with an AgentManagement child for a computer."""
        if not isinstance(body, dict):
            raise ControlError('The body must be a JSON object such as {"computer_name": "phys-sql-01", "result": "Failed", '
                               '"created": "-2h"}.')
        unknown = sorted(set(body) - set(_AGENT_SESSION_KEYS))
        if unknown:
            raise ControlError('Unknown key(s) %s. Known: %s.' % (', '.join(unknown), ', '.join(_AGENT_SESSION_KEYS)))
        computer = body.get('computer_name')
        if not isinstance(computer, str) or not computer:
            raise ControlError('computer_name must be a non-empty string, not %s.' % _show(computer))
        result = body.get('result', 'Success')
        if result not in RESULTS:
            raise ControlError('result must be Success, Warning or Failed, not %s.' % _show(result))
        protection = self.live.protection
        job_name = body.get('job_name')
        jobs = protection.agent_jobs
        if job_name is None:
            job = next((job for job in jobs if computer in job['computers']), jobs[0])
        else:
            job = next((job for job in jobs if isinstance(job_name, str) and job['name'].casefold() == job_name.casefold()),
                       None)
            if job is None:
                raise ControlError('job_name %s is no agent job; known: %s.' % (
                    _show(job_name), ', '.join(job['name'] for job in jobs)))
        live = self.live
        with live.lock:
            now_us = live.now_us()
            created = live.when('created', body.get('created', 'now'), now_us)
            if computer not in job['computers']:
                job['computers'] = job['computers'] + [computer]
            parent, children = protection.add_agent_run(job, created, [(computer, result)], self.rng, now_us=now_us)
            live.insert_rows('BackupJobSession', [parent] + children)
        child = children[0]
        return {'uid': child['uid'], 'parent_uid': parent['uid'], 'job_name': job['name'], 'computer_name': computer,
                'created': format_utc(child['creation']), 'end': format_utc(child['end']), 'result': child['result']}

    def _point_owner(self, kind, job_name, name):
        """(job or agent job or None, HierarchyObjRef or None) a new point belongs to."""
        protection = self.live.protection
        if kind == 'AgentRestorePoint':
            jobs = protection.agent_jobs
            wanted_type = 'agent backup'
        else:
            wanted_type = 'Backup' if kind == 'VmRestorePoint' else 'Replica'
            jobs = [job for job in self.dataset.jobs if job['job_type'] == wanted_type]
        if job_name is not None:
            if not isinstance(job_name, str):
                raise ControlError('job_name must be a string, not %s.' % _show(job_name))
            owner = next((job for job in jobs if job['name'].casefold() == job_name.casefold()), None)
            if owner is None:
                raise ControlError('job_name %s is no %s job (see GET /_emulator/catalog).' % (_show(job_name), wanted_type))
        elif kind == 'AgentRestorePoint':
            owner = next((job for job in jobs if name in job['computers']), jobs[0])
        else:
            owner = next((job for job in jobs if any(vm['name'] == name for vm in job['vms'])), None)
            if owner is None and kind == 'VmReplicaPoint':
                raise ControlError('vm_name %s is in no Replica job; give job_name.' % _show(name))
        if kind == 'AgentRestorePoint':
            return owner, None
        if owner is None:  # a VM without a job: its points sit in the backup a deleted job left behind
            vm = next((vm for vm in protection.retired_vms if vm['name'] == name), None)
            return None, vm['uid'] if vm else None
        vm = next((vm for vm in owner['vms'] if vm['name'] == name), None)
        return owner, vm['uid'] if vm else None


def _task_json(view):
    task, state, links, result, href = view
    return {'TaskId': task.task_id, 'State': state, 'Operation': task.operation,
            'Result': {'Success': result[0], 'Message': result[1]} if result else None,
            'Links': render.links_json(links), 'Href': href, 'Type': 'Task'}


def _task_xml(view, indent, root=False):
    """A ``<Task>`` element as in the tasks/{ID} examples (``root`` adds the namespace declarations)."""
    task, state, links, result, href = view
    namespaces = (' xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"'
                  ' xmlns="%s"' % render.NS) if root else ''
    lines = ['%s<Task Href=%s Type="Task"%s>\n' % (indent, quoteattr(href), namespaces), render.xml_links(links, indent + '  '),
             '%s  <TaskId>%s</TaskId>\n%s  <State>%s</State>\n%s  <Operation>%s</Operation>\n' % (
                 indent, task.task_id, indent, state, indent, task.operation)]
    if result:
        lines.append('%s  <Result Success="%s">\n%s    <Message>%s</Message>\n%s  </Result>\n' % (
            indent, 'true' if result[0] else 'false', indent, escape(result[1] or ''), indent))
    lines.append('%s</Task>\n' % indent)
    return ''.join(lines)


def parse_routes(route):
    """The action and task routes (regex, counter template, methods) built with server.py's ``_route``."""
    return (
        route(r'/tasks/?', '/api/tasks', ('GET',)),
        route(r'/tasks/[^/]+/?', '/api/tasks/{id}', ('GET', 'DELETE')),
        route(r'/lookup/?', '/api/lookup', ('GET',)),
    )


TEMPLATES = ('/api/tasks', '/api/tasks/{id}', '/api/lookup')
