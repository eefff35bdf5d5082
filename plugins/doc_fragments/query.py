# -*- coding: utf-8 -*-
# Copyright (c) 2026, vbem.enterprise_manager contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type


class ModuleDocFragment(object):
    """Session query options, documented once."""

    # Shared by the info modules and the em_query lookup.
    DOCUMENTATION = r'''
options:
  created_after:
    description:
      - Only sessions (restore points) created at or after this time.
      - An ISO-8601 date-time (V(2025-08-15T06:00:00Z); no zone means UTC; a date alone means midnight UTC)
        or a relative age such as V(30s), V(30m), V(24h), V(7d) or V(2w), meaning that long before now.
      - An empty value is refused, as is a window in which O(created_after) is not before O(created_before).
    type: str
  created_before:
    description:
      - Only sessions (restore points) created before this time. Same formats as O(created_after).
    type: str
  filter:
    description:
      - A raw EM filter expression, for example V(Reason!="";TotalSize>0), ANDed with the other options.
      - It is sent as written (wrapped in parentheses); quote string values with C(") and double a literal C(").
      - A filter whose parentheses or quotes do not pair up (a closing parenthesis before its opening one, a parenthesis
        or a quote never closed) could escape its parentheses and change the meaning of the other options, so it is
        refused before logging on, as is an empty one.
    type: str
  order:
    description:
      - Sort order of the result.
    type: str
    choices: [ascending, descending]
    default: descending
  limit:
    description:
      - Return at most this many results; V(0) means no limit. With C(latest_per_vm) it counts VMs, with
        C(latest_per_job) jobs.
      - When not given, at most 1000 are returned, and a warning says so when more matched.
      - A limit you give yourself is taken as meant, so it never warns; a module still returns C(truncated=true)
        when it cut the result.
    type: int
  page_size:
    description:
      - Results fetched per EM request, from 1 to 10000. Pages after the first are fetched concurrently (see O(concurrency)).
      - The default reads 1,000 results per request, so a scan of 10,000 sessions takes 11 requests, not 101; lower it
        only if EM or a proxy in front of it struggles with large answers.
    type: int
    default: 1000
  concurrency:
    description:
      - How many pages after the first are read at once, from 1 to 16. V(1) reads one page after another.
      - Each page costs a network round trip, so over a WAN reading four at once pays about a quarter of the latency.
    type: int
    default: 4
  fields:
    description:
      - Return only these keys of each session (restore point), in this order, for example V([vm_name, creation_time]).
      - Any key a session (point) has; V(links) (EM's links) is returned only when listed here.
      - A large result costs Ansible time and memory for every key of every session (it copies, checks and converts
        each one), so a scan of tens of thousands of sessions that needs three keys is several times faster and
        smaller with them named here. The summary still counts every session returned.
    type: list
    elements: str
'''

    # The session-only selectors: the session info modules and the lookup (restore points have no job and no result).
    SESSIONS = r'''
options:
  job_name:
    description:
      - Only sessions of this job, or of these jobs (exact names, case-insensitive; several names are ORed).
      - A name or a list of names. A string is always one name, even when it contains a comma; give several names as a list.
      - For CDP the job is the CDP policy.
    type: raw
  result:
    description:
      - Only sessions with one of these results. V(None) is the result of a session still running.
      - With C(latest_per_vm) or C(latest_per_job), applied to each VM's (job's) newest session after it is picked
        (newest, then filter), never to pick an older session that matches.
      - An empty list is refused; leave the option out to get every result.
    type: list
    elements: str
    choices: [Success, Warning, Failed, None]
'''

    # The id lookup of the info modules.
    ENTITY = r'''
options:
  id:
    description:
      - Return the one session (restore point) with this id, given as a GUID or as its full UID (V(urn:veeam:<Type>:<GUID>)).
      - A UID of another type, or an empty id, is an error. Mutually exclusive with the options that select sessions (points).
    type: str
  missing_ok:
    description:
      - With O(id), return an empty list instead of failing when EM has no such session (point).
    type: bool
    default: false
'''

    # Waiting for running sessions (the pattern of kubernetes.core k8s_info).
    WAIT = r'''
options:
  wait:
    description:
      - Poll until no matching session is running any more (state InProgress, Pending, Starting, Working, ...).
      - The query, including relative times such as V(24h), is evaluated against the time the task started.
    type: bool
    default: false
  wait_timeout:
    description:
      - Seconds to wait with O(wait) before the task fails; 1 or more.
    type: int
    default: 600
  wait_sleep:
    description:
      - Seconds between two polls with O(wait); 1 or more, so that waiting never polls EM without a pause.
    type: int
    default: 10
'''

    # The task session modules' and restore_point_info's latest_per_vm.
    LATEST_PER_VM = r'''
options:
  latest_per_vm:
    description:
      - Keep only the newest session (restore point) of each VM. O(limit) then counts VMs.
      - EM is asked for newest first, but the newest is found by comparing creation times, whatever order EM
        answers in. O(sort) and O(order) then order the kept sessions (points).
      - For sessions, newest, then filter - C(result) and C(state) judge each VM's newest session, they do not pick it.
        With C(result=Success) a VM whose newest session failed is left out, never returned with an older success; check
        that every VM you expect is in the list (or use M(vbem.enterprise_manager.vm_protection_info)).
      - A VM is its C(VmUid) (a restore point's C(HierarchyObjRef)) where EM sends one, else its name exactly as EM
        spells it - two VMs whose names differ only in case each keep their own newest, with a warning naming them.
      - A warning names VMs whose newest session (point) is dated more than 5 minutes after the controller's clock.
    type: bool
    default: false
'''
