# -*- coding: utf-8 -*-
# Copyright (c) 2026, vbem.enterprise_manager contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""restore_point_info's query (VM, replica and agent restore points) on the shared session query service.

Driven by the in-memory FakeEm (EmClient's query surface, no HTTP); the
integration target restore_point_info runs the same against the emulator.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from datetime import datetime

import pytest

from ansible_collections.vbem.enterprise_manager.plugins.module_utils import sources
from ansible_collections.vbem.enterprise_manager.plugins.module_utils.errors import EmError
from ansible_collections.vbem.enterprise_manager.plugins.module_utils.info import (
    POINT_SOURCES, mutually_exclusive, plan_session_query, point_argument_spec, run_session_query,
)
from ansible_collections.vbem.enterprise_manager.tests.unit.plugins.module_utils.fake_em import FakeEm

NOW = datetime(2026, 11, 30, 12, 0, 0)
POINT_TYPES = [(name, sources.get(name).session_kind) for name in POINT_SOURCES]


def seeded(query_type, order='asked'):
    """Three machines' points over ten days; ``newest`` maps each name to its newest point's time."""
    em = FakeEm(order=order, seed=7)
    newest = {}
    for day in range(1, 11):
        for index, name in enumerate(('web01', 'db02', 'app03')):
            created = '2026-11-%02dT%02d:%02d:00Z' % (day + 18, 20 + index, day)
            em.add_point(query_type, name, created, vm_uid=None if query_type == 'AgentRestorePoint' else 'urn:VMware:Vm:r.vm-%d' % index)
            newest[name] = created
    return em, newest


def run(em, kind, **params):
    params.setdefault('page_size', 4)
    params.setdefault('limit', 0)
    return run_session_query(em, kind, params, now=NOW)


def test_the_type_choices_are_the_gates_restore_point_sources():
    assert list(POINT_SOURCES) == [source.name for source in sources.TABLE if source.points]
    spec = point_argument_spec()
    assert spec['type']['choices'] == list(POINT_SOURCES) and spec['type']['default'] == 'restore_point'
    # A restore point has no job field, no result and never runs: those session options are not offered.
    for option in ('job_name', 'result', 'state', 'wait', 'wait_timeout', 'wait_sleep', 'latest_per_job'):
        assert option not in spec, option
    assert spec['vm_name']['aliases'] == ['computer_name']
    assert ['id', 'vm_name'] in mutually_exclusive(spec) and ['id', 'latest_per_vm'] in mutually_exclusive(spec)


@pytest.mark.parametrize('source, kind', POINT_TYPES)
def test_each_point_type_is_read_normalised_and_counted(source, kind):
    em, _newest = seeded(kind.query_type)
    found = run(em, kind, vm_name=['web01'], created_after='2026-11-25T00:00:00Z')
    times = [p['creation_time'] for p in found['sessions']]
    assert times == sorted(times, reverse=True) and len(times) == 4  # 25..28 November, newest first
    point = found['sessions'][0]
    assert point['vm_name'] == 'web01'
    assert point['point_type'] == 'Increment' and point['backup_server'] == 'vbr01'
    assert point['uid'].startswith('urn:veeam:{0}:'.format(kind.query_type))
    assert 'state' not in point and 'result' not in point
    assert found['summary'] == {'total': 4, 'by_point_type': {'Increment': 4}}
    assert found['filter'] == '{0}=="web01";CreationTime>="2026-11-25T00:00:00Z"'.format(kind.field('vm_name'))


def test_agent_points_are_read_one_computer_a_request_and_carry_the_name_asked():
    kind = sources.get('agent').session_kind
    em, _newest = seeded(kind.query_type)
    found = run(em, kind, vm_name=['WEB01', 'db02', 'web01', 'nope'], created_after='2026-11-27T00:00:00Z')
    # web01 asked twice in different case is read once (EM compares names case-insensitively), under its first spelling.
    assert em.filters() == ['ComputerName=="{0}";CreationTime>="2026-11-27T00:00:00Z"'.format(n) for n in ('WEB01', 'db02', 'nope')]
    assert sorted(set(p['vm_name'] for p in found['sessions'])) == ['WEB01', 'db02']
    assert len(found['sessions']) == 4
    times = [p['creation_time'] for p in found['sessions']]
    assert times == sorted(times, reverse=True)
    # The filter returned is the query the requests make up together.
    assert found['filter'].startswith('(ComputerName=="WEB01",ComputerName=="db02",ComputerName=="web01"')


def test_agent_points_without_names_are_returned_unattributed():
    kind = sources.get('agent').session_kind
    em, _newest = seeded(kind.query_type)
    found = run(em, kind, created_after='2026-11-28T00:00:00Z')
    assert len(found['sessions']) == 3 and all(p['vm_name'] is None for p in found['sessions'])
    assert len(em.filters()) == 1


@pytest.mark.parametrize('order', ['asked', 'reverse', 'shuffle'])
@pytest.mark.parametrize('source, kind', POINT_TYPES)
def test_latest_per_vm_is_each_machines_newest_point_by_time_whatever_the_order(source, kind, order):
    em, newest = seeded(kind.query_type, order=order)
    found = run(em, kind, vm_name=['web01', 'db02', 'app03'], latest_per_vm=True)
    assert dict((p['vm_name'], p['creation_time']) for p in found['sessions']) == newest
    times = [p['creation_time'] for p in found['sessions']]
    assert times == sorted(times, reverse=True)
    assert found['summary']['total'] == 3


@pytest.mark.parametrize('source, kind', POINT_TYPES)
def test_latest_per_vm_with_a_limit_reads_no_further_only_while_the_order_holds(source, kind):
    asked, newest = seeded(kind.query_type)
    found = run(asked, kind, vm_name=['web01', 'db02', 'app03'], latest_per_vm=True, limit=1, page_size=2)
    assert [(p['vm_name'], p['creation_time']) for p in found['sessions']] == [('app03', newest['app03'])]
    reverse, _newest = seeded(kind.query_type, order='reverse')
    found = run(reverse, kind, vm_name=['web01', 'db02', 'app03'], latest_per_vm=True, limit=1, page_size=2)
    assert [(p['vm_name'], p['creation_time']) for p in found['sessions']] == [('app03', newest['app03'])]
    # Oldest first: every page had to be read to find the newest.
    assert len(reverse.requests) > len(asked.requests)


@pytest.mark.parametrize('params, words', [
    ({'latest_per_vm': True}, 'latest_per_vm on AgentRestorePoint needs the computer names (vm_name)'),
    ({'job_name': 'Physical Servers'}, 'job_name filters sessions, but EM documents no job field for AgentRestorePoint restore points'),
    ({'vm_name': 'pc', 'result': ['Failed']}, 'AgentRestorePoint restore points cannot be filtered or sorted by result'),
])
def test_what_restore_points_cannot_answer_is_refused_before_any_request(params, words):
    em = FakeEm()
    with pytest.raises(EmError) as info:
        plan_session_query(em, sources.get('agent').session_kind, params, NOW)
    assert words in str(info.value)
    assert em.requests == []


@pytest.mark.parametrize('source, kind', POINT_TYPES)
def test_job_name_is_refused_for_every_point_type(source, kind):
    with pytest.raises(EmError) as info:
        plan_session_query(FakeEm(), kind, {'vm_name': 'x', 'job_name': 'Job A'}, NOW)
    assert str(info.value) == ('job_name filters sessions, but EM documents no job field for {0} restore points; leave job_name '
                               'unset.'.format(kind.query_type))
