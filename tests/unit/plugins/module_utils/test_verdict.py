# -*- coding: utf-8 -*-
# Copyright (c) 2026, vbem.enterprise_manager contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The gate's verdicts: every code under every running mode and require, the exact reasons,
the policy's refusals, and the multi-VM query against an in-memory EM that evaluates filters."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import itertools
import re
from datetime import datetime, timedelta

import pytest

from ansible_collections.vbem.enterprise_manager.plugins.module_utils import verdict
from ansible_collections.vbem.enterprise_manager.plugins.module_utils.errors import EmError
from ansible_collections.vbem.enterprise_manager.plugins.module_utils.gate import plan_protection, protection_report
from ansible_collections.vbem.enterprise_manager.plugins.module_utils.verdict import CODES, Policy, combine, judge_source, judge_vm
from ansible_collections.vbem.enterprise_manager.tests.unit.plugins.module_utils.fake_em import FakeEm

NOW = datetime(2026, 11, 30, 16, 0, 0)
PYTHON_WORDS = re.compile(r'Traceback|invalid literal|NoneType|object has no attribute|unsupported operand|KeyError|ValueError|TypeError')
QUERY_TYPES = {'backup': 'BackupTaskSession', 'replica': 'ReplicaTaskSession', 'cdp': 'CdpReplicaTaskSession'}


def session(vm='web01', job='SQL Daily', state='Completed', result='Success', created='2026-11-29T21:40:00Z',
            end='2026-11-29T22:05:00Z', reason=None, uid='urn:veeam:BackupTaskSession:1'):
    """A normalised task session, as sessions.normalise returns it (the keys judging reads)."""
    if state != 'Completed':
        end = None
    return {'uid': uid, 'vm_name': vm, 'job_name': job, 'state': state, 'result': result, 'creation_time': created,
            'end_time': end, 'reason': reason}


def policy(**kwargs):
    kwargs.setdefault('now', NOW)
    return Policy(**kwargs)


def refusal(call, *args, **kwargs):
    """Run ``call``, expect EmError, check it is one sentence of ours, return it."""
    with pytest.raises(EmError) as info:
        call(*args, **kwargs)
    message = str(info.value)
    assert '\n' not in message and message.endswith('.'), message
    assert not PYTHON_WORDS.search(message), message
    assert '://' not in message, message
    return message


# --- one source: every situation under every running mode, with its exact reason ---

RUNNING_AT = '2026-11-30T15:00:00Z'
RUNNING_SINCE = 'since 2026-11-30 15:00 UTC in job SQL Daily'


def situations(source):
    """``{name: (newest, completed, {running mode: (code, reason)})}`` for one source, reasons written out."""
    ok = session(result='Success')
    failed = session(result='Failed', reason='Error: The network path was not found.')
    warning = session(result='Warning', reason='Low free space on repository.')
    other = session(result='None')
    stale = session(created='2026-11-27T21:40:00Z', end='2026-11-27T22:00:00Z')
    running = session(state='InProgress', result='None', created=RUNNING_AT)
    passed = ('passed', 'Success at 2026-11-29 22:05 UTC in job SQL Daily')
    failed_result = ('failed_result', 'Failed at 2026-11-29 22:05 UTC in job SQL Daily: Error: The network path was not found.')
    warning_result = ('warning_result', 'Warning at 2026-11-29 22:05 UTC in job SQL Daily: Low free space on repository. '
                                        '(Warning is not accepted)')
    unaccepted = ('unaccepted_result', 'None at 2026-11-29 22:05 UTC in job SQL Daily is not an accepted result (accept: Success)')
    stale_verdict = ('stale', 'newest {0} 2026-11-27 21:40 UTC (Success) is older than 24h'.format(source))
    stale_completed = ('stale', 'newest completed {0} 2026-11-27 21:40 UTC (Success) is older than 24h'.format(source))
    nothing = ('no_session', 'no {0} session in the last 30 days'.format(source))
    fail = ('running', '{0} running {1} (running=fail)'.format(source, RUNNING_SINCE))
    timeout = ('wait_timeout', '{0} still running after waiting 1800 s (started 2026-11-30 15:00 UTC in job SQL Daily)'.format(source))

    def same(outcome):
        return {'wait': outcome, 'fail': outcome, 'previous': outcome}

    table = {
        'success': (ok, ok, same(passed)),
        'failed': (failed, failed, same(failed_result)),
        'warning': (warning, warning, same(warning_result)),
        'other_result': (other, other, same(unaccepted)),
        'stale': (stale, stale, same(stale_verdict)),
        'nothing': (None, None, same(nothing)),
        'running_after_success': (running, ok, {'wait': timeout, 'fail': fail, 'previous': passed}),
        'running_after_failure': (running, failed, {'wait': timeout, 'fail': fail, 'previous': failed_result}),
        'running_after_stale': (running, stale, {'wait': timeout, 'fail': fail, 'previous': stale_completed}),
        'running_only': (running, None, {'wait': timeout, 'fail': fail, 'previous': (
            'no_session', 'no completed {0} session in the last 30 days; one is running {1}'.format(source, RUNNING_SINCE))}),
    }
    # What EM must not be trusted with: a time after the controller's now (beyond the skew), no time, a state it never documented.
    future = session(created='2026-11-30T16:06:00Z')
    far_future = session(created='9999-12-31T23:59:59Z')
    garbage = session(created='yesterday')
    ancient = session(created='1999-12-31T23:59:59Z')
    odd = session(state='inprogress', result='None')
    future_verdict = ('future_time', "{0} session in job SQL Daily is dated 2026-11-30 16:06 UTC, 6 min after the controller's "
                                     "clock (2026-11-30 16:00 UTC), beyond the 5 min allowed for clock skew: EM's or the "
                                     "controller's clock is wrong, so it proves nothing".format(source))
    unknown = ('unknown_state', "{0} session in job SQL Daily has the state 'inprogress', which EM does not document for {1} "
                                "(InProgress, Pending, Completed); it is not judged as completed".format(source, QUERY_TYPES[source]))
    table.update({
        'future': (future, future, same(future_verdict)),
        'far_future': (far_future, ok, same(('future_time', "{0} session in job SQL Daily is dated 9999-12-31 23:59 UTC, "
                                             "2912109 days after the controller's clock (2026-11-30 16:00 UTC), beyond the 5 min "
                                             "allowed for clock skew: EM's or the controller's clock is wrong, so it proves "
                                             "nothing".format(source)))),
        'no_time': (garbage, garbage, same(('bad_time', "{0} session in job SQL Daily has the creation time 'yesterday', which "
                                                        "is not a time; EM's answer cannot be judged".format(source)))),
        'before_2000': (ancient, ancient, same(('bad_time', "{0} session in job SQL Daily has the creation time "
                                                            "'1999-12-31T23:59:59Z', which is before 2000; EM's answer cannot be "
                                                            "judged".format(source)))),
        'unknown_state': (odd, odd, same(unknown)),
        'running_after_unknown_state': (running, odd, {'wait': timeout, 'fail': fail, 'previous': unknown}),
        'running_after_future': (running, future, {'wait': timeout, 'fail': fail, 'previous': future_verdict}),
    })
    if source == 'cdp':
        # CDP replicates continuously: a running CDP session is judged on its live result, in every mode.
        live = session(state='InProgress', result='Success', created=RUNNING_AT, job='CDP Policy 1')
        live_failed = session(state='InProgress', result='Failed', created=RUNNING_AT, job='CDP Policy 1', reason='RPO exceeded.')
        live_warning = session(state='InProgress', result='Warning', created=RUNNING_AT, job='CDP Policy 1', reason='Slow link.')
        table.update({
            'live_success': (live, None, same(('passed', 'Success at 2026-11-30 15:00 UTC in job CDP Policy 1'))),
            'live_failed': (live_failed, stale, same(('failed_result', 'Failed at 2026-11-30 15:00 UTC in job CDP Policy 1: RPO exceeded.'))),
            'live_warning': (live_warning, ok, same(('warning_result',
                                                     'Warning at 2026-11-30 15:00 UTC in job CDP Policy 1: Slow link. (Warning is not accepted)'))),
        })
    return table


SOURCE_SITUATIONS = [(source, name) for source in verdict.SOURCES for name in sorted(situations(source))]


@pytest.mark.parametrize('running', verdict.RUNNING_MODES)
@pytest.mark.parametrize('source, name', SOURCE_SITUATIONS)
def test_each_situation_gets_its_code_and_exact_reason(source, name, running):
    newest, completed, outcomes = situations(source)[name]
    result = judge_source(source, newest, completed, policy(running=running, sources=[source]))
    code, reason = outcomes[running]
    assert (result['code'], result['reason']) == (code, reason)
    assert result['passed'] is (code == 'passed')
    judged = completed if running == 'previous' and name.startswith('running_after') else newest
    assert result['session'] is judged


def test_every_code_is_reachable_and_tested():
    seen = set()
    for source in verdict.SOURCES:
        for _newest, _completed, outcomes in situations(source).values():
            seen.update(code for code, _reason in outcomes.values())
    # A name matching two VMs is judged over the sources together, so judge_vm alone reaches it.
    twins = [session(vm='CaseDup', uid='1'), session(vm='casedup', uid='2')]
    seen.add(verdict.judge_sessions({'backup': twins}, policy(), 'casedup')['code'])
    # A name EM does not know is told by the report (it asks EM), judge_vm only carries the reason.
    seen.add(judge_vm({}, policy(), 'ghost', unknown='EM knows no VM named ghost (did you mean host?)')['code'])
    assert seen == set(CODES)


def expected_combined(chosen, mode, require, sources, tables):
    """The combined verdict, from the hand-written per-source tables (situations()): the oracle of combine()."""
    outcomes = [(source, tables[source][chosen[source]][2][mode]) for source in sources]
    passing = [(s, o) for s, o in outcomes if o[0] == 'passed']
    failing = [(s, o) for s, o in outcomes if o[0] != 'passed']
    passed = bool(passing) if require == 'any' else not failing
    shown = (passing[:1] if require == 'any' else passing) if passed else failing
    if len(sources) == 1:
        reason = shown[0][1][1]
    else:
        reason = '; '.join('{0}: {1}'.format(s, o[1]) for s, o in shown)
    return passed, ('passed' if passed else failing[0][1][0]), reason


SOURCE_SETS = [combo for n in (1, 2, 3) for combo in itertools.permutations(verdict.SOURCES, n)
               if n < 3 or combo == verdict.SOURCES or combo == ('cdp', 'replica', 'backup')]


@pytest.mark.parametrize('require', verdict.REQUIRE_MODES)
@pytest.mark.parametrize('running', verdict.RUNNING_MODES)
@pytest.mark.parametrize('sources', SOURCE_SETS, ids='+'.join)
def test_every_combination_of_situations_is_combined_as_require_says(sources, running, require):
    gate = policy(running=running, require=require, sources=list(sources))
    # Built once: the same session dicts judged again and again also show judging never changes them.
    tables = dict((source, situations(source)) for source in sources)
    names = [sorted(tables[source]) for source in sources]
    for picked in itertools.product(*names):
        chosen = dict(zip(sources, picked))
        found = dict((source, tables[source][chosen[source]][:2]) for source in sources)
        result = judge_vm(found, gate, requested_name='web01')
        assert (result['passed'], result['code'], result['reason']) == expected_combined(chosen, running, require, sources, tables), chosen
        assert sorted(result['sources']) == sorted(sources)


def test_combined_reason_prefixes_each_failing_source_in_policy_order():
    gate = policy(sources=['replica', 'backup'], require='all')
    verdicts = {'backup': judge_source('backup', None, None, gate),
                'replica': judge_source('replica', session(result='Failed', reason='Out of space.'), None, gate)}
    assert combine(verdicts, gate) == {
        'passed': False, 'code': 'failed_result',
        'reason': 'replica: Failed at 2026-11-29 22:05 UTC in job SQL Daily: Out of space.; '
                  'backup: no backup session in the last 30 days'}


def test_any_names_only_the_first_passing_source():
    gate = policy(sources=['backup', 'replica', 'cdp'], require='any')
    verdicts = {'backup': judge_source('backup', None, None, gate),
                'replica': judge_source('replica', session(), None, gate),
                'cdp': judge_source('cdp', session(job='CDP Policy 1'), None, gate)}
    assert combine(verdicts, gate) == {'passed': True, 'code': 'passed',
                                       'reason': 'replica: Success at 2026-11-29 22:05 UTC in job SQL Daily'}


def test_all_passing_names_every_source():
    gate = policy(sources=['backup', 'replica'], require='all')
    verdicts = {'backup': judge_source('backup', session(), None, gate), 'replica': judge_source('replica', session(job='Rep'), None, gate)}
    assert combine(verdicts, gate)['reason'] == ('backup: Success at 2026-11-29 22:05 UTC in job SQL Daily; '
                                                 'replica: Success at 2026-11-29 22:05 UTC in job Rep')


# --- details of single verdicts ---

def test_accepting_warning_passes_a_warning():
    result = judge_source('backup', session(result='Warning', reason='Low space.'), None, policy(accept=['Success', 'Warning']))
    assert result == {'passed': True, 'code': 'passed', 'reason': 'Warning at 2026-11-29 22:05 UTC in job SQL Daily',
                      'session': session(result='Warning', reason='Low space.')}


def test_accepting_only_warning_refuses_success_as_unaccepted():
    result = judge_source('backup', session(), None, policy(accept='Warning'))
    assert (result['code'], result['reason']) == (
        'unaccepted_result', 'Success at 2026-11-29 22:05 UTC in job SQL Daily is not an accepted result (accept: Warning)')


def test_failure_without_reason_says_em_gave_none():
    result = judge_source('backup', session(result='Failed', reason=None), None, policy())
    assert result['reason'] == 'Failed at 2026-11-29 22:05 UTC in job SQL Daily: EM gave no reason'


def test_session_without_job_name_says_unknown_job():
    assert judge_source('backup', session(job=None), None, policy())['reason'] == 'Success at 2026-11-29 22:05 UTC in job unknown'


def test_time_without_end_uses_the_start():
    completed = dict(session(), end_time=None)
    assert judge_source('backup', completed, None, policy())['reason'] == 'Success at 2026-11-29 21:40 UTC in job SQL Daily'


def test_session_exactly_at_the_cutoff_is_recent_and_one_second_before_is_stale():
    assert judge_source('backup', session(created='2026-11-29T16:00:00Z'), None, policy())['code'] == 'passed'
    assert judge_source('backup', session(created='2026-11-29T15:59:59Z'), None, policy())['code'] == 'stale'


def test_unreadable_creation_time_is_bad_time_not_a_crash():
    result = judge_source('backup', session(created='yesterday'), None, policy())
    assert (result['code'], result['reason']) == (
        'bad_time', "backup session in job SQL Daily has the creation time 'yesterday', which is not a time; EM's answer "
                    "cannot be judged")


def test_missing_creation_time_is_bad_time():
    result = judge_source('backup', session(created=None), None, policy())
    assert (result['code'], result['reason']) == (
        'bad_time', "backup session in job SQL Daily has the creation time null, which is not a time; EM's answer cannot be judged")


@pytest.mark.parametrize('created, code', [
    ('2026-11-30T16:05:00Z', 'passed'),  # exactly the tolerated skew
    ('2026-11-30T16:05:01Z', 'future_time'),
    ('2026-11-30T17:05:00+01:00', 'passed'),  # the same instant as 16:05 UTC
    ('2000-01-01T00:00:00Z', 'stale'),
    ('1999-12-31T23:59:59Z', 'bad_time'),
])
def test_the_clock_skew_tolerance_and_the_earliest_time_are_the_edges(created, code):
    assert judge_source('backup', session(created=created), None, policy())['code'] == code


def test_iso_max_age_names_the_cutoff():
    gate = policy(max_age='2026-11-29T06:00:00Z')
    result = judge_source('backup', session(created='2026-11-29T05:00:00Z'), None, gate)
    assert result['reason'] == 'newest backup 2026-11-29 05:00 UTC (Success) is older than the cutoff 2026-11-29 06:00 UTC'
    assert judge_source('backup', session(created='2026-11-29T06:00:00Z'), None, gate)['code'] == 'passed'


def test_iso_max_age_with_an_offset_is_converted_to_utc():
    gate = policy(max_age='2026-11-29T08:00:00+02:00')
    assert gate.cutoff == datetime(2026, 11, 29, 6, 0, 0)
    assert gate.older_than() == 'older than the cutoff 2026-11-29 06:00 UTC'


@pytest.mark.parametrize('max_age, cutoff, older', [
    ('24h', datetime(2026, 11, 29, 16), 'older than 24h'),
    (' 36H ', datetime(2026, 11, 29, 4), 'older than 36H'),
    ('30m', datetime(2026, 11, 30, 15, 30), 'older than 30m'),
    ('7d', datetime(2026, 11, 23, 16), 'older than 7d'),
    ('2w', datetime(2026, 11, 16, 16), 'older than 2w'),
    ('90s', datetime(2026, 11, 30, 15, 58, 30), 'older than 90s'),
])
def test_relative_max_age_counts_back_from_now(max_age, cutoff, older):
    gate = policy(max_age=max_age, lookback='60d')
    assert gate.cutoff == cutoff and gate.older_than() == older


@pytest.mark.parametrize('lookback, phrase', [
    ('30d', 'in the last 30 days'),
    ('1d', 'in the last 1 day'),
    ('1w', 'in the last 1 week'),
    ('48h', 'in the last 48 hours'),
    ('2026-11-01', 'since 2026-11-01 00:00 UTC'),
])
def test_lookback_phrase_in_no_session_reasons(lookback, phrase):
    result = judge_source('replica', None, None, policy(lookback=lookback))
    assert result == {'passed': False, 'code': 'no_session', 'reason': 'no replica session ' + phrase, 'session': None}


@pytest.mark.parametrize('job_name, phrase', [
    ('SQL Daily', 'no backup session of job SQL Daily in the last 30 days'),
    (['SQL Daily'], 'no backup session of job SQL Daily in the last 30 days'),
    (['SQL Daily', 'SQL Weekly'], 'no backup session of jobs SQL Daily, SQL Weekly in the last 30 days'),
])
def test_job_name_is_named_in_no_session_reasons(job_name, phrase):
    assert judge_source('backup', None, None, policy(job_name=job_name))['reason'] == phrase


def test_job_name_is_named_when_only_a_running_session_exists():
    running = session(state='InProgress', result='None', created=RUNNING_AT)
    result = judge_source('backup', running, None, policy(running='previous', job_name=['SQL Daily']))
    assert result['reason'] == ('no completed backup session of job SQL Daily in the last 30 days; one is running '
                                'since 2026-11-30 15:00 UTC in job SQL Daily')


def test_wait_timeout_reason_names_the_timeout_waited():
    running = session(state='Pending', result='None', created=RUNNING_AT)
    result = judge_source('backup', running, None, policy(wait_timeout=60))
    assert result['reason'] == 'backup still running after waiting 60 s (started 2026-11-30 15:00 UTC in job SQL Daily)'


def test_running_session_started_before_the_cutoff_is_stale_without_waiting():
    # Only sessions in the max_age window are waited for: one that began before the cutoff
    # cannot become recent by finishing, and was never waited for.
    old_running = session(state='InProgress', result='None', created='2026-11-28T10:00:00Z')
    result = judge_source('backup', old_running, None, policy(running='wait'))
    assert (result['code'], result['reason']) == ('stale', 'newest backup 2026-11-28 10:00 UTC (still running) is older than 24h')


def test_cdp_session_running_without_a_live_result_is_a_running_session():
    running = session(state='InProgress', result='None', created=RUNNING_AT, job='CDP Policy 1')
    assert judge_source('cdp', running, None, policy(running='fail'))['code'] == 'running'


def test_live_cdp_result_older_than_max_age_is_stale():
    live = session(state='InProgress', result='Success', created='2026-11-28T00:00:00Z', job='CDP Policy 1')
    result = judge_source('cdp', live, None, policy())
    assert (result['code'], result['reason']) == ('stale', 'newest cdp 2026-11-28 00:00 UTC (Success) is older than 24h')


def test_judge_vm_uses_ems_spelling_and_falls_back_to_the_requested_name():
    gate = policy(sources=['backup', 'replica'])
    assert judge_vm({'replica': (session(vm='WEB01'), None)}, gate, requested_name='web01')['vm_name'] == 'WEB01'
    nothing = judge_vm({}, gate, requested_name='web01')
    assert nothing['vm_name'] == 'web01' and nothing['code'] == 'no_session'
    assert nothing['reason'] == 'backup: no backup session in the last 30 days; replica: no replica session in the last 30 days'
    assert judge_vm({'backup': (None, session(vm='Web01'))}, policy(running='previous'), 'x')['vm_name'] == 'Web01'


def test_judge_vm_returns_every_source_verdict_with_the_judged_session():
    ok = session()
    result = judge_vm({'backup': (ok, ok)}, policy(sources=['backup', 'cdp'], require='all'), 'web01')
    assert result['sources']['backup'] == {'passed': True, 'code': 'passed',
                                           'reason': 'Success at 2026-11-29 22:05 UTC in job SQL Daily', 'session': ok}
    assert result['sources']['cdp']['session'] is None
    assert (result['passed'], result['code']) == (False, 'no_session')


# --- the policy refuses every bad value with one sentence naming the option ---

EMPTY = '{0} is empty; give an ISO-8601 date-time (2025-08-15T06:00:00Z) or a relative age such as 30m, 24h, 7d or 2w, or leave the option out.'


@pytest.mark.parametrize('kwargs, message', [
    ({'sources': []}, 'sources is empty; give one or more of backup, replica, cdp, restore_point, replica_point, agent, or leave the option out.'),
    ({'sources': None}, 'sources must be one or more of backup, replica, cdp, restore_point, replica_point, agent, not null.'),
    ({'sources': 5}, 'sources must be one or more of backup, replica, cdp, restore_point, replica_point, agent, not 5.'),
    ({'sources': ['backup', 'tape']}, "sources must be one or more of backup, replica, cdp, restore_point, replica_point, agent; 'tape' is not one of them."),
    ({'sources': ['Backup']}, "sources must be one or more of backup, replica, cdp, restore_point, replica_point, agent; 'Backup' is not one of them."),
    ({'accept': []}, 'accept is empty; give one or more of Success, Warning, or leave the option out.'),
    ({'accept': ['Failed']}, "accept must be one or more of Success, Warning; 'Failed' is not one of them."),
    ({'running': 'sometimes'}, "running must be one of wait, fail, previous, not 'sometimes'."),
    ({'running': None}, 'running must be one of wait, fail, previous, not null.'),
    ({'require': 'most'}, "require must be one of any, all, not 'most'."),
    ({'max_age': ''}, EMPTY.format('max_age')),
    ({'max_age': '   '}, EMPTY.format('max_age')),
    ({'max_age': None}, EMPTY.format('max_age')),
    ({'max_age': 'yesterday'}, "max_age 'yesterday' is neither a relative age such as 30m, 24h, 7d or 2w nor an ISO-8601 "
                               "date-time (2025-08-15T06:00:00Z)."),
    ({'max_age': '24'}, "max_age '24' is neither a relative age such as 30m, 24h, 7d or 2w nor an ISO-8601 "
                        "date-time (2025-08-15T06:00:00Z)."),
    ({'max_age': '2026-02-30'}, "max_age '2026-02-30' is neither a relative age such as 30m, 24h, 7d or 2w nor an ISO-8601 "
                                "date-time (2025-08-15T06:00:00Z)."),
    ({'max_age': '0h'}, "max_age '0h' is zero; give a positive age such as 24h."),
    ({'max_age': '2026-12-01T00:00:00Z'}, "max_age '2026-12-01T00:00:00Z' is not in the past; give a past time or a relative "
                                          "age such as 24h."),
    ({'lookback': ''}, EMPTY.format('lookback')),
    ({'lookback': '1 month'}, "lookback '1 month' is neither a relative age such as 30m, 24h, 7d or 2w nor an ISO-8601 "
                              "date-time (2025-08-15T06:00:00Z)."),
    ({'lookback': '0d'}, "lookback '0d' is zero; give a positive age such as 24h."),
    ({'lookback': '12h'}, 'lookback (12h) must reach at least as far back as max_age (24h).'),
    ({'max_age': '7d', 'lookback': '2026-11-29'}, 'lookback (2026-11-29) must reach at least as far back as max_age (7d).'),
    ({'job_name': []}, 'job_name is an empty list; give at least one name, or leave the option out.'),
    ({'job_name': ''}, 'job_name holds an empty name; every name must have at least one character.'),
    ({'job_name': 5}, re.compile(r'job_name must be a name or a list of names, not .*5\)\.')),
    ({'job_name': ['ok', 7]}, re.compile(r'job_name must hold names \(strings\), not .*7\)\.')),
])
def test_policy_refuses_bad_values_with_one_sentence_naming_the_option(kwargs, message):
    assert_message(refusal(policy, **kwargs), message)


def assert_message(actual, expected):
    """Exact, or a pattern where the wording belongs to validate.names (its own tests pin it)."""
    if hasattr(expected, 'fullmatch'):
        assert expected.fullmatch(actual), actual
    else:
        assert actual == expected


def test_policy_keeps_choices_in_order_without_duplicates_and_one_string_is_one_choice():
    gate = policy(sources=['cdp', 'backup', 'cdp'], accept='Warning', job_name='db,02')
    assert gate.sources == ('cdp', 'backup') and gate.accept == ('Warning',) and gate.job_name == ['db,02']


def test_policy_defaults():
    gate = policy()
    assert (gate.sources, gate.accept, gate.running, gate.require, gate.job_name, gate.wait_timeout) == (
        ('backup',), ('Success',), 'wait', 'any', None, 1800)
    assert gate.cutoff == NOW - timedelta(hours=24) and gate.lookback_start == NOW - timedelta(days=30)


def test_lookback_equal_to_max_age_is_allowed():
    assert policy(max_age='7d', lookback='1w').lookback_start == policy(max_age='7d').cutoff


# --- plan_protection: the module's input, checked before logon ---

def plan(vms, client=None, **params):
    return plan_protection(client or FakeEm(), vms, params, now=NOW)


@pytest.mark.parametrize('vms, params, message', [
    (None, {}, 'vms is required: give a name or a list of names.'),
    ([], {}, 'vms is an empty list; give at least one name, or leave the option out.'),
    ({}, {}, 'vms is an empty dict; give at least one {host: VM name} pair.'),
    ('', {}, 'vms holds an empty name; every name must have at least one character.'),
    (['web01', ''], {}, 'vms holds an empty name; every name must have at least one character.'),
    (['web01', 3], {}, re.compile(r'vms must hold names \(strings\), not .*3\)\.')),
    (42, {}, re.compile(r'vms must be a name or a list of names, not .*42\)\.')),
    ({'host1': ['a', 'b']}, {}, "vms['host1'] must be one VM name (a string), not ['a', 'b']."),
    ({'host1': None}, {}, "vms['host1'] must be one VM name (a string), not null."),
    ({'host1': 5}, {}, "vms['host1'] must be one VM name (a string), not 5."),
    ({'host1': ''}, {}, "vms['host1'] holds an empty name; every name must have at least one character."),
    (['web01'], {'wait_timeout': 0}, 'wait_timeout must be a whole number of 1 second or more, not 0.'),
    (['web01'], {'wait_timeout': -5}, 'wait_timeout must be a whole number of 1 second or more, not -5.'),
    (['web01'], {'wait_timeout': True}, 'wait_timeout must be a whole number of 1 second or more, not True.'),
    (['web01'], {'wait_sleep': 0}, 'wait_sleep must be a whole number of 1 second or more (0 would poll EM without a pause), not 0.'),
    (['web01'], {'page_size': 0}, 'page_size must be a whole number from 1 to 10000, not 0.'),
    (['web01'], {'page_size': 10001}, 'page_size must be a whole number from 1 to 10000, not 10001.'),
    (['web01'], {'max_url_length': 0}, 'max_url_length must be a whole number of 1024 or more, not 0.'),
    (['web01'], {'max_url_length': 1023}, 'max_url_length must be a whole number of 1024 or more, not 1023.'),
    (['web01'], {'sources': ['tape']}, "sources must be one or more of backup, replica, cdp, restore_point, replica_point, agent; 'tape' is not one of them."),
    (['web01'], {'max_age': '1 day'}, "max_age '1 day' is neither a relative age such as 30m, 24h, 7d or 2w nor an ISO-8601 "
                                      "date-time (2025-08-15T06:00:00Z)."),
])
def test_plan_refuses_bad_input_before_any_request(vms, params, message):
    client = FakeEm()
    assert_message(refusal(plan_protection, client, vms, params, now=NOW), message)
    assert client.requests == []


def test_plan_applies_the_defaults_when_options_are_none():
    planned = plan(['web01'], sources=None, accept=None, max_age=None, lookback=None, running=None, require=None,
                   wait_timeout=None, wait_sleep=None, page_size=None, max_url_length=None, job_name=None)
    gate = planned['policy']
    assert (gate.sources, gate.accept, gate.running, gate.require, gate.wait_timeout) == (('backup',), ('Success',), 'wait', 'any', 1800)
    assert (planned['wait_sleep'], planned['page_size'], planned['max_url_length']) == (10, 1000, 8000)


def test_plan_keeps_input_order_and_asks_for_each_folded_name_once():
    planned = plan({'h1': 'WEB01', 'h2': 'web01', 'h3': 'db;02', 'h4': u'STRASSE', 'h5': u'Straße'})
    assert planned['targets'] == [('h1', 'WEB01'), ('h2', 'web01'), ('h3', 'db;02'), ('h4', 'STRASSE'), ('h5', u'Straße')]
    assert planned['names'] == ['WEB01', 'db;02', 'STRASSE']


def test_plan_one_string_is_one_name_commas_included():
    assert plan('db,02')['targets'] == [('db,02', 'db,02')]


def test_plan_refuses_a_name_no_request_can_carry_naming_vms_without_a_url():
    message = refusal(plan, ['web01', 'x' * 9000])
    assert message.startswith("The vms value 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx...' (9000 characters) is too long for one EM request")
    assert 'max_url_length=8000' in message and len(message) < 300


def test_plan_refuses_a_job_name_no_request_can_carry():
    message = refusal(plan, ['web01'], job_name=['j' * 1100], max_url_length=1024)
    assert message.startswith("The job_name value 'jjjj")
    assert 'max_url_length=1024' in message


# --- protection_report against an in-memory EM ---

class Clock(object):
    """A fake monotonic clock that sleeping advances; ``on_sleep`` may change EM's data."""

    def __init__(self, on_sleep=None):
        self.now = 0.0
        self.sleeps = []
        self.on_sleep = on_sleep

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.now += seconds
        if self.on_sleep:
            self.on_sleep(len(self.sleeps))


def report(em, vms, clock=None, **params):
    clock = clock or Clock()
    planned = plan_protection(em, vms, params, now=NOW)
    return protection_report(em, planned, sleep=clock.sleep, clock=clock)


def gate_em():
    """EM with one VM per verdict, as a small real estate would look."""
    em = FakeEm()
    em.add('BackupTaskSession', 'ok01', '2026-11-29T21:40:00Z', end='2026-11-29T22:05:00Z', job='Web Daily')
    em.add('BackupTaskSession', 'ok01', '2026-11-28T21:40:00Z', result='Failed', reason='old failure', job='Web Daily')
    em.add('BackupTaskSession', 'bad01', '2026-11-29T21:40:00Z', end='2026-11-29T21:50:00Z', result='Failed',
           reason='Error: The network path was not found.', job='SQL Daily')
    em.add('BackupTaskSession', 'warn01', '2026-11-30T01:00:00Z', result='Warning', reason='Low space.', job='Web Daily')
    em.add('BackupTaskSession', 'old01', '2026-11-27T21:40:00Z', job='Web Daily')
    em.add('BackupTaskSession', 'old01', '2026-11-20T21:40:00Z', job='Web Daily')
    em.add('BackupTaskSession', 'ancient01', '2026-10-01T00:00:00Z', job='Web Daily')
    # Older than the 30-day look back, but EM still holds a restore point of it: known, so no_session.
    em.add_point('VmRestorePoint', 'ancient01', '2026-10-01T00:30:00Z')
    return em


def test_report_answers_every_name_with_its_verdict_in_input_order():
    em = gate_em()
    result = report(em, ['warn01', 'ok01', 'bad01', 'old01', 'ancient01', 'none01'])
    assert result['passed_vms'] == ['ok01']
    assert result['failed_vms'] == ['warn01', 'bad01', 'old01', 'ancient01', 'none01']
    reasons = dict((key, (entry['code'], entry['reason'])) for key, entry in result['vms'].items())
    assert reasons == {
        'ok01': ('passed', 'Success at 2026-11-29 22:05 UTC in job Web Daily'),
        'bad01': ('failed_result', 'Failed at 2026-11-29 21:50 UTC in job SQL Daily: Error: The network path was not found.'),
        'warn01': ('warning_result', 'Warning at 2026-11-30 01:00 UTC in job Web Daily: Low space. (Warning is not accepted)'),
        'old01': ('stale', 'newest backup 2026-11-27 21:40 UTC (Success) is older than 24h'),
        'ancient01': ('no_session', 'no backup session in the last 30 days'),
        # EM has no session of it in the look back and no point at all; the names it knows are all too far.
        'none01': ('unknown_vm', 'EM knows no VM named none01 (no close name among the 5 known names read)'),
    }
    assert result['summary'] == {'total': 6, 'passed': 1, 'failed': 5, 'by_code': {
        'passed': 1, 'failed_result': 1, 'warning_result': 1, 'unaccepted_result': 0, 'stale': 1, 'no_session': 1,
        'running': 0, 'wait_timeout': 0, 'ambiguous': 0, 'future_time': 0, 'bad_time': 0, 'unknown_state': 0,
        'unknown_vm': 1}}
    assert result['vms']['none01']['sources'] == {'backup': {
        'passed': False, 'code': 'unknown_vm', 'session': None,
        'reason': 'EM knows no VM named none01 (no close name among the 5 known names read)'}}
    entry = result['vms']['bad01']
    assert entry['vm_name'] == 'bad01' and entry['requested_name'] == 'bad01'
    judged = entry['sources']['backup']['session']
    assert judged['uid'].endswith('003') and judged['reason'] == 'Error: The network path was not found.'
    assert judged['job_name'] == 'SQL Daily' and judged['result'] == 'Failed'


def test_report_reads_the_window_once_and_looks_back_once_for_the_rest():
    em = gate_em()
    report(em, ['ok01', 'old01', 'none01'])
    window, lookback = em.filters('BackupTaskSession')
    assert window == ('(VmDisplayName=="ok01",VmDisplayName=="old01",VmDisplayName=="none01");'
                      'CreationTime>="2026-11-29T16:00:00Z"')
    assert lookback == ('(VmDisplayName=="old01",VmDisplayName=="none01");CreationTime>="2026-10-31T16:00:00Z";'
                        'CreationTime<"2026-11-29T16:00:00Z"')
    # none01 had nothing: whether EM knows it at all (its points of any age, one request per kind), then,
    # since it does not, the newest points of each kind for names to suggest.
    assert [(r.query_type, r.filter_text, r.page) for r in em.requests[2:]] == [
        ('VmRestorePoint', 'VmDisplayName=="none01"', 1),
        ('VmReplicaPoint', 'VmDisplayName=="none01"', 1),
        ('VmRestorePoint', None, 1),
        ('VmReplicaPoint', None, 1),
    ]
    assert [r.page for r in em.requests] == [1] * 6


def test_a_name_with_nothing_in_the_window_but_a_point_is_known_and_no_suggestion_is_read():
    em = gate_em()
    result = report(em, ['ok01', 'ancient01'])
    assert result['vms']['ancient01']['code'] == 'no_session'
    assert em.filters('VmRestorePoint') == ['VmDisplayName=="ancient01"']
    assert em.filters('VmReplicaPoint') == []  # settled by the first kind: no further question


def test_no_question_about_knowing_when_every_name_has_a_session():
    em = gate_em()
    report(em, ['ok01', 'old01'])
    assert set(r.query_type for r in em.requests) == {'BackupTaskSession'}


def test_a_failing_knowledge_query_fails_the_run_and_never_calls_a_name_unknown():
    em = gate_em()
    real = em.query_page

    def failing(query_type, *args, **kwargs):
        if query_type == 'VmReplicaPoint':
            raise EmError('HTTP 503 from the fake EM')
        return real(query_type, *args, **kwargs)

    em.query_page = failing
    with pytest.raises(EmError, match='HTTP 503'):
        report(em, ['ok01', 'none01'])


def test_an_answer_outside_the_asked_names_is_not_knowledge():
    # EM answers the point query with another VM's point (a broken filter): none01 stays unknown, the stray
    # name only becomes a suggestion.
    em = gate_em()
    em.add_point('VmRestorePoint', 'none02', '2026-11-01T00:00:00Z')
    real = em.query_page

    def unfiltered(query_type, filter_text=None, *args, **kwargs):
        return real(query_type, None if query_type == 'VmRestorePoint' else filter_text, *args, **kwargs)

    em.query_page = unfiltered
    entry = report(em, ['none01'])['vms']['none01']
    assert (entry['code'], entry['reason']) == ('unknown_vm', 'EM knows no VM named none01 (did you mean none02?)')


def test_report_with_everything_in_the_window_needs_no_look_back():
    em = gate_em()
    report(em, ['ok01', 'bad01'])
    assert len(em.requests) == 1


def test_accepting_warning_passes_the_warning_vm():
    result = report(gate_em(), ['warn01'], accept=['Success', 'Warning'])
    assert result['passed_vms'] == ['warn01']
    assert result['vms']['warn01']['reason'] == 'Warning at 2026-11-30 01:00 UTC in job Web Daily'


def test_names_match_case_insensitively_and_come_back_as_em_spells_them():
    em = FakeEm()
    em.add('BackupTaskSession', 'WEB01.Corp', '2026-11-30T01:00:00Z')
    result = report(em, ['web01.corp'])
    entry = result['vms']['web01.corp']
    assert (entry['vm_name'], entry['requested_name'], entry['code']) == ('WEB01.Corp', 'web01.corp', 'passed')


def test_dict_keys_come_back_as_given_even_when_names_fold_together():
    em = FakeEm()
    em.add('BackupTaskSession', 'Web01', '2026-11-30T01:00:00Z')
    vms = {'web01.example.com': 'web01', 'WEB01.example.com': 'WEB01', 'db.example.com': 'db02'}
    result = report(em, vms)
    assert list(result['vms']) == list(vms)
    assert result['passed_vms'] == ['web01.example.com', 'WEB01.example.com'] and result['failed_vms'] == ['db.example.com']
    assert [result['vms'][k]['requested_name'] for k in vms] == ['web01', 'WEB01', 'db02']
    assert [result['vms'][k]['vm_name'] for k in vms] == ['Web01', 'Web01', 'db02']
    assert em.filters()[0].startswith('(VmDisplayName=="web01",VmDisplayName=="db02");')


def test_a_casefold_twin_is_ambiguous_and_a_plain_case_variant_passes():
    em = FakeEm()
    em.add('BackupTaskSession', u'STRASSE', '2026-11-30T01:00:00Z')
    result = report(em, [u'Straße', u'strasse'])
    assert result['passed_vms'] == [u'strasse'] and result['failed_vms'] == [u'Straße']
    assert result['vms'][u'strasse']['vm_name'] == u'STRASSE'
    twin = result['vms'][u'Straße']
    assert twin['code'] == 'ambiguous' and twin['vm_name'] == u'Straße'
    assert twin['reason'] == (u"'Straße' is ambiguous in EM's sessions, which name 'STRASSE'; 'STRASSE' equals 'Straße' only "
                              u"under Unicode case folding (such as ß = ss), which EM may not apply: the gate takes no VM for "
                              u"another, so give the name exactly as EM spells it")


def test_two_vms_whose_names_differ_in_case_are_ambiguous_and_named():
    em = FakeEm()
    em.add('BackupTaskSession', 'CaseDup', '2026-11-30T01:00:00Z', vm_uid='urn:VMware:Vm:r1.vm-1')
    em.add('BackupTaskSession', 'casedup', '2026-11-28T01:00:00Z', result='Failed', vm_uid='urn:VMware:Vm:r1.vm-2')
    result = report(em, ['casedup', 'CASEDUP'])
    assert result['passed_vms'] == [] and result['summary']['by_code']['ambiguous'] == 2
    assert result['vms']['CASEDUP']['reason'] == (
        "'CASEDUP' is ambiguous in EM's sessions, which name 'CaseDup' (urn:VMware:Vm:r1.vm-1), 'casedup' "
        "(urn:VMware:Vm:r1.vm-2); EM compares names case-insensitively, so the gate cannot tell which VM is meant and "
        "judges none: give each VM a name that differs in more than case")
    assert result['vms']['casedup']['sources']['backup']['session'] is None


def test_every_spelling_asked_for_is_checked_against_the_other_vms():
    # CaseDup asked too: its exact spelling must not spare CASEDUP the look back that finds casedup.
    em = FakeEm()
    em.add('BackupTaskSession', 'CaseDup', '2026-11-30T01:00:00Z', vm_uid='urn:VMware:Vm:r1.vm-1')
    em.add('BackupTaskSession', 'casedup', '2026-11-28T01:00:00Z', result='Failed', vm_uid='urn:VMware:Vm:r1.vm-2')
    result = report(em, ['CASEDUP', 'CaseDup', 'casedup'])
    assert [result['vms'][name]['code'] for name in ('CASEDUP', 'CaseDup', 'casedup')] == ['ambiguous'] * 3


def test_a_name_spelt_as_em_spells_it_with_no_other_spelling_in_the_window_is_not_looked_back_for():
    em = FakeEm()
    em.add('BackupTaskSession', 'CaseDup', '2026-11-30T01:00:00Z', vm_uid='urn:VMware:Vm:r1.vm-1')
    em.add('BackupTaskSession', 'casedup', '2026-11-28T01:00:00Z', result='Failed', vm_uid='urn:VMware:Vm:r1.vm-2')
    result = report(em, ['CaseDup'])
    assert result['vms']['CaseDup']['code'] == 'passed' and len(em.requests) == 1


def test_two_vm_uids_under_one_spelling_are_ambiguous():
    twins = [session(vm='web01', uid='1', created='2026-11-30T10:00:00Z'), session(vm='web01', uid='2')]
    twins[0]['vm_uid'], twins[1]['vm_uid'] = 'urn:VMware:Vm:r1.vm-1', 'urn:VMware:Vm:r2.vm-1'
    result = verdict.judge_sessions({'backup': twins}, policy(), 'web01')
    assert result['code'] == 'ambiguous' and 'vm-1, urn:VMware:Vm:r2.vm-1' in result['reason']


def test_names_spelt_differently_across_sources_are_ambiguous():
    found = {'backup': [session(vm='Web01')], 'replica': [session(vm='WEB01')]}
    result = verdict.judge_sessions(found, policy(sources=['backup', 'replica']), 'web01')
    assert result['code'] == 'ambiguous' and not result['passed']
    assert result['sources']['replica']['code'] == 'ambiguous'


def test_one_vm_under_one_spelling_with_its_uid_passes():
    history = [session(vm='Web01', uid=str(n), created='2026-11-{0}T21:40:00Z'.format(n)) for n in (27, 28, 29)]
    for item in history:
        item['vm_uid'] = 'urn:VMware:Vm:r1.vm-7'
    result = verdict.judge_sessions({'backup': history}, policy(), 'WEB01')
    assert result['code'] == 'passed' and result['vm_name'] == 'Web01'


def test_duplicate_names_in_a_list_are_one_entry():
    em = gate_em()
    result = report(em, ['ok01', 'bad01', 'ok01'])
    assert list(result['vms']) == ['ok01', 'bad01']
    assert result['passed_vms'] == ['ok01'] and result['failed_vms'] == ['bad01']
    assert result['summary']['total'] == 2 and sum(result['summary']['by_code'].values()) == 2


def test_names_with_filter_grammar_and_unicode_are_matched_exactly():
    names = ['web;01', 'db,02', 'sql "prod"', 'app (old)', 'a==b', u'数据库-01', u'Bücher-DB', ' padded ']
    em = FakeEm()
    for name in names:
        em.add('BackupTaskSession', name, '2026-11-30T01:00:00Z')
    em.add('BackupTaskSession', 'padded', '2026-11-30T02:00:00Z', result='Failed')
    em.add('BackupTaskSession', 'web', '2026-11-30T02:00:00Z', result='Failed')
    result = report(em, names + ['padded'])
    assert result['passed_vms'] == names and result['failed_vms'] == ['padded']


def test_job_name_counts_only_that_jobs_sessions():
    em = FakeEm()
    em.add('BackupTaskSession', 'sql01', '2026-11-30T10:00:00Z', job='Adhoc', result='Failed')
    em.add('BackupTaskSession', 'sql01', '2026-11-30T01:00:00Z', job='SQL Nightly')
    em.add('BackupTaskSession', 'sql02', '2026-11-30T01:00:00Z', job='Adhoc')
    result = report(em, ['sql01', 'sql02'], job_name='sql nightly')
    assert result['vms']['sql01']['reason'] == 'Success at 2026-11-30 01:00 UTC in job SQL Nightly'
    assert result['vms']['sql02']['reason'] == 'no backup session of job sql nightly in the last 30 days'
    # The gate's queries name the job; sql02 had nothing in it, so EM is asked once more, of any job, whether it
    # knows sql02 at all (it does: a session of job Adhoc), and no point is asked for.
    filters = em.filters()
    assert all('JobName=="sql nightly"' in f for f in filters[:-1])
    assert filters[-1] == 'VmDisplayName=="sql02";CreationTime>="2026-10-31T16:00:00Z"'
    result = report(em, ['sql03'], job_name='sql nightly')
    assert result['vms']['sql03']['code'] == 'unknown_vm'
    # Names to suggest come from the gate's own answers and EM's newest points: this EM lists no point.
    assert result['vms']['sql03']['reason'] == 'EM knows no VM named sql03 (no close name among the 0 known names read)'


def test_job_name_for_cdp_is_matched_on_the_sessions():
    em = FakeEm()
    em.add('CdpReplicaTaskSession', 'vm1', '2026-11-30T12:00:00Z', state='InProgress', result='Failed', job='Other Policy')
    em.add('CdpReplicaTaskSession', 'vm1', '2026-11-30T11:00:00Z', state='InProgress', result='Success', job='CDP Policy 1')
    result = report(em, ['vm1'], sources=['cdp'], job_name=['cdp policy 1'])
    assert result['vms']['vm1']['code'] == 'passed'
    assert 'JobName' not in em.filters()[0]


def test_sources_any_and_all_over_backup_replica_and_cdp():
    em = FakeEm()
    em.add('BackupTaskSession', 'vm1', '2026-11-30T01:00:00Z', result='Failed', reason='disk full')
    em.add('ReplicaTaskSession', 'vm1', '2026-11-30T02:00:00Z', job='Rep')
    em.add('CdpReplicaTaskSession', 'vm1', '2026-11-30T03:00:00Z', state='InProgress', result='Success', job='CDP Policy 1')
    sources = ['backup', 'replica', 'cdp']
    anyone = report(em, ['vm1'], sources=sources, require='any')['vms']['vm1']
    assert (anyone['passed'], anyone['code'], anyone['reason']) == (True, 'passed', 'replica: Success at 2026-11-30 02:00 UTC in job Rep')
    everyone = report(em, ['vm1'], sources=sources, require='all')['vms']['vm1']
    assert (everyone['passed'], everyone['code'], everyone['reason']) == (
        False, 'failed_result', 'backup: Failed at 2026-11-30 01:00 UTC in job Job A: disk full')
    assert list(everyone['sources']) == sources
    assert [r.query_type for r in em.requests[-3:]] == ['BackupTaskSession', 'ReplicaTaskSession', 'CdpReplicaTaskSession']


# --- running sessions ---

def running_em():
    em = FakeEm()
    em.add('BackupTaskSession', 'busy01', '2026-11-29T21:00:00Z', job='Web Daily')
    run = em.add('BackupTaskSession', 'busy01', '2026-11-30T15:00:00Z', state='InProgress', result='None', job='Web Daily')
    em.add('BackupTaskSession', 'ok01', '2026-11-30T01:00:00Z')
    return em, run


def test_wait_polls_only_the_running_vms_until_their_session_finishes_and_judges_it():
    em, run = running_em()

    def finish(sleeps):
        if sleeps == 2:
            em.finish(run, result='Failed', reason='Snapshot failed.', end='2026-11-30T15:20:00Z')
    clock = Clock(on_sleep=finish)
    result = report(em, ['busy01', 'ok01'], clock=clock, wait_sleep=15, wait_timeout=600)
    assert clock.sleeps == [15, 15]
    assert result['vms']['busy01']['code'] == 'failed_result'
    assert result['vms']['busy01']['reason'] == 'Failed at 2026-11-30 15:20 UTC in job Web Daily: Snapshot failed.'
    assert result['passed_vms'] == ['ok01']
    filters = em.filters()
    assert len(filters) == 3 and filters[1] == filters[2] == 'VmDisplayName=="busy01";CreationTime>="2026-11-29T16:00:00Z"'


def test_wait_gives_up_at_the_timeout_with_wait_timeout():
    em, _run = running_em()
    clock = Clock()
    result = report(em, ['busy01', 'ok01'], clock=clock, wait_sleep=10, wait_timeout=30)
    assert clock.sleeps == [10, 10, 10]
    entry = result['vms']['busy01']
    assert (entry['code'], entry['reason']) == (
        'wait_timeout', 'backup still running after waiting 30 s (started 2026-11-30 15:00 UTC in job Web Daily)')
    assert entry['sources']['backup']['session']['state'] == 'InProgress'
    assert result['summary']['by_code']['wait_timeout'] == 1


def test_wait_shares_one_deadline_across_sources():
    em, _run = running_em()
    em.add('ReplicaTaskSession', 'busy01', '2026-11-30T15:30:00Z', state='InProgress', result='None', job='Rep')
    clock = Clock()
    result = report(em, ['busy01'], clock=clock, sources=['backup', 'replica'], require='all', wait_sleep=10, wait_timeout=25)
    assert clock.sleeps == [10, 10]
    assert result['vms']['busy01']['code'] == 'wait_timeout'
    assert result['vms']['busy01']['sources']['replica']['code'] == 'wait_timeout'


def test_running_fail_fails_at_once_without_sleeping():
    em, _run = running_em()
    clock = Clock()
    result = report(em, ['busy01'], clock=clock, running='fail')
    assert clock.sleeps == [] and len(em.requests) == 1
    assert (result['vms']['busy01']['code'], result['vms']['busy01']['reason']) == (
        'running', 'backup running since 2026-11-30 15:00 UTC in job Web Daily (running=fail)')


def test_running_previous_judges_the_newest_completed_session_without_sleeping():
    em, _run = running_em()
    clock = Clock()
    result = report(em, ['busy01'], clock=clock, running='previous')
    assert clock.sleeps == [] and len(em.requests) == 1
    assert result['vms']['busy01']['reason'] == 'Success at 2026-11-29 21:00 UTC in job Web Daily'


def test_running_previous_looks_back_for_a_completed_session_outside_the_window():
    em = FakeEm()
    em.add('BackupTaskSession', 'busy01', '2026-11-25T21:00:00Z', result='Failed', reason='old')
    em.add('BackupTaskSession', 'busy01', '2026-11-26T21:00:00Z')
    em.add('BackupTaskSession', 'busy01', '2026-11-30T15:00:00Z', state='InProgress', result='None')
    result = report(em, ['busy01'], running='previous')
    assert result['vms']['busy01']['reason'] == 'newest completed backup 2026-11-26 21:00 UTC (Success) is older than 24h'
    assert result['vms']['busy01']['sources']['backup']['session']['creation_time'] == '2026-11-26T21:00:00Z'


def test_running_cdp_session_is_judged_live_without_waiting():
    em = FakeEm()
    em.add('CdpReplicaTaskSession', 'vm1', '2026-11-30T00:00:00Z', state='InProgress', result='Warning', reason='RPO missed.',
           job='CDP Policy 1')
    clock = Clock()
    result = report(em, ['vm1'], clock=clock, sources=['cdp'], accept=['Success', 'Warning'])
    assert clock.sleeps == [] and result['vms']['vm1']['code'] == 'passed'


def test_session_running_since_before_the_window_is_stale_and_not_waited_for():
    em = FakeEm()
    em.add('BackupTaskSession', 'slow01', '2026-11-28T10:00:00Z', state='InProgress', result='None')
    clock = Clock()
    result = report(em, ['slow01'], clock=clock)
    assert clock.sleeps == []
    assert (result['vms']['slow01']['code'], result['vms']['slow01']['reason']) == (
        'stale', 'newest backup 2026-11-28 10:00 UTC (still running) is older than 24h')


# --- the look back ---

def test_look_back_stops_once_every_name_it_looks_for_is_found():
    em = FakeEm()
    for day in range(1, 29):
        em.add('BackupTaskSession', 'old01', '2026-11-%02dT21:00:00Z' % day)
    result = report(em, ['old01'], page_size=5)
    assert result['vms']['old01']['reason'] == 'newest backup 2026-11-28 21:00 UTC (Success) is older than 24h'
    assert [r.page for r in em.requests] == [1, 1]


def test_look_back_reads_on_while_a_name_has_only_running_sessions():
    em = FakeEm()
    for day in range(20, 29):
        em.add('BackupTaskSession', 'old01', '2026-11-%02dT21:00:00Z' % day)
    em.add('BackupTaskSession', 'odd01', '2026-11-28T22:00:00Z', state='InProgress', result='None')
    em.add('BackupTaskSession', 'odd01', '2026-11-02T21:00:00Z')
    result = report(em, ['old01', 'odd01'], page_size=2, running='previous')
    assert result['vms']['odd01']['reason'] == 'newest completed backup 2026-11-02 21:00 UTC (Success) is older than 24h'
    assert result['vms']['old01']['code'] == 'stale'


def test_look_back_stops_early_in_every_batch_when_the_names_are_split():
    em = FakeEm()
    names = ['vm%03d' % i for i in range(60)]
    for name in names:
        for day in range(1, 29):
            em.add('BackupTaskSession', name, '2026-11-%02dT21:00:00Z' % day)
    result = report(em, names, page_size=50, max_url_length=1200)
    assert result['summary']['by_code']['stale'] == 60
    lookback_pages = [r.page for r in em.requests if 'CreationTime<' in r.filter_text]
    batches = lookback_pages.count(1)
    assert batches > 1
    # 28 sessions per VM, newest first: page 1 (50 sessions) holds the newest of every name of a batch
    # (fewer than 50 names), so each batch stops after it; without stopping each would read all 28+ pages.
    assert len(lookback_pages) == batches


# --- EM's answer order is not trusted ---

@pytest.mark.parametrize('order', ['asked', 'reverse', 'shuffle'])
@pytest.mark.parametrize('page_size', [1, 2, 1000])
def test_an_old_success_is_never_judged_over_a_newer_failure_whatever_the_order(order, page_size):
    em = FakeEm(order=order)
    em.add('BackupTaskSession', 'db01', '2026-11-29T20:00:00Z', job='SQL Daily')  # 20 hours old
    em.add('BackupTaskSession', 'db01', '2026-11-30T15:00:00Z', result='Failed', reason='Disk full.', job='SQL Daily')  # 1 hour
    em.add('BackupTaskSession', 'db01', '2026-11-30T09:00:00Z', result='Warning', reason='Slow.', job='SQL Daily')
    result = report(em, ['db01'], page_size=page_size)
    assert (result['vms']['db01']['code'], result['vms']['db01']['reason']) == (
        'failed_result', 'Failed at 2026-11-30 15:00 UTC in job SQL Daily: Disk full.')


@pytest.mark.parametrize('order', ['reverse', 'shuffle'])
def test_running_previous_judges_the_newest_completed_whatever_the_order(order):
    em = FakeEm(order=order, seed=3)
    for hour in (1, 3, 5, 7):
        em.add('BackupTaskSession', 'db01', '2026-11-30T%02d:00:00Z' % hour, result='Success' if hour != 7 else 'Failed')
    em.add('BackupTaskSession', 'db01', '2026-11-30T15:00:00Z', state='InProgress', result='None')
    result = report(em, ['db01'], running='previous', page_size=2)
    assert result['vms']['db01']['code'] == 'failed_result'
    assert result['vms']['db01']['sources']['backup']['session']['creation_time'] == '2026-11-30T07:00:00Z'


def test_look_back_reads_every_page_when_em_answers_oldest_first():
    em = FakeEm(order='reverse')
    for day in range(1, 29):
        em.add('BackupTaskSession', 'old01', '2026-11-%02dT21:00:00Z' % day, result='Failed' if day == 28 else 'Success')
    result = report(em, ['old01'], page_size=5)
    # Oldest first, stopping on page 1 would judge 1 November's Success; the order check reads all 6 pages.
    assert result['vms']['old01']['reason'] == 'newest backup 2026-11-28 21:00 UTC (Failed) is older than 24h'
    # Pages 2.. are read concurrently: their requests may reach EM in any order.
    assert sorted(r.page for r in em.requests) == [1, 1, 2, 3, 4, 5, 6]


def test_look_back_reads_on_after_the_order_breaks_on_a_later_page():
    def newest_third(rows):
        # Newest first, except that the newest session of all comes third (on page 2).
        return rows[1:3] + rows[:1] + rows[3:]
    em = FakeEm(order=newest_third)
    em.add('BackupTaskSession', 'old01', '2026-11-28T23:00:00Z', result='Failed', reason='late')
    for day in (28, 27, 26):
        em.add('BackupTaskSession', 'old01', '2026-11-%02dT21:00:00Z' % day)
    for day in (20, 19, 18, 17):
        em.add('BackupTaskSession', 'odd01', '2026-11-%02dT21:00:00Z' % day)
    result = report(em, ['old01', 'odd01'], page_size=2)
    # Trusting the order, old01 was settled by page 1 (with 28 Nov 21:00) and page 3 (odd01) ended the
    # look back; the order broke on page 2, so the newest counts and every page is read.
    assert result['vms']['old01']['reason'] == 'newest backup 2026-11-28 23:00 UTC (Failed) is older than 24h'
    # (and one page past the last, full one, which PagingInfo calls the last: a full page is never trusted to end it)
    assert sorted(r.page for r in em.requests) == [1, 1, 2, 3, 4, 5]


def test_a_future_session_fails_the_vm_whatever_the_order():
    for order in ('asked', 'reverse', 'shuffle'):
        em = FakeEm(order=order)
        em.add('BackupTaskSession', 'web01', '2026-11-30T15:00:00Z')
        em.add('BackupTaskSession', 'web01', '2026-12-01T15:00:00Z', result='Success')
        result = report(em, ['web01'], page_size=1)
        assert result['vms']['web01']['code'] == 'future_time', order
        assert '2026-12-01 15:00 UTC, 23 h after' in result['vms']['web01']['reason']


def test_a_look_back_answer_dated_inside_the_window_is_refused():
    # The look back asks for sessions older than max_age: a fresh Success in its answer would pass the VM.
    em = FakeEm()
    em.add('BackupTaskSession', 'old01', '2026-11-20T21:00:00Z')
    real = em.query_page

    def lying(query_type, filter_text=None, *args, **kwargs):
        items, count = real(query_type, filter_text, *args, **kwargs)
        if 'CreationTime<' in (filter_text or ''):
            items = [dict(item, CreationTimeUTC='2026-11-30T12:00:00Z') for item in items]
        return items, count
    em.query_page = lying
    message = refusal(report, em, ['old01'])
    assert message == ('EM answered a query for BackupTaskSession sessions created from 2026-10-31 16:00 UTC to before '
                       '2026-11-29 16:00 UTC with one created at 2026-11-30 12:00 UTC (old01@2026-11-20T21:00:00Z): '
                       'the answer is not what was asked, so no VM is judged on it.')


def test_a_session_in_an_unknown_state_is_not_judged_as_completed():
    em = FakeEm()
    em.add('BackupTaskSession', 'web01', '2026-11-30T10:00:00Z')
    em.add('BackupTaskSession', 'web01', '2026-11-30T15:00:00Z', state='inprogress', result='Success')
    for running in verdict.RUNNING_MODES:
        entry = report(em, ['web01'], running=running)['vms']['web01']
        assert entry['code'] == 'unknown_state' and "the state 'inprogress'" in entry['reason']


def test_evidence_picks_the_same_session_in_every_order():
    sessions_ = [session(uid=str(n), created=t, result=r, state=st) for n, (t, r, st) in enumerate([
        ('2026-11-30T10:00:00Z', 'Success', 'Completed'), ('2026-11-30T10:00:00Z', 'Failed', 'Completed'),
        ('2026-11-30T09:00:00Z', 'Warning', 'Completed'), ('2026-11-30T10:00:00Z', 'None', 'InProgress')])]
    picks = set()
    for ordering in itertools.permutations(sessions_):
        evidence = verdict.Evidence(NOW)
        for item in ordering:
            evidence.add(item)
        picks.add((evidence.newest['uid'], evidence.completed['uid']))
    # At one instant: running before finished, Failed before Success.
    assert picks == {('3', '1')}


# --- URL-length splitting in the gate ---

def test_long_name_lists_are_split_to_fit_and_judged_as_one():
    em = FakeEm(url_max_length=2000)
    names = [u'vm-%04d-ü;"x"' % i for i in range(300)]
    for i, name in enumerate(names):
        em.add('BackupTaskSession', name, '2026-11-30T01:00:00Z', result='Success' if i % 3 else 'Failed')
    result = report(em, names, max_url_length=2000)
    assert result['summary']['total'] == 300 and result['summary']['by_code']['failed_result'] == 100
    assert len(em.filters()) > 5 and max(r.url_length for r in em.requests) <= 2000


def test_five_thousand_names_in_one_logon_within_the_default_url_length():
    em = FakeEm()
    names = ['server-%05d.corp.example.com' % i for i in range(5000)]
    for name in names[::2]:
        em.add('BackupTaskSession', name, '2026-11-30T01:00:00Z')
    result = report(em, names)
    # The odd names are unknown to EM; each is one digit away from two even ones, suggested in code point order.
    assert result['summary']['passed'] == 2500 and result['summary']['by_code']['unknown_vm'] == 2500
    assert result['vms'][names[1]]['reason'] == ('EM knows no VM named server-00001.corp.example.com (did you mean '
                                                 'server-00000.corp.example.com, server-00002.corp.example.com or '
                                                 'server-00004.corp.example.com?)')
    # Each costs about 325 trie rows: the run's budget (suggest.ROW_BUDGET) serves the first unknown names in
    # request order, more than a thousand; the rest are told without suggestions, and why.
    reasons = [result['vms'][name]['reason'] for name in names[1::2]]
    served = sum(1 for reason in reasons if 'did you mean' in reason)
    assert 1000 < served < 2500
    assert all('did you mean' in reason for reason in reasons[:served])
    assert all('no close names sought: the search reached its limit' in reason for reason in reasons[served:])
    assert max(r.url_length for r in em.requests) <= 8000


def test_a_split_job_list_still_finds_each_vms_newest_session_across_requests():
    em = FakeEm()
    jobs = ['Nightly job number %03d' % i for i in range(40)]
    em.add('BackupTaskSession', 'vm1', '2026-11-30T01:00:00Z', job=jobs[0], result='Failed', reason='first batch, older')
    em.add('BackupTaskSession', 'vm1', '2026-11-30T03:00:00Z', job=jobs[-1])
    em.add('BackupTaskSession', 'vm2', '2026-11-28T03:00:00Z', job=jobs[-1])
    em.add('BackupTaskSession', 'vm2', '2026-11-27T03:00:00Z', job=jobs[0], result='Failed')
    result = report(em, ['vm1', 'vm2'], job_name=jobs, max_url_length=1024)
    assert len(em.filters()) > 2
    assert result['vms']['vm1']['reason'] == 'Success at 2026-11-30 03:00 UTC in job ' + jobs[-1]
    assert result['vms']['vm2']['reason'] == 'newest backup 2026-11-28 03:00 UTC (Success) is older than 24h'


def test_evidence_survives_a_json_cache_and_judges_alike():
    import json
    found = verdict.Findings('backup', NOW)
    for item in [session(vm='CaseDup', uid='1'), session(vm='casedup', uid='2', created='2026-11-30T10:00:00Z', result='Failed')]:
        item['vm_uid'] = 'urn:VMware:Vm:r.vm-' + item['uid']
        found.visit(item)
    cached = json.loads(json.dumps(found.evidence('casedup').as_data()))
    again = verdict.Evidence.from_data(cached, NOW)
    direct = judge_vm({'backup': found.evidence('casedup')}, policy(), 'casedup')
    assert judge_vm({'backup': again}, policy(), 'casedup') == direct and direct['code'] == 'ambiguous'
    assert again.newest['uid'] == '2' and cached['names'] == {'CaseDup': ['urn:VMware:Vm:r.vm-1'], 'casedup': ['urn:VMware:Vm:r.vm-2']}
