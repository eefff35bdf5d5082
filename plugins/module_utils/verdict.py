# -*- coding: utf-8 -*-
# Copyright (c) 2026, vbem.enterprise_manager contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Is this VM protected? The gate's judging logic (pure: no EM, no I/O).

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

``gate.py`` reads what these verdicts need from EM for the gate module and
the backup_gate role. Other callers (the inventory) judge sessions they read themselves: collect
each source's sessions, in any order, into a ``Findings(source, now)`` with
``visit``, then call ``judge_vm({source: findings.evidence(key)}, policy,
requested_name)`` for each folded name ``key`` (``Evidence.as_data`` and
``Evidence.from_data`` carry it through a cache); or, for one VM,
``judge_sessions({source: [sessions]}, policy, requested_name)``.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from datetime import datetime

from ansible_collections.vbem.enterprise_manager.plugins.module_utils.errors import EmError
from ansible_collections.vbem.enterprise_manager.plugins.module_utils import query, sessions, sources as source_table
from ansible_collections.vbem.enterprise_manager.plugins.module_utils import validate

# Every source the gate judges (see sources.TABLE); SOURCES are the session sources, the ones the inventory reads.
GATE_SOURCES = source_table.NAMES
SOURCES = source_table.SESSION_NAMES
SOURCE_KINDS = dict((source.name, source.session_kind.name) for source in source_table.TABLE)
CODES = ('passed', 'failed_result', 'warning_result', 'unaccepted_result', 'stale', 'no_session', 'running', 'wait_timeout',
         'ambiguous', 'future_time', 'bad_time', 'unknown_state', 'unknown_vm')
# The point sources that show EM knows a VM whatever sources are judged (restore_point, replica_point:
# the ones whose points name their VM): points follow the backup chain's retention, so a name with none
# (and no session in the look back) is one EM does not know.
KNOWN_SOURCES = tuple(source.name for source in source_table.TABLE if source.points and source.session_kind.named)
RUNNING_MODES = ('wait', 'fail', 'previous')
REQUIRE_MODES = ('any', 'all')
ACCEPTABLE_RESULTS = ('Success', 'Warning')

DEFAULT_MAX_AGE = '24h'
DEFAULT_LOOKBACK = '30d'
DEFAULT_WAIT_TIMEOUT = 1800

_UNIT_WORDS = {'s': 'second', 'm': 'minute', 'h': 'hour', 'd': 'day', 'w': 'week'}


def shown_time(value):
    """``2026-11-29 21:40 UTC`` for an EM timestamp or a datetime; ``an unknown time`` when absent."""
    moment = value if isinstance(value, datetime) else sessions.parse_em_time(value)
    return moment.strftime('%Y-%m-%d %H:%M UTC') if moment else 'an unknown time'


def span(value, option, now):
    """Parse a ``max_age``/``lookback`` value (see ``validate.past_moment``): ``(cutoff, phrase, text)``.

    The phrase names the span for reasons (``24 hours``, ``since 2026-11-29 06:00 UTC``).
    """
    cutoff, age = validate.past_moment(value, option, now)
    if age:
        count, unit = age
        return cutoff, '{0} {1}{2}'.format(count, _UNIT_WORDS[unit], '' if count == 1 else 's'), value.strip()
    return cutoff, 'since {0}'.format(shown_time(cutoff)), shown_time(cutoff)


class Policy(object):
    """What counts as protected: the gate's options, checked and resolved against one ``now``.

    ``max_age``/``lookback`` take a relative age (``24h``, ``7d``) or an
    ISO-8601 date-time; ``accept`` the results that pass; ``running`` says
    what a running newest session means (``wait``: it was waited for, so
    still running is ``wait_timeout``; ``fail``: ``running``; ``previous``:
    judge the newest completed one); ``require`` combines ``sources``;
    ``require_session_result`` also judges, for ``restore_point`` and
    ``agent``, the session behind the newest point on ``accept`` (see
    ``judge_producer``). Raises EmError with one sentence on anything else.
    """

    def __init__(self, now=None, max_age=DEFAULT_MAX_AGE, accept=('Success',), running='wait', require='any',
                 sources=('backup',), lookback=DEFAULT_LOOKBACK, job_name=None, wait_timeout=DEFAULT_WAIT_TIMEOUT,
                 require_session_result=False):
        self.now = now if now is not None else query.utcnow()
        self.sources = validate.distinct_choices(sources, 'sources', GATE_SOURCES)
        self.accept = validate.distinct_choices(accept, 'accept', ACCEPTABLE_RESULTS)
        self.running = validate.one_of(running, 'running', RUNNING_MODES)
        self.require = validate.one_of(require, 'require', REQUIRE_MODES)
        self.cutoff, self.max_age_phrase, self.max_age_text = span(max_age, 'max_age', self.now)
        self.lookback_start, self.lookback_phrase, _text = span(lookback, 'lookback', self.now)
        if self.lookback_start > self.cutoff:
            raise EmError('lookback ({0}) must reach at least as far back as max_age ({1}).'.format(lookback, max_age))
        self.job_name = validate.names(job_name, 'job_name') or None
        points = [source for source in self.sources if source_table.get(source).points]
        if self.job_name and points:
            raise EmError('job_name filters sessions, but EM documents no job field for the restore points of {0}; '
                          'leave job_name unset or judge session sources only.'.format(', '.join(points)))
        self.wait_timeout = wait_timeout
        self.require_session_result = validate.flag(require_session_result, 'require_session_result')
        if require_session_result:
            unlinked = [source for source in points if source not in source_table.PRODUCED_NAMES]
            if unlinked:
                raise EmError('require_session_result judges the session that made a restore point, but EM documents no '
                              'link from a session to the points of {0}; judge {1} with it, or leave it false.'.format(
                                  ', '.join(unlinked), ' or '.join(source_table.PRODUCED_NAMES)))
            if not [source for source in points if source in source_table.PRODUCED_NAMES]:
                raise EmError('require_session_result applies to the sources {0} only, and sources holds neither; add one '
                              'or leave it false.'.format(', '.join(source_table.PRODUCED_NAMES)))

    def older_than(self):
        """``older than 24h`` or ``older than the cutoff 2026-11-29 06:00 UTC``: the stale half of a reason."""
        if self.max_age_phrase.startswith('since '):
            return 'older than the cutoff ' + self.max_age_text
        return 'older than ' + self.max_age_text

    def in_lookback(self):
        """``in the last 30 days`` or ``since 2026-10-31 00:00 UTC``."""
        return self.lookback_phrase if self.lookback_phrase.startswith('since ') else 'in the last ' + self.lookback_phrase


def _verdict(passed, code, reason, session):
    return {'passed': passed, 'code': code, 'reason': reason, 'session': session}


def _in_job(session):
    return 'in job {0}'.format(session.get('job_name') or 'unknown')


def _jobs_phrase(policy):
    if not policy.job_name:
        return ''
    return ' of job{0} {1}'.format('s' if len(policy.job_name) > 1 else '', ', '.join(policy.job_name))


def _distrusted(source, session, policy, kind=None, what=None):
    """The failing verdict for a session whose time or state cannot be judged, or None.

    ``kind`` and ``what`` name a session of another kind than the source's
    own (the session behind a restore point) and how a reason calls it.
    """
    fault = sessions.time_fault(session.get('creation_time'), policy.now)
    entry = source_table.get(source)
    if what is None:
        what = '{0} {1}'.format(_point_what(entry, session), _where(session)) if entry.points else \
            '{0} session {1}'.format(source, _in_job(session))
    if fault and fault[0] == 'future_time':
        ahead = fault[1] - policy.now
        return _verdict(False, 'future_time', '{0} is dated {1}, {2} after the controller\'s clock ({3}), beyond the {4} '
                        'allowed for clock skew: EM\'s or the controller\'s clock is wrong, so it proves nothing'.format(
                            what, shown_time(fault[1]), _duration(ahead), shown_time(policy.now),
                            _duration(sessions.CLOCK_SKEW)), session)
    if fault:
        return _verdict(False, 'bad_time', '{0} has the creation time {1}, which is {2}; EM\'s answer cannot be judged'.format(
            what, validate.shown(session.get('creation_time')),
            'not a time' if fault[1] is None else 'before {0}'.format(sessions.EARLIEST_TIME.year)), session)
    if kind is None and entry.points:
        return None
    kind = kind or entry.session_kind
    if not sessions.is_known_state(session, kind):
        return _verdict(False, 'unknown_state', '{0} has the state {1}, which EM does not document for {2} ({3}); it is not '
                        'judged as completed'.format(what, validate.shown(session.get('state')), kind.query_type, ', '.join(kind.states)),
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
        since = 'since {0} {1}'.format(shown_time(newest.get('creation_time')), _in_job(newest))
        started = sessions.parse_em_time(newest.get('creation_time'))
        if policy.running == 'wait' and started is not None and started < policy.cutoff:
            # Only sessions started within max_age are waited for: this one was not,
            # and finishing cannot make it recent.
            return _verdict(False, 'stale', 'newest {0} {1} (still running) is {2}'.format(
                source, shown_time(started), policy.older_than()), newest)
        if policy.running == 'fail':
            return _verdict(False, 'running', '{0} running {1} (running=fail)'.format(source, since), newest)
        if policy.running == 'wait':
            return _verdict(False, 'wait_timeout', '{0} still running after waiting {1} s (started {2} {3})'.format(
                source, policy.wait_timeout, shown_time(newest.get('creation_time')), _in_job(newest)), newest)
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
            'completed ' if judged is not newest else '', source, shown_time(created), result, policy.older_than()), judged)
    at = '{0} at {1} {2}'.format(result, shown_time(judged.get('end_time') or judged.get('creation_time')), _in_job(judged))
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
            entry.noun, shown_time(created), _where(newest), policy.older_than()), newest)
    return _verdict(True, 'passed', '{0} at {1} {2}'.format(entry.noun, shown_time(created), _where(newest)), newest)


# How a reason names the session behind a point of each source (require_session_result).
_PRODUCER_WORDS = {
    'restore_point': 'the backup task session that made it',
    'agent': 'the newest Veeam Agent session of this computer',
}


def judge_producer(source, point_verdict, session, policy):
    """With ``require_session_result``: judge the session behind a passing point verdict (``session`` or None).

    For ``restore_point`` the session is the backup task session whose
    ``Related`` link names the point; for ``agent`` the computer's newest
    completed ``AgentManagement`` session. None found fails the VM with
    ``no_session`` (the gate does not pass on evidence it cannot see); a
    session whose time or state cannot be trusted fails as any session
    would; then its result is judged on ``accept`` with the codes of a
    session source (``failed_result``, ``warning_result``,
    ``unaccepted_result``; ``running`` while the session that made the point
    still runs). A failing point verdict is returned unchanged.
    """
    if not point_verdict['passed']:
        return point_verdict
    entry = source_table.get(source)
    words = _PRODUCER_WORDS[source]
    shown = point_verdict['reason']
    if session is None:
        if entry.producer.level == 'task':
            missing = ('no backup task session EM lists {0} links to it, so require_session_result cannot be met (a point '
                       'copied by a backup copy job or imported has no such session, and EM keeps sessions for about '
                       '30 days)').format(policy.in_lookback())
        else:
            missing = ('EM lists no completed Veeam Agent session for this computer {0}, so require_session_result cannot '
                       'be met').format(policy.in_lookback())
        return _verdict(False, 'no_session', '{0}, but {1}'.format(shown, missing), point_verdict['session'])
    distrusted = _distrusted(source, session, policy, kind=entry.producer, what='{0} ({1})'.format(words, session.get('name')))
    if distrusted:
        return distrusted
    result = session.get('result') if session.get('result') is not None else 'None'
    if sessions.is_running(session):
        return _verdict(False, 'running', '{0}, but {1} is still running (started {2} {3})'.format(
            shown, words, shown_time(session.get('creation_time')), _in_job(session)), session)
    at = '{0} at {1} {2}'.format(result, shown_time(session.get('end_time') or session.get('creation_time')), _in_job(session))
    if result in policy.accept:
        return _verdict(True, 'passed', '{0}; {1} ended {2}'.format(shown, words, at), point_verdict['session'])
    em_reason = session.get('reason') or session.get('failure_message') or 'EM gave no reason'
    if result == 'Failed':
        return _verdict(False, 'failed_result', '{0}, but {1} ended {2}: {3}'.format(shown, words, at, em_reason), session)
    if result == 'Warning':
        return _verdict(False, 'warning_result', '{0}, but {1} ended {2}: {3} (Warning is not accepted)'.format(
            shown, words, at, em_reason), session)
    return _verdict(False, 'unaccepted_result', '{0}, but {1} ended {2}, which is not an accepted result (accept: {3})'.format(
        shown, words, at, ', '.join(policy.accept)), session)


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


def judge_vm(found, policy, requested_name=None, produced=None, unknown=None):
    """Judge one VM from ``found = {source: evidence}`` (missing sources count as nothing found).

    Each evidence is an ``Evidence`` (from ``Findings.evidence``) or a pair
    ``(newest, completed)`` of sessions already chosen by time. With
    ``policy.require_session_result``, ``produced`` maps a restore point
    source to the session behind the VM's newest point (see
    ``judge_producer``; a source missing from it counts as none found). Returns
    ``{'vm_name', 'passed', 'code', 'reason', 'sources': {source: verdict}}``;
    ``vm_name`` is EM's spelling when EM has a session of the VM, else
    ``requested_name``. A name that matches more than one VM (see the
    module docstring) is ``ambiguous`` in every source. ``unknown`` (the
    reason) says EM knows nothing of the name: ``unknown_vm`` in every
    source, with that one reason (the caller decides, see ``protection_report``).
    """
    evidence = dict((source, _as_evidence(found.get(source), policy.now)) for source in policy.sources)
    candidates = _candidates(evidence.values())
    twins = [name for name in candidates if requested_name is not None and fold(name) == fold(requested_name)
             and name.lower() != requested_name.lower()]
    verdicts = {}
    vm_name = None
    if unknown and not candidates:
        for source in policy.sources:
            verdicts[source] = _verdict(False, 'unknown_vm', unknown, None)
    elif len(candidates) > 1 or twins or any(len(uids) > 1 for uids in candidates.values()):
        reason = _ambiguity(requested_name, candidates, twins)
        for source in policy.sources:
            verdicts[source] = _verdict(False, 'ambiguous', reason, None)
    else:
        for source in policy.sources:
            verdicts[source] = judge_source(source, evidence[source].newest, evidence[source].completed, policy)
            if policy.require_session_result and source in source_table.PRODUCED_NAMES:
                verdicts[source] = judge_producer(source, verdicts[source], (produced or {}).get(source), policy)
        vm_name = next(iter(candidates), None)
    verdict = combine(verdicts, policy)
    if unknown and not candidates:
        verdict['reason'] = unknown  # one reason, not one per source
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
