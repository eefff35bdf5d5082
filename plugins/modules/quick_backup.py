#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, vbem.enterprise_manager contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: quick_backup
short_description: Take a Veeam Quick Backup of VMs through Enterprise Manager and wait for the new restore points
version_added: 0.3.0
description:
  - Takes an incremental Quick Backup of each VM in O(vms) through Veeam Backup Enterprise Manager (EM)
    (C(POST /api/backupServers/{ID}?action=quickbackup)), waits for it, and returns the new restore point of each VM.
    Use it right before a change, for the VMs the
    R(pre-change gate,ansible_collections.vbem.enterprise_manager.backup_gate_role) found without a recent backup.
  - Each VM's backup server, job and VmRef come from its newest backup task session in EM; a VM no backup job has
    processed cannot get a Quick Backup (EM adds the increment to the job's chain) and is reported C(failed), with
    whether EM's lookup service knows it at all.
  - EM runs one Quick Backup per job at a time, so the VMs of one job are backed up one after the other and up to
    O(concurrency) jobs in parallel. Every task is polled inside the same EM logon (EM shows a task only to the logon
    session that started it) until C(Finished), then followed to its job session, the VM's task session and the new
    restore point.
  - A VM is never backed up twice in one run, whether its name is given twice (in any case) or two names resolve to
    the same VM (same backup server and VmRef).
  - The task fails when any VM got no new restore point (status C(failed) or C(timeout)); the per-VM results come
    back with the failure.
author:
  - vbem.enterprise_manager contributors (@vbem)
options:
  max_age:
    description:
      - Skip a VM whose newest restore point is newer than this (a relative age such as V(4h) or V(1d), or an ISO-8601
        date-time); it is reported C(skipped), which makes the task idempotent.
      - A restore point dated after the time the task started does not count as fresh.
      - Not set, every VM is backed up.
    type: str
  wait:
    description:
      - Wait for each Quick Backup to finish and return its restore point.
      - With V(false) the last VM of each job is only started (status C(started)); the others of the same job are
        still waited for, because EM refuses a second Quick Backup in a job while one runs.
    type: bool
    default: true
  wait_timeout:
    description:
      - Seconds to wait for each Quick Backup to finish. A VM still running then is C(timeout); the VMs after it in
        the same job are not started and are C(timeout) too.
    type: int
    default: 3600
  poll_interval:
    description:
      - Seconds between two polls of a task.
    type: float
    default: 5.0
  concurrency:
    description:
      - How many jobs run Quick Backups at the same time (and how many VMs are looked up at once).
    type: int
    default: 4
extends_documentation_fragment:
  - vbem.enterprise_manager.vms
  - vbem.enterprise_manager.connection
  - vbem.enterprise_manager.attributes
attributes:
  check_mode:
    support: full
    details: Looks the VMs up and reports each as C(planned), C(skipped) or C(failed); sends no POST.
  diff_mode:
    support: none
    details: The new restore points are in the result; there is no before/after document to compare.
  action_group:
    support: full
    membership:
      - vbem.enterprise_manager.enterprise_manager
notes:
  - Every Quick Backup started is listed in RV(log) (shown with C(-v)).
  - A cancelled run (Ctrl-C, SIGTERM, an AWX cancel whose signal reaches the module) stops polling and logs off from
    EM; the Quick Backups already started keep running on their backup servers, and the message names them.
  - EM allows Quick Backup to accounts with the Portal Administrator or Portal User role; other accounts get HTTP 403,
    reported for each VM with that sentence.
  - C(changed) is true when at least one Quick Backup was started (whatever its outcome), and in check mode when one
    would be.
requirements:
  - requests >= 2.25
seealso:
  - module: vbem.enterprise_manager.vm_protection_info
  - module: vbem.enterprise_manager.job_start
  - ref: "Take a backup before the change <ansible_collections.vbem.enterprise_manager.docsite.backup_before_change>"
    description: The guide that combines the gate and this module.
'''

EXAMPLES = r'''
- name: Back up these VMs now, unless they have a restore point from the last 4 hours
  vbem.enterprise_manager.quick_backup:
    vms: [web-01, db-01]
    max_age: 4h
  register: backup

- name: Show the new restore points
  ansible.builtin.debug:
    msg: "{{ backup.vms | dict2items | map(attribute='value.restore_point.time') | list }}"

# Keys come back as given: here inventory host names, mapped to their VMs' names in EM.
- name: Back up two hosts' VMs, 8 jobs at a time, waiting up to 2 hours for each backup
  vbem.enterprise_manager.quick_backup:
    vms:
      web01.example.com: WEB-01
      app01.example.com: app-01
    concurrency: 8
    wait_timeout: 7200
  delegate_to: localhost
  run_once: true
  register: backup

- name: The new restore point of web01
  ansible.builtin.debug:
    msg: "{{ backup.vms['web01.example.com'].restore_point.uid }}"
'''

RETURN = r'''
vms:
  description: One result per requested VM, keyed as given (the dict's keys, or the names of a list).
  returned: always
  type: dict
  contains:
    name:
      description: The VM name as requested.
      type: str
      sample: web01
    status:
      description:
        - C(created) (a new restore point exists), C(skipped) (a restore point newer than O(max_age) exists),
          C(failed) (EM refused, the backup failed, or the VM cannot get a Quick Backup), C(timeout) (still running
          after O(wait_timeout), or not started because the job's previous VM still ran), C(started) (O(wait=false)),
          C(planned) (check mode).
      type: str
      sample: created
    message:
      description: EM's message for the task (C(Ok), the session's reason), EM's refusal, or why nothing was done.
      type: str
      sample: Ok
    job_name:
      description: The backup job whose chain got the increment.
      type: str
      sample: SQL Daily
    backup_server:
      description: The backup server that ran it.
      type: str
      sample: vbr01.example.com
    vm_ref:
      description: The VM's HierarchyObjRef.
      type: str
      sample: "urn:VMware:Vm:02bd0847-f522-4670-90eb-10312498809d.vm-80225"
    task_id:
      description: EM's task id (valid only inside the logon session that started it).
      type: str
      sample: task-3
    session_uid:
      description: UID of the backup job session of the Quick Backup.
      type: str
    result:
      description: The VM's task session Result (C(Success), C(Warning), C(Failed)).
      type: str
      sample: Success
    restore_point:
      description: The new restore point (C(uid), C(time) in UTC, C(vm_ref)), or V(null).
      type: dict
      sample: {uid: "urn:veeam:VmRestorePoint:aa70f96c-ead1-4a2c-acc1-a28c0ba1dfab", time: "2026-12-07T18:36:21Z",
               vm_ref: "urn:VMware:Vm:02bd0847-f522-4670-90eb-10312498809d.vm-80225"}
    previous_point:
      description: The newest restore point before this run, same keys, or V(null).
      type: dict
    same_as:
      description: For a second name of the same VM, the first name, whose result this repeats; else V(null).
      type: str
created_vms:
  description: Keys of the VMs with status C(created), in the order requested.
  returned: always
  type: list
  elements: str
skipped_vms:
  description: Keys of the VMs with status C(skipped).
  returned: always
  type: list
  elements: str
failed_vms:
  description: Keys of the VMs with status C(failed).
  returned: always
  type: list
  elements: str
timeout_vms:
  description: Keys of the VMs with status C(timeout).
  returned: always
  type: list
  elements: str
started_vms:
  description: Keys of the VMs with status C(started).
  returned: always
  type: list
  elements: str
planned_vms:
  description: Keys of the VMs with status C(planned) (check mode).
  returned: always
  type: list
  elements: str
summary:
  description: C(total), C(by_status) (every status, 0 when none) and C(backups_started) (Quick Backups sent to EM).
  returned: always
  type: dict
  sample: {total: 3, by_status: {created: 2, skipped: 1, failed: 0, timeout: 0, started: 0, planned: 0}, backups_started: 2}
log:
  description: One line per Quick Backup started, naming the VM, its job, its backup server and EM's task.
  returned: always
  type: list
  elements: str
  sample: ["Started a quick backup of VM 'web01' (job 'Web Daily', backup server vbr01.example.com): EM task task-1."]
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.vbem.enterprise_manager.plugins.module_utils.actions import quick_backup_argument_spec, run_quick_backup_module
from ansible_collections.vbem.enterprise_manager.plugins.module_utils.module_frame import exit_module


def main():
    """Argument spec, one quick backup run, exit_json: everything else lives in module_utils."""
    module = AnsibleModule(argument_spec=quick_backup_argument_spec(), supports_check_mode=True)
    exit_module(module, run_quick_backup_module(module))


if __name__ == '__main__':
    main()
