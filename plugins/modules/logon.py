#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, vbem.enterprise_manager contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: logon
short_description: Log on to Veeam Backup Enterprise Manager once, for many tasks
version_added: 0.2.0
description:
  - Logs on to the Veeam Backup Enterprise Manager (EM) REST API with O(username) and O(password) and returns the
    RV(session_token) of the new logon session. It does B(not) log off.
  - Pass the token as O(vbem.enterprise_manager.backup_task_session_info#module:session_token) to the modules of the
    collection and to the P(vbem.enterprise_manager.em_query#lookup) lookup, so that many tasks share one logon instead
    of logging on and off each; end it with M(vbem.enterprise_manager.logoff) in the C(always) section of a C(block)
    (see the examples).
  - The token is never shown in this task's output, at any verbosity, even without C(no_log) - the result is hidden like
    a C(no_log) result - but the registered variable carries it B(in clear) for the tasks that follow. Printing that
    variable prints the token - C(ansible.builtin.debug) with C(var) or C(msg) (at any verbosity), C(set_stats), a
    template or a file written from it - so set C(no_log) to V(true) on every task that prints it, or print the result without
    its RV(session_token) key as the examples show.
  - EM limits concurrent logon sessions. A session that is not logged off stays open until EM's idle timeout
    (15 minutes without a request) ends it.
author:
  - vbem.enterprise_manager contributors (@vbem)
options:
  session_token:
    description:
      - Not used by this module, which always creates a new logon session from O(username) and O(password).
      - Given to this task (directly or through C(module_defaults)) it is an error, so that a playbook never believes it
        logged on when it reused someone else's session. The E(VEEAM_EM_SESSION_TOKEN) environment variable is ignored.
    type: str
  username:
    description:
      - EM user (C(DOMAIN\user) or C(user@domain)) holding the Portal Administrator, Portal User or Restore Operator role.
      - Required, as an option or through the E(VEEAM_EM_USERNAME) environment variable.
  password:
    description:
      - Password of O(username). Never logged and never part of an error message.
      - Required, as an option or through the E(VEEAM_EM_PASSWORD) environment variable.
extends_documentation_fragment:
  - vbem.enterprise_manager.attributes
  - vbem.enterprise_manager.connection
attributes:
  check_mode:
    support: full
    details:
      - Logs on in check mode too, because a logon changes nothing on EM and the read-only tasks after it need the token.
  diff_mode:
    support: none
  action_group:
    support: full
    membership:
      - vbem.enterprise_manager.enterprise_manager
notes:
  - B(If the job is killed.) SIGINT or SIGTERM while this task runs, or the end of the process that started it, logs the
    new session off before the task fails. Once the task has returned the token, the session is the playbook's - only
    M(vbem.enterprise_manager.logoff) or EM's idle timeout ends it. When AWX or AAP cancel a job, or a job timeout
    strikes, ansible-playbook is killed with SIGKILL after at most 10 seconds and C(always:) sections do not run - the
    session then stays open until EM's idle timeout (15 minutes) ends it. That is one session per cancelled run, where
    tasks that log on each time would leave at most one per task then running.
  - A lookup placed in a variable runs at every use; pass it the token too, so it does not log on each time.
  - Reported as unchanged - a logon session changes no EM configuration.
seealso:
  - module: vbem.enterprise_manager.logoff
  - module: vbem.enterprise_manager.backup_task_session_info
  - plugin: vbem.enterprise_manager.em_query
    plugin_type: lookup
'''

EXAMPLES = r'''
# Log on once, run any number of tasks on the one session, and always log off.
- name: Gate a change on one EM logon
  module_defaults:
    group/vbem.enterprise_manager.enterprise_manager:
      url: https://em.example.com:9398
      username: "{{ em_user }}"
      password: "{{ em_password }}"
  block:
    - name: Log on to Enterprise Manager
      vbem.enterprise_manager.logon:
      register: em

    - name: Failed backup task sessions of the last day
      vbem.enterprise_manager.backup_task_session_info:
        session_token: "{{ em.session_token }}"
        result: Failed
        created_after: 24h
      register: failed

    - name: Running replica jobs
      vbem.enterprise_manager.job_session_info:
        session_token: "{{ em.session_token }}"
        type: replica
        state: Working
      register: running

    - name: Show what logon returned, without the token (debug var=em would print the token in clear)
      ansible.builtin.debug:
        msg: "{{ em | dict2items | rejectattr('key', 'equalto', 'session_token') | items2dict }}"

    - name: Names of VMs with a warning, from the lookup on the same logon
      ansible.builtin.set_fact:
        warned: "{{ query('vbem.enterprise_manager.em_query', 'BackupTaskSession', result='Warning', created_after='24h',
                    session_token=em.session_token, jmespath='[].vm_name') }}"
  always:
    - name: Log off, whatever happened above
      vbem.enterprise_manager.logoff:
        session_token: "{{ em.session_token }}"
      when: em.session_token is defined
'''

RETURN = r'''
session_token:
  description:
    - The token of the new logon session (the C(X-RestSvcSessionId) value), for O(session_token) of the other modules,
      the lookup and M(vbem.enterprise_manager.logoff).
    - Never shown in this task's output; the registered variable carries it in clear, so C(debug) of that variable
      prints it - use C(no_log) on such tasks. Treat it as a password until logged off.
  returned: success
  type: str
  sample: "********"
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.vbem.enterprise_manager.plugins.module_utils.module_frame import exit_module, run_with_client
from ansible_collections.vbem.enterprise_manager.plugins.module_utils.options import connection_argument_spec


def argument_spec():
    """The connection options; session_token only to refuse it, without an environment fallback."""
    spec = connection_argument_spec()
    spec['session_token'] = dict(type='str', no_log=True)
    return spec


def main():
    """Log on, hand the token to the playbook, and leave the session open."""
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True)
    if module.params.get('session_token') is not None:
        module.fail_json(msg='session_token was given, but logon always creates a new logon session from username and password; '
                             'remove session_token from this task (or from its module_defaults).')
    if not module.params.get('username') or module.params.get('password') is None:
        module.fail_json(msg='logon needs username and password (or the VEEAM_EM_USERNAME and VEEAM_EM_PASSWORD environment variables).')

    def hand_over(client):
        with client:
            return {'session_token': client.hand_over()}
    exit_module(module, run_with_client(module, hand_over))


if __name__ == '__main__':
    main()
