#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, vbem.enterprise_manager contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: cdp_task_session_info
short_description: Read CDP replication task sessions from Veeam Backup Enterprise Manager
version_added: 0.1.0
description:
  - Returns CDP replication task sessions (one per VM and CDP policy run) from the Veeam Backup Enterprise Manager (EM) REST API,
    through the EM Query Service (C(type=CdpReplicaTaskSession)) or, with O(id), from C(/cdpReplicaTaskSessions/{id}).
  - Filters are sent to EM, pages are fetched until O(limit) is reached, and the result carries a RV(summary) by result
    and state so that a playbook can gate on it with one assert.
  - EM documents no C(Result) query field for CDP task sessions and its C(PolicySessionName) field holds C(<policy>@<time>),
    so O(result) and O(job_name) are matched by the module on the sessions EM returns; O(limit) still counts matching sessions.
  - This module never changes anything on EM and supports check mode.
author:
  - vbem.enterprise_manager contributors (@vbem)
options:
  vm_name:
    description:
      - Only sessions of this VM, or of these VMs (exact display names, case-insensitive; several names are ORed).
      - A name or a list of names. A string is always one name, even when it contains a comma (V(db,02) is one VM);
        give several names as a list. An empty name or an empty list is refused.
    type: raw
  state:
    description:
      - Only sessions in one of these states.
    type: list
    elements: str
    choices: [InProgress, Pending, Completed]
  sort:
    description:
      - Field to sort by, in the order given by O(order).
      - EM has no C(Result) query field for CDP task sessions and cannot sort them by it, so unlike the other task
        session modules this one has no V(result) choice; sort the returned RV(sessions) in the playbook instead.
    type: str
    choices: [creation_time, end_time, name, vm_name, state, total_size]
    default: creation_time
extends_documentation_fragment:
  - vbem.enterprise_manager.attributes
  - vbem.enterprise_manager.attributes.info_module
  - vbem.enterprise_manager.connection
  - vbem.enterprise_manager.query
  - vbem.enterprise_manager.query.sessions
  - vbem.enterprise_manager.query.latest_per_vm
  - vbem.enterprise_manager.query.entity
  - vbem.enterprise_manager.query.wait
seealso:
  - module: vbem.enterprise_manager.job_session_info
  - plugin: vbem.enterprise_manager.em_query
    plugin_type: lookup
'''

EXAMPLES = r'''
- name: Failed CDP replication task sessions of the last 24 hours
  vbem.enterprise_manager.cdp_task_session_info:
    url: https://em.example.com:9398
    username: "{{ em_user }}"
    password: "{{ em_password }}"
    result: Failed
    created_after: 24h
  register: failed

- name: Stop the change when any VM failed
  ansible.builtin.assert:
    that: failed.summary.by_result.Failed == 0
    fail_msg: "{{ failed.sessions | map(attribute='vm_name') | join(', ') }} failed"

- name: Latest session of two VMs, waiting for running ones to finish (connection from VEEAM_EM_* env vars)
  vbem.enterprise_manager.cdp_task_session_info:
    vm_name:
      - virt03-ubuntu01
      - virt03-ubuntu02
    latest_per_vm: true
    wait: true
    wait_timeout: 1800
  register: latest

- name: One session by its UID
  vbem.enterprise_manager.cdp_task_session_info:
    id: urn:veeam:CdpReplicaTaskSession:2ec4d35f-b5d8-4cb3-9d11-12e1d5792625
    missing_ok: true
'''

RETURN = r'''
sessions:
  description: The matching sessions, newest first unless O(sort) and O(order) say otherwise.
  returned: always
  type: list
  elements: dict
  contains:
    uid:
      description: EM UID of the session.
      type: str
      sample: urn:veeam:CdpReplicaTaskSession:2ec4d35f-b5d8-4cb3-9d11-12e1d5792625
    id:
      description: GUID part of the UID, as used in EM URLs.
      type: str
      sample: 2ec4d35f-b5d8-4cb3-9d11-12e1d5792625
    name:
      description: Session name, C(<vm>@<start time>).
      type: str
      sample: virt03-ubuntu01@2025-08-15 20:00:24
    type:
      description: EM entity type.
      type: str
      sample: CdpReplicaTaskSession
    vm_name:
      description: Display name of the VM the session processed.
      type: str
      sample: virt03-ubuntu01
    job_name:
      description: Name of the CDP policy the session belongs to (taken from the parent session link).
      type: str
      sample: CDP Policy 1
    vm_uid:
      description:
        - The VM's own reference (C(VmUid)), which EM sends on backup task sessions since version 13; V(null) where EM
          sends none. Two VMs whose names differ only in case have different references.
      type: str
      sample: urn:VMware:Vm:7f9c8a6e-0e8d-4d39-8a4b-1d2f3e4a5b6c.vm-1234
    job_session_uid:
      description: UID of the parent CDP policy session.
      type: str
      sample: urn:veeam:CdpReplicaSession:1f038a6b-7968-4052-be97-3ed6b7aaf6a3
    backup_server:
      description: Name of the backup server that ran the session.
      type: str
      sample: vbr01.example.com
    creation_time:
      description: Start time in UTC, as EM sent it.
      type: str
      sample: "2025-08-15T20:00:24.003Z"
    end_time:
      description: End time in UTC; V(null) while the session runs.
      type: str
      sample: "2025-08-15T20:04:13.487Z"
    duration_seconds:
      description: Seconds between start and end; V(null) while the session runs.
      type: float
      sample: 229.484
    state:
      description: Session state.
      type: str
      sample: Completed
    result:
      description: Session result; V(None) while the session runs.
      type: str
      sample: Success
    reason:
      description: Why the session ended with a warning or failure; V(null) when EM gave none.
      type: str
      sample: null
    total_size:
      description: Bytes processed, as reported by EM.
      type: int
      sample: 12884901888
    progress:
      description: Progress in percent when EM reports it, else V(null).
      type: int
      sample: null
    links:
      description: EM links of the session (C(rel), C(href), C(name), C(type)).
      returned: only when O(fields) lists V(links)
      type: list
      elements: dict
      sample:
        - rel: Up
          href: https://em.example.com:9398/api/backupServers/a490c017-2c1c-40ee-8bcf-73bcce6ab36f
          name: vbr01.example.com
          type: BackupServerReference
summary:
  description: Counts of the returned sessions. Every result and state is present, with 0 when none matched.
  returned: always
  type: dict
  contains:
    total:
      description: Number of sessions returned.
      type: int
      sample: 2
    by_result:
      description: Sessions per result.
      type: dict
      sample: {"Success": 1, "Warning": 0, "Failed": 1, "None": 0}
    by_state:
      description: Sessions per state.
      type: dict
      sample: {"InProgress": 0, "Pending": 0, "Completed": 2}
truncated:
  description: True when O(limit), or the default of 1000 when O(limit) is not given, cut the result; only a cut at the default warns.
  returned: always
  type: bool
  sample: false
filter:
  description: The EM filter expression that was sent (V(null) when none, or with O(id)), for debugging.
  returned: always
  type: str
  sample: (VmDisplayName=="virt03-ubuntu01",VmDisplayName=="virt03-ubuntu02");CreationTime>="2025-08-14T20:00:00Z"
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.vbem.enterprise_manager.plugins.module_utils.info import (
    TASK_SORT_CHOICES, mutually_exclusive, run_module, task_argument_spec,
)
from ansible_collections.vbem.enterprise_manager.plugins.module_utils.sessions import KINDS
from ansible_collections.vbem.enterprise_manager.plugins.module_utils.module_frame import exit_module

# EM cannot sort by a field it cannot filter on (Result, for CDP task sessions).
SORT_CHOICES = [choice for choice in TASK_SORT_CHOICES if choice not in KINDS['cdp_task'].local_fields]


def argument_spec():
    """The task session argument spec with the sort fields EM has for CDP task sessions."""
    spec = task_argument_spec()
    spec['sort']['choices'] = list(SORT_CHOICES)
    return spec


def main():
    """Argument spec, one query, exit_json: everything else lives in module_utils."""
    spec = argument_spec()
    module = AnsibleModule(argument_spec=spec, mutually_exclusive=mutually_exclusive(spec), supports_check_mode=True)
    exit_module(module, run_module(module, 'cdp_task'))


if __name__ == '__main__':
    main()
