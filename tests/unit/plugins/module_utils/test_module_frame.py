# -*- coding: utf-8 -*-
# Copyright (c) 2026, vbem.enterprise_manager contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The module frame.

exit_module: exit_json's output without its copy; run_with_client and
run_client_module: changed kept, one logon after the checks, logged off on every path.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import contextlib
import datetime
import io
import json
import sys

import pytest

from ansible.module_utils import basic
from ansible.module_utils.basic import AnsibleModule

from ansible_collections.vbem.enterprise_manager.plugins.module_utils.errors import EmError
from ansible_collections.vbem.enterprise_manager.plugins.module_utils.module_frame import exit_module, no_log_value_occurs, run_client_module, run_with_client

SECRET = 'Pa55w0rd!'


@contextlib.contextmanager
def module_args(args):
    """Set a module's parameters the way every supported ansible-core reads them."""
    try:
        from ansible.module_utils.testing import patch_module_args  # ansible-core 2.19 and later
    except ImportError:
        patch_module_args = None
    if patch_module_args is not None:
        with patch_module_args(args):
            yield
        return
    from ansible.module_utils.common.text.converters import to_bytes
    saved = basic._ANSIBLE_ARGS
    basic._ANSIBLE_ARGS = to_bytes(json.dumps({'ANSIBLE_MODULE_ARGS': args}))
    try:
        yield
    finally:
        basic._ANSIBLE_ARGS = saved


def run_exit(exit_function, result, password=SECRET):
    """Build a module with a no_log password, exit through ``exit_function``; return the parsed output."""
    with module_args({'password': password, 'name': 'x'}):
        module = AnsibleModule(argument_spec=dict(password=dict(type='str', no_log=True), name=dict(type='str')))
        output = io.StringIO()
        saved, sys.stdout = sys.stdout, output
        try:
            with pytest.raises(SystemExit):
                exit_function(module, result)
        finally:
            sys.stdout = saved
    return json.loads(output.getvalue())


def plain_exit(module, result):
    module.exit_json(**result)


def sessions(*values):
    return [{'vm_name': value, 'result': 'Success', 'total_size': 10, 'duration_seconds': 1.5, 'reason': None} for value in values]


@pytest.mark.parametrize('result', [
    dict(sessions=sessions('vm1', 'vm2'), summary={'total': 2}),
    dict(sessions=sessions('vm-' + SECRET), summary={'total': 1}),           # a substring: masked with ********
    dict(sessions=sessions(SECRET), summary={'total': 1}),                   # the whole value
    dict(sessions=[{'total_size': 123}], note='x'),                          # numbers whose text is a secret
    dict(sessions=sessions(u'ünïcødé "quoted" \\ back\nline')),             # escaping
    dict(nested={'a': [{'b': ['c', SECRET + 'tail']}]}),
    dict(empty=[], none=None, flag=True),
])
def test_output_is_exactly_exit_json_s(result):
    assert run_exit(exit_module, result) == run_exit(plain_exit, result)


@pytest.mark.parametrize('password', ['123', '1.5', 'Success', 'vm', u'ünï', '"', '\\', 'a"b'])
def test_masking_matches_exit_json_for_awkward_secrets(password):
    result = dict(sessions=sessions('vm1', u'ünïcødé "q" \\', 'a"b') + [{'total_size': 1234, 'duration_seconds': 1.5}])
    assert run_exit(exit_module, result, password) == run_exit(plain_exit, result, password)


def test_the_password_never_shows():
    output = run_exit(exit_module, dict(sessions=sessions('vm1')))
    assert SECRET not in json.dumps(output)
    if 'invocation' in output:  # the module's parameters, added by ansible-core before 2.21
        assert output['invocation']['module_args']['password'] == 'VALUE_SPECIFIED_IN_NO_LOG_PARAMETER'


def test_a_secret_in_the_result_is_masked():
    output = run_exit(exit_module, dict(sessions=sessions('vm-' + SECRET)))
    assert output['sessions'][0]['vm_name'] == 'vm-********'


def test_remove_values_is_restored():
    original = basic.remove_values
    run_exit(exit_module, dict(sessions=sessions('vm1')))
    assert basic.remove_values is original


@pytest.mark.parametrize('value, secrets, expected', [
    ({'a': 'b'}, set(), False),
    ({'a': 'b'}, {'zz'}, False),
    ({'a': 'xzzx'}, {'zz'}, True),
    ({'zz': 'b'}, {'zz'}, True),                                  # keys: masked by nobody, but found: errs on the safe side
    ({'a': 1234}, {'23'}, True),
    ({'a': 1.5}, {'1.5'}, True),
    ({'a': True}, {'true'}, True),
    ({'a': 'q"uote'}, {'q"u'}, True),
    ({'a': u'ünï'}, {u'ün'}, True),
    ({'a': 'back\\slash'}, {'k\\s'}, True),
    ({'a': 'line\nbreak'}, {'e\nb'}, True),
    ({'a': b'bytes'}, {'zz'}, True),                              # not plain JSON: Ansible decides
    ({'a': datetime.datetime(2026, 1, 1)}, {'zz'}, True),
    ({'a': float('nan')}, {'zz'}, True),
    ({'a': {1, 2}}, {'zz'}, True),
    ({'a': 'b'}, {''}, True),
    ({'a': 'b'}, {b'zz'}, True),
])
def test_no_log_value_occurs(value, secrets, expected):
    assert no_log_value_occurs(value, secrets) is expected


# -- run_with_client / run_client_module against the emulator, over real HTTPS ---------------------------

class RecordingModule(object):
    """What the frame uses of AnsibleModule: params, warn, fail_json (which ends the run, as Ansible's does)."""

    class Failed(Exception):
        pass

    def __init__(self, params):
        self.params = params
        self.warnings = []

    def warn(self, warning):
        self.warnings.append(warning)

    def fail_json(self, **kwargs):
        raise self.Failed(kwargs)


@pytest.fixture
def em_module():
    from ansible_collections.vbem.enterprise_manager.plugins.module_utils.client import HAS_REQUESTS
    if not HAS_REQUESTS:
        pytest.skip('requests is not installed')
    from ansible_collections.vbem.enterprise_manager.tests.unit.plugins.module_utils import test_client
    from ansible_collections.vbem.enterprise_manager.plugins.module_utils.options import connection_argument_spec
    emulator = test_client._emulator()
    emulator.control('reset', {})
    params = dict((name, spec.get('default')) for name, spec in connection_argument_spec().items())
    params.update(emulator.options())
    return emulator, RecordingModule(params)


def logons(emulator):
    stats = emulator.stats()
    return stats['logons'], stats['logoffs'], stats['active_sessions']


@pytest.mark.parametrize('said, changed', [({}, False), ({'changed': False}, False), ({'changed': True}, True), ({'changed': 1}, True)])
def test_the_frame_keeps_the_changed_the_work_returns(em_module, said, changed):
    emulator, module = em_module
    result = run_client_module(module, lambda client: 'planned', lambda client, planned: dict(said, planned=planned))
    assert result == {'planned': 'planned', 'changed': changed}
    assert logons(emulator) == (1, 1, 0)


def test_the_plan_runs_before_logon_and_the_work_after(em_module):
    emulator, module = em_module
    seen = []
    run_client_module(module, lambda client: seen.append(('plan', logons(emulator))),
                      lambda client, planned: seen.append(('run', logons(emulator))) or {})
    assert seen == [('plan', (0, 0, 0)), ('run', (1, 0, 1))]


def test_bad_input_fails_in_one_sentence_before_any_logon(em_module):
    emulator, module = em_module

    def plan(client):
        raise EmError('vms must hold names, not 3.')

    with pytest.raises(RecordingModule.Failed) as failed:
        run_client_module(module, plan, lambda client, planned: {})
    assert failed.value.args[0] == {'msg': 'vms must hold names, not 3.'}
    assert logons(emulator) == (0, 0, 0)


def test_a_failing_run_fails_the_module_and_is_logged_off(em_module):
    emulator, module = em_module

    def run(client, planned):
        raise EmError('EM has no job named \'x\'.')

    with pytest.raises(RecordingModule.Failed) as failed:
        run_client_module(module, lambda client: None, run)
    assert failed.value.args[0] == {'msg': 'EM has no job named \'x\'.'}
    assert logons(emulator) == (1, 1, 0)


def test_the_work_s_warnings_become_module_warnings(em_module):
    emulator, module = em_module
    result = run_with_client(module, lambda client: {'items': [], 'warnings': ['cut at 1000']})
    assert result == {'items': [], 'changed': False} and module.warnings == ['cut at 1000']
    assert logons(emulator) == (0, 0, 0)
