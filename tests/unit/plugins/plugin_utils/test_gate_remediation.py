# -*- coding: utf-8 -*-
# Copyright (c) 2026, vbem.enterprise_manager contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""backup_gate_remediate: which hosts get a quick backup, and how the backups and the second judgement read."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import copy

from ansible_collections.vbem.enterprise_manager.plugins.plugin_utils import gate_batch

POLICY = {'sources': ['backup'], 'accept': ['Success'], 'max_age': '24h', 'require': 'any'}
CODES = {'ok': 'passed', 'old': 'stale', 'none': 'no_session', 'bad': 'failed_result', 'ghost': 'unknown_vm',
         'twin': 'ambiguous', 'busy': 'running', 'warn': 'warning_result'}


def verdict(host, code, reason=None):
    return {'vm_name': host.upper(), 'requested_name': host, 'passed': code == 'passed', 'code': code,
            'reason': reason or code + ' reason', 'sources': {}}


def report():
    return {'vms': dict((host, verdict(host, code)) for host, code in CODES.items())}


VMS = dict((host, host) for host in CODES)


def backup_row(status, time=None, message=None):
    return {'status': status, 'message': message, 'restore_point': {'uid': 'urn:veeam:VmRestorePoint:1', 'time': time} if time else None}


def test_only_missing_old_and_failed_backups_are_remediated_in_batch_order():
    assert gate_batch.remediation_hosts(VMS, report()) == ['old', 'none', 'bad']


def test_merge_reasons_and_outcome():
    judged = report()
    backup = {'vms': {'old': backup_row('created', '2026-12-07T14:32:05.1Z'), 'none': backup_row('created', '2026-12-07T14:35:00Z'),
                      'bad': backup_row('failed', message='EM refused the quick backup with HTTP 409: Busy.')}}
    rejudged = {'vms': {'old': verdict('old', 'passed', 'Success at 2026-12-07 14:31 UTC in job A'),
                        'none': verdict('none', 'failed_result', 'Failed at 2026-12-07 14:34 UTC in job B: disk')}}
    untouched = copy.deepcopy(dict((host, judged['vms'][host]) for host in ('ok', 'ghost', 'twin', 'busy', 'warn')))
    outcome = gate_batch.merge_remediation(judged, ['old', 'none', 'bad'], backup, rejudged)
    assert outcome == {'mode': 'quick_backup', 'hosts': ['old', 'none', 'bad'], 'backed_up': ['old', 'none'],
                       'passed_after': ['old'], 'not_fixed': ['none', 'bad'], 'planned': [], 'check_mode': False}
    assert judged['vms']['old']['passed'] is True
    assert judged['vms']['old']['reason'] == 'passed after a quick backup at 14:32 UTC (Success at 2026-12-07 14:31 UTC in job A)'
    assert judged['vms']['none']['reason'] == 'still fails after a quick backup at 14:35 UTC: Failed at 2026-12-07 14:34 UTC in job B: disk'
    assert judged['vms']['bad']['reason'] == 'failed_result reason; the quick backup failed: EM refused the quick backup with HTTP 409: Busy'
    assert judged['vms']['bad']['remediation']['status'] == 'failed'
    for host, before in untouched.items():
        assert judged['vms'][host] == before


def test_check_mode_says_what_would_run_and_changes_no_verdict():
    judged = report()
    backup = {'vms': dict((host, backup_row('planned')) for host in ('old', 'none', 'bad'))}
    backup['vms']['none'] = backup_row('failed', message="EM knows no VM named 'none'.")
    outcome = gate_batch.merge_remediation(judged, ['old', 'none', 'bad'], backup, None, check_mode=True)
    assert outcome['check_mode'] is True and outcome['backed_up'] == [] and outcome['passed_after'] == []
    assert outcome['planned'] == ['old', 'bad'] and outcome['not_fixed'] == ['none']
    assert judged['vms']['old']['passed'] is False and judged['vms']['old']['reason'].endswith('a quick backup would run (check mode)')
    assert judged['vms']['none']['reason'] == "no_session reason; the quick backup failed: EM knows no VM named 'none'"
    assert gate_batch.remediation_line(outcome) == 'Would take a quick backup of 2 hosts (check mode): old, bad; 1 not fixed (none)'


def test_summary_and_lines_carry_the_remediation():
    judged = report()
    backup = {'vms': {'old': backup_row('created', '2026-12-07T14:32:05Z'), 'none': backup_row('timeout', message='slow.'),
                      'bad': backup_row('created', '2026-12-07T14:40:00Z')}}
    rejudged = {'vms': {'old': verdict('old', 'passed'), 'bad': verdict('bad', 'passed')}}
    outcome = gate_batch.merge_remediation(judged, ['old', 'none', 'bad'], backup, rejudged)
    result = gate_batch.batch_outcome(VMS, judged, None, POLICY, 'host', remediation=outcome)
    assert result['summary']['remediation'] is outcome
    assert result['summary']['passed_hosts'] == ['ok', 'old', 'bad']
    assert result['lines'][1] == 'Quick backup of 3 hosts: 2 backed up, 2 passed after it, 1 not fixed (none)'
    assert 'none' in result['failing'] and 'the quick backup timed out: slow' in result['messages']['none']


def test_no_remediation_line_when_nothing_was_remediable():
    assert gate_batch.remediation_line(None) is None
    assert gate_batch.remediation_line(gate_batch.merge_remediation(report(), [], None, None)) is None
    result = gate_batch.batch_outcome(VMS, report(), None, POLICY, 'host')
    assert 'remediation' not in result['summary']
