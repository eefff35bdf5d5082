# -*- coding: utf-8 -*-
# Copyright (c) 2026, vbem.enterprise_manager contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
name: session_report_query
short_description: Check a session report's sources and window, and fix the window's start and end
version_added: 0.2.0
description:
  - Turns the sources and the window of a session report into what to ask Enterprise Manager for, before any logon.
  - A relative window such as V(7d) is resolved once, so the query and the report agree on the same start and end.
  - Bad input fails with one sentence naming the variable.
author:
  - vbem.enterprise_manager contributors (@vbem)
positional: _input, window
options:
  _input:
    description:
      - The session sources, one name or a list of names, each one of V(backup), V(replica), V(cdp).
      - A string is one source name.
    type: raw
    required: true
  window:
    description:
      - A relative age such as V(24h), V(7d) or V(2w) (that long before now), or an ISO-8601 start time such as
        V(2026-11-01T00:00:00Z).
    type: str
    required: true
  now:
    description:
      - The end of the window, as ISO-8601. Defaults to the current UTC time.
    type: str
  report_dir:
    description:
      - The folder the report will be written to, checked now so that a bad one fails before any logon - an existing
        file, a folder this user cannot write, or a new folder under something that is not a writable folder.
      - A relative path is taken from the controller's current directory (where the play was started). A folder that does
        not exist yet is not created here.
      - When given, RV(_value.report_dir) holds it as an absolute path.
    type: str
  report_template:
    description:
      - A Jinja2 template of the HTML page to use instead of the built-in one, read and compiled now so that a missing
        or broken one fails before any logon.
      - Start from a copy of the built-in page, C(plugins/plugin_utils/templates/session_report.html.j2) in this
        collection; its head lists what the template gets. A template can also extend the built-in page with
        C({% extends "vbem.enterprise_manager/session_report.html.j2" %}) and override only some of its blocks
        (C(style), C(header), C(tiles), C(vms), C(problems), C(days), C(jobs), C(footer)).
      - Autoescaping is on, as in the built-in page.
      - A relative path is taken from the controller's current directory (where the play was started).
      - When given, RV(_value.report_template) holds it as an absolute path and P(vbem.enterprise_manager.session_report#filter)
        renders the page with it.
    type: str
    version_added: 0.3.0
seealso:
  - plugin: vbem.enterprise_manager.session_report
    plugin_type: filter
  - plugin: vbem.enterprise_manager.em_query
    plugin_type: lookup
'''

EXAMPLES = r'''
- name: Plan a report of backup and replica sessions of the last 14 days
  ansible.builtin.set_fact:
    report_plan: "{{ ['backup', 'replica'] | vbem.enterprise_manager.session_report_query('14d') }}"
# report_plan:
#   sources: [backup, replica]
#   query_types: [BackupTaskSession, ReplicaTaskSession]
#   window: 14d
#   created_after: '2026-11-16T16:09:00Z'
#   created_before: '2026-11-30T16:09:00Z'
'''

RETURN = r'''
_value:
  description: What to query and the window, for P(vbem.enterprise_manager.em_query#lookup) and the session_report filter.
  type: dict
  contains:
    sources:
      description: The sources, in the order given.
      type: list
      elements: str
    query_types:
      description: The EM query type of each source (V(BackupTaskSession), V(ReplicaTaskSession), V(CdpReplicaTaskSession)).
      type: list
      elements: str
    window:
      description: The window as given.
      type: str
    created_after:
      description: Start of the window, UTC, C(YYYY-MM-DDTHH:MM:SSZ).
      type: str
    created_before:
      description: End of the window, UTC, C(YYYY-MM-DDTHH:MM:SSZ).
      type: str
    report_dir:
      description: O(report_dir), absolute, with symbolic links resolved.
      type: str
      returned: when O(report_dir) is given
    report_template:
      description: O(report_template), absolute, with symbolic links resolved.
      type: str
      returned: when O(report_template) is given
      version_added: 0.3.0
'''

from ansible.errors import AnsibleFilterError

from ansible_collections.vbem.enterprise_manager.plugins.module_utils.errors import EmError
from ansible_collections.vbem.enterprise_manager.plugins.plugin_utils.report import check_report_dir, check_report_template, plan


def session_report_query(sources, window, now=None, report_dir=None, report_template=None):
    """Filter: the checked report plan (see ``report.plan``), with the checked report folder and page template when given."""
    try:
        result = plan(sources, window, now)
        if report_dir is not None:
            result['report_dir'] = check_report_dir(report_dir)
        if report_template is not None:
            result['report_template'] = check_report_template(report_template)
        return result
    except EmError as exc:
        raise AnsibleFilterError(str(exc))


class FilterModule(object):
    """vbem.enterprise_manager.session_report_query"""

    def filters(self):
        return {'session_report_query': session_report_query}
