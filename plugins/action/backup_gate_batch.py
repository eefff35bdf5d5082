# -*- coding: utf-8 -*-
# Copyright (c) 2026, vbem.enterprise_manager contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The backup_gate role's one judging step: the whole play batch, on the controller, in one EM logon.

It reads the role's variables and every batch host's inventory values,
checks them, runs the gate (``module_utils.gate``, the gate module's own
code) in this process with the connection the gate module would get
(``module_defaults``, the task's ``environment``, ``VEEAM_EM_*``), shows the
wait for running sessions in the job log, and returns what the role's other
tasks need (``plugin_utils.gate_batch``). It never connects to a host, and
never fails: an error is data, so that every host fails with it in the
role's last task instead of vanishing behind a failed ``run_once`` task.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os
import time
from datetime import timedelta

import yaml

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.plugins.action import ActionBase
from ansible.utils.display import Display

from ansible_collections.vbem.enterprise_manager.plugins.module_utils import actions, gate, query
from ansible_collections.vbem.enterprise_manager.plugins.module_utils.errors import EmError
from ansible_collections.vbem.enterprise_manager.plugins.module_utils.options import EmOptionAdapter
from ansible_collections.vbem.enterprise_manager.plugins.plugin_utils import gate_batch

try:  # ansible-core 2.19 and later
    from ansible.executor.module_common import _apply_action_arg_defaults
    get_action_args_with_defaults = None
except ImportError:  # ansible-core 2.16 to 2.18
    from ansible.executor.module_common import get_action_args_with_defaults
    _apply_action_arg_defaults = None

display = Display()

GATE_MODULE = 'vbem.enterprise_manager.vm_protection_info'
_SPECS = {}


def _role_specs(role_path):
    """The role's parsed meta/argument_specs.yml (read once per process)."""
    if role_path not in _SPECS:
        with open(os.path.join(role_path, 'meta', 'argument_specs.yml')) as handle:
            _SPECS[role_path] = yaml.safe_load(handle)
    return _SPECS[role_path]


def _first_line(exc):
    """The first line of an exception's message (or its type), for one sentence."""
    lines = str(exc).strip().splitlines()
    return lines[0].rstrip('.') if lines else type(exc).__name__


class _Environment(object):
    """The task's ``environment`` in ``os.environ`` while the gate reads its connection (this worker is the task's own process)."""

    def __init__(self, values):
        self._values = dict((str(k), str(v)) for k, v in values.items())
        self._saved = {}

    def __enter__(self):
        for key, value in self._values.items():
            self._saved[key] = os.environ.get(key)
            os.environ[key] = value
        return self

    def __exit__(self, *exc):
        for key, value in self._saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        return False


class ActionModule(ActionBase):
    """Judge the play batch for the backup_gate role."""

    TRANSFERS_FILES = False
    _supports_check_mode = True
    _supports_async = False
    _requires_connection = False

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        del tmp  # tmp no longer has any effect
        task_vars = task_vars or {}
        role = getattr(self._task, '_role', None)
        if role is None or not role.get_name().endswith('backup_gate'):
            result.update(failed=True, msg='backup_gate_batch runs only inside the role vbem.enterprise_manager.backup_gate.')
            return result
        names, defaults = gate_batch.role_variables(_role_specs(role.get_role_path()))
        this_host = task_vars['inventory_hostname']
        batch = list(task_vars.get('ansible_play_batch') or [this_host])
        given = [name for name in task_vars if name.startswith(gate_batch.PREFIX)]
        try:
            effective = dict((name, self._templar.template(task_vars[name])) for name in names if name in task_vars)
            host_values = self._host_values(task_vars['hostvars'], batch, names)
        except Exception as exc:  # pylint: disable=broad-except
            # A variable that cannot be templated (an undefined name in it): every host fails with the reason.
            effective, host_values = {}, {}
            error = "the backup_gate role's variables could not be read: {0}".format(_first_line(exc))
        else:
            error = gate_batch.batch_problem(names, defaults, given, this_host, effective, host_values)
        vms = gate_batch.batch_vms(batch, host_values)
        options = gate_batch.module_options(names, gate.argument_spec())
        policy = dict((option, effective.get(name, defaults.get(name))) for name, option in options.items())
        report = remediation = None
        remediate = effective.get('backup_gate_remediate', defaults.get('backup_gate_remediate'))
        if error is None:
            report, error, remediation = self._judge(
                vms, dict((k, v) for k, v in policy.items() if v is not None), task_vars, remediate,
                effective.get('backup_gate_remediate_timeout', defaults.get('backup_gate_remediate_timeout')))

        groups = task_vars.get('groups') or {}
        implicit = None
        if 'localhost' in vms and 'localhost' not in (groups.get('all') or []):
            implicit = {'ansible_connection': 'local', 'ansible_python_interpreter': task_vars.get('ansible_playbook_python')}
        result.update(gate_batch.batch_outcome(
            vms, report, error, policy, effective.get('backup_gate_fail', defaults.get('backup_gate_fail')),
            earlier_passed=groups.get(gate_batch.PASSED_GROUP) or [], implicit_localhost=implicit, remediation=remediation))
        # A quick backup changed the backup infrastructure (in check mode: would have).
        result['changed'] = bool(remediation and (remediation['backed_up'] or (remediation['check_mode'] and remediation['hosts'])))
        return result

    @staticmethod
    def _host_values(hostvars, batch, names):
        """Per batch host, the role's variables its inventory sets (hostvars: inventory, facts and extra vars)."""
        values = {}
        for host in batch:
            host_vars = hostvars[host]
            values[host] = dict((name, host_vars[name]) for name in names if name in host_vars)
        return values

    def _module_defaults(self):
        """The gate module's module_defaults (its own and its action group's), templated."""
        if _apply_action_arg_defaults is not None:
            return _apply_action_arg_defaults(GATE_MODULE, self._task, {}, self._templar)
        return get_action_args_with_defaults(GATE_MODULE, {}, self._task.module_defaults, self._templar,
                                             action_groups=self._task._parent._play._action_groups)

    def _environment(self):
        """The task's ``environment`` keyword, templated and merged as Ansible merges it for a module."""
        merged = {}
        environments = self._task.environment or []
        for environment in environments if isinstance(environments, list) else [environments]:
            if environment:
                merged.update(self._templar.template(environment))
        return merged

    def _judge(self, vms, policy, task_vars, remediate=None, remediate_timeout=None):
        """``(report, None, remediation)`` from the gate over ``vms``, or ``(None, one sentence, None)``.

        With ``remediate`` ``quick_backup`` the hosts a backup can fix get a
        quick backup and are judged again, in a second logon; ``remediation``
        says what was done (None when nothing was asked).
        """
        try:
            params = self._module_defaults()
            params.update(policy)
            params['vms'] = vms
            with _Environment(self._environment()):
                checked = ArgumentSpecValidator(gate.argument_spec()).validate(params)
            if checked.error_messages:
                return None, '{0}: {1}.'.format(GATE_MODULE, '; '.join(checked.error_messages).rstrip('.')), None
            params = checked.validated_parameters
            from ansible_collections.vbem.enterprise_manager.plugins.module_utils.client import get_client
            client = get_client(EmOptionAdapter.from_dict(params))
            plan = gate.plan_protection(client, vms, params, check_mode=bool(self._play_context.check_mode))
            deadline = (query.utcnow() + timedelta(seconds=plan['policy'].wait_timeout)).strftime('%H:%M UTC')
            reporter = gate_batch.WaitReporter(display.display, time.monotonic, plan['policy'].sources,
                                               plan['wait_sleep'], deadline_text=deadline)
            try:
                with client:
                    report = gate.protection_report(client, plan, progress=reporter)
                # Every request that makes EM do something shows in the log (backup_gate_collect).
                for line in (report.get('collect') or {}).get('log', []):
                    display.display('Backup gate: ' + line)
            finally:
                for warning in client.warnings:
                    display.warning(warning)
            remediation = None
            if remediate == 'quick_backup':
                remediation = self._remediate(vms, report, params, remediate_timeout)
            return report, None, remediation
        except EmError as exc:
            return None, str(exc), None
        except Exception as exc:  # pylint: disable=broad-except
            # Whatever went wrong, every host must still fail with a reason: never a silent run_once failure.
            return None, 'the gate stopped on an unexpected {0}: {1}.'.format(type(exc).__name__, _first_line(exc)), None

    def _remediate(self, vms, report, params, timeout):
        """Quick backups of the hosts a backup can fix, then their second judgement, in one logon; folded into ``report``."""
        from ansible_collections.vbem.enterprise_manager.plugins.module_utils.client import get_client
        hosts = gate_batch.remediation_hosts(vms, report)
        if not hosts:
            return gate_batch.merge_remediation(report, [], None, None)
        check_mode = bool(self._play_context.check_mode)
        targets = dict((host, vms[host]) for host in hosts)
        plan = actions.plan_quick_backup({'vms': targets, 'wait_timeout': timeout, 'poll_interval': params.get('wait_sleep')})
        display.display('Backup gate: quick backup of {0} host{1} ({2}){3}.'.format(
            len(hosts), '' if len(hosts) == 1 else 's', ', '.join(hosts[:5]) + (', ...' if len(hosts) > 5 else ''),
            ' in check mode, nothing is sent' if check_mode else ''))
        client = get_client(EmOptionAdapter.from_dict(params))
        rejudged = None
        try:
            with client:
                backup = actions.run_quick_backup(client, plan, check_mode)
                for line in backup['log']:
                    display.v(line)
                created = dict((host, vms[host]) for host in hosts if backup['vms'][host]['status'] == 'created')
                if created:
                    # The quick backups' tasks finished once EM had collected them: no second collection.
                    again = gate.plan_protection(client, created, dict(params, collect=False))
                    rejudged = gate.protection_report(client, again)
        finally:
            for warning in client.warnings:
                display.warning(warning)
        return gate_batch.merge_remediation(report, hosts, backup, rejudged, check_mode)
