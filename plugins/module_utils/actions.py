# -*- coding: utf-8 -*-
# Copyright (c) 2026, vbem.enterprise_manager contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Actions that change something on Enterprise Manager: Quick Backup of VMs and starting a job.

Everything here is opt-in (a module the user calls) and follows the same
frame: every input check runs before the logon; the work runs inside one
logon; each task EM returns is polled inside that logon (EM shows a task only
to the logon session that created it); nothing is ever sent twice for one VM.

What EM documents and this code relies on (em-docs ``post_backupservers_id_quickbackup``,
``post_jobs_id_actionstart``, ``get_tasks_id``):

* ``POST /backupServers/{ID}?action=quickbackup`` with ``{"VmRef": <HierarchyObjRef>}``
  answers 202 with a ``Task``; one VM per request; the VM must be in a
  backup job that already made a full backup; two quick backups of VMs in
  the same job cannot run at once (EM refuses the second).
* ``GET /tasks/{ID}``: ``State`` Running, then Finished, with
  ``Result Success="true|false"``, a ``Message`` and a ``Related`` link to the
  job session. EM 12/13 also show ``OperationFinished`` between the two:
  done on the backup server, not yet collected by EM; we keep polling.
* A cancelled run (SIGINT/SIGTERM, a parent that went away) stops polling and
  logs off; a quick backup or job already started keeps running on its
  backup server: EM has no way to stop a quick backup through its task.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import threading
import time
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import quote as _quote

from ansible_collections.vbem.enterprise_manager.plugins.module_utils import gate, module_frame, parsing, query, sessions, validate, verdict
from ansible_collections.vbem.enterprise_manager.plugins.module_utils.errors import EmError, EmInterrupted

CREATED = 'created'
SKIPPED = 'skipped'
FAILED = 'failed'
TIMEOUT = 'timeout'
STARTED = 'started'
PLANNED = 'planned'
STATUSES = (CREATED, SKIPPED, FAILED, TIMEOUT, STARTED, PLANNED)

DEFAULT_WAIT_TIMEOUT = 3600
DEFAULT_POLL_INTERVAL = 5.0
DEFAULT_CONCURRENCY = 4
MAX_CONCURRENCY = 32
# A sleep between polls is cut into slices this long, so a cancelled run stops polling at once.
SLEEP_SLICE = 0.2
GOOD_RESULTS = ('Success', 'Warning')
ROLE_SENTENCE = {
    'quick_backup': 'Quick Backup needs an EM account with the Portal Administrator or Portal User role',
    'job_start': 'starting a job needs an EM account with the Portal Administrator role',
    'collect': 'collecting data from backup servers needs an EM account with the Portal Administrator role',
}


# -- planning: pure, before logon ------------------------------------------------------------------

def _seconds(params, option, default, minimum=0.1):
    value = params.get(option)
    value = default if value is None else value
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < minimum:
        raise EmError('{0} must be a number of seconds of {1:g} or more, not {2!r}.'.format(option, minimum, value))
    return float(value)


def plan_quick_backup(params, now=None):
    """Check every quick_backup option without talking to EM; returns the plan dict.

    ``vms`` is a list of names, one name, or a dict ``{key: VM name}`` (the
    shape of vm_protection_info). A name given twice, in any case, is one VM.
    Raises EmError with one sentence on bad input.
    """
    now = now or query.utcnow()
    targets = gate.targets(params.get('vms'))
    names, seen = [], set()
    for _key, name in targets:
        if verdict.fold(name) not in seen:
            seen.add(verdict.fold(name))
            names.append(name)
    cutoff = phrase = None
    if params.get('max_age') is not None:
        cutoff, phrase, _shown = verdict.span(params['max_age'], 'max_age', now)
    return {
        'targets': targets,
        'names': names,
        'now': now,
        'cutoff': cutoff,
        'max_age_phrase': phrase,
        'wait': validate.flag(params.get('wait', True), 'wait'),
        'wait_timeout': validate.given_number(params, 'wait_timeout', DEFAULT_WAIT_TIMEOUT),
        'poll_interval': _seconds(params, 'poll_interval', DEFAULT_POLL_INTERVAL),
        'concurrency': validate.given_number(params, 'concurrency', DEFAULT_CONCURRENCY, 1, MAX_CONCURRENCY),
    }


def schedule(resolved):
    """Group the VMs to back up into lanes, one per job, in input order: ``[(job_uid, [entry, ...]), ...]``.

    EM runs one quick backup per job at a time, so a lane runs serially and
    lanes run in parallel. Entries without a ``job_uid`` or whose ``status``
    is already decided are left out. The same VM (same backup server and
    VmRef) under two names is scheduled once: the later entry gets
    ``same_as`` set to the first name and no lane.
    """
    lanes = OrderedDict()
    first_by_vm = {}
    for entry in resolved:
        if entry.get('status') is not None or not entry.get('job_uid'):
            continue
        identity = (entry['backup_server_id'].lower(), entry['vm_ref'].lower())
        if identity in first_by_vm:
            entry['same_as'] = first_by_vm[identity]
            continue
        first_by_vm[identity] = entry['name']
        lanes.setdefault(entry['job_uid'], []).append(entry)
    return list(lanes.items())


# -- EM look-ups -----------------------------------------------------------------------------------

# How many of a VM's newest entities are read to pick the newest by time and to see a second VM of that name.
NEWEST_WINDOW = 50


def _created(item):
    return sessions.parse_em_time(parsing.ci_get(item, 'CreationTimeUTC') or parsing.ci_get(item, 'CreationTime'))


def _newest(client, query_type, name):
    """``(newest, items)``: the newest entity of ``query_type`` for VM display name ``name``, by time, and those read.

    EM compares names case-insensitively and is asked for the newest first,
    but its order is not trusted: the newest of the ``NEWEST_WINDOW`` read is
    found by comparing creation times. An answer for another name is an error.
    """
    field = 'VmName' if query_type == 'VmRestorePoint' else 'VmDisplayName'
    filter_text = query.condition('VmDisplayName', '==', name)
    items, _pages = client.query_page(query_type, filter_text, 'CreationTime', True, page_size=NEWEST_WINDOW)
    for item in items:
        shown = parsing.ci_get(item, field)
        if not isinstance(shown, str) or verdict.fold(shown) != verdict.fold(name):
            raise EmError('EM answered a {0} query for VM {1!r} with one for {2!r}; the answer is not what was asked.'.format(
                query_type, name, shown))
    dated = [item for item in items if _created(item) is not None]
    if not dated:
        return None, items
    return max(dated, key=_created), items


def _second_vm(name, tasks):
    """The sentence when ``name`` stands for more than one VM in EM's backup task sessions (VmUid or spelling), else None."""
    seen = {}
    for task in tasks:
        uid = str(parsing.ci_get(task, 'VmUid') or '')
        seen.setdefault(uid.lower(), (uid, set()))[1].add(parsing.ci_get(task, 'VmDisplayName'))
    spellings = set(spelling for _uid, names in seen.values() for spelling in names)
    if len(seen) < 2 and len(spellings) < 2:
        return None
    shown = ', '.join('{0!r} ({1})'.format(spelling, uid or 'no VmUid') for _key, (uid, names) in sorted(seen.items())
                      for spelling in sorted(names))
    return ('{0!r} is ambiguous in EM\'s backup task sessions, which name {1}: no backup is started for a name that may '
            'be another VM; give the name exactly as EM spells the VM you mean.').format(name, shown)


def _link(entity, rel, type_name):
    for link in parsing.link_dicts(entity, rel):
        if (link.get('type') or '').lower() == type_name.lower() and link.get('href'):
            return link
    return None


_href_id = parsing.href_id


def _point_summary(point):
    if not point:
        return None
    return {'uid': parsing.ci_get(point, 'UID'), 'time': parsing.ci_get(point, 'CreationTimeUTC'),
            'vm_ref': parsing.ci_get(point, 'HierarchyObjRef')}


def _unknown_vm(client, name):
    """Why a VM without any backup task session cannot get a quick backup: known to EM's lookup service, or not at all."""
    roots = parsing.extract_items(client.get('hierarchyRoots'))
    for root in roots:
        uid = parsing.ci_get(root, 'UID')
        if not uid:
            continue
        found = parsing.extract_items(client.get('lookup?host={0}&name={1}&type=Vm'.format(
            _quote(uid, safe=""), _quote(name, safe=""))), 'HierarchyItems')
        if found:
            return ('EM knows VM {0!r} (in {1}) but no backup job has processed it: Quick Backup only adds a point to a '
                    'backup job that already made a full backup of the VM.').format(name, parsing.ci_get(root, 'Name') or uid)
    return 'EM knows no VM named {0!r}: neither a backup task session nor its lookup service finds it.'.format(name)


def resolve_vm(client, name, plan, job_sessions, lock):
    """Find one VM's backup server, job, VmRef and newest restore point; returns its entry (``status`` set if decided)."""
    entry = {'name': name, 'status': None, 'message': None, 'job_name': None, 'job_uid': None, 'backup_server': None,
             'backup_server_id': None, 'vm_ref': None, 'previous_point': None, 'restore_point': None, 'task_id': None,
             'session_uid': None, 'result': None, 'same_as': None}
    task, tasks = _newest(client, 'BackupTaskSession', name)
    if task is None:
        entry.update(status=FAILED, message=_unknown_vm(client, name))
        return entry
    ambiguous = _second_vm(name, tasks)
    if ambiguous:
        entry.update(status=FAILED, message=ambiguous)
        return entry
    server = _link(task, 'Up', 'BackupServerReference')
    job_session_link = _link(task, 'Up', 'BackupJobSessionReference')
    vm_ref = parsing.ci_get(task, 'VmUid')
    if not server or not job_session_link or not vm_ref:
        raise EmError('EM answered the newest backup task session of VM {0!r} without its backup server, job session or '
                      'VmUid, so its job cannot be told.'.format(name))
    href = job_session_link['href']
    with lock:
        job_session = job_sessions.get(href)
    if job_session is None:
        job_session = client.get_href(href if '?' in href else href + '?format=Entity')
        with lock:
            job_sessions[href] = job_session
    entry.update(job_name=parsing.ci_get(job_session, 'JobName'), job_uid=parsing.ci_get(job_session, 'JobUid'),
                 backup_server=server.get('name'), backup_server_id=_href_id(server['href']), vm_ref=vm_ref)
    if not entry['job_uid']:
        raise EmError('EM answered the job session of VM {0!r} without its JobUid.'.format(name))
    point, _points = _newest(client, 'VmRestorePoint', name)
    if point is not None and (parsing.ci_get(point, 'HierarchyObjRef') or '').lower() == vm_ref.lower():
        entry['previous_point'] = _point_summary(point)
        created = sessions.parse_em_time(entry['previous_point']['time'])
        # Nothing newer than now counts as fresh: a clock skew must not skip a backup.
        if plan['cutoff'] is not None and created is not None and plan['cutoff'] <= created <= plan['now']:
            entry.update(status=SKIPPED, message='VM {0!r} already has a restore point from {1}, within max_age ({2}).'.format(
                name, verdict.shown_time(created), plan['max_age_phrase']))
    return entry


def _map_parallel(function, items, concurrency):
    """``[function(item) for item in items]`` on up to ``concurrency`` threads; the first error is raised."""
    if concurrency <= 1 or len(items) <= 1:
        return [function(item) for item in items]
    pool = ThreadPoolExecutor(max_workers=min(concurrency, len(items)))
    try:
        futures = [pool.submit(function, item) for item in items]
        return [future.result() for future in futures]
    finally:
        # Never wait here for threads after an interruption: their requests already fail fast.
        pool.shutdown(wait=False)


# -- running ---------------------------------------------------------------------------------------

def _sleep(client, seconds, clock=time.monotonic, sleep=time.sleep):
    """Sleep ``seconds`` in short slices; a cancelled client raises EmInterrupted at once."""
    end = clock() + seconds
    while True:
        client._check_cancelled()
        left = end - clock()
        if left <= 0:
            return
        sleep(min(left, SLEEP_SLICE))


def poll_task(client, task_id, deadline, interval, clock=time.monotonic, sleep=time.sleep):
    """Poll ``GET /tasks/{id}`` until its State is Finished (returns the task) or ``deadline`` passes (returns None)."""
    while True:
        task = client.get('tasks/' + task_id)
        state = parsing.ci_get(task, 'State')
        if isinstance(state, str) and state.lower() == 'finished':
            return task
        if clock() + interval > deadline:
            return None
        _sleep(client, interval, clock, sleep)


def task_outcome(task):
    """``(success, message)`` from a finished Task's ``Result`` (``Success`` is a boolean in JSON, text in XML)."""
    result = parsing.ci_get(task, 'Result')
    if not isinstance(result, dict):
        return False, 'EM finished the task without a Result'
    success = parsing.ci_get(result, 'Success')
    if isinstance(success, str):
        success = success.strip().lower() == 'true'
    return bool(success), parsing.ci_get(result, 'Message')


def _related(client, entity, type_name):
    link = _link(entity, 'Related', type_name)
    return client.get_href(link['href']) if link else None


def _task_session_of(client, job_session, entry):
    """The backup task session of ``entry``'s VM inside ``job_session``, or None."""
    link = _link(job_session, 'Down', 'BackupTaskSessionReferenceList')
    if not link:
        return None
    href = link['href'] if 'format=' in link['href'].lower() else link['href'] + ('&' if '?' in link['href'] else '?') + 'format=Entity'
    for item in parsing.extract_items(client.get_href(href)):
        if ((parsing.ci_get(item, 'VmUid') or '').lower() == entry['vm_ref'].lower()
                or verdict.fold(parsing.ci_get(item, 'VmDisplayName') or '') == verdict.fold(entry['name'])):
            return item
    return None


def finish_entry(client, entry, task):
    """Follow a finished Task to its job session, the VM's task session and the new restore point; set the entry's status."""
    success, message = task_outcome(task)
    entry['message'] = message
    job_session = _related(client, task, 'BackupJobSession')
    task_session = _task_session_of(client, job_session, entry) if job_session else None
    if job_session:
        entry['session_uid'] = parsing.ci_get(job_session, 'UID')
    if task_session:
        entry['result'] = parsing.ci_get(task_session, 'Result')
        reason = parsing.ci_get(task_session, 'Reason')
        if reason and not entry['message']:
            entry['message'] = reason
        point = _related(client, task_session, 'VmRestorePoint')
        entry['restore_point'] = _point_summary(point)
    if success and entry['result'] in GOOD_RESULTS and entry['restore_point'] and entry['restore_point']['uid']:
        entry['status'] = CREATED
    else:
        entry['status'] = FAILED
        if success and not entry['restore_point']:
            entry['message'] = 'EM reported the task done ({0}) but linked no new restore point for the VM.'.format(
                message or 'no message')
    return entry


def _role_hint(exc, action, what):
    """EM's refusal of ``what`` in one sentence: its status and own message, and for 403 the role the account lacks."""
    status = getattr(exc, 'status', None)
    if status is None or not exc.em_message:
        text = str(exc)
    else:
        text = 'EM refused {0} with HTTP {1}: {2}'.format(what, status, exc.em_message.rstrip('.')) + '.'
    if status == 403:
        return '{0} ({1}).'.format(text.rstrip('.'), ROLE_SENTENCE[action])
    return text


def run_lane(client, plan, job_uid, lane, log, clock=time.monotonic, sleep=time.sleep):
    """Back up the VMs of one job one after the other; each entry gets its status.

    A finished task is followed to its restore point only after the next VM
    of the job was started: the job is free as soon as the task finished,
    and the look-ups must not keep it idle.
    """
    pending = None
    for index, entry in enumerate(lane):
        if entry['status'] is not None:
            continue
        try:
            started = _start_quick_backup(client, entry, log)
        finally:
            if pending is not None:
                _finish_safely(client, *pending)
                pending = None
        if not started:
            continue
        if not plan['wait'] and index == len(lane) - 1:
            entry['status'] = STARTED
            continue
        try:
            done = poll_task(client, entry['task_id'], clock() + plan['wait_timeout'], plan['poll_interval'], clock, sleep)
        except EmInterrupted:
            raise
        except EmError as exc:
            _lost(entry, exc)
            continue
        if done is None:
            entry.update(status=TIMEOUT, message='The quick backup was still running after wait_timeout ({0} s); it goes on '
                                                 'on the backup server.'.format(plan['wait_timeout']))
            for later in lane[index + 1:]:
                later.update(status=TIMEOUT, message=(
                    'Not started: the quick backup of {0!r} in the same job {1!r} was still running after wait_timeout, and '
                    'EM runs one quick backup per job at a time.').format(entry['name'], entry['job_name']))
            return
        pending = (entry, done)
    if pending is not None:
        _finish_safely(client, *pending)


def _lost(entry, exc):
    """The entry of a quick backup EM accepted but that could not be followed to its end: failed, saying so."""
    entry.update(status=FAILED, message='EM accepted the quick backup (task {0}) but following it failed: {1}'.format(
        entry['task_id'], str(exc)))


def _finish_safely(client, entry, task):
    """``finish_entry``, with an EM error while following the task turned into this entry's failure."""
    try:
        finish_entry(client, entry, task)
    except EmInterrupted:
        raise
    except EmError as exc:
        _lost(entry, exc)


def _start_quick_backup(client, entry, log):
    """POST the quick backup of one VM; True when EM accepted it (``task_id`` set), else the entry is ``failed``."""
    try:
        _status, task = client.post('backupServers/{0}?action=quickbackup'.format(entry['backup_server_id']),
                                    {'VmRef': entry['vm_ref']})
    except EmInterrupted:
        raise
    except EmError as exc:
        entry.update(status=FAILED, message=_role_hint(exc, 'quick_backup', 'the quick backup'))
        return False
    entry['task_id'] = parsing.ci_get(task, 'TaskId') if isinstance(task, dict) else None
    log.append('Started a quick backup of VM {0!r} (job {1!r}, backup server {2}): EM task {3}.'.format(
        entry['name'], entry['job_name'], entry['backup_server'], entry['task_id']))
    if not entry['task_id']:
        entry.update(status=FAILED, message='EM accepted the quick backup but named no task to follow.')
        return False
    return True


def _interrupted(exc, started):
    if not started:
        return exc
    shown = ', '.join(repr(entry['name']) for entry in started[:10])
    more = ' and {0} more'.format(len(started) - 10) if len(started) > 10 else ''
    return EmInterrupted('{0} The quick backups already started ({1}{2}) keep running on their backup servers.'.format(
        str(exc).rstrip('.') + '.', shown, more), signum=exc.signum)


def run_quick_backup(client, plan, check_mode=False):
    """Resolve, skip the fresh, run the rest job by job; returns the module result (without ``changed``)."""
    job_sessions, lock = {}, threading.Lock()
    resolved = _map_parallel(lambda name: resolve_vm(client, name, plan, job_sessions, lock), plan['names'],
                             plan['concurrency'])
    lanes = schedule(resolved)
    log = []
    if check_mode:
        for _job, lane in lanes:
            for entry in lane:
                entry.update(status=PLANNED, message='Would start a quick backup (check mode).')
    else:
        try:
            _map_parallel(lambda lane: run_lane(client, plan, lane[0], lane[1], log), lanes, plan['concurrency'])
        except EmInterrupted as exc:
            # Those EM accepted and that had not finished when we stopped watching.
            raise _interrupted(exc, [entry for entry in resolved if entry.get('task_id') and entry['status'] in (None, STARTED)])
    by_name = dict((verdict.fold(entry['name']), entry) for entry in resolved)
    for entry in resolved:
        if entry['same_as']:
            first = by_name[verdict.fold(entry['same_as'])]
            copied = dict((key, first[key]) for key in ('status', 'message', 'restore_point', 'task_id', 'session_uid', 'result'))
            copied['message'] = 'The same VM as {0!r} (same backup server and VmRef); backed up once. {1}'.format(
                first['name'], first['message'] or '').strip()
            entry.update(copied)
    return shape_result(plan, by_name, log)


_RESULT_KEYS = ('name', 'status', 'message', 'job_name', 'backup_server', 'vm_ref', 'task_id', 'session_uid', 'result',
                'restore_point', 'previous_point', 'same_as')


def shape_result(plan, by_name, log):
    """The module result: ``vms`` keyed as given (name or dict key), per-status lists, ``summary`` and ``log``."""
    vms = OrderedDict()
    for key, name in plan['targets']:
        entry = by_name[verdict.fold(name)]
        vms[key] = dict((field, entry.get(field)) for field in _RESULT_KEYS)
        vms[key]['name'] = name
    counts = OrderedDict((status, 0) for status in STATUSES)
    for row in vms.values():
        counts[row['status']] += 1
    summary = {'total': len(vms), 'by_status': counts,
               'backups_started': sum(1 for entry in by_name.values() if entry.get('task_id') and not entry.get('same_as'))}
    result = {'vms': vms, 'summary': summary, 'log': log}
    for status in (CREATED, SKIPPED, FAILED, TIMEOUT, STARTED, PLANNED):
        result[status + '_vms'] = [key for key, row in vms.items() if row['status'] == status]
    result['changed'] = summary['backups_started'] > 0 or bool(result[PLANNED + '_vms'])
    return result


def failure_message(result):
    """One sentence for a run where some VM got no backup (failed or timed out), or None."""
    bad = [(key, row) for key, row in result['vms'].items() if row['status'] in (FAILED, TIMEOUT)]
    if not bad:
        return None
    parts = ['{0} ({1}: {2})'.format(key, row['status'], (row['message'] or 'no message').rstrip('.')) for key, row in bad[:5]]
    more = '; and {0} more'.format(len(bad) - 5) if len(bad) > 5 else ''
    return '{0} of {1} VMs got no new restore point: {2}{3}.'.format(len(bad), len(result['vms']), '; '.join(parts), more)


def _wait_spec():
    """The waiting options quick_backup and job_start share: wait, wait_timeout, poll_interval."""
    return dict(
        wait=dict(type='bool', default=True),
        wait_timeout=dict(type='int', default=DEFAULT_WAIT_TIMEOUT),
        poll_interval=dict(type='float', default=DEFAULT_POLL_INTERVAL),
    )


def quick_backup_argument_spec():
    """The quick_backup module's argument spec (connection options included)."""
    from ansible_collections.vbem.enterprise_manager.plugins.module_utils.options import connection_argument_spec
    spec = connection_argument_spec()
    spec.update(_wait_spec())
    spec.update(
        vms=dict(type='raw', required=True),
        max_age=dict(type='str'),
        concurrency=dict(type='int', default=DEFAULT_CONCURRENCY),
    )
    return spec


def job_start_argument_spec():
    """The job_start module's argument spec (connection options included)."""
    from ansible_collections.vbem.enterprise_manager.plugins.module_utils.options import connection_argument_spec
    spec = connection_argument_spec()
    spec.update(_wait_spec())
    spec.update(job=dict(type='str', required=True))
    return spec


def run_quick_backup_module(module):
    """The quick_backup module's whole run: options checked before logon, one logon, fail when a VM got no backup."""
    result = module_frame.run_client_module(
        module,
        lambda client: plan_quick_backup(module.params),
        lambda client, plan: run_quick_backup(client, plan, module.check_mode),
    )
    message = failure_message(result)
    if message:
        module.fail_json(msg=message, **result)
    return result


# -- job start -------------------------------------------------------------------------------------

# -- data collection -------------------------------------------------------------------------------

COLLECT_MESSAGE_CHECK_MODE = 'Check mode: EM was not asked to collect; the gate judged what EM had collected already.'


def collect(client, timeout, check_mode=False, clock=time.monotonic, sleep=time.sleep, interval=None):
    """Ask EM to collect from every backup server now, and follow each task until it finished (the gate's ``collect``).

    EM collects from its backup servers about every 15 minutes
    (``ug_collecting_data_from_backup_servers``), so a run minutes old may
    not show yet. ``GET /backupServers`` names the servers; ``POST
    /backupServers/{ID}?action=collect`` answers 202 with a ``Task``
    (``post_backupservers_id_collect``), followed as a quick backup's task,
    inside this logon, until ``Finished`` or ``timeout`` seconds. Collecting
    changes no backup data but starts an EM job, so check mode sends nothing
    and says so. Returns ``{'status': 'collected'|'skipped', 'backup_servers':
    [names], 'log': [sentences]}``; raises EmError with one sentence when a
    collection is refused, fails or does not finish in time (the gate then
    fails closed: it was asked not to judge on data EM had not collected).
    """
    doc = client.get('backupServers')
    servers = []
    for ref in parsing.extract_items(doc, 'Refs'):
        guid = sessions.guid_of(parsing.ci_get(ref, 'UID')) or _href_id(parsing.ci_get(ref, 'Href') or '')
        if not guid or not sessions.is_guid(guid):
            raise EmError('EM listed a backup server without an id ({0!r}), so it cannot be asked to collect.'.format(
                parsing.ci_get(ref, 'Name')))
        servers.append((guid, parsing.ci_get(ref, 'Name') or guid))
    if not servers:
        raise EmError('EM lists no backup server, so there is nothing to collect from (collect: true).')
    names = [name for _guid, name in servers]
    if check_mode:
        return {'status': SKIPPED, 'backup_servers': names, 'log': [COLLECT_MESSAGE_CHECK_MODE]}
    log = []
    deadline = clock() + timeout
    interval = DEFAULT_POLL_INTERVAL if interval is None else interval
    for guid, name in servers:
        try:
            _status, task = client.post('backupServers/{0}?action=collect'.format(guid), None, content_type='application/xml')
        except EmInterrupted:
            raise
        except EmError as exc:
            raise EmError(_role_hint(exc, 'collect', 'to collect from backup server {0}'.format(name)),
                          url=exc.url, status=exc.status, em_message=exc.em_message)
        task_id = parsing.ci_get(task, 'TaskId') if isinstance(task, dict) else None
        log.append('Asked EM to collect from backup server {0}: EM task {1}.'.format(name, task_id))
        if not task_id:
            raise EmError('EM accepted the collection from backup server {0} but named no task to follow.'.format(name))
        done = poll_task(client, task_id, deadline, min(interval, max(timeout / 10.0, 0.1)), clock, sleep)
        if done is None:
            raise EmError('EM had not finished collecting from backup server {0} after collect_timeout ({1} s); the gate '
                          'judges no VM on data EM may not have collected yet.'.format(name, timeout))
        success, message = task_outcome(done)
        if not success:
            raise EmError('EM could not collect from backup server {0}: {1}'.format(
                name, (message or 'EM gave no message').rstrip('.') + '.'))
        log.append("EM's collection task for backup server {0} finished: {1}".format(name, (message or 'no message').rstrip('.') + '.'))
    return {'status': 'collected', 'backup_servers': names, 'log': log}


def plan_job_start(params):
    """Check the job_start options without talking to EM; returns the plan dict."""
    job = params.get('job')
    if not isinstance(job, str) or not job:
        raise EmError('job must be the name or the UID of one backup or replica job, not {0}.'.format(validate.shown(job)))
    guid = None
    if sessions.is_guid(job.strip()) or job.strip().lower().startswith('urn:veeam:'):
        guid = sessions.parse_uid(job, 'Job')
    return {
        'job': job,
        'guid': guid,
        'wait': validate.flag(params.get('wait', True), 'wait'),
        'wait_timeout': validate.given_number(params, 'wait_timeout', DEFAULT_WAIT_TIMEOUT),
        'poll_interval': _seconds(params, 'poll_interval', DEFAULT_POLL_INTERVAL),
    }


def find_job(client, plan):
    """The job entity named by the plan (by UID, or by its name matched case-insensitively); exactly one or EmError."""
    if plan['guid']:
        job = client.get_entity('jobs', plan['guid'], 'Job')
        if job is None:
            raise EmError('EM has no job with the UID {0!r}.'.format(plan['job']))
        return job
    items, pages = client.query_page('Job', query.condition('Name', '==', plan['job']), None, page_size=100)
    if pages and pages > 1:
        raise EmError('EM answered more than 100 jobs named {0!r}; give the job by its UID.'.format(plan['job']))
    jobs = [item for item in items if verdict.fold(parsing.ci_get(item, 'Name') or '') == verdict.fold(plan['job'])]
    if len(jobs) != len(items):
        raise EmError('EM answered a query for the job {0!r} with other jobs; the answer is not what was asked.'.format(plan['job']))
    if not jobs:
        raise EmError('EM has no job named {0!r}.'.format(plan['job']))
    if len(jobs) > 1:
        servers = ', '.join(sorted((_link(job, 'Up', 'BackupServerReference') or {}).get('name') or '?' for job in jobs))
        raise EmError('{0} jobs are named {1!r} (on {2}); give the job by its UID.'.format(len(jobs), plan['job'], servers))
    return jobs[0]


def _job_summary(job):
    server = _link(job, 'Up', 'BackupServerReference') or {}
    return {'name': parsing.ci_get(job, 'Name'), 'uid': parsing.ci_get(job, 'UID'), 'type': parsing.ci_get(job, 'JobType'),
            'backup_server': server.get('name')}


def _session_summary(client, job_session):
    tasks = []
    link = _link(job_session, 'Down', 'BackupTaskSessionReferenceList') or _link(job_session, 'Down', 'ReplicaTaskSessionReferenceList')
    if link:
        href = link['href'] if 'format=' in link['href'].lower() else link['href'] + ('&' if '?' in link['href'] else '?') + 'format=Entity'
        for item in parsing.extract_items(client.get_href(href)):
            tasks.append({'vm_name': parsing.ci_get(item, 'VmDisplayName'), 'uid': parsing.ci_get(item, 'UID'),
                          'state': parsing.ci_get(item, 'State'), 'result': parsing.ci_get(item, 'Result'),
                          'reason': parsing.ci_get(item, 'Reason'), 'end_time': parsing.ci_get(item, 'EndTimeUTC')})
    return {'uid': parsing.ci_get(job_session, 'UID'), 'name': parsing.ci_get(job_session, 'Name'),
            'state': parsing.ci_get(job_session, 'State'), 'result': parsing.ci_get(job_session, 'Result'),
            'creation_time': parsing.ci_get(job_session, 'CreationTimeUTC'), 'end_time': parsing.ci_get(job_session, 'EndTimeUTC'),
            'failure_message': parsing.ci_get(job_session, 'FailureMessage'), 'task_sessions': tasks}


def run_job_start(client, plan, check_mode=False, clock=time.monotonic, sleep=time.sleep):
    """Find the job, start it, follow its task to the job session and (with ``wait``) until the session stopped."""
    job = find_job(client, plan)
    summary = _job_summary(job)
    result = {'job': summary, 'task_id': None, 'session': None, 'status': PLANNED, 'message': None, 'log': []}
    if check_mode:
        result['message'] = 'Would start job {0!r} (check mode).'.format(summary['name'])
        result['changed'] = True
        return result
    guid = sessions.guid_of(summary['uid'])
    try:
        _status, task = client.post('jobs/{0}?action=start'.format(guid), None, content_type='application/xml')
    except EmInterrupted:
        raise
    except EmError as exc:
        raise EmError(_role_hint(exc, 'job_start', 'to start job {0!r}'.format(summary['name'])), url=exc.url, status=exc.status, em_message=exc.em_message)
    result['changed'] = True
    result['task_id'] = parsing.ci_get(task, 'TaskId') if isinstance(task, dict) else None
    result['log'].append('Started job {0!r} (backup server {1}): EM task {2}.'.format(
        summary['name'], summary['backup_server'], result['task_id']))
    if not result['task_id']:
        raise EmError('EM accepted the start of job {0!r} but named no task to follow.'.format(summary['name']))
    deadline = clock() + plan['wait_timeout']
    try:
        done = poll_task(client, result['task_id'], deadline, plan['poll_interval'], clock, sleep)
        if done is None:
            result.update(status=TIMEOUT, message='EM had not finished starting the job after wait_timeout ({0} s).'.format(
                plan['wait_timeout']))
            return result
        success, message = task_outcome(done)
        result['message'] = message
        link = _link(done, 'Related', 'BackupJobSession') or _link(done, 'Related', 'ReplicaJobSession')
        if not success or not link:
            result['status'] = FAILED
            return result
        href = link['href']
        session = client.get_href(href)
        while plan['wait'] and (parsing.ci_get(session, 'State') or '').lower() != 'stopped':
            if clock() + plan['poll_interval'] > deadline:
                result.update(status=TIMEOUT, session=_session_summary(client, session),
                              message='The job session was still running after wait_timeout ({0} s); it goes on.'.format(
                                  plan['wait_timeout']))
                return result
            _sleep(client, plan['poll_interval'], clock, sleep)
            session = client.get_href(href)
    except EmInterrupted as exc:
        raise EmInterrupted('{0} The job {1!r} keeps running on its backup server.'.format(str(exc).rstrip('.') + '.', summary['name']),
                            signum=exc.signum)
    result['session'] = _session_summary(client, session)
    if not plan['wait']:
        result['status'] = STARTED
    else:
        result['status'] = FAILED if result['session']['result'] == 'Failed' else CREATED
    return result


def run_job_start_module(module):
    """The job_start module's whole run: options checked before logon, one logon; fails when the run failed or timed out."""
    result = module_frame.run_client_module(
        module,
        lambda client: plan_job_start(module.params),
        lambda client, plan: run_job_start(client, plan, module.check_mode),
    )
    if result['status'] in (FAILED, TIMEOUT):
        session = result.get('session') or {}
        module.fail_json(msg='Job {0!r} {1}: {2}.'.format(
            result['job']['name'], 'failed' if result['status'] == FAILED else 'did not finish within wait_timeout',
            (session.get('failure_message') or result['message'] or 'no message').rstrip('.')), **result)
    return result
