"""Query types, their filter/sort fields, and filter evaluation over data rows."""

from __future__ import annotations

import datetime
import operator
import re

from .data import us_from_datetime
from .filterexpr import BoolOp, Comparison, FilterError, parse_filter

JOB_STATES = ('Starting', 'Stopping', 'Working', 'Pausing', 'Resuming', 'Stopped')
TASK_STATES = ('InProgress', 'Pending', 'Completed')
# None (running) sorts below Success, as in Veeam's own result enum (None = -1).
RESULTS = ('None', 'Success', 'Warning', 'Failed')
BACKUP_JOB_TYPES = ('Backup', 'BackupCopy', 'ImmediateBackupCopy', 'ImmediateBackupCopyWorker',
                    'AgentBackup', 'AgentManagement', 'NasBackup')

_OPS = {'==': operator.eq, '!=': operator.ne, '<': operator.lt, '<=': operator.le, '>': operator.gt, '>=': operator.ge}
_DATE_RE = re.compile(
    r'^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,7}))?)?)?\s*(Z|[+-]\d{2}:?\d{2})?$', re.IGNORECASE)


class Field:
    """A filterable/sortable field: its documented name, value kind and row key."""

    __slots__ = ('name', 'kind', 'key', 'values')

    def __init__(self, name, kind, key, values=()):
        self.name = name
        self.kind = kind
        self.key = key
        self.values = values


def _common_session(uid_name='UID', created='CreationTime', ended='EndTime'):
    return [Field(uid_name, 'uid', 'uid'), Field('Name', 'str', 'name'), Field(created, 'date', 'creation'),
            Field(ended, 'date', 'end'), Field('BackupServerUid', 'uid', 'server_uid'),
            Field('BackupServerName', 'str', 'server_name')]


def _job_session_fields(job_types):
    return _common_session() + [
        Field('JobType', 'enum', 'job_type', job_types), Field('JobUid', 'uid', 'job_uid'), Field('JobName', 'str', 'job_name'),
        Field('State', 'enum', 'state', JOB_STATES), Field('Result', 'enum', 'result', RESULTS),
        Field('IsRetry', 'bool', 'is_retry')]


def _task_session_fields():
    return _common_session() + [
        Field('State', 'enum', 'state', TASK_STATES), Field('Result', 'enum', 'result', RESULTS),
        Field('Reason', 'str', 'reason'), Field('TotalSize', 'long', 'total_size'),
        Field('JobSessionUid', 'uid', 'job_session_uid'), Field('JobUid', 'uid', 'job_uid'), Field('JobName', 'str', 'job_name'),
        Field('VmDisplayName', 'str', 'vm_name')]


_ALGORITHMS = ('Full', 'ReversedIncremental', 'Incremental', 'SyntheticFull')
_SERVER_FIELDS = [Field('BackupServerUid', 'uid', 'server_uid'), Field('BackupServerName', 'str', 'server_name')]
# Field lists follow the "Optional Parameters" tables of the get_query_<type> pages.
QUERY_TYPES = {
    'BackupJobSession': _job_session_fields(BACKUP_JOB_TYPES),
    'ReplicaJobSession': _job_session_fields(('Replica',)),
    'BackupTaskSession': _task_session_fields(),
    'ReplicaTaskSession': _task_session_fields(),
    'CdpReplicaSession': _common_session('Id', 'CreationTimeUTC', 'EndTimeUTC') + [
        Field('PolicyUid', 'uid', 'policy_uid'), Field('PolicyName', 'str', 'policy_name'),
        Field('State', 'enum', 'state', JOB_STATES), Field('Result', 'enum', 'result', RESULTS),
        Field('FailureMessage', 'str', 'failure_message')],
    'CdpReplicaTaskSession': _common_session('Id', 'CreationTimeUTC', 'EndTimeUTC') + [
        Field('PolicySessionUid', 'uid', 'job_session_uid'), Field('PolicySessionName', 'str', 'job_session_name'),
        Field('State', 'enum', 'state', TASK_STATES), Field('Reason', 'str', 'reason'),
        Field('TotalSize', 'long', 'total_size'), Field('VmDisplayName', 'str', 'vm_name')],
    'RestoreSession': _common_session() + [
        Field('Type', 'enum', 'restore_type', ('FileLevelRestore', 'RestoreVm')), Field('State', 'enum', 'state', JOB_STATES),
        Field('Result', 'enum', 'result', RESULTS), Field('VmDisplayName', 'str', 'vm_name')],
    'BackupServer': [
        Field('UID', 'uid', 'uid'), Field('Name', 'str', 'name'), Field('Description', 'str', 'description'),
        Field('IpOrDnsName', 'str', 'ip_or_dns_name'), Field('Port', 'long', 'port'), Field('Version', 'str', 'version')],
    'Job': [
        Field('UID', 'uid', 'uid'), Field('Name', 'str', 'name'), Field('Description', 'str', 'description'),
        Field('JobType', 'enum', 'job_type', ('Backup', 'BackupCopy', 'ImmediateBackupCopy', 'Replica')),
        Field('Platform', 'enum', 'platform', ('VMware', 'Hyperv', 'vCloud')),
        Field('ScheduleConfigured', 'bool', 'schedule_configured'), Field('ScheduleEnabled', 'bool', 'schedule_enabled'),
        Field('BackupServerUid', 'uid', 'server_uid'), Field('BackupServerName', 'str', 'server_name')],
    'VmRestorePoint': [
        Field('UID', 'uid', 'uid'), Field('Name', 'str', 'name'), Field('CreationTime', 'date', 'creation'),
        Field('Type', 'enum', 'point_type', ('Full', 'Increment', 'ReverseIncrement')),
        Field('Algorithm', 'enum', 'algorithm', _ALGORITHMS), Field('RestorePointId', 'uid', 'restore_point_uid'),
        Field('RestorePointName', 'str', 'restore_point_name'), Field('VmDisplayName', 'str', 'vm_name')] + _SERVER_FIELDS,
    'VmReplicaPoint': [
        Field('UID', 'uid', 'uid'), Field('Name', 'str', 'name'), Field('CreationTime', 'date', 'creation'),
        Field('Type', 'enum', 'point_type', ('Full', 'ReverseIncrement', 'Increment', 'Snapshot')),
        Field('Algorithm', 'enum', 'algorithm', _ALGORITHMS), Field('ReplicaUid', 'uid', 'replica_uid'),
        Field('ReplicaName', 'str', 'replica_name'), Field('VmDisplayName', 'str', 'vm_name')] + _SERVER_FIELDS,
    'AgentRestorePoint': [
        Field('UID', 'uid', 'uid'), Field('Name', 'str', 'name'), Field('CreationTime', 'date', 'creation'),
        Field('ComputerName', 'str', 'computer_name'), Field('Type', 'enum', 'point_type', ('Full', 'Increment')),
        Field('Algorithm', 'enum', 'algorithm', ('Full', 'Incremental', 'SyntheticFull')),
        Field('RestorePointId', 'uid', 'restore_point_uid'), Field('RestorePointName', 'str', 'restore_point_name'),
        Field('BackupUid', 'uid', 'backup_uid'), Field('BackupName', 'str', 'backup_name'),
        Field('BackupFileUid', 'uid', 'backup_file_uid'), Field('BackupFileName', 'str', 'backup_file_name')] + _SERVER_FIELDS,
    'RestorePoint': [
        Field('UID', 'uid', 'uid'), Field('Name', 'str', 'name'), Field('CreationTime', 'date', 'creation'),
        Field('BackupUid', 'uid', 'backup_uid'), Field('BackupName', 'str', 'backup_name')] + _SERVER_FIELDS,
    'BackupFile': [
        Field('UID', 'uid', 'uid'), Field('Name', 'str', 'name'), Field('CreationTimeUTC', 'date', 'creation'),
        Field('BackupSize', 'long', 'backup_size'), Field('DataSize', 'long', 'data_size'),
        Field('CompressRatio', 'double', 'compress_ratio'), Field('FileType', 'enum', 'file_type', ('vbk', 'vib', 'vrb')),
        Field('BackupUid', 'uid', 'backup_uid'), Field('BackupName', 'str', 'backup_name')] + _SERVER_FIELDS,
    'HierarchyRoot': [
        Field('UID', 'uid', 'uid'), Field('Name', 'str', 'name'), Field('UniqueId', 'str', 'unique_id'),
        Field('HostType', 'enum', 'host_type', ('ESX', 'VC', 'ESXi', 'HvServer', 'HvCluster', 'Scvmm', 'VcdSystem'))]
    + _SERVER_FIELDS,
    'AgentBackupJob': [
        Field('UID', 'uid', 'uid'), Field('Name', 'str', 'name'), Field('Description', 'str', 'description'),
        Field('JobType', 'enum', 'job_type', ('AgentBackup',)),
        Field('Platform', 'enum', 'platform', ('AgentForLinux', 'AgentForWindows')),
        Field('ScheduleConfigured', 'bool', 'schedule_configured'), Field('ScheduleEnabled', 'bool', 'schedule_enabled')]
    + _SERVER_FIELDS,
}
_TYPES_LOWER = {name.lower(): name for name in QUERY_TYPES}
_FIELDS_LOWER = {qtype: {field.name.lower(): field for field in fields} for qtype, fields in QUERY_TYPES.items()}


def canonical_type(name):
    """The documented spelling of a query type, or None when EM does not know it here."""
    return _TYPES_LOWER.get((name or '').strip().lower())


def get_field(qtype, name):
    """Look up a field of ``qtype`` case-insensitively; raise FilterError when unknown."""
    field = _FIELDS_LOWER[qtype].get(name.lower())
    if field is None:
        raise FilterError("Unknown field '%s' for query type '%s'. Supported fields: %s." % (
            name, qtype, ', '.join(f.name for f in QUERY_TYPES[qtype])))
    return field


def parse_datetime(text):
    """Parse an EM DateTime literal to epoch microseconds; zone-less values are UTC."""
    match = _DATE_RE.match(text.strip())
    if not match:
        raise ValueError(text)
    year, month, day, hour, minute, second, fraction, zone = match.groups()
    micro = int((fraction or '0').ljust(7, '0')[:6])
    moment = datetime.datetime(int(year), int(month), int(day), int(hour or 0), int(minute or 0), int(second or 0), micro)
    if zone and zone.upper() != 'Z':
        sign = -1 if zone[0] == '-' else 1
        digits = zone[1:].replace(':', '')
        moment -= sign * datetime.timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
    return us_from_datetime(moment)


def _coerce(field, raw):
    """Turn a literal into the comparable form of ``field``; None means 'absent' (null)."""
    kind = field.kind
    if kind == 'date':
        if raw.lower() == 'null':
            return None
        try:
            return parse_datetime(raw)
        except (ValueError, OverflowError):
            raise FilterError("Invalid DateTime value '%s' for field '%s'. Use UTC ISO-8601, e.g. 2025-08-14T12:31:30Z." % (
                raw, field.name)) from None
    if kind in ('long', 'double'):
        try:
            return int(raw.strip()) if kind == 'long' else float(raw.strip())
        except ValueError:
            raise FilterError("Invalid numeric value '%s' for field '%s'." % (raw, field.name)) from None
    if kind == 'bool':
        lowered = raw.strip().lower()
        if lowered not in ('true', 'false'):
            raise FilterError("Invalid Boolean value '%s' for field '%s'. Possible values: True, False." % (raw, field.name))
        return lowered == 'true'
    if kind == 'enum':
        ordinals = {value.lower(): index for index, value in enumerate(field.values)}
        if raw.strip().lower() not in ordinals:
            raise FilterError("Invalid value '%s' for field '%s'. Possible values: %s." % (raw, field.name, ', '.join(field.values)))
        return ordinals[raw.strip().lower()]
    return raw.casefold()


def _row_value(field):
    """Accessor returning the row's comparable value for ``field``."""
    key = field.key
    if field.kind == 'enum':
        ordinals = {value: index for index, value in enumerate(field.values)}
        return lambda row: ordinals.get(row.get(key), -1)
    if field.kind in ('str', 'uid'):
        return lambda row: (row.get(key) or '').casefold()
    return lambda row: row.get(key)


def _equality_set(node, qtype):
    """``(getter, values)`` when an OR group only tests one text field for equality, else None.

    Clients OR hundreds of names together (``VmDisplayName=="a",...``); a set
    lookup answers that in one step instead of one comparison per name.
    """
    fields = set()
    values = set()
    for child in node.children:
        if not isinstance(child, Comparison) or child.op != '==':
            return None
        field = get_field(qtype, child.field)
        if field.kind not in ('str', 'uid'):
            return None
        fields.add(field.name)
        values.add(_coerce(field, child.value))
    if len(fields) != 1:
        return None
    return _row_value(get_field(qtype, fields.pop())), frozenset(values)


def _compile(node, qtype):
    if isinstance(node, BoolOp):
        if node.kind == 'or':
            equality = _equality_set(node, qtype)
            if equality is not None:
                getter, values = equality
                return lambda row: getter(row) in values
        children = [_compile(child, qtype) for child in node.children]
        if node.kind == 'and':
            return lambda row: all(child(row) for child in children)
        return lambda row: any(child(row) for child in children)
    field = get_field(qtype, node.field)
    wanted = _coerce(field, node.value)
    compare = _OPS[node.op]
    getter = _row_value(field)
    if wanted is None or field.kind == 'date':
        # Absent values (EndTime of a running session) only satisfy "!=" a real value or "==" null.
        def predicate(row):
            have = getter(row)
            if have is None or wanted is None:
                return (have is None) == (wanted is None) if node.op == '==' else (
                    (have is None) != (wanted is None) if node.op == '!=' else False)
            return compare(have, wanted)
        return predicate
    return lambda row: compare(getter(row), wanted)


def compile_filter(text, qtype):
    """Compile a filter string into ``predicate(row) -> bool``; FilterError on any problem."""
    return _compile(parse_filter(text), qtype)


def sort_key(qtype, field_name):
    """A sort key for rows; absent values sort first ascending (SQL Server NULL order)."""
    try:
        field = get_field(qtype, field_name)
    except FilterError as exc:
        raise FilterError(str(exc).replace('Unknown field', 'Unknown sort field')) from None
    getter = _row_value(field)

    def key(row):
        value = getter(row)
        return (value is not None, value if value is not None else 0)
    return key
