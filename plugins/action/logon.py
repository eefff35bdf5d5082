# -*- coding: utf-8 -*-
# Copyright (c) 2026, vbem.enterprise_manager contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Action plugin of the logon module: its result carries a live session token, so Ansible must never show it.

A module cannot mark its own result ``no_log`` (Ansible strips ``_ansible_*``
keys from module output), but an action plugin can: a result with
``_ansible_no_log`` is censored for every callback, at every verbosity, while
a registered variable still gets the whole result.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible.plugins.action import ActionBase


class ActionModule(ActionBase):
    """Run the logon module and hide a result that holds a token."""

    _supports_check_mode = True
    _supports_async = False

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        del tmp  # tmp no longer has any effect
        result.update(self._execute_module(module_name='vbem.enterprise_manager.logon', module_args=self._task.args,
                                           task_vars=task_vars))
        if result.get('session_token'):
            # Only a success carries the token; a failure's one sentence stays visible.
            result['_ansible_no_log'] = True
        return result
