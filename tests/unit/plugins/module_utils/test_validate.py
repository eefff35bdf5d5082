# -*- coding: utf-8 -*-
# Copyright (c) 2026, vbem.enterprise_manager contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The bad-input catalogue, pure part: every check that needs no EM, one sentence each.

Each refusal names the option, says what was wrong and what is expected, in
one sentence of our own (never Python's). Each accepted value keeps its
meaning (a string is one name).
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import re
from datetime import date, datetime

import pytest

from ansible_collections.vbem.enterprise_manager.plugins.module_utils import validate
from ansible_collections.vbem.enterprise_manager.plugins.module_utils.errors import EmError
from ansible_collections.vbem.enterprise_manager.plugins.module_utils.info import (
    plan_session_query, run_raw_query, run_session_query, split_session_filters,
)
from ansible_collections.vbem.enterprise_manager.plugins.module_utils.query import build_filter, check_raw_filter
from ansible_collections.vbem.enterprise_manager.plugins.module_utils.sessions import KINDS

NOW = datetime(2025, 8, 16, 12, 0, 0)
GUID = '88322206-a645-4aa3-9228-028ce51e7c0f'
PYTHON_WORDS = re.compile(r'Traceback|invalid literal|NoneType|object has no attribute|unsupported operand|KeyError|ValueError|TypeError')


def refusal(call, *args, **kwargs):
    """Run ``call``, expect EmError, check it is one sentence of ours, return it."""
    with pytest.raises(EmError) as info:
        call(*args, **kwargs)
    message = str(info.value)
    assert '\n' not in message and message.endswith(('.', '?')), message
    assert not PYTHON_WORDS.search(message), message
    return message


# -- names: a string is one name ------------------------------------------------

@pytest.mark.parametrize('value, expected', [
    ('db,02', ['db,02']),
    ('web;01', ['web;01']),
    ('a, b, c', ['a, b, c']),
    (' spaced ', [' spaced ']),
    ('sql "prod"', ['sql "prod"']),
    (u'\u6570\u636e\u5e93-01', [u'\u6570\u636e\u5e93-01']),
    (b'db,02', ['db,02']),
    (['db,02', 'web;01'], ['db,02', 'web;01']),
    (('a', 'b'), ['a', 'b']),
    (None, []),
])
def test_a_string_is_one_name_and_a_list_is_names(value, expected):
    assert validate.names(value, 'vm_name') == expected


@pytest.mark.parametrize('value, wrong', [
    ('', 'empty name'),
    ([], 'empty list'),
    (['a', ''], 'empty name'),
    (['a', 5], 'not a number (5)'),
    (['a', True], 'not a boolean (True)'),
    ([None], 'not null'),
    ({'a': 1}, 'not a dict'),
    (5, 'not a number'),
    (True, 'not a boolean'),
])
def test_names_refuse_what_is_not_a_name(value, wrong):
    message = refusal(validate.names, value, 'vm_name')
    assert message.startswith('vm_name ') and wrong in message


def test_a_required_name_must_be_given():
    assert 'vm_name is required' in refusal(validate.names, None, 'vm_name', required=True)


# -- session_params: refusals, one table per kind -----------------------------

TASK_REFUSALS = [
    # (params, option named first, words of the expectation)
    ({'id': ''}, 'id', 'is empty'),
    ({'id': '   '}, 'id', 'is empty'),
    ({'id': 5}, 'id', 'must be a string'),
    ({'id': 'not-a-guid'}, 'id', 'neither a GUID nor a UID'),
    ({'id': 'urn:veeam:BackupJobSession:' + GUID}, 'id', 'is a BackupJobSession UID, but a BackupTaskSession UID or GUID is expected'),
    ({'id': GUID, 'vm_name': 'web01'}, 'id', 'cannot be combined with vm_name'),
    ({'id': GUID, 'filter': 'Result==Failed'}, 'id', 'cannot be combined with filter'),
    ({'id': GUID, 'latest_per_vm': True}, 'id', 'cannot be combined with latest_per_vm'),
    ({'vm_name': ''}, 'vm_name', 'empty name'),
    ({'vm_name': []}, 'vm_name', 'empty list'),
    ({'vm_name': ['web01', '']}, 'vm_name', 'empty name'),
    ({'vm_name': 42}, 'vm_name', 'a name or a list of names'),
    ({'job_name': ''}, 'job_name', 'empty name'),
    ({'job_name': {'a': 'b'}}, 'job_name', 'a name or a list of names'),
    ({'result': ''}, 'result', 'is empty'),
    ({'result': []}, 'result', 'is empty'),
    ({'result': 'failed'}, 'result', 'one or more of Success, Warning, Failed, None'),
    ({'result': ['Failed', 'Broken']}, 'result', "'Broken' is not one of them"),
    ({'result': 3}, 'result', 'one or more of'),
    ({'state': 'Working'}, 'state', 'one or more of InProgress, Pending, Completed'),
    ({'state': ''}, 'state', 'is empty'),
    ({'created_after': ''}, 'created_after', 'is empty'),
    ({'created_after': '  '}, 'created_after', 'is empty'),
    ({'created_after': 'yesterday'}, 'created_after', 'ISO-8601 date-time'),
    ({'created_after': '24 hours'}, 'created_after', 'relative age such as 30m'),
    ({'created_after': '2025-02-30'}, 'created_after', 'ISO-8601'),
    ({'created_after': '2025-08-15T25:00:00Z'}, 'created_after', 'ISO-8601'),
    ({'created_after': 30}, 'created_after', 'must be a string'),
    ({'created_after': '99999999999w'}, 'created_after', 'years 1 to 9999'),
    ({'created_before': '9999-12-31T23:00:00-05:00'}, 'created_before', 'years 1 to 9999'),
    ({'created_before': ''}, 'created_before', 'is empty'),
    ({'created_after': '1h', 'created_before': '2h'}, 'created_after', 'is not before created_before'),
    ({'created_after': '2025-08-15', 'created_before': '2025-08-15'}, 'created_after', 'is not before created_before'),
    ({'filter': ''}, 'filter', 'is empty'),
    ({'filter': '   '}, 'filter', 'is empty'),
    ({'filter': 'Result==Failed),(Result==Success'}, 'filter', 'closes a parenthesis at position 15 that was never opened'),
    ({'filter': ')Result==Failed('}, 'filter', 'closes a parenthesis at position 1'),
    ({'filter': '(Result==Failed'}, 'filter', 'opens a parenthesis at position 1 that is never closed'),
    ({'filter': 'Name=="web'}, 'filter', 'opens a quoted value at position 7 that is never closed'),
    ({'filter': 'Name=="a""b'}, 'filter', 'quoted value at position 10'),
    ({'filter': ['Result==Failed']}, 'filter', 'must be a string'),
    ({'sort': ''}, 'sort', 'is empty'),
    ({'sort': 'size'}, 'sort', 'must be one of'),
    ({'sort': 'VmDisplayName;x'}, 'sort', 'must be one of'),
    ({'order': 'up'}, 'order', 'one of ascending, descending'),
    ({'order': 'Ascending'}, 'order', 'one of ascending, descending'),
    ({'limit': -1}, 'limit', '0 (no limit) or more, not -1'),
    ({'limit': 'ten'}, 'limit', 'a whole number of 0 (no limit) or more'),
    ({'limit': 2.5}, 'limit', 'a whole number'),
    ({'limit': True}, 'limit', 'a whole number'),
    ({'limit': ''}, 'limit', 'a whole number'),
    ({'page_size': 0}, 'page_size', 'from 1 to 10000, not 0'),
    ({'page_size': -3}, 'page_size', 'from 1 to 10000, not -3'),
    ({'page_size': 10001}, 'page_size', 'from 1 to 10000, not 10001'),
    ({'page_size': '1e3'}, 'page_size', 'a whole number'),
    ({'wait': 'maybe'}, 'wait', 'true or false'),
    ({'wait': 2}, 'wait', 'true or false'),
    ({'wait': ''}, 'wait', 'true or false'),
    ({'missing_ok': 'sometimes'}, 'missing_ok', 'true or false'),
    ({'latest_per_vm': 'perhaps'}, 'latest_per_vm', 'true or false'),
    ({'raw': 'entities'}, 'raw', 'true or false'),
    ({'wait_timeout': 0}, 'wait_timeout', '1 second or more, not 0'),
    ({'wait_timeout': -60}, 'wait_timeout', '1 second or more, not -60'),
    ({'wait_timeout': '10m'}, 'wait_timeout', 'a whole number'),
    ({'wait_sleep': 0}, 'wait_sleep', 'without a pause'),
    ({'wait_sleep': -1}, 'wait_sleep', '1 second or more'),
    ({'wait_sleep': 0.5}, 'wait_sleep', 'a whole number'),
    ({'latest_per_job': True}, 'latest_per_job', 'job sessions only'),
]

JOB_REFUSALS = [
    ({'vm_name': 'web01'}, 'vm_name', 'task sessions and restore points only'),
    ({'latest_per_vm': True}, 'latest_per_vm', 'task sessions and restore points only'),
    ({'state': 'InProgress'}, 'state', 'one or more of Starting, Stopping, Working'),
    ({'sort': 'vm_name'}, 'sort', 'must be one of'),
    ({'id': 'urn:veeam:BackupTaskSession:' + GUID}, 'id', 'BackupJobSession UID or GUID is expected'),
    ({'id': GUID, 'latest_per_job': True}, 'id', 'cannot be combined with latest_per_job'),
    ({'job_name': ['Backup Job 1', '']}, 'job_name', 'empty name'),
]

CDP_TASK_REFUSALS = [
    ({'sort': 'result'}, 'CdpReplicaTaskSession sessions cannot be sorted by result', 'no such query field'),
    ({'sort': 'job_name'}, 'CdpReplicaTaskSession sessions cannot be sorted by job_name', 'no such query field'),
    ({'id': 'urn:veeam:BackupTaskSession:' + GUID}, 'id', 'CdpReplicaTaskSession UID or GUID is expected'),
]


@pytest.mark.parametrize('params, option, words', TASK_REFUSALS)
@pytest.mark.parametrize('kind', ['backup_task', 'replica_task'])
def test_task_session_options_are_refused_with_one_sentence(kind, params, option, words):
    message = refusal(validate.session_params, kind, params, NOW)
    assert option in message and words.replace('BackupTaskSession', KINDS[kind].query_type) in message


@pytest.mark.parametrize('params, option, words', JOB_REFUSALS)
def test_job_session_options_are_refused_with_one_sentence(params, option, words):
    message = refusal(validate.session_params, 'backup_job', params, NOW)
    assert option in message and words in message


@pytest.mark.parametrize('params, option, words', CDP_TASK_REFUSALS)
def test_cdp_task_session_options_are_refused_with_one_sentence(params, option, words):
    message = refusal(validate.session_params, 'cdp_task', params, NOW)
    assert option in message and words in message


# -- session_params: what is accepted keeps its meaning -------------------------

@pytest.mark.parametrize('params, expected', [
    ({'vm_name': 'db,02'}, {'vm_name': ['db,02']}),
    ({'job_name': 'Backup, nightly'}, {'job_name': ['Backup, nightly']}),
    ({'vm_name': ['a', 'b']}, {'vm_name': ['a', 'b']}),
    ({'result': 'Failed'}, {'result': ['Failed']}),
    ({'result': 'Failed, Warning'}, {'result': ['Failed', 'Warning']}),
    ({'state': ['Completed']}, {'state': ['Completed']}),
    ({'wait': 'yes', 'missing_ok': 'no', 'raw': 1}, {'wait': True, 'missing_ok': False, 'raw': True}),
    ({'wait_timeout': '90', 'wait_sleep': 5.0}, {'wait_timeout': 90, 'wait_sleep': 5}),
    ({'limit': '0', 'page_size': 10000}, {'limit': 0, 'page_size': 10000}),
    ({'limit': None, 'page_size': None}, {'limit': None, 'page_size': None}),
    ({'filter': '  Name=="a (b"  '}, {'filter': 'Name=="a (b"'}),
    ({'sort': 'CreationTime'}, {'sort': 'CreationTime'}),
    ({'created_after': '24h', 'created_before': '2025-08-16'}, {'created_after': '24h', 'created_before': '2025-08-16'}),
    ({'created_after': date(2025, 8, 1)}, {'created_after': date(2025, 8, 1)}),
    ({'id': GUID.upper(), 'latest_per_vm': False, 'missing_ok': True}, {'id': GUID.upper(), 'latest_per_vm': False, 'missing_ok': True}),
])
def test_accepted_values_are_normalised_without_changing_meaning(params, expected):
    assert validate.session_params('backup_task', params, NOW) == expected


def test_checking_is_idempotent():
    params = {'vm_name': 'db,02', 'result': 'Failed,Warning', 'wait': 'yes', 'limit': '5', 'filter': ' (a==1) '}
    once = validate.session_params('backup_task', params, NOW)
    assert validate.session_params('backup_task', once, NOW) == once
    assert params['vm_name'] == 'db,02'  # the caller's dict is left alone


def test_a_string_with_a_comma_builds_one_condition():
    params = validate.session_params('backup_task', {'vm_name': 'db,02', 'job_name': 'a,b'}, NOW)
    assert split_session_filters(PagedClient([]), KINDS['backup_task'], params, NOW)[1] == 'VmDisplayName=="db,02";JobName=="a,b"'


# -- the raw filter -----------------------------------------------------------

@pytest.mark.parametrize('text', [
    'Result==Failed',
    '(Result==Failed,Result==Warning);TotalSize>0',
    'Name=="a (b"',
    'Name=="a) or (b"',
    'Name=="say ""hi"" (loud)"',
    'Name==""Backup""',
    '((a==1));((b==2))',
    'Name==""',
])
def test_raw_filters_that_stay_inside_their_parentheses_are_accepted(text):
    assert check_raw_filter(text) == text
    assert build_filter([('State', '==', 'Completed')], text) == 'State=="Completed";(' + text + ')'


@pytest.mark.parametrize('text, words', [
    ('a==1),(b==2', 'closes a parenthesis at position 5'),
    ('a==1)', 'closes a parenthesis at position 5'),
    ('((a==1)', 'opens a parenthesis at position 1'),
    ('(a==1;(b==2)', 'opens a parenthesis at position 1'),
    ('Name=="x', 'quoted value at position 7'),
    ('Name=="x"";State==1', 'quoted value at position 10'),
    ('"', 'quoted value at position 1'),
])
def test_raw_filters_that_could_escape_are_refused(text, words):
    message = refusal(check_raw_filter, text)
    assert message.startswith('filter ') and words in message


# -- the truncation warning ---------------------------------------------------

@pytest.mark.parametrize('params, expected', [
    ({'limit': None}, 'More than 1000 BackupTaskSession results matched and only the first 1000 are returned'),
    ({}, 'More than 1000 BackupTaskSession results matched'),
    ({'limit': None, 'latest_per_vm': True}, 'more than 1000 VMs matched and only the latest session of each of the first 1000 VMs'),
    ({'limit': None, 'latest_per_job': True}, 'more than 1000 jobs matched'),
    ({'limit': 1}, None),
    ({'limit': 1, 'latest_per_vm': True}, None),
    ({'limit': 1000}, None),
])
def test_only_a_cut_at_the_default_limit_warns(params, expected):
    warnings = validate.truncation_warnings('BackupTaskSession', params, 1000)
    if expected is None:
        assert warnings == []
    else:
        assert len(warnings) == 1 and expected in warnings[0] and 'set limit' in warnings[0]


class PagedClient(object):
    """Serves fixed query pages (no HTTP): enough to drive run_session_query's truncation."""

    base_url = 'https://em.example.com:9398/api'

    def __init__(self, items):
        self.items = items

    def query_page(self, query_type, filter_text=None, sort_field=None, descending=True, page_size=100, page=1, collection_key=None):
        start = (page - 1) * page_size
        return self.items[start:start + page_size], -(-len(self.items) // page_size)


def task_entity(n, vm):
    return {'UID': 'urn:veeam:BackupTaskSession:00000000-0000-0000-0000-%012d' % n, 'Name': '%s@x' % vm, 'VmDisplayName': vm,
            'CreationTimeUTC': '2025-08-%02dT10:00:00Z' % (28 - n % 28), 'State': 'Completed', 'Result': 'Success'}


def test_a_limit_the_user_chose_cuts_without_a_warning():
    result = run_session_query(PagedClient([task_entity(i, 'vm%d' % i) for i in range(5)]), 'backup_task', {'limit': 2}, now=NOW)
    assert len(result['sessions']) == 2 and result['truncated'] is True and result['warnings'] == []


def test_the_default_limit_cuts_with_a_warning_in_vms_for_latest_per_vm():
    items = [task_entity(i, 'vm%d' % i) for i in range(1005)]
    # now after the sessions (up to 28 August): a newest session dated after now is warned about too.
    result = run_session_query(PagedClient(items), 'backup_task', {'latest_per_vm': True, 'page_size': 500}, now=datetime(2025, 8, 30))
    assert len(result['sessions']) == 1000 and result['truncated'] is True
    assert result['warnings'] and 'more than 1000 VMs matched' in result['warnings'][0]


def test_raw_queries_warn_only_at_the_default_limit():
    items = [{'UID': 'urn:veeam:Job:%d' % i} for i in range(3)]
    assert run_raw_query(PagedClient(items), 'Job', {'limit': 1})['warnings'] == []


def test_planning_refuses_before_any_request():
    class NoRequests(PagedClient):
        def query_page(self, *args, **kwargs):
            raise AssertionError('EM was asked although the input was bad')
    with pytest.raises(EmError, match='wait_sleep must be a whole number of 1 second or more'):
        run_session_query(NoRequests([]), 'backup_task', {'wait': True, 'wait_sleep': 0}, now=NOW)
    with pytest.raises(EmError, match='vm_name holds an empty name'):
        plan_session_query(NoRequests([]), 'replica_task', {'vm_name': ['a', '']}, NOW)


# -- plugin-level checks: unknown options, typed keywords, terms ---------------

KNOWN = {'vm_name': {'type': 'raw'}, 'validate_certs': {'type': 'bool'}, 'timeout': {'type': 'float'}, 'retries': {'type': 'int'},
         'api_version': {'type': 'str', 'choices': ['latest', 'v1_5']}, 'url': {'type': 'str'}, 'ca_path': {'type': 'path'},
         '_terms': {'type': 'list'}}


@pytest.mark.parametrize('given, words', [
    ({'vmname': 'x'}, 'has no option vmname (did you mean vm_name?)'),
    ({'vm_nmae': 'x', 'timeot': 3}, 'has no options timeot (did you mean timeout?), vm_nmae (did you mean vm_name?)'),
    ({'colour': 'x'}, 'has no option colour; its options are: api_version, ca_path, retries, timeout, url, validate_certs, vm_name.'),
])
def test_unknown_options_are_refused_naming_the_valid_ones(given, words):
    message = refusal(validate.unknown_options, given, KNOWN, 'The lookup')
    assert words in message and '_terms' not in message


@pytest.mark.parametrize('given, words', [
    ({'validate_certs': 'maybe'}, 'validate_certs must be true or false'),
    ({'validate_certs': ''}, 'validate_certs must be true or false'),
    ({'timeout': 'soon'}, 'timeout must be a number'),
    ({'timeout': True}, 'timeout must be a number'),
    ({'retries': 1.5}, 'retries must be a whole number'),
    ({'api_version': 'v2'}, 'api_version must be one of latest, v1_5'),
    ({'url': ''}, 'url is empty'),
    ({'ca_path': ['a']}, 'ca_path must be a string'),
])
def test_typed_keywords_are_checked_strictly(given, words):
    assert words in refusal(validate.plugin_option_values, given, KNOWN)


def test_typed_keywords_that_fit_pass():
    validate.plugin_option_values({'validate_certs': 'no', 'timeout': '2.5', 'retries': '3', 'api_version': 'latest', 'vm_name': 'x'}, KNOWN)


@pytest.mark.parametrize('term, words', [
    ('', 'An empty term was given'),
    ('   ', 'An empty term was given'),
    ('Backup Task Session', 'is not an EM query type name'),
    ('BackupTaskSession;x', 'is not an EM query type name'),
    (['BackupTaskSession'], 'Every term must be an EM query type'),
    (None, 'Every term must be an EM query type'),
])
def test_terms_must_name_a_query_type(term, words):
    assert words in refusal(validate.query_type, term)


@pytest.mark.parametrize('params, words', [
    ({'sort': 'Name;x'}, 'sort must be an EM field name'),
    ({'sort': ''}, 'sort is empty'),
    ({'filter': 'Name==x)'}, 'filter closes a parenthesis'),
    ({'limit': -5}, 'limit must be a whole number of 0 (no limit) or more'),
])
def test_queries_of_other_types_check_their_options(params, words):
    assert words in refusal(validate.query_params, params)


def test_time_values_accept_datetimes_and_reject_nonsense_with_our_sentence():
    assert validate.moment(datetime(2025, 1, 2, 3, 4, 5), 'created_after') == datetime(2025, 1, 2, 3, 4, 5)
    message = refusal(validate.moment, '2025-13-01', 'created_before', NOW)
    assert message == ("created_before '2025-13-01' is neither a relative age such as 30m, 24h, 7d or 2w nor an ISO-8601 date-time "
                       "(2025-08-15T06:00:00Z).")
