#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, vbem.enterprise_manager contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: logoff
short_description: End a Veeam Backup Enterprise Manager logon session that vbem.enterprise_manager.logon opened
version_added: 0.2.0
description:
  - Logs off the Veeam Backup Enterprise Manager (EM) logon session of O(session_token), as returned by
    M(vbem.enterprise_manager.logon), with C(DELETE /api/logonSessions/{SessionId}).
  - Idempotent - a session that already ended (logged off before, or expired after EM's idle timeout) is not an error.
  - The logoff is retried on any HTTP 5xx and any connection error, with backoff and jitter, for O(timeout) seconds but
    at least 5 and at most 15.
  - Only the session the token itself authenticates is ever logged off. Its SessionId is the token decoded (EM 10 and
    later) or, for other tokens, what EM answers to C(GET /api/logonSessions), which lists the caller's own session only.
author:
  - vbem.enterprise_manager contributors (@vbem)
options:
  session_token:
    description:
      - The token M(vbem.enterprise_manager.logon) returned, for example the C(session_token) of its registered result.
      - Required, as an option or through the E(VEEAM_EM_SESSION_TOKEN) environment variable.
  username:
    description:
      - Not used - the token alone names and authorises the session to end. Accepted so that one C(module_defaults)
        block can serve every module of the action group.
  password:
    description:
      - Not used - the token alone names and authorises the session to end. Accepted so that one C(module_defaults)
        block can serve every module of the action group.
extends_documentation_fragment:
  - vbem.enterprise_manager.attributes
  - vbem.enterprise_manager.connection
attributes:
  check_mode:
    support: full
    details:
      - Logs off in check mode too, because otherwise a check-mode run would leave its logon session open.
  diff_mode:
    support: none
  action_group:
    support: full
    membership:
      - vbem.enterprise_manager.enterprise_manager
notes:
  - Put this task in the C(always) section of the C(block) that starts with M(vbem.enterprise_manager.logon), so that
    it runs whatever fails in between. When a job is killed (AWX and AAP cancel with SIGKILL), C(always) does not run
    and the session stays open until EM's idle timeout (15 minutes) ends it.
  - Reported as unchanged - a logon session changes no EM configuration; RV(logged_off) tells whether it was open.
seealso:
  - module: vbem.enterprise_manager.logon
'''

EXAMPLES = r'''
- name: Read EM on one logon
  block:
    - name: Log on to Enterprise Manager (connection from VEEAM_EM_* environment variables)
      vbem.enterprise_manager.logon:
      register: em

    - name: Latest backup of two VMs
      vbem.enterprise_manager.backup_task_session_info:
        session_token: "{{ em.session_token }}"
        vm_name: [dbserver01, web01]
        latest_per_vm: true
      register: latest
  always:
    - name: Log off, whatever happened above
      vbem.enterprise_manager.logoff:
        session_token: "{{ em.session_token }}"
      when: em.session_token is defined
'''

RETURN = r'''
logged_off:
  description:
    - V(true) when EM ended the session now, V(false) when it had already ended (logged off before, or expired).
  returned: success
  type: bool
  sample: true
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.vbem.enterprise_manager.plugins.module_utils.module_frame import exit_module, run_with_client
from ansible_collections.vbem.enterprise_manager.plugins.module_utils.options import EmOptionAdapter, connection_argument_spec


def main():
    """End the caller's logon session, idempotently."""
    module = AnsibleModule(argument_spec=connection_argument_spec(), supports_check_mode=True)
    if module.params.get('session_token') is None:
        module.fail_json(msg='logoff needs session_token, the token a vbem.enterprise_manager.logon task returned '
                             '(for example session_token: "{{ em.session_token }}").')
    params = dict(module.params)
    # The token alone names the session: credentials from module_defaults must not turn this into a logon.
    params.update(username=None, password=None)

    def log_off(client):
        try:
            return {'logged_off': client.logoff_session()}
        finally:
            client.close()
    exit_module(module, run_with_client(module, log_off, EmOptionAdapter.from_dict(params)))


if __name__ == '__main__':
    main()
