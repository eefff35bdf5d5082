# -*- coding: utf-8 -*-
# Copyright (c) 2026, vbem.enterprise_manager contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""em_inventory: option checks, newest sessions per VM, verdicts, caching, constructed groups.

EM is played by FakeEm (fake_em.py, the emulator's filter reading); the
integration target em_inventory runs the same plugin against the emulator.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import sys
from datetime import datetime, timedelta

import pytest

from ansible.errors import AnsibleError, AnsibleParserError
from ansible.inventory.data import InventoryData
from ansible.parsing.dataloader import DataLoader
from ansible.plugins.loader import inventory_loader

from ansible_collections.vbem.enterprise_manager.plugins.module_utils import query
from ansible_collections.vbem.enterprise_manager.plugins.plugin_utils import inventory
from ansible_collections.vbem.enterprise_manager.plugins.module_utils.errors import EmError
from ansible_collections.vbem.enterprise_manager.tests.unit.plugins.module_utils.fake_em import FakeEm

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


def fake_em(by_type):
    """A FakeEm holding these entities per query type."""
    em = FakeEm()
    for query_type, entities in by_type.items():
        for item in entities:
            em.put(query_type, item)
    return em


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
    ({'running': 'wait'}, 'running must be one of fail, previous in an inventory'),
    ({'sources': ['tape']}, "sources must be one or more of backup, replica, cdp, restore_point, replica_point, agent; 'tape' is not one of them"),
    ({'accept': ['Failed']}, "accept must be one or more of Success, Warning; 'Failed' is not one of them"),
    ({'require': 'most'}, 'require must be one of any, all'),
    ({'page_size': 0}, 'page_size must be a whole number from 1 to 10000'),
    ({'page_size': True}, 'page_size must be a whole number'),
    ({'sources': ['backup', 'agent']}, "sources: agent cannot make hosts in an inventory - EM's AgentRestorePoint names no machine"),
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
    found = inventory.newest_by_vm(sessions, NOW)
    assert sorted(found) == ['db01', 'web01']
    newest, completed = found['web01']['pair']
    assert (newest['vm_name'], newest['state'], completed['result']) == ('WEB01', 'InProgress', 'Warning')
    # Both spellings are in the pair already: nothing else is kept.
    assert found['web01']['others'] == [] and found['db01']['others'] == []
    older = normalised('Web01', '2026-11-27T21:00:00Z')
    found = inventory.newest_by_vm(sessions + [older], NOW)
    assert [s['vm_name'] for s in found['web01']['others']] == ['Web01']


def test_sessions_without_a_vm_name_are_skipped():
    nameless = normalised('x', '2026-11-29T21:00:00Z')
    nameless['vm_name'] = None
    assert inventory.newest_by_vm([nameless], NOW) == {}


def test_twins_are_one_host_judged_ambiguous_never_on_the_other_vms_session():
    twin_a = entity('CaseDup', '2026-11-30T09:00:00Z')
    twin_b = entity('casedup', '2026-11-30T10:00:00Z', 'Failed')
    twin_a['VmUid'], twin_b['VmUid'] = 'vm-1', 'vm-2'
    the_plan = plan()
    data, _warnings = inventory.collect(fake_em({'BackupTaskSession': [twin_a, twin_b]}), the_plan)
    hosts = dict(inventory.hosts(data, the_plan['policy']))
    assert list(hosts) == ['casedup']
    protection = hosts['casedup']['vbem_protection']
    assert (protection['passed'], protection['code']) == (False, 'ambiguous')
    assert 'CaseDup' in protection['reason'] and 'casedup' in protection['reason']
    # The cached form judges the same.
    assert inventory.cache_problem(data, the_plan) is None
    assert dict(inventory.hosts(json.loads(json.dumps(data)), the_plan['policy'])) == hosts


def test_one_vm_in_two_spellings_with_one_vmuid_is_still_doubted():
    first = entity('web01', '2026-11-30T09:00:00Z')
    second = entity('WEB01', '2026-11-30T10:00:00Z')
    first['VmUid'] = second['VmUid'] = 'vm-1'
    the_plan = plan()
    data, _warnings = inventory.collect(fake_em({'BackupTaskSession': [first, second]}), the_plan)
    assert dict(inventory.hosts(data, the_plan['policy']))['WEB01']['vbem_protection']['code'] == 'ambiguous'


# -- collect and judge -------------------------------------------------------------------

def ago(base, hours):
    return (base - timedelta(hours=hours)).strftime('%Y-%m-%dT%H:%M:%SZ')


def em(base=NOW):
    """Sessions relative to ``base`` (NOW: 2026-11-30 12:00 UTC)."""
    return fake_em({
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
    assert [(r.query_type, r.filter_text, r.sort_field, r.descending) for r in client.requests] == [
        ('BackupTaskSession', 'CreationTime>="2026-11-23T12:00:00Z"', 'CreationTime', True),
        ('CdpReplicaTaskSession', 'CreationTimeUTC>="2026-11-23T12:00:00Z"', 'CreationTimeUTC', True)]
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


def _damaged(change):
    data, _warnings = inventory.collect(em(), plan())
    change(data)
    return inventory.cache_problem(data, plan())


@pytest.mark.parametrize('change, words', [
    (lambda d: d.pop('vms'), 'its vms is not a list'),
    (lambda d: d['vms'].append({'vm_name': 'x'}), "VM 'x' has no sessions of the sources read"),
    (lambda d: d['vms'].append('web01'), 'it holds a VM without a name'),
    (lambda d: d['vms'][0].update(vm_name=7), 'it holds a VM without a name'),
    (lambda d: d['vms'][0]['sessions'].update(backup=[None, None]), 'a VM without its newest session'),
    (lambda d: d['vms'][0]['sessions'].update(backup={'newest': 1}), 'not a [newest, completed] pair'),
    (lambda d: d['vms'][0]['sessions']['backup'][0].pop('creation_time'), 'a session without creation_time'),
    (lambda d: d['vms'][0]['sessions']['backup'][0].update(result=['Success']), 'a session whose result is not text'),
    (lambda d: d['vms'][0]['sessions'].update(cdp=d['vms'][0]['sessions']['backup']), 'has no sessions of the sources read'),
])
def test_a_damaged_cache_entry_is_named_not_judged(change, words):
    assert words in _damaged(change)


def test_an_intact_cache_entry_has_no_problem():
    assert _damaged(lambda d: None) is None


# -- host names --------------------------------------------------------------------------

RESERVED = ('all', 'ungrouped', 'localhost', '127.0.0.1', '::1')


@pytest.mark.parametrize('name, words', [
    ('all', 'Ansible reserves it'), ('ungrouped', 'Ansible reserves it'), ('LOCALHOST', 'Ansible reserves it'),
    ('localhost.', 'Ansible reserves it'), ('::1', 'Ansible reserves it'),
    ('-oProxyCommand=id', 'starts with -'), ('', 'it is empty'), ('   ', 'it is empty'),
    ('web\n01', 'control character'), ('web\x1b[31m', 'control character'),
    ("{{ lookup('pipe', 'id') }}", 'could be read as a template'), ('#jinja2:x', 'could be read as a template'),
])
def test_names_that_cannot_be_safe_host_names(name, words):
    assert words in inventory.host_name_problem(name, RESERVED)


@pytest.mark.parametrize('name', ['web01', 'web;01', 'file server 01', 'a==b', 'lab<test>', 'Bücher-DB', 'allow', 'x-all'])
def test_names_that_can_be_host_names(name):
    assert inventory.host_name_problem(name, RESERVED) is None


def test_assign_host_names_leaves_out_unsafe_unnamed_and_shared_names():
    named, left_out = inventory.assign_host_names(
        [('web01', 'web01.corp'), ('WEB 01', 'web01.corp'), ('db01', 'db01.corp'), ('all', 'all'), ('x', None),
         ('lab', '-lab')], RESERVED)
    assert named == [('db01', 'db01.corp')]
    assert dict(left_out) == {
        'all': 'Ansible reserves it',
        'x': 'no hostnames expression gave it a name',
        'lab': "its host name '-lab' is refused: it starts with -, which ssh would read as an option",
        'web01': "its host name 'web01.corp' is also that of 'WEB 01'",
        'WEB 01': "its host name 'web01.corp' is also that of 'web01'",
    }


@pytest.mark.parametrize('text, template', [('web01', False), ('{{ 7 * 191 }}', True), ('a}b', True), ('{% if %}', True),
                                            ('#jinja2:variable_start_string:"[["', True), ('50% done #1', False)])
def test_may_be_template(text, template):
    assert inventory.may_be_template(text) is template


# -- the plugin --------------------------------------------------------------------------

@pytest.fixture
def plugin():
    return inventory_loader.get('vbem.enterprise_manager.em_inventory')


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    return str(path)


@pytest.mark.parametrize('name, accepted', [('vbem_em.yml', True), ('prod.em.yaml', True), ('em.yml', True),
                                            ('em_inventory.yml', True), ('prod_em_inventory.yaml', True),
                                            ('inventory.yml', False), ('em.yml.bak', False), ('em.json', False)])
def test_verify_file_accepts_names_ending_in_em_yml(plugin, tmp_path, name, accepted):
    assert plugin.verify_file(write(tmp_path, name, 'plugin: vbem.enterprise_manager.em_inventory\n')) is accepted


def test_a_misnamed_file_that_names_the_plugin_gets_a_warning_with_the_endings(plugin, tmp_path, monkeypatch):
    warnings = []
    monkeypatch.setattr(plugin.display, 'warning', warnings.append)
    assert plugin.verify_file(write(tmp_path, 'backup.yml', '# EM\nplugin: "vbem.enterprise_manager.em_inventory"\n')) is False
    assert len(warnings) == 1
    assert 'reads only files whose names end in em.yml, em.yaml, em_inventory.yml, em_inventory.yaml' in warnings[0]
    assert plugin.verify_file(write(tmp_path, 'hosts.yml', 'plugin: amazon.aws.aws_ec2\n')) is False
    assert len(warnings) == 1


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


@pytest.mark.parametrize('lines, words', [
    (['cache: maybe'], 'cache must be true or false (yes/no, on/off and 1/0 work too), not \'maybe\''),
    (['strict: 2'], 'strict must be true or false (yes/no, on/off and 1/0 work too), not 2'),
    (['validate_certs: sometimes'], 'validate_certs must be true or false'),
    # ansible-core refuses these itself, with its own sentence (worded by version), before the plugin reads its options.
    (['cache_timeout: soon'], ("Config 'cache_timeout'", 'setting: cache_timeout (from Direct)')),
    (['compose: [a]'], ("Config 'compose'", 'setting: compose (from Direct)')),
    (['compose: {last: "vbem_backup.end_time |"}'], "compose['last'] 'vbem_backup.end_time |' is not a Jinja expression"),
    (['compose: {last: "vbem_backup | nosuchfilter"}'], 'uses the filter nosuchfilter, which Ansible does not know'),
    (['groups: {bad: "vbem_backup is nosuchtest"}'], 'uses the test nosuchtest, which Ansible does not know'),
    (['groups: {bad: "(vbem_protection.passed"}'], "groups['bad'] '(vbem_protection.passed' is not a Jinja expression"),
    (['keyed_groups: vbem_backup.result'], 'keyed_groups must be a list'),
    (['keyed_groups: [{prefx: backup, key: vbem_backup.result}]'], 'keyed_groups[0] holds prefx; an entry may hold only'),
    (['keyed_groups: [{prefix: backup}]'], 'keyed_groups[0] has no key'),
    (['keyed_groups: [{key: "vbem_backup.result }}"}]'], 'keyed_groups[0].key'),
    (['keyed_groups: [{key: a, default_value: x, trailing_separator: false}]'], 'holds both default_value and trailing_separator'),
    (['hostnames: []'], 'hostnames must be a non-empty list of Jinja expressions'),
    (['hostnames: ["vbem_vm_name | lowerr"]'], 'hostnames[0] \'vbem_vm_name | lowerr\' uses the filter lowerr'),
])
def test_inventory_file_mistakes_are_refused_before_any_contact(plugin, tmp_path, monkeypatch, lines, words):
    monkeypatch.setattr(plugin_module(plugin), 'get_client', _no_em)
    path = write(tmp_path, 'bad_em.yml', '\n'.join(['plugin: vbem.enterprise_manager.em_inventory'] + lines + ['']))
    with pytest.raises(AnsibleError) as caught:
        plugin.parse(InventoryData(), DataLoader(), path, cache=False)
    assert any(alternative in str(caught.value) for alternative in ((words,) if isinstance(words, str) else words))
    assert '\n' not in str(caught.value)


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


def _build(plugin, tmp_path, monkeypatch, name, *lines):
    client = em(query.utcnow())
    monkeypatch.setattr(plugin_module(plugin), 'get_client', lambda adapter: client)
    path = write(tmp_path, name, '\n'.join(('plugin: vbem.enterprise_manager.em_inventory', 'url: https://em.example.com:9398',
                                            'username: u', 'password: p') + lines + ('',)))
    data = InventoryData()
    plugin.parse(data, DataLoader(), path, cache=False)
    return data


def test_hostnames_first_non_empty_expression_names_the_host(plugin, tmp_path, monkeypatch):
    data = _build(plugin, tmp_path, monkeypatch, 'fqdn_em_inventory.yml',
                  'hostnames:', '  - "vbem_backup.result == \'Warning\' and \'\' or \'\'"',
                  '  - "vm_name | upper if vbem_backup.result == \'Failed\' else \'\'"',
                  '  - "vbem_vm_name | lower ~ \'.corp.example.com\'"')
    assert sorted(data.hosts) == ['WEB01', 'db01.corp.example.com', 'lab<test>.corp.example.com', 'old01.corp.example.com']
    assert data.hosts['WEB01'].vars['vbem_vm_name'] == 'web01'


def test_a_vm_without_a_hostname_is_left_out_with_one_warning(plugin, tmp_path, monkeypatch):
    warnings = []
    monkeypatch.setattr(plugin.display, 'warning', warnings.append)
    data = _build(plugin, tmp_path, monkeypatch, 'fqdn_em.yml', 'hostnames: ["vbem_backup.result == \'Failed\' and \'x\' or \'\'"]')
    assert sorted(data.hosts) == ['x']
    assert len(warnings) == 1 and '3 VMs are left out of the inventory' in warnings[0]


# old01 divides by zero in the first expression; the second names every VM.
_FAILING_FIRST = ('hostnames:', '  - "vbem_vm_name ~ (1 // (0 if vbem_vm_name == \'old01\' else 1)) | string"', '  - "vbem_vm_name ~ \'-b\'"')


def test_a_failing_hostnames_expression_falls_through_unless_strict(plugin, tmp_path, monkeypatch):
    data = _build(plugin, tmp_path, monkeypatch, 'lenient_em.yml', *_FAILING_FIRST)
    assert sorted(data.hosts) == ['db011', 'lab<test>1', 'old01-b', 'web011']


def test_a_failing_hostnames_expression_fails_a_strict_build(plugin, tmp_path, monkeypatch):
    with pytest.raises(AnsibleParserError, match="hostnames expression .* failed for VM 'old01': "):
        _build(plugin, tmp_path, monkeypatch, 'strict_names_em.yml', 'strict: true', *_FAILING_FIRST)


def test_a_strict_compose_error_leaves_no_partial_inventory(plugin, tmp_path, monkeypatch):
    data = InventoryData()
    data.add_host('web01')
    data.set_variable('web01', 'mine', 1)
    client = em(query.utcnow())
    monkeypatch.setattr(plugin_module(plugin), 'get_client', lambda adapter: client)
    path = write(tmp_path, 'strict_em.yml', '\n'.join((
        'plugin: vbem.enterprise_manager.em_inventory', 'url: https://em.example.com:9398', 'username: u', 'password: p',
        'strict: true', 'keyed_groups: [{key: vbem_backup.result, prefix: backup}]',
        # db01 sorts before lab<test>, old01 and web01: some hosts are added before the error.
        'compose: {size: "1 // (0 if vbem_vm_name == \'old01\' else 1)"}', '')))
    with pytest.raises(AnsibleError, match='Could not set size for host old01'):
        plugin.parse(data, DataLoader(), path, cache=False)
    assert sorted(data.hosts) == ['web01']
    assert data.hosts['web01'].vars == {'mine': 1, 'inventory_file': None, 'inventory_dir': None} or \
        set(data.hosts['web01'].vars) <= {'mine', 'inventory_file', 'inventory_dir'}
    assert sorted(data.groups) == ['all', 'ungrouped']


def test_only_text_that_could_be_a_template_is_marked_unsafe(plugin):
    mark = plugin_module(plugin).for_inventory
    marked = mark({'vm_name': "{{ lookup('pipe', 'id') }}", 'job': 'SQL Daily', 'size': 3, 'list': ['a', '{{ b }}']})
    unsafe = [marked['vm_name'], marked['list'][1]]
    plain = [marked['job'], marked['list'][0]]
    for value in unsafe:
        assert not _trusted(value)
    for value in plain:
        assert _trusted(value)
    assert marked['size'] == 3


def _trusted(value):
    """Whether ansible-core would template this string: trusted on 2.19+, not AnsibleUnsafe before."""
    try:
        from ansible.template import is_trusted_as_template
    except ImportError:
        from ansible.utils.unsafe_proxy import AnsibleUnsafe
        return not isinstance(value, AnsibleUnsafe)
    return is_trusted_as_template(value)


# -- restore point sources ----------------------------------------------------------------

def point(vm, created, query_type='VmRestorePoint', point_type='Increment'):
    """A restore (replica) point entity as EM's query answers it: the VM as VmName (VmDisplayName for replicas)."""
    _serial[0] += 1
    item = {'UID': 'urn:veeam:{0}:00000000-0000-0000-0000-{1:012d}'.format(query_type, _serial[0]), 'Type': query_type,
            'Name': '{0}@{1}'.format(vm, created), 'CreationTimeUTC': created, 'PointType': point_type, 'Algorithm': 'Incremental',
            'Links': [{'Rel': 'Up', 'Type': 'BackupServerReference', 'Href': 'h', 'Name': 'vbr01'},
                      {'Rel': 'Up', 'Type': 'BackupFileReference', 'Href': 'h', 'Name': 'SQL DailyD2026-11-29T210000.vib'}
                      if query_type == 'VmRestorePoint' else
                      {'Rel': 'Up', 'Type': 'ReplicaReference', 'Href': 'h', 'Name': 'DR Replica'}]}
    item['VmName' if query_type == 'VmRestorePoint' else 'VmDisplayName'] = vm
    return item


def point_em(base=NOW):
    client = em(base)
    for item in (point('web01', ago(base, 40)), point('web01', ago(base, 16), point_type='Full'),
                 point('points-only', ago(base, 30)), point('points-only', ago(base, 100))):
        client.put('VmRestorePoint', item)
    client.put('VmReplicaPoint', point('db01', ago(base, 2), 'VmReplicaPoint'))
    return client


def test_the_inventory_sources_are_the_ones_whose_entities_name_their_vm():
    assert inventory.SOURCES == ('backup', 'replica', 'cdp', 'restore_point', 'replica_point')
    assert inventory.HOST_VARS == tuple('vbem_' + source for source in inventory.SOURCES)


def test_restore_points_make_hosts_and_give_the_newest_point_with_its_age():
    the_plan = plan(sources=['backup', 'restore_point', 'replica_point'])
    client = point_em()
    data, warnings = inventory.collect(client, the_plan)
    assert warnings == []
    assert [r.query_type for r in client.requests] == ['BackupTaskSession', 'VmRestorePoint', 'VmReplicaPoint']
    point_request = client.requests[1]
    assert (point_request.filter_text, point_request.sort_field, point_request.descending) == (
        'CreationTime>="2026-11-23T12:00:00Z"', 'CreationTime', True)
    assert inventory.cache_problem(data, the_plan) is None
    hosts = dict(inventory.hosts(data, the_plan['policy']))
    web = hosts['web01']
    # The newest point by time (16 hours old, a full), whatever EM's order; its backup failed 15 hours ago.
    assert (web['vbem_restore_point']['creation_time'], web['vbem_restore_point']['point_type']) == (ago(NOW, 16), 'Full')
    assert web['vbem_restore_point']['age_seconds'] == 16 * 3600
    assert web['vbem_restore_point']['backup_file'] == 'SQL DailyD2026-11-29T210000.vib'
    assert web['vbem_replica_point'] is None and web['vbem_cdp'] is None
    assert web['vbem_protection']['sources']['restore_point']['code'] == 'passed'
    assert web['vbem_protection']['sources']['backup']['code'] == 'failed_result'
    assert web['vbem_protection']['passed'] is True  # require any: the restore point passes
    # A VM with points but no session in the window is a host, judged on its newest point.
    only = hosts['points-only']
    assert only['vbem_backup'] is None and only['vbem_restore_point']['age_seconds'] == 30 * 3600
    assert only['vbem_protection']['passed'] is False
    assert only['vbem_protection']['sources']['restore_point']['code'] == 'stale'
    assert only['vbem_protection']['sources']['backup']['code'] == 'no_session'
    assert hosts['db01']['vbem_replica_point']['replica_name'] == 'DR Replica'
    assert hosts['db01']['vbem_protection']['sources']['replica_point']['passed'] is True


def test_a_cached_point_is_judged_and_aged_at_build_time():
    the_plan = plan(sources=['restore_point'])
    data, _warnings = inventory.collect(point_em(), the_plan)
    later = inventory.plan({'sources': ['restore_point']}, NOW + timedelta(hours=10))
    web = dict(inventory.hosts(data, later['policy']))['web01']
    assert web['vbem_restore_point']['age_seconds'] == 26 * 3600
    assert web['vbem_protection']['code'] == 'stale'


@pytest.mark.parametrize('change, words', [
    (lambda d: d['vms'][-1]['sessions']['restore_point'][0].pop('point_type'), 'a session without point_type'),
    (lambda d: d['vms'][-1]['sessions']['restore_point'][0].update(creation_time=5), 'a session whose creation_time is not text'),
])
def test_a_damaged_cached_point_is_named_not_judged(change, words):
    the_plan = plan(sources=['restore_point'])
    data, _warnings = inventory.collect(point_em(), the_plan)
    change(data)
    assert words in inventory.cache_problem(data, the_plan)
