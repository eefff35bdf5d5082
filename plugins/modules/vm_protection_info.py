#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, vbem.enterprise_manager contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: vm_protection_info
short_description: Judge whether VMs have a good, recent backup in Veeam Backup Enterprise Manager
version_added: 0.2.0
description:
  - Answers "is each of these VMs protected?" for a list or a dict of VM names, with one Enterprise Manager (EM) logon
    and as few queries as EM's URL limit allows. This is the pre-change gate's engine; the role
    R(vbem.enterprise_manager.backup_gate,ansible_collections.vbem.enterprise_manager.backup_gate_role) calls it once per play.
  - For every source (backup, replica, CDP) it reads the VMs' task sessions of the last O(max_age), newest first, and
    judges each VM's newest session. A VM with nothing in that window is looked up once more, as far back as
    O(lookback), to tell a stale VM (and since when) from one with no session at all.
  - Names match case-insensitively and otherwise exactly (no trimming); every requested name gets an answer with a
    O(accept)ed result, a code and one sentence a person can act on. The verdict of a VM judged on several sources is
    combined as O(require) says.
  - EM's answers are checked, not trusted. The newest session is the one with the latest creation time, whatever order
    EM answers in. A session dated more than 5 minutes (the tolerated clock skew) after the controller's clock never
    counts as fresh (code C(future_time)); one dated before 2000 or not at all is C(bad_time); a session in a state EM
    does not document is never taken as completed (C(unknown_state)).
  - A name is C(ambiguous), and fails, when EM's sessions for it name more than one VM - two C(VmUid) values, or two
    spellings such as C(CaseDup) and C(casedup), in any source judged. When EM spells a VM otherwise than it was
    requested (C(WEB01) for C(web01)), or several spellings of one name are requested, the whole O(lookback) is read
    for that name to find such a second VM (a name spelt exactly as EM spells it, alone, is not). A name
    that equals EM's spelling only under Unicode case folding (C(STRASSE) requested, C(Straße) in EM, which
    C(str.casefold) maps to C(strasse) but EM may not) is C(ambiguous) too - the gate fails closed on doubt, and a
    VM never passes on another VM's session. Give names exactly as EM spells them where names differ only in case.
  - A running CDP session is judged on its live result, since CDP replicates continuously; running backup and replica
    sessions are handled as O(running) says.
  - The restore point sources (V(restore_point), V(replica_point), V(agent)) judge the newest point by its creation
    time, whatever order EM answers in - it must be newer than O(max_age); an older one is C(stale), naming the point's
    time and where it lies; none at all is C(no_session). Points follow the backup chain's retention, so they also show
    protection by backup copy and weekly jobs whose sessions fell out of the 30-day session window. O(running),
    O(accept) and O(job_name) do not apply to them (a point has no state, no result and no job field EM can filter on;
    O(job_name) with a point source is refused).
  - V(agent) judges Veeam Agent computers (physical servers, cloud machines) by computer name, on their newest
    C(AgentRestorePoint). EM's agent points do not name their computer, so they are read with one query per name.
  - A name EM knows nothing of fails with C(unknown_vm), never C(no_session) (which means EM knows the machine but has
    nothing in the window). Known means the gate's queries found something for it in a source judged, or EM answers one
    more bounded question for the names with nothing - a session of each session source in O(lookback) of any job (only
    when O(job_name) narrowed the gate), and a C(VmRestorePoint) or C(VmReplicaPoint) at any time (kinds not judged
    already) - one query per kind, its names split to fit the URL. An agent computer is known by its points only when
    V(agent) is judged. If EM fails to answer, the run fails; no name is called unknown on an answer EM did not give.
  - The C(unknown_vm) reason suggests up to three close names EM knows - C(EM knows no VM named sql-prod-1 (did you
    mean SQL-PROD-01?)) (C(computer) for V(agent)) - the names at the smallest case-insensitive edit distance, at most
    a third of the name's length and at most 2, alphabetically. They are sought among the names the gate's queries
    returned and the VM names of EM's 10,000 newest restore points and 10,000 newest replica points (read only when a
    name is unknown and a VM source is judged). The search is bounded to 500,000 steps a run (a few thousand unknown
    names in a dense estate); names beyond it are told without suggestions, and the reason says so.
  - With O(require_session_result), a fresh point also needs an O(accept)ed session behind it - for V(restore_point)
    the backup task session whose C(Related) link names the point, for V(agent) the computer's newest completed Veeam
    Agent (C(AgentManagement)) session. They are read newest first, in a bounded number of queries, as far back as
    O(lookback); a point no session is found for fails with C(no_session).
  - EM collects from its backup servers about every 15 minutes, so a backup minutes old may not show yet. With
    O(collect), EM is asked to collect from every backup server first (one C(POST /backupServers/{ID}?action=collect)
    each, its task followed up to O(collect_timeout)). That starts an EM data collection job but changes no backup data.
  - This module never changes backup data on EM and supports check mode; in check mode O(collect) sends nothing.
author:
  - vbem.enterprise_manager contributors (@vbem)
options:
  sources:
    description:
      - What counts as protection - V(backup) task sessions, V(replica) task sessions, V(cdp) replica task sessions,
        V(restore_point) (the VM's newest C(VmRestorePoint)), V(replica_point) (its newest C(VmReplicaPoint)),
        V(agent) (the computer's newest C(AgentRestorePoint)).
    type: list
    elements: str
    choices: [backup, replica, cdp, restore_point, replica_point, agent]
    default: [backup]
  require:
    description:
      - With several O(sources), V(any) passes a VM when one source passes, V(all) only when every source passes.
    type: str
    choices: [any, all]
    default: any
  max_age:
    description:
      - The judged session must have started at most this long ago - a relative age such as V(30m), V(24h), V(7d)
        or V(2w), or an ISO-8601 date-time cutoff such as V(2026-11-29T06:00:00Z).
    type: str
    default: 24h
  accept:
    description:
      - The results that pass. V(Warning) is opt-in.
    type: list
    elements: str
    choices: [Success, Warning]
    default: [Success]
  running:
    description:
      - What a running newest backup or replica session means.
      - V(wait) waits until it finishes (at most O(wait_timeout) seconds) and judges its result; a session still running
        then fails the VM with code C(wait_timeout).
      - V(fail) fails the VM at once with code C(running).
      - V(previous) judges the newest completed session instead.
    type: str
    choices: [wait, fail, previous]
    default: wait
  wait_timeout:
    description:
      - Seconds to wait with O(running=wait), for all VMs together.
    type: int
    default: 1800
  wait_sleep:
    description:
      - Seconds between two polls of the running VMs with O(running=wait).
    type: int
    default: 10
  job_name:
    description:
      - Only sessions of these jobs (CDP policies for O(sources=cdp)) count. A name or a list of names, matched
        case-insensitively.
    type: raw
  lookback:
    description:
      - How far back to look for the sessions of a VM that has none within O(max_age), to tell C(stale) from C(no_session).
        Same formats as O(max_age); it must reach at least as far back.
    type: str
    default: 30d
  require_session_result:
    description:
      - For the V(restore_point) and V(agent) sources, a fresh newest point passes only when the session behind it
        ended with an O(accept)ed result - for V(restore_point) the backup task session that made the point (EM links
        it to the point with C(Related)), for V(agent) the computer's newest completed Veeam Agent session. Its result
        is judged with the codes of a session source (C(failed_result), C(warning_result), C(unaccepted_result),
        C(running) while the session behind the point still runs).
      - A point with no such session in EM's session history (O(lookback), at most EM's 30 days) fails with
        C(no_session) - a point copied by a backup copy job or imported has none.
      - Refused with V(replica_point) (EM documents no link from a replica session to its point) and without
        V(restore_point) or V(agent) in O(sources).
      - Agent sessions name no computer in a field; a session counts for a computer when its C(Related) link names the
        computer's newest point or its job name ends in C( - <computer>).
    type: bool
    default: false
  collect:
    description:
      - Ask EM to collect from every backup server now, and wait until it has, before judging - for a backup that ended
        minutes ago, which EM's periodic collection (about every 15 minutes) may not have picked up yet.
      - Needs an EM account with the Portal Administrator role. When a collection is refused, fails, or does not
        finish within O(collect_timeout), every VM fails closed (the task fails with the reason).
      - In check mode nothing is sent, C(collect.status) is V(skipped) and the VMs are judged on what EM has.
    type: bool
    default: false
  collect_timeout:
    description:
      - Seconds to wait, for all backup servers together, for EM's collection tasks with O(collect).
    type: int
    default: 600
  max_url_length:
    description:
      - The longest request URL to send. Long name lists are split into as many queries as needed to stay below it.
      - EM's web server (HTTP.sys) refuses request targets over 16 KB; the default leaves room for reverse proxies
        with an 8 KB limit. At least V(1024).
    type: int
    default: 8000
  page_size:
    description:
      - Sessions fetched per EM request.
    type: int
    default: 1000
extends_documentation_fragment:
  - vbem.enterprise_manager.vms
  - vbem.enterprise_manager.connection
  - vbem.enterprise_manager.attributes
  - vbem.enterprise_manager.attributes.info_module
notes:
  - The newest session decides. A VM backed up by several jobs is judged on the newest session of any of them; use
    O(job_name) to name the jobs that count.
  - Ages are measured from the sessions' creation (start) times, against the time the task started.
requirements:
  - requests >= 2.25
seealso:
  - module: vbem.enterprise_manager.backup_task_session_info
  - ref: "vbem.enterprise_manager.backup_gate role <ansible_collections.vbem.enterprise_manager.backup_gate_role>"
    description: The backup_gate role runs this module once per play and turns its answer into per-host facts and groups.
'''

EXAMPLES = r'''
- name: Are these VMs backed up successfully within the last 24 hours?
  vbem.enterprise_manager.vm_protection_info:
    vms: [web01, db02]
  register: protection

- name: Stop when one of them is not
  ansible.builtin.assert:
    that: protection.failed_vms | length == 0
    fail_msg: "{{ protection.failed_vms | map('extract', protection.vms) | map(attribute='reason') | list }}"

# Keys come back as given: here inventory host names, mapped to their VMs' names in EM.
- name: Map hosts to VM names, accept warnings, and count a replica as protection too
  vbem.enterprise_manager.vm_protection_info:
    vms:
      web01.example.com: WEB01
      db02.example.com: db02
    sources: [backup, replica]
    require: any
    accept: [Success, Warning]
    max_age: 36h
  delegate_to: localhost
  run_once: true
  register: protection

- name: Judge the last completed backup of a nightly job, without waiting for a running one
  vbem.enterprise_manager.vm_protection_info:
    vms: "sql01"
    job_name: SQL Nightly
    running: previous
  register: sql
'''

RETURN = r'''
vms:
  description: One verdict per requested VM, keyed as given (the dict's keys, or the names of a list).
  returned: success
  type: dict
  contains:
    vm_name:
      description: The VM name as EM spells it (the requested name when EM has no session of the VM).
      type: str
      sample: WEB01
    requested_name:
      description: The name as requested.
      type: str
      sample: web01
    passed:
      description: Whether the VM is protected.
      type: bool
      sample: false
    code:
      description:
        - C(passed); C(failed_result) (the judged session Failed); C(warning_result) (Warning, not accepted);
          C(unaccepted_result) (another result not accepted); C(stale) (the newest session is older than O(max_age));
          C(no_session) (none since O(lookback)); C(running) (running, with O(running=fail));
          C(wait_timeout) (still running after O(wait_timeout)); C(ambiguous) (the name matches more than one VM in EM,
          named in the reason); C(future_time) (a session dated more than 5 minutes after the controller's clock);
          C(bad_time) (a session dated before 2000 or not at all); C(unknown_state) (the judged session's state is not
          one EM documents); C(unknown_vm) (EM knows no VM or computer of this name - no session in O(lookback), no
          restore point; the reason suggests close names).
      type: str
      sample: failed_result
    reason:
      description: One sentence a person can act on; with several sources each part names its source.
      type: str
      sample: "Failed at 2026-11-29 21:40 UTC in job SQL Daily: Error: The network path was not found."
    sources:
      description: The verdict of each source, with the session judged (normalised as
        M(vbem.enterprise_manager.backup_task_session_info) returns sessions, or V(null)).
      type: dict
      sample:
        backup:
          passed: false
          code: stale
          reason: newest backup 2026-11-27 21:40 UTC (Success) is older than 24h
          session: {uid: "urn:veeam:BackupTaskSession:6745a759-2205-4cd2-b172-8ec8f7e60ef8", vm_name: WEB01,
                    job_name: Web Daily, state: Completed, result: Success, creation_time: "2026-11-27T21:40:12Z"}
collect:
  description: What O(collect) did - C(status) (V(collected), or V(skipped) in check mode), C(backup_servers) (their
    names) and C(log) (one sentence per request and task).
  returned: when O(collect) is true
  type: dict
  sample:
    status: collected
    backup_servers: [vbr01.corp.example.com]
    log: ["Asked EM to collect from backup server vbr01.corp.example.com: EM task task-1.",
          "EM's collection task for backup server vbr01.corp.example.com finished: Data collection started. To view results, go to Sessions."]
passed_vms:
  description: The keys of the VMs that passed, in the order requested.
  returned: success
  type: list
  elements: str
  sample: [db02]
failed_vms:
  description:
    - The keys of the VMs that did not pass, in the order requested.
    - Not named C(failed), which Ansible reads as the task's own status.
  returned: success
  type: list
  elements: str
  sample: [web01]
summary:
  description: Counts. C(by_code) holds every code, with 0 when no VM got it.
  returned: success
  type: dict
  sample:
    total: 2
    passed: 1
    failed: 1
    by_code: {passed: 1, failed_result: 1, warning_result: 0, unaccepted_result: 0, stale: 0, no_session: 0,
              running: 0, wait_timeout: 0, ambiguous: 0, future_time: 0, bad_time: 0, unknown_state: 0, unknown_vm: 0}
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.vbem.enterprise_manager.plugins.module_utils.gate import argument_spec, run_module
from ansible_collections.vbem.enterprise_manager.plugins.module_utils.module_frame import exit_module


def main():
    """Argument spec, one gate run, exit_json: everything else lives in module_utils."""
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True)
    exit_module(module, run_module(module))


if __name__ == '__main__':
    main()
