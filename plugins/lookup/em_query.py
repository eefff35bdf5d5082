# -*- coding: utf-8 -*-
# Copyright (c) 2026, vbem.enterprise_manager contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
name: em_query
short_description: Query Veeam Backup Enterprise Manager from a template
version_added: 0.1.0
description:
  - Runs one Enterprise Manager (EM) Query Service query per term and returns the results.
  - Session types (V(BackupTaskSession), V(ReplicaTaskSession), V(CdpReplicaTaskSession), V(BackupJobSession),
    V(ReplicaJobSession), V(CdpReplicaSession)) return the same normalised dicts as the C(*_session_info) modules;
    any other query type EM knows (V(Job), V(BackupServer), V(Repository), ...) returns EM's own entities.
  - All terms share one EM logon, which is always logged off, unless O(session_token) is given.
  - B(A lookup runs every time its value is used.) A lookup placed in a variable (C(vars:), group_vars, role defaults)
    is evaluated lazily, so every task that references the variable runs the query and logs on to EM again.
    Evaluate it once with M(ansible.builtin.set_fact) (see the examples), or log on once and pass O(session_token).
  - Each term gives one element of the result, the list of what that query returned (or the value of O(jmespath)).
    So C(lookup()) with one term returns that list, even when it holds one session or none, and C(query()) returns one
    list per term.
author:
  - vbem.enterprise_manager contributors (@vbem)
options:
  _terms:
    description:
      - EM query types, for example V(BackupTaskSession) or V(Job). Case-insensitive.
    required: true
    type: list
    elements: str
  vm_name:
    description:
      - Task session types only. Only sessions of these VMs (exact names, case-insensitive, ORed).
    type: list
    elements: str
  state:
    description:
      - Session types only. Only sessions in one of these states (task types C(InProgress), C(Pending), C(Completed);
        job types C(Starting), C(Stopping), C(Working), C(Pausing), C(Resuming), C(Stopped)).
    type: list
    elements: str
  sort:
    description:
      - Field to sort by. For session types one of C(creation_time), C(end_time), C(name), C(vm_name), C(job_name),
        C(state), C(result), C(total_size) or an EM field name; for other types an EM field name such as C(Name).
      - Defaults to C(creation_time) for session types and to EM's own order for other types.
    type: str
  raw:
    description:
      - Return EM's own entities (PascalCase keys, C(Links)) instead of the normalised session dicts.
    type: bool
    default: false
  jmespath:
    description:
      - A JMESPath expression applied to each term's list of results before it is returned, for example V([].vm_name).
      - Needs the Python library C(jmespath) on the controller.
    type: str
extends_documentation_fragment:
  - vbem.enterprise_manager.connection
  - vbem.enterprise_manager.connection.plugins
  - vbem.enterprise_manager.query
notes:
  - Options are read with the usual precedence (direct keyword, then variables, then environment, then C(ansible.cfg)
    section C([vbem_enterprise_manager])), and typed, so V('no') is false.
  - Structured options (O(result), O(vm_name), O(job_name), O(state), O(created_after), O(created_before)) apply to
    session types only; for other types use O(filter).
requirements:
  - requests >= 2.25
  - jmespath (only for O(jmespath))
seealso:
  - module: vbem.enterprise_manager.backup_task_session_info
  - module: vbem.enterprise_manager.job_session_info
'''

EXAMPLES = r'''
# Evaluate once: a lookup in vars re-runs (and logs on to EM) at every use.
- name: Read failed backup task sessions once
  ansible.builtin.set_fact:
    failed_tasks: "{{ lookup('vbem.enterprise_manager.em_query', 'BackupTaskSession', result='Failed', created_after='24h', limit=0) }}"

- name: Names of the VMs whose last backup failed, with a raw filter and JMESPath
  ansible.builtin.debug:
    msg: "{{ lookup('vbem.enterprise_manager.em_query', 'BackupTaskSession', filter='Result==Failed', jmespath='[].vm_name') }}"

- name: Backup servers, as EM returns them
  ansible.builtin.set_fact:
    servers: "{{ lookup('vbem.enterprise_manager.em_query', 'BackupServer', sort='Name', order='ascending') }}"

- name: Two query types under a logon someone else owns (it is not logged off), one list per term
  ansible.builtin.set_fact:
    backup_jobs: "{{ job_lists[0] }}"
    replica_jobs: "{{ job_lists[1] }}"
  vars:
    job_lists: "{{ query('vbem.enterprise_manager.em_query', 'BackupJobSession', 'ReplicaJobSession',
                   session_token=em_token, limit=10) }}"

# Connection from variables (or VEEAM_EM_* env vars, or ansible.cfg [vbem_enterprise_manager]):
#   veeam_em_url: https://em.example.com:9398
#   veeam_em_username: svc-ansible
#   veeam_em_password: "{{ vault_em_password }}"
'''

RETURN = r'''
_raw:
  description:
    - One element per term - the list of that term's results, normalised session dicts (see
      M(vbem.enterprise_manager.backup_task_session_info)) for session types, EM's entities for other types or with
      O(raw) - or the value of the O(jmespath) expression applied to that list.
  type: list
  elements: raw
'''

import traceback

from ansible.errors import AnsibleError, AnsibleLookupError
from ansible.plugins.lookup import LookupBase

from ansible_collections.vbem.enterprise_manager.plugins.module_utils.client import HAS_REQUESTS, get_client
from ansible_collections.vbem.enterprise_manager.plugins.module_utils.errors import EmError
from ansible_collections.vbem.enterprise_manager.plugins.module_utils.info import run_raw_query, run_session_query
from ansible_collections.vbem.enterprise_manager.plugins.module_utils.options import EmOptionAdapter
from ansible_collections.vbem.enterprise_manager.plugins.module_utils.sessions import kind_for_query_type

JMESPATH_IMPORT_ERROR = None
try:
    import jmespath
    from jmespath.exceptions import JMESPathError
    HAS_JMESPATH = True
except ImportError:
    HAS_JMESPATH = False
    JMESPATH_IMPORT_ERROR = traceback.format_exc()

_SESSION_ONLY = ('vm_name', 'state', 'result', 'job_name', 'created_after', 'created_before')
_QUERY_OPTIONS = ('filter', 'sort', 'order', 'limit', 'page_size', 'raw') + _SESSION_ONLY


class LookupModule(LookupBase):
    """em_query: one logon, one query per term, always logged off."""

    def run(self, terms, variables=None, **kwargs):
        self.set_options(var_options=variables, direct=kwargs)
        if not HAS_REQUESTS:
            raise AnsibleError('The em_query lookup needs the Python library requests on the controller.')
        expression = self.get_option('jmespath')
        if expression and not HAS_JMESPATH:
            raise AnsibleError('The jmespath option needs the Python library jmespath on the controller.')
        params = dict((name, self.get_option(name)) for name in _QUERY_OPTIONS)
        plans = [self._plan(term, params) for term in terms]

        per_term = []
        client = None
        try:
            client = get_client(EmOptionAdapter.from_plugin(self))
            with client:
                for query_type, kind in plans:
                    per_term.append(self._run_term(client, query_type, kind, params))
        except EmError as exc:
            raise AnsibleLookupError(str(exc))
        finally:
            for warning in (client.warnings if client else []):
                self._display.warning(warning)

        # One element per term, so that lookup() of one term is always its
        # list of results, even when that list holds one session or none.
        if expression:
            try:
                return [jmespath.search(expression, results) for results in per_term]
            except JMESPathError as exc:
                raise AnsibleLookupError('The jmespath expression {0!r} is invalid: {1}'.format(expression, exc))
        return per_term

    @staticmethod
    def _plan(term, params):
        """Check a term before logging on: session types get their kind, others refuse session-only options."""
        query_type = str(term).strip()
        if not query_type:
            raise AnsibleLookupError('An empty query type was given; name an EM query type such as BackupTaskSession.')
        kind = kind_for_query_type(query_type)
        if kind is None:
            given = [name for name in _SESSION_ONLY if params.get(name)]
            if given:
                raise AnsibleLookupError('The option(s) {0} apply to session query types only, not to {1}; use filter instead.'.format(
                    ', '.join(given), query_type))
        return query_type, kind

    def _run_term(self, client, query_type, kind, params):
        """Run one term and return its list of results."""
        if kind is None:
            result = run_raw_query(client, query_type, params)
            for warning in result['warnings']:
                self._display.warning(warning)
            return result['items']
        session_params = dict(params)
        session_params['sort'] = params.get('sort') or 'creation_time'
        result = run_session_query(client, kind, session_params)
        for warning in result['warnings']:
            self._display.warning(warning)
        return result['sessions']
