# -*- coding: utf-8 -*-
# Copyright (c) 2026, vbem.enterprise_manager contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""An answer that is not what was asked is an error: query pages, entities and what EM sent (pure rules)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import copy
import json
import os

import pytest

from ansible_collections.vbem.enterprise_manager.plugins.module_utils.parsing import (
    BODY_SHOWN, AnswerError, check_entity, describe_body, parse_body, query_page_items,
)

FIXTURES = os.path.join(os.path.dirname(__file__), 'fixtures')
BTS = 'BackupTaskSession'
KEY = 'BackupTaskSessions'


def fixture(name):
    with open(os.path.join(FIXTURES, name), 'rb') as handle:
        return handle.read()


def item(n):
    return {'UID': 'urn:veeam:BackupTaskSession:00000000-0000-0000-0000-%012d' % n, 'Name': 'vm%d' % n}


def page_doc(items, page=1, size=10, count=1, slot=KEY, shape='double', paging=True, camel=False):
    """An EM JSON query answer as a real server sends it (every other slot null)."""
    if shape == 'double':
        inner = {slot: items}
    elif shape == 'single':
        inner = items
    else:
        inner = None
    doc = {'Refs': None, 'Entities': {'Jobs': None, 'ReplicaTaskSessions': None, KEY: None}, 'Resources': None, 'Links': None}
    doc['Entities'][slot] = inner
    if paging:
        doc['PagingInfo'] = {'Links': [], 'PageNum': page, 'PageSize': size, 'PagesCount': count}
    body = json.dumps(doc)
    if camel:
        body = body.replace('"Entities"', '"entities"').replace('"PagingInfo"', '"pagingInfo"').replace(
            '"BackupTaskSessions"', '"backupTaskSessions"').replace('"PageNum"', '"pageNum"')
    return parse_body(body.encode('utf-8'))


def refused(doc, *words, **kwargs):
    with pytest.raises(AnswerError) as info:
        query_page_items(doc, kwargs.pop('query_type', BTS), kwargs.pop('key', KEY), **kwargs)
    for word in words:
        assert word in str(info.value)
    return str(info.value)


# -- what EM really sends is accepted --------------------------------------------------------------

@pytest.mark.parametrize('name, query_type, key, count', [
    ('replica_task_session_query.json', 'ReplicaTaskSession', 'ReplicaTaskSessions', 2),
    ('replica_task_session_query.xml', 'ReplicaTaskSession', 'ReplicaTaskSessions', 2),
    ('cdp_replica_session_query.json', 'CdpReplicaSession', 'CdpReplicaSessions', 1),
    ('cdp_replica_session_query.xml', 'CdpReplicaSession', 'CdpReplicaSessions', 1),
])
def test_documented_query_answers_are_accepted(name, query_type, key, count):
    items, pages = query_page_items(parse_body(fixture(name)), query_type, key, 1, 100)
    assert len(items) == count and pages == 1
    # Without the collection key the plural of the type finds the same wrapper.
    assert query_page_items(parse_body(fixture(name)), query_type, None, 1, 100)[0] == items


def test_bom_and_camel_case_answers_are_accepted():
    body = b'\xef\xbb\xbf' + fixture('replica_task_session_query.json')
    assert len(query_page_items(parse_body(body), 'ReplicaTaskSession', 'ReplicaTaskSessions', 1, 100)[0]) == 2
    items, pages = query_page_items(page_doc([item(1)], camel=True), BTS, KEY, 1, 10)
    assert items == [item(1)] and pages == 1


@pytest.mark.parametrize('shape, inner, expected', [
    ('double', [], []),
    ('double', None, []),
    ('single', [], []),
    ('null', None, []),
])
def test_empty_results_in_every_documented_shape(shape, inner, expected):
    for pages_count in (0, 1):
        doc = page_doc(inner, count=pages_count, shape=shape)
        assert query_page_items(doc, BTS, KEY, 1, 10) == (expected, pages_count)


def test_xml_empty_and_full_query_results():
    empty = parse_body(b'<QueryResult xmlns="http://www.veeam.com/ent/v1.0"><Entities><BackupTaskSessions />'
                       b'</Entities><PagingInfo PageNum="1" PageSize="10" PagesCount="0" /></QueryResult>')
    assert query_page_items(empty, BTS, KEY, 1, 10) == ([], 0)
    one = parse_body(b'<QueryResult><Entities><BackupTaskSessions><BackupTaskSession UID="urn:veeam:BackupTaskSession:1" '
                     b'Name="a" /></BackupTaskSessions></Entities><PagingInfo PagesCount="1" PageSize="10" PageNum="1" />'
                     b'</QueryResult>')
    assert [i['Name'] for i in query_page_items(one, BTS, KEY, 1, 10)[0]] == ['a']


def test_plain_collection_shape_and_missing_paging_info():
    assert query_page_items({KEY: [item(1)]}, BTS, KEY, 1, 10) == ([item(1)], None)
    assert query_page_items(page_doc([item(1)], paging=False), BTS, KEY, 1, 10) == ([item(1)], None)


def test_full_middle_page_and_short_last_page_are_consistent():
    assert len(query_page_items(page_doc([item(i) for i in range(10)], page=2, count=3), BTS, KEY, 2, 10)[0]) == 10
    assert len(query_page_items(page_doc([item(i) for i in range(4)], page=3, count=3), BTS, KEY, 3, 10)[0]) == 4
    # A page past the last one is empty, whatever it is numbered.
    assert query_page_items(page_doc([], page=4, count=3), BTS, KEY, 4, 10) == ([], 3)


def test_page_numbers_as_text_are_read():
    doc = page_doc([item(1)])
    doc['PagingInfo'].update(PageNum='1', PageSize='10', PagesCount='1')
    assert query_page_items(doc, BTS, KEY, 1, 10)[1] == 1


def test_raw_types_take_their_only_slot_when_the_plural_is_not_known():
    doc = {'Entities': {'AgentBackupJob': {'AgentBackupJob': [{'UID': 'x'}]}, 'Jobs': None},
           'PagingInfo': {'PageNum': 1, 'PageSize': 10, 'PagesCount': 1}}
    assert query_page_items(doc, 'AgentBackupJob', None, 1, 10)[0] == [{'UID': 'x'}]
    assert query_page_items({'Entities': {'Repositories': {'Repositories': [{'UID': 'r'}]}}}, 'Repository')[0] == [{'UID': 'r'}]


# -- what is not a query result is refused -------------------------------------------------------

@pytest.mark.parametrize('doc, words', [
    (None, 'the body is empty'),
    ({}, 'no Entities wrapper (it is an empty object)'),
    ([item(1), item(2)], 'a list of 2 items, not a QueryResult'),
    ('Maintenance', 'a string'),
    ({'Body': 'Service unavailable'}, 'no Entities wrapper (its keys: Body)'),
    ({'PagingInfo': {'PageNum': 1, 'PageSize': 10, 'PagesCount': 1}}, 'no Entities wrapper'),
    ({'Entities': None, 'Refs': None, 'PagingInfo': {'PageNum': 1, 'PageSize': 10, 'PagesCount': 1}}, 'Entities wrapper is null'),
    ({'Entities': [item(1)]}, 'Entities wrapper is a list'),
    ({'Entities': 'x'}, 'Entities wrapper is a string'),
    ({'Refs': {'Refs': [item(1)]}, 'Entities': None}, 'references (Refs)'),
    ({'Entities': {}}, 'Entities wrapper has no BackupTaskSessions'),
    ({'Entities': {'Jobs': None}}, 'has no BackupTaskSessions'),
])
def test_not_a_query_result(doc, words):
    refused(doc, words)


def test_items_under_another_types_wrapper_are_refused():
    doc = page_doc(None)
    doc['Entities']['ReplicaTaskSessions'] = {'ReplicaTaskSessions': [item(1)]}
    assert 'ReplicaTaskSessions instead of BackupTaskSessions' in refused(doc)
    del doc['Entities'][KEY]
    refused(doc, 'ReplicaTaskSessions instead of BackupTaskSessions')
    both = page_doc([item(2)])
    both['Entities']['ReplicaTaskSessions'] = {'ReplicaTaskSessions': [item(1)]}
    refused(both, 'ReplicaTaskSessions besides the BackupTaskSessions')
    # A raw type without a known collection key: two filled slots are not one answer either.
    raw = {'Entities': {'Jobs': {'Jobs': [item(1)]}, 'Backups': {'Backups': [item(2)]}}}
    refused(raw, 'instead of Widgets', query_type='Widget', key=None)


@pytest.mark.parametrize('slot, words', [
    ({KEY: 'x'}, 'holds a string'),
    ({'ReplicaTaskSessions': [item(1)]}, 'holds ReplicaTaskSessions'),
    (7, 'is a number'),
    ({KEY: {'x': 1}}, 'holds an object'),
])
def test_a_wrapper_that_does_not_hold_a_list_is_refused(slot, words):
    doc = page_doc(None)
    doc['Entities'][KEY] = slot
    refused(doc, words)


@pytest.mark.parametrize('bad', ['text', 5, None, ['x']])
def test_items_that_are_not_entities_are_refused(bad):
    refused(page_doc([item(1), bad]), 'where entities belong')


# -- a page that contradicts its PagingInfo ----------------------------------------------------------

@pytest.mark.parametrize('items, page, size, count, asked_page, asked_size, words', [
    (1, 1, 10, 1, 2, 10, 'page 1 of 1 where page 2 was asked'),
    (10, 7, 10, 9, 2, 10, 'page 7 of 9 where page 2'),
    (11, 1, 10, 2, 1, 10, 'holds 11 items where at most 10'),
    (5, 1, 2, 3, 1, 10, 'holds 5 items but its PagingInfo says PageSize 2'),
    (3, 1, 10, 0, 1, 10, 'holds 3 items on page 1 but its PagingInfo says PagesCount 0'),
    (3, 2, 10, 1, 2, 10, 'on page 2 but its PagingInfo says PagesCount 1'),
    (4, 1, 10, 5, 1, 10, 'page 1 holds only 4 items (PageSize 10) yet its PagingInfo says 5 pages'),
    (0, 1, 10, 2, 1, 10, 'page 1 holds only 0 items'),
    (1, 2, 10, 3, 2, 10, 'page 2 holds only 1 item (PageSize 10) yet'),
])
def test_paging_contradictions(items, page, size, count, asked_page, asked_size, words):
    doc = page_doc([item(i) for i in range(items)], page=page, size=size, count=count)
    refused(doc, words, page=asked_page, page_size=asked_size)


@pytest.mark.parametrize('paging, words', [
    (None, 'PagingInfo is null'),
    ([], 'PagingInfo is a list'),
    ({'PageNum': 1, 'PageSize': 10}, 'PagesCount no'),
    ({'PageNum': 1, 'PageSize': 'ten', 'PagesCount': 1}, "PageSize 'ten'"),
    ({'PageNum': True, 'PageSize': 10, 'PagesCount': 1}, 'PageNum True'),
    ({'PageNum': -1, 'PageSize': 10, 'PagesCount': 1}, 'PageNum -1'),
])
def test_malformed_paging_info(paging, words):
    doc = page_doc([item(1)])
    doc['PagingInfo'] = paging
    refused(doc, words, page=1, page_size=10)


def test_full_page_that_claims_to_be_last_is_accepted_here():
    """fetch_pages reads on after it (test_query): one page alone cannot tell it lies."""
    doc = page_doc([item(i) for i in range(10)], page=1, count=1)
    assert len(query_page_items(doc, BTS, KEY, 1, 10)[0]) == 10


def test_the_emulator_tamper_shapes_are_refused():
    """The shapes tests/emulator/tamper.py sends (wrapper none/null/bare_list/other)."""
    good = page_doc([item(1)])
    none = copy.deepcopy(good)
    del none['Entities'], none['Refs']
    null = dict(good, Entities=None, Refs=None)
    other = copy.deepcopy(good)
    other['Entities'][KEY] = None
    other['Entities']['ReplicaTaskSessions'] = {'ReplicaTaskSessions': [item(1)]}
    for doc in (none, null, [item(1)], other):
        refused(doc, page=1, page_size=10)


# -- entities ---------------------------------------------------------------------------------------

GUID = '0a1b2c3d-0000-4000-8000-00000000abcd'


def test_entity_asked_for_is_accepted():
    entity = json.loads(fixture('backup_task_session_entity.json').decode('utf-8'))
    guid = entity['UID'].rsplit(':', 1)[-1]
    assert check_entity(entity, BTS, guid) is entity
    assert check_entity(entity, BTS, guid.upper()) is entity
    assert check_entity({'Id': 'urn:veeam:CdpReplicaSession:' + GUID}, 'CdpReplicaSession', GUID)


@pytest.mark.parametrize('doc, words', [
    (None, 'the body is empty'),
    ({}, 'no UID'),
    ([{'UID': 'urn:veeam:BackupTaskSession:' + GUID}], 'a list of 1 item, not a BackupTaskSession entity'),
    ({'Name': 'x', 'UID': ''}, 'no UID'),
    ({'UID': 'urn:veeam:BackupTaskSession:ffffffff-0000-4000-8000-00000000abcd'}, 'another entity'),
    ({'UID': 'urn:veeam:BackupTaskSession:' + GUID + 'x'}, 'another entity'),
])
def test_entity_that_is_not_the_one_asked_for(doc, words):
    with pytest.raises(AnswerError, match=words):
        check_entity(doc, BTS, GUID)


# -- what EM sent, in a sentence ---------------------------------------------------------------------

@pytest.mark.parametrize('content, content_type, expected', [
    (b'', 'application/json', 'application/json with an empty body'),
    (b'  \r\n ', None, 'no content type with an empty body'),
    (b'{}', 'application/json', "application/json, starting '{}'"),
    (b'<html>\r\n  <body>Down   for maintenance</body></html>', 'text/html; charset=utf-8',
     "text/html; charset=utf-8, starting '<html> <body>Down for maintenance</body></html>'"),
    (b'\xef\xbb\xbf{"a": 1}', 'application/json', "application/json, starting '{\"a\": 1}'"),
    (u'a\u202eb\u2066c\x00d\u200fe'.encode('utf-8'), 'text/plain', "text/plain, starting 'a?b?c?d?e'"),
    (b'\xff\xfeok', 'text/plain', u"text/plain, starting '\ufffd\ufffdok'"),
    (b'x', u'text/\u202ehtml', "text/?html, starting 'x'"),
])
def test_describe_body(content, content_type, expected):
    assert describe_body(content, content_type) == expected


def test_describe_body_cuts_long_bodies():
    shown = describe_body(b'<p>' + b'x' * 500 + b'</p>', 'text/html')
    assert shown == "text/html, starting '<p>" + 'x' * (BODY_SHOWN - 3) + "...'"


def test_describe_body_reads_only_the_start_of_a_huge_body():
    shown = describe_body(b'<html>' + b' ' * 10000000 + b'x', 'text/html')
    assert shown == "text/html, starting '<html>...'"
