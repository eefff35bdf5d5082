# -*- coding: utf-8 -*-
# Copyright (c) 2026, vbem.enterprise_manager contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The session report: plan, aggregation and the three renderings (pure, no EM)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import csv
import io
import re
from datetime import datetime
from html.parser import HTMLParser

import pytest

from ansible_collections.vbem.enterprise_manager.plugins.module_utils import sources, verdict
from ansible_collections.vbem.enterprise_manager.plugins.module_utils.errors import EmError
from ansible_collections.vbem.enterprise_manager.plugins.plugin_utils import report, report_aggregate, report_render

NOW = datetime(2026, 11, 30, 12, 0, 0)
PLAN = {'sources': ['backup'], 'query_types': ['BackupTaskSession'], 'window': '7d',
        'created_after': '2026-11-23T12:00:00Z', 'created_before': '2026-11-30T12:00:00Z'}
TYPES = {'backup': 'BackupTaskSession', 'replica': 'ReplicaTaskSession', 'cdp': 'CdpReplicaTaskSession'}
_counter = [0]


def task(vm='vm1', created='2026-11-29T21:00:00Z', result='Success', state='Completed', job='SQL Daily', reason=None,
         source='backup', size=1024, end='auto'):
    _counter[0] += 1
    if end == 'auto':
        end = None if state != 'Completed' else created.replace('T21:', 'T22:')
    return {'uid': 'urn:veeam:{0}:00000000-0000-0000-0000-{1:012d}'.format(TYPES[source], _counter[0]),
            'type': TYPES[source], 'vm_name': vm, 'job_name': job, 'creation_time': created, 'end_time': end,
            'state': state, 'result': result, 'reason': reason, 'total_size': size, 'links': []}


def build(sessions, plan=None, **kwargs):
    kwargs.setdefault('now', '2026-11-30T12:00:00Z')
    return report.build(sessions, plan or PLAN, **kwargs)


def csv_rows(text):
    return list(csv.reader(io.StringIO(text, newline='')))


# -- sources --------------------------------------------------------------------------------

def test_the_report_s_sources_are_the_gate_s_session_sources_of_the_table():
    assert report.SOURCES == verdict.SOURCES == ('backup', 'replica', 'cdp')
    assert report.QUERY_TYPES == {'backup': 'BackupTaskSession', 'replica': 'ReplicaTaskSession', 'cdp': 'CdpReplicaTaskSession'}
    assert report_render.SOURCE_LABELS == dict((name, sources.get(name).label) for name in report.SOURCES)


# -- plan ------------------------------------------------------------------------------------

def test_plan_resolves_a_relative_window_once():
    assert report.plan(['backup', 'cdp'], '7d', NOW) == {
        'sources': ['backup', 'cdp'], 'query_types': ['BackupTaskSession', 'CdpReplicaTaskSession'], 'window': '7d',
        'created_after': '2026-11-23T12:00:00Z', 'created_before': '2026-11-30T12:00:00Z'}


def test_plan_takes_an_iso_start():
    assert report.plan(['replica'], '2026-11-01', NOW)['created_after'] == '2026-11-01T00:00:00Z'


def test_plan_string_source_is_one_source():
    assert report.plan('cdp', '1d', NOW)['sources'] == ['cdp']


@pytest.mark.parametrize('sources, words', [
    (['backup', 'tape'], "report_sources must be one or more of backup, replica, cdp; 'tape' is not one of them"),
    ('backup,cdp', "'backup,cdp' is not one of them"),
    ([], 'report_sources is empty; give one or more of backup, replica, cdp'),
    (None, 'report_sources must be one or more of backup, replica, cdp, not null'),
    (['backup', 'backup'], 'names backup twice'),
])
def test_plan_refuses_bad_sources(sources, words):
    with pytest.raises(EmError, match=re.escape(words)):
        report.plan(sources, '7d', NOW)


@pytest.mark.parametrize('window, words', [
    ('', 'report_window is empty'),
    (None, 'report_window is empty'),
    ('7 days', "report_window '7 days' is neither a relative age"),
    ('2027-01-01', 'is not in the past'),
    ('0d', "report_window '0d' is zero; give a positive age such as 24h"),
])
def test_plan_refuses_bad_windows(window, words):
    with pytest.raises(EmError, match=re.escape(words)):
        report.plan(['backup'], window, NOW)


# -- aggregation ----------------------------------------------------------------------------

def test_outcome_maps_none_and_unknown_results_to_running():
    assert [report_aggregate.outcome({'result': r}) for r in ('Success', 'Warning', 'Failed', 'None', None)] == [
        'Success', 'Warning', 'Failed', 'Running', 'Running']


def test_totals_per_source_and_overall():
    plan = dict(PLAN, sources=['backup', 'replica'])
    result = build([task(result='Failed'), task(vm='vm2'), task(source='replica', result='Warning'),
                    task(vm='vm3', result='None', state='InProgress')], plan)
    assert result['total'] == 4
    assert result['totals'] == {'Failed': 1, 'Warning': 1, 'Success': 1, 'Running': 1}
    assert result['by_source'] == {'backup': {'Failed': 1, 'Warning': 0, 'Success': 1, 'Running': 1},
                                   'replica': {'Failed': 0, 'Warning': 1, 'Success': 0, 'Running': 0}}


def test_every_day_of_the_window_appears_even_without_sessions():
    result = build([task(created='2026-11-25T03:00:00Z'), task(created='2026-11-25T23:59:59Z', result='Failed')])
    days = result['by_day']
    assert [d['date'] for d in days] == ['2026-11-23', '2026-11-24', '2026-11-25', '2026-11-26', '2026-11-27',
                                         '2026-11-28', '2026-11-29', '2026-11-30']
    assert days[2] == {'date': '2026-11-25', 'Failed': 1, 'Warning': 0, 'Success': 1, 'Running': 0}
    assert sum(d['Success'] + d['Failed'] for d in days) == 2


def test_days_are_utc_days_of_offset_timestamps():
    result = build([task(created='2026-11-26T01:30:00+02:00')])
    assert [d['date'] for d in result['by_day'] if d['Success']] == ['2026-11-25']


def test_jobs_are_ordered_worst_first():
    result = build([task(job='A'), task(job='B', result='Warning'), task(job='C', result='Failed'),
                    task(job='C'), task(job='B', result='Warning'), task(job='a2', result='Warning')])
    assert [(j['job_name'], j['Failed'], j['Warning'], j['total']) for j in result['by_job']] == [
        ('C', 1, 0, 2), ('B', 0, 2, 2), ('a2', 0, 1, 1), ('A', 0, 0, 1)]


def test_newest_session_per_vm_decides_whether_it_is_listed():
    sessions = [
        task(vm='web01', created='2026-11-28T21:00:00Z', result='Failed'),
        task(vm='WEB01', created='2026-11-29T21:00:00Z', result='Success'),   # same VM, EM compares case-insensitively
        task(vm='db01', created='2026-11-29T21:00:00Z', result='Warning', reason='CBT off'),
        task(vm='db01', created='2026-11-28T21:00:00Z', result='Success'),
        task(vm='app01', created='2026-11-29T20:00:00Z', result='Failed', reason='Snapshot failed'),
    ]
    listed = build(sessions)['vms_not_ok']
    assert [(v['vm_name'], v['outcome'], v['reason']) for v in listed] == [
        ('app01', 'Failed', 'Snapshot failed'), ('db01', 'Warning', 'CBT off')]


def test_a_running_newest_session_is_listed_last_with_its_previous_result():
    sessions = [task(vm='run01', created='2026-11-30T11:00:00Z', result='None', state='InProgress'),
                task(vm='run01', created='2026-11-29T11:00:00Z', result='Success'),
                task(vm='bad01', result='Failed')]
    result = build(sessions)
    assert [(v['vm_name'], v['outcome']) for v in result['vms_not_ok']] == [('bad01', 'Failed'), ('run01', 'Running')]
    assert 'last completed: <bdi>Success</bdi>' in result['html']


def test_same_vm_in_two_sources_is_judged_per_source():
    plan = dict(PLAN, sources=['backup', 'cdp'])
    result = build([task(vm='x'), task(vm='x', source='cdp', result='Warning', state='InProgress')], plan)
    assert [(v['vm_name'], v['source'], v['outcome']) for v in result['vms_not_ok']] == [('x', 'cdp', 'Warning')]


def test_a_vm_failing_in_two_sources_is_one_vm_in_the_headline():
    plan = dict(PLAN, sources=['backup', 'cdp'])
    result = build([task(vm='x', result='Failed'), task(vm='X', source='cdp', result='Warning')], plan)
    assert result['headline'] == '1 VM not protected by a clean last run: 1 failed session and 1 warning in 2 task sessions'
    assert len(result['vms_not_ok']) == 2
    assert result['table'][6] == 'all            2       1        1        0              0           1'


def test_problem_sessions_are_failed_first_then_newest_first():
    sessions = [task(vm='w-old', created='2026-11-27T21:00:00Z', result='Warning'),
                task(vm='f-old', created='2026-11-27T21:00:00Z', result='Failed'),
                task(vm='w-new', created='2026-11-29T21:00:00Z', result='Warning'),
                task(vm='f-new', created='2026-11-29T21:00:00Z', result='Failed'),
                task(vm='ok', created='2026-11-29T22:00:00Z')]
    html = build(sessions)['html']
    problems = html[html.index('id="problems"'):html.index('id="days"')]
    assert [problems.index(name) for name in ('f-new', 'f-old', 'w-new', 'w-old')] == sorted(
        problems.index(name) for name in ('f-new', 'f-old', 'w-new', 'w-old'))
    assert '>ok<' not in problems


def test_sessions_are_told_apart_by_type_then_by_uid():
    plan = dict(PLAN, sources=['backup', 'replica', 'cdp'])
    by_uid = task(source='cdp')
    del by_uid['type']
    result = build([task(), task(source='replica'), by_uid], plan)
    assert dict((s, sum(c.values())) for s, c in result['by_source'].items()) == {'backup': 1, 'replica': 1, 'cdp': 1}


def test_a_session_of_a_source_not_planned_is_refused():
    with pytest.raises(EmError, match=r"A session of type 'ReplicaTaskSession' .* is not one of the report's sources \(backup\)"):
        build([task(), task(source='replica')])


def test_an_untyped_session_belongs_to_the_only_source():
    untyped = task()
    del untyped['type']
    untyped['uid'] = 'something else'
    assert build([untyped])['total'] == 1


def test_a_dict_of_sources_is_accepted():
    plan = dict(PLAN, sources=['backup', 'cdp'])
    result = build({'backup': [task()], 'cdp': [task(source='cdp', result='Failed')]}, plan)
    assert result['by_source']['cdp']['Failed'] == 1


@pytest.mark.parametrize('sessions, words', [
    ('text', 'not str'),
    ([['nested']], "The sessions hold ['nested']"),
    ({'tape': []}, "name source 'tape'"),
])
def test_input_that_is_not_sessions_is_refused(sessions, words):
    with pytest.raises(EmError, match=re.escape(words)):
        build(sessions)


def test_plan_must_come_from_the_query_filter():
    with pytest.raises(EmError, match='session_report_query returned'):
        report.build([], {'sources': ['backup']})


@pytest.mark.parametrize('max_rows', [-1, 'many'])
def test_max_rows_must_be_zero_or_more(max_rows):
    with pytest.raises(EmError, match='max_rows must be'):
        build([], max_rows=max_rows)


def test_session_without_a_readable_time_is_counted_but_not_charted():
    result = build([task(created='yesterday'), task()])
    assert result['total'] == 2
    assert sum(sum(v for k, v in d.items() if k != 'date') for d in result['by_day']) == 1
    assert '1 session without a readable start time' in result['html']


# -- CSV ------------------------------------------------------------------------------------

def test_csv_has_one_rfc4180_row_per_session_newest_first():
    text = build([task(vm='sql "prod"', created='2026-11-28T21:00:00.1234567Z', reason='a, b\r\nc'),
                  task(vm='db,02', created='2026-11-29T21:00:00Z', size=None)])['csv']
    assert text.startswith('type,vm_name,job_name,start_utc,end_utc,state,result,reason,size_bytes\r\n')
    assert '"sql ""prod"""' in text and '"db,02"' in text
    rows = csv_rows(text)
    assert rows[1] == ['backup', 'db,02', 'SQL Daily', '2026-11-29T21:00:00Z', '2026-11-29T22:00:00Z', 'Completed', 'Success', '', '']
    assert rows[2] == ['backup', 'sql "prod"', 'SQL Daily', '2026-11-28T21:00:00Z', '2026-11-28T22:00:00Z', 'Completed', 'Success',
                       'a, b\r\nc', '1024']
    assert len(rows) == 3


@pytest.mark.parametrize('name', ['=cmd|" /C calc"!A0', '+1+1', '-2+3', '@SUM(A1)', '\t=1', '\r=1', '  =HYPERLINK("x")'])
def test_csv_cells_never_start_a_formula(name):
    rows = csv_rows(build([task(vm=name, job=name, reason=name)])['csv'])
    assert rows[1][1] == rows[1][2] == rows[1][7] == "'" + name


def test_csv_keeps_ordinary_text_and_numbers_as_they_are():
    rows = csv_rows(build([task(vm='web-01', reason='Error: -1', size=5)])['csv'])
    assert rows[1][1] == 'web-01' and rows[1][7] == 'Error: -1' and rows[1][8] == '5'


def test_csv_of_a_running_session_has_no_end():
    rows = csv_rows(build([task(result='None', state='InProgress')])['csv'])
    assert rows[1][4:7] == ['', 'InProgress', 'None']


# -- HTML -----------------------------------------------------------------------------------

NASTY = ('lab<test>', 'exchange&mail', 'sql "prod"', "o'brien", '<script>alert(1)</script>', '<img src=x onerror=alert(1)>')


def test_html_escapes_every_em_string():
    sessions = [task(vm=name, job=name, reason=name, result='Failed') for name in NASTY]
    html = build(sessions)['html']
    for name in NASTY:
        assert name not in html
    # Autoescaped by the page template (markupsafe writes quotes as numeric references).
    assert 'lab&lt;test&gt;' in html and 'exchange&amp;mail' in html and 'sql &#34;prod&#34;' in html and 'o&#39;brien' in html
    assert '<script' not in html and '<img' not in html


def test_html_is_self_contained():
    html = build([task(result='Failed'), task(vm='x', result='Warning')])['html']
    assert not re.search(r'''(?i)\b(src|href)\s*=|url\(|@import|<link|<script|https?://''', html)
    assert "default-src 'none'" in html
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in html
    assert html.count('<svg') == 8 + 1   # one bar per day of the window, one per job


def test_html_puts_the_bad_news_first():
    html = build([task(result='Failed', reason='disk full'), task(vm='ok')])['html']
    order = [html.index(marker) for marker in ('<h1>', 'class="tiles"', 'id="vms"', 'id="problems"', 'id="days"', 'id="jobs"', '<footer>')]
    assert order == sorted(order)
    assert '<h1>1 VM not protected by a clean last run: 1 failed session in 2 task sessions</h1>' in html
    assert '<header class="bad">' in html


def test_html_headline_of_a_clean_window():
    html = build([task(), task(vm='b')])['html']
    assert '<header class="ok"><h1>All 2 task sessions succeeded</h1>' in html
    assert "Every VM's newest session in the window succeeded." in html


def test_html_of_an_empty_window():
    result = build([], dict(PLAN, sources=['replica', 'cdp']))
    assert result['headline'] == 'No replica and CDP task sessions in the window'
    assert 'No job ran in the window.' in result['html']


def test_html_shows_the_window_and_when_it_was_made():
    html = build([task()])['html']
    assert 'Backup task sessions, 2026-11-23 12:00 to 2026-11-30 12:00 UTC. Made 2026-11-30 12:00 UTC.' in html
    assert 'Report made 2026-11-30T12:00:00Z' in html


def test_long_lists_are_capped_with_a_note():
    sessions = [task(vm='vm%03d' % n, result='Failed') for n in range(7)]
    html = build(sessions, max_rows=5)['html']
    assert html.count('>Failed</span>') == 10
    assert 'Showing 5 of 7 VM rows; sessions.csv lists every session.' in html
    assert 'Showing 5 of 7 failed and warning sessions' in html
    assert 'Showing' not in build(sessions, max_rows=0)['html']


def test_day_bars_are_scaled_to_the_busiest_day():
    html = build([task(created='2026-11-28T21:00:00Z'), task(vm='b', created='2026-11-28T21:00:00Z', result='Failed'),
                  task(created='2026-11-29T21:00:00Z')])['html']
    assert '<rect x="0.00" y="0" width="500.00" height="10" fill="#c62828"><title>1 failed</title></rect>' in html
    assert '<rect x="0.00" y="0" width="500.00" height="10" fill="#2e7d32"><title>1 success</title></rect>' in html


# -- terminal table -------------------------------------------------------------------------

def test_table_aligns_wide_characters():
    plan = dict(PLAN, sources=['backup', 'cdp'])
    lines = build([task(job='数据库 Daily'), task(vm='web', job='Web', result='Failed'), task(source='cdp', job='CDP Policy 1')], plan)['table']
    assert lines[0] == '1 VM not protected by a clean last run: 1 failed session in 3 task sessions.'
    assert lines[1] == 'Window: 2026-11-23 12:00 to 2026-11-30 12:00 UTC (backup and CDP task sessions).'
    assert lines[3:7] == [
        'source  sessions  Failed  Warning  Success  No result yet  VMs not OK',
        'backup         2       1        0        1              0           1',
        'cdp            1       0        0        1              0           0',
        'all            3       1        0        2              0           1',
    ]
    jobs = lines[8:]
    assert jobs[0].startswith('job           source')
    widths = set(report_render._width(line.split('  backup')[0].split('  cdp')[0]) for line in jobs[1:])
    assert len(widths) == 1
    assert jobs[1].startswith('Web ')


def test_table_clips_long_job_names():
    lines = build([task(job='J' * 60)])['table']
    assert any(line.startswith('J' * 35 + '~ ') for line in lines)


# -- bidirectional controls in EM text cannot reorder a row --------------------------------------

BIDI = (u'\u202a', u'\u202b', u'\u202c', u'\u202d', u'\u202e', u'\u2066', u'\u2067', u'\u2068', u'\u2069',
        u'\u200e', u'\u200f', u'\u061c')


class _Isolation(HTMLParser):
    """Records every text run with whether it sits inside <bdi>, and every attribute value."""

    def __init__(self):
        HTMLParser.__init__(self, convert_charrefs=True)
        self.stack = []
        self.texts = []
        self.attributes = []

    def handle_starttag(self, tag, attrs):
        self.attributes.extend(value or '' for _name, value in attrs)
        if tag not in ('meta', 'br', 'rect', 'i'):
            self.stack.append(tag)

    def handle_endtag(self, tag):
        while self.stack:
            if self.stack.pop() == tag:
                break

    def handle_data(self, data):
        self.texts.append((data, 'bdi' in self.stack))


def _bidi_sessions():
    """Sessions whose every EM string carries one bidi control, with a marker to find it again."""
    sessions = []
    for number, char in enumerate(BIDI):
        for result in ('Failed', 'Warning', 'None'):
            state = 'Working' if result == 'None' else 'Completed'
            sessions.append(task(vm=u'VM{0}{1}x'.format(number, char), job=u'JOB{0}{1}y'.format(number, char),
                                 reason=u'REASON{0}{1}z'.format(number, char) if result != 'None' else None,
                                 result=result, state=state, created='2026-11-29T2{0}:00:00Z'.format(number % 4)))
    # A running newest session shows the last completed result too: EM text as well.
    sessions.append(task(vm=u'VMrun\u202e', job=u'JOBrun\u202e', result='Failed', reason=u'old\u202e',
                         created='2026-11-28T21:00:00Z'))
    sessions.append(task(vm=u'VMrun\u202e', job=u'JOBrun\u202e', result='None', state='Working', created='2026-11-29T23:00:00Z'))
    return sessions


def test_every_em_string_in_the_html_sits_in_an_isolating_element():
    sessions = _bidi_sessions()
    parser = _Isolation()
    parser.feed(build(sessions, max_rows=0)['html'])
    strings = set()
    for session in sessions:
        strings.update(value for value in (session['vm_name'], session['job_name'], session['reason']) if value)
    found = dict.fromkeys(strings, 0)
    for text, isolated in parser.texts:
        if any(char in text for char in BIDI):
            assert isolated, 'a bidi control outside <bdi>: %r' % text
        for value in strings:
            if value in text:
                assert isolated and text == value, 'EM text not alone in its <bdi>: %r' % text
                found[value] += 1
    assert all(found.values()), 'EM strings missing from the page: %r' % [v for v, n in found.items() if not n]


def test_em_text_in_attributes_is_isolated_and_stripped_of_bidi_controls():
    parser = _Isolation()
    parser.feed(build(_bidi_sessions())['html'])
    labels = [value for value in parser.attributes if 'JOB' in value]
    assert labels, 'the job bars carry no label'
    for value in labels:
        inner = value[value.index(u'\u2068') + 1:value.index(u'\u2069')]
        assert inner.startswith('JOB') and not any(char in inner for char in BIDI)
        assert value.count(u'\u2068') == value.count(u'\u2069') == 1


def test_a_right_to_left_override_in_a_vm_name_cannot_swallow_the_next_cell():
    html = build([task(vm=u'evil\u202e', result='Failed', reason='disk full')])['html']
    assert u'<td data-label="VM" class="lead"><bdi>evil\u202e</bdi></td>' in html
