# -*- coding: utf-8 -*-
# Copyright (c) 2026, vbem.enterprise_manager contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
name: em_inventory
short_description: VMs protected by Veeam, as hosts, grouped by their newest session and the gate's verdict
version_added: 0.2.0
description:
  - Makes every VM that has task sessions in a window (O(created_after)) for the chosen O(sources) a host, named as
    Enterprise Manager (EM) displays the VM.
  - Each host gets its newest session of each source (C(vbem_backup), C(vbem_replica), C(vbem_cdp)) and the verdict
    the gate module M(vbem.enterprise_manager.vm_protection_info) would give with the same O(max_age), O(accept),
    O(require) and O(running) options (C(vbem_protection)), so a play can target C(backup_Failed) or the VMs that
    are not protected.
  - Accepts inventory files whose names end in C(em.yml) or C(em.yaml) and that name this plugin in C(plugin).
  - Every option is checked before anything else happens. Then the cache is read (with O(cache)); only when it has
    no fresh answer does the plugin log on to EM, once for all sources, and it always logs off.
  - Verdicts are made each time the inventory is built, also from cached sessions, so a session that grows older
    than O(max_age) while cached turns C(stale).
author:
  - vbem.enterprise_manager contributors (@vbem)
extends_documentation_fragment:
  - constructed
  - inventory_cache
  - vbem.enterprise_manager.connection
  - vbem.enterprise_manager.connection.plugins
options:
  plugin:
    description:
      - The name of this plugin; it makes the file an em_inventory source.
    type: str
    required: true
    choices: [vbem.enterprise_manager.em_inventory]
  sources:
    description:
      - Which task sessions make a VM a host and are judged - V(backup) (C(BackupTaskSession)), V(replica)
        (C(ReplicaTaskSession)), V(cdp) (C(CdpReplicaTaskSession)).
    type: list
    elements: str
    choices: [backup, replica, cdp]
    default: [backup]
  created_after:
    description:
      - The window - only sessions created at or after this time are read. A relative age such as V(24h), V(7d) or
        V(2w), or an ISO-8601 date-time.
      - It must reach at least as far back as O(max_age).
      - A source without a session in the window gets C(null) and the verdict code C(no_session).
    type: str
    default: 7d
  max_age:
    description:
      - A VM passes only when the session judged was created after this - a relative age such as V(24h), or an
        ISO-8601 date-time. Older sessions give the code C(stale).
    type: str
    default: 24h
  accept:
    description:
      - Results that pass.
    type: list
    elements: str
    choices: [Success, Warning]
    default: [Success]
  require:
    description:
      - With several O(sources), V(any) passes a VM when one source passes, V(all) only when every source does.
    type: str
    choices: [any, all]
    default: any
  running:
    description:
      - What a newest session that is still running means. V(previous) judges the newest completed session before
        it; V(fail) fails the VM with the code C(running). An inventory cannot wait for sessions to finish.
      - A running CDP session is judged on its live result either way, as the gate does.
    type: str
    choices: [previous, fail]
    default: previous
  page_size:
    description:
      - Sessions fetched per EM request.
    type: int
    default: 1000
notes:
  - One EM logon per inventory build (none when the cache answers), logged off on every path.
  - Host names are EM's VM display names as they are - they may contain spaces and characters such as C(;), C(<) or
    C(&). Every value from EM is marked unsafe, so a VM name is never templated.
  - Host variables from EM - C(vbem_backup), C(vbem_replica), C(vbem_cdp) are normalised sessions as
    M(vbem.enterprise_manager.backup_task_session_info) returns them (C(uid), C(name), C(vm_name), C(job_name),
    C(state), C(result), C(reason), C(creation_time), C(end_time), C(total_size), ...), or C(null) when the VM has no
    session of that source in the window or the source is not in O(sources). C(vbem_protection) holds C(passed),
    C(code) (C(passed), C(failed_result), C(warning_result), C(unaccepted_result), C(stale), C(no_session),
    C(running)), C(reason), and C(sources) with the same three keys per source.
  - The cache key covers the file, O(url), O(sources), O(created_after) and O(page_size); changing O(max_age),
    O(accept), O(require) or O(running) re-judges cached sessions without asking EM again.
  - AWX and AAP pass credentials to inventory sources as environment variables only - E(VEEAM_EM_URL),
    E(VEEAM_EM_USERNAME), E(VEEAM_EM_PASSWORD), E(VEEAM_EM_CA_PATH), ... work on their own.
seealso:
  - module: vbem.enterprise_manager.vm_protection_info
  - plugin: vbem.enterprise_manager.em_query
    plugin_type: lookup
'''

EXAMPLES = r'''
# vbem_em.yml: the VMs with backups in the last week, grouped by their newest result.
# Connection from VEEAM_EM_URL, VEEAM_EM_USERNAME, VEEAM_EM_PASSWORD (and VEEAM_EM_CA_PATH).
plugin: vbem.enterprise_manager.em_inventory
keyed_groups:
  # backup_Success, backup_Warning, backup_Failed, backup_None (running)
  - key: vbem_backup.result
    prefix: backup
  # protection_passed, protection_stale, protection_failed_result, ...
  - key: vbem_protection.code
    prefix: protection
groups:
  unprotected: not vbem_protection.passed

---
# prod_em.yml: backup and CDP, both required, cached for 10 minutes.
plugin: vbem.enterprise_manager.em_inventory
url: https://em.example.com:9398
ca_path: /etc/pki/em-ca.pem
sources: [backup, cdp]
require: all
created_after: 14d
max_age: 36h
accept: [Success, Warning]
cache: true
cache_plugin: ansible.builtin.jsonfile
cache_connection: /var/cache/ansible/em_inventory
cache_timeout: 600
compose:
  last_backup_end: vbem_backup.end_time
keyed_groups:
  - key: vbem_backup.job_name
    prefix: job

# Then, for example:
#   ansible-inventory -i vbem_em.yml --graph
#   ansible-playbook -i vbem_em.yml -i hosts.ini remediate.yml --limit 'backup_Failed:&linux'
'''

import difflib
import hashlib
import json

from ansible.errors import AnsibleParserError
from ansible.plugins.inventory import BaseInventoryPlugin, Cacheable, Constructable
from ansible.utils.unsafe_proxy import wrap_var

from ansible_collections.vbem.enterprise_manager.plugins.module_utils import inventory as em_inventory
from ansible_collections.vbem.enterprise_manager.plugins.module_utils.client import HAS_REQUESTS, get_client
from ansible_collections.vbem.enterprise_manager.plugins.module_utils.errors import EmError
from ansible_collections.vbem.enterprise_manager.plugins.module_utils.info import plan_session_query
from ansible_collections.vbem.enterprise_manager.plugins.module_utils.options import EmOptionAdapter
from ansible_collections.vbem.enterprise_manager.plugins.module_utils.sessions import KINDS
from ansible_collections.vbem.enterprise_manager.plugins.module_utils.verdict import SOURCE_KINDS

_PLAN_OPTIONS = ('sources', 'created_after', 'max_age', 'accept', 'require', 'running', 'page_size')


class InventoryModule(BaseInventoryPlugin, Constructable, Cacheable):
    """em_inventory: options checked, cache read, then at most one EM logon."""

    NAME = 'vbem.enterprise_manager.em_inventory'

    def verify_file(self, path):
        return super(InventoryModule, self).verify_file(path) and path.endswith(('em.yml', 'em.yaml'))

    def parse(self, inventory, loader, path, cache=True):
        super(InventoryModule, self).parse(inventory, loader, path, cache)
        config = self._read_config_data(path)
        # ansible-core ignores keys no option declares: a typo (max_agee) would silently use the default.
        unknown = sorted(str(key) for key in config if key not in self._options)
        if unknown:
            hints = [difflib.get_close_matches(key, list(self._options), n=1) for key in unknown]
            raise AnsibleParserError('{0}: unknown option{1} {2}{3}; see ansible-doc -t inventory {4} for the options.'.format(
                path, 's' if len(unknown) > 1 else '', ', '.join(unknown),
                ''.join(' (did you mean {0}?)'.format(h[0]) for h in hints if h) if len(unknown) == 1 else '', self.NAME))
        try:
            plan = em_inventory.plan(dict((name, self.get_option(name)) for name in _PLAN_OPTIONS))
        except EmError as exc:
            raise AnsibleParserError('{0}: {1}'.format(path, exc))

        cache_key = self._cache_key(path, plan)
        use_cache = self.get_option('cache') and cache
        update_cache = self.get_option('cache') and not cache
        data = None
        if use_cache:
            try:
                data = self._cache[cache_key]
            except KeyError:
                update_cache = True
            if data is not None and not em_inventory.usable(data, plan):
                data, update_cache = None, True
        if data is None:
            data = self._read_em(path, plan, config)
        if update_cache:
            self._cache[cache_key] = data
        self._populate(data, plan)

    def _cache_key(self, path, plan):
        """The path's key plus what the sessions read depend on, so a changed source list never reads stale data."""
        scope = json.dumps([self.get_option('url'), plan['sources'], self.get_option('created_after'), plan['page_size']],
                           sort_keys=True, default=str)
        return '{0}_{1}'.format(self.get_cache_key(path), hashlib.sha256(scope.encode('utf-8')).hexdigest()[:12])

    def _read_em(self, path, plan, config):
        """One logon for every source; everything EM-independent is checked before it.

        ``config`` is the inventory file's content, which ``_read_config_data`` gave ``set_options`` as its direct options.
        """
        if not HAS_REQUESTS:
            raise AnsibleParserError('The em_inventory plugin needs the Python library requests on the controller.')
        client = None
        try:
            client = get_client(EmOptionAdapter.from_plugin(self, direct=config, variables=self._vars))
            params = em_inventory.query_params(plan)
            plans = dict((source, plan_session_query(client, KINDS[SOURCE_KINDS[source]], params, plan['now']))
                         for source in plan['sources'])
            with client:
                data, warnings = em_inventory.collect(client, plan, plans)
        except EmError as exc:
            raise AnsibleParserError('{0}: {1}'.format(path, exc))
        finally:
            for warning in (client.warnings if client else []):
                self.display.warning(warning)
        for warning in warnings:
            self.display.warning(warning)
        return data

    def _populate(self, data, plan):
        strict = self.get_option('strict')
        for name, variables in em_inventory.hosts(data, plan['policy']):
            host = self.inventory.add_host(wrap_var(name))
            variables = wrap_var(variables)
            for key, value in variables.items():
                self.inventory.set_variable(host, key, value)
            self._set_composite_vars(self.get_option('compose'), variables, host, strict=strict)
            self._add_host_to_composed_groups(self.get_option('groups'), variables, host, strict=strict)
            self._add_host_to_keyed_groups(self.get_option('keyed_groups'), variables, host, strict=strict)
