# -*- coding: utf-8 -*-
# Copyright (c) 2026, vbem.enterprise_manager contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
name: session_report
short_description: Aggregate a window of EM task sessions into an HTML page, a CSV file and a terminal table
version_added: 0.2.0
description:
  - Counts the task sessions that P(vbem.enterprise_manager.em_query#lookup) returned for a window, per result, per day, per job
    and per VM, and renders them three ways.
  - C(html) is one self-contained page (inline CSS and SVG, no script, nothing fetched) that puts the bad news first -
    the VMs whose newest session is not a success and the failed and warning sessions with EM's reasons - then a
    stacked chart of results per day, results per job, and the window and when the report was made. It reads on
    desktop and phone screens. Every EM string is HTML-escaped.
  - The page is the Jinja2 template C(plugins/plugin_utils/templates/session_report.html.j2) of this collection, or the
    plan's own page template when O(vbem.enterprise_manager.session_report_query#filter:report_template) was given
    (autoescaped as the built-in one).
  - C(csv) has one row per task session (RFC 4180, CRLF line ends); text cells a spreadsheet would run as a formula
    (starting with C(=), C(+), C(-), C(@), tab or carriage return) are prefixed with an apostrophe.
  - C(table) is the same totals as fixed-width lines for the play's output.
  - A session without a result yet (EM's V(None), a session still running) is counted as C(Running).
  - Pipe the lookup straight into this filter, as in the example, rather than storing the sessions in a fact first
    - ansible-core re-templates facts, which costs seconds for tens of thousands of sessions.
author:
  - vbem.enterprise_manager contributors (@vbem)
positional: _input, plan
options:
  _input:
    description:
      - The sessions, normalised as P(vbem.enterprise_manager.em_query#lookup) returns them without O(vbem.enterprise_manager.em_query#lookup:raw)
        or O(vbem.enterprise_manager.em_query#lookup:jmespath) - the one flat list C(query()) returns for one term per source -
        or a dict of such lists keyed by source.
      - Each session's source is told by its C(type) (V(BackupTaskSession), V(ReplicaTaskSession), V(CdpReplicaTaskSession));
        a session of a type the plan does not hold is an error.
    type: raw
    required: true
  plan:
    description:
      - What the P(vbem.enterprise_manager.session_report_query#filter) filter returned for this report.
    type: dict
    required: true
  now:
    description:
      - When the report was made, as ISO-8601. Defaults to the current UTC time.
    type: str
  max_rows:
    description:
      - The most VMs, and the most failed and warning sessions, the HTML page lists; a note says how many more
        the CSV holds. V(0) lists them all.
    type: int
    default: 500
seealso:
  - plugin: vbem.enterprise_manager.session_report_query
    plugin_type: filter
  - plugin: vbem.enterprise_manager.em_query
    plugin_type: lookup
'''

EXAMPLES = r'''
# playbooks/session_report.yml does this and writes the files.
- name: Fix the window and check the sources
  ansible.builtin.set_fact:
    report_plan: "{{ ['backup', 'cdp'] | vbem.enterprise_manager.session_report_query('7d') }}"

- name: Read the sessions with one EM logon and aggregate them in the same expression
  ansible.builtin.set_fact:
    report: >-
      {{ query('vbem.enterprise_manager.em_query', *report_plan.query_types,
               created_after=report_plan.created_after, created_before=report_plan.created_before, limit=0, page_size=1000)
         | vbem.enterprise_manager.session_report(report_plan) }}

- name: Write the page
  ansible.builtin.copy:
    content: "{{ report.html }}"
    dest: /var/www/em/report.html
    mode: "0644"

- name: Show the totals
  ansible.builtin.debug:
    msg: "{{ report.table }}"
'''

RETURN = r'''
_value:
  description: The totals and the three renderings.
  type: dict
  contains:
    headline:
      description:
        - 'One sentence, bad news first, for example V(2 VMs not protected by a clean last run: 2 failed sessions in 96 task sessions).'
      type: str
    window:
      description: The window, C(text) as given, C(start) and C(end) as UTC C(YYYY-MM-DDTHH:MM:SSZ).
      type: dict
    generated:
      description: When the report was made, UTC.
      type: str
    sources:
      description: The sources reported on.
      type: list
      elements: str
    total:
      description: Number of task sessions in the window.
      type: int
    totals:
      description: Sessions per outcome, keys C(Failed), C(Warning), C(Success), C(Running), every key present.
      type: dict
    by_source:
      description: The same counts per source.
      type: dict
    by_day:
      description: One dict per UTC day of the window, oldest first, with C(date) and the four counts.
      type: list
      elements: dict
    by_job:
      description: One dict per job and source, worst first, with C(job_name), C(source), C(total) and the four counts.
      type: list
      elements: dict
    vms_not_ok:
      description:
        - One dict per VM and source whose newest session in the window is not a success, worst first, with
          C(vm_name), C(source), C(outcome), C(result), C(creation_time), C(job_name) and C(reason).
      type: list
      elements: dict
    html:
      description: The report page.
      type: str
    csv:
      description:
        - Every session, newest first, columns C(type), C(vm_name), C(job_name), C(start_utc), C(end_utc), C(state),
          C(result), C(reason), C(size_bytes).
      type: str
    table:
      description: The totals per source and per job as fixed-width lines.
      type: list
      elements: str
'''

from ansible.errors import AnsibleFilterError

from ansible_collections.vbem.enterprise_manager.plugins.module_utils.errors import EmError
from ansible_collections.vbem.enterprise_manager.plugins.plugin_utils.report import DEFAULT_MAX_ROWS, build


def session_report(sessions, plan, now=None, max_rows=DEFAULT_MAX_ROWS):
    """Filter: the aggregated and rendered report (see ``report.build``)."""
    try:
        return build(sessions, plan, now=now, max_rows=max_rows)
    except EmError as exc:
        raise AnsibleFilterError(str(exc))


class FilterModule(object):
    """vbem.enterprise_manager.session_report"""

    def filters(self):
        return {'session_report': session_report}
