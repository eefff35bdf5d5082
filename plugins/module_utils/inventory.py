# -*- coding: utf-8 -*-
# Copyright (c) 2026, vbem.enterprise_manager contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""What the em_inventory plugin knows beyond Ansible's plumbing.

``plan`` checks the plugin's options before any logon or cache read;
``collect`` reads, with one logged-on client, each source's task sessions of
the window and keeps per VM the newest session and the newest completed one
(a plain, JSON-able structure: it is what the inventory cache stores);
``hosts`` judges every VM with the gate's own ``verdict.judge_vm`` at the
moment the inventory is built, so a cached read still ages correctly.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.vbem.enterprise_manager.plugins.module_utils import info, query, sessions, verdict
from ansible_collections.vbem.enterprise_manager.plugins.module_utils.errors import EmError

CACHE_FORMAT = 1
RUNNING_MODES = ('previous', 'fail')
DEFAULT_CREATED_AFTER = '7d'
HOST_VARS = tuple('vbem_' + source for source in verdict.SOURCES)


def _shown(value, limit=60):
    text = repr(value)
    return text if len(text) <= limit else text[:limit - 3] + '...'


def plan(options, now=None):
    """Check the plugin's options; return ``{'now', 'policy', 'sources', 'created_after', 'page_size'}``.

    ``options`` maps option names to values (``sources``, ``created_after``,
    ``max_age``, ``accept``, ``require``, ``running``, ``page_size``). Raises
    EmError with one sentence naming the option on anything it cannot use.
    """
    now = now if now is not None else query.utcnow()
    created_after = options.get('created_after')
    created_after = DEFAULT_CREATED_AFTER if created_after is None else created_after
    if str(created_after).strip() == '':
        raise EmError('created_after is empty; give a relative age such as 7d or an ISO-8601 date-time.')
    try:
        start = query.parse_time(created_after, now)
    except query.TimeZoneError as exc:
        raise EmError('created_after {0!r} {1}.'.format(str(created_after), exc.detail))
    except EmError:
        raise EmError('created_after {0!r} is neither a relative age such as 24h, 7d or 2w nor an ISO-8601 date-time '
                      '(2026-11-23T00:00:00Z).'.format(str(created_after)))
    if start >= now:
        raise EmError('created_after {0!r} is not in the past; give a past time or a relative age such as 7d.'.format(str(created_after)))
    running = options.get('running') or 'previous'
    if running not in RUNNING_MODES:
        raise EmError('running must be one of {0} in an inventory (it cannot wait for a session), not {1}.'.format(
            ', '.join(RUNNING_MODES), _shown(running)))
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
    page_size = options.get('page_size')
    page_size = verdict.DEFAULT_PAGE_SIZE if page_size is None else page_size
    if isinstance(page_size, bool) or not isinstance(page_size, int) or not 1 <= page_size <= verdict.MAX_PAGE_SIZE:
        raise EmError('page_size must be a whole number from 1 to {0}, not {1}.'.format(verdict.MAX_PAGE_SIZE, _shown(page_size)))
    return {'now': now, 'policy': policy, 'sources': list(policy.sources), 'created_after': start, 'page_size': page_size}


def query_params(inventory_plan):
    """The session query of one source: the whole window, newest first, no limit."""
    return {'created_after': inventory_plan['created_after'], 'sort': 'creation_time', 'order': 'descending',
            'limit': 0, 'page_size': inventory_plan['page_size']}


def newest_by_vm(found):
    """``{folded name: [newest, newest completed]}`` from a source's sessions (any order).

    Sessions without a VM name are skipped: they cannot become a host.
    """
    result = {}
    for session in found:
        name = session.get('vm_name')
        if not isinstance(name, str) or not name:
            continue
        when = sessions.parse_em_time(session.get('creation_time'))
        pair = result.setdefault(verdict.fold(name), [None, None, None, None])
        if pair[0] is None or (when is not None and (pair[2] is None or when > pair[2])):
            pair[0], pair[2] = session, when
        if not sessions.is_running(session) and (pair[1] is None or (when is not None and (pair[3] is None or when > pair[3]))):
            pair[1], pair[3] = session, when
    return dict((key, pair[:2]) for key, pair in result.items())


def collect(client, inventory_plan, plans=None):
    """Read every source's sessions of the window with one logged-on client.

    ``plans`` maps source to ``info.plan_session_query`` results made before
    logon (made here when absent). Returns ``(data, warnings)``; ``data`` is
    ``{'format', 'fetched', 'created_after', 'sources', 'vms': [{'vm_name',
    'sessions': {source: [newest, completed]}}]}``, plain JSON-able values
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
        for key, pair in newest_by_vm(result['sessions']).items():
            entry = vms.setdefault(key, {'vm_name': None, 'sessions': {}, '_when': None})
            entry['sessions'][source] = pair
            when = sessions.parse_em_time(pair[0].get('creation_time'))
            # The host name is EM's spelling in the VM's newest session of any source.
            if entry['vm_name'] is None or (when is not None and (entry['_when'] is None or when > entry['_when'])):
                entry['vm_name'], entry['_when'] = pair[0].get('vm_name'), when
    ordered = []
    for key in sorted(vms):
        entry = vms[key]
        ordered.append({'vm_name': entry['vm_name'], 'sessions': entry['sessions']})
    data = {
        'format': CACHE_FORMAT,
        'fetched': query.format_time(inventory_plan['now']),
        'created_after': query.format_time(inventory_plan['created_after']),
        'sources': list(inventory_plan['sources']),
        'vms': ordered,
    }
    return data, warnings


def usable(data, inventory_plan):
    """Whether cached ``data`` answers this plan (same format and sources); anything else is read again."""
    return (isinstance(data, dict) and data.get('format') == CACHE_FORMAT and isinstance(data.get('vms'), list)
            and data.get('sources') == list(inventory_plan['sources']))


def hosts(data, policy):
    """``[(host name, host vars)]`` for every VM in ``data``, judged now with ``policy``.

    Host vars: ``vbem_backup``, ``vbem_replica``, ``vbem_cdp`` (the newest
    session of that source, or None) and ``vbem_protection`` (``passed``,
    ``code``, ``reason`` and per source ``{passed, code, reason}``).
    """
    result = []
    for vm in data['vms']:
        found = dict((source, tuple(pair)) for source, pair in vm['sessions'].items())
        judged = verdict.judge_vm(found, policy, requested_name=vm['vm_name'])
        variables = dict((var, None) for var in HOST_VARS)
        for source, pair in vm['sessions'].items():
            variables['vbem_' + source] = pair[0]
        variables['vbem_protection'] = {
            'passed': judged['passed'],
            'code': judged['code'],
            'reason': judged['reason'],
            'sources': dict((source, {'passed': v['passed'], 'code': v['code'], 'reason': v['reason']})
                            for source, v in judged['sources'].items()),
        }
        result.append((vm['vm_name'], variables))
    return result
