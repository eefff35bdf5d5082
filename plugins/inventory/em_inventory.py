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
  - Reads inventory files whose names end in C(em.yml), C(em.yaml), C(em_inventory.yml) or C(em_inventory.yaml) and
    that name this plugin in C(plugin); a file that names this plugin but ends otherwise gets a warning naming these
    endings and is not read.
  - B(A failed build is only a warning with ansible-core's defaults) - C(ansible-playbook) and C(ansible-inventory)
    then go on with the other inventory sources, or with no hosts at all, and exit 0. Set
    E(ANSIBLE_INVENTORY_UNPARSED_FAILED=true) (C([inventory] unparsed_is_failed = true)) so that an inventory from
    which no source could be read is an error, and, when this source is combined with others (C(-i em.yml -i hosts.ini)),
    E(ANSIBLE_INVENTORY_ANY_UNPARSED_IS_FAILED=true) (C([inventory] any_unparsed_is_failed = true)) so that this source
    failing alone is one too. AWX and AAP set E(ANSIBLE_INVENTORY_UNPARSED_FAILED=True) for every inventory update, so a
    failed sync there is a failed job.
  - Makes every VM that has task sessions (or restore points) in a window (O(created_after)) for the chosen O(sources) a host, named as
    Enterprise Manager (EM) displays the VM, or as O(hostnames) says. C(vbem_vm_name) holds EM's name of the VM.
  - Each host gets its newest session of each source (C(vbem_backup), C(vbem_replica), C(vbem_cdp)) and the verdict
    the gate module M(vbem.enterprise_manager.vm_protection_info) would give with the same O(max_age), O(accept),
    O(require) and O(running) options (C(vbem_protection)), judged by the same code, so a play can target
    C(backup_Failed) or the VMs that are not protected.
  - Every option, including the Jinja expressions of O(compose), O(groups), O(keyed_groups) and O(hostnames) (their
    syntax, and that each filter and test they use exists), is checked before anything else happens; a value that
    cannot be meant (C(maybe) for O(cache), an unknown option) is refused with one sentence. Then the cache is read (with
    O(cache)); only when it has no fresh answer does the plugin log on to EM, once for all sources, and it always
    logs off. A cache entry that is not what this plugin writes is ignored with a warning and read again from EM.
  - The hosts are added only once EM's answers were read whole and every host was judged and named - an error from EM
    adds no host at all, and an error of a O(strict) O(compose), O(groups) or O(keyed_groups) expression removes the
    hosts, groups and variables this source had added.
  - A VM that cannot be a safe host - its name (or the O(hostnames) result) is empty, is C(all) or C(ungrouped), is a
    form of C(localhost) (C(localhost), C(127.0.0.1), C(::1)), starts with C(-) (which ssh would read as an option),
    holds a control character, or could be read as a template (a brace, a C(#jinja2:) start), or another VM gets the
    same host name - is left out of the inventory, and one
    warning names every VM left out and why. VMs sharing a host name are all left out, so no host ever carries another
    VM's sessions or verdict.
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
      - Which task sessions or restore points make a VM a host and are judged - V(backup) (C(BackupTaskSession)),
        V(replica) (C(ReplicaTaskSession)), V(cdp) (C(CdpReplicaTaskSession)), V(restore_point) (C(VmRestorePoint)),
        V(replica_point) (C(VmReplicaPoint)), as the gate judges them - a restore point source passes when the newest
        point is newer than O(max_age).
      - Veeam Agent restore points (the gate's V(agent)) name no computer, so they cannot make hosts; judge agent
        computers with M(vbem.enterprise_manager.vm_protection_info).
    type: list
    elements: str
    choices: [backup, replica, cdp, restore_point, replica_point]
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
  hostnames:
    description:
      - How to name each VM's host - a list of Jinja expressions over the host's variables (C(vbem_vm_name),
        C(vbem_backup), C(vbem_protection), ...; C(vm_name) is the same as C(vbem_vm_name)); the first one that gives
        a non-empty result names the host, as the cloud inventory plugins' C(hostnames) do. An expression that fails
        counts as empty unless O(strict) is true.
      - Without it a host is named as EM displays the VM. A VM for which no expression gives a name is left out of the
        inventory with a warning; end the list with V(vbem_vm_name) to fall back to EM's name instead.
      - For example V(vbem_vm_name | lower ~ '.corp.example.com') names hosts like an inventory of FQDNs, so that
        C(backup_Failed:&db) intersects this source's groups with the other inventory's.
    type: list
    elements: str
    version_added: 0.2.0
notes:
  - One EM logon per inventory build (none when the cache answers), logged off on every path.
  - Host names are EM's VM display names as they are (unless O(hostnames) is set) - they may contain spaces and
    characters such as C(;), C(<) or C(&).
  - No text from EM is ever templated - a VM name or reason holding C({{ lookup('pipe', 'id') }}) stays that text in
    host variables, O(compose), O(groups), O(keyed_groups), O(hostnames) and playbooks. Text holding a brace (or
    starting with C(#jinja2:)) is marked unsafe, and C(ansible-inventory --list) writes it as an object with the one
    key C(__ansible_unsafe), the form Ansible reads back as unsafe text. All other text is written as plain strings,
    on every ansible-core version (2.19 and later would otherwise write every string of an inventory plugin in that
    form, which AWX imports as dicts).
  - Host variables from EM - C(vbem_backup), C(vbem_replica), C(vbem_cdp) are normalised sessions as
    M(vbem.enterprise_manager.backup_task_session_info) returns them (C(uid), C(name), C(vm_name), C(job_name),
    C(state), C(result), C(reason), C(creation_time), C(end_time), C(total_size), ...), or C(null) when the VM has no
    session of that source in the window or the source is not in O(sources). C(vbem_protection) holds C(passed),
    C(code) (C(passed), C(failed_result), C(warning_result), C(unaccepted_result), C(stale), C(no_session),
    C(running)), C(reason), and C(sources) with the same three keys per source. C(vbem_vm_name) is EM's name of the
    VM.
  - C(vbem_restore_point) and C(vbem_replica_point) are the VM's newest restore point (replica point) in the window
    as M(vbem.enterprise_manager.restore_point_info) returns it (C(uid), C(name), C(creation_time), C(point_type),
    C(algorithm), C(backup_file) or C(replica_name), C(backup_server), ...) plus C(age_seconds), its age when the
    inventory was built, or C(null).
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

---
# fqdn_em_inventory.yml: hosts named like the rest of the inventory, so groups intersect.
plugin: vbem.enterprise_manager.em_inventory
hostnames:
  - vbem_vm_name | lower ~ '.corp.example.com'
keyed_groups:
  - key: vbem_backup.result
    prefix: backup

# Then, for example (ANSIBLE_INVENTORY_ANY_UNPARSED_IS_FAILED makes a failed EM source an error):
#   ansible-inventory -i vbem_em.yml --graph
#   ANSIBLE_INVENTORY_ANY_UNPARSED_IS_FAILED=true \
#     ansible-playbook -i fqdn_em_inventory.yml -i hosts.ini remediate.yml --limit 'backup_Failed:&linux'
'''

import difflib
import hashlib
import json
import re

from jinja2 import Environment as _JinjaEnvironment, nodes as _jinja_nodes
from jinja2.defaults import DEFAULT_FILTERS, DEFAULT_TESTS
from jinja2.exceptions import TemplateSyntaxError
from jinja2.parser import Parser

from ansible import constants as C
from ansible.errors import AnsibleError, AnsibleParserError
from ansible.plugins.inventory import BaseInventoryPlugin, Cacheable, Constructable
from ansible.plugins.loader import filter_loader, test_loader
from ansible.utils.unsafe_proxy import wrap_var

try:  # ansible-core 2.19+: strings are untrusted unless tagged, and ansible-inventory shows the untrusted ones as unsafe.
    from ansible.template import trust_as_template
except ImportError:  # ansible-core 2.16-2.18: every string is trusted unless wrapped as unsafe.
    trust_as_template = None

from ansible_collections.vbem.enterprise_manager.plugins.module_utils import validate
from ansible_collections.vbem.enterprise_manager.plugins.plugin_utils import inventory as em_inventory
from ansible_collections.vbem.enterprise_manager.plugins.module_utils.client import HAS_REQUESTS, get_client
from ansible_collections.vbem.enterprise_manager.plugins.module_utils.errors import EmError
from ansible_collections.vbem.enterprise_manager.plugins.module_utils.info import plan_session_query
from ansible_collections.vbem.enterprise_manager.plugins.module_utils.options import EmOptionAdapter
from ansible_collections.vbem.enterprise_manager.plugins.module_utils.sessions import KINDS
from ansible_collections.vbem.enterprise_manager.plugins.module_utils.verdict import SOURCE_KINDS

_PLAN_OPTIONS = ('sources', 'created_after', 'max_age', 'accept', 'require', 'running', 'page_size')
ACCEPTED_ENDINGS = ('em.yml', 'em.yaml', 'em_inventory.yml', 'em_inventory.yaml')
# Names Ansible gives a meaning of its own: its two implicit groups and the forms of the implicit localhost.
RESERVED_HOST_NAMES = ('all', 'ungrouped') + tuple(C.LOCALHOST)
_NAMES_THIS_PLUGIN = re.compile(r'^plugin\s*:\s*["\']?vbem\.enterprise_manager\.em_inventory["\']?\s*(#.*)?$', re.MULTILINE)
_LEFT_OUT_SHOWN = 10
# What _compose_or_skip gives for an expression that failed outside strict mode (None is a value a template can give).
_SKIPPED = object()


def for_inventory(value):
    """``value`` with each string marked for Ansible: text that could be a template is never templated, the rest is plain.

    Only text holding a brace (or a ``#jinja2:`` first line) is marked unsafe
    (``wrap_var``); other text is tagged trusted on ansible-core 2.19+, which
    changes nothing when templating it (it holds no template) but keeps
    ``ansible-inventory --list`` and AWX's inventory import from seeing every
    string as ``{"__ansible_unsafe": ...}``.
    """
    if isinstance(value, dict):
        return dict((key, for_inventory(item)) for key, item in value.items())
    if isinstance(value, (list, tuple)):
        return [for_inventory(item) for item in value]
    if isinstance(value, str):
        # str.__str__, not str(): ansible-core before 2.19 keeps a derived string (a compose or hostnames result) unsafe.
        text = str.__str__(value)
        if em_inventory.may_be_template(text):
            return wrap_var(text)
        return trust_as_template(text) if trust_as_template else text
    return value


def _jinja_problem(expression, what):
    """One sentence when ``expression`` cannot be a Jinja expression Ansible evaluates (syntax, filter, test); else None."""
    if not isinstance(expression, str) or not expression.strip():
        return '{0} must be a Jinja expression (text), not {1}.'.format(what, em_inventory.shown(expression))
    try:
        parser = Parser(_JinjaEnvironment(), expression, state='variable')
        tree = parser.parse_expression()
        if not parser.stream.eos:
            parser.fail('unexpected {0!r} after the expression'.format(parser.stream.current.value))
    except TemplateSyntaxError as exc:
        return '{0} {1} is not a Jinja expression: {2}.'.format(what, em_inventory.shown(expression), str(exc.message).rstrip('.'))
    for node_type, builtins, loader, kind in ((_jinja_nodes.Filter, DEFAULT_FILTERS, filter_loader, 'filter'),
                                              (_jinja_nodes.Test, DEFAULT_TESTS, test_loader, 'test')):
        for node in [tree] * isinstance(tree, node_type) + list(tree.find_all(node_type)):
            if node.name in builtins:
                continue
            try:
                found = loader.get(node.name)
            except KeyError:
                found = None
            if found is None:
                return '{0} {1} uses the {2} {3}, which Ansible does not know.'.format(
                    what, em_inventory.shown(expression), kind, node.name)
    return None


class InventoryModule(BaseInventoryPlugin, Constructable, Cacheable):
    """em_inventory: options checked, cache read, then at most one EM logon; hosts added only when all of them can be."""

    NAME = 'vbem.enterprise_manager.em_inventory'

    def verify_file(self, path):
        if not super(InventoryModule, self).verify_file(path):
            return False
        if path.endswith(ACCEPTED_ENDINGS):
            return True
        if self._names_this_plugin(path):
            self.display.warning('{0} names the {1} plugin, which reads only files whose names end in {2}; rename the file.'.format(
                path, self.NAME, ', '.join(ACCEPTED_ENDINGS)))
        return False

    @staticmethod
    def _names_this_plugin(path):
        try:
            with open(path, 'rb') as handle:
                head = handle.read(65536).decode('utf-8', 'replace')
        except (IOError, OSError):
            return False
        return bool(_NAMES_THIS_PLUGIN.search(head))

    def parse(self, inventory, loader, path, cache=True):
        super(InventoryModule, self).parse(inventory, loader, path, cache)
        config = self._read_config_data(path)
        problem = self._config_problem(config)
        if problem:
            raise AnsibleParserError('{0}: {1}'.format(path, problem))
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
            if data is not None:
                stale = em_inventory.cache_problem(data, plan)
                if stale:
                    self.display.warning('{0}: the cached inventory is ignored and read again from EM: {1}.'.format(path, stale))
                    data, update_cache = None, True
        if data is None:
            data = self._read_em(path, plan, config)
        if update_cache:
            self._cache[cache_key] = data
        self._populate(path, data, plan)

    def _config_problem(self, config):
        """One sentence on the first thing in the inventory file that cannot be meant; None when all of it can."""
        # ansible-core ignores keys no option declares: a typo (max_agee) would silently use the default.
        unknown = sorted(str(key) for key in config if key not in self._options)
        if unknown:
            hints = [difflib.get_close_matches(key, list(self._options), n=1) for key in unknown]
            return 'unknown option{0} {1}{2}; see ansible-doc -t inventory {3} for the options.'.format(
                's' if len(unknown) > 1 else '', ', '.join(unknown),
                ''.join(' (did you mean {0}?)'.format(h[0]) for h in hints if h) if len(unknown) == 1 else '', self.NAME)
        definitions = self.option_definitions
        for name in sorted(config):
            value, kind = config[name], (definitions.get(name) or {}).get('type')
            # ansible-core reads any word that is not a boolean as false: cache: maybe would silently mean no cache.
            if value is None and kind not in ('bool', 'boolean', 'int', 'integer'):
                continue
            try:
                validate.plugin_value(value, name, kind)
            except EmError as exc:
                return str(exc)
        return (self._mapping_problem(config, 'compose', 'an expression')
                or self._mapping_problem(config, 'groups', 'a condition')
                or self._keyed_groups_problem(config.get('keyed_groups'), definitions)
                or self._hostnames_problem(config.get('hostnames')))

    @staticmethod
    def _mapping_problem(config, option, meaning):
        value = config.get(option)
        if value is None:
            return None
        if not isinstance(value, dict):
            return '{0} must map names to {1}, not {2}.'.format(option, meaning, em_inventory.shown(value))
        for name, expression in value.items():
            if not isinstance(name, str) or not name:
                return '{0} holds the name {1}; each name must be text.'.format(option, em_inventory.shown(name))
            if isinstance(expression, bool) and option == 'groups':
                continue
            problem = _jinja_problem(expression, '{0}[{1!r}]'.format(option, name))
            if problem:
                return problem
        return None

    @staticmethod
    def _keyed_groups_problem(value, definitions):
        if value is None:
            return None
        if not isinstance(value, list):
            return 'keyed_groups must be a list of {{key: ..., prefix: ...}} entries, not {0}.'.format(em_inventory.shown(value))
        allowed = sorted((definitions.get('keyed_groups') or {}).get('suboptions') or
                         ('key', 'prefix', 'separator', 'parent_group', 'default_value', 'trailing_separator'))
        for index, entry in enumerate(value):
            where = 'keyed_groups[{0}]'.format(index)
            if not isinstance(entry, dict):
                return '{0} must be a mapping with key and prefix, not {1}.'.format(where, em_inventory.shown(entry))
            unknown = sorted(str(k) for k in entry if k not in allowed)
            if unknown:
                return '{0} holds {1}; an entry may hold only {2}.'.format(where, ', '.join(unknown), ', '.join(allowed))
            if 'key' not in entry:
                return '{0} has no key; give the expression whose value names the group.'.format(where)
            if 'default_value' in entry and 'trailing_separator' in entry:
                return '{0} holds both default_value and trailing_separator; give one of them.'.format(where)
            for text_option in ('prefix', 'separator', 'default_value'):
                if text_option in entry and not isinstance(entry[text_option], str):
                    return '{0}.{1} must be text, not {2}.'.format(where, text_option, em_inventory.shown(entry[text_option]))
            if 'trailing_separator' in entry and not isinstance(entry['trailing_separator'], bool):
                return '{0}.trailing_separator must be true or false, not {1}.'.format(where, em_inventory.shown(entry['trailing_separator']))
            problem = _jinja_problem(entry['key'], where + '.key')
            if not problem and 'parent_group' in entry:
                problem = InventoryModule._template_problem(entry['parent_group'], where + '.parent_group')
            if problem:
                return problem
        return None

    @staticmethod
    def _template_problem(text, what):
        if not isinstance(text, str):
            return '{0} must be text, not {1}.'.format(what, em_inventory.shown(text))
        try:
            _JinjaEnvironment().parse(text)
        except TemplateSyntaxError as exc:
            return '{0} {1} is not a valid template: {2}.'.format(what, em_inventory.shown(text), str(exc.message).rstrip('.'))
        return None

    @staticmethod
    def _hostnames_problem(value):
        if value is None:
            return None
        if not isinstance(value, list) or not value:
            return 'hostnames must be a non-empty list of Jinja expressions, not {0}.'.format(em_inventory.shown(value))
        for index, expression in enumerate(value):
            problem = _jinja_problem(expression, 'hostnames[{0}]'.format(index))
            if problem:
                return problem
        return None

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
        warnings = []
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
            # Each warning once per build, however many sources or pages repeated it.
            for warning in _unique((client.warnings if client else []) + list(warnings)):
                self.display.warning(warning)
        return data

    def _host_name(self, vm_name, variables, strict):
        """The first non-empty result of the hostnames expressions (the VM name without them); None when none gives one."""
        expressions = self.get_option('hostnames')
        if not expressions:
            return vm_name
        context = dict(variables, vm_name=variables['vbem_vm_name'])
        for expression in expressions:
            name = self._compose_or_skip(expression, context, strict, AnsibleParserError,
                                         'hostnames expression {0!r} failed for VM {1!r}'.format(expression, vm_name))
            if name is _SKIPPED:
                continue
            if isinstance(name, bool) or not isinstance(name, (str, int, float)):
                if strict and name is not None:
                    raise AnsibleParserError('hostnames expression {0!r} gave {1} for VM {2!r}, not a name.'.format(
                        expression, em_inventory.shown(name), vm_name))
                continue
            name = str.__str__(str(name)).strip()
            if name:
                return name
        return None

    def _populate(self, path, data, plan):
        """Judge, name and check every host first; then add them all, or (on a strict constructed error) none."""
        strict = self.get_option('strict')
        judged = [(vm_name, for_inventory(dict(variables, vbem_vm_name=vm_name)))
                  for vm_name, variables in em_inventory.hosts(data, plan['policy'])]
        candidates = [(vm_name, self._host_name(vm_name, variables, strict)) for vm_name, variables in judged]
        named, left_out = em_inventory.assign_host_names(candidates, RESERVED_HOST_NAMES)
        if left_out:
            shown = '; '.join('{0}: {1}'.format(em_inventory.shown(vm), why) for vm, why in left_out[:_LEFT_OUT_SHOWN])
            more = len(left_out) - _LEFT_OUT_SHOWN
            self.display.warning('{0}: {1} VM{2} left out of the inventory because {3} cannot be a safe host name - {4}{5}. '
                                 'The hostnames option can give {6} a usable name.'.format(
                                     path, len(left_out), 's are' if len(left_out) > 1 else ' is',
                                     'their names' if len(left_out) > 1 else 'its name', shown,
                                     ' (and {0} more)'.format(more) if more > 0 else '', 'them' if len(left_out) > 1 else 'it'))
        variables_of = dict(judged)
        hosts_before, groups_before = set(self.inventory.hosts), set(self.inventory.groups)
        self._set_before = {}
        try:
            for vm_name, host_name in named:
                variables = variables_of[vm_name]
                host = self.inventory.add_host(for_inventory(host_name))
                for key, value in variables.items():
                    self._set(host, key, value)
                self._set_composite_vars(self.get_option('compose'), variables, host, strict=strict)
                self._add_host_to_composed_groups(self.get_option('groups'), variables, host, strict=strict)
                self._add_host_to_keyed_groups(self.get_option('keyed_groups'), variables, host, strict=strict)
        except AnsibleError:
            self._roll_back(hosts_before, groups_before)
            raise

    def _set(self, host, key, value):
        """set_variable, remembering what a host that existed before this source had, for a roll back."""
        existing = self.inventory.get_host(host)
        if existing is not None and (host, key) not in self._set_before:
            self._set_before[(host, key)] = (key in existing.vars, existing.vars.get(key))
        self.inventory.set_variable(host, key, value)

    def _set_composite_vars(self, compose, variables, host, strict=False):
        """constructed's compose, with each result marked as EM's own values are (see for_inventory)."""
        for varname, expression in (compose or {}).items():
            composite = self._compose_or_skip(expression, variables, strict, AnsibleError, 'Could not set {0} for host {1}'.format(varname, host))
            if composite is not _SKIPPED:
                self._set(host, varname, for_inventory(composite))

    def _compose_or_skip(self, expression, variables, strict, error, what):
        """constructed's compose; when it fails, ``error('<what>: <why>')`` if strict, else ``_SKIPPED``, as constructed's own compose."""
        try:
            return self._compose(expression, variables)
        except Exception as exc:  # pylint: disable=broad-except  # as constructed's own compose: strict decides
            if strict:
                raise error('{0}: {1}'.format(what, exc))
            return _SKIPPED

    def _roll_back(self, hosts_before, groups_before):
        """Undo this source's hosts, groups and variables, so a failed build leaves no partial inventory."""
        for (host, key), (had, value) in self._set_before.items():
            if host in hosts_before:
                variables = self.inventory.get_host(host).vars
                if had:
                    variables[key] = value
                else:
                    variables.pop(key, None)
        for name in set(self.inventory.hosts) - hosts_before:
            self.inventory.remove_host(self.inventory.get_host(name))
        for name in set(self.inventory.groups) - groups_before:
            group = self.inventory.groups[name]
            for host in list(group.hosts):
                group.remove_host(host)
            for parent in list(group.parent_groups):
                if group in parent.child_groups:
                    parent.child_groups.remove(group)
            self.inventory.remove_group(group)
            if name in self.inventory.groups:  # ansible-core before 2.19 takes the group's name
                self.inventory.remove_group(name)


def _unique(items):
    seen, result = set(), []
    for item in items:
        if item not in seen:
            seen.add(item)
            result.append(item)
    return result
