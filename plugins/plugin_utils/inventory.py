# -*- coding: utf-8 -*-
# Copyright (c) 2026, vbem.enterprise_manager contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""What the em_inventory plugin knows beyond Ansible's plumbing.

``plan`` checks the plugin's options before any logon or cache read;
``collect`` reads, with one logged-on client, each source's task sessions of
the window and keeps per VM the newest session and the newest completed one
(a plain, JSON-able structure: it is what the inventory cache stores);
``hosts`` judges every VM with the gate's own ``verdict.judge_vm`` at the
moment the inventory is built, so a cached read still ages correctly;
``cache_problem`` says why cached data cannot be used; ``host_name_problem``
and ``assign_host_names`` decide which VMs can become hosts under which name;
``may_be_template`` tells the text Ansible could template from plain text.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.vbem.enterprise_manager.plugins.module_utils import info, query, sessions, validate, verdict
from ansible_collections.vbem.enterprise_manager.plugins.module_utils import sources as source_table
from ansible_collections.vbem.enterprise_manager.plugins.module_utils.errors import EmError

# 2: 'others' keeps what shows that a name means two VMs.
CACHE_FORMAT = 2
# An inventory cannot wait for a running session.
RUNNING_MODES = tuple(mode for mode in verdict.RUNNING_MODES if mode != 'wait')
DEFAULT_CREATED_AFTER = '7d'
# The sources whose sessions or points name their VM, so that they can make hosts: an agent restore point names no
# computer (EM reads it one name a request), so it can judge a name given, never find one.
SOURCES = tuple(source.name for source in source_table.TABLE if source.session_kind.named)
HOST_VARS = tuple('vbem_' + source for source in SOURCES)


# The plugin's own sentences quote values as every other entry point does.
shown = validate.shown


def plan(options, now=None):
    """Check the plugin's options; return ``{'now', 'policy', 'sources', 'created_after', 'page_size'}``.

    ``options`` maps option names to values (``sources``, ``created_after``,
    ``max_age``, ``accept``, ``require``, ``running``, ``page_size``). Raises
    EmError with one sentence naming the option on anything it cannot use.
    """
    now = now if now is not None else query.utcnow()
    created_after = options.get('created_after')
    created_after = DEFAULT_CREATED_AFTER if created_after is None else created_after
    start, _age = validate.past_moment(created_after, 'created_after', now)
    running = options.get('running') or 'previous'
    if running not in RUNNING_MODES:
        raise EmError('running must be one of {0} in an inventory (it cannot wait for a session), not {1}.'.format(
            ', '.join(RUNNING_MODES), shown(running)))
    unnamed = [source for source in (options.get('sources') or ()) if source in source_table.BY_NAME and source not in SOURCES]
    if unnamed:
        raise EmError('sources: {0} cannot make hosts in an inventory - EM\'s {1} names no machine, so it can only be read '
                      'for names given (vm_protection_info, restore_point_info); choose from {2}.'.format(
                          ', '.join(unnamed), source_table.get(unnamed[0]).query_type, ', '.join(SOURCES)))
    max_age = options.get('max_age') if options.get('max_age') is not None else verdict.DEFAULT_MAX_AGE
    # Policy checks max_age on its own; check the window against it here so the
    # sentence names created_after, the option the user actually set.
    policy_probe = verdict.Policy(now=now, max_age=max_age, lookback=max_age)
    if start > policy_probe.cutoff:
        raise EmError('created_after ({0}) must reach at least as far back as max_age ({1}): sessions older than '
                      'created_after are never read, so they could never pass.'.format(created_after, max_age))
    policy = verdict.Policy(
        now=now,
        max_age=max_age,
        accept=options.get('accept') if options.get('accept') is not None else ('Success',),
        running=running,
        require=options.get('require') or 'any',
        sources=options.get('sources') if options.get('sources') is not None else ('backup',),
        lookback=created_after,
    )
    page_size = validate.page_size(options.get('page_size'))
    return {'now': now, 'policy': policy, 'sources': list(policy.sources), 'created_after': start, 'page_size': page_size}


def query_params(inventory_plan):
    """The session query of one source: the whole window, newest first, no limit."""
    return {'created_after': inventory_plan['created_after'], 'sort': 'creation_time', 'order': 'descending',
            'limit': 0, 'page_size': inventory_plan['page_size']}


def newest_by_vm(found, now, source='backup'):
    """``{folded name: {'pair': [newest, newest completed], 'others': [...]}}`` from a source's sessions (any order).

    The newest sessions are chosen by ``verdict.Evidence`` (by time, whatever
    EM's order, a session dated in the future above every other), so the
    inventory judges exactly what the gate would. ``others`` holds one more
    session for each spelling and ``VmUid`` of the name the pair does not show:
    what ``verdict.judge_sessions`` needs to see that a name means two VMs
    (``ambiguous``). Sessions without a VM name are skipped: they cannot become a host.
    """
    evidence, seen = {}, {}
    for session in found:
        name = session.get('vm_name')
        if not isinstance(name, str) or not name:
            continue
        key = verdict.fold(name)
        if key not in evidence:
            evidence[key] = verdict.Evidence(now, source == 'cdp')
            seen[key] = {}
        evidence[key].add(session)
        seen[key].setdefault((name, session.get('vm_uid')), session)
    result = {}
    for key, found_key in evidence.items():
        pair = [found_key.newest, found_key.completed]
        shown = set((s.get('vm_name'), s.get('vm_uid')) for s in pair if s is not None)
        others = [session for identity, session in seen[key].items() if identity not in shown]
        result[key] = {'pair': pair, 'others': others}
    return result


def collect(client, inventory_plan, plans=None):
    """Read every source's sessions of the window with one logged-on client.

    ``plans`` maps source to ``info.plan_session_query`` results made before
    logon (made here when absent). Returns ``(data, warnings)``; ``data`` is
    ``{'format', 'fetched', 'created_after', 'sources', 'vms': [{'vm_name',
    'sessions': {source: [newest, completed]}, 'others': {source: [sessions
    of other spellings or VmUids of the name]}}]}``, plain JSON-able values
    only, VMs in case-insensitive name order.
    """
    params = query_params(inventory_plan)
    vms = {}
    warnings = []
    for source in inventory_plan['sources']:
        kind = sessions.KINDS[verdict.SOURCE_KINDS[source]]
        source_plan = (plans or {}).get(source)
        result = info.run_session_query(client, kind, params, now=inventory_plan['now'], plan=source_plan)
        warnings.extend(result['warnings'])
        for key, found in newest_by_vm(result['sessions'], inventory_plan['now'], source).items():
            entry = vms.setdefault(key, {'vm_name': None, 'sessions': {}, 'others': {}, '_when': None})
            pair = found['pair']
            entry['sessions'][source] = pair
            if found['others']:
                entry['others'][source] = found['others']
            rank = sessions.newest_rank(pair[0], inventory_plan['now'])
            # The host name is EM's spelling in the VM's newest session of any source.
            if entry['_when'] is None or rank > entry['_when']:
                entry['vm_name'], entry['_when'] = pair[0].get('vm_name'), rank
    ordered = []
    for key in sorted(vms):
        entry = vms[key]
        ordered.append({'vm_name': entry['vm_name'], 'sessions': entry['sessions'], 'others': entry['others']})
    data = {
        'format': CACHE_FORMAT,
        'fetched': query.format_time(inventory_plan['now']),
        'created_after': query.format_time(inventory_plan['created_after']),
        'sources': list(inventory_plan['sources']),
        'vms': ordered,
    }
    return data, warnings


# The session (restore point) keys judging and the host variables read; each must be text or null in cached data.
_SESSION_TEXT_KEYS = ('vm_name', 'state', 'result', 'creation_time', 'end_time', 'job_name', 'reason')
_POINT_TEXT_KEYS = ('vm_name', 'name', 'creation_time', 'point_type', 'backup_file', 'replica_name', 'backup_server')


def _session_problem(session, required, points=False):
    if session is None:
        return None if not required else 'a VM without its newest session'
    if not isinstance(session, dict):
        return 'a session that is not a mapping'
    for key in (_POINT_TEXT_KEYS if points else _SESSION_TEXT_KEYS):
        if key not in session:
            return 'a session without {0}'.format(key)
        if session[key] is not None and not isinstance(session[key], str):
            return 'a session whose {0} is not text'.format(key)
    return None


def cache_problem(data, inventory_plan):
    """Why cached ``data`` cannot answer this plan (a short phrase), or None when it can.

    Checks the whole structure ``collect`` writes - format, sources, every
    VM's name and sessions with the keys judging reads and their types - so a
    damaged or foreign cache entry is read again instead of crashing the build
    or judging on made-up values.
    """
    if not isinstance(data, dict):
        return 'it is not a mapping'
    if data.get('format') != CACHE_FORMAT:
        return 'its format is {0}, not {1}'.format(shown(data.get('format')), CACHE_FORMAT)
    if data.get('sources') != list(inventory_plan['sources']):
        return 'it holds the sources {0}, not {1}'.format(shown(data.get('sources')), list(inventory_plan['sources']))
    vms = data.get('vms')
    if not isinstance(vms, list):
        return 'its vms is not a list'
    sources = set(inventory_plan['sources'])
    for vm in vms:
        if not isinstance(vm, dict) or not isinstance(vm.get('vm_name'), str) or not vm['vm_name']:
            return 'it holds a VM without a name'
        found = vm.get('sessions')
        if not isinstance(found, dict) or not found or not set(found) <= sources:
            return 'VM {0} has no sessions of the sources read'.format(shown(vm['vm_name']))
        for source, pair in found.items():
            if not isinstance(pair, list) or len(pair) != 2:
                return 'VM {0} has sessions that are not a [newest, completed] pair'.format(shown(vm['vm_name']))
            points = source_table.get(source).points
            problem = _session_problem(pair[0], True, points) or _session_problem(pair[1], False, points)
            if problem:
                return 'VM {0} has {1}'.format(shown(vm['vm_name']), problem)
        others = vm.get('others')
        if not isinstance(others, dict) or not set(others) <= sources:
            return 'VM {0} has no others of the sources read'.format(shown(vm['vm_name']))
        for source, listed in others.items():
            if not isinstance(listed, list):
                return 'VM {0} has others that are not a list'.format(shown(vm['vm_name']))
            for session in listed:
                problem = _session_problem(session, True, source_table.get(source).points)
                if problem:
                    return 'VM {0} has {1}'.format(shown(vm['vm_name']), problem)
    return None


def usable(data, inventory_plan):
    """Whether cached ``data`` answers this plan (see ``cache_problem``); anything else is read again."""
    return cache_problem(data, inventory_plan) is None


def may_be_template(text):
    """Whether Ansible could read ``text`` as a template: it holds a brace or starts with a ``#jinja2:`` override.

    Jinja's delimiters all start or end with a brace, and ansible-core 2.19+
    treats a ``#jinja2:`` first line as a template whatever follows it.
    """
    return '{' in text or '}' in text or text.startswith('#jinja2:')


def host_name_problem(name, reserved):
    """Why ``name`` cannot be a host name (a short phrase), or None when it can.

    ``reserved`` holds names Ansible gives a meaning of its own (``all``,
    ``ungrouped``, the forms of ``localhost``), compared case-insensitively
    and without a trailing dot, as name resolution does. A name starting with
    ``-`` would reach ssh's (or any command's) argument list as an option;
    control characters (a line break) would forge lines of Ansible's output;
    a name Ansible could read as a template (``may_be_template``) is refused
    too.
    """
    if not isinstance(name, str) or not name.strip():
        return 'it is empty'
    if name.casefold().rstrip('.') in set(r.casefold() for r in reserved):
        return 'Ansible reserves it'
    if name.startswith('-'):
        return 'it starts with -, which ssh would read as an option'
    if any(ord(ch) < 32 or 127 <= ord(ch) < 160 for ch in name):
        return 'it holds a control character'
    if may_be_template(name):
        # Kept as a host it would have to stay unsafe, and ansible-core before 2.19 writes an unsafe host name
        # as an object in the groups of ansible-inventory --list, which AWX's import cannot read.
        return 'it could be read as a template'
    return None


def assign_host_names(candidates, reserved):
    """Decide each VM's host name: ``(named, left_out)``.

    ``candidates`` is ``[(vm_name, host_name or None)]`` in inventory order.
    ``named`` is ``[(vm_name, host_name)]`` for the VMs that become hosts;
    ``left_out`` is ``[(vm_name, why)]`` for the others: no name, a name
    ``host_name_problem`` refuses, or a name two VMs share - then every VM
    sharing it is left out, so no host ever carries another VM's sessions.
    """
    left_out, usable_names = [], []
    for vm_name, host_name in candidates:
        if host_name is None:
            left_out.append((vm_name, 'no hostnames expression gave it a name'))
            continue
        problem = host_name_problem(host_name, reserved)
        if problem:
            if host_name != vm_name:
                problem = 'its host name {0} is refused: {1}'.format(shown(host_name), problem)
            left_out.append((vm_name, problem))
            continue
        usable_names.append((vm_name, host_name))
    owners = {}
    for vm_name, host_name in usable_names:
        owners.setdefault(host_name, []).append(vm_name)
    named = []
    for vm_name, host_name in usable_names:
        if len(owners[host_name]) > 1:
            others = [other for other in owners[host_name] if other != vm_name]
            left_out.append((vm_name, 'its host name {0} is also that of {1}'.format(
                shown(host_name), ', '.join(shown(other) for other in others))))
        else:
            named.append((vm_name, host_name))
    return named, left_out


def hosts(data, policy):
    """``[(host name, host vars)]`` for every VM in ``data``, judged now with ``policy``.

    Host vars: ``vbem_backup``, ``vbem_replica``, ``vbem_cdp`` (the newest
    session of that source, or None), ``vbem_restore_point``,
    ``vbem_replica_point`` (the newest point, with ``age_seconds`` at
    ``policy.now``, or None) and ``vbem_protection`` (``passed``, ``code``,
    ``reason`` and per source ``{passed, code, reason}``).
    """
    result = []
    for vm in data['vms']:
        # The gate's own judge over the sessions kept: the same newest, and every spelling and VmUid of the name.
        found = dict((source, [s for s in pair if s is not None] + vm['others'].get(source, []))
                     for source, pair in vm['sessions'].items())
        judged = verdict.judge_sessions(found, policy, requested_name=vm['vm_name'])
        variables = dict((var, None) for var in HOST_VARS)
        for source, pair in vm['sessions'].items():
            variables['vbem_' + source] = pair[0]
            if source_table.get(source).points:
                made = sessions.parse_em_time(pair[0].get('creation_time'))
                age = round((policy.now - made).total_seconds()) if made is not None else None
                variables['vbem_' + source] = dict(pair[0], age_seconds=age)
        variables['vbem_protection'] = {
            'passed': judged['passed'],
            'code': judged['code'],
            'reason': judged['reason'],
            'sources': dict((source, {'passed': v['passed'], 'code': v['code'], 'reason': v['reason']})
                            for source, v in judged['sources'].items()),
        }
        result.append((vm['vm_name'], variables))
    return result
