# -*- coding: utf-8 -*-
# Copyright (c) 2026, vbem.enterprise_manager contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""exit_module: the same output as exit_json, secrets masked exactly as before, without the copy when none occurs."""

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

from ansible_collections.vbem.enterprise_manager.plugins.module_utils.module_frame import exit_module, no_log_value_occurs

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
