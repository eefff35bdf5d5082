# -*- coding: utf-8 -*-
# Copyright (c) 2026, vbem.enterprise_manager contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The session query service the info modules and the lookup share.

``run_session_query`` turns structured options into one EM query (or one
entity GET), walks the pages, normalises, trims and optionally waits for
running sessions; ``run_module`` runs it in the module frame
(``module_frame.run_client_module``). Module files are then an argument
spec, one call and ``exit_module``.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import re
import time

from ansible_collections.vbem.enterprise_manager.plugins.module_utils.errors import EmError
from ansible_collections.vbem.enterprise_manager.plugins.module_utils import query, sessions, sources, validate
from ansible_collections.vbem.enterprise_manager.plugins.module_utils.module_frame import run_client_module
from ansible_collections.vbem.enterprise_manager.plugins.module_utils.options import connection_argument_spec

DEFAULT_LIMIT = 1000
# HTTP.sys refuses request targets over 16 KB; half of that also passes the 8 KB
# request-line limit of common reverse proxies (nginx, Apache) in front of EM.
DEFAULT_MAX_URL_LENGTH = 8000
TASK_SORT_CHOICES = ['creation_time', 'end_time', 'name', 'vm_name', 'state', 'result', 'total_size']
JOB_SORT_CHOICES = ['creation_time', 'end_time', 'name', 'job_name', 'state', 'result']
# restore_point_info's ``type``: the restore point sources of the gate's table, and the fields every point type sorts by.
POINT_SOURCES = tuple(source.name for source in sources.TABLE if source.points)
POINT_SORT_CHOICES = ['creation_time', 'name', 'vm_name', 'point_type', 'algorithm', 'backup_server']
# What a session query option means for restore points that it does not (no job field, no result, never running).
_NOT_FOR_POINTS = ('job_name', 'result', 'wait', 'wait_timeout', 'wait_sleep')
# Options that judge a session rather than select which ones are read: with latest_per_*, applied to the newest.
OUTCOME_OPTIONS = ('result', 'state')


def _as_list(value):
    """None -> [], "a" -> ["a"], ["a"] -> ["a"]; empty strings dropped."""
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        return [v for v in value if v is not None and v != '']
    return [value] if value != '' else []


def _common_query_spec():
    """Argument spec entries shared by every session info module."""
    return dict(
        id=dict(type='str'),
        # raw, not list: Ansible's list type splits a string on commas, and a
        # string is one name ("db,02" is a VM). validate.names() checks it.
        job_name=dict(type='raw'),
        result=dict(type='list', elements='str', choices=list(sessions.RESULTS)),
        created_after=dict(type='str'),
        created_before=dict(type='str'),
        filter=dict(type='str'),
        order=dict(type='str', default='descending', choices=['ascending', 'descending']),
        # No default here: None tells that the user did not choose a limit, so
        # only a cut at DEFAULT_LIMIT warns (see validate.truncation_warnings).
        limit=dict(type='int'),
        page_size=dict(type='int', default=validate.DEFAULT_PAGE_SIZE),
        concurrency=dict(type='int', default=query.DEFAULT_CONCURRENCY),
        fields=dict(type='list', elements='str'),
        missing_ok=dict(type='bool', default=False),
        wait=dict(type='bool', default=False),
        wait_timeout=dict(type='int', default=600),
        wait_sleep=dict(type='int', default=10),
    )


def task_argument_spec():
    """Full argument spec of a task session info module (connection + query + task options)."""
    spec = connection_argument_spec()
    spec.update(_common_query_spec())
    spec.update(
        vm_name=dict(type='raw'),
        state=dict(type='list', elements='str', choices=list(sessions.TASK_STATES)),
        sort=dict(type='str', default='creation_time', choices=list(TASK_SORT_CHOICES)),
        latest_per_vm=dict(type='bool', default=False),
    )
    return spec


def job_argument_spec():
    """Full argument spec of job_session_info (connection + query + job options)."""
    spec = connection_argument_spec()
    spec.update(_common_query_spec())
    spec.update(
        type=dict(type='str', required=True, choices=sorted(sessions.JOB_KINDS)),
        state=dict(type='list', elements='str', choices=list(sessions.JOB_STATES)),
        sort=dict(type='str', default='creation_time', choices=list(JOB_SORT_CHOICES)),
        latest_per_job=dict(type='bool', default=False),
    )
    return spec


def point_argument_spec():
    """Full argument spec of restore_point_info (connection + the query options that apply to restore points)."""
    spec = connection_argument_spec()
    common = _common_query_spec()
    for name in _NOT_FOR_POINTS:
        common.pop(name)
    spec.update(common)
    spec.update(
        type=dict(type='str', default=POINT_SOURCES[0], choices=list(POINT_SOURCES)),
        vm_name=dict(type='raw', aliases=['computer_name']),
        sort=dict(type='str', default='creation_time', choices=list(POINT_SORT_CHOICES)),
        latest_per_vm=dict(type='bool', default=False),
    )
    return spec


def mutually_exclusive(spec):
    """``id`` against every selector the spec has: an id names one session, a filter many."""
    return [['id', name] for name in validate.SELECTORS if name in spec]


def session_conditions(kind, params, now=None):
    """Return ``(conditions, raw_filter, local_filters, labels)`` for a kind and structured options.

    ``conditions`` are ``(field, operator, value)`` tuples for
    ``query.build_filter``; ``labels`` maps a condition's index to the option
    it came from (for error sentences). ``local_filters`` maps our option
    names to allowed values for the options EM cannot filter this kind on
    (CDP task result and job name); they are matched case-insensitively
    against the normalised sessions.
    """
    conditions = []
    labels = {}
    local = {}
    for option in ('vm_name', 'job_name', 'result', 'state'):
        values = _as_list(params.get(option))
        if not values or (option in OUTCOME_OPTIONS and _latest_key(params)):
            continue  # with latest_per_*, result and state judge the newest session (see outcome_filters)
        if option in kind.local_fields:
            local[option] = set(str(v).casefold() for v in values)
            continue
        labels[len(conditions)] = option
        conditions.append((kind.field(option), '==', values))
    now = now if now is not None else query.utcnow()
    if params.get('created_after'):
        labels[len(conditions)] = 'created_after'
        conditions.append((kind.field('creation_time'), '>=', query.parse_time(params['created_after'], now)))
    if params.get('created_before'):
        labels[len(conditions)] = 'created_before'
        conditions.append((kind.field('creation_time'), '<', query.parse_time(params['created_before'], now)))
    return conditions, params.get('filter'), local, labels


def _latest_key(params):
    """The session key latest_per_vm/latest_per_job keep one session per, or None."""
    return 'vm_name' if params.get('latest_per_vm') else ('job_name' if params.get('latest_per_job') else None)


def outcome_filters(params):
    """With latest_per_vm/latest_per_job: ``{option: allowed casefolded values}`` for result and state, else ``{}``.

    "Newest, then filter": each VM's (job's) newest session is picked first
    and only then kept or dropped on its result and state. Filtered first,
    ``result: Success`` would return a VM's newest *successful* session and
    hide that its last backup failed; so these two are never sent to EM.
    """
    if not _latest_key(params):
        return {}
    return dict((option, set(str(v).casefold() for v in _as_list(params.get(option))))
                for option in OUTCOME_OPTIONS if _as_list(params.get(option)))


# A comparison on Result or State in a raw filter (quoted values removed first).
_OUTCOME_FIELD_RE = re.compile(r'(?<![A-Za-z0-9_])(Result|State)\s*(?:==|!=|<=|>=|<|>)', re.IGNORECASE)
_QUOTED_RE = re.compile(r'"(?:[^"]|"")*"')


def check_outcome_filter(params):
    """Refuse a raw filter on Result or State together with latest_per_vm/latest_per_job.

    EM applies ``filter`` before the newest session of each VM (job) is
    picked, so ``Result=="Success"`` there would bring back a VM's older
    success over its newer failure: the trap ``outcome_filters`` closes for
    the ``result`` and ``state`` options. Raises EmError with one sentence.
    """
    latest_key = _latest_key(params)
    if not latest_key or not params.get('filter'):
        return
    match = _OUTCOME_FIELD_RE.search(_QUOTED_RE.sub('""', str(params['filter'])))
    if match:
        option = 'latest_per_vm' if latest_key == 'vm_name' else 'latest_per_job'
        raise EmError('filter compares {0}, which EM applies before {1} picks the newest session of each {2}, so an older '
                      'session could stand in for a newer one that failed; give the {3} option instead, which judges '
                      'the newest session.'.format(match.group(1), option, 'VM' if latest_key == 'vm_name' else 'job',
                                                   match.group(1).lower()))


def _identity(session, latest_key):
    """What latest_per_vm/latest_per_job keep one session per: the VM's (job's) UID, else its name exactly as EM spells it.

    Never the case-folded name: two VMs whose names differ only in case each
    keep their own newest session (and a warning names them).
    """
    uid = session.get('vm_uid' if latest_key == 'vm_name' else 'job_uid')
    if uid:
        return ('uid', str(uid).lower())
    return ('name', session.get(latest_key))


def split_session_filters(client, kind, params, now=None, option_names=None):
    """Return ``(filter_texts, logical_filter, local_filters)``: the filter split so that every request URL fits.

    Long ``vm_name``/``job_name`` lists become several requests whose results
    together are exactly the unsplit query's (see ``query.split_conditions``).
    ``option_names`` renames options in error sentences for callers whose
    users gave the names under another option (``{'vm_name': 'vms'}``).
    """
    requests, logical, local = split_session_requests(client, kind, params, now, option_names)
    return [filter_text for filter_text, _values in requests], logical, local


def split_session_requests(client, kind, params, now=None, option_names=None):
    """Like ``split_session_filters``, but each request is ``(filter_text, values)``.

    ``values`` maps each list option EM filters on (``vm_name``, ``job_name``,
    ...) to the part of its list that request carries, so a caller reading
    the requests one by one knows which names each can answer for.
    """
    conditions, raw, local, labels = session_conditions(kind, params, now)
    logical = query.build_filter(conditions, raw)
    if not conditions:
        return [(logical, {})], logical, local
    option_names = option_names or {}
    shown = dict((index, option_names.get(option, option)) for index, option in labels.items())
    # Measure the longest URL any page may have: latest_per_vm/job (and the gate) sort by creation
    # time whatever the sort option says, sortDesc is longer than sortAsc, and pages 2..N follow.
    sort_field = max((_sort_field(kind, params.get('sort') or 'creation_time'), kind.field('creation_time')), key=len)
    page_size = params.get('page_size') or validate.DEFAULT_PAGE_SIZE

    def url_length(filter_text):
        return len(query.query_url(client.base_url, kind.query_type, filter_text, sort_field, True, page_size, 10 ** 6))

    max_length = int(params.get('max_url_length') or DEFAULT_MAX_URL_LENGTH)
    parts = query.split_conditions(conditions, raw, url_length, max_length, shown)
    requests = []
    for part in parts:
        values = dict((labels[index], list(part[index][2])) for index in labels
                      if isinstance(part[index][2], (list, tuple)))
        requests.append((query.build_filter(part, raw), values))
    return requests, logical, local


def local_match(session, local):
    """True when the session passes every client-side filter."""
    for option, allowed in local.items():
        value = session.get(option)
        if value is None:
            value = 'None' if option == 'result' else ''
        if str(value).casefold() not in allowed:
            return False
    return True


def _sort_value(key):
    """Sort key for one session field, ordering as EM does: times by instant, text case-insensitively."""
    if key.endswith('_time'):
        return lambda s: sessions.parse_em_time(s.get(key)) or sessions.parse_em_time('0001-01-01T00:00:00Z')
    return lambda s: s.get(key).casefold() if isinstance(s.get(key), str) else s.get(key)


def _sort_sessions(items, key, descending):
    """Client-side sort of normalised sessions, as EM sorts: absent values first ascending, last descending."""
    present = [s for s in items if s.get(key) is not None]
    missing = [s for s in items if s.get(key) is None]
    ordered = sorted(present, key=_sort_value(key), reverse=descending)
    return ordered + missing if descending else missing + ordered


def _session_key(kind, sort):
    """The normalised session key behind a sort option (``CreationTime`` -> ``creation_time``)."""
    if sort in kind.fields:
        return sort
    for option, field in kind.fields.items():
        if field.lower() == str(sort).lower():
            return option
    return sort


def _sort_field(kind, sort):
    """EM sort field for our option name (``creation_time``) or an EM field name given as is (``CreationTime``)."""
    if sort in kind.fields:
        return kind.fields[sort]
    for field in kind.fields.values():
        if field.lower() == str(sort).lower():
            return field
    return kind.field(sort)


def _paging(params):
    """``(page_size, limit)`` from the options, defaults applied; EmError on values EM cannot page with."""
    limit = params.get('limit')
    return validate.page_size(params.get('page_size')), DEFAULT_LIMIT if limit is None else validate.limit(limit)


def _fetch(client, kind, params, filter_text, local, concurrency, now, name=None):
    """One pass of the query: returns ``(sessions, truncated)``.

    With latest_per_vm/job the sessions are each VM's (job's) newest, not yet
    filtered on their outcome nor cut (see ``_finish_latest``). ``name`` is
    the one computer a request for a kind whose entities name none asked for
    (see ``normalise_session``).
    """
    sort = params.get('sort') or 'creation_time'
    descending = (params.get('order') or 'descending') == 'descending'
    if sort in kind.local_fields:
        raise EmError('{0} sessions cannot be sorted by {1}: EM has no such query field for them.'.format(kind.query_type, sort))
    page_size, limit = _paging(params)
    if _latest_key(params):
        return _fetch_latest(client, kind, params, filter_text, local, concurrency, now, name)
    sort_field = _sort_field(kind, sort)

    def accept(session):
        return local_match(session, local)

    def fetch_page(page):
        items, pages_count = client.query_page(kind.query_type, filter_text, sort_field, descending, page_size, page,
                                               collection_key=kind.collection_key)
        return [normalise_session(item, kind, params, name) for item in items], pages_count

    result = query.fetch_pages(fetch_page, page_size, limit, concurrency, accept=accept if local else None,
                               key=lambda s: s.get('uid'))
    return result.items, result.truncated


def _fetch_latest(client, kind, params, filter_text, local, concurrency, now, name=None):
    """latest_per_vm/job: each VM's (job's) newest session by time, whatever order EM answers in.

    EM is asked for newest first; with a ``limit`` the pages after the one
    that brought ``limit`` VMs (jobs) are skipped only while every session
    read came newest first (``sessions.OrderCheck``): then nothing unread is
    newer. Otherwise every page is read. Returns ``(newest sessions, truncated)``.
    """
    latest_key = _latest_key(params)
    page_size, limit = _paging(params)
    outcome = outcome_filters(params)
    order = sessions.OrderCheck(now)
    newest = {}
    counted = set()
    skipped = []

    def fetch_page(page):
        if limit and page > 1 and len(counted) >= limit and order.holds:
            skipped.append(page)
            return [], None
        items, pages_count = client.query_page(kind.query_type, filter_text, kind.field('creation_time'), True, page_size, page,
                                               collection_key=kind.collection_key)
        return [normalise_session(item, kind, params, name) for item in items], pages_count

    def accept(session):
        order.see(session)
        if local and not local_match(session, local):
            return False
        marker = _identity(session, latest_key)
        rank = sessions.newest_rank(session, now)
        if marker not in newest or rank > newest[marker][0]:
            newest[marker] = (rank, session)
            # While the order holds, a VM's first session is its newest: count it when it will be returned.
            if not outcome or local_match(session, outcome):
                counted.add(marker)
        return False

    query.fetch_pages(fetch_page, page_size, 0, concurrency, accept=accept, key=lambda s: s.get('uid'))
    return [session for _rank, session in sorted(newest.values(), key=lambda pair: pair[0], reverse=True)], bool(skipped)


def _finish_latest(kind, params, newest, truncated, now):
    """latest_per_vm/job after reading: the outcome filter, the limit, the sort asked for, and warnings.

    ``newest`` holds each VM's (job's) newest session, newest first. Returns
    ``(sessions, truncated, warnings)``.
    """
    descending = (params.get('order') or 'descending') == 'descending'
    _page_size, limit = _paging(params)
    warnings = _latest_warnings(kind, params, newest, now)
    outcome = outcome_filters(params)
    kept = [s for s in newest if local_match(s, outcome)] if outcome else list(newest)
    # Whole, the query keeps the first `limit` VMs (jobs) read newest first and
    # only then sorts them as asked: cutting after that sort would keep others.
    if limit and len(kept) > limit:
        kept, truncated = kept[:limit], True
    sort = params.get('sort') or 'creation_time'
    if sort != 'creation_time' or not descending:
        kept = _sort_sessions(kept, _session_key(kind, sort), descending)
    return kept, truncated, warnings


def _latest_warnings(kind, params, newest, now):
    """Warnings about the newest sessions latest_per_vm/job picked: names that stand for several VMs (jobs), future times."""
    latest_key = _latest_key(params)
    option, noun, uid_key = (('latest_per_vm', 'VM', 'vm_uid') if latest_key == 'vm_name' else ('latest_per_job', 'job', 'job_uid'))
    warnings = []
    spellings = {}
    for session in newest:
        name = session.get(latest_key)
        if isinstance(name, str):
            spellings.setdefault(name.casefold(), []).append(session)
    for group in spellings.values():
        if len(group) > 1:
            shown = ', '.join('{0!r}{1}'.format(s.get(latest_key), ' ({0})'.format(s[uid_key]) if s.get(uid_key) else '')
                              for s in group)
            warnings.append('{0} kept one newest session for each of {1} {2}s whose names differ only in case: {3}; EM '
                            'compares names case-insensitively, so one {4} given matches all of them.'.format(
                                option, len(group), noun, shown, latest_key))
    faulty = [s for s in newest if sessions.time_fault(s.get('creation_time'), now)]
    if faulty:
        shown = ', '.join('{0} ({1})'.format(s.get(latest_key), s.get('creation_time')) for s in faulty[:5])
        warnings.append('{0}: the newest {1} session of {2} {3}(s) is dated more than {4} minutes after the controller\'s '
                        'clock, before 2000 or not at all: {5}{6}; such a session proves nothing.'.format(
                            option, kind.query_type, len(faulty), noun, int(sessions.CLOCK_SKEW.total_seconds() // 60), shown,
                            ' and more' if len(faulty) > 5 else ''))
    return warnings


def _fetch_split(client, kind, params, filters, local, concurrency, now, names=None):
    """Run a query whose filter was split into several requests; merge as EM would have answered it whole.

    Returns ``(sessions, truncated, warnings)``. Each part is read up to
    ``limit``; the merged list is de-duplicated, reduced to the latest per
    VM/job when asked (a VM can appear in several parts when a job list was
    split), sorted as requested and cut to ``limit``. ``names`` gives, for a
    kind whose entities name no machine, the one name each request asked for.
    """
    latest_key = _latest_key(params)
    names = names or [None] * len(filters)
    if len(filters) == 1:
        found, truncated = _fetch(client, kind, params, filters[0], local, concurrency, now, names[0])
        if latest_key:
            return _finish_latest(kind, params, found, truncated, now)
        return found, truncated, []
    descending = (params.get('order') or 'descending') == 'descending'
    _page_size, limit = _paging(params)
    merged, seen, truncated = [], set(), False
    for filter_text, name in zip(filters, names):
        part, cut = _fetch(client, kind, params, filter_text, local, concurrency, now, name)
        truncated = truncated or cut
        for session in part:
            uid = session.get('uid')
            if uid is None or uid not in seen:
                seen.add(uid)
                merged.append(session)
    if latest_key:
        newest = {}
        for session in merged:
            marker, rank = _identity(session, latest_key), sessions.newest_rank(session, now)
            if marker not in newest or rank > newest[marker][0]:
                newest[marker] = (rank, session)
        ordered = [session for _rank, session in sorted(newest.values(), key=lambda pair: pair[0], reverse=True)]
        return _finish_latest(kind, params, ordered, truncated, now)
    merged = _sort_sessions(merged, _session_key(kind, params.get('sort') or 'creation_time'), descending)
    if limit and len(merged) > limit:
        merged, truncated = merged[:limit], True
    return merged, truncated, []


def _fetch_by_id(client, kind, params):
    """The entity GET behind ``id``: ``[session]``, ``[]`` with missing_ok, else EmError."""
    guid = sessions.parse_uid(params['id'], kind.uid_type)
    entity = client.get_entity(kind.entity_path, guid, kind.query_type)
    if entity is None:
        if params.get('missing_ok'):
            return []
        raise EmError('No {0} with id {1} exists on {2} (GET /{3}/{1} answered HTTP 404); set missing_ok to get an empty list instead.'.format(
            kind.query_type, guid, client.base_url, kind.entity_path))
    return [normalise_session(entity, kind, params)]


def normalise_session(entity, kind, params, name=None):
    """Normalise one entity; with ``raw`` keep EM's own entity under ``_raw`` for the caller.

    An entity of a kind that names no machine (``AgentRestorePoint``) gets
    ``name``, the one name its request filtered on, as ``vm_name``.

    ``links`` is dropped unless ``fields`` asks for it: 16 objects a session
    (a third of its size in JSON) that Ansible must sanitise, decode and copy
    at every step, for hrefs whose meaning (server, job) the session already
    carries. Measured on 10,135 sessions, they were two thirds of the time a
    module's or a lookup's result spent in Ansible.
    """
    session = sessions.normalise(entity, kind, links='links' in (params.get('fields') or ()))
    if name is not None and not kind.named:
        session['vm_name'] = name
    if params.get('raw'):
        session['_raw'] = entity
    return session


def plan_session_query(client, kind, params, now=None):
    """Everything about a session query that needs no EM: the split filters, checked before logging on.

    ``client`` only lends its base URL (it need not be logged on). Returns a
    plan for ``run_session_query``; raises EmError on input EM would refuse.
    """
    if not isinstance(kind, sessions.SessionKind):
        kind = sessions.KINDS[kind]
    params = validate.session_params(kind, params, now)
    check_outcome_filter(params)
    now = now if now is not None else query.utcnow()  # relative ages resolve once, so waiting sees one window
    _paging(params)
    if params.get('id'):
        return dict(kind=kind, now=now, filters=[None], filter=None, local={}, names=[None])
    if kind.named or not params.get('vm_name'):
        filters, logical, local = split_session_filters(client, kind, params, now)
        return dict(kind=kind, now=now, filters=filters, filter=logical, local=local, names=[None] * len(filters))
    # The entities name no machine (AgentRestorePoint): one name a request, so each point is attributed
    # to the name asked for (EM compares names case-insensitively: a name given twice is read once).
    filters, names, seen = [], [], set()
    for name in params['vm_name']:
        if name.casefold() not in seen:
            seen.add(name.casefold())
            part, _logical, local = split_session_filters(client, kind, dict(params, vm_name=[name]), now)
            filters.extend(part)
            names.extend([name] * len(part))
    conditions, raw, _local, _labels = session_conditions(kind, params, now)
    return dict(kind=kind, now=now, filters=filters, filter=query.build_filter(conditions, raw), local=local, names=names)


def run_session_query(client, kind, params, now=None, sleep=time.sleep, clock=time.monotonic, plan=None):
    """Run one session query (or id lookup), waiting for running sessions when asked.

    ``kind`` is a SessionKind or its name; ``params`` holds the module options;
    ``plan`` comes from ``plan_session_query`` (made here when not given).
    Returns ``dict(sessions=[...], summary={...}, truncated=bool, filter=str|None,
    warnings=[...])``; with ``params['raw']`` the sessions are EM's own entities. Raises EmError on any failure, including a wait timeout.
    """
    plan = plan or plan_session_query(client, kind, params, now)
    kind = plan['kind']
    warnings = []
    filters, filter_text, local = plan['filters'], plan['filter'], plan['local']
    concurrency = params.get('concurrency') or query.DEFAULT_CONCURRENCY
    wait = bool(params.get('wait'))
    wait_timeout = float(params.get('wait_timeout') if params.get('wait_timeout') is not None else 600)
    wait_sleep = max(float(params.get('wait_sleep') if params.get('wait_sleep') is not None else 10), 0.0)
    deadline = clock() + wait_timeout
    while True:
        found_warnings = []
        if params.get('id'):
            found, truncated = _fetch_by_id(client, kind, params), False
        else:
            found, truncated, found_warnings = _fetch_split(client, kind, params, filters, local, concurrency, plan['now'],
                                                            plan.get('names'))
        running = [s for s in found if sessions.is_running(s)]
        if not wait or not running:
            break
        if clock() + wait_sleep > deadline:
            names = ', '.join(str(s.get('name')) for s in running[:5])
            raise EmError('Timed out after {0:g} seconds waiting for {1} running {2}(s) to finish: {3}{4}.'.format(
                wait_timeout, len(running), kind.query_type, names, ' and more' if len(running) > 5 else ''))
        sleep(wait_sleep)
    warnings.extend(found_warnings)
    if truncated:
        warnings.extend(validate.truncation_warnings(kind.query_type, params, _paging(params)[1]))
    summary = sessions.summarise(found, kind)
    if params.get('raw'):
        found = [s['_raw'] for s in found]
    elif params.get('fields'):
        # Only now: waiting, de-duplication, latest_per_* and the summary read other keys.
        fields = params['fields']
        found = [dict((name, s.get(name)) for name in fields) for s in found]
    return dict(sessions=found, summary=summary, truncated=truncated, filter=filter_text, warnings=warnings)


def run_raw_query(client, query_type, params):
    """Query any EM type (Job, BackupServer, ...) and return its raw entities.

    Only ``filter``, ``sort`` (an EM field name), ``order``, ``limit`` and
    ``page_size`` apply. Returns ``dict(items=[...], truncated=bool, warnings=[...])``.
    """
    page_size, limit = _paging(params)
    filter_text = query.build_filter([], params.get('filter'))
    descending = (params.get('order') or 'descending') == 'descending'
    sort = params.get('sort') or None

    def fetch_page(page):
        return client.query_page(query_type, filter_text, sort, descending, page_size, page)

    def key(item):
        return (item.get('UID') or item.get('Href')) if isinstance(item, dict) else None

    result = query.fetch_pages(fetch_page, page_size, limit, params.get('concurrency') or query.DEFAULT_CONCURRENCY, key=key)
    warnings = []
    if result.truncated:
        warnings.extend(validate.truncation_warnings(query_type, params, limit))
    return dict(items=result.items, truncated=result.truncated, filter=filter_text, warnings=warnings)


def run_module(module, kind_name):
    """An info module's whole run: plan the session query before logon, run it with one logon."""
    return run_client_module(
        module,
        lambda client: plan_session_query(client, kind_name, module.params),
        lambda client, plan: run_session_query(client, kind_name, module.params, plan=plan),
    )


def run_point_module(module):
    """restore_point_info's whole run: the point query of the source ``type`` names, as ``run_module`` runs sessions.

    Returns the result with the points under ``points``.
    """
    result = run_module(module, sources.get(module.params['type']).session_kind)
    result['points'] = result.pop('sessions')
    return result
