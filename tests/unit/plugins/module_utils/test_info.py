# -*- coding: utf-8 -*-
# Copyright (c) 2026, vbem.enterprise_manager contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The session query service, driven by an in-memory stand-in for EmClient (no HTTP)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from datetime import datetime

import pytest

from ansible_collections.vbem.enterprise_manager.plugins.module_utils.errors import EmError
from ansible_collections.vbem.enterprise_manager.plugins.module_utils.info import (
    job_argument_spec, mutually_exclusive, plan_session_query, run_session_query, split_session_filters,
    task_argument_spec,
)
from ansible_collections.vbem.enterprise_manager.plugins.module_utils.query import query_url
from ansible_collections.vbem.enterprise_manager.plugins.module_utils.sessions import KINDS
from ansible_collections.vbem.enterprise_manager.tests.unit.plugins.module_utils.fake_em import FakeEm, predicate

NOW = datetime(2025, 8, 16, 12, 0, 0)
# After every session the tests make (up to 28 August): where a newest session dated after now would be warned about.
LATER = datetime(2025, 9, 1)
GUID = '88322206-a645-4aa3-9228-028ce51e7c0f'


def add(em, n, vm='vm1', state='Completed', result='Success', query_type='BackupTaskSession'):
    """One task session in ``em``, created on 28 - n % 28 August 2025 (a higher n is older); returns it."""
    return em.add(query_type, vm, '2025-08-%02dT10:00:00Z' % (28 - n % 28), state=state, result=result)


def session_filter(kind, params, now=NOW):
    """``(filter, local filters)`` as the gate and the modules build them: ``split_session_filters``'s whole filter."""
    _filters, logical, local = split_session_filters(FakeEm(), kind, params, now)
    return logical, local


def test_structured_options_become_one_em_filter():
    text, local = session_filter(KINDS['backup_task'], {
        'vm_name': ['web;01', 'db "1"'], 'result': ['Failed', 'Warning'], 'state': 'Completed',
        'created_after': '24h', 'created_before': '2025-08-16', 'filter': 'TotalSize>0'}, NOW)
    assert text == ('(VmDisplayName=="web;01",VmDisplayName=="db ""1""");(Result=="Failed",Result=="Warning");State=="Completed";'
                    'CreationTime>="2025-08-15T12:00:00Z";CreationTime<"2025-08-16T00:00:00Z";(TotalSize>0)')
    assert local == {}


def test_cdp_task_uses_its_own_field_names_and_filters_result_locally():
    text, local = session_filter(KINDS['cdp_task'], {'vm_name': 'v', 'result': ['Failed'], 'job_name': ['CDP Policy 1'],
                                                     'created_after': '2025-08-15T00:00:00Z'}, NOW)
    assert text == 'VmDisplayName=="v";CreationTimeUTC>="2025-08-15T00:00:00Z"'
    assert local == {'result': {'failed'}, 'job_name': {'cdp policy 1'}}


def test_job_kinds_filter_on_job_name():
    text, _local = session_filter(KINDS['cdp_job'], {'job_name': ['CDP Policy 1']}, NOW)
    assert text == 'PolicyName=="CDP Policy 1"'


def test_query_returns_sessions_summary_and_the_filter_sent():
    em = FakeEm()
    for i in range(3):
        add(em, i)
    add(em, 3, result='Failed')
    result = run_session_query(em, 'backup_task', {'result': ['Success'], 'limit': 10, 'page_size': 2}, now=NOW)
    assert len(result['sessions']) == 3 and result['truncated'] is False and result['warnings'] == []
    assert result['summary']['by_result']['Success'] == 3
    assert result['filter'] == 'Result=="Success"'
    assert em.requests[0][:3] + em.requests[0][4:] == ('BackupTaskSession', 'Result=="Success"', 1, 'CreationTime', True, 2)


def test_limit_truncation_is_flagged_and_a_chosen_limit_does_not_warn():
    em = FakeEm()
    for i in range(30):
        add(em, i)
    result = run_session_query(em, 'backup_task', {'limit': 5, 'page_size': 10}, now=NOW)
    assert len(result['sessions']) == 5 and result['truncated'] is True
    assert result['warnings'] == []


def test_sort_and_order_reach_em():
    em = FakeEm()
    add(em, 1)
    run_session_query(em, 'backup_task', {'sort': 'vm_name', 'order': 'ascending'}, now=NOW)
    assert (em.requests[0].sort_field, em.requests[0].descending) == ('VmDisplayName', False)


def test_latest_per_vm_queries_newest_first_and_keeps_one_per_vm():
    em = FakeEm()
    for n, vm in ((1, 'a'), (2, 'b'), (3, 'a'), (4, 'c')):
        add(em, n, vm=vm)
    result = run_session_query(em, 'backup_task', {'latest_per_vm': True, 'sort': 'vm_name', 'order': 'ascending', 'limit': 0}, now=LATER)
    assert [s['vm_name'] for s in result['sessions']] == ['a', 'b', 'c']
    assert (em.requests[0].sort_field, em.requests[0].descending) == ('CreationTime', True)


def test_latest_per_vm_keeps_vms_whose_names_differ_only_in_case_apart_and_warns():
    # A and a may be two VMs (EM matches both for either name): neither is given the other's session.
    em = FakeEm()
    items = [add(em, 1, vm='A'), add(em, 2, vm='b'), add(em, 3, vm='a')]  # newest first
    result = run_session_query(em, 'backup_task', {'latest_per_vm': True, 'limit': 0}, now=LATER)
    assert [s['uid'] for s in result['sessions']] == [items[0]['UID'], items[1]['UID'], items[2]['UID']]
    assert result['warnings'] == ["latest_per_vm kept one newest session for each of 2 VMs whose names differ only in case: "
                                  "'A', 'a'; EM compares names case-insensitively, so one vm_name given matches all of them."]


def test_latest_per_vm_keeps_one_session_per_vm_uid():
    em = FakeEm()
    items = [add(em, n, vm='web01') for n in (1, 2, 3)]
    for item, vm_uid in zip(items, ('urn:VMware:Vm:r1.vm-1', 'urn:VMware:Vm:r2.vm-1', 'urn:VMware:Vm:r1.vm-1')):
        item['VmUid'] = vm_uid
    result = run_session_query(em, 'backup_task', {'latest_per_vm': True, 'limit': 0}, now=LATER)
    assert [s['uid'] for s in result['sessions']] == [items[0]['UID'], items[1]['UID']]
    assert [s['vm_uid'] for s in result['sessions']] == ['urn:VMware:Vm:r1.vm-1', 'urn:VMware:Vm:r2.vm-1']


@pytest.mark.parametrize('shuffle_seed', range(6))
def test_latest_per_vm_picks_the_newest_by_time_whatever_the_answer_order(shuffle_seed):
    em = FakeEm(order='shuffle', seed=shuffle_seed)
    items = [add(em, n, vm='vm%d' % (n % 3), result=('Success', 'Failed', 'Warning')[n % 4 % 3]) for n in range(1, 13)]
    expected = {}
    for item in items:
        if item['VmDisplayName'] not in expected or item['CreationTimeUTC'] > expected[item['VmDisplayName']]['CreationTimeUTC']:
            expected[item['VmDisplayName']] = item
    for page_size in (1, 5, 100):
        result = run_session_query(em, 'backup_task', {'latest_per_vm': True, 'limit': 0, 'page_size': page_size}, now=LATER)
        assert sorted(s['uid'] for s in result['sessions']) == sorted(e['UID'] for e in expected.values())


def test_latest_per_vm_with_result_judges_the_newest_then_filters():
    # vm1's last backup failed: result=Success must not return its older success.
    em = FakeEm()
    items = [add(em, 1, vm='vm1', result='Failed'), add(em, 2, vm='vm2'), add(em, 3, vm='vm1')]
    result = run_session_query(em, 'backup_task', {'latest_per_vm': True, 'result': ['Success'], 'limit': 0}, now=LATER)
    assert [s['vm_name'] for s in result['sessions']] == ['vm2']
    assert 'Result' not in (em.requests[0].filter_text or '')
    failed = run_session_query(em, 'backup_task', {'latest_per_vm': True, 'result': ['Failed'], 'limit': 0}, now=LATER)
    assert [s['uid'] for s in failed['sessions']] == [items[0]['UID']]


def test_latest_per_vm_with_state_drops_a_vm_whose_newest_is_running():
    em = FakeEm()
    add(em, 1, vm='vm1', state='InProgress', result='None'), add(em, 2, vm='vm2'), add(em, 3, vm='vm1')
    result = run_session_query(em, 'backup_task', {'latest_per_vm': True, 'state': ['Completed'], 'limit': 0}, now=LATER)
    assert [s['vm_name'] for s in result['sessions']] == ['vm2']


def test_latest_per_vm_with_a_limit_skips_pages_only_while_the_order_holds():
    in_order, backwards = FakeEm(), FakeEm(order='reverse')
    for em in (in_order, backwards):
        for n in range(1, 21):
            add(em, n, vm='vm%d' % n)  # vm1 newest (28 - n)
    result = run_session_query(in_order, 'backup_task', {'latest_per_vm': True, 'limit': 4, 'page_size': 2, 'concurrency': 1},
                               now=LATER)
    assert [s['vm_name'] for s in result['sessions']] == ['vm1', 'vm2', 'vm3', 'vm4'] and result['truncated'] is True
    assert [r.page for r in in_order.requests] == [1, 2]
    # Oldest first: vm20's session of 8 August comes first; the first 4 VMs read are not the newest 4.
    result = run_session_query(backwards, 'backup_task', {'latest_per_vm': True, 'limit': 4, 'page_size': 2}, now=LATER)
    assert [s['vm_name'] for s in result['sessions']] == ['vm1', 'vm2', 'vm3', 'vm4'] and result['truncated'] is True
    # Every page is read, and past the tenth, full one that calls itself the last: EM's last word is not trusted.
    assert sorted(r.page for r in backwards.requests) == list(range(1, 12))


def test_latest_per_vm_warns_about_a_newest_session_dated_in_the_future():
    em = FakeEm()
    add(em, 1, vm='vm1'), add(em, 2, vm='vm2')  # 27 and 26 August
    result = run_session_query(em, 'backup_task', {'latest_per_vm': True, 'limit': 0}, now=datetime(2025, 8, 26, 12))
    assert result['warnings'] == [
        "latest_per_vm: the newest BackupTaskSession session of 1 VM(s) is dated more than 5 minutes after the controller's clock, "
        "before 2000 or not at all: vm1 (2025-08-27T10:00:00Z); such a session proves nothing."]


def test_latest_per_job_keeps_each_jobs_newest_session():
    em = FakeEm()

    def job_session(n, job):
        return em.put('BackupJobSession', {
            'UID': 'urn:veeam:BackupJobSession:00000000-0000-0000-0000-%012d' % n, 'JobName': job, 'JobType': 'Backup',
            'CreationTimeUTC': '2025-08-%02dT10:00:00Z' % n, 'State': 'Stopped', 'Result': 'Success'})
    items = [job_session(3, 'j'), job_session(2, 'k'), job_session(1, 'j')]
    result = run_session_query(em, 'backup_job', {'latest_per_job': True, 'limit': 0}, now=NOW)
    assert [s['uid'] for s in result['sessions']] == [items[0]['UID'], items[1]['UID']]


def test_cdp_task_result_filter_is_applied_to_returned_sessions():
    em = FakeEm()
    for n, result in ((1, 'Failed'), (2, 'Success'), (3, 'Failed')):
        add(em, n, result=result, query_type='CdpReplicaTaskSession')
    result = run_session_query(em, 'cdp_task', {'result': ['Failed']}, now=LATER)
    assert [s['result'] for s in result['sessions']] == ['Failed', 'Failed']
    assert em.filters() == [None]  # EM cannot filter CDP tasks on Result: the fake refuses the field, as EM does


def test_sorting_cdp_tasks_by_result_is_refused():
    with pytest.raises(EmError, match='cannot be sorted by result'):
        run_session_query(FakeEm(), 'cdp_task', {'sort': 'result'}, now=NOW)


def test_id_reads_the_entity():
    em = FakeEm()
    add(em, 1)['UID'] = 'urn:veeam:BackupTaskSession:' + GUID
    add(em, 2)
    result = run_session_query(em, 'backup_task', {'id': 'urn:veeam:BackupTaskSession:' + GUID}, now=NOW)
    assert [s['uid'] for s in result['sessions']] == ['urn:veeam:BackupTaskSession:' + GUID] and result['filter'] is None
    assert em.entity_requests == [('backupTaskSessions', GUID)] and em.requests == []


def test_unknown_id_fails_clearly():
    with pytest.raises(EmError, match='No BackupTaskSession with id ' + GUID):
        run_session_query(FakeEm(), 'backup_task', {'id': GUID}, now=NOW)


def test_unknown_id_with_missing_ok_is_empty():
    assert run_session_query(FakeEm(), 'backup_task', {'id': GUID, 'missing_ok': True}, now=NOW)['sessions'] == []


def test_wrong_uid_type_fails_before_any_request():
    em = FakeEm()
    with pytest.raises(EmError, match='ReplicaTaskSession UID'):
        run_session_query(em, 'backup_task', {'id': 'urn:veeam:ReplicaTaskSession:' + GUID}, now=NOW)
    assert em.requests == [] and em.entity_requests == []


def test_wait_polls_until_nothing_runs():
    em = FakeEm()
    running = add(em, 1, state='InProgress', result='None')
    # EM ends the session before its third answer.
    em.on_query = lambda request: len(em.filters()) == 3 and em.finish(running)
    sleeps = []
    result = run_session_query(em, 'backup_task', {'wait': True, 'wait_sleep': 5, 'wait_timeout': 60}, now=LATER,
                               sleep=sleeps.append, clock=lambda: 0)
    assert sleeps == [5, 5] and result['sessions'][0]['state'] == 'Completed'


def test_wait_timeout_is_one_clear_failure():
    ticks = iter(range(0, 1000, 10))
    em = FakeEm()
    add(em, 1, state='InProgress', result='None')
    with pytest.raises(EmError, match=r'Timed out after 30 seconds waiting for 1 running BackupTaskSession\(s\)'):
        run_session_query(em, 'backup_task', {'wait': True, 'wait_sleep': 10, 'wait_timeout': 30}, now=LATER,
                          sleep=lambda s: None, clock=lambda: next(ticks))


def test_raw_returns_em_entities():
    em = FakeEm()
    items = [add(em, 1)]
    result = run_session_query(em, 'backup_task', {'raw': True}, now=NOW)
    assert result['sessions'] == items and result['summary']['total'] == 1


def test_id_is_exclusive_with_every_selector():
    pairs = mutually_exclusive(task_argument_spec())
    assert ['id', 'vm_name'] in pairs and ['id', 'filter'] in pairs and ['id', 'latest_per_vm'] in pairs
    assert ['id', 'latest_per_job'] in mutually_exclusive(job_argument_spec())


@pytest.mark.parametrize('option, value, message', [
    ('page_size', 0, 'page_size must be a whole number from 1 to 10000, not 0'),
    ('page_size', -5, 'page_size must be a whole number from 1 to 10000, not -5'),
    ('limit', -1, r'limit must be a whole number of 0 \(no limit\) or more, not -1'),
])
def test_paging_values_em_cannot_page_with_are_refused(option, value, message):
    em = FakeEm()
    add(em, 1)
    with pytest.raises(EmError, match=message):
        run_session_query(em, 'backup_task', {option: value}, now=NOW)
    assert em.requests == []


# --- long vm_name/job_name lists: split to fit the URL limit, merged as EM would answer them whole ---

def longest_request(kind, filter_text, params):
    """The URL of the last page of a million this filter may be read with, as run_session_query sends it."""
    if params.get('latest_per_vm'):
        field, descending = kind.field('creation_time'), True
    else:
        field, descending = kind.field(params.get('sort', 'creation_time')), params.get('order', 'descending') == 'descending'
    return len(query_url(FakeEm.base_url, kind.query_type, filter_text, field, descending, params.get('page_size', 100), 999999))


def test_a_long_vm_name_list_is_split_into_requests_that_all_fit():
    kind = KINDS['backup_task']
    names = [u'srv-%04d-\u00fc;"x"' % i for i in range(1000)]
    filters, logical, local = split_session_filters(FakeEm(), kind, {'vm_name': names, 'result': ['Failed'], 'page_size': 100}, NOW)
    assert len(filters) > 5 and local == {}
    assert all(longest_request(kind, f, {'page_size': 100}) <= 8000 for f in filters)
    tests = [predicate(f) for f in filters]
    for name in names[::37] + ['srv-0001', u'SRV-0002-\u00dc;"X"']:
        row = {'VmDisplayName': name, 'Result': 'Failed'}
        assert sum(1 for test in tests if test(row)) == (1 if predicate(logical)(row) else 0), name


@pytest.mark.parametrize('kind_name', ['backup_task', 'cdp_task'])
@pytest.mark.parametrize('params', [
    {},
    {'latest_per_vm': True, 'sort': 'name'},
    {'sort': 'vm_name', 'order': 'ascending'},
    {'sort': 'end_time', 'order': 'ascending', 'page_size': 5},
])
def test_no_request_is_longer_than_the_limit_even_at_the_boundary(kind_name, params):
    # Whatever the sort option, latest_per_vm reads by creation time newest first: measure what is sent.
    kind = KINDS[kind_name]
    names = ['vm%03d' % i for i in range(40)]
    params = dict(params, vm_name=names)
    whole = longest_request(kind, session_filter(kind, params, NOW)[0], params)
    for limit in range(whole - 12, whole + 12):
        filters, _logical, _local = split_session_filters(FakeEm(), kind, dict(params, max_url_length=limit), NOW)
        assert all(longest_request(kind, f, params) <= limit for f in filters), limit
        assert [n for f in filters for n in names if 'VmDisplayName=="%s"' % n in f] == names


def test_a_vm_name_no_request_can_carry_fails_before_logon_naming_vm_name():
    client = FakeEm()
    with pytest.raises(EmError) as info:
        plan_session_query(client, 'backup_task', {'vm_name': ['web01', 'v' * 9000]}, now=NOW)
    message = str(info.value)
    assert message.startswith("The vm_name value 'vvvvv") and '(9000 characters)' in message and 'max_url_length=8000' in message
    assert '://' not in message and len(message) < 300 and client.requests == []


def split_estate():
    """60 VMs (two spelled in another case in some sessions) with 3 sessions each in 30 jobs, every time distinct."""
    em = FakeEm()
    for i in range(60):
        for n in range(3):
            vm = 'VM-%02d' % i if (i % 20 == 0 and n == 1) else 'vm-%02d' % i
            minute = (i * 7 + n * 211) % 600
            em.add('BackupTaskSession', vm, '2025-08-%02dT%02d:%02d:00Z' % (10 + n, minute // 60, minute % 60),
                   result=('Success', 'Warning', 'Failed')[(i + n) % 3], job='Nightly backup job %02d' % ((i + n) % 30),
                   end='2025-08-%02dT%02d:%02d:30Z' % (10 + n, minute // 60, minute % 60))
    return em


SPLIT_CASES = [
    dict(order=order, sort=sort, limit=limit, latest_per_vm=latest)
    for order in ('descending', 'ascending')
    for sort, latest in (('creation_time', False), ('name', False), ('end_time', False),
                         ('creation_time', True), ('vm_name', True), ('name', True))
    for limit in (0, 1, 7, 50)
]


@pytest.mark.parametrize('by', ['vm_name', 'job_name'])
@pytest.mark.parametrize('case', SPLIT_CASES, ids=lambda c: '{sort}-{order}-limit{limit}-latest{latest_per_vm}'.format(**c))
def test_a_split_query_returns_what_the_whole_query_returns(by, case):
    lists = {'vm_name': ['vm-%02d' % i for i in range(60)] + ['absent-%02d' % i for i in range(10)],
             'job_name': ['Nightly backup job %02d' % i for i in range(30)]}
    params = dict(case, page_size=4)
    params[by] = lists[by]
    whole_em, split_em = split_estate(), split_estate()
    whole = run_session_query(whole_em, 'backup_task', params, now=NOW)
    split = run_session_query(split_em, 'backup_task', dict(params, max_url_length=600), now=NOW)
    assert len(whole_em.filters()) == 1 and len(split_em.filters()) > 2
    assert [s['uid'] for s in split['sessions']] == [s['uid'] for s in whole['sessions']]
    assert split['filter'] == whole['filter']
    assert split['truncated'] is whole['truncated'] is (case['limit'] not in (0, 60) and case['limit'] < (60 if case['latest_per_vm'] else 180))


def test_latest_per_vm_across_job_batches_keeps_each_vms_newest_session():
    em = split_estate()
    jobs = ['Nightly backup job %02d' % i for i in range(30)]
    result = run_session_query(em, 'backup_task', {'job_name': jobs, 'latest_per_vm': True, 'limit': 0, 'max_url_length': 600}, now=NOW)
    assert len(em.filters()) > 2
    # vm-00 and VM-00 may be two VMs (EM compares names case-insensitively): each keeps its own newest session.
    assert len(result['sessions']) == 63
    assert len(result['warnings']) == 3
    for number, warning in zip(('00', '20', '40'), sorted(result['warnings'], key=lambda w: w.split("'vm-")[1])):
        assert "'VM-{0}'".format(number) in warning and "'vm-{0}'".format(number) in warning
    newest = {}
    for row in em.entities['BackupTaskSession']:
        key = row['VmDisplayName']
        if key not in newest or row['CreationTimeUTC'] > newest[key]['CreationTimeUTC']:
            newest[key] = row
    assert sorted(s['uid'] for s in result['sessions']) == sorted(row['UID'] for row in newest.values())
    assert [s['creation_time'] for s in result['sessions']] == sorted((s['creation_time'] for s in result['sessions']), reverse=True)


def test_limit_across_batches_cuts_the_merged_list_and_says_truncated():
    em = split_estate()
    names = ['vm-%02d' % i for i in range(60)]
    result = run_session_query(em, 'backup_task', {'vm_name': names, 'limit': 10, 'max_url_length': 600, 'page_size': 4}, now=NOW)
    assert len(result['sessions']) == 10 and result['truncated'] is True
    times = sorted((row['CreationTimeUTC'] for row in em.entities['BackupTaskSession']), reverse=True)[:10]
    assert [s['creation_time'] for s in result['sessions']] == times


@pytest.mark.parametrize('params, field', [
    ({'latest_per_vm': True, 'filter': 'Result=="Success"'}, 'Result'),
    ({'latest_per_vm': True, 'filter': 'TotalSize>0;(result != "Failed")'}, 'result'),
    ({'latest_per_vm': True, 'filter': 'State=="Completed"'}, 'State'),
])
def test_a_raw_filter_on_the_outcome_is_refused_with_latest_per_vm(params, field):
    with pytest.raises(EmError) as info:
        plan_session_query(FakeEm(), 'backup_task', params, now=NOW)
    assert str(info.value) == ('filter compares {0}, which EM applies before latest_per_vm picks the newest session of each VM, '
                               'so an older session could stand in for a newer one that failed; give the {1} option instead, '
                               'which judges the newest session.'.format(field, field.lower()))


def test_a_raw_filter_on_the_outcome_is_refused_with_latest_per_job():
    with pytest.raises(EmError) as info:
        plan_session_query(FakeEm(), 'backup_job', {'latest_per_job': True, 'filter': 'Result==Failed'}, now=NOW)
    assert 'before latest_per_job picks the newest session of each job' in str(info.value)


@pytest.mark.parametrize('params', [
    {'latest_per_vm': True, 'filter': 'VmDisplayName=="Result==1"'},  # inside a quoted value
    {'latest_per_vm': True, 'filter': 'JobResultCode>0'},  # another field whose name holds the word
    {'filter': 'Result=="Success"'},  # without latest_per_vm the filter picks nothing else
])
def test_a_raw_filter_that_does_not_judge_the_newest_is_taken(params):
    plan_session_query(FakeEm(), 'backup_task', params, now=NOW)
