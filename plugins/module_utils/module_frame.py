# -*- coding: utf-8 -*-
# Copyright (c) 2026, vbem.enterprise_manager contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The frame every module runs in: ``run_with_client``, ``run_client_module`` and ``exit_module``.

``run_with_client`` builds the one client from the module's options, runs the
module's work and turns an ``EmError`` into ``fail_json`` with one sentence
(the client's notes shown first). ``run_client_module`` wraps that work in one
EM logon, logged off on every path, with the checks that need no EM run
before it. ``exit_module`` hands the result to Ansible.

``AnsibleModule.exit_json`` passes the whole result through
``remove_values``, which masks every value of a ``no_log`` option (the
password, a session token) wherever it occurs. It does so by copying the
result, value by value, in Python: for 10,000 sessions that copy took more
CPU than reading them from EM (0.7 s against 0.5 s), and it doubles the
module's memory at the moment the result is largest.

``exit_module`` first looks for every ``no_log`` value in the result's JSON
text, one C-level substring search each. When none occurs anywhere, masking
could change nothing, and the result's keys are handed over as they are;
everything Ansible adds itself (``invocation``, which holds the module's
parameters and so the password, warnings) is still masked by
``remove_values``. When a ``no_log`` value does occur, or the result holds a
value JSON cannot show as it is (bytes, a datetime, NaN), Ansible masks the
whole result as usual.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json

from ansible_collections.vbem.enterprise_manager.plugins.module_utils.errors import EmError
from ansible_collections.vbem.enterprise_manager.plugins.module_utils.options import EmOptionAdapter


class _NotPlainJson(Exception):
    """A value json.dumps would have to convert: Ansible's own masking handles it."""


def _refuse(value):
    raise _NotPlainJson(type(value).__name__)


def no_log_value_occurs(value, no_log_values):
    """True unless ``value`` is plain JSON in which no ``no_log`` value occurs (as a whole or as a substring).

    ``remove_values`` masks strings equal to or containing a no_log value and
    numbers whose text contains one; its keys it leaves alone. JSON escaping
    maps each character on its own, so a string contains a value exactly when
    its JSON form contains the value's JSON form, and a number's JSON text is
    Python's ``str`` of it: one search of the JSON text finds every value
    ``remove_values`` would mask (and also keys, which only errs on the side
    of masking).
    """
    secrets = list(no_log_values)
    if not secrets:
        return False
    if any(not isinstance(s, str) or not s for s in secrets):
        return True
    try:
        text = json.dumps(value, ensure_ascii=False, allow_nan=False, default=_refuse)
    except (_NotPlainJson, TypeError, ValueError, RecursionError):
        return True
    for secret in secrets:
        if secret in text or json.dumps(secret, ensure_ascii=False)[1:-1] in text:
            return True
    return False


def exit_module(module, result):
    """``module.exit_json(**result)``, without the value-by-value copy when masking could change nothing."""
    if no_log_value_occurs(result, module.no_log_values):
        module.exit_json(**result)
    from ansible.module_utils import basic

    remove_values = basic.remove_values

    def remove_values_except_checked(value, no_log_strings):
        # The result's own keys, still the very objects checked above, pass as they are; the rest
        # (invocation with the module's parameters, warnings, deprecations) is masked by Ansible.
        if not isinstance(value, dict):
            return remove_values(value, no_log_strings)
        kept = dict((key, item) for key, item in value.items() if key in result and result[key] is item)
        masked = remove_values(dict((key, item) for key, item in value.items() if key not in kept), no_log_strings)
        masked.update(kept)
        return masked

    basic.remove_values = remove_values_except_checked
    try:
        module.exit_json(**result)
    finally:
        basic.remove_values = remove_values


def run_with_client(module, work, adapter=None):
    """The frame every module runs its EM work in: the requests check, one sentence on failure, warnings.

    ``work(client)`` gets a client built from ``adapter`` (default: the
    module's params), not yet logged on, and returns the result dict (its
    optional ``warnings`` list is shown as warnings). EmError becomes
    fail_json with the client's notes shown first. Returns the result;
    ``changed`` is what the work said (a bool), ``False`` when it said nothing.
    """
    # Imported here so the pure helpers stay importable without requests.
    from ansible.module_utils.basic import missing_required_lib
    from ansible_collections.vbem.enterprise_manager.plugins.module_utils.client import HAS_REQUESTS, REQUESTS_IMPORT_ERROR, get_client

    if not HAS_REQUESTS:
        module.fail_json(msg=missing_required_lib('requests'), exception=REQUESTS_IMPORT_ERROR)
    client = None
    try:
        client = get_client(adapter or EmOptionAdapter.from_module(module))
        result = work(client)
    except EmError as exc:
        for warning in (client.warnings if client else []):
            module.warn(warning)
        module.fail_json(msg=str(exc))
    for warning in client.warnings + result.pop('warnings', []):
        module.warn(warning)
    result['changed'] = bool(result.get('changed', False))
    return result


def run_client_module(module, plan, run):
    """A module's work around one EM logon, logged off on every path.

    ``plan(client)`` checks the input and prepares the work without talking to
    EM (it runs before logging on); ``run(client, planned)`` does the work
    with the logged-on client and returns the result dict (with ``changed``
    when it changed something).
    """
    def work(client):
        planned = plan(client)
        with client:
            return run(client, planned)
    return run_with_client(module, work)
