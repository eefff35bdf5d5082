# -*- coding: utf-8 -*-
# Copyright (c) 2026, vbem.enterprise_manager contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The EM session types as data, and the normaliser every module shares.

One table (``KINDS``) owns what differs between the session types: the query
type, the entity path, the UID type, the JSON collection key and the filter
field names. Adding a type (RestoreSession, say) is one more entry here plus
one thin module.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import re
import sys
from datetime import datetime, timedelta

from ansible_collections.vbem.enterprise_manager.plugins.module_utils.errors import GUID_PATTERN, EmError
from ansible_collections.vbem.enterprise_manager.plugins.module_utils.parsing import ci_get, link_dicts

TASK_STATES = ('InProgress', 'Pending', 'Completed')
JOB_STATES = ('Starting', 'Stopping', 'Working', 'Pausing', 'Resuming', 'Stopped')
RESULTS = ('Success', 'Warning', 'Failed', 'None')
# States in which a session is still running: what ``wait`` waits out.
RUNNING_STATES = frozenset(('InProgress', 'Pending', 'Starting', 'Stopping', 'Working', 'Pausing', 'Resuming'))
# How far a session may be dated after the controller's clock and still be judged: EM and
# its backup servers keep their own clocks (NTP keeps them within seconds; a VM host whose
# clock drifts can be minutes off). Five minutes absorbs that drift; anything later is
# a wrong clock or a wrong answer, and a backup "from the future" proves nothing.
CLOCK_SKEW = timedelta(minutes=5)
# EM (Veeam Backup & Replication) did not exist before this: an older session time is garbage.
EARLIEST_TIME = datetime(2000, 1, 1)


class SessionKind(object):
    """Everything that differs between two EM session types.

    ``fields`` maps our snake_case names to EM's filter/sort field names.
    ``local_fields`` lists options EM cannot filter on for this type; they are
    applied to the normalised sessions instead (see ``info.py``).
    """

    def __init__(self, name, query_type, entity_path, collection_key, level, parent_ref, fields, local_fields=(),
                 named=True):
        self.name = name
        self.query_type = query_type
        self.uid_type = query_type
        self.entity_path = entity_path
        self.collection_key = collection_key
        self.level = level
        self.parent_ref = parent_ref
        self.fields = fields
        self.local_fields = frozenset(local_fields)
        # Restore points have no state: they exist once made.
        self.states = {'task': TASK_STATES, 'job': JOB_STATES}.get(level, ())
        # Whether the entity names its machine: an AgentRestorePoint does not (only its filter field
        # ComputerName does), so its points are read one name per request.
        self.named = named

    def field(self, option):
        """Return EM's filter field for one of our option names; EmError when EM has none."""
        try:
            return self.fields[option]
        except KeyError:
            raise EmError('{0} {3} cannot be filtered or sorted by {1}; use one of: {2}.'.format(
                self.query_type, option, ', '.join(sorted(self.fields)), self.plural()))

    def plural(self):
        """``sessions`` or ``restore points``: what a row of this kind is, in sentences."""
        return 'restore points' if self.level == 'point' else 'sessions'

    def __repr__(self):
        return 'SessionKind({0})'.format(self.name)


_TASK_FIELDS = {
    'uid': 'UID', 'name': 'Name', 'creation_time': 'CreationTime', 'end_time': 'EndTime', 'state': 'State',
    'result': 'Result', 'vm_name': 'VmDisplayName', 'job_name': 'JobName', 'job_session_uid': 'JobSessionUid',
    'reason': 'Reason', 'total_size': 'TotalSize', 'backup_server': 'BackupServerName',
}
_JOB_FIELDS = {
    'uid': 'UID', 'name': 'Name', 'creation_time': 'CreationTime', 'end_time': 'EndTime', 'state': 'State',
    'result': 'Result', 'job_name': 'JobName', 'job_type': 'JobType', 'job_uid': 'JobUid',
    'backup_server': 'BackupServerName', 'is_retry': 'IsRetry',
}

KINDS = dict((k.name, k) for k in (
    SessionKind('backup_task', 'BackupTaskSession', 'backupTaskSessions', 'BackupTaskSessions', 'task',
                'BackupJobSessionReference', dict(_TASK_FIELDS)),
    SessionKind('replica_task', 'ReplicaTaskSession', 'replicaTaskSessions', 'ReplicaTaskSessions', 'task',
                'ReplicaJobSessionReference', dict(_TASK_FIELDS)),
    # EM documents no Result filter field for CDP task sessions, and its
    # PolicySessionName is "<policy>@<timestamp>", not the policy name: both
    # options are applied to the normalised sessions instead.
    SessionKind('cdp_task', 'CdpReplicaTaskSession', 'cdpReplicaTaskSessions', 'CdpReplicaTaskSessions', 'task',
                'CdpReplicaSessionReference', {
                    'uid': 'Id', 'name': 'Name', 'creation_time': 'CreationTimeUTC', 'end_time': 'EndTimeUTC',
                    'state': 'State', 'vm_name': 'VmDisplayName', 'job_session_uid': 'PolicySessionUid',
                    'job_session_name': 'PolicySessionName', 'reason': 'Reason', 'total_size': 'TotalSize',
                    'backup_server': 'BackupServerName',
                }, local_fields=('result', 'job_name')),
    SessionKind('backup_job', 'BackupJobSession', 'backupSessions', 'BackupJobSessions', 'job',
                None, dict(_JOB_FIELDS)),
    SessionKind('replica_job', 'ReplicaJobSession', 'replicaSessions', 'ReplicaJobSessions', 'job',
                None, dict(_JOB_FIELDS)),
    SessionKind('cdp_job', 'CdpReplicaSession', 'cdpReplicaSessions', 'CdpReplicaSessions', 'job', None, {
        'uid': 'Id', 'name': 'Name', 'creation_time': 'CreationTimeUTC', 'end_time': 'EndTimeUTC', 'state': 'State',
        'result': 'Result', 'job_name': 'PolicyName', 'job_uid': 'PolicyUid', 'backup_server': 'BackupServerName',
    }),
    # Restore points: the filter fields of the docs' get_query_<type> pages. The VM's name is the
    # VmDisplayName filter field (entities: VmName for VmRestorePoint, VmDisplayName for
    # VmReplicaPoint); an AgentRestorePoint names no computer, so ComputerName is filtered on, one
    # name a request, and the point is attributed to the name asked.
    SessionKind('vm_restore_point', 'VmRestorePoint', 'vmRestorePoints', 'VmRestorePoints', 'point', None, {
        'uid': 'UID', 'name': 'Name', 'creation_time': 'CreationTime', 'vm_name': 'VmDisplayName',
        'point_type': 'Type', 'algorithm': 'Algorithm', 'backup_server': 'BackupServerName',
    }),
    SessionKind('vm_replica_point', 'VmReplicaPoint', 'vmReplicaPoints', 'VmReplicaPoints', 'point', None, {
        'uid': 'UID', 'name': 'Name', 'creation_time': 'CreationTime', 'vm_name': 'VmDisplayName',
        'point_type': 'Type', 'algorithm': 'Algorithm', 'replica_name': 'ReplicaName', 'backup_server': 'BackupServerName',
    }),
    SessionKind('agent_restore_point', 'AgentRestorePoint', 'agents/agentRestorePoints', 'AgentRestorePoints', 'point', None, {
        'uid': 'UID', 'name': 'Name', 'creation_time': 'CreationTime', 'vm_name': 'ComputerName',
        'point_type': 'Type', 'algorithm': 'Algorithm', 'backup_name': 'BackupName', 'backup_server': 'BackupServerName',
    }, named=False),
))

# job_session_info's ``type`` option -> kind.
JOB_KINDS = {'backup': 'backup_job', 'replica': 'replica_job', 'cdp': 'cdp_job'}


def kind_for_query_type(query_type):
    """Return the SessionKind of an EM query type (case-insensitive), or None for other types."""
    for kind in KINDS.values():
        if kind.query_type.lower() == (query_type or '').lower():
            return kind
    return None


_GUID_RE = re.compile('^' + GUID_PATTERN + '$')
_UID_RE = re.compile(r'^urn:veeam:([A-Za-z]+):(' + GUID_PATTERN + ')$', re.IGNORECASE)


def is_guid(value):
    """True for a bare GUID such as ``15a3fc97-0325-4119-b789-5c0367c6c565``."""
    return bool(_GUID_RE.match(value or ''))


def parse_uid(value, uid_type):
    """Return the GUID of a session id given as a GUID or as ``urn:veeam:<Type>:<GUID>``.

    Raises EmError with one sentence when the value is neither, or when it is
    the UID of another type (a replica task UID given to the backup task module).
    """
    text = (value or '').strip()
    if is_guid(text):
        return text.lower()
    match = _UID_RE.match(text)
    if not match:
        raise EmError('The id {0!r} is neither a GUID nor a UID of the form urn:veeam:{1}:<GUID>.'.format(value, uid_type))
    if match.group(1).lower() != uid_type.lower():
        raise EmError('The id {0!r} is a {1} UID, but a {2} UID or GUID is expected here.'.format(value, match.group(1), uid_type))
    return match.group(2).lower()


def guid_of(uid):
    """Return the GUID part of ``urn:veeam:<Type>:<GUID>`` (the whole value when it has no colon)."""
    if not uid:
        return None
    return str(uid).rsplit(':', 1)[-1]


_TIME_RE = re.compile(r'^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(Z|[+-]\d{2}:?\d{2})?$')


def parse_em_time(value):
    """Parse an EM timestamp (``2025-08-15T20:00:24.003406Z``, 0-7 fraction digits) to a naive UTC datetime.

    Returns None for empty or unparseable values: a bad timestamp must not
    sink a whole report. Python 3.8's ``fromisoformat`` cannot do this.
    """
    if not value or not isinstance(value, str):
        return None
    match = _TIME_RE.match(value.strip())
    if not match:
        return None
    year, month, day, hour, minute, second, fraction, zone = match.groups()
    micro = int((fraction or '0')[:6].ljust(6, '0'))
    try:
        moment = datetime(int(year), int(month), int(day), int(hour), int(minute), int(second), micro)
    except ValueError:
        return None
    if zone and zone != 'Z':
        sign = 1 if zone[0] == '+' else -1
        digits = zone[1:].replace(':', '')
        moment -= sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
    return moment


def _int_or_none(value):
    """Lenient int: EM's XML-era servers send sizes as strings."""
    if value is None or value == '':
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        try:
            return int(float(value))
        except (TypeError, ValueError):
            return None


def _text_or_none(value):
    """Empty strings and whitespace become None (``<Reason />``)."""
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _up_link(links, link_type):
    """The first ``Rel=Up`` link of the given type, or None (EM's own spelling compared first, then any case)."""
    wanted = link_type.lower()
    for link in links:
        found = link.get('type')
        if found == link_type or (isinstance(found, str) and found.lower() == wanted):
            rel = link.get('rel')
            if rel == 'Up' or (isinstance(rel, str) and rel.lower() == 'up'):
                return link
    return None


def _name_before_at(name):
    """``Backup Job 2@2025-08-15 20:00:24`` -> ``Backup Job 2``."""
    if not name:
        return None
    return name.rsplit('@', 1)[0] if '@' in name else name


def _shared(value):
    """One string object for a value many sessions repeat (state, result, VM, job, server, parent session).

    json.loads makes a new string for every occurrence; sharing them saves
    about half a kilobyte a session, 50 MB on a 100,000-session scan.
    """
    return sys.intern(value) if type(value) is str else value  # pylint: disable=unidiomatic-typecheck


def normalise(entity, kind, links=True):
    """Turn one EM session entity (JSON-shaped dict) into our snake_case session dict.

    Keys: uid, id, name, type, state, result, creation_time, end_time,
    duration_seconds, backup_server, job_name, links and, for task types,
    vm_name, vm_uid, job_session_uid, reason, total_size; for job types job_uid,
    job_type, progress, is_retry, failure_message. Restore point types have no
    state, result, end_time, duration_seconds or progress; they carry vm_name
    (None for agent points), vm_uid (HierarchyObjRef), point_type, algorithm,
    backup_file and replica_name. With ``links`` False there
    is no ``links`` key, and only the Up links the other keys are read from
    are converted (2-3 of a session's 16).
    """
    all_links = link_dicts(entity) if links else None
    up_links = all_links if links else link_dicts(entity, rel='Up')
    uid = ci_get(entity, 'UID') or ci_get(entity, 'Id')
    created = ci_get(entity, 'CreationTimeUTC') or ci_get(entity, 'CreationTime')
    ended = ci_get(entity, 'EndTimeUTC') or ci_get(entity, 'EndTime')
    start_dt, end_dt = parse_em_time(created), parse_em_time(ended)
    duration = None
    if start_dt is not None and end_dt is not None:
        duration = round((end_dt - start_dt).total_seconds(), 3)
    server = _up_link(up_links, 'BackupServerReference')
    session = {
        'uid': uid,
        'id': guid_of(uid),
        'name': ci_get(entity, 'Name'),
        'type': _shared(ci_get(entity, 'Type')),
        'state': _shared(ci_get(entity, 'State')),
        'result': _shared(ci_get(entity, 'Result')),
        'creation_time': created,
        'end_time': ended or None,
        'duration_seconds': duration,
        'backup_server': _shared(server.get('name')) if server else None,
        'progress': _int_or_none(ci_get(entity, 'Progress')),
    }
    if links:
        session['links'] = all_links
    if kind.level == 'point':
        backup_file = _up_link(up_links, 'BackupFileReference')
        replica = _up_link(up_links, 'ReplicaReference')
        session.update({
            # VmRestorePoint: VmName; VmReplicaPoint: VmDisplayName; AgentRestorePoint: none (the caller names it).
            'vm_name': _shared(ci_get(entity, 'VmName') or ci_get(entity, 'VmDisplayName')),
            'vm_uid': ci_get(entity, 'HierarchyObjRef'),
            'point_type': _shared(ci_get(entity, 'PointType')),
            'algorithm': _shared(ci_get(entity, 'Algorithm')),
            'backup_file': backup_file.get('name') if backup_file else None,
            'replica_name': _shared(replica.get('name')) if replica else None,
        })
        for key in ('state', 'result', 'end_time', 'duration_seconds', 'progress'):
            session.pop(key)
        return session
    if kind.level == 'task':
        parent = _up_link(up_links, kind.parent_ref) if kind.parent_ref else None
        job_name = ci_get(entity, 'JobName') or (_name_before_at(parent.get('name')) if parent else None)
        session.update({
            'vm_name': _shared(ci_get(entity, 'VmDisplayName')),
            # The VM's own identity (v13 backup task sessions; None where EM does not send it).
            'vm_uid': ci_get(entity, 'VmUid'),
            'job_name': _shared(job_name),
            'job_session_uid': _shared(ci_get(entity, 'JobSessionUid') or ci_get(entity, 'PolicySessionUid')),
            'reason': _text_or_none(ci_get(entity, 'Reason')),
            'total_size': _int_or_none(ci_get(entity, 'TotalSize')),
        })
    else:
        job_name = ci_get(entity, 'JobName') or ci_get(entity, 'PolicyName')
        if not job_name:
            job_link = _up_link(up_links, 'JobReference') or _up_link(up_links, 'CdpPolicyReference')
            job_name = job_link.get('name') if job_link else _name_before_at(session['name'])
        session.update({
            'job_name': _shared(job_name),
            'job_uid': _shared(ci_get(entity, 'JobUid') or ci_get(entity, 'PolicyUid')),
            'job_type': _shared(ci_get(entity, 'JobType') or ci_get(entity, 'PolicyType')),
            'is_retry': ci_get(entity, 'IsRetry'),
            'failure_message': _text_or_none(ci_get(entity, 'FailureMessage')),
        })
    return session


def time_fault(value, now):
    """Why a session time cannot be trusted against ``now`` (naive UTC), or None when it can.

    Returns ``('future_time', moment)`` for a time later than ``now`` plus
    ``CLOCK_SKEW``, ``('bad_time', moment or None)`` for one that is missing,
    unparseable or before ``EARLIEST_TIME``.
    """
    moment = parse_em_time(value)
    if moment is None or moment < EARLIEST_TIME:
        return 'bad_time', moment
    if moment > now + CLOCK_SKEW:
        return 'future_time', moment
    return None


# At equal creation times the worse session counts as the newer: running, then each result worse than the next.
_WORSE = {'Success': 0, 'Warning': 1}


def newest_rank(session, now):
    """A sort key that makes "the newest session" independent of the order EM answered in (higher is newer).

    By creation time; a session whose time cannot be trusted (``time_fault``)
    above every other, so that it is the one judged and no order can hide it;
    at equal times a running session before a finished one, a worse result
    before a better one, and at last the UID, so the choice is total.
    """
    fault = time_fault(session.get('creation_time'), now)
    moment = parse_em_time(session.get('creation_time')) or datetime(1, 1, 1)
    result = session.get('result')
    return (1 if fault else 0, moment, 1 if is_running(session) else 0,
            _WORSE.get(result, 2) if isinstance(result, str) else 2, str(session.get('uid')))


class OrderCheck(object):
    """Whether the sessions of one answer came newest first so far: the condition for reading no further.

    EM is asked for ``sortDesc`` on the creation time but its order is not
    trusted: a reader may skip the rest of an answer only while ``holds``.
    A session whose time cannot be trusted breaks the order for good.
    """

    def __init__(self, now):
        self.now = now
        self.last = None
        self.holds = True

    def see(self, session):
        """Note one session in answer order; returns whether the order still holds."""
        if self.holds:
            if time_fault(session.get('creation_time'), self.now):
                self.holds = False
            else:
                moment = parse_em_time(session.get('creation_time'))
                if self.last is not None and moment > self.last:
                    self.holds = False
                self.last = moment
        return self.holds


def is_known_state(session, kind):
    """True when the session's State is one EM documents for its kind (case as EM writes it)."""
    return session.get('state') in kind.states


def is_running(session):
    """True while a session has not finished (InProgress, Pending, Starting, Working...)."""
    return session.get('state') in RUNNING_STATES


def summarise(sessions, kind=None):
    """Count sessions: ``{"total": n, "by_result": {...}, "by_state": {...}}``.

    Every documented result (and, given ``kind``, every state) is present with
    0 so that a playbook can gate on ``summary.by_result.Failed == 0``.
    Restore points have neither: ``{"total": n, "by_point_type": {...}}``
    counts the point types found (``Full``, ``Increment``, ...).
    """
    if kind is not None and kind.level == 'point':
        by_type = {}
        for point in sessions:
            by_type[point.get('point_type') or 'Unknown'] = by_type.get(point.get('point_type') or 'Unknown', 0) + 1
        return {'total': len(sessions), 'by_point_type': by_type}
    by_result = dict((r, 0) for r in RESULTS)
    by_state = dict((s, 0) for s in (kind.states if kind else ()))
    for session in sessions:
        result = session.get('result') if session.get('result') is not None else 'None'
        by_result[result] = by_result.get(result, 0) + 1
        state = session.get('state') or 'Unknown'
        by_state[state] = by_state.get(state, 0) + 1
    return {'total': len(sessions), 'by_result': by_result, 'by_state': by_state}
