#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, vbem.enterprise_manager contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: job_start
short_description: Start a Veeam backup or replica job through Enterprise Manager and wait for its session
version_added: 0.3.0
description:
  - Starts one job through Veeam Backup Enterprise Manager (EM) (C(POST /api/jobs/{ID}?action=start)), follows EM's
    task to the job session it started and, with O(wait), polls that session until it stopped; returns its Result and
    its task sessions.
  - The task and the session are polled inside the same EM logon (EM shows a task only to the logon session that
    started it).
  - The task fails when the job session ends C(Failed) or does not end within O(wait_timeout); the result comes back
    with the failure.
author:
  - vbem.enterprise_manager contributors (@vbem)
options:
  job:
    description:
      - The job, by its name in EM (matched case-insensitively; a name shared by jobs on several backup servers is
        refused, give the UID then) or by its UID (C(urn:veeam:Job:<GUID>) or the bare GUID).
    type: str
    required: true
  wait:
    description:
      - Wait until the job session stopped. With V(false) the module returns once EM reported the job triggered.
    type: bool
    default: true
  wait_timeout:
    description:
      - Seconds to wait, for EM's task and then the job session together.
    type: int
    default: 3600
  poll_interval:
    description:
      - Seconds between two polls.
    type: float
    default: 5.0
extends_documentation_fragment:
  - vbem.enterprise_manager.connection
  - vbem.enterprise_manager.attributes
attributes:
  check_mode:
    support: full
    details: Finds the job and reports that it would start it; sends no POST.
  diff_mode:
    support: none
    details: The job session is in the result; there is no before/after document to compare.
  action_group:
    support: full
    membership:
      - vbem.enterprise_manager.enterprise_manager
notes:
  - EM lets only accounts with the Portal Administrator role start jobs; any other account gets HTTP 403, and the task
    fails with a sentence saying so.
  - EM refuses to start a job that is running (HTTP 409); the task fails with EM's message.
  - A cancelled run (Ctrl-C, SIGTERM) stops polling and logs off from EM; the job keeps running on its backup server.
  - C(changed) is true when the job was started, and in check mode.
requirements:
  - requests >= 2.25
seealso:
  - module: vbem.enterprise_manager.quick_backup
  - module: vbem.enterprise_manager.job_session_info
'''

EXAMPLES = r'''
- name: Run the Web Farm job now and wait for it
  vbem.enterprise_manager.job_start:
    job: Web Farm
    wait_timeout: 7200
  register: run

- name: Show each VM's result
  ansible.builtin.debug:
    msg: "{{ run.session.task_sessions | map(attribute='result') | list }}"

- name: Start the same job again, by its UID, without waiting
  vbem.enterprise_manager.job_start:
    job: "{{ run.job.uid }}"
    wait: false
'''

RETURN = r'''
job:
  description: The job started (C(name), C(uid), C(type), C(backup_server)).
  returned: always
  type: dict
  sample: {name: SQL Daily, uid: "urn:veeam:Job:a65ed389-b74d-4fb1-b2e7-06298fadc1a6", type: Backup, backup_server: vbr01.example.com}
status:
  description:
    - C(created) (the session stopped with Success or Warning), C(failed) (EM's task failed or the session Failed),
      C(timeout), C(started) (O(wait=false)) or C(planned) (check mode).
  returned: always
  type: str
  sample: created
message:
  description: EM's task message (C(Job "SQL Daily" triggered to start.)) or why nothing more is known.
  returned: always
  type: str
task_id:
  description: EM's task id (valid only inside the logon session that started it); V(null) in check mode.
  returned: always
  type: str
  sample: task-1
session:
  description:
    - The job session (C(uid), C(name), C(state), C(result), C(creation_time), C(end_time), C(failure_message)) and
      its C(task_sessions) (C(vm_name), C(uid), C(state), C(result), C(reason), C(end_time)); V(null) in check mode.
  returned: always
  type: dict
log:
  description: One line naming the job started and EM's task.
  returned: always
  type: list
  elements: str
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.vbem.enterprise_manager.plugins.module_utils.actions import job_start_argument_spec, run_job_start_module
from ansible_collections.vbem.enterprise_manager.plugins.module_utils.module_frame import exit_module


def main():
    """Argument spec, one job start, exit_json: everything else lives in module_utils."""
    module = AnsibleModule(argument_spec=job_start_argument_spec(), supports_check_mode=True)
    exit_module(module, run_job_start_module(module))


if __name__ == '__main__':
    main()
