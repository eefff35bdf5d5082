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
  - Runs one Enterprise Manager (EM) Query Service query per term and returns the results of all terms as one flat list,
    in term order (the convention of C(netbox.netbox.nb_lookup) and C(kubernetes.core.k8s)).
  - Session types (V(BackupTaskSession), V(ReplicaTaskSession), V(CdpReplicaTaskSession), V(BackupJobSession),
    V(ReplicaJobSession), V(CdpReplicaSession)) return the same normalised dicts as the C(*_session_info) modules,
    and restore point types (V(VmRestorePoint), V(VmReplicaPoint), V(AgentRestorePoint)) the same dicts as
    M(vbem.enterprise_manager.restore_point_info), with the same options where they apply;
    any other query type EM knows (V(Job), V(BackupServer), V(Repository), ...) returns EM's own entities.
  - An agent restore point names no computer, so with O(vm_name) a V(AgentRestorePoint) term is read one computer name
    at a time and each point carries the name it was asked for.
  - All terms share one EM logon, which is always logged off, unless O(session_token) is given.
  - Every option is checked before logging on. An option the lookup does not know, an empty value where a value is
    required, a number out of range, a time it cannot read or a O(filter) whose parentheses or quotes do not pair up
    fails the task with one sentence, and EM is not contacted.
  - B(What comes back.) Use C(query()) (or C(lookup(..., wantlist=true))) whenever the number of results matters;
    it always returns the flat list, so V(query(...) | length == 0) means "nothing matched".
  - C(lookup()) without C(wantlist) lets Ansible reshape that list (ansible-core does this to every lookup) -
    no result gives V([]); exactly one result gives that result alone (one session dict, not a list of one);
    several dicts give the list; several strings (for example with O(jmespath=[].vm_name)) are joined into
    one comma-separated string.
  - B(A lookup runs every time its value is used.) A lookup placed in a variable (C(vars:), group_vars, role defaults)
    is evaluated lazily, so every task that references the variable runs the query and logs on to EM again.
    Evaluate it once with M(ansible.builtin.set_fact) (see the examples), or log on once and pass O(session_token).
author:
  - vbem.enterprise_manager contributors (@vbem)
options:
  _terms:
    description:
      - EM query types, for example V(BackupTaskSession) or V(Job). Case-insensitive.
      - The results of several terms are concatenated in term order.
    required: true
    type: list
    elements: str
  vm_name:
    description:
      - Task session and restore point types only. Only sessions (points) of this VM, or of these VMs (exact names,
        case-insensitive, ORed); for V(AgentRestorePoint) computer names.
      - A string is always one name, even when it contains a comma (V(db,02) is one VM); give several names as a list.
    type: raw
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
  latest_per_vm:
    description:
      - Task session and restore point types only. Keep only the newest session (point) of each VM. O(limit) then counts
        VMs. For V(AgentRestorePoint) it needs O(vm_name), as EM cannot say which computer a point belongs to otherwise.
      - The newest session is found by comparing creation times, whatever order EM answers in.
      - Newest, then filter - O(result) and O(state) judge each VM's newest session, they do not pick it. With
        O(result=Success) a VM whose newest session failed is left out, never returned with an older success; check
        that every VM you expect is in the list (or use M(vbem.enterprise_manager.vm_protection_info)).
      - A VM is its C(VmUid) where EM sends one, else its name exactly as EM spells it - two VMs whose names differ only
        in case each keep their own newest session, with a warning naming them.
    type: bool
    default: false
  latest_per_job:
    description:
      - Job session types only. Keep only the newest session of each job. O(limit) then counts jobs.
      - As with O(latest_per_vm), the newest is found by time and O(result) and O(state) then filter it.
    type: bool
    default: false
  raw:
    description:
      - Return EM's own entities (PascalCase keys, C(Links)) instead of the normalised session dicts.
    type: bool
    default: false
  jmespath:
    description:
      - A JMESPath expression applied to the whole flat list of results (all terms together) before it is returned,
        for example V([].vm_name) or V([?result=='Failed'].vm_name).
      - A value that is not a list (V(length(@)), say) is returned as a list of one.
      - Checked before logging on. Needs the Python library C(jmespath) on the controller.
    type: str
extends_documentation_fragment:
  - vbem.enterprise_manager.connection
  - vbem.enterprise_manager.connection.plugins
  - vbem.enterprise_manager.query
  - vbem.enterprise_manager.query.sessions
  - vbem.enterprise_manager.query.entity
  - vbem.enterprise_manager.query.wait
notes:
  - Connection options are read with the usual precedence (direct keyword, then variables, then environment, then
    C(ansible.cfg) section C([vbem_enterprise_manager])), and typed, so V('no') is false.
  - Structured options (O(result), O(vm_name), O(job_name), O(state), O(created_after), O(created_before), O(id),
    O(missing_ok), O(latest_per_vm), O(latest_per_job), O(wait), O(wait_timeout), O(wait_sleep)) apply to session
    types only (restore point types take O(vm_name), O(created_after), O(created_before), O(id), O(missing_ok) and
    O(latest_per_vm) - they have no job, no result and no state); for other types use O(filter). O(id) names one session
    (point), so it takes exactly one such type as term.
requirements:
  - requests >= 2.25
  - jmespath (only for O(jmespath))
seealso:
  - module: vbem.enterprise_manager.backup_task_session_info
  - module: vbem.enterprise_manager.job_session_info
  - module: vbem.enterprise_manager.restore_point_info
'''

EXAMPLES = r'''
# Evaluate once: a lookup in vars re-runs (and logs on to EM) at every use.
- name: Read the failed backup task sessions of the last 24 hours once
  ansible.builtin.set_fact:
    failed_tasks: "{{ query('vbem.enterprise_manager.em_query', 'BackupTaskSession', result='Failed', created_after='24h', limit=0) }}"

- name: Report the VMs that had a failed backup task in the last 24 hours
  ansible.builtin.debug:
    msg: "{{ (failed_tasks | map(attribute='vm_name') | unique | join(', ')) if failed_tasks | length > 0 else 'no failures' }}"

# latest_per_vm keeps each VM's newest session (running or not), and the JMESPath filter keeps
# the VMs whose newest backup did not succeed (Failed, Warning, or None while still running).
- name: Names of the VMs whose last backup (in the last 30 days) did not succeed
  ansible.builtin.debug:
    msg: >-
      {{ query('vbem.enterprise_manager.em_query', 'BackupTaskSession', latest_per_vm=true,
               created_after='30d', limit=0, jmespath="[?result!='Success'].vm_name") }}

# A gate by hand, the safe way: result=Success judges each VM's newest session (newest, then filter),
# so a VM whose last backup failed is missing from the list - and the assert counts the VMs, not the sessions.
# vbem.enterprise_manager.vm_protection_info does this (and more) with a reason per VM.
- name: Every VM's newest backup of the last 24 hours succeeded
  vars:
    vms: [dbserver01, web01]
    newest_ok: >-
      {{ query('vbem.enterprise_manager.em_query', 'BackupTaskSession', vm_name=vms, latest_per_vm=true,
               result='Success', created_after='24h', limit=0) | map(attribute='vm_name') | map('lower') | list }}
  ansible.builtin.assert:
    that: vms | map('lower') | reject('in', newest_ok) | list == []
    fail_msg: "No successful newest backup for {{ vms | map('lower') | reject('in', newest_ok) | join(', ') }}"

- name: Each VM's newest restore point, whatever its job (restore points outlive the 30 days EM keeps sessions for)
  ansible.builtin.set_fact:
    newest_points: "{{ query('vbem.enterprise_manager.em_query', 'VmRestorePoint', vm_name=['dbserver01', 'web01'],
                       latest_per_vm=true, limit=0) }}"

- name: Backup servers, as EM returns them
  ansible.builtin.set_fact:
    servers: "{{ query('vbem.enterprise_manager.em_query', 'BackupServer', sort='Name', order='ascending') }}"

- name: Backup and replication job runs of the last day in one list, under a logon someone else owns (not logged off)
  ansible.builtin.set_fact:
    job_runs: "{{ query('vbem.enterprise_manager.em_query', 'BackupJobSession', 'ReplicaJobSession',
                  session_token=em_token, created_after='24h', limit=0) }}"

- name: One session by its UID, or an empty list when EM has none
  ansible.builtin.set_fact:
    one_session: "{{ query('vbem.enterprise_manager.em_query', 'BackupTaskSession',
                     id='urn:veeam:BackupTaskSession:88322206-a645-4aa3-9228-028ce51e7c0f', missing_ok=true) }}"

- name: The latest session of a VM whose name holds a comma, once it has finished
  ansible.builtin.set_fact:
    db02: "{{ query('vbem.enterprise_manager.em_query', 'BackupTaskSession', vm_name='db,02', latest_per_vm=true,
              wait=true, wait_timeout=1800, wait_sleep=30) }}"

# Connection from variables (or VEEAM_EM_* env vars, or ansible.cfg [vbem_enterprise_manager]):
#   veeam_em_url: https://em.example.com:9398
#   veeam_em_username: svc-ansible
#   veeam_em_password: "{{ vault_em_password }}"
'''

RETURN = r'''
_raw:
  description:
    - The results of all terms in one flat list, in term order - normalised session dicts (see
      M(vbem.enterprise_manager.backup_task_session_info)) for session types, EM's entities for other types or with
      O(raw).
    - With O(jmespath), the value of the expression applied to that whole list (a value that is not a list becomes a
      list of one).
    - C(query()) returns this list as it is; see the description for what C(lookup()) makes of it.
  type: list
  elements: raw
'''

import traceback

from ansible.errors import AnsibleLookupError
from ansible.plugins.lookup import LookupBase

from ansible_collections.vbem.enterprise_manager.plugins.module_utils import validate
from ansible_collections.vbem.enterprise_manager.plugins.module_utils.client import HAS_REQUESTS, get_client
from ansible_collections.vbem.enterprise_manager.plugins.module_utils.errors import EmError
from ansible_collections.vbem.enterprise_manager.plugins.module_utils.info import plan_session_query, run_raw_query, run_session_query
from ansible_collections.vbem.enterprise_manager.plugins.module_utils.options import EmOptionAdapter, plugin_variables
from ansible_collections.vbem.enterprise_manager.plugins.module_utils.sessions import kind_for_query_type

JMESPATH_IMPORT_ERROR = None
try:
    import jmespath
    from jmespath.exceptions import JMESPathError
    HAS_JMESPATH = True
except ImportError:
    HAS_JMESPATH = False
    JMESPATH_IMPORT_ERROR = traceback.format_exc()

_SESSION_ONLY = ('vm_name', 'job_name', 'result', 'state', 'created_after', 'created_before', 'id', 'missing_ok',
                 'latest_per_vm', 'latest_per_job', 'wait', 'wait_timeout', 'wait_sleep', 'fields')
_QUERY_OPTIONS = ('filter', 'sort', 'order', 'limit', 'page_size', 'concurrency', 'raw') + _SESSION_ONLY
_OWNER = 'The vbem.enterprise_manager.em_query lookup'


class LookupModule(LookupBase):
    """em_query: checks everything, then one logon, one query per term, one flat list, always logged off."""

    def run(self, terms, variables=None, **kwargs):
        try:
            plans, client, expression = self._prepare(terms, variables, kwargs)
        except EmError as exc:
            raise AnsibleLookupError(str(exc))

        results = []
        try:
            with client:
                for query_type, kind, params, plan in plans:
                    results.extend(self._run_term(client, query_type, kind, params, plan))
        except EmError as exc:
            raise AnsibleLookupError(str(exc))
        finally:
            for warning in client.warnings:
                self._display.warning(warning)

        if expression is None:
            return results
        try:
            found = expression.search(results)
        except JMESPathError as exc:
            raise AnsibleLookupError('jmespath {0!r} could not be applied to the results: {1}.'.format(
                expression.expression, str(exc).splitlines()[0].rstrip('.')))
        return found if isinstance(found, list) else [found]

    def _prepare(self, terms, variables, kwargs):
        """Everything that needs no EM, in the order a user fixes it: options, terms, values, connection."""
        definitions = self.option_definitions
        # Ansible would drop an unknown keyword silently (a misspelt vmname=
        # would return every session) and read validate_certs='maybe' as false.
        validate.unknown_options(kwargs, definitions, _OWNER)
        validate.plugin_option_values(kwargs, definitions, skip=_QUERY_OPTIONS)
        query_types = [validate.query_type(term) for term in (terms or [])]
        if not query_types:
            raise EmError('{0} needs at least one term, an EM query type such as BackupTaskSession.'.format(_OWNER))
        direct = dict((name, kwargs[name]) for name in _QUERY_OPTIONS if kwargs.get(name) is not None)
        checked = []
        for query_type in query_types:
            kind = kind_for_query_type(query_type)
            if kind is None:
                given = [name for name in _SESSION_ONLY if name in direct]
                if given:
                    raise EmError('The option(s) {0} apply to session query types only, not to {1}; use filter instead.'.format(
                        ', '.join(given), query_type))
                validate.query_params(direct)
            else:
                validate.session_params(kind, direct)
            checked.append((query_type, kind))
        if 'id' in direct and len(query_types) > 1:
            raise EmError('id names one session, so give exactly one session query type as the term, not {0}.'.format(len(query_types)))
        expression = self._jmespath(kwargs.get('jmespath'))

        # An empty veeam_em_* variable (AWX sends optional fields empty) means unset, not '' or false.
        var_options = plugin_variables(variables)
        self.set_options(var_options=var_options, direct=kwargs)
        if not HAS_REQUESTS:
            raise EmError('The em_query lookup needs the Python library requests on the controller.')
        params = dict((name, self.get_option(name)) for name in _QUERY_OPTIONS)
        client = get_client(EmOptionAdapter.from_plugin(self, direct=kwargs, variables=var_options))
        plans = []
        try:
            for query_type, kind in checked:
                if kind is None:
                    plans.append((query_type, None, validate.query_params(params), None))
                else:
                    session_params = validate.session_params(kind, params)
                    session_params['sort'] = session_params.get('sort') or 'creation_time'
                    plans.append((query_type, kind, session_params, plan_session_query(client, kind, session_params)))
        except BaseException:
            client.close()  # not logged on yet: this only releases its connection pool
            raise
        return plans, client, expression

    @staticmethod
    def _jmespath(expression):
        """The compiled expression, or None; a bad expression fails before logging on."""
        if expression is None:
            return None
        validate.text(expression, 'jmespath', 'a JMESPath expression such as [].vm_name')
        if not HAS_JMESPATH:
            raise EmError('The jmespath option needs the Python library jmespath on the controller.')
        try:
            return jmespath.compile(expression)
        except JMESPathError as exc:
            reason = str(exc).splitlines()[0].rstrip('.:, ')
            raise EmError('jmespath {0!r} is not a valid JMESPath expression ({1}); an example of one is [].vm_name.'.format(
                expression, reason))

    def _run_term(self, client, query_type, kind, params, plan):
        """Run one term and return its list of results."""
        if kind is None:
            result = run_raw_query(client, query_type, params)
            for warning in result['warnings']:
                self._display.warning(warning)
            return result['items']
        result = run_session_query(client, kind, params, plan=plan)
        for warning in result['warnings']:
            self._display.warning(warning)
        return result['sessions']
