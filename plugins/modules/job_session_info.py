#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, vbem.enterprise_manager contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: job_session_info
short_description: Read backup, replication or CDP job sessions from Veeam Backup Enterprise Manager
version_added: 0.1.0
description:
  - Returns job sessions (one per job run) from the Veeam Backup Enterprise Manager (EM) REST API, through the EM Query
    Service (C(type=BackupJobSession), C(ReplicaJobSession) or C(CdpReplicaSession)) or, with O(id), from the session's
    entity URL (C(/backupSessions/{id}), C(/replicaSessions/{id}), C(/cdpReplicaSessions/{id})).
  - Backup copy, agent and file share (NAS) job runs are backup job sessions too; tell them apart with RV(sessions[].job_type).
  - Filters are sent to EM, pages are fetched until O(limit) is reached, and the result carries a RV(summary) by result
    and state so that a playbook can gate on it with one assert.
  - This module never changes anything on EM and supports check mode.
author:
  - vbem.enterprise_manager contributors (@vbem)
options:
  type:
    description:
      - Which job sessions to read. For V(cdp) the job is the CDP policy and a session covers 24 hours.
    type: str
    required: true
    choices: [backup, cdp, replica]
  state:
    description:
      - Only sessions in one of these states.
    type: list
    elements: str
    choices: [Starting, Stopping, Working, Pausing, Resuming, Stopped]
  sort:
    description:
      - Field to sort by, in the order given by O(order).
    type: str
    choices: [creation_time, end_time, name, job_name, state, result]
    default: creation_time
  latest_per_job:
    description:
      - Keep only the newest session of each job. O(limit) then counts jobs.
      - EM is asked for newest first, but the newest session is found by comparing creation times, whatever order EM
        answers in. O(sort) and O(order) then order the kept sessions.
      - Newest, then filter - O(result) and O(state) judge each job's newest session, they do not pick it. With
        O(result=Success) a job whose last run failed is left out, never returned with an older success.
      - A job is its C(JobUid) where EM sends one, else its name exactly as EM spells it.
    type: bool
    default: false
extends_documentation_fragment:
  - vbem.enterprise_manager.attributes
  - vbem.enterprise_manager.attributes.info_module
  - vbem.enterprise_manager.connection
  - vbem.enterprise_manager.query
  - vbem.enterprise_manager.query.sessions
  - vbem.enterprise_manager.query.entity
  - vbem.enterprise_manager.query.wait
seealso:
  - module: vbem.enterprise_manager.backup_task_session_info
  - module: vbem.enterprise_manager.replica_task_session_info
  - module: vbem.enterprise_manager.cdp_task_session_info
  - plugin: vbem.enterprise_manager.em_query
    plugin_type: lookup
'''

EXAMPLES = r'''
- name: Last run of every backup job (connection from VEEAM_EM_* env vars)
  vbem.enterprise_manager.job_session_info:
    type: backup
    created_after: 7d
    latest_per_job: true
  register: last_runs

- name: Fail when any job's last run failed
  ansible.builtin.assert:
    that: last_runs.summary.by_result.Failed == 0

- name: Wait for the running replication of one job to finish
  vbem.enterprise_manager.job_session_info:
    url: https://em.example.com:9398
    username: "{{ em_user }}"
    password: "{{ em_password }}"
    type: replica
    job_name: Replication Job 2
    state: [Starting, Working]
    wait: true
    wait_timeout: 3600

- name: Backup copy sessions only, through a raw EM filter
  vbem.enterprise_manager.job_session_info:
    type: backup
    filter: JobType==BackupCopy
    limit: 50
'''

RETURN = r'''
sessions:
  description: The matching job sessions, newest first unless O(sort) and O(order) say otherwise.
  returned: always
  type: list
  elements: dict
  contains:
    uid:
      description: EM UID of the session.
      type: str
      sample: urn:veeam:BackupJobSession:1f038a6b-7968-4052-be97-3ed6b7aaf6a3
    id:
      description: GUID part of the UID, as used in EM URLs.
      type: str
      sample: 1f038a6b-7968-4052-be97-3ed6b7aaf6a3
    name:
      description: Session name, C(<job>@<start time>).
      type: str
      sample: Backup Job 2@2025-08-15 20:00:24.003406
    type:
      description: EM entity type.
      type: str
      sample: BackupJobSession
    job_name:
      description: Name of the job (the CDP policy for V(cdp)).
      type: str
      sample: Backup Job 2
    job_uid:
      description: UID of the job (the CDP policy for V(cdp)).
      type: str
      sample: urn:veeam:Job:0a6262a1-8add-49c5-85ea-0b1ba9361a3b
    job_type:
      description: EM job type, for example C(Backup), C(BackupCopy), C(AgentBackup), C(NasBackup), C(Replica), C(CdpReplica).
      type: str
      sample: Backup
    backup_server:
      description: Name of the backup server that ran the session.
      type: str
      sample: vbr01.example.com
    creation_time:
      description: Start time in UTC, as EM sent it.
      type: str
      sample: "2025-08-15T20:00:24.003406Z"
    end_time:
      description: End time in UTC; V(null) while the session runs.
      type: str
      sample: "2025-08-15T20:04:13.487602Z"
    duration_seconds:
      description: Seconds between start and end; V(null) while the session runs.
      type: float
      sample: 229.484
    state:
      description: Session state.
      type: str
      sample: Stopped
    result:
      description: Session result; V(None) while the session runs.
      type: str
      sample: Success
    progress:
      description: Progress in percent.
      type: int
      sample: 100
    is_retry:
      description: Whether the session is a retry of a failed run.
      type: bool
      sample: false
    failure_message:
      description: EM's failure message; V(null) when EM gave none.
      type: str
      sample: null
    links:
      description: EM links of the session (C(rel), C(href), C(name), C(type)).
      returned: only when O(fields) lists V(links)
      type: list
      elements: dict
      sample:
        - rel: Up
          href: https://em.example.com:9398/api/jobs/0a6262a1-8add-49c5-85ea-0b1ba9361a3b
          name: Backup Job 2
          type: JobReference
summary:
  description: Counts of the returned sessions. Every result and state is present, with 0 when none matched.
  returned: always
  type: dict
  contains:
    total:
      description: Number of sessions returned.
      type: int
      sample: 3
    by_result:
      description: Sessions per result.
      type: dict
      sample: {"Success": 2, "Warning": 0, "Failed": 0, "None": 1}
    by_state:
      description: Sessions per state.
      type: dict
      sample: {"Starting": 0, "Stopping": 0, "Working": 1, "Pausing": 0, "Resuming": 0, "Stopped": 2}
truncated:
  description: True when O(limit), or the default of 1000 when O(limit) is not given, cut the result; only a cut at the default warns.
  returned: always
  type: bool
  sample: false
filter:
  description: The EM filter expression that was sent (V(null) when none, or with O(id)), for debugging.
  returned: always
  type: str
  sample: JobName=="Backup Job 2";CreationTime>="2025-08-14T20:00:00Z"
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.vbem.enterprise_manager.plugins.module_utils.info import job_argument_spec, mutually_exclusive, run_module
from ansible_collections.vbem.enterprise_manager.plugins.module_utils.sessions import JOB_KINDS
from ansible_collections.vbem.enterprise_manager.plugins.module_utils.module_frame import exit_module


def main():
    """Argument spec, one query, exit_json: everything else lives in module_utils."""
    argument_spec = job_argument_spec()
    module = AnsibleModule(argument_spec=argument_spec, mutually_exclusive=mutually_exclusive(argument_spec), supports_check_mode=True)
    exit_module(module, run_module(module, JOB_KINDS[module.params['type']]))


if __name__ == '__main__':
    main()
