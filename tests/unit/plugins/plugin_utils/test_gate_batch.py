# -*- coding: utf-8 -*-
# Copyright (c) 2026, vbem.enterprise_manager contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The backup_gate role's batch logic: its variables, its outcome, its wait lines."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os

import pytest
import yaml

from ansible_collections.vbem.enterprise_manager.plugins.module_utils import gate, verdict
from ansible_collections.vbem.enterprise_manager.plugins.plugin_utils import gate_batch
from ansible_collections.vbem.enterprise_manager.plugins.plugin_utils.gate_batch import batch_outcome, batch_problem

ROLE = os.path.join(os.path.dirname(__file__), '..', '..', '..', '..', 'roles', 'backup_gate')


def _load(*parts):
    with open(os.path.join(ROLE, *parts)) as handle:
        return yaml.safe_load(handle)


NAMES, DEFAULTS = gate_batch.role_variables(_load('meta', 'argument_specs.yml'))
POLICY = {'sources': ['backup'], 'accept': ['Success'], 'max_age': '24h', 'require': 'any'}


def test_defaults_file_follows_the_argument_specs():
    defaults = _load('defaults', 'main.yml')
    assert set(defaults) <= set(NAMES)
    for name, value in defaults.items():
        if name == gate_batch.PER_HOST:
            assert value == '{{ inventory_hostname }}'
        else:
            assert DEFAULTS[name] == value, name
    assert set(DEFAULTS) == set(defaults) - {gate_batch.PER_HOST}


def test_every_play_wide_variable_but_fail_and_remediation_is_a_gate_module_option():
    options = gate_batch.module_options(NAMES, gate.argument_spec())
    assert set(options) == set(NAMES) - {'backup_gate_vm_name', 'backup_gate_fail', 'backup_gate_remediate',
                                         'backup_gate_remediate_timeout'}
    assert options['backup_gate_max_age'] == 'max_age'


def _effective(**values):
    effective = dict(DEFAULTS)
    effective.update(values)
    return effective


def test_no_problem_with_defaults_and_per_host_names():
    hosts = {'web01': {'backup_gate_vm_name': 'WEB-01'}, 'db01': {}}
    assert batch_problem(NAMES, DEFAULTS, ['backup_gate_max_age'], 'web01', _effective(backup_gate_vm_name='WEB-01'), hosts) is None


@pytest.mark.parametrize('given, expected', [
    (['backup_gate_max_agee'], 'backup_gate_max_agee is not a variable of the backup_gate role; its variables are '),
    (['backup_gate_x', 'backup_gate_y'], 'backup_gate_x, backup_gate_y are not variables of the backup_gate role'),
])
def test_unknown_variables_are_refused(given, expected):
    problem = batch_problem(NAMES, DEFAULTS, given + ['backup_gate_result', 'backup_gate__batch'], 'h', _effective(), {'h': {}})
    assert problem.startswith(expected)
    assert ', '.join(NAMES) in problem


def test_outputs_and_internal_variables_are_not_unknown():
    given = ['backup_gate_result', 'backup_gate_summary', 'backup_gate__batch'] + list(NAMES)
    assert batch_problem(NAMES, DEFAULTS, given, 'h', _effective(backup_gate_vm_name='h'), {'h': {}}) is None


def test_vm_name_for_the_play_is_refused():
    problem = batch_problem(NAMES, DEFAULTS, [], 'web01', _effective(backup_gate_vm_name='WEB01'), {'web01': {}})
    assert problem.startswith('backup_gate_vm_name is set for the play or the role ("WEB01" for web01)')


def test_a_policy_that_differs_between_hosts_is_refused():
    hosts = {'web01': {}, 'db01': {'backup_gate_max_age': '48h'}}
    problem = batch_problem(NAMES, DEFAULTS, [], 'web01', _effective(backup_gate_vm_name='web01'), hosts)
    assert problem.startswith('backup_gate_max_age is "48h" for db01 but "24h" for web01, and one policy judges the whole batch')


def test_a_play_level_value_overrides_what_hosts_say():
    # The play sets 36h: the inventory's 48h on db01 does not count, so there is nothing to refuse.
    hosts = {'web01': {}, 'db01': {'backup_gate_max_age': '48h'}}
    assert batch_problem(NAMES, DEFAULTS, [], 'web01', _effective(backup_gate_vm_name='web01', backup_gate_max_age='36h'), hosts) is None


def test_batch_vms_use_the_per_host_name():
    assert gate_batch.batch_vms(['a', 'b'], {'a': {'backup_gate_vm_name': 'A-VM'}, 'b': {}}) == {'a': 'A-VM', 'b': 'b'}


def _report(verdicts):
    vms = dict((host, {'vm_name': host.upper(), 'requested_name': host, 'passed': code == 'passed', 'code': code,
                       'reason': 'because ' + code, 'sources': {}}) for host, code in verdicts.items())
    return {'vms': vms}


def test_outcome_fail_host():
    vms = {'a': 'a', 'b': 'b', 'c': 'c'}
    out = batch_outcome(vms, _report({'a': 'passed', 'b': 'stale', 'c': 'ambiguous' if 'ambiguous' in verdict.CODES else 'stale'}),
                        None, POLICY, 'host')
    assert out['failing'] == ['b', 'c']
    assert out['messages']['b'] == 'Backup gate: b (VM B) did not pass: because stale'
    assert out['lines'][0] == 'Backup gate: 1 of 3 hosts passed (backup: Success within 24h)'
    assert out['lines'][1] == 'FAILED b (VM B): because stale'
    assert out['summary']['passed_hosts'] == ['a'] and out['summary']['failed_hosts'] == ['b', 'c']
    assert set(out['summary']['by_code']) == set(verdict.CODES) | {'not_judged'}
    assert sum(out['summary']['by_code'].values()) == 3
    assert [item['groups'] for item in out['hosts']] == ['backup_gate_passed', 'backup_gate_failed', 'backup_gate_failed']


def test_outcome_fail_play_and_none():
    vms = {'a': 'a', 'b': 'b'}
    report = _report({'a': 'passed', 'b': 'stale'})
    play = batch_outcome(vms, report, None, POLICY, 'play')
    assert play['failing'] == ['a', 'b']
    assert play['messages']['a'] == 'Backup gate: 1 of 2 hosts did not pass (b) and backup_gate_fail is play, so every host stops.'
    none = batch_outcome(vms, report, None, POLICY, 'none')
    assert none['failing'] == [] and none['messages'] == {}
    everyone = batch_outcome({'a': 'a'}, _report({'a': 'passed'}), None, POLICY, 'play')
    assert everyone['failing'] == []


def test_outcome_error_fails_every_host_once():
    out = batch_outcome({'a': 'A', 'b': 'B'}, None, 'EM is down.', POLICY, 'none')
    assert out['failing'] == ['a', 'b']
    assert out['lines'] == ['Backup gate: 0 of 2 hosts passed (backup: Success within 24h)',
                            'No host was judged, so every host fails: EM is down.']
    # The error once per host (its one failure line) and once in the summary, nowhere else.
    assert out['messages']['a'] == 'Backup gate: a fails closed because no host could be judged: EM is down.'
    assert out['summary']['by_code']['not_judged'] == 2 and out['summary']['error'] == 'EM is down.'
    assert out['hosts'][0]['backup_gate_result']['code'] == 'not_judged'


def test_a_host_that_passed_before_and_fails_now_stops_whatever_fail_says():
    out = batch_outcome({'a': 'a', 'b': 'b'}, _report({'a': 'stale', 'b': 'passed'}), None, POLICY, 'none', earlier_passed=['a', 'b'])
    assert out['failing'] == ['a']
    assert 'Ansible cannot take a host out of backup_gate_passed' in out['messages']['a']
    assert out['lines'][-1] == 'Stopped because an earlier run passed them and this one did not: a'


def test_implicit_localhost_stays_local():
    local = {'ansible_connection': 'local', 'ansible_python_interpreter': '/usr/bin/python3'}
    out = batch_outcome({'localhost': 'web'}, _report({'localhost': 'passed'}), None, POLICY, 'host', implicit_localhost=local)
    assert out['hosts'][0]['ansible_connection'] == 'local'
    out = batch_outcome({'localhost': 'web'}, _report({'localhost': 'passed'}), None, POLICY, 'host')
    assert 'ansible_connection' not in out['hosts'][0]


@pytest.mark.parametrize('policy, phrase', [
    ({'sources': 'backup', 'accept': 'Success', 'max_age': '24h'}, 'backup: Success within 24h'),
    ({'sources': ['backup', 'replica'], 'require': 'all', 'accept': ['Success', 'Warning'], 'max_age': '7d',
      'job_name': 'Web Farm, Legacy'}, 'backup and replica: Success or Warning within 7d in job Web Farm, Legacy'),
    ({'sources': ['backup', 'cdp'], 'accept': ['Success'], 'max_age': '1h', 'job_name': ['a', 'b']},
     'backup or cdp: Success within 1h in jobs a, b'),
    ({'sources': ['restore_point'], 'accept': ['Success'], 'max_age': '24h', 'require_session_result': True},
     'restore_point: Success within 24h, and so the session that made each restore point'),
    ({'sources': ['restore_point'], 'accept': ['Success'], 'max_age': '24h', 'require_session_result': False},
     'restore_point: Success within 24h'),
])
def test_policy_phrase(policy, phrase):
    assert gate_batch.policy_phrase(policy) == phrase


class _Clock(object):
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def test_wait_reporter_shows_start_end_and_progress_at_least_once_a_minute():
    lines, clock = [], _Clock()
    reporter = gate_batch.WaitReporter(lines.append, clock, ['backup'], 10, deadline_text='14:32 UTC')
    names = ['sql-01', 'erp-02', 'a', 'b', 'c']
    reporter('start', names, 1800)
    assert lines == ['Backup gate: waiting up to 30 min (until 14:32 UTC) for the running backups of sql-01, erp-02 (3 more).']
    shown_at = [0.0]
    for step in range(1, 40):
        clock.now = step * 12.0  # a look every wait_sleep (10 s) plus the query
        before = len(lines)
        reporter('wait', names[:2], 1800 - clock.now)
        if len(lines) > before:
            shown_at.append(clock.now)
    gaps = [later - earlier for earlier, later in zip(shown_at, shown_at[1:])]
    assert gaps and max(gaps) <= 60 + 12 and min(gaps) >= 50
    assert lines[1].startswith('Backup gate: still waiting for the running backups of sql-01, erp-02; ')
    reporter('done', [], 185)
    assert lines[-1] == 'Backup gate: the running backups finished after 3 min 5 s; judging them now.'
    reporter('timeout', ['x'], 1800)
    assert lines[-1] == 'Backup gate: stopped waiting after 30 min; still running: x (judged wait_timeout).'


def test_wait_lines_say_sessions_beyond_backup():
    assert 'running sessions of vm' in gate_batch.wait_message('start', ['vm'], 60, ['backup', 'replica'])
