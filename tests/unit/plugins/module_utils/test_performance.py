# -*- coding: utf-8 -*-
# Copyright (c) 2026, vbem.enterprise_manager contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The fast paths of issue 8 give the same answers as the slow ones they replace."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import threading
import time

import pytest

from ansible_collections.vbem.enterprise_manager.plugins.module_utils import parsing
from ansible_collections.vbem.enterprise_manager.plugins.module_utils.errors import EmError
from ansible_collections.vbem.enterprise_manager.plugins.module_utils.info import run_session_query
from ansible_collections.vbem.enterprise_manager.plugins.module_utils.parsing import ci_get, link_dicts, normalise_keys, parse_body
from ansible_collections.vbem.enterprise_manager.plugins.module_utils.query import DEFAULT_CONCURRENCY, fetch_pages
from ansible_collections.vbem.enterprise_manager.plugins.module_utils.validate import DEFAULT_PAGE_SIZE

ENTITY = {
    'VmDisplayName': 'web01', 'Name': 'web01@2025-08-15 20:00:24', 'UID': 'urn:veeam:BackupTaskSession:88322206-a645-4aa3-9228-028ce51e7c0f',
    'CreationTimeUTC': '2025-08-15T20:00:24Z', 'EndTimeUTC': '2025-08-15T20:04:13Z', 'State': 'Completed', 'Result': 'Success',
    'Reason': None, 'TotalSize': 5, 'Type': 'BackupTaskSession',
    'Links': [{'Rel': 'Up', 'Href': 'https://em/api/backupServers/1', 'Name': 'vbr01', 'Type': 'BackupServerReference'},
              {'Rel': 'Up', 'Href': 'https://em/api/backupSessions/2', 'Name': 'Job A@2025-08-15 20:00:00', 'Type': 'BackupJobSessionReference'}],
}


def camel(value):
    """Newtonsoft's camelCase, as a v13 server might send it."""
    if isinstance(value, dict):
        return dict((k[0].lower() + k[1:], camel(v)) for k, v in value.items())
    if isinstance(value, list):
        return [camel(v) for v in value]
    return value


def query_doc(items):
    return {'Refs': None, 'Entities': {'BackupTaskSessions': {'BackupTaskSessions': items}},
            'PagingInfo': {'PageNum': 1, 'PageSize': 100, 'PagesCount': 1, 'Links': []}}


def test_json_decoded_with_canonical_keys_equals_the_recursive_rewrite():
    doc = camel(query_doc([ENTITY, ENTITY]))
    assert parse_body(json.dumps(doc).encode('utf-8')) == normalise_keys(doc) == query_doc([ENTITY, ENTITY])


def test_a_camel_case_key_inside_a_pascal_case_document_is_still_rewritten():
    entity = dict(ENTITY, vmUid='urn:VMware:Vm:1')
    parsed = parse_body(json.dumps(query_doc([entity])).encode('utf-8'))
    assert parsing.extract_items(parsed)[0]['VmUid'] == 'urn:VMware:Vm:1'


def test_normalise_keys_rebuilds_only_what_changes():
    pascal = query_doc([ENTITY])
    assert normalise_keys(pascal) is pascal
    assert normalise_keys(camel(pascal)) == pascal


def test_ci_get_still_finds_another_spelling_of_a_seen_key():
    parse_body(b'{"Jobname": 1, "JobName": 2}')  # both spellings are now known canonical keys
    assert ci_get({'Jobname': 1}, 'JOBNAME') == 1
    assert ci_get({'Jobname': 1}, 'JobName') == 1
    assert ci_get({'VmDisplayName': 'x'}, 'vmdisplayname') == 'x'
    assert ci_get({'VmDisplayName': 'x'}, 'Missing', 'default') == 'default'


def test_link_dicts_fast_and_slow_paths_agree():
    canonical = link_dicts(ENTITY)
    odd = dict(ENTITY, Links=[dict((k.lower(), v) for k, v in link.items()) for link in ENTITY['Links']])
    assert canonical == link_dicts(odd) == [
        {'rel': 'Up', 'href': 'https://em/api/backupServers/1', 'name': 'vbr01', 'type': 'BackupServerReference'},
        {'rel': 'Up', 'href': 'https://em/api/backupSessions/2', 'name': 'Job A@2025-08-15 20:00:00', 'type': 'BackupJobSessionReference'},
    ]
    partial = dict(ENTITY, Links=[{'Rel': 'Down', 'Href': 'h'}])
    assert link_dicts(partial) == [{'rel': 'Down', 'href': 'h', 'name': None, 'type': None}]


class SlowPages(object):
    """Pages of ten items that take a little while, counting how many are read at once."""

    def __init__(self, pages, fail_on=None):
        self.pages = pages
        self.fail_on = fail_on
        self.lock = threading.Lock()
        self.active = 0
        self.peak = 0
        self.started = []

    def __call__(self, page):
        with self.lock:
            self.active += 1
            self.peak = max(self.peak, self.active)
            self.started.append(page)
        try:
            time.sleep(0.01)
            if page == self.fail_on:
                raise EmError('page {0} failed'.format(page))
            # Like EM, a page past the last one is empty (a full last page is read past).
            return ['p%03d-%d' % (page, i) for i in range(10 if page <= self.pages else 0)], self.pages
        finally:
            with self.lock:
                self.active -= 1


@pytest.mark.parametrize('concurrency', [1, 2, DEFAULT_CONCURRENCY, 16])
def test_no_more_pages_than_concurrency_are_read_at_once_and_items_keep_page_order(concurrency):
    pages = SlowPages(12)
    result = fetch_pages(pages, 10, concurrency=concurrency)
    assert result.items == ['p%03d-%d' % (p, i) for p in range(1, 13) for i in range(10)]
    assert 1 <= pages.peak <= concurrency and sorted(pages.started) == list(range(1, 14))
    assert result.pages_fetched == 13 and result.truncated is False


def test_pages_after_the_first_are_read_at_the_same_time():
    page_three_started = threading.Event()
    waited = []

    def fetch(page):
        if page == 3:
            page_three_started.set()
        if page == 2:
            # Page 3 can only start while page 2 is still being read if pages overlap.
            waited.append(page_three_started.wait(5))
        return ['p%d' % page] if page <= 4 else [], 4

    assert fetch_pages(fetch, 1, concurrency=2).items == ['p1', 'p2', 'p3', 'p4']
    assert waited == [True]


def test_a_failed_page_fails_the_walk_and_no_page_is_left_running():
    pages = SlowPages(30, fail_on=5)
    with pytest.raises(EmError, match='page 5 failed'):
        fetch_pages(pages, 10, concurrency=4)
    assert pages.active == 0 and len(pages.started) < 30


def test_a_limit_starts_no_page_it_cannot_use():
    pages = SlowPages(50)
    result = fetch_pages(pages, 10, limit=35, concurrency=8)
    assert len(result.items) == 35 and result.truncated is True
    assert sorted(pages.started) == [1, 2, 3, 4]


class Client(object):
    base_url = 'https://em:9398/api'

    def __init__(self, entities):
        self.entities = entities
        self.page_sizes = []

    def query_page(self, query_type, filter_text=None, sort_field=None, descending=True, page_size=100, page=1, collection_key=None):
        self.page_sizes.append(page_size)
        start = (page - 1) * page_size
        return [dict(e) for e in self.entities[start:start + page_size]], -(-len(self.entities) // page_size)


def entities(count):
    return [dict(ENTITY, UID='urn:veeam:BackupTaskSession:00000000-0000-0000-0000-%012d' % n, VmDisplayName='vm%d' % n,
                 Result='Failed' if n % 3 == 0 else 'Success') for n in range(count)]


def test_sessions_carry_no_links_unless_fields_asks_for_them():
    result = run_session_query(Client(entities(3)), 'backup_task', {'limit': 0})
    assert all('links' not in s for s in result['sessions'])
    assert result['sessions'][0]['backup_server'] == 'vbr01' and result['sessions'][0]['job_name'] == 'Job A'
    with_links = run_session_query(Client(entities(3)), 'backup_task', {'limit': 0, 'fields': ['vm_name', 'links']})
    assert with_links['sessions'][0] == {'vm_name': 'vm0', 'links': link_dicts(ENTITY)}


def test_fields_pick_keys_in_order_and_the_summary_still_counts_every_session():
    result = run_session_query(Client(entities(7)), 'backup_task', {'limit': 0, 'fields': ['result', 'vm_name', 'result']})
    assert [list(s) for s in result['sessions']] == [['result', 'vm_name']] * 7
    assert result['summary']['by_result'] == {'Success': 4, 'Warning': 0, 'Failed': 3, 'None': 0}


def test_fields_with_latest_per_vm_still_keeps_one_session_per_vm():
    rows = entities(4) + [dict(e, UID=e['UID'][:-1] + 'f') for e in entities(4)]
    result = run_session_query(Client(rows), 'backup_task', {'limit': 0, 'latest_per_vm': True, 'fields': ['result']})
    assert len(result['sessions']) == 4


@pytest.mark.parametrize('params, message', [
    ({'fields': ['vm_name', 'nope']}, 'fields must be one or more of .*nope.* is not one of them'),
    ({'fields': []}, 'fields is empty'),
    ({'concurrency': 0}, 'concurrency must be a whole number from 1 to 16, not 0'),
    ({'concurrency': 17}, 'concurrency must be a whole number from 1 to 16, not 17'),
])
def test_bad_fields_and_concurrency_are_refused_before_any_request(params, message):
    client = Client(entities(1))
    with pytest.raises(EmError, match=message):
        run_session_query(client, 'backup_task', params)
    assert client.page_sizes == []


def test_job_sessions_offer_their_own_fields():
    with pytest.raises(EmError, match='vm_name.* is not one of them'):
        run_session_query(Client([]), 'backup_job', {'fields': ['vm_name']})


def test_the_default_page_size_reads_a_thousand_sessions_a_request():
    client = Client(entities(2500))
    result = run_session_query(client, 'backup_task', {'limit': 0})
    assert len(result['sessions']) == 2500 and client.page_sizes == [DEFAULT_PAGE_SIZE] * 3 and DEFAULT_PAGE_SIZE == 1000
