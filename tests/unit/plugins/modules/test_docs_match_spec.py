# -*- coding: utf-8 -*-
# Copyright (c) 2026, vbem.enterprise_manager contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""DOCUMENTATION (with its fragments) says exactly what the argument_spec does: validate-modules' rule, caught early."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import pytest
import yaml

from ansible_collections.vbem.enterprise_manager.plugins.doc_fragments import attributes, connection, query, vms
from ansible_collections.vbem.enterprise_manager.plugins.module_utils import actions, gate, sessions, sources, verdict
from ansible_collections.vbem.enterprise_manager.plugins.module_utils.info import job_argument_spec, point_argument_spec, task_argument_spec
from ansible_collections.vbem.enterprise_manager.plugins.modules import (
    backup_task_session_info, cdp_task_session_info, job_session_info, job_start, quick_backup, replica_task_session_info,
    restore_point_info, vm_protection_info,
)

FRAGMENTS = {
    'vbem.enterprise_manager.attributes': attributes.ModuleDocFragment.DOCUMENTATION,
    'vbem.enterprise_manager.attributes.info_module': attributes.ModuleDocFragment.INFO_MODULE,
    'vbem.enterprise_manager.connection': connection.ModuleDocFragment.DOCUMENTATION,
    'vbem.enterprise_manager.query': query.ModuleDocFragment.DOCUMENTATION,
    'vbem.enterprise_manager.query.sessions': query.ModuleDocFragment.SESSIONS,
    'vbem.enterprise_manager.query.entity': query.ModuleDocFragment.ENTITY,
    'vbem.enterprise_manager.query.wait': query.ModuleDocFragment.WAIT,
    'vbem.enterprise_manager.query.latest_per_vm': query.ModuleDocFragment.LATEST_PER_VM,
    'vbem.enterprise_manager.vms': vms.ModuleDocFragment.DOCUMENTATION,
}


def documented_options(module):
    doc = yaml.safe_load(module.DOCUMENTATION)
    options = dict(doc['options'])
    for name in doc['extends_documentation_fragment']:
        options.update(yaml.safe_load(FRAGMENTS[name])['options'] or {})
    return options


@pytest.mark.parametrize('module, spec', [
    (backup_task_session_info, task_argument_spec()),
    (replica_task_session_info, task_argument_spec()),
    (cdp_task_session_info, cdp_task_session_info.argument_spec()),
    (job_session_info, job_argument_spec()),
    (vm_protection_info, gate.argument_spec()),
    (restore_point_info, point_argument_spec()),
    (quick_backup, actions.quick_backup_argument_spec()),
    (job_start, actions.job_start_argument_spec()),
])
def test_documentation_matches_argument_spec(module, spec):
    docs = documented_options(module)
    assert sorted(docs) == sorted(spec)
    for name, entry in spec.items():
        doc = docs[name]
        assert doc.get('type', 'str') == entry.get('type', 'str'), name
        assert doc.get('default') == entry.get('default'), name
        assert doc.get('choices') == entry.get('choices'), name
        assert doc.get('elements') == entry.get('elements'), name
        assert bool(doc.get('required')) == bool(entry.get('required')), name


@pytest.mark.parametrize('module', [backup_task_session_info, replica_task_session_info, cdp_task_session_info, job_session_info])
def test_every_module_documents_examples_and_returns_with_samples(module):
    yaml.safe_load(module.EXAMPLES)
    returns = yaml.safe_load(module.RETURN)
    for key in ('sessions', 'summary', 'truncated', 'filter'):
        assert 'sample' in returns[key] or 'contains' in returns[key], key


def test_restore_point_info_documents_every_key_a_point_has():
    yaml.safe_load(restore_point_info.EXAMPLES)
    returns = yaml.safe_load(restore_point_info.RETURN)
    assert sorted(returns) == ['filter', 'points', 'summary', 'truncated']
    keys = set(['links'])
    for source in point_argument_spec()['type']['choices']:
        keys.update(sessions.normalise({}, sources.get(source).session_kind))
    assert sorted(returns['points']['contains']) == sorted(keys)
    assert sorted(returns['summary']['contains']) == sorted(sessions.summarise([], sessions.KINDS['vm_restore_point']))


def test_the_gate_module_documents_examples_and_returns_with_samples():
    yaml.safe_load(vm_protection_info.EXAMPLES)
    returns = yaml.safe_load(vm_protection_info.RETURN)
    assert sorted(returns) == ['collect', 'failed_vms', 'passed_vms', 'summary', 'vms']
    for key in ('passed_vms', 'failed_vms', 'summary', 'collect'):
        assert 'sample' in returns[key], key
    documented = returns['vms']['contains']
    assert sorted(documented) == ['code', 'passed', 'reason', 'requested_name', 'sources', 'vm_name']
    for code in verdict.CODES:
        assert 'C({0})'.format(code) in ' '.join(documented['code']['description']), code
    assert sorted(returns['summary']['sample']['by_code']) == sorted(verdict.CODES)
