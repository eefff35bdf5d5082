# -*- coding: utf-8 -*-
# Copyright (c) 2026, vbem.enterprise_manager contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The gate's run against EM: what the verdicts of ``verdict`` need, read in one logon.

``plan_protection`` checks the gate's input before logging on;
``protection_report`` then reads, with one logged-on client, what the
verdicts need: per source, the VMs' sessions in the ``max_age`` window
(names split to fit EM's URL limit); running sessions waited for; and, for
names with nothing usable in the window, one bounded look back to tell
``stale`` (and since when) from ``no_session``. A name with nothing in any
source is then asked about once more (see ``_unknown``): if EM has no point
of it at all either, it is ``unknown_vm``, and its reason suggests close
names EM knows (``suggest``).

The gate module (``run_module``) and the backup_gate role's action both run
it; the judging itself is ``verdict``'s, so a VM gets the same verdict
there as in the inventory.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import time

from ansible_collections.vbem.enterprise_manager.plugins.module_utils.errors import EmError
from ansible_collections.vbem.enterprise_manager.plugins.module_utils import info, query, sessions, sources as source_table
from ansible_collections.vbem.enterprise_manager.plugins.module_utils import producers as producer_sessions
from ansible_collections.vbem.enterprise_manager.plugins.module_utils import module_frame, suggest, validate
from ansible_collections.vbem.enterprise_manager.plugins.module_utils.verdict import (
    ACCEPTABLE_RESULTS, CODES, DEFAULT_LOOKBACK, DEFAULT_MAX_AGE, DEFAULT_WAIT_TIMEOUT, GATE_SOURCES, KNOWN_SOURCES,
    REQUIRE_MODES, RUNNING_MODES, SOURCE_KINDS, Findings, Policy, fold, judge_point, judge_vm, shown_time,
)

# The newest points of each of KNOWN_SOURCES read for names to suggest (only when a name is unknown).
SUGGESTION_POINTS = 10000
DEFAULT_WAIT_SLEEP = 10
DEFAULT_COLLECT_TIMEOUT = 600
MIN_URL_LENGTH = 1024


def targets(vms):
    """``[(key, name)]`` in input order from a list of names, one name, or a dict ``{key: name}``."""
    if isinstance(vms, dict):
        if not vms:
            raise EmError('vms is an empty dict; give at least one {host: VM name} pair.')
        pairs = []
        for key, name in vms.items():
            if not isinstance(name, str):
                raise EmError('vms[{0!r}] must be one VM name (a string), not {1}.'.format(key, validate.shown(name)))
            pairs.append((key, validate.names(name, 'vms[{0!r}]'.format(key), required=True)[0]))
        return pairs
    # A name listed twice is one key: the result is keyed by name, so its lists and counts must be too.
    pairs, seen = [], set()
    for name in validate.names(vms, 'vms', required=True):
        if name not in seen:
            seen.add(name)
            pairs.append((name, name))
    return pairs


def _flag(params, option):
    value = params.get(option)
    return False if value is None else validate.flag(value, option)


def plan_protection(client, vms, params, now=None, check_mode=False):
    """Check the gate's input and plan its queries, without talking to EM.

    ``params`` holds the module options (sources, require, max_age, accept,
    running, wait_timeout, wait_sleep, job_name, lookback,
    require_session_result, collect, collect_timeout, max_url_length,
    page_size). ``client`` only lends its base URL. ``check_mode``: nothing
    is sent that makes EM do something (no collection). Raises EmError with
    one sentence on bad input, including a name too long for any request.
    The plan carries the requests it split for all names, per source
    (``plan['requests'][source]['window']`` and ``['lookback']``).
    """
    policy = Policy(
        now=now,
        max_age=params.get('max_age') if params.get('max_age') is not None else DEFAULT_MAX_AGE,
        accept=params.get('accept') if params.get('accept') is not None else ('Success',),
        running=params.get('running') or 'wait',
        require=params.get('require') or 'any',
        sources=params.get('sources') if params.get('sources') is not None else ('backup',),
        lookback=params.get('lookback') if params.get('lookback') is not None else DEFAULT_LOOKBACK,
        job_name=params.get('job_name'),
        wait_timeout=validate.given_number(params, 'wait_timeout', DEFAULT_WAIT_TIMEOUT),
        require_session_result=_flag(params, 'require_session_result'),
    )
    pairs = targets(vms)
    names = []
    seen = set()
    for _key, name in pairs:
        if fold(name) not in seen:
            seen.add(fold(name))
            names.append(name)
    plan = {
        'policy': policy,
        'targets': pairs,
        'names': names,
        'wait_sleep': validate.given_number(params, 'wait_sleep', DEFAULT_WAIT_SLEEP),
        'page_size': validate.page_size(params.get('page_size')),
        # Below about 1 KB not even one short name fits beside the fixed part of a query URL.
        'max_url_length': validate.given_number(params, 'max_url_length', info.DEFAULT_MAX_URL_LENGTH, MIN_URL_LENGTH),
        'concurrency': params.get('concurrency') or query.DEFAULT_CONCURRENCY,
        'collect': _flag(params, 'collect'),
        'collect_timeout': validate.given_number(params, 'collect_timeout', DEFAULT_COLLECT_TIMEOUT),
        'check_mode': bool(check_mode),
    }
    # Split both queries for every name now, so a name no request can carry fails before logon; the
    # reads of all names use these requests (a look back for fewer names splits its own).
    plan['requests'] = {}
    for source in policy.sources:
        kind = sessions.KINDS[SOURCE_KINDS[source]]
        plan['requests'][source] = {
            'window': _requests(client, kind, _window_params(plan, names), policy.now),
            'lookback': _requests(client, kind, _lookback_params(plan, names, source), policy.now),
        }
    for source in KNOWN_SOURCES:
        info.split_session_filters(client, source_table.get(source).session_kind, _known_params(plan, names, source),
                                   policy.now, _OPTION_NAMES)
    return plan


# The gate's users give VM names as vms.
_OPTION_NAMES = {'vm_name': 'vms', 'created_after': 'max_age', 'created_before': 'max_age'}


def _window_params(plan, names):
    policy = plan['policy']
    return {'vm_name': names, 'job_name': policy.job_name, 'created_after': policy.cutoff, 'sort': 'creation_time',
            'order': 'descending', 'limit': 0, 'page_size': plan['page_size'], 'max_url_length': plan['max_url_length']}


def _lookback_params(plan, names, source):
    """Before the window: back to ``lookback`` for sessions; for restore points, their whole retention."""
    params = _window_params(plan, names)
    start = None if source_table.get(source).points else plan['policy'].lookback_start
    params.update(created_after=start, created_before=plan['policy'].cutoff)
    return params


def _known_params(plan, names, source):
    """Whether EM knows the names at all: a session source's whole look back, of any job; a point source's
    whole retention."""
    params = _window_params(plan, names)
    start = None if source_table.get(source).points else plan['policy'].lookback_start
    params.update(created_after=start, job_name=None)
    return params


def _scan(client, kind, params, plan, findings, wanted=None, stop=False, requests=None):
    """Read a session query into ``findings`` (a ``Findings``).

    The query may be split into several requests (long name lists): the
    ``requests`` the plan computed for these params, else ``_requests``. Each
    is read into findings of its own, merged afterwards: when a long job list
    is split, one VM's sessions are spread over several requests. EM is asked
    for newest first, but nothing relies on it. With ``stop`` (the bounded
    look back) a request is read only until every VM it asks for is settled,
    and only while every session read so far came newest first: after the
    first one that did not (or whose time cannot be trusted), the request is
    read to its end. Stopping early can never pass a VM: everything the look
    back may find is older than ``max_age``, and a session outside the
    asked times is refused (``_check_window``). ``wanted`` limits the folded
    names recorded.
    """
    if requests is None:
        requests = _requests(client, kind, params, plan['policy'].now)
    for filter_text, values, local, name in requests:
        # The look back may stop once every name it asks for is settled, while the order held.
        needed = len(set(fold(asked) for asked in values.get('vm_name', []))) if stop else None
        findings.merge(_scan_request(client, kind, dict(params, now=findings.now), plan, findings, filter_text, local,
                                     wanted, needed, name))


def _requests(client, kind, params, now):
    """The requests of one scan, ``[(filter_text, values, local_filters, name)]``, split so that every URL fits.

    ``name`` is None, or, for an entity that does not name its machine
    (AgentRestorePoint), the one name its request asks for: such a query is
    one request per name, the point attributed to the name asked (EM filters
    ComputerName case-insensitively). Raises EmError, naming ``vms``, for a
    name no request can carry.
    """
    parts = [(params, None)] if kind.named else [(dict(params, vm_name=[name]), name) for name in params['vm_name']]
    requests = []
    for part, name in parts:
        split, _logical, local = info.split_session_requests(client, kind, part, now, _OPTION_NAMES)
        requests.extend((filter_text, values, local, name) for filter_text, values in split)
    return requests


def _scan_request(client, kind, params, plan, findings, filter_text, local, wanted, needed, name=None):
    """Read one request of a scan into new ``Findings``; with ``needed``, pages after the one that
    settled that many names are skipped while the order held."""
    part = Findings(findings.source, findings.now)
    order = sessions.OrderCheck(findings.now)
    settled = [0]
    sort_field = kind.field('creation_time')

    def fetch_page(page):
        if needed is not None and page > 1 and settled[0] >= needed and order.holds:
            return [], None  # nothing unread can be newer: no request
        items, pages_count = client.query_page(kind.query_type, filter_text, sort_field, True, plan['page_size'], page,
                                               collection_key=kind.collection_key)
        found = [info.normalise_session(item, kind, {}) for item in items]
        if name is not None:
            for point in found:
                point['vm_name'] = name
        return found, pages_count

    def accept(session):
        _check_window(kind, params, session)
        order.see(session)
        if (not local or info.local_match(session, local)) and part.visit(session, wanted):
            settled[0] += 1
        return False  # the findings keep what judging needs; nothing else is collected

    query.fetch_pages(fetch_page, plan['page_size'], 0, plan['concurrency'], accept=accept, key=lambda s: s.get('uid'))
    return part


def _check_window(kind, params, session):
    """Refuse a session outside the creation times asked for: in the look back, a fresh one would pass its VM.

    A time that cannot be trusted at all is left to judging (``bad_time``,
    ``future_time``), which fails its VM alone.
    """
    if sessions.time_fault(session.get('creation_time'), params['now']):
        return
    moment = sessions.parse_em_time(session.get('creation_time'))
    after, before = params.get('created_after'), params.get('created_before')
    if (after is None or moment >= after) and (before is None or moment < before):
        return
    span = 'before {0}'.format(shown_time(before))
    if after is not None:
        span = 'from {0}{1}'.format(shown_time(after), ' to ' + span if before is not None else '')
    raise EmError('EM answered a query for {0} {1} created {2} with one created at {3} ({4}): the answer is not what '
                  'was asked, so no VM is judged on it.'.format(
                      kind.query_type, kind.plural(), span, shown_time(moment), session.get('name')))


def protection_report(client, plan, sleep=time.sleep, clock=time.monotonic, progress=None):
    """Run the planned gate with a logged-on ``client`` and return the module result.

    Returns ``{'vms': {key: entry}, 'passed_vms': [keys], 'failed_vms': [keys],
    'summary': {...}}``; every requested key gets an entry (see ``judge_vm``,
    plus ``requested_name``). Raises EmError when EM fails. A name nothing
    was found for in any source is ``unknown_vm`` when EM knows it not at all
    (see ``_unknown``).

    ``progress(event, names, seconds)``, when given, hears about the wait for
    running sessions (``running=wait``): ``start`` before the first sleep
    (``seconds`` left until the deadline), ``wait`` before each further one,
    then ``done`` (``seconds`` waited) or ``timeout`` (``names`` still
    running); ``names`` are the requested VM names, in request order.

    With ``collect``, EM first collects from every backup server (see
    ``actions.collect``; not in check mode), and the result says so under
    ``collect``. With ``require_session_result``, the sessions behind the
    passing newest points are read last (``producers.find``).
    """
    policy = plan['policy']
    collected = None
    if plan.get('collect'):
        from ansible_collections.vbem.enterprise_manager.plugins.module_utils import actions
        collected = actions.collect(client, plan['collect_timeout'], plan.get('check_mode', False), clock=clock, sleep=sleep)
    by_fold = dict((fold(name), name) for name in plan['names'])
    kinds = dict((source, sessions.KINDS[SOURCE_KINDS[source]]) for source in policy.sources)
    findings = dict((source, Findings(source, policy.now)) for source in policy.sources)
    for source in policy.sources:
        _scan(client, kinds[source], _window_params(plan, plan['names']), plan, findings[source],
              requests=plan['requests'][source]['window'])

    # running=wait: one deadline for all sources; only the VMs still running are read again.
    started = clock()
    deadline = started + policy.wait_timeout
    tell = progress or (lambda event, names, seconds: None)
    waited = False
    while True:
        running = dict((source, [key for key in by_fold if findings[source].newest(key) is not None
                                 and _must_wait(source, findings[source].newest(key), policy)])
                       for source in policy.sources)
        names = [by_fold[key] for key in by_fold if any(key in keys for keys in running.values())]
        if not names:
            if waited:
                tell('done', [], clock() - started)
            break
        if clock() + plan['wait_sleep'] > deadline:
            if waited:
                tell('timeout', names, clock() - started)
            break
        tell('wait' if waited else 'start', names, deadline - clock())
        waited = True
        sleep(plan['wait_sleep'])
        for source, keys in running.items():
            if keys:
                for key in keys:
                    findings[source].forget(key)
                _scan(client, kinds[source], _window_params(plan, [by_fold[key] for key in keys]), plan, findings[source])

    # A name EM spells otherwise than asked (WEB01 for web01) may be one of two VMs whose names differ in
    # case, the other one with nothing in the window: its whole look back is read, in every source, to see.
    asked = {}
    for _key, name in plan['targets']:
        asked.setdefault(fold(name), set()).add(name)
    doubtful = [key for key in by_fold
                if any(spelling != name for source in policy.sources for spelling in findings[source].evidence(key).names
                       for name in asked[key])]
    # The bounded look back: each request stops once every name it looks for is settled (while EM's order holds).
    for source in policy.sources:
        found = findings[source]
        missing = [key for key in by_fold if key not in doubtful and _needs_lookback(found, key, policy)]
        for keys, stop in ((missing, True), (doubtful, False)):
            if keys:
                names = [by_fold[key] for key in keys]
                planned = plan['requests'][source]['lookback'] if names == plan['names'] else None
                _scan(client, kinds[source], _lookback_params(plan, names, source), plan, found,
                      wanted=set(keys), stop=stop, requests=planned)
    produced = {}
    if policy.require_session_result:
        for source in policy.sources:
            entry = source_table.get(source)
            if entry.producer is None:
                continue
            # Only a point that passes can be failed by its session: the others are not asked about.
            fresh = dict((key, findings[source].newest(key)) for key in by_fold if findings[source].newest(key) is not None
                         and judge_point(source, findings[source].newest(key), policy)['passed'])
            produced[source] = producer_sessions.find(client, entry, fresh, by_fold, plan, _check_window)
    report = _report(plan, findings, produced, _unknown(client, plan, findings, by_fold))
    if collected is not None:
        report['collect'] = collected
    return report


def _unknown(client, plan, findings, by_fold):
    """``{requested name: reason}`` for the names EM knows nothing of (``unknown_vm``).

    A name is unknown when the gate's own queries found nothing for it in
    any source judged (no session in ``lookback``, no point of a point
    source in its whole retention), and EM answers that it has no session of
    it in ``lookback`` in any job (asked again only when ``job_name``
    narrowed the gate's queries) and no ``VmRestorePoint`` or
    ``VmReplicaPoint`` at any time (kinds not judged already): per kind one
    query, its names split to fit the URL, stopping at each name's newest.
    Agent points are read one request a name, so a computer is known by
    them only when the ``agent`` source is judged. Every answer is checked
    as the gate's are, and an EM error fails the run: no name is called
    unknown on an answer EM did not give.

    Only when a name is unknown are names to suggest read: every name the
    queries above returned, and the VM names of the newest
    ``SUGGESTION_POINTS`` points of each of ``KNOWN_SOURCES`` (when a VM source
    is judged), compared as ``suggest.NameIndex`` says.
    """
    policy = plan['policy']
    empty = [key for key in by_fold if not any(findings[source].evidence(key).names for source in policy.sources)]
    known = [findings[source] for source in policy.sources]
    if empty and policy.job_name:
        for source in policy.sources:  # job_name is refused with point sources: these are session sources
            found = Findings(source, policy.now)
            known.append(found)
            _scan(client, sessions.KINDS[SOURCE_KINDS[source]], _known_params(plan, [by_fold[key] for key in empty], source),
                  plan, found, wanted=set(empty), stop=True)
            empty = [key for key in empty if not found.evidence(key).names]
    for source in KNOWN_SOURCES:
        if empty and source not in policy.sources:
            found = Findings(source, policy.now)
            known.append(found)
            _scan(client, source_table.get(source).session_kind, _known_params(plan, [by_fold[key] for key in empty], source),
                  plan, found, wanted=set(empty), stop=True)
            empty = [key for key in empty if not found.evidence(key).names]
    if not empty:
        return {}
    names = set()
    for found in known:
        for evidence in found.by_key.values():
            names.update(evidence.names)
    subjects = []
    for source in policy.sources:
        if source_table.get(source).subject not in subjects:
            subjects.append(source_table.get(source).subject)
    if 'VM' in subjects:
        for source in KNOWN_SOURCES:
            names.update(_newest_point_names(client, source_table.get(source).session_kind, plan['page_size']))
    index = suggest.NameIndex(names)
    subject = ' or '.join(subjects)
    empty = set(empty)
    reasons = {}
    for _key, name in plan['targets']:
        if fold(name) in empty and name not in reasons:
            reasons[name] = suggest.unknown_reason(name, subject, index.suggest(name), index.size)
    return reasons


def _newest_point_names(client, kind, page_size):
    """The VM names of the newest ``SUGGESTION_POINTS`` points of a kind (for suggestions only: they judge nothing)."""
    size = min(page_size, SUGGESTION_POINTS)
    names = set()
    for page in range(1, -(-SUGGESTION_POINTS // size) + 1):
        items, pages_count = client.query_page(kind.query_type, None, kind.field('creation_time'), True, size, page,
                                               collection_key=kind.collection_key)
        for item in items:
            name = sessions.normalise(item, kind, links=False).get('vm_name')
            if isinstance(name, str):
                names.add(name)
        if not items or (pages_count is not None and page >= pages_count):
            break
    return names


def _must_wait(source, session, policy):
    """A newest session that ``running=wait`` waits for (never a CDP session with a live result)."""
    if policy.running != 'wait' or not sessions.is_running(session):
        return False
    if sessions.time_fault(session.get('creation_time'), policy.now):
        return False  # judged on its time, which no waiting mends
    return not source_table.get(source).is_live(session)


def _needs_lookback(found, key, policy):
    """Whether the window told too little: no session at all, or (running=previous) no completed one behind a running one."""
    if found.newest(key) is None:
        return True
    return policy.running == 'previous' and not found.complete(key)


def _report(plan, findings, produced=None, unknown=None):
    policy = plan['policy']
    unknown = unknown or {}
    verdicts = {}
    for _key, name in plan['targets']:
        # Per requested spelling: names folding alike share their findings, not their verdict (casefold twins).
        if name not in verdicts:
            found = dict((source, findings[source].evidence(fold(name))) for source in policy.sources)
            made = dict((source, by_key.get(fold(name))) for source, by_key in (produced or {}).items())
            verdicts[name] = judge_vm(found, policy, requested_name=name, produced=made, unknown=unknown.get(name))
    vms, passed, failed = {}, [], []
    by_code = dict((code, 0) for code in CODES)
    for key, name in plan['targets']:
        entry = dict(verdicts[name])
        entry['requested_name'] = name
        vms[key] = entry
        (passed if entry['passed'] else failed).append(key)
        by_code[entry['code']] += 1
    summary = {'total': len(plan['targets']), 'passed': len(passed), 'failed': len(failed), 'by_code': by_code}
    # Not 'passed'/'failed': Ansible reads a result's 'failed' key as the task's own status.
    return {'vms': vms, 'passed_vms': passed, 'failed_vms': failed, 'summary': summary}


def argument_spec():
    """The gate module's argument spec (connection options included)."""
    from ansible_collections.vbem.enterprise_manager.plugins.module_utils.options import connection_argument_spec
    spec = connection_argument_spec()
    spec.update(
        vms=dict(type='raw', required=True),
        sources=dict(type='list', elements='str', default=['backup'], choices=list(GATE_SOURCES)),
        require=dict(type='str', default='any', choices=list(REQUIRE_MODES)),
        max_age=dict(type='str', default=DEFAULT_MAX_AGE),
        accept=dict(type='list', elements='str', default=['Success'], choices=list(ACCEPTABLE_RESULTS)),
        running=dict(type='str', default='wait', choices=list(RUNNING_MODES)),
        wait_timeout=dict(type='int', default=DEFAULT_WAIT_TIMEOUT),
        wait_sleep=dict(type='int', default=DEFAULT_WAIT_SLEEP),
        job_name=dict(type='raw'),
        lookback=dict(type='str', default=DEFAULT_LOOKBACK),
        require_session_result=dict(type='bool', default=False),
        collect=dict(type='bool', default=False),
        collect_timeout=dict(type='int', default=DEFAULT_COLLECT_TIMEOUT),
        max_url_length=dict(type='int', default=info.DEFAULT_MAX_URL_LENGTH),
        page_size=dict(type='int', default=validate.DEFAULT_PAGE_SIZE),
    )
    return spec


def run_module(module):
    """The gate module's whole run: every option checked before logon, then one logon for all queries."""
    return module_frame.run_client_module(
        module,
        lambda client: plan_protection(client, module.params['vms'], module.params, check_mode=module.check_mode),
        protection_report,
    )
