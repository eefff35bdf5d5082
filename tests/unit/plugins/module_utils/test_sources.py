# -*- coding: utf-8 -*-
# Copyright (c) 2026, vbem.enterprise_manager contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The sources table and what is derived from it; the restore point sources and unknown names in the gate."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os
from datetime import datetime

import pytest
import yaml

from ansible_collections.vbem.enterprise_manager.plugins.module_utils import gate, sessions, sources, verdict
from ansible_collections.vbem.enterprise_manager.plugins.module_utils.errors import EmError
from ansible_collections.vbem.enterprise_manager.plugins.module_utils.gate import plan_protection, protection_report
from ansible_collections.vbem.enterprise_manager.plugins.module_utils.verdict import Policy, judge_point
from ansible_collections.vbem.enterprise_manager.tests.unit.plugins.module_utils.fake_em import FakeEm

NOW = datetime(2026, 11, 30, 16, 0, 0)
ROOT = os.path.join(os.path.dirname(__file__), '..', '..', '..', '..')


def test_every_source_is_one_entry_and_the_lists_derive_from_it():
    assert sources.NAMES == ('backup', 'replica', 'cdp', 'restore_point', 'replica_point', 'agent')
    assert verdict.GATE_SOURCES == sources.NAMES
    assert verdict.SOURCES == ('backup', 'replica', 'cdp')
    assert dict((s.name, (s.query_type, s.identity_field, s.time_field)) for s in sources.TABLE) == {
        'backup': ('BackupTaskSession', 'VmDisplayName', 'CreationTime'),
        'replica': ('ReplicaTaskSession', 'VmDisplayName', 'CreationTime'),
        'cdp': ('CdpReplicaTaskSession', 'VmDisplayName', 'CreationTimeUTC'),
        'restore_point': ('VmRestorePoint', 'VmDisplayName', 'CreationTime'),
        'replica_point': ('VmReplicaPoint', 'VmDisplayName', 'CreationTime'),
        'agent': ('AgentRestorePoint', 'ComputerName', 'CreationTime'),
    }
    assert [s.name for s in sources.TABLE if s.live] == ['cdp']
    assert gate.argument_spec()['sources']['choices'] == list(sources.NAMES)


def test_the_role_offers_exactly_the_sources_of_the_table():
    with open(os.path.join(ROOT, 'roles', 'backup_gate', 'meta', 'argument_specs.yml')) as handle:
        spec = yaml.safe_load(handle)
    options = spec['argument_specs']['main']['options']
    assert options['backup_gate_sources']['choices'] == list(sources.NAMES)


def point(name='web01', created='2026-11-29T21:40:00Z', backup_file='Web FarmD2026-11-29T214000.vib'):
    return {'uid': 'urn:veeam:VmRestorePoint:1', 'name': '{0}@{1}'.format(name, created), 'vm_name': name,
            'creation_time': created, 'backup_file': backup_file, 'backup_server': 'vbr01'}


@pytest.mark.parametrize('newest, code, reason', [
    (point(), 'passed', 'restore point at 2026-11-29 21:40 UTC in backup file Web FarmD2026-11-29T214000.vib on vbr01'),
    (point(created='2026-11-27T21:40:00Z'), 'stale', 'newest restore point 2026-11-27 21:40 UTC in backup file '
                                                     'Web FarmD2026-11-29T214000.vib on vbr01 is older than 24h'),
    (None, 'no_session', 'no restore point in EM for this VM'),
    (point(created='2026-12-01T16:00:00Z'), 'future_time', None),
    (point(created='1999-12-31T23:00:00Z'), 'bad_time', None),
    (point(created='yesterday'), 'bad_time', None),
])
def test_a_restore_point_is_judged_on_its_time(newest, code, reason):
    verdict_ = judge_point('restore_point', newest, Policy(now=NOW, sources=['restore_point']))
    assert verdict_['code'] == code
    assert verdict_['passed'] == (code == 'passed')
    if reason:
        assert verdict_['reason'] == reason
    else:
        assert 'restore point web01@' in verdict_['reason']


def test_job_name_with_a_point_source_is_refused_before_logon():
    with pytest.raises(EmError) as info:
        Policy(now=NOW, sources=['backup', 'restore_point'], job_name='Web')
    assert 'restore_point' in str(info.value)


def test_normalise_reads_the_documented_point_shapes():
    entity = FakeEm().add_point('VmRestorePoint', 'web01', '2026-11-29T21:40:00Z', vm_uid='urn:VMware:Vm:x.vm-1')
    del entity['VmDisplayName']  # the entity says VmName; VmDisplayName is the filter field only
    normalised = sessions.normalise(entity, sessions.KINDS['vm_restore_point'], links=False)
    assert normalised['vm_name'] == 'web01' and normalised['vm_uid'] == 'urn:VMware:Vm:x.vm-1'
    assert normalised['backup_file'] == 'Web FarmD2026-11-29T214000.vib' and normalised['backup_server'] == 'vbr01'
    assert 'state' not in normalised and 'result' not in normalised


def report_for(em, vms, **params):
    planned = plan_protection(em, vms, params, now=NOW)
    return protection_report(em, planned, sleep=lambda s: None)


def estate():
    em = FakeEm()
    em.add('BackupTaskSession', 'web01', '2026-11-29T21:40:00Z', job='Web Farm')
    em.add_point('VmRestorePoint', 'web01', '2026-11-29T22:05:00Z')
    em.add('BackupTaskSession', 'SQL-PROD-01', '2026-11-29T21:40:00Z', job='SQL')
    em.add_point('VmRestorePoint', 'SQL-PROD-01', '2026-11-29T22:00:00Z')
    # Points older than the 30-day session window and no session: known, protected only by points.
    em.add_point('VmRestorePoint', 'old-app-01', '2026-10-01T22:00:00Z')
    em.add_point('VmRestorePoint', 'old-app-01', '2026-09-01T22:00:00Z')
    em.add_point('VmReplicaPoint', 'dr01', '2026-11-30T10:00:00Z')
    em.add_point('AgentRestorePoint', 'phys-sql-01', '2026-11-30T01:00:00Z')
    em.add_point('AgentRestorePoint', 'phys-old-01', '2026-10-01T01:00:00Z')
    return em


def test_restore_points_replica_points_and_agents_are_judged_per_name():
    em = estate()
    result = report_for(em, ['web01', 'old-app-01', 'dr01'], sources=['restore_point'])
    codes = dict((k, (v['code'], v['reason'])) for k, v in result['vms'].items())
    assert codes['web01'][0] == 'passed'
    assert codes['old-app-01'] == ('stale', 'newest restore point 2026-10-01 22:00 UTC in backup file '
                                            'Web FarmD2026-11-29T214000.vib on vbr01 is older than 24h')
    assert codes['dr01'] == ('no_session', 'no restore point in EM for this VM')  # replicated, so EM knows it
    result = report_for(em, ['dr01'], sources=['replica_point'])
    assert result['vms']['dr01']['code'] == 'passed'
    result = report_for(em, ['PHYS-SQL-01', 'phys-old-01'], sources=['agent'])
    assert result['vms']['PHYS-SQL-01']['code'] == 'passed'
    assert result['vms']['phys-old-01']['code'] == 'stale'
    # Agent points name no computer: one query per name (window), then the look back for the stale one.
    agent_filters = em.filters('AgentRestorePoint')
    assert len(agent_filters) == 3 and all(f.count('ComputerName==') == 1 for f in agent_filters)


def test_the_newest_point_decides_whatever_order_em_answers_in():
    for order in ('asked', 'reverse', 'shuffle'):
        em = FakeEm(order=order)
        em.add_point('VmRestorePoint', 'web01', '2026-11-20T22:00:00Z')
        em.add_point('VmRestorePoint', 'web01', '2026-11-29T22:00:00Z')
        em.add_point('VmRestorePoint', 'web01', '2026-11-10T22:00:00Z')
        assert report_for(em, ['web01'], sources=['restore_point'])['vms']['web01']['code'] == 'passed', order
        em = FakeEm(order=order)
        em.add_point('VmRestorePoint', 'web01', '2026-11-29T22:00:00Z')
        em.add_point('VmRestorePoint', 'web01', '2026-12-29T22:00:00Z')
        assert report_for(em, ['web01'], sources=['restore_point'])['vms']['web01']['code'] == 'future_time', order


def test_require_all_combines_sessions_and_points():
    em = estate()
    result = report_for(em, ['web01', 'old-app-01'], sources=['backup', 'restore_point'], require='all')
    assert result['vms']['web01']['code'] == 'passed'
    entry = result['vms']['old-app-01']
    assert entry['code'] == 'no_session'
    assert entry['reason'].startswith('backup: no backup session in the last 30 days; restore_point: newest restore point')


def test_five_hundred_hosts_on_backup_and_restore_points_take_a_bounded_number_of_queries():
    # Per source: the window (names split to fit the 8000-byte URL), then one look back for the names with
    # nothing fresh, stopping at each name's newest; one page each. The count follows from URL lengths, not hosts.
    em = FakeEm()
    names = ['app-%03d.corp.example.com' % i for i in range(500)]
    for i, name in enumerate(names):
        if i % 5:
            em.add('BackupTaskSession', name, '2026-11-30T01:00:00Z')
            em.add_point('VmRestorePoint', name, '2026-11-30T01:30:00Z')
        else:
            em.add_point('VmRestorePoint', name, '2026-11-01T01:30:00Z')
    planned = plan_protection(em, names, {'sources': ['backup', 'restore_point'], 'require': 'all'}, now=NOW)
    result = protection_report(em, planned, sleep=lambda s: None)
    assert result['summary']['passed'] == 400 and result['summary']['by_code']['no_session'] == 100
    window = [r for r in em.requests if r.page == 1]
    per_query = {}
    for request in window:
        kind = 'lookback' if '<"' in request.filter_text else 'window'
        per_query.setdefault((request.query_type, kind), 0)
        per_query[(request.query_type, kind)] += 1
    # 500 names of 25 characters (about 40 bytes each, encoded) need 4 requests of at most 8000 bytes; the 100
    # names without fresh evidence fit 1.
    assert per_query == {('BackupTaskSession', 'window'): 4, ('BackupTaskSession', 'lookback'): 1,
                         ('VmRestorePoint', 'window'): 4, ('VmRestorePoint', 'lookback'): 1}
    assert len(em.requests) == 10 and max(r.url_length for r in em.requests) <= 8000


def test_five_thousand_names_with_restore_points_fit_the_url_limit():
    em = FakeEm(url_max_length=8000)
    names = ['server-%05d.corp.example.com' % i for i in range(5000)]
    for name in names[::2]:
        em.add_point('VmRestorePoint', name, '2026-11-30T01:00:00Z')
    planned = plan_protection(em, names, {'sources': ['restore_point']}, now=NOW)
    result = protection_report(em, planned, sleep=lambda s: None)
    # The other half has no point and no session: unknown to EM.
    assert result['summary']['passed'] == 2500 and result['summary']['by_code']['unknown_vm'] == 2500
    assert max(r.url_length for r in em.requests) <= 8000


def test_an_unknown_name_is_told_apart_and_close_names_are_suggested():
    em = estate()
    result = report_for(em, ['sql-prod-1', 'web01', 'old-app-01', 'nothing-like-it-at-all', 'dr01'])
    codes = dict((k, (v['code'], v['reason'])) for k, v in result['vms'].items())
    assert codes['sql-prod-1'] == ('unknown_vm', 'EM knows no VM named sql-prod-1 (did you mean SQL-PROD-01?)')
    assert codes['web01'][0] == 'passed'
    assert codes['old-app-01'] == ('no_session', 'no backup session in the last 30 days')  # EM knows it: points
    assert codes['dr01'] == ('no_session', 'no backup session in the last 30 days')  # a replica point
    assert codes['nothing-like-it-at-all'] == ('unknown_vm', 'EM knows no VM named nothing-like-it-at-all (no close '
                                                             'name among the 4 known names read)')
    assert result['summary']['by_code']['unknown_vm'] == 2
    # Bounded: the names' points of any age (one request per kind), then one page of the newest points per kind.
    assert em.filters('VmRestorePoint') == [
        '(VmDisplayName=="sql-prod-1",VmDisplayName=="old-app-01",VmDisplayName=="nothing-like-it-at-all",'
        'VmDisplayName=="dr01")', None]
    assert em.filters('VmReplicaPoint') == [
        '(VmDisplayName=="sql-prod-1",VmDisplayName=="nothing-like-it-at-all",VmDisplayName=="dr01")', None]


def test_a_point_source_already_read_the_whole_retention_and_agents_are_computers():
    em = estate()
    result = report_for(em, ['sql-prod-1'], sources=['restore_point'])
    assert result['vms']['sql-prod-1']['code'] == 'unknown_vm'
    # restore_point read every point of the name already (window and look back): only replica points are asked about.
    assert [f for f in em.filters('VmRestorePoint') if f is not None and 'CreationTime' not in f] == []
    assert em.filters('VmReplicaPoint') == ['VmDisplayName=="sql-prod-1"', None]
    result = report_for(estate(), ['phys-sql-1'], sources=['agent'])
    assert result['vms']['phys-sql-1']['reason'] == ('EM knows no computer named phys-sql-1 (no close name among the 0 '
                                                     'known names read)')
    result = report_for(estate(), ['sql-prod-1'], sources=['backup', 'agent'])
    assert result['vms']['sql-prod-1']['reason'] == ('EM knows no VM or computer named sql-prod-1 (did you mean '
                                                     'SQL-PROD-01?)')
