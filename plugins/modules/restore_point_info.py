#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, vbem.enterprise_manager contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: restore_point_info
short_description: Read VM restore points, VM replica points and Veeam Agent restore points from Veeam Backup Enterprise Manager
version_added: 0.3.0
description:
  - Returns restore points from the Veeam Backup Enterprise Manager (EM) REST API, through the EM Query Service
    (C(type=VmRestorePoint), C(VmReplicaPoint) or C(AgentRestorePoint), chosen by O(type)) or, with O(id), from the
    point's entity resource.
  - Restore points follow the backup chain's retention, not the 30 days EM keeps sessions for, so they show that a VM can be
    rolled back even when its job was deleted or ran weeks ago, and they cover backup copy and weekly jobs.
  - An agent restore point does not name its computer (only EM's filter field C(ComputerName) does), so with
    O(type=agent) the points are read one computer name at a time and each is returned with the name it was asked for.
  - EM documents no job field for restore points, so there is no C(job_name) option; O(filter) reaches the fields EM
    does document (C(BackupServerName), C(Type), ...).
  - This module never changes anything on EM and supports check mode.
author:
  - vbem.enterprise_manager contributors (@vbem)
options:
  type:
    description:
      - Which restore points - V(restore_point) (C(VmRestorePoint), backups of VMs), V(replica_point)
        (C(VmReplicaPoint), replicas of VMs) or V(agent) (C(AgentRestorePoint), machines protected by Veeam Agent).
      - The same names as the restore point sources of M(vbem.enterprise_manager.vm_protection_info).
    type: str
    choices: [restore_point, replica_point, agent]
    default: restore_point
  vm_name:
    description:
      - Only points of this VM (computer, with O(type=agent)), or of these VMs (exact names, case-insensitive; several
        names are ORed).
      - A name or a list of names. A string is always one name, even when it contains a comma (V(db,02) is one VM);
        give several names as a list. An empty name or an empty list is refused.
      - With O(type=agent) each name costs its own request (an agent restore point names no computer), and a name
        given twice in different case is read once.
    type: raw
    aliases: [computer_name]
  sort:
    description:
      - Field to sort by, in the order given by O(order).
    type: str
    choices: [creation_time, name, vm_name, point_type, algorithm, backup_server]
    default: creation_time
extends_documentation_fragment:
  - vbem.enterprise_manager.attributes
  - vbem.enterprise_manager.attributes.info_module
  - vbem.enterprise_manager.connection
  - vbem.enterprise_manager.query
  - vbem.enterprise_manager.query.latest_per_vm
  - vbem.enterprise_manager.query.entity
notes:
  - With O(latest_per_vm) and O(type=agent), O(vm_name) is required - EM cannot say which computer a point belongs to
    otherwise.
  - EM collects from its backup servers about every 15 minutes, so a point made minutes ago may not be listed yet.
seealso:
  - module: vbem.enterprise_manager.vm_protection_info
  - module: vbem.enterprise_manager.backup_task_session_info
  - plugin: vbem.enterprise_manager.em_query
    plugin_type: lookup
'''

EXAMPLES = r'''
- name: Newest restore point of two VMs, whatever order EM answers in
  vbem.enterprise_manager.restore_point_info:
    url: https://em.example.com:9398
    username: "{{ em_user }}"
    password: "{{ em_password }}"
    vm_name:
      - dbserver01
      - web01
    latest_per_vm: true
  register: newest

- name: Fail when a VM has no restore point at all
  ansible.builtin.assert:
    that: newest.points | length == 2
    fail_msg: "Restore points only for {{ newest.points | map(attribute='vm_name') | join(', ') }}"

- name: Replica points of the last week (connection from VEEAM_EM_* env vars)
  vbem.enterprise_manager.restore_point_info:
    type: replica_point
    created_after: 7d
    limit: 0
  register: replica_points

- name: Newest agent restore point of two physical servers
  vbem.enterprise_manager.restore_point_info:
    type: agent
    computer_name: [phys-sql-01, phys-fs-01]
    latest_per_vm: true
  register: agents

- name: One restore point by its UID
  vbem.enterprise_manager.restore_point_info:
    id: urn:veeam:VmRestorePoint:45a53cda-3e7c-4d06-9046-dddd78a7f713
    missing_ok: true
'''

RETURN = r'''
points:
  description: The matching restore points, newest first unless O(sort) and O(order) say otherwise.
  returned: always
  type: list
  elements: dict
  contains:
    uid:
      description: EM UID of the point.
      type: str
      sample: urn:veeam:VmRestorePoint:45a53cda-3e7c-4d06-9046-dddd78a7f713
    id:
      description: GUID part of the UID, as used in EM URLs.
      type: str
      sample: 45a53cda-3e7c-4d06-9046-dddd78a7f713
    name:
      description: The point's name as EM gives it (C(<vm>@<time>)); never read a time from it.
      type: str
      sample: dbserver01@2026-12-07 20:46:26
    type:
      description: EM entity type.
      type: str
      sample: VmRestorePoint
    vm_name:
      description:
        - The VM's name (C(VmName) of a restore point, C(VmDisplayName) of a replica point); with O(type=agent) the
          computer name the point was asked for, as given in O(vm_name) (V(null) when O(vm_name) was not given).
      type: str
      sample: dbserver01
    vm_uid:
      description: The VM's reference (C(HierarchyObjRef)) where EM sends one, else V(null).
      type: str
      sample: urn:VMware:Vm:23b8c1e9-3924-46de-beb1-3b9046685257.vm-94850
    creation_time:
      description: When the point was made, in UTC, as EM sent it.
      type: str
      sample: "2026-12-07T20:46:26.801996Z"
    point_type:
      description: C(Full), C(Increment), C(ReverseIncrement) or, for replicas, C(Snapshot).
      type: str
      sample: Increment
    algorithm:
      description: How the point was made (C(Full), C(Incremental), C(ReversedIncremental), C(SyntheticFull)).
      type: str
      sample: Incremental
    backup_file:
      description: The name of the backup file holding the point (its C(BackupFileReference) link); V(null) for replica points.
      type: str
      sample: SQL DailyD2026-12-07T201022.vib
    replica_name:
      description: The replica (replication job) holding a replica point (its C(ReplicaReference) link); V(null) otherwise.
      type: str
      sample: DR Replica - SQL
    backup_server:
      description: Name of the backup server holding the point.
      type: str
      sample: vbr01.example.com
    links:
      description: EM links of the point (C(rel), C(href), C(name), C(type)).
      returned: only when O(fields) lists V(links)
      type: list
      elements: dict
      sample:
        - rel: Up
          href: https://em.example.com:9398/api/backupServers/a490c017-2c1c-40ee-8bcf-73bcce6ab36f
          name: vbr01.example.com
          type: BackupServerReference
summary:
  description: Counts of the returned points.
  returned: always
  type: dict
  contains:
    total:
      description: Number of points returned.
      type: int
      sample: 2
    by_point_type:
      description: Points per point type found.
      type: dict
      sample: {"Full": 1, "Increment": 1}
truncated:
  description: True when O(limit), or the default of 1000 when O(limit) is not given, cut the result; only a cut at the default warns.
  returned: always
  type: bool
  sample: false
filter:
  description:
    - The EM filter expression of the query (V(null) when none, or with O(id)), for debugging.
    - With O(type=agent) and several names, EM is asked one name at a time; this is the query they make up together.
  returned: always
  type: str
  sample: (VmDisplayName=="dbserver01",VmDisplayName=="web01");CreationTime>="2026-12-01T00:00:00Z"
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.vbem.enterprise_manager.plugins.module_utils.info import mutually_exclusive, point_argument_spec, run_point_module
from ansible_collections.vbem.enterprise_manager.plugins.module_utils.module_frame import exit_module


def main():
    """Argument spec, one query, exit_json: everything else lives in module_utils."""
    argument_spec = point_argument_spec()
    module = AnsibleModule(argument_spec=argument_spec, mutually_exclusive=mutually_exclusive(argument_spec), supports_check_mode=True)
    exit_module(module, run_point_module(module))


if __name__ == '__main__':
    main()
