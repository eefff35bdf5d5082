# -*- coding: utf-8 -*-
# Copyright (c) 2026, vbem.enterprise_manager contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""em_inventory: option checks, newest sessions per VM, verdicts, caching, constructed groups.

EM is played by an in-memory stand-in for EmClient (as in test_info); the
integration target em_inventory runs the same plugin against the emulator.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import sys
from datetime import datetime, timedelta

import pytest

from ansible.errors import AnsibleParserError
from ansible.inventory.data import InventoryData
from ansible.parsing.dataloader import DataLoader
from ansible.plugins.loader import inventory_loader

from ansible_collections.vbem.enterprise_manager.plugins.module_utils import inventory, query
from ansible_collections.vbem.enterprise_manager.plugins.module_utils.errors import EmError

NOW = datetime(2026, 11, 30, 12, 0, 0)
KIND_TYPES = {'BackupTaskSession': 'BackupJobSessionReference', 'ReplicaTaskSession': 'ReplicaJobSessionReference',
              'CdpReplicaTaskSession': 'CdpReplicaSessionReference'}
_serial = [0]


def entity(vm, created, result='Success', state='Completed', query_type='BackupTaskSession', job='SQL Daily', reason=''):
    _serial[0] += 1
    uid_field = 'Id' if query_type.startswith('Cdp') else 'UID'
    time_field = 'CreationTimeUTC'
    return {
        uid_field: 'urn:veeam:{0}:00000000-0000-0000-0000-{1:012d}'.format(query_type, _serial[0]),
        'Type': query_type, 'Name': '{0}@{1}'.format(vm, created), 'VmDisplayName': vm, time_field: created,
        'EndTimeUTC': None if state != 'Completed' else created, 'State': state, 'Result': result, 'Reason': reason,
        'TotalSize': 1024,
        'Links': [{'Rel': 'Up', 'Type': KIND_TYPES[query_type], 'Href': 'h', 'Name': job + '@2026-11-01 10:00:00'}],
    }


def normalised(*args, **kwargs):
    from ansible_collections.vbem.enterprise_manager.plugins.module_utils.sessions import KINDS, normalise
    kind = {'BackupTaskSession': 'backup_task', 'ReplicaTaskSession': 'replica_task', 'CdpReplicaTaskSession': 'cdp_task'}
    item = entity(*args, **kwargs)
    return normalise(item, KINDS[kind[item['Type']]])


class FakeClient(object):
    """Serves each query type's entities newest first, like EM with sortDesc; records the requests."""

    base_url = 'https://em.example.com:9398/api'

    def __init__(self, by_type):
        self.by_type = by_type
        self.queries = []
        self.warnings = []
        self.entered = 0
        self.exited = 0

    def __enter__(self):
        self.entered += 1
        return self

    def __exit__(self, *exc):
        self.exited += 1
        return False

    def query_page(self, query_type, filter_text=None, sort_field=None, descending=True, page_size=100, page=1, collection_key=None):
        self.queries.append((query_type, filter_text, sort_field, descending, page_size, page))
        items = sorted(self.by_type.get(query_type, []), key=lambda e: e['CreationTimeUTC'], reverse=descending)
        start = (page - 1) * page_size
        return items[start:start + page_size], -(-len(items) // page_size)


def plan(**options):
    return inventory.plan(options, NOW)


# -- plan ---------------------------------------------------------------------------------

def test_plan_defaults():
    result = plan()
    assert result['sources'] == ['backup'] and result['page_size'] == 1000
    assert result['created_after'] == datetime(2026, 11, 23, 12, 0, 0)
    policy = result['policy']
    assert (policy.accept, policy.require, policy.running, policy.cutoff) == (('Success',), 'any', 'previous', datetime(2026, 11, 29, 12, 0))


@pytest.mark.parametrize('options, words', [
    ({'created_after': ''}, 'created_after is empty'),
    ({'created_after': 'last week'}, "created_after 'last week' is neither a relative age"),
    ({'created_after': '2027-01-01'}, 'is not in the past'),
    ({'created_after': '12h'}, 'created_after (12h) must reach at least as far back as max_age (24h)'),
    ({'max_age': 'soon'}, "max_age 'soon' is neither"),
    ({'running': 'wait'}, 'running must be one of previous, fail in an inventory'),
    ({'sources': ['tape']}, "sources holds 'tape'"),
    ({'accept': ['Failed']}, "accept holds 'Failed'"),
    ({'require': 'most'}, 'require must be one of any, all'),
    ({'page_size': 0}, 'page_size must be a whole number from 1 to 10000'),
    ({'page_size': True}, 'page_size must be a whole number'),
])
def test_plan_refuses_bad_options_with_one_sentence(options, words):
    with pytest.raises(EmError) as caught:
        plan(**options)
    assert words in str(caught.value)


# -- newest per VM ------------------------------------------------------------------------

def test_newest_and_newest_completed_per_vm_whatever_the_order():
    sessions = [normalised('web01', '2026-11-28T21:00:00Z', 'Failed'),
                normalised('WEB01', '2026-11-30T11:00:00Z', 'None', 'InProgress'),
                normalised('web01', '2026-11-29T21:00:00Z', 'Warning'),
                normalised('db01', '2026-11-29T21:00:00Z')]
    found = inventory.newest_by_vm(sessions)
    assert sorted(found) == ['db01', 'web01']
    newest, completed = found['web01']
    assert (newest['vm_name'], newest['state'], completed['result']) == ('WEB01', 'InProgress', 'Warning')


def test_sessions_without_a_vm_name_are_skipped():
    nameless = normalised('x', '2026-11-29T21:00:00Z')
    nameless['vm_name'] = None
    assert inventory.newest_by_vm([nameless]) == {}


# -- collect and judge -------------------------------------------------------------------

def ago(base, hours):
    return (base - timedelta(hours=hours)).strftime('%Y-%m-%dT%H:%M:%SZ')


def em(base=NOW):
    """Sessions relative to ``base`` (NOW: 2026-11-30 12:00 UTC)."""
    return FakeClient({
        'BackupTaskSession': [
            entity('web01', ago(base, 15), 'Failed', reason='Snapshot failed'),
            entity('web01', ago(base, 39)),
            entity('db01', ago(base, 0.5), 'None', 'InProgress'),
            entity('db01', ago(base, 15)),
            entity('old01', ago(base, 111)),
            entity('lab<test>', ago(base, 14), 'Warning', reason='CBT'),
        ],
        'CdpReplicaTaskSession': [
            entity('db01', ago(base, 11), 'Warning', 'InProgress', query_type='CdpReplicaTaskSession', job='CDP Policy 1'),
            entity('cdp-only', ago(base, 11), query_type='CdpReplicaTaskSession', job='CDP Policy 1'),
        ],
    })


def test_collect_reads_each_source_once_newest_first_with_the_window_filter():
    client = em()
    data, warnings = inventory.collect(client, plan(sources=['backup', 'cdp']))
    assert warnings == []
    assert [q[0] for q in client.queries] == ['BackupTaskSession', 'CdpReplicaTaskSession']
    assert client.queries[0][1:4] == ('CreationTime>="2026-11-23T12:00:00Z"', 'CreationTime', True)
    assert client.queries[1][1:4] == ('CreationTimeUTC>="2026-11-23T12:00:00Z"', 'CreationTimeUTC', True)
    assert [vm['vm_name'] for vm in data['vms']] == ['cdp-only', 'db01', 'lab<test>', 'old01', 'web01']
    assert data['fetched'] == '2026-11-30T12:00:00Z' and data['sources'] == ['backup', 'cdp']


def test_hosts_get_newest_sessions_and_the_gates_verdict():
    the_plan = plan(sources=['backup', 'cdp'])
    data, _warnings = inventory.collect(em(), the_plan)
    hosts = dict(inventory.hosts(data, the_plan['policy']))
    web = hosts['web01']
    assert web['vbem_backup']['result'] == 'Failed' and web['vbem_cdp'] is None and web['vbem_replica'] is None
    assert web['vbem_protection']['passed'] is False and web['vbem_protection']['code'] == 'failed_result'
    assert 'backup: Failed at 2026-11-29 21:00 UTC in job SQL Daily: Snapshot failed' in web['vbem_protection']['reason']
    assert web['vbem_protection']['sources']['cdp']['code'] == 'no_session'
    db = hosts['db01']
    # Newest backup still runs: running=previous judges the completed one; the CDP session is judged live.
    assert db['vbem_backup']['state'] == 'InProgress'
    assert db['vbem_protection']['passed'] is True
    assert db['vbem_protection']['sources'] == {
        'backup': {'passed': True, 'code': 'passed', 'reason': 'Success at 2026-11-29 21:00 UTC in job SQL Daily'},
        'cdp': {'passed': False, 'code': 'warning_result',
                'reason': 'Warning at 2026-11-30 01:00 UTC in job CDP Policy 1: EM gave no reason (Warning is not accepted)'}}
    assert hosts['old01']['vbem_protection']['code'] == 'stale'
    assert hosts['cdp-only']['vbem_protection']['passed'] is True


def test_require_all_and_accept_warning_change_only_the_verdict():
    the_plan = plan(sources=['backup', 'cdp'], require='all', accept=['Success', 'Warning'])
    data, _warnings = inventory.collect(em(), the_plan)
    hosts = dict(inventory.hosts(data, the_plan['policy']))
    assert hosts['db01']['vbem_protection']['passed'] is True
    assert hosts['lab<test>']['vbem_protection']['code'] == 'no_session'
    assert hosts['cdp-only']['vbem_protection']['code'] == 'no_session'


def test_running_fail_fails_a_running_backup():
    the_plan = plan(running='fail')
    data, _warnings = inventory.collect(em(), the_plan)
    assert dict(inventory.hosts(data, the_plan['policy']))['db01']['vbem_protection']['code'] == 'running'


def test_cached_data_is_judged_at_build_time():
    data, _warnings = inventory.collect(em(), plan())
    later = inventory.plan({}, datetime(2026, 12, 1, 12, 0, 0))
    assert dict(inventory.hosts(data, later['policy']))['lab<test>']['vbem_protection']['code'] == 'stale'


def test_cache_is_used_only_for_the_same_sources_and_format():
    data, _warnings = inventory.collect(em(), plan())
    assert inventory.usable(data, plan())
    assert not inventory.usable(data, plan(sources=['backup', 'cdp']))
    assert not inventory.usable(dict(data, format=0), plan())
    assert not inventory.usable('garbage', plan())


# -- the plugin --------------------------------------------------------------------------

@pytest.fixture
def plugin():
    return inventory_loader.get('vbem.enterprise_manager.em_inventory')


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    return str(path)


@pytest.mark.parametrize('name, accepted', [('vbem_em.yml', True), ('prod.em.yaml', True), ('em.yml', True),
                                            ('inventory.yml', False), ('em.yml.bak', False), ('em.json', False)])
def test_verify_file_accepts_names_ending_in_em_yml(plugin, tmp_path, name, accepted):
    assert plugin.verify_file(write(tmp_path, name, 'plugin: vbem.enterprise_manager.em_inventory\n')) is accepted


def plugin_module(plugin):
    """The module the plugin loader loaded the plugin from (not importable by its dotted name)."""
    return sys.modules[type(plugin).__module__]


def test_bad_options_are_refused_before_any_contact(plugin, tmp_path, monkeypatch):
    monkeypatch.setattr(plugin_module(plugin), 'get_client', _no_em)
    path = write(tmp_path, 'bad_em.yml', 'plugin: vbem.enterprise_manager.em_inventory\ncreated_after: 1h\n')
    with pytest.raises(AnsibleParserError, match=r'bad_em\.yml: created_after \(1h\) must reach at least as far back as max_age \(24h\)'):
        plugin.parse(InventoryData(), DataLoader(), path, cache=False)


def test_unknown_options_are_refused_before_any_contact(plugin, tmp_path, monkeypatch):
    monkeypatch.setattr(plugin_module(plugin), 'get_client', _no_em)
    path = write(tmp_path, 'typo_em.yml', 'plugin: vbem.enterprise_manager.em_inventory\nmax_agee: 24h\n')
    with pytest.raises(AnsibleParserError, match=r'typo_em\.yml: unknown option max_agee \(did you mean max_age\?\); see ansible-doc'):
        plugin.parse(InventoryData(), DataLoader(), path, cache=False)


def _no_em(adapter):
    raise AssertionError('EM was contacted')


def test_second_cached_parse_needs_no_client(plugin, tmp_path, monkeypatch):
    # The plugin judges against the real clock, so the sessions are recent.
    client = em(query.utcnow())
    monkeypatch.setattr(plugin_module(plugin), 'get_client', lambda adapter: client)
    path = write(tmp_path, 'cached_em.yml', '\n'.join((
        'plugin: vbem.enterprise_manager.em_inventory',
        'url: https://em.example.com:9398',
        'username: u',
        'password: p',
        'cache: true',
        'cache_plugin: ansible.builtin.jsonfile',
        'cache_connection: {0}'.format(tmp_path / 'cache'),
        'keyed_groups: [{key: vbem_backup.result, prefix: backup}]',
        'groups: {unprotected: not vbem_protection.passed}',
        'compose: {last_job: vbem_backup.job_name}',
        '')))
    first = InventoryData()
    plugin.parse(first, DataLoader(), path, cache=False)
    plugin.update_cache_if_changed()
    assert (client.entered, client.exited) == (1, 1)
    monkeypatch.setattr(plugin_module(plugin), 'get_client', _no_em)
    second = InventoryData()
    again = inventory_loader.get('vbem.enterprise_manager.em_inventory')
    again.parse(second, DataLoader(), path, cache=True)
    for data in (first, second):
        assert sorted(data.hosts) == ['db01', 'lab<test>', 'old01', 'web01']
        assert sorted(h.name for h in data.groups['backup_Failed'].get_hosts()) == ['web01']
        assert sorted(h.name for h in data.groups['backup_Warning'].get_hosts()) == ['lab<test>']
        assert sorted(h.name for h in data.groups['unprotected'].get_hosts()) == ['lab<test>', 'old01', 'web01']
        assert data.hosts['web01'].vars['last_job'] == 'SQL Daily'
