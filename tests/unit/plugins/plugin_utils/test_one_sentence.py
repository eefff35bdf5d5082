# -*- coding: utf-8 -*-
# Copyright (c) 2026, vbem.enterprise_manager contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""One mistake, one sentence, whatever the entry point.

Every row feeds the same bad value through each entry point that takes the
option (the session modules' query, the gate module's plan, the gate's
Policy, quick_backup's plan, the inventory's plan and its file, the session
report's plan, the em_query lookup, the connection options every module
reads) and asserts the very same sentence, the option named as that entry
point names it. validate.py words them all; nothing here may talk to EM.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import sys
from datetime import datetime

import pytest

from ansible.errors import AnsibleError
from ansible.inventory.data import InventoryData
from ansible.parsing.dataloader import DataLoader
from ansible.plugins.loader import inventory_loader, lookup_loader

from ansible_collections.vbem.enterprise_manager.plugins.module_utils import actions, gate, info, options, verdict
from ansible_collections.vbem.enterprise_manager.plugins.plugin_utils import inventory, report
from ansible_collections.vbem.enterprise_manager.plugins.module_utils.errors import EmError

NOW = datetime(2026, 11, 30, 12, 0, 0)
NOWHERE = dict(url='https://127.0.0.1:9', username='svc', password='not-a-real-password', timeout=3, retries=0)
ALL_SOURCES = 'backup, replica, cdp, restore_point, replica_point, agent'


class NoEm(object):
    """A client that lends its base URL and fails the test if asked anything."""

    base_url = 'https://em.example.com:9398/api'

    def __getattr__(self, name):
        raise AssertionError('EM was asked ({0}) although the input was bad'.format(name))


def session_module(option, value):
    info.run_session_query(NoEm(), 'backup_task', {option: value}, now=NOW)


def gate_module(option, value):
    gate.plan_protection(NoEm(), ['web01'], {option: value}, now=NOW)


def policy(option, value):
    verdict.Policy(now=NOW, **{option: value})


def quick_backup(option, value):
    actions.plan_quick_backup({'vms': ['web01'], option: value}, now=NOW)


def inventory_plan(option, value):
    inventory.plan({option: value}, now=NOW)


def report_plan(option, value):
    assert option == 'report_window'
    report.plan(['backup'], value, NOW)


def connection(option, value):
    options.validate_connection({'url': 'em', 'session_token': 't', option: value})


def lookup(option, value):
    plugin = lookup_loader.get('vbem.enterprise_manager.em_query')
    plugin.run(['BackupTaskSession'], variables={}, **dict(NOWHERE, **{option: value}))


def _no_logon(*args):
    raise AssertionError('the inventory logged on although its file was bad')


def inventory_file(option, value, tmp_path, monkeypatch):
    plugin = inventory_loader.get('vbem.enterprise_manager.em_inventory')
    monkeypatch.setattr(sys.modules[type(plugin).__module__], 'get_client', _no_logon)
    path = tmp_path / 'mistake_em.yml'
    path.write_text('plugin: vbem.enterprise_manager.em_inventory\n{0}: {1!r}\n'.format(option, value))
    try:
        plugin.parse(InventoryData(), DataLoader(), str(path), cache=False)
    except AnsibleError as exc:
        raise AnsibleError(str(exc.message).split(': ', 1)[1])  # the file's path first, then the sentence


ROWS = [
    ('a time that is no time', 'last week',
     "{0} 'last week' is neither a relative age such as 30m, 24h, 7d or 2w nor an ISO-8601 date-time (2025-08-15T06:00:00Z).",
     [(session_module, 'created_after'), (session_module, 'created_before'), (lookup, 'created_after'), (gate_module, 'max_age'),
      (gate_module, 'lookback'), (policy, 'max_age'), (policy, 'lookback'), (quick_backup, 'max_age'),
      (inventory_plan, 'created_after'), (inventory_plan, 'max_age'), (inventory_file, 'created_after'),
      (inventory_file, 'max_age'), (report_plan, 'report_window')]),
    ('an empty time', '',
     '{0} is empty; give an ISO-8601 date-time (2025-08-15T06:00:00Z) or a relative age such as 30m, 24h, 7d or 2w, '
     'or leave the option out.',
     [(session_module, 'created_after'), (lookup, 'created_after'), (gate_module, 'max_age'), (policy, 'lookback'),
      (quick_backup, 'max_age'), (inventory_plan, 'created_after'), (inventory_plan, 'max_age'), (report_plan, 'report_window')]),
    ('a start in the future', '2999-01-01',
     "{0} '2999-01-01' is not in the past; give a past time or a relative age such as 24h.",
     [(gate_module, 'max_age'), (policy, 'max_age'), (quick_backup, 'max_age'), (inventory_plan, 'created_after'),
      (inventory_file, 'created_after'), (report_plan, 'report_window')]),
    ('an age of zero', '0d',
     "{0} '0d' is zero; give a positive age such as 24h.",
     [(gate_module, 'max_age'), (policy, 'max_age'), (policy, 'lookback'), (quick_backup, 'max_age'),
      (inventory_plan, 'created_after'), (report_plan, 'report_window')]),
    ('an offset no time zone has', '2026-01-01T00:00:00+15:00',
     "{0} '2026-01-01T00:00:00+15:00' has the UTC offset +15:00, which no time zone has (they lie between -14:00 and +14:00); "
     "write the time in UTC with Z or with its zone's real offset.",
     [(session_module, 'created_after'), (lookup, 'created_after'), (policy, 'max_age'), (inventory_plan, 'created_after'),
      (report_plan, 'report_window')]),
    ('a page size of zero', 0, 'page_size must be a whole number from 1 to 10000, not 0.',
     [(session_module, 'page_size'), (lookup, 'page_size'), (gate_module, 'page_size'), (inventory_plan, 'page_size'),
      (inventory_file, 'page_size')]),
    ('a page size too large', 10001, 'page_size must be a whole number from 1 to 10000, not 10001.',
     [(session_module, 'page_size'), (lookup, 'page_size'), (gate_module, 'page_size'), (inventory_plan, 'page_size'),
      (inventory_file, 'page_size')]),
    ('a page size that is a word', 'many', "page_size must be a whole number from 1 to 10000, not 'many'.",
     [(session_module, 'page_size'), (lookup, 'page_size'), (gate_module, 'page_size'), (inventory_plan, 'page_size')]),
    ('a wait of zero seconds', 0, 'wait_timeout must be a whole number of 1 second or more, not 0.',
     [(session_module, 'wait_timeout'), (lookup, 'wait_timeout'), (gate_module, 'wait_timeout'), (quick_backup, 'wait_timeout')]),
    ('validate_certs that is no boolean', 'maybe',
     "validate_certs must be true or false (yes/no, on/off and 1/0 work too), not 'maybe'.",
     [(connection, 'validate_certs'), (lookup, 'validate_certs'), (inventory_file, 'validate_certs')]),
    ('retries that is a word', 'twice', "retries must be a whole number from 0 to 10, not 'twice'.",
     [(connection, 'retries'), (lookup, 'retries')]),
    ('too many retries', 11, 'retries must be a whole number from 0 to 10, not 11.',
     [(connection, 'retries'), (lookup, 'retries')]),
    ('a timeout of zero', 0, 'timeout must be a number of seconds greater than 0 and at most 3600, not 0.',
     [(connection, 'timeout'), (lookup, 'timeout')]),
    ('a timeout that is a word', 'soon', "timeout must be a number of seconds greater than 0 and at most 3600, not 'soon'.",
     [(connection, 'timeout'), (lookup, 'timeout')]),
    ('a source the gate does not know', ['tape'],
     "sources must be one or more of " + ALL_SOURCES + "; 'tape' is not one of them.",
     [(gate_module, 'sources'), (policy, 'sources'), (inventory_plan, 'sources')]),
    ('no source at all', [], 'sources is empty; give one or more of ' + ALL_SOURCES + ', or leave the option out.',
     [(gate_module, 'sources'), (policy, 'sources'), (inventory_plan, 'sources')]),
    ('a result the gate cannot accept', ['Failed'], "accept must be one or more of Success, Warning; 'Failed' is not one of them.",
     [(gate_module, 'accept'), (policy, 'accept'), (inventory_plan, 'accept')]),
    ('a running mode that does not exist', 'sometimes', "running must be one of wait, fail, previous, not 'sometimes'.",
     [(gate_module, 'running'), (policy, 'running')]),
]


def refusal(entry, option, value, tmp_path, monkeypatch):
    """The sentence an entry point refuses ``option: value`` with."""
    kwargs = {'tmp_path': tmp_path, 'monkeypatch': monkeypatch} if entry is inventory_file else {}
    with pytest.raises((EmError, AnsibleError)) as caught:
        entry(option, value, **kwargs)
    return str(getattr(caught.value, 'message', None) or caught.value)


@pytest.mark.parametrize('mistake, value, sentence, entries', ROWS, ids=[row[0] for row in ROWS])
def test_one_mistake_gets_one_sentence_at_every_entry_point(mistake, value, sentence, entries, tmp_path, monkeypatch):
    for name in ('VEEAM_EM_URL', 'VEEAM_EM_USERNAME', 'VEEAM_EM_PASSWORD', 'VEEAM_EM_SESSION_TOKEN', 'VEEAM_EM_CA_PATH',
                 'VEEAM_EM_VALIDATE_CERTS', 'VEEAM_EM_TIMEOUT'):
        monkeypatch.delenv(name, raising=False)
    said = dict(('{0}({1})'.format(entry.__name__, option), refusal(entry, option, value, tmp_path, monkeypatch)) for entry, option in entries)
    assert said == dict(('{0}({1})'.format(entry.__name__, option), sentence.format(option)) for entry, option in entries), mistake
