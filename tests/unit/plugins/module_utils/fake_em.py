# -*- coding: utf-8 -*-
# Copyright (c) 2026, vbem.enterprise_manager contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""An in-memory stand-in for EmClient that evaluates EM filters, for unit tests (no HTTP).

It holds task session entities per query type and answers ``query_page``
as EM does for the part of the grammar the collection sends: ``;`` (AND)
binding tighter than ``,`` (OR), parentheses, quoted values with ``""``,
string comparisons case-insensitive (by casefold, as the emulator), times
by instant. It sorts, pages, records every request with the length of its
URL and refuses (like HTTP.sys) a URL longer than ``url_max_length``.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import random
import re
from datetime import datetime

from ansible_collections.vbem.enterprise_manager.plugins.module_utils import query, sessions
from ansible_collections.vbem.enterprise_manager.plugins.module_utils.errors import EmError

_TOKEN = re.compile(r'\s*(?:(?P<punct>[();,])|(?P<field>[A-Za-z_][A-Za-z0-9_]*)(?P<op>==|!=|<=|>=|<|>)'
                    r'(?:"(?P<quoted>(?:[^"]|"")*)"|(?P<bare>[^;,()]*)))')
# Filter field -> entity key, where they differ (EM filters on CreationTime, the entity says CreationTimeUTC).
_ENTITY_KEYS = {'CreationTime': 'CreationTimeUTC', 'EndTime': 'EndTimeUTC', 'UID': 'UID'}
_TIME_FIELDS = ('CreationTime', 'CreationTimeUTC', 'EndTime', 'EndTimeUTC')
_PARENTS = {'BackupTaskSession': 'BackupJobSessionReference', 'ReplicaTaskSession': 'ReplicaJobSessionReference',
            'CdpReplicaTaskSession': 'CdpReplicaSessionReference'}


def _tokens(text):
    position, found = 0, []
    while position < len(text):
        match = _TOKEN.match(text, position)
        if not match or match.end() == position:
            raise AssertionError('the fake EM cannot parse the filter at {0}: {1!r}'.format(position, text))
        if match.group('punct'):
            found.append(match.group('punct'))
        else:
            value = match.group('quoted').replace('""', '"') if match.group('quoted') is not None else match.group('bare').strip()
            found.append((match.group('field'), match.group('op'), value))
        position = match.end()
    return found


class _Parser(object):
    """``or := and (',' and)*``, ``and := atom (';' atom)*``, ``atom := '(' or ')' | comparison``."""

    def __init__(self, text):
        self.tokens = _tokens(text)
        self.position = 0

    def parse(self):
        tree = self._or()
        if self.position != len(self.tokens):
            raise AssertionError('the fake EM found trailing tokens: {0!r}'.format(self.tokens[self.position:]))
        return _simplify(tree)

    def _peek(self):
        return self.tokens[self.position] if self.position < len(self.tokens) else None

    def _or(self):
        terms = [self._and()]
        while self._peek() == ',':
            self.position += 1
            terms.append(self._and())
        return ('or', terms)

    def _and(self):
        terms = [self._atom()]
        while self._peek() == ';':
            self.position += 1
            terms.append(self._atom())
        return ('and', terms)

    def _atom(self):
        token = self._peek()
        self.position += 1
        if token == '(':
            tree = self._or()
            if self._peek() != ')':
                raise AssertionError('the fake EM found an unclosed parenthesis')
            self.position += 1
            return tree
        if not isinstance(token, tuple):
            raise AssertionError('the fake EM expected a comparison, not {0!r}'.format(token))
        return ('cmp', token)


def _simplify(tree):
    """Unwrap one-term groups and turn an OR of ``Field==value`` into a set lookup (5,000 names stay fast)."""
    kind, body = tree
    if kind == 'cmp':
        return tree
    terms = [_simplify(part) for part in body]
    if len(terms) == 1:
        return terms[0]
    if kind == 'or' and all(t[0] == 'cmp' and t[1][1] == '==' and t[1][0] == terms[0][1][0] for t in terms) \
            and terms[0][1][0] not in _TIME_FIELDS:
        return ('in', (terms[0][1][0], frozenset(t[1][2].casefold() for t in terms)))
    return (kind, terms)


def _compare(entity, comparison):
    field, operator, value = comparison
    actual = entity.get(_ENTITY_KEYS.get(field, field))
    if field in _TIME_FIELDS:
        left, right = sessions.parse_em_time(actual), query.parse_time(value)
        if left is None:
            return operator == '!='
    else:
        left, right = ('' if actual is None else str(actual)).casefold(), value.casefold()
    return {'==': left == right, '!=': left != right, '<': left < right, '<=': left <= right,
            '>': left > right, '>=': left >= right}[operator]


def evaluate(tree, entity):
    """Whether ``entity`` matches a parsed filter."""
    kind, body = tree
    if kind == 'cmp':
        return _compare(entity, body)
    if kind == 'in':
        actual = entity.get(_ENTITY_KEYS.get(body[0], body[0]))
        return ('' if actual is None else str(actual)).casefold() in body[1]
    if kind == 'and':
        return all(evaluate(part, entity) for part in body)
    return any(evaluate(part, entity) for part in body)


def predicate(filter_text):
    """A function telling whether an entity matches ``filter_text`` (None matches everything), parsed once."""
    if filter_text is None:
        return lambda entity: True
    tree = _Parser(filter_text).parse()
    return lambda entity: evaluate(tree, entity)


def matches(filter_text, entity):
    """Whether ``entity`` matches ``filter_text``."""
    return predicate(filter_text)(entity)


class FakeEm(object):
    """EmClient's query surface over in-memory entities.

    ``requests`` lists ``(query_type, filter_text, page, url_length)`` per
    page asked for. ``on_query(client)`` runs before each answer, so a test
    can change the data while the code under test polls.
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
        self.url_max_length = url_max_length
        self.counter = 0

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
        self.entities.setdefault(query_type, []).append(entity)
        return entity

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
        self.entities.setdefault(query_type, []).append(entity)
        return entity

    def finish(self, entity, result='Success', reason=None, end='2026-11-30T15:55:00Z'):
        """Finish a running session in place."""
        entity.update(State='Completed', Result=result, Reason=reason, EndTimeUTC=end)

    def query_page(self, query_type, filter_text=None, sort_field=None, descending=True, page_size=100, page=1, collection_key=None):
        url = query.query_url(self.base_url, query_type, filter_text, sort_field, descending, page_size, page)
        self.requests.append((query_type, filter_text, page, len(url)))
        if len(url) > self.url_max_length:
            raise EmError('HTTP 414 from the fake EM')
        test = predicate(filter_text)
        rows = [e for e in self.entities.get(query_type, []) if test(e)]
        if sort_field:
            key = _ENTITY_KEYS.get(sort_field, sort_field)
            rows.sort(key=lambda e: (sessions.parse_em_time(e.get(key)) or datetime(1, 1, 1)) if key in _TIME_FIELDS
                      else str(e.get(key)).casefold(), reverse=descending)
        if callable(self.order):
            rows = self.order(rows)
        elif self.order == 'reverse':
            rows.reverse()
        elif self.order == 'shuffle':
            # One permutation per query, so that its pages cut one answer.
            random.Random('{0}|{1}|{2}'.format(self.seed, query_type, filter_text)).shuffle(rows)
        start = (page - 1) * page_size
        return rows[start:start + page_size], -(-len(rows) // page_size)

    def filters(self, query_type=None):
        """The distinct filters asked for page 1, in order."""
        return [f for t, f, page, _n in self.requests if page == 1 and (query_type is None or t == query_type)]
