# -*- coding: utf-8 -*-
# Copyright (c) 2026, vbem.enterprise_manager contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The session report's HTML page, pinned: each scenario renders exactly its page in fixtures/session_report_pages.json.

The pages were written by the renderer that built the page from Python
strings, before the layout moved into a Jinja2 template. The comparison is
of what a browser reads: every tag, attribute, text run and line break in
order, character references decoded (the template escapes ``"`` as
``&#34;`` where ``html.escape`` wrote ``&quot;``; a raw ``<`` where one was
escaped would be a tag and fail). To rewrite the pages after a deliberate
change of the layout: ``REPORT_PAGES_WRITE=1`` and run this file once (each
scenario then writes its page, one after another).
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import io
import json
import os
import shutil
from html.parser import HTMLParser

import pytest

from ansible_collections.vbem.enterprise_manager.plugins.module_utils.errors import EmError
from ansible_collections.vbem.enterprise_manager.plugins.plugin_utils import report, report_render

PAGES = os.path.join(os.path.dirname(__file__), 'fixtures', 'session_report_pages.json')
TYPES = {'backup': 'BackupTaskSession', 'replica': 'ReplicaTaskSession', 'cdp': 'CdpReplicaTaskSession'}
ALL = {'sources': ['backup', 'replica', 'cdp'], 'query_types': [TYPES[s] for s in ('backup', 'replica', 'cdp')], 'window': '7d',
       'created_after': '2026-11-23T12:00:00Z', 'created_before': '2026-11-30T12:00:00Z'}
BACKUP = dict(ALL, sources=['backup'], query_types=[TYPES['backup']])
NASTY = ('lab<test>', 'exchange&mail', 'sql "prod"', "o'brien", '<script>alert(1)</script>', u'evil\u202ename')


def task(number, vm, created, result='Success', state='Completed', job='SQL Daily', reason=None, source='backup', size=1024):
    end = created.replace(':00:00Z', ':40:00Z') if state == 'Completed' else None
    return {'uid': 'urn:veeam:{0}:00000000-0000-0000-0000-{1:012d}'.format(TYPES[source], number),
            'type': TYPES[source], 'vm_name': vm, 'job_name': job, 'creation_time': created, 'end_time': end,
            'state': state, 'result': result, 'reason': reason, 'total_size': size, 'links': []}


def mixed():
    """Every section filled: three sources, EM text that needs escaping and isolating, a VM still running, an undated session."""
    sessions = []
    for n, name in enumerate(NASTY):
        sessions.append(task(n, name, '2026-11-2{0}T0{1}:00:00Z'.format(4 + n % 5, n), result=('Failed', 'Warning')[n % 2],
                             job=name + ' job', reason='EM says: ' + name, source=('backup', 'replica', 'cdp')[n % 3]))
    for n in range(12):
        sessions.append(task(100 + n, 'web%02d' % n, '2026-11-2{0}T1{1}:00:00Z'.format(3 + n % 7, n % 10), job='Web'))
    sessions.append(task(200, 'db01', '2026-11-28T03:00:00Z', result='Failed', reason='disk full', job='SQL Daily'))
    sessions.append(task(201, 'db01', '2026-11-29T03:00:00Z', result='None', state='Working', job='SQL Daily'))
    sessions.append(task(202, 'db02', '2026-11-29T04:00:00Z', result='None', state='Working', job=None, source='replica'))
    sessions.append(task(203, 'nodate', 'yesterday', result='Failed', reason='no time', job='SQL Daily'))
    sessions.append(task(204, u'数据库', '2026-11-30T11:00:00Z', result='Warning', reason=u'慢', job=u'数据库 Daily', source='cdp'))
    return sessions


SCENARIOS = {
    'mixed': (mixed, ALL, 0),
    'mixed_capped': (mixed, ALL, 3),
    'clean': (lambda: [task(n, 'vm%d' % n, '2026-11-29T0%d:00:00Z' % n) for n in range(3)], BACKUP, 500),
    'running_only': (lambda: [task(1, 'vm1', '2026-11-29T01:00:00Z', result='None', state='Working')], BACKUP, 500),
    'empty': (lambda: [], ALL, 500),
}


class _Reading(HTMLParser):
    """What a browser reads, in order: tags with their attributes, text (character references decoded), declarations."""

    def __init__(self):
        HTMLParser.__init__(self, convert_charrefs=True)
        self.events = []

    def handle_starttag(self, tag, attrs):
        self.events.append(('start', tag, attrs))

    def handle_startendtag(self, tag, attrs):
        self.events.append(('startend', tag, attrs))

    def handle_endtag(self, tag):
        self.events.append(('end', tag))

    def handle_data(self, data):
        if self.events and self.events[-1][0] == 'data':
            self.events[-1] = ('data', self.events[-1][1] + data)
        else:
            self.events.append(('data', data))

    def handle_decl(self, decl):
        self.events.append(('decl', decl))

    def handle_charref(self, name):
        raise AssertionError('convert_charrefs is on')


def reading(page):
    parser = _Reading()
    parser.feed(page)
    parser.close()
    return parser.events


def render(name, template=None):
    sessions, plan, max_rows = SCENARIOS[name]
    if template is not None:
        plan = dict(plan, report_template=report.check_report_template(template))
    return report.build(sessions(), plan, now='2026-11-30T12:00:00Z', max_rows=max_rows)['html']


def pinned_pages():
    with io.open(PAGES, encoding='utf-8') as handle:
        return json.load(handle)


@pytest.mark.parametrize('name', sorted(SCENARIOS))
def test_the_page_is_what_it_was(name):
    page = render(name)
    if os.environ.get('REPORT_PAGES_WRITE'):
        pages = pinned_pages() if os.path.exists(PAGES) else {}
        pages[name] = page
        with io.open(PAGES, 'w', encoding='utf-8') as handle:
            json.dump(pages, handle, indent=1, sort_keys=True, ensure_ascii=False)
            handle.write('\n')
    pinned = pinned_pages()[name]
    assert reading(page) == reading(pinned)
    assert page.count('\n') == pinned.count('\n')


def test_every_scenario_has_its_page():
    assert sorted(pinned_pages()) == sorted(SCENARIOS)


# -- a user's own page template -------------------------------------------------------------------

def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text, encoding='utf-8')
    return str(path)


def test_a_copy_of_the_built_in_page_renders_the_same_page(tmp_path):
    copy = str(tmp_path / 'my_report.html.j2')
    shutil.copy(os.path.join(report_render.TEMPLATES, 'session_report.html.j2'), copy)
    assert render('mixed', copy) == render('mixed')


def test_a_template_can_extend_the_built_in_page_and_change_one_block(tmp_path):
    mine = write(tmp_path, 'session_report.html.j2', '{% extends "vbem.enterprise_manager/session_report.html.j2" %}'
                 '{% block style %}{{ super() }}\nh1{font-size:2rem}{% endblock %}'
                 '{% block footer %}<footer>Ops team, {{ page.total }} sessions</footer>{% endblock %}')
    page, built_in = render('mixed', mine), render('mixed')
    assert '\nh1{font-size:2rem}</style>' in page and '<footer>Ops team, 23 sessions</footer>' in page
    body = page.index('<header'), built_in.index('<header')
    assert page[body[0]:page.index('<footer')] == built_in[body[1]:built_in.index('<footer')]


def test_a_user_template_escapes_em_text(tmp_path):
    mine = write(tmp_path, 'names.j2', '{% for row in page.problems %}[{{ row.vm_name }}]{% endfor %}')
    page = render('mixed', mine)
    assert '[lab&lt;test&gt;]' in page and '[exchange&amp;mail]' in page and '[sql &#34;prod&#34;]' in page
    assert '<script>' not in page


@pytest.mark.parametrize('text, words', [
    ('{% if page.total %}no end', "is not a Jinja2 template, line 1: Unexpected end of template"),
    ('{% extends "base.j2" %}', "names the template 'base.j2', which does not exist; the built-in page is "
                                "vbem.enterprise_manager/session_report.html.j2."),
])
def test_a_broken_template_is_refused_before_any_logon(tmp_path, text, words):
    path = write(tmp_path, 'broken.j2', text)
    with pytest.raises(EmError) as refused:
        report.check_report_template(path)
    assert words in str(refused.value) and str(refused.value).startswith('report_template ') and '\n' not in str(refused.value)


@pytest.mark.parametrize('value, words', [
    ('', "report_template must be the path of a Jinja2 page template, not ''."),
    (7, 'report_template must be the path of a Jinja2 page template, not 7.'),
    ('nothing/here.j2', "report_template 'nothing/here.j2' is not a file (it does not exist)."),
    ('.', "report_template '.' is not a file."),
    ('a\x00b', "report_template 'a\\x00b' holds a NUL character, which no path can hold."),
])
def test_a_template_path_that_cannot_be_used_is_refused(tmp_path, value, words):
    with pytest.raises(EmError) as refused:
        report.check_report_template(value, cwd=str(tmp_path))
    assert str(refused.value) == words


def test_a_relative_template_path_is_taken_from_the_given_folder(tmp_path):
    write(tmp_path, 'mine.j2', '{{ page.headline }}')
    assert report.check_report_template('mine.j2', cwd=str(tmp_path)) == os.path.realpath(str(tmp_path / 'mine.j2'))


def test_a_template_that_fails_while_rendering_fails_in_one_sentence(tmp_path):
    mine = write(tmp_path, 'typo.j2', '{{ page.totl }}')
    with pytest.raises(EmError) as refused:
        render('mixed', mine)
    message = str(refused.value)
    assert message.startswith("report_template '{0}' failed to render the report: UndefinedError: ".format(mine))
    assert 'totl' in message and '\n' not in message and 'Traceback' not in message
