# -*- coding: utf-8 -*-
# Copyright (c) 2026, vbem.enterprise_manager contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""require_session_result: which session is behind a restore point, and how the gate judges it.

The pure parts only (links, agent session names, the per-name choice, the
verdicts and the policy's refusals); the queries against EM are proven by
the integration target restore_point_session_result."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from datetime import datetime

import pytest

from ansible_collections.vbem.enterprise_manager.plugins.module_utils import producers, sources
from ansible_collections.vbem.enterprise_manager.plugins.module_utils.errors import EmError
from ansible_collections.vbem.enterprise_manager.plugins.module_utils.verdict import Policy, judge_producer, judge_vm

NOW = datetime(2026, 11, 30, 16, 0, 0)
POINT_GUID = '6745a759-2205-4cd2-b172-8ec8f7e60ef8'
POINT = {'uid': 'urn:veeam:VmRestorePoint:' + POINT_GUID, 'name': 'web01@2026-11-30 02:00:00', 'vm_name': 'web01',
         'creation_time': '2026-11-30T02:00:00Z', 'backup_file': 'Web DailyD2026-11-30T020000.vib', 'backup_server': 'vbr01'}


def policy(**kwargs):
    kwargs.setdefault('now', NOW)
    kwargs.setdefault('sources', ('restore_point',))
    kwargs.setdefault('require_session_result', True)
    return Policy(**kwargs)


def task(result='Success', state='Completed', created='2026-11-30T01:50:00Z', end='2026-11-30T02:10:00Z', reason=None,
         uid='urn:veeam:BackupTaskSession:1', job='Web Daily'):
    return {'uid': uid, 'name': 'web01@2026-11-30 01:50:00', 'vm_name': 'web01', 'job_name': job, 'state': state,
            'result': result, 'creation_time': created, 'end_time': end if state == 'Completed' else None, 'reason': reason}


def agent_session(computer='PHYS-SQL-01', result='Success', state='Stopped', created='2026-11-29T22:00:00Z',
                  uid='urn:veeam:BackupJobSession:2', job='Physical Servers', failure=None):
    return {'uid': uid, 'name': '{0} - {1}@2026-11-29 22:00:00'.format(job, computer), 'job_name': '{0} - {1}'.format(job, computer),
            'job_type': 'AgentManagement', 'state': state, 'result': result, 'creation_time': created,
            'end_time': '2026-11-29T22:30:00Z' if state == 'Stopped' else None, 'failure_message': failure}


def passing(source='restore_point'):
    return {'passed': True, 'code': 'passed', 'reason': 'restore point at 2026-11-30 02:00 UTC in backup file F on vbr01',
            'session': POINT}


# --- links and names ---

def test_related_ids_take_the_guid_of_each_related_link_whatever_its_query_string():
    entity = {'Links': [
        {'Rel': 'Up', 'Href': 'https://em/api/backupSessions/11111111-1111-4111-8111-111111111111', 'Type': 'BackupJobSessionReference'},
        {'Rel': 'Related', 'Href': 'https://em/api/vmRestorePoints/{0}?format=Entity'.format(POINT_GUID.upper()),
         'Type': 'VmRestorePoint'},
        {'Rel': 'related', 'Href': 'https://em/api/agents/agentRestorePoints/22222222-2222-4222-8222-222222222222/', 'Type': None},
    ]}
    assert producers.related_ids(entity) == {POINT_GUID, '22222222-2222-4222-8222-222222222222'}


def test_related_ids_ignore_links_without_a_guid_and_entities_without_links():
    assert producers.related_ids({'Links': [{'Rel': 'Related', 'Href': 'https://em/api/tasks/task-1'},
                                            {'Rel': 'Related', 'Href': None}]}) == set()
    assert producers.related_ids({}) == set()
    assert producers.related_ids({'Links': None}) == set()


def test_point_guid_is_the_lower_case_guid_of_the_uid_or_none():
    assert producers.point_guid({'uid': 'urn:veeam:VmRestorePoint:' + POINT_GUID.upper()}) == POINT_GUID
    assert producers.point_guid({'uid': 'not a uid'}) is None
    assert producers.point_guid({}) is None
    assert producers.point_guid(None) is None


@pytest.mark.parametrize('job_name, wanted, expected', [
    ('Physical Servers - PHYS-SQL-01', {'phys-sql-01'}, 'phys-sql-01'),
    ('Physical Servers - phys-sql-01', {'other'}, None),
    # The job name holds the separator too: the longest computer name asked for wins.
    ('DC - East - srv-01', {'srv-01', 'east - srv-01'}, 'east - srv-01'),
    ('DC - East - srv-01', {'srv-01'}, 'srv-01'),
    ('No separator here', {'here'}, None),
    (None, {'x'}, None),
])
def test_agent_computer_reads_the_computer_after_the_job_name(job_name, wanted, expected):
    assert producers.agent_computer({'job_name': job_name, 'name': None}, wanted) == expected


def test_agent_computer_falls_back_to_the_session_name_before_the_at_sign():
    session = {'job_name': None, 'name': 'Linux Agents - rhel-app-01@2026-11-29 22:00:00'}
    assert producers.agent_computer(session, {'rhel-app-01'}) == 'rhel-app-01'


# --- the per-name choice ---

def test_a_session_counts_for_the_name_whose_point_its_related_link_names():
    found = producers.Producers({POINT_GUID: 'web01'}, NOW)
    assert found.see(task(uid='urn:veeam:BackupTaskSession:other'), set()) is None
    assert found.see(task(), {POINT_GUID}) == 'web01'
    assert found.found == {'web01': task()}
    assert found.missing() == []


def test_names_without_a_session_are_missing():
    found = producers.Producers({POINT_GUID: 'web01'}, NOW, wanted=['web01', 'db02'])
    assert sorted(found.missing()) == ['db02', 'web01']
    assert found.missing(['db02']) == ['db02']


def test_agent_sessions_count_by_name_and_the_newest_completed_one_wins_in_any_order():
    older = agent_session(result='Success', created='2026-11-28T22:00:00Z', uid='urn:veeam:BackupJobSession:old')
    newer = agent_session(result='Failed', created='2026-11-29T22:00:00Z', uid='urn:veeam:BackupJobSession:new')
    running = agent_session(result='None', state='Working', created='2026-11-30T15:00:00Z', uid='urn:veeam:BackupJobSession:run')
    for order in ((older, newer, running), (running, newer, older), (newer, running, older)):
        found = producers.Producers({}, NOW, by_name=True, completed=True, wanted=['phys-sql-01'])
        for session in order:
            found.see(session, set())
        assert found.found['phys-sql-01']['uid'] == 'urn:veeam:BackupJobSession:new'


def test_agent_sessions_of_other_computers_do_not_count():
    found = producers.Producers({}, NOW, by_name=True, completed=True, wanted=['phys-sql-01'])
    assert found.see(agent_session(computer='phys-fs-01'), set()) is None
    assert found.missing() == ['phys-sql-01']


# --- the verdicts ---

def test_an_accepted_session_keeps_the_pass_and_names_itself():
    verdict = judge_producer('restore_point', passing(), task(), policy())
    assert verdict == {'passed': True, 'code': 'passed', 'session': POINT, 'reason':
                       'restore point at 2026-11-30 02:00 UTC in backup file F on vbr01; the backup task session that made it '
                       'ended Success at 2026-11-30 02:10 UTC in job Web Daily'}


def test_a_failed_producing_session_fails_with_failed_result_and_em_reason():
    verdict = judge_producer('restore_point', passing(), task(result='Failed', reason='Snapshot removal failed.'), policy())
    assert verdict['code'] == 'failed_result' and not verdict['passed']
    assert verdict['reason'] == ('restore point at 2026-11-30 02:00 UTC in backup file F on vbr01, but the backup task session '
                                 'that made it ended Failed at 2026-11-30 02:10 UTC in job Web Daily: Snapshot removal failed.')
    assert verdict['session']['uid'] == 'urn:veeam:BackupTaskSession:1'


def test_a_warning_producing_session_fails_unless_warning_is_accepted():
    warned = task(result='Warning', reason='Free disk space is low.')
    verdict = judge_producer('restore_point', passing(), warned, policy())
    assert verdict['code'] == 'warning_result'
    assert verdict['reason'].endswith('Free disk space is low. (Warning is not accepted)')
    assert judge_producer('restore_point', passing(), warned, policy(accept=('Success', 'Warning')))['passed']


def test_a_producing_session_with_another_result_is_unaccepted():
    verdict = judge_producer('restore_point', passing(), task(result='None'), policy())
    assert verdict['code'] == 'unaccepted_result'
    assert verdict['reason'].endswith('which is not an accepted result (accept: Success)')


def test_a_producing_session_still_running_fails_with_running():
    verdict = judge_producer('restore_point', passing(), task(state='InProgress', result='None'), policy())
    assert verdict['code'] == 'running'
    assert 'the backup task session that made it is still running (started 2026-11-30 01:50 UTC in job Web Daily)' in verdict['reason']


def test_no_producing_session_fails_closed_with_no_session():
    verdict = judge_producer('restore_point', passing(), None, policy())
    assert verdict['code'] == 'no_session' and not verdict['passed']
    assert verdict['session'] is POINT
    assert verdict['reason'] == (
        'restore point at 2026-11-30 02:00 UTC in backup file F on vbr01, but no backup task session EM lists in the last '
        '30 days links to it, so require_session_result cannot be met (a point copied by a backup copy job or imported '
        'has no such session, and EM keeps sessions for about 30 days)')


def test_no_agent_session_fails_closed_with_no_session():
    verdict = judge_producer('agent', passing(), None, policy(sources=('agent',)))
    assert verdict['code'] == 'no_session'
    assert verdict['reason'].endswith('but EM lists no completed Veeam Agent session for this computer in the last 30 days, '
                                      'so require_session_result cannot be met')


def test_a_failed_newest_agent_session_fails_with_failed_result():
    verdict = judge_producer('agent', passing(), agent_session(result='Failed', failure='Access is denied.'),
                             policy(sources=('agent',)))
    assert verdict['code'] == 'failed_result'
    assert ('but the newest Veeam Agent session of this computer ended Failed at 2026-11-29 22:30 UTC in job Physical '
            'Servers - PHYS-SQL-01: Access is denied.') in verdict['reason']


def test_an_agent_session_in_a_state_em_does_not_document_is_unknown_state():
    verdict = judge_producer('agent', passing(), agent_session(state='Exploded'), policy(sources=('agent',)))
    assert verdict['code'] == 'unknown_state'


def test_a_producing_session_from_the_future_is_future_time():
    verdict = judge_producer('restore_point', passing(), task(created='2026-12-30T00:00:00Z', end='2026-12-30T01:00:00Z'),
                             policy())
    assert verdict['code'] == 'future_time'


def test_a_failing_point_is_not_judged_again():
    stale = {'passed': False, 'code': 'stale', 'reason': 'old', 'session': POINT}
    assert judge_producer('restore_point', stale, task(result='Failed'), policy()) is stale


def test_judge_vm_applies_the_session_only_with_require_session_result():
    found = {'restore_point': (POINT, POINT)}
    failed = {'restore_point': task(result='Failed')}
    assert judge_vm(found, policy(require_session_result=False), 'web01', produced=failed)['code'] == 'passed'
    assert judge_vm(found, policy(), 'web01', produced=failed)['code'] == 'failed_result'
    # A caller that read no sessions (the inventory) cannot pass a VM on require_session_result.
    assert judge_vm(found, policy(), 'web01')['code'] == 'no_session'


def test_session_sources_are_untouched_by_require_session_result():
    found = {'backup': (task(), task()), 'restore_point': (POINT, POINT)}
    verdict = judge_vm(found, policy(sources=('backup', 'restore_point'), require='all'), 'web01',
                       produced={'restore_point': task()})
    assert verdict['code'] == 'passed'
    assert verdict['sources']['backup']['reason'].startswith('Success at')


# --- the policy ---

def test_the_sources_table_names_the_sessions_behind_points():
    assert sources.PRODUCED_NAMES == ('restore_point', 'agent')
    assert sources.get('restore_point').producer.query_type == 'BackupTaskSession'
    assert sources.get('agent').producer.query_type == 'BackupJobSession'
    assert sources.get('replica_point').producer is None


@pytest.mark.parametrize('chosen, words', [
    (('replica_point',), 'EM documents no link from a session to the points of replica_point'),
    (('restore_point', 'replica_point'), 'EM documents no link from a session to the points of replica_point'),
    (('backup',), 'require_session_result applies to the sources restore_point, agent only'),
])
def test_require_session_result_is_refused_where_it_cannot_apply(chosen, words):
    with pytest.raises(EmError) as info:
        policy(sources=chosen)
    assert words in str(info.value)
    assert str(info.value).endswith('.')


@pytest.mark.parametrize('value', ['maybe', 2, None])
def test_require_session_result_must_be_a_boolean(value):
    with pytest.raises(EmError) as info:
        policy(require_session_result=value)
    assert str(info.value).startswith('require_session_result must be true or false')
