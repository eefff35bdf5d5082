#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, vbem.enterprise_manager contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: backup_gate_batch
short_description: Judge a play batch for the backup_gate role (the role's own step)
version_added: 0.3.0
description:
  - The judging step of the role R(vbem.enterprise_manager.backup_gate,ansible_collections.vbem.enterprise_manager.backup_gate_role),
    which calls it once per play batch (C(run_once)). It runs only inside that role; use the role, or
    M(vbem.enterprise_manager.vm_protection_info) for your own gate.
  - An action that runs on the controller and never connects to a host. It reads the role's variables (the list in the
    role's C(meta/argument_specs.yml)) and each batch host's inventory values, refuses an unknown C(backup_gate_*)
    variable, a C(backup_gate_vm_name) given for the play, and a policy that differs between the hosts of the batch,
    all before Enterprise Manager (EM) is asked.
  - It then judges every host's VM with the code of M(vbem.enterprise_manager.vm_protection_info), in one EM logon,
    with the connection that module would get - C(module_defaults) for it or for
    C(group/vbem.enterprise_manager.enterprise_manager), the task's C(environment), and the C(VEEAM_EM_*) environment
    variables.
  - While it waits for running sessions (C(backup_gate_running=wait)) the job log names the VMs it waits for and
    the deadline, shows progress at least once a minute, and says how the wait ended.
  - It never fails. When the batch cannot be judged, the error is returned as data, and the role's last task fails
    every host with it.
options: {}
author:
  - vbem.enterprise_manager contributors (@vbem)
extends_documentation_fragment:
  - vbem.enterprise_manager.attributes
attributes:
  check_mode:
    support: full
    details: It only reads from Enterprise Manager.
  diff_mode:
    support: N/A
    details: It only reads from Enterprise Manager.
  action_group:
    support: none
    membership: []
    details: Its connection comes from the C(module_defaults) of M(vbem.enterprise_manager.vm_protection_info) and its group.
notes:
  - Runs as an action plugin on the controller; this file documents it.
seealso:
  - module: vbem.enterprise_manager.vm_protection_info
'''

EXAMPLES = r'''
# The role runs this action once per play batch; a playbook uses the role.
- name: Gate this play's hosts, report only
  ansible.builtin.include_role:
    name: vbem.enterprise_manager.backup_gate
  vars:
    backup_gate_max_age: 36h
    backup_gate_fail: none
'''

RETURN = r'''
hosts:
  description:
    - One C(ansible.builtin.add_host) item per host of the batch - C(name), C(groups) (C(backup_gate_passed) or
      C(backup_gate_failed)) and C(backup_gate_result), the host's verdict.
  returned: always
  type: list
  elements: dict
  sample:
    - name: web01
      groups: backup_gate_passed
      backup_gate_result: {vm_name: web-01, requested_name: web-01, passed: true, code: passed,
                           reason: 'Success at 2026-11-29 21:40 UTC in job Web Farm', sources: {}}
summary:
  description:
    - The batch's summary, which the role publishes as C(backup_gate_summary). C(by_code) holds every code of
      M(vbem.enterprise_manager.vm_protection_info) and C(not_judged), with 0 when no host got it; C(error) is the
      sentence that stopped the batch, or null.
    - With C(backup_gate_remediate=quick_backup) also C(remediation) - C(hosts) (those a quick backup could fix),
      C(backed_up), C(passed_after), C(not_fixed) and C(check_mode).
  returned: always
  type: dict
  sample:
    total: 2
    passed: 1
    failed: 1
    by_code: {passed: 1, failed_result: 1, not_judged: 0}
    passed_hosts: [web01]
    failed_hosts: [db01]
    error: null
lines:
  description: The summary as the role shows it - the count and the policy, then each host that did not pass with its reason.
  returned: always
  type: list
  elements: str
  sample: ['Backup gate: 1 of 2 hosts passed (backup: Success within 24h)', 'FAILED db01 (VM db-01): Failed at ...']
failing:
  description: The hosts the role's last task fails, as C(backup_gate_fail) says.
  returned: always
  type: list
  elements: str
  sample: [db01]
messages:
  description: The failure message of each host in RV(failing).
  returned: always
  type: dict
  sample: {db01: 'Backup gate: db01 (VM db-01) did not pass: Failed at ...'}
'''

from ansible.module_utils.basic import AnsibleModule


def main():
    """Reached only when the action plugin is bypassed: say where the work happens."""
    module = AnsibleModule(argument_spec={}, supports_check_mode=True)
    module.fail_json(msg='backup_gate_batch runs as an action on the controller, inside the role vbem.enterprise_manager.backup_gate.')


if __name__ == '__main__':
    main()
