# -*- coding: utf-8 -*-
# Copyright (c) 2026, vbem.enterprise_manager contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Is this VM protected? The gate's judging logic, and the query that feeds it.

The judging part (``Policy``, ``Evidence``, ``Findings``, ``judge_source``,
``combine``, ``judge_vm``, ``judge_sessions``) is pure: it turns the sessions
of a VM into a verdict, ``passed``, a ``code`` from the fixed set ``CODES``
and a ``reason`` a person can act on. The gate module, the backup_gate role
(through the module) and the inventory plugin all judge with it, so a VM gets
the same verdict everywhere.

What EM says is checked, not trusted:

* Order. The newest session of a VM and source is the one with the latest
  creation time, whatever order EM answered in (``Evidence.add``). Reading
  stops early (the bounded look back) only while the sessions read so far
  came newest first; once one does not, every page is read.
* Time. A session dated later than the controller's now plus
  ``sessions.CLOCK_SKEW`` (5 minutes) never counts as fresh: the VM fails
  with ``future_time``. A creation time that is missing, unparseable or
  before 2000 fails it with ``bad_time``. Either sorts above every good time,
  so it is always what gets judged: no order can hide it.
* State. A judged session whose ``State`` is not one EM documents for its
  type (``InProgress``, ``Pending``, ``Completed`` for task sessions) is never
  taken as completed: ``unknown_state``, naming the state.
* Identity. Names match case-insensitively, as EM matches them. A requested
  name is ``ambiguous`` (failing, naming the candidates) when the sessions read
  for it, over all sources judged, name more than one VM: two ``VmUid``
  values, or two spellings of the name (``CaseDup`` and ``casedup``). Names
  are grouped with ``str.casefold()``, which is wider than EM's own comparison
  may be (it maps ``ß`` to ``ss``): a session whose name equals the requested
  one only under that folding, not under plain lower-casing (``STRASSE``
  asked, ``Straße`` found), is a casefold twin and also ``ambiguous``. On
  doubt the gate fails closed; a VM never passes on another VM's session.
  Identity is judged on the sessions read: when EM spells a name otherwise
  than it was asked (or several spellings of it are asked), the whole look
  back is read for it, so that a second VM with only older sessions shows.

``plan_protection`` checks the gate's input before logging on;
``protection_report`` then reads, with one logged-on client, what the
verdicts need: per source, the VMs' sessions in the ``max_age`` window
(names split to fit EM's URL limit); running sessions waited for; and, for
names with nothing usable in the window, one bounded look back to tell
``stale`` (and since when) from ``no_session``.

Other callers (the inventory) judge sessions they read themselves: collect
each source's sessions, in any order, into a ``Findings(source, now)`` with
``visit``, then call ``judge_vm({source: findings.evidence(key)}, policy,
requested_name)`` for each folded name ``key`` (``Evidence.as_data`` and
``Evidence.from_data`` carry it through a cache); or, for one VM,
``judge_sessions({source: [sessions]}, policy, requested_name)``.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import re
import time
from datetime import datetime

from ansible_collections.vbem.enterprise_manager.plugins.module_utils.errors import EmError
from ansible_collections.vbem.enterprise_manager.plugins.module_utils import info, query, sessions, sources as source_table
from ansible_collections.vbem.enterprise_manager.plugins.module_utils import module_frame, validate

# Every source the gate judges (see sources.TABLE); SOURCES are the session sources, the ones the inventory reads.
GATE_SOURCES = source_table.NAMES
SOURCES = source_table.SESSION_NAMES
SOURCE_KINDS = dict((source.name, source.session_kind.name) for source in source_table.TABLE)
CODES = ('passed', 'failed_result', 'warning_result', 'unaccepted_result', 'stale', 'no_session', 'running', 'wait_timeout',
         'ambiguous', 'future_time', 'bad_time', 'unknown_state')
RUNNING_MODES = ('wait', 'fail', 'previous')
REQUIRE_MODES = ('any', 'all')
ACCEPTABLE_RESULTS = ('Success', 'Warning')

DEFAULT_MAX_AGE = '24h'
DEFAULT_LOOKBACK = '30d'
DEFAULT_WAIT_TIMEOUT = 1800
DEFAULT_WAIT_SLEEP = 10
DEFAULT_PAGE_SIZE = 1000
MAX_PAGE_SIZE = 10000
MIN_URL_LENGTH = 1024

_UNIT_WORDS = {'s': 'second', 'm': 'minute', 'h': 'hour', 'd': 'day', 'w': 'week'}
_RELATIVE_RE = re.compile(r'^\s*(\d+)\s*([smhdw])\s*$', re.IGNORECASE)


def _moment(value):
    """``2026-11-29 21:40 UTC`` for an EM timestamp or a datetime; ``an unknown time`` when absent."""
    moment = value if isinstance(value, datetime) else sessions.parse_em_time(value)
    return moment.strftime('%Y-%m-%d %H:%M UTC') if moment else 'an unknown time'


def _span(text, option, now):
    """Parse a ``max_age``/``lookback`` value: ``(cutoff, phrase)``; the phrase names the span for reasons."""
    if text is None or (isinstance(text, str) and not text.strip()):
        raise EmError('{0} is empty; give a relative age such as 24h or 7d, or an ISO-8601 date-time.'.format(option))
    try:
        cutoff = query.parse_time(text, now)
    except query.TimeRangeError:
        raise EmError('{0} {1!r} reaches outside the years 1 to 9999; give an age or a date within them.'.format(option, text))
    except query.TimeZoneError as exc:
        raise EmError('{0} {1!r} {2}.'.format(option, text, exc.detail))
    except EmError:
        raise EmError('{0} {1!r} is neither a relative age such as 30m, 24h, 7d or 2w nor an ISO-8601 date-time '
                      '(2026-11-29T06:00:00Z).'.format(option, text))
    if cutoff > now:
        raise EmError('{0} {1!r} lies in the future; give a past time or a relative age such as 24h.'.format(option, text))
    match = _RELATIVE_RE.match(str(text))
    if match:
        count, unit = int(match.group(1)), match.group(2).lower()
        if count == 0:
            raise EmError('{0} {1!r} is zero; give a positive age such as 24h.'.format(option, text))
        return cutoff, '{0} {1}{2}'.format(count, _UNIT_WORDS[unit], '' if count == 1 else 's'), match.group(0).strip()
    return cutoff, 'since {0}'.format(_moment(cutoff)), _moment(cutoff)


class Policy(object):
    """What counts as protected: the gate's options, checked and resolved against one ``now``.

    ``max_age``/``lookback`` take a relative age (``24h``, ``7d``) or an
    ISO-8601 date-time; ``accept`` the results that pass; ``running`` says
    what a running newest session means (``wait``: it was waited for, so
    still running is ``wait_timeout``; ``fail``: ``running``; ``previous``:
    judge the newest completed one); ``require`` combines ``sources``.
    Raises EmError with one sentence on anything else.
    """

    def __init__(self, now=None, max_age=DEFAULT_MAX_AGE, accept=('Success',), running='wait', require='any',
                 sources=('backup',), lookback=DEFAULT_LOOKBACK, job_name=None, wait_timeout=DEFAULT_WAIT_TIMEOUT):
        self.now = now if now is not None else query.utcnow()
        self.sources = _choices(sources, GATE_SOURCES, 'sources')
        self.accept = _choices(accept, ACCEPTABLE_RESULTS, 'accept')
        if running not in RUNNING_MODES:
            raise EmError('running must be one of {0}, not {1!r}.'.format(', '.join(RUNNING_MODES), running))
        if require not in REQUIRE_MODES:
            raise EmError('require must be one of {0}, not {1!r}.'.format(', '.join(REQUIRE_MODES), require))
        self.running = running
        self.require = require
        self.cutoff, self.max_age_phrase, self.max_age_text = _span(max_age, 'max_age', self.now)
        self.lookback_start, self.lookback_phrase, _text = _span(lookback, 'lookback', self.now)
        if self.lookback_start > self.cutoff:
            raise EmError('lookback ({0}) must reach at least as far back as max_age ({1}).'.format(lookback, max_age))
        self.job_name = validate.names(job_name, 'job_name') or None
        points = [source for source in self.sources if source_table.get(source).points]
        if self.job_name and points:
            raise EmError('job_name filters sessions, but EM documents no job field for the restore points of {0}; '
                          'leave job_name unset or judge session sources only.'.format(', '.join(points)))
        self.wait_timeout = wait_timeout

    def older_than(self):
        """``older than 24h`` or ``older than the cutoff 2026-11-29 06:00 UTC``: the stale half of a reason."""
        if self.max_age_phrase.startswith('since '):
            return 'older than the cutoff ' + self.max_age_text
        return 'older than ' + self.max_age_text

    def in_lookback(self):
        """``in the last 30 days`` or ``since 2026-10-31 00:00 UTC``."""
        return self.lookback_phrase if self.lookback_phrase.startswith('since ') else 'in the last ' + self.lookback_phrase


def _choices(values, allowed, option):
    """A non-empty tuple of allowed values in the order given (duplicates dropped)."""
    if isinstance(values, str):
        values = [values]
    if not isinstance(values, (list, tuple)) or not values:
        raise EmError('{0} must be a non-empty list of {1}.'.format(option, ', '.join(allowed)))
    result = []
    for value in values:
        if value not in allowed:
            raise EmError('{0} holds {1!r}; each entry must be one of {2}.'.format(option, value, ', '.join(allowed)))
        if value not in result:
            result.append(value)
    return tuple(result)


def _verdict(passed, code, reason, session):
    return {'passed': passed, 'code': code, 'reason': reason, 'session': session}


def _in_job(session):
    return 'in job {0}'.format(session.get('job_name') or 'unknown')


def _jobs_phrase(policy):
    if not policy.job_name:
        return ''
    return ' of job{0} {1}'.format('s' if len(policy.job_name) > 1 else '', ', '.join(policy.job_name))


def _distrusted(source, session, policy):
    """The failing verdict for a session whose time or state cannot be judged, or None."""
    fault = sessions.time_fault(session.get('creation_time'), policy.now)
    entry = source_table.get(source)
    what = '{0} {1}'.format(_point_what(entry, session), _where(session)) if entry.points else \
        '{0} session {1}'.format(source, _in_job(session))
    if fault and fault[0] == 'future_time':
        ahead = fault[1] - policy.now
        return _verdict(False, 'future_time', '{0} is dated {1}, {2} after the controller\'s clock ({3}), beyond the {4} '
                        'allowed for clock skew: EM\'s or the controller\'s clock is wrong, so it proves nothing'.format(
                            what, _moment(fault[1]), _duration(ahead), _moment(policy.now),
                            _duration(sessions.CLOCK_SKEW)), session)
    if fault:
        return _verdict(False, 'bad_time', '{0} has the creation time {1}, which is {2}; EM\'s answer cannot be judged'.format(
            what, _shown(session.get('creation_time')),
            'not a time' if fault[1] is None else 'before {0}'.format(sessions.EARLIEST_TIME.year)), session)
    kind = entry.session_kind
    if not entry.points and not sessions.is_known_state(session, kind):
        return _verdict(False, 'unknown_state', '{0} has the state {1}, which EM does not document for {2} ({3}); it is not '
                        'judged as completed'.format(what, _shown(session.get('state')), kind.query_type, ', '.join(kind.states)),
                        session)
    return None


def _duration(delta):
    """``3 h 2 min``, ``5 min``, ``40 s``, ``2 days``: a span for reasons."""
    seconds = int(delta.total_seconds())
    if seconds >= 2 * 86400:
        return '{0} days'.format(seconds // 86400)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return '{0} h {1} min'.format(hours, minutes) if minutes else '{0} h'.format(hours)
    if minutes:
        return '{0} min'.format(minutes)
    return '{0} s'.format(secs)


def judge_source(source, newest, completed, policy):
    """Judge one source of one VM.

    ``newest`` is the VM's newest session of this source (any state, a
    normalised session dict, or None when it has none since the look-back
    start); ``completed`` its newest completed session (or None when not
    known). With ``running='wait'`` the caller has already waited, so a
    newest session still running is ``wait_timeout``. A running CDP session
    is judged on its live result: CDP replicates continuously and its
    sessions run for a whole day.

    Returns ``{'passed', 'code', 'reason', 'session'}``, ``session`` being the
    session judged.
    """
    if source_table.get(source).points:
        return judge_point(source, newest, policy)
    if newest is None:
        return _verdict(False, 'no_session', 'no {0} session{1} {2}'.format(source, _jobs_phrase(policy), policy.in_lookback()), None)
    distrusted = _distrusted(source, newest, policy)
    if distrusted:
        return distrusted
    judged = newest
    live = source_table.get(source).is_live(newest)
    if sessions.is_running(newest) and not live:
        since = 'since {0} {1}'.format(_moment(newest.get('creation_time')), _in_job(newest))
        started = sessions.parse_em_time(newest.get('creation_time'))
        if policy.running == 'wait' and started is not None and started < policy.cutoff:
            # Only sessions started within max_age are waited for: this one was not,
            # and finishing cannot make it recent.
            return _verdict(False, 'stale', 'newest {0} {1} (still running) is {2}'.format(
                source, _moment(started), policy.older_than()), newest)
        if policy.running == 'fail':
            return _verdict(False, 'running', '{0} running {1} (running=fail)'.format(source, since), newest)
        if policy.running == 'wait':
            return _verdict(False, 'wait_timeout', '{0} still running after waiting {1} s (started {2} {3})'.format(
                source, policy.wait_timeout, _moment(newest.get('creation_time')), _in_job(newest)), newest)
        if completed is None:
            return _verdict(False, 'no_session', 'no completed {0} session{1} {2}; one is running {3}'.format(
                source, _jobs_phrase(policy), policy.in_lookback(), since), newest)
        judged = completed
        distrusted = _distrusted(source, completed, policy)
        if distrusted:
            return distrusted
    created = sessions.parse_em_time(judged.get('creation_time'))
    result = judged.get('result') if judged.get('result') is not None else 'None'
    if created is None or created < policy.cutoff:
        return _verdict(False, 'stale', 'newest {0}{1} {2} ({3}) is {4}'.format(
            'completed ' if judged is not newest else '', source, _moment(created), result, policy.older_than()), judged)
    at = '{0} at {1} {2}'.format(result, _moment(judged.get('end_time') or judged.get('creation_time')), _in_job(judged))
    if result in policy.accept:
        return _verdict(True, 'passed', at, judged)
    em_reason = judged.get('reason') or 'EM gave no reason'
    if result == 'Failed':
        return _verdict(False, 'failed_result', '{0}: {1}'.format(at, em_reason), judged)
    if result == 'Warning':
        return _verdict(False, 'warning_result', '{0}: {1} (Warning is not accepted)'.format(at, em_reason), judged)
    return _verdict(False, 'unaccepted_result', '{0} is not an accepted result (accept: {1})'.format(at, ', '.join(policy.accept)), judged)


def _point_what(entry, point):
    return 'newest {0}'.format(entry.noun) if point is None else '{0} {1}'.format(entry.noun, point.get('name'))


def _where(point):
    """``in backup file Web FarmD2026-11-29T214000.vib on vbr01``: where a point lies, as far as its entity says."""
    parts = []
    if point.get('backup_file'):
        parts.append('in backup file {0}'.format(point['backup_file']))
    elif point.get('replica_name'):
        parts.append('in replica {0}'.format(point['replica_name']))
    if point.get('backup_server'):
        parts.append('on {0}'.format(point['backup_server']))
    return ' '.join(parts) or 'in an unnamed backup'


def judge_point(source, newest, policy):
    """Judge a restore point source of one VM (computer) from its newest point (by time, or None).

    Passed when the point is newer than ``max_age``; ``stale`` (naming the
    point and where it lies) when older; ``no_session`` when the VM has no
    point of this kind at all; a point whose time cannot be trusted fails with
    ``future_time``/``bad_time`` as a session would. ``running`` and
    ``accept`` do not apply: a point has no state and no result.
    """
    entry = source_table.get(source)
    if newest is None:
        return _verdict(False, 'no_session', 'no {0} in EM for this {1}'.format(entry.noun, entry.subject), None)
    distrusted = _distrusted(source, newest, policy)
    if distrusted:
        return distrusted
    created = sessions.parse_em_time(newest.get('creation_time'))
    if created < policy.cutoff:
        return _verdict(False, 'stale', 'newest {0} {1} {2} is {3}'.format(
            entry.noun, _moment(created), _where(newest), policy.older_than()), newest)
    return _verdict(True, 'passed', '{0} at {1} {2}'.format(entry.noun, _moment(created), _where(newest)), newest)


def combine(verdicts, policy):
    """Combine per-source verdicts (``{source: verdict}``) as ``policy.require`` says.

    ``any``: passed when one source passed; ``all``: when every source did.
    The code is ``passed`` or the first failing source's code (in the order
    of ``policy.sources``); with several sources each reason part is prefixed
    with its source. Returns ``{'passed', 'code', 'reason'}``.
    """
    ordered = [(source, verdicts[source]) for source in policy.sources]
    passing = [(s, v) for s, v in ordered if v['passed']]
    failing = [(s, v) for s, v in ordered if not v['passed']]
    passed = bool(passing) if policy.require == 'any' else not failing
    if passed:
        shown = passing[:1] if policy.require == 'any' else passing
        code = 'passed'
    else:
        shown = failing
        code = failing[0][1]['code']
    if len(ordered) == 1:
        reason = shown[0][1]['reason']
    else:
        reason = '; '.join('{0}: {1}'.format(source, verdict['reason']) for source, verdict in shown)
    return {'passed': passed, 'code': code, 'reason': reason}


def judge_vm(found, policy, requested_name=None):
    """Judge one VM from ``found = {source: evidence}`` (missing sources count as nothing found).

    Each evidence is an ``Evidence`` (from ``Findings.evidence``) or a pair
    ``(newest, completed)`` of sessions already chosen by time. Returns
    ``{'vm_name', 'passed', 'code', 'reason', 'sources': {source: verdict}}``;
    ``vm_name`` is EM's spelling when EM has a session of the VM, else
    ``requested_name``. A name that matches more than one VM (see the
    module docstring) is ``ambiguous`` in every source.
    """
    evidence = dict((source, _as_evidence(found.get(source), policy.now)) for source in policy.sources)
    candidates = _candidates(evidence.values())
    twins = [name for name in candidates if requested_name is not None and fold(name) == fold(requested_name)
             and name.lower() != requested_name.lower()]
    verdicts = {}
    vm_name = None
    if len(candidates) > 1 or twins or any(len(uids) > 1 for uids in candidates.values()):
        reason = _ambiguity(requested_name, candidates, twins)
        for source in policy.sources:
            verdicts[source] = _verdict(False, 'ambiguous', reason, None)
    else:
        for source in policy.sources:
            verdicts[source] = judge_source(source, evidence[source].newest, evidence[source].completed, policy)
        vm_name = next(iter(candidates), None)
    verdict = combine(verdicts, policy)
    return {
        'vm_name': vm_name or requested_name,
        'passed': verdict['passed'],
        'code': verdict['code'],
        'reason': verdict['reason'],
        'sources': verdicts,
    }


def judge_sessions(by_source, policy, requested_name=None):
    """Judge one VM from ``{source: [sessions]}``, in any order (sessions of other names must not be given)."""
    found = {}
    for source in policy.sources:
        evidence = Evidence(policy.now, source_table.get(source).live)
        for session in by_source.get(source) or ():
            evidence.add(session)
        found[source] = evidence
    return judge_vm(found, policy, requested_name)


def _as_evidence(value, now):
    if isinstance(value, Evidence):
        return value
    evidence = Evidence(now)
    newest, completed = value or (None, None)
    for session in (newest, completed):
        if session is not None:
            evidence.add(session)
    # The pair was chosen by its caller: keep it as given.
    evidence.newest, evidence.completed = newest, completed
    return evidence


def _candidates(evidences):
    """``{EM spelling: set of VmUids}`` over the sessions behind ``evidences``."""
    candidates = {}
    for evidence in evidences:
        for name, uids in evidence.names.items():
            candidates.setdefault(name, set()).update(uids)
    return candidates


def _ambiguity(requested_name, candidates, twins):
    """The reason of an ``ambiguous`` verdict, naming every candidate (spelling and VmUids)."""
    shown = []
    for name in sorted(candidates):
        uids = sorted(candidates[name])
        shown.append('{0!r}{1}'.format(name, ' ({0})'.format(', '.join(uids)) if uids else ''))
    asked = repr(requested_name) if requested_name is not None else 'The name'
    reason = '{0} is ambiguous in EM\'s sessions, which name {1}'.format(asked, ', '.join(shown))
    if twins:
        return reason + ('; {0} equals {1} only under Unicode case folding (such as \u00df = ss), which EM may not apply: '
                         'the gate takes no VM for another, so give the name exactly as EM spells it').format(
                             ', '.join(repr(t) for t in sorted(twins)), asked)
    return reason + ('; EM compares names case-insensitively, so the gate cannot tell which VM is meant and judges none: '
                     'give each VM a name that differs in more than case')


def fold(name):
    """The case-insensitive identity of a VM name, as EM compares names (no trimming)."""
    return name.casefold()


def _targets(vms):
    """``[(key, name)]`` in input order from a list of names, one name, or a dict ``{key: name}``."""
    if isinstance(vms, dict):
        if not vms:
            raise EmError('vms is an empty dict; give at least one {host: VM name} pair.')
        pairs = []
        for key, name in vms.items():
            if not isinstance(name, str):
                raise EmError('vms[{0!r}] must be one VM name (a string), not {1}.'.format(key, _shown(name)))
            pairs.append((key, validate.names(name, 'vms[{0!r}]'.format(key), required=True)[0]))
        return pairs
    # A name listed twice is one key: the result is keyed by name, so its lists and counts must be too.
    pairs, seen = [], set()
    for name in validate.names(vms, 'vms', required=True):
        if name not in seen:
            seen.add(name)
            pairs.append((name, name))
    return pairs


def _shown(value):
    """A value for an error sentence, shortened (``null`` for None)."""
    text = 'null' if value is None else repr(value)
    return text if len(text) <= 60 else text[:57] + '...'


def _positive(params, option, default, maximum=None, minimum=1):
    value = params.get(option)
    value = default if value is None else value
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise EmError('{0} must be a whole number of {1} or more, not {2!r}.'.format(option, minimum, value))
    if maximum is not None and value > maximum:
        raise EmError('{0} must be at most {1}, not {2}.'.format(option, maximum, value))
    return value


def plan_protection(client, vms, params, now=None):
    """Check the gate's input and plan its queries, without talking to EM.

    ``params`` holds the module options (sources, require, max_age, accept,
    running, wait_timeout, wait_sleep, job_name, lookback, max_url_length,
    page_size). ``client`` only lends its base URL. Raises EmError with one
    sentence on bad input, including a name too long for any request.
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
        wait_timeout=_positive(params, 'wait_timeout', DEFAULT_WAIT_TIMEOUT),
    )
    targets = _targets(vms)
    names = []
    seen = set()
    for _key, name in targets:
        if fold(name) not in seen:
            seen.add(fold(name))
            names.append(name)
    plan = {
        'policy': policy,
        'targets': targets,
        'names': names,
        'wait_sleep': _positive(params, 'wait_sleep', DEFAULT_WAIT_SLEEP),
        'page_size': _positive(params, 'page_size', DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE),
        # Below about 1 KB not even one short name fits beside the fixed part of a query URL.
        'max_url_length': _positive(params, 'max_url_length', info.DEFAULT_MAX_URL_LENGTH, minimum=MIN_URL_LENGTH),
        'concurrency': params.get('concurrency') or query.DEFAULT_CONCURRENCY,
    }
    # Split both queries for every name now, so a name no request can carry fails before logon.
    for source in policy.sources:
        kind = sessions.KINDS[SOURCE_KINDS[source]]
        info.split_session_filters(client, kind, _window_params(plan, names), policy.now, _OPTION_NAMES)
        info.split_session_filters(client, kind, _lookback_params(plan, names, source), policy.now, _OPTION_NAMES)
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


def _scan(client, kind, params, plan, findings, wanted=None, stop=False):
    """Read a session query into ``findings`` (a ``Findings``).

    The query may be split into several requests (long name lists). Each is
    read into findings of its own, merged afterwards: when a long job list is
    split, one VM's sessions are spread over several requests. EM is asked
    for newest first, but nothing relies on it. With ``stop`` (the bounded
    look back) a request is read only until every VM it asks for is settled,
    and only while every session read so far came newest first: after the
    first one that did not (or whose time cannot be trusted), the request is
    read to its end. Stopping early can never pass a VM: everything the look
    back may find is older than ``max_age``, and a session outside the
    asked times is refused (``_check_window``). ``wanted`` limits the folded
    names recorded.
    """
    if not kind.named:
        # The entity does not name its machine (AgentRestorePoint): one request per name, the point
        # attributed to the name asked (EM filters ComputerName case-insensitively).
        for name in params['vm_name']:
            _scan_named(client, kind, dict(params, vm_name=[name]), plan, findings, wanted, stop, name)
        return
    _scan_named(client, kind, params, plan, findings, wanted, stop)


def _scan_named(client, kind, params, plan, findings, wanted, stop, name=None):
    requests, _logical, local = info.split_session_requests(client, kind, params, plan['policy'].now, _OPTION_NAMES)
    for filter_text, values in requests:
        # The look back may stop once every name it asks for is settled, while the order held.
        needed = len(set(fold(name) for name in values.get('vm_name', []))) if stop else None
        findings.merge(_scan_request(client, kind, dict(params, now=findings.now), plan, findings, filter_text, local,
                                     wanted, needed, name))


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
    span = 'before {0}'.format(_moment(before))
    if after is not None:
        span = 'from {0}{1}'.format(_moment(after), ' to ' + span if before is not None else '')
    raise EmError('EM answered a query for {0} {1} created {2} with one created at {3} ({4}): the answer is not what '
                  'was asked, so no VM is judged on it.'.format(
                      kind.query_type, kind.plural(), span, _moment(moment), session.get('name')))


class Evidence(object):
    """What one source's sessions say about one VM name, gathered in any order.

    ``newest`` is the session that decides the verdict: the latest by
    creation time, a session whose time cannot be trusted (``bad_time``,
    ``future_time``) above every other, and, at equal times, a running one
    before a finished one and a worse result before a better one (no order
    of EM's answer can change which is judged). ``completed`` is the newest
    of the sessions not running, by the same rule. ``names`` maps each
    spelling of the VM name seen to the ``VmUid`` values seen with it.
    With ``live`` (CDP) a running session with a result counts as settled.
    """

    def __init__(self, now, live=False):
        self.now = now
        self.live = live
        self.newest = None
        self.completed = None
        self.names = {}
        self._newest_rank = None
        self._completed_rank = None

    def add(self, session):
        """Take one session into account."""
        name = session.get('vm_name')
        if isinstance(name, str):
            uids = self.names.setdefault(name, set())
            if session.get('vm_uid'):
                uids.add(str(session['vm_uid']))
        rank = sessions.newest_rank(session, self.now)
        if self._newest_rank is None or rank > self._newest_rank:
            self.newest, self._newest_rank = session, rank
        if not sessions.is_running(session) and (self._completed_rank is None or rank > self._completed_rank):
            self.completed, self._completed_rank = session, rank

    def merge(self, other):
        """Take ``other``'s evidence in (a VM's sessions spread over several requests)."""
        for name, uids in other.names.items():
            self.names.setdefault(name, set()).update(uids)
        if other.newest is not None and (self._newest_rank is None or other._newest_rank > self._newest_rank):
            self.newest, self._newest_rank = other.newest, other._newest_rank
        if other.completed is not None and (self._completed_rank is None or other._completed_rank > self._completed_rank):
            self.completed, self._completed_rank = other.completed, other._completed_rank

    def as_data(self):
        """Plain JSON-able values (for a cache): ``{'newest', 'completed', 'names': {spelling: [VmUids]}}``."""
        return {'newest': self.newest, 'completed': self.completed,
                'names': dict((name, sorted(uids)) for name, uids in self.names.items())}

    @classmethod
    def from_data(cls, data, now, live=False):
        """The evidence ``as_data`` described, judged against ``now``."""
        evidence = cls(now, live)
        for key in ('newest', 'completed'):
            session = data.get(key)
            if session is not None:
                setattr(evidence, key, session)
                setattr(evidence, '_{0}_rank'.format(key), sessions.newest_rank(session, now))
        evidence.names = dict((name, set(uids)) for name, uids in (data.get('names') or {}).items())
        return evidence

    def settled(self):
        """Whether nothing older can change the verdict: a session not running, or a live CDP one, is known."""
        if self.completed is not None:
            return True
        return self.newest is not None and self.live and self.newest.get('result') not in (None, 'None')


class Findings(object):
    """Per folded VM name, the ``Evidence`` of one source, from sessions seen in any order."""

    def __init__(self, source, now):
        self.source = source
        self.now = now
        self.by_key = {}

    def visit(self, session, wanted=None):
        """Record a session; True when it makes its name settled (see ``Evidence.settled``) for the first time."""
        name = session.get('vm_name')
        if not isinstance(name, str):
            return False
        key = fold(name)
        if wanted is not None and key not in wanted:
            return False
        evidence = self.by_key.get(key)
        if evidence is None:
            evidence = self.by_key[key] = Evidence(self.now, source_table.get(self.source).live)
        before = evidence.settled()
        evidence.add(session)
        return not before and evidence.settled()

    def merge(self, other):
        """Take ``other``'s findings in."""
        for key, evidence in other.by_key.items():
            if key in self.by_key:
                self.by_key[key].merge(evidence)
            else:
                self.by_key[key] = evidence

    def forget(self, key):
        """Drop a name's findings before reading it again (after waiting)."""
        self.by_key.pop(key, None)

    def evidence(self, key):
        """The name's ``Evidence`` (empty when nothing was seen)."""
        return self.by_key.get(key) or Evidence(self.now, source_table.get(self.source).live)

    def newest(self, key):
        """The name's newest session, or None."""
        evidence = self.by_key.get(key)
        return evidence.newest if evidence else None

    def complete(self, key):
        """Whether nothing older can change this name's verdict."""
        evidence = self.by_key.get(key)
        return evidence is not None and evidence.settled()


def protection_report(client, plan, sleep=time.sleep, clock=time.monotonic, progress=None):
    """Run the planned gate with a logged-on ``client`` and return the module result.

    Returns ``{'vms': {key: entry}, 'passed_vms': [keys], 'failed_vms': [keys],
    'summary': {...}}``; every requested key gets an entry (see ``judge_vm``,
    plus ``requested_name``). Raises EmError when EM fails.

    ``progress(event, names, seconds)``, when given, hears about the wait for
    running sessions (``running=wait``): ``start`` before the first sleep
    (``seconds`` left until the deadline), ``wait`` before each further one,
    then ``done`` (``seconds`` waited) or ``timeout`` (``names`` still
    running); ``names`` are the requested VM names, in request order.
    """
    policy = plan['policy']
    by_fold = dict((fold(name), name) for name in plan['names'])
    kinds = dict((source, sessions.KINDS[SOURCE_KINDS[source]]) for source in policy.sources)
    findings = dict((source, Findings(source, policy.now)) for source in policy.sources)
    for source in policy.sources:
        _scan(client, kinds[source], _window_params(plan, plan['names']), plan, findings[source])

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
                _scan(client, kinds[source], _lookback_params(plan, [by_fold[key] for key in keys], source), plan, found,
                      wanted=set(keys), stop=stop)
    return _report(plan, findings)


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


def _report(plan, findings):
    policy = plan['policy']
    verdicts = {}
    for _key, name in plan['targets']:
        # Per requested spelling: names folding alike share their findings, not their verdict (casefold twins).
        if name not in verdicts:
            found = dict((source, findings[source].evidence(fold(name))) for source in policy.sources)
            verdicts[name] = judge_vm(found, policy, requested_name=name)
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
        max_url_length=dict(type='int', default=info.DEFAULT_MAX_URL_LENGTH),
        page_size=dict(type='int', default=DEFAULT_PAGE_SIZE),
    )
    return spec


def run_module(module):
    """The gate module's whole run: every option checked before logon, then one logon for all queries."""
    return module_frame.run_client_module(
        module,
        lambda client: plan_protection(client, module.params['vms'], module.params),
        protection_report,
    )
