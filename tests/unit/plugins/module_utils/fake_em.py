# -*- coding: utf-8 -*-
# Copyright (c) 2026, vbem.enterprise_manager contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""An in-memory stand-in for EmClient, for unit tests (no HTTP), that reads filters as the emulator does.

It holds EM entities per query type and answers ``query_page`` with the
emulator's own filter parser and evaluator (tests/emulator/filterexpr.py and
query.py): the same grammar, the same documented fields per query type (an
unknown field fails the test, as EM answers 400), strings compared
case-insensitively, enums by ordinal, times by instant. It sorts by the
emulator's sort keys, pages, records every request with the length of its
URL and refuses (like HTTP.sys) a URL longer than ``url_max_length``.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import collections
import random

from ansible_collections.vbem.enterprise_manager.plugins.module_utils import query
from ansible_collections.vbem.enterprise_manager.plugins.module_utils.errors import EmError
from ansible_collections.vbem.enterprise_manager.tests.emulator import query as emulator_query
from ansible_collections.vbem.enterprise_manager.tests.emulator.filterexpr import FilterError

_PARENTS = {'BackupTaskSession': 'BackupJobSessionReference', 'ReplicaTaskSession': 'ReplicaJobSessionReference',
            'CdpReplicaTaskSession': 'CdpReplicaSessionReference'}
# Filter field -> entity key, where they differ: EM filters on CreationTime, its entities say CreationTimeUTC;
# a point's Type is the entity's PointType.
_ENTITY_KEYS = {'CreationTime': 'CreationTimeUTC', 'EndTime': 'EndTimeUTC', 'Type': 'PointType'}

Request = collections.namedtuple('Request', 'query_type filter_text page url_length sort_field descending page_size')


# Query type -> {row key: (entity key, is a time)}, and the times read so far (tests reuse a few thousand).
_FIELDS = dict((query_type, dict((f.key, (_ENTITY_KEYS.get(f.name, f.name), f.kind == 'date')) for f in fields))
               for query_type, fields in emulator_query.QUERY_TYPES.items())
_TIMES = {}


def _instant(text):
    if text not in _TIMES:
        try:
            _TIMES[text] = emulator_query.parse_datetime(text)
        except (TypeError, ValueError, OverflowError, AttributeError):
            _TIMES[text] = None  # a time EM could not have stored: absent, as the collection's own parser reads it
    return _TIMES[text]


class _Row(object):
    """One EM entity seen as the emulator's row (its field keys, times as epoch microseconds), read on demand."""

    __slots__ = ('fields', 'entity')

    def __init__(self, query_type, entity):
        self.fields = _FIELDS[query_type]
        self.entity = entity

    def get(self, key, default=None):
        entity_key, is_time = self.fields[key]
        value = self.entity.get(entity_key, default)
        return _instant(value) if is_time and value is not None else value


def predicate(filter_text, query_type='BackupTaskSession'):
    """A function telling whether an entity of ``query_type`` matches ``filter_text`` (None matches everything)."""
    if filter_text is None:
        return lambda entity: True
    try:
        test = emulator_query.compile_filter(filter_text, query_type)
    except FilterError as exc:
        raise AssertionError('EM would refuse the {0} filter {1!r} (HTTP 400): {2}'.format(query_type, filter_text, exc))
    return lambda entity: test(_Row(query_type, entity))


def matches(filter_text, entity, query_type='BackupTaskSession'):
    """Whether ``entity`` matches ``filter_text``."""
    return predicate(filter_text, query_type)(entity)


class FakeEm(object):
    """EmClient's query surface over in-memory entities.

    ``requests`` lists a :data:`Request` per page asked for, ``entity_requests``
    ``(entity_path, guid)`` per entity read. ``on_query(request)`` runs before
    each answer, so a test can change the data while the code under test polls.
    It is a context manager like EmClient; ``entered``/``exited`` count its uses.
    """

    base_url = 'https://em.example.com:9398/api'

    def __init__(self, url_max_length=16384, order='asked', seed=0):
        # order: 'asked' sorts as the request says; 'reverse' answers the other way round
        # (oldest first for sortDesc); 'shuffle' in a seeded random order. Pages cut the
        # whole answer, as a server with such a bug would. A callable gets the sorted rows and
        # returns them in the order to answer in.
        self.order = order
        self.seed = seed
        self.entities = {}
        self.requests = []
        self.entity_requests = []
        self.url_max_length = url_max_length
        self.counter = 0
        self.on_query = None
        self.warnings = []  # EmClient's own notes (retries, logoff trouble): none here
        self.entered = self.exited = 0

    def __enter__(self):
        self.entered += 1
        return self

    def __exit__(self, *exc):
        self.exited += 1
        return False

    def put(self, query_type, entity):
        """Add an entity the test built itself (a job session, say); returns it."""
        self.entities.setdefault(query_type, []).append(entity)
        return entity

    def add(self, query_type, vm, created, state='Completed', result='Success', job='Job A', reason=None, end=None, vm_uid=None):
        """Add one task session entity; returns it (tests may change it later)."""
        self.counter += 1
        if end is None and state == 'Completed':
            end = created
        uid_key = 'Id' if query_type == 'CdpReplicaTaskSession' else 'UID'
        entity = {
            uid_key: 'urn:veeam:{0}:00000000-0000-0000-0000-{1:012d}'.format(query_type, self.counter),
            'Name': '{0}@{1}'.format(vm, created), 'VmDisplayName': vm, 'JobName': job,
            'CreationTimeUTC': created, 'EndTimeUTC': end, 'State': state, 'Result': result, 'Reason': reason,
            'Links': [{'Rel': 'Up', 'Type': _PARENTS[query_type], 'Href': 'https://em/x', 'Name': '{0}@{1}'.format(job, created)}],
        }
        if vm_uid is not None:
            entity['VmUid'] = vm_uid
        return self.put(query_type, entity)

    def add_point(self, query_type, name, created, backup_file='Web FarmD2026-11-29T214000.vib', server='vbr01', vm_uid=None):
        """Add one restore point entity (``VmRestorePoint``, ``VmReplicaPoint`` or ``AgentRestorePoint``); returns it.

        The filter field of the name is ``VmDisplayName`` (``ComputerName`` for agents); the entity says ``VmName``
        (restore points), ``VmDisplayName`` (replica points) or nothing (agent points), as the docs' examples do,
        so the fake keeps the filter field beside the entity's own keys.
        """
        self.counter += 1
        entity = {
            'UID': 'urn:veeam:{0}:00000000-0000-0000-0000-{1:012d}'.format(query_type, self.counter),
            'Name': '{0}@{1}'.format(name, created), 'CreationTimeUTC': created, 'PointType': 'Increment',
            'Algorithm': 'Incremental', 'HierarchyObjRef': vm_uid,
            'Links': [{'Rel': 'Up', 'Type': 'BackupServerReference', 'Href': 'https://em/s', 'Name': server},
                      {'Rel': 'Up', 'Type': 'BackupFileReference', 'Href': 'https://em/f', 'Name': backup_file}],
        }
        field = 'ComputerName' if query_type == 'AgentRestorePoint' else 'VmDisplayName'
        entity[field] = name
        if query_type == 'VmRestorePoint':
            entity['VmName'] = name
        return self.put(query_type, entity)

    def finish(self, entity, result='Success', reason=None, end='2026-11-30T15:55:00Z'):
        """Finish a running session in place."""
        entity.update(State='Completed', Result=result, Reason=reason, EndTimeUTC=end)

    def query_page(self, query_type, filter_text=None, sort_field=None, descending=True, page_size=100, page=1, collection_key=None):
        url = query.query_url(self.base_url, query_type, filter_text, sort_field, descending, page_size, page)
        request = Request(query_type, filter_text, page, len(url), sort_field, descending, page_size)
        self.requests.append(request)
        if self.on_query is not None:
            self.on_query(request)
        if len(url) > self.url_max_length:
            raise EmError('HTTP 414 from the fake EM')
        test = predicate(filter_text, query_type)
        rows = [e for e in self.entities.get(query_type, []) if test(e)]
        if sort_field:
            try:
                key = emulator_query.sort_key(query_type, sort_field)
            except FilterError as exc:
                raise AssertionError('EM would refuse to sort {0} by {1} (HTTP 400): {2}'.format(query_type, sort_field, exc))
            rows.sort(key=lambda e: key(_Row(query_type, e)), reverse=descending)
        if callable(self.order):
            rows = self.order(rows)
        elif self.order == 'reverse':
            rows.reverse()
        elif self.order == 'shuffle':
            # One permutation per query, so that its pages cut one answer.
            random.Random('{0}|{1}|{2}'.format(self.seed, query_type, filter_text)).shuffle(rows)
        start = (page - 1) * page_size
        return rows[start:start + page_size], -(-len(rows) // page_size)

    def get_entity(self, entity_path, guid, query_type=None):
        """The entity of ``query_type`` (any, without) whose UID (or Id) ends in ``guid``, or None (EM's 404)."""
        self.entity_requests.append((entity_path, guid))
        kinds = [query_type] if query_type else list(self.entities)
        for entity in (e for kind in kinds for e in self.entities.get(kind, [])):
            if str(entity.get('UID') or entity.get('Id') or '').lower().endswith(':' + guid.lower()):
                return entity
        return None

    def filters(self, query_type=None):
        """The distinct filters asked for page 1, in order."""
        return [r.filter_text for r in self.requests if r.page == 1 and (query_type is None or r.query_type == query_type)]
