# -*- coding: utf-8 -*-
# Copyright (c) 2026, vbem.enterprise_manager contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The two report filters as Jinja sees them: names, arguments, and errors as one AnsibleFilterError sentence."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.vbem.enterprise_manager.plugins.filter.session_report import FilterModule as ReportFilters
from ansible_collections.vbem.enterprise_manager.plugins.filter.session_report_query import FilterModule as QueryFilters

session_report = ReportFilters().filters()['session_report']
session_report_query = QueryFilters().filters()['session_report_query']


def session(vm, result, created='2026-11-29T21:00:00Z', kind='BackupTaskSession'):
    return {'uid': 'urn:veeam:{0}:{1}'.format(kind, vm), 'type': kind, 'vm_name': vm, 'job_name': 'Job', 'creation_time': created,
            'end_time': None, 'state': 'Completed', 'result': result, 'reason': None, 'total_size': 1}


def test_each_file_exports_exactly_its_own_filter():
    assert list(ReportFilters().filters()) == ['session_report']
    assert list(QueryFilters().filters()) == ['session_report_query']


def test_query_filter_plans_the_window_once():
    plan = session_report_query(['backup', 'cdp'], '24h', now='2026-11-30T06:00:00Z')
    assert plan['query_types'] == ['BackupTaskSession', 'CdpReplicaTaskSession']
    assert (plan['created_after'], plan['created_before']) == ('2026-11-29T06:00:00Z', '2026-11-30T06:00:00Z')


@pytest.mark.parametrize('sources, window, words', [
    (['backups'], '7d', "report_sources must be one or more of backup, replica, cdp; 'backups' is not one of them"),
    (['backup'], 'last week', "report_window 'last week' is neither"),
])
def test_query_filter_errors_are_one_sentence(sources, window, words):
    with pytest.raises(AnsibleFilterError, match=words):
        session_report_query(sources, window, now='2026-11-30T06:00:00Z')


def test_report_filter_returns_totals_and_the_three_renderings():
    plan = session_report_query(['backup', 'cdp'], '7d', now='2026-11-30T06:00:00Z')
    result = session_report([session('a', 'Failed'), session('b', 'Success'), session('c', 'Warning', kind='CdpReplicaTaskSession')],
                            plan, now='2026-11-30T06:00:05Z')
    assert result['totals'] == {'Failed': 1, 'Warning': 1, 'Success': 1, 'Running': 0}
    assert result['generated'] == '2026-11-30T06:00:05Z'
    assert result['window'] == {'text': '7d', 'start': '2026-11-23T06:00:00Z', 'end': '2026-11-30T06:00:00Z'}
    assert result['html'].startswith('<!DOCTYPE html>')
    assert result['csv'].count('\r\n') == 4
    assert result['table'][0].startswith('2 VMs not protected by a clean last run')


def test_report_filter_errors_are_one_sentence():
    plan = session_report_query(['backup'], '7d', now='2026-11-30T06:00:00Z')
    with pytest.raises(AnsibleFilterError, match=r"A session of type 'ReplicaTaskSession'"):
        session_report([session('a', 'Failed', kind='ReplicaTaskSession')], plan)
    with pytest.raises(AnsibleFilterError, match='max_rows must be 0'):
        session_report([], plan, max_rows=-5)
